//! `Dictionary<K,V>`, `KeyValuePair<K,V>`, `HashSet<T>`, `StringComparer`.
//!
//! Both collections keep insertion order (an `IndexMap`); .NET's order after
//! a `Remove` followed by an `Add` can differ (it reuses the freed slot).

use std::sync::{Arc, RwLock};

use indexmap::IndexMap;
use rhai::{Array, Dynamic, Engine, INT, ImmutableString, NativeCallContext};

use super::{default_of, full_type_name, items};
use crate::core::{RhaiResult, equals, throw, to_dotnet_string};

/// `StringComparer.Ordinal`, `OrdinalIgnoreCase`, `InvariantCulture[IgnoreCase]`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StringComparer {
    pub ignore_case: bool,
    pub ordinal: bool,
}

/// `KeyValuePair<K,V>`.
#[derive(Clone, Debug)]
pub struct KeyValuePair {
    pub key: Dynamic,
    pub value: Dynamic,
}

#[derive(Debug, Default)]
struct Table {
    map: IndexMap<String, (Dynamic, Dynamic)>,
    ignore_case: bool,
}

/// `Dictionary<K,V>`; `HashSet<T>` is the same table with unit values.
#[derive(Clone, Debug, Default)]
pub struct Dictionary {
    inner: Arc<RwLock<Table>>,
    types: Arc<(String, String)>,
}

#[derive(Clone, Debug, Default)]
pub struct HashSet(Dictionary);

/// The hashing key of a value: its type and its text (case-folded under an
/// ignore-case comparer).
fn key(ctx: &NativeCallContext, v: &Dynamic, ignore_case: bool) -> RhaiResult<String> {
    if v.is_unit() {
        return throw(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'key')",
        );
    }
    if let Some(s) = v.read_lock::<ImmutableString>() {
        return Ok(if ignore_case {
            format!("s:{}", s.to_uppercase())
        } else {
            format!("s:{}", s.as_str())
        });
    }
    let text = to_dotnet_string(ctx, v)?;
    Ok(format!("{}:{text}", crate::core::dotnet_type(v)))
}

impl Dictionary {
    fn new(k: &str, v: &str, ignore_case: bool) -> Self {
        Self {
            inner: Arc::new(RwLock::new(Table {
                map: IndexMap::new(),
                ignore_case,
            })),
            types: Arc::new((k.to_owned(), v.to_owned())),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Table) -> R) -> R {
        match self.inner.write() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    fn key(&self, ctx: &NativeCallContext, k: &Dynamic) -> RhaiResult<String> {
        let ic = self.with(|t| t.ignore_case);
        key(ctx, k, ic)
    }

    fn entries(&self) -> Vec<(Dynamic, Dynamic)> {
        self.with(|t| t.map.values().cloned().collect())
    }

    fn add(&self, ctx: &NativeCallContext, k: Dynamic, v: Dynamic) -> RhaiResult<()> {
        let h = self.key(ctx, &k)?;
        if self.with(|t| t.map.contains_key(&h)) {
            let shown = to_dotnet_string(ctx, &k)?;
            return throw(
                "ArgumentException",
                format!("An item with the same key has already been added. Key: {shown}"),
            );
        }
        self.with(|t| t.map.insert(h, (k, v)));
        Ok(())
    }

    fn get(&self, ctx: &NativeCallContext, k: &Dynamic) -> RhaiResult<Option<Dynamic>> {
        let h = self.key(ctx, k)?;
        Ok(self.with(|t| t.map.get(&h).map(|(_, v)| v.clone())))
    }

    fn set(&self, ctx: &NativeCallContext, k: Dynamic, v: Dynamic) -> RhaiResult<()> {
        let h = self.key(ctx, &k)?;
        self.with(|t| match t.map.get_mut(&h) {
            Some(slot) => slot.1 = v,
            None => {
                t.map.insert(h, (k, v));
            }
        });
        Ok(())
    }

    fn remove(&self, ctx: &NativeCallContext, k: &Dynamic) -> RhaiResult<Option<Dynamic>> {
        let h = self.key(ctx, k)?;
        Ok(self.with(|t| t.map.shift_remove(&h).map(|(_, v)| v)))
    }

    fn pairs(&self) -> Array {
        self.entries()
            .into_iter()
            .map(|(key, value)| Dynamic::from(KeyValuePair { key, value }))
            .collect()
    }
}

/// A `Dictionary<string, V>` of `pairs` (`v_type`: the .NET name of `V`),
/// as the gateway hands one to expressions (`Authorization.Claims`).
pub(crate) fn string_dictionary(
    v_type: &str,
    pairs: impl IntoIterator<Item = (String, Dynamic)>,
) -> Dictionary {
    let d = Dictionary::new("String", v_type, false);
    d.with(|t| {
        for (k, v) in pairs {
            t.map.insert(format!("s:{k}"), (Dynamic::from(k), v));
        }
    });
    d
}

impl IntoIterator for Dictionary {
    type Item = KeyValuePair;
    type IntoIter = std::vec::IntoIter<KeyValuePair>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries()
            .into_iter()
            .map(|(key, value)| KeyValuePair { key, value })
            .collect::<Vec<_>>()
            .into_iter()
    }
}

impl IntoIterator for HashSet {
    type Item = Dynamic;
    type IntoIter = std::vec::IntoIter<Dynamic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0
            .entries()
            .into_iter()
            .map(|(k, _)| k)
            .collect::<Vec<_>>()
            .into_iter()
    }
}

fn not_found<T>(ctx: &NativeCallContext, k: &Dynamic) -> RhaiResult<T> {
    let shown = to_dotnet_string(ctx, k)?;
    throw(
        "KeyNotFoundException",
        format!("The given key '{shown}' was not present in the dictionary."),
    )
}

/// A constructor's optional argument: a comparer, a capacity, or a source.
fn construct(
    ctx: &NativeCallContext,
    k: &str,
    v: &str,
    extra: &[Dynamic],
) -> RhaiResult<Dictionary> {
    let comparer = extra
        .iter()
        .find_map(|x| x.clone().try_cast::<StringComparer>());
    let d = Dictionary::new(k, v, comparer.is_some_and(|c| c.ignore_case));
    for x in extra {
        if let Ok(n) = x.as_int() {
            if n < 0 {
                return throw(
                    "ArgumentOutOfRangeException",
                    "Non-negative number required. (Parameter 'capacity')",
                );
            }
        } else if x.is_unit() {
            continue;
        } else if !x.is::<StringComparer>() {
            for pair in items(ctx, x)? {
                let (key, value) = pair_of(ctx, &pair)?;
                d.add(ctx, key, value)?;
            }
        }
    }
    Ok(d)
}

fn pair_of(ctx: &NativeCallContext, item: &Dynamic) -> RhaiResult<(Dynamic, Dynamic)> {
    if let Some(p) = item.read_lock::<KeyValuePair>() {
        return Ok((p.key.clone(), p.value.clone()));
    }
    let key = ctx.call_native_fn::<Dynamic>("Key", (item.clone(),))?;
    let value = ctx.call_native_fn::<Dynamic>("Value", (item.clone(),))?;
    Ok((key, value))
}

fn register_dictionary(e: &mut Engine) {
    e.register_type_with_name::<Dictionary>("Dictionary")
        .register_iterator::<Dictionary>()
        .register_fn(
            "Dictionary__new",
            |ctx: NativeCallContext, k: ImmutableString, v: ImmutableString| {
                construct(&ctx, &k, &v, &[])
            },
        )
        .register_fn(
            "Dictionary__new",
            |ctx: NativeCallContext, k: ImmutableString, v: ImmutableString, x: Dynamic| {
                construct(&ctx, &k, &v, &[x])
            },
        )
        .register_fn(
            "Dictionary__new",
            |ctx: NativeCallContext,
             k: ImmutableString,
             v: ImmutableString,
             x: Dynamic,
             y: Dynamic| { construct(&ctx, &k, &v, &[x, y]) },
        )
        .register_get("Count", |d: &mut Dictionary| d.with(|t| t.map.len() as INT))
        .register_get("Keys", |d: &mut Dictionary| {
            d.entries().into_iter().map(|(k, _)| k).collect::<Array>()
        })
        .register_get("Values", |d: &mut Dictionary| {
            d.entries().into_iter().map(|(_, v)| v).collect::<Array>()
        })
        .register_get("Comparer", |d: &mut Dictionary| StringComparer {
            ignore_case: d.with(|t| t.ignore_case),
            ordinal: true,
        })
        .register_indexer_get(
            |ctx: NativeCallContext, d: &mut Dictionary, k: Dynamic| -> RhaiResult<Dynamic> {
                match d.get(&ctx, &k)? {
                    Some(v) => Ok(v),
                    None => not_found(&ctx, &k),
                }
            },
        )
        .register_indexer_set(
            |ctx: NativeCallContext, d: &mut Dictionary, k: Dynamic, v: Dynamic| d.set(&ctx, k, v),
        )
        .register_fn("__items", |d: &mut Dictionary| d.pairs())
        .register_fn(
            "Add",
            |ctx: NativeCallContext, d: &mut Dictionary, k: Dynamic, v: Dynamic| d.add(&ctx, k, v),
        )
        .register_fn(
            "TryAdd",
            |ctx: NativeCallContext,
             d: &mut Dictionary,
             k: Dynamic,
             v: Dynamic|
             -> RhaiResult<bool> {
                if d.get(&ctx, &k)?.is_some() {
                    return Ok(false);
                }
                d.add(&ctx, k, v)?;
                Ok(true)
            },
        )
        .register_fn(
            "ContainsKey",
            |ctx: NativeCallContext, d: &mut Dictionary, k: Dynamic| -> RhaiResult<bool> {
                Ok(d.get(&ctx, &k)?.is_some())
            },
        )
        .register_fn(
            "ContainsValue",
            |ctx: NativeCallContext, d: &mut Dictionary, v: Dynamic| {
                d.entries().iter().any(|(_, x)| equals(&ctx, x, &v))
            },
        )
        .register_fn(
            "Remove",
            |ctx: NativeCallContext, d: &mut Dictionary, k: Dynamic| -> RhaiResult<bool> {
                Ok(d.remove(&ctx, &k)?.is_some())
            },
        )
        .register_fn(
            "Remove__out",
            |ctx: NativeCallContext, d: &mut Dictionary, k: Dynamic| -> RhaiResult<Array> {
                let removed = d.remove(&ctx, &k)?;
                Ok(vec![
                    removed.is_some().into(),
                    removed.unwrap_or_else(|| default_of(&d.types.1)),
                ])
            },
        )
        .register_fn(
            "TryGetValue__out",
            |ctx: NativeCallContext, d: &mut Dictionary, k: Dynamic| -> RhaiResult<Array> {
                let found = d.get(&ctx, &k)?;
                Ok(vec![
                    found.is_some().into(),
                    found.unwrap_or_else(|| default_of(&d.types.1)),
                ])
            },
        )
        .register_fn(
            "GetValueOrDefault",
            |ctx: NativeCallContext, d: &mut Dictionary, k: Dynamic| -> RhaiResult<Dynamic> {
                Ok(d.get(&ctx, &k)?.unwrap_or_else(|| default_of(&d.types.1)))
            },
        )
        .register_fn(
            "GetValueOrDefault",
            |ctx: NativeCallContext,
             d: &mut Dictionary,
             k: Dynamic,
             dflt: Dynamic|
             -> RhaiResult<Dynamic> { Ok(d.get(&ctx, &k)?.unwrap_or(dflt)) },
        )
        .register_fn("Clear", |d: &mut Dictionary| d.with(|t| t.map.clear()))
        .register_fn("ToString", |d: &mut Dictionary| {
            format!(
                "System.Collections.Generic.Dictionary`2[{},{}]",
                full_type_name(&d.types.0),
                full_type_name(&d.types.1)
            )
        })
        .register_fn("==", |a: Dictionary, b: Dictionary| {
            Arc::ptr_eq(&a.inner, &b.inner)
        })
        .register_fn("!=", |a: Dictionary, b: Dictionary| {
            !Arc::ptr_eq(&a.inner, &b.inner)
        });
    e.register_type_with_name::<KeyValuePair>("KeyValuePair")
        .register_fn(
            "KeyValuePair__new",
            |_: ImmutableString, _: ImmutableString, key: Dynamic, value: Dynamic| KeyValuePair {
                key,
                value,
            },
        )
        .register_fn("KeyValuePair__Create", |key: Dynamic, value: Dynamic| {
            KeyValuePair { key, value }
        })
        .register_get("Key", |p: &mut KeyValuePair| p.key.clone())
        .register_get("Value", |p: &mut KeyValuePair| p.value.clone())
        .register_fn(
            "ToString",
            |ctx: NativeCallContext, p: &mut KeyValuePair| -> RhaiResult<String> {
                Ok(format!(
                    "[{}, {}]",
                    to_dotnet_string(&ctx, &p.key)?,
                    to_dotnet_string(&ctx, &p.value)?
                ))
            },
        )
        .register_fn(
            "==",
            |ctx: NativeCallContext, a: KeyValuePair, b: KeyValuePair| {
                equals(&ctx, &a.key, &b.key) && equals(&ctx, &a.value, &b.value)
            },
        );
}

fn register_hash_set(e: &mut Engine) {
    e.register_type_with_name::<HashSet>("HashSet")
        .register_iterator::<HashSet>()
        .register_fn("HashSet__new", |t: ImmutableString| {
            HashSet(Dictionary::new(&t, "", false))
        })
        .register_fn(
            "HashSet__new",
            |ctx: NativeCallContext, t: ImmutableString, x: Dynamic| -> RhaiResult<HashSet> {
                let comparer = x.clone().try_cast::<StringComparer>();
                let set = HashSet(Dictionary::new(
                    &t,
                    "",
                    comparer.is_some_and(|c| c.ignore_case),
                ));
                if comparer.is_none() && x.as_int().is_err() {
                    for item in items(&ctx, &x)? {
                        let _ = set.0.set(&ctx, item, Dynamic::UNIT);
                    }
                }
                Ok(set)
            },
        )
        .register_fn(
            "HashSet__new",
            |ctx: NativeCallContext,
             t: ImmutableString,
             x: Dynamic,
             c: StringComparer|
             -> RhaiResult<HashSet> {
                let set = HashSet(Dictionary::new(&t, "", c.ignore_case));
                for item in items(&ctx, &x)? {
                    set.0.set(&ctx, item, Dynamic::UNIT)?;
                }
                Ok(set)
            },
        )
        .register_get("Count", |s: &mut HashSet| s.0.with(|t| t.map.len() as INT))
        .register_fn("__items", |s: &mut HashSet| {
            s.0.entries().into_iter().map(|(k, _)| k).collect::<Array>()
        })
        .register_fn(
            "Add",
            |ctx: NativeCallContext, s: &mut HashSet, x: Dynamic| -> RhaiResult<bool> {
                if x.is_unit() || s.0.get(&ctx, &x)?.is_some() {
                    return Ok(false);
                }
                s.0.set(&ctx, x, Dynamic::UNIT)?;
                Ok(true)
            },
        )
        .register_fn(
            "Contains",
            |ctx: NativeCallContext, s: &mut HashSet, x: Dynamic| -> RhaiResult<bool> {
                Ok(!x.is_unit() && s.0.get(&ctx, &x)?.is_some())
            },
        )
        .register_fn(
            "Remove",
            |ctx: NativeCallContext, s: &mut HashSet, x: Dynamic| -> RhaiResult<bool> {
                Ok(!x.is_unit() && s.0.remove(&ctx, &x)?.is_some())
            },
        )
        .register_fn("Clear", |s: &mut HashSet| s.0.with(|t| t.map.clear()))
        .register_fn(
            "UnionWith",
            |ctx: NativeCallContext, s: &mut HashSet, x: Dynamic| -> RhaiResult<()> {
                for item in items(&ctx, &x)? {
                    s.0.set(&ctx, item, Dynamic::UNIT)?;
                }
                Ok(())
            },
        )
        .register_fn("ToString", |s: &mut HashSet| {
            format!(
                "System.Collections.Generic.HashSet`1[{}]",
                full_type_name(&s.0.types.0)
            )
        });
    e.register_type_with_name::<StringComparer>("StringComparer")
        .register_fn("StringComparer__Ordinal", || StringComparer {
            ignore_case: false,
            ordinal: true,
        })
        .register_fn("StringComparer__OrdinalIgnoreCase", || StringComparer {
            ignore_case: true,
            ordinal: true,
        })
        .register_fn("StringComparer__InvariantCulture", || StringComparer {
            ignore_case: false,
            ordinal: false,
        })
        .register_fn("StringComparer__InvariantCultureIgnoreCase", || {
            StringComparer {
                ignore_case: true,
                ordinal: false,
            }
        })
        .register_fn("StringComparer__CurrentCulture", || StringComparer {
            ignore_case: false,
            ordinal: false,
        })
        .register_fn("StringComparer__CurrentCultureIgnoreCase", || {
            StringComparer {
                ignore_case: true,
                ordinal: false,
            }
        })
        .register_fn(
            "Equals",
            |c: &mut StringComparer, a: Dynamic, b: Dynamic| string_eq(*c, &a, &b),
        )
        .register_fn(
            "Compare",
            |c: &mut StringComparer, a: Dynamic, b: Dynamic| -> INT {
                let (a, b) = (
                    a.into_immutable_string().ok(),
                    b.into_immutable_string().ok(),
                );
                match (a, b) {
                    (Some(a), Some(b)) if c.ordinal && c.ignore_case => {
                        a.to_uppercase().cmp(&b.to_uppercase()) as INT
                    }
                    (Some(a), Some(b)) if c.ordinal => a.as_str().cmp(b.as_str()) as INT,
                    (Some(a), Some(b)) => super::culture_compare(&a, &b, c.ignore_case) as INT,
                    (a, b) => a.is_some().cmp(&b.is_some()) as INT,
                }
            },
        )
        .register_fn("ToString", |c: &mut StringComparer| {
            if c.ordinal {
                "System.OrdinalComparer"
            } else {
                "System.CultureAwareComparer"
            }
        });
}

/// Equality of two values under a `StringComparer`.
pub(crate) fn string_eq(c: StringComparer, a: &Dynamic, b: &Dynamic) -> bool {
    match (
        a.read_lock::<ImmutableString>(),
        b.read_lock::<ImmutableString>(),
    ) {
        (Some(x), Some(y)) if c.ignore_case => x.to_uppercase() == y.to_uppercase(),
        (Some(x), Some(y)) => x.as_str() == y.as_str(),
        _ => a.is_unit() && b.is_unit(),
    }
}

pub(crate) fn register(e: &mut Engine) {
    register_dictionary(e);
    register_hash_set(e);
}
