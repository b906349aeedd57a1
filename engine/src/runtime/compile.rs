//! From validated policy elements to stages.
//!
//! A policy compiles through its built-in's compile function (the table of
//! the `policies` crate, reached through [`StageFactory`]), which reads its
//! attributes with [`CompileCx::required`] and [`CompileCx::optional`]:
//! both return `Err(Reported)` once a problem is in the diagnostics, so an
//! absent optional attribute (`Ok(None)`) is never mistaken for an error,
//! and a policy with an error never silently drops out of its pipeline.

use std::sync::Arc;

use super::Stage;
use super::exec::{Block, Entry};
use super::typemap::Resources;
use super::value::CompiledValue;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::doc::{Fragments, Statement};
use crate::schema::{Scope, Section};
use crate::script::Compiler;
use crate::source::{Source, Span};
use crate::value::{NamedValues, Value, resolve};
use crate::xml::{Element, Text};

/// A policy (or one of its values) did not compile; why is in the
/// diagnostics of the [`CompileCx`] it was compiled with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reported;

/// What a built-in's compile function returns.
pub type Compiled<T = Box<dyn Stage>> = Result<T, Reported>;

/// How a policy uses message bodies, for the plan's decision to stream
/// them ([`Bodies::default`]: it uses none). A built-in declares it; the
/// plan adds what its expressions mention.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bodies {
    /// Reads or rewrites the body of the message of its section: the
    /// request in inbound and backend, the response in outbound.
    pub own: bool,
    /// Reads the request body wherever it stands.
    pub request: bool,
    /// Sends the request body on (`forward-request`): a streamed body can
    /// be sent only once.
    pub sends_request: bool,
    /// Sends it again on each call (`buffer-request-body`).
    pub resends_request: bool,
    /// Runs its child policies more than once (`retry`).
    pub repeats: bool,
}

impl Bodies {
    pub const NONE: Bodies = Bodies {
        own: false,
        request: false,
        sends_request: false,
        resends_request: false,
        repeats: false,
    };
    pub const OWN: Bodies = Bodies {
        own: true,
        ..Bodies::NONE
    };
    pub const REQUEST: Bodies = Bodies {
        request: true,
        ..Bodies::NONE
    };
    pub const REPEATS: Bodies = Bodies {
        repeats: true,
        ..Bodies::NONE
    };
}

/// Compiles one policy element into a stage: the table of built-ins of the
/// `policies` crate implements it.
pub trait StageFactory: Sync {
    /// The stage of `e`; `Err` once its problems are reported in `cx`.
    fn compile(&self, e: &Element, cx: &mut CompileCx<'_>) -> Compiled;
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
    /// What outlives the plan (caches, counters, backends, metrics), by type.
    pub resources: &'a Resources,
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

    /// Reports an error and returns what a compile function returns for it.
    pub fn fail<T>(&mut self, code: Code, span: Span, msg: impl Into<String>) -> Compiled<T> {
        self.error(code, span, msg);
        Err(Reported)
    }

    /// A value: named values substituted, then a literal or a compiled expression.
    pub fn value(&mut self, raw: &Text) -> Compiled<CompiledValue> {
        let (v, missing) = resolve(raw, self.named);
        if let Some(m) = missing.first() {
            return self.fail(
                Code::UnknownNamedValue,
                m.span,
                format!("unknown named value `{}`", m.name),
            );
        }
        match v {
            Value::Literal(t) => Ok(CompiledValue::Literal(t.value)),
            v => match self.compiler.compile_shared(&v) {
                Ok(Some(c)) => Ok(CompiledValue::Expr(c)),
                Ok(None) => Ok(CompiledValue::Literal(v.text().value.clone())),
                Err(errors) => {
                    for (_, e) in errors {
                        self.error(Code::ExpressionUnsupported, e.span, e.message);
                    }
                    Err(Reported)
                }
            },
        }
    }

    /// An attribute the policy cannot do without: its value, or an error
    /// (validation reports a missing required attribute first; this keeps a
    /// policy compiled without validation from running half-configured).
    pub fn required(&mut self, e: &Element, name: &str) -> Compiled<CompiledValue> {
        match e.attr(name) {
            Some(a) => {
                let raw = a.value.clone();
                self.value(&raw)
            }
            None => self.fail(
                Code::MissingAttribute,
                e.span,
                format!("`<{}>` needs the attribute `{name}`", e.name),
            ),
        }
    }

    /// An attribute that may be absent: `Ok(None)` when it is.
    pub fn optional(&mut self, e: &Element, name: &str) -> Compiled<Option<CompiledValue>> {
        match e.attr(name) {
            Some(a) => {
                let raw = a.value.clone();
                self.value(&raw).map(Some)
            }
            None => Ok(None),
        }
    }

    /// An attribute's literal text, trimmed (for attributes that take no
    /// expression), its named values substituted as APIM substitutes them
    /// in every attribute (left as written when one has no value).
    pub fn literal(&self, e: &Element, name: &str) -> Option<String> {
        e.attr(name).map(|a| match resolve(&a.value, self.named) {
            (Value::Literal(t), missing) if missing.is_empty() => t.value.trim().to_owned(),
            _ => a.value.value.trim().to_owned(),
        })
    }

    /// [`CompileCx::literal`] of an attribute the policy cannot do without.
    pub fn required_literal(&mut self, e: &Element, name: &str) -> Compiled<String> {
        match self.literal(e, name) {
            Some(v) => Ok(v),
            None => self.fail(
                Code::MissingAttribute,
                e.span,
                format!("`<{}>` needs the attribute `{name}`", e.name),
            ),
        }
    }

    /// The element's text as a value (trimmed when literal).
    pub fn text(&mut self, e: &Element) -> Compiled<CompiledValue> {
        let t = e.text();
        self.value(&t)
    }

    /// The shared handle of type `T` (a resource family's), or an error on
    /// `e` when the gateway has none.
    pub fn resource<T: std::any::Any + Send + Sync>(&mut self, e: &Element) -> Compiled<Arc<T>> {
        match self.resources.get::<T>() {
            Some(r) => Ok(r),
            None => self.fail(
                Code::ConfigReference,
                e.span,
                format!(
                    "`<{}>` needs a resource this gateway does not have ({})",
                    e.name,
                    std::any::type_name::<T>()
                ),
            ),
        }
    }

    /// Nested policy statements (the body of `when`, `retry`, ...), with
    /// `include-fragment` replaced by the fragment's policies. A child that
    /// does not compile is reported and left out; the caller's policy
    /// fails when any did.
    pub fn block<'e>(&mut self, elements: impl Iterator<Item = &'e Element>) -> Compiled<Block> {
        let mut out = Vec::new();
        let mut ok = true;
        for e in elements {
            ok &= self.statement(e, &mut out).is_ok();
        }
        if ok { Ok(Block(out)) } else { Err(Reported) }
    }

    /// Compiles one statement into `out`.
    pub fn statement(&mut self, e: &Element, out: &mut Vec<Entry>) -> Compiled<()> {
        if e.name == "include-fragment" {
            let id = e
                .attr("fragment-id")
                .map(|a| a.value.value.trim().to_owned())
                .unwrap_or_default();
            let Some(frag) = self.fragments.get(&id) else {
                return self.fail(
                    Code::UnknownFragment,
                    e.span,
                    format!("unknown fragment `{id}`"),
                );
            };
            let frag_source = Arc::clone(&frag.source);
            let saved = std::mem::replace(&mut self.source, frag_source);
            let mut ok = true;
            for st in &frag.body {
                if let Statement::Policy(fe) = st {
                    ok &= self.statement(fe, out).is_ok();
                }
            }
            self.source = saved;
            return if ok { Ok(()) } else { Err(Reported) };
        }
        let stage = self.factory.compile(e, self)?;
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
        Ok(())
    }
}

/// What compiling every pipeline of a plan shares.
#[derive(Clone, Copy)]
pub struct PipelineCx<'a> {
    pub compiler: &'a Compiler<'a>,
    pub named: &'a NamedValues,
    pub fragments: &'a Fragments,
    pub factory: &'a dyn StageFactory,
    pub resources: &'a Resources,
    /// The API whose pipeline it is, if any.
    pub api: Option<&'a str>,
}

/// Compiles an effective policy into a pipeline, every section and
/// statement of it; its problems go to `diags`. The body-streaming flags
/// stay off (buffered): the gateway's plan sets them.
pub fn compile_pipeline(
    eff: &crate::compose::Effective,
    p: &PipelineCx<'_>,
    diags: &mut Diagnostics,
) -> super::Pipeline {
    let mut pipeline = super::Pipeline::default();
    for section in Section::ALL {
        let mut entries = Vec::new();
        for st in eff.section(section) {
            let mut cx = CompileCx {
                source: Arc::clone(&st.source),
                section,
                scope: st.scope,
                compiler: p.compiler,
                named: p.named,
                fragments: p.fragments,
                factory: p.factory,
                resources: p.resources,
                diags: Diagnostics::new(),
                api: p.api,
            };
            // A statement that does not compile is reported; the caller
            // refuses the plan when `diags` has errors.
            let _ = cx.statement(&st.element, &mut entries);
            diags.extend(cx.diags);
        }
        let block = Block(entries);
        match section {
            Section::Inbound => pipeline.inbound = block,
            Section::Backend => pipeline.backend = block,
            Section::Outbound => pipeline.outbound = block,
            Section::OnError => pipeline.on_error = block,
        }
    }
    pipeline
}
