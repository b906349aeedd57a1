//! The JToken tree: nodes with reference identity and parent links, as
//! Newtonsoft keeps them. A JObject holds JProperty nodes, a JProperty holds
//! one value node, a JArray holds its items; every child points back at its
//! container. Adding a token that already has a parent (or is the root of the
//! container it is added to) adds a deep copy, so the tree never has cycles.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use indexmap::IndexMap;
use rhai::Dynamic;

use crate::core::{RhaiResult, throw};

/// Deeper trees than this are refused (parsing, copying, writing), so no
/// recursion can exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 256;

pub(crate) type Link = Arc<RwLock<Node>>;

pub(crate) struct Node {
    pub parent: Weak<RwLock<Node>>,
    pub kind: Kind,
}

pub(crate) enum Kind {
    /// Property name → JProperty node, in document order.
    Object(IndexMap<String, Link>),
    Array(Vec<Link>),
    Property(String, Link),
    Value(Val),
}

/// The value of a JValue.
#[derive(Clone, Debug)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    /// A .NET value JSON has no literal for (DateTime, Guid, TimeSpan, Uri,
    /// Decimal), with its JTokenType name.
    Other(Dynamic, &'static str),
}

pub(crate) fn read(l: &Link) -> RwLockReadGuard<'_, Node> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn write(l: &Link) -> RwLockWriteGuard<'_, Node> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn node(kind: Kind) -> Link {
    Arc::new(RwLock::new(Node {
        parent: Weak::new(),
        kind,
    }))
}

pub(crate) fn value(v: Val) -> Link {
    node(Kind::Value(v))
}

pub(crate) fn object() -> Link {
    node(Kind::Object(IndexMap::new()))
}

pub(crate) fn array() -> Link {
    node(Kind::Array(Vec::new()))
}

/// A JProperty node whose value is already adopted by nobody else.
pub(crate) fn property(name: String, v: Link) -> Link {
    let p = node(Kind::Property(name, v.clone()));
    write(&v).parent = Arc::downgrade(&p);
    p
}

/// The JTokenType name.
pub(crate) fn token_type(l: &Link) -> &'static str {
    match &read(l).kind {
        Kind::Object(_) => "Object",
        Kind::Array(_) => "Array",
        Kind::Property(..) => "Property",
        Kind::Value(v) => val_type(v),
    }
}

pub(crate) fn val_type(v: &Val) -> &'static str {
    match v {
        Val::Null => "Null",
        Val::Bool(_) => "Boolean",
        Val::Int(_) => "Integer",
        Val::Float(_) => "Float",
        Val::Str(_) => "String",
        Val::Bytes(_) => "Bytes",
        Val::Other(_, t) => t,
    }
}

pub(crate) fn parent(l: &Link) -> Option<Link> {
    read(l).parent.upgrade()
}

pub(crate) fn root(l: &Link) -> Link {
    let mut cur = l.clone();
    while let Some(p) = parent(&cur) {
        cur = p;
    }
    cur
}

/// The child tokens: properties of an object, items of an array, the value
/// of a property.
pub(crate) fn children(l: &Link) -> Vec<Link> {
    match &read(l).kind {
        Kind::Object(m) => m.values().cloned().collect(),
        Kind::Array(v) => v.clone(),
        Kind::Property(_, v) => vec![v.clone()],
        Kind::Value(_) => Vec::new(),
    }
}

pub(crate) fn is_container(l: &Link) -> bool {
    !matches!(read(l).kind, Kind::Value(_))
}

pub(crate) fn deep_clone(l: &Link) -> RhaiResult<Link> {
    clone_at(l, 0)
}

fn clone_at(l: &Link, depth: usize) -> RhaiResult<Link> {
    if depth > MAX_DEPTH {
        return throw(
            "JsonException",
            format!("The JSON is nested deeper than {MAX_DEPTH} levels."),
        );
    }
    let g = read(l);
    Ok(match &g.kind {
        Kind::Value(v) => value(v.clone()),
        Kind::Property(name, v) => property(name.clone(), clone_at(v, depth + 1)?),
        Kind::Array(items) => {
            let a = array();
            let copies = items
                .iter()
                .map(|i| clone_at(i, depth + 1))
                .collect::<RhaiResult<Vec<_>>>()?;
            for c in &copies {
                write(c).parent = Arc::downgrade(&a);
            }
            write(&a).kind = Kind::Array(copies);
            a
        }
        Kind::Object(props) => {
            let o = object();
            let mut m = IndexMap::with_capacity(props.len());
            for (k, p) in props {
                let c = clone_at(p, depth + 1)?;
                write(&c).parent = Arc::downgrade(&o);
                m.insert(k.clone(), c);
            }
            write(&o).kind = Kind::Object(m);
            o
        }
    })
}

/// The token to insert into `container`: `item` itself, or a deep copy when
/// it already has a parent or is `container`'s root (Newtonsoft's
/// `EnsureParentToken`). The result's parent is set to `container`.
pub(crate) fn adopt(container: &Link, item: Link) -> RhaiResult<Link> {
    let item = if parent(&item).is_some() || Arc::ptr_eq(&root(container), &item) {
        deep_clone(&item)?
    } else {
        item
    };
    check_depth(container, &item)?;
    write(&item).parent = Arc::downgrade(container);
    Ok(item)
}

/// Refuses a tree deeper than [`MAX_DEPTH`] (which every recursive walk,
/// including dropping the tree, would pay for in stack).
fn check_depth(container: &Link, item: &Link) -> RhaiResult<()> {
    let mut depth = 1;
    let mut cur = parent(container);
    while let Some(p) = cur {
        depth += 1;
        cur = parent(&p);
    }
    if depth + height(item, MAX_DEPTH + 1) > MAX_DEPTH {
        return throw(
            "InvalidOperationException",
            format!("The JSON is nested deeper than {MAX_DEPTH} levels."),
        );
    }
    Ok(())
}

/// The height of a tree, counting no further than `limit`.
fn height(l: &Link, limit: usize) -> usize {
    if limit == 0 {
        return 0;
    }
    1 + children(l)
        .iter()
        .map(|c| height(c, limit - 1))
        .max()
        .unwrap_or(0)
}

/// The property named `name` of an object node.
pub(crate) fn prop(obj: &Link, name: &str) -> Option<Link> {
    match &read(obj).kind {
        Kind::Object(m) => m.get(name).cloned(),
        _ => None,
    }
}

/// The value of a property node.
pub(crate) fn prop_value(p: &Link) -> Option<Link> {
    match &read(p).kind {
        Kind::Property(_, v) => Some(v.clone()),
        _ => None,
    }
}

pub(crate) fn prop_name(p: &Link) -> Option<String> {
    match &read(p).kind {
        Kind::Property(n, _) => Some(n.clone()),
        _ => None,
    }
}

/// `JProperty.Value = v`.
pub(crate) fn set_prop_value(p: &Link, v: Link) -> RhaiResult<()> {
    if prop_value(p).is_some_and(|old| Arc::ptr_eq(&old, &v)) {
        return Ok(());
    }
    let v = adopt(p, v)?;
    let old = {
        let mut g = write(p);
        match &mut g.kind {
            Kind::Property(_, slot) => Some(std::mem::replace(slot, v)),
            _ => None,
        }
    };
    if let Some(old) = old {
        write(&old).parent = Weak::new();
    }
    Ok(())
}

/// `obj[name] = v`: sets the existing property's value or appends one.
pub(crate) fn set_member(obj: &Link, name: &str, v: Link) -> RhaiResult<()> {
    match prop(obj, name) {
        Some(p) => set_prop_value(&p, v),
        None => {
            let v = if parent(&v).is_some() || Arc::ptr_eq(&root(obj), &v) {
                deep_clone(&v)?
            } else {
                v
            };
            add_property(obj, property(name.to_owned(), v))
        }
    }
}

/// Appends a JProperty node to an object; a duplicate name is an error.
pub(crate) fn add_property(obj: &Link, p: Link) -> RhaiResult<()> {
    let name = prop_name(&p).unwrap_or_default();
    if prop(obj, &name).is_some() {
        return throw(
            "ArgumentException",
            format!(
                "Can not add property {name} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object."
            ),
        );
    }
    let p = adopt(obj, p)?;
    if let Kind::Object(m) = &mut write(obj).kind {
        m.insert(name, p);
    }
    Ok(())
}

/// Removes `item` from its parent. `false` when it has none.
/// Removes every child of an object or array at once (one by one, each
/// removal searched the rest: quadratic in the children).
pub(crate) fn detach_all(container: &Link) -> RhaiResult<()> {
    let taken = match &mut write(container).kind {
        Kind::Object(m) => std::mem::take(m).into_values().collect(),
        Kind::Array(v) => std::mem::take(v),
        Kind::Property(..) => {
            return throw(
                "JsonException",
                "Cannot add or remove items from Newtonsoft.Json.Linq.JProperty.",
            );
        }
        Kind::Value(_) => Vec::new(),
    };
    for c in &taken {
        write(c).parent = Weak::new();
    }
    Ok(())
}

pub(crate) fn detach(item: &Link) -> RhaiResult<bool> {
    let Some(p) = parent(item) else {
        return Ok(false);
    };
    let removed = match &mut write(&p).kind {
        Kind::Object(m) => {
            m.retain(|_, v| !Arc::ptr_eq(v, item));
            true
        }
        Kind::Array(v) => {
            v.retain(|x| !Arc::ptr_eq(x, item));
            true
        }
        Kind::Property(..) | Kind::Value(_) => false,
    };
    if !removed {
        return throw(
            "JsonException",
            "Cannot add or remove items from Newtonsoft.Json.Linq.JProperty.",
        );
    }
    write(item).parent = Weak::new();
    Ok(true)
}

/// The index of `item` among its parent's children.
pub(crate) fn index_in(parent: &Link, item: &Link) -> Option<usize> {
    children(parent).iter().position(|c| Arc::ptr_eq(c, item))
}

/// Inserts `items` into `container` (an array or object) at `index`.
pub(crate) fn insert_at(container: &Link, index: usize, items: Vec<Link>) -> RhaiResult<()> {
    for (at, item) in (index..).zip(items) {
        let is_object = matches!(read(container).kind, Kind::Object(_));
        if is_object {
            let Some(name) = prop_name(&item) else {
                return throw(
                    "ArgumentException",
                    format!(
                        "Can not add Newtonsoft.Json.Linq.{} to Newtonsoft.Json.Linq.JObject.",
                        class_name(&item)
                    ),
                );
            };
            if prop(container, &name).is_some() {
                return throw(
                    "ArgumentException",
                    format!(
                        "Can not add property {name} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object."
                    ),
                );
            }
            let item = adopt(container, item)?;
            if let Kind::Object(m) = &mut write(container).kind {
                let at = at.min(m.len());
                m.shift_insert(at, name, item);
            }
        } else {
            let item = adopt(container, item)?;
            match &mut write(container).kind {
                Kind::Array(v) => v.insert(at.min(v.len()), item),
                _ => {
                    return throw(
                        "JsonException",
                        "Cannot add or remove items from Newtonsoft.Json.Linq.JProperty.",
                    );
                }
            }
        }
    }
    Ok(())
}

/// Replaces `item` in its parent with `new`.
pub(crate) fn replace(item: &Link, new: Link) -> RhaiResult<()> {
    let Some(p) = parent(item) else {
        return throw("InvalidOperationException", "The parent is missing.");
    };
    if Arc::ptr_eq(item, &new) {
        return Ok(());
    }
    let kind = token_type(&p);
    match kind {
        "Property" => set_prop_value(&p, new),
        "Object" => {
            let idx = index_in(&p, item).unwrap_or(0);
            detach(item)?;
            insert_at(&p, idx, vec![new])
        }
        _ => {
            let new = adopt(&p, new)?;
            if let Kind::Array(v) = &mut write(&p).kind
                && let Some(slot) = v.iter_mut().find(|x| Arc::ptr_eq(x, item))
            {
                *slot = new;
            }
            write(item).parent = Weak::new();
            Ok(())
        }
    }
}

/// `JObject`, `JArray`, `JProperty` or `JValue`.
pub(crate) fn class_name(l: &Link) -> &'static str {
    match &read(l).kind {
        Kind::Object(_) => "JObject",
        Kind::Array(_) => "JArray",
        Kind::Property(..) => "JProperty",
        Kind::Value(_) => "JValue",
    }
}

const SPECIAL: &[char] = &[
    '.', ' ', '\'', '/', '"', '[', ']', '(', ')', '\t', '\n', '\r', '\u{c}', '\u{8}', '\\',
    '\u{85}', '\u{2028}', '\u{2029}',
];

/// Appends one property step to a JSON path, as `JsonPosition.BuildPath` does.
pub(crate) fn push_name(path: &mut String, name: &str) {
    if name.contains(SPECIAL) {
        path.push_str("['");
        path.push_str(&name.replace('\\', "\\\\").replace('\'', "\\'"));
        path.push_str("']");
    } else {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(name);
    }
}

/// `JToken.Path`.
pub(crate) fn path(l: &Link) -> String {
    enum Step {
        Name(String),
        Index(usize),
    }
    let mut steps = Vec::new();
    let mut prev: Option<Link> = None;
    let mut cur = Some(l.clone());
    while let Some(c) = cur {
        match &read(&c).kind {
            Kind::Property(name, _) => steps.push(Step::Name(name.clone())),
            Kind::Array(items) => {
                if let Some(p) = &prev
                    && let Some(i) = items.iter().position(|x| Arc::ptr_eq(x, p))
                {
                    steps.push(Step::Index(i));
                }
            }
            _ => {}
        }
        cur = parent(&c);
        prev = Some(c);
    }
    let mut out = String::new();
    for s in steps.iter().rev() {
        match s {
            Step::Name(n) => push_name(&mut out, n),
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}
