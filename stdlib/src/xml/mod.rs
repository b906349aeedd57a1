//! System.Xml.Linq basics: XDocument, XElement, XAttribute, XText, XComment,
//! XName, XNamespace; and a forward-only `XmlReader` over a parsed document.
//!
//! - `dom.rs`: the node tree and `ToString()`;
//! - `parse.rs`: the XML reader (`XmlException` on malformed input);
//! - `names.rs`: XName / XNamespace and the explicit conversions;
//! - `members.rs`: the XDocument / XElement / XAttribute members;
//! - `reader.rs`: `XmlReader` and `XNode.ReadFrom`.

mod dom;
mod members;
mod names;
mod parse;
mod reader;

use rhai::{Dynamic, Engine};

pub use dom::XName;
use dom::{ALink, XKind, XLink};

/// `System.Xml.Linq.XDocument`.
#[derive(Clone)]
pub struct XDocument(XLink);
/// `System.Xml.Linq.XElement`.
#[derive(Clone)]
pub struct XElement(XLink);
/// `System.Xml.Linq.XText` (and `XCData`).
#[derive(Clone)]
pub struct XText(XLink);
/// `System.Xml.Linq.XComment`.
#[derive(Clone)]
pub struct XComment(XLink);
/// `System.Xml.Linq.XProcessingInstruction`.
#[derive(Clone)]
pub struct XProcessingInstruction(XLink);
/// `System.Xml.Linq.XAttribute`.
#[derive(Clone)]
pub struct XAttribute(ALink);
/// `System.Xml.Linq.XNamespace`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XNamespace(String);

/// A node as the rhai value of its .NET class.
pub(crate) fn wrap(l: XLink) -> Dynamic {
    let kind = match &dom::read(&l).kind {
        XKind::Document { .. } => 0,
        XKind::Element { .. } => 1,
        XKind::Text(_) | XKind::CData(_) => 2,
        XKind::Comment(_) => 3,
        XKind::Pi(..) => 4,
    };
    match kind {
        0 => Dynamic::from(XDocument(l)),
        1 => Dynamic::from(XElement(l)),
        2 => Dynamic::from(XText(l)),
        3 => Dynamic::from(XComment(l)),
        _ => Dynamic::from(XProcessingInstruction(l)),
    }
}

pub(crate) fn wrap_opt(l: Option<XLink>) -> Dynamic {
    l.map_or(Dynamic::UNIT, wrap)
}

/// The node behind a node value, if it is one.
pub(crate) fn link_of(v: &Dynamic) -> Option<XLink> {
    if let Some(x) = v.read_lock::<XElement>() {
        return Some(x.0.clone());
    }
    if let Some(x) = v.read_lock::<XDocument>() {
        return Some(x.0.clone());
    }
    if let Some(x) = v.read_lock::<XText>() {
        return Some(x.0.clone());
    }
    if let Some(x) = v.read_lock::<XComment>() {
        return Some(x.0.clone());
    }
    v.read_lock::<XProcessingInstruction>().map(|x| x.0.clone())
}

pub(crate) fn register(e: &mut Engine) {
    e.register_type_with_name::<XDocument>("XDocument")
        .register_type_with_name::<XElement>("XElement")
        .register_type_with_name::<XText>("XText")
        .register_type_with_name::<XComment>("XComment")
        .register_type_with_name::<XProcessingInstruction>("XProcessingInstruction")
        .register_type_with_name::<XAttribute>("XAttribute")
        .register_type_with_name::<XName>("XName")
        .register_type_with_name::<XNamespace>("XNamespace");
    names::register(e);
    members::register(e);
    reader::register(e);
}

#[cfg(test)]
mod tests;
