//! Regex, Match, Group, GroupCollection, MatchCollection, RegexOptions
//! (`RegexOptions.X` are INT flags, combinable with `|`), on fancy-regex.
//!
//! `pattern.rs` translates .NET syntax where fancy-regex differs; `replace.rs`
//! does .NET substitutions (`$1`, `${name}`, `$$`, `$&`, ...).
//!
//! Differences from .NET, documented: `\d`, `\w` and `\s` are Unicode like
//! .NET's; a group's `Captures` holds only its last capture; indexes and
//! lengths count chars (UTF-16 units in .NET: they differ only outside the
//! BMP); backtracking is bounded, and a pattern that exceeds the bound fails
//! with `RegexMatchTimeoutException` (as .NET's match timeout would).

mod pattern;
mod replace;
mod results;

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, FnPtr, INT, ImmutableString, NativeCallContext};

use crate::core::{RhaiResult, throw, to_dotnet_string};

const OPTIONS: &[(&str, INT)] = &[
    ("None", 0),
    ("IgnoreCase", 1),
    ("Multiline", 2),
    ("ExplicitCapture", 4),
    ("Compiled", 8),
    ("Singleline", 16),
    ("IgnorePatternWhitespace", 32),
    ("RightToLeft", 64),
    ("ECMAScript", 256),
    ("CultureInvariant", 512),
    ("NonBacktracking", 1024),
];

/// A compiled .NET regex.
#[derive(Clone)]
pub struct Regex {
    inner: Arc<fancy_regex::Regex>,
    pattern: ImmutableString,
    options: INT,
    /// fancy-regex group number for each .NET group number.
    order: Arc<Vec<usize>>,
    /// .NET group names by .NET number (numbers as text for unnamed ones).
    names: Arc<Vec<String>>,
}

/// A `Group` (and `Capture`): one group's result in a match.
#[derive(Clone, Debug, Default)]
pub struct Group {
    success: bool,
    value: ImmutableString,
    index: INT,
    length: INT,
    name: ImmutableString,
}

/// A `Match`: its groups (0 = the whole match) and where to search next.
#[derive(Clone)]
pub struct Match {
    groups: Vec<Group>,
    regex: Option<Regex>,
    input: ImmutableString,
    /// Byte offset for `NextMatch`.
    next: usize,
}

#[derive(Clone)]
pub struct GroupCollection(Vec<Group>);

#[derive(Clone)]
pub struct MatchCollection(Vec<Match>);

impl IntoIterator for GroupCollection {
    type Item = Group;
    type IntoIter = std::vec::IntoIter<Group>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl IntoIterator for MatchCollection {
    type Item = Match;
    type IntoIter = std::vec::IntoIter<Match>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

fn timeout<T>() -> RhaiResult<T> {
    throw(
        "RegexMatchTimeoutException",
        "The Regex engine has timed out while trying to match a pattern to an input string. This can occur for many reasons, including very large inputs or excessive backtracking caused by nested quantifiers, back-references and other factors.",
    )
}

fn null_input<T>(param: &str) -> RhaiResult<T> {
    throw(
        "ArgumentNullException",
        format!("Value cannot be null. (Parameter '{param}')"),
    )
}

fn text(v: &Dynamic, param: &str) -> RhaiResult<ImmutableString> {
    match v.clone().into_immutable_string() {
        Ok(s) => Ok(s),
        Err(_) => null_input(param),
    }
}

fn chars_before(s: &str, byte: usize) -> INT {
    s.get(..byte).map_or(0, |p| p.chars().count() as INT)
}

impl Match {
    fn failed(regex: Option<Regex>) -> Self {
        Self {
            groups: vec![Group {
                name: "0".into(),
                ..Group::default()
            }],
            regex,
            input: ImmutableString::new(),
            next: 0,
        }
    }

    fn whole(&self) -> Group {
        self.groups.first().cloned().unwrap_or_default()
    }
}

impl Regex {
    pub(crate) fn new(p: &str, options: INT) -> RhaiResult<Self> {
        if options & !(1 | 2 | 4 | 8 | 16 | 32 | 64 | 256 | 512 | 1024) != 0 {
            return throw(
                "ArgumentOutOfRangeException",
                "Specified argument was out of the range of valid values. (Parameter 'options')",
            );
        }
        let translated = pattern::translate(p, options)?;
        let inner = fancy_regex::RegexBuilder::new(&translated)
            .case_insensitive(options & 1 != 0)
            .multi_line(options & 2 != 0)
            .dot_matches_new_line(options & 16 != 0)
            .ignore_whitespace(options & 32 != 0)
            .backtrack_limit(200_000)
            .delegate_size_limit(4 << 20)
            .build()
            .or_else(|e| {
                throw(
                    "ArgumentException",
                    format!("Invalid pattern '{p}' at offset {}. {e}", p.chars().count()),
                )
            })?;
        // .NET numbers unnamed groups first, then named ones.
        let fancy: Vec<Option<String>> = inner
            .capture_names()
            .map(|n| n.map(str::to_owned))
            .collect();
        let mut order = vec![0];
        let mut names = vec!["0".to_owned()];
        for (i, n) in fancy.iter().enumerate().skip(1) {
            if n.is_none() {
                order.push(i);
                names.push(order.len().saturating_sub(1).to_string());
            }
        }
        for (i, n) in fancy.iter().enumerate().skip(1) {
            if let Some(n) = n {
                order.push(i);
                names.push(n.clone());
            }
        }
        Ok(Self {
            inner: Arc::new(inner),
            pattern: p.into(),
            options,
            order: Arc::new(order),
            names: Arc::new(names),
        })
    }

    /// The first match at or after byte `from`.
    fn find(&self, input: &ImmutableString, from: usize) -> RhaiResult<Match> {
        if from > input.len() {
            return Ok(Match::failed(Some(self.clone())));
        }
        let caps = match self.inner.captures_from_pos(input.as_str(), from) {
            Ok(Some(c)) => c,
            Ok(None) => return Ok(Match::failed(Some(self.clone()))),
            Err(_) => return timeout(),
        };
        let mut groups = Vec::with_capacity(self.order.len());
        for (n, &fi) in self.order.iter().enumerate() {
            let name: ImmutableString = self
                .names
                .get(n)
                .map_or_else(|| n.to_string(), Clone::clone)
                .into();
            groups.push(match caps.get(fi) {
                Some(m) => Group {
                    success: true,
                    value: m.as_str().into(),
                    index: chars_before(input, m.start()),
                    length: m.as_str().chars().count() as INT,
                    name,
                },
                None => Group {
                    name,
                    ..Group::default()
                },
            });
        }
        let (start, end) = caps.get(0).map_or((from, from), |m| (m.start(), m.end()));
        // After an empty match the next search starts one char further.
        let next = if end == start {
            end + input
                .get(end..)
                .and_then(|r| r.chars().next())
                .map_or(1, char::len_utf8)
        } else {
            end
        };
        Ok(Match {
            groups,
            regex: Some(self.clone()),
            input: input.clone(),
            next,
        })
    }

    fn matches(&self, input: &ImmutableString, from: usize) -> RhaiResult<Vec<Match>> {
        let mut out = Vec::new();
        let mut pos = from;
        loop {
            let m = self.find(input, pos)?;
            if !m.whole().success {
                return Ok(out);
            }
            pos = m.next;
            out.push(m);
        }
    }

    fn start_at(&self, input: &str, startat: INT) -> RhaiResult<usize> {
        let Ok(n) = usize::try_from(startat) else {
            return throw(
                "ArgumentOutOfRangeException",
                "Specified argument was out of the range of valid values. (Parameter 'startat')",
            );
        };
        match input
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(input.len()))
            .nth(n)
        {
            Some(b) => Ok(b),
            None => throw(
                "ArgumentOutOfRangeException",
                "Specified argument was out of the range of valid values. (Parameter 'startat')",
            ),
        }
    }

    fn is_match(&self, input: &Dynamic) -> RhaiResult<bool> {
        let s = text(input, "input")?;
        match self.inner.is_match(s.as_str()) {
            Ok(b) => Ok(b),
            Err(_) => timeout(),
        }
    }

    fn replace(
        &self,
        ctx: &NativeCallContext,
        input: &Dynamic,
        with: &Dynamic,
        count: INT,
    ) -> RhaiResult<ImmutableString> {
        let s = text(input, "input")?;
        let limit = if count < 0 {
            usize::MAX
        } else {
            usize::try_from(count).unwrap_or(usize::MAX)
        };
        let mut out = String::new();
        let mut last = 0;
        let cap = ctx.engine().max_string_size();
        for m in self.matches(&s, 0)?.into_iter().take(limit) {
            let whole = m.whole();
            let start = s
                .char_indices()
                .nth(usize::try_from(whole.index).unwrap_or(0))
                .map_or(s.len(), |(b, _)| b);
            out.push_str(s.get(last..start).unwrap_or(""));
            match with.read_lock::<FnPtr>() {
                Some(f) => {
                    let r = f.call_within_context::<Dynamic>(ctx, (Dynamic::from(m.clone()),))?;
                    out.push_str(&to_dotnet_string(ctx, &r)?);
                }
                None => replace::expand(&text(with, "replacement")?, &m, &mut out),
            }
            last = start + whole.value.len();
            if cap > 0 && out.len() > cap {
                return throw(
                    "OutOfMemoryException",
                    "Insufficient memory to continue the execution of the program.",
                );
            }
        }
        out.push_str(s.get(last..).unwrap_or(""));
        Ok(out.into())
    }

    fn split(&self, input: &Dynamic) -> RhaiResult<Array> {
        let s = text(input, "input")?;
        let mut out = Array::new();
        let mut last = 0;
        for m in self.matches(&s, 0)? {
            let whole = m.whole();
            let start = s
                .char_indices()
                .nth(usize::try_from(whole.index).unwrap_or(0))
                .map_or(s.len(), |(b, _)| b);
            out.push(Dynamic::from(s.get(last..start).unwrap_or("").to_owned()));
            out.extend(
                m.groups
                    .iter()
                    .skip(1)
                    .filter(|g| g.success)
                    .map(|g| Dynamic::from(g.value.clone())),
            );
            last = start + whole.value.len();
        }
        out.push(Dynamic::from(s.get(last..).unwrap_or("").to_owned()));
        Ok(out)
    }
}

thread_local! {
    static CACHE: std::cell::RefCell<Vec<(ImmutableString, INT, Regex)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The static methods compile through a small per-thread cache.
fn cached(p: &Dynamic, options: INT) -> RhaiResult<Regex> {
    let p = text(p, "pattern")?;
    if let Some(r) = CACHE.with(|c| {
        c.borrow()
            .iter()
            .find(|(q, o, _)| *q == p && *o == options)
            .map(|(_, _, r)| r.clone())
    }) {
        return Ok(r);
    }
    let r = Regex::new(&p, options)?;
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 32 {
            c.remove(0);
        }
        c.push((p, options, r.clone()));
    });
    Ok(r)
}

fn register_statics(e: &mut Engine) {
    for &(name, value) in OPTIONS {
        e.register_fn(format!("RegexOptions__{name}"), move || value);
    }
    e.register_fn("Regex__new", |p: Dynamic| {
        Regex::new(&text(&p, "pattern")?, 0)
    })
    .register_fn("Regex__new", |p: Dynamic, o: INT| {
        Regex::new(&text(&p, "pattern")?, o)
    })
    .register_fn("Regex__new", |p: Dynamic, o: INT, _timeout: Dynamic| {
        Regex::new(&text(&p, "pattern")?, o)
    })
    .register_fn("Regex__IsMatch", |i: Dynamic, p: Dynamic| {
        cached(&p, 0)?.is_match(&i)
    })
    .register_fn("Regex__IsMatch", |i: Dynamic, p: Dynamic, o: INT| {
        cached(&p, o)?.is_match(&i)
    })
    .register_fn("Regex__Match", |i: Dynamic, p: Dynamic| {
        cached(&p, 0)?.find(&text(&i, "input")?, 0)
    })
    .register_fn("Regex__Match", |i: Dynamic, p: Dynamic, o: INT| {
        cached(&p, o)?.find(&text(&i, "input")?, 0)
    })
    .register_fn(
        "Regex__Matches",
        |i: Dynamic, p: Dynamic| -> RhaiResult<MatchCollection> {
            Ok(MatchCollection(
                cached(&p, 0)?.matches(&text(&i, "input")?, 0)?,
            ))
        },
    )
    .register_fn(
        "Regex__Matches",
        |i: Dynamic, p: Dynamic, o: INT| -> RhaiResult<MatchCollection> {
            Ok(MatchCollection(
                cached(&p, o)?.matches(&text(&i, "input")?, 0)?,
            ))
        },
    )
    .register_fn(
        "Regex__Replace",
        |ctx: NativeCallContext, i: Dynamic, p: Dynamic, r: Dynamic| {
            cached(&p, 0)?.replace(&ctx, &i, &r, -1)
        },
    )
    .register_fn(
        "Regex__Replace",
        |ctx: NativeCallContext, i: Dynamic, p: Dynamic, r: Dynamic, o: INT| {
            cached(&p, o)?.replace(&ctx, &i, &r, -1)
        },
    )
    .register_fn("Regex__Split", |i: Dynamic, p: Dynamic| {
        cached(&p, 0)?.split(&i)
    })
    .register_fn("Regex__Split", |i: Dynamic, p: Dynamic, o: INT| {
        cached(&p, o)?.split(&i)
    })
    .register_fn(
        "Regex__Escape",
        |s: Dynamic| -> RhaiResult<ImmutableString> {
            Ok(ImmutableString::from(pattern::escape(&text(&s, "str")?)))
        },
    )
    .register_fn("Regex__Unescape", |s: Dynamic| {
        pattern::unescape(&text(&s, "str")?).map(ImmutableString::from)
    })
    .register_fn("Match__Empty", || Match::failed(None));
}

fn register_regex(e: &mut Engine) {
    e.register_type_with_name::<Regex>("Regex")
        .register_fn("IsMatch", |r: &mut Regex, i: Dynamic| r.is_match(&i))
        .register_fn(
            "IsMatch",
            |r: &mut Regex, i: Dynamic, at: INT| -> RhaiResult<bool> {
                let s = text(&i, "input")?;
                Ok(r.find(&s, r.start_at(&s, at)?)?.whole().success)
            },
        )
        .register_fn("Match", |r: &mut Regex, i: Dynamic| {
            r.find(&text(&i, "input")?, 0)
        })
        .register_fn(
            "Match",
            |r: &mut Regex, i: Dynamic, at: INT| -> RhaiResult<Match> {
                let s = text(&i, "input")?;
                r.find(&s, r.start_at(&s, at)?)
            },
        )
        .register_fn(
            "Matches",
            |r: &mut Regex, i: Dynamic| -> RhaiResult<MatchCollection> {
                Ok(MatchCollection(r.matches(&text(&i, "input")?, 0)?))
            },
        )
        .register_fn(
            "Matches",
            |r: &mut Regex, i: Dynamic, at: INT| -> RhaiResult<MatchCollection> {
                let s = text(&i, "input")?;
                Ok(MatchCollection(r.matches(&s, r.start_at(&s, at)?)?))
            },
        )
        .register_fn(
            "Replace",
            |ctx: NativeCallContext, r: &mut Regex, i: Dynamic, w: Dynamic| {
                r.replace(&ctx, &i, &w, -1)
            },
        )
        .register_fn(
            "Replace",
            |ctx: NativeCallContext, r: &mut Regex, i: Dynamic, w: Dynamic, n: INT| {
                r.replace(&ctx, &i, &w, n)
            },
        )
        .register_fn("Split", |r: &mut Regex, i: Dynamic| r.split(&i))
        .register_fn("GetGroupNames", |r: &mut Regex| {
            r.names
                .iter()
                .map(|n| Dynamic::from(n.clone()))
                .collect::<Array>()
        })
        .register_fn("GetGroupNumbers", |r: &mut Regex| {
            (0..r.names.len())
                .map(|n| Dynamic::from_int(n as INT))
                .collect::<Array>()
        })
        .register_get("Options", |r: &mut Regex| r.options)
        .register_fn("ToString", |r: &mut Regex| r.pattern.clone());
}

pub(crate) fn register(e: &mut Engine) {
    register_statics(e);
    register_regex(e);
    results::register(e);
}

#[cfg(test)]
mod tests;
