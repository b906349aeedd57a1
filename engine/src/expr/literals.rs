//! Literal tokens: numbers with suffixes, regular and verbatim strings,
//! escapes and character literals (interpolated strings, which hold tokens,
//! are in `lexer.rs`).

use nom::Parser;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::combinator::{opt, recognize};
use nom::{IResult, branch::alt};

use super::ast::{IntSuffix, RealSuffix};
use super::lexer::{LexError, Lexer, Tok, err, ident_part};

fn digits(i: &str) -> IResult<&str, &str> {
    recognize((
        take_while1(|c: char| c.is_ascii_digit()),
        take_while(|c: char| c.is_ascii_digit() || c == '_'),
    ))
    .parse(i)
}

fn exponent(i: &str) -> IResult<&str, &str> {
    recognize((
        alt((tag("e"), tag("E"))),
        opt(alt((tag("+"), tag("-")))),
        digits,
    ))
    .parse(i)
}

/// `1`, `1.5`, `.5`, `1e3`, `1.5e-3` (the `.` only when a digit follows).
fn decimal_number(i: &str) -> IResult<&str, &str> {
    let fraction = recognize((tag("."), digits));
    alt((
        recognize((digits, opt(fraction), opt(exponent))),
        recognize((tag("."), digits, opt(exponent))),
    ))
    .parse(i)
}

fn radix_number(i: &str) -> IResult<&str, &str> {
    alt((
        recognize((
            alt((tag("0x"), tag("0X"))),
            take_while1(|c: char| c.is_ascii_hexdigit() || c == '_'),
        )),
        recognize((
            alt((tag("0b"), tag("0B"))),
            take_while1(|c: char| matches!(c, '0' | '1' | '_')),
        )),
    ))
    .parse(i)
}

impl Lexer<'_> {
    pub(super) fn number(&mut self) -> Result<Tok, LexError> {
        let start = self.pos;
        let rest = self.rest();
        let (after, text, radix) = if let Ok((after, t)) = radix_number(rest) {
            (
                after,
                t,
                if t.as_bytes()
                    .get(1)
                    .is_some_and(|b| b.eq_ignore_ascii_case(&b'x'))
                {
                    16
                } else {
                    2
                },
            )
        } else if let Ok((after, t)) = decimal_number(rest) {
            (after, t, 10)
        } else {
            return err("malformed number", start, start + 1);
        };
        let (after_suffix, suffix) = take_while::<_, &str, nom::error::Error<&str>>(ident_part)
            .parse(after)
            .unwrap_or((after, ""));
        self.pos = self.offset_of(after_suffix);
        let end = self.pos;
        let clean: String = text.chars().filter(|&c| c != '_').collect();
        let is_real_text = radix == 10 && clean.contains(['.', 'e', 'E']);
        let lower = suffix.to_ascii_lowercase();
        let real_suffix = match lower.as_str() {
            "f" => Some(RealSuffix::F),
            "d" => Some(RealSuffix::D),
            "m" => Some(RealSuffix::M),
            _ => None,
        };
        if radix == 10 && (is_real_text || real_suffix.is_some()) {
            return match (real_suffix, suffix.is_empty()) {
                (Some(s), _) => Ok(Tok::Real {
                    text: clean,
                    suffix: s,
                }),
                (None, true) => Ok(Tok::Real {
                    text: clean,
                    suffix: RealSuffix::None,
                }),
                (None, false) => err(
                    format!("invalid suffix `{suffix}` on a real literal"),
                    start,
                    end,
                ),
            };
        }
        let suffix = match lower.as_str() {
            "" => IntSuffix::None,
            "u" => IntSuffix::U,
            "l" => IntSuffix::L,
            "ul" | "lu" => IntSuffix::UL,
            _ => {
                return err(
                    format!("invalid suffix `{suffix}` on an integer literal"),
                    start,
                    end,
                );
            }
        };
        let digits = if radix == 10 {
            clean.as_str()
        } else {
            clean.get(2..).unwrap_or("")
        };
        match u64::from_str_radix(digits, radix) {
            Ok(value) => Ok(Tok::Int { value, suffix }),
            Err(_) => err("integral constant is too large", start, end),
        }
    }

    /// After the opening `"`.
    pub(super) fn regular_string(&mut self, start: usize) -> Result<String, LexError> {
        let mut out = String::new();
        loop {
            match self.peek() {
                None | Some('\n') | Some('\r') => {
                    return err("unterminated string literal", start, self.pos);
                }
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => out.push(self.escape()?),
                Some(c) => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// After the opening `@"`.
    pub(super) fn verbatim_string(&mut self, start: usize) -> Result<String, LexError> {
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return err("unterminated verbatim string literal", start, self.pos),
                Some('"') if self.peek2() == Some('"') => {
                    out.push('"');
                    self.pos += 2;
                }
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// At a `\`: the escaped character.
    pub(super) fn escape(&mut self) -> Result<char, LexError> {
        let start = self.pos;
        self.pos += 1;
        let Some(c) = self.peek() else {
            return err("unterminated escape sequence", start, self.pos);
        };
        self.pos += c.len_utf8();
        let simple = match c {
            '\'' => Some('\''),
            '"' => Some('"'),
            '\\' => Some('\\'),
            '0' => Some('\0'),
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            _ => None,
        };
        if let Some(s) = simple {
            return Ok(s);
        }
        let (min, max) = match c {
            'u' => (4, 4),
            'U' => (8, 8),
            'x' => (1, 4),
            _ => {
                return err(
                    format!("unrecognized escape sequence `\\{c}`"),
                    start,
                    self.pos,
                );
            }
        };
        let hex: String = self
            .rest()
            .chars()
            .take(max)
            .take_while(char::is_ascii_hexdigit)
            .collect();
        self.pos += hex.len();
        if hex.len() < min {
            return err("invalid unicode escape sequence", start, self.pos);
        }
        u32::from_str_radix(&hex, 16)
            .ok()
            .and_then(char::from_u32)
            .map_or_else(
                || err("invalid unicode escape sequence", start, self.pos),
                Ok,
            )
    }

    /// After the opening `'`.
    pub(super) fn char_literal(&mut self, start: usize) -> Result<Tok, LexError> {
        let c = match self.peek() {
            None | Some('\n') | Some('\'') => {
                return err("empty or unterminated character literal", start, self.pos);
            }
            Some('\\') => self.escape()?,
            Some(c) => {
                self.pos += c.len_utf8();
                c
            }
        };
        if self.peek() != Some('\'') {
            return err("character literal must hold one character", start, self.pos);
        }
        self.pos += 1;
        Ok(Tok::Char(c))
    }
}
