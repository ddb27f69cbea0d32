//! # leones-opt
//!
//! The optimizer: passes over the Leones trace IR, one pass per file, run in the order
//! [`pipeline::default_pipeline`] gives by [`optimize`]. Every pass is testable on text
//! ("this trace becomes that trace", `opt/filetests/`) and checked against the
//! reference interpreter on generated traces (`opt/tests/`).

pub mod context;
pub mod pass;
pub mod passes;
pub mod pipeline;
pub mod region;
pub mod util;

pub use context::{EntryFact, OptContext, PureCallEvaluator};
pub use pass::{OptError, Pass, PassList, PassStats, Stats};
pub use passes::branchless::BranchlessParams;
pub use passes::peel::PeelPolicy;
pub use pipeline::{default_pipeline, opt_text, optimize, pass_by_name, pass_names, passes_named};
