//! `Match`, `Group` (also `Capture`), `GroupCollection`, `MatchCollection`.

use rhai::{Array, Dynamic, Engine, INT, ImmutableString};

use super::{Group, GroupCollection, Match, MatchCollection, replace};
use crate::core::{RhaiResult, throw};

pub(crate) fn group_by_name(groups: &[Group], name: &str) -> Group {
    let numbered = || name.parse::<usize>().ok().and_then(|i| groups.get(i));
    groups
        .iter()
        .find(|g| g.name.as_str() == name)
        .or_else(numbered)
        .cloned()
        .unwrap_or_else(|| Group {
            name: name.into(),
            ..Group::default()
        })
}

fn group_at(groups: &[Group], i: INT) -> Group {
    usize::try_from(i)
        .ok()
        .and_then(|i| groups.get(i))
        .cloned()
        .unwrap_or_else(|| Group {
            name: i.to_string().into(),
            ..Group::default()
        })
}

pub(crate) fn register(e: &mut Engine) {
    e.register_type_with_name::<Match>("Match")
        .register_get("Success", |m: &mut Match| m.whole().success)
        .register_get("Value", |m: &mut Match| m.whole().value)
        .register_get("Index", |m: &mut Match| m.whole().index)
        .register_get("Length", |m: &mut Match| m.whole().length)
        .register_get("Name", |m: &mut Match| m.whole().name)
        .register_get("Groups", |m: &mut Match| GroupCollection(m.groups.clone()))
        .register_get("Captures", |m: &mut Match| captures(&m.whole()))
        .register_fn("NextMatch", |m: &mut Match| match &m.regex {
            Some(r) if m.whole().success => r.find(&m.input, m.next),
            _ => Ok(Match::failed(m.regex.clone())),
        })
        .register_fn(
            "Result",
            |m: &mut Match, r: ImmutableString| -> RhaiResult<ImmutableString> {
                if !m.whole().success {
                    return throw(
                        "NotSupportedException",
                        "Result cannot be called on a failed Match.",
                    );
                }
                let mut out = String::new();
                let pattern: Vec<char> = r.chars().collect();
                replace::expand(&pattern, m, &mut out)?;
                Ok(out.into())
            },
        )
        .register_fn("ToString", |m: &mut Match| m.whole().value);
    e.register_type_with_name::<Group>("Group")
        .register_get("Success", |g: &mut Group| g.success)
        .register_get("Value", |g: &mut Group| g.value.clone())
        .register_get("Index", |g: &mut Group| g.index)
        .register_get("Length", |g: &mut Group| g.length)
        .register_get("Name", |g: &mut Group| g.name.clone())
        .register_get("Captures", |g: &mut Group| captures(g))
        .register_fn("ToString", |g: &mut Group| g.value.clone());
    e.register_type_with_name::<GroupCollection>("GroupCollection")
        .register_iterator::<GroupCollection>()
        .register_get("Count", |g: &mut GroupCollection| g.0.len() as INT)
        .register_indexer_get(|g: &mut GroupCollection, i: INT| group_at(&g.0, i))
        .register_indexer_get(|g: &mut GroupCollection, name: ImmutableString| {
            group_by_name(&g.0, &name)
        })
        .register_fn(
            "ContainsKey",
            |g: &mut GroupCollection, name: ImmutableString| g.0.iter().any(|x| x.name == name),
        )
        .register_fn("__items", |g: &mut GroupCollection| {
            g.0.iter().cloned().map(Dynamic::from).collect::<Array>()
        });
    e.register_type_with_name::<MatchCollection>("MatchCollection")
        .register_iterator::<MatchCollection>()
        .register_get("Count", |m: &mut MatchCollection| m.0.len() as INT)
        .register_indexer_get(|m: &mut MatchCollection, i: INT| -> RhaiResult<Match> {
            match usize::try_from(i).ok().and_then(|i| m.0.get(i)) {
                Some(x) => Ok(x.clone()),
                None => throw(
                    "ArgumentOutOfRangeException",
                    "Specified argument was out of the range of valid values. (Parameter 'i')",
                ),
            }
        })
        .register_fn("__items", |m: &mut MatchCollection| {
            m.0.iter().cloned().map(Dynamic::from).collect::<Array>()
        });
}

/// A group's `Captures`: its last capture only (fancy-regex keeps no history).
fn captures(g: &Group) -> Array {
    if g.success {
        vec![Dynamic::from(g.clone())]
    } else {
        Array::new()
    }
}
