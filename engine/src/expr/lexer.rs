//! The C# lexer: expression text to tokens with value offsets.
//!
//! Offsets are into the decoded value string; the parser maps them to the
//! policy file. Interpolated strings are lexed whole: each hole becomes its
//! own token list, which the parser reads as an expression. `{{name}}`
//! outside strings is a named-value token. `>` is never joined to `>>`
//! here; the parser joins adjacent `>` tokens where a shift is meant, so
//! `List<List<int>>` closes two type argument lists.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{take_while, take_while1};
use nom::combinator::recognize;

use super::ast::{IntSuffix, RealSuffix};

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Ident(String),
    Keyword(&'static str),
    Int { value: u64, suffix: IntSuffix },
    Real { text: String, suffix: RealSuffix },
    Str(String),
    Char(char),
    Interp(Vec<Piece>),
    NamedValue(String),
    Punct(&'static str),
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// Value offsets `start..end`.
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    Text(String),
    Hole {
        expr: Vec<Token>,
        align: Option<Vec<Token>>,
        format: Option<String>,
        start: usize,
        end: usize,
    },
}

/// A lexing error at value offsets `start..end`.
#[derive(Clone, Debug, PartialEq)]
pub struct LexError {
    pub message: String,
    pub start: usize,
    pub end: usize,
}

#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "abstract",
    "as",
    "base",
    "bool",
    "break",
    "byte",
    "case",
    "catch",
    "char",
    "checked",
    "class",
    "const",
    "continue",
    "decimal",
    "default",
    "delegate",
    "do",
    "double",
    "else",
    "enum",
    "event",
    "explicit",
    "extern",
    "false",
    "finally",
    "fixed",
    "float",
    "for",
    "foreach",
    "goto",
    "if",
    "implicit",
    "in",
    "int",
    "interface",
    "internal",
    "is",
    "lock",
    "long",
    "namespace",
    "new",
    "null",
    "object",
    "operator",
    "out",
    "override",
    "params",
    "private",
    "protected",
    "public",
    "readonly",
    "ref",
    "return",
    "sbyte",
    "sealed",
    "short",
    "sizeof",
    "stackalloc",
    "static",
    "string",
    "struct",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "uint",
    "ulong",
    "unchecked",
    "unsafe",
    "ushort",
    "using",
    "virtual",
    "void",
    "volatile",
    "while",
];

/// Keywords that name a type.
#[rustfmt::skip]
pub const PREDEFINED_TYPES: &[&str] = &[
    "bool", "byte", "char", "decimal", "double", "float", "int", "long", "object", "sbyte",
    "short", "string", "uint", "ulong", "ushort", "void",
];

/// Longest first, so the first match wins.
#[rustfmt::skip]
const PUNCTS: &[&str] = &[
    "??=", "<<=", "?.", "??", "=>", "==", "!=", "<=", ">=", "&&", "||", "++", "--", "+=", "-=",
    "*=", "/=", "%=", "&=", "|=", "^=", "<<", "->", "::", "+", "-", "*", "/", "%", "&", "|", "^",
    "!", "~", "=", "<", ">", "?", ":", ";", ",", ".", "(", ")", "[", "]", "{", "}",
];

/// Interpolated strings nested deeper than this are refused.
const MAX_NESTING: usize = 32;

/// Tokens of `src[start..end]`, ending with [`Tok::Eof`] at `end`.
pub fn lex(src: &str, start: usize, end: usize) -> Result<Vec<Token>, LexError> {
    let mut lx = Lexer {
        src,
        pos: start,
        end: end.min(src.len()),
        nesting: 0,
    };
    let mut tokens = lx.tokens(false)?;
    tokens.push(Token {
        tok: Tok::Eof,
        start: lx.end,
        end: lx.end,
    });
    Ok(tokens)
}

pub(super) struct Lexer<'a> {
    pub(super) src: &'a str,
    pub(super) pos: usize,
    pub(super) end: usize,
    pub(super) nesting: usize,
}

pub(super) fn err<T>(message: impl Into<String>, start: usize, end: usize) -> Result<T, LexError> {
    Err(LexError {
        message: message.into(),
        start,
        end,
    })
}

pub(super) fn ident_part(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn identifier(i: &str) -> IResult<&str, &str> {
    recognize((
        take_while1(|c: char| c.is_alphabetic() || c == '_'),
        take_while(ident_part),
    ))
    .parse(i)
}

fn is_named_value_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// `{{name}}`: returns the name and the length of the reference.
fn named_value(i: &str) -> Option<(&str, usize)> {
    let rest = i.strip_prefix("{{")?;
    let len = rest
        .find(|c: char| !is_named_value_char(c))
        .unwrap_or(rest.len());
    (len > 0 && rest.get(len..)?.starts_with("}}"))
        .then(|| (rest.get(..len).unwrap_or(""), len + 4))
}

impl<'a> Lexer<'a> {
    pub(super) fn rest(&self) -> &'a str {
        self.src.get(self.pos..self.end).unwrap_or("")
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(super) fn peek2(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    pub(super) fn offset_of(&self, rest: &str) -> usize {
        self.end - rest.len()
    }

    /// Skips white space and comments.
    fn trivia(&mut self) -> Result<(), LexError> {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start();
            self.pos += rest.len() - trimmed.len();
            let rest = self.rest();
            if rest.starts_with("//") {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if let Some(body) = rest.strip_prefix("/*") {
                let Some(close) = body.find("*/") else {
                    return err("unterminated block comment", self.pos, self.pos + 2);
                };
                self.pos += close + 4;
            } else {
                return Ok(());
            }
        }
    }

    /// Lexes tokens up to the end, or in a hole up to a `}`, `,` or `:` outside brackets.
    fn tokens(&mut self, hole: bool) -> Result<Vec<Token>, LexError> {
        let mut out = Vec::new();
        let mut depth = 0usize;
        loop {
            self.trivia()?;
            let Some(c) = self.peek() else {
                return Ok(out);
            };
            if hole && depth == 0 && matches!(c, '}' | ',' | ':') && !self.rest().starts_with("::")
            {
                return Ok(out);
            }
            let start = self.pos;
            let tok = self.token()?;
            if let Tok::Punct(p) = tok {
                match p {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            out.push(Token {
                tok,
                start,
                end: self.pos,
            });
        }
    }

    fn token(&mut self) -> Result<Tok, LexError> {
        let start = self.pos;
        let rest = self.rest();
        let c = rest.chars().next().unwrap_or('\0');
        let c2 = self.peek2();
        match c {
            '"' => {
                self.pos += 1;
                self.regular_string(start).map(Tok::Str)
            }
            '@' if c2 == Some('"') => {
                self.pos += 2;
                self.verbatim_string(start).map(Tok::Str)
            }
            '$' if c2 == Some('"') => {
                self.pos += 2;
                self.interpolated(start, false)
            }
            '$' | '@' if rest.starts_with("$@\"") || rest.starts_with("@$\"") => {
                self.pos += 3;
                self.interpolated(start, true)
            }
            '@' => match identifier(rest.get(1..).unwrap_or("")) {
                Ok((after, name)) => {
                    self.pos = self.offset_of(after);
                    Ok(Tok::Ident(name.to_owned()))
                }
                Err(_) => err(
                    "`@` must be followed by an identifier or a string",
                    start,
                    start + 1,
                ),
            },
            '\'' => {
                self.pos += 1;
                self.char_literal(start)
            }
            '{' if named_value(rest).is_some() => {
                let (name, len) = named_value(rest).unwrap_or(("", 1));
                let name = name.to_owned();
                self.pos += len;
                Ok(Tok::NamedValue(name))
            }
            c if c.is_ascii_digit() || (c == '.' && c2.is_some_and(|d| d.is_ascii_digit())) => {
                self.number()
            }
            c if c.is_alphabetic() || c == '_' => {
                let (after, word) = identifier(rest).map_err(|_| LexError {
                    message: "expected an identifier".into(),
                    start,
                    end: start + 1,
                })?;
                self.pos = self.offset_of(after);
                Ok(match KEYWORDS.iter().find(|k| **k == word) {
                    Some(k) => Tok::Keyword(k),
                    None => Tok::Ident(word.to_owned()),
                })
            }
            _ => {
                for p in PUNCTS {
                    if rest.starts_with(p) {
                        // `a?.5:b` is `?` then `.5`.
                        if *p == "?."
                            && rest
                                .get(2..)
                                .and_then(|r| r.chars().next())
                                .is_some_and(|d| d.is_ascii_digit())
                        {
                            continue;
                        }
                        self.pos += p.len();
                        return Ok(Tok::Punct(p));
                    }
                }
                let len = c.len_utf8().max(1);
                err(format!("unexpected character `{c}`"), start, start + len)
            }
        }
    }

    /// After the opening `$"`, `$@"` or `@$"`.
    fn interpolated(&mut self, start: usize, verbatim: bool) -> Result<Tok, LexError> {
        if self.nesting >= MAX_NESTING {
            return err("interpolated strings nested too deeply", start, self.pos);
        }
        let mut pieces = Vec::new();
        let mut text = String::new();
        loop {
            let rest = self.rest();
            let Some(c) = rest.chars().next() else {
                return err("unterminated interpolated string", start, self.pos);
            };
            match c {
                '"' if verbatim && rest.starts_with("\"\"") => {
                    text.push('"');
                    self.pos += 2;
                }
                '"' => {
                    self.pos += 1;
                    break;
                }
                '\\' if !verbatim => text.push(self.escape()?),
                '\n' | '\r' if !verbatim => {
                    return err("unterminated interpolated string", start, self.pos);
                }
                '{' if rest.starts_with("{{") => {
                    // A named value in the text stays as written; `{{` alone is a `{`.
                    match named_value(rest) {
                        Some((_, len)) => {
                            text.push_str(rest.get(..len).unwrap_or(""));
                            self.pos += len;
                        }
                        None => {
                            text.push('{');
                            self.pos += 2;
                        }
                    }
                }
                '}' if rest.starts_with("}}") => {
                    text.push('}');
                    self.pos += 2;
                }
                '}' => {
                    return err(
                        "unexpected `}` in an interpolated string; write `}}`",
                        self.pos,
                        self.pos + 1,
                    );
                }
                '{' => {
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(self.hole()?);
                }
                c => {
                    text.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Tok::Interp(pieces))
    }

    /// At the `{` of a hole.
    fn hole(&mut self) -> Result<Piece, LexError> {
        let start = self.pos;
        self.pos += 1;
        self.nesting += 1;
        let expr = self.hole_tokens(start)?;
        let mut align = None;
        if self.peek() == Some(',') {
            self.pos += 1;
            align = Some(self.hole_tokens(start)?);
        }
        let mut format = None;
        if self.peek() == Some(':') {
            self.pos += 1;
            let rest = self.rest();
            let Some(close) = rest.find(['}', '"']) else {
                return err("unterminated interpolation hole", start, self.end);
            };
            format = Some(rest.get(..close).unwrap_or("").to_owned());
            self.pos += close;
        }
        self.nesting -= 1;
        if self.peek() != Some('}') {
            return err(
                "expected `}` to close the interpolation hole",
                start,
                self.pos.max(start + 1),
            );
        }
        self.pos += 1;
        Ok(Piece::Hole {
            expr,
            align,
            format,
            start,
            end: self.pos,
        })
    }

    fn hole_tokens(&mut self, start: usize) -> Result<Vec<Token>, LexError> {
        let mut toks = self.tokens(true)?;
        if self.peek().is_none() {
            return err("unterminated interpolation hole", start, self.pos);
        }
        toks.push(Token {
            tok: Tok::Eof,
            start: self.pos,
            end: self.pos,
        });
        Ok(toks)
    }
}
