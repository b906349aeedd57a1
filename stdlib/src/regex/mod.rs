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

use crate::core::{RhaiResult, Ticker, check_items, throw, to_dotnet_string};

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
    names: Arc<Vec<ImmutableString>>,
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
    /// Byte offset of the whole match in `input`.
    start: usize,
    /// Where `NextMatch` searches from.
    next: Cursor,
}

/// A place in an input, in bytes and in chars (.NET's indexes): searches
/// carry it from match to match, so that each match's char index is
/// counted from the one before, not from the start (which made every
/// search over many matches quadratic).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cursor {
    byte: usize,
    chars: INT,
}

impl Cursor {
    const START: Self = Self { byte: 0, chars: 0 };

    /// The cursor at byte `to` (a char boundary) of `s`, counted from this
    /// one, forward or back.
    fn moved(self, s: &str, to: usize) -> Self {
        let chars = if to >= self.byte {
            self.chars + s.get(self.byte..to).map_or(0, |p| p.chars().count() as INT)
        } else {
            self.chars - s.get(to..self.byte).map_or(0, |p| p.chars().count() as INT)
        };
        Self { byte: to, chars }
    }
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

impl Match {
    fn failed(regex: Option<Regex>) -> Self {
        Self {
            groups: vec![Group {
                name: "0".into(),
                ..Group::default()
            }],
            regex,
            input: ImmutableString::new(),
            start: 0,
            next: Cursor::START,
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
        let mut names: Vec<ImmutableString> = vec!["0".into()];
        for (i, n) in fancy.iter().enumerate().skip(1) {
            if n.is_none() {
                order.push(i);
                names.push(order.len().saturating_sub(1).to_string().into());
            }
        }
        for (i, n) in fancy.iter().enumerate().skip(1) {
            if let Some(n) = n {
                order.push(i);
                names.push(n.as_str().into());
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

    /// The first match at or after `at`.
    fn find(&self, input: &ImmutableString, at: Cursor) -> RhaiResult<Match> {
        if at.byte > input.len() {
            return Ok(Match::failed(Some(self.clone())));
        }
        let caps = match self.inner.captures_from_pos(input.as_str(), at.byte) {
            Ok(Some(c)) => c,
            Ok(None) => return Ok(Match::failed(Some(self.clone()))),
            Err(_) => return timeout(),
        };
        let (start, end) = caps
            .get(0)
            .map_or((at.byte, at.byte), |m| (m.start(), m.end()));
        let whole = at.moved(input, start);
        let mut groups = Vec::with_capacity(self.order.len());
        for (n, &fi) in self.order.iter().enumerate() {
            let name = self
                .names
                .get(n)
                .cloned()
                .unwrap_or_else(|| n.to_string().into());
            groups.push(match caps.get(fi) {
                Some(m) => {
                    let index = whole.moved(input, m.start()).chars;
                    Group {
                        success: true,
                        value: m.as_str().into(),
                        index,
                        length: m.as_str().chars().count() as INT,
                        name,
                    }
                }
                None => Group {
                    name,
                    ..Group::default()
                },
            });
        }
        let end = whole.moved(input, end);
        // After an empty match the next search starts one char further.
        let next = if end.byte == start {
            Cursor {
                byte: end.byte
                    + input
                        .get(end.byte..)
                        .and_then(|r| r.chars().next())
                        .map_or(1, char::len_utf8),
                chars: end.chars + 1,
            }
        } else {
            end
        };
        Ok(Match {
            groups,
            regex: Some(self.clone()),
            input: input.clone(),
            start,
            next,
        })
    }

    /// Calls `each` with every match from `at` on, in order, until it
    /// answers `false`; observes the wall-time budget between matches.
    fn each_match(
        &self,
        input: &ImmutableString,
        at: Cursor,
        mut each: impl FnMut(Match) -> RhaiResult<bool>,
    ) -> RhaiResult<()> {
        let mut ticker = Ticker::new();
        let mut pos = at;
        loop {
            let m = self.find(input, pos)?;
            if !m.whole().success {
                return Ok(());
            }
            pos = m.next;
            if !each(m)? {
                return Ok(());
            }
            ticker.tick()?;
        }
    }

    /// Every match from `at` on; more than the engine's array size limit
    /// is refused (a `MatchCollection` is read whole).
    fn matches(
        &self,
        ctx: &NativeCallContext,
        input: &ImmutableString,
        at: Cursor,
    ) -> RhaiResult<Vec<Match>> {
        let mut out = Vec::new();
        self.each_match(input, at, |m| {
            check_items(ctx, out.len() + 1)?;
            out.push(m);
            Ok(true)
        })?;
        Ok(out)
    }

    fn start_at(&self, input: &str, startat: INT) -> RhaiResult<Cursor> {
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
            Some(byte) => Ok(Cursor {
                byte,
                chars: startat,
            }),
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
        let mut limit = if count < 0 {
            usize::MAX
        } else {
            usize::try_from(count).unwrap_or(usize::MAX)
        };
        if limit == 0 {
            return Ok(s);
        }
        let evaluator = with.read_lock::<FnPtr>().map(|f| f.clone());
        let pattern: Vec<char> = match &evaluator {
            Some(_) => Vec::new(),
            None => text(with, "replacement")?.chars().collect(),
        };
        let mut out = String::new();
        let mut last = 0;
        let cap = ctx.engine().max_string_size();
        self.each_match(&s, Cursor::START, |m| {
            let start = m.start;
            out.push_str(s.get(last..start).unwrap_or(""));
            last = start + m.groups.first().map_or(0, |g| g.value.len());
            match &evaluator {
                Some(f) => {
                    // An evaluator's calls do not add up in rhai's count.
                    crate::core::check_budget()?;
                    let r = f.call_within_context::<Dynamic>(ctx, (Dynamic::from(m),))?;
                    out.push_str(&to_dotnet_string(ctx, &r)?);
                }
                None => replace::expand(&pattern, &m, &mut out)?,
            }
            if cap > 0 && out.len() > cap {
                return throw(
                    "OutOfMemoryException",
                    "Insufficient memory to continue the execution of the program.",
                );
            }
            limit -= 1;
            Ok(limit > 0)
        })?;
        out.push_str(s.get(last..).unwrap_or(""));
        Ok(out.into())
    }

    fn split(&self, ctx: &NativeCallContext, input: &Dynamic) -> RhaiResult<Array> {
        let s = text(input, "input")?;
        let mut out = Array::new();
        let mut last = 0;
        self.each_match(&s, Cursor::START, |m| {
            let start = m.start;
            out.push(Dynamic::from(s.get(last..start).unwrap_or("").to_owned()));
            out.extend(
                m.groups
                    .iter()
                    .skip(1)
                    .filter(|g| g.success)
                    .map(|g| Dynamic::from(g.value.clone())),
            );
            check_items(ctx, out.len() + 1)?;
            last = start + m.groups.first().map_or(0, |g| g.value.len());
            Ok(true)
        })?;
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
        cached(&p, 0)?.find(&text(&i, "input")?, Cursor::START)
    })
    .register_fn("Regex__Match", |i: Dynamic, p: Dynamic, o: INT| {
        cached(&p, o)?.find(&text(&i, "input")?, Cursor::START)
    })
    .register_fn(
        "Regex__Matches",
        |ctx: NativeCallContext, i: Dynamic, p: Dynamic| -> RhaiResult<MatchCollection> {
            Ok(MatchCollection(cached(&p, 0)?.matches(
                &ctx,
                &text(&i, "input")?,
                Cursor::START,
            )?))
        },
    )
    .register_fn(
        "Regex__Matches",
        |ctx: NativeCallContext, i: Dynamic, p: Dynamic, o: INT| -> RhaiResult<MatchCollection> {
            Ok(MatchCollection(cached(&p, o)?.matches(
                &ctx,
                &text(&i, "input")?,
                Cursor::START,
            )?))
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
    .register_fn(
        "Regex__Split",
        |ctx: NativeCallContext, i: Dynamic, p: Dynamic| cached(&p, 0)?.split(&ctx, &i),
    )
    .register_fn(
        "Regex__Split",
        |ctx: NativeCallContext, i: Dynamic, p: Dynamic, o: INT| cached(&p, o)?.split(&ctx, &i),
    )
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
            r.find(&text(&i, "input")?, Cursor::START)
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
            |ctx: NativeCallContext, r: &mut Regex, i: Dynamic| -> RhaiResult<MatchCollection> {
                Ok(MatchCollection(r.matches(
                    &ctx,
                    &text(&i, "input")?,
                    Cursor::START,
                )?))
            },
        )
        .register_fn(
            "Matches",
            |ctx: NativeCallContext,
             r: &mut Regex,
             i: Dynamic,
             at: INT|
             -> RhaiResult<MatchCollection> {
                let s = text(&i, "input")?;
                Ok(MatchCollection(r.matches(&ctx, &s, r.start_at(&s, at)?)?))
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
        .register_fn(
            "Split",
            |ctx: NativeCallContext, r: &mut Regex, i: Dynamic| r.split(&ctx, &i),
        )
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
