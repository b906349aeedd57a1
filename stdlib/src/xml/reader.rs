//! `XmlReader` (forward-only) over a parsed document, enough for the
//! read-until-the-element-then-`XNode.ReadFrom` pattern policies use.
//! The whole input is parsed up front (so malformed XML fails at `Create`),
//! whitespace-only text is not reported, and `NodeType` is the
//! `XmlNodeType` name.

use std::sync::{Arc, PoisonError, RwLock};

use rhai::{Dynamic, Engine, INT, ImmutableString, NativeCallContext};

use super::XElement;
use super::dom::{self, XKind, XLink, XName};
use crate::core::{RhaiResult, throw};

struct Event {
    kind: &'static str,
    name: XName,
    qname: String,
    value: String,
    depth: usize,
    empty: bool,
    node: Option<XLink>,
    /// For an element, the index of the event after its end.
    after: usize,
}

struct State {
    events: Vec<Event>,
    /// `None` before the first `Read`.
    at: Option<usize>,
}

/// `System.Xml.XmlReader`.
#[derive(Clone)]
pub struct XmlReader(Arc<RwLock<State>>);

fn flatten(l: &XLink, depth: usize, out: &mut Vec<Event>) {
    let ev = |kind, value: String| Event {
        kind,
        name: XName::default(),
        qname: String::new(),
        value,
        depth,
        empty: false,
        node: None,
        after: 0,
    };
    match &dom::read(l).kind {
        XKind::Document { children, .. } => {
            for c in children {
                flatten(c, depth, out);
            }
        }
        XKind::Text(t) => out.push(ev("Text", t.clone())),
        XKind::CData(t) => out.push(ev("CDATA", t.clone())),
        XKind::Comment(t) => out.push(ev("Comment", t.clone())),
        XKind::Pi(target, data) => out.push(Event {
            qname: target.clone(),
            name: XName::local(target),
            ..ev("ProcessingInstruction", data.clone())
        }),
        XKind::Element {
            name,
            children,
            empty,
            ..
        } => {
            let qname = qualified(l, name);
            let start = out.len();
            let empty = *empty && children.is_empty();
            out.push(Event {
                name: name.clone(),
                qname: qname.clone(),
                empty,
                node: Some(l.clone()),
                ..ev("Element", String::new())
            });
            for c in children {
                flatten(c, depth + 1, out);
            }
            if !empty {
                out.push(Event {
                    name: name.clone(),
                    qname,
                    ..ev("EndElement", String::new())
                });
            }
            let after = out.len();
            if let Some(e) = out.get_mut(start) {
                e.after = after;
            }
        }
    }
}

/// The prefixed name an element was written with.
fn qualified(l: &XLink, name: &XName) -> String {
    if name.ns.is_empty() {
        return name.local.clone();
    }
    let mut cur = Some(l.clone());
    while let Some(c) = cur {
        for a in dom::attrs(&c) {
            let a = dom::aread(&a);
            if a.value == name.ns && a.name.ns == dom::XMLNS {
                return format!("{}:{}", a.name.local, name.local);
            }
            if a.value == name.ns && a.name.ns.is_empty() && a.name.local == "xmlns" {
                return name.local.clone();
            }
        }
        cur = dom::parent(&c);
    }
    name.local.clone()
}

impl XmlReader {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.0.write().unwrap_or_else(PoisonError::into_inner))
    }

    fn current<T>(&self, f: impl FnOnce(Option<&Event>) -> T) -> T {
        self.with(|s| f(s.at.and_then(|i| s.events.get(i))))
    }
}

fn create(ctx: &NativeCallContext, input: Dynamic) -> RhaiResult<XmlReader> {
    let text = if input.is_string() {
        input.into_immutable_string().unwrap_or_default()
    } else if input.is_unit() {
        return throw(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'input')",
        );
    } else {
        ctx.call_native_fn::<ImmutableString>("ReadToEnd", (input,))?
    };
    let doc = super::parse::parse_document(&text)?;
    let mut events = Vec::new();
    if let XKind::Document { decl: Some(d), .. } = &dom::read(&doc).kind {
        let value = d
            .trim_start_matches("<?xml")
            .trim_end_matches("?>")
            .trim()
            .to_owned();
        events.push(Event {
            kind: "XmlDeclaration",
            name: XName::local("xml"),
            qname: "xml".into(),
            value,
            depth: 0,
            empty: false,
            node: None,
            after: 1,
        });
    }
    flatten(&doc, 0, &mut events);
    Ok(XmlReader(Arc::new(RwLock::new(State { events, at: None }))))
}

fn read(r: &XmlReader) -> bool {
    r.with(|s| {
        let next = s.at.map_or(0, |i| i + 1).min(s.events.len());
        s.at = Some(next);
        next < s.events.len()
    })
}

fn is_content(kind: &str) -> bool {
    matches!(kind, "Element" | "Text" | "CDATA" | "EndElement")
}

fn move_to_content(r: &XmlReader) -> ImmutableString {
    loop {
        let kind = r.current(|e| e.map(|e| e.kind));
        match kind {
            Some(k) if is_content(k) => return k.into(),
            None if r.with(|s| s.at.is_some()) => return "None".into(),
            _ => {
                if !read(r) {
                    return "None".into();
                }
            }
        }
    }
}

/// `XNode.ReadFrom(reader)`: the element under the reader, which moves past it.
fn read_from(r: &XmlReader) -> RhaiResult<Dynamic> {
    let found = r.with(|s| {
        let ev = s.at.and_then(|i| s.events.get(i))?;
        let node = ev.node.clone()?;
        s.at = Some(ev.after);
        Some(node)
    });
    match found {
        Some(n) => Ok(Dynamic::from(XElement(dom::deep_clone(&n)))),
        None => throw(
            "InvalidOperationException",
            "The XmlReader should not be on a node of type None.",
        ),
    }
}

fn text_of(r: &XmlReader, name: &str) -> RhaiResult<String> {
    let node = r.current(|e| {
        e.filter(|e| e.kind == "Element")
            .and_then(|e| e.node.clone())
    });
    let Some(node) = node else {
        return throw(
            "XmlException",
            format!(
                "{name} method is not supported on node type {}.",
                r.current(|e| e.map_or("None", |e| e.kind))
            ),
        );
    };
    let text = dom::value(&node);
    let _ = read_from(r)?;
    Ok(text)
}

pub(crate) fn register(e: &mut Engine) {
    e.register_type_with_name::<XmlReader>("XmlReader")
        .register_fn(
            "XmlReader__Create",
            |ctx: NativeCallContext, input: Dynamic| create(&ctx, input),
        )
        .register_fn(
            "XmlReader__Create",
            |ctx: NativeCallContext, input: Dynamic, _settings: Dynamic| create(&ctx, input),
        )
        .register_fn("Read", |r: XmlReader| read(&r))
        .register_fn("MoveToContent", |r: XmlReader| move_to_content(&r))
        .register_fn("Skip", |r: XmlReader| {
            let after = r.current(|e| e.filter(|e| e.kind == "Element").map(|e| e.after));
            match after {
                Some(a) => r.with(|s| s.at = Some(a)),
                None => {
                    read(&r);
                }
            }
        })
        .register_fn("ReadToFollowing", |r: XmlReader, name: ImmutableString| {
            while read(&r) {
                if r.current(|e| {
                    e.is_some_and(|e| {
                        e.kind == "Element"
                            && (e.qname == name.as_str() || e.name.local == name.as_str())
                    })
                }) {
                    return true;
                }
            }
            false
        })
        .register_fn("ReadElementContentAsString", |r: XmlReader| {
            text_of(&r, "ReadElementContentAsString")
        })
        .register_fn("ReadElementString", |r: XmlReader| {
            text_of(&r, "ReadElementString")
        })
        .register_fn("ReadInnerXml", |r: XmlReader| -> RhaiResult<String> {
            let node = r.current(|e| e.and_then(|e| e.node.clone()));
            let Some(node) = node else {
                return Ok(String::new());
            };
            let inner: String = dom::children(&node)
                .iter()
                .map(|c| dom::to_xml(c, false))
                .collect();
            let _ = read_from(&r)?;
            Ok(inner)
        })
        .register_fn("ReadOuterXml", |r: XmlReader| -> RhaiResult<String> {
            let node = r.current(|e| e.and_then(|e| e.node.clone()));
            let Some(node) = node else {
                return Ok(String::new());
            };
            let _ = read_from(&r)?;
            Ok(dom::to_xml(&node, false))
        })
        .register_fn(
            "GetAttribute",
            |r: XmlReader, name: ImmutableString| -> Dynamic {
                let node = r.current(|e| e.and_then(|e| e.node.clone()));
                node.and_then(|n| {
                    dom::attrs(&n).into_iter().find(|a| {
                        let a = dom::aread(a);
                        a.name.local == name.as_str() && a.name.ns.is_empty()
                            || a.name.expanded() == name.as_str()
                    })
                })
                .map_or(Dynamic::UNIT, |a| {
                    Dynamic::from(dom::aread(&a).value.clone())
                })
            },
        )
        .register_get("EOF", |r: &mut XmlReader| {
            r.with(|s| s.at.is_some_and(|i| i >= s.events.len()))
        })
        .register_get("Name", |r: &mut XmlReader| {
            r.current(|e| e.map(|e| e.qname.clone()).unwrap_or_default())
        })
        .register_get("LocalName", |r: &mut XmlReader| {
            r.current(|e| e.map(|e| e.name.local.clone()).unwrap_or_default())
        })
        .register_get("NamespaceURI", |r: &mut XmlReader| {
            r.current(|e| e.map(|e| e.name.ns.clone()).unwrap_or_default())
        })
        .register_get("Prefix", |r: &mut XmlReader| {
            r.current(|e| {
                e.and_then(|e| e.qname.split_once(':').map(|(p, _)| p.to_owned()))
                    .unwrap_or_default()
            })
        })
        .register_get("Value", |r: &mut XmlReader| {
            r.current(|e| e.map(|e| e.value.clone()).unwrap_or_default())
        })
        .register_get("HasValue", |r: &mut XmlReader| {
            r.current(|e| e.is_some_and(|e| !matches!(e.kind, "Element" | "EndElement")))
        })
        .register_get("NodeType", |r: &mut XmlReader| {
            ImmutableString::from(r.current(|e| e.map_or("None", |e| e.kind)))
        })
        .register_get("Depth", |r: &mut XmlReader| {
            r.current(|e| e.map_or(0, |e| e.depth as INT))
        })
        .register_get("IsEmptyElement", |r: &mut XmlReader| {
            r.current(|e| e.is_some_and(|e| e.empty))
        })
        .register_get("IsStartElement", |r: &mut XmlReader| {
            r.current(|e| e.is_some_and(|e| e.kind == "Element"))
        })
        .register_fn("IsStartElement", |r: XmlReader| {
            move_to_content(&r) == "Element"
        })
        .register_fn("Dispose", |_: XmlReader| ())
        .register_fn("Close", |r: XmlReader| {
            r.with(|s| s.at = Some(s.events.len()))
        })
        .register_fn("XNode__ReadFrom", |r: XmlReader| read_from(&r))
        .register_fn("XElement__ReadFrom", |r: XmlReader| read_from(&r));
    for name in [
        "None",
        "Element",
        "Attribute",
        "Text",
        "CDATA",
        "EntityReference",
        "Entity",
        "ProcessingInstruction",
        "Comment",
        "Document",
        "DocumentType",
        "DocumentFragment",
        "Notation",
        "Whitespace",
        "SignificantWhitespace",
        "EndElement",
        "EndEntity",
        "XmlDeclaration",
    ] {
        let v = ImmutableString::from(name);
        e.register_fn(format!("XmlNodeType__{name}"), move || v.clone());
    }
}
