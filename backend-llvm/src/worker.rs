//! # The compiler thread
//!
//! A [`Compiler`] is one background thread that builds [`UnitJob`]s into object files
//! ([`BuiltUnit`]s) while the host keeps interpreting. It owns its own TargetMachines
//! and creates a fresh LLVM context per job, so it shares no LLVM state with the
//! host thread; ORC (which the host thread owns through the [`Backend`]) is not
//! touched until the host installs the result.
//!
//! The hand-off is two channels: [`Compiler::submit`] never blocks (the queue is
//! unbounded; an engine bounds it by its own policy), and
//! [`Compiler::try_finished`] only polls. Jobs are built one at a time (one thread: a
//! JIT should not take more than one core from its host), in submission order except
//! that a job marked [deferrable](UnitJob::deferrable) — a recompilation of code
//! that already runs natively, such as a tier-up — waits behind every job that is
//! not: until those land, the host interprets their code.
//!
//! Shutting down: dropping the `Compiler` closes the job channel; the thread finishes
//! the job in hand and exits, and the drop joins it. Jobs not yet built are dropped
//! unbuilt (their tables with them — no code refers to those).
//!
//! [`Backend`]: crate::Backend
//!
//! ```
//! use leones_backend_llvm::{Backend, Compiler, Level, UnitOptions};
//! let trace = leones_ir::parse("trace t\n\nblock0(v0: i64):\n    finish v0\n").unwrap();
//! let mut backend = Backend::new(Level::Quick).unwrap();
//! let compiler = Compiler::start().unwrap();
//! compiler.submit(backend.prepare(&trace, &UnitOptions::default()));
//! let built = compiler.wait_finished().unwrap(); // or poll with try_finished()
//! let unit = backend.install(built).unwrap();
//! assert!(backend.unit(unit.id).is_some());
//! ```

use crate::build::{warm_up, BuiltUnit, Machines, UnitJob};
use crate::{BackendError, Level};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A background thread that builds units. See the [module docs](self).
pub struct Compiler {
    jobs: Option<Sender<UnitJob>>,
    done: Receiver<BuiltUnit>,
    /// Jobs submitted and not yet received back.
    in_flight: Arc<AtomicUsize>,
    /// Set on drop: jobs still queued are dropped unbuilt.
    stop: Arc<AtomicBool>,
    /// Microseconds the warm-up took (at least 1); 0 until it is done.
    warm_up_us: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Compiler {
    /// Starts the thread.
    pub fn start() -> Result<Compiler, BackendError> {
        Compiler::start_warmed(None)
    }

    /// Starts the thread, which first *warms up* LLVM at `level` (builds a small trace
    /// and discards it) so the first real unit does not pay LLVM's one-time costs for
    /// that level; jobs submitted meanwhile wait for it. [`Compiler::warm_up_time`]
    /// says how long it took. (Warming further levels was measured as delaying the
    /// units that arrived meanwhile, so one level it is.)
    ///
    /// ```
    /// use leones_backend_llvm::{Compiler, Level};
    /// let compiler = Compiler::start_warmed(Some(Level::Quick)).unwrap();
    /// while compiler.warm_up_time().is_none() {
    ///     std::thread::yield_now();
    /// }
    /// ```
    pub fn start_warmed(level: Option<Level>) -> Result<Compiler, BackendError> {
        let (jobs, inbox) = channel::<UnitJob>();
        let (outbox, done) = channel::<BuiltUnit>();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let warm_up_us = Arc::new(AtomicU64::new(0));
        let warmed = warm_up_us.clone();
        let thread = std::thread::Builder::new()
            .name("leones-compiler".into())
            .spawn(move || {
                let mut machines = Machines::default();
                if let Some(level) = level {
                    let took = warm_up(&mut machines, level).as_micros() as u64;
                    // At least 1: a finished warm-up reads as done even if it was instant.
                    warmed.store(took.max(1), Ordering::Release);
                }
                let mut queue = JobQueue::default();
                loop {
                    // Everything submitted so far, then the most urgent job.
                    queue.extend(inbox.try_iter());
                    let job = match queue.next() {
                        Some(job) => job,
                        None => match inbox.recv() {
                            Ok(job) => job,
                            Err(_) => break,
                        },
                    };
                    if stopped.load(Ordering::Relaxed) {
                        break;
                    }
                    if outbox.send(job.build(&mut machines)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| BackendError::Target(format!("cannot start the compiler thread: {e}")))?;
        Ok(Compiler {
            jobs: Some(jobs),
            done,
            in_flight: Arc::new(AtomicUsize::new(0)),
            stop,
            warm_up_us,
            thread: Some(thread),
        })
    }

    /// How long warming up took; `None` until it is done (and always without a level
    /// to warm).
    pub fn warm_up_time(&self) -> Option<Duration> {
        match self.warm_up_us.load(Ordering::Acquire) {
            0 => None,
            us => Some(Duration::from_micros(us)),
        }
    }

    /// Queues a job; never blocks.
    pub fn submit(&self, job: UnitJob) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        if let Some(tx) = &self.jobs {
            // The thread only stops when the channel closes (in `drop`), so a send
            // cannot fail while `self` lives; if it somehow did, the job is dropped
            // unbuilt and `in_flight` stays high — the engine then never waits on it.
            let _ = tx.send(job);
        }
    }

    /// A built job, if one is ready.
    pub fn try_finished(&self) -> Option<BuiltUnit> {
        match self.done.try_recv() {
            Ok(b) => {
                self.in_flight.fetch_sub(1, Ordering::Relaxed);
                Some(b)
            }
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => None,
        }
    }

    /// The next built job, waiting for it; `None` if nothing is in flight.
    pub fn wait_finished(&self) -> Option<BuiltUnit> {
        if self.in_flight() == 0 {
            return None;
        }
        let b = self.done.recv().ok()?;
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        Some(b)
    }

    /// Jobs submitted and not yet taken back.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }
}

/// The compiler thread's jobs not yet started: urgent ones first, each kind in
/// submission order.
#[derive(Default)]
struct JobQueue {
    urgent: VecDeque<UnitJob>,
    deferred: VecDeque<UnitJob>,
}

impl JobQueue {
    fn extend(&mut self, jobs: impl Iterator<Item = UnitJob>) {
        for job in jobs {
            if job.deferrable {
                self.deferred.push_back(job);
            } else {
                self.urgent.push_back(job);
            }
        }
    }

    fn next(&mut self) -> Option<UnitJob> {
        self.urgent.pop_front().or_else(|| self.deferred.pop_front())
    }
}

impl Drop for Compiler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Backend, UnitOptions};

    /// Deferrable jobs wait behind every other queued job; each kind keeps its order.
    #[test]
    fn deferrable_jobs_wait_behind_the_others() {
        let trace = leones_ir::parse("trace t\n\nblock0(v0: i64):\n    finish v0\n").expect("parses");
        let mut backend = Backend::new(Level::Quick).expect("backend");
        let mut jobs: Vec<UnitJob> = (0..4)
            .map(|_| backend.prepare(&trace, &UnitOptions::default()))
            .collect();
        jobs[0].deferrable();
        jobs[2].deferrable();
        let ids: Vec<_> = jobs.iter().map(UnitJob::id).collect();
        let mut queue = JobQueue::default();
        queue.extend(jobs.into_iter());
        let order: Vec<_> = std::iter::from_fn(|| queue.next()).map(|j| j.id()).collect();
        assert_eq!(order, vec![ids[1], ids[3], ids[0], ids[2]]);
    }
}
