//! Attribute and text values as stages hold them: a literal, or a compiled
//! expression evaluated per request.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use rhai::Dynamic;

use super::{Exchange, PolicyError, Reason};
use crate::script::Compiled;

#[derive(Clone, Debug)]
pub enum CompiledValue {
    Literal(String),
    Expr(Arc<Compiled>),
}

impl CompiledValue {
    /// The value's result.
    pub fn eval(&self, x: &Exchange) -> Result<Dynamic, PolicyError> {
        match self {
            CompiledValue::Literal(s) => Ok(Dynamic::from(s.clone())),
            CompiledValue::Expr(c) => {
                if let Some(v) = c.fast.as_ref().and_then(|f| f.eval(&x.ctx, &x.limits)) {
                    return Ok(v);
                }
                let now_ms = x.now_ms();
                let run = || {
                    let started = Instant::now();
                    let r =
                        sluice_stdlib::eval::evaluate(&x.engine, &c.ast, &x.ctx, now_ms, &x.limits);
                    c.cost.record(started.elapsed());
                    r
                };
                // An expression that ran long lately runs off the worker
                // (its other connections go on); the first long run of
                // one is found out here, on the worker.
                x.offload_if(c.cost.is_long(), run).map_err(|f| failure(&f))
            }
        }
    }

    /// As text (.NET `ToString()` of a non-string result); `None` for null.
    pub fn eval_string(&self, x: &Exchange) -> Result<Option<String>, PolicyError> {
        match self {
            CompiledValue::Literal(s) => Ok(Some(s.clone())),
            CompiledValue::Expr(_) => {
                let v = self.eval(x)?;
                sluice_stdlib::eval::display(&x.engine, v).map_err(|f| failure(&f))
            }
        }
    }

    /// Like [`CompiledValue::eval_string`], but a literal is borrowed, not copied.
    pub fn eval_str(&self, x: &Exchange) -> Result<Option<Cow<'_, str>>, PolicyError> {
        match self {
            CompiledValue::Literal(s) => Ok(Some(Cow::Borrowed(s))),
            CompiledValue::Expr(_) => Ok(self.eval_string(x)?.map(Cow::Owned)),
        }
    }

    /// [`CompiledValue::eval_str`] with null as the empty string.
    pub fn text(&self, x: &Exchange) -> Result<Cow<'_, str>, PolicyError> {
        Ok(self.eval_str(x)?.unwrap_or_default())
    }

    /// As a boolean (`true`/`false` literals are case-insensitive, as .NET parses them).
    pub fn eval_bool(&self, x: &Exchange) -> Result<bool, PolicyError> {
        match self {
            CompiledValue::Literal(s) => parse_bool(s),
            CompiledValue::Expr(_) => {
                let v = self.eval(x)?;
                if let Ok(b) = v.as_bool() {
                    return Ok(b);
                }
                match v.into_immutable_string() {
                    Ok(s) => parse_bool(&s),
                    Err(t) => Err(expression_failure(format!(
                        "the expression must give a Boolean, not {t}"
                    ))),
                }
            }
        }
    }

    /// As a whole number.
    pub fn eval_int(&self, x: &Exchange) -> Result<i64, PolicyError> {
        let v = match self {
            CompiledValue::Literal(s) => {
                return s
                    .trim()
                    .parse()
                    .map_err(|_| expression_failure(format!("`{s}` is not a whole number")));
            }
            CompiledValue::Expr(_) => self.eval(x)?,
        };
        if let Ok(n) = v.as_int() {
            return Ok(n);
        }
        let text = sluice_stdlib::eval::display(&x.engine, v)
            .map_err(|f| failure(&f))?
            .unwrap_or_default();
        text.trim()
            .parse()
            .map_err(|_| expression_failure(format!("`{text}` is not a whole number")))
    }

    pub fn is_literal(&self) -> bool {
        matches!(self, CompiledValue::Literal(_))
    }
}

fn parse_bool(s: &str) -> Result<bool, PolicyError> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if t.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(expression_failure(format!("`{s}` is not a Boolean")))
    }
}

/// `ExpressionValueEvaluationFailure` with a message.
pub(super) fn expression_failure(message: String) -> PolicyError {
    PolicyError::new(
        "",
        Reason::ExpressionValueEvaluationFailure,
        500,
        format!("Expression evaluation failed. {message}"),
    )
}

fn failure(f: &sluice_stdlib::eval::Failure) -> PolicyError {
    let message = if f.exception == "Sandbox" {
        f.message.clone()
    } else {
        format!("{}: {}", f.exception, f.message)
    };
    expression_failure(message)
}
