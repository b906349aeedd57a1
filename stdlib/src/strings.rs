//! `string` members and statics, `char` statics, `StringBuilder`, composite formatting (`string.Format`, interpolation holes with format strings), numeric format strings, `Parse`/`TryParse` of the primitives.
//!
//! Not written yet: registers nothing.

use rhai::Engine;

pub(crate) fn register(_e: &mut Engine) {}
