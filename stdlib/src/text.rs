//! `Encoding` (UTF8, ASCII, Unicode; GetBytes/GetString), `BitConverter`, `Guid`, `Random`.
//!
//! Not written yet: registers nothing.

use rhai::Engine;

pub(crate) fn register(_e: &mut Engine) {}
