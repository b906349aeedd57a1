//! Arguments, parameters and lambdas.
//!
//! Arguments may be named (`preserveContent: true`) and carry `out`/`ref`/`in`,
//! with a declaration after `out` (`out var jwt`, `out string[] parts`). A
//! lambda is recognized before any other expression: a name then `=>`, or a
//! parenthesized list whose `)` is followed by `=>`.

use super::ast::*;
use super::lexer::Tok;
use super::parser::{PResult, Parser};

impl<'a> Parser<'a> {
    /// `(a, name: b, out var c)` or `[i, j]`.
    pub fn args(&mut self, open: &str, close: &str) -> PResult<Vec<Arg>> {
        self.expect_punct(open)?;
        let mut args = Vec::new();
        if self.eat_punct(close) {
            return Ok(args);
        }
        loop {
            args.push(self.arg()?);
            if self.eat_punct(close) {
                return Ok(args);
            }
            if !self.eat_punct(",") {
                return Err(self.expected(&format!("`,` or `{close}`")));
            }
        }
    }

    fn arg(&mut self) -> PResult<Arg> {
        let from = self.pos;
        let mut name = None;
        if self.at_ident() && self.punct_at(1, ":") {
            name = Some(self.ident()?);
            self.bump();
        }
        let modifier = match self.peek() {
            Tok::Keyword("out") => Some(Modifier::Out),
            Tok::Keyword("ref") => Some(Modifier::Ref),
            Tok::Keyword("in") => Some(Modifier::In),
            _ => None,
        };
        if modifier.is_some() {
            self.bump();
        }
        let declared = if modifier.is_some() {
            self.try_declaration_expr()
        } else {
            None
        };
        let value = match declared {
            Some(d) => d,
            None => self.expr()?,
        };
        Ok(Arg {
            name,
            modifier,
            value,
            span: self.span_from(from),
        })
    }

    /// `var x` or `string[] parts` before `,` or `)` (an `out` argument).
    fn try_declaration_expr(&mut self) -> Option<Expr> {
        let from = self.pos;
        let ty = self.try_type(true)?;
        if self.at_ident() && (self.punct_at(1, ",") || self.punct_at(1, ")")) {
            let name = self.ident().ok()?;
            return Some(self.node(ExprKind::Declaration { ty, name }, from));
        }
        self.pos = from;
        None
    }

    /// A lambda starting here, if any: `x => ..`, `(x, y) => ..`, `(int x) => ..`, `() => ..`.
    pub fn lambda(&mut self) -> PResult<Option<Expr>> {
        let from = self.pos;
        let params = if self.at_ident() && self.punct_at(1, "=>") {
            let name = self.ident()?;
            vec![Param {
                modifier: None,
                ty: None,
                name,
                default: None,
            }]
        } else if self.at_punct("(") && self.lambda_parens_ahead() {
            self.params()?
        } else {
            return Ok(None);
        };
        self.expect_punct("=>")?;
        let body = if self.at_punct("{") {
            Body::Block(self.block()?)
        } else {
            Body::Expr(Box::new(self.expr()?))
        };
        Ok(Some(self.node(ExprKind::Lambda { params, body }, from)))
    }

    /// Whether the `(` here closes with a `)` followed by `=>`.
    fn lambda_parens_ahead(&self) -> bool {
        let mut depth = 0usize;
        let mut i = self.pos;
        loop {
            match &self.token_at(i).tok {
                Tok::Punct("(") => depth += 1,
                Tok::Punct(")") => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return matches!(self.token_at(i + 1).tok, Tok::Punct("=>"));
                    }
                }
                // Parameter lists hold no statements or blocks.
                Tok::Punct(";" | "{" | "}") | Tok::Eof => return false,
                _ => {}
            }
            i += 1;
        }
    }

    /// `(a, b)`, `(int a, string b = "")`, `(out string s)`.
    pub fn params(&mut self) -> PResult<Vec<Param>> {
        self.expect_punct("(")?;
        let mut params = Vec::new();
        if self.eat_punct(")") {
            return Ok(params);
        }
        loop {
            let modifier = match self.peek() {
                Tok::Keyword("out") => Some(Modifier::Out),
                Tok::Keyword("ref") => Some(Modifier::Ref),
                Tok::Keyword("in") => Some(Modifier::In),
                Tok::Keyword("params") => Some(Modifier::Params),
                _ => None,
            };
            if modifier.is_some() {
                self.bump();
            }
            let ty = if self.at_ident()
                && (self.punct_at(1, ",") || self.punct_at(1, ")") || self.punct_at(1, "="))
            {
                None
            } else {
                Some(self.ty()?)
            };
            let name = self.ident()?;
            let default = if self.eat_punct("=") {
                Some(self.expr()?)
            } else {
                None
            };
            params.push(Param {
                modifier,
                ty,
                name,
                default,
            });
            if self.eat_punct(")") {
                return Ok(params);
            }
            if !self.eat_punct(",") {
                return Err(self.expected("`,` or `)`"));
            }
        }
    }
}
