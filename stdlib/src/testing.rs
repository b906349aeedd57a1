//! What the family test modules share: evaluating rhai through a default
//! engine, and showing the outcome as text (`!Type: message` for a .NET
//! exception, `!error` for any other failure).

use rhai::{Dynamic, EvalAltResult};

use crate::core::{RhaiResult, exception_of};

/// Evaluates `src` on a fresh engine with the default limits.
pub(crate) fn eval(src: &str) -> RhaiResult<Dynamic> {
    crate::engine(&crate::Limits::default()).eval::<Dynamic>(src)
}

/// A failure as text: `!Type: message` for a .NET exception, else `!error`.
pub(crate) fn failure(e: &EvalAltResult) -> String {
    match exception_of(e) {
        Some(x) => format!("!{}: {}", x.type_name, x.message),
        None => format!("!{e}"),
    }
}

/// An outcome as text: the value's `to_string()`, or [`failure`].
pub(crate) fn shown(result: RhaiResult<Dynamic>) -> String {
    result
        .map(|v| v.to_string())
        .unwrap_or_else(|e| failure(&e))
}

/// [`eval`], shown as text.
pub(crate) fn eval_str(src: &str) -> String {
    shown(eval(src))
}
