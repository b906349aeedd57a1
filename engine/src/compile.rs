//! Policy expressions compiled once, at load: parse the C#, translate it,
//! check every .NET member it uses against what the library registers, and
//! compile the rhai. Errors point at the policy file.

use std::collections::HashSet;

use rhai::{Engine, Scope};

use crate::doc::value::Value;
use crate::expr::{ExprError, parse_block, parse_expression};
use crate::source::Span;
use crate::translate::{
    CONTEXT, MemberKind, PositionMap, Translation, translate_block, translate_expression,
};

/// Which step refused an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Not valid C#.
    Syntax,
    /// Valid C# that Sluice does not run: a construct, type or member.
    Unsupported,
    /// The generated rhai did not compile (a translator fault).
    Compile,
}

/// A compiled expression, ready to evaluate with `context` in scope.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub ast: rhai::AST,
    pub map: PositionMap,
    pub span: Span,
    /// The generated rhai, kept for diagnostics and review.
    pub code: String,
    /// The native form, when the expression has one ([`crate::fast`]):
    /// evaluated first, rhai only when it declines.
    pub fast: Option<sluice_stdlib::fast::Fast>,
}

impl Compiled {
    /// The policy span of a rhai position (of a runtime error).
    pub fn locate(&self, pos: rhai::Position) -> Span {
        match (pos.line(), pos.position()) {
            (Some(l), Some(c)) => self.map.lookup(l, c).unwrap_or(self.span),
            (Some(l), None) => self.map.lookup(l, 1).unwrap_or(self.span),
            _ => self.span,
        }
    }
}

/// Compiles expressions against one engine (the sandboxed one with the .NET library).
pub struct Compiler<'e> {
    engine: &'e Engine,
    known: HashSet<String>,
}

impl<'e> Compiler<'e> {
    pub fn new(engine: &'e Engine) -> Self {
        let known = engine
            .gen_fn_signatures(false)
            .into_iter()
            .filter_map(|sig| sig.split('(').next().map(|n| n.trim().to_owned()))
            .collect();
        Self { engine, known }
    }

    /// Parses and translates an expression value (not yet compiled).
    pub fn translate(value: &Value) -> Result<Option<Translation>, (Stage, ExprError)> {
        Ok(Self::translate_with_fast(value)?.map(|(t, _)| t))
    }

    /// [`Compiler::translate`], with the native form of an expression.
    #[allow(clippy::type_complexity)]
    fn translate_with_fast(
        value: &Value,
    ) -> Result<Option<(Translation, Option<sluice_stdlib::fast::Fast>)>, (Stage, ExprError)> {
        let unsupported = |e| (Stage::Unsupported, e);
        match value {
            Value::Expression(t) => {
                let ast = parse_expression(t).map_err(|e| (Stage::Syntax, e))?;
                let t = translate_expression(&ast).map_err(unsupported)?;
                Ok(Some((t, crate::fast::compile(&ast))))
            }
            Value::Block(t) => {
                let ast = parse_block(t).map_err(|e| (Stage::Syntax, e))?;
                let t = translate_block(&ast).map_err(unsupported)?;
                Ok(Some((t, None)))
            }
            Value::Literal(_) | Value::Unresolved(_) => Ok(None),
        }
    }

    /// Every problem of one expression: C# syntax, unsupported constructs,
    /// members the library does not have, rhai compile errors.
    pub fn compile(&self, value: &Value) -> Result<Option<Compiled>, Vec<(Stage, ExprError)>> {
        let Some((t, fast)) = Self::translate_with_fast(value).map_err(|e| vec![e])? else {
            return Ok(None);
        };
        let missing = self.unsupported_members(&t);
        if !missing.is_empty() {
            return Err(missing
                .into_iter()
                .map(|e| (Stage::Unsupported, e))
                .collect());
        }
        let mut scope = Scope::new();
        scope.push(CONTEXT, ());
        match self.engine.compile_with_scope(&scope, &t.code) {
            Ok(ast) => Ok(Some(Compiled {
                ast,
                map: t.map,
                span: t.span,
                code: t.code,
                fast,
            })),
            Err(e) => {
                let pos = e.1;
                let span = match (pos.line(), pos.position()) {
                    (Some(l), Some(c)) => t.map.lookup(l, c).unwrap_or(t.span),
                    _ => t.span,
                };
                Err(vec![(
                    Stage::Compile,
                    ExprError {
                        message: format!("cannot compile this expression: {}", e.0),
                        span,
                    },
                )])
            }
        }
    }

    fn unsupported_members(&self, t: &Translation) -> Vec<ExprError> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for m in &t.members {
            if self.known.contains(&m.rhai_name) || !seen.insert((m.rhai_name.clone(), m.span)) {
                continue;
            }
            let message = match m.kind {
                MemberKind::Static => {
                    let ty = m.rhai_name.split("__").next().unwrap_or_default();
                    if self.known.iter().any(|k| k.starts_with(&format!("{ty}__"))) {
                        format!("`{}` is not supported", m.display)
                    } else {
                        format!("the type `{ty}` is not supported")
                    }
                }
                MemberKind::Method => {
                    format!("the method `{}` is not supported on any type", m.display)
                }
                MemberKind::Property => {
                    format!("the property `{}` is not supported on any type", m.display)
                }
            };
            out.push(ExprError {
                message,
                span: m.span,
            });
        }
        out
    }
}
