//! What the engine lends the optimizer: hooks it cannot implement itself.
//!
//! The optimizer never calls host code by address. To fold a `pure` call whose
//! arguments are all constants, it asks the engine through [`PureCallEvaluator`]; an
//! engine that cannot (or a test that does not want to) passes none, and such calls
//! stay (they are still CSE'd).
//!
//! A caller may also tell the optimizer what holds for `block0`'s parameters on entry
//! ([`EntryFact`]): an engine optimizing a bridge knows what its parent trace proved
//! about the exit values before the exit (classes and non-null from `guard_class`,
//! `guard_nonnull` and `new`, constants from `guard_value`), and the `guards` pass
//! then drops the bridge's re-checks of them. A fact that does not hold makes the
//! optimized trace wrong: the caller is responsible for them.

use crate::passes::branchless::BranchlessParams;
use crate::passes::peel::PeelPolicy;
use leones_ir::{CallDescr, Const, LayoutId};

/// Something true of a `block0` parameter whenever the trace is entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryFact {
    /// A non-null object of this layout (its class word is the layout's class; the id
    /// is in the optimized trace's own layout table).
    Class(LayoutId),
    /// A non-null reference or pointer.
    NonNull,
    /// Always this constant.
    Const(Const),
}

/// Evaluates a `pure` host function at compile time.
pub trait PureCallEvaluator {
    /// The result of calling `call` on `args`, or `None` if it cannot be evaluated
    /// (unknown function, it raised, ...). Only called for descriptors with
    /// `effects(pure)` that cannot raise and return a value.
    fn eval(&self, call: &CallDescr, args: &[Const]) -> Option<Const>;
}

/// Options and hooks for one optimizer run.
#[derive(Clone, Copy)]
pub struct OptContext<'a> {
    /// Compile-time evaluation of pure calls.
    pub pure_calls: Option<&'a dyn PureCallEvaluator>,
    /// Run the verifier after every pass (default: on in debug builds).
    pub verify_each_pass: bool,
    /// Facts about `block0`'s parameters on entry, by parameter index (default: none).
    /// Indices out of range are ignored.
    pub entry_facts: &'a [(usize, EntryFact)],
    /// Branchless rewriting: on/off and its thresholds (default: on, with the
    /// defaults documented in [`crate::passes::branchless`]).
    pub branchless: BranchlessParams,
    /// Whether a peeled loop is kept whatever it bought (default), only when its loop
    /// came out cheaper, or never ([`PeelPolicy`]).
    pub peel: PeelPolicy,
}

impl Default for OptContext<'_> {
    fn default() -> Self {
        OptContext {
            pure_calls: None,
            verify_each_pass: cfg!(debug_assertions),
            entry_facts: &[],
            branchless: BranchlessParams::default(),
            peel: PeelPolicy::Always,
        }
    }
}

impl<'a> OptContext<'a> {
    /// A context with a pure-call evaluator.
    pub fn with_pure_calls(eval: &'a dyn PureCallEvaluator) -> Self {
        OptContext {
            pure_calls: Some(eval),
            ..OptContext::default()
        }
    }
}
