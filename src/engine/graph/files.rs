//! # Writing the pictures: DOT files, and SVG when Graphviz is installed
//!
//! [`Engine::write_graphs`] writes `DIR/<root>.dot` per compiled root and, when
//! Graphviz's `dot` is on `PATH` ([`Graphviz::find`]), renders `DIR/<root>.svg` next to
//! it. Graphviz is never needed: without it the DOT files are the result, and the
//! caller is told ([`GraphsWritten::graphviz`]). `LEONES_LOG=graph:DIR` does this when
//! the engine is dropped and logs one line saying what was written; the CLI's
//! `leones graph` renders DOT files written earlier with the same [`render_svg`].

use super::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Graphviz's `dot` program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graphviz {
    pub program: PathBuf,
}

impl Graphviz {
    /// `dot` on `PATH`, if there is one.
    pub fn find() -> Option<Graphviz> {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join("dot"))
            .find(|p| p.is_file())
            .map(|program| Graphviz { program })
    }
}

/// Why Graphviz did not render a file.
#[derive(Debug, thiserror::Error)]
pub enum GraphvizError {
    #[error("cannot run {program}: {source}")]
    Spawn { program: PathBuf, source: std::io::Error },
    #[error("{program} failed on {file}: {stderr}")]
    Failed {
        program: PathBuf,
        file: PathBuf,
        stderr: String,
    },
}

/// Renders `dot_file` to SVG next to it (same name, `.svg`); returns the SVG's path.
pub fn render_svg(graphviz: &Graphviz, dot_file: &Path) -> Result<PathBuf, GraphvizError> {
    let svg = dot_file.with_extension("svg");
    let out = Command::new(&graphviz.program)
        .arg("-Tsvg")
        .arg("-o")
        .arg(&svg)
        .arg(dot_file)
        .output()
        .map_err(|source| GraphvizError::Spawn {
            program: graphviz.program.clone(),
            source,
        })?;
    if !out.status.success() {
        return Err(GraphvizError::Failed {
            program: graphviz.program.clone(),
            file: dot_file.to_path_buf(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(svg)
}

/// What [`Engine::write_graphs`] wrote.
#[derive(Debug, Default)]
pub struct GraphsWritten {
    /// One DOT file per compiled root.
    pub dot: Vec<PathBuf>,
    /// The SVGs Graphviz rendered.
    pub svg: Vec<PathBuf>,
    /// Whether Graphviz was used (`false`: DOT only).
    pub graphviz: bool,
    /// Files Graphviz could not render (their DOT is still written).
    pub render_errors: Vec<String>,
}

impl GraphsWritten {
    /// One line for a log: how many, where, and whether Graphviz rendered them.
    pub fn describe(&self, dir: &Path) -> String {
        let mut s = format!("; graphs: {} root(s) in {}", self.dot.len(), dir.display());
        if self.graphviz {
            let _ = write!(s, ", {} SVG", self.svg.len());
        } else {
            s.push_str(", DOT only (Graphviz's `dot` is not on PATH)");
        }
        for e in &self.render_errors {
            let _ = write!(s, "\n;   {e}");
        }
        s
    }
}

/// A root's name as a file name: letters, digits, `_`, `-` and `.` kept, others `_`.
pub fn file_stem(root: &str) -> String {
    let stem: String = root
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() || stem.starts_with('.') {
        format!("root{stem}")
    } else {
        stem
    }
}

impl Engine {
    /// Writes `dir/<root>.dot` for every compiled root (creating `dir`), and renders
    /// each to `dir/<root>.svg` when Graphviz's `dot` is on `PATH`.
    pub fn write_graphs(&self, dir: &Path) -> std::io::Result<GraphsWritten> {
        self.write_graphs_with(dir, Graphviz::find().as_ref())
    }

    /// [`Engine::write_graphs`] with this Graphviz, or none (DOT only).
    pub fn write_graphs_with(&self, dir: &Path, graphviz: Option<&Graphviz>) -> std::io::Result<GraphsWritten> {
        std::fs::create_dir_all(dir)?;
        let mut done = GraphsWritten {
            graphviz: graphviz.is_some(),
            ..GraphsWritten::default()
        };
        for g in self.tree_graphs() {
            let path = dir.join(format!("{}.dot", file_stem(&g.root)));
            std::fs::write(&path, g.to_dot())?;
            if let Some(gv) = graphviz {
                match render_svg(gv, &path) {
                    Ok(svg) => done.svg.push(svg),
                    Err(e) => done.render_errors.push(e.to_string()),
                }
            }
            done.dot.push(path);
        }
        Ok(done)
    }

    /// `LEONES_LOG=graph:DIR`: writes the graphs and logs what was written (once, when
    /// the engine is dropped).
    pub(in crate::engine) fn write_logged_graphs(&mut self) {
        let Some(dir) = self.log.graph.clone() else { return };
        let line = match self.write_graphs(&dir) {
            Ok(done) => done.describe(&dir),
            Err(e) => format!("; graphs: cannot write to {}: {e}", dir.display()),
        };
        self.emit_log(&line);
    }
}
