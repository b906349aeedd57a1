//! Regex, Match, Group, GroupCollection, MatchCollection, RegexOptions.
//!
//! Not written yet: registers nothing.

use rhai::Engine;

pub(crate) fn register(_e: &mut Engine) {}
