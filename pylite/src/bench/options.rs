//! # `pylite bench`'s options, program sizes and jobs
//!
//! What to run: the talk's programs with their arguments at each size (`small` for
//! the demo, `tenth` for one tenth of the default work, `default` for the talk's
//! sizes), the JIT variants (a program again under other Leones parameters), and
//! whether to run the talk programs (followed by their warm-up variants) or only the
//! warm-up variants (`--warmup`). Bad options are errors naming the option.

/// Program sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// Each program's defaults: the talk's sizes.
    Default,
    /// Smaller arguments: the whole table in seconds per round.
    Small,
    /// One tenth of each program's default work.
    Tenth,
}

impl Size {
    pub fn name(self) -> &'static str {
        match self {
            Size::Default => "default",
            Size::Small => "small",
            Size::Tenth => "tenth",
        }
    }
}

/// A talk program and its arguments at the sizes other than the default.
struct Program {
    file: &'static str,
    /// `--size small`.
    small: &'static [&'static str],
    /// `--size tenth`: the first argument at one tenth of the default's work — one
    /// digit less where it is a number of digits (the iterations grow tenfold per
    /// digit), a tenth of the count otherwise (work grows linearly in it; for
    /// `data_driven.py` the rows, its repeat count stays 40).
    tenth: &'static [&'static str],
}

/// The talk's programs.
const PROGRAMS: [Program; 5] = [
    Program {
        file: "pi.py",
        small: &["7"],
        tenth: &["6"],
    },
    Program {
        file: "pi_blocker.py",
        small: &["6"],
        tenth: &["6"],
    },
    Program {
        file: "data_driven.py",
        small: &["50000", "10"],
        tenth: &["10000"],
    },
    Program {
        file: "pythagorean.py",
        small: &["500000"],
        tenth: &["200000"],
    },
    Program {
        file: "readpoly.py",
        small: &["200000"],
        tenth: &["50000"],
    },
];

/// Programs measured again under the JIT with other Leones parameters, to show what a
/// feature buys: (file, `LEONES_PARAMS`). Their rows are named `<timing> (<params>)`
/// and only the JIT column is run.
const JIT_VARIANTS: [(&str, &str); 1] = [("data_driven.py", "merge=off")];

/// `pylite bench`'s options.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub runs: usize,
    pub dir: String,
    dir_given: bool,
    pub json: String,
    pub markdown: Option<String>,
    pub size: Size,
    pub only: Option<String>,
    /// Run only the warm-up variants.
    pub warmup: bool,
    /// Where to write the warm-up plots.
    pub plots: Option<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            runs: 3,
            dir: concat!(env!("CARGO_MANIFEST_DIR"), "/programs").to_string(),
            dir_given: false,
            json: "target/bench.json".to_string(),
            markdown: None,
            size: Size::Default,
            only: None,
            warmup: false,
            plots: None,
        }
    }
}

impl Options {
    /// Parses the arguments after `bench`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options::default();
        let mut i = 0;
        while i < args.len() {
            let value = || {
                args.get(i + 1)
                    .cloned()
                    .ok_or_else(|| format!("{} needs a value", args[i]))
            };
            match args[i].as_str() {
                "--runs" => {
                    o.runs = value()?
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or("--runs needs a positive integer")?;
                }
                "--dir" => {
                    o.dir = value()?;
                    o.dir_given = true;
                }
                "--json" => o.json = value()?,
                "--markdown" => o.markdown = Some(value()?),
                "--size" => {
                    o.size = match value()?.as_str() {
                        "small" => Size::Small,
                        "tenth" => Size::Tenth,
                        "default" => Size::Default,
                        other => return Err(format!("--size is small, tenth or default, not {:?}", other)),
                    }
                }
                "--plots" => o.plots = Some(value()?),
                "--warmup" => {
                    o.warmup = true;
                    i += 1;
                    continue;
                }
                flag if flag.starts_with("--") => return Err(format!("unknown option {}", flag)),
                prefix if o.only.is_none() => {
                    o.only = Some(prefix.to_string());
                    i += 1;
                    continue;
                }
                extra => return Err(format!("unexpected argument {:?}", extra)),
            }
            i += 2;
        }
        Ok(o)
    }

    /// The command line these options stand for (for the report).
    pub fn command_line(&self) -> String {
        let mut cmd = format!("pylite bench --runs {} --size {}", self.runs, self.size.name());
        if self.dir_given {
            cmd += &format!(" --dir {}", self.dir);
        }
        cmd += &format!(" --json {}", self.json);
        if let Some(m) = &self.markdown {
            cmd += &format!(" --markdown {}", m);
        }
        if let Some(d) = &self.plots {
            cmd += &format!(" --plots {}", d);
        }
        if self.warmup {
            cmd += " --warmup";
        }
        if let Some(p) = &self.only {
            cmd += &format!(" {}", p);
        }
        cmd
    }

    /// The programs selected, with their arguments.
    pub(super) fn programs(&self) -> Vec<(&'static str, Vec<String>)> {
        PROGRAMS
            .iter()
            .filter(|p| self.only.as_deref().is_none_or(|o| p.file.starts_with(o)))
            .map(|p| {
                let args: &[&str] = match self.size {
                    Size::Small => p.small,
                    Size::Tenth => p.tenth,
                    Size::Default => &[],
                };
                (p.file, args.iter().map(|s| s.to_string()).collect())
            })
            .collect()
    }
}

/// One program to measure.
pub(super) struct Job {
    /// The talk program (names the result).
    pub(super) file: &'static str,
    /// The file run, relative to the programs directory: the talk program or its
    /// warm-up variant.
    pub(super) source: String,
    pub(super) args: Vec<String>,
    /// `LEONES_PARAMS` for a JIT variant's runs.
    pub(super) params: Option<&'static str>,
}

/// The jobs `opts` asks for: each talk program (or, with `--warmup`, its warm-up
/// variant) and the JIT variants of the talk programs.
pub(super) fn jobs(opts: &Options) -> Vec<Job> {
    let programs = opts.programs();
    let talk = programs.iter().map(|(file, args)| Job {
        file,
        source: if opts.warmup {
            format!("warmup/{}", file)
        } else {
            file.to_string()
        },
        args: args.clone(),
        params: None,
    });
    let variants = programs.iter().filter(|_| !opts.warmup).flat_map(|(file, args)| {
        JIT_VARIANTS
            .iter()
            .filter(move |(f, _)| f == file)
            .map(move |&(_, params)| Job {
                file,
                source: file.to_string(),
                args: args.clone(),
                params: Some(params),
            })
    });
    talk.chain(variants).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options_parse_and_print_back() {
        let o = Options::parse(&args("--runs 5 --size small --json x.json --markdown d.md py")).unwrap();
        assert_eq!((o.runs, o.size, o.only.as_deref()), (5, Size::Small, Some("py")));
        assert_eq!(
            o.command_line(),
            "pylite bench --runs 5 --size small --json x.json --markdown d.md py"
        );
        let names: Vec<&str> = o.programs().iter().map(|p| p.0).collect();
        assert_eq!(names, ["pythagorean.py"]);
        assert_eq!(o.programs()[0].1, ["500000"]);
        let d = Options::parse(&[]).unwrap();
        assert_eq!(d.programs().len(), 5);
        assert!(d.programs().iter().all(|p| p.1.is_empty()));
    }

    #[test]
    fn warmup_options_parse_and_print_back() {
        let o = Options::parse(&args("--warmup --size tenth --plots docs/warmup data")).unwrap();
        assert!(o.warmup);
        assert_eq!((o.size, o.plots.as_deref()), (Size::Tenth, Some("docs/warmup")));
        assert_eq!(
            o.command_line(),
            "pylite bench --runs 3 --size tenth --json target/bench.json --plots docs/warmup --warmup data"
        );
        let sources: Vec<(&str, String)> = jobs(&o).iter().map(|j| (j.file, j.source.clone())).collect();
        assert_eq!(sources, [("data_driven.py", "warmup/data_driven.py".to_string())]);
        // Without --warmup: the talk program and its JIT variant.
        let full = jobs(&Options::parse(&args("data")).unwrap());
        assert_eq!(full.len(), 2);
        assert_eq!(
            (full[0].source.as_str(), full[1].params),
            ("data_driven.py", Some("merge=off"))
        );
    }

    /// The first argument's default in a program's source: the `N` of
    /// `int(sys.argv[1]) if len(sys.argv) > 1 else N`, and the usage line's name for it.
    fn default_knob(file: &str) -> (String, u64) {
        let path = format!("{}/programs/{}", env!("CARGO_MANIFEST_DIR"), file);
        let src = std::fs::read_to_string(&path).unwrap();
        let default = src
            .split("int(sys.argv[1]) if len(sys.argv) > 1 else ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{}: no default for the first argument", file));
        let usage = src.lines().find(|l| l.starts_with("# Usage:")).unwrap();
        let knob = usage.split(['[', ']']).nth(1).unwrap().to_string();
        (knob, default)
    }

    #[test]
    fn tenth_size_is_a_tenth_of_each_programs_default_work() {
        let o = Options::parse(&args("--size tenth")).unwrap();
        let programs = o.programs();
        assert_eq!(programs.len(), PROGRAMS.len());
        for (file, args) in programs {
            let (knob, default) = default_knob(file);
            let tenth: u64 = args[0].parse().unwrap();
            // Iterations grow tenfold per digit of precision; other first arguments
            // are counts the work is proportional to.
            let expected = if knob == "DIGITS" { default - 1 } else { default / 10 };
            assert_eq!(tenth, expected, "{} ({} = {})", file, knob, default);
            assert_eq!(args.len(), 1, "{}: only the work knob is passed", file);
        }
    }

    #[test]
    fn bad_options_are_errors() {
        for bad in [
            "--runs",
            "--runs 0",
            "--runs x",
            "--size huge",
            "--plots",
            "--frobnicate",
            "pi extra",
        ] {
            assert!(Options::parse(&args(bad)).is_err(), "{}", bad);
        }
    }
}
