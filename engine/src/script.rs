//! Policy expressions compiled once, at load: parse the C#, translate it,
//! check every .NET member it uses against what the library registers, and
//! compile the rhai. Errors point at the policy file.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rhai::{Engine, Scope};

use crate::expr::{ExprError, parse_block, parse_expression};
use crate::source::Span;
use crate::translate::{
    CONTEXT, MemberKind, PositionMap, Translation, translate_block, translate_expression,
};
use crate::value::Value;

/// Which step refused an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
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
    /// Whether its evaluations have lately run long: those then run off
    /// the worker thread (`Services::offload`).
    pub cost: Cost,
}

/// An evaluation longer than this is long: the expression's next
/// evaluations are offloaded (`Services::offload`), so that a worker's other
/// connections wait behind at most one long evaluation of it.
pub const LONG_EVALUATION: Duration = Duration::from_millis(2);

/// How long an expression stays long after its last long evaluation: its
/// evaluations are offloaded until it has run short for this long (one
/// that is long only for some inputs keeps being offloaded while those
/// inputs come).
pub const LONG_FOR: Duration = Duration::from_secs(30);

/// When an expression last ran long, in milliseconds since the process's
/// first evaluation (0: never). One relaxed load per evaluation.
#[derive(Debug, Default)]
pub struct Cost(AtomicU64);

impl Clone for Cost {
    fn clone(&self) -> Self {
        Self(AtomicU64::new(self.0.load(Ordering::Relaxed)))
    }
}

/// The clock [`Cost`] counts on.
fn since_start() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl Cost {
    /// Whether the expression ran long within the last [`LONG_FOR`].
    pub fn is_long(&self) -> bool {
        let at = self.0.load(Ordering::Relaxed);
        at != 0 && u128::from(since_start().saturating_sub(at)) < LONG_FOR.as_millis()
    }

    /// Records an evaluation that took `took`.
    pub fn record(&self, took: Duration) {
        if took >= LONG_EVALUATION {
            self.0.store(since_start(), Ordering::Relaxed);
        }
    }
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

/// An expression's place, text and position map: the same text at the same
/// place, mapped the same way, compiles to the same thing (errors included).
type MemoKey = (usize, usize, bool, String, Vec<(usize, usize)>);

/// Problems of one expression, each with the step that found it.
pub type Problems = Vec<(Step, ExprError)>;

/// What compiling one expression gave (`None`: a literal, nothing to compile).
pub type Shared = Result<Option<Arc<Compiled>>, Problems>;

/// Compiles expressions against one engine (the sandboxed one with the .NET
/// library). [`Compiler::compile_shared`] compiles each expression once:
/// validation compiles it, and every pipeline that contains it (a policy
/// runs in one pipeline per operation and product) shares that compilation.
pub struct Compiler<'e> {
    engine: &'e Engine,
    known: HashSet<String>,
    memo: Mutex<HashMap<MemoKey, Shared>>,
    /// How many times an expression was compiled.
    compilations: AtomicUsize,
}

impl<'e> Compiler<'e> {
    pub fn new(engine: &'e Engine) -> Self {
        let known = engine
            .gen_fn_signatures(false)
            .into_iter()
            .filter_map(|sig| sig.split('(').next().map(|n| n.trim().to_owned()))
            .collect();
        Self {
            engine,
            known,
            memo: Mutex::new(HashMap::new()),
            compilations: AtomicUsize::new(0),
        }
    }

    /// [`Compiler::compile`], once per expression (by its place and text):
    /// a second call for the same expression shares the first's result.
    pub fn compile_shared(&self, value: &Value) -> Shared {
        let (t, block) = match value {
            Value::Expression(t) => (t, false),
            Value::Block(t) => (t, true),
            Value::Literal(_) | Value::Unresolved(_) => return Ok(None),
        };
        let key = (
            t.span.start,
            t.span.end,
            block,
            t.value.clone(),
            t.offsets().to_vec(),
        );
        let mut memo = match self.memo.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        memo.entry(key)
            .or_insert_with(|| self.compile(value).map(|c| c.map(Arc::new)))
            .clone()
    }

    /// How many times this compiler compiled an expression.
    pub fn compilations(&self) -> usize {
        self.compilations.load(Ordering::Relaxed)
    }

    /// Parses and translates an expression value (not yet compiled).
    pub fn translate(value: &Value) -> Result<Option<Translation>, (Step, ExprError)> {
        Ok(Self::translate_with_fast(value)?.map(|(t, _)| t))
    }

    /// [`Compiler::translate`], with the native form of an expression.
    #[allow(clippy::type_complexity)]
    fn translate_with_fast(
        value: &Value,
    ) -> Result<Option<(Translation, Option<sluice_stdlib::fast::Fast>)>, (Step, ExprError)> {
        let unsupported = |e| (Step::Unsupported, e);
        match value {
            Value::Expression(t) => {
                let ast = parse_expression(t).map_err(|e| (Step::Syntax, e))?;
                let t = translate_expression(&ast).map_err(unsupported)?;
                Ok(Some((t, crate::fast::compile(&ast))))
            }
            Value::Block(t) => {
                let ast = parse_block(t).map_err(|e| (Step::Syntax, e))?;
                let t = translate_block(&ast).map_err(unsupported)?;
                Ok(Some((t, None)))
            }
            Value::Literal(_) | Value::Unresolved(_) => Ok(None),
        }
    }

    /// Every problem of one expression: C# syntax, unsupported constructs,
    /// members the library does not have, rhai compile errors.
    pub fn compile(&self, value: &Value) -> Result<Option<Compiled>, Problems> {
        self.compilations.fetch_add(1, Ordering::Relaxed);
        let Some((t, fast)) = Self::translate_with_fast(value).map_err(|e| vec![e])? else {
            return Ok(None);
        };
        let missing = self.unsupported_members(&t);
        if !missing.is_empty() {
            return Err(missing
                .into_iter()
                .map(|e| (Step::Unsupported, e))
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
                cost: Cost::default(),
            })),
            Err(e) => {
                let pos = e.1;
                let span = match (pos.line(), pos.position()) {
                    (Some(l), Some(c)) => t.map.lookup(l, c).unwrap_or(t.span),
                    _ => t.span,
                };
                Err(vec![(
                    Step::Compile,
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
