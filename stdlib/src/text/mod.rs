//! `System.Text.Encoding` (UTF8, ASCII, Unicode, BigEndianUnicode, UTF32,
//! Latin1; `GetBytes`, `GetString`, ...), `BitConverter`, `Guid` and `Random`.
//!
//! - `mod.rs`: `Encoding`;
//! - `bits.rs`: `BitConverter`;
//! - `guid.rs`: `Guid`;
//! - `random.rs`: `Random` (the .NET seeded algorithm, so `new Random(42)`
//!   gives the numbers .NET gives).

mod bits;
mod guid;
mod random;

use rhai::{Array, Blob, Dynamic, Engine, INT, ImmutableString};

use crate::core::{RhaiResult, throw};

#[allow(unused_imports, reason = "for the context model (RequestId)")]
pub(crate) use guid::{Guid, parse as parse_guid};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Utf8,
    Ascii,
    Latin1,
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

/// A `System.Text.Encoding`; `bom` only affects `GetPreamble()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoding {
    kind: Kind,
    bom: bool,
}

const UTF8: Encoding = Encoding {
    kind: Kind::Utf8,
    bom: true,
};

impl Encoding {
    fn names(self) -> (&'static str, &'static str, INT, &'static str) {
        match self.kind {
            Kind::Utf8 => (
                "utf-8",
                "Unicode (UTF-8)",
                65001,
                "System.Text.UTF8Encoding+UTF8EncodingSealed",
            ),
            Kind::Ascii => (
                "us-ascii",
                "US-ASCII",
                20127,
                "System.Text.ASCIIEncoding+ASCIIEncodingSealed",
            ),
            Kind::Latin1 => (
                "iso-8859-1",
                "Western European (ISO)",
                28591,
                "System.Text.Latin1Encoding+Latin1EncodingSealed",
            ),
            Kind::Utf16Le => ("utf-16", "Unicode", 1200, "System.Text.UnicodeEncoding"),
            Kind::Utf16Be => (
                "utf-16BE",
                "Unicode (Big-Endian)",
                1201,
                "System.Text.UnicodeEncoding",
            ),
            Kind::Utf32Le => (
                "utf-32",
                "Unicode (UTF-32)",
                12000,
                "System.Text.UTF32Encoding",
            ),
            Kind::Utf32Be => (
                "utf-32BE",
                "Unicode (UTF-32 Big-Endian)",
                12001,
                "System.Text.UTF32Encoding",
            ),
        }
    }

    /// Non-encodable characters become `?`, one per UTF-16 code unit (.NET's
    /// replacement fallback).
    pub(crate) fn encode(self, s: &str) -> Vec<u8> {
        let single = |limit: u32| {
            let mut out = Vec::with_capacity(s.len());
            for c in s.chars() {
                match u8::try_from(u32::from(c)) {
                    Ok(b) if u32::from(b) <= limit => out.push(b),
                    _ => out.extend(std::iter::repeat_n(b'?', c.len_utf16())),
                }
            }
            out
        };
        match self.kind {
            Kind::Utf8 => s.as_bytes().to_vec(),
            Kind::Ascii => single(0x7F),
            Kind::Latin1 => single(0xFF),
            Kind::Utf16Le => s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            Kind::Utf16Be => s.encode_utf16().flat_map(u16::to_be_bytes).collect(),
            Kind::Utf32Le => s.chars().flat_map(|c| u32::from(c).to_le_bytes()).collect(),
            Kind::Utf32Be => s.chars().flat_map(|c| u32::from(c).to_be_bytes()).collect(),
        }
    }

    /// Invalid input becomes U+FFFD (`?` for ASCII), as .NET's decoders do.
    pub(crate) fn decode(self, b: &[u8]) -> String {
        let utf16 = |units: Vec<u16>, odd: bool| {
            let mut s: String = char::decode_utf16(units)
                .map(|r| r.unwrap_or('\u{FFFD}'))
                .collect();
            if odd {
                s.push('\u{FFFD}');
            }
            s
        };
        let utf32 = |word: fn([u8; 4]) -> u32| {
            let mut s: String = b
                .chunks_exact(4)
                .map(|c| char::from_u32(word([c[0], c[1], c[2], c[3]])).unwrap_or('\u{FFFD}'))
                .collect();
            if !b.len().is_multiple_of(4) {
                s.push('\u{FFFD}');
            }
            s
        };
        match self.kind {
            Kind::Utf8 => String::from_utf8_lossy(b).into_owned(),
            Kind::Ascii => b
                .iter()
                .map(|&x| if x < 0x80 { char::from(x) } else { '?' })
                .collect(),
            Kind::Latin1 => b.iter().map(|&x| char::from(x)).collect(),
            Kind::Utf16Le => utf16(
                b.chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect(),
                !b.len().is_multiple_of(2),
            ),
            Kind::Utf16Be => utf16(
                b.chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect(),
                !b.len().is_multiple_of(2),
            ),
            Kind::Utf32Le => utf32(u32::from_le_bytes),
            Kind::Utf32Be => utf32(u32::from_be_bytes),
        }
    }

    fn preamble(self) -> Blob {
        if !self.bom {
            return Blob::new();
        }
        match self.kind {
            Kind::Utf8 => vec![0xEF, 0xBB, 0xBF],
            Kind::Utf16Le => vec![0xFF, 0xFE],
            Kind::Utf16Be => vec![0xFE, 0xFF],
            Kind::Utf32Le => vec![0xFF, 0xFE, 0, 0],
            Kind::Utf32Be => vec![0, 0, 0xFE, 0xFF],
            Kind::Ascii | Kind::Latin1 => Blob::new(),
        }
    }
}

fn by_name(name: &str) -> RhaiResult<Encoding> {
    let kind = match name.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" | "unicode-1-1-utf-8" | "unicode-2-0-utf-8" | "x-unicode20utf8" => {
            Kind::Utf8
        }
        "us-ascii" | "ascii" | "us" | "ansi_x3.4-1968" | "ansi_x3.4-1986" | "cp367" | "csascii"
        | "ibm367" | "iso-ir-6" | "iso646-us" | "iso_646.irv:1991" => Kind::Ascii,
        "iso-8859-1" | "latin1" | "l1" | "iso_8859-1" | "iso_8859-1:1987" | "iso-ir-100"
        | "ibm819" | "cp819" | "csisolatin1" => Kind::Latin1,
        "utf-16" | "utf-16le" | "unicode" | "ucs-2" | "iso-10646-ucs-2" | "csunicode" => {
            Kind::Utf16Le
        }
        "utf-16be" | "unicodefffe" => Kind::Utf16Be,
        "utf-32" | "utf-32le" => Kind::Utf32Le,
        "utf-32be" => Kind::Utf32Be,
        _ => {
            return throw(
                "ArgumentException",
                format!(
                    "'{name}' is not a supported encoding name. For information on defining a custom encoding, see the documentation for the Encoding.RegisterProvider method. (Parameter 'name')"
                ),
            );
        }
    };
    Ok(Encoding { kind, bom: true })
}

fn by_code_page(cp: INT) -> RhaiResult<Encoding> {
    let kind = match cp {
        65001 => Kind::Utf8,
        20127 => Kind::Ascii,
        28591 => Kind::Latin1,
        1200 => Kind::Utf16Le,
        1201 => Kind::Utf16Be,
        12000 => Kind::Utf32Le,
        12001 => Kind::Utf32Be,
        0..=65535 => {
            return throw(
                "NotSupportedException",
                format!(
                    "No data is available for encoding {cp}. For information on defining a custom encoding, see the documentation for the Encoding.RegisterProvider method."
                ),
            );
        }
        _ => {
            return throw(
                "ArgumentOutOfRangeException",
                "Valid values are between 0 and 65535, inclusive. (Parameter 'codepage')",
            );
        }
    };
    Ok(Encoding { kind, bom: true })
}

/// `(bytes, index, count)` checked like `Encoding.GetString(byte[], int, int)`.
fn slice(b: &[u8], index: INT, count: INT) -> RhaiResult<&[u8]> {
    if index < 0 || count < 0 {
        let p = if index < 0 { "index" } else { "count" };
        return throw(
            "ArgumentOutOfRangeException",
            format!("Non-negative number required. (Parameter '{p}')"),
        );
    }
    let (i, n) = (
        usize::try_from(index).unwrap_or(usize::MAX),
        usize::try_from(count).unwrap_or(usize::MAX),
    );
    match i.checked_add(n).and_then(|end| b.get(i..end)) {
        Some(s) => Ok(s),
        None => throw(
            "ArgumentOutOfRangeException",
            "Index and count must refer to a location within the buffer. (Parameter 'bytes')",
        ),
    }
}

fn chars_of(a: &Array) -> String {
    a.iter().filter_map(|c| c.as_char().ok()).collect()
}

fn null<T>(p: &str) -> RhaiResult<T> {
    crate::convert::null_arg(p)
}

fn register_encoding(e: &mut Engine) {
    let enc = |kind| Encoding { kind, bom: true };
    e.register_type_with_name::<Encoding>("Encoding")
        .register_fn("Encoding__UTF8", || UTF8)
        .register_fn("Encoding__Default", || UTF8)
        .register_fn("Encoding__ASCII", move || enc(Kind::Ascii))
        .register_fn("Encoding__Latin1", move || enc(Kind::Latin1))
        .register_fn("Encoding__Unicode", move || enc(Kind::Utf16Le))
        .register_fn("Encoding__BigEndianUnicode", move || enc(Kind::Utf16Be))
        .register_fn("Encoding__UTF32", move || enc(Kind::Utf32Le))
        .register_fn("Encoding__GetEncoding", |name: ImmutableString| {
            by_name(&name)
        })
        .register_fn("Encoding__GetEncoding", by_code_page)
        .register_fn("Encoding__GetEncoding", |_: ()| -> RhaiResult<Encoding> {
            null("name")
        })
        .register_fn(
            "Encoding__Convert",
            |from: Encoding, to: Encoding, b: Blob| to.encode(&from.decode(&b)),
        )
        .register_fn("UTF8Encoding__new", || Encoding {
            kind: Kind::Utf8,
            bom: false,
        })
        .register_fn("UTF8Encoding__new", |bom: bool| Encoding {
            kind: Kind::Utf8,
            bom,
        })
        .register_fn("UTF8Encoding__new", |bom: bool, _throw: bool| Encoding {
            kind: Kind::Utf8,
            bom,
        })
        .register_fn("ASCIIEncoding__new", move || enc(Kind::Ascii))
        .register_fn("UnicodeEncoding__new", move || enc(Kind::Utf16Le))
        .register_fn("UnicodeEncoding__new", |big: bool, bom: bool| Encoding {
            kind: if big { Kind::Utf16Be } else { Kind::Utf16Le },
            bom,
        })
        .register_fn("UTF32Encoding__new", move || enc(Kind::Utf32Le))
        .register_fn("UTF32Encoding__new", |big: bool, bom: bool| Encoding {
            kind: if big { Kind::Utf32Be } else { Kind::Utf32Le },
            bom,
        })
        .register_fn("GetBytes", |x: &mut Encoding, s: ImmutableString| {
            x.encode(&s)
        })
        .register_fn("GetBytes", |x: &mut Encoding, a: Array| {
            x.encode(&chars_of(&a))
        })
        .register_fn("GetBytes", |_: &mut Encoding, _: ()| -> RhaiResult<Blob> {
            null("s")
        })
        .register_fn(
            "GetBytes",
            |x: &mut Encoding, a: Array, index: INT, count: INT| -> RhaiResult<Blob> {
                let r = crate::convert::checked_range(a.len(), index, count, "index", "count")?;
                Ok(x.encode(&chars_of(&a.get(r).unwrap_or_default().to_vec())))
            },
        )
        .register_fn("GetByteCount", |x: &mut Encoding, s: ImmutableString| {
            x.encode(&s).len() as INT
        })
        .register_fn(
            "GetByteCount",
            |_: &mut Encoding, _: ()| -> RhaiResult<INT> { null("s") },
        )
        .register_fn("GetString", |x: &mut Encoding, b: Blob| x.decode(&b))
        .register_fn(
            "GetString",
            |_: &mut Encoding, _: ()| -> RhaiResult<String> { null("bytes") },
        )
        .register_fn(
            "GetString",
            |x: &mut Encoding, b: Blob, index: INT, count: INT| -> RhaiResult<String> {
                Ok(x.decode(slice(&b, index, count)?))
            },
        )
        .register_fn("GetChars", |x: &mut Encoding, b: Blob| {
            x.decode(&b)
                .chars()
                .map(Dynamic::from_char)
                .collect::<Array>()
        })
        .register_fn("GetCharCount", |x: &mut Encoding, b: Blob| {
            x.decode(&b).encode_utf16().count() as INT
        })
        .register_fn("GetMaxByteCount", |x: &mut Encoding, n: INT| match x.kind {
            Kind::Utf8 => (n + 1).saturating_mul(3),
            Kind::Ascii | Kind::Latin1 => n + 1,
            Kind::Utf16Le | Kind::Utf16Be => (n + 1).saturating_mul(2),
            Kind::Utf32Le | Kind::Utf32Be => (n + 1).saturating_mul(4),
        })
        .register_fn("GetPreamble", |x: &mut Encoding| x.preamble())
        .register_get("WebName", |x: &mut Encoding| x.names().0)
        .register_get("BodyName", |x: &mut Encoding| x.names().0)
        .register_get("HeaderName", |x: &mut Encoding| x.names().0)
        .register_get("EncodingName", |x: &mut Encoding| x.names().1)
        .register_get("CodePage", |x: &mut Encoding| x.names().2)
        .register_get("WindowsCodePage", |x: &mut Encoding| match x.kind {
            Kind::Utf8 | Kind::Utf32Le | Kind::Utf32Be => 1200,
            Kind::Ascii | Kind::Latin1 => 1252,
            Kind::Utf16Le | Kind::Utf16Be => x.names().2,
        })
        .register_get("IsSingleByte", |x: &mut Encoding| {
            matches!(x.kind, Kind::Ascii | Kind::Latin1)
        })
        .register_fn("ToString", |x: &mut Encoding| x.names().3)
        .register_fn("==", |a: Encoding, b: Encoding| a == b)
        .register_fn("!=", |a: Encoding, b: Encoding| a != b)
        .register_fn("Equals", |a: &mut Encoding, b: Encoding| *a == b);
}

pub(crate) fn register(e: &mut Engine) {
    register_encoding(e);
    bits::register(e);
    guid::register(e);
    random::register(e);
}

#[cfg(test)]
mod tests;
