//! Writing tokens as JSON the way Newtonsoft's `JsonTextWriter` does
//! (`Formatting.Indented`: two spaces, `"name": value`, CRLF line breaks as
//! on the Windows-hosted gateway), and `JValue.ToString()`.

use base64::Engine as _;
use rhai::{Dynamic, ImmutableString, NativeCallContext};

use super::tree::{self, Kind, Link, MAX_DEPTH, Val};
use crate::core::{RhaiResult, format_double, throw};

/// `Environment.NewLine` of the gateway.
pub(crate) const NEWLINE: &str = crate::core::NEW_LINE;

/// A JSON string literal with Newtonsoft's default escaping.
pub(crate) fn quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A double as Newtonsoft writes it: round-trip digits with a decimal place.
pub(crate) fn float_literal(f: f64) -> String {
    if f.is_nan() {
        return "\"NaN\"".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "\"Infinity\"".into()
        } else {
            "\"-Infinity\"".into()
        };
    }
    let s = format_double(f);
    if s.contains(['.', 'E', 'e']) {
        s
    } else {
        s + ".0"
    }
}

/// The text of a .NET value with no JSON literal: dates in ISO 8601 as
/// Newtonsoft writes them, everything else through its `ToString()`.
fn other_text(ctx: Option<&NativeCallContext>, v: &Dynamic, json: bool) -> String {
    let ty = crate::core::dotnet_type(v);
    if let Some(ctx) = ctx {
        if json {
            let fmt = match ty.as_str() {
                "DateTime" => Some("yyyy-MM-ddTHH:mm:ss.FFFFFFFK"),
                "DateTimeOffset" => Some("yyyy-MM-ddTHH:mm:ss.FFFFFFFzzz"),
                _ => None,
            };
            if let Some(fmt) = fmt
                && let Ok(s) = ctx.call_native_fn::<ImmutableString>(
                    "ToString",
                    (v.clone(), ImmutableString::from(fmt)),
                )
            {
                return s.to_string();
            }
        }
        if let Ok(s) = crate::core::to_dotnet_string(ctx, v) {
            return s;
        }
    }
    ty
}

fn val_json(ctx: Option<&NativeCallContext>, v: &Val, out: &mut String) {
    match v {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Int(n) => out.push_str(&n.to_string()),
        Val::Float(f) => out.push_str(&float_literal(*f)),
        Val::Str(s) => quote(s, out),
        Val::Bytes(b) => quote(&base64::engine::general_purpose::STANDARD.encode(b), out),
        Val::Other(d, "Float") => out.push_str(&other_text(ctx, d, true)),
        Val::Other(d, _) => quote(&other_text(ctx, d, true), out),
    }
}

/// `JValue.ToString()`: the raw value, .NET-formatted.
pub(crate) fn val_string(ctx: Option<&NativeCallContext>, v: &Val) -> String {
    match v {
        Val::Null => String::new(),
        Val::Bool(b) => if *b { "True" } else { "False" }.into(),
        Val::Int(n) => n.to_string(),
        Val::Float(f) => format_double(*f),
        Val::Str(s) => s.clone(),
        Val::Bytes(_) => "System.Byte[]".into(),
        Val::Other(d, _) => other_text(ctx, d, false),
    }
}

/// The JSON text of a token (a property writes as `"name": value`).
pub(crate) fn to_json(
    ctx: Option<&NativeCallContext>,
    l: &Link,
    indented: bool,
) -> RhaiResult<String> {
    let mut out = String::new();
    write_token(ctx, l, indented, 0, &mut out)?;
    Ok(out)
}

fn newline(out: &mut String, indent: usize) {
    out.push_str(NEWLINE);
    for _ in 0..indent {
        out.push_str("  ");
    }
}

fn write_token(
    ctx: Option<&NativeCallContext>,
    l: &Link,
    indented: bool,
    depth: usize,
    out: &mut String,
) -> RhaiResult<()> {
    if depth > MAX_DEPTH {
        return throw(
            "JsonWriterException",
            format!("The JSON is nested deeper than {MAX_DEPTH} levels."),
        );
    }
    let g = tree::read(l);
    match &g.kind {
        Kind::Value(v) => val_json(ctx, v, out),
        Kind::Property(name, v) => {
            quote(name, out);
            out.push(':');
            if indented {
                out.push(' ');
            }
            write_token(ctx, v, indented, depth, out)?;
        }
        Kind::Object(props) => {
            out.push('{');
            for (i, p) in props.values().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if indented {
                    newline(out, depth + 1);
                }
                write_token(ctx, p, indented, depth + 1, out)?;
            }
            if indented && !props.is_empty() {
                newline(out, depth);
            }
            out.push('}');
        }
        Kind::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if indented {
                    newline(out, depth + 1);
                }
                write_token(ctx, item, indented, depth + 1, out)?;
            }
            if indented && !items.is_empty() {
                newline(out, depth);
            }
            out.push(']');
        }
    }
    Ok(())
}

/// `JToken.ToString()`: indented JSON for containers and properties, the
/// raw value for a JValue.
pub(crate) fn token_string(ctx: Option<&NativeCallContext>, l: &Link) -> RhaiResult<String> {
    if let Kind::Value(v) = &tree::read(l).kind {
        return Ok(val_string(ctx, v));
    }
    to_json(ctx, l, true)
}
