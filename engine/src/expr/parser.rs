//! The parser core: the token cursor, errors, and expressions by precedence.
//!
//! A hand-written recursive descent over the lexer's tokens: C# decides
//! cast-or-parenthesis, generic-or-less-than and lambda-or-parenthesis by
//! looking ahead over whole types, which is simplest with a token index to
//! save and restore. Types are in `types.rs`, arguments and lambdas in
//! `call.rs`, `new` and initializers in `create.rs`, statements in `stmt.rs`.

use super::ExprError;
use super::ast::*;
use super::lexer::{Tok, Token};
use crate::source::Span;
use crate::xml::Text;

/// Nesting deeper than this (brackets, unary chains, statements) is an error.
/// A level takes up to ~20 KiB of stack in a debug build, so 50 levels stay
/// well inside a 2 MiB thread stack.
pub const MAX_DEPTH: usize = 50;

/// Operators and member accesses in one statement (or one `@(...)`): loops
/// parse them, but each nests the tree one level deeper, and the tree must
/// stay shallow enough to drop and print without exhausting the stack.
pub const MAX_CHAIN: usize = 1000;

pub type PResult<T> = Result<T, ExprError>;

pub struct Parser<'a> {
    pub text: &'a Text,
    pub toks: &'a [Token],
    pub pos: usize,
    pub depth: usize,
    /// Links of operator and member chains taken in the current statement.
    pub chain: usize,
}

static EOF: Token = Token {
    tok: Tok::Eof,
    start: 0,
    end: 0,
};

/// Describes a token for an error message.
pub fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(n) => format!("`{n}`"),
        Tok::Keyword(k) | Tok::Punct(k) => format!("`{k}`"),
        Tok::Int { .. } | Tok::Real { .. } => "a number".into(),
        Tok::Str(_) | Tok::Interp(_) => "a string".into(),
        Tok::Char(_) => "a character literal".into(),
        Tok::NamedValue(n) => format!("`{{{{{n}}}}}`"),
        Tok::Eof => "the end of the expression".into(),
    }
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a Text, toks: &'a [Token], depth: usize) -> Self {
        Self {
            text,
            toks,
            pos: 0,
            depth,
            chain: 0,
        }
    }

    // ---- cursor ----

    pub fn token_at(&self, i: usize) -> &'a Token {
        let toks: &'a [Token] = self.toks;
        toks.get(i).or_else(|| toks.last()).unwrap_or(&EOF)
    }

    pub fn cur(&self) -> &'a Token {
        self.token_at(self.pos)
    }

    pub fn peek(&self) -> &'a Tok {
        &self.cur().tok
    }

    pub fn peek_n(&self, n: usize) -> &'a Tok {
        &self.token_at(self.pos + n).tok
    }

    pub fn bump(&mut self) -> &'a Token {
        let t = self.cur();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    pub fn at_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }

    pub fn punct_at(&self, n: usize, p: &str) -> bool {
        matches!(self.peek_n(n), Tok::Punct(q) if *q == p)
    }

    pub fn at_kw(&self, k: &str) -> bool {
        matches!(self.peek(), Tok::Keyword(q) if *q == k)
    }

    pub fn eat_punct(&mut self, p: &str) -> bool {
        let at = self.at_punct(p);
        if at {
            self.bump();
        }
        at
    }

    pub fn eat_kw(&mut self, k: &str) -> bool {
        let at = self.at_kw(k);
        if at {
            self.bump();
        }
        at
    }

    /// Whether tokens `n` and `n + 1` from here touch (`>` `>` is a shift).
    pub fn adjacent(&self, n: usize) -> bool {
        self.token_at(self.pos + n).end == self.token_at(self.pos + n + 1).start
    }

    pub fn expect_punct(&mut self, p: &str) -> PResult<()> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.expected(&format!("`{p}`")))
        }
    }

    pub fn expect_kw(&mut self, k: &str) -> PResult<()> {
        if self.eat_kw(k) {
            Ok(())
        } else {
            Err(self.expected(&format!("`{k}`")))
        }
    }

    pub fn at_ident(&self) -> bool {
        matches!(self.peek(), Tok::Ident(_))
    }

    pub fn ident(&mut self) -> PResult<Ident> {
        match self.peek() {
            Tok::Ident(name) => {
                let t = self.bump();
                Ok(Ident {
                    name: name.clone(),
                    span: self.span_of(t.start, t.end),
                })
            }
            _ => Err(self.expected("an identifier")),
        }
    }

    // ---- spans and errors ----

    pub fn span_of(&self, start: usize, end: usize) -> Span {
        self.text.source_span(start, end)
    }

    /// From the start of token `from` to the end of the last token taken.
    pub fn span_from(&self, from: usize) -> Span {
        let start = self.token_at(from).start;
        let end = if self.pos > from {
            self.token_at(self.pos - 1).end
        } else {
            start
        };
        self.span_of(start, end.max(start))
    }

    pub fn error(&self, message: impl Into<String>, start: usize, end: usize) -> ExprError {
        ExprError {
            message: message.into(),
            span: self.span_of(start, end),
        }
    }

    pub fn expected(&self, what: &str) -> ExprError {
        let t = self.cur();
        self.error(
            format!("expected {what}, found {}", describe(&t.tok)),
            t.start,
            t.end,
        )
    }

    pub fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.cur();
            return Err(self.error(
                format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
                t.start,
                t.end,
            ));
        }
        Ok(())
    }

    /// One more link of a chain (`a.b`, `a + b`, `T[]`) in this statement.
    pub fn link(&mut self) -> PResult<()> {
        self.chain += 1;
        if self.chain > MAX_CHAIN {
            let t = self.cur();
            return Err(self.error(
                format!("expression too long (more than {MAX_CHAIN} operators and member accesses in one statement)"),
                t.start,
                t.end,
            ));
        }
        Ok(())
    }

    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    pub fn node(&self, kind: ExprKind, from: usize) -> Expr {
        Expr {
            kind,
            span: self.span_from(from),
        }
    }

    // ---- expressions ----

    pub fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.assignment();
        self.leave();
        r
    }

    fn assignment(&mut self) -> PResult<Expr> {
        if let Some(lambda) = self.lambda()? {
            return Ok(lambda);
        }
        let from = self.pos;
        let target = self.conditional()?;
        let Some((op, width)) = self.assign_op() else {
            return Ok(target);
        };
        self.pos += width;
        let value = self.expr()?;
        Ok(self.node(
            ExprKind::Assign {
                op,
                target: Box::new(target),
                value: Box::new(value),
            },
            from,
        ))
    }

    fn assign_op(&self) -> Option<(AssignOp, usize)> {
        let Tok::Punct(p) = self.peek() else {
            return None;
        };
        let op = match *p {
            "=" => AssignOp::Assign,
            "+=" => AssignOp::Add,
            "-=" => AssignOp::Sub,
            "*=" => AssignOp::Mul,
            "/=" => AssignOp::Div,
            "%=" => AssignOp::Rem,
            "&=" => AssignOp::BitAnd,
            "|=" => AssignOp::BitOr,
            "^=" => AssignOp::BitXor,
            "<<=" => AssignOp::Shl,
            "??=" => AssignOp::Coalesce,
            ">" if self.punct_at(1, ">=") && self.adjacent(0) => return Some((AssignOp::Shr, 2)),
            _ => return None,
        };
        Some((op, 1))
    }

    fn conditional(&mut self) -> PResult<Expr> {
        let from = self.pos;
        let cond = self.binary(1)?;
        if !self.at_punct("?") {
            return Ok(cond);
        }
        self.bump();
        let then = self.expr()?;
        self.expect_punct(":")?;
        let otherwise = self.expr()?;
        Ok(self.node(
            ExprKind::Conditional {
                cond: Box::new(cond),
                then: Box::new(then),
                otherwise: Box::new(otherwise),
            },
            from,
        ))
    }

    /// The binary operator here: `(op, precedence, tokens)`; `is`/`as` are `None` ops at 8.
    fn binary_op(&self) -> Option<(Option<BinaryOp>, u8, usize)> {
        let op = match self.peek() {
            Tok::Keyword("is" | "as") => return Some((None, 8, 1)),
            Tok::Punct(p) => match *p {
                "??" => (BinaryOp::Coalesce, 1),
                "||" => (BinaryOp::Or, 2),
                "&&" => (BinaryOp::And, 3),
                "|" => (BinaryOp::BitOr, 4),
                "^" => (BinaryOp::BitXor, 5),
                "&" => (BinaryOp::BitAnd, 6),
                "==" => (BinaryOp::Eq, 7),
                "!=" => (BinaryOp::Ne, 7),
                "<" => (BinaryOp::Lt, 8),
                "<=" => (BinaryOp::Le, 8),
                ">=" => (BinaryOp::Ge, 8),
                ">" if self.adjacent(0) && self.punct_at(1, ">") => {
                    return Some((Some(BinaryOp::Shr), 9, 2));
                }
                ">" if self.adjacent(0) && self.punct_at(1, ">=") => return None,
                ">" => (BinaryOp::Gt, 8),
                "<<" => (BinaryOp::Shl, 9),
                "+" => (BinaryOp::Add, 10),
                "-" => (BinaryOp::Sub, 10),
                "*" => (BinaryOp::Mul, 11),
                "/" => (BinaryOp::Div, 11),
                "%" => (BinaryOp::Rem, 11),
                _ => return None,
            },
            _ => return None,
        };
        Some((Some(op.0), op.1, 1))
    }

    /// Precedence climbing over the binary operators from `min` up.
    pub fn binary(&mut self, min: u8) -> PResult<Expr> {
        let from = self.pos;
        let mut left = self.unary()?;
        while let Some((op, prec, width)) = self.binary_op() {
            if prec < min {
                break;
            }
            self.link()?;
            let Some(op) = op else {
                left = self.type_test(left, from)?;
                continue;
            };
            self.pos += width;
            // `??` is right-associative (its chains nest); the others left.
            let right = if op == BinaryOp::Coalesce {
                self.enter()?;
                let r = self.binary(prec);
                self.leave();
                r?
            } else {
                self.binary(prec + 1)?
            };
            left = self.node(
                ExprKind::Binary {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                from,
            );
        }
        Ok(left)
    }

    /// `e is T`, `e is T x`, `e is null`, `e as T`.
    fn type_test(&mut self, operand: Expr, from: usize) -> PResult<Expr> {
        let operand = Box::new(operand);
        if self.eat_kw("as") {
            let ty = self.ty_in_expr()?;
            return Ok(self.node(ExprKind::As { operand, ty }, from));
        }
        self.expect_kw("is")?;
        let pattern = self.is_pattern()?;
        Ok(self.node(
            ExprKind::Is {
                operand,
                pattern: Box::new(pattern),
            },
            from,
        ))
    }

    fn is_pattern(&mut self) -> PResult<Pattern> {
        let constant = matches!(
            self.peek(),
            Tok::Keyword("null" | "true" | "false")
                | Tok::Int { .. }
                | Tok::Real { .. }
                | Tok::Str(_)
                | Tok::Char(_)
        ) || self.at_punct("-");
        if constant {
            return Ok(Pattern::Constant(self.binary(9)?));
        }
        if matches!(self.peek(), Tok::Ident(v) if v == "var")
            && matches!(self.peek_n(1), Tok::Ident(_))
        {
            self.bump();
            return Ok(Pattern::Var(self.ident()?));
        }
        let ty = self.ty_in_expr()?;
        if self.at_ident() && !matches!(self.peek(), Tok::Ident(w) if w == "when") {
            let name = self.ident()?;
            return Ok(Pattern::Declaration(ty, name));
        }
        Ok(Pattern::Type(ty))
    }

    /// A unary expression; chains of prefix operators and casts count as nesting.
    pub fn unary(&mut self) -> PResult<Expr> {
        let from = self.pos;
        let op = match self.peek() {
            Tok::Punct("+") => Some(UnaryOp::Plus),
            Tok::Punct("-") => Some(UnaryOp::Neg),
            Tok::Punct("!") => Some(UnaryOp::Not),
            Tok::Punct("~") => Some(UnaryOp::BitNot),
            Tok::Punct("++") => Some(UnaryOp::PreInc),
            Tok::Punct("--") => Some(UnaryOp::PreDec),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let operand = self.nested_unary()?;
            return Ok(self.node(
                ExprKind::Unary {
                    op,
                    operand: Box::new(operand),
                },
                from,
            ));
        }
        if self.eat_kw("throw") {
            self.enter()?;
            let operand = self.binary(1);
            self.leave();
            let operand = operand?;
            return Ok(self.node(ExprKind::Throw(Box::new(operand)), from));
        }
        if let Some(ty) = self.try_cast() {
            let operand = self.nested_unary()?;
            return Ok(self.node(
                ExprKind::Cast {
                    ty,
                    operand: Box::new(operand),
                },
                from,
            ));
        }
        self.primary()
    }
}
