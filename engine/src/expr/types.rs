//! Types, and the look-ahead that tells a type from an expression.
//!
//! - generic or less-than: after `name<...>` a `(`, `)`, `.`, `,`, `;`, `?`,
//!   `]` (and the other tokens C# lists) means type arguments;
//! - cast or parentheses: `(T)x` is a cast when `T` can only be a type
//!   (`int`, `int?`, `string[]`) and an operand follows, or when an
//!   identifier, literal, `(`, `!`, `~` or keyword follows; `(a) - b` is not;
//! - `?` after a type is nullable unless an expression follows (`x is int ? a : b`).

use super::ast::*;
use super::lexer::{PREDEFINED_TYPES, Tok};
use super::parser::{PResult, Parser};

/// Whether a token can begin an expression.
pub fn starts_expr(t: &Tok) -> bool {
    match t {
        Tok::Ident(_)
        | Tok::Int { .. }
        | Tok::Real { .. }
        | Tok::Str(_)
        | Tok::Char(_)
        | Tok::Interp(_)
        | Tok::NamedValue(_) => true,
        Tok::Punct(p) => matches!(*p, "(" | "!" | "~" | "+" | "-" | "++" | "--"),
        Tok::Keyword(k) => {
            matches!(
                *k,
                "new"
                    | "this"
                    | "base"
                    | "true"
                    | "false"
                    | "null"
                    | "typeof"
                    | "default"
                    | "checked"
                    | "unchecked"
                    | "throw"
            ) || PREDEFINED_TYPES.contains(k)
        }
        Tok::Eof => false,
    }
}

impl<'a> Parser<'a> {
    /// A type where only a type may stand (`typeof`, `new`, parameters).
    pub fn ty(&mut self) -> PResult<Type> {
        self.ty_mode(true)
    }

    /// A type after `is` or `as`, where `?` may start a conditional.
    pub fn ty_in_expr(&mut self) -> PResult<Type> {
        self.ty_mode(false)
    }

    /// A type here, or `None` with the position unchanged. With `decl`, `T? name` is nullable.
    pub fn try_type(&mut self, decl: bool) -> Option<Type> {
        let (from, depth, chain) = (self.pos, self.depth, self.chain);
        match self.ty_mode(decl) {
            Ok(t) => Some(t),
            Err(_) => {
                self.pos = from;
                self.depth = depth;
                self.chain = chain;
                None
            }
        }
    }

    fn ty_mode(&mut self, nullable_before_ident: bool) -> PResult<Type> {
        self.enter()?;
        let r = self.ty_inner(nullable_before_ident);
        self.leave();
        r
    }

    fn ty_inner(&mut self, nullable_before_ident: bool) -> PResult<Type> {
        let from = self.pos;
        let mut ty = self.core_type()?;
        if self.at_punct("?") {
            let next = self.peek_n(1);
            let nullable =
                !starts_expr(next) || (nullable_before_ident && matches!(next, Tok::Ident(_)));
            if nullable {
                self.bump();
                ty = Type {
                    kind: TypeKind::Nullable(Box::new(ty)),
                    span: self.span_from(from),
                };
            }
        }
        self.rank_specifiers(ty, from)
    }

    /// Wraps `element` in each `[]`/`[,]` that follows.
    pub fn rank_specifiers(&mut self, mut ty: Type, from: usize) -> PResult<Type> {
        while self.at_punct("[") && (self.punct_at(1, "]") || self.punct_at(1, ",")) {
            self.link()?;
            self.bump();
            let mut rank = 1;
            while self.eat_punct(",") {
                rank += 1;
            }
            self.expect_punct("]")?;
            ty = Type {
                kind: TypeKind::Array {
                    element: Box::new(ty),
                    rank,
                },
                span: self.span_from(from),
            };
        }
        Ok(ty)
    }

    /// A predefined or (qualified, generic) named type, with no `?` or `[]`.
    pub fn core_type(&mut self) -> PResult<Type> {
        let from = self.pos;
        if let Tok::Keyword(k) = self.peek() {
            if PREDEFINED_TYPES.contains(k) {
                self.bump();
                return Ok(Type {
                    kind: TypeKind::Predefined((*k).to_owned()),
                    span: self.span_from(from),
                });
            }
            return Err(self.expected("a type"));
        }
        let mut segments = Vec::new();
        loop {
            let name = self.ident().map_err(|_| self.expected("a type"))?;
            let args = if self.at_punct("<") {
                self.type_args()?
            } else {
                Vec::new()
            };
            segments.push(TypeSegment { name, args });
            if !(self.at_punct(".") || self.at_punct("::"))
                || !matches!(self.peek_n(1), Tok::Ident(_))
            {
                break;
            }
            self.bump();
        }
        Ok(Type {
            kind: TypeKind::Named(segments),
            span: self.span_from(from),
        })
    }

    /// `<T, U>`
    fn type_args(&mut self) -> PResult<Vec<Type>> {
        self.expect_punct("<")?;
        let mut args = vec![self.ty()?];
        while self.eat_punct(",") {
            args.push(self.ty()?);
        }
        self.expect_punct(">")?;
        Ok(args)
    }

    /// Type arguments after a name in an expression, if C# would read them so.
    pub fn try_type_args(&mut self) -> Option<Vec<Type>> {
        if !self.at_punct("<") {
            return None;
        }
        let (from, depth, chain) = (self.pos, self.depth, self.chain);
        let args = self.type_args().ok();
        let follows = match self.peek() {
            Tok::Punct(p) => matches!(
                *p,
                "(" | ")"
                    | "]"
                    | "}"
                    | ":"
                    | ";"
                    | ","
                    | "."
                    | "?"
                    | "?."
                    | "=="
                    | "!="
                    | "|"
                    | "^"
                    | "&&"
                    | "||"
                    | "&"
                    | "["
            ),
            Tok::Eof => true,
            _ => false,
        };
        match args {
            Some(args) if follows => Some(args),
            _ => {
                self.pos = from;
                self.depth = depth;
                self.chain = chain;
                None
            }
        }
    }

    /// At `(`: a cast's type, consuming `(T)`, or `None` with the position unchanged.
    pub fn try_cast(&mut self) -> Option<Type> {
        if !self.at_punct("(") {
            return None;
        }
        let from = self.pos;
        self.bump();
        let ty = self.try_type(false);
        let cast = match ty {
            Some(ty) if self.at_punct(")") => {
                self.bump();
                let next = self.peek();
                let definite = matches!(
                    ty.kind,
                    TypeKind::Predefined(_) | TypeKind::Nullable(_) | TypeKind::Array { .. }
                );
                let ok = if definite {
                    starts_expr(next)
                } else {
                    match next {
                        Tok::Ident(_)
                        | Tok::Int { .. }
                        | Tok::Real { .. }
                        | Tok::Str(_)
                        | Tok::Char(_)
                        | Tok::Interp(_)
                        | Tok::NamedValue(_) => true,
                        Tok::Punct(p) => matches!(*p, "(" | "~" | "!"),
                        Tok::Keyword(k) => !matches!(*k, "as" | "is"),
                        Tok::Eof => false,
                    }
                };
                ok.then_some(ty)
            }
            _ => None,
        };
        if cast.is_none() {
            self.pos = from;
        }
        cast
    }
}
