//! The members every token class has (JToken's), and those of the
//! containers (JContainer's), registered once per class so rhai dispatches on
//! the runtime class as .NET's virtual members do.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, INT, ImmutableString, NativeCallContext};

use super::convert::{self, link_of, wrap, wrap_opt};
use super::tree::{self, Kind, Link, Val};
use super::{Token, select, write};
use crate::core::{RhaiResult, throw};

fn no_children<T>(l: &Link) -> RhaiResult<T> {
    throw(
        "InvalidOperationException",
        format!(
            "Cannot access child value on Newtonsoft.Json.Linq.{}.",
            tree::class_name(l)
        ),
    )
}

/// `token[name]`.
pub(crate) fn get_named(l: &Link, name: &str) -> RhaiResult<Dynamic> {
    match tree::class_name(l) {
        "JObject" => Ok(wrap_opt(
            tree::prop(l, name).and_then(|p| tree::prop_value(&p)),
        )),
        "JArray" => throw(
            "ArgumentException",
            format!(
                "Accessed JArray values with invalid key value: \"{name}\". Int32 array index expected."
            ),
        ),
        _ => no_children(l),
    }
}

fn out_of_range<T>() -> RhaiResult<T> {
    throw(
        "ArgumentOutOfRangeException",
        "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')",
    )
}

/// `token[i]`.
pub(crate) fn get_index(l: &Link, i: INT) -> RhaiResult<Dynamic> {
    match &tree::read(l).kind {
        Kind::Array(items) => match usize::try_from(i).ok().and_then(|i| items.get(i)) {
            Some(x) => Ok(wrap(x.clone())),
            None => out_of_range(),
        },
        Kind::Object(_) => throw(
            "ArgumentException",
            format!(
                "Accessed JObject values with invalid key value: {i}. Object property name expected."
            ),
        ),
        _ => no_children(l),
    }
}

fn set_named(ctx: &NativeCallContext, l: &Link, name: &str, v: Dynamic) -> RhaiResult<()> {
    match tree::class_name(l) {
        "JObject" => tree::set_member(l, name, convert::single(ctx, v)?),
        "JArray" => throw(
            "ArgumentException",
            format!(
                "Set JArray values with invalid key value: \"{name}\". Int32 array index expected."
            ),
        ),
        _ => no_children(l),
    }
}

pub(crate) fn set_index(ctx: &NativeCallContext, l: &Link, i: INT, v: Dynamic) -> RhaiResult<()> {
    match tree::class_name(l) {
        "JArray" => {
            let items = tree::children(l);
            let Some(old) = usize::try_from(i).ok().and_then(|i| items.get(i)) else {
                return out_of_range();
            };
            tree::replace(old, convert::single(ctx, v)?)
        }
        "JObject" => throw(
            "ArgumentException",
            format!(
                "Set JObject values with invalid key value: {i}. Object property name expected."
            ),
        ),
        _ => no_children(l),
    }
}

fn same(a: &Link, b: &Dynamic) -> bool {
    link_of(b).is_some_and(|b| Arc::ptr_eq(a, &b))
}

/// `JToken.DeepEquals`.
pub(crate) fn deep_equals(a: &Link, b: &Link) -> bool {
    let (ga, gb) = (tree::read(a), tree::read(b));
    match (&ga.kind, &gb.kind) {
        (Kind::Value(x), Kind::Value(y)) => val_equals(x, y),
        (Kind::Property(n, x), Kind::Property(m, y)) => n == m && deep_equals(x, y),
        (Kind::Array(x), Kind::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| deep_equals(x, y))
        }
        (Kind::Object(x), Kind::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| deep_equals(p, q)))
        }
        _ => false,
    }
}

fn val_equals(x: &Val, y: &Val) -> bool {
    match (x, y) {
        (Val::Null, Val::Null) => true,
        (Val::Bool(a), Val::Bool(b)) => a == b,
        (Val::Int(a), Val::Int(b)) => a == b,
        (Val::Int(a), Val::Float(b)) | (Val::Float(b), Val::Int(a)) => (*a as f64) == *b,
        (Val::Float(a), Val::Float(b)) => a == b,
        (Val::Str(a), Val::Str(b)) => a == b,
        (Val::Bytes(a), Val::Bytes(b)) => a == b,
        (Val::Other(a, _), Val::Other(b, _)) => {
            a.to_string() == b.to_string() && a.type_name() == b.type_name()
        }
        _ => false,
    }
}

fn sibling(l: &Link, offset: isize) -> Dynamic {
    let Some(p) = tree::parent(l) else {
        return Dynamic::UNIT;
    };
    let kids = tree::children(&p);
    let Some(i) = kids.iter().position(|c| Arc::ptr_eq(c, l)) else {
        return Dynamic::UNIT;
    };
    wrap_opt(
        i.checked_add_signed(offset)
            .and_then(|j| kids.get(j))
            .cloned(),
    )
}

fn add_beside(ctx: &NativeCallContext, l: &Link, v: Dynamic, after: bool) -> RhaiResult<()> {
    let Some(p) = tree::parent(l) else {
        return throw("InvalidOperationException", "The parent is missing.");
    };
    let i = tree::index_in(&p, l).unwrap_or(0) + usize::from(after);
    let mut items = Vec::new();
    convert::content(ctx, v, &mut items)?;
    tree::insert_at(&p, i, items)
}

fn links(v: Vec<Link>) -> Array {
    v.into_iter().map(wrap).collect()
}

pub(crate) fn register_token<T: Token>(e: &mut Engine) {
    e.register_fn("ToString", |ctx: NativeCallContext, t: T| {
        write::token_string(Some(&ctx), t.link())
    })
    .register_fn("ToString", |ctx: NativeCallContext, t: T, f: INT| {
        write::to_json(Some(&ctx), t.link(), f == 1)
    })
    .register_get("Type", |t: &mut T| {
        ImmutableString::from(tree::token_type(t.link()))
    })
    .register_get("Parent", |t: &mut T| wrap_opt(tree::parent(t.link())))
    .register_get("Root", |t: &mut T| wrap(tree::root(t.link())))
    .register_get("Path", |t: &mut T| tree::path(t.link()))
    .register_get("HasValues", |t: &mut T| {
        !tree::children(t.link()).is_empty()
    })
    .register_get("Next", |t: &mut T| sibling(t.link(), 1))
    .register_get("Previous", |t: &mut T| sibling(t.link(), -1))
    .register_get("First", |t: &mut T| -> RhaiResult<Dynamic> {
        if !tree::is_container(t.link()) {
            return no_children(t.link());
        }
        Ok(wrap_opt(tree::children(t.link()).first().cloned()))
    })
    .register_get("Last", |t: &mut T| -> RhaiResult<Dynamic> {
        if !tree::is_container(t.link()) {
            return no_children(t.link());
        }
        Ok(wrap_opt(tree::children(t.link()).last().cloned()))
    })
    .register_fn("Children", |t: T| links(tree::children(t.link())))
    .register_fn("__items", |t: T| links(tree::children(t.link())))
    .register_iterator::<T>()
    .register_fn(
        "Value",
        |ctx: NativeCallContext, t: T, ty: ImmutableString| {
            convert::value_as(&ctx, Some(t.link()), &ty)
        },
    )
    .register_fn(
        "Value",
        |ctx: NativeCallContext, t: T, ty: ImmutableString, key: ImmutableString| {
            let v = get_named(t.link(), &key)?;
            convert::value_as(&ctx, link_of(&v).as_ref(), &ty)
        },
    )
    .register_fn(
        "Value",
        |ctx: NativeCallContext, t: T, ty: ImmutableString, key: INT| {
            let v = get_index(t.link(), key)?;
            convert::value_as(&ctx, link_of(&v).as_ref(), &ty)
        },
    )
    .register_fn(
        "ToObject",
        |ctx: NativeCallContext, t: T, ty: ImmutableString| convert::to_object(&ctx, t.link(), &ty),
    )
    .register_fn(
        "SelectToken",
        |t: T, p: ImmutableString| -> RhaiResult<Dynamic> {
            Ok(wrap_opt(select::select_one(t.link(), &p, false)?))
        },
    )
    .register_fn(
        "SelectToken",
        |t: T, p: ImmutableString, strict: bool| -> RhaiResult<Dynamic> {
            Ok(wrap_opt(select::select_one(t.link(), &p, strict)?))
        },
    )
    .register_fn(
        "SelectTokens",
        |t: T, p: ImmutableString| -> RhaiResult<Array> {
            Ok(links(select::select(t.link(), &p, false)?))
        },
    )
    .register_fn(
        "SelectTokens",
        |t: T, p: ImmutableString, strict: bool| -> RhaiResult<Array> {
            Ok(links(select::select(t.link(), &p, strict)?))
        },
    )
    .register_fn("Remove", |t: T| -> RhaiResult<()> {
        if tree::detach(t.link())? {
            Ok(())
        } else {
            throw("InvalidOperationException", "The parent is missing.")
        }
    })
    .register_fn("Replace", |ctx: NativeCallContext, t: T, v: Dynamic| {
        tree::replace(t.link(), convert::single(&ctx, v)?)
    })
    .register_fn(
        "AddAfterSelf",
        |ctx: NativeCallContext, t: T, v: Dynamic| add_beside(&ctx, t.link(), v, true),
    )
    .register_fn(
        "AddBeforeSelf",
        |ctx: NativeCallContext, t: T, v: Dynamic| add_beside(&ctx, t.link(), v, false),
    )
    .register_fn("DeepClone", |t: T| -> RhaiResult<Dynamic> {
        Ok(wrap(tree::deep_clone(t.link())?))
    })
    .register_fn("Ancestors", |t: T| {
        let mut out = Array::new();
        let mut cur = tree::parent(t.link());
        while let Some(p) = cur {
            cur = tree::parent(&p);
            out.push(wrap(p));
        }
        out
    })
    .register_indexer_get(|t: &mut T, k: ImmutableString| get_named(t.link(), &k))
    .register_indexer_get(|t: &mut T, i: INT| get_index(t.link(), i))
    .register_indexer_set(
        |ctx: NativeCallContext, t: &mut T, k: ImmutableString, v: Dynamic| {
            set_named(&ctx, t.link(), &k, v)
        },
    )
    .register_indexer_set(|ctx: NativeCallContext, t: &mut T, i: INT, v: Dynamic| {
        set_index(&ctx, t.link(), i, v)
    })
    .register_fn("==", |t: T, o: Dynamic| same(t.link(), &o))
    .register_fn("!=", |t: T, o: Dynamic| !same(t.link(), &o))
    .register_fn("Equals", |t: T, o: Dynamic| match link_of(&o) {
        Some(o) if tree::class_name(t.link()) == "JValue" && tree::class_name(&o) == "JValue" => {
            deep_equals(t.link(), &o)
        }
        _ => same(t.link(), &o),
    })
    .register_fn(
        "__cast",
        |ctx: NativeCallContext, t: T, ty: ImmutableString| convert::cast(&ctx, t.link(), &ty),
    )
    .register_fn(
        "__conv",
        |ctx: NativeCallContext, t: T, ty: ImmutableString| convert::cast(&ctx, t.link(), &ty),
    );
}

/// JContainer's members (JObject, JArray, JProperty).
pub(crate) fn register_container<T: Token>(e: &mut Engine) {
    e.register_get("Count", |t: &mut T| tree::children(t.link()).len() as INT)
        .register_fn("Add", |ctx: NativeCallContext, t: T, v: Dynamic| {
            let mut items = Vec::new();
            convert::content(&ctx, v, &mut items)?;
            let n = tree::children(t.link()).len();
            tree::insert_at(t.link(), n, items)
        })
        .register_fn("AddFirst", |ctx: NativeCallContext, t: T, v: Dynamic| {
            let mut items = Vec::new();
            convert::content(&ctx, v, &mut items)?;
            tree::insert_at(t.link(), 0, items)
        })
        .register_fn("RemoveAll", |t: T| -> RhaiResult<()> {
            tree::detach_all(t.link())?;
            Ok(())
        })
        .register_fn(
            "ReplaceAll",
            |ctx: NativeCallContext, t: T, v: Dynamic| -> RhaiResult<()> {
                let mut items = Vec::new();
                convert::content(&ctx, v, &mut items)?;
                tree::detach_all(t.link())?;
                tree::insert_at(t.link(), 0, items)
            },
        )
        .register_fn("Descendants", |t: T| {
            let mut out = Vec::new();
            select::descendants(t.link(), &mut out);
            links(out)
        })
        .register_fn("DescendantsAndSelf", |t: T| {
            let mut out = vec![t.link().clone()];
            select::descendants(t.link(), &mut out);
            links(out)
        })
        .register_fn(
            "Merge",
            |ctx: NativeCallContext, t: T, v: Dynamic| -> RhaiResult<()> {
                let other = match link_of(&v) {
                    Some(o) => o,
                    None => convert::from_object(Some(&ctx), &v, 0)?,
                };
                merge(t.link(), &other)
            },
        );
}

/// `JContainer.Merge` with the default settings: objects merge property by
/// property, arrays concatenate, null values are ignored.
fn merge(into: &Link, from: &Link) -> RhaiResult<()> {
    let (a, b) = (tree::class_name(into), tree::class_name(from));
    match (a, b) {
        ("JObject", "JObject") => {
            for p in tree::children(from) {
                let (Some(name), Some(v)) = (tree::prop_name(&p), tree::prop_value(&p)) else {
                    continue;
                };
                let existing = tree::prop(into, &name).and_then(|q| tree::prop_value(&q));
                match existing {
                    None => tree::set_member(into, &name, tree::deep_clone(&v)?)?,
                    Some(old)
                        if tree::is_container(&old)
                            && tree::class_name(&old) == tree::class_name(&v) =>
                    {
                        merge(&old, &v)?
                    }
                    Some(_) if tree::token_type(&v) == "Null" => {}
                    Some(_) => tree::set_member(into, &name, tree::deep_clone(&v)?)?,
                }
            }
            Ok(())
        }
        ("JArray", "JArray") => {
            let copies = tree::children(from)
                .iter()
                .map(tree::deep_clone)
                .collect::<RhaiResult<Vec<_>>>()?;
            let n = tree::children(into).len();
            tree::insert_at(into, n, copies)
        }
        _ => throw(
            "ArgumentException",
            format!("Can not merge Newtonsoft.Json.Linq.{b} into Newtonsoft.Json.Linq.{a}."),
        ),
    }
}
