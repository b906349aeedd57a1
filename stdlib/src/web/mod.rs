//! `System.Net.WebUtility`, `System.Web.HttpUtility` (URL and HTML
//! encoding, `ParseQueryString`) and `System.Uri`.
//!
//! - `mod.rs`: the URL encoders and their registration;
//! - `entities.rs`: HTML encoding and the named entities;
//! - `query.rs`: `NameValueCollection` and `ParseQueryString`;
//! - `uri.rs`: `Uri`, `UriKind`, `UriPartial`.
//!
//! The two URL encoders differ as in .NET: `WebUtility.UrlEncode` writes
//! uppercase hex, `HttpUtility.UrlEncode` lowercase; both write spaces as `+`
//! and keep letters, digits and `-_.!*()`. `Uri.EscapeDataString` keeps only
//! RFC 3986 unreserved characters and writes spaces as `%20`.

mod entities;
mod query;
mod uri;

use rhai::{Dynamic, Engine, ImmutableString};

use crate::core::RhaiResult;

pub(crate) use entities::{html_decode, html_encode};

fn push_hex(out: &mut String, b: u8, upper: bool) {
    out.push('%');
    if upper {
        out.push_str(&format!("{b:02X}"));
    } else {
        out.push_str(&format!("{b:02x}"));
    }
}

/// `WebUtility.UrlEncode` (`upper`) / `HttpUtility.UrlEncode`.
pub(crate) fn url_encode(s: &str, upper: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'*'
            | b'('
            | b')' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => push_hex(&mut out, b, upper),
        }
    }
    out
}

fn hex_at(b: &[u8], i: usize, n: usize) -> Option<u32> {
    let digits = b.get(i..i + n)?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// `WebUtility.UrlDecode` / `HttpUtility.UrlDecode` (`percent_u`: also
/// `%uXXXX`): `+` is a space, `%XX` a byte, bytes are read as UTF-8 (bad
/// sequences become U+FFFD); a `%` that starts no escape stays.
pub(crate) fn url_decode(s: &str, percent_u: bool) -> String {
    let b = s.as_bytes();
    let mut bytes = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'+' => {
                bytes.push(b' ');
                i += 1;
            }
            b'%' if percent_u
                && matches!(b.get(i + 1), Some(b'u' | b'U'))
                && hex_at(b, i + 2, 4).is_some() =>
            {
                let hi = hex_at(b, i + 2, 4).unwrap_or(0xFFFD);
                i += 6;
                let mut units = vec![hi as u16];
                let pair = (0xD800..0xDC00).contains(&hi)
                    && b.get(i) == Some(&b'%')
                    && matches!(b.get(i + 1), Some(b'u' | b'U'));
                if let Some(lo) =
                    hex_at(b, i + 2, 4).filter(|lo| pair && (0xDC00..0xE000).contains(lo))
                {
                    units.push(lo as u16);
                    i += 6;
                }
                for ch in char::decode_utf16(units) {
                    let mut buf = [0u8; 4];
                    bytes.extend_from_slice(
                        ch.unwrap_or('\u{FFFD}').encode_utf8(&mut buf).as_bytes(),
                    );
                }
            }
            b'%' if hex_at(b, i + 1, 2).is_some() => {
                bytes.push(hex_at(b, i + 1, 2).unwrap_or(0) as u8);
                i += 3;
            }
            _ => {
                bytes.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Undoes `%XX` escapes whose UTF-8 decodes to a character `keep` accepts;
/// other escapes, and bytes that are not UTF-8, stay as written.
pub(crate) fn unescape(s: &str, keep: impl Fn(char) -> bool) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut plain_start = 0;
    while i < b.len() {
        if b.get(i) != Some(&b'%') || hex_at(b, i + 1, 2).is_none() {
            i += 1;
            continue;
        }
        out.push_str(s.get(plain_start..i).unwrap_or_default());
        // A run of escapes: each byte came from three characters.
        let run_start = i;
        let mut run = Vec::new();
        while let (Some(b'%'), Some(v)) = (b.get(i), hex_at(b, i + 1, 2)) {
            run.push(v as u8);
            i += 3;
        }
        let text = |from: usize, to: usize| {
            s.get(run_start + 3 * from..run_start + 3 * to)
                .unwrap_or_default()
        };
        let mut pos = 0;
        while pos < run.len() {
            let rest = run.get(pos..).unwrap_or_default();
            let (valid, bad) = match std::str::from_utf8(rest) {
                Ok(v) => (v, 0),
                Err(e) => (
                    std::str::from_utf8(rest.get(..e.valid_up_to()).unwrap_or_default())
                        .unwrap_or_default(),
                    e.error_len().unwrap_or(rest.len() - e.valid_up_to()),
                ),
            };
            for c in valid.chars() {
                if keep(c) {
                    out.push(c);
                } else {
                    out.push_str(text(pos, pos + c.len_utf8()));
                }
                pos += c.len_utf8();
            }
            out.push_str(text(pos, pos + bad));
            pos += bad;
        }
        plain_start = i;
    }
    out.push_str(s.get(plain_start..).unwrap_or_default());
    out
}

/// `Uri.EscapeDataString` (`uri_string` false) / `Uri.EscapeUriString`.
fn escape(s: &str, uri_string: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (uri_string && b":/?#[]@!$&'()*+,;=".contains(&b));
        if keep {
            out.push(char::from(b));
        } else {
            push_hex(&mut out, b, true);
        }
    }
    out
}

/// `HttpUtility.UrlPathEncode`: spaces and non-ASCII before the `?`.
fn url_path_encode(s: &str) -> String {
    let (path, query) = s.split_once('?').map_or((s, None), |(p, q)| (p, Some(q)));
    let mut out = String::with_capacity(s.len());
    for b in path.bytes() {
        if b <= b' ' || b >= 0x7F {
            push_hex(&mut out, b, false);
        } else {
            out.push(char::from(b));
        }
    }
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn html_attribute_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Registers `T__name(string)` with null in, null out.
fn string_fn(e: &mut Engine, name: &str, f: fn(&str) -> String) {
    e.register_fn(name, move |s: ImmutableString| f(&s))
        .register_fn(name, |_: ()| Dynamic::UNIT);
}

pub(crate) fn register(e: &mut Engine) {
    string_fn(e, "WebUtility__UrlEncode", |s| url_encode(s, true));
    string_fn(e, "WebUtility__UrlDecode", |s| url_decode(s, false));
    string_fn(e, "WebUtility__HtmlEncode", html_encode);
    string_fn(e, "WebUtility__HtmlDecode", html_decode);
    string_fn(e, "HttpUtility__UrlEncode", |s| url_encode(s, false));
    string_fn(e, "HttpUtility__UrlDecode", |s| url_decode(s, true));
    string_fn(e, "HttpUtility__HtmlEncode", html_encode);
    string_fn(e, "HttpUtility__HtmlDecode", html_decode);
    string_fn(e, "HttpUtility__HtmlAttributeEncode", html_attribute_encode);
    string_fn(e, "HttpUtility__UrlPathEncode", url_path_encode);
    e.register_fn("HttpUtility__ParseQueryString", |s: ImmutableString| {
        query::parse_query(&s)
    })
    .register_fn(
        "HttpUtility__ParseQueryString",
        |_: ()| -> RhaiResult<query::NameValueCollection> { crate::convert::null_arg("query") },
    )
    .register_fn("Uri__EscapeDataString", |s: ImmutableString| {
        escape(&s, false)
    })
    .register_fn("Uri__EscapeDataString", |_: ()| -> RhaiResult<String> {
        crate::convert::null_arg("stringToEscape")
    })
    .register_fn("Uri__EscapeUriString", |s: ImmutableString| {
        escape(&s, true)
    })
    .register_fn("Uri__EscapeUriString", |_: ()| -> RhaiResult<String> {
        crate::convert::null_arg("stringToEscape")
    })
    .register_fn("Uri__UnescapeDataString", |s: ImmutableString| {
        unescape(&s, |_| true)
    })
    .register_fn("Uri__UnescapeDataString", |_: ()| -> RhaiResult<String> {
        crate::convert::null_arg("stringToUnescape")
    })
    .register_fn("Uri__HexEscape", |c: char| -> RhaiResult<String> {
        match u8::try_from(u32::from(c)) {
            Ok(b) => Ok(format!("%{b:02X}")),
            Err(_) => crate::core::throw(
                "ArgumentOutOfRangeException",
                "Specified argument was out of the range of valid values. (Parameter 'character')",
            ),
        }
    });
    query::register(e);
    uri::register(e);
}

#[cfg(test)]
mod tests;
