//! `List<T>` and the members C# code uses on arrays (`T[]`, `byte[]`).

use std::sync::{Arc, RwLock};

use rhai::{Array, Blob, Dynamic, Engine, FnPtr, INT, ImmutableString, NativeCallContext};

use super::{call, compare, full_type_name, index_out_of_range, items, position, sort_by, test};
use crate::core::{RhaiResult, equals, throw};

/// `List<T>`: shared, so a mutation shows through every reference.
#[derive(Clone, Debug, Default)]
pub struct List {
    inner: Arc<RwLock<Vec<Dynamic>>>,
    elem: Arc<str>,
}

impl List {
    fn new(elem: &str, items: Vec<Dynamic>) -> Self {
        Self {
            inner: Arc::new(RwLock::new(items)),
            elem: elem.into(),
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<Dynamic> {
        self.inner.read().map(|v| v.clone()).unwrap_or_default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Vec<Dynamic>) -> R) -> R {
        match self.inner.write() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    fn len(&self) -> INT {
        self.with(|v| v.len() as INT)
    }
}

impl IntoIterator for List {
    type Item = Dynamic;
    type IntoIter = std::vec::IntoIter<Dynamic>;
    fn into_iter(self) -> Self::IntoIter {
        self.snapshot().into_iter()
    }
}

fn checked_index(i: INT, len: usize) -> RhaiResult<usize> {
    match usize::try_from(i) {
        Ok(i) if i < len => Ok(i),
        _ => index_out_of_range(),
    }
}

/// Checks `index` and `count` against a length, as `GetRange`/`RemoveRange` do.
fn range(index: INT, count: INT, len: usize) -> RhaiResult<(usize, usize)> {
    if index < 0 {
        return throw(
            "ArgumentOutOfRangeException",
            "Non-negative number required. (Parameter 'index')",
        );
    }
    if count < 0 {
        return throw(
            "ArgumentOutOfRangeException",
            "Non-negative number required. (Parameter 'count')",
        );
    }
    let (i, n) = (
        usize::try_from(index).unwrap_or(usize::MAX),
        usize::try_from(count).unwrap_or(usize::MAX),
    );
    if i.saturating_add(n) > len {
        return throw(
            "ArgumentException",
            "Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection.",
        );
    }
    Ok((i, n))
}

fn sort_list(ctx: &NativeCallContext, l: &List, by: Option<&FnPtr>) -> RhaiResult<()> {
    let mut v = l.snapshot();
    match by {
        None => sort_by(&mut v, |a, b| compare(ctx, a, b))?,
        Some(f) => sort_by(&mut v, |a, b| {
            let r = call(ctx, f, (a.clone(), b.clone()))?;
            Ok(r.as_int().unwrap_or(0).cmp(&0))
        })?,
    }
    l.with(|x| *x = v);
    Ok(())
}

fn register_list(e: &mut Engine) {
    e.register_type_with_name::<List>("List")
        .register_iterator::<List>()
        .register_fn("List__new", |t: ImmutableString| List::new(&t, Vec::new()))
        .register_fn(
            "List__new",
            |ctx: NativeCallContext, t: ImmutableString, src: Dynamic| -> RhaiResult<List> {
                match src.as_int() {
                    Ok(n) if n < 0 => throw(
                        "ArgumentOutOfRangeException",
                        "Non-negative number required. (Parameter 'capacity')",
                    ),
                    Ok(_) => Ok(List::new(&t, Vec::new())),
                    Err(_) => Ok(List::new(
                        &t,
                        items(&ctx, &src).or_else(|_| {
                            throw(
                                "ArgumentNullException",
                                "Value cannot be null. (Parameter 'collection')",
                            )
                        })?,
                    )),
                }
            },
        )
        .register_get("Count", |l: &mut List| l.len())
        .register_get("Capacity", |l: &mut List| l.len())
        .register_indexer_get(|l: &mut List, i: INT| {
            l.with(|v| checked_index(i, v.len()).map(|i| v.get(i).cloned().unwrap_or_default()))
        })
        .register_indexer_set(|l: &mut List, i: INT, x: Dynamic| {
            l.with(|v| {
                let i = checked_index(i, v.len())?;
                if let Some(slot) = v.get_mut(i) {
                    *slot = x;
                }
                Ok(())
            })
        })
        .register_fn("__items", |l: &mut List| l.snapshot())
        .register_fn("Add", |l: &mut List, x: Dynamic| l.with(|v| v.push(x)))
        .register_fn(
            "AddRange",
            |ctx: NativeCallContext, l: &mut List, src: Dynamic| -> RhaiResult<()> {
                let more = items(&ctx, &src).or_else(|_| {
                    throw(
                        "ArgumentNullException",
                        "Value cannot be null. (Parameter 'collection')",
                    )
                })?;
                l.with(|v| v.extend(more));
                Ok(())
            },
        )
        .register_fn(
            "Insert",
            |l: &mut List, i: INT, x: Dynamic| -> RhaiResult<()> {
                l.with(|v| match usize::try_from(i) {
                    Ok(i) if i <= v.len() => {
                        v.insert(i, x);
                        Ok(())
                    }
                    _ => throw(
                        "ArgumentOutOfRangeException",
                        "Index must be within the bounds of the List. (Parameter 'index')",
                    ),
                })
            },
        )
        .register_fn(
            "InsertRange",
            |ctx: NativeCallContext, l: &mut List, i: INT, src: Dynamic| -> RhaiResult<()> {
                let more = items(&ctx, &src)?;
                l.with(|v| match usize::try_from(i) {
                    Ok(i) if i <= v.len() => {
                        v.splice(i..i, more);
                        Ok(())
                    }
                    _ => throw(
                        "ArgumentOutOfRangeException",
                        "Index must be within the bounds of the List. (Parameter 'index')",
                    ),
                })
            },
        )
        .register_fn(
            "Remove",
            |ctx: NativeCallContext, l: &mut List, x: Dynamic| {
                let at = position(&ctx, &l.snapshot(), &x);
                at >= 0
                    && l.with(|v| {
                        usize::try_from(at)
                            .ok()
                            .filter(|&i| i < v.len())
                            .map(|i| v.remove(i))
                            .is_some()
                    })
            },
        )
        .register_fn("RemoveAt", |l: &mut List, i: INT| -> RhaiResult<()> {
            l.with(|v| {
                let i = checked_index(i, v.len())?;
                let _ = v.remove(i);
                Ok(())
            })
        })
        .register_fn(
            "RemoveRange",
            |l: &mut List, i: INT, n: INT| -> RhaiResult<()> {
                l.with(|v| {
                    let (i, n) = range(i, n, v.len())?;
                    v.drain(i..i + n);
                    Ok(())
                })
            },
        )
        .register_fn(
            "RemoveAll",
            |ctx: NativeCallContext, l: &mut List, f: FnPtr| -> RhaiResult<INT> {
                let mut keep = Vec::new();
                let all = l.snapshot();
                for x in &all {
                    if !test(&ctx, &f, x)? {
                        keep.push(x.clone());
                    }
                }
                let removed = (all.len() - keep.len()) as INT;
                l.with(|v| *v = keep);
                Ok(removed)
            },
        )
        .register_fn("Clear", |l: &mut List| l.with(Vec::clear))
        .register_fn(
            "Contains",
            |ctx: NativeCallContext, l: &mut List, x: Dynamic| {
                position(&ctx, &l.snapshot(), &x) >= 0
            },
        )
        .register_fn(
            "IndexOf",
            |ctx: NativeCallContext, l: &mut List, x: Dynamic| position(&ctx, &l.snapshot(), &x),
        )
        .register_fn(
            "LastIndexOf",
            |ctx: NativeCallContext, l: &mut List, x: Dynamic| {
                l.snapshot()
                    .iter()
                    .rposition(|y| equals(&ctx, y, &x))
                    .map_or(-1, |i| i as INT)
            },
        )
        .register_fn("Sort", |ctx: NativeCallContext, l: &mut List| {
            sort_list(&ctx, l, None)
        })
        .register_fn("Sort", |ctx: NativeCallContext, l: &mut List, f: FnPtr| {
            sort_list(&ctx, l, Some(&f))
        })
        .register_fn("Reverse", |l: &mut List| l.with(|v| v.reverse()))
        .register_fn("ToArray", |l: &mut List| l.snapshot())
        .register_fn(
            "GetRange",
            |l: &mut List, i: INT, n: INT| -> RhaiResult<List> {
                let all = l.snapshot();
                let (i, n) = range(i, n, all.len())?;
                Ok(List::new(
                    &l.elem,
                    all.get(i..i + n).unwrap_or_default().to_vec(),
                ))
            },
        )
        .register_fn(
            "Find",
            |ctx: NativeCallContext, l: &mut List, f: FnPtr| -> RhaiResult<Dynamic> {
                for x in l.snapshot() {
                    if test(&ctx, &f, &x)? {
                        return Ok(x);
                    }
                }
                Ok(super::default_of(&l.elem))
            },
        )
        .register_fn(
            "FindLast",
            |ctx: NativeCallContext, l: &mut List, f: FnPtr| -> RhaiResult<Dynamic> {
                for x in l.snapshot().into_iter().rev() {
                    if test(&ctx, &f, &x)? {
                        return Ok(x);
                    }
                }
                Ok(super::default_of(&l.elem))
            },
        )
        .register_fn(
            "FindIndex",
            |ctx: NativeCallContext, l: &mut List, f: FnPtr| -> RhaiResult<INT> {
                for (i, x) in l.snapshot().iter().enumerate() {
                    if test(&ctx, &f, x)? {
                        return Ok(i as INT);
                    }
                }
                Ok(-1)
            },
        )
        .register_fn(
            "FindAll",
            |ctx: NativeCallContext, l: &mut List, f: FnPtr| -> RhaiResult<List> {
                let mut out = Vec::new();
                for x in l.snapshot() {
                    if test(&ctx, &f, &x)? {
                        out.push(x);
                    }
                }
                Ok(List::new(&l.elem, out))
            },
        )
        .register_fn(
            "Exists",
            |ctx: NativeCallContext, l: &mut List, f: FnPtr| -> RhaiResult<bool> {
                for x in l.snapshot() {
                    if test(&ctx, &f, &x)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            },
        )
        .register_fn(
            "TrueForAll",
            |ctx: NativeCallContext, l: &mut List, f: FnPtr| -> RhaiResult<bool> {
                for x in l.snapshot() {
                    if !test(&ctx, &f, &x)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            },
        )
        .register_fn(
            "ForEach",
            |ctx: NativeCallContext, l: &mut List, f: FnPtr| -> RhaiResult<()> {
                for x in l.snapshot() {
                    let _ = call(&ctx, &f, (x,))?;
                }
                Ok(())
            },
        )
        .register_fn("ToString", |l: &mut List| {
            format!(
                "System.Collections.Generic.List`1[{}]",
                full_type_name(&l.elem)
            )
        })
        .register_fn("==", |a: List, b: List| Arc::ptr_eq(&a.inner, &b.inner))
        .register_fn("!=", |a: List, b: List| !Arc::ptr_eq(&a.inner, &b.inner));
}

fn array_index(items: &[Dynamic], ctx: &NativeCallContext, x: &Dynamic) -> INT {
    position(ctx, items, x)
}

fn register_arrays(e: &mut Engine) {
    e.register_get("Length", |a: &mut Array| a.len() as INT)
        .register_get("LongLength", |a: &mut Array| a.len() as INT)
        .register_get("Length", |b: &mut Blob| b.len() as INT)
        .register_get("Count", |a: &mut Array| a.len() as INT)
        .register_fn("Array__Empty", |_: ImmutableString| Array::new())
        .register_fn("Array__Empty", Array::new)
        .register_fn(
            "Array__IndexOf",
            |ctx: NativeCallContext, a: Dynamic, x: Dynamic| -> RhaiResult<INT> {
                Ok(array_index(&items(&ctx, &a)?, &ctx, &x))
            },
        )
        .register_fn(
            "Array__LastIndexOf",
            |ctx: NativeCallContext, a: Dynamic, x: Dynamic| -> RhaiResult<INT> {
                Ok(items(&ctx, &a)?
                    .iter()
                    .rposition(|y| equals(&ctx, y, &x))
                    .map_or(-1, |i| i as INT))
            },
        )
        .register_fn(
            "Array__Exists",
            |ctx: NativeCallContext, a: Dynamic, f: FnPtr| -> RhaiResult<bool> {
                if a.is_unit() {
                    return throw(
                        "ArgumentNullException",
                        "Value cannot be null. (Parameter 'array')",
                    );
                }
                for x in items(&ctx, &a)? {
                    if test(&ctx, &f, &x)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            },
        )
        .register_fn(
            "Array__TrueForAll",
            |ctx: NativeCallContext, a: Dynamic, f: FnPtr| -> RhaiResult<bool> {
                for x in items(&ctx, &a)? {
                    if !test(&ctx, &f, &x)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            },
        )
        .register_fn(
            "Array__Find",
            |ctx: NativeCallContext, a: Dynamic, f: FnPtr| -> RhaiResult<Dynamic> {
                for x in items(&ctx, &a)? {
                    if test(&ctx, &f, &x)? {
                        return Ok(x);
                    }
                }
                Ok(Dynamic::UNIT)
            },
        )
        .register_fn(
            "Array__FindIndex",
            |ctx: NativeCallContext, a: Dynamic, f: FnPtr| -> RhaiResult<INT> {
                for (i, x) in items(&ctx, &a)?.iter().enumerate() {
                    if test(&ctx, &f, x)? {
                        return Ok(i as INT);
                    }
                }
                Ok(-1)
            },
        )
        .register_fn(
            "Array__FindAll",
            |ctx: NativeCallContext, a: Dynamic, f: FnPtr| -> RhaiResult<Array> {
                let mut out = Array::new();
                for x in items(&ctx, &a)? {
                    if test(&ctx, &f, &x)? {
                        out.push(x);
                    }
                }
                Ok(out)
            },
        )
        .register_fn("Array__Reverse", |a: Array| {
            a.into_iter().rev().collect::<Array>()
        })
        .register_fn(
            "Array__Sort",
            |ctx: NativeCallContext, mut a: Array| -> RhaiResult<Array> {
                sort_by(&mut a, |x, y| compare(&ctx, x, y))?;
                Ok(a)
            },
        )
        // `Array.Copy(src, dst, n)` and `Array.Copy(src, si, dst, di, n)` return
        // the updated destination: rhai passes arrays by value, so the
        // translator assigns the result back to the destination variable.
        .register_fn("Array__Copy", |src: Blob, dst: Blob, n: INT| {
            copy_blob(&src, 0, dst, 0, n)
        })
        .register_fn(
            "Array__Copy",
            |src: Blob, si: INT, dst: Blob, di: INT, n: INT| copy_blob(&src, si, dst, di, n),
        )
        .register_fn("Array__Copy", |src: Array, dst: Array, n: INT| {
            copy(&src, 0, dst, 0, n)
        })
        .register_fn(
            "Array__Copy",
            |src: Array, si: INT, dst: Array, di: INT, n: INT| copy(&src, si, dst, di, n),
        );
}

fn copy_range(
    src_len: usize,
    si: INT,
    dst_len: usize,
    di: INT,
    n: INT,
) -> RhaiResult<(usize, usize, usize)> {
    for (v, name) in [(si, "srcIndex"), (di, "dstIndex"), (n, "length")] {
        if v < 0 {
            return throw(
                "ArgumentOutOfRangeException",
                format!("Non-negative number required. (Parameter '{name}')"),
            );
        }
    }
    let (si, di, n) = (si as usize, di as usize, n as usize);
    if si.saturating_add(n) > src_len {
        return throw(
            "ArgumentException",
            "Source array was not long enough. Check the source index, length, and the array's lower bounds. (Parameter 'sourceArray')",
        );
    }
    if di.saturating_add(n) > dst_len {
        return throw(
            "ArgumentException",
            "Destination array was not long enough. Check the destination index, length, and the array's lower bounds. (Parameter 'destinationArray')",
        );
    }
    Ok((si, di, n))
}

fn copy_blob(src: &Blob, si: INT, mut dst: Blob, di: INT, n: INT) -> RhaiResult<Blob> {
    let (si, di, n) = copy_range(src.len(), si, dst.len(), di, n)?;
    if let (Some(to), Some(from)) = (dst.get_mut(di..di + n), src.get(si..si + n)) {
        to.copy_from_slice(from);
    }
    Ok(dst)
}

fn copy(src: &Array, si: INT, mut dst: Array, di: INT, n: INT) -> RhaiResult<Array> {
    let (si, di, n) = copy_range(src.len(), si, dst.len(), di, n)?;
    if let (Some(to), Some(from)) = (dst.get_mut(di..di + n), src.get(si..si + n)) {
        to.clone_from_slice(from);
    }
    Ok(dst)
}

pub(crate) fn register(e: &mut Engine) {
    register_list(e);
    register_arrays(e);
}
