//! Composite formatting (`string.Format`, `StringBuilder.AppendFormat`),
//! `ToString(format)` on numbers, and the interpolation helpers the
//! translator emits for holes with a format or an alignment:
//! `$"{x:N2}"` → `__format(x, "N2")`, `$"{x,8:N2}"` → `__format_align(x, 8, "N2")`.

use rhai::{Array, Dynamic, Engine, EvalAltResult, INT, ImmutableString, NativeCallContext};

use super::numfmt::{FmtError, format_float, format_int};
use super::{char_len, check_size, size_cap};
use crate::core::{RhaiResult, throw, to_dotnet_string};

/// The .NET limits on a hole's index and alignment.
const HOLE_LIMIT: usize = 1_000_000;

fn fmt_error<T>(e: FmtError) -> RhaiResult<T> {
    match e {
        FmtError::Invalid => throw("FormatException", "Format specifier was invalid."),
        FmtError::TooLarge => throw(
            "OutOfMemoryException",
            "Insufficient memory to continue the execution of the program.",
        ),
    }
}

/// `value.ToString(format)` with .NET semantics: numbers take .NET numeric
/// format strings (invariant culture); other formattable types their own
/// `ToString(format)`; everything else ignores the format.
pub fn format_value(ctx: &NativeCallContext, value: &Dynamic, format: &str) -> RhaiResult<String> {
    if let Ok(n) = value.as_int() {
        return format_int(n, format, size_cap(ctx)).or_else(fmt_error);
    }
    if let Ok(x) = value.as_float() {
        return format_float(x, format, size_cap(ctx)).or_else(fmt_error);
    }
    let primitive = value.is_unit()
        || value.is_string()
        || value.is_bool()
        || value.is_char()
        || value.is_array()
        || value.is_blob();
    if format.is_empty() || primitive {
        return to_dotnet_string(ctx, value);
    }
    match ctx.call_native_fn::<Dynamic>("ToString", (value.clone(), ImmutableString::from(format)))
    {
        Ok(s) => Ok(s.to_string()),
        Err(e) if matches!(*e, EvalAltResult::ErrorFunctionNotFound(..)) => {
            to_dotnet_string(ctx, value)
        }
        Err(e) => Err(e),
    }
}

/// A value formatted and padded to `align` (right-aligned when positive,
/// left-aligned when negative).
fn aligned(
    ctx: &NativeCallContext,
    value: &Dynamic,
    align: INT,
    format: &str,
) -> RhaiResult<String> {
    let s = format_value(ctx, value, format)?;
    let width = usize::try_from(align.unsigned_abs()).unwrap_or(usize::MAX);
    let len = char_len(&s);
    if width <= len {
        return Ok(s);
    }
    check_size(ctx, s.len() + (width - len))?;
    let pad = " ".repeat(width - len);
    Ok(if align < 0 {
        format!("{s}{pad}")
    } else {
        format!("{pad}{s}")
    })
}

fn bad_format<T>() -> RhaiResult<T> {
    throw(
        "FormatException",
        "Input string was not in a correct format.",
    )
}

/// Reads a decimal number below [`HOLE_LIMIT`] at `*i`.
fn number(chars: &[char], i: &mut usize) -> RhaiResult<usize> {
    let mut n = 0usize;
    let mut any = false;
    while let Some(d) = chars.get(*i).and_then(|c| c.to_digit(10)) {
        n = n * 10 + d as usize;
        if n >= HOLE_LIMIT {
            return bad_format();
        }
        any = true;
        *i += 1;
    }
    if any { Ok(n) } else { bad_format() }
}

fn skip_spaces(chars: &[char], i: &mut usize) {
    while chars.get(*i) == Some(&' ') {
        *i += 1;
    }
}

/// .NET composite formatting: `{index[,alignment][:format]}`, `{{` and `}}`
/// for braces.
pub(crate) fn composite(
    ctx: &NativeCallContext,
    format: &str,
    args: &[Dynamic],
) -> RhaiResult<String> {
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '{' if chars.get(i) == Some(&'{') => {
                out.push('{');
                i += 1;
            }
            '}' if chars.get(i) == Some(&'}') => {
                out.push('}');
                i += 1;
            }
            '}' => return bad_format(),
            '{' => {
                let index = number(&chars, &mut i)?;
                skip_spaces(&chars, &mut i);
                let mut align: INT = 0;
                if chars.get(i) == Some(&',') {
                    i += 1;
                    skip_spaces(&chars, &mut i);
                    let negative = chars.get(i) == Some(&'-');
                    if negative {
                        i += 1;
                    }
                    let width = INT::try_from(number(&chars, &mut i)?).unwrap_or(0);
                    align = if negative { -width } else { width };
                    skip_spaces(&chars, &mut i);
                }
                let mut spec = String::new();
                if chars.get(i) == Some(&':') {
                    i += 1;
                    loop {
                        match chars.get(i) {
                            Some('}') => break,
                            Some('{') | None => return bad_format(),
                            Some(&ch) => spec.push(ch),
                        }
                        i += 1;
                    }
                }
                if chars.get(i) != Some(&'}') {
                    return bad_format();
                }
                i += 1;
                let Some(arg) = args.get(index) else {
                    return throw(
                        "FormatException",
                        "Index (zero based) must be greater than or equal to zero and less than the size of the argument list.",
                    );
                };
                out.push_str(&aligned(ctx, arg, align, &spec)?);
                check_size(ctx, out.len())?;
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// `string.Format([provider,] format, args...)`: a single array argument is
/// the `params object[]` itself; a leading non-string is the (ignored)
/// format provider.
pub(crate) fn format_call(ctx: &NativeCallContext, all: &[Dynamic]) -> RhaiResult<String> {
    let (first, rest) = match all {
        // A leading provider: anything but a string, or null before the format string.
        [first, second, ..] if !first.is_string() && (!first.is_unit() || second.is_string()) => {
            (all.get(1), all.get(2..).unwrap_or(&[]))
        }
        [first, rest @ ..] => (Some(first), rest),
        [] => (None, &[][..]),
    };
    let Some(Ok(format)) = first.map(|f| f.clone().into_immutable_string()) else {
        return throw(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'format')",
        );
    };
    match rest {
        [single] if single.is_array() => {
            let args = single
                .read_lock::<Array>()
                .map(|a| a.clone())
                .unwrap_or_default();
            composite(ctx, &format, &args)
        }
        _ => composite(ctx, &format, rest),
    }
}

fn optional_format(v: &Dynamic) -> String {
    v.clone()
        .into_immutable_string()
        .map(|s| s.to_string())
        .unwrap_or_default()
}

pub(super) fn register(e: &mut Engine) {
    for t in ["String", "string"] {
        let name = format!("{t}__Format");
        macro_rules! arity {
            ($($a:ident),*) => {
                e.register_fn(&name, |ctx: NativeCallContext, $($a: Dynamic),*| format_call(&ctx, &[$($a),*]));
            };
        }
        arity!(a);
        arity!(a, b);
        arity!(a, b, c);
        arity!(a, b, c, d);
        arity!(a, b, c, d, f);
        arity!(a, b, c, d, f, g);
        arity!(a, b, c, d, f, g, h);
        arity!(a, b, c, d, f, g, h, i);
        arity!(a, b, c, d, f, g, h, i, j);
        arity!(a, b, c, d, f, g, h, i, j, k);
        // C#'s `params object[]`: the corpus formats twelve values at once
        // (a storage SAS string to sign); up to fifteen here.
        arity!(a, b, c, d, f, g, h, i, j, k, l);
        arity!(a, b, c, d, f, g, h, i, j, k, l, m);
        arity!(a, b, c, d, f, g, h, i, j, k, l, m, n);
        arity!(a, b, c, d, f, g, h, i, j, k, l, m, n, o);
        arity!(a, b, c, d, f, g, h, i, j, k, l, m, n, o, p);
        arity!(a, b, c, d, f, g, h, i, j, k, l, m, n, o, p, q);
    }
    e.register_fn(
        "__format",
        |ctx: NativeCallContext, v: Dynamic, f: Dynamic| {
            format_value(&ctx, &v, &optional_format(&f))
        },
    )
    .register_fn(
        "__format_align",
        |ctx: NativeCallContext, v: Dynamic, a: INT, f: Dynamic| {
            aligned(&ctx, &v, a, &optional_format(&f))
        },
    )
    // `x.ToString("N2")`, `x.ToString(provider)`, `x.ToString("N2", provider)`.
    .register_fn("ToString", |ctx: NativeCallContext, v: INT, f: Dynamic| {
        format_value(&ctx, &v.into(), &optional_format(&f))
    })
    .register_fn("ToString", |ctx: NativeCallContext, v: f64, f: Dynamic| {
        format_value(&ctx, &v.into(), &optional_format(&f))
    })
    .register_fn(
        "ToString",
        |ctx: NativeCallContext, v: INT, f: Dynamic, _p: Dynamic| {
            format_value(&ctx, &v.into(), &optional_format(&f))
        },
    )
    .register_fn(
        "ToString",
        |ctx: NativeCallContext, v: f64, f: Dynamic, _p: Dynamic| {
            format_value(&ctx, &v.into(), &optional_format(&f))
        },
    );
}
