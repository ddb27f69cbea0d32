//! The passes, one per file. Each file opens with what the pass does, the invariants
//! it keeps, an example, and where the idea comes from.

pub mod branchless;
pub mod cse;
pub mod dce;
pub mod escape;
pub mod fold;
pub mod guards;
pub mod heap;
pub mod peel;
