//! # Measuring: timing lines, medians, the JIT's stats file, the machine, the date
//!
//! The pure pieces of `pylite bench`, each small enough to unit-test: the talk's
//! programs report their own times as `name: X.XXXX secs` lines (so process start-up
//! and data generation are not measured), and `pylite run --stats FILE` writes the
//! `JitReport` as one flat JSON object, read back here without a JSON library. The
//! machine description comes from `/proc/cpuinfo`, the date from the system clock
//! (civil-from-days arithmetic, so no date crate is needed).

use crate::jit::JitReport;

/// Parses `name: 1.2345 secs` lines (any amount of space around the number).
pub fn parse_timings(out: &str) -> Vec<(String, f64)> {
    out.lines().filter_map(parse_timing_line).collect()
}

fn parse_timing_line(line: &str) -> Option<(String, f64)> {
    let (name, rest) = line.split_once(':')?;
    let secs: f64 = rest.trim().strip_suffix("secs")?.trim().parse().ok()?;
    let name = name.trim();
    if name.is_empty() || !secs.is_finite() {
        return None;
    }
    Some((name.to_string(), secs))
}

/// The output without its timing lines: what must not change between runtimes.
pub fn strip_timings(out: &str) -> String {
    out.lines()
        .filter(|l| parse_timing_line(l).is_none())
        .map(|l| format!("{}\n", l))
        .collect()
}

/// The median of `samples` (the mean of the middle two for an even count); `None`
/// when there are none.
pub fn median(samples: &[f64]) -> Option<f64> {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// Reads the JSON object `JitReport::to_json` writes. Unknown keys are ignored; a
/// missing or malformed field is an error naming it.
pub fn report_from_json(text: &str) -> Result<JitReport, String> {
    let body = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or("stats file is not a JSON object")?;
    let mut fields = std::collections::HashMap::new();
    for item in body.split(',').filter(|s| !s.trim().is_empty()) {
        let (k, v) = item
            .split_once(':')
            .ok_or_else(|| format!("bad stats entry {:?}", item.trim()))?;
        fields.insert(k.trim().trim_matches('"').to_string(), v.trim().to_string());
    }
    let get = |k: &str| fields.get(k).ok_or_else(|| format!("stats file lacks {:?}", k));
    let int = |k: &str| -> Result<u64, String> {
        get(k)?
            .parse()
            .map_err(|_| format!("stats field {:?} is not a count", k))
    };
    let float = |k: &str| -> Result<f64, String> {
        get(k)?
            .parse()
            .map_err(|_| format!("stats field {:?} is not a number", k))
    };
    Ok(JitReport {
        enabled: get("enabled")? == "true",
        loops: int("loops")?,
        bridges: int("bridges")?,
        // Older stats files have no regions.
        regions: int("regions").unwrap_or(0),
        aborts: int("aborts")?,
        // Older stats files have no given-up loops.
        given_up: int("given_up").unwrap_or(0),
        compile_secs: float("compile_secs")?,
        // Older stats files have no LLVM warm-up time.
        llvm_warm_up_secs: float("llvm_warm_up_secs").unwrap_or(0.0),
        code_bytes: int("code_bytes")?,
        loop_entries: int("loop_entries")?,
        exits: int("exits")?,
        interp_loop_iterations: int("interp_loop_iterations")?,
        allocations_interp: int("allocations_interp")?,
        allocations_jit: int("allocations_jit")?,
        // Older stats files have no warm-up time; `null` when nothing was compiled.
        first_compiled_secs: match fields.get("first_compiled_secs").map(String::as_str) {
            None | Some("null") => None,
            Some(_) => Some(float("first_compiled_secs")?),
        },
    })
}

/// The machine a table was measured on.
#[derive(Clone, Debug, PartialEq)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
}

impl Machine {
    /// From `/proc/cpuinfo`'s text: the first `model name` and the number of
    /// `processor` entries.
    pub fn from_cpuinfo(text: &str) -> Machine {
        let cpu = text
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == "model name").then(|| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".to_string());
        let cores = text
            .lines()
            .filter(|l| l.split_once(':').is_some_and(|(k, _)| k.trim() == "processor"))
            .count();
        Machine { cpu, cores }
    }

    /// This machine.
    pub fn current() -> Machine {
        let mut m = Machine::from_cpuinfo(&std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default());
        if m.cores == 0 {
            m.cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        }
        m
    }
}

/// `YYYY-MM-DD` of the day `days` after 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{:04}-{:02}-{:02}", y, m, d)
}

/// Today's date (UTC).
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date((secs / 86_400) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_lines_are_parsed_and_everything_else_ignored() {
        let out = "pi = 3.14\nloop: 0.4560 secs\nread_loop:     0.5444 secs\nP = 100: 1 2 3\nx: abc secs\n: 1.0 secs\ngen:  2 secs\n";
        assert_eq!(
            parse_timings(out),
            vec![
                ("loop".to_string(), 0.456),
                ("read_loop".to_string(), 0.5444),
                ("gen".to_string(), 2.0)
            ]
        );
        assert_eq!(
            strip_timings(out),
            "pi = 3.14\nP = 100: 1 2 3\nx: abc secs\n: 1.0 secs\n"
        );
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[2.0, f64::NAN, 1.0]), Some(2.0));
    }

    #[test]
    fn stats_round_trip_through_json() {
        let r = JitReport {
            enabled: true,
            loops: 3,
            bridges: 7,
            regions: 0,
            aborts: 1,
            given_up: 1,
            compile_secs: 0.012345,
            llvm_warm_up_secs: 0.004,
            code_bytes: 4096,
            loop_entries: 10,
            exits: 22,
            interp_loop_iterations: 1234,
            allocations_interp: 99,
            allocations_jit: 5,
            first_compiled_secs: Some(0.25),
        };
        assert_eq!(report_from_json(&r.to_json()), Ok(r.clone()));
        let older = r.to_json().replace(",\n  \"first_compiled_secs\": 0.25", "");
        assert!(!older.contains("first_compiled"), "{}", older);
        assert_eq!(report_from_json(&older).unwrap().first_compiled_secs, None);
        assert_eq!(
            report_from_json(&JitReport::default().to_json()),
            Ok(JitReport::default())
        );
    }

    #[test]
    fn bad_stats_are_errors_not_panics() {
        assert!(report_from_json("").is_err());
        assert!(report_from_json("[1, 2]").is_err());
        assert!(report_from_json("{\"loops\": 1}").unwrap_err().contains("enabled"));
        let broken = JitReport::default().to_json().replace("\"exits\": 0", "\"exits\": x");
        assert!(report_from_json(&broken).unwrap_err().contains("exits"));
        let broken = JitReport::default()
            .to_json()
            .replace("\"first_compiled_secs\": null", "\"first_compiled_secs\": soon");
        assert!(report_from_json(&broken).unwrap_err().contains("first_compiled_secs"));
    }

    #[test]
    fn machine_from_cpuinfo() {
        let text = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t: fpu\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Processor\n";
        assert_eq!(
            Machine::from_cpuinfo(text),
            Machine {
                cpu: "Intel(R) Xeon(R) Processor".into(),
                cores: 2
            }
        );
        assert_eq!(Machine::from_cpuinfo("").cpu, "unknown CPU");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(19_723), "2024-01-01");
        assert_eq!(civil_date(19_782), "2024-02-29");
        assert_eq!(civil_date(-1), "1969-12-31");
    }
}
