//! The LINQ-to-XML tree: documents, elements, attributes, text, comments,
//! with reference identity and parent links, and `ToString()` as
//! `XmlWriter` writes it (two-space indent unless the element has text
//! content, CRLF line breaks as on the Windows-hosted gateway).

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use crate::core::{RhaiResult, throw};

pub(crate) const NEWLINE: &str = crate::core::NEW_LINE;
pub(crate) const XMLNS: &str = "http://www.w3.org/2000/xmlns/";
pub(crate) const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// Deeper trees are refused, so no recursive walk can exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 256;

/// An expanded name: namespace URI and local name.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct XName {
    pub(crate) ns: String,
    pub(crate) local: String,
}

impl XName {
    pub(crate) fn local(s: &str) -> Self {
        XName {
            ns: String::new(),
            local: s.to_owned(),
        }
    }

    /// `XName.Get("{ns}local")`.
    pub(crate) fn parse(s: &str) -> RhaiResult<Self> {
        if let Some(rest) = s.strip_prefix('{') {
            if let Some((ns, local)) = rest.split_once('}')
                && !local.is_empty()
            {
                return Ok(XName {
                    ns: ns.to_owned(),
                    local: local.to_owned(),
                });
            }
            return throw(
                "XmlException",
                "The '{' character, hexadecimal value 0x7B, cannot be included in a name."
                    .to_string(),
            );
        }
        if s.is_empty() {
            return throw(
                "ArgumentException",
                "The empty string '' is not a valid local name.",
            );
        }
        Ok(XName::local(s))
    }

    pub(crate) fn expanded(&self) -> String {
        if self.ns.is_empty() {
            self.local.clone()
        } else {
            format!("{{{}}}{}", self.ns, self.local)
        }
    }
}

pub(crate) type XLink = Arc<RwLock<XNode>>;
pub(crate) type ALink = Arc<RwLock<Attr>>;

pub(crate) struct Attr {
    pub name: XName,
    pub value: String,
    pub parent: Weak<RwLock<XNode>>,
}

pub(crate) struct XNode {
    pub parent: Weak<RwLock<XNode>>,
    pub kind: XKind,
}

pub(crate) enum XKind {
    Document {
        decl: Option<String>,
        children: Vec<XLink>,
    },
    /// `empty`: written `<a />` (no content at all, as opposed to `<a></a>`).
    Element {
        name: XName,
        attrs: Vec<ALink>,
        children: Vec<XLink>,
        empty: bool,
    },
    Text(String),
    CData(String),
    Comment(String),
    Pi(String, String),
}

pub(crate) fn read(l: &XLink) -> RwLockReadGuard<'_, XNode> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn write(l: &XLink) -> RwLockWriteGuard<'_, XNode> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn aread(a: &ALink) -> RwLockReadGuard<'_, Attr> {
    a.read().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn awrite(a: &ALink) -> RwLockWriteGuard<'_, Attr> {
    a.write().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn node(kind: XKind) -> XLink {
    Arc::new(RwLock::new(XNode {
        parent: Weak::new(),
        kind,
    }))
}

pub(crate) fn element(name: XName) -> XLink {
    node(XKind::Element {
        name,
        attrs: Vec::new(),
        children: Vec::new(),
        empty: true,
    })
}

pub(crate) fn attr(name: XName, value: String) -> ALink {
    Arc::new(RwLock::new(Attr {
        name,
        value,
        parent: Weak::new(),
    }))
}

pub(crate) fn parent(l: &XLink) -> Option<XLink> {
    read(l).parent.upgrade()
}

pub(crate) fn children(l: &XLink) -> Vec<XLink> {
    match &read(l).kind {
        XKind::Document { children, .. } | XKind::Element { children, .. } => children.clone(),
        _ => Vec::new(),
    }
}

pub(crate) fn attrs(l: &XLink) -> Vec<ALink> {
    match &read(l).kind {
        XKind::Element { attrs, .. } => attrs.clone(),
        _ => Vec::new(),
    }
}

pub(crate) fn name(l: &XLink) -> Option<XName> {
    match &read(l).kind {
        XKind::Element { name, .. } => Some(name.clone()),
        _ => None,
    }
}

pub(crate) fn is_element(l: &XLink) -> bool {
    matches!(read(l).kind, XKind::Element { .. })
}

pub(crate) fn child_elements(l: &XLink) -> Vec<XLink> {
    children(l).into_iter().filter(is_element).collect()
}

/// Descendant elements in document order.
pub(crate) fn descendants(l: &XLink, out: &mut Vec<XLink>) {
    for c in child_elements(l) {
        out.push(c.clone());
        descendants(&c, out);
    }
}

/// `XElement.Value`: all descendant text.
pub(crate) fn value(l: &XLink) -> String {
    let mut out = String::new();
    collect_text(l, &mut out);
    out
}

fn collect_text(l: &XLink, out: &mut String) {
    match &read(l).kind {
        XKind::Text(t) | XKind::CData(t) => out.push_str(t),
        XKind::Element { children, .. } | XKind::Document { children, .. } => {
            for c in children {
                collect_text(c, out);
            }
        }
        _ => {}
    }
}

pub(crate) fn deep_clone(l: &XLink) -> XLink {
    let g = read(l);
    let kind = match &g.kind {
        XKind::Document { decl, .. } => XKind::Document {
            decl: decl.clone(),
            children: Vec::new(),
        },
        XKind::Element { name, empty, .. } => XKind::Element {
            name: name.clone(),
            attrs: Vec::new(),
            children: Vec::new(),
            empty: *empty,
        },
        XKind::Text(t) => XKind::Text(t.clone()),
        XKind::CData(t) => XKind::CData(t.clone()),
        XKind::Comment(t) => XKind::Comment(t.clone()),
        XKind::Pi(a, b) => XKind::Pi(a.clone(), b.clone()),
    };
    let copy = node(kind);
    let new_attrs: Vec<ALink> = match &g.kind {
        XKind::Element { attrs, .. } => attrs
            .iter()
            .map(|a| {
                let a = aread(a);
                let c = attr(a.name.clone(), a.value.clone());
                awrite(&c).parent = Arc::downgrade(&copy);
                c
            })
            .collect(),
        _ => Vec::new(),
    };
    let kids: Vec<XLink> = match &g.kind {
        XKind::Document { children, .. } | XKind::Element { children, .. } => {
            children.iter().map(deep_clone).collect()
        }
        _ => Vec::new(),
    };
    drop(g);
    for k in &kids {
        write(k).parent = Arc::downgrade(&copy);
    }
    match &mut write(&copy).kind {
        XKind::Document { children, .. } => *children = kids,
        XKind::Element {
            attrs, children, ..
        } => {
            *attrs = new_attrs;
            *children = kids;
        }
        _ => {}
    }
    copy
}

fn depth_of(l: &XLink) -> usize {
    let mut d = 0;
    let mut cur = parent(l);
    while let Some(p) = cur {
        d += 1;
        cur = parent(&p);
    }
    d
}

fn height(l: &XLink, limit: usize) -> usize {
    if limit == 0 {
        return 0;
    }
    1 + children(l)
        .iter()
        .map(|c| height(c, limit - 1))
        .max()
        .unwrap_or(0)
}

/// Appends (or inserts at `at`) child nodes; a node that has a parent is copied.
pub(crate) fn insert(container: &XLink, at: Option<usize>, items: Vec<XLink>) -> RhaiResult<()> {
    let mut prepared = Vec::with_capacity(items.len());
    for item in items {
        let item = if parent(&item).is_some() || Arc::ptr_eq(&item, container) {
            deep_clone(&item)
        } else {
            item
        };
        if depth_of(container) + 1 + height(&item, MAX_DEPTH + 1) > MAX_DEPTH {
            return throw(
                "InvalidOperationException",
                format!("The XML is nested deeper than {MAX_DEPTH} levels."),
            );
        }
        write(&item).parent = Arc::downgrade(container);
        prepared.push(item);
    }
    let mut g = write(container);
    match &mut g.kind {
        XKind::Document { children, .. } => {
            let is_el = |n: &XLink| matches!(read(n).kind, XKind::Element { .. });
            if prepared.iter().filter(|n| is_el(n)).count()
                + children.iter().filter(|n| is_el(n)).count()
                > 1
            {
                return throw(
                    "InvalidOperationException",
                    "This operation would create an incorrectly structured document.",
                );
            }
            let at = at.unwrap_or(children.len()).min(children.len());
            children.splice(at..at, prepared);
        }
        XKind::Element {
            children, empty, ..
        } => {
            *empty = false;
            let at = at.unwrap_or(children.len()).min(children.len());
            children.splice(at..at, prepared);
            merge_texts(children);
        }
        _ => {}
    }
    Ok(())
}

/// Adjacent text nodes merge, as `XContainer.Add` does with strings.
fn merge_texts(children: &mut Vec<XLink>) {
    let mut i = 1;
    while i < children.len() {
        let (Some(a), Some(b)) = (children.get(i - 1), children.get(i)) else {
            break;
        };
        let merged = match (&read(a).kind, &read(b).kind) {
            (XKind::Text(x), XKind::Text(y)) => Some(format!("{x}{y}")),
            _ => None,
        };
        match merged {
            Some(t) => {
                if let Some(a) = children.get(i - 1) {
                    write(a).kind = XKind::Text(t);
                }
                children.remove(i);
            }
            None => i += 1,
        }
    }
}

/// Removes every child of a document or element at once (one by one, each
/// removal searched the rest: quadratic in the children).
pub(crate) fn detach_all(l: &XLink) {
    let taken = match &mut write(l).kind {
        XKind::Document { children, .. } | XKind::Element { children, .. } => {
            std::mem::take(children)
        }
        _ => Vec::new(),
    };
    for c in &taken {
        write(c).parent = Weak::new();
    }
}

/// Removes a node from its parent; `false` when it has none.
pub(crate) fn detach(l: &XLink) -> bool {
    let Some(p) = parent(l) else { return false };
    if let XKind::Document { children, .. } | XKind::Element { children, .. } = &mut write(&p).kind
    {
        children.retain(|c| !Arc::ptr_eq(c, l));
    }
    write(l).parent = Weak::new();
    true
}

pub(crate) fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push_str(NEWLINE),
            '\r' => {}
            c => out.push(c),
        }
    }
}

pub(crate) fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\t' => out.push_str("&#x9;"),
            c => out.push(c),
        }
    }
}

/// The namespace declarations in scope while writing: (prefix, uri), innermost last.
struct Scope(Vec<(String, String)>);

impl Scope {
    fn prefix_of(&self, ns: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(p, u)| u == ns && self.uri_of(p) == Some(u.as_str()))
            .map(|(p, _)| p.as_str())
    }
    fn uri_of(&self, prefix: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.as_str())
    }
}

/// `ToString()` of any node (`indent` false for `SaveOptions.DisableFormatting`).
pub(crate) fn to_xml(l: &XLink, indent: bool) -> String {
    let mut out = String::new();
    let mut scope = Scope(vec![("xml".into(), XML_NS.into())]);
    if let XKind::Document { children, .. } = &read(l).kind {
        for (i, c) in children.iter().enumerate() {
            if i > 0 && indent {
                out.push_str(NEWLINE);
            }
            write_node(c, indent, 0, &mut scope, &mut out);
        }
        return out;
    }
    // A detached element declares what it inherits from its ancestors.
    let mut ancestors = Vec::new();
    let mut cur = parent(l);
    while let Some(p) = cur {
        cur = parent(&p);
        ancestors.push(p);
    }
    for a in ancestors.iter().rev() {
        for at in attrs(a) {
            if let Some(decl) = ns_decl(&aread(&at)) {
                scope.0.push(decl);
            }
        }
    }
    write_node(l, indent, 0, &mut scope, &mut out);
    out
}

fn ns_decl(a: &Attr) -> Option<(String, String)> {
    if a.name.ns == XMLNS {
        Some((a.name.local.clone(), a.value.clone()))
    } else if a.name.ns.is_empty() && a.name.local == "xmlns" {
        Some((String::new(), a.value.clone()))
    } else {
        None
    }
}

fn newline(out: &mut String, depth: usize) {
    out.push_str(NEWLINE);
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_node(l: &XLink, indent: bool, depth: usize, scope: &mut Scope, out: &mut String) {
    let g = read(l);
    match &g.kind {
        XKind::Text(t) => escape_text(t, out),
        XKind::CData(t) => {
            out.push_str("<![CDATA[");
            out.push_str(t);
            out.push_str("]]>");
        }
        XKind::Comment(t) => {
            out.push_str("<!--");
            out.push_str(t);
            out.push_str("-->");
        }
        XKind::Pi(target, data) => {
            out.push_str(&format!("<?{target} {data}?>"));
        }
        XKind::Document { .. } => {}
        XKind::Element {
            name,
            attrs,
            children,
            empty,
        } => {
            let mark = scope.0.len();
            let mut decls = String::new();
            for a in attrs {
                if let Some(d) = ns_decl(&aread(a)) {
                    scope.0.push(d);
                }
            }
            let tag = match scope.prefix_of(&name.ns) {
                Some("") => name.local.clone(),
                Some(p) => format!("{p}:{}", name.local),
                None if name.ns.is_empty() && scope.uri_of("").unwrap_or("").is_empty() => {
                    name.local.clone()
                }
                None => {
                    decls.push_str(&format!(" xmlns=\"{}\"", {
                        let mut v = String::new();
                        escape_attr(&name.ns, &mut v);
                        v
                    }));
                    scope.0.push((String::new(), name.ns.clone()));
                    name.local.clone()
                }
            };
            out.push('<');
            out.push_str(&tag);
            for a in attrs {
                let a = aread(a);
                out.push(' ');
                if a.name.ns == XMLNS {
                    out.push_str("xmlns:");
                    out.push_str(&a.name.local);
                } else if a.name.ns.is_empty() {
                    out.push_str(&a.name.local);
                } else {
                    let p = match scope.prefix_of(&a.name.ns).filter(|p| !p.is_empty()) {
                        Some(p) => p.to_owned(),
                        None => {
                            let p = format!("p{}", scope.0.len());
                            decls.push_str(&format!(" xmlns:{p}=\"{}\"", a.name.ns));
                            scope.0.push((p.clone(), a.name.ns.clone()));
                            p
                        }
                    };
                    out.push_str(&format!("{p}:{}", a.name.local));
                }
                out.push_str("=\"");
                escape_attr(&a.value, out);
                out.push('"');
            }
            out.push_str(&decls);
            if *empty && children.is_empty() {
                out.push_str(" />");
            } else {
                out.push('>');
                let mixed = children
                    .iter()
                    .any(|c| matches!(read(c).kind, XKind::Text(_) | XKind::CData(_)));
                let pretty = indent && !mixed && !children.is_empty();
                for c in children {
                    if pretty {
                        newline(out, depth + 1);
                    }
                    write_node(c, indent && !mixed, depth + 1, scope, out);
                }
                if pretty {
                    newline(out, depth);
                }
                out.push_str("</");
                out.push_str(&tag);
                out.push('>');
            }
            scope.0.truncate(mark);
        }
    }
}
