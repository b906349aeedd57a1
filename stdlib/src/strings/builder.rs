//! `StringBuilder`: a mutable string with reference identity. `AppendLine`
//! ends lines with `\r\n` (`Environment.NewLine` on the Windows-hosted APIM
//! gateway).

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rhai::{Array, Dynamic, Engine, INT, ImmutableString, NativeCallContext};

use super::composite::format_call;
use super::{byte_at, char_len, char_slice, check_size, index, out_of_range, req_str};
use crate::core::{RhaiResult, to_dotnet_string};

const NEW_LINE: &str = crate::core::NEW_LINE;

#[derive(Clone, Debug, Default)]
pub(crate) struct StringBuilder(Arc<RwLock<String>>);

impl StringBuilder {
    fn new(s: &str) -> Self {
        StringBuilder(Arc::new(RwLock::new(s.to_owned())))
    }

    fn read(&self) -> RwLockReadGuard<'_, String> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, String> {
        self.0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn text(&self) -> String {
        self.read().clone()
    }

    /// Appends `s`, refusing to grow past the string size limit.
    fn push(&self, ctx: &NativeCallContext, s: &str) -> RhaiResult<Self> {
        let mut w = self.write();
        check_size(ctx, w.len() + s.len())?;
        w.push_str(s);
        Ok(self.clone())
    }

    /// Replaces the whole content (after a bounded edit).
    fn set(&self, ctx: &NativeCallContext, s: String) -> RhaiResult<Self> {
        check_size(ctx, s.len())?;
        *self.write() = s;
        Ok(self.clone())
    }
}

/// What `Append(x)` adds: a char array's chars, else `x.ToString()`.
fn text_of(ctx: &NativeCallContext, v: &Dynamic) -> RhaiResult<String> {
    if let Some(a) = v.read_lock::<Array>()
        && !a.is_empty()
        && a.iter().all(Dynamic::is_char)
    {
        return Ok(a.iter().filter_map(|c| c.as_char().ok()).collect());
    }
    to_dotnet_string(ctx, v)
}

fn range(total: usize, start: INT, count: INT) -> RhaiResult<(usize, usize)> {
    let Some(st) = index(start) else {
        return out_of_range("startIndex", "StartIndex cannot be less than zero.");
    };
    let Some(n) = index(count) else {
        return out_of_range("count", "Count cannot be less than zero.");
    };
    if st > total || n > total - st {
        return out_of_range(
            "startIndex",
            "Index and count must refer to a location within the string.",
        );
    }
    Ok((st, n))
}

fn replace(
    ctx: &NativeCallContext,
    b: &StringBuilder,
    old: &Dynamic,
    new: &Dynamic,
    start: INT,
    count: Option<INT>,
) -> RhaiResult<StringBuilder> {
    let text = b.text();
    let total = char_len(&text);
    let (st, n) = range(
        total,
        start,
        count.unwrap_or_else(|| INT::try_from(total).unwrap_or(0) - start),
    )?;
    let (old, new) = match (old.as_char(), new.as_char()) {
        (Ok(a), Ok(c)) => (a.to_string(), c.to_string()),
        _ => {
            let old = req_str(old, "oldValue")?;
            if old.is_empty() {
                return crate::core::throw(
                    "ArgumentException",
                    "String cannot be of zero length. (Parameter 'oldValue')",
                );
            }
            (
                old.to_string(),
                new.clone()
                    .into_immutable_string()
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            )
        }
    };
    let (a, z) = (byte_at(&text, st), byte_at(&text, st + n));
    let middle = text.get(a..z).unwrap_or("");
    let hits = middle.matches(old.as_str()).count();
    check_size(ctx, text.len() + hits.saturating_mul(new.len()))?;
    let out = format!(
        "{}{}{}",
        text.get(..a).unwrap_or(""),
        middle.replace(old.as_str(), &new),
        text.get(z..).unwrap_or("")
    );
    b.set(ctx, out)
}

fn insert(
    ctx: &NativeCallContext,
    b: &StringBuilder,
    at: INT,
    v: &str,
    times: INT,
) -> RhaiResult<StringBuilder> {
    let text = b.text();
    let Some(i) = index(at).filter(|&i| i <= char_len(&text)) else {
        return out_of_range(
            "index",
            "Index was out of range. Must be non-negative and less than or equal to the size of the collection.",
        );
    };
    let Some(times) = index(times) else {
        return out_of_range("count", "Count cannot be less than zero.");
    };
    check_size(ctx, text.len() + v.len().saturating_mul(times))?;
    let at = byte_at(&text, i);
    let out = format!(
        "{}{}{}",
        text.get(..at).unwrap_or(""),
        v.repeat(times),
        text.get(at..).unwrap_or("")
    );
    b.set(ctx, out)
}

fn set_length(ctx: &NativeCallContext, b: &StringBuilder, len: INT) -> RhaiResult<()> {
    let Some(n) = index(len) else {
        return out_of_range("value", "Length cannot be less than zero.");
    };
    let text = b.text();
    let have = char_len(&text);
    let out = if n <= have {
        char_slice(&text, 0, n).to_owned()
    } else {
        check_size(ctx, text.len() + (n - have))?;
        format!("{text}{}", "\0".repeat(n - have))
    };
    b.set(ctx, out).map(|_| ())
}

fn char_at(b: &StringBuilder, i: INT) -> RhaiResult<char> {
    match index(i).and_then(|i| b.read().chars().nth(i)) {
        Some(c) => Ok(c),
        None => out_of_range(
            "index",
            "Index was out of range. Must be non-negative and less than the size of the collection.",
        ),
    }
}

type SB = StringBuilder;

pub(super) fn register(e: &mut Engine) {
    e.register_type_with_name::<SB>("StringBuilder")
        .register_fn("StringBuilder__new", || SB::new(""))
        .register_fn("StringBuilder__new", |v: Dynamic| {
            match v.clone().into_immutable_string() {
                Ok(s) => SB::new(&s),
                Err(_) => SB::new(""),
            }
        })
        .register_fn("StringBuilder__new", |v: Dynamic, _capacity: INT| {
            SB::new(&v.into_immutable_string().unwrap_or_default())
        })
        .register_fn(
            "StringBuilder__new",
            |s: ImmutableString, st: INT, n: INT, _capacity: INT| -> RhaiResult<SB> {
                let (st, n) = range(char_len(&s), st, n)?;
                Ok(SB::new(char_slice(&s, st, n)))
            },
        )
        .register_fn(
            "Append",
            |ctx: NativeCallContext, b: &mut SB, v: Dynamic| b.push(&ctx, &text_of(&ctx, &v)?),
        )
        .register_fn(
            "Append",
            |ctx: NativeCallContext, b: &mut SB, c: char, n: INT| -> RhaiResult<SB> {
                let Some(n) = index(n) else {
                    return out_of_range("repeatCount", "Count cannot be less than zero.");
                };
                check_size(&ctx, n.saturating_mul(c.len_utf8()))?;
                b.push(&ctx, &c.to_string().repeat(n))
            },
        )
        .register_fn(
            "Append",
            |ctx: NativeCallContext, b: &mut SB, v: Dynamic, st: INT, n: INT| -> RhaiResult<SB> {
                let text = text_of(&ctx, &v)?;
                let (st, n) = range(char_len(&text), st, n)?;
                b.push(&ctx, char_slice(&text, st, n))
            },
        )
        .register_fn("AppendLine", |ctx: NativeCallContext, b: &mut SB| {
            b.push(&ctx, NEW_LINE)
        })
        .register_fn(
            "AppendLine",
            |ctx: NativeCallContext, b: &mut SB, v: Dynamic| {
                let line = v
                    .into_immutable_string()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                b.push(&ctx, &(line + NEW_LINE))
            },
        )
        .register_fn(
            "Insert",
            |ctx: NativeCallContext, b: &mut SB, i: INT, v: Dynamic| {
                insert(&ctx, b, i, &text_of(&ctx, &v)?, 1)
            },
        )
        .register_fn(
            "Insert",
            |ctx: NativeCallContext, b: &mut SB, i: INT, v: Dynamic, n: INT| {
                insert(&ctx, b, i, &text_of(&ctx, &v)?, n)
            },
        )
        .register_fn(
            "Replace",
            |ctx: NativeCallContext, b: &mut SB, o: Dynamic, n: Dynamic| {
                replace(&ctx, b, &o, &n, 0, None)
            },
        )
        .register_fn(
            "Replace",
            |ctx: NativeCallContext, b: &mut SB, o: Dynamic, n: Dynamic, st: INT, c: INT| {
                replace(&ctx, b, &o, &n, st, Some(c))
            },
        )
        .register_fn(
            "Remove",
            |ctx: NativeCallContext, b: &mut SB, st: INT, n: INT| -> RhaiResult<SB> {
                let text = b.text();
                let (st, n) = range(char_len(&text), st, n)?;
                let (a, z) = (byte_at(&text, st), byte_at(&text, st + n));
                b.set(
                    &ctx,
                    format!(
                        "{}{}",
                        text.get(..a).unwrap_or(""),
                        text.get(z..).unwrap_or("")
                    ),
                )
            },
        )
        .register_fn("Clear", |b: &mut SB| {
            b.write().clear();
            b.clone()
        })
        .register_get("Length", |b: &mut SB| super::to_int(char_len(&b.read())))
        .register_set("Length", |ctx: NativeCallContext, b: &mut SB, n: INT| {
            set_length(&ctx, b, n)
        })
        .register_get("Capacity", |b: &mut SB| {
            super::to_int(b.read().len().max(16))
        })
        .register_set("Capacity", |_: &mut SB, _: INT| ())
        .register_get("MaxCapacity", |_: &mut SB| INT::from(i32::MAX))
        .register_fn("EnsureCapacity", |b: &mut SB, n: INT| {
            n.max(super::to_int(b.read().len().max(16)))
        })
        .register_indexer_get(|b: &mut SB, i: INT| char_at(b, i))
        .register_indexer_set(|b: &mut SB, i: INT, c: char| -> RhaiResult<()> {
            char_at(b, i)?;
            let mut w = b.write();
            *w = w
                .chars()
                .enumerate()
                .map(|(k, x)| if Some(k) == index(i) { c } else { x })
                .collect();
            Ok(())
        })
        .register_fn("ToString", |b: &mut SB| b.text())
        .register_fn(
            "ToString",
            |b: &mut SB, st: INT, n: INT| -> RhaiResult<String> {
                let text = b.text();
                let (st, n) = range(char_len(&text), st, n)?;
                Ok(char_slice(&text, st, n).to_owned())
            },
        )
        .register_fn("Equals", |a: &mut SB, b: SB| *a.read() == *b.read())
        .register_fn("==", |a: SB, b: SB| Arc::ptr_eq(&a.0, &b.0))
        .register_fn("!=", |a: SB, b: SB| !Arc::ptr_eq(&a.0, &b.0));
    macro_rules! append_format {
        ($($a:ident),*) => {
            e.register_fn("AppendFormat", |ctx: NativeCallContext, b: &mut SB, $($a: Dynamic),*| -> RhaiResult<SB> {
                let s = format_call(&ctx, &[$($a),*])?;
                b.push(&ctx, &s)
            });
        };
    }
    append_format!(a, c);
    append_format!(a, c, d);
    append_format!(a, c, d, f);
    append_format!(a, c, d, f, g);
    append_format!(a, c, d, f, g, h);
    append_format!(a, c, d, f, g, h, i);
}
