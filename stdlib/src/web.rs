//! `Uri`, `WebUtility` and `HttpUtility` (UrlEncode/Decode, HtmlEncode/Decode, ParseQueryString).
//!
//! Not written yet: registers nothing.

use rhai::Engine;

pub(crate) fn register(_e: &mut Engine) {}
