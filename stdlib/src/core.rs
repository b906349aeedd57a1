//! The core every family builds on: exceptions, .NET type names, casts,
//! `ToString()`, the operators whose .NET meaning differs from rhai's, and
//! the per-evaluation clock and wall-time budget.

use std::cell::Cell;
use std::time::Instant;

use rhai::{Dynamic, Engine, EvalAltResult, INT, ImmutableString, NativeCallContext, Position};

/// `Environment.NewLine`: Sluice runs where APIM's self-hosted and v2
/// gateways run, on Linux, so `\n` (what `JObject.ToString()`,
/// `XElement.ToString()` and `AppendLine` write).
pub const NEW_LINE: &str = "\n";

/// A .NET exception in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    /// The simple .NET type name, e.g. `FormatException`.
    pub type_name: String,
    pub message: String,
}

pub type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// Raises a .NET exception of type `ty`.
pub fn throw<T>(ty: &str, message: impl Into<String>) -> RhaiResult<T> {
    let e = Exception {
        type_name: ty.to_owned(),
        message: message.into(),
    };
    Err(Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(e),
        Position::NONE,
    )))
}

/// The exception carried by a rhai error, if it is one of ours.
pub fn exception_of(err: &EvalAltResult) -> Option<Exception> {
    match err {
        EvalAltResult::ErrorRuntime(v, _) => v.clone().try_cast::<Exception>(),
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => exception_of(inner),
        _ => None,
    }
}

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    static NOW_MS: Cell<Option<i64>> = const { Cell::new(None) };
}

/// Set while one evaluation runs: its wall-time deadline and the gateway's
/// clock (milliseconds since the Unix epoch). Dropping it clears both.
pub struct EvalScope(());

impl EvalScope {
    pub fn enter(deadline: Instant, now_ms: i64) -> Self {
        DEADLINE.with(|d| d.set(Some(deadline)));
        NOW_MS.with(|n| n.set(Some(now_ms)));
        EvalScope(())
    }
}

impl Drop for EvalScope {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(None));
        NOW_MS.with(|n| n.set(None));
    }
}

/// The gateway clock for this evaluation, in milliseconds since the Unix epoch.
/// Outside an evaluation (unit tests), the system clock.
pub fn now() -> i64 {
    NOW_MS.with(Cell::get).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    })
}

/// What stops an evaluation past its wall-time budget (the token of rhai's
/// `ErrorTerminated`), whether rhai's progress hook or a native saw it.
const OVER_BUDGET: &str = "the expression ran longer than its time budget";

/// Whether this evaluation's wall-time budget is spent.
fn late() -> bool {
    DEADLINE.with(Cell::get).is_some_and(|d| Instant::now() > d)
}

/// `Some` (which stops the evaluation) once the wall-time budget is spent.
pub(crate) fn over_budget() -> Option<Dynamic> {
    late().then(|| Dynamic::from(OVER_BUDGET))
}

/// The budget's error, for a native that found it spent: the same
/// `ErrorTerminated` rhai raises between operations (not catchable by the
/// expression's `try`).
pub(crate) fn budget_error<T>() -> RhaiResult<T> {
    Err(Box::new(EvalAltResult::ErrorTerminated(
        Dynamic::from(OVER_BUDGET),
        Position::NONE,
    )))
}

/// Lets a native that loops over its input (matches, elements, bytes)
/// observe the wall-time budget: [`Ticker::tick`] once per item reads the
/// clock every [`Ticker::EVERY`] items and fails once the budget is spent.
/// Outside an evaluation (no deadline) it never fails.
#[derive(Debug, Default)]
pub(crate) struct Ticker(u32);

impl Ticker {
    /// Items between two looks at the clock (a look costs about 20 ns).
    pub(crate) const EVERY: u32 = 256;

    pub(crate) fn new() -> Self {
        Self(0)
    }

    /// One item done.
    pub(crate) fn tick(&mut self) -> RhaiResult<()> {
        self.0 += 1;
        if self.0 >= Self::EVERY {
            self.0 = 0;
            return check_budget();
        }
        Ok(())
    }

    /// `n` items (bytes, chars) done at once.
    pub(crate) fn advance(&mut self, n: usize) -> RhaiResult<()> {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.0 = self.0.saturating_add(n);
        if self.0 >= Self::EVERY {
            self.0 = 0;
            return check_budget();
        }
        Ok(())
    }
}

/// Fails once the wall-time budget is spent (see [`Ticker`] for loops).
pub(crate) fn check_budget() -> RhaiResult<()> {
    if late() { budget_error() } else { Ok(()) }
}

/// Refuses an array, blob or collection of `len` elements over the engine's
/// array size limit, before it is allocated (.NET would run out of memory).
pub(crate) fn check_items(ctx: &NativeCallContext, len: usize) -> RhaiResult<()> {
    let max = ctx.engine().max_array_size();
    if max > 0 && len > max {
        return throw(
            "OutOfMemoryException",
            "Insufficient memory to continue the execution of the program.",
        );
    }
    Ok(())
}

/// The length of `new T[n]`: .NET's `OverflowException` for a negative one.
fn array_length(n: INT) -> RhaiResult<usize> {
    match usize::try_from(n) {
        Ok(n) => Ok(n),
        Err(_) => throw(
            "OverflowException",
            "Arithmetic operation resulted in an overflow.",
        ),
    }
}

/// Custom types and the .NET types they derive from (or implement).
/// A family file whose types derive adds them here.
const SUPERTYPES: &[(&str, &[&str])] = &[
    ("JObject", &["JContainer", "JToken"]),
    ("JArray", &["JContainer", "JToken"]),
    ("JProperty", &["JContainer", "JToken"]),
    ("JValue", &["JToken"]),
    ("XDocument", &["XContainer", "XNode", "XObject"]),
    ("XElement", &["XContainer", "XNode", "XObject"]),
    ("XText", &["XNode", "XObject"]),
    ("XCData", &["XText", "XNode", "XObject"]),
    ("XComment", &["XNode", "XObject"]),
    ("XProcessingInstruction", &["XNode", "XObject"]),
    ("XAttribute", &["XObject"]),
    ("Match", &["Group", "Capture"]),
    ("Group", &["Capture"]),
    // `context.Request`/`Response` and responses stored by `send-request`.
    ("MessageRef", &["IResponse", "IRequest", "IMessage"]),
];

/// The .NET type name of a value (`null` for null).
pub fn dotnet_type(v: &Dynamic) -> String {
    if v.is_unit() {
        "null".into()
    } else if v.is_bool() {
        "Boolean".into()
    } else if v.is_int() {
        "Int32".into()
    } else if v.is_float() {
        "Double".into()
    } else if v.is_string() {
        "String".into()
    } else if v.is_char() {
        "Char".into()
    } else if v.is_blob() {
        "Byte[]".into()
    } else if v.is_array() {
        "Object[]".into()
    } else if let Some(r) = v.read_lock::<crate::context::Record>() {
        // `Jwt`, `Authorization`, `BasicAuthCredentials`: a record's own name.
        r.type_name.to_owned()
    } else {
        v.type_name()
            .rsplit("::")
            .next()
            .unwrap_or("Object")
            .to_owned()
    }
}

/// Whether a value of .NET type `actual` is a `target` without conversion.
fn assignable(actual: &str, target: &str) -> bool {
    actual == target
        || target == "Object"
        || SUPERTYPES
            .iter()
            .any(|(t, sup)| *t == actual && sup.contains(&target))
        || (target == "String[]" && actual == "Object[]")
        || (target.ends_with("[]") && actual == "Object[]")
}

fn canonical(target: &str) -> &str {
    match target {
        "int" | "Int32" | "System.Int32" => "Int32",
        "long" | "Int64" | "System.Int64" => "Int64",
        "short" | "Int16" => "Int16",
        "byte" | "Byte" => "Byte",
        "uint" | "UInt32" => "UInt32",
        "ulong" | "UInt64" => "UInt64",
        "double" | "Double" | "System.Double" => "Double",
        "float" | "Single" => "Single",
        "decimal" | "Decimal" => "Decimal",
        "string" | "String" | "System.String" => "String",
        "bool" | "Boolean" | "System.Boolean" => "Boolean",
        "char" | "Char" => "Char",
        "object" | "Object" | "System.Object" => "Object",
        other => other,
    }
}

fn integer_range(target: &str) -> Option<(i64, i64)> {
    Some(match target {
        "Int32" => (i32::MIN.into(), i32::MAX.into()),
        "Int64" => (i64::MIN, i64::MAX),
        "Int16" => (i16::MIN.into(), i16::MAX.into()),
        "Byte" => (0, u8::MAX.into()),
        "UInt32" => (0, u32::MAX.into()),
        "UInt64" => (0, i64::MAX),
        _ => return None,
    })
}

fn invalid_cast<T>(v: &Dynamic, target: &str) -> RhaiResult<T> {
    let from = dotnet_type(v);
    if from == "null" {
        return throw(
            "NullReferenceException",
            format!("Object reference not set to an instance of an object (cast to '{target}')."),
        );
    }
    throw(
        "InvalidCastException",
        format!("Unable to cast object of type 'System.{from}' to type 'System.{target}'."),
    )
}

/// `(T)x` where `x` is statically `object`: C#'s strict unboxing. A boxed value
/// converts only to its own type (or a type it derives from); null only to
/// reference and nullable types.
pub fn unbox(v: Dynamic, target: &str) -> RhaiResult<Dynamic> {
    let nullable = target.ends_with('?');
    let target = canonical(target.trim_end_matches('?'));
    if v.is_unit() {
        let value_type = integer_range(target).is_some()
            || matches!(target, "Double" | "Single" | "Boolean" | "Char" | "Decimal");
        return if value_type && !nullable {
            invalid_cast(&v, target)
        } else {
            Ok(v)
        };
    }
    if let Some((lo, hi)) = integer_range(target) {
        return match v.as_int() {
            Ok(n) if (lo..=hi).contains(&n) => Ok(v),
            _ => invalid_cast(&v, target),
        };
    }
    match target {
        "Double" | "Single" if v.is_float() => Ok(v),
        "Boolean" if v.is_bool() => Ok(v),
        "Char" if v.is_char() => Ok(v),
        "String" if v.is_string() => Ok(v),
        _ if assignable(&dotnet_type(&v), target) => Ok(v),
        _ => invalid_cast(&v, target),
    }
}

/// `(T)x` where `x` is statically numeric (or char): an explicit numeric
/// conversion, which truncates toward zero and wraps like C#'s unchecked
/// context. Anything that is not a number unboxes strictly.
pub fn convert(v: Dynamic, target: &str) -> RhaiResult<Dynamic> {
    let target = canonical(target.trim_end_matches('?'));
    let as_f64 = if let Ok(n) = v.as_int() {
        Some(n as f64)
    } else if let Ok(f) = v.as_float() {
        Some(f)
    } else {
        v.as_char().ok().map(|c| f64::from(u32::from(c)))
    };
    let Some(x) = as_f64 else {
        return unbox(v, target);
    };
    Ok(match target {
        "Double" | "Single" | "Decimal" => Dynamic::from_float(x),
        "Char" => match char::from_u32(x as u32) {
            Some(c) => Dynamic::from_char(c),
            None => return invalid_cast(&v, target),
        },
        "Int32" => Dynamic::from_int(INT::from(x as i64 as i32)),
        "Int16" => Dynamic::from_int(INT::from(x as i64 as i16)),
        "Byte" => Dynamic::from_int(INT::from(x as i64 as u8)),
        "UInt32" => Dynamic::from_int(INT::from(x as i64 as u32)),
        _ if v.is_int() => v,
        _ => Dynamic::from_int(x as i64),
    })
}

/// `x is T` (no conversions; null is never anything).
pub fn is_type(v: &Dynamic, target: &str) -> bool {
    if v.is_unit() {
        return false;
    }
    let target = canonical(target.trim_end_matches('?'));
    match integer_range(target) {
        Some((lo, hi)) => {
            v.as_int().is_ok_and(|n| (lo..=hi).contains(&n))
                && (target == "Int32" || target == "Int64")
        }
        None => assignable(&dotnet_type(v), target),
    }
}

/// .NET `double.ToString()` (shortest round-trip, invariant culture):
/// `1.5`, `1E+20`, `1E-05`, `NaN`, `Infinity`.
pub fn format_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..15).contains(&exp) {
        let s = format!("{x}");
        return s;
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{}E{sign}{:02}", mantissa, exp.abs())
}

/// .NET `ToString()` of a primitive; `None` for a custom type.
pub fn primitive_string(v: &Dynamic) -> Option<String> {
    if v.is_unit() {
        Some(String::new())
    } else if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        Some(s.to_string())
    } else if let Ok(b) = v.as_bool() {
        Some(if b { "True" } else { "False" }.into())
    } else if let Ok(n) = v.as_int() {
        Some(n.to_string())
    } else if let Ok(f) = v.as_float() {
        Some(format_double(f))
    } else if let Ok(c) = v.as_char() {
        Some(c.to_string())
    } else if v.is_blob() {
        Some("System.Byte[]".into())
    } else if v.is_array() {
        Some("System.Object[]".into())
    } else if let Some(e) = v.clone().try_cast::<Exception>() {
        Some(format!("System.{}: {}", e.type_name, e.message))
    } else {
        None
    }
}

/// .NET `ToString()` of any value: primitives here, custom types through
/// their registered `ToString` method, else the .NET type name.
pub fn to_dotnet_string(ctx: &NativeCallContext, v: &Dynamic) -> RhaiResult<String> {
    if let Some(s) = primitive_string(v) {
        return Ok(s);
    }
    match ctx.call_native_fn::<ImmutableString>("ToString", (v.clone(),)) {
        Ok(s) => Ok(s.to_string()),
        Err(_) => Ok(dotnet_type(v)),
    }
}

fn numeric(v: &Dynamic) -> Option<f64> {
    if let Ok(n) = v.as_int() {
        Some(n as f64)
    } else {
        v.as_float().ok()
    }
}

/// C# `a + b` when the operands' static types are not both known numbers:
/// string concatenation if either is a string (null as empty), numeric
/// addition otherwise, else the type's own `+` (DateTime + TimeSpan, ...).
fn add(ctx: NativeCallContext, a: Dynamic, b: Dynamic) -> RhaiResult<Dynamic> {
    if a.is_string() || b.is_string() {
        let mut s = to_dotnet_string(&ctx, &a)?;
        s.push_str(&to_dotnet_string(&ctx, &b)?);
        return Ok(s.into());
    }
    if let (Ok(x), Ok(y)) = (a.as_int(), b.as_int()) {
        return Ok(Dynamic::from_int(x.wrapping_add(y)));
    }
    if let (Ok(c), Ok(y)) = (a.as_char(), b.as_int()) {
        return Ok(Dynamic::from_int(INT::from(u32::from(c)).wrapping_add(y)));
    }
    if let (Some(x), Some(y)) = (numeric(&a), numeric(&b)) {
        return Ok(Dynamic::from_float(x + y));
    }
    if a.is_unit() || b.is_unit() {
        return Ok(Dynamic::UNIT);
    }
    ctx.call_native_fn::<Dynamic>("+", (a, b))
}

/// C# `a == b` for operands of unknown static type: value equality for
/// strings, numbers, chars and bools; the type's own `==` for custom types
/// (reference equality where .NET has it).
pub fn equals(ctx: &NativeCallContext, a: &Dynamic, b: &Dynamic) -> bool {
    if a.is_unit() || b.is_unit() {
        return a.is_unit() && b.is_unit();
    }
    if let (Some(x), Some(y)) = (numeric(a), numeric(b)) {
        return x == y;
    }
    if let (Ok(x), Ok(y)) = (a.as_char(), b.as_char()) {
        return x == y;
    }
    if let (Ok(x), Ok(y)) = (a.as_bool(), b.as_bool()) {
        return x == y;
    }
    if a.is_string() && b.is_string() {
        return a.clone().into_immutable_string().ok() == b.clone().into_immutable_string().ok();
    }
    // An array, blob or map equals only a value of its own type (no `==`
    // takes one and something else): said without a call, which would copy
    // a large array to find it out, once per element of a search.
    let container = |v: &Dynamic| v.is_array() || v.is_blob() || v.is_map();
    if (container(a) || container(b)) && a.type_id() != b.type_id() {
        return false;
    }
    ctx.call_native_fn::<bool>("==", (a.clone(), b.clone()))
        .unwrap_or(false)
}

/// Exception types and their base types (beyond `Exception`, which catches all).
const EXCEPTION_BASES: &[(&str, &str)] = &[
    ("ArgumentNullException", "ArgumentException"),
    ("ArgumentOutOfRangeException", "ArgumentException"),
    ("FormatException", "SystemException"),
    ("UriFormatException", "FormatException"),
    ("JsonReaderException", "JsonException"),
    ("JsonSerializationException", "JsonException"),
    ("ArgumentException", "SystemException"),
    ("InvalidCastException", "SystemException"),
    ("InvalidOperationException", "SystemException"),
    ("NullReferenceException", "SystemException"),
    ("KeyNotFoundException", "SystemException"),
    ("IndexOutOfRangeException", "SystemException"),
    ("OverflowException", "ArithmeticException"),
    ("DivideByZeroException", "ArithmeticException"),
    ("ArithmeticException", "SystemException"),
    ("RegexMatchTimeoutException", "TimeoutException"),
    (
        "CryptographicUnexpectedOperationException",
        "CryptographicException",
    ),
    ("CryptographicException", "SystemException"),
    ("NotSupportedException", "SystemException"),
    ("MissingMethodException", "MissingMemberException"),
    ("MissingMemberException", "SystemException"),
];

/// Whether a caught error is a `ty` (or derives from it). Errors that are not
/// .NET exceptions (a rhai error) count as `Exception` only.
fn catches(err: &Dynamic, ty: &str) -> bool {
    if ty == "Exception" || ty == "System.Exception" {
        return true;
    }
    let Some(ex) = err.clone().try_cast::<Exception>() else {
        return false;
    };
    let mut t = ex.type_name.as_str();
    loop {
        if t == ty {
            return true;
        }
        match EXCEPTION_BASES.iter().find(|(d, _)| *d == t) {
            Some((_, base)) => t = base,
            None => return false,
        }
    }
}

/// `foreach` over anything enumerable: arrays as they are, strings as their
/// characters, blobs as numbers, custom types through their `__items`.
fn iterate(ctx: NativeCallContext, v: Dynamic) -> RhaiResult<rhai::Array> {
    if v.is_array() {
        return Ok(v.cast::<rhai::Array>());
    }
    if v.is_unit() {
        return throw(
            "NullReferenceException",
            "Object reference not set to an instance of an object.",
        );
    }
    if let Ok(s) = v.clone().into_immutable_string() {
        return Ok(s.chars().map(Dynamic::from_char).collect());
    }
    if v.is_blob() {
        return Ok(v
            .cast::<rhai::Blob>()
            .into_iter()
            .map(|b| Dynamic::from_int(INT::from(b)))
            .collect());
    }
    match ctx.call_native_fn::<rhai::Array>("__items", (v.clone(),)) {
        Ok(items) => Ok(items),
        Err(_) => throw(
            "InvalidCastException",
            format!("'{}' is not enumerable.", dotnet_type(&v)),
        ),
    }
}

/// An instance of a C# anonymous type: fields in declaration order.
#[derive(Clone, Debug)]
pub struct Anonymous(pub Vec<(String, Dynamic)>);

pub(crate) fn register(e: &mut Engine) {
    e.register_type_with_name::<Anonymous>("AnonymousType")
        .register_fn("__anon", |names: rhai::Array, values: rhai::Array| {
            Anonymous(
                names
                    .into_iter()
                    .map(|n| n.to_string())
                    .zip(values)
                    .collect(),
            )
        })
        .register_indexer_get(
            |a: &mut Anonymous, name: ImmutableString| -> RhaiResult<Dynamic> {
                match a.0.iter().find(|(n, _)| n.as_str() == name.as_str()) {
                    Some((_, v)) => Ok(v.clone()),
                    None => throw(
                        "MissingMemberException",
                        format!("'{name}' is not a member of the anonymous type."),
                    ),
                }
            },
        );
    e.register_type_with_name::<Exception>("Exception")
        .register_get("Message", |x: &mut Exception| {
            ImmutableString::from(x.message.as_str())
        })
        .register_fn("ToString", |x: &mut Exception| {
            format!("System.{}: {}", x.type_name, x.message)
        })
        .register_fn("__exception_type", |x: &mut Exception| {
            ImmutableString::from(x.type_name.as_str())
        })
        .register_fn("__exception_type", |_: Dynamic| {
            ImmutableString::from("Exception")
        })
        .register_fn("Exception__new", |m: ImmutableString| Exception {
            type_name: "Exception".into(),
            message: m.to_string(),
        })
        .register_fn("Exception__new", || Exception {
            type_name: "Exception".into(),
            message: "Exception of type 'System.Exception' was thrown.".into(),
        })
        .register_fn("__throw", |ex: Exception| -> RhaiResult<Dynamic> {
            throw(&ex.type_name, ex.message)
        })
        .register_fn(
            "__throw",
            |ty: ImmutableString, m: ImmutableString| -> RhaiResult<Dynamic> {
                throw(&ty, m.as_str())
            },
        )
        .register_fn("__cast", |v: Dynamic, t: ImmutableString| unbox(v, &t))
        .register_fn("__conv", |v: Dynamic, t: ImmutableString| convert(v, &t))
        .register_fn("__is", |v: Dynamic, t: ImmutableString| is_type(&v, &t))
        .register_fn(
            "__as",
            |v: Dynamic, t: ImmutableString| if is_type(&v, &t) { v } else { Dynamic::UNIT },
        )
        .register_fn("__str", |ctx: NativeCallContext, v: Dynamic| {
            to_dotnet_string(&ctx, &v)
        })
        .register_fn("__add", add)
        .register_fn("__eq", |ctx: NativeCallContext, a: Dynamic, b: Dynamic| {
            equals(&ctx, &a, &b)
        })
        .register_fn("__ne", |ctx: NativeCallContext, a: Dynamic, b: Dynamic| {
            !equals(&ctx, &a, &b)
        })
        .register_fn("__type", |v: Dynamic| dotnet_type(&v));
    // The same operators on two strings, the commonest case: rhai finds an
    // exact signature at the first lookup instead of trying `Dynamic` in
    // each position in turn. Same results as the general forms above.
    e.register_fn("__cast", |v: ImmutableString, t: ImmutableString| {
        unbox(v.into(), &t)
    })
    .register_fn("__add", |a: ImmutableString, b: ImmutableString| {
        let mut s = String::with_capacity(a.len() + b.len());
        s.push_str(&a);
        s.push_str(&b);
        s
    })
    .register_fn("__eq", |a: ImmutableString, b: ImmutableString| a == b)
    .register_fn("__ne", |a: ImmutableString, b: ImmutableString| a != b);
    // What the translator emits for arrays, `foreach` and `catch (T e)`.
    e.register_iterator::<rhai::Array>()
        .register_fn("__iter", iterate)
        .register_fn("__bytes", |items: rhai::Array| -> RhaiResult<rhai::Blob> {
            items
                .into_iter()
                .map(|v| {
                    v.as_int()
                        .map(|n| n as u8)
                        .or_else(|_| throw("InvalidCastException", "a byte array holds numbers"))
                })
                .collect()
        })
        .register_fn(
            "__new_bytes",
            |ctx: NativeCallContext, n: INT| -> RhaiResult<rhai::Blob> {
                let n = array_length(n)?;
                check_items(&ctx, n)?;
                Ok(vec![0; n])
            },
        )
        .register_fn(
            "__new_array",
            |ctx: NativeCallContext, n: INT| -> RhaiResult<rhai::Array> {
                let n = array_length(n)?;
                check_items(&ctx, n)?;
                Ok(vec![Dynamic::UNIT; n])
            },
        )
        .register_fn("__catches", |err: Dynamic, ty: ImmutableString| {
            catches(&err, &ty)
        });
    // `ToString()` and `Equals` on the primitives.
    e.register_fn("ToString", |v: bool| if v { "True" } else { "False" })
        .register_fn("ToString", |v: INT| v.to_string())
        .register_fn("ToString", |v: f64| format_double(v))
        .register_fn("ToString", |v: char| v.to_string())
        .register_fn("ToString", |v: ImmutableString| v)
        .register_fn("GetHashCode", |v: ImmutableString| v.len() as INT)
        .register_fn(
            "Equals",
            |ctx: NativeCallContext, a: Dynamic, b: Dynamic| equals(&ctx, &a, &b),
        );
}

#[cfg(test)]
mod tests;
