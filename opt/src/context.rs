//! What the engine lends the optimizer: hooks it cannot implement itself.
//!
//! The optimizer never calls host code by address. To fold a `pure` call whose
//! arguments are all constants, it asks the engine through [`PureCallEvaluator`]; an
//! engine that cannot (or a test that does not want to) passes none, and such calls
//! stay (they are still CSE'd).

use leones_ir::{CallDescr, Const};

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
}

impl Default for OptContext<'_> {
    fn default() -> Self {
        OptContext {
            pure_calls: None,
            verify_each_pass: cfg!(debug_assertions),
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
