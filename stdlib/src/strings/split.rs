//! `Split` (char, char[], string, string[] separators, with a count and
//! `StringSplitOptions`) and `Trim`/`TrimStart`/`TrimEnd`.

use rhai::{Array, Dynamic, Engine, INT, ImmutableString, NativeCallContext};

use super::{index, out_of_range};
use crate::core::{RhaiResult, throw};

type S = ImmutableString;

/// A `StringSplitOptions` value (flags: RemoveEmptyEntries 1, TrimEntries 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SplitOptions(pub(crate) u8);

impl SplitOptions {
    pub(crate) const NONE: SplitOptions = SplitOptions(0);

    fn remove_empty(self) -> bool {
        self.0 & 1 != 0
    }

    fn trim(self) -> bool {
        self.0 & 2 != 0
    }

    pub(crate) fn name(self) -> String {
        match self.0 {
            0 => "None".into(),
            1 => "RemoveEmptyEntries".into(),
            2 => "TrimEntries".into(),
            3 => "RemoveEmptyEntries, TrimEntries".into(),
            n => n.to_string(),
        }
    }
}

/// The separators of one `Split` call.
enum Separators {
    /// No separator given (null, an empty array): split on white space.
    WhiteSpace,
    Chars(Vec<char>),
    /// Tried in order at each position; empty strings are ignored.
    Strings(Vec<String>),
    /// `Split("")`: a single empty string separator never splits.
    Nothing,
}

impl Separators {
    /// How many separators are tried at each place.
    fn len(&self) -> usize {
        match self {
            Separators::Chars(v) => v.len(),
            Separators::Strings(v) => v.len(),
            Separators::WhiteSpace | Separators::Nothing => 1,
        }
    }

    fn from(v: &Dynamic) -> RhaiResult<Self> {
        if v.is_unit() {
            return Ok(Separators::WhiteSpace);
        }
        if let Ok(c) = v.as_char() {
            return Ok(Separators::Chars(vec![c]));
        }
        if let Ok(s) = v.clone().into_immutable_string() {
            return Ok(if s.is_empty() {
                Separators::Nothing
            } else {
                Separators::Strings(vec![s.to_string()])
            });
        }
        let Some(items) = v.read_lock::<Array>().map(|a| a.clone()) else {
            return throw(
                "ArgumentException",
                format!(
                    "Split expects a char, string or array separator, got {}.",
                    v.type_name()
                ),
            );
        };
        if items.is_empty() {
            return Ok(Separators::WhiteSpace);
        }
        if items.iter().all(Dynamic::is_char) {
            return Ok(Separators::Chars(
                items.iter().filter_map(|c| c.as_char().ok()).collect(),
            ));
        }
        let strings: Vec<String> = items
            .iter()
            .filter_map(|s| s.clone().into_immutable_string().ok())
            .filter(|s| !s.is_empty())
            .map(|s| s.to_string())
            .collect();
        Ok(if strings.is_empty() {
            Separators::WhiteSpace
        } else {
            Separators::Strings(strings)
        })
    }

    /// The separator at byte `at` of `s`, as its byte length.
    fn at(&self, s: &str, at: usize) -> Option<usize> {
        let rest = s.get(at..)?;
        let c = rest.chars().next()?;
        match self {
            Separators::WhiteSpace => c.is_whitespace().then(|| c.len_utf8()),
            Separators::Chars(set) => set.contains(&c).then(|| c.len_utf8()),
            Separators::Strings(list) => list
                .iter()
                .find(|sep| rest.starts_with(sep.as_str()))
                .map(String::len),
            Separators::Nothing => None,
        }
    }
}

/// .NET's `String.Split`: at most `count` parts, the last one holding the rest
/// of the string; with RemoveEmptyEntries, empty parts neither appear nor count.
fn split(
    s: &str,
    sep: &Separators,
    count: INT,
    opts: SplitOptions,
    max_parts: usize,
) -> RhaiResult<Array> {
    let Some(count) = index(count) else {
        return out_of_range("count", "Count cannot be less than zero.");
    };
    let keep = |part: &str| -> Option<Dynamic> {
        let part = if opts.trim() { part.trim() } else { part };
        (!(part.is_empty() && opts.remove_empty())).then(|| Dynamic::from(part.to_owned()))
    };
    let mut out = Array::new();
    if count == 0 {
        return Ok(out);
    }
    if count == 1 || s.is_empty() {
        out.extend(keep(s));
        return Ok(out);
    }
    // The separators, found left to right as the parts are taken; each
    // place costs a look at every separator, so the search observes the
    // wall-time budget (`late` stops it).
    let mut at = 0;
    let late = std::cell::Cell::new(false);
    let mut ticker = crate::core::Ticker::new();
    let mut seps = std::iter::from_fn(|| {
        while at < s.len() {
            if ticker.advance(sep.len()).is_err() {
                late.set(true);
                return None;
            }
            if let Some(len) = sep.at(s, at) {
                let found = (at, len);
                at += len.max(1);
                return Some(found);
            }
            at += s
                .get(at..)
                .and_then(|r| r.chars().next())
                .map_or(1, char::len_utf8);
        }
        None
    })
    .peekable();
    let mut start = 0;
    while let Some((pos, len)) = seps.next() {
        if let Some(part) = keep(s.get(start..pos).unwrap_or("")) {
            if out.len() >= max_parts {
                return throw(
                    "OutOfMemoryException",
                    "Split would make more parts than an array may hold.",
                );
            }
            out.push(part);
        }
        start = pos + len;
        if out.len() == count - 1 {
            // Skip the empty entries before the final one.
            if opts.remove_empty() {
                while let Some(&(next, nlen)) = seps.peek() {
                    if keep(s.get(start..next).unwrap_or("")).is_some() {
                        break;
                    }
                    start = next + nlen;
                    seps.next();
                }
            }
            break;
        }
    }
    drop(seps);
    if late.get() {
        return crate::core::budget_error();
    }
    out.extend(keep(s.get(start..).unwrap_or("")));
    Ok(out)
}

fn split_dyn(
    ctx: &NativeCallContext,
    s: &str,
    sep: &Dynamic,
    count: INT,
    opts: SplitOptions,
) -> RhaiResult<Array> {
    split(s, &Separators::from(sep)?, count, opts, max_parts(ctx))
}

/// The engine's array size limit (unlimited when 0).
fn max_parts(ctx: &NativeCallContext) -> usize {
    match ctx.engine().max_array_size() {
        0 => usize::MAX,
        n => n,
    }
}

/// The chars a `Trim` removes: white space when none (or null, or an empty array) is given.
fn trim_set(args: &[Dynamic]) -> RhaiResult<Option<Vec<char>>> {
    let mut set = Vec::new();
    for a in args {
        if a.is_unit() {
            continue;
        }
        if let Ok(c) = a.as_char() {
            set.push(c);
        } else if let Some(items) = a.read_lock::<Array>() {
            for c in items.iter() {
                match c.as_char() {
                    Ok(c) => set.push(c),
                    Err(_) => return throw("ArgumentException", "Trim expects chars."),
                }
            }
        } else {
            return throw(
                "ArgumentException",
                format!("Trim expects chars, got {}.", a.type_name()),
            );
        }
    }
    Ok((!set.is_empty()).then_some(set))
}

#[derive(Clone, Copy)]
enum Side {
    Both,
    Start,
    End,
}

fn trim(s: &str, args: &[Dynamic], side: Side) -> RhaiResult<S> {
    let set = trim_set(args)?;
    let hit = |c: char| match &set {
        None => c.is_whitespace(),
        Some(set) => set.contains(&c),
    };
    let out = match side {
        Side::Both => s.trim_matches(hit),
        Side::Start => s.trim_start_matches(hit),
        Side::End => s.trim_end_matches(hit),
    };
    Ok(out.into())
}

pub(super) fn register(e: &mut Engine) {
    const ALL: INT = INT::MAX;
    let none = SplitOptions::NONE;
    type C<'a> = NativeCallContext<'a>;
    e.register_fn("Split", move |ctx: C, s: S| {
        split(&s, &Separators::WhiteSpace, ALL, none, max_parts(&ctx))
    })
    .register_fn("Split", move |ctx: C, s: S, sep: Dynamic| {
        split_dyn(&ctx, &s, &sep, ALL, none)
    })
    .register_fn("Split", move |ctx: C, s: S, sep: Dynamic, n: INT| {
        split_dyn(&ctx, &s, &sep, n, none)
    })
    .register_fn("Split", |ctx: C, s: S, sep: Dynamic, o: SplitOptions| {
        split_dyn(&ctx, &s, &sep, ALL, o)
    })
    .register_fn(
        "Split",
        |ctx: C, s: S, sep: Dynamic, n: INT, o: SplitOptions| split_dyn(&ctx, &s, &sep, n, o),
    )
    // `params char[]` written out: `Split(',', ';')`.
    .register_fn("Split", move |ctx: C, s: S, a: char, b: char| {
        split(
            &s,
            &Separators::Chars(vec![a, b]),
            ALL,
            none,
            max_parts(&ctx),
        )
    })
    .register_fn("Split", move |ctx: C, s: S, a: char, b: char, c: char| {
        split(
            &s,
            &Separators::Chars(vec![a, b, c]),
            ALL,
            none,
            max_parts(&ctx),
        )
    });

    for (name, side) in [
        ("Trim", Side::Both),
        ("TrimStart", Side::Start),
        ("TrimEnd", Side::End),
    ] {
        e.register_fn(name, move |s: S| trim(&s, &[], side))
            .register_fn(name, move |s: S, a: Dynamic| trim(&s, &[a], side))
            .register_fn(name, move |s: S, a: Dynamic, b: Dynamic| {
                trim(&s, &[a, b], side)
            })
            .register_fn(name, move |s: S, a: Dynamic, b: Dynamic, c: Dynamic| {
                trim(&s, &[a, b, c], side)
            });
    }

    e.register_type_with_name::<SplitOptions>("StringSplitOptions")
        .register_fn("ToString", |o: &mut SplitOptions| o.name())
        .register_fn("==", |a: SplitOptions, b: SplitOptions| a == b)
        .register_fn("!=", |a: SplitOptions, b: SplitOptions| a != b)
        .register_fn("|", |a: SplitOptions, b: SplitOptions| {
            SplitOptions(a.0 | b.0)
        })
        .register_fn("HasFlag", |a: &mut SplitOptions, b: SplitOptions| {
            a.0 & b.0 == b.0
        });
    for (name, code) in [("None", 0), ("RemoveEmptyEntries", 1), ("TrimEntries", 2)] {
        e.register_fn(format!("StringSplitOptions__{name}"), move || {
            SplitOptions(code)
        });
    }
}
