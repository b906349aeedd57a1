//! System.Xml.Linq basics: XDocument, XElement, XAttribute, XName.
//!
//! Not written yet: registers nothing.

use rhai::Engine;

pub(crate) fn register(_e: &mut Engine) {}
