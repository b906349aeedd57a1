//! The members of XDocument, XElement, XAttribute and the leaf nodes.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, INT, ImmutableString, NativeCallContext};

use super::dom::{self, ALink, XKind, XLink, XName};
use super::names::{to_name, xml_text};
use super::{
    XAttribute, XComment, XDocument, XElement, XProcessingInstruction, XText, link_of, wrap,
    wrap_opt,
};
use crate::core::{RhaiResult, throw};

/// Content for `Add` and the constructors: nodes, attributes, text, flattened arrays.
fn content(
    ctx: &NativeCallContext,
    v: Dynamic,
    nodes: &mut Vec<XLink>,
    attrs: &mut Vec<ALink>,
) -> RhaiResult<()> {
    if v.is_unit() {
        return Ok(());
    }
    if let Some(a) = v.read_lock::<XAttribute>() {
        let g = dom::aread(&a.0);
        let a = if g.parent.upgrade().is_some() {
            dom::attr(g.name.clone(), g.value.clone())
        } else {
            a.0.clone()
        };
        attrs.push(a);
        return Ok(());
    }
    if v.is::<XDocument>() {
        return throw(
            "ArgumentException",
            "An XDocument cannot be added as content.",
        );
    }
    if let Some(l) = link_of(&v) {
        nodes.push(l);
        return Ok(());
    }
    if v.is_array() {
        for item in v.into_array().unwrap_or_default() {
            content(ctx, item, nodes, attrs)?;
        }
        return Ok(());
    }
    if !v.is_string()
        && !v.is_int()
        && !v.is_float()
        && !v.is_bool()
        && !v.is_char()
        && let Ok(items) = ctx.call_native_fn::<Array>("__items", (v.clone(),))
    {
        for item in items {
            content(ctx, item, nodes, attrs)?;
        }
        return Ok(());
    }
    nodes.push(dom::node(XKind::Text(xml_text(ctx, &v)?)));
    Ok(())
}

fn add_to(ctx: &NativeCallContext, l: &XLink, args: Vec<Dynamic>, first: bool) -> RhaiResult<()> {
    let (mut nodes, mut attrs) = (Vec::new(), Vec::new());
    for a in args {
        content(ctx, a, &mut nodes, &mut attrs)?;
    }
    for a in attrs {
        let name = dom::aread(&a).name.clone();
        if !dom::is_element(l) {
            return throw(
                "ArgumentException",
                "An attribute cannot be added to content.",
            );
        }
        if dom::attrs(l).iter().any(|x| dom::aread(x).name == name) {
            return throw("InvalidOperationException", "Duplicate attribute.");
        }
        dom::awrite(&a).parent = Arc::downgrade(l);
        if let XKind::Element { attrs, .. } = &mut dom::write(l).kind {
            attrs.push(a);
        }
    }
    if !nodes.is_empty() {
        dom::insert(l, if first { Some(0) } else { None }, nodes)?;
    }
    Ok(())
}

fn named(items: Vec<XLink>, name: Option<&XName>) -> Array {
    items
        .into_iter()
        .filter(|e| name.is_none_or(|n| dom::name(e).as_ref() == Some(n)))
        .map(wrap)
        .collect()
}

fn descendants(l: &XLink) -> Vec<XLink> {
    let mut out = Vec::new();
    dom::descendants(l, &mut out);
    out
}

fn attribute(l: &XLink, n: &XName) -> Option<ALink> {
    dom::attrs(l).into_iter().find(|a| dom::aread(a).name == *n)
}

fn set_value(ctx: &NativeCallContext, l: &XLink, v: &Dynamic) -> RhaiResult<()> {
    if v.is_unit() {
        return throw(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'value')",
        );
    }
    let text = xml_text(ctx, v)?;
    dom::detach_all(l);
    if let XKind::Element { empty, .. } = &mut dom::write(l).kind {
        *empty = false;
    }
    if !text.is_empty() {
        dom::insert(l, None, vec![dom::node(XKind::Text(text))])?;
    }
    Ok(())
}

fn set_attribute(ctx: &NativeCallContext, l: &XLink, n: &Dynamic, v: &Dynamic) -> RhaiResult<()> {
    let n = to_name(n)?;
    match attribute(l, &n) {
        Some(a) if v.is_unit() => {
            if let XKind::Element { attrs, .. } = &mut dom::write(l).kind {
                attrs.retain(|x| !Arc::ptr_eq(x, &a));
            }
        }
        Some(a) => dom::awrite(&a).value = xml_text(ctx, v)?,
        None if v.is_unit() => {}
        None => add_to(
            ctx,
            l,
            vec![Dynamic::from(XAttribute(dom::attr(n, xml_text(ctx, v)?)))],
            false,
        )?,
    }
    Ok(())
}

fn parse_arg(s: &Dynamic) -> RhaiResult<ImmutableString> {
    match s.clone().into_immutable_string() {
        Ok(s) => Ok(s),
        Err(_) => throw(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'text')",
        ),
    }
}

fn new_element(
    ctx: &NativeCallContext,
    name: &Dynamic,
    args: Vec<Dynamic>,
) -> RhaiResult<XElement> {
    if let Some(other) = name.read_lock::<XElement>() {
        return Ok(XElement(dom::deep_clone(&other.0)));
    }
    let el = dom::element(to_name(name)?);
    add_to(ctx, &el, args, false)?;
    Ok(XElement(el))
}

macro_rules! containers {
    ($e:ident, $($t:ty),*) => {$(
        $e.register_fn("Element", |x: $t, n: Dynamic| -> RhaiResult<Dynamic> {
            let n = to_name(&n)?;
            Ok(wrap_opt(dom::child_elements(&x.0).into_iter().find(|c| dom::name(c).as_ref() == Some(&n))))
        })
        .register_fn("Elements", |x: $t| named(dom::child_elements(&x.0), None))
        .register_fn("Elements", |x: $t, n: Dynamic| -> RhaiResult<Array> { Ok(named(dom::child_elements(&x.0), Some(&to_name(&n)?))) })
        .register_fn("Descendants", |x: $t| named(descendants(&x.0), None))
        .register_fn("Descendants", |x: $t, n: Dynamic| -> RhaiResult<Array> { Ok(named(descendants(&x.0), Some(&to_name(&n)?))) })
        .register_fn("Nodes", |x: $t| dom::children(&x.0).into_iter().map(wrap).collect::<Array>())
        .register_get("FirstNode", |x: &mut $t| wrap_opt(dom::children(&x.0).first().cloned()))
        .register_get("LastNode", |x: &mut $t| wrap_opt(dom::children(&x.0).last().cloned()))
        .register_fn("Add", |ctx: NativeCallContext, x: $t, a: Dynamic| add_to(&ctx, &x.0, vec![a], false))
        .register_fn("Add", |ctx: NativeCallContext, x: $t, a: Dynamic, b: Dynamic| add_to(&ctx, &x.0, vec![a, b], false))
        .register_fn("Add", |ctx: NativeCallContext, x: $t, a: Dynamic, b: Dynamic, c: Dynamic| add_to(&ctx, &x.0, vec![a, b, c], false))
        .register_fn("AddFirst", |ctx: NativeCallContext, x: $t, a: Dynamic| add_to(&ctx, &x.0, vec![a], true))
        .register_fn("RemoveNodes", |x: $t| {
            dom::detach_all(&x.0);
        })
        .register_fn("ToString", |x: &mut $t| dom::to_xml(&x.0, true))
        .register_fn("ToString", |x: &mut $t, options: INT| dom::to_xml(&x.0, options & 1 == 0))
        .register_fn("==", |x: $t, o: Dynamic| link_of(&o).is_some_and(|o| Arc::ptr_eq(&x.0, &o)))
        .register_fn("!=", |x: $t, o: Dynamic| !link_of(&o).is_some_and(|o| Arc::ptr_eq(&x.0, &o)));
    )*};
}

macro_rules! nodes {
    ($e:ident, $($t:ty),*) => {$(
        $e.register_get("Parent", |x: &mut $t| wrap_opt(dom::parent(&x.0).filter(dom::is_element)))
        .register_get("Document", |x: &mut $t| {
            let mut cur = x.0.clone();
            while let Some(p) = dom::parent(&cur) {
                cur = p;
            }
            if dom::is_element(&cur) || Arc::ptr_eq(&cur, &x.0) { Dynamic::UNIT } else { wrap(cur) }
        })
        .register_get("NextNode", |x: &mut $t| sibling(&x.0, 1))
        .register_get("PreviousNode", |x: &mut $t| sibling(&x.0, -1))
        .register_fn("Remove", |x: $t| -> RhaiResult<()> {
            if dom::detach(&x.0) { Ok(()) } else { throw("InvalidOperationException", "The parent is missing.") }
        })
        .register_fn("Ancestors", |x: $t| {
            let mut out = Array::new();
            let mut cur = dom::parent(&x.0);
            while let Some(p) = cur.filter(dom::is_element) {
                cur = dom::parent(&p);
                out.push(wrap(p));
            }
            out
        });
    )*};
}

fn sibling(l: &XLink, offset: isize) -> Dynamic {
    let Some(p) = dom::parent(l) else {
        return Dynamic::UNIT;
    };
    let kids = dom::children(&p);
    let Some(i) = kids.iter().position(|c| Arc::ptr_eq(c, l)) else {
        return Dynamic::UNIT;
    };
    wrap_opt(
        i.checked_add_signed(offset)
            .and_then(|j| kids.get(j))
            .cloned(),
    )
}

fn leaf_text(l: &XLink) -> String {
    match &dom::read(l).kind {
        XKind::Text(t) | XKind::CData(t) | XKind::Comment(t) => t.clone(),
        XKind::Pi(_, d) => d.clone(),
        _ => String::new(),
    }
}

fn register_element(e: &mut Engine) {
    e.register_fn("XElement__new", |ctx: NativeCallContext, n: Dynamic| {
        new_element(&ctx, &n, vec![])
    })
    .register_fn(
        "XElement__new",
        |ctx: NativeCallContext, n: Dynamic, a: Dynamic| new_element(&ctx, &n, vec![a]),
    )
    .register_fn(
        "XElement__new",
        |ctx: NativeCallContext, n: Dynamic, a: Dynamic, b: Dynamic| {
            new_element(&ctx, &n, vec![a, b])
        },
    )
    .register_fn(
        "XElement__new",
        |ctx: NativeCallContext, n: Dynamic, a: Dynamic, b: Dynamic, c: Dynamic| {
            new_element(&ctx, &n, vec![a, b, c])
        },
    )
    .register_fn(
        "XElement__new",
        |ctx: NativeCallContext, n: Dynamic, a: Dynamic, b: Dynamic, c: Dynamic, d: Dynamic| {
            new_element(&ctx, &n, vec![a, b, c, d])
        },
    )
    .register_fn(
        "XElement__new",
        |ctx: NativeCallContext,
         n: Dynamic,
         a: Dynamic,
         b: Dynamic,
         c: Dynamic,
         d: Dynamic,
         f: Dynamic| { new_element(&ctx, &n, vec![a, b, c, d, f]) },
    )
    .register_fn("XElement__Parse", |s: Dynamic| -> RhaiResult<XElement> {
        Ok(XElement(super::parse::parse_element(&parse_arg(&s)?)?))
    })
    .register_get("Name", |x: &mut XElement| {
        dom::name(&x.0).unwrap_or_default()
    })
    .register_set("Name", |x: &mut XElement, n: Dynamic| -> RhaiResult<()> {
        let n = to_name(&n)?;
        if let XKind::Element { name, .. } = &mut dom::write(&x.0).kind {
            *name = n;
        }
        Ok(())
    })
    .register_get("Value", |x: &mut XElement| dom::value(&x.0))
    .register_set(
        "Value",
        |ctx: NativeCallContext, x: &mut XElement, v: Dynamic| set_value(&ctx, &x.0, &v),
    )
    .register_fn(
        "SetValue",
        |ctx: NativeCallContext, x: XElement, v: Dynamic| set_value(&ctx, &x.0, &v),
    )
    .register_fn(
        "Attribute",
        |x: XElement, n: Dynamic| -> RhaiResult<Dynamic> {
            Ok(attribute(&x.0, &to_name(&n)?)
                .map_or(Dynamic::UNIT, |a| Dynamic::from(XAttribute(a))))
        },
    )
    .register_fn("Attributes", |x: XElement| {
        dom::attrs(&x.0)
            .into_iter()
            .map(|a| Dynamic::from(XAttribute(a)))
            .collect::<Array>()
    })
    .register_fn(
        "Attributes",
        |x: XElement, n: Dynamic| -> RhaiResult<Array> {
            Ok(attribute(&x.0, &to_name(&n)?)
                .into_iter()
                .map(|a| Dynamic::from(XAttribute(a)))
                .collect())
        },
    )
    .register_fn(
        "SetAttributeValue",
        |ctx: NativeCallContext, x: XElement, n: Dynamic, v: Dynamic| {
            set_attribute(&ctx, &x.0, &n, &v)
        },
    )
    .register_fn(
        "SetElementValue",
        |ctx: NativeCallContext, x: XElement, n: Dynamic, v: Dynamic| -> RhaiResult<()> {
            let n = to_name(&n)?;
            let existing = dom::child_elements(&x.0)
                .into_iter()
                .find(|c| dom::name(c).as_ref() == Some(&n));
            match existing {
                Some(c) if v.is_unit() => {
                    dom::detach(&c);
                    Ok(())
                }
                Some(c) => set_value(&ctx, &c, &v),
                None if v.is_unit() => Ok(()),
                None => {
                    let c = dom::element(n);
                    set_value(&ctx, &c, &v)?;
                    dom::insert(&x.0, None, vec![c])
                }
            }
        },
    )
    .register_fn("RemoveAttributes", |x: XElement| {
        if let XKind::Element { attrs, .. } = &mut dom::write(&x.0).kind {
            attrs.clear();
        }
    })
    .register_fn("RemoveAll", |x: XElement| {
        dom::detach_all(&x.0);
        if let XKind::Element { attrs, .. } = &mut dom::write(&x.0).kind {
            attrs.clear();
        }
    })
    .register_fn(
        "ReplaceWith",
        |ctx: NativeCallContext, x: XElement, v: Dynamic| -> RhaiResult<()> {
            let Some(p) = dom::parent(&x.0) else {
                return throw("InvalidOperationException", "The parent is missing.");
            };
            let at = dom::children(&p)
                .iter()
                .position(|c| Arc::ptr_eq(c, &x.0))
                .unwrap_or(0);
            let (mut nodes, mut attrs) = (Vec::new(), Vec::new());
            content(&ctx, v, &mut nodes, &mut attrs)?;
            dom::detach(&x.0);
            dom::insert(&p, Some(at), nodes)
        },
    )
    .register_fn("DescendantsAndSelf", |x: XElement| {
        let mut all = vec![x.0.clone()];
        dom::descendants(&x.0, &mut all);
        named(all, None)
    })
    .register_get("HasElements", |x: &mut XElement| {
        !dom::child_elements(&x.0).is_empty()
    })
    .register_get("HasAttributes", |x: &mut XElement| {
        !dom::attrs(&x.0).is_empty()
    })
    .register_get("IsEmpty", |x: &mut XElement| {
        matches!(dom::read(&x.0).kind, XKind::Element { empty: true, .. })
            && dom::children(&x.0).is_empty()
    })
    .register_get("FirstAttribute", |x: &mut XElement| {
        dom::attrs(&x.0)
            .into_iter()
            .next()
            .map_or(Dynamic::UNIT, |a| Dynamic::from(XAttribute(a)))
    })
    .register_get("NodeType", |_: &mut XElement| {
        ImmutableString::from("Element")
    })
    .register_fn(
        "GetNamespaceOfPrefix",
        |x: XElement, p: ImmutableString| -> Dynamic {
            let mut cur = Some(x.0.clone());
            while let Some(c) = cur {
                for a in dom::attrs(&c) {
                    let a = dom::aread(&a);
                    if a.name.ns == dom::XMLNS && a.name.local == p.as_str() {
                        return Dynamic::from(super::XNamespace(a.value.clone()));
                    }
                }
                cur = dom::parent(&c).filter(dom::is_element);
            }
            if p == "xml" {
                Dynamic::from(super::XNamespace(dom::XML_NS.into()))
            } else {
                Dynamic::UNIT
            }
        },
    );
}

fn register_document(e: &mut Engine) {
    e.register_fn("XDocument__new", || {
        XDocument(dom::node(XKind::Document {
            decl: None,
            children: Vec::new(),
        }))
    })
    .register_fn(
        "XDocument__new",
        |ctx: NativeCallContext, a: Dynamic| -> RhaiResult<XDocument> {
            if let Some(d) = a.read_lock::<XDocument>() {
                return Ok(XDocument(dom::deep_clone(&d.0)));
            }
            let d = dom::node(XKind::Document {
                decl: None,
                children: Vec::new(),
            });
            add_to(&ctx, &d, vec![a], false)?;
            Ok(XDocument(d))
        },
    )
    .register_fn("XDocument__Parse", |s: Dynamic| -> RhaiResult<XDocument> {
        Ok(XDocument(super::parse::parse_document(&parse_arg(&s)?)?))
    })
    .register_fn(
        "XDocument__Parse",
        |s: Dynamic, _options: INT| -> RhaiResult<XDocument> {
            Ok(XDocument(super::parse::parse_document(&parse_arg(&s)?)?))
        },
    )
    .register_get("Root", |d: &mut XDocument| {
        wrap_opt(dom::child_elements(&d.0).into_iter().next())
    })
    .register_get("NodeType", |_: &mut XDocument| {
        ImmutableString::from("Document")
    });
}

fn register_attribute(e: &mut Engine) {
    e.register_fn(
        "XAttribute__new",
        |ctx: NativeCallContext, n: Dynamic, v: Dynamic| -> RhaiResult<XAttribute> {
            if v.is_unit() {
                return throw(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 'value')",
                );
            }
            Ok(XAttribute(dom::attr(to_name(&n)?, xml_text(&ctx, &v)?)))
        },
    )
    .register_get("Name", |a: &mut XAttribute| dom::aread(&a.0).name.clone())
    .register_get("Value", |a: &mut XAttribute| dom::aread(&a.0).value.clone())
    .register_set(
        "Value",
        |ctx: NativeCallContext, a: &mut XAttribute, v: Dynamic| -> RhaiResult<()> {
            if v.is_unit() {
                return throw(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 'value')",
                );
            }
            dom::awrite(&a.0).value = xml_text(&ctx, &v)?;
            Ok(())
        },
    )
    .register_fn(
        "SetValue",
        |ctx: NativeCallContext, a: XAttribute, v: Dynamic| -> RhaiResult<()> {
            dom::awrite(&a.0).value = xml_text(&ctx, &v)?;
            Ok(())
        },
    )
    .register_get("Parent", |a: &mut XAttribute| {
        wrap_opt(dom::aread(&a.0).parent.upgrade())
    })
    .register_get("IsNamespaceDeclaration", |a: &mut XAttribute| {
        let g = dom::aread(&a.0);
        g.name.ns == dom::XMLNS || (g.name.ns.is_empty() && g.name.local == "xmlns")
    })
    .register_get("NodeType", |_: &mut XAttribute| {
        ImmutableString::from("Attribute")
    })
    .register_fn("Remove", |a: XAttribute| -> RhaiResult<()> {
        let Some(p) = dom::aread(&a.0).parent.upgrade() else {
            return throw("InvalidOperationException", "The parent is missing.");
        };
        if let XKind::Element { attrs, .. } = &mut dom::write(&p).kind {
            attrs.retain(|x| !Arc::ptr_eq(x, &a.0));
        }
        dom::awrite(&a.0).parent = std::sync::Weak::new();
        Ok(())
    })
    .register_fn("ToString", |a: &mut XAttribute| {
        let g = dom::aread(&a.0);
        let name = if g.name.ns == dom::XMLNS {
            format!("xmlns:{}", g.name.local)
        } else {
            g.name.local.clone()
        };
        let mut v = String::new();
        dom::escape_attr(&g.value, &mut v);
        format!("{name}=\"{v}\"")
    })
    .register_fn("==", |a: XAttribute, o: Dynamic| {
        o.read_lock::<XAttribute>()
            .is_some_and(|o| Arc::ptr_eq(&a.0, &o.0))
    })
    .register_fn("!=", |a: XAttribute, o: Dynamic| {
        !o.read_lock::<XAttribute>()
            .is_some_and(|o| Arc::ptr_eq(&a.0, &o.0))
    });
}

fn register_leaves(e: &mut Engine) {
    e.register_fn("XText__new", |s: ImmutableString| {
        XText(dom::node(XKind::Text(s.to_string())))
    })
    .register_fn("XCData__new", |s: ImmutableString| {
        XText(dom::node(XKind::CData(s.to_string())))
    })
    .register_fn("XComment__new", |s: ImmutableString| {
        XComment(dom::node(XKind::Comment(s.to_string())))
    })
    .register_get("Value", |x: &mut XText| leaf_text(&x.0))
    .register_get("Value", |x: &mut XComment| leaf_text(&x.0))
    .register_get("Data", |x: &mut XProcessingInstruction| leaf_text(&x.0))
    .register_get("NodeType", |x: &mut XText| {
        ImmutableString::from(if matches!(dom::read(&x.0).kind, XKind::CData(_)) {
            "CDATA"
        } else {
            "Text"
        })
    })
    .register_get("NodeType", |_: &mut XComment| {
        ImmutableString::from("Comment")
    })
    .register_fn("ToString", |x: &mut XText| dom::to_xml(&x.0, true))
    .register_fn("ToString", |x: &mut XComment| dom::to_xml(&x.0, true))
    .register_fn("ToString", |x: &mut XProcessingInstruction| {
        dom::to_xml(&x.0, true)
    })
    .register_fn("==", |x: XText, o: Dynamic| {
        link_of(&o).is_some_and(|o| Arc::ptr_eq(&x.0, &o))
    })
    .register_fn("==", |x: XComment, o: Dynamic| {
        link_of(&o).is_some_and(|o| Arc::ptr_eq(&x.0, &o))
    });
}

pub(crate) fn register(e: &mut Engine) {
    containers!(e, XElement, XDocument);
    nodes!(e, XElement, XText, XComment, XProcessingInstruction);
    register_element(e);
    register_document(e);
    register_attribute(e);
    register_leaves(e);
}
