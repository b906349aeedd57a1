//! The parser proper: a loop over markup with an explicit element stack, so
//! depth is bounded without recursion and a bad tag does not hide the rest
//! of the file. Lexemes (names, references, the declaration) are nom parsers.

use std::sync::Arc;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, digit1, hex_digit1};
use nom::combinator::{map_res, recognize};
use nom::sequence::{delimited, pair, preceded};
use nom::{IResult, Parser as _};

use super::scan::{ScanError, expression_end};
use super::{Attribute, Element, Limits, Node, Text};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::{Source, Span};

/// Parses a policy document into its root element. Problems are returned as
/// diagnostics; the tree is as much as could be read (`None` when no root).
pub fn parse(source: &Arc<Source>, limits: &Limits) -> (Option<Element>, Diagnostics) {
    let mut p = Parser {
        source,
        src: source.text(),
        pos: 0,
        limits,
        diags: Diagnostics::new(),
    };
    if p.src.len() > limits.max_document_bytes {
        let d = p.diag(
            Code::DocumentTooLarge,
            Span::point(0),
            format!(
                "the document is {} bytes, over the limit of {} bytes",
                p.src.len(),
                limits.max_document_bytes
            ),
        );
        p.diags.push(d);
        return (None, p.diags);
    }
    let root = p.document();
    (root, p.diags)
}

struct Parser<'a> {
    source: &'a Arc<Source>,
    src: &'a str,
    pos: usize,
    limits: &'a Limits,
    diags: Diagnostics,
}

/// An element whose start tag has been read but not its end.
struct Open {
    element: Element,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.')
}

fn name(i: &str) -> IResult<&str, &str> {
    recognize(pair(take_while1(is_name_start), take_while(is_name_char))).parse(i)
}

/// `&name;`, `&#N;` or `&#xH;` → the character it stands for.
fn reference(i: &str) -> IResult<&str, Option<char>> {
    let named = map_res(
        delimited(char('&'), name, char(';')),
        |n: &str| -> Result<Option<char>, ()> {
            Ok(match n {
                "quot" => Some('"'),
                "apos" => Some('\''),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                _ => None,
            })
        },
    );
    let hex = map_res(delimited(tag("&#x"), hex_digit1, char(';')), |h: &str| {
        u32::from_str_radix(h, 16).map(char::from_u32)
    });
    let dec = map_res(delimited(tag("&#"), digit1, char(';')), |d: &str| {
        d.parse::<u32>().map(char::from_u32)
    });
    alt((hex, dec, named)).parse(i)
}

fn ws(i: &str) -> IResult<&str, &str> {
    take_while(|c: char| c.is_ascii_whitespace()).parse(i)
}

/// `<?xml version="1.0" ...?>` or any processing instruction: `<?` name ... `?>`.
fn processing_instruction(i: &str) -> IResult<&str, &str> {
    preceded(tag("<?"), name).parse(i)
}

impl<'a> Parser<'a> {
    fn diag(&self, code: Code, span: Span, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, self.source, span, msg)
    }

    fn error(&mut self, code: Code, span: Span, msg: impl Into<String>) {
        let d = self.diag(code, span, msg);
        self.diags.push(d);
    }

    fn error_help(
        &mut self,
        code: Code,
        span: Span,
        msg: impl Into<String>,
        help: impl Into<String>,
    ) {
        let d = self.diag(code, span, msg).with_help(help);
        self.diags.push(d);
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn at(&self, s: &str) -> bool {
        self.rest().starts_with(s)
    }

    /// Moves to the byte after the first `end` at or after the cursor; false at end of input.
    fn skip_past(&mut self, end: &str) -> bool {
        match self.rest().find(end) {
            Some(i) => {
                self.pos += i + end.len();
                true
            }
            None => {
                self.pos = self.src.len();
                false
            }
        }
    }

    fn skip_ws(&mut self) {
        if let Ok((rest, _)) = ws(self.rest()) {
            self.pos = self.src.len() - rest.len();
        }
    }

    fn document(&mut self) -> Option<Element> {
        if self.at("\u{feff}") {
            self.pos += 3;
        }
        let mut stack: Vec<Open> = Vec::new();
        let mut root: Option<Element> = None;
        let mut reported_outside = false;
        while self.pos < self.src.len() {
            let start = self.pos;
            if self.at("<!--") {
                if !self.skip_past("-->") {
                    self.error(
                        Code::UnexpectedEof,
                        Span::new(start, start + 4),
                        "unterminated comment",
                    );
                }
                push_child(&mut stack, Node::Comment(Span::new(start, self.pos)));
            } else if self.at("<![CDATA[") {
                let body = start + 9;
                let text = if self.skip_past("]]>") {
                    Text::verbatim(&self.src[body..self.pos - 3], Span::new(body, self.pos - 3))
                } else {
                    self.error(
                        Code::UnexpectedEof,
                        Span::new(start, body),
                        "unterminated CDATA section",
                    );
                    Text::verbatim(&self.src[body..], Span::new(body, self.src.len()))
                };
                if stack.is_empty() {
                    self.outside_root(start, &mut reported_outside);
                }
                push_child(&mut stack, Node::CData(text));
            } else if self.at("<?") {
                self.processing_instruction(start, stack.is_empty() && root.is_none());
            } else if self.at("<!") {
                self.skip_past(">");
                self.error(
                    Code::MalformedTag,
                    Span::new(start, self.pos),
                    "document type declarations are not allowed in policy documents",
                );
            } else if self.at("</") {
                self.close_tag(&mut stack, &mut root);
            } else if self.at("<") {
                if stack.is_empty() && root.is_some() {
                    self.outside_root(start, &mut reported_outside);
                }
                if let Some(open) = self.start_tag() {
                    if open.element.content_span.is_none() {
                        // `<x/>` is complete at once.
                        finish(&mut stack, &mut root, open.element);
                    } else if stack.len() >= self.limits.max_depth {
                        let span = open.element.name_span;
                        self.error(
                            Code::NestingTooDeep,
                            span,
                            format!(
                                "elements are nested more than {} deep",
                                self.limits.max_depth
                            ),
                        );
                        return root.or_else(|| stack.into_iter().next().map(|o| o.element));
                    } else {
                        stack.push(open);
                    }
                }
            } else {
                let text = self.read_value(|b| b == b'<', false);
                if stack.is_empty() {
                    if !text.value.trim().is_empty() {
                        self.outside_root(start, &mut reported_outside);
                    }
                } else {
                    push_child(&mut stack, Node::Text(text));
                }
            }
        }
        // Elements still open at the end of the input.
        while let Some(open) = stack.pop() {
            let e = open.element;
            self.error_help(
                Code::UnexpectedEof,
                e.name_span,
                format!(
                    "`<{}>` is not closed before the end of the document",
                    e.name
                ),
                format!("add `</{}>`", e.name),
            );
            let mut e = e;
            e.span.end = self.src.len();
            e.content_span = e.content_span.map(|c| Span::new(c.start, self.src.len()));
            finish(&mut stack, &mut root, e);
        }
        if root.is_none() && !self.diags.has_errors() {
            self.error(
                Code::EmptyDocument,
                Span::point(self.src.len()),
                "the document has no root element",
            );
        }
        root
    }

    fn outside_root(&mut self, at: usize, reported: &mut bool) {
        if !*reported {
            *reported = true;
            let end = self.src[at..]
                .find(['\n', '<'])
                .map_or(self.src.len(), |i| at + i.max(1));
            self.error(
                Code::ContentOutsideRoot,
                Span::new(at, end),
                "content outside the root element",
            );
        }
    }

    fn processing_instruction(&mut self, start: usize, prolog: bool) {
        let ok = processing_instruction(self.rest()).is_ok();
        let closed = self.skip_past("?>");
        let span = Span::new(start, self.pos);
        if !closed {
            self.error(
                Code::UnexpectedEof,
                Span::new(start, start + 2),
                "unterminated processing instruction",
            );
        } else if !ok {
            self.error(Code::MalformedTag, span, "malformed processing instruction");
        } else if self.src[start..].starts_with("<?xml")
            && is_xml_decl(&self.src[start..self.pos])
            && !prolog
        {
            self.error(
                Code::MalformedTag,
                span,
                "the XML declaration must come first in the document",
            );
        }
    }

    /// Reads `<name attrs... >` or `<name .../>` at the cursor.
    fn start_tag(&mut self) -> Option<Open> {
        let start = self.pos;
        self.pos += 1;
        let Ok((rest, n)) = name(self.rest()) else {
            self.error(
                Code::MalformedTag,
                Span::new(start, start + 1),
                "`<` is not followed by an element name",
            );
            return None;
        };
        let name_span = Span::new(self.pos, self.pos + n.len());
        self.pos = self.src.len() - rest.len();
        let mut attrs: Vec<Attribute> = Vec::new();
        loop {
            let before_ws = self.pos;
            self.skip_ws();
            if self.pos >= self.src.len() {
                self.error(
                    Code::UnexpectedEof,
                    name_span,
                    format!("the start tag of `<{n}>` is not closed"),
                );
                return None;
            }
            if self.at("/>") {
                self.pos += 2;
                let element = Element {
                    name: n.to_owned(),
                    name_span,
                    span: Span::new(start, self.pos),
                    content_span: None,
                    attrs,
                    children: Vec::new(),
                };
                return Some(Open { element });
            }
            if self.at(">") {
                self.pos += 1;
                let element = Element {
                    name: n.to_owned(),
                    name_span,
                    span: Span::new(start, self.pos),
                    content_span: Some(Span::point(self.pos)),
                    attrs,
                    children: Vec::new(),
                };
                return Some(Open { element });
            }
            if self.at("<") {
                self.error_help(
                    Code::MalformedTag,
                    Span::new(before_ws, self.pos),
                    format!("the start tag of `<{n}>` is not closed"),
                    "add `>` or `/>`",
                );
                return Some(Open {
                    element: Element {
                        name: n.to_owned(),
                        name_span,
                        span: Span::new(start, self.pos),
                        content_span: None,
                        attrs,
                        children: Vec::new(),
                    },
                });
            }
            if before_ws == self.pos && !attrs.is_empty() {
                self.error(
                    Code::MalformedAttribute,
                    Span::point(self.pos),
                    "attributes must be separated by white space",
                );
            }
            if let Some(a) = self.attribute(n) {
                if let Some(first) = attrs.iter().find(|x| x.name == a.name) {
                    let lc = self.source.line_col(first.name_span.start);
                    let d = self
                        .diag(
                            Code::DuplicateAttribute,
                            a.name_span,
                            format!("attribute `{}` is given twice on `<{n}>`", a.name),
                        )
                        .with_help(format!(
                            "it was first given at line {}, column {}",
                            lc.line, lc.col
                        ));
                    self.diags.push(d);
                } else {
                    attrs.push(a);
                }
            }
        }
    }

    /// Reads `name = "value"` at the cursor. On a fault, reports it and skips ahead.
    fn attribute(&mut self, element: &str) -> Option<Attribute> {
        let start = self.pos;
        let Ok((rest, an)) = name(self.rest()) else {
            let c = self.rest().chars().next().unwrap_or(' ');
            self.error(
                Code::MalformedTag,
                Span::new(start, start + c.len_utf8()),
                format!("unexpected `{c}` in the start tag of `<{element}>`"),
            );
            self.pos += c.len_utf8();
            return None;
        };
        let name_span = Span::new(start, start + an.len());
        self.pos = self.src.len() - rest.len();
        self.skip_ws();
        if !self.at("=") {
            self.error_help(
                Code::MalformedAttribute,
                name_span,
                format!("attribute `{an}` has no value"),
                format!("write `{an}=\"...\"`"),
            );
            return None;
        }
        self.pos += 1;
        self.skip_ws();
        let quote = match self.rest().as_bytes().first() {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => {
                let end = self
                    .rest()
                    .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
                    .unwrap_or(0);
                self.error_help(
                    Code::MalformedAttribute,
                    Span::new(self.pos, self.pos + end.max(1)),
                    format!("the value of attribute `{an}` is not quoted"),
                    "put the value in double quotes",
                );
                self.pos += end;
                return None;
            }
        };
        let open = self.pos;
        self.pos += 1;
        let errors_before = self.diags.len();
        let mut value = self.read_value(|b| b == quote || b == b'<', true);
        // A raw `<` in a literal value: if the quote closes later on the same line,
        // report the `<` and read on; otherwise the quote is what is missing.
        while self.at("<")
            && self
                .rest()
                .split('\n')
                .next()
                .is_some_and(|l| l.contains(quote as char))
        {
            self.error_help(
                Code::MalformedAttribute,
                Span::new(self.pos, self.pos + 1),
                format!("`<` in the value of attribute `{an}`"),
                "write `&lt;`, or put the value in a policy expression",
            );
            value.push_verbatim("<", self.pos);
            self.pos += 1;
            let more = self.read_value(|b| b == quote || b == b'<', true);
            value.append(&more);
        }
        if self
            .diags
            .iter()
            .skip(errors_before)
            .any(|d| d.code == Code::UnterminatedExpression)
        {
            // A broken expression: take the value up to the quote that ends the tag,
            // so one fault gives one diagnostic instead of a cascade.
            if let Some(end) = self.tag_end_quote(open + 1, quote) {
                value = Text::verbatim(&self.src[open + 1..end], Span::new(open + 1, end));
                self.diags.truncate(errors_before + 1);
                self.pos = end;
            }
        }
        if self.rest().as_bytes().first() == Some(&quote) {
            self.pos += 1;
        } else {
            let what = if self.pos >= self.src.len() {
                "the end of the document"
            } else {
                "`<`"
            };
            self.error_help(
                Code::MalformedAttribute,
                Span::new(open, open + 1),
                format!("the value of attribute `{an}` reaches {what} without a closing quote"),
                "close the quote; `<` is allowed only inside `@(...)` and `@{...}` or written `&lt;`",
            );
        }
        Some(Attribute {
            name: an.to_owned(),
            name_span,
            value,
            span: Span::new(start, self.pos),
        })
    }

    /// The first `quote` after `from` that is followed by the end of a start tag.
    fn tag_end_quote(&self, from: usize, quote: u8) -> Option<usize> {
        let bytes = self.src.as_bytes();
        let window = bytes.len().min(from + self.limits.max_expression_bytes);
        (from..window).find(|&i| {
            bytes[i] == quote && {
                let after = self.src[i + 1..].trim_start();
                after.starts_with('>') || after.starts_with("/>")
            }
        })
    }

    /// Reads a value up to (not including) a byte for which `stop` holds,
    /// decoding references and stepping over expressions whole.
    fn read_value(&mut self, stop: impl Fn(u8) -> bool, in_attr: bool) -> Text {
        let start = self.pos;
        let mut text = Text::new(Span::point(start));
        let bytes = self.src.as_bytes();
        while self.pos < self.src.len() {
            let run_end = bytes[self.pos..]
                .iter()
                .position(|&b| stop(b) || b == b'&' || b == b'@')
                .map_or(self.src.len(), |i| self.pos + i);
            if run_end > self.pos {
                text.push_verbatim(&self.src[self.pos..run_end], self.pos);
                self.pos = run_end;
                continue;
            }
            let b = bytes[self.pos];
            if stop(b) {
                break;
            }
            if b == b'@' && matches!(bytes.get(self.pos + 1), Some(b'(' | b'{')) {
                self.expression(&mut text);
            } else if b == b'&' {
                self.reference(&mut text, in_attr);
            } else {
                text.push_verbatim("@", self.pos);
                self.pos += 1;
            }
        }
        text.span = Span::new(start, self.pos);
        text
    }

    /// Steps over an expression at the cursor, decoding the XML escapes inside it.
    fn expression(&mut self, text: &mut Text) {
        let at = self.pos;
        let end = match expression_end(self.src, at, self.limits.max_expression_bytes) {
            Ok(end) => end,
            Err(e) => {
                let open = Span::new(at, at + 2);
                match e {
                    ScanError::Unterminated => self.error_help(
                        Code::UnterminatedExpression,
                        open,
                        "this policy expression has no balanced end",
                        "check the brackets and quotes of the expression",
                    ),
                    ScanError::Mismatched(p) => {
                        let c = self.src[p..].chars().next().unwrap_or(')');
                        self.error_help(
                            Code::UnterminatedExpression,
                            Span::new(p, p + c.len_utf8()),
                            format!("`{c}` does not close the bracket it meets in this expression"),
                            format!(
                                "the expression starts at line {}",
                                self.source.line_col(at).line
                            ),
                        );
                    }
                    ScanError::TooDeep(p) => self.error(
                        Code::ExpressionTooLarge,
                        Span::point(p),
                        "brackets are nested too deeply in this expression",
                    ),
                    ScanError::TooLarge => self.error(
                        Code::ExpressionTooLarge,
                        open,
                        format!(
                            "this expression is over the limit of {} bytes",
                            self.limits.max_expression_bytes
                        ),
                    ),
                }
                // Read on as literal text so the rest of the file is still checked.
                text.push_verbatim("@", at);
                self.pos += 1;
                return;
            }
        };
        let mut i = at;
        while i < end {
            let rest = &self.src[i..end];
            let next_amp = rest.find('&').map_or(end, |k| i + k);
            if next_amp > i {
                text.push_verbatim(&self.src[i..next_amp], i);
                i = next_amp;
                continue;
            }
            match reference(&self.src[i..end]) {
                Ok((r, Some(c))) => {
                    let j = end - r.len();
                    text.push_decoded(c, i, j);
                    i = j;
                }
                _ => {
                    // A bare `&` is C# (`&&`, `&`), not markup.
                    text.push_verbatim("&", i);
                    i += 1;
                }
            }
        }
        self.pos = end;
    }

    fn reference(&mut self, text: &mut Text, in_attr: bool) {
        let at = self.pos;
        match reference(self.rest()) {
            Ok((rest, Some(c))) => {
                let end = self.src.len() - rest.len();
                text.push_decoded(c, at, end);
                self.pos = end;
            }
            Ok((rest, None)) => {
                let end = self.src.len() - rest.len();
                self.error_help(
                    Code::BadReference,
                    Span::new(at, end),
                    format!("unknown entity `{}`", &self.src[at..end]),
                    "only `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&apos;` and character references are defined",
                );
                text.push_verbatim(&self.src[at..end], at);
                self.pos = end;
            }
            Err(_) => {
                let place = if in_attr {
                    "an attribute value"
                } else {
                    "text"
                };
                // Not well-formed XML, but APIM's own docs write it (rewrite-uri's
                // `{a}&{b}` template): taken as a literal `&`, with a warning.
                self.error_help(
                    Code::BareAmpersand,
                    Span::new(at, at + 1),
                    format!("a bare `&` in {place}, taken as a literal `&`"),
                    "write `&amp;` to make the document well-formed XML",
                );
                text.push_verbatim("&", at);
                self.pos += 1;
            }
        }
    }

    fn close_tag(&mut self, stack: &mut Vec<Open>, root: &mut Option<Element>) {
        let start = self.pos;
        self.pos += 2;
        let parsed = name(self.rest()).map(|(rest, n)| (rest, n.to_owned()));
        let Ok((rest, n)) = parsed else {
            self.skip_past(">");
            self.error(
                Code::MalformedTag,
                Span::new(start, self.pos),
                "malformed closing tag",
            );
            return;
        };
        let name_span = Span::new(self.pos, self.pos + n.len());
        self.pos = self.src.len() - rest.len();
        self.skip_ws();
        if self.at(">") {
            self.pos += 1;
        } else {
            self.error(
                Code::MalformedTag,
                Span::new(start, self.pos),
                format!("the closing tag `</{n}` has no `>`"),
            );
        }
        let end = self.pos;
        match stack.iter().rposition(|o| o.element.name == n) {
            Some(i) => {
                // Close everything above the match: those elements were never closed.
                while stack.len() > i + 1 {
                    if let Some(open) = stack.pop() {
                        let mut e = open.element;
                        self.error_help(
                            Code::MismatchedClose,
                            name_span,
                            format!("`</{n}>` closes `<{n}>` while `<{}>` is still open", e.name),
                            format!(
                                "`<{}>` opened at line {} is never closed; add `</{}>`",
                                e.name,
                                self.source.line_col(e.span.start).line,
                                e.name
                            ),
                        );
                        e.span.end = start;
                        e.content_span = e.content_span.map(|c| Span::new(c.start, start));
                        finish(stack, root, e);
                    }
                }
                if let Some(open) = stack.pop() {
                    let mut e = open.element;
                    e.span.end = end;
                    e.content_span = e.content_span.map(|c| Span::new(c.start, start));
                    finish(stack, root, e);
                }
            }
            None => {
                let help = match stack.last() {
                    Some(o) => format!("the open element here is `<{}>`", o.element.name),
                    None => "no element is open here".to_owned(),
                };
                self.error_help(
                    Code::MismatchedClose,
                    name_span,
                    format!("`</{n}>` closes an element that is not open"),
                    help,
                );
            }
        }
    }
}

fn is_xml_decl(pi: &str) -> bool {
    pi.strip_prefix("<?xml")
        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_whitespace() || c == '?'))
}

fn push_child(stack: &mut [Open], node: Node) {
    if let Some(top) = stack.last_mut() {
        top.element.children.push(node);
    }
}

fn finish(stack: &mut [Open], root: &mut Option<Element>, e: Element) {
    match stack.last_mut() {
        Some(top) => top.element.children.push(Node::Element(e)),
        None => {
            if root.is_none() {
                *root = Some(e);
            }
        }
    }
}

#[cfg(test)]
mod tests;
