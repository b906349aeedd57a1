//! From validated policy elements to stages.

use std::sync::Arc;

use super::Stage;
use super::exec::{Block, Entry};
use super::value::CompiledValue;
use crate::compile::Compiler;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::doc::value::{NamedValues, Value, resolve};
use crate::doc::{Fragments, Statement};
use crate::schema::{Scope, Section};
use crate::source::{Source, Span};
use crate::xml::{Element, Text};

/// Compiles one policy element into a stage: the registration table of the
/// `policies` crate implements it.
pub trait StageFactory: Sync {
    /// `None` when the policy reported diagnostics (or has no stage).
    fn compile(&self, e: &Element, cx: &mut CompileCx<'_>) -> Option<Box<dyn Stage>>;
}

/// What compiling a policy needs, and where its diagnostics go.
pub struct CompileCx<'a> {
    pub source: Arc<Source>,
    pub section: Section,
    pub scope: Scope,
    pub compiler: &'a Compiler<'a>,
    pub named: &'a NamedValues,
    pub fragments: &'a Fragments,
    pub factory: &'a dyn StageFactory,
    pub diags: Diagnostics,
    /// The API whose pipeline this is (a gateway plan compiles one per
    /// operation), for stages that count by API; `None` elsewhere.
    pub api: Option<&'a str>,
}

impl CompileCx<'_> {
    pub fn error(&mut self, code: Code, span: Span, msg: impl Into<String>) {
        let d = Diagnostic::new(code, &self.source, span, msg);
        self.diags.push(d);
    }

    /// A value: named values substituted, then a literal or a compiled expression.
    pub fn value(&mut self, raw: &Text) -> Option<CompiledValue> {
        let (v, missing) = resolve(raw, self.named);
        if let Some(m) = missing.first() {
            self.error(
                Code::UnknownNamedValue,
                m.span,
                format!("unknown named value `{}`", m.name),
            );
            return None;
        }
        match v {
            Value::Literal(t) => Some(CompiledValue::Literal(t.value)),
            v => match self.compiler.compile(&v) {
                Ok(Some(c)) => Some(CompiledValue::Expr(Arc::new(c))),
                Ok(None) => Some(CompiledValue::Literal(v.text().value.clone())),
                Err(errors) => {
                    for (_, e) in errors {
                        self.error(Code::ExpressionUnsupported, e.span, e.message);
                    }
                    None
                }
            },
        }
    }

    /// An attribute's value, if the attribute is present.
    pub fn attr(&mut self, e: &Element, name: &str) -> Option<CompiledValue> {
        let a = e.attr(name)?;
        self.value(&a.value.clone())
    }

    /// An attribute's literal text (for attributes that take no expression).
    pub fn literal(&self, e: &Element, name: &str) -> Option<String> {
        e.attr(name).map(|a| a.value.value.trim().to_owned())
    }

    /// The element's text as a value (trimmed when literal).
    pub fn text(&mut self, e: &Element) -> Option<CompiledValue> {
        let t = e.text();
        self.value(&t)
    }

    /// Nested policy statements (the body of `when`, `retry`, ...), with
    /// `include-fragment` replaced by the fragment's policies.
    pub fn block<'e>(&mut self, elements: impl Iterator<Item = &'e Element>) -> Block {
        let mut out = Vec::new();
        for e in elements {
            self.statement(e, &mut out);
        }
        Block(out)
    }

    /// Compiles one statement into `out`.
    pub fn statement(&mut self, e: &Element, out: &mut Vec<Entry>) {
        if e.name == "include-fragment" {
            let id = e
                .attr("fragment-id")
                .map(|a| a.value.value.trim().to_owned())
                .unwrap_or_default();
            let Some(frag) = self.fragments.get(&id) else {
                self.error(
                    Code::UnknownFragment,
                    e.span,
                    format!("unknown fragment `{id}`"),
                );
                return;
            };
            let frag_source = Arc::clone(&frag.source);
            let saved = std::mem::replace(&mut self.source, frag_source);
            for st in &frag.body {
                if let Statement::Policy(fe) = st {
                    self.statement(fe, out);
                }
            }
            self.source = saved;
            return;
        }
        if let Some(stage) = self.factory.compile(e, self) {
            let label = format!("{}[{}]", e.name, out.len() + 1).into();
            out.push(Entry {
                stage,
                name: e.name.clone(),
                label,
                id: e
                    .attr("id")
                    .map(|a| a.value.value.clone())
                    .unwrap_or_default(),
                scope: self.scope,
            });
        }
    }
}
