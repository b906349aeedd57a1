//! C# policy expressions: `@(...)` and `@{...}` values to a syntax tree.
//!
//! The first step of running APIM's C# as rhai: parse the C# 7 subset that
//! policies use into an AST whose spans point into the policy file.
//!
//! - `ast.rs`: the tree (expressions, types, statements)
//! - `lexer.rs`: tokens, built with nom; interpolation holes, `{{named}}` values
//! - `literals.rs`: numbers, strings, escapes and characters
//! - `parser.rs`: the token cursor, errors and expressions by precedence
//! - `primary.rs`: literals, names, parentheses and the postfix chain
//! - `types.rs`: types, and the generic/cast/nullable look-ahead
//! - `call.rs`: arguments, parameters and lambdas
//! - `create.rs`: `new` and initializers
//! - `stmt.rs`: statements of `@{ }` blocks
//! - `print.rs`: the S-expression form used by the tests
//! - `tests.rs`: one test per language feature

pub mod ast;
mod call;
mod create;
mod lexer;
mod literals;
mod parser;
mod primary;
mod print;
mod stmt;
mod types;

#[cfg(test)]
mod tests;

use std::fmt;

pub use ast::{Block, Expr, ExprKind, Stmt, StmtKind};
pub use parser::MAX_DEPTH;
/// The C# spelling of a binary operator (rhai spells them alike).
pub(crate) use print::binary as binary_symbol;

use crate::source::Span;
use crate::xml::Text;
use lexer::{Tok, lex};
use parser::{Parser, describe};

/// A syntax error in an expression, at a span of the policy file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    pub message: String,
    pub span: Span,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExprError {}

/// The value offsets of the code between `open`/`close`, after trimming white space.
fn body(text: &Text, open: &str, close: char, form: &str) -> Result<(usize, usize), ExprError> {
    let v = text.value.as_str();
    let start = v.len() - v.trim_start().len();
    let end = v.trim_end().len().max(start);
    let inner = v.get(start..end).unwrap_or("");
    if inner.len() < open.len() + 1 || !inner.starts_with(open) || !inner.ends_with(close) {
        return Err(ExprError {
            message: format!("an expression here must be written `{form}`"),
            span: text.span,
        });
    }
    Ok((start + open.len(), end - close.len_utf8()))
}

fn lex_error(text: &Text, e: lexer::LexError) -> ExprError {
    ExprError {
        message: e.message,
        span: text.source_span(e.start, e.end.max(e.start)),
    }
}

/// Parses an `@(...)` value (the text includes `@(` and `)`).
pub fn parse_expression(text: &Text) -> Result<Expr, ExprError> {
    let (start, end) = body(text, "@(", ')', "@(...)")?;
    let toks = lex(&text.value, start, end).map_err(|e| lex_error(text, e))?;
    let mut p = Parser::new(text, &toks, 0);
    if matches!(p.peek(), Tok::Eof) {
        return Err(ExprError {
            message: "empty expression".into(),
            span: text.source_span(start - 2, end + 1),
        });
    }
    let e = p.expr()?;
    let t = p.cur();
    if !matches!(t.tok, Tok::Eof) {
        return Err(p.error(
            format!("unexpected {} after the expression", describe(&t.tok)),
            t.start,
            t.end,
        ));
    }
    Ok(e)
}

/// Parses an `@{...}` value (the text includes `@{` and `}`).
pub fn parse_block(text: &Text) -> Result<Block, ExprError> {
    let (start, end) = body(text, "@{", '}', "@{...}")?;
    let toks = lex(&text.value, start, end).map_err(|e| lex_error(text, e))?;
    let mut p = Parser::new(text, &toks, 0);
    let stmts = p.statements_to_end()?;
    Ok(Block {
        stmts,
        span: text.source_span(start - 2, end + 1),
    })
}
