//! The tolerant XML front end for APIM policy documents.
//!
//! APIM policy documents are not well-formed XML (expressions hold raw `"`,
//! `<` and `&&`), so no general XML crate reads them. This module parses
//! them with nom into a small tree in which every element, attribute, text
//! node and expression keeps its byte span.
//!
//! - `parse.rs`: the parser (elements, attributes, text, comments, CDATA,
//!   references, the XML declaration), with error recovery so that all
//!   problems of a file are reported
//! - `scan.rs`: the C#-aware scan for the balanced end of `@(...)`/`@{...}`
//! - `text.rs`: decoded text that maps back to source offsets

mod parse;
pub mod scan;
mod text;

pub use parse::parse;
pub use text::Text;

use crate::source::Span;

/// Bounds on what the parser accepts; over a bound is a diagnostic, never a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_document_bytes: usize,
    pub max_depth: usize,
    pub max_expression_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_document_bytes: 4 << 20,
            max_depth: 64,
            max_expression_bytes: 256 << 10,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    pub name: String,
    pub name_span: Span,
    /// From `<` to the end of the closing tag (or of `/>`).
    pub span: Span,
    /// Between the start tag and the closing tag; `None` for `<x/>`.
    pub content_span: Option<Span>,
    pub attrs: Vec<Attribute>,
    pub children: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub name_span: Span,
    /// The decoded value; its span is inside the quotes.
    pub value: Text,
    /// From the name to the closing quote.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Element(Element),
    Text(Text),
    CData(Text),
    Comment(Span),
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        self.attrs.iter().find(|a| a.name == name)
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The element's text: its text and CDATA children joined (comments skipped).
    pub fn text(&self) -> Text {
        let at = self.content_span.map_or(self.span.end, |s| s.start);
        let mut out = Text::new(Span::point(at));
        for n in &self.children {
            if let Node::Text(t) | Node::CData(t) = n {
                out.append(t);
            }
        }
        out
    }

    /// Whether the element holds any text that is not white space.
    pub fn has_text(&self) -> bool {
        self.children.iter().any(|n| match n {
            Node::Text(t) => !t.value.trim().is_empty(),
            Node::CData(_) => true,
            _ => false,
        })
    }

    /// The first text or CDATA child that is not white space, trimmed.
    pub fn stray_text(&self) -> Option<Text> {
        self.children.iter().find_map(|n| match n {
            Node::Text(t) | Node::CData(t) if !t.value.trim().is_empty() => Some(t.trimmed()),
            _ => None,
        })
    }

    /// The start tag's span (`<name ...>`), for pointing at an element as a whole.
    pub fn head_span(&self) -> Span {
        let end = self.content_span.map_or(self.span.end, |c| c.start);
        Span::new(self.span.start, end)
    }
}
