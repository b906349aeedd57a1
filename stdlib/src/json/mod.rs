//! Newtonsoft.Json: JToken, JObject, JArray, JProperty, JValue, JsonConvert,
//! Formatting, JTokenType.
//!
//! - `tree.rs`: the token tree (reference identity, parent links, copies on re-parenting);
//! - `parse.rs`: the lenient JSON reader with `JsonReaderException` messages;
//! - `write.rs`: JSON output (`Formatting.Indented` / `None`) and `JValue.ToString()`;
//! - `convert.rs`: rhai values ⇄ tokens and the explicit conversions;
//! - `select.rs`: `SelectToken` JSONPath;
//! - `api.rs`: the members every token has; `types.rs`: the per-class members.

mod api;
mod convert;
mod parse;
mod select;
mod tree;
mod types;
mod write;

use rhai::{Dynamic, Engine, ImmutableString, NativeCallContext};

use crate::core::{RhaiResult, throw};
use tree::Link;

/// A JSON object (`Newtonsoft.Json.Linq.JObject`).
#[derive(Clone)]
pub struct JObject(Link);
/// A JSON array (`Newtonsoft.Json.Linq.JArray`).
#[derive(Clone)]
pub struct JArray(Link);
/// A name/value pair of a JObject (`Newtonsoft.Json.Linq.JProperty`).
#[derive(Clone)]
pub struct JProperty(Link);
/// A primitive JSON value (`Newtonsoft.Json.Linq.JValue`).
#[derive(Clone)]
pub struct JValue(Link);

/// The tree node behind each token class.
pub(crate) trait Token:
    Clone + Send + Sync + IntoIterator<Item = Dynamic> + 'static
{
    fn link(&self) -> &Link;
}

macro_rules! token {
    ($($t:ident),*) => {$(
        impl Token for $t {
            fn link(&self) -> &Link {
                &self.0
            }
        }
        impl IntoIterator for $t {
            type Item = Dynamic;
            type IntoIter = std::vec::IntoIter<Dynamic>;
            fn into_iter(self) -> Self::IntoIter {
                tree::children(&self.0).into_iter().map(convert::wrap).collect::<Vec<_>>().into_iter()
            }
        }
    )*};
}
token!(JObject, JArray, JProperty, JValue);

/// Parses JSON text (any value) into a JObject, JArray or JValue, as
/// `JToken.Parse` does; bad JSON is a `JsonReaderException`.
pub fn parse_json(s: &str) -> RhaiResult<Dynamic> {
    Ok(convert::wrap(parse::parse(s, parse::Want::Token)?))
}

const TOKEN_TYPES: &[&str] = &[
    "None",
    "Object",
    "Array",
    "Constructor",
    "Property",
    "Comment",
    "Integer",
    "Float",
    "String",
    "Boolean",
    "Null",
    "Undefined",
    "Date",
    "Raw",
    "Bytes",
    "Guid",
    "Uri",
    "TimeSpan",
];

/// `JsonConvert.SerializeObject(x, formatting)`.
fn serialize(ctx: &NativeCallContext, v: &Dynamic, indented: bool) -> RhaiResult<String> {
    let l = convert::from_object(Some(ctx), v, 0)?;
    write::to_json(Some(ctx), &l, indented)
}

/// `JsonConvert.DeserializeObject(s)`: primitives as plain values, the rest as tokens.
fn deserialize(s: Dynamic) -> RhaiResult<Dynamic> {
    let Ok(s) = s.into_immutable_string() else {
        return throw(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'value')",
        );
    };
    if s.trim().is_empty() {
        return Ok(Dynamic::UNIT);
    }
    let l = parse::parse(&s, parse::Want::Token)?;
    let plain = match &tree::read(&l).kind {
        tree::Kind::Value(v) => Some(convert::val_dynamic(v)),
        _ => None,
    };
    Ok(plain.unwrap_or_else(|| convert::wrap(l)))
}

fn deserialize_as(ctx: &NativeCallContext, ty: &str, s: Dynamic) -> RhaiResult<Dynamic> {
    let (t, _) = convert::canon(ty);
    let Ok(text) = s.clone().into_immutable_string() else {
        return throw(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'value')",
        );
    };
    if text.trim().is_empty() {
        return Ok(Dynamic::UNIT);
    }
    match t {
        "Object" => deserialize(s),
        "JObject" => Ok(convert::wrap(parse::parse(&text, parse::Want::Object)?)),
        "JArray" => Ok(convert::wrap(parse::parse(&text, parse::Want::Array)?)),
        _ => {
            let l = parse::parse(&text, parse::Want::Token)?;
            convert::to_object(ctx, &l, ty)
        }
    }
}

pub(crate) fn register(e: &mut Engine) {
    e.register_type_with_name::<JObject>("JObject")
        .register_type_with_name::<JArray>("JArray")
        .register_type_with_name::<JProperty>("JProperty")
        .register_type_with_name::<JValue>("JValue");
    api::register_token::<JObject>(e);
    api::register_token::<JArray>(e);
    api::register_token::<JProperty>(e);
    api::register_token::<JValue>(e);
    api::register_container::<JObject>(e);
    api::register_container::<JArray>(e);
    api::register_container::<JProperty>(e);
    types::register(e);

    e.register_fn("Formatting__None", || 0 as rhai::INT)
        .register_fn("Formatting__Indented", || 1 as rhai::INT);
    for name in TOKEN_TYPES {
        let value = ImmutableString::from(*name);
        e.register_fn(format!("JTokenType__{name}"), move || value.clone());
    }
    e.register_fn(
        "JsonConvert__SerializeObject",
        |ctx: NativeCallContext, v: Dynamic| serialize(&ctx, &v, false),
    )
    .register_fn(
        "JsonConvert__SerializeObject",
        |ctx: NativeCallContext, v: Dynamic, f: rhai::INT| serialize(&ctx, &v, f == 1),
    )
    .register_fn("JsonConvert__DeserializeObject", deserialize)
    .register_fn(
        "JsonConvert__DeserializeObject",
        |ctx: NativeCallContext, t: ImmutableString, s: Dynamic| deserialize_as(&ctx, &t, s),
    );
}

#[cfg(test)]
mod tests;
