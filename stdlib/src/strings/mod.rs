//! `string` members and statics, `char` statics, `StringBuilder`, composite
//! formatting (`string.Format`, interpolation holes with format strings),
//! numeric format strings, `Parse`/`TryParse` of the primitives.
//!
//! - `members.rs`: `string` instance members (`Substring`, `IndexOf`, `Replace`, ...)
//! - `split.rs`: `Split`, `Trim`/`TrimStart`/`TrimEnd`
//! - `statics.rs`: `String.X` statics, the `StringComparison`/`StringSplitOptions`
//!   enums, `char.X` statics
//! - `builder.rs`: `StringBuilder`
//! - `composite.rs`: composite formatting, `__format`, `__format_align`
//! - `numfmt.rs`: .NET standard numeric format strings, digits of numbers
//! - `custom_format.rs`: custom numeric format strings (`0.00`, `#,##0`, ...)
//! - `parse.rs`: `int.Parse`, `double.TryParse`, ...
//!
//! Strings are indexed by Unicode scalar value (a Rust `char`), not by UTF-16
//! code unit: the two agree except for characters outside the Basic
//! Multilingual Plane (emoji), which .NET counts as two.
//!
//! `StringComparison` and `StringSplitOptions` values are small custom types
//! (`StringComparison__Ordinal()` and so on, `ToString()` giving the member
//! name), not integers: `IndexOf(s, 4)` (a start index) and
//! `IndexOf(s, StringComparison.Ordinal)`, or `Split(chars, 2)` (a count) and
//! `Split(chars, StringSplitOptions.RemoveEmptyEntries)`, would otherwise be
//! the same call. Their .NET codes: CurrentCulture 0, CurrentCultureIgnoreCase 1,
//! InvariantCulture 2, InvariantCultureIgnoreCase 3, Ordinal 4,
//! OrdinalIgnoreCase 5; None 0, RemoveEmptyEntries 1, TrimEntries 2.

mod builder;
mod composite;
mod custom_format;
pub(crate) mod members;
mod numfmt;
mod parse;
mod reader;
mod split;
mod statics;

#[cfg(test)]
mod tests;

use std::cmp::Ordering;

use rhai::{Dynamic, Engine, INT, ImmutableString, NativeCallContext};

use crate::core::{RhaiResult, throw};

#[allow(
    unused_imports,
    reason = "for the families whose types format numbers (`ToString(format)`)"
)]
pub(crate) use composite::format_value;

pub(crate) fn register(e: &mut Engine) {
    reader::register(e);
    members::register(e);
    split::register(e);
    statics::register(e);
    builder::register(e);
    composite::register(e);
    parse::register(e);
    // Members called on a null string: .NET's NullReferenceException.
    for (name, arity) in NULL_RECEIVER {
        register_null_receiver(e, name, *arity);
    }
}

const NULL_RECEIVER: &[(&str, usize)] = &[
    ("Substring", 1),
    ("Substring", 2),
    ("IndexOf", 1),
    ("IndexOf", 2),
    ("LastIndexOf", 1),
    ("LastIndexOf", 2),
    ("StartsWith", 1),
    ("StartsWith", 2),
    ("EndsWith", 1),
    ("EndsWith", 2),
    ("Split", 0),
    ("Split", 1),
    ("Split", 2),
    ("Trim", 0),
    ("Trim", 1),
    ("TrimStart", 0),
    ("TrimStart", 1),
    ("TrimEnd", 0),
    ("TrimEnd", 1),
    ("ToUpper", 0),
    ("ToLower", 0),
    ("ToUpperInvariant", 0),
    ("ToLowerInvariant", 0),
    ("PadLeft", 1),
    ("PadRight", 1),
    ("ToCharArray", 0),
];

fn nre<T>() -> RhaiResult<T> {
    throw(
        "NullReferenceException",
        "Object reference not set to an instance of an object.",
    )
}

fn register_null_receiver(e: &mut Engine, name: &str, arity: usize) {
    match arity {
        0 => e.register_fn(name, |_: ()| -> RhaiResult<Dynamic> { nre() }),
        1 => e.register_fn(name, |_: (), _: Dynamic| -> RhaiResult<Dynamic> { nre() }),
        _ => e.register_fn(
            name,
            |_: (), _: Dynamic, _: Dynamic| -> RhaiResult<Dynamic> { nre() },
        ),
    };
}

/// The largest string a member may build, in bytes: the engine's limit, or
/// 16 MiB when the engine has none.
pub(crate) fn size_cap(ctx: &NativeCallContext) -> usize {
    match ctx.engine().max_string_size() {
        0 => 16 << 20,
        n => n,
    }
}

/// Refuses to build a string of `len` bytes over the cap (.NET would run out
/// of memory; we stop before allocating).
pub(crate) fn check_size(ctx: &NativeCallContext, len: usize) -> RhaiResult<()> {
    if len > size_cap(ctx) {
        return throw(
            "OutOfMemoryException",
            "Insufficient memory to continue the execution of the program.",
        );
    }
    Ok(())
}

/// Number of chars (the .NET `Length`, see the module doc).
pub(crate) fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Byte offset of char index `i` (the end of the string past the last char).
pub(crate) fn byte_at(s: &str, i: usize) -> usize {
    s.char_indices().nth(i).map_or(s.len(), |(b, _)| b)
}

/// The chars `[start, start + len)` (indices already validated).
pub(crate) fn char_slice(s: &str, start: usize, len: usize) -> &str {
    let from = byte_at(s, start);
    let rest = s.get(from..).unwrap_or("");
    let to = byte_at(rest, len);
    rest.get(..to).unwrap_or("")
}

/// A non-negative `int` argument as an index, or `None` when negative.
pub(crate) fn index(n: INT) -> Option<usize> {
    usize::try_from(n).ok()
}

pub(crate) fn to_int(n: usize) -> INT {
    INT::try_from(n).unwrap_or(INT::MAX)
}

/// `ArgumentNullException` for parameter `param`.
pub(crate) fn null_arg<T>(param: &str) -> RhaiResult<T> {
    throw(
        "ArgumentNullException",
        format!("Value cannot be null. (Parameter '{param}')"),
    )
}

/// `ArgumentOutOfRangeException` with .NET's message and parameter.
pub(crate) fn out_of_range<T>(param: &str, message: &str) -> RhaiResult<T> {
    throw(
        "ArgumentOutOfRangeException",
        format!("{message} (Parameter '{param}')"),
    )
}

/// A string argument: `None` for null, an error for a non-string.
pub(crate) fn opt_str(v: &Dynamic, param: &str) -> RhaiResult<Option<ImmutableString>> {
    if v.is_unit() {
        return Ok(None);
    }
    match v.clone().into_immutable_string() {
        Ok(s) => Ok(Some(s)),
        Err(t) => throw(
            "ArgumentException",
            format!("Expected a string for '{param}', got {t}."),
        ),
    }
}

/// A required (non-null) string argument.
pub(crate) fn req_str(v: &Dynamic, param: &str) -> RhaiResult<ImmutableString> {
    opt_str(v, param)?.map_or_else(|| null_arg(param), Ok)
}

/// .NET invariant simple case mapping of one char (no expansions: `ß` stays `ß`).
pub(crate) fn upper(c: char) -> char {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

pub(crate) fn lower(c: char) -> char {
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// A `StringComparison` code, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Comparison(u8);

impl Comparison {
    pub(crate) const ORDINAL: Comparison = Comparison(4);
    pub(crate) const CURRENT: Comparison = Comparison(0);

    pub(crate) fn from_code(code: INT) -> RhaiResult<Self> {
        match u8::try_from(code) {
            Ok(c) if c <= 5 => Ok(Comparison(c)),
            _ => throw(
                "ArgumentException",
                "The string comparison type passed in is currently not supported. (Parameter 'comparisonType')",
            ),
        }
    }

    pub(crate) fn from_ignore_case(ignore_case: bool) -> Self {
        Comparison(u8::from(ignore_case))
    }

    pub(crate) fn code(self) -> u8 {
        self.0
    }

    pub(crate) fn ignore_case(self) -> bool {
        self.0 % 2 == 1
    }

    pub(crate) fn ordinal(self) -> bool {
        self.0 >= 4
    }

    pub(crate) fn eq(self, a: &str, b: &str) -> bool {
        if self.ignore_case() {
            a.chars().map(upper).eq(b.chars().map(upper))
        } else {
            a == b
        }
    }

    /// `string.Compare` under this comparison: ordinal ones return the
    /// difference of the first differing chars (or of the lengths), culture
    /// ones -1, 0 or 1.
    pub(crate) fn compare(self, a: &str, b: &str) -> INT {
        if self.ordinal() {
            let fold = |c: char| if self.ignore_case() { upper(c) } else { c };
            for (x, y) in a.chars().map(fold).zip(b.chars().map(fold)) {
                if x != y {
                    return INT::from(u32::from(x)) - INT::from(u32::from(y));
                }
            }
            return to_int(char_len(a)) - to_int(char_len(b));
        }
        match culture_compare(a, b, self.ignore_case()) {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        }
    }
}

/// Approximates invariant-culture collation: punctuation and symbols sort
/// before digits, digits before letters, letters alphabetically regardless of
/// case; then lowercase before uppercase; then ordinal.
pub(crate) fn culture_compare(a: &str, b: &str, ignore_case: bool) -> Ordering {
    fn primary(c: char) -> (u8, u32) {
        if c.is_alphabetic() {
            (2, u32::from(lower(c)))
        } else if c.is_numeric() {
            (1, c.to_digit(10).unwrap_or(u32::from(c)))
        } else {
            (0, u32::from(c))
        }
    }
    let first = a.chars().map(primary).cmp(b.chars().map(primary));
    if first != Ordering::Equal || ignore_case {
        return first;
    }
    for (x, y) in a.chars().zip(b.chars()) {
        if x != y {
            // Same letter, different case: lowercase first.
            return if x.is_lowercase() {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
    }
    a.cmp(b)
}
