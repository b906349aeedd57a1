//! The members particular to one class: JObject, JArray, JProperty, JValue,
//! and the JToken statics.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, INT, ImmutableString, NativeCallContext};

use super::convert::{self, link_of, wrap, wrap_opt};
use super::parse::{self, Want};
use super::tree::{self, Kind, Link, Val};
use super::{JArray, JObject, JProperty, JValue};
use crate::core::{RhaiResult, throw};

fn null_arg<T>(name: &str) -> RhaiResult<T> {
    throw(
        "ArgumentNullException",
        format!("Value cannot be null. (Parameter '{name}')"),
    )
}

fn text(s: &Dynamic, param: &str) -> RhaiResult<ImmutableString> {
    match s.clone().into_immutable_string() {
        Ok(s) => Ok(s),
        Err(_) if s.is_unit() => null_arg(param),
        Err(t) => throw(
            "InvalidCastException",
            format!("Unable to cast object of type 'System.{t}' to type 'System.String'."),
        ),
    }
}

/// `new JObject(content...)` / `new JArray(content...)`; a single argument of
/// the same class is copied (the copy constructors).
fn new_container(ctx: &NativeCallContext, object: bool, args: Vec<Dynamic>) -> RhaiResult<Dynamic> {
    if let [only] = args.as_slice()
        && let Some(l) = link_of(only)
        && tree::class_name(&l) == if object { "JObject" } else { "JArray" }
    {
        return Ok(wrap(tree::deep_clone(&l)?));
    }
    let c = if object {
        tree::object()
    } else {
        tree::array()
    };
    let mut items = Vec::new();
    for a in args {
        convert::content(ctx, a, &mut items)?;
    }
    tree::insert_at(&c, 0, items)?;
    Ok(wrap(c))
}

fn from_object(ctx: &NativeCallContext, v: &Dynamic, class: &str) -> RhaiResult<Dynamic> {
    if v.is_unit() {
        return null_arg("o");
    }
    let l = convert::from_object(Some(ctx), v, 0)?;
    let got = tree::class_name(&l);
    if class != "JToken" && got != class {
        let what = if class == "JObject" {
            "JObject"
        } else {
            "JArray"
        };
        return throw(
            "ArgumentException",
            format!(
                "Object serialized to {}. {what} instance expected.",
                tree::token_type(&l)
            ),
        );
    }
    Ok(wrap(l))
}

fn parse_as(s: Dynamic, want: Want) -> RhaiResult<Dynamic> {
    let s = text(&s, "json")?;
    Ok(wrap(parse::parse(&s, want)?))
}

/// `StringComparison` codes that ignore case.
fn ignore_case(c: INT) -> bool {
    matches!(c, 1 | 3 | 5)
}

fn find_prop(l: &Link, name: &str, ci: bool) -> Option<Link> {
    tree::prop(l, name).or_else(|| {
        if !ci {
            return None;
        }
        tree::children(l).into_iter().find(|p| {
            tree::prop_name(p).is_some_and(|n| {
                n.eq_ignore_ascii_case(name)
                    || n.chars()
                        .flat_map(char::to_lowercase)
                        .eq(name.chars().flat_map(char::to_lowercase))
            })
        })
    })
}

fn register_object(e: &mut Engine) {
    e.register_fn("JObject__new", |ctx: NativeCallContext| {
        new_container(&ctx, true, vec![])
    });
    macro_rules! arities {
        ($f:literal, $obj:expr, $($n:ident),+) => {
            e.register_fn($f, |ctx: NativeCallContext, $($n: Dynamic),+| new_container(&ctx, $obj, vec![$($n),+]));
        };
    }
    arities!("JObject__new", true, a);
    arities!("JObject__new", true, a, b);
    arities!("JObject__new", true, a, b, c);
    arities!("JObject__new", true, a, b, c, d);
    arities!("JObject__new", true, a, b, c, d, f);
    arities!("JObject__new", true, a, b, c, d, f, g);
    arities!("JObject__new", true, a, b, c, d, f, g, h);
    arities!("JObject__new", true, a, b, c, d, f, g, h, i);
    arities!("JArray__new", false, a);
    arities!("JArray__new", false, a, b);
    arities!("JArray__new", false, a, b, c);
    arities!("JArray__new", false, a, b, c, d);
    arities!("JArray__new", false, a, b, c, d, f);
    arities!("JArray__new", false, a, b, c, d, f, g);
    arities!("JArray__new", false, a, b, c, d, f, g, h);
    arities!("JArray__new", false, a, b, c, d, f, g, h, i);
    e.register_fn("JArray__new", |ctx: NativeCallContext| {
        new_container(&ctx, false, vec![])
    })
    .register_fn("JObject__Parse", |s: Dynamic| parse_as(s, Want::Object))
    .register_fn("JArray__Parse", |s: Dynamic| parse_as(s, Want::Array))
    .register_fn("JToken__Parse", |s: Dynamic| {
        super::parse_json(&text(&s, "json")?)
    })
    .register_fn(
        "JObject__FromObject",
        |ctx: NativeCallContext, v: Dynamic| from_object(&ctx, &v, "JObject"),
    )
    .register_fn(
        "JArray__FromObject",
        |ctx: NativeCallContext, v: Dynamic| from_object(&ctx, &v, "JArray"),
    )
    .register_fn(
        "JToken__FromObject",
        |ctx: NativeCallContext, v: Dynamic| from_object(&ctx, &v, "JToken"),
    )
    .register_fn("JToken__DeepEquals", |a: Dynamic, b: Dynamic| {
        match (link_of(&a), link_of(&b)) {
            (Some(a), Some(b)) => super::api::deep_equals(&a, &b),
            (None, None) => a.is_unit() && b.is_unit(),
            _ => false,
        }
    });
    e.register_fn("Property", |o: JObject, n: ImmutableString| {
        wrap_opt(tree::prop(&o.0, &n))
    })
    .register_fn("Property", |o: JObject, n: ImmutableString, c: INT| {
        wrap_opt(find_prop(&o.0, &n, ignore_case(c)))
    })
    .register_fn("Properties", |o: JObject| {
        tree::children(&o.0)
            .into_iter()
            .map(wrap)
            .collect::<Array>()
    })
    .register_fn("PropertyValues", |o: JObject| {
        tree::children(&o.0)
            .iter()
            .filter_map(tree::prop_value)
            .map(wrap)
            .collect::<Array>()
    })
    .register_fn(
        "Remove",
        |o: JObject, n: ImmutableString| -> RhaiResult<bool> {
            match tree::prop(&o.0, &n) {
                Some(p) => tree::detach(&p),
                None => Ok(false),
            }
        },
    )
    .register_fn(
        "Add",
        |ctx: NativeCallContext, o: JObject, n: ImmutableString, v: Dynamic| -> RhaiResult<()> {
            let v = convert::single(&ctx, v)?;
            let v = if tree::parent(&v).is_some() {
                tree::deep_clone(&v)?
            } else {
                v
            };
            tree::add_property(&o.0, tree::property(n.to_string(), v))
        },
    )
    .register_fn("ContainsKey", |o: JObject, n: ImmutableString| {
        tree::prop(&o.0, &n).is_some()
    })
    .register_fn(
        "TryGetValue__out",
        |o: JObject, n: ImmutableString| -> Array {
            match tree::prop(&o.0, &n).and_then(|p| tree::prop_value(&p)) {
                Some(v) => vec![Dynamic::TRUE, wrap(v)],
                None => vec![Dynamic::FALSE, Dynamic::UNIT],
            }
        },
    )
    .register_fn("GetValue", |o: JObject, n: ImmutableString| {
        wrap_opt(tree::prop(&o.0, &n).and_then(|p| tree::prop_value(&p)))
    })
    .register_fn("GetValue", |o: JObject, n: ImmutableString, c: INT| {
        wrap_opt(find_prop(&o.0, &n, ignore_case(c)).and_then(|p| tree::prop_value(&p)))
    });
}

fn index(a: &Link, i: INT, inclusive_end: bool) -> RhaiResult<usize> {
    let n = tree::children(a).len();
    match usize::try_from(i) {
        Ok(i) if i < n || (inclusive_end && i == n) => Ok(i),
        _ => throw(
            "ArgumentOutOfRangeException",
            "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')",
        ),
    }
}

fn position(a: &Link, v: &Dynamic) -> Option<usize> {
    let v = link_of(v)?;
    tree::children(a).iter().position(|c| Arc::ptr_eq(c, &v))
}

fn register_array(e: &mut Engine) {
    e.register_fn(
        "Insert",
        |ctx: NativeCallContext, a: JArray, i: INT, v: Dynamic| -> RhaiResult<()> {
            let at = index(&a.0, i, true)?;
            tree::insert_at(&a.0, at, vec![convert::single(&ctx, v)?])
        },
    )
    .register_fn("RemoveAt", |a: JArray, i: INT| -> RhaiResult<()> {
        let at = index(&a.0, i, false)?;
        match tree::children(&a.0).get(at) {
            Some(c) => tree::detach(c).map(|_| ()),
            None => Ok(()),
        }
    })
    .register_fn("Remove", |a: JArray, v: Dynamic| -> RhaiResult<bool> {
        match position(&a.0, &v).and_then(|i| tree::children(&a.0).get(i).cloned()) {
            Some(c) => tree::detach(&c),
            None => Ok(false),
        }
    })
    .register_fn("IndexOf", |a: JArray, v: Dynamic| {
        position(&a.0, &v).map_or(-1, |i| i as INT)
    })
    .register_fn("Contains", |a: JArray, v: Dynamic| {
        position(&a.0, &v).is_some()
    })
    .register_fn("Clear", |a: JArray| -> RhaiResult<()> {
        tree::detach_all(&a.0)?;
        Ok(())
    });
}

fn new_property(
    ctx: &NativeCallContext,
    name: Dynamic,
    content: Vec<Dynamic>,
) -> RhaiResult<JProperty> {
    let name = text(&name, "name")?;
    let v = match <[Dynamic; 1]>::try_from(content) {
        Ok([one]) => convert::single(ctx, one)?,
        Err(many) => convert::single(ctx, Dynamic::from_array(many))?,
    };
    let v = if tree::parent(&v).is_some() {
        tree::deep_clone(&v)?
    } else {
        v
    };
    Ok(JProperty(tree::property(name.to_string(), v)))
}

fn register_property(e: &mut Engine) {
    e.register_fn(
        "JProperty__new",
        |ctx: NativeCallContext, n: Dynamic, a: Dynamic| new_property(&ctx, n, vec![a]),
    )
    .register_fn(
        "JProperty__new",
        |ctx: NativeCallContext, n: Dynamic, a: Dynamic, b: Dynamic| {
            new_property(&ctx, n, vec![a, b])
        },
    )
    .register_fn(
        "JProperty__new",
        |ctx: NativeCallContext, n: Dynamic, a: Dynamic, b: Dynamic, c: Dynamic| {
            new_property(&ctx, n, vec![a, b, c])
        },
    )
    .register_fn(
        "JProperty__new",
        |ctx: NativeCallContext, n: JProperty| -> RhaiResult<JProperty> {
            let _ = ctx;
            Ok(JProperty(tree::deep_clone(&n.0)?))
        },
    )
    .register_get("Name", |p: &mut JProperty| {
        tree::prop_name(&p.0).unwrap_or_default()
    })
    .register_get("Key", |p: &mut JProperty| {
        tree::prop_name(&p.0).unwrap_or_default()
    })
    .register_get("Value", |p: &mut JProperty| {
        wrap_opt(tree::prop_value(&p.0))
    })
    .register_set(
        "Value",
        |ctx: NativeCallContext, p: &mut JProperty, v: Dynamic| -> RhaiResult<()> {
            let v = convert::single(&ctx, v)?;
            tree::set_prop_value(&p.0, v)
        },
    );
}

fn jvalue_val(v: &JValue) -> Val {
    match &tree::read(&v.0).kind {
        Kind::Value(x) => x.clone(),
        _ => Val::Null,
    }
}

fn register_value(e: &mut Engine) {
    e.register_fn("JValue__new", |v: Dynamic| -> RhaiResult<JValue> {
        Ok(JValue(tree::value(convert::to_val(&v)?)))
    })
    .register_fn("JValue__CreateNull", || JValue(tree::value(Val::Null)))
    .register_fn("JValue__CreateString", |s: Dynamic| -> RhaiResult<JValue> {
        let v = if s.is_unit() {
            Val::Null
        } else {
            Val::Str(text(&s, "value")?.to_string())
        };
        Ok(JValue(tree::value(v)))
    })
    .register_get("Value", |v: &mut JValue| {
        convert::val_dynamic(&jvalue_val(v))
    })
    .register_set("Value", |v: &mut JValue, x: Dynamic| -> RhaiResult<()> {
        let x = convert::to_val(&x)?;
        tree::write(&v.0).kind = Kind::Value(x);
        Ok(())
    })
    .register_fn(
        "ToString",
        |ctx: NativeCallContext, v: JValue, fmt: ImmutableString| -> RhaiResult<String> {
            let inner = convert::val_dynamic(&jvalue_val(&v));
            match ctx.call_native_fn::<ImmutableString>("ToString", (inner.clone(), fmt)) {
                Ok(s) => Ok(s.to_string()),
                Err(_) => Ok(super::write::val_string(Some(&ctx), &jvalue_val(&v))),
            }
        },
    )
    .register_fn("CompareTo", |a: JValue, b: JValue| -> INT {
        match (jvalue_val(&a), jvalue_val(&b)) {
            (Val::Int(x), Val::Int(y)) => x.cmp(&y) as INT,
            (Val::Str(x), Val::Str(y)) => x.cmp(&y) as INT,
            (Val::Float(x), Val::Float(y)) => x.partial_cmp(&y).map_or(0, |o| o as INT),
            (Val::Int(x), Val::Float(y)) => (x as f64).partial_cmp(&y).map_or(0, |o| o as INT),
            (Val::Float(x), Val::Int(y)) => x.partial_cmp(&(y as f64)).map_or(0, |o| o as INT),
            (Val::Bool(x), Val::Bool(y)) => x.cmp(&y) as INT,
            (Val::Null, Val::Null) => 0,
            (Val::Null, _) => -1,
            (_, Val::Null) => 1,
            _ => 0,
        }
    });
}

pub(crate) fn register(e: &mut Engine) {
    register_object(e);
    register_array(e);
    register_property(e);
    register_value(e);
}
