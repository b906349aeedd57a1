//! Statements of `@{ ... }` blocks.
//!
//! A statement that starts with a type followed by a name is a declaration
//! (`var x = ..;`, `string[] a, b;`), or a local function when `(` follows
//! the name; anything else that is not a keyword statement is an expression
//! statement.

use super::ast::*;
use super::lexer::Tok;
use super::parser::{PResult, Parser};

impl<'a> Parser<'a> {
    /// `{ statements }`
    pub fn block(&mut self) -> PResult<Block> {
        self.enter()?;
        let r = self.block_inner();
        self.leave();
        r
    }

    fn block_inner(&mut self) -> PResult<Block> {
        let from = self.pos;
        self.expect_punct("{")?;
        let mut stmts = Vec::new();
        while !self.eat_punct("}") {
            if matches!(self.peek(), Tok::Eof) {
                return Err(self.expected("`}`"));
            }
            stmts.push(self.statement()?);
        }
        Ok(Block {
            stmts,
            span: self.span_from(from),
        })
    }

    /// Statements up to the end of the tokens (the body of `@{ }`).
    pub fn statements_to_end(&mut self) -> PResult<Vec<Stmt>> {
        let mut stmts = Vec::new();
        while !matches!(self.peek(), Tok::Eof) {
            stmts.push(self.statement()?);
        }
        Ok(stmts)
    }

    pub fn statement(&mut self) -> PResult<Stmt> {
        self.enter()?;
        let from = self.pos;
        let chain = self.chain;
        let r = self.statement_inner();
        self.chain = chain;
        self.leave();
        Ok(Stmt {
            kind: r?,
            span: self.span_from(from),
        })
    }

    fn boxed(&mut self) -> PResult<Box<Stmt>> {
        Ok(Box::new(self.statement()?))
    }

    fn paren_expr(&mut self) -> PResult<Expr> {
        self.expect_punct("(")?;
        let e = self.expr()?;
        self.expect_punct(")")?;
        Ok(e)
    }

    fn statement_inner(&mut self) -> PResult<StmtKind> {
        let kw = match self.peek() {
            Tok::Keyword(k) => *k,
            Tok::Punct("{") => return Ok(StmtKind::Block(self.block()?)),
            Tok::Punct(";") => {
                self.bump();
                return Ok(StmtKind::Empty);
            }
            _ => "",
        };
        match kw {
            "if" => {
                self.bump();
                let cond = self.paren_expr()?;
                let then = self.boxed()?;
                let otherwise = if self.eat_kw("else") {
                    Some(self.boxed()?)
                } else {
                    None
                };
                Ok(StmtKind::If {
                    cond,
                    then,
                    otherwise,
                })
            }
            "while" => {
                self.bump();
                let cond = self.paren_expr()?;
                Ok(StmtKind::While {
                    cond,
                    body: self.boxed()?,
                })
            }
            "do" => {
                self.bump();
                let body = self.boxed()?;
                self.expect_kw("while")?;
                let cond = self.paren_expr()?;
                self.expect_punct(";")?;
                Ok(StmtKind::DoWhile { body, cond })
            }
            "for" => self.for_stmt(),
            "foreach" => {
                self.bump();
                self.expect_punct("(")?;
                let ty = self.ty()?;
                let name = self.ident()?;
                self.expect_kw("in")?;
                let iter = self.expr()?;
                self.expect_punct(")")?;
                Ok(StmtKind::Foreach {
                    ty,
                    name,
                    iter,
                    body: self.boxed()?,
                })
            }
            "break" | "continue" => {
                self.bump();
                self.expect_punct(";")?;
                Ok(if kw == "break" {
                    StmtKind::Break
                } else {
                    StmtKind::Continue
                })
            }
            "return" | "throw" => {
                self.bump();
                let value = if self.at_punct(";") {
                    None
                } else {
                    Some(self.expr()?)
                };
                self.expect_punct(";")?;
                Ok(if kw == "return" {
                    StmtKind::Return(value)
                } else {
                    StmtKind::Throw(value)
                })
            }
            "try" => self.try_stmt(),
            "using" => {
                self.bump();
                self.expect_punct("(")?;
                let resource = match self.try_local_decl(false)? {
                    Some(d) => UsingResource::Decl(d),
                    None => UsingResource::Expr(self.expr()?),
                };
                self.expect_punct(")")?;
                Ok(StmtKind::Using {
                    resource,
                    body: self.boxed()?,
                })
            }
            "switch" => self.switch_stmt(),
            "checked" | "unchecked" if self.punct_at(1, "{") => {
                self.bump();
                Ok(StmtKind::Checked {
                    checked: kw == "checked",
                    body: self.block()?,
                })
            }
            "const" => {
                self.bump();
                let Some(mut d) = self.try_local_decl(true)? else {
                    return Err(self.expected("a constant declaration"));
                };
                d.is_const = true;
                self.expect_punct(";")?;
                Ok(StmtKind::Local(d))
            }
            "static" if self.local_function_ahead(1) => {
                self.bump();
                self.local_function()
            }
            _ => {
                if self.local_function_ahead(0) {
                    return self.local_function();
                }
                if let Some(d) = self.try_local_decl(false)? {
                    self.expect_punct(";")?;
                    return Ok(StmtKind::Local(d));
                }
                let e = self.expr()?;
                self.expect_punct(";")?;
                Ok(StmtKind::Expr(e))
            }
        }
    }

    /// Whether `T name(` starts `n` tokens ahead.
    fn local_function_ahead(&mut self, n: usize) -> bool {
        let (from, chain) = (self.pos, self.chain);
        self.pos += n;
        let found = self.try_type(true).is_some() && self.at_ident() && self.punct_at(1, "(");
        self.pos = from;
        self.chain = chain;
        found
    }

    fn local_function(&mut self) -> PResult<StmtKind> {
        let ret = self.ty()?;
        let name = self.ident()?;
        let params = self.params()?;
        let body = if self.eat_punct("=>") {
            let e = self.expr()?;
            self.expect_punct(";")?;
            Body::Expr(Box::new(e))
        } else {
            Body::Block(self.block()?)
        };
        Ok(StmtKind::LocalFunction(LocalFunction {
            ret,
            name,
            params,
            body,
        }))
    }

    /// `T a = e, b` if a declaration starts here (without the `;`); else the position is unchanged.
    /// With `required`, a missing declaration is an error.
    fn try_local_decl(&mut self, required: bool) -> PResult<Option<LocalDecl>> {
        let from = self.pos;
        let ty = match self.try_type(true) {
            Some(ty)
                if self.at_ident()
                    && matches!(self.peek_n(1), Tok::Punct("=" | ";" | "," | ")")) =>
            {
                ty
            }
            _ => {
                self.pos = from;
                if required {
                    return Err(self.expected("a declaration"));
                }
                return Ok(None);
            }
        };
        let mut declarators = Vec::new();
        loop {
            let name = self.ident()?;
            let init = if self.eat_punct("=") {
                Some(if self.at_punct("{") {
                    self.init_list()?
                } else {
                    self.expr()?
                })
            } else {
                None
            };
            declarators.push(Declarator { name, init });
            if !self.eat_punct(",") {
                break;
            }
        }
        Ok(Some(LocalDecl {
            is_const: false,
            ty,
            declarators,
        }))
    }

    fn for_stmt(&mut self) -> PResult<StmtKind> {
        self.expect_kw("for")?;
        self.expect_punct("(")?;
        let init = if self.at_punct(";") {
            None
        } else if let Some(d) = self.try_local_decl(false)? {
            Some(ForInit::Decl(d))
        } else {
            Some(ForInit::Exprs(self.expr_list()?))
        };
        self.expect_punct(";")?;
        let cond = if self.at_punct(";") {
            None
        } else {
            Some(self.expr()?)
        };
        self.expect_punct(";")?;
        let update = if self.at_punct(")") {
            Vec::new()
        } else {
            self.expr_list()?
        };
        self.expect_punct(")")?;
        Ok(StmtKind::For {
            init,
            cond,
            update,
            body: self.boxed()?,
        })
    }

    fn expr_list(&mut self) -> PResult<Vec<Expr>> {
        let mut list = vec![self.expr()?];
        while self.eat_punct(",") {
            list.push(self.expr()?);
        }
        Ok(list)
    }

    fn try_stmt(&mut self) -> PResult<StmtKind> {
        self.expect_kw("try")?;
        let body = self.block()?;
        let mut catches = Vec::new();
        while self.eat_kw("catch") {
            let (mut ty, mut name) = (None, None);
            if self.eat_punct("(") {
                ty = Some(self.ty()?);
                if self.at_ident() {
                    name = Some(self.ident()?);
                }
                self.expect_punct(")")?;
            }
            let filter = if matches!(self.peek(), Tok::Ident(w) if w == "when") {
                self.bump();
                Some(self.paren_expr()?)
            } else {
                None
            };
            catches.push(Catch {
                ty,
                name,
                filter,
                body: self.block()?,
            });
        }
        let finally = if self.eat_kw("finally") {
            Some(self.block()?)
        } else {
            None
        };
        if catches.is_empty() && finally.is_none() {
            return Err(self.expected("`catch` or `finally`"));
        }
        Ok(StmtKind::Try {
            body,
            catches,
            finally,
        })
    }

    fn switch_stmt(&mut self) -> PResult<StmtKind> {
        self.expect_kw("switch")?;
        let subject = self.paren_expr()?;
        self.expect_punct("{")?;
        let mut sections = Vec::new();
        while !self.eat_punct("}") {
            let mut labels = Vec::new();
            loop {
                if self.eat_kw("default") {
                    self.expect_punct(":")?;
                    labels.push(SwitchLabel::Default);
                } else if self.eat_kw("case") {
                    let pattern = self.case_pattern()?;
                    let guard = if matches!(self.peek(), Tok::Ident(w) if w == "when") {
                        self.bump();
                        Some(self.expr()?)
                    } else {
                        None
                    };
                    self.expect_punct(":")?;
                    labels.push(SwitchLabel::Case {
                        pattern: Box::new(pattern),
                        guard,
                    });
                } else {
                    break;
                }
            }
            if labels.is_empty() {
                return Err(self.expected("`case`, `default` or `}`"));
            }
            let mut stmts = Vec::new();
            while !(self.at_kw("case")
                || self.at_kw("default")
                || self.at_punct("}")
                || matches!(self.peek(), Tok::Eof))
            {
                stmts.push(self.statement()?);
            }
            sections.push(SwitchSection { labels, stmts });
        }
        Ok(StmtKind::Switch { subject, sections })
    }

    /// `case "a":`, `case int n:`, `case var x:`, `case null:`
    fn case_pattern(&mut self) -> PResult<Pattern> {
        let from = self.pos;
        if matches!(self.peek(), Tok::Ident(v) if v == "var")
            && matches!(self.peek_n(1), Tok::Ident(_))
        {
            self.bump();
            return Ok(Pattern::Var(self.ident()?));
        }
        let designated =
            |p: &Self| p.at_ident() && !matches!(p.peek(), Tok::Ident(w) if w == "when");
        if let Some(ty) = self.try_type(false).filter(|_| designated(self)) {
            return Ok(Pattern::Declaration(ty, self.ident()?));
        }
        self.pos = from;
        Ok(Pattern::Constant(self.binary(1)?))
    }
}
