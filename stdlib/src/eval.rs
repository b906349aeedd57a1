//! Evaluating a compiled expression: the context in scope, the clock and the
//! wall-time budget set, and every failure turned into what APIM reports as
//! `ExpressionValueEvaluationFailure` (a .NET exception type and message).

use std::time::Instant;

use rhai::{AST, Dynamic, Engine, EvalAltResult, Position, Scope};

use crate::Limits;
use crate::context::Context;
use crate::core::{EvalScope, exception_of};

/// Why an evaluation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The .NET exception type (`NullReferenceException`, ...), or `Sandbox`
    /// when a bound stopped the evaluation.
    pub exception: String,
    pub message: String,
    /// Where in the generated code; map it back with the expression's position map.
    pub position: Position,
}

const NULL_REFERENCE: &str = "Object reference not set to an instance of an object.";

/// Runs `ast` with `context` in scope, at gateway time `now_ms`.
pub fn evaluate(
    engine: &Engine,
    ast: &AST,
    context: &Context,
    now_ms: i64,
    limits: &Limits,
) -> Result<Dynamic, Failure> {
    let _scope_guard = EvalScope::enter(Instant::now() + limits.wall_time, now_ms);
    let _context_guard = crate::context::Current::enter(context);
    // One scope per thread, emptied after each use, saves allocating one per
    // evaluation; a nested evaluation (none today) would get its own.
    thread_local! {
        static SCOPE: std::cell::RefCell<Scope<'static>> = std::cell::RefCell::new(Scope::new());
    }
    let run = |scope: &mut Scope<'static>| {
        scope.clear();
        scope.push("context", context.clone());
        let r = engine.eval_ast_with_scope::<Dynamic>(scope, ast);
        scope.clear();
        r
    };
    SCOPE
        .with(|s| match s.try_borrow_mut() {
            Ok(mut scope) => run(&mut scope),
            Err(_) => run(&mut Scope::new()),
        })
        .map_err(|e| failure(&e))
}

/// The .NET view of a rhai error.
pub fn failure(e: &EvalAltResult) -> Failure {
    let position = e.position();
    if let Some(ex) = exception_of(e) {
        return Failure {
            exception: ex.type_name,
            message: ex.message,
            position,
        };
    }
    let (exception, message) = match e {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => return failure(inner),
        EvalAltResult::ErrorFunctionNotFound(sig, _)
            if sig.contains("()") || sig.contains("(())") =>
        {
            ("NullReferenceException", NULL_REFERENCE.to_owned())
        }
        EvalAltResult::ErrorFunctionNotFound(sig, _) => (
            "MissingMethodException",
            format!(
                "no member matches `{}`",
                sig.replace("get$", "").replace("__", ".")
            ),
        ),
        EvalAltResult::ErrorDotExpr(..) | EvalAltResult::ErrorPropertyNotFound(..) => {
            ("NullReferenceException", NULL_REFERENCE.to_owned())
        }
        EvalAltResult::ErrorIndexingType(..) => {
            ("NullReferenceException", NULL_REFERENCE.to_owned())
        }
        EvalAltResult::ErrorArrayBounds(len, i, _) => (
            "IndexOutOfRangeException",
            format!("Index was outside the bounds of the array (index {i}, length {len})."),
        ),
        EvalAltResult::ErrorStringBounds(len, i, _) => (
            "IndexOutOfRangeException",
            format!("Index was outside the bounds of the string (index {i}, length {len})."),
        ),
        EvalAltResult::ErrorArithmetic(m, _) if m.contains("Division by zero") => (
            "DivideByZeroException",
            "Attempted to divide by zero.".to_owned(),
        ),
        EvalAltResult::ErrorArithmetic(m, _) => ("OverflowException", m.clone()),
        EvalAltResult::ErrorMismatchDataType(want, got, _)
        | EvalAltResult::ErrorMismatchOutputType(want, got, _) => (
            "InvalidCastException",
            format!("Unable to cast object of type '{got}' to type '{want}'."),
        ),
        EvalAltResult::ErrorTerminated(token, _) => ("Sandbox", token.to_string()),
        EvalAltResult::ErrorTooManyOperations(_) => (
            "Sandbox",
            "the expression ran too many operations".to_owned(),
        ),
        EvalAltResult::ErrorStackOverflow(_) => (
            "Sandbox",
            "the expression nested calls too deeply".to_owned(),
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => (
            "Sandbox",
            format!("the expression built a value over the size limit ({what})"),
        ),
        EvalAltResult::ErrorRuntime(v, _) => ("Exception", v.to_string()),
        other => ("Exception", other.to_string()),
    };
    Failure {
        exception: exception.to_owned(),
        message,
        position,
    }
}

/// .NET `ToString()` of a value, for policies that put an expression's
/// result into a header, a URL or a body. `None` for null.
pub fn display(engine: &Engine, v: Dynamic) -> Result<Option<String>, Failure> {
    if v.is_unit() {
        return Ok(None);
    }
    // The common case first: a string, not copied when nothing else holds it.
    if v.is_string() {
        return Ok(v
            .into_immutable_string()
            .ok()
            .map(rhai::ImmutableString::into_owned));
    }
    if let Some(s) = crate::core::primitive_string(&v) {
        return Ok(Some(s));
    }
    static AST: std::sync::OnceLock<Option<AST>> = std::sync::OnceLock::new();
    let ast = AST.get_or_init(|| {
        let mut scope = Scope::new();
        scope.push("v", ());
        Engine::new_raw()
            .compile_with_scope(&scope, "__str(v)")
            .ok()
    });
    let Some(ast) = ast else {
        return Ok(Some(crate::core::dotnet_type(&v)));
    };
    let mut scope = Scope::new();
    scope.push("v", v);
    engine
        .eval_ast_with_scope::<rhai::ImmutableString>(&mut scope, ast)
        .map(|s| Some(s.to_string()))
        .map_err(|e| failure(&e))
}
