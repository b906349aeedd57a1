//! Native evaluation of the commonest expression forms, without rhai.
//!
//! Most policy expressions read a header, a query parameter, a variable or a
//! record field, join strings and compare them. Through rhai each such
//! expression costs one to three microseconds (a scope, function
//! resolution by hash for every call and getter, a `Dynamic` per step);
//! here the same reading is a direct walk over the context.
//!
//! A [`Fast`] tree is built at load (by the engine, from the C# syntax tree)
//! only for expressions made entirely of the forms below, and it only
//! answers the **ordinary case**: whenever anything is unusual at run time
//! (a missing variable read with `[...]`, a cast that would throw, a
//! comparison of two different types, a value that is not a string where a
//! string is expected, ...), [`Fast::eval`] answers `None` and the caller
//! evaluates the compiled rhai instead, which gives the exact .NET
//! behaviour, exceptions included. Every form is side-effect free, so
//! evaluating again is safe. Each operation calls the same code as the rhai
//! registration it stands for; a test compares both on every expression of
//! the corpus that has a native form (engine/tests/fast_expressions.rs).

use rhai::{Dynamic, INT};

use crate::Limits;
use crate::context::{Context, Message, MessageRef, Record};
use crate::core::{primitive_string, unbox};

/// A natively evaluated expression.
#[derive(Clone, Debug)]
pub enum Fast {
    /// A literal: a string, a Boolean, an integer or null.
    Value(Dynamic),
    /// `context.Request.Headers.GetValueOrDefault(name[, default])` and the
    /// same on `Url.Query` and `MatchedParameters` (values joined with `,`),
    /// or `MatchedParameters[name]`.
    Lookup {
        dict: Dict,
        name: Box<Fast>,
        missing: Missing,
    },
    /// `context.Variables[name]`, `context.Variables.GetValueOrDefault(name[, default])`,
    /// `GetValueOrDefault<T>(name[, default])` (`ty`: the .NET type name).
    Variable {
        name: Box<Fast>,
        missing: Missing,
        ty: Option<&'static str>,
    },
    /// `context.Api.Name`, `context.User.Email`, ...
    Field {
        record: Rec,
        field: &'static str,
    },
    /// `context.Request.Method`, `context.Request.Url.Path`, ...
    Prop(Prop),
    /// `context.RequestId.ToString()`.
    RequestId,
    /// `x.ToString()` of a string, an integer or a Boolean.
    ToString(Box<Fast>),
    /// `(string)x`.
    CastString(Box<Fast>),
    /// `a + b` where one side is a string (concatenation), or two integers.
    Add(Box<Fast>, Box<Fast>),
    /// `a == b` (`negate`: `a != b`) of two nulls, strings, integers or Booleans, or null and anything.
    Eq {
        left: Box<Fast>,
        right: Box<Fast>,
        negate: bool,
    },
    And(Box<Fast>, Box<Fast>),
    Or(Box<Fast>, Box<Fast>),
    Not(Box<Fast>),
    /// `c ? a : b`
    Cond(Box<Fast>, Box<Fast>, Box<Fast>),
    /// `s.Contains(v)`, `s.StartsWith(v)`, `s.EndsWith(v)` (ordinal).
    Search {
        on: Box<Fast>,
        which: Search,
        arg: Box<Fast>,
    },
    /// `s.ToUpper()` (`upper`), `s.ToLower()`.
    Case {
        on: Box<Fast>,
        upper: bool,
    },
}

/// What a lookup gives when the name is not there.
#[derive(Clone, Debug)]
pub enum Missing {
    /// Null (`GetValueOrDefault(name)`).
    Null,
    /// The default argument, as it is.
    Default(Box<Fast>),
    /// An exception: left to rhai.
    Throw,
}

/// The dictionaries a lookup reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dict {
    RequestHeaders,
    ResponseHeaders,
    Query,
    Matched,
}

/// The records of `context`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rec {
    Api,
    Operation,
    Product,
    Subscription,
    User,
    Deployment,
    Workspace,
}

/// Plain properties of the request and response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prop {
    RequestMethod,
    RequestPath,
    RequestHost,
    RequestScheme,
    RequestIp,
    ResponseStatusCode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    Contains,
    StartsWith,
    EndsWith,
}

impl Fast {
    /// The value, or `None` when the ordinary case does not apply (then rhai decides).
    pub fn eval(&self, ctx: &Context, limits: &Limits) -> Option<Dynamic> {
        match self {
            Fast::Value(v) => Some(v.clone()),
            Fast::Lookup {
                dict,
                name,
                missing,
            } => {
                let name = string(name.eval(ctx, limits)?)?;
                let found = match dict {
                    Dict::RequestHeaders => headers(&ctx.0.request, &name),
                    Dict::ResponseHeaders => headers(&ctx.0.response, &name),
                    Dict::Query => ctx
                        .0
                        .request
                        .read(|m| m.url.query.get(&name).map(|v| v.join(","))),
                    Dict::Matched => ctx.0.request.read(|m| matched(m, &name)),
                };
                match found {
                    Some(v) => Some(v.into()),
                    None => missing.eval(ctx, limits),
                }
            }
            Fast::Variable { name, missing, ty } => {
                let name = string(name.eval(ctx, limits)?)?;
                match ctx.variables(|m| m.get(name.as_str()).cloned()) {
                    Some(v) => match ty {
                        Some(t) => unbox(v, t).ok(),
                        None => Some(v),
                    },
                    None => missing.eval(ctx, limits),
                }
            }
            Fast::Field { record, field } => {
                let r = match record {
                    Rec::Api => &ctx.0.api,
                    Rec::Operation => &ctx.0.operation,
                    Rec::Product => &ctx.0.product,
                    Rec::Subscription => &ctx.0.subscription,
                    Rec::User => &ctx.0.user,
                    Rec::Deployment => &ctx.0.deployment,
                    Rec::Workspace => &ctx.0.workspace,
                };
                r.as_ref()
                    .and_then(|r: &Record| r.fields.get(field))
                    .cloned()
            }
            Fast::Prop(p) => Some(match p {
                Prop::RequestMethod => ctx.0.request.read(|m| m.method.clone()).into(),
                Prop::RequestPath => ctx.0.request.read(|m| m.url.path.clone()).into(),
                Prop::RequestHost => ctx.0.request.read(|m| m.url.host.clone()).into(),
                Prop::RequestScheme => ctx.0.request.read(|m| m.url.scheme.to_string()).into(),
                Prop::RequestIp => ctx.0.request.read(|m| m.ip.clone()).into(),
                Prop::ResponseStatusCode => Dynamic::from_int(ctx.0.response.read(|m| m.status)),
            }),
            Fast::RequestId => {
                // `Guid.ToString()`: the lower-case "D" form.
                let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
                let id = ctx.0.request_id.hyphenated().encode_lower(&mut text);
                Some(Dynamic::from(rhai::ImmutableString::from(&*id)))
            }
            Fast::ToString(on) => {
                let v = on.eval(ctx, limits)?;
                if v.is_string() || v.is_int() || v.is_bool() {
                    primitive_string(&v).map(Into::into)
                } else {
                    None
                }
            }
            Fast::CastString(on) => {
                let v = on.eval(ctx, limits)?;
                (v.is_string() || v.is_unit()).then_some(v)
            }
            Fast::Add(a, b) => {
                let (a, b) = (a.eval(ctx, limits)?, b.eval(ctx, limits)?);
                if a.is_string() || b.is_string() {
                    // The left side's text is reused when nothing else holds it.
                    let mut s = into_plain_string(a)?;
                    push_plain_string(&mut s, &b)?;
                    if s.len() > limits.max_string_size {
                        return None;
                    }
                    return Some(s.into());
                }
                match (a.as_int(), b.as_int()) {
                    (Ok(x), Ok(y)) => Some(Dynamic::from_int(x.wrapping_add(y))),
                    _ => None,
                }
            }
            Fast::Eq {
                left,
                right,
                negate,
            } => {
                let (a, b) = (left.eval(ctx, limits)?, right.eval(ctx, limits)?);
                let equal = if a.is_unit() || b.is_unit() {
                    a.is_unit() && b.is_unit()
                } else if a.is_string() && b.is_string() {
                    a.into_immutable_string().ok()? == b.into_immutable_string().ok()?
                } else if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
                    x == y
                } else if let (Ok(x), Ok(y)) = (a.as_bool(), b.as_bool()) {
                    x == y
                } else {
                    return None;
                };
                Some(Dynamic::from_bool(equal != *negate))
            }
            Fast::And(a, b) => {
                if !a.eval(ctx, limits)?.as_bool().ok()? {
                    return Some(Dynamic::FALSE);
                }
                let b = b.eval(ctx, limits)?.as_bool().ok()?;
                Some(Dynamic::from_bool(b))
            }
            Fast::Or(a, b) => {
                if a.eval(ctx, limits)?.as_bool().ok()? {
                    return Some(Dynamic::TRUE);
                }
                let b = b.eval(ctx, limits)?.as_bool().ok()?;
                Some(Dynamic::from_bool(b))
            }
            Fast::Not(a) => Some(Dynamic::from_bool(!a.eval(ctx, limits)?.as_bool().ok()?)),
            Fast::Cond(c, a, b) => {
                if c.eval(ctx, limits)?.as_bool().ok()? {
                    a.eval(ctx, limits)
                } else {
                    b.eval(ctx, limits)
                }
            }
            Fast::Search { on, which, arg } => {
                let s = string(on.eval(ctx, limits)?)?;
                let arg = arg.eval(ctx, limits)?;
                if !arg.is_string() {
                    return None;
                }
                crate::strings::members::search_ordinal(&s, &arg, *which)
                    .ok()
                    .map(Dynamic::from_bool)
            }
            Fast::Case { on, upper } => {
                let s = string(on.eval(ctx, limits)?)?;
                let out = if *upper {
                    crate::strings::members::to_upper(&s)
                } else {
                    crate::strings::members::to_lower(&s)
                };
                Some(out.into())
            }
        }
    }
}

impl Missing {
    fn eval(&self, ctx: &Context, limits: &Limits) -> Option<Dynamic> {
        match self {
            Missing::Null => Some(Dynamic::UNIT),
            Missing::Default(d) => d.eval(ctx, limits),
            Missing::Throw => None,
        }
    }
}

/// The default of `GetValueOrDefault<T>(name)` for the types [`Fast::Variable`] takes.
pub fn default_of(ty: &str) -> Option<Dynamic> {
    match ty {
        "String" => Some(Dynamic::UNIT),
        "Int32" | "Int64" => Some(Dynamic::from_int(0 as INT)),
        "Boolean" => Some(Dynamic::FALSE),
        _ => None,
    }
}

/// A string value (not null).
fn string(v: Dynamic) -> Option<rhai::ImmutableString> {
    v.into_immutable_string().ok()
}

/// A string, null (empty), integer or Boolean as `+` prints it; `None` for other types.
fn into_plain_string(v: Dynamic) -> Option<String> {
    if v.is_string() {
        v.into_immutable_string()
            .ok()
            .map(rhai::ImmutableString::into_owned)
    } else if v.is_unit() || v.is_int() || v.is_bool() {
        primitive_string(&v)
    } else {
        None
    }
}

/// Appends what [`into_plain_string`] gives, without copying a string first.
fn push_plain_string(out: &mut String, v: &Dynamic) -> Option<()> {
    if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        out.push_str(&s);
    } else if v.is_unit() || v.is_int() || v.is_bool() {
        out.push_str(&primitive_string(v)?);
    } else {
        return None;
    }
    Some(())
}

fn headers(m: &MessageRef, name: &str) -> Option<String> {
    m.read(|m| m.headers.get(name).map(|v| v.join(",")))
}

/// `MatchedParameters`: the values of every parameter whose name equals `name` ignoring case.
fn matched(m: &Message, name: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for (k, v) in &m.matched {
        if k.eq_ignore_ascii_case(name) {
            match &mut out {
                Some(s) => {
                    s.push(',');
                    s.push_str(v);
                }
                None => out = Some(v.clone()),
            }
        }
    }
    out
}
