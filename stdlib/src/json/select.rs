//! `SelectToken` / `SelectTokens`: the JSONPath subset policies use —
//! `$`, `.name`, `['name']`, `[0]`, `[0,2]`, `*`, `[*]` and `..name`.
//! Filters (`[?(...)]`) and slices are refused with a `NotSupportedException`.

use super::tree::{self, Kind, Link};
use crate::core::{RhaiResult, throw};

enum Seg {
    Name(String),
    Indexes(Vec<i64>),
    Wildcard,
    /// `..name`, or `..*` with `None`.
    Descend(Option<String>),
}

fn bad<T>(msg: String) -> RhaiResult<T> {
    throw("JsonException", msg)
}

fn parse(path: &str) -> RhaiResult<Vec<Seg>> {
    let cs: Vec<char> = path.chars().collect();
    let mut i = 0;
    let mut segs = Vec::new();
    if cs.first() == Some(&'$') {
        i = 1;
    }
    let name_end = |from: usize| {
        let mut j = from;
        while cs
            .get(j)
            .is_some_and(|c| !matches!(c, '.' | '[' | ']' | '(' | ')' | ' '))
        {
            j += 1;
        }
        j
    };
    let mut first = true;
    while let Some(&c) = cs.get(i) {
        match c {
            '.' => {
                if cs.get(i + 1) == Some(&'.') {
                    let end = name_end(i + 2);
                    let name: String = cs.get(i + 2..end).unwrap_or(&[]).iter().collect();
                    segs.push(Seg::Descend(if name == "*" { None } else { Some(name) }));
                    i = end;
                } else {
                    let end = name_end(i + 1);
                    let name: String = cs.get(i + 1..end).unwrap_or(&[]).iter().collect();
                    if name.is_empty() {
                        return bad(format!("Unexpected end while parsing path: {path}"));
                    }
                    segs.push(if name == "*" {
                        Seg::Wildcard
                    } else {
                        Seg::Name(name)
                    });
                    i = end;
                }
            }
            '[' => {
                let close =
                    (i..cs.len()).find(|&j| cs.get(j) == Some(&']') && !in_quotes(&cs, i, j));
                let Some(close) = close else {
                    return bad(format!("Path ended with open indexer: {path}"));
                };
                let inner: String = cs.get(i + 1..close).unwrap_or(&[]).iter().collect();
                let inner = inner.trim();
                if inner == "*" {
                    segs.push(Seg::Wildcard);
                } else if let Some(q) = inner
                    .strip_prefix('\'')
                    .and_then(|s| s.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
                {
                    segs.push(Seg::Name(q.replace("\\'", "'").replace("\\\\", "\\")));
                } else if inner.starts_with('?') || inner.starts_with('(') || inner.contains(':') {
                    return throw(
                        "NotSupportedException",
                        format!("JSONPath filters and slices are not supported: [{inner}]"),
                    );
                } else {
                    let idx: Result<Vec<i64>, _> =
                        inner.split(',').map(|s| s.trim().parse::<i64>()).collect();
                    match idx {
                        Ok(v) => segs.push(Seg::Indexes(v)),
                        Err(_) => {
                            return bad(format!(
                                "Unexpected character while parsing path indexer: {}",
                                inner.chars().next().unwrap_or(']')
                            ));
                        }
                    }
                }
                i = close + 1;
            }
            _ if first => {
                let end = name_end(i);
                if end == i {
                    return bad(format!("Unexpected character while parsing path: {c}"));
                }
                let name: String = cs.get(i..end).unwrap_or(&[]).iter().collect();
                segs.push(if name == "*" {
                    Seg::Wildcard
                } else {
                    Seg::Name(name)
                });
                i = end;
            }
            _ => return bad(format!("Unexpected character while parsing path: {c}")),
        }
        first = false;
    }
    Ok(segs)
}

fn in_quotes(cs: &[char], from: usize, to: usize) -> bool {
    let mut q: Option<char> = None;
    for c in cs.get(from..to).unwrap_or(&[]) {
        match (q, c) {
            (None, '\'' | '"') => q = Some(*c),
            (Some(open), c) if *c == open => q = None,
            _ => {}
        }
    }
    q.is_some()
}

pub(crate) fn descendants(l: &Link, out: &mut Vec<Link>) {
    for c in tree::children(l) {
        match tree::prop_value(&c) {
            Some(v) => {
                out.push(c.clone());
                out.push(v.clone());
                descendants(&v, out);
            }
            None => {
                out.push(c.clone());
                descendants(&c, out);
            }
        }
    }
}

/// All tokens `path` selects from `from`; `strict` is `errorWhenNoMatch`.
pub(crate) fn select(from: &Link, path: &str, strict: bool) -> RhaiResult<Vec<Link>> {
    let mut cur = vec![from.clone()];
    for seg in parse(path)? {
        let mut next = Vec::new();
        for t in &cur {
            let g = tree::read(t);
            match (&seg, &g.kind) {
                (Seg::Name(n), Kind::Object(m)) => match m.get(n).and_then(tree::prop_value) {
                    Some(v) => next.push(v),
                    None if strict => {
                        return bad(format!("Property '{n}' does not exist on JObject."));
                    }
                    None => {}
                },
                (Seg::Name(n), _) if strict => {
                    return bad(format!(
                        "Property '{n}' not valid on {}.",
                        tree::class_name(t)
                    ));
                }
                (Seg::Indexes(ix), Kind::Array(items)) => {
                    for &i in ix {
                        match usize::try_from(i).ok().and_then(|i| items.get(i)) {
                            Some(v) => next.push(v.clone()),
                            None if strict => {
                                return bad(format!("Index {i} outside the bounds of JArray."));
                            }
                            None => {}
                        }
                    }
                }
                (Seg::Indexes(ix), _) if strict => {
                    return bad(format!(
                        "Index {} not valid on {}.",
                        ix.first().unwrap_or(&0),
                        tree::class_name(t)
                    ));
                }
                (Seg::Wildcard, Kind::Object(m)) => {
                    next.extend(m.values().filter_map(tree::prop_value))
                }
                (Seg::Wildcard, Kind::Array(items)) => next.extend(items.iter().cloned()),
                (Seg::Descend(name), _) => {
                    drop(g);
                    let mut all = Vec::new();
                    descendants(t, &mut all);
                    for d in all {
                        match (name, tree::prop_name(&d)) {
                            (Some(n), Some(pn)) if *n == pn => next.extend(tree::prop_value(&d)),
                            (None, None) => next.push(d),
                            _ => {}
                        }
                    }
                    continue;
                }
                _ => {}
            }
        }
        cur = next;
    }
    Ok(cur)
}

/// `SelectToken(path)`: one token or null; several is an error.
pub(crate) fn select_one(from: &Link, path: &str, strict: bool) -> RhaiResult<Option<Link>> {
    let mut all = select(from, path, strict)?;
    if all.len() > 1 {
        return throw("JsonException", "Path returned multiple tokens.");
    }
    Ok(all.pop())
}
