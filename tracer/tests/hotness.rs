//! Hotness: thresholds, back-off after aborts, blacklisting, decay, side exits.

use leones_ir::interp::Val;
use leones_ir::{BinaryOp, GuardId};
use leones_tracer::*;

fn ticks_until_record(hot: &mut Hotness, loc: Location, max: u32) -> Option<u32> {
    (1..=max).find(|_| hot.tick(loc) == Action::Record)
}

/// Records a loop body that never closes until the trace limit aborts it.
fn record_too_long(reg: &Registry, p: &Params, loc: Location) -> Abort {
    let main = reg.frame("main", 0, 1).unwrap();
    let mut r = Recorder::start_loop(reg, p, loc, ShapeFrame::of(main, 0, &[Some(Val::I64(0))])).unwrap();
    loop {
        let x = r.slot(0).unwrap();
        let one = r.constant(1i64);
        match r.binary(BinaryOp::IAdd, x, one) {
            Ok(v) => r.set_slot(0, v).unwrap(),
            Err(e) => return e,
        }
    }
}

#[test]
fn threshold_then_record() {
    let p = Params::parse("threshold=5").unwrap();
    let mut hot = Hotness::new(p);
    assert_eq!(ticks_until_record(&mut hot, Location(1), 100), Some(5));
    assert_eq!(hot.stats().recordings, 1);
    // Another location has its own counter.
    assert_eq!(hot.tick(Location(2)), Action::Interpret);
}

#[test]
fn trace_limit_abort_backs_off_then_blacklists() {
    let p = Params::parse("threshold=4,backoff=2,blacklist_after=3,trace_limit=20").unwrap();
    let reg = Registry::new();
    let mut hot = Hotness::new(p.clone());
    let loc = Location(7);
    let mut waits = Vec::new();
    for round in 0..3 {
        waits.push(ticks_until_record(&mut hot, loc, 1000).unwrap());
        let why = record_too_long(&reg, &p, loc);
        assert_eq!(why, Abort::TraceTooLong { limit: 20 });
        let blacklisted = hot.aborted(loc, &why);
        assert_eq!(blacklisted, round == 2);
    }
    // Growing back-off: 4, then 8, then 16 ticks.
    assert_eq!(waits, vec![4, 8, 16]);
    assert!(hot.is_blacklisted(loc));
    assert!((0..100).all(|_| hot.tick(loc) == Action::Blacklisted));
    let s = hot.stats();
    assert_eq!(s.aborts.get(&AbortKind::TraceTooLong), Some(&3));
    assert_eq!(s.blacklisted, 1);
    assert!(s.summary().contains("TraceTooLong"));
}

#[test]
fn success_resets_backoff() {
    let p = Params::parse("threshold=3").unwrap();
    let mut hot = Hotness::new(p);
    let loc = Location(1);
    ticks_until_record(&mut hot, loc, 100).unwrap();
    hot.aborted(loc, &Abort::Overflow);
    assert_eq!(ticks_until_record(&mut hot, loc, 100), Some(6));
    hot.recorded(loc);
    assert_eq!(ticks_until_record(&mut hot, loc, 100), Some(3));
    assert_eq!(hot.stats().loops, 1);
}

#[test]
fn counters_decay() {
    // Every 10 ticks all counters halve: a location ticked 8 times, then left alone for
    // 40 ticks elsewhere, has decayed to 0 and needs the full threshold again.
    let p = Params::parse("threshold=10,decay=10").unwrap();
    let mut hot = Hotness::new(p);
    let (a, b) = (Location(1), Location(2));
    for _ in 0..8 {
        assert_eq!(hot.tick(a), Action::Interpret);
    }
    for _ in 0..40 {
        hot.tick(b);
    }
    let n = ticks_until_record(&mut hot, a, 100).unwrap();
    assert!(n >= 9, "took {n} ticks: the old count did not decay");
    // Without decay, two more ticks suffice.
    let mut hot = Hotness::new(Params::parse("threshold=10,decay=0").unwrap());
    for _ in 0..8 {
        hot.tick(a);
    }
    for _ in 0..40 {
        hot.tick(b);
    }
    assert_eq!(ticks_until_record(&mut hot, a, 100), Some(2));
}

#[test]
fn side_exits_use_the_bridge_threshold() {
    let p = Params::parse("bridge_threshold=3,blacklist_after=1").unwrap();
    let mut hot = Hotness::new(p);
    let (u, g) = (UnitId(1), GuardId(2));
    assert_eq!(hot.exit_taken(u, g), Action::Interpret);
    assert_eq!(hot.exit_taken(u, GuardId(3)), Action::Interpret);
    assert_eq!(hot.exit_taken(u, g), Action::Interpret);
    assert_eq!(hot.exit_taken(u, g), Action::Record);
    assert!(hot.bridge_aborted(u, g, &Abort::ExceptionPath));
    assert_eq!(hot.exit_taken(u, g), Action::Blacklisted);
    assert_eq!(hot.stats().guard_failures, 5);
}
