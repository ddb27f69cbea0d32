//! The `pylite` command: `pylite run [--jit on|off] [--stats FILE] FILE [args]` and
//! `pylite bench [--runs N] [PROGRAM]`.

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: pylite run [--jit on|off] [--jit-level quick|optimized] [--stats FILE.json] FILE [args...]\n       pylite bench [--runs N] [--dir DIR] [PROGRAM-PREFIX]"
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
                        Some("quick") => {
                            config.level = pylite::jit::Level::Quick;
                            config.bridge_level = None;
                        }
                        Some("optimized") => {
                            config.level = pylite::jit::Level::Optimized;
                            config.bridge_level = None;
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
        Some("bench") => {
            let mut runs = 3;
            let mut dir = concat!(env!("CARGO_MANIFEST_DIR"), "/programs").to_string();
            let mut only = None;
            let mut i = 2;
            while i < args.len() {
                match args[i].as_str() {
                    "--runs" => {
                        runs = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(3);
                        i += 1;
                    }
                    "--dir" => {
                        dir = args.get(i + 1).cloned().unwrap_or(dir);
                        i += 1;
                    }
                    p => only = Some(p.to_string()),
                }
                i += 1;
            }
            match pylite::bench::run_bench(&dir, runs, only.as_deref()) {
                Ok(t) => {
                    println!("{}", t);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("pylite bench: {}", e);
                    ExitCode::from(1)
                }
            }
        }
        _ => usage(),
    }
}
