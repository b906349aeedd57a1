//! A small reader for well-formed XML into the LINQ-to-XML tree, as
//! `XDocument.Parse(text)` with `LoadOptions.None` reads it: namespaces
//! resolved, entities and character references expanded, whitespace-only text
//! dropped, DOCTYPE skipped. Malformed input is an `XmlException`.

use std::sync::Arc;

use super::dom::{self, MAX_DEPTH, XKind, XLink, XML_NS, XMLNS, XName};
use crate::core::{RhaiResult, Ticker, throw};

struct P {
    cs: Vec<char>,
    pos: usize,
    /// Namespace declarations in scope: (prefix, uri).
    scope: Vec<(String, String)>,
    /// A large document is parsed within the expression's wall-time budget.
    ticker: Ticker,
}

/// Parses a document; its root is the single top-level element.
pub(crate) fn parse_document(src: &str) -> RhaiResult<XLink> {
    let mut p = P {
        cs: src.trim_start_matches('\u{feff}').chars().collect(),
        pos: 0,
        scope: vec![("xml".into(), XML_NS.into())],
        ticker: Ticker::new(),
    };
    let doc = dom::node(XKind::Document {
        decl: None,
        children: Vec::new(),
    });
    let mut nodes = Vec::new();
    let mut root_seen = false;
    if p.starts("<?xml") && p.cs.get(5).is_some_and(|c| c.is_whitespace()) {
        let end = p.find("?>")?;
        let decl: String = p.cs.get(p.pos..end).unwrap_or(&[]).iter().collect();
        p.pos = end + 2;
        if let XKind::Document { decl: d, .. } = &mut dom::write(&doc).kind {
            *d = Some(format!("{decl}?>"));
        }
    }
    loop {
        p.skip_ws();
        if p.pos >= p.cs.len() {
            break;
        }
        if p.starts("<!--") {
            nodes.push(p.comment()?);
        } else if p.starts("<?") {
            nodes.push(p.pi()?);
        } else if p.starts("<!DOCTYPE") {
            p.doctype()?;
        } else if p.starts("<") && !root_seen {
            nodes.push(p.element(0)?);
            root_seen = true;
        } else if p.starts("<") {
            return p.fail("There are multiple root elements.");
        } else {
            return p.fail("Data at the root level is invalid.");
        }
    }
    if !root_seen {
        return p.fail("Root element is missing.");
    }
    dom::insert(&doc, None, nodes)?;
    Ok(doc)
}

/// The root element of a document, detached (`XElement.Parse`).
pub(crate) fn parse_element(src: &str) -> RhaiResult<XLink> {
    let doc = parse_document(src)?;
    let root = dom::child_elements(&doc).into_iter().next();
    match root {
        Some(r) => {
            dom::detach(&r);
            Ok(r)
        }
        None => throw("XmlException", "Root element is missing."),
    }
}

impl P {
    fn starts(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.cs.get(self.pos + i) == Some(&c))
    }

    fn line_col(&self) -> (usize, usize) {
        self.line_col_at(self.pos)
    }

    /// The line and column of `pos`: counted from the start, so only for
    /// errors (once per element made the parse quadratic).
    fn line_col_at(&self, pos: usize) -> (usize, usize) {
        let upto = self.cs.get(..pos.min(self.cs.len())).unwrap_or(&[]);
        let line = 1 + upto.iter().filter(|c| **c == '\n').count();
        let col = 1 + upto.iter().rev().take_while(|c| **c != '\n').count();
        (line, col)
    }

    fn fail<T>(&self, msg: &str) -> RhaiResult<T> {
        let (line, col) = self.line_col();
        throw(
            "XmlException",
            format!("{msg} Line {line}, position {col}."),
        )
    }

    fn eof<T>(&self) -> RhaiResult<T> {
        self.fail("Unexpected end of file has occurred.")
    }

    fn find(&self, s: &str) -> RhaiResult<usize> {
        let first = s.chars().next().unwrap_or(' ');
        let mut i = self.pos;
        while i < self.cs.len() {
            if self.cs.get(i) == Some(&first)
                && s.chars()
                    .enumerate()
                    .all(|(k, c)| self.cs.get(i + k) == Some(&c))
            {
                return Ok(i);
            }
            i += 1;
        }
        self.eof()
    }

    fn skip_ws(&mut self) {
        while self.cs.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn text_until(&mut self, end: &str) -> RhaiResult<String> {
        let e = self.find(end)?;
        let s: String = self.cs.get(self.pos..e).unwrap_or(&[]).iter().collect();
        self.pos = e + end.chars().count();
        Ok(s)
    }

    fn comment(&mut self) -> RhaiResult<XLink> {
        self.pos += 4;
        Ok(dom::node(XKind::Comment(self.text_until("-->")?)))
    }

    fn pi(&mut self) -> RhaiResult<XLink> {
        self.pos += 2;
        let body = self.text_until("?>")?;
        let (target, data) = body.split_once(char::is_whitespace).unwrap_or((&body, ""));
        Ok(dom::node(XKind::Pi(
            target.to_owned(),
            data.trim().to_owned(),
        )))
    }

    fn doctype(&mut self) -> RhaiResult<()> {
        let mut depth = 0;
        while let Some(c) = self.cs.get(self.pos) {
            self.pos += 1;
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                '>' if depth == 0 => return Ok(()),
                _ => {}
            }
        }
        self.eof()
    }

    fn name(&mut self) -> RhaiResult<String> {
        let start = self.pos;
        while self
            .cs
            .get(self.pos)
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.'))
        {
            self.pos += 1;
        }
        if start == self.pos {
            let c = self.cs.get(self.pos).copied().unwrap_or(' ');
            return self.fail(&format!(
                "Name cannot begin with the '{c}' character, hexadecimal value 0x{:02X}.",
                c as u32
            ));
        }
        Ok(self.cs.get(start..self.pos).unwrap_or(&[]).iter().collect())
    }

    fn resolve(&self, qname: &str, is_attr: bool) -> RhaiResult<XName> {
        let (prefix, local) = qname.split_once(':').unwrap_or(("", qname));
        if prefix.is_empty() && is_attr {
            return Ok(XName::local(local));
        }
        match self.scope.iter().rev().find(|(p, _)| p == prefix) {
            Some((_, uri)) => Ok(XName {
                ns: uri.clone(),
                local: local.to_owned(),
            }),
            None if prefix.is_empty() => Ok(XName::local(local)),
            None => self.fail(&format!("'{prefix}' is an undeclared prefix.")),
        }
    }

    /// Character data up to `stop`, with references expanded and line ends normalized.
    fn chars_until(&mut self, stop: &[char]) -> RhaiResult<String> {
        let mut out = String::new();
        while let Some(&c) = self.cs.get(self.pos) {
            if stop.contains(&c) {
                return Ok(out);
            }
            self.pos += 1;
            match c {
                '&' => {
                    let semi = self.find(";")?;
                    let r: String = self.cs.get(self.pos..semi).unwrap_or(&[]).iter().collect();
                    let ch = match r.as_str() {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        r if r.starts_with("#x") => {
                            u32::from_str_radix(r.trim_start_matches("#x"), 16)
                                .ok()
                                .and_then(char::from_u32)
                        }
                        r if r.starts_with('#') => r
                            .trim_start_matches('#')
                            .parse::<u32>()
                            .ok()
                            .and_then(char::from_u32),
                        _ => return self.fail(&format!("Reference to undeclared entity '{r}'.")),
                    };
                    match ch {
                        Some(ch) => out.push(ch),
                        None => return self.fail("Invalid character reference."),
                    }
                    self.pos = semi + 1;
                }
                '\r' => {
                    if self.cs.get(self.pos) != Some(&'\n') {
                        out.push('\n');
                    }
                }
                '<' => return self.fail("'<' is an unexpected token."),
                c => out.push(c),
            }
        }
        Ok(out)
    }

    fn element(&mut self, depth: usize) -> RhaiResult<XLink> {
        self.ticker.tick()?;
        if depth >= MAX_DEPTH {
            return self.fail(&format!(
                "The XML is nested deeper than {MAX_DEPTH} levels."
            ));
        }
        let tag_start = self.pos;
        self.pos += 1;
        let name_pos = self.pos;
        let qname = self.name()?;
        let mark = self.scope.len();
        let mut raw_attrs: Vec<(String, String)> = Vec::new();
        // Names seen, for the duplicate check (linear in the attributes).
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        loop {
            self.ticker.tick()?;
            self.skip_ws();
            match self.cs.get(self.pos) {
                None => return self.eof(),
                Some('>' | '/') => break,
                Some(_) => {}
            }
            let an = self.name()?;
            self.skip_ws();
            if self.cs.get(self.pos) != Some(&'=') {
                return self.fail(&format!(
                    "'{}' is an unexpected token. The expected token is '='.",
                    self.cs.get(self.pos).copied().unwrap_or(' ')
                ));
            }
            self.pos += 1;
            self.skip_ws();
            let q = match self.cs.get(self.pos) {
                Some(&q @ ('"' | '\'')) => q,
                _ => return self.fail("'\"' or ''' is expected."),
            };
            self.pos += 1;
            let v = self.chars_until(&[q])?;
            self.pos += 1;
            if !seen.insert(an.clone()) {
                return self.fail(&format!("'{an}' is a duplicate attribute name."));
            }
            if an == "xmlns" {
                self.scope.push((String::new(), v.clone()));
            } else if let Some(p) = an.strip_prefix("xmlns:") {
                self.scope.push((p.to_owned(), v.clone()));
            }
            raw_attrs.push((an, v));
        }
        let after_tag = self.pos;
        self.pos = name_pos;
        let name = self.resolve(&qname, false)?;
        self.pos = after_tag;
        let el = dom::element(name);
        let mut attrs = Vec::new();
        for (an, v) in raw_attrs {
            self.ticker.tick()?;
            let n = if an == "xmlns" {
                XName::local("xmlns")
            } else if let Some(p) = an.strip_prefix("xmlns:") {
                XName {
                    ns: XMLNS.into(),
                    local: p.to_owned(),
                }
            } else {
                self.resolve(&an, true)?
            };
            let a = dom::attr(n, v);
            dom::awrite(&a).parent = Arc::downgrade(&el);
            attrs.push(a);
        }
        let self_closing = self.starts("/>");
        self.pos += if self_closing { 2 } else { 1 };
        let mut kids = Vec::new();
        if !self_closing {
            loop {
                if self.pos >= self.cs.len() {
                    return self.fail(&format!("Unexpected end of file has occurred. The following elements are not closed: {qname}."));
                }
                if self.starts("</") {
                    self.pos += 2;
                    let end_pos = self.pos;
                    let end = self.name()?;
                    if end != qname {
                        self.pos = end_pos;
                        let (line, col) = self.line_col_at(tag_start);
                        return self.fail(&format!("The '{qname}' start tag on line {line} position {} does not match the end tag of '{end}'.", col + 1));
                    }
                    self.skip_ws();
                    if self.cs.get(self.pos) != Some(&'>') {
                        return self.fail("'>' is expected.");
                    }
                    self.pos += 1;
                    break;
                } else if self.starts("<!--") {
                    kids.push(self.comment()?);
                } else if self.starts("<![CDATA[") {
                    self.pos += 9;
                    kids.push(dom::node(XKind::CData(self.text_until("]]>")?)));
                } else if self.starts("<?") {
                    kids.push(self.pi()?);
                } else if self.starts("<") {
                    kids.push(self.element(depth + 1)?);
                } else {
                    let t = self.chars_until(&['<'])?;
                    if !t.chars().all(char::is_whitespace) {
                        kids.push(dom::node(XKind::Text(t)));
                    }
                }
            }
        }
        self.scope.truncate(mark);
        for k in &kids {
            dom::write(k).parent = Arc::downgrade(&el);
        }
        if let XKind::Element {
            attrs: a,
            children,
            empty,
            ..
        } = &mut dom::write(&el).kind
        {
            *a = attrs;
            *children = kids;
            *empty = self_closing;
        }
        Ok(el)
    }
}
