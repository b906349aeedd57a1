//! `new` expressions and initializers.
//!
//! `new T(args)`, `new T { A = 1 }`, `new List<string> { "a" }`,
//! `new Dictionary<string, string> { { "k", "v" } }`, `new string[n]`,
//! `new string[] { .. }`, `new [] { .. }` and anonymous `new { a = 1, b }`.

use super::ast::*;
use super::lexer::Tok;
use super::parser::{PResult, Parser};

impl<'a> Parser<'a> {
    /// At `new`.
    pub fn new_expr(&mut self) -> PResult<Expr> {
        let from = self.pos;
        self.expect_kw("new")?;
        if self.at_punct("{") {
            let members = self.anonymous_members()?;
            return Ok(self.node(ExprKind::NewAnonymous(members), from));
        }
        if self.eat_punct("[") {
            let mut rank = 1;
            while self.eat_punct(",") {
                rank += 1;
            }
            self.expect_punct("]")?;
            let init = self.init_elements()?;
            return Ok(self.node(ExprKind::NewImplicitArray { rank, init }, from));
        }
        let ty_from = self.pos;
        let mut ty = self.core_type()?;
        if self.at_punct("?") && !super::types::starts_expr(self.peek_n(1)) {
            self.bump();
            ty = Type {
                kind: TypeKind::Nullable(Box::new(ty)),
                span: self.span_from(ty_from),
            };
        }
        if self.at_punct("[") {
            let mut sizes = Vec::new();
            if !(self.punct_at(1, "]") || self.punct_at(1, ",")) {
                self.bump();
                sizes.push(self.expr()?);
                while self.eat_punct(",") {
                    sizes.push(self.expr()?);
                }
                self.expect_punct("]")?;
            }
            // Later rank specifiers belong to the element type: `new int[3][]` is three `int[]`.
            let rank = sizes.len();
            let element = self.rank_specifiers(ty, ty_from)?;
            let ty = if rank > 0 {
                Type {
                    kind: TypeKind::Array {
                        element: Box::new(element),
                        rank,
                    },
                    span: self.span_from(ty_from),
                }
            } else {
                element
            };
            let init = if self.at_punct("{") {
                Some(self.init_elements()?)
            } else if sizes.is_empty() {
                return Err(self.expected("an array size or initializer"));
            } else {
                None
            };
            return Ok(self.node(ExprKind::NewArray { ty, sizes, init }, from));
        }
        let args = if self.at_punct("(") {
            Some(self.args("(", ")")?)
        } else {
            None
        };
        let init = if self.at_punct("{") {
            Some(self.initializer()?)
        } else {
            None
        };
        if args.is_none() && init.is_none() {
            return Err(self.expected("`(`, `[` or `{`"));
        }
        Ok(self.node(ExprKind::New { ty, args, init }, from))
    }

    fn anonymous_members(&mut self) -> PResult<Vec<AnonMember>> {
        self.expect_punct("{")?;
        let mut members = Vec::new();
        while !self.eat_punct("}") {
            let name = if self.at_ident() && self.punct_at(1, "=") {
                Some(self.ident()?)
            } else {
                None
            };
            if name.is_some() {
                self.bump();
            }
            members.push(AnonMember {
                name,
                value: self.expr()?,
            });
            if !self.eat_punct(",") {
                self.expect_punct("}")?;
                break;
            }
        }
        Ok(members)
    }

    /// `{ A = 1, [k] = v }` or `{ a, { k, v } }` after `new T(...)`.
    fn initializer(&mut self) -> PResult<Initializer> {
        // At `{`: `{ Name =` or `{ [` starts an object initializer.
        let is_object = (matches!(self.peek_n(1), Tok::Ident(_)) && self.punct_at(2, "="))
            || self.punct_at(1, "[");
        if !is_object {
            return Ok(Initializer::Collection(self.init_elements()?));
        }
        self.expect_punct("{")?;
        let mut members = Vec::new();
        while !self.eat_punct("}") {
            let target = if self.at_punct("[") {
                InitTarget::Index(self.args("[", "]")?)
            } else {
                InitTarget::Member(self.ident()?)
            };
            self.expect_punct("=")?;
            let value = self.init_value()?;
            members.push(MemberInit { target, value });
            if !self.eat_punct(",") {
                self.expect_punct("}")?;
                break;
            }
        }
        Ok(Initializer::Object(members))
    }

    /// An expression, or a nested `{ .. }` list.
    fn init_value(&mut self) -> PResult<Expr> {
        if self.at_punct("{") {
            self.init_list()
        } else {
            self.expr()
        }
    }

    /// `{ a, b, }` as an [`ExprKind::InitList`].
    pub fn init_list(&mut self) -> PResult<Expr> {
        self.enter()?;
        let from = self.pos;
        let r = self.init_elements();
        self.leave();
        Ok(self.node(ExprKind::InitList(r?), from))
    }

    /// The elements of `{ a, { b, c }, }`.
    pub fn init_elements(&mut self) -> PResult<Vec<Expr>> {
        self.expect_punct("{")?;
        let mut elements = Vec::new();
        while !self.eat_punct("}") {
            elements.push(self.init_value()?);
            if !self.eat_punct(",") {
                self.expect_punct("}")?;
                break;
            }
        }
        Ok(elements)
    }
}
