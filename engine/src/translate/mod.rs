//! C# policy expressions to rhai source, once, at load.
//!
//! - `mod.rs`: the entry points and the translator's state (scopes of locals
//!   with what is known of their static type)
//! - `expr.rs`: expressions; `stmt.rs`: statements of `@{...}` blocks
//! - `names.rs`: type aliases, namespaces, reserved words, named parameters
//! - `emit.rs`: the output buffer and the position map back to the policy file
//!
//! The generated code calls the .NET surface of `sluice-stdlib` following
//! the conventions documented at the top of that crate (`T__M` statics,
//! `T__new` constructors, generic arguments as leading strings, `M__out`
//! for `out` parameters, `__cast`/`__conv`/`__is`/`__as`, `__add`/`__eq`
//! where .NET and rhai operators differ). `context` is a variable the
//! evaluator puts in scope.

mod emit;
mod expr;
mod names;
mod stmt;

use std::collections::HashMap;

pub use emit::PositionMap;

use crate::expr::ExprError;
use crate::expr::ast::{Block, Expr};
use crate::source::Span;
use emit::Emitter;

/// Generated rhai code and where each part of it came from.
#[derive(Clone, Debug)]
pub struct Translation {
    pub code: String,
    pub map: PositionMap,
    /// The span of the whole expression in the policy file.
    pub span: Span,
    /// Every .NET member the code calls, for checking against what the
    /// library registers.
    pub members: Vec<MemberRef>,
}

/// A use of a .NET member in generated code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRef {
    pub kind: MemberKind,
    /// The rhai function name (`Convert__ToBase64String`, `ToUpper`, `get$Length`).
    pub rhai_name: String,
    /// How C# wrote it (`Convert.ToBase64String`, `.ToUpper()`, `.Length`).
    pub display: String,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberKind {
    /// `T.M(...)`, `T.P`, `new T(...)`: the type and member must exist.
    Static,
    /// `x.M(...)` on a value whose type is not known until run time.
    Method,
    /// `x.P`.
    Property,
}

/// The name under which the evaluator provides `context`.
pub const CONTEXT: &str = "context";

/// What the translator knows of a value's static type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Int,
    Float,
    Str,
    Bool,
    Char,
    Unknown,
}

impl Ty {
    fn numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Float | Ty::Char)
    }
}

pub(crate) struct Translator {
    e: Emitter,
    scopes: Vec<HashMap<String, Ty>>,
    members: Vec<MemberRef>,
    /// How many lambdas the translation is inside: there, `context` is
    /// `context__current()`, not the variable (which a closure would
    /// capture: `sluice_stdlib::context::Current` says why not).
    lambdas: usize,
}

fn unsupported(what: &str, span: Span) -> ExprError {
    ExprError {
        message: format!("{what} is not supported in policy expressions"),
        span,
    }
}

impl Translator {
    fn new() -> Self {
        let mut root = HashMap::new();
        root.insert(CONTEXT.to_owned(), Ty::Unknown);
        Self {
            e: Emitter::new(),
            scopes: vec![root],
            members: Vec::new(),
            lambdas: 0,
        }
    }

    /// Whether `name` is the evaluator's `context` (not a local of that name).
    fn is_context(&self, name: &str) -> bool {
        name == CONTEXT
            && self
                .scopes
                .iter()
                .rposition(|s| s.contains_key(name))
                .is_some_and(|i| i == 0)
    }

    fn local_ty(&self, name: &str) -> Option<Ty> {
        self.scopes.iter().rev().find_map(|s| s.get(name).copied())
    }

    fn declare(&mut self, name: &str, ty: Ty) {
        if let Some(s) = self.scopes.last_mut() {
            s.insert(name.to_owned(), ty);
        }
    }

    fn push_scope(&mut self) {
        self.scopes.push(HashMap::new());
    }

    fn pop_scope(&mut self) {
        self.scopes.pop();
    }

    fn finish(self, span: Span) -> Translation {
        Translation {
            code: self.e.out,
            map: self.e.map,
            span,
            members: self.members,
        }
    }

    fn member(&mut self, kind: MemberKind, rhai_name: String, display: String, span: Span) {
        self.members.push(MemberRef {
            kind,
            rhai_name,
            display,
            span,
        });
    }
}

/// Translates the body of `@(...)`.
pub fn translate_expression(e: &Expr) -> Result<Translation, ExprError> {
    let mut t = Translator::new();
    t.hoist(std::slice::from_ref(e));
    t.expr(e)?;
    Ok(t.finish(e.span))
}

/// Translates the statements of `@{...}`.
pub fn translate_block(b: &Block) -> Result<Translation, ExprError> {
    let mut t = Translator::new();
    t.statements(&b.stmts)?;
    Ok(t.finish(b.span))
}

#[cfg(test)]
mod tests;
