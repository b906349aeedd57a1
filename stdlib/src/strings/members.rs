//! `string` instance members: `Length`, the `Chars` indexer, searching
//! (`IndexOf`, `Contains`, `StartsWith`, ...), comparing, and the members that
//! build a new string (`Substring`, `Replace`, `Insert`, `PadLeft`, ...).

use std::borrow::Cow;

use rhai::{Array, Dynamic, Engine, INT, ImmutableString, NativeCallContext};

use super::{
    Comparison, byte_at, char_len, char_slice, check_size, index, lower, out_of_range, req_str,
    to_int, upper,
};
use crate::core::{RhaiResult, throw};

type S = ImmutableString;

/// What `IndexOf`, `Contains`, `StartsWith`, ... look for.
enum Needle {
    Char(char),
    Str(ImmutableString),
}

impl Needle {
    fn from(v: &Dynamic) -> RhaiResult<Self> {
        if let Ok(c) = v.as_char() {
            return Ok(Needle::Char(c));
        }
        Ok(Needle::Str(req_str(v, "value")?))
    }

    fn text(&self) -> Cow<'_, str> {
        match self {
            Needle::Char(c) => Cow::Owned(c.to_string()),
            Needle::Str(s) => Cow::Borrowed(s.as_str()),
        }
    }
}

/// `s` as `cmp` matches it: case-folded (char for char) when it ignores case.
fn folded(s: &str, cmp: Comparison) -> Cow<'_, str> {
    if cmp.ignore_case() {
        Cow::Owned(s.chars().map(upper).collect())
    } else {
        Cow::Borrowed(s)
    }
}

const INDEX_MSG: &str = "Index was out of range. Must be non-negative and less than or equal to the size of the collection.";
const COUNT_MSG: &str =
    "Count must be positive and count must refer to a location within the string/array/collection.";

/// Validates `[start, start + count)` against a string of `len` chars.
fn region(len: usize, start: INT, count: Option<INT>) -> RhaiResult<(usize, usize)> {
    let start = match index(start) {
        Some(s) if s <= len => s,
        _ => return out_of_range("startIndex", INDEX_MSG),
    };
    let count = match count {
        None => len - start,
        Some(c) => match index(c) {
            Some(c) if c <= len - start => c,
            _ => return out_of_range("count", COUNT_MSG),
        },
    };
    Ok((start, count))
}

fn index_of(
    s: &str,
    needle: &Needle,
    start: INT,
    count: Option<INT>,
    cmp: Comparison,
) -> RhaiResult<INT> {
    let (start, count) = region(char_len(s), start, count)?;
    let hay = folded(char_slice(s, start, count), cmp);
    let text = needle.text();
    let pat = folded(&text, cmp);
    Ok(match hay.find(pat.as_ref()) {
        Some(b) => to_int(start + char_len(hay.get(..b).unwrap_or(""))),
        None => -1,
    })
}

/// `LastIndexOf`: the search runs backwards from `start` over `count` chars,
/// so a match must lie within `[start - count + 1, start]`.
fn last_index_of(
    s: &str,
    needle: &Needle,
    start: Option<INT>,
    count: Option<INT>,
    cmp: Comparison,
) -> RhaiResult<INT> {
    let len = char_len(s);
    let text = needle.text();
    if len == 0 {
        return match start {
            Some(-1 | 0) | None => Ok(if text.is_empty() { 0 } else { -1 }),
            Some(_) => out_of_range(
                "startIndex",
                "Index was out of range. Must be non-negative and less than the size of the collection.",
            ),
        };
    }
    let start = match start {
        None => len - 1,
        Some(st) => match index(st) {
            Some(st) if st < len => st,
            // .NET allows startIndex == Length for an empty value only.
            Some(st) if st == len && text.is_empty() => return Ok(to_int(len)),
            _ => {
                return out_of_range(
                    "startIndex",
                    "Index was out of range. Must be non-negative and less than the size of the collection.",
                );
            }
        },
    };
    let count = match count {
        None => start + 1,
        Some(c) => match index(c) {
            Some(c) if c <= start + 1 => c,
            _ => return out_of_range("count", COUNT_MSG),
        },
    };
    let from = start + 1 - count;
    if text.is_empty() {
        return Ok(to_int(if start + 1 == len { len } else { start + 1 }));
    }
    let hay = folded(char_slice(s, from, count), cmp);
    let pat = folded(&text, cmp);
    Ok(match hay.rfind(pat.as_ref()) {
        Some(b) => to_int(from + char_len(hay.get(..b).unwrap_or(""))),
        None => -1,
    })
}

fn any_chars(chars: &Array) -> RhaiResult<Vec<char>> {
    chars
        .iter()
        .map(|c| {
            c.as_char()
                .or_else(|_| throw("ArgumentException", "IndexOfAny expects a char[]."))
        })
        .collect()
}

fn index_of_any(s: &str, chars: &Array, start: INT, count: Option<INT>) -> RhaiResult<INT> {
    let set = any_chars(chars)?;
    let (start, count) = region(char_len(s), start, count)?;
    let found = char_slice(s, start, count)
        .chars()
        .position(|c| set.contains(&c));
    Ok(found.map_or(-1, |i| to_int(start + i)))
}

fn last_index_of_any(
    s: &str,
    chars: &Array,
    start: Option<INT>,
    count: Option<INT>,
) -> RhaiResult<INT> {
    let set = any_chars(chars)?;
    let len = char_len(s);
    if len == 0 {
        return Ok(-1);
    }
    let start = match start.map_or(Some(len - 1), index) {
        Some(st) if st < len => st,
        _ => {
            return out_of_range(
                "startIndex",
                "Index was out of range. Must be non-negative and less than the size of the collection.",
            );
        }
    };
    let count = match count.map_or(Some(start + 1), index) {
        Some(c) if c <= start + 1 => c,
        _ => return out_of_range("count", COUNT_MSG),
    };
    let from = start + 1 - count;
    let found = char_slice(s, from, count)
        .chars()
        .collect::<Vec<_>>()
        .iter()
        .rposition(|c| set.contains(c));
    Ok(found.map_or(-1, |i| to_int(from + i)))
}

fn starts_with(s: &str, v: &Dynamic, cmp: Comparison) -> RhaiResult<bool> {
    let n = Needle::from(v)?;
    let (hay, pat) = (folded(s, cmp), folded(&n.text(), cmp).into_owned());
    Ok(hay.starts_with(pat.as_str()))
}

fn ends_with(s: &str, v: &Dynamic, cmp: Comparison) -> RhaiResult<bool> {
    let n = Needle::from(v)?;
    let (hay, pat) = (folded(s, cmp), folded(&n.text(), cmp).into_owned());
    Ok(hay.ends_with(pat.as_str()))
}

fn contains(s: &str, v: &Dynamic, cmp: Comparison) -> RhaiResult<bool> {
    Ok(index_of(s, &Needle::from(v)?, 0, None, cmp)? >= 0)
}

/// `s.Contains(v)`, `s.StartsWith(v)`, `s.EndsWith(v)` with one argument
/// (ordinal), for the native evaluation of expressions (`crate::fast`).
pub(crate) fn search_ordinal(s: &str, v: &Dynamic, which: crate::fast::Search) -> RhaiResult<bool> {
    use crate::fast::Search;
    match which {
        Search::Contains => contains(s, v, Comparison::ORDINAL),
        Search::StartsWith => starts_with(s, v, Comparison::ORDINAL),
        Search::EndsWith => ends_with(s, v, Comparison::ORDINAL),
    }
}

fn substring(s: &str, start: INT, len: Option<INT>) -> RhaiResult<S> {
    let total = char_len(s);
    let Some(st) = index(start) else {
        return out_of_range("startIndex", "StartIndex cannot be less than zero.");
    };
    if st > total {
        return out_of_range(
            "startIndex",
            "startIndex cannot be larger than length of string.",
        );
    }
    let n = match len {
        None => total - st,
        Some(l) => match index(l) {
            None => return out_of_range("length", "Length cannot be less than zero."),
            Some(l) if l > total - st => {
                return out_of_range(
                    "length",
                    "Index and length must refer to a location within the string.",
                );
            }
            Some(l) => l,
        },
    };
    Ok(char_slice(s, st, n).into())
}

/// `Replace(old, new, comparison)`: every non-overlapping match, left to right.
fn replace(
    ctx: &NativeCallContext,
    s: &str,
    old: &Dynamic,
    new: &Dynamic,
    cmp: Comparison,
) -> RhaiResult<S> {
    if let (Ok(a), Ok(b)) = (old.as_char(), new.as_char()) {
        return Ok(s
            .chars()
            .map(|c| if c == a { b } else { c })
            .collect::<String>()
            .into());
    }
    let old = if let Ok(c) = old.as_char() {
        c.to_string().into()
    } else {
        req_str(old, "oldValue")?
    };
    if old.is_empty() {
        return throw(
            "ArgumentException",
            "String cannot be of zero length. (Parameter 'oldValue')",
        );
    }
    let new = if let Ok(c) = new.as_char() {
        c.to_string()
    } else {
        super::opt_str(new, "newValue")?
            .map(|n| n.to_string())
            .unwrap_or_default()
    };
    let hay = folded(s, cmp);
    let pat = folded(&old, cmp);
    // Folding keeps the char count, so walk both strings by char index.
    let mut out = String::new();
    let mut rest_orig = s;
    let mut rest_fold: &str = &hay;
    while let Some(b) = rest_fold.find(pat.as_ref()) {
        let skip = char_len(rest_fold.get(..b).unwrap_or(""));
        let ob = byte_at(rest_orig, skip);
        out.push_str(rest_orig.get(..ob).unwrap_or(""));
        out.push_str(&new);
        check_size(ctx, out.len())?;
        let after_orig = byte_at(rest_orig, skip + char_len(&pat));
        rest_orig = rest_orig.get(after_orig..).unwrap_or("");
        rest_fold = rest_fold.get(b + pat.len()..).unwrap_or("");
    }
    out.push_str(rest_orig);
    check_size(ctx, out.len())?;
    Ok(out.into())
}

fn pad(ctx: &NativeCallContext, s: &str, width: INT, c: char, left: bool) -> RhaiResult<S> {
    let Some(w) = index(width) else {
        return out_of_range("totalWidth", "Non-negative number required.");
    };
    let len = char_len(s);
    if w <= len {
        return Ok(s.into());
    }
    check_size(ctx, s.len() + (w - len) * c.len_utf8())?;
    let fill: String = std::iter::repeat_n(c, w - len).collect();
    Ok(if left {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
    .into())
}

fn insert(ctx: &NativeCallContext, s: &str, at: INT, v: &Dynamic) -> RhaiResult<S> {
    let v = req_str(v, "value")?;
    match index(at) {
        Some(i) if i <= char_len(s) => {
            check_size(ctx, s.len() + v.len())?;
            let b = byte_at(s, i);
            Ok(format!(
                "{}{}{}",
                s.get(..b).unwrap_or(""),
                v,
                s.get(b..).unwrap_or("")
            )
            .into())
        }
        _ => out_of_range(
            "startIndex",
            "Specified argument was out of the range of valid values.",
        ),
    }
}

fn remove(s: &str, start: INT, count: Option<INT>) -> RhaiResult<S> {
    let len = char_len(s);
    let Some(st) = index(start) else {
        return out_of_range("startIndex", "StartIndex cannot be less than zero.");
    };
    let n = match count {
        None if st >= len => {
            return out_of_range(
                "startIndex",
                "startIndex must be less than length of string.",
            );
        }
        None => len - st,
        Some(c) => match index(c) {
            None => return out_of_range("count", "Count cannot be less than zero."),
            Some(c) if st > len || c > len - st => {
                return out_of_range(
                    "count",
                    "Index and count must refer to a location within the string.",
                );
            }
            Some(c) => c,
        },
    };
    let (a, b) = (byte_at(s, st), byte_at(s, st + n));
    Ok(format!("{}{}", s.get(..a).unwrap_or(""), s.get(b..).unwrap_or("")).into())
}

fn to_char_array(
    ctx: &NativeCallContext,
    s: &str,
    start: INT,
    len: Option<INT>,
) -> RhaiResult<Array> {
    let total = char_len(s);
    let Some(st) = index(start) else {
        return out_of_range("startIndex", INDEX_MSG);
    };
    let n = match len.map(index) {
        None => total.saturating_sub(st),
        Some(Some(l)) if st <= total && l <= total - st => l,
        Some(None) => return out_of_range("length", "Non-negative number required."),
        Some(Some(_)) => return out_of_range("startIndex", INDEX_MSG),
    };
    crate::core::check_items(ctx, n)?;
    Ok(char_slice(s, st, n)
        .chars()
        .map(Dynamic::from_char)
        .collect())
}

fn compare_to(s: &str, other: &Dynamic) -> RhaiResult<INT> {
    if other.is_unit() {
        return Ok(1);
    }
    match other.clone().into_immutable_string() {
        Ok(o) => Ok(Comparison::CURRENT.compare(s, &o)),
        Err(_) => throw("ArgumentException", "Object must be of type String."),
    }
}

fn equals(s: &str, other: &Dynamic, cmp: Comparison) -> bool {
    other
        .clone()
        .into_immutable_string()
        .is_ok_and(|o| cmp.eq(s, &o))
}

fn chars_at(s: &str, i: INT) -> RhaiResult<char> {
    match index(i).and_then(|i| s.chars().nth(i)) {
        Some(c) => Ok(c),
        None => throw(
            "IndexOutOfRangeException",
            "Index was outside the bounds of the array.",
        ),
    }
}

type Cmp = Comparison;

pub(super) fn register(e: &mut Engine) {
    e.register_get("Length", |s: &mut S| to_int(char_len(s)))
        .register_fn("Chars", |s: S, i: INT| chars_at(&s, i))
        .register_fn("get_Chars", |s: S, i: INT| chars_at(&s, i));

    // Searching.
    e.register_fn("IndexOf", |s: S, v: Dynamic| {
        index_of(&s, &Needle::from(&v)?, 0, None, Cmp::ORDINAL)
    })
    .register_fn("IndexOf", |s: S, v: Dynamic, st: INT| {
        index_of(&s, &Needle::from(&v)?, st, None, Cmp::ORDINAL)
    })
    .register_fn("IndexOf", |s: S, v: Dynamic, st: INT, n: INT| {
        index_of(&s, &Needle::from(&v)?, st, Some(n), Cmp::ORDINAL)
    })
    .register_fn("IndexOf", |s: S, v: Dynamic, c: Cmp| {
        index_of(&s, &Needle::from(&v)?, 0, None, c)
    })
    .register_fn("IndexOf", |s: S, v: Dynamic, st: INT, c: Cmp| {
        index_of(&s, &Needle::from(&v)?, st, None, c)
    })
    .register_fn("IndexOf", |s: S, v: Dynamic, st: INT, n: INT, c: Cmp| {
        index_of(&s, &Needle::from(&v)?, st, Some(n), c)
    })
    .register_fn("LastIndexOf", |s: S, v: Dynamic| {
        last_index_of(&s, &Needle::from(&v)?, None, None, Cmp::ORDINAL)
    })
    .register_fn("LastIndexOf", |s: S, v: Dynamic, st: INT| {
        last_index_of(&s, &Needle::from(&v)?, Some(st), None, Cmp::ORDINAL)
    })
    .register_fn("LastIndexOf", |s: S, v: Dynamic, st: INT, n: INT| {
        last_index_of(&s, &Needle::from(&v)?, Some(st), Some(n), Cmp::ORDINAL)
    })
    .register_fn("LastIndexOf", |s: S, v: Dynamic, c: Cmp| {
        last_index_of(&s, &Needle::from(&v)?, None, None, c)
    })
    .register_fn("LastIndexOf", |s: S, v: Dynamic, st: INT, c: Cmp| {
        last_index_of(&s, &Needle::from(&v)?, Some(st), None, c)
    })
    .register_fn(
        "LastIndexOf",
        |s: S, v: Dynamic, st: INT, n: INT, c: Cmp| {
            last_index_of(&s, &Needle::from(&v)?, Some(st), Some(n), c)
        },
    )
    .register_fn("IndexOfAny", |s: S, a: Array| index_of_any(&s, &a, 0, None))
    .register_fn("IndexOfAny", |s: S, a: Array, st: INT| {
        index_of_any(&s, &a, st, None)
    })
    .register_fn("IndexOfAny", |s: S, a: Array, st: INT, n: INT| {
        index_of_any(&s, &a, st, Some(n))
    })
    .register_fn("LastIndexOfAny", |s: S, a: Array| {
        last_index_of_any(&s, &a, None, None)
    })
    .register_fn("LastIndexOfAny", |s: S, a: Array, st: INT| {
        last_index_of_any(&s, &a, Some(st), None)
    })
    .register_fn("LastIndexOfAny", |s: S, a: Array, st: INT, n: INT| {
        last_index_of_any(&s, &a, Some(st), Some(n))
    })
    .register_fn("Contains", |s: S, v: Dynamic| {
        contains(&s, &v, Cmp::ORDINAL)
    })
    .register_fn("Contains", |s: S, v: Dynamic, c: Cmp| contains(&s, &v, c))
    .register_fn("StartsWith", |s: S, v: Dynamic| {
        starts_with(&s, &v, Cmp::ORDINAL)
    })
    .register_fn("StartsWith", |s: S, v: Dynamic, c: Cmp| {
        starts_with(&s, &v, c)
    })
    .register_fn(
        "StartsWith",
        |s: S, v: Dynamic, ic: bool, _culture: Dynamic| {
            starts_with(&s, &v, Cmp::from_ignore_case(ic))
        },
    )
    .register_fn("EndsWith", |s: S, v: Dynamic| {
        ends_with(&s, &v, Cmp::ORDINAL)
    })
    .register_fn("EndsWith", |s: S, v: Dynamic, c: Cmp| ends_with(&s, &v, c))
    .register_fn(
        "EndsWith",
        |s: S, v: Dynamic, ic: bool, _culture: Dynamic| {
            ends_with(&s, &v, Cmp::from_ignore_case(ic))
        },
    );

    // Comparing.
    e.register_fn("Equals", |s: S, o: Dynamic| equals(&s, &o, Cmp::ORDINAL))
        .register_fn("Equals", |s: S, o: Dynamic, c: Cmp| equals(&s, &o, c))
        .register_fn("CompareTo", |s: S, o: Dynamic| compare_to(&s, &o));

    // Building new strings.
    e.register_fn("Substring", |s: S, st: INT| substring(&s, st, None))
        .register_fn("Substring", |s: S, st: INT, n: INT| {
            substring(&s, st, Some(n))
        })
        .register_fn(
            "Replace",
            |ctx: NativeCallContext, s: S, a: Dynamic, b: Dynamic| {
                replace(&ctx, &s, &a, &b, Cmp::ORDINAL)
            },
        )
        .register_fn(
            "Replace",
            |ctx: NativeCallContext, s: S, a: Dynamic, b: Dynamic, c: Cmp| {
                replace(&ctx, &s, &a, &b, c)
            },
        )
        .register_fn(
            "Replace",
            |ctx: NativeCallContext, s: S, a: Dynamic, b: Dynamic, ic: bool, _culture: Dynamic| {
                replace(&ctx, &s, &a, &b, Cmp::from_ignore_case(ic))
            },
        )
        .register_fn(
            "Insert",
            |ctx: NativeCallContext, s: S, i: INT, v: Dynamic| insert(&ctx, &s, i, &v),
        )
        .register_fn("Remove", |s: S, i: INT| remove(&s, i, None))
        .register_fn("Remove", |s: S, i: INT, n: INT| remove(&s, i, Some(n)))
        .register_fn("PadLeft", |ctx: NativeCallContext, s: S, w: INT| {
            pad(&ctx, &s, w, ' ', true)
        })
        .register_fn(
            "PadLeft",
            |ctx: NativeCallContext, s: S, w: INT, c: char| pad(&ctx, &s, w, c, true),
        )
        .register_fn("PadRight", |ctx: NativeCallContext, s: S, w: INT| {
            pad(&ctx, &s, w, ' ', false)
        })
        .register_fn(
            "PadRight",
            |ctx: NativeCallContext, s: S, w: INT, c: char| pad(&ctx, &s, w, c, false),
        )
        .register_fn("ToCharArray", |ctx: NativeCallContext, s: S| {
            to_char_array(&ctx, &s, 0, None)
        })
        .register_fn(
            "ToCharArray",
            |ctx: NativeCallContext, s: S, st: INT, n: INT| to_char_array(&ctx, &s, st, Some(n)),
        );

    // Case mapping: invariant culture, one char to one char, whatever culture is passed.
    let up = |s: S| -> S { to_upper(&s).into() };
    let low = |s: S| -> S { to_lower(&s).into() };
    e.register_fn("ToUpper", up)
        .register_fn("ToUpper", move |s: S, _culture: Dynamic| up(s))
        .register_fn("ToUpperInvariant", up)
        .register_fn("ToLower", low)
        .register_fn("ToLower", move |s: S, _culture: Dynamic| low(s))
        .register_fn("ToLowerInvariant", low);

    // Identity members. `Normalize` returns the string as is: policies
    // rarely carry decomposed text, and normalization tables are not bundled.
    e.register_fn("Normalize", |s: S| s)
        .register_fn("Normalize", |s: S, _form: Dynamic| s)
        .register_fn("IsNormalized", |_: S| true)
        .register_fn("IsNormalized", |_: S, _form: Dynamic| true)
        .register_fn("Clone", |s: S| s)
        .register_fn("ToString", |s: S, _provider: Dynamic| s);
}

/// `ToUpper()`: invariant culture, one char to one char.
pub(crate) fn to_upper(s: &str) -> String {
    s.chars().map(upper).collect()
}

/// `ToLower()`: invariant culture, one char to one char.
pub(crate) fn to_lower(s: &str) -> String {
    s.chars().map(lower).collect()
}
