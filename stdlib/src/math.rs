//! `Math` and the numeric statics (`int.MaxValue`, ...).
//!
//! Not written yet: registers nothing.

use rhai::Engine;

pub(crate) fn register(_e: &mut Engine) {}
