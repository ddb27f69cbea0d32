//! # leones-tracer
//!
//! What a host VM calls: hotness counters, the recorder, snapshots, loop closing,
//! side-exit counting, bridge recording and resume. This crate never depends on LLVM;
//! the root `leones` crate wires the tracer to `leones-opt` and `leones-backend-llvm`.
//!
//! Nothing is implemented here yet (see the tracer/engine issue); the crate exists so
//! the workspace has its final shape and dependency directions from the start.
