//! # `leones graph`: pictures of trace trees
//!
//! Two forms, both ending in SVG files when Graphviz is installed and in DOT files (and
//! a sentence saying so) when it is not:
//!
//! ```text
//! leones graph DIR|FILE.dot ...          render DOT files (a directory's *.dot) to SVG
//! leones graph --out DIR -- CMD ARGS     run CMD with LEONES_LOG=graph:DIR, list the graphs
//! ```
//!
//! The engine writes the DOT (`LEONES_LOG=graph:DIR`, see `leones::engine::graph`);
//! this command only renders and runs. An existing `LEONES_LOG` is kept: `graph=DIR`
//! is added to its items.

use super::CliError;
use crate::engine::graph::{render_svg, Graphviz};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The sentence said when Graphviz is missing.
pub const NO_GRAPHVIZ: &str = "Graphviz's `dot` is not on PATH: DOT files only (install graphviz for SVG)";

/// A read error on `path`, for `map_err`.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |source| CliError::Io {
        path: path.into(),
        source,
    }
}

/// The DOT files `paths` name: files as given, directories' `*.dot` in name order.
fn dot_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            std::fs::metadata(path).map_err(io(path))?;
            out.push(path.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io(path))?
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "dot"))
            .collect();
        if found.is_empty() {
            return Err(CliError::Graph(format!("{}: no .dot files", path.display())));
        }
        found.sort();
        out.append(&mut found);
    }
    Ok(out)
}

/// Renders the DOT files `paths` name to SVG next to them with `graphviz`; without
/// Graphviz, lists them and says why there is no SVG. Returns the report.
pub fn render_dot_files(paths: &[PathBuf], graphviz: Option<&Graphviz>) -> Result<String, CliError> {
    let files = dot_files(paths)?;
    let mut report = String::new();
    for f in &files {
        match graphviz {
            Some(gv) => {
                let svg = render_svg(gv, f).map_err(|e| CliError::Graph(e.to_string()))?;
                report.push_str(&format!("{} -> {}\n", f.display(), svg.display()));
            }
            None => report.push_str(&format!("{}\n", f.display())),
        }
    }
    if graphviz.is_none() {
        report.push_str(NO_GRAPHVIZ);
        report.push('\n');
    }
    Ok(report)
}

/// The `LEONES_LOG` value that adds graphs in `dir` to `existing` (unset or empty:
/// `graph:DIR`; else `graph=DIR` joins its items, which needs a `dir` without `,`/`:`).
pub fn graph_log_spec(existing: Option<&str>, dir: &Path) -> Result<String, CliError> {
    let d = dir
        .to_str()
        .ok_or_else(|| CliError::Graph(format!("{}: not UTF-8", dir.display())))?;
    let existing = existing.map(str::trim).unwrap_or("");
    if existing.is_empty() {
        return Ok(format!("graph:{d}"));
    }
    if d.contains([',', ':']) {
        return Err(CliError::Graph(format!(
            "`{d}` has `,` or `:`, so it cannot join LEONES_LOG=`{existing}` (unset LEONES_LOG or pick another directory)"
        )));
    }
    let spec = match existing.split_once(':') {
        Some((items, path)) => format!("{items},graph={d}:{path}"),
        None => format!("{existing},graph={d}"),
    };
    // The engine would reject it at start; say so here, with the reason.
    leones_tracer::LogConfig::parse(&spec).map_err(|e| CliError::Graph(e.to_string()))?;
    Ok(spec)
}

/// Runs `command` with `LEONES_LOG` asking for graphs in `dir`; returns its exit code
/// and a report of the graphs it left there.
pub fn run_with_graphs(dir: &Path, command: &[String]) -> Result<(i32, String), CliError> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| CliError::Graph("no command after `--`".into()))?;
    let spec = graph_log_spec(std::env::var(leones_tracer::log::LOG_ENV).ok().as_deref(), dir)?;
    let status = Command::new(program)
        .args(args)
        .env(leones_tracer::log::LOG_ENV, &spec)
        .status()
        .map_err(|e| CliError::Graph(format!("cannot run `{program}`: {e}")))?;
    let mut listed: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    listed.retain(|p| p.extension().is_some_and(|x| x == "dot" || x == "svg"));
    listed.sort();
    let mut report: String = listed.iter().map(|p| format!("{}\n", p.display())).collect();
    if listed.is_empty() {
        report = format!("no graphs in {} (did `{program}` compile any loop?)\n", dir.display());
    } else if !listed.iter().any(|p| p.extension().is_some_and(|x| x == "svg")) {
        report.push_str(NO_GRAPHVIZ);
        report.push('\n');
    }
    Ok((status.code().unwrap_or(1), report))
}
