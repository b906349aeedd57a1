//! Collections and LINQ.
//!
//! - `list.rs`: `List<T>` (also `Queue<T>`/`Stack<T>` basics), array members
//!   (`Length`, `Array.IndexOf`, `Array.Exists`, `Array.Copy`, ...);
//! - `dict.rs`: `Dictionary<K,V>`, `KeyValuePair<K,V>`, `HashSet<T>`,
//!   `StringComparer`;
//! - `linq.rs`: `System.Linq.Enumerable` over anything enumerable (rhai
//!   arrays, strings as chars, blobs, any custom type with `__items`).
//!   Results are eager rhai arrays, except `OrderBy` which returns an
//!   `OrderedEnumerable` (so `ThenBy` can refine it); it has `__items`.
//!
//! Elements compare like .NET's default comparer: numbers numerically,
//! strings by an approximation of invariant-culture collation
//! (punctuation < digits < letters, case-insensitive first, then lowercase
//! before uppercase), custom types through their `CompareTo`.

mod aggregate;
mod dict;

pub(crate) use dict::string_dictionary;
mod linq;
mod list;

use std::cmp::Ordering;

use rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, INT, ImmutableString, NativeCallContext};

use crate::core::{RhaiResult, dotnet_type, equals, throw};

/// The elements of anything C# can enumerate.
pub(crate) fn items(ctx: &NativeCallContext, v: &Dynamic) -> RhaiResult<Array> {
    if v.is_unit() {
        return throw(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'source')",
        );
    }
    if let Some(a) = v.read_lock::<Array>() {
        return Ok(a.clone());
    }
    if let Some(s) = v.read_lock::<ImmutableString>() {
        return Ok(s.chars().map(Dynamic::from_char).collect());
    }
    if let Some(b) = v.read_lock::<rhai::Blob>() {
        return Ok(b.iter().map(|&x| Dynamic::from_int(INT::from(x))).collect());
    }
    if let Some(l) = v.read_lock::<list::List>() {
        return Ok(l.snapshot());
    }
    match ctx.call_native_fn::<Array>("__items", (v.clone(),)) {
        Ok(a) => Ok(a),
        Err(_) => throw(
            "InvalidCastException",
            format!(
                "Unable to cast object of type '{}' to type 'System.Collections.IEnumerable'.",
                dotnet_type(v)
            ),
        ),
    }
}

/// Calls a lambda.
pub(crate) fn call(
    ctx: &NativeCallContext,
    f: &FnPtr,
    args: impl rhai::FuncArgs,
) -> RhaiResult<Dynamic> {
    // Each call counts its operations from where the native began (rhai
    // gives it a copy of the evaluation's state), so many short calls would
    // never reach the progress hook: the budget is checked here.
    crate::core::check_budget()?;
    f.call_within_context::<Dynamic>(ctx, args)
}

/// Calls a predicate; its result must be a bool.
pub(crate) fn test(ctx: &NativeCallContext, f: &FnPtr, item: &Dynamic) -> RhaiResult<bool> {
    truth(&call(ctx, f, (item.clone(),))?)
}

/// A predicate's result, which must be a bool.
pub(crate) fn truth(r: &Dynamic) -> RhaiResult<bool> {
    match r.as_bool() {
        Ok(b) => Ok(b),
        Err(_) => throw(
            "InvalidCastException",
            format!(
                "Unable to cast object of type 'System.{}' to type 'System.Boolean'.",
                dotnet_type(r)
            ),
        ),
    }
}

/// Whether `f` takes two arguments (the `(item, index)` overloads): tried
/// with one first, then two.
pub(crate) fn with_index(
    ctx: &NativeCallContext,
    f: &FnPtr,
    first: &Dynamic,
) -> RhaiResult<(bool, Dynamic)> {
    match f.call_within_context::<Dynamic>(ctx, (first.clone(),)) {
        Ok(v) => Ok((false, v)),
        Err(e) if matches!(&*e, EvalAltResult::ErrorFunctionNotFound(sig, _) if sig.starts_with(f.fn_name())) => {
            Ok((
                true,
                f.call_within_context::<Dynamic>(ctx, (first.clone(), Dynamic::from_int(0)))?,
            ))
        }
        Err(e) => Err(e),
    }
}

/// Invariant-culture string order: the strings family's approximation.
pub(crate) use crate::strings::culture_compare;

fn numeric(v: &Dynamic) -> Option<f64> {
    v.as_int()
        .map(|n| n as f64)
        .ok()
        .or_else(|| v.as_float().ok())
}

/// .NET's `Comparer<object>.Default`: null first, then by value.
pub(crate) fn compare(ctx: &NativeCallContext, a: &Dynamic, b: &Dynamic) -> RhaiResult<Ordering> {
    if a.is_unit() || b.is_unit() {
        return Ok(b.is_unit().cmp(&a.is_unit()));
    }
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
        return Ok(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (numeric(a), numeric(b)) {
        return Ok(x
            .partial_cmp(&y)
            .unwrap_or_else(|| x.is_nan().cmp(&y.is_nan()).reverse()));
    }
    if let (Some(x), Some(y)) = (
        a.read_lock::<ImmutableString>(),
        b.read_lock::<ImmutableString>(),
    ) {
        return Ok(culture_compare(&x, &y, false));
    }
    if let (Ok(x), Ok(y)) = (a.as_char(), b.as_char()) {
        return Ok(x.cmp(&y));
    }
    if let (Ok(x), Ok(y)) = (a.as_bool(), b.as_bool()) {
        return Ok(x.cmp(&y));
    }
    match ctx.call_native_fn::<INT>("CompareTo", (a.clone(), b.clone())) {
        Ok(n) => Ok(n.cmp(&0)),
        Err(_) => throw(
            "InvalidOperationException",
            "Failed to compare two elements in the array.",
        ),
    }
}

/// Sorts stably by `cmp`, surfacing the first comparison error.
pub(crate) fn sort_by<T>(
    v: &mut [T],
    mut cmp: impl FnMut(&T, &T) -> RhaiResult<Ordering>,
) -> RhaiResult<()> {
    let mut err = None;
    v.sort_by(|a, b| match cmp(a, b) {
        Ok(o) => o,
        Err(e) => {
            err.get_or_insert(e);
            Ordering::Equal
        }
    });
    err.map_or(Ok(()), Err)
}

/// `IndexOf` by .NET `Equals`.
pub(crate) fn position(ctx: &NativeCallContext, items: &[Dynamic], v: &Dynamic) -> INT {
    items
        .iter()
        .position(|x| equals(ctx, x, v))
        .map_or(-1, |i| i as INT)
}

pub(crate) fn index_out_of_range<T>() -> RhaiResult<T> {
    throw(
        "ArgumentOutOfRangeException",
        "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')",
    )
}

/// .NET's name for a generic argument in `ToString()` (`System.String`).
pub(crate) fn full_type_name(t: &str) -> String {
    let canonical = match t {
        "string" => "String",
        "int" => "Int32",
        "long" => "Int64",
        "bool" => "Boolean",
        "double" => "Double",
        "object" => "Object",
        "char" => "Char",
        other => other,
    };
    match canonical {
        "String" | "Int32" | "Int64" | "Boolean" | "Double" | "Object" | "Char" | "Byte"
        | "DateTime" | "TimeSpan" | "Guid" => format!("System.{canonical}"),
        "String[]" | "Int32[]" | "Object[]" | "Byte[]" => format!("System.{canonical}"),
        "JObject" | "JArray" | "JToken" | "JValue" | "JProperty" => {
            format!("Newtonsoft.Json.Linq.{canonical}")
        }
        other => other.to_owned(),
    }
}

/// `default(T)` for a generic argument name.
pub(crate) fn default_of(t: &str) -> Dynamic {
    match t {
        "Int32" | "int" | "Int64" | "long" | "Int16" | "short" | "Byte" | "byte" | "UInt32"
        | "UInt64" => Dynamic::from_int(0),
        "Double" | "double" | "Single" | "float" | "Decimal" | "decimal" => {
            Dynamic::from_float(0.0)
        }
        "Boolean" | "bool" => Dynamic::FALSE,
        "Char" | "char" => Dynamic::from_char('\0'),
        _ => Dynamic::UNIT,
    }
}

pub(crate) fn register(e: &mut Engine) {
    list::register(e);
    dict::register(e);
    linq::register(e);
}

#[cfg(test)]
mod tests;
