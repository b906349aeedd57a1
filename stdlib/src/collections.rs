//! List, Dictionary, HashSet, KeyValuePair, array members, and LINQ (Enumerable).
//!
//! Not written yet: registers nothing.

use rhai::Engine;

pub(crate) fn register(_e: &mut Engine) {}
