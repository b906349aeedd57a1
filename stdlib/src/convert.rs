//! `Convert` (ToBase64String/FromBase64String, ToInt32/ToInt64/ToDouble/ToBoolean/ToString/ToByte, ToHexString, ...).
//!
//! Not written yet: registers nothing.

use rhai::Engine;

pub(crate) fn register(_e: &mut Engine) {}
