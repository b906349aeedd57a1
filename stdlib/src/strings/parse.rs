//! `int.Parse`, `long.Parse`, `double.Parse`, `bool.Parse`, `decimal.Parse`
//! (and the other integer types), with their `TryParse` as `X__TryParse__out(s)`
//! returning `[succeeded, value]`. Invariant culture, the default
//! `NumberStyles` of each type: integers `[ws][sign]digits[ws]`; `double`
//! adds thousands separators, a decimal point and an exponent; `decimal`
//! the same without exponent. A provider argument is accepted and ignored.

use rhai::{Array, Dynamic, Engine, INT};

use super::opt_str;
use crate::core::{RhaiResult, throw};

/// .NET's parsing white space: space and `\t`..`\r` (and trailing NULs).
fn trim_ws(s: &str) -> &str {
    s.trim_start_matches(|c: char| c == ' ' || ('\t'..='\r').contains(&c))
        .trim_end_matches(|c: char| c == ' ' || c == '\0' || ('\t'..='\r').contains(&c))
}

enum Failure {
    Format,
    Overflow,
}

/// `[sign]digits` → i128 (enough for every integer type's range check).
fn parse_integer(s: &str) -> Result<i128, Failure> {
    let t = trim_ws(s);
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::Format);
    }
    let magnitude = digits.trim_start_matches('0');
    if magnitude.len() > 30 {
        return Err(Failure::Overflow);
    }
    let n: i128 = if magnitude.is_empty() {
        0
    } else {
        magnitude.parse().map_err(|_| Failure::Overflow)?
    };
    Ok(if negative { -n } else { n })
}

/// `[sign]int[,int...][.frac][e[sign]exp]` → f64; `exponent` false for decimal.
fn parse_real(s: &str, exponent: bool) -> Result<f64, Failure> {
    let t = trim_ws(s);
    let lowered = t.to_ascii_lowercase();
    match lowered.as_str() {
        "nan" | "-nan" | "+nan" if exponent => return Ok(f64::NAN),
        "infinity" | "+infinity" | "∞" | "+∞" if exponent => return Ok(f64::INFINITY),
        "-infinity" | "-∞" if exponent => return Ok(f64::NEG_INFINITY),
        _ => {}
    }
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let mut normalized = String::from(if negative { "-" } else { "" });
    let mut chars = body.chars().peekable();
    let mut digits = 0;
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            normalized.push(c);
            digits += 1;
        } else if c != ',' || digits == 0 {
            break;
        }
        chars.next();
    }
    if chars.peek() == Some(&'.') {
        chars.next();
        normalized.push('.');
        while let Some(&c) = chars.peek().filter(|c| c.is_ascii_digit()) {
            normalized.push(c);
            digits += 1;
            chars.next();
        }
    }
    if digits == 0 {
        return Err(Failure::Format);
    }
    if exponent && matches!(chars.peek(), Some('e' | 'E')) {
        let rest: String = chars.clone().skip(1).collect();
        let (sign, exp_digits) = match rest.strip_prefix('-') {
            Some(r) => ("-", r),
            None => ("", rest.strip_prefix('+').unwrap_or(&rest)),
        };
        if exp_digits.is_empty() || !exp_digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Failure::Format);
        }
        let exp = exp_digits.trim_start_matches('0');
        normalized.push('e');
        normalized.push_str(sign);
        // Clamp absurd exponents: the result is 0 or infinity either way.
        normalized.push_str(if exp.len() > 6 {
            "999999"
        } else if exp.is_empty() {
            "0"
        } else {
            exp
        });
        return normalized.parse().map_err(|_| Failure::Format);
    }
    if chars.next().is_some() {
        return Err(Failure::Format);
    }
    normalized.parse().map_err(|_| Failure::Format)
}

/// One parseable type: its .NET name and how to read a value.
#[derive(Clone, Copy)]
enum Kind {
    Int(&'static str, i128, i128),
    Double,
    Single,
    Decimal,
    Bool,
}

fn parse(kind: Kind, s: &str) -> Result<Dynamic, Failure> {
    match kind {
        Kind::Int(_, lo, hi) => {
            let n = parse_integer(s)?;
            if n < lo || n > hi {
                return Err(Failure::Overflow);
            }
            INT::try_from(n)
                .map(Dynamic::from_int)
                .map_err(|_| Failure::Overflow)
        }
        Kind::Double => parse_real(s, true).map(Dynamic::from_float),
        Kind::Single => parse_real(s, true).map(|x| Dynamic::from_float(f64::from(x as f32))),
        Kind::Decimal => {
            let x = parse_real(s, false)?;
            if x.abs() >= 7.922_816_251_426_434e28 {
                return Err(Failure::Overflow);
            }
            Ok(Dynamic::from_float(x))
        }
        Kind::Bool => match s
            .trim_matches(|c: char| c.is_whitespace() || c == '\0')
            .to_ascii_lowercase()
            .as_str()
        {
            "true" => Ok(true.into()),
            "false" => Ok(false.into()),
            _ => Err(Failure::Format),
        },
    }
}

fn parse_or_throw(kind: Kind, v: &Dynamic) -> RhaiResult<Dynamic> {
    let param = if matches!(kind, Kind::Bool) {
        "value"
    } else {
        "s"
    };
    let Some(s) = opt_str(v, param)? else {
        return throw(
            "ArgumentNullException",
            format!("Value cannot be null. (Parameter '{param}')"),
        );
    };
    match (parse(kind, &s), kind) {
        (Ok(v), _) => Ok(v),
        (Err(_), Kind::Bool) => throw(
            "FormatException",
            format!("String '{s}' was not recognized as a valid Boolean."),
        ),
        (Err(Failure::Format), _) => throw(
            "FormatException",
            format!("The input string '{s}' was not in a correct format."),
        ),
        (Err(Failure::Overflow), Kind::Int(name, ..)) => throw(
            "OverflowException",
            format!("Value was either too large or too small for an {name}."),
        ),
        (Err(Failure::Overflow), _) => throw(
            "OverflowException",
            "Value was either too large or too small for a Decimal.",
        ),
    }
}

fn try_parse(kind: Kind, v: &Dynamic) -> Array {
    let parsed = v
        .clone()
        .into_immutable_string()
        .ok()
        .and_then(|s| parse(kind, &s).ok());
    match parsed {
        Some(v) => vec![true.into(), v],
        None => {
            let zero = match kind {
                Kind::Int(..) => Dynamic::from_int(0),
                Kind::Bool => false.into(),
                _ => Dynamic::from_float(0.0),
            };
            vec![false.into(), zero]
        }
    }
}

pub(super) fn register(e: &mut Engine) {
    let kinds: [(&[&str], Kind); 12] = [
        (
            &["int", "Int32"],
            Kind::Int("Int32", i32::MIN.into(), i32::MAX.into()),
        ),
        (
            &["long", "Int64"],
            Kind::Int("Int64", i64::MIN.into(), i64::MAX.into()),
        ),
        (
            &["short", "Int16"],
            Kind::Int("Int16", i16::MIN.into(), i16::MAX.into()),
        ),
        (&["byte", "Byte"], Kind::Int("Byte", 0, u8::MAX.into())),
        (
            &["sbyte", "SByte"],
            Kind::Int("SByte", i8::MIN.into(), i8::MAX.into()),
        ),
        (
            &["ushort", "UInt16"],
            Kind::Int("UInt16", 0, u16::MAX.into()),
        ),
        (&["uint", "UInt32"], Kind::Int("UInt32", 0, u32::MAX.into())),
        (
            &["ulong", "UInt64"],
            Kind::Int("UInt64", 0, u64::MAX.into()),
        ),
        (&["double", "Double"], Kind::Double),
        (&["float", "Single"], Kind::Single),
        (&["decimal", "Decimal"], Kind::Decimal),
        (&["bool", "Boolean"], Kind::Bool),
    ];
    for (names, kind) in kinds {
        for t in names {
            e.register_fn(format!("{t}__Parse"), move |s: Dynamic| {
                parse_or_throw(kind, &s)
            })
            .register_fn(
                format!("{t}__Parse"),
                move |s: Dynamic, _provider: Dynamic| parse_or_throw(kind, &s),
            )
            .register_fn(format!("{t}__TryParse__out"), move |s: Dynamic| {
                try_parse(kind, &s)
            })
            .register_fn(
                format!("{t}__TryParse__out"),
                move |s: Dynamic, _provider: Dynamic| try_parse(kind, &s),
            );
        }
    }
}
