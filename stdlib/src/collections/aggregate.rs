//! LINQ aggregates (`Sum`, `Min`, `Max`, `Average`, `Aggregate`) and the
//! `Enumerable.Range`/`Repeat`/`Empty` generators.

use std::cmp::Ordering;

use rhai::{Array, Dynamic, Engine, FnPtr, INT, ImmutableString, NativeCallContext};

use super::linq::{count_arg, no_elements};
use super::{call, compare, items};
use crate::core::{RhaiResult, throw};

type Ctx<'a> = NativeCallContext<'a>;

fn numbers(ctx: &Ctx, src: &Dynamic, f: Option<&FnPtr>) -> RhaiResult<Array> {
    let all = items(ctx, src)?;
    match f {
        None => Ok(all),
        Some(f) => all.into_iter().map(|x| call(ctx, f, (x,))).collect(),
    }
}

fn sum(ctx: &Ctx, src: &Dynamic, f: Option<&FnPtr>) -> RhaiResult<Dynamic> {
    let mut int: INT = 0;
    let mut float: Option<f64> = None;
    for x in numbers(ctx, src, f)? {
        if let Ok(n) = x.as_int() {
            match float.as_mut() {
                Some(acc) => *acc += n as f64,
                None => match int.checked_add(n) {
                    Some(s) => int = s,
                    None => {
                        return throw(
                            "OverflowException",
                            "Arithmetic operation resulted in an overflow.",
                        );
                    }
                },
            }
        } else if let Ok(v) = x.as_float() {
            *float.get_or_insert(int as f64) += v;
        } else if !x.is_unit() {
            return throw(
                "InvalidCastException",
                format!(
                    "Unable to cast object of type 'System.{}' to type 'System.Double'.",
                    crate::core::dotnet_type(&x)
                ),
            );
        }
    }
    Ok(float.map_or(Dynamic::from_int(int), Dynamic::from_float))
}

fn extreme(ctx: &Ctx, src: &Dynamic, f: Option<&FnPtr>, want: Ordering) -> RhaiResult<Dynamic> {
    let all: Array = numbers(ctx, src, f)?
        .into_iter()
        .filter(|x| !x.is_unit())
        .collect();
    let mut best: Option<Dynamic> = None;
    for x in all {
        best = Some(match best {
            Some(b) if compare(ctx, &x, &b)? != want => b,
            _ => x,
        });
    }
    best.map_or_else(no_elements, Ok)
}

fn average(ctx: &Ctx, src: &Dynamic, f: Option<&FnPtr>) -> RhaiResult<f64> {
    let all: Array = numbers(ctx, src, f)?
        .into_iter()
        .filter(|x| !x.is_unit())
        .collect();
    if all.is_empty() {
        return no_elements();
    }
    let n = all.len() as f64;
    let total = sum(ctx, &Dynamic::from_array(all), None)?;
    Ok(total
        .as_float()
        .or_else(|_| total.as_int().map(|i| i as f64))
        .unwrap_or(0.0)
        / n)
}

pub(crate) fn register(e: &mut Engine) {
    e.register_fn("Sum", |ctx: Ctx, s: Dynamic| sum(&ctx, &s, None))
        .register_fn("Sum", |ctx: Ctx, s: Dynamic, f: FnPtr| sum(&ctx, &s, Some(&f)))
        .register_fn("Min", |ctx: Ctx, s: Dynamic| extreme(&ctx, &s, None, Ordering::Less))
        .register_fn("Min", |ctx: Ctx, s: Dynamic, f: FnPtr| extreme(&ctx, &s, Some(&f), Ordering::Less))
        .register_fn("Max", |ctx: Ctx, s: Dynamic| extreme(&ctx, &s, None, Ordering::Greater))
        .register_fn("Max", |ctx: Ctx, s: Dynamic, f: FnPtr| extreme(&ctx, &s, Some(&f), Ordering::Greater))
        .register_fn("Average", |ctx: Ctx, s: Dynamic| average(&ctx, &s, None))
        .register_fn("Average", |ctx: Ctx, s: Dynamic, f: FnPtr| average(&ctx, &s, Some(&f)))
        .register_fn("Aggregate", |ctx: Ctx, s: Dynamic, f: FnPtr| -> RhaiResult<Dynamic> {
            let mut it = items(&ctx, &s)?.into_iter();
            let Some(mut acc) = it.next() else { return no_elements() };
            for x in it {
                acc = call(&ctx, &f, (acc, x))?;
            }
            Ok(acc)
        })
        .register_fn("Aggregate", |ctx: Ctx, s: Dynamic, seed: Dynamic, f: FnPtr| -> RhaiResult<Dynamic> {
            let mut acc = seed;
            for x in items(&ctx, &s)? {
                acc = call(&ctx, &f, (acc, x))?;
            }
            Ok(acc)
        })
        .register_fn("Aggregate", |ctx: Ctx, s: Dynamic, seed: Dynamic, f: FnPtr, r: FnPtr| -> RhaiResult<Dynamic> {
            let mut acc = seed;
            for x in items(&ctx, &s)? {
                acc = call(&ctx, &f, (acc, x))?;
            }
            call(&ctx, &r, (acc,))
        })
        .register_fn("Enumerable__Range", |ctx: Ctx, start: INT, count: INT| -> RhaiResult<Array> {
            if count < 0 || start.checked_add(count).is_none_or(|end| end - 1 > INT::from(i32::MAX)) {
                return throw("ArgumentOutOfRangeException", "Specified argument was out of the range of valid values. (Parameter 'count')");
            }
            bounded(&ctx, count)?;
            Ok((start..start + count).map(Dynamic::from_int).collect())
        })
        .register_fn("Enumerable__Repeat", |ctx: Ctx, v: Dynamic, count: INT| -> RhaiResult<Array> {
            if count < 0 {
                return throw("ArgumentOutOfRangeException", "Specified argument was out of the range of valid values. (Parameter 'count')");
            }
            bounded(&ctx, count)?;
            Ok(std::iter::repeat_n(v, count_arg(count)).collect())
        })
        .register_fn("Enumerable__Empty", |_: ImmutableString| Array::new())
        .register_fn("Enumerable__Empty", Array::new);
}

/// Refuses arrays over the engine's size limit before allocating them.
fn bounded(ctx: &Ctx, count: INT) -> RhaiResult<()> {
    crate::core::check_items(ctx, count_arg(count))
}
