//! Primary expressions: literals, names, parentheses, interpolated strings,
//! `typeof`/`default`/`nameof`/`checked`, and the postfix chain after them
//! (`.`, `?.`, `?[]`, calls, indexers, `++`, `--`).

use super::ast::*;
use super::lexer::{Piece, Tok, Token};
use super::parser::{PResult, Parser};

impl<'a> Parser<'a> {
    pub fn nested_unary(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.unary();
        self.leave();
        r
    }

    // Debug builds give a function a frame slot for every temporary of every
    // match arm; the arms below are split into small functions so that each
    // nesting level of `expr -> .. -> atom` takes little stack.

    pub fn primary(&mut self) -> PResult<Expr> {
        let from = self.pos;
        let mut e = self.atom()?;
        loop {
            if !matches!(
                self.peek(),
                Tok::Punct("." | "?." | "?" | "(" | "[" | "++" | "--")
            ) {
                return Ok(e);
            }
            if self.at_punct("?") && !(self.punct_at(1, "[") && self.adjacent(0)) {
                return Ok(e);
            }
            self.link()?;
            let kind = self.postfix(Box::new(e))?;
            e = self.node(kind, from);
        }
    }

    /// The postfix operation at `.`, `?.`, `?[`, `(`, `[`, `++` or `--` applied to `e`.
    #[inline(never)]
    fn postfix(&mut self, e: Box<Expr>) -> PResult<ExprKind> {
        let t = self.cur();
        Ok(match &t.tok {
            Tok::Punct(p @ ("." | "?.")) => {
                self.bump();
                let name = self.ident()?;
                let args = self.try_type_args().unwrap_or_default();
                ExprKind::Member {
                    target: e,
                    name,
                    args,
                    conditional: *p == "?.",
                }
            }
            Tok::Punct("?") => {
                self.bump();
                ExprKind::Index {
                    target: e,
                    args: self.args("[", "]")?,
                    conditional: true,
                }
            }
            Tok::Punct("(") => ExprKind::Call {
                callee: e,
                args: self.args("(", ")")?,
            },
            Tok::Punct("[") => ExprKind::Index {
                target: e,
                args: self.args("[", "]")?,
                conditional: false,
            },
            Tok::Punct(p) => {
                self.bump();
                let op = if *p == "++" {
                    PostfixOp::Inc
                } else {
                    PostfixOp::Dec
                };
                ExprKind::Postfix { op, operand: e }
            }
            _ => return Err(self.expected("an operator")),
        })
    }

    fn atom(&mut self) -> PResult<Expr> {
        let from = self.pos;
        if let Some(kind) = self.simple_atom() {
            self.bump();
            return Ok(self.node(kind, from));
        }
        let kind = match self.peek() {
            Tok::Ident(n) if n == "nameof" && self.punct_at(1, "(") => self.keyword_atom()?,
            Tok::Ident(_) => self.name()?,
            Tok::Punct("(") => return self.parenthesized(),
            Tok::Keyword("new") => return self.new_expr(),
            Tok::Interp(_) => self.interpolated()?,
            Tok::Keyword("typeof" | "default" | "checked" | "unchecked") => self.keyword_atom()?,
            _ => return Err(self.expected("an expression")),
        };
        Ok(self.node(kind, from))
    }

    /// A literal, `this`, `base`, a named value or a predefined type: one token.
    #[inline(never)]
    fn simple_atom(&self) -> Option<ExprKind> {
        let lit = |l: Literal| Some(ExprKind::Literal(l));
        match self.peek() {
            Tok::Int { value, suffix } => lit(Literal::Int {
                value: *value,
                suffix: *suffix,
            }),
            Tok::Real { text, suffix } => lit(Literal::Real {
                text: text.clone(),
                suffix: *suffix,
            }),
            Tok::Str(s) => lit(Literal::String(s.clone())),
            Tok::Char(c) => lit(Literal::Char(*c)),
            Tok::Keyword("true") => lit(Literal::Bool(true)),
            Tok::Keyword("false") => lit(Literal::Bool(false)),
            Tok::Keyword("null") => lit(Literal::Null),
            Tok::Keyword("this") => Some(ExprKind::This),
            Tok::Keyword("base") => Some(ExprKind::Base),
            Tok::NamedValue(n) => Some(ExprKind::NamedValue(n.clone())),
            Tok::Keyword(k) if super::lexer::PREDEFINED_TYPES.contains(k) => {
                Some(ExprKind::PredefinedType((*k).to_owned()))
            }
            _ => None,
        }
    }

    #[inline(never)]
    fn name(&mut self) -> PResult<ExprKind> {
        let name = self.ident()?;
        let args = self.try_type_args().unwrap_or_default();
        Ok(ExprKind::Name { name, args })
    }

    #[inline(never)]
    fn parenthesized(&mut self) -> PResult<Expr> {
        let from = self.pos;
        self.expect_punct("(")?;
        let e = self.expr()?;
        self.expect_punct(")")?;
        Ok(Expr {
            kind: e.kind,
            span: self.span_from(from),
        })
    }

    #[inline(never)]
    fn interpolated(&mut self) -> PResult<ExprKind> {
        let t = self.bump();
        match &t.tok {
            Tok::Interp(pieces) => Ok(ExprKind::Interpolated(self.interpolation(pieces)?)),
            _ => Err(self.expected("a string")),
        }
    }

    /// `nameof(e)`, `typeof(T)`, `default(T)`, `default`, `checked(e)`, `unchecked(e)`.
    #[inline(never)]
    fn keyword_atom(&mut self) -> PResult<ExprKind> {
        let t = self.bump();
        let word = match &t.tok {
            Tok::Ident(n) => n.as_str(),
            Tok::Keyword(k) => k,
            _ => "",
        };
        if word == "default" && !self.at_punct("(") {
            return Ok(ExprKind::Default(None));
        }
        self.expect_punct("(")?;
        let kind = match word {
            "typeof" => ExprKind::TypeOf(self.ty()?),
            "default" => ExprKind::Default(Some(self.ty()?)),
            "nameof" => ExprKind::NameOf(Box::new(self.expr()?)),
            _ => ExprKind::Checked {
                checked: word == "checked",
                operand: Box::new(self.expr()?),
            },
        };
        self.expect_punct(")")?;
        Ok(kind)
    }

    fn interpolation(&mut self, pieces: &'a [Piece]) -> PResult<Vec<InterpPart>> {
        let mut parts = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Text(s) => parts.push(InterpPart::Text(s.clone())),
                Piece::Hole {
                    expr,
                    align,
                    format,
                    start,
                    end,
                } => {
                    let expr = Box::new(self.sub_expr(expr, *start, *end)?);
                    let align = match align {
                        Some(toks) => Some(Box::new(self.sub_expr(toks, *start, *end)?)),
                        None => None,
                    };
                    parts.push(InterpPart::Hole {
                        expr,
                        align,
                        format: format.clone(),
                        span: self.span_of(*start, *end),
                    });
                }
            }
        }
        Ok(parts)
    }

    /// Parses the tokens of an interpolation hole as one expression.
    fn sub_expr(&mut self, toks: &'a [Token], start: usize, end: usize) -> PResult<Expr> {
        let mut sub = Parser::new(self.text, toks, self.depth);
        sub.chain = self.chain;
        if matches!(sub.peek(), Tok::Eof) {
            return Err(self.error("empty interpolation hole", start, end));
        }
        let e = sub.expr()?;
        self.chain = sub.chain;
        if !matches!(sub.peek(), Tok::Eof) {
            return Err(sub.expected("`}`, `,` or `:`"));
        }
        Ok(e)
    }
}
