//! `Convert`: Base64 and hex (`ToBase64String`, `FromBase64String`,
//! `ToHexString`, `FromHexString`) and the numeric/boolean/string conversions
//! (`ToInt32`, `ToInt64`, `ToInt16`, `ToByte`, `ToDouble`, `ToDecimal`,
//! `ToBoolean`, `ToString`, `ToChar`, `ChangeType`), with .NET's rounding,
//! overflow checks and exception messages.
//!
//! - `mod.rs`: registration, Base64 and hex;
//! - `number.rs`: the conversions of one value to another primitive.

mod number;

use rhai::{Blob, Engine, INT, ImmutableString};

use crate::core::{RhaiResult, throw};

#[allow(unused_imports, reason = "for the other families (Parse)")]
pub(crate) use number::{parse_double, parse_integer};

const BAD_BASE64: &str = "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.";
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `Value cannot be null. (Parameter 'p')`
pub(crate) fn null_arg<T>(param: &str) -> RhaiResult<T> {
    throw(
        "ArgumentNullException",
        format!("Value cannot be null. (Parameter '{param}')"),
    )
}

/// The `[offset, offset + length)` slice of `bytes`, checked like .NET's
/// `(array, offset, length)` overloads.
pub(crate) fn checked_range(
    len: usize,
    offset: INT,
    length: INT,
    off_name: &str,
    len_name: &str,
) -> RhaiResult<std::ops::Range<usize>> {
    if length < 0 {
        return throw(
            "ArgumentOutOfRangeException",
            format!(
                "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter '{len_name}')"
            ),
        );
    }
    if offset < 0 {
        return throw(
            "ArgumentOutOfRangeException",
            format!("Value must be positive. (Parameter '{off_name}')"),
        );
    }
    let (start, count) = (
        usize::try_from(offset).unwrap_or(usize::MAX),
        usize::try_from(length).unwrap_or(usize::MAX),
    );
    match start.checked_add(count) {
        Some(end) if end <= len => Ok(start..end),
        _ => throw(
            "ArgumentOutOfRangeException",
            format!(
                "Offset and length must refer to a position in the string. (Parameter '{off_name}')"
            ),
        ),
    }
}

/// Standard Base64 with padding.
pub(crate) fn to_base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_value(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// `Convert.FromBase64String`: whitespace (space, tab, CR, LF) is ignored
/// anywhere; the rest must be whole quartets with at most two `=` at the end.
/// Like .NET, the unused low bits of the last quartet are not checked.
pub(crate) fn from_base64(s: &str) -> RhaiResult<Vec<u8>> {
    let chars: Vec<u8> = s
        .bytes()
        .filter(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        .collect();
    if !chars.len().is_multiple_of(4) {
        return throw("FormatException", BAD_BASE64);
    }
    let padding = chars.iter().rev().take_while(|&&c| c == b'=').count();
    if padding > 2 {
        return throw("FormatException", BAD_BASE64);
    }
    let mut out = Vec::with_capacity(chars.len() / 4 * 3);
    let data = chars.get(..chars.len() - padding).unwrap_or_default();
    for quartet in data.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in quartet.iter().enumerate() {
            let Some(v) = base64_value(c) else {
                return throw("FormatException", BAD_BASE64);
            };
            n |= v << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(bytes.get(1..quartet.len()).unwrap_or_default());
    }
    Ok(out)
}

fn base64_with_options(bytes: &[u8], options: INT) -> RhaiResult<String> {
    match options {
        0 => Ok(to_base64(bytes)),
        1 => {
            let plain = to_base64(bytes);
            let lines: Vec<&str> = plain
                .as_bytes()
                .chunks(76)
                .map(|l| std::str::from_utf8(l).unwrap_or_default())
                .collect();
            Ok(lines.join("\r\n"))
        }
        _ => throw(
            "ArgumentException",
            format!("Illegal enum value: {options}. (Parameter 'options')"),
        ),
    }
}

/// Hex digits, uppercase or lowercase.
pub(crate) fn to_hex(bytes: &[u8], upper: bool) -> String {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(digits[usize::from(b >> 4)]));
        s.push(char::from(digits[usize::from(b & 15)]));
    }
    s
}

fn from_hex(s: &str) -> RhaiResult<Blob> {
    if !s.len().is_multiple_of(2) {
        return throw(
            "FormatException",
            "The input is not a valid hex string as its length is not a multiple of 2.",
        );
    }
    let digit = |c: u8| char::from(c).to_digit(16);
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            match (
                pair.first().and_then(|&c| digit(c)),
                pair.get(1).and_then(|&c| digit(c)),
            ) {
                (Some(h), Some(l)) => Ok(((h << 4) | l) as u8),
                _ => throw(
                    "FormatException",
                    "The input is not a valid hex string as it contains a non-hex character.",
                ),
            }
        })
        .collect()
}

fn register_codecs(e: &mut Engine) {
    e.register_fn("Convert__ToBase64String", |b: Blob| to_base64(&b))
        .register_fn("Convert__ToBase64String", |_: ()| -> RhaiResult<String> {
            null_arg("inArray")
        })
        .register_fn("Convert__ToBase64String", |b: Blob, options: INT| {
            base64_with_options(&b, options)
        })
        .register_fn(
            "Convert__ToBase64String",
            |b: Blob, offset: INT, length: INT| -> RhaiResult<String> {
                let r = checked_range(b.len(), offset, length, "offset", "length")?;
                Ok(to_base64(b.get(r).unwrap_or_default()))
            },
        )
        .register_fn(
            "Convert__ToBase64String",
            |b: Blob, offset: INT, length: INT, options: INT| -> RhaiResult<String> {
                let r = checked_range(b.len(), offset, length, "offset", "length")?;
                base64_with_options(b.get(r).unwrap_or_default(), options)
            },
        )
        .register_fn(
            "Convert__FromBase64String",
            |s: ImmutableString| -> RhaiResult<Blob> { from_base64(&s) },
        )
        .register_fn("Convert__FromBase64String", |_: ()| -> RhaiResult<Blob> {
            null_arg("s")
        })
        .register_fn(
            "Convert__FromBase64CharArray",
            |a: rhai::Array, offset: INT, length: INT| -> RhaiResult<Blob> {
                let r = checked_range(a.len(), offset, length, "offset", "length")?;
                let s: String = a
                    .get(r)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|c| c.as_char().ok())
                    .collect();
                from_base64(&s)
            },
        )
        .register_fn("Base64FormattingOptions__None", || 0 as INT)
        .register_fn("Base64FormattingOptions__InsertLineBreaks", || 1 as INT)
        .register_fn("Convert__ToHexString", |b: Blob| to_hex(&b, true))
        .register_fn("Convert__ToHexString", |_: ()| -> RhaiResult<String> {
            null_arg("inArray")
        })
        .register_fn(
            "Convert__ToHexString",
            |b: Blob, offset: INT, length: INT| -> RhaiResult<String> {
                let r = checked_range(b.len(), offset, length, "offset", "length")?;
                Ok(to_hex(b.get(r).unwrap_or_default(), true))
            },
        )
        .register_fn("Convert__ToHexStringLower", |b: Blob| to_hex(&b, false))
        .register_fn("Convert__ToHexStringLower", |_: ()| -> RhaiResult<String> {
            null_arg("inArray")
        })
        .register_fn("Convert__FromHexString", |s: ImmutableString| from_hex(&s))
        .register_fn("Convert__FromHexString", |_: ()| -> RhaiResult<Blob> {
            null_arg("s")
        });
}

pub(crate) fn register(e: &mut Engine) {
    register_codecs(e);
    number::register(e);
}

#[cfg(test)]
mod tests;
