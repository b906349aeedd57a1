//! `Convert.ToX(value)` for the primitives: from strings like `X.Parse`
//! (invariant culture), from doubles with round-half-to-even, from bools and
//! from null (zero), with .NET's overflow and cast exceptions.

use rhai::{Dynamic, Engine, FLOAT, INT, ImmutableString, NativeCallContext};

use crate::core::{RhaiResult, dotnet_type, throw, to_dotnet_string};

/// An integer target: .NET name, range, and the noun of its overflow message.
#[derive(Clone, Copy)]
struct Target {
    name: &'static str,
    lo: i64,
    hi: i64,
    noun: &'static str,
}

const INT32: Target = Target {
    name: "Int32",
    lo: i32::MIN as i64,
    hi: i32::MAX as i64,
    noun: "an Int32",
};
const INT64: Target = Target {
    name: "Int64",
    lo: i64::MIN,
    hi: i64::MAX,
    noun: "an Int64",
};
const INT16: Target = Target {
    name: "Int16",
    lo: i16::MIN as i64,
    hi: i16::MAX as i64,
    noun: "an Int16",
};
const BYTE: Target = Target {
    name: "Byte",
    lo: 0,
    hi: u8::MAX as i64,
    noun: "an unsigned byte",
};
const SBYTE: Target = Target {
    name: "SByte",
    lo: i8::MIN as i64,
    hi: i8::MAX as i64,
    noun: "a signed byte",
};
const UINT16: Target = Target {
    name: "UInt16",
    lo: 0,
    hi: u16::MAX as i64,
    noun: "a UInt16",
};
const UINT32: Target = Target {
    name: "UInt32",
    lo: 0,
    hi: u32::MAX as i64,
    noun: "a UInt32",
};
// UInt64 values above Int64.MaxValue cannot be held by a rhai INT.
const UINT64: Target = Target {
    name: "UInt64",
    lo: 0,
    hi: i64::MAX,
    noun: "a UInt64",
};

fn overflow<T>(t: Target) -> RhaiResult<T> {
    throw(
        "OverflowException",
        format!("Value was either too large or too small for {}.", t.noun),
    )
}

fn bad_format<T>(s: &str) -> RhaiResult<T> {
    throw(
        "FormatException",
        format!("The input string '{s}' was not in a correct format."),
    )
}

fn invalid_cast<T>(from: &str, to: &str) -> RhaiResult<T> {
    throw(
        "InvalidCastException",
        format!("Invalid cast from '{from}' to '{to}'."),
    )
}

fn trim_white(s: &str) -> &str {
    s.trim_matches(|c: char| c == ' ' || ('\u{9}'..='\u{d}').contains(&c))
        .trim_end_matches('\0')
}

/// `int.Parse(s)` and friends (`NumberStyles.Integer`, invariant culture):
/// surrounding white space, an optional sign, decimal digits, in range.
pub(crate) fn parse_integer(s: &str, lo: i64, hi: i64, noun: &str) -> RhaiResult<i64> {
    let body = trim_white(s);
    let (neg, digits) = match body.as_bytes().first() {
        Some(b'-') => (true, body.get(1..).unwrap_or_default()),
        Some(b'+') => (false, body.get(1..).unwrap_or_default()),
        _ => (false, body),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return bad_format(s);
    }
    let mut mag: i128 = 0;
    for b in digits.bytes() {
        mag = mag * 10 + i128::from(b - b'0');
        if mag > i128::from(u64::MAX) {
            break;
        }
    }
    let v = if neg { -mag } else { mag };
    match i64::try_from(v) {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => throw(
            "OverflowException",
            format!("Value was either too large or too small for {noun}."),
        ),
    }
}

/// `double.Parse(s)` (`NumberStyles.Float | AllowThousands`, invariant
/// culture): sign, digits with `,` group separators, `.`, exponent,
/// `Infinity`/`∞`/`NaN`; overflow gives an infinity.
pub(crate) fn parse_double(s: &str) -> RhaiResult<f64> {
    let body = trim_white(s);
    let (neg, rest) = match body.as_bytes().first() {
        Some(b'-') => (true, body.get(1..).unwrap_or_default()),
        Some(b'+') => (false, body.get(1..).unwrap_or_default()),
        _ => (false, body),
    };
    let sign = if neg { -1.0 } else { 1.0 };
    if rest.eq_ignore_ascii_case("infinity") || rest == "∞" {
        return Ok(sign * f64::INFINITY);
    }
    if rest.eq_ignore_ascii_case("nan") {
        return Ok(f64::NAN);
    }
    let bytes = rest.as_bytes();
    let mut i = 0;
    let mut clean = String::with_capacity(rest.len() + 1);
    let mut digits = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'0'..=b'9' => {
                clean.push(char::from(b));
                digits += 1;
            }
            b',' if digits > 0 => {}
            _ => break,
        }
        i += 1;
    }
    if bytes.get(i) == Some(&b'.') {
        clean.push('.');
        i += 1;
        while let Some(&b) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
            clean.push(char::from(b));
            digits += 1;
            i += 1;
        }
    }
    if digits == 0 {
        return bad_format(s);
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        clean.push('e');
        i += 1;
        if let Some(&b) = bytes.get(i).filter(|&&b| b == b'+' || b == b'-') {
            clean.push(char::from(b));
            i += 1;
        }
        let start = i;
        while let Some(&b) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
            clean.push(char::from(b));
            i += 1;
        }
        if i == start {
            return bad_format(s);
        }
    }
    if i != bytes.len() {
        return bad_format(s);
    }
    match clean.parse::<f64>() {
        Ok(x) => Ok(sign * x),
        Err(_) => bad_format(s),
    }
}

/// A custom value that wraps a primitive (`JValue`) exposes it as `Value`.
fn unwrap_custom(ctx: &NativeCallContext, v: &Dynamic) -> RhaiResult<Dynamic> {
    match ctx.call_native_fn::<Dynamic>("get$Value", (v.clone(),)) {
        Ok(inner) if !is_custom(&inner) => Ok(inner),
        _ => throw(
            "InvalidCastException",
            format!(
                "Unable to cast object of type '{}' to type 'System.IConvertible'.",
                dotnet_type(v)
            ),
        ),
    }
}

fn is_custom(v: &Dynamic) -> bool {
    !(v.is_unit() || v.is_bool() || v.is_int() || v.is_float() || v.is_string() || v.is_char())
}

fn round_to_integer(x: f64, t: Target) -> RhaiResult<INT> {
    let r = x.round_ties_even();
    if r.is_nan() || r < t.lo as f64 || r >= (t.hi as f64) + 1.0 {
        return overflow(t);
    }
    Ok(r as i64)
}

fn to_integer(ctx: &NativeCallContext, v: &Dynamic, t: Target) -> RhaiResult<INT> {
    if v.is_unit() {
        Ok(0)
    } else if let Ok(n) = v.as_int() {
        if (t.lo..=t.hi).contains(&n) {
            Ok(n)
        } else {
            overflow(t)
        }
    } else if let Ok(x) = v.as_float() {
        round_to_integer(x, t)
    } else if let Ok(b) = v.as_bool() {
        Ok(INT::from(b))
    } else if let Ok(c) = v.as_char() {
        let n = INT::from(u32::from(c));
        if (t.lo..=t.hi).contains(&n) {
            Ok(n)
        } else {
            overflow(t)
        }
    } else if let Ok(s) = v.as_immutable_string_ref() {
        parse_integer(&s, t.lo, t.hi, t.noun)
    } else {
        to_integer(ctx, &unwrap_custom(ctx, v)?, t)
    }
}

fn to_double(ctx: &NativeCallContext, v: &Dynamic) -> RhaiResult<FLOAT> {
    if v.is_unit() {
        Ok(0.0)
    } else if let Ok(n) = v.as_int() {
        Ok(n as f64)
    } else if let Ok(x) = v.as_float() {
        Ok(x)
    } else if let Ok(b) = v.as_bool() {
        Ok(if b { 1.0 } else { 0.0 })
    } else if v.is_char() {
        invalid_cast("Char", "Double")
    } else if let Ok(s) = v.as_immutable_string_ref() {
        parse_double(&s)
    } else {
        to_double(ctx, &unwrap_custom(ctx, v)?)
    }
}

fn to_bool(ctx: &NativeCallContext, v: &Dynamic) -> RhaiResult<bool> {
    if v.is_unit() {
        Ok(false)
    } else if let Ok(b) = v.as_bool() {
        Ok(b)
    } else if let Ok(n) = v.as_int() {
        Ok(n != 0)
    } else if let Ok(x) = v.as_float() {
        Ok(x != 0.0)
    } else if v.is_char() {
        invalid_cast("Char", "Boolean")
    } else if let Ok(s) = v.as_immutable_string_ref() {
        let t = trim_white(&s);
        if t.eq_ignore_ascii_case("true") {
            Ok(true)
        } else if t.eq_ignore_ascii_case("false") {
            Ok(false)
        } else {
            throw(
                "FormatException",
                format!(
                    "String '{}' was not recognized as a valid Boolean.",
                    s.as_str()
                ),
            )
        }
    } else {
        to_bool(ctx, &unwrap_custom(ctx, v)?)
    }
}

fn to_char(ctx: &NativeCallContext, v: &Dynamic) -> RhaiResult<char> {
    if v.is_unit() {
        Ok('\0')
    } else if let Ok(c) = v.as_char() {
        Ok(c)
    } else if let Ok(n) = v.as_int() {
        match u32::try_from(n) {
            Ok(u) if u <= 0xFFFF => Ok(char::from_u32(u).unwrap_or('\u{FFFD}')),
            _ => throw(
                "OverflowException",
                "Value was either too large or too small for a character.",
            ),
        }
    } else if let Ok(s) = v.as_immutable_string_ref() {
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.len_utf16() == 1 => Ok(c),
            _ => throw(
                "FormatException",
                "String must be exactly one character long.",
            ),
        }
    } else if v.is_float() {
        invalid_cast("Double", "Char")
    } else if v.is_bool() {
        invalid_cast("Boolean", "Char")
    } else {
        to_char(ctx, &unwrap_custom(ctx, v)?)
    }
}

/// `ParseNumbers.StringToInt/Long` with `IsTight`: `Convert.ToInt32(s, 16)`.
/// Returns the magnitude with its sign; non-decimal digits are unsigned.
fn parse_radix(s: &str, radix: INT, bits: u32) -> RhaiResult<i128> {
    let radix = match radix {
        2 | 8 | 10 | 16 => radix as u32,
        _ => return throw("ArgumentException", "Invalid Base. (Parameter 'fromBase')"),
    };
    if s.is_empty() {
        return throw(
            "ArgumentOutOfRangeException",
            "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'startIndex')",
        );
    }
    let mut rest = s;
    let mut neg = false;
    if let Some(r) = rest.strip_prefix('-') {
        if radix != 10 {
            return throw(
                "ArgumentException",
                "String cannot contain a minus sign if the base is not 10.",
            );
        }
        neg = true;
        rest = r;
    } else if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    }
    if radix == 16 {
        rest = rest
            .strip_prefix("0x")
            .or_else(|| rest.strip_prefix("0X"))
            .unwrap_or(rest);
    }
    let digits = rest.chars().take_while(|c| c.is_digit(radix)).count();
    if digits == 0 {
        return throw("FormatException", "Could not find any recognizable digits.");
    }
    if digits < rest.len() {
        return throw(
            "FormatException",
            "Additional non-parsable characters are at the end of the string.",
        );
    }
    let limit = 1i128 << bits;
    let mut mag: i128 = 0;
    for c in rest.chars() {
        mag = mag * i128::from(radix) + i128::from(c.to_digit(radix).unwrap_or(0));
        if mag >= limit {
            return throw(
                "OverflowException",
                format!(
                    "Value was either too large or too small for {}.",
                    if bits == 64 { "an Int64" } else { "an Int32" }
                ),
            );
        }
    }
    if radix == 10 {
        let v = if neg { -mag } else { mag };
        let half = 1i128 << (bits - 1);
        if v < -half || v >= half {
            return throw(
                "OverflowException",
                format!(
                    "Value was either too large or too small for {}.",
                    if bits == 64 { "an Int64" } else { "an Int32" }
                ),
            );
        }
        return Ok(v);
    }
    // Two's complement at the parsed width.
    Ok(if mag >= (1i128 << (bits - 1)) {
        mag - limit
    } else {
        mag
    })
}

fn to_integer_base(s: Dynamic, radix: INT, t: Target) -> RhaiResult<INT> {
    let Ok(s) = s.as_immutable_string_ref() else {
        return if s.is_unit() {
            Ok(0)
        } else {
            invalid_cast(&dotnet_type(&s), "String")
        };
    };
    let bits = if t.name == "Int64" { 64 } else { 32 };
    let v = parse_radix(&s, radix, bits)?;
    match t.name {
        "Int32" | "Int64" => Ok(v as i64),
        // Non-decimal digits fill the type's width: "FFFF" is -1 as Int16.
        "UInt32" if radix != 10 => Ok(INT::from(v as u32)),
        "Int16" if radix != 10 && v <= 0xFFFF => Ok(INT::from(v as i16)),
        "SByte" if radix != 10 && v <= 0xFF => Ok(INT::from(v as i8)),
        _ => match i64::try_from(v) {
            Ok(n) if (t.lo..=t.hi).contains(&n) => Ok(n),
            _ => overflow(t),
        },
    }
}

/// `Convert.ToString(n, toBase)`: two's complement for negatives (32-bit
/// when the value fits an Int32, else 64-bit).
fn to_string_base(n: INT, radix: INT) -> RhaiResult<String> {
    let wide = i32::try_from(n).is_err();
    let bits = if wide {
        n as u64
    } else {
        u64::from(n as i32 as u32)
    };
    Ok(match radix {
        2 => format!("{bits:b}"),
        8 => format!("{bits:o}"),
        10 => n.to_string(),
        16 => format!("{bits:x}"),
        _ => return throw("ArgumentException", "Invalid Base. (Parameter 'toBase')"),
    })
}

fn change_type(ctx: &NativeCallContext, v: Dynamic, target: &str) -> RhaiResult<Dynamic> {
    let t = match target.trim_start_matches("System.") {
        "int" | "Int32" => INT32,
        "long" | "Int64" => INT64,
        "short" | "Int16" => INT16,
        "byte" | "Byte" => BYTE,
        "sbyte" | "SByte" => SBYTE,
        "ushort" | "UInt16" => UINT16,
        "uint" | "UInt32" => UINT32,
        "ulong" | "UInt64" => UINT64,
        "double" | "Double" | "decimal" | "Decimal" => {
            return to_double(ctx, &v).map(Dynamic::from_float);
        }
        "float" | "Single" => {
            return to_double(ctx, &v).map(|x| Dynamic::from_float(f64::from(x as f32)));
        }
        "bool" | "Boolean" => return to_bool(ctx, &v).map(Dynamic::from_bool),
        "char" | "Char" => return to_char(ctx, &v).map(Dynamic::from_char),
        "string" | "String" => return to_dotnet_string(ctx, &v).map(Dynamic::from),
        "object" | "Object" => return Ok(v),
        other if dotnet_type(&v) == other => return Ok(v),
        other => return invalid_cast(&dotnet_type(&v), other),
    };
    to_integer(ctx, &v, t).map(Dynamic::from_int)
}

pub(super) fn register(e: &mut Engine) {
    for (name, t) in [
        ("Convert__ToInt32", INT32),
        ("Convert__ToInt64", INT64),
        ("Convert__ToInt16", INT16),
        ("Convert__ToByte", BYTE),
        ("Convert__ToSByte", SBYTE),
        ("Convert__ToUInt16", UINT16),
        ("Convert__ToUInt32", UINT32),
        ("Convert__ToUInt64", UINT64),
    ] {
        {
            // `(value, fromBase)` or `(value, IFormatProvider)`.
            e.register_fn(name, move |ctx: NativeCallContext, v: Dynamic| {
                to_integer(&ctx, &v, t)
            })
            .register_fn(
                name,
                move |ctx: NativeCallContext, v: Dynamic, second: Dynamic| match second.as_int() {
                    Ok(radix) => to_integer_base(v, radix, t),
                    Err(_) => to_integer(&ctx, &v, t),
                },
            );
        }
    }
    e.register_fn("Convert__ToDouble", |ctx: NativeCallContext, v: Dynamic| {
        to_double(&ctx, &v)
    })
    .register_fn(
        "Convert__ToDouble",
        |ctx: NativeCallContext, v: Dynamic, _p: Dynamic| to_double(&ctx, &v),
    )
    .register_fn(
        "Convert__ToDecimal",
        |ctx: NativeCallContext, v: Dynamic| to_double(&ctx, &v),
    )
    .register_fn(
        "Convert__ToDecimal",
        |ctx: NativeCallContext, v: Dynamic, _p: Dynamic| to_double(&ctx, &v),
    )
    .register_fn("Convert__ToSingle", |ctx: NativeCallContext, v: Dynamic| {
        to_double(&ctx, &v).map(|x| f64::from(x as f32))
    })
    .register_fn(
        "Convert__ToBoolean",
        |ctx: NativeCallContext, v: Dynamic| to_bool(&ctx, &v),
    )
    .register_fn(
        "Convert__ToBoolean",
        |ctx: NativeCallContext, v: Dynamic, _p: Dynamic| to_bool(&ctx, &v),
    )
    .register_fn("Convert__ToChar", |ctx: NativeCallContext, v: Dynamic| {
        to_char(&ctx, &v)
    })
    .register_fn("Convert__ToString", |ctx: NativeCallContext, v: Dynamic| {
        to_dotnet_string(&ctx, &v)
    })
    .register_fn(
        "Convert__ToString",
        |ctx: NativeCallContext, v: Dynamic, second: Dynamic| match (v.as_int(), second.as_int()) {
            (Ok(n), Ok(radix)) => to_string_base(n, radix),
            _ => to_dotnet_string(&ctx, &v),
        },
    )
    .register_fn(
        "Convert__ChangeType",
        |ctx: NativeCallContext, v: Dynamic, t: ImmutableString| change_type(&ctx, v, &t),
    )
    .register_fn(
        "Convert__ChangeType",
        |ctx: NativeCallContext, v: Dynamic, t: ImmutableString, _p: Dynamic| {
            change_type(&ctx, v, &t)
        },
    )
    .register_fn("Convert__IsDBNull", |_: Dynamic| false)
    .register_fn("Convert__DBNull", || Dynamic::UNIT);
}
