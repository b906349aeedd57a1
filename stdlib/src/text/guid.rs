//! `System.Guid`: `NewGuid`, `Parse`/`TryParse` (formats N, D, B, P, X),
//! `ToString(format)` (always lowercase, like .NET), `ToByteArray` and
//! `new Guid(byte[])` in .NET's mixed-endian layout, equality and ordering.

use rhai::{Blob, Engine, INT, ImmutableString};
use uuid::Uuid;

use crate::core::{RhaiResult, throw};

/// A `System.Guid`; the `Uuid` holds the fields in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guid(pub Uuid);

impl Guid {
    pub fn new_random() -> Self {
        Guid(Uuid::new_v4())
    }

    fn format(self, fmt: &str) -> RhaiResult<String> {
        let d = self.0.hyphenated().to_string();
        Ok(match fmt {
            "" | "D" | "d" => d,
            "N" | "n" => self.0.simple().to_string(),
            "B" | "b" => format!("{{{d}}}"),
            "P" | "p" => format!("({d})"),
            "X" | "x" => {
                let (a, b, c, rest) = self.0.as_fields();
                let tail: Vec<String> = rest.iter().map(|x| format!("0x{x:02x}")).collect();
                format!("{{0x{a:08x},0x{b:04x},0x{c:04x},{{{}}}}}", tail.join(","))
            }
            _ => {
                return throw(
                    "FormatException",
                    r#"Format string can be only "D", "d", "N", "n", "P", "p", "B", "b", "X" or "x"."#,
                );
            }
        })
    }

    /// `Guid.GetHashCode()`: the XOR of the four Int32s of its layout.
    fn hash_code(self) -> INT {
        let b = self.0.to_bytes_le();
        let word = |i: usize| {
            b.get(i..i + 4)
                .and_then(|s| <[u8; 4]>::try_from(s).ok())
                .map_or(0, i32::from_le_bytes)
        };
        INT::from(word(0) ^ word(4) ^ word(8) ^ word(12))
    }
}

fn hex_run(s: &str) -> Option<u128> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u128::from_str_radix(s, 16).ok())
        .flatten()
}

fn parse_d(s: &str) -> Option<Uuid> {
    let parts: Vec<&str> = s.split('-').collect();
    let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    if lens != [8, 4, 4, 4, 12] {
        return None;
    }
    hex_run(&parts.concat()).map(Uuid::from_u128)
}

/// `{0xXXXXXXXX,0xXXXX,0xXXXX,{0xXX,...(8)}}`, white space ignored.
fn parse_x(s: &str) -> Option<Uuid> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let inner = compact.strip_prefix('{')?.strip_suffix("}}")?;
    let (head, tail) = inner.split_once(",{")?;
    let field = |p: &str, max: usize| {
        let h = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X"))?;
        (h.len() <= max).then(|| hex_run(h)).flatten()
    };
    let head: Vec<&str> = head.split(',').collect();
    let tail: Vec<&str> = tail.split(',').collect();
    if head.len() != 3 || tail.len() != 8 {
        return None;
    }
    let a = field(head.first()?, 8)? as u32;
    let b = field(head.get(1)?, 4)? as u16;
    let c = field(head.get(2)?, 4)? as u16;
    let mut d = [0u8; 8];
    for (slot, p) in d.iter_mut().zip(&tail) {
        *slot = field(p, 2)? as u8;
    }
    Some(Uuid::from_fields(a, b, c, &d))
}

fn parse_format(s: &str, fmt: &str) -> Option<Uuid> {
    match fmt {
        "N" | "n" => (s.len() == 32)
            .then(|| hex_run(s).map(Uuid::from_u128))
            .flatten(),
        "D" | "d" => parse_d(s),
        "B" | "b" => parse_d(s.strip_prefix('{')?.strip_suffix('}')?),
        "P" | "p" => parse_d(s.strip_prefix('(')?.strip_suffix(')')?),
        "X" | "x" => parse_x(s),
        _ => None,
    }
}

fn try_parse(s: &str) -> Option<Guid> {
    let s = s.trim();
    let fmt = match s.as_bytes().first() {
        Some(b'(') => "P",
        Some(b'{') if s.contains(',') => "X",
        Some(b'{') => "B",
        _ if s.contains('-') => "D",
        _ => "N",
    };
    parse_format(s, fmt).map(Guid)
}

/// Why `s` is not a Guid, in .NET's words.
fn parse_error<T>(s: &str) -> RhaiResult<T> {
    let t = s.trim();
    let body = t
        .trim_start_matches(['{', '('])
        .trim_end_matches(['}', ')']);
    let message = match body.len() {
        32 if !body.contains('-') => "Guid string should only contain hexadecimal characters.",
        36 if body
            .char_indices()
            .filter(|&(_, c)| c == '-')
            .map(|(i, _)| i)
            .eq([8, 13, 18, 23]) =>
        {
            "Guid string should only contain hexadecimal characters."
        }
        36 => "Dashes are in the wrong position for GUID parsing.",
        _ => "Unrecognized Guid format.",
    };
    throw("FormatException", message)
}

pub(crate) fn parse(s: &str) -> RhaiResult<Guid> {
    match try_parse(s) {
        Some(g) => Ok(g),
        None => parse_error(s),
    }
}

fn from_bytes(b: &[u8]) -> RhaiResult<Guid> {
    match <[u8; 16]>::try_from(b) {
        Ok(a) => Ok(Guid(Uuid::from_bytes_le(a))),
        Err(_) => throw(
            "ArgumentException",
            "Byte array for Guid must be exactly 16 bytes long. (Parameter 'b')",
        ),
    }
}

pub(super) fn register(e: &mut Engine) {
    e.register_type_with_name::<Guid>("Guid")
        .register_fn("Guid__NewGuid", Guid::new_random)
        .register_fn("Guid__Empty", || Guid(Uuid::nil()))
        .register_fn("Guid__new", || Guid(Uuid::nil()))
        .register_fn("Guid__new", |s: ImmutableString| parse(&s))
        .register_fn("Guid__new", |b: Blob| from_bytes(&b))
        .register_fn("Guid__new", |_: ()| -> RhaiResult<Guid> {
            crate::convert::null_arg("g")
        })
        .register_fn("Guid__Parse", |s: ImmutableString| parse(&s))
        .register_fn("Guid__Parse", |_: ()| -> RhaiResult<Guid> {
            crate::convert::null_arg("input")
        })
        .register_fn(
            "Guid__ParseExact",
            |s: ImmutableString, f: ImmutableString| match parse_format(s.trim(), &f) {
                Some(u) => Ok(Guid(u)),
                None => parse_error(&s),
            },
        )
        .register_fn(
            "Guid__TryParse__out",
            |s: ImmutableString| match try_parse(&s) {
                Some(g) => vec![true.into(), rhai::Dynamic::from(g)],
                None => vec![false.into(), rhai::Dynamic::from(Guid(Uuid::nil()))],
            },
        )
        .register_fn("Guid__TryParse__out", |_: ()| {
            vec![false.into(), rhai::Dynamic::from(Guid(Uuid::nil()))]
        })
        .register_fn(
            "Guid__TryParseExact__out",
            |s: ImmutableString, f: ImmutableString| match parse_format(s.trim(), &f) {
                Some(u) => vec![true.into(), rhai::Dynamic::from(Guid(u))],
                None => vec![false.into(), rhai::Dynamic::from(Guid(Uuid::nil()))],
            },
        )
        .register_fn("ToString", |g: Guid| g.format(""))
        .register_fn("ToString", |g: Guid, f: ImmutableString| g.format(&f))
        .register_fn("ToString", |g: Guid, _: ()| g.format(""))
        .register_fn(
            "ToString",
            |g: Guid, f: ImmutableString, _provider: rhai::Dynamic| g.format(&f),
        )
        .register_fn("ToByteArray", |g: Guid| g.0.to_bytes_le().to_vec())
        .register_fn("GetHashCode", |g: Guid| g.hash_code())
        .register_fn("Equals", |a: Guid, b: Guid| a == b)
        .register_fn("Equals", |_: Guid, _: ()| false)
        .register_fn("CompareTo", |a: Guid, b: Guid| a.cmp(&b) as INT)
        .register_fn("==", |a: Guid, b: Guid| a == b)
        .register_fn("!=", |a: Guid, b: Guid| a != b)
        .register_fn("<", |a: Guid, b: Guid| a < b)
        .register_fn(">", |a: Guid, b: Guid| a > b);
}
