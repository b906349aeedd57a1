//! A small, strict XML reader for message bodies (`xml-to-json`): elements,
//! attributes, text, CDATA, comments, the XML declaration, the five
//! predefined entities and character references. A DOCTYPE and processing
//! instructions are skipped; white-space-only text between elements is
//! dropped (as `XmlDocument` does without `PreserveWhitespace`).
//!
//! Policy documents have their own tolerant parser (`sluice_engine::xml`);
//! bodies are ordinary XML, so this one refuses what is not well-formed.

/// Deeper nesting than this is refused rather than recursed into.
const MAX_DEPTH: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum XNode {
    Element(XElement),
    Text(String),
    CData(String),
    Comment(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct XElement {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<XNode>,
    /// Written `<x/>` rather than `<x></x>`.
    pub self_closing: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct XDocument {
    /// The pseudo-attributes of `<?xml ...?>`, when there is one.
    pub declaration: Option<Vec<(String, String)>>,
    /// Comments before the root element.
    pub comments: Vec<String>,
    pub root: XElement,
}

/// Parses a whole document; the error says what and where (byte offset).
pub(crate) fn parse(src: &str) -> Result<XDocument, String> {
    let mut p = Parser {
        s: src.strip_prefix('\u{feff}').unwrap_or(src),
        i: 0,
    };
    let mut doc = XDocument::default();
    p.skip_ws();
    if p.rest().starts_with("<?xml") {
        p.i += 5;
        let (attrs, _) = p.attributes("?>")?;
        doc.declaration = Some(attrs);
    }
    loop {
        p.skip_ws();
        let r = p.rest();
        if r.starts_with("<!--") {
            doc.comments.push(p.comment()?);
        } else if r.starts_with("<?") {
            p.until("?>")?;
        } else if r.starts_with("<!DOCTYPE") {
            p.doctype()?;
        } else {
            break;
        }
    }
    if !p.rest().starts_with('<') {
        return Err(p.error("the document has no root element"));
    }
    doc.root = p.element(0)?;
    loop {
        p.skip_ws();
        let r = p.rest();
        if r.is_empty() {
            return Ok(doc);
        } else if r.starts_with("<!--") {
            p.comment()?;
        } else if r.starts_with("<?") {
            p.until("?>")?;
        } else {
            return Err(p.error("content after the root element"));
        }
    }
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        self.s.get(self.i..).unwrap_or_default()
    }

    fn error(&self, what: &str) -> String {
        format!("{what} (at byte {})", self.i)
    }

    fn skip_ws(&mut self) {
        let r = self.rest();
        self.i += r.len() - r.trim_start().len();
    }

    /// Skips past `end`, returning what came before it.
    fn until(&mut self, end: &str) -> Result<String, String> {
        let r = self.rest();
        let Some(at) = r.find(end) else {
            return Err(self.error(&format!("`{end}` is missing")));
        };
        let out = r[..at].to_owned();
        self.i += at + end.len();
        Ok(out)
    }

    fn comment(&mut self) -> Result<String, String> {
        self.i += 4;
        self.until("-->")
    }

    fn doctype(&mut self) -> Result<(), String> {
        let mut depth = 0usize;
        for (k, c) in self.rest().char_indices() {
            match c {
                '[' => depth += 1,
                ']' => depth = depth.saturating_sub(1),
                '>' if depth == 0 => {
                    self.i += k + 1;
                    return Ok(());
                }
                _ => {}
            }
        }
        Err(self.error("the DOCTYPE has no end"))
    }

    fn name(&mut self) -> Result<String, String> {
        let r = self.rest();
        let len = r
            .find(|c: char| c.is_whitespace() || matches!(c, '=' | '>' | '/' | '?' | '<'))
            .unwrap_or(r.len());
        if len == 0 {
            return Err(self.error("a name is expected"));
        }
        let n = r[..len].to_owned();
        self.i += len;
        Ok(n)
    }

    /// Attributes up to `>` , `/>` or `end`; returns them and whether the tag closed itself.
    fn attributes(&mut self, end: &str) -> Result<(Vec<(String, String)>, bool), String> {
        let mut out: Vec<(String, String)> = Vec::new();
        loop {
            self.skip_ws();
            let r = self.rest();
            if let Some(after) = r.strip_prefix(end) {
                self.i = self.s.len() - after.len();
                return Ok((out, false));
            }
            if end == ">" && r.starts_with("/>") {
                self.i += 2;
                return Ok((out, true));
            }
            let name = self.name()?;
            self.skip_ws();
            if !self.rest().starts_with('=') {
                return Err(self.error(&format!("`=` expected after `{name}`")));
            }
            self.i += 1;
            self.skip_ws();
            let Some(q) = self
                .rest()
                .chars()
                .next()
                .filter(|c| *c == '"' || *c == '\'')
            else {
                return Err(self.error("a quoted attribute value is expected"));
            };
            self.i += 1;
            let raw = self.until(if q == '"' { "\"" } else { "'" })?;
            if out.iter().any(|(n, _)| *n == name) {
                return Err(self.error(&format!("attribute `{name}` is given twice")));
            }
            out.push((name, decode(&raw).map_err(|e| self.error(&e))?));
        }
    }

    fn element(&mut self, depth: usize) -> Result<XElement, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("elements are nested too deeply"));
        }
        self.i += 1; // `<`
        let name = self.name()?;
        let (attrs, self_closing) = self.attributes(">")?;
        let mut e = XElement {
            name,
            attrs,
            children: Vec::new(),
            self_closing,
        };
        if self_closing {
            return Ok(e);
        }
        loop {
            let r = self.rest();
            if r.is_empty() {
                return Err(self.error(&format!("`<{}>` is not closed", e.name)));
            } else if let Some(after) = r.strip_prefix("</") {
                self.i = self.s.len() - after.len();
                let close = self.name()?;
                if close != e.name {
                    return Err(self.error(&format!("`</{close}>` closes `<{}>`", e.name)));
                }
                self.skip_ws();
                if !self.rest().starts_with('>') {
                    return Err(self.error("`>` expected"));
                }
                self.i += 1;
                return Ok(e);
            } else if r.starts_with("<!--") {
                let c = self.comment()?;
                e.children.push(XNode::Comment(c));
            } else if r.starts_with("<![CDATA[") {
                self.i += 9;
                let c = self.until("]]>")?;
                e.children.push(XNode::CData(c));
            } else if r.starts_with("<?") {
                self.until("?>")?;
            } else if r.starts_with('<') {
                let child = self.element(depth + 1)?;
                e.children.push(XNode::Element(child));
            } else {
                let len = r.find('<').unwrap_or(r.len());
                let raw = &r[..len];
                let text = decode(raw).map_err(|m| self.error(&m))?;
                self.i += len;
                if !text.trim().is_empty() {
                    e.children.push(XNode::Text(text));
                }
            }
        }
    }
}

/// Decodes entity and character references.
fn decode(raw: &str) -> Result<String, String> {
    if !raw.contains('&') {
        return Ok(raw.to_owned());
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some(end) = after.find(';') else {
            return Err("a `&` that starts no reference".into());
        };
        let name = &after[..end];
        let c = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => {
                let code = if let Some(h) = name.strip_prefix("#x") {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = name.strip_prefix('#') {
                    d.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
            }
        };
        match c {
            Some(c) => out.push(c),
            None => return Err(format!("unknown reference `&{name};`")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Escapes text content.
pub(crate) fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
}

/// Escapes an attribute value (double-quoted).
pub(crate) fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\t' => out.push_str("&#x9;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_document() {
        let d = parse(
            "<?xml version=\"1.0\" encoding='utf-8'?>\n<!-- c --><a x=\"1 &amp; 2\">\n  <b>t&lt;&#65;&#x42;</b><c/><![CDATA[<raw>]]></a>\n",
        )
        .unwrap();
        assert_eq!(
            d.declaration,
            Some(vec![
                ("version".into(), "1.0".into()),
                ("encoding".into(), "utf-8".into())
            ])
        );
        assert_eq!(d.comments, vec![" c ".to_owned()]);
        assert_eq!(d.root.name, "a");
        assert_eq!(d.root.attrs, vec![("x".into(), "1 & 2".into())]);
        assert_eq!(d.root.children.len(), 3, "white space dropped");
        let XNode::Element(b) = &d.root.children[0] else {
            panic!()
        };
        assert_eq!(b.children, vec![XNode::Text("t<AB".into())]);
        assert_eq!(d.root.children[2], XNode::CData("<raw>".into()));
    }

    #[test]
    fn refuses_what_is_not_well_formed() {
        for bad in [
            "",
            "text",
            "<a>",
            "<a></b>",
            "<a x=1/>",
            "<a>&nope;</a>",
            "<a/><b/>",
            "<a x='1' x='2'/>",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = format!("{}{}", "<a>".repeat(300), "</a>".repeat(300));
        assert!(parse(&deep).is_err());
    }
}
