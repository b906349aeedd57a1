//! `NameValueCollection`, as `HttpUtility.ParseQueryString` returns it:
//! keys compared case-insensitively, several values per key (joined with
//! `,` by the indexer), a `null` key for bare values, and a `ToString()`
//! that writes the query back.

use std::sync::{Arc, RwLock};

use rhai::{Array, Dynamic, Engine, INT, ImmutableString};

use crate::core::{RhaiResult, throw};

type Entry = (Option<String>, Vec<String>);

struct Inner {
    entries: Vec<Entry>,
    /// Made by `ParseQueryString`: `ToString()` writes a query string.
    query: bool,
}

/// A `System.Collections.Specialized.NameValueCollection` (reference type).
#[derive(Clone)]
pub struct NameValueCollection(Arc<RwLock<Inner>>);

fn same_key(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        // Char by char, stopping at the first difference: lowering both
        // keys whole for every entry made a lookup cost the key's length
        // times the entries.
        (Some(x), Some(y)) => x
            .chars()
            .flat_map(char::to_lowercase)
            .eq(y.chars().flat_map(char::to_lowercase)),
        (None, None) => true,
        _ => false,
    }
}

fn opt_str(v: &Dynamic) -> Option<String> {
    v.clone()
        .into_immutable_string()
        .ok()
        .map(|s| s.to_string())
}

fn to_dyn(s: Option<String>) -> Dynamic {
    s.map_or(Dynamic::UNIT, Dynamic::from)
}

impl NameValueCollection {
    pub(crate) fn new(query: bool) -> Self {
        NameValueCollection(Arc::new(RwLock::new(Inner {
            entries: Vec::new(),
            query,
        })))
    }

    fn read<T>(&self, f: impl FnOnce(&Inner) -> T) -> T {
        f(&self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    fn write<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    pub(crate) fn add(&self, key: Option<String>, value: String) {
        self.write(|i| {
            match i
                .entries
                .iter_mut()
                .find(|(k, _)| same_key(k.as_deref(), key.as_deref()))
            {
                Some((_, vs)) => vs.push(value),
                None => i.entries.push((key, vec![value])),
            }
        });
    }

    fn set(&self, key: Option<String>, value: Option<String>) {
        self.write(|i| {
            let values = value.into_iter().collect::<Vec<_>>();
            match i
                .entries
                .iter_mut()
                .find(|(k, _)| same_key(k.as_deref(), key.as_deref()))
            {
                Some((_, vs)) => *vs = values,
                None => i.entries.push((key, values)),
            }
        });
    }

    fn get(&self, key: Option<&str>) -> Option<String> {
        self.read(|i| {
            i.entries
                .iter()
                .find(|(k, _)| same_key(k.as_deref(), key))
                .and_then(|(_, vs)| joined(vs))
        })
    }

    fn get_at(&self, index: INT) -> RhaiResult<Option<String>> {
        self.entry_at(index, |(_, vs)| joined(vs))
    }

    fn entry_at<T>(&self, index: INT, f: impl FnOnce(&Entry) -> T) -> RhaiResult<T> {
        let r = self.read(|i| {
            usize::try_from(index)
                .ok()
                .and_then(|n| i.entries.get(n))
                .map(f)
        });
        match r {
            Some(v) => Ok(v),
            None => throw(
                "ArgumentOutOfRangeException",
                "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')",
            ),
        }
    }

    fn keys(&self) -> Array {
        self.read(|i| i.entries.iter().map(|(k, _)| to_dyn(k.clone())).collect())
    }

    fn to_query(&self) -> String {
        self.read(|i| {
            if !i.query {
                return "System.Collections.Specialized.NameValueCollection".to_owned();
            }
            let mut parts = Vec::new();
            for (k, vs) in &i.entries {
                for v in vs {
                    let value = super::url_encode(v, false);
                    parts.push(match k.as_deref() {
                        Some(k) if !k.is_empty() => {
                            format!("{}={value}", super::url_encode(k, false))
                        }
                        _ => value,
                    });
                }
            }
            parts.join("&")
        })
    }
}

fn joined(vs: &[String]) -> Option<String> {
    (!vs.is_empty()).then(|| vs.join(","))
}

/// `HttpUtility.ParseQueryString`: a leading `?` is skipped; each
/// `&`-separated part is `name=value` (both URL-decoded) or a bare value
/// under the null name (so `a=1&` also holds a null name with "").
pub(crate) fn parse_query(s: &str) -> NameValueCollection {
    let c = NameValueCollection::new(true);
    let body = s.strip_prefix('?').unwrap_or(s);
    if body.is_empty() {
        return c;
    }
    for part in body.split('&') {
        match part.split_once('=') {
            Some((k, v)) => c.add(Some(super::url_decode(k, true)), super::url_decode(v, true)),
            None => c.add(None, super::url_decode(part, true)),
        }
    }
    c
}

pub(super) fn register(e: &mut Engine) {
    e.register_type_with_name::<NameValueCollection>("NameValueCollection")
        .register_fn("NameValueCollection__new", || {
            NameValueCollection::new(false)
        })
        .register_indexer_get(|c: &mut NameValueCollection, k: ImmutableString| {
            to_dyn(c.get(Some(&k)))
        })
        .register_indexer_get(|c: &mut NameValueCollection, _: ()| to_dyn(c.get(None)))
        .register_indexer_get(|c: &mut NameValueCollection, i: INT| c.get_at(i).map(to_dyn))
        .register_indexer_set(
            |c: &mut NameValueCollection, k: ImmutableString, v: Dynamic| {
                c.set(Some(k.to_string()), opt_str(&v))
            },
        )
        .register_fn("Get", |c: &mut NameValueCollection, k: ImmutableString| {
            to_dyn(c.get(Some(&k)))
        })
        .register_fn("Get", |c: &mut NameValueCollection, i: INT| {
            c.get_at(i).map(to_dyn)
        })
        .register_fn("GetKey", |c: &mut NameValueCollection, i: INT| {
            c.entry_at(i, |(k, _)| to_dyn(k.clone()))
        })
        .register_fn(
            "GetValues",
            |c: &mut NameValueCollection, k: ImmutableString| {
                c.read(|i| {
                    match i
                        .entries
                        .iter()
                        .find(|(key, _)| same_key(key.as_deref(), Some(&k)))
                    {
                        Some((_, vs)) if !vs.is_empty() => vs
                            .iter()
                            .map(|v| Dynamic::from(v.clone()))
                            .collect::<Array>()
                            .into(),
                        _ => Dynamic::UNIT,
                    }
                })
            },
        )
        .register_fn(
            "Add",
            |c: &mut NameValueCollection, k: Dynamic, v: Dynamic| {
                c.add(opt_str(&k), opt_str(&v).unwrap_or_default())
            },
        )
        .register_fn(
            "Set",
            |c: &mut NameValueCollection, k: Dynamic, v: Dynamic| c.set(opt_str(&k), opt_str(&v)),
        )
        .register_fn("Remove", |c: &mut NameValueCollection, k: Dynamic| {
            let key = opt_str(&k);
            c.write(|i| {
                i.entries
                    .retain(|(x, _)| !same_key(x.as_deref(), key.as_deref()))
            });
        })
        .register_fn("Clear", |c: &mut NameValueCollection| {
            c.write(|i| i.entries.clear())
        })
        .register_fn("HasKeys", |c: &mut NameValueCollection| {
            c.read(|i| i.entries.iter().any(|(k, _)| k.is_some()))
        })
        .register_get("AllKeys", |c: &mut NameValueCollection| c.keys())
        .register_get("Keys", |c: &mut NameValueCollection| c.keys())
        .register_get("Count", |c: &mut NameValueCollection| {
            c.read(|i| i.entries.len() as INT)
        })
        .register_fn("__items", |c: &mut NameValueCollection| c.keys())
        .register_iterator::<NameValueCollection>()
        .register_fn("ToString", |c: &mut NameValueCollection| c.to_query());
}

impl IntoIterator for NameValueCollection {
    type Item = Dynamic;
    type IntoIter = std::vec::IntoIter<Dynamic>;

    fn into_iter(self) -> Self::IntoIter {
        self.keys().into_iter()
    }
}
