//! `LEONES_PARAMS` and `LEONES_LOG` parsing.

use leones_tracer::{LogConfig, ParamError, Params};
use std::path::PathBuf;

#[test]
fn params_parse_good() {
    let p = Params::parse("threshold=200, trace_limit=1000,blacklist_after=3,").unwrap();
    assert_eq!(p.threshold, 200);
    assert_eq!(p.trace_limit, 1000);
    assert_eq!(p.blacklist_after, 3);
    assert_eq!(p.bridge_threshold, Params::default().bridge_threshold);
    assert_eq!(Params::parse("").unwrap(), Params::default());
}

#[test]
fn params_display_round_trips() {
    let p = Params::parse("decay=0,backoff=3").unwrap();
    assert_eq!(Params::parse(&p.to_string()).unwrap(), p);
    for n in Params::NAMES {
        assert!(p.get(n).is_some(), "{n}");
    }
}

#[test]
fn params_parse_bad() {
    let e = Params::parse("treshold=5").unwrap_err();
    assert!(matches!(&e, ParamError::UnknownName { name } if name == "treshold"));
    assert!(e.to_string().contains("known: threshold"), "{e}");
    let e = Params::parse("threshold=-1").unwrap_err();
    assert!(matches!(e, ParamError::BadValue { .. }), "{e}");
    assert!(matches!(
        Params::parse("threshold=abc").unwrap_err(),
        ParamError::BadValue { .. }
    ));
    assert!(matches!(
        Params::parse("threshold").unwrap_err(),
        ParamError::Syntax { .. }
    ));
    assert!(matches!(
        Params::parse("threshold=0").unwrap_err(),
        ParamError::TooSmall { min: 1, .. }
    ));
    // Nothing is applied when one item is bad.
    let mut p = Params::default();
    assert!(p.apply("threshold=7,nope=1").is_err());
    assert_eq!(p, Params::default());
}

#[test]
fn log_config_parses() {
    let c = LogConfig::parse("summary,exit").unwrap();
    assert!(c.summary && c.exit && !c.trace && c.file.is_none());
    let c = LogConfig::parse("trace,opt:/tmp/leones.log").unwrap();
    assert!(c.trace && c.opt && !c.llvm);
    assert_eq!(c.file, Some(PathBuf::from("/tmp/leones.log")));
    let c = LogConfig::parse("all").unwrap();
    assert!(c.summary && c.trace && c.opt && c.llvm && c.exit);
    assert!(!c.perf && !c.gdb, "all is every log, not the profilers");
    let c = LogConfig::parse("perf,gdb").unwrap();
    assert!(c.perf && c.gdb && !c.any(), "the profilers log nothing");
    assert!(!LogConfig::parse("").unwrap().any());
    let e = LogConfig::parse("summary,loud").unwrap_err();
    assert_eq!(e.item, "loud");
}
