//! # The perf map: JIT code by name for `perf report`
//!
//! Linux `perf` cannot see symbols in code that no file on disk describes. Its JIT
//! convention (`tools/perf/Documentation/jit-interface.txt`) is a text file
//! `/tmp/perf-<pid>.map` with one line per piece of code:
//!
//! ```text
//! START SIZE NAME
//! 7f3a9c0a2000 9b leones loop.optimized compute:7 (loop42)
//! ```
//!
//! `START` and `SIZE` are hex without `0x`; `NAME` is the rest of the line (spaces
//! allowed). `perf report` reads the file when it resolves samples of process `<pid>`,
//! after the run, so the file must describe the code as it was — Leones never deletes
//! it.
//!
//! A [`Backend`](crate::Backend) switched on with
//! [`Backend::enable_perf_map`](crate::Backend::enable_perf_map) announces each unit
//! right after it is linked, flushed at once, so a process killed (or sampled) mid-run
//! still has every unit it ran in the map.
//!
//! Invariants and decisions:
//! - **One map per process, shared by its backends** (a process-wide [`MapFile`] behind
//!   a mutex), because the file is per process: two backends each owning a handle
//!   would undo each other's rewrites (below).
//! - **Lines never overlap; the latest code at an address wins.** ORC reuses the memory
//!   of removed units (a region replaces its loop, often at the very same address), and
//!   perf, given two lines for one address, shows either — in practice the older,
//!   stale one. So a unit whose range overlaps earlier lines drops them, and the file is
//!   rewritten from the lines kept in memory; otherwise the line is appended. Samples a
//!   dropped unit took before it was removed are then attributed to its successor; a
//!   time-aware record would need perf's jitdump format (`perf inject --jit`), which
//!   LLVM writes only for RuntimeDyld, not for the JITLink linker ORC uses here.
//! - **The first map opened in a process truncates the file**: a stale file left by an
//!   earlier process with the same pid would otherwise mix its addresses with ours.
//! - **Writing never fails a compile.** The first failed write is reported once on
//!   stderr and the map stops writing; units are installed regardless.
//! - Names are one line: line breaks in a label become spaces.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::PathBuf;
use std::sync::Mutex;

/// The perf map of the current process: `/tmp/perf-<pid>.map` (perf looks in `/tmp`,
/// whatever `TMPDIR` says).
pub fn perf_map_path() -> PathBuf {
    PathBuf::from(format!("/tmp/perf-{}.map", std::process::id()))
}

/// The process's map, opened by the first backend that enables it.
static PROCESS_MAP: Mutex<Option<MapFile>> = Mutex::new(None);

/// Opens the process's perf map unless it is open already; its path.
pub(crate) fn open_process_map() -> std::io::Result<PathBuf> {
    let mut map = PROCESS_MAP.lock().unwrap_or_else(|e| e.into_inner());
    if map.is_none() {
        *map = Some(MapFile::create(perf_map_path())?);
    }
    Ok(map.as_ref().expect("opened above").path.clone())
}

/// Announces code at `start` of `size` bytes named `name` in the process's map (which
/// [`open_process_map`] opened).
pub(crate) fn record_in_process_map(start: u64, size: u64, name: &str) {
    let mut map = PROCESS_MAP.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(map) = map.as_mut() {
        map.record(start, size, name);
    }
}

/// A map file and the lines it holds (by start address; see the [module docs](self)).
pub(crate) struct MapFile {
    out: BufWriter<File>,
    path: PathBuf,
    /// start → (size, name); the ranges are disjoint.
    lines: BTreeMap<u64, (u64, String)>,
    /// Set after the first failed write: nothing more is written.
    broken: bool,
}

impl MapFile {
    /// Creates (truncates) the map at `path`.
    pub(crate) fn create(path: PathBuf) -> std::io::Result<MapFile> {
        Ok(MapFile {
            out: BufWriter::new(File::create(&path)?),
            path,
            lines: BTreeMap::new(),
            broken: false,
        })
    }

    /// Adds the line for code at `start` of `size` bytes named `name`, dropping the
    /// lines it overlaps, and flushes.
    pub(crate) fn record(&mut self, start: u64, size: u64, name: &str) {
        if self.broken {
            return;
        }
        let end = start.saturating_add(size.max(1));
        let overlapped: Vec<u64> = self
            .lines
            .range(..end)
            .rev()
            .take_while(|(&s, &(n, _))| s.saturating_add(n.max(1)) > start)
            .map(|(&s, _)| s)
            .collect();
        for s in &overlapped {
            self.lines.remove(s);
        }
        let name = name.replace(['\n', '\r'], " ");
        let line = format!("{start:x} {size:x} {name}\n");
        self.lines.insert(start, (size, name));
        let written = if overlapped.is_empty() {
            self.out.write_all(line.as_bytes()).and_then(|()| self.out.flush())
        } else {
            self.rewrite()
        };
        if let Err(e) = written {
            self.broken = true;
            eprintln!(
                "leones-backend-llvm: cannot write the perf map {} ({e}); JIT code stays unnamed in perf",
                self.path.display()
            );
        }
    }

    /// Writes every line anew (after some were dropped).
    fn rewrite(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        let file = self.out.get_mut();
        file.set_len(0)?;
        file.rewind()?;
        for (start, (size, name)) in &self.lines {
            writeln!(self.out, "{start:x} {size:x} {name}")?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_at(tag: &str) -> MapFile {
        let path = std::env::temp_dir().join(format!("leones-perfmap-{tag}-{}.map", std::process::id()));
        MapFile::create(path).unwrap()
    }

    fn contents(map: MapFile) -> String {
        let text = std::fs::read_to_string(&map.path).unwrap();
        let _ = std::fs::remove_file(&map.path);
        text
    }

    #[test]
    fn lines_are_hex_start_hex_size_and_a_one_line_name() {
        let mut map = map_at("format");
        map.record(0x7f00_1234_5000, 0x9b, "leones loop.quick f:3\n(loop1)");
        map.record(0x10, 1, "second");
        assert_eq!(
            contents(map),
            "7f0012345000 9b leones loop.quick f:3 (loop1)\n10 1 second\n"
        );
    }

    #[test]
    fn code_at_a_reused_address_replaces_the_lines_it_overlaps() {
        let mut map = map_at("reuse");
        map.record(0x1000, 0x100, "a");
        map.record(0x1100, 0x100, "b");
        map.record(0x2000, 0x10, "c");
        // Touches the end of `a` and the start of `b`, not `c`.
        map.record(0x10f0, 0x20, "d");
        // Exactly `c`'s range.
        map.record(0x2000, 0x10, "e");
        // Adjacent to `e`, overlapping nothing: appended.
        map.record(0x2010, 0x8, "f");
        assert_eq!(contents(map), "10f0 20 d\n2000 10 e\n2010 8 f\n");
    }
}
