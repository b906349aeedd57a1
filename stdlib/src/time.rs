//! DateTime, DateTimeOffset, TimeSpan, with .NET format strings.
//!
//! Not written yet: registers nothing.

use rhai::Engine;

pub(crate) fn register(_e: &mut Engine) {}
