//! The .NET surface that APIM policy expressions call, registered into rhai.
//!
//! The translator (`sluice_engine::translate`) turns C# into rhai source that
//! calls what this crate registers. The two sides meet on the conventions
//! below; every family file follows them.
//!
//! # Conventions (the contract with the translator)
//!
//! **Values.** `null` is `()`; `bool` is `bool`; `int`/`long`/`short`/`byte`
//! are rhai `INT` (i64; see `docs/expressions.md` for what that loses);
//! `double`/`float` are `FLOAT`; `string` is `ImmutableString`; `char` is
//! `char`; `byte[]` is rhai `Blob`; other arrays (`string[]`, `object[]`)
//! are rhai `Array`. Every other .NET type is a custom type registered under
//! its .NET name (`JObject`, `TimeSpan`, `Regex`, ...), so `type_of(x)` and
//! [`core::dotnet_type`] give the .NET name. Types with reference identity in
//! .NET (JObject, List, Dictionary, StringBuilder) wrap `Arc<RwLock<..>>`, so
//! a mutation through one reference shows through the others.
//!
//! **Members.**
//! - instance method `x.M(a)` → rhai method `M` registered on the type
//!   (`register_fn("M", |x: &mut T, a: ..| ..)`), one registration per arity
//!   for optional parameters and overloads;
//! - instance property `x.P` → getter `P` (`register_get`), and setter where .NET has one;
//! - indexer `x[i]` → `register_indexer_get` (and `_set`);
//! - static method `T.M(a)` → function `T__M(a)` (the type's simple name,
//!   two underscores, the member);
//! - static property or field `T.P` → function `T__P()` with no arguments;
//! - constructor `new T(a)` → function `T__new(a)`;
//! - generic type arguments come first, as strings with the .NET simple
//!   name: `x.As<JObject>()` → `x.As("JObject")`,
//!   `GetValueOrDefault<int>("k", 0)` → `GetValueOrDefault__of("Int32", "k", 0)`
//!   (its own name: `GetValueOrDefault("k", "d")` also passes two strings);
//! - `out` parameters: `M(a, out x)` → method `M__out(a)` returning an array
//!   `[result, x]` (several outs in order); the translator assigns them;
//! - lambdas are rhai closures (`FnPtr`); a function taking one calls it
//!   through its `NativeCallContext`.
//!
//! **Enumerables.** A custom type that C# can enumerate (List, Dictionary,
//! JArray, JObject, MatchCollection, ...) registers a rhai iterator (for
//! `foreach`) and a method `__items` returning a rhai `Array` snapshot of its
//! elements; LINQ (`collections.rs`) works on anything with `__items`, on
//! rhai arrays and on strings (their chars).
//!
//! **Anonymous types.** `new { a = 1, b = x }` → `__anon(["a", "b"], [1, x])`,
//! an [`core::Anonymous`] keeping declaration order (for `JsonConvert`).
//!
//! **Errors.** A .NET exception is a rhai runtime error whose value is an
//! [`core::Exception`] (`type_name` such as `FormatException`, `message`),
//! raised with [`core::throw`]. The translator's `try`/`catch (T e)` filters
//! on `type_name`; anything uncaught becomes `ExpressionValueEvaluationFailure`.
//!
//! **Time.** Nothing reads the system clock directly: `DateTime.UtcNow` and
//! friends call [`core::now`], which the evaluator sets per evaluation (so
//! the conformance runner's virtual clock holds).

mod collections;
pub mod context;
mod convert;
pub mod core;
mod crypto;
pub mod eval;
pub mod fast;
mod json;
/// JSON text as the token (`JObject`, `JArray`, `JValue`) expressions see
/// (the validation policies' errors variable).
pub use json::parse_json;
mod math;
mod regex;
mod strings;
#[cfg(test)]
pub(crate) mod testing;
mod text;
mod time;
mod web;
mod x509;
pub use x509::{PfxContents, X509Certificate2, is_pfx, read_pfx};
mod xml;

use std::time::Duration;

use rhai::Engine;

/// Bounds on one evaluation; over a bound is an error, never a hang.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_expr_depth: usize,
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
    pub wall_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_operations: 1_000_000,
            max_call_levels: 32,
            max_expr_depth: 128,
            max_string_size: 4 << 20,
            max_array_size: 100_000,
            max_map_size: 100_000,
            wall_time: Duration::from_millis(200),
        }
    }
}

/// A locked-down engine with the .NET surface registered: nothing but what
/// this crate registers is reachable (no file, network, process or clock).
pub fn engine(limits: &Limits) -> Engine {
    let mut e = Engine::new_raw();
    e.set_strict_variables(true);
    e.set_max_operations(limits.max_operations);
    e.set_max_call_levels(limits.max_call_levels);
    e.set_max_expr_depths(limits.max_expr_depth, limits.max_expr_depth);
    e.set_max_string_size(limits.max_string_size);
    e.set_max_array_size(limits.max_array_size);
    e.set_max_map_size(limits.max_map_size);
    e.disable_symbol("eval");
    e.on_progress(|ops| {
        if ops % 1024 == 0 {
            core::over_budget()
        } else {
            None
        }
    });
    core::register(&mut e);
    context::register(&mut e);
    strings::register(&mut e);
    text::register(&mut e);
    convert::register(&mut e);
    math::register(&mut e);
    crypto::register(&mut e);
    web::register(&mut e);
    json::register(&mut e);
    xml::register(&mut e);
    time::register(&mut e);
    regex::register(&mut e);
    collections::register(&mut e);
    x509::register(&mut e);
    e
}
