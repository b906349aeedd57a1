//! `String.X` statics (registered as both `String__X` and `string__X`), the
//! `StringComparison` enum, and the `char.X` statics (`Char__X`, `char__X`).

use rhai::{Array, Dynamic, Engine, INT, ImmutableString, NativeCallContext};

use super::{Comparison, char_len, char_slice, check_size, index, lower, out_of_range, upper};
use crate::core::{RhaiResult, throw, to_dotnet_string};

type S = ImmutableString;

const COMPARISONS: [&str; 6] = [
    "CurrentCulture",
    "CurrentCultureIgnoreCase",
    "InvariantCulture",
    "InvariantCultureIgnoreCase",
    "Ordinal",
    "OrdinalIgnoreCase",
];

/// The elements of an array or of anything with `__items`; `None` otherwise.
pub(crate) fn items(ctx: &NativeCallContext, v: &Dynamic) -> Option<Array> {
    if let Some(a) = v.read_lock::<Array>() {
        return Some(a.clone());
    }
    if v.is_unit()
        || v.is_string()
        || v.is_blob()
        || v.is_int()
        || v.is_float()
        || v.is_bool()
        || v.is_char()
    {
        return None;
    }
    ctx.call_native_fn::<Array>("__items", (v.clone(),)).ok()
}

/// The text of each value, null as empty, bounded in total.
fn texts(ctx: &NativeCallContext, values: &[Dynamic]) -> RhaiResult<Vec<String>> {
    let mut total = 0;
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        let s = to_dotnet_string(ctx, v)?;
        total += s.len();
        check_size(ctx, total)?;
        out.push(s);
    }
    Ok(out)
}

/// `string.Concat(...)`: one enumerable argument concatenates its elements.
fn concat(ctx: &NativeCallContext, args: &[Dynamic]) -> RhaiResult<S> {
    if let [single] = args
        && let Some(list) = items(ctx, single)
    {
        return Ok(texts(ctx, &list)?.concat().into());
    }
    Ok(texts(ctx, args)?.concat().into())
}

/// `string.Join(separator, ...)`: one enumerable argument joins its elements.
fn join(ctx: &NativeCallContext, sep: &Dynamic, args: &[Dynamic]) -> RhaiResult<S> {
    let sep = if let Ok(c) = sep.as_char() {
        c.to_string()
    } else {
        to_dotnet_string(ctx, sep)?
    };
    let values = match args {
        [single] => items(ctx, single).unwrap_or_else(|| vec![single.clone()]),
        _ => args.to_vec(),
    };
    let parts = texts(ctx, &values)?;
    check_size(
        ctx,
        parts.iter().map(String::len).sum::<usize>() + sep.len() * parts.len(),
    )?;
    Ok(parts.join(&sep).into())
}

/// `string.Join(separator, string[] value, int startIndex, int count)`.
fn join_range(
    ctx: &NativeCallContext,
    sep: &Dynamic,
    values: &Dynamic,
    start: INT,
    count: INT,
) -> RhaiResult<S> {
    let Some(list) = items(ctx, values) else {
        return throw(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'value')",
        );
    };
    let Some(st) = index(start) else {
        return out_of_range("startIndex", "StartIndex cannot be less than zero.");
    };
    let Some(n) = index(count) else {
        return out_of_range("count", "Count cannot be less than zero.");
    };
    if st > list.len() || n > list.len() - st {
        return out_of_range(
            "startIndex",
            "Index and count must refer to a location within the buffer.",
        );
    }
    join(
        ctx,
        sep,
        &[Dynamic::from(
            list.get(st..st + n)
                .map(<[Dynamic]>::to_vec)
                .unwrap_or_default(),
        )],
    )
}

fn opt(v: &Dynamic) -> Option<S> {
    v.clone().into_immutable_string().ok()
}

/// `string.Compare(a, b, comparison)`: null sorts first.
fn compare(a: &Dynamic, b: &Dynamic, cmp: Comparison) -> INT {
    match (opt(a), opt(b)) {
        (None, None) => 0,
        (None, Some(_)) => -1,
        (Some(_), None) => 1,
        (Some(x), Some(y)) => cmp.compare(&x, &y),
    }
}

/// `string.Compare(a, ia, b, ib, length, comparison)`: substrings of at most `length` chars.
fn compare_range(
    a: &Dynamic,
    ia: INT,
    b: &Dynamic,
    ib: INT,
    len: INT,
    cmp: Comparison,
) -> RhaiResult<INT> {
    let (Some(x), Some(y)) = (opt(a), opt(b)) else {
        return Ok(compare(a, b, cmp));
    };
    let Some(n) = index(len) else {
        return out_of_range("length", "Length cannot be less than zero.");
    };
    let sub = |s: &str, i: INT, param: &str| -> RhaiResult<String> {
        match index(i) {
            Some(i) if i <= char_len(s) => Ok(char_slice(s, i, n.min(char_len(s) - i)).to_owned()),
            _ => out_of_range(
                param,
                "Index was out of range. Must be non-negative and less than the size of the collection.",
            ),
        }
    };
    Ok(cmp.compare(&sub(&x, ia, "indexA")?, &sub(&y, ib, "indexB")?))
}

fn equals(a: &Dynamic, b: &Dynamic, cmp: Comparison) -> bool {
    match (opt(a), opt(b)) {
        (Some(x), Some(y)) => cmp.eq(&x, &y),
        _ => a.is_unit() && b.is_unit(),
    }
}

fn new_string(ctx: &NativeCallContext, c: char, count: INT) -> RhaiResult<S> {
    let Some(n) = index(count) else {
        return out_of_range("count", "Non-negative number required.");
    };
    check_size(ctx, n.saturating_mul(c.len_utf8()))?;
    Ok(std::iter::repeat_n(c, n).collect::<String>().into())
}

fn from_chars(chars: &Array, start: usize, len: usize) -> RhaiResult<S> {
    if start > chars.len() || len > chars.len() - start {
        return out_of_range(
            "startIndex",
            "Index was out of range. Must be non-negative and less than the size of the collection.",
        );
    }
    let mut s = String::new();
    for c in chars.iter().skip(start).take(len) {
        match c.as_char() {
            Ok(c) => s.push(c),
            Err(_) => return throw("ArgumentException", "new string(...) expects a char[]."),
        }
    }
    Ok(s.into())
}

fn register_string_statics(e: &mut Engine, t: &str) {
    let f = |m: &str| format!("{t}__{m}");
    e.register_fn(f("Empty"), S::new)
        .register_fn(f("IsNullOrEmpty"), |v: Dynamic| opt(&v).is_none_or(|s| s.is_empty()))
        .register_fn(f("IsNullOrWhiteSpace"), |v: Dynamic| opt(&v).is_none_or(|s| s.chars().all(char::is_whitespace)))
        .register_fn(f("Copy"), |s: S| s)
        .register_fn(f("new"), |ctx: NativeCallContext, c: char, n: INT| new_string(&ctx, c, n))
        .register_fn(f("new"), |a: Array| from_chars(&a, 0, a.len()))
        .register_fn(f("new"), |a: Array, st: INT, n: INT| match (index(st), index(n)) {
            (Some(st), Some(n)) => from_chars(&a, st, n),
            _ => out_of_range("startIndex", "Index was out of range. Must be non-negative and less than the size of the collection."),
        })
        .register_fn(f("Compare"), |a: Dynamic, b: Dynamic| compare(&a, &b, Comparison::CURRENT))
        .register_fn(f("Compare"), |a: Dynamic, b: Dynamic, ic: bool| compare(&a, &b, Comparison::from_ignore_case(ic)))
        .register_fn(f("Compare"), |a: Dynamic, b: Dynamic, c: Comparison| compare(&a, &b, c))
        .register_fn(f("Compare"), |a: Dynamic, b: Dynamic, ic: bool, _culture: Dynamic| {
            compare(&a, &b, Comparison::from_ignore_case(ic))
        })
        .register_fn(f("Compare"), |a: Dynamic, ia: INT, b: Dynamic, ib: INT, n: INT| {
            compare_range(&a, ia, &b, ib, n, Comparison::CURRENT)
        })
        .register_fn(f("Compare"), |a: Dynamic, ia: INT, b: Dynamic, ib: INT, n: INT, ic: bool| {
            compare_range(&a, ia, &b, ib, n, Comparison::from_ignore_case(ic))
        })
        .register_fn(f("Compare"), |a: Dynamic, ia: INT, b: Dynamic, ib: INT, n: INT, c: Comparison| {
            compare_range(&a, ia, &b, ib, n, c)
        })
        .register_fn(f("CompareOrdinal"), |a: Dynamic, b: Dynamic| compare(&a, &b, Comparison::ORDINAL))
        .register_fn(f("CompareOrdinal"), |a: Dynamic, ia: INT, b: Dynamic, ib: INT, n: INT| {
            compare_range(&a, ia, &b, ib, n, Comparison::ORDINAL)
        })
        .register_fn(f("Equals"), |a: Dynamic, b: Dynamic| equals(&a, &b, Comparison::ORDINAL))
        .register_fn(f("Equals"), |a: Dynamic, b: Dynamic, c: Comparison| equals(&a, &b, c))
        .register_fn(f("Join"), |ctx: NativeCallContext, sep: Dynamic, v: Array, st: INT, n: INT| {
            join_range(&ctx, &sep, &Dynamic::from(v), st, n)
        });
    // `params` members, one registration per arity.
    macro_rules! variadic {
        ($($a:ident),*) => {
            e.register_fn(f("Concat"), |ctx: NativeCallContext, $($a: Dynamic),*| concat(&ctx, &[$($a),*]));
            e.register_fn(f("Join"), |ctx: NativeCallContext, sep: Dynamic, $($a: Dynamic),*| join(&ctx, &sep, &[$($a),*]));
        };
    }
    variadic!(a);
    variadic!(a, b);
    variadic!(a, b, c);
    variadic!(a, b, c, d);
    variadic!(a, b, c, d, g);
    variadic!(a, b, c, d, g, h);
    variadic!(a, b, c, d, g, h, i);
    variadic!(a, b, c, d, g, h, i, j);
    e.register_fn(f("Concat"), S::new);
}

/// `char.IsDigit`: Unicode decimal digits (Nd). Non-ASCII digits are taken
/// from `is_numeric` minus the common non-decimal numbers (superscripts,
/// fractions, Roman numerals, circled and parenthesized numbers).
fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
        || (!c.is_ascii()
            && c.is_numeric()
            && !matches!(c, '\u{B2}' | '\u{B3}' | '\u{B9}' | '\u{BC}'..='\u{BE}' | '\u{2070}'..='\u{209F}'
                | '\u{2150}'..='\u{218B}' | '\u{2460}'..='\u{24FF}' | '\u{2776}'..='\u{2793}' | '\u{3007}'
                | '\u{3021}'..='\u{3029}' | '\u{3038}'..='\u{303A}' | '\u{3192}'..='\u{3195}'
                | '\u{3220}'..='\u{3229}' | '\u{3248}'..='\u{324F}' | '\u{3251}'..='\u{325F}'
                | '\u{3280}'..='\u{3289}' | '\u{32B1}'..='\u{32BF}'))
}

/// `char.IsPunctuation` (categories Pc, Pd, Ps, Pe, Pi, Pf, Po): exact for
/// Latin-1, the General Punctuation block and CJK punctuation.
fn is_punctuation(c: char) -> bool {
    matches!(c, '!'..='#' | '%'..='*' | ','..='/' | ':' | ';' | '?' | '@' | '['..=']' | '_' | '{' | '}'
        | '\u{A1}' | '\u{A7}' | '\u{AB}' | '\u{B6}' | '\u{B7}' | '\u{BB}' | '\u{BF}'
        | '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{2043}' | '\u{2045}'..='\u{2051}' | '\u{2053}'..='\u{205E}'
        | '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}' | '\u{3014}'..='\u{301F}')
}

/// `char.IsSymbol` (Sm, Sc, Sk, So): exact for ASCII and Latin-1.
fn is_symbol(c: char) -> bool {
    matches!(c, '$' | '+' | '<'..='>' | '^' | '`' | '|' | '~' | '\u{A2}'..='\u{A6}' | '\u{A8}' | '\u{A9}'
        | '\u{AC}' | '\u{AE}'..='\u{B1}' | '\u{B4}' | '\u{B8}' | '\u{D7}' | '\u{F7}'
        | '\u{20A0}'..='\u{20C0}' | '\u{2100}'..='\u{214F}' | '\u{2190}'..='\u{23FF}' | '\u{2500}'..='\u{27BF}')
        && !(c.is_alphabetic() || c.is_numeric())
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() && !c.is_control()
}

fn char_at(s: &Dynamic, i: INT) -> RhaiResult<char> {
    let Some(s) = opt(s) else {
        return throw(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 's')",
        );
    };
    match index(i).and_then(|i| s.chars().nth(i)) {
        Some(c) => Ok(c),
        None => out_of_range(
            "index",
            "Index was out of range. Must be non-negative and less than the size of the collection.",
        ),
    }
}

fn register_char_statics(e: &mut Engine, t: &str) {
    let f = |m: &str| format!("{t}__{m}");
    type Test = fn(char) -> bool;
    let tests: [(&str, Test); 13] = [
        ("IsDigit", is_digit),
        ("IsLetter", char::is_alphabetic),
        ("IsLetterOrDigit", |c| c.is_alphabetic() || is_digit(c)),
        ("IsWhiteSpace", char::is_whitespace),
        ("IsUpper", char::is_uppercase),
        ("IsLower", char::is_lowercase),
        ("IsNumber", char::is_numeric),
        ("IsPunctuation", is_punctuation),
        ("IsSymbol", is_symbol),
        ("IsControl", char::is_control),
        ("IsSeparator", is_separator),
        ("IsAscii", |c| c.is_ascii()),
        ("IsSurrogate", |_| false),
    ];
    for (name, test) in tests {
        e.register_fn(f(name), move |c: char| test(c))
            .register_fn(f(name), move |s: Dynamic, i: INT| char_at(&s, i).map(test));
    }
    e.register_fn(f("IsAsciiDigit"), |c: char| c.is_ascii_digit())
        .register_fn(f("IsAsciiLetter"), |c: char| c.is_ascii_alphabetic())
        .register_fn(f("IsAsciiLetterOrDigit"), |c: char| {
            c.is_ascii_alphanumeric()
        })
        .register_fn(f("IsAsciiHexDigit"), |c: char| c.is_ascii_hexdigit())
        .register_fn(f("ToUpper"), upper)
        .register_fn(f("ToUpper"), |c: char, _culture: Dynamic| upper(c))
        .register_fn(f("ToLower"), lower)
        .register_fn(f("ToLower"), |c: char, _culture: Dynamic| lower(c))
        .register_fn(f("ToUpperInvariant"), upper)
        .register_fn(f("ToLowerInvariant"), lower)
        .register_fn(f("ToString"), |c: char| c.to_string())
        .register_fn(f("GetNumericValue"), |c: char| {
            c.to_digit(10).map_or(-1.0, f64::from)
        })
        .register_fn(f("MinValue"), || '\0')
        .register_fn(f("MaxValue"), || '\u{FFFF}')
        .register_fn(f("Parse"), |s: Dynamic| -> RhaiResult<char> {
            let Some(s) = opt(&s) else {
                return throw(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 's')",
                );
            };
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => Ok(c),
                _ => throw(
                    "FormatException",
                    "String must be exactly one character long.",
                ),
            }
        })
        .register_fn(f("TryParse__out"), |s: Dynamic| -> Array {
            let s = opt(&s).unwrap_or_default();
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => vec![true.into(), Dynamic::from_char(c)],
                _ => vec![false.into(), Dynamic::from_char('\0')],
            }
        });
}

pub(super) fn register(e: &mut Engine) {
    register_string_statics(e, "String");
    register_string_statics(e, "string");
    register_char_statics(e, "Char");
    register_char_statics(e, "char");
    e.register_fn("CompareTo", |a: char, b: char| {
        INT::from(u32::from(a)) - INT::from(u32::from(b))
    });

    e.register_type_with_name::<Comparison>("StringComparison")
        .register_fn("ToString", |c: &mut Comparison| {
            COMPARISONS
                .get(usize::from(c.code()))
                .copied()
                .unwrap_or("")
                .to_owned()
        })
        .register_fn("==", |a: Comparison, b: Comparison| a == b)
        .register_fn("!=", |a: Comparison, b: Comparison| a != b);
    for (code, name) in (0..).zip(COMPARISONS) {
        e.register_fn(format!("StringComparison__{name}"), move || {
            Comparison::from_code(code)
        });
    }
}
