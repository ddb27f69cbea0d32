//! The `pylite` command: `pylite run [--jit on|off] [--stats FILE] FILE [args]` and
//! `pylite bench [--runs N] [--size small|tenth|default] [--warmup] [--json PATH]
//! [--markdown PATH] [--plots DIR] [PROGRAM]` (see `pylite::bench`).

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: pylite run [--jit on|off] [--jit-level baseline|quick|optimized] [--first-tier baseline|quick] [--stats FILE.json] FILE [args...]
       {}",
        pylite::bench::USAGE
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("run") => {
            let mut config = pylite::jit::JitConfig::on();
            let mut stats = None;
            let mut i = 2;
            loop {
                match args.get(i).map(String::as_str) {
                    Some("--jit") => match args.get(i + 1).map(String::as_str) {
                        Some("on") => config.enabled = true,
                        Some("off") => config.enabled = false,
                        _ => return usage(),
                    },
                    Some("--jit-level") => match args.get(i + 1).map(String::as_str) {
                        Some(name) if pylite::jit::Level::from_name(name).is_some() => {
                            // One level only: no tiers.
                            let level = pylite::jit::Level::from_name(name).expect("checked");
                            config.level = level;
                            config.first_level = level;
                            config.bridge_level = None;
                        }
                        _ => return usage(),
                    },
                    Some("--first-tier") => match args.get(i + 1).map(String::as_str) {
                        Some(name @ ("baseline" | "quick")) => {
                            config.first_level = pylite::jit::Level::from_name(name).expect("a level");
                        }
                        _ => return usage(),
                    },
                    Some("--stats") => match args.get(i + 1) {
                        Some(p) => stats = Some(p.clone()),
                        None => return usage(),
                    },
                    _ => break,
                }
                i += 2;
            }
            let Some(file) = args.get(i) else { return usage() };
            let out = Box::new(std::io::BufWriter::new(std::io::stdout()));
            let mut vm = pylite::Vm::with_jit(out, config);
            vm.set_argv(args[i..].to_vec());
            let r = vm.run_file(file);
            vm.flush();
            if let Some(path) = stats {
                if let Err(e) = std::fs::write(&path, vm.jit_report().to_json() + "\n") {
                    eprintln!("pylite: cannot write {}: {}", path, e);
                }
            }
            match r {
                Ok(()) => ExitCode::SUCCESS,
                Err(pylite::PyliteError::Exit(c)) => ExitCode::from(c as u8),
                Err(e) => {
                    eprintln!("{}", e);
                    ExitCode::from(1)
                }
            }
        }
        Some("bench") => pylite::bench::main(&args[2..]),
        _ => usage(),
    }
}
