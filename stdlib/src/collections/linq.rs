//! `System.Linq.Enumerable`, eagerly: every operator reads its source's
//! elements (see [`super::items`]) and returns a rhai array (or a value).
//! Lambdas are rhai closures; overloads taking `(item, index)` are detected
//! by arity. `FirstOrDefault` and friends return null as the default, which
//! is `default(T)` only for reference types.

use std::cmp::Ordering;
use std::collections::HashSet as StdSet;

use rhai::{Array, Dynamic, Engine, FnPtr, INT, ImmutableString, NativeCallContext};

use super::dict::{StringComparer, string_eq};
use super::{call, compare, index_out_of_range, items, sort_by, test, with_index};
use crate::core::{RhaiResult, equals, throw, to_dotnet_string};

type Ctx<'a> = NativeCallContext<'a>;

/// `OrderBy(...)` and its `ThenBy(...)` refinements.
#[derive(Clone)]
pub struct OrderedEnumerable {
    source: Array,
    keys: Vec<(FnPtr, bool)>,
    sorted: Array,
}

impl OrderedEnumerable {
    fn build(ctx: &Ctx, source: Array, keys: Vec<(FnPtr, bool)>) -> RhaiResult<Self> {
        let mut rows = Vec::with_capacity(source.len());
        for (i, x) in source.iter().enumerate() {
            let mut k = Vec::with_capacity(keys.len());
            for (f, _) in &keys {
                k.push(call(ctx, f, (x.clone(),))?);
            }
            rows.push((i, k));
        }
        sort_by(&mut rows, |(_, a), (_, b)| {
            for ((x, y), (_, desc)) in a.iter().zip(b).zip(&keys) {
                let o = compare(ctx, x, y)?;
                if o != Ordering::Equal {
                    return Ok(if *desc { o.reverse() } else { o });
                }
            }
            Ok(Ordering::Equal)
        })?;
        let sorted = rows
            .iter()
            .filter_map(|(i, _)| source.get(*i).cloned())
            .collect();
        Ok(Self {
            source,
            keys,
            sorted,
        })
    }
}

impl IntoIterator for OrderedEnumerable {
    type Item = Dynamic;
    type IntoIter = std::vec::IntoIter<Dynamic>;
    fn into_iter(self) -> Self::IntoIter {
        self.sorted.into_iter()
    }
}

/// A `GroupBy` group: its key and elements.
#[derive(Clone)]
pub struct Grouping {
    key: Dynamic,
    items: Array,
}

impl IntoIterator for Grouping {
    type Item = Dynamic;
    type IntoIter = std::vec::IntoIter<Dynamic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

pub(crate) fn no_elements<T>() -> RhaiResult<T> {
    throw("InvalidOperationException", "Sequence contains no elements")
}

fn no_match<T>() -> RhaiResult<T> {
    throw(
        "InvalidOperationException",
        "Sequence contains no matching element",
    )
}

fn filter(ctx: &Ctx, src: &Dynamic, f: &FnPtr) -> RhaiResult<Array> {
    let all = items(ctx, src)?;
    let mut out = Array::new();
    let Some(first) = all.first() else {
        return Ok(out);
    };
    let (indexed, r) = with_index(ctx, f, first)?;
    for (i, x) in all.into_iter().enumerate() {
        let keep = if i == 0 {
            super::truth(&r)?
        } else if indexed {
            super::truth(&call(ctx, f, (x.clone(), Dynamic::from_int(i as INT)))?)?
        } else {
            test(ctx, f, &x)?
        };
        if keep {
            out.push(x);
        }
    }
    Ok(out)
}

fn map(ctx: &Ctx, src: &Dynamic, f: &FnPtr) -> RhaiResult<Array> {
    let all = items(ctx, src)?;
    let mut out = Array::with_capacity(all.len());
    let Some(first) = all.first() else {
        return Ok(out);
    };
    let (indexed, r) = with_index(ctx, f, first)?;
    out.push(r);
    for (i, x) in all.into_iter().enumerate().skip(1) {
        out.push(if indexed {
            call(ctx, f, (x, Dynamic::from_int(i as INT)))?
        } else {
            call(ctx, f, (x,))?
        });
    }
    Ok(out)
}

fn matching(ctx: &Ctx, src: &Dynamic, f: Option<&FnPtr>) -> RhaiResult<Array> {
    match f {
        Some(f) => {
            let all = items(ctx, src)?;
            let mut out = Array::new();
            for x in all {
                if test(ctx, f, &x)? {
                    out.push(x);
                }
            }
            Ok(out)
        }
        None => items(ctx, src),
    }
}

fn first(
    ctx: &Ctx,
    src: &Dynamic,
    f: Option<&FnPtr>,
    or_default: Option<Dynamic>,
) -> RhaiResult<Dynamic> {
    match f {
        None => match items(ctx, src)?.into_iter().next() {
            Some(x) => Ok(x),
            None => or_default.map_or_else(no_elements, Ok),
        },
        Some(f) => {
            for x in items(ctx, src)? {
                if test(ctx, f, &x)? {
                    return Ok(x);
                }
            }
            or_default.map_or_else(no_match, Ok)
        }
    }
}

fn last(
    ctx: &Ctx,
    src: &Dynamic,
    f: Option<&FnPtr>,
    or_default: Option<Dynamic>,
) -> RhaiResult<Dynamic> {
    match matching(ctx, src, f)?.pop() {
        Some(x) => Ok(x),
        None if or_default.is_some() => Ok(or_default.unwrap_or_default()),
        None if f.is_some() => no_match(),
        None => no_elements(),
    }
}

fn single(ctx: &Ctx, src: &Dynamic, f: Option<&FnPtr>, or_default: bool) -> RhaiResult<Dynamic> {
    let found = matching(ctx, src, f)?;
    let matching_word = if f.is_some() { "matching " } else { "" };
    match found.len() {
        0 if or_default => Ok(Dynamic::UNIT),
        0 if f.is_some() => no_match(),
        0 => no_elements(),
        1 => Ok(found.into_iter().next().unwrap_or_default()),
        _ => throw(
            "InvalidOperationException",
            format!("Sequence contains more than one {matching_word}element"),
        ),
    }
}

/// A hashable identity for `Distinct`/`Union`/...: the value's type and text.
fn identity(ctx: &Ctx, v: &Dynamic, comparer: Option<StringComparer>) -> RhaiResult<String> {
    if v.is_unit() {
        return Ok("null".into());
    }
    let text = to_dotnet_string(ctx, v)?;
    let text = if comparer.is_some_and(|c| c.ignore_case) && v.is_string() {
        text.to_uppercase()
    } else {
        text
    };
    Ok(format!("{}:{text}", crate::core::dotnet_type(v)))
}

fn distinct(ctx: &Ctx, all: Array, comparer: Option<StringComparer>) -> RhaiResult<Array> {
    let mut seen = StdSet::new();
    let mut out = Array::new();
    for x in all {
        if seen.insert(identity(ctx, &x, comparer)?) {
            out.push(x);
        }
    }
    Ok(out)
}

pub(crate) fn count_arg(n: INT) -> usize {
    usize::try_from(n.max(0)).unwrap_or(usize::MAX)
}

fn register_filters(e: &mut Engine) {
    e.register_fn("Where", |ctx: Ctx, s: Dynamic, f: FnPtr| {
        filter(&ctx, &s, &f)
    })
    .register_fn("Select", |ctx: Ctx, s: Dynamic, f: FnPtr| map(&ctx, &s, &f))
    .register_fn(
        "SelectMany",
        |ctx: Ctx, s: Dynamic, f: FnPtr| -> RhaiResult<Array> {
            let mut out = Array::new();
            for part in map(&ctx, &s, &f)? {
                out.extend(items(&ctx, &part)?);
            }
            Ok(out)
        },
    )
    .register_fn("Any", |ctx: Ctx, s: Dynamic| -> RhaiResult<_> {
        Ok(!items(&ctx, &s)?.is_empty())
    })
    .register_fn(
        "Any",
        |ctx: Ctx, s: Dynamic, f: FnPtr| -> RhaiResult<bool> {
            for x in items(&ctx, &s)? {
                if test(&ctx, &f, &x)? {
                    return Ok(true);
                }
            }
            Ok(false)
        },
    )
    .register_fn(
        "All",
        |ctx: Ctx, s: Dynamic, f: FnPtr| -> RhaiResult<bool> {
            for x in items(&ctx, &s)? {
                if !test(&ctx, &f, &x)? {
                    return Ok(false);
                }
            }
            Ok(true)
        },
    )
    .register_fn("Count", |ctx: Ctx, s: Dynamic| -> RhaiResult<_> {
        Ok(items(&ctx, &s)?.len() as INT)
    })
    .register_fn("Count", |ctx: Ctx, s: Dynamic, f: FnPtr| -> RhaiResult<_> {
        Ok(matching(&ctx, &s, Some(&f))?.len() as INT)
    })
    .register_fn("LongCount", |ctx: Ctx, s: Dynamic| -> RhaiResult<_> {
        Ok(items(&ctx, &s)?.len() as INT)
    })
    .register_fn(
        "Contains",
        |ctx: Ctx, s: Dynamic, v: Dynamic| -> RhaiResult<_> {
            Ok(items(&ctx, &s)?.iter().any(|x| equals(&ctx, x, &v)))
        },
    )
    .register_fn(
        "Contains",
        |ctx: Ctx, s: Dynamic, v: Dynamic, c: StringComparer| -> RhaiResult<_> {
            Ok(items(&ctx, &s)?.iter().any(|x| string_eq(c, x, &v)))
        },
    )
    .register_fn("First", |ctx: Ctx, s: Dynamic| first(&ctx, &s, None, None))
    .register_fn("First", |ctx: Ctx, s: Dynamic, f: FnPtr| {
        first(&ctx, &s, Some(&f), None)
    })
    .register_fn("FirstOrDefault", |ctx: Ctx, s: Dynamic| {
        first(&ctx, &s, None, Some(Dynamic::UNIT))
    })
    .register_fn("FirstOrDefault", |ctx: Ctx, s: Dynamic, f: FnPtr| {
        first(&ctx, &s, Some(&f), Some(Dynamic::UNIT))
    })
    .register_fn("FirstOrDefault", |ctx: Ctx, s: Dynamic, d: Dynamic| {
        first(&ctx, &s, None, Some(d))
    })
    .register_fn(
        "FirstOrDefault",
        |ctx: Ctx, s: Dynamic, f: FnPtr, d: Dynamic| first(&ctx, &s, Some(&f), Some(d)),
    )
    .register_fn("Last", |ctx: Ctx, s: Dynamic| last(&ctx, &s, None, None))
    .register_fn("Last", |ctx: Ctx, s: Dynamic, f: FnPtr| {
        last(&ctx, &s, Some(&f), None)
    })
    .register_fn("LastOrDefault", |ctx: Ctx, s: Dynamic| {
        last(&ctx, &s, None, Some(Dynamic::UNIT))
    })
    .register_fn("LastOrDefault", |ctx: Ctx, s: Dynamic, f: FnPtr| {
        last(&ctx, &s, Some(&f), Some(Dynamic::UNIT))
    })
    .register_fn("LastOrDefault", |ctx: Ctx, s: Dynamic, d: Dynamic| {
        last(&ctx, &s, None, Some(d))
    })
    .register_fn("Single", |ctx: Ctx, s: Dynamic| {
        single(&ctx, &s, None, false)
    })
    .register_fn("Single", |ctx: Ctx, s: Dynamic, f: FnPtr| {
        single(&ctx, &s, Some(&f), false)
    })
    .register_fn("SingleOrDefault", |ctx: Ctx, s: Dynamic| {
        single(&ctx, &s, None, true)
    })
    .register_fn("SingleOrDefault", |ctx: Ctx, s: Dynamic, f: FnPtr| {
        single(&ctx, &s, Some(&f), true)
    })
    .register_fn(
        "ElementAt",
        |ctx: Ctx, s: Dynamic, i: INT| -> RhaiResult<Dynamic> {
            match usize::try_from(i)
                .ok()
                .and_then(|i| items(&ctx, &s).ok()?.into_iter().nth(i))
            {
                Some(x) => Ok(x),
                None => index_out_of_range(),
            }
        },
    )
    .register_fn(
        "ElementAtOrDefault",
        |ctx: Ctx, s: Dynamic, i: INT| -> RhaiResult<Dynamic> {
            Ok(usize::try_from(i)
                .ok()
                .and_then(|i| items(&ctx, &s).ok()?.into_iter().nth(i))
                .unwrap_or_default())
        },
    )
    .register_fn(
        "DefaultIfEmpty",
        |ctx: Ctx, s: Dynamic| -> RhaiResult<Array> {
            let all = items(&ctx, &s)?;
            Ok(if all.is_empty() {
                vec![Dynamic::UNIT]
            } else {
                all
            })
        },
    )
    .register_fn(
        "DefaultIfEmpty",
        |ctx: Ctx, s: Dynamic, d: Dynamic| -> RhaiResult<Array> {
            let all = items(&ctx, &s)?;
            Ok(if all.is_empty() { vec![d] } else { all })
        },
    )
    .register_fn("Skip", |ctx: Ctx, s: Dynamic, n: INT| -> RhaiResult<_> {
        Ok(items(&ctx, &s)?
            .into_iter()
            .skip(count_arg(n))
            .collect::<Array>())
    })
    .register_fn("Take", |ctx: Ctx, s: Dynamic, n: INT| -> RhaiResult<_> {
        Ok(items(&ctx, &s)?
            .into_iter()
            .take(count_arg(n))
            .collect::<Array>())
    })
    .register_fn(
        "SkipWhile",
        |ctx: Ctx, s: Dynamic, f: FnPtr| -> RhaiResult<Array> {
            let all = items(&ctx, &s)?;
            let mut n = 0;
            for x in &all {
                if !test(&ctx, &f, x)? {
                    break;
                }
                n += 1;
            }
            Ok(all.into_iter().skip(n).collect())
        },
    )
    .register_fn(
        "TakeWhile",
        |ctx: Ctx, s: Dynamic, f: FnPtr| -> RhaiResult<Array> {
            let mut out = Array::new();
            for x in items(&ctx, &s)? {
                if !test(&ctx, &f, &x)? {
                    break;
                }
                out.push(x);
            }
            Ok(out)
        },
    )
    .register_fn(
        "OfType",
        |ctx: Ctx, s: Dynamic, t: ImmutableString| -> RhaiResult<Array> {
            Ok(items(&ctx, &s)?
                .into_iter()
                .filter(|x| crate::core::is_type(x, &t))
                .collect::<Array>())
        },
    )
    .register_fn(
        "Cast",
        |ctx: Ctx, s: Dynamic, t: ImmutableString| -> RhaiResult<Array> {
            items(&ctx, &s)?
                .into_iter()
                .map(|x| crate::core::unbox(x, &t))
                .collect()
        },
    );
}

fn register_sets(e: &mut Engine) {
    e.register_fn("Distinct", |ctx: Ctx, s: Dynamic| {
        distinct(&ctx, items(&ctx, &s)?, None)
    })
    .register_fn("Distinct", |ctx: Ctx, s: Dynamic, c: StringComparer| {
        distinct(&ctx, items(&ctx, &s)?, Some(c))
    })
    .register_fn(
        "Concat",
        |ctx: Ctx, s: Dynamic, o: Dynamic| -> RhaiResult<Array> {
            let mut all = items(&ctx, &s)?;
            all.extend(items(&ctx, &o)?);
            Ok(all)
        },
    )
    .register_fn(
        "Union",
        |ctx: Ctx, s: Dynamic, o: Dynamic| -> RhaiResult<Array> {
            let mut all = items(&ctx, &s)?;
            all.extend(items(&ctx, &o)?);
            distinct(&ctx, all, None)
        },
    )
    .register_fn(
        "Intersect",
        |ctx: Ctx, s: Dynamic, o: Dynamic| -> RhaiResult<Array> {
            let other: StdSet<String> = items(&ctx, &o)?
                .iter()
                .map(|x| identity(&ctx, x, None))
                .collect::<RhaiResult<_>>()?;
            let mut out = Array::new();
            for x in distinct(&ctx, items(&ctx, &s)?, None)? {
                if other.contains(&identity(&ctx, &x, None)?) {
                    out.push(x);
                }
            }
            Ok(out)
        },
    )
    .register_fn(
        "Except",
        |ctx: Ctx, s: Dynamic, o: Dynamic| -> RhaiResult<Array> {
            let other: StdSet<String> = items(&ctx, &o)?
                .iter()
                .map(|x| identity(&ctx, x, None))
                .collect::<RhaiResult<_>>()?;
            let mut out = Array::new();
            for x in distinct(&ctx, items(&ctx, &s)?, None)? {
                if !other.contains(&identity(&ctx, &x, None)?) {
                    out.push(x);
                }
            }
            Ok(out)
        },
    )
    .register_fn(
        "SequenceEqual",
        |ctx: Ctx, s: Dynamic, o: Dynamic| -> RhaiResult<bool> {
            let (a, b) = (items(&ctx, &s)?, items(&ctx, &o)?);
            Ok(a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| equals(&ctx, x, y)))
        },
    )
    .register_fn("Reverse", |ctx: Ctx, s: Dynamic| -> RhaiResult<_> {
        Ok(items(&ctx, &s)?.into_iter().rev().collect::<Array>())
    })
    .register_fn(
        "Zip",
        |ctx: Ctx, s: Dynamic, o: Dynamic, f: FnPtr| -> RhaiResult<Array> {
            items(&ctx, &s)?
                .into_iter()
                .zip(items(&ctx, &o)?)
                .map(|(x, y)| call(&ctx, &f, (x, y)))
                .collect()
        },
    )
    .register_fn("ToArray", |ctx: Ctx, s: Dynamic| items(&ctx, &s))
    .register_fn("ToList", |ctx: Ctx, s: Dynamic| -> RhaiResult<Dynamic> {
        let all = items(&ctx, &s)?;
        ctx.call_native_fn::<Dynamic>(
            "List__new",
            (ImmutableString::from("Object"), Dynamic::from_array(all)),
        )
    })
    .register_fn("ToHashSet", |ctx: Ctx, s: Dynamic| -> RhaiResult<Dynamic> {
        let all = items(&ctx, &s)?;
        ctx.call_native_fn::<Dynamic>(
            "HashSet__new",
            (ImmutableString::from("Object"), Dynamic::from_array(all)),
        )
    })
    .register_fn("ToDictionary", |ctx: Ctx, s: Dynamic, k: FnPtr| {
        to_dictionary(&ctx, &s, &k, None)
    })
    .register_fn(
        "ToDictionary",
        |ctx: Ctx, s: Dynamic, k: FnPtr, v: FnPtr| to_dictionary(&ctx, &s, &k, Some(&v)),
    );
}

fn to_dictionary(ctx: &Ctx, s: &Dynamic, k: &FnPtr, v: Option<&FnPtr>) -> RhaiResult<Dynamic> {
    let d = ctx.call_native_fn::<Dynamic>(
        "Dictionary__new",
        (
            ImmutableString::from("Object"),
            ImmutableString::from("Object"),
        ),
    )?;
    for x in items(ctx, s)? {
        let key = call(ctx, k, (x.clone(),))?;
        let value = match v {
            Some(v) => call(ctx, v, (x,))?,
            None => x,
        };
        ctx.call_native_fn::<()>("Add", (d.clone(), key, value))?;
    }
    Ok(d)
}

fn register_ordering(e: &mut Engine) {
    e.register_type_with_name::<OrderedEnumerable>("OrderedEnumerable")
        .register_iterator::<OrderedEnumerable>()
        .register_fn("__items", |o: &mut OrderedEnumerable| o.sorted.clone())
        .register_fn("ToString", |_: &mut OrderedEnumerable| "System.Linq.OrderedEnumerable`2[System.Object,System.Object]")
        .register_fn("OrderBy", |ctx: Ctx, s: Dynamic, f: FnPtr| OrderedEnumerable::build(&ctx, items(&ctx, &s)?, vec![(f, false)]))
        .register_fn("OrderByDescending", |ctx: Ctx, s: Dynamic, f: FnPtr| OrderedEnumerable::build(&ctx, items(&ctx, &s)?, vec![(f, true)]))
        .register_fn("Order", |ctx: Ctx, s: Dynamic| -> RhaiResult<Array> {
            let mut all = items(&ctx, &s)?;
            sort_by(&mut all, |a, b| compare(&ctx, a, b))?;
            Ok(all)
        })
        .register_fn("ThenBy", |ctx: Ctx, o: OrderedEnumerable, f: FnPtr| {
            let mut keys = o.keys;
            keys.push((f, false));
            OrderedEnumerable::build(&ctx, o.source, keys)
        })
        .register_fn("ThenByDescending", |ctx: Ctx, o: OrderedEnumerable, f: FnPtr| {
            let mut keys = o.keys;
            keys.push((f, true));
            OrderedEnumerable::build(&ctx, o.source, keys)
        });
    e.register_type_with_name::<Grouping>("Grouping")
        .register_iterator::<Grouping>()
        .register_get("Key", |g: &mut Grouping| g.key.clone())
        .register_fn("__items", |g: &mut Grouping| g.items.clone())
        .register_fn(
            "GroupBy",
            |ctx: Ctx, s: Dynamic, f: FnPtr| -> RhaiResult<Array> {
                let mut groups: indexmap::IndexMap<String, Grouping> = indexmap::IndexMap::new();
                for x in items(&ctx, &s)? {
                    let key = call(&ctx, &f, (x.clone(),))?;
                    let id = identity(&ctx, &key, None)?;
                    groups
                        .entry(id)
                        .or_insert_with(|| Grouping {
                            key,
                            items: Array::new(),
                        })
                        .items
                        .push(x);
                }
                Ok(groups.into_values().map(Dynamic::from).collect())
            },
        );
}

pub(crate) fn register(e: &mut Engine) {
    register_filters(e);
    register_sets(e);
    register_ordering(e);
    super::aggregate::register(e);
}
