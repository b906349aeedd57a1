//! `cache-lookup-value`, `cache-store-value` and `cache-remove-value`: the
//! value cache, by key (any text, usually an expression). A value keeps its
//! type when it is a string, a whole number, a number, a Boolean or null;
//! anything else is kept as its text. On a miss the variable gets
//! `default-value` when one is given and is left unset otherwise
//! (DECISIONS.md "Value cache miss"). Values live under `v:{key}`, apart
//! from the response cache's `r:` entries. A cache that cannot be reached
//! is a miss, and a store or removal that does nothing.

use std::sync::Arc;

use rhai::Dynamic;
use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, Flow, PolicyError, Reason, Run, Stage,
};
use sluice_engine::xml::Element;

use super::cache_lookup::caching_type;
use crate::cache::codec::Value;
use crate::cache::{Caches, CachingType};

fn value_key(key: &str) -> String {
    format!("v:{key}")
}

#[derive(Debug)]
struct LookupValue {
    caches: Arc<Caches>,
    caching_type: CachingType,
    key: CompiledValue,
    variable: String,
    default: Option<CompiledValue>,
}

pub(crate) fn compile_lookup(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(LookupValue {
        caches: cx.resource::<Caches>(e)?,
        caching_type: caching_type(cx, e),
        key: cx.required(e, "key")?,
        variable: cx.required_literal(e, "variable-name")?,
        default: cx.optional(e, "default-value")?,
    }))
}

fn to_dynamic(v: Value) -> Dynamic {
    match v {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from(b),
        Value::Int(n) => Dynamic::from(n),
        Value::Float(f) => Dynamic::from(f),
        Value::Text(s) => Dynamic::from(s),
    }
}

fn to_value(x: &Exchange, v: Dynamic) -> Result<Value, PolicyError> {
    if v.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(n) = v.as_int() {
        return Ok(Value::Int(n));
    }
    if let Ok(f) = v.as_float() {
        return Ok(Value::Float(f));
    }
    match sluice_stdlib::eval::display(&x.engine, v) {
        Ok(s) => Ok(s.map_or(Value::Null, Value::Text)),
        Err(f) => Err(PolicyError::new(
            "cache-store-value",
            Reason::ExpressionValueEvaluationFailure,
            500,
            format!("Expression evaluation failed. {}", f.message),
        )),
    }
}

impl Stage for LookupValue {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let key = match self.key.text(x) {
            Ok(k) => value_key(&k),
            Err(e) => return Run::fail(e),
        };
        Run::Later(Box::pin(async move {
            let found = match self.caches.resolve(self.caching_type) {
                Some(kind) => self.caches.get(kind, &key, x.now_ms()).await,
                None => None,
            };
            let value = match found.as_deref().and_then(Value::decode) {
                Some(v) => Some(to_dynamic(v)),
                None => match &self.default {
                    Some(d) => Some(d.eval(x)?),
                    None => None,
                },
            };
            if let Some(v) = value {
                x.ctx
                    .variables(|vars| vars.insert(self.variable.clone(), v));
            }
            Ok(Flow::Next)
        }))
    }
}

#[derive(Debug)]
struct StoreValue {
    caches: Arc<Caches>,
    caching_type: CachingType,
    key: CompiledValue,
    value: CompiledValue,
    duration: CompiledValue,
}

pub(crate) fn compile_store(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(StoreValue {
        caches: cx.resource::<Caches>(e)?,
        caching_type: caching_type(cx, e),
        key: cx.required(e, "key")?,
        value: cx.required(e, "value")?,
        duration: cx.required(e, "duration")?,
    }))
}

impl Stage for StoreValue {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let evaluated = (|| {
            let key = value_key(&self.key.text(x)?);
            let value = to_value(x, self.value.eval(x)?)?;
            let seconds = self.duration.eval_int(x)?;
            Ok::<_, PolicyError>((key, value, seconds))
        })();
        let (key, value, seconds) = match evaluated {
            Ok(v) => v,
            Err(e) => return Run::fail(e),
        };
        let Some(kind) = self.caches.resolve(self.caching_type) else {
            return Run::next();
        };
        Run::Later(Box::pin(async move {
            let now = x.now_ms();
            self.caches
                .set(
                    kind,
                    &key,
                    value.encode(),
                    seconds.saturating_mul(1000),
                    now,
                )
                .await;
            Ok(Flow::Next)
        }))
    }
}

#[derive(Debug)]
struct RemoveValue {
    caches: Arc<Caches>,
    caching_type: CachingType,
    key: CompiledValue,
}

pub(crate) fn compile_remove(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(RemoveValue {
        caches: cx.resource::<Caches>(e)?,
        caching_type: caching_type(cx, e),
        key: cx.required(e, "key")?,
    }))
}

impl Stage for RemoveValue {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let key = match self.key.text(x) {
            Ok(k) => value_key(&k),
            Err(e) => return Run::fail(e),
        };
        let Some(kind) = self.caches.resolve(self.caching_type) else {
            return Run::next();
        };
        Run::Later(Box::pin(async move {
            self.caches.remove(kind, &key, x.now_ms()).await;
            Ok(Flow::Next)
        }))
    }
}
