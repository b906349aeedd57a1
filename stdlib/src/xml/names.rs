//! XName and XNamespace, name arguments (a string `"{ns}local"` or an
//! XName), and the explicit conversions of elements and attributes
//! (`(string)el`, `(int)attr`) with `XmlConvert` rules.

use rhai::{Dynamic, Engine, INT, ImmutableString, NativeCallContext};

use super::dom::{XML_NS, XMLNS, XName};
use super::{XAttribute, XElement, XNamespace};
use crate::core::{RhaiResult, format_double, throw};

/// A name argument: an XName, or a string in `{ns}local` form.
pub(crate) fn to_name(v: &Dynamic) -> RhaiResult<XName> {
    if let Some(n) = v.read_lock::<XName>() {
        return Ok(n.clone());
    }
    match v.clone().into_immutable_string() {
        Ok(s) => XName::parse(&s),
        Err(_) if v.is_unit() => throw(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'name')",
        ),
        Err(t) => throw(
            "InvalidCastException",
            format!("Unable to cast object of type 'System.{t}' to type 'System.Xml.Linq.XName'."),
        ),
    }
}

/// The text LINQ to XML stores for a value (`XmlConvert.ToString`).
pub(crate) fn xml_text(ctx: &NativeCallContext, v: &Dynamic) -> RhaiResult<String> {
    if let Ok(b) = v.as_bool() {
        return Ok(if b { "true" } else { "false" }.into());
    }
    if let Ok(f) = v.as_float() {
        return Ok(if f.is_infinite() {
            if f > 0.0 { "INF".into() } else { "-INF".into() }
        } else {
            format_double(f)
        });
    }
    crate::core::to_dotnet_string(ctx, v)
}

/// `(T)element` / `(T)attribute` on the node's value.
pub(crate) fn convert(
    ctx: &NativeCallContext,
    value: &str,
    target: &str,
    node: &str,
) -> RhaiResult<Dynamic> {
    let t = target.trim_end_matches('?');
    let t = t.rsplit('.').next().unwrap_or(t);
    let s = value.trim();
    let bad = || {
        throw::<Dynamic>(
            "FormatException",
            "Input string was not in a correct format.",
        )
    };
    Ok(match t {
        "string" | "String" | "object" | "Object" => Dynamic::from(value.to_owned()),
        "int" | "Int32" | "long" | "Int64" | "short" | "Int16" | "byte" | "Byte" => {
            let n = s.parse::<i64>().or_else(|_| bad().map(|_| 0))?;
            let (lo, hi): (i64, i64) = match t {
                "int" | "Int32" => (i32::MIN.into(), i32::MAX.into()),
                "short" | "Int16" => (i16::MIN.into(), i16::MAX.into()),
                "byte" | "Byte" => (0, 255),
                _ => (i64::MIN, i64::MAX),
            };
            if !(lo..=hi).contains(&n) {
                return throw(
                    "OverflowException",
                    "Value was either too large or too small for an Int32.",
                );
            }
            Dynamic::from_int(n as INT)
        }
        "double" | "Double" | "float" | "Single" | "decimal" | "Decimal" => match s {
            "INF" => Dynamic::from_float(f64::INFINITY),
            "-INF" => Dynamic::from_float(f64::NEG_INFINITY),
            "NaN" => Dynamic::from_float(f64::NAN),
            _ => match s.parse::<f64>() {
                Ok(f) if !s.contains(['i', 'I', 'n', 'N']) => Dynamic::from_float(f),
                _ => return bad(),
            },
        },
        "bool" | "Boolean" => match s {
            "true" | "1" => Dynamic::TRUE,
            "false" | "0" => Dynamic::FALSE,
            _ => {
                return throw(
                    "FormatException",
                    format!("The string '{value}' is not a valid Boolean value."),
                );
            }
        },
        "XElement" | "XContainer" | "XNode" | "XObject" if node == "XElement" => {
            return Ok(Dynamic::UNIT);
        }
        "XAttribute" | "XObject" if node == "XAttribute" => return Ok(Dynamic::UNIT),
        "DateTime" | "DateTimeOffset" | "Guid" | "TimeSpan" => {
            ctx.call_native_fn::<Dynamic>(&format!("{t}__Parse"), (ImmutableString::from(s),))?
        }
        _ => {
            return throw(
                "InvalidCastException",
                format!(
                    "Unable to cast object of type 'System.Xml.Linq.{node}' to type '{target}'."
                ),
            );
        }
    })
}

pub(crate) fn register(e: &mut Engine) {
    e.register_fn("XName__Get", |s: ImmutableString| XName::parse(&s))
        .register_fn(
            "XName__Get",
            |local: ImmutableString, ns: ImmutableString| XName {
                ns: ns.to_string(),
                local: local.to_string(),
            },
        )
        .register_get("LocalName", |n: &mut XName| n.local.clone())
        .register_get("NamespaceName", |n: &mut XName| n.ns.clone())
        .register_get("Namespace", |n: &mut XName| XNamespace(n.ns.clone()))
        .register_fn("ToString", |n: &mut XName| n.expanded())
        .register_fn("==", |a: XName, b: XName| a == b)
        .register_fn("!=", |a: XName, b: XName| a != b)
        .register_fn("==", |a: XName, b: ImmutableString| {
            a.expanded() == b.as_str()
        })
        .register_fn("!=", |a: XName, b: ImmutableString| {
            a.expanded() != b.as_str()
        })
        .register_fn("==", |a: ImmutableString, b: XName| {
            b.expanded() == a.as_str()
        })
        .register_fn("!=", |a: ImmutableString, b: XName| {
            b.expanded() != a.as_str()
        })
        .register_fn("Equals", |a: XName, b: Dynamic| {
            to_name(&b).is_ok_and(|b| a == b)
        });
    e.register_fn("XNamespace__Get", |s: ImmutableString| {
        XNamespace(s.to_string())
    })
    .register_fn("XNamespace__None", || XNamespace(String::new()))
    .register_fn("XNamespace__Xml", || XNamespace(XML_NS.into()))
    .register_fn("XNamespace__Xmlns", || XNamespace(XMLNS.into()))
    .register_get("NamespaceName", |n: &mut XNamespace| n.0.clone())
    .register_fn("ToString", |n: &mut XNamespace| n.0.clone())
    .register_fn("GetName", |n: XNamespace, local: ImmutableString| XName {
        ns: n.0,
        local: local.to_string(),
    })
    .register_fn("+", |n: XNamespace, local: ImmutableString| XName {
        ns: n.0,
        local: local.to_string(),
    })
    .register_fn("__add", |n: XNamespace, local: ImmutableString| XName {
        ns: n.0,
        local: local.to_string(),
    })
    .register_fn("==", |a: XNamespace, b: XNamespace| a == b)
    .register_fn("!=", |a: XNamespace, b: XNamespace| a != b)
    .register_fn("==", |a: XNamespace, b: ImmutableString| a.0 == b.as_str())
    .register_fn("!=", |a: XNamespace, b: ImmutableString| a.0 != b.as_str());
    e.register_fn(
        "__cast",
        |ctx: NativeCallContext, x: XElement, t: ImmutableString| -> RhaiResult<Dynamic> {
            let v = convert(&ctx, &super::dom::value(&x.0), &t, "XElement")?;
            Ok(if v.is_unit() { Dynamic::from(x) } else { v })
        },
    )
    .register_fn(
        "__cast",
        |ctx: NativeCallContext, a: XAttribute, t: ImmutableString| -> RhaiResult<Dynamic> {
            let value = super::dom::aread(&a.0).value.clone();
            let v = convert(&ctx, &value, &t, "XAttribute")?;
            Ok(if v.is_unit() { Dynamic::from(a) } else { v })
        },
    );
}
