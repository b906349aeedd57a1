//! .NET pattern syntax where fancy-regex reads it differently, and
//! `Regex.Escape`/`Regex.Unescape`.

use rhai::INT;

use crate::core::{RhaiResult, throw};

/// The longest pattern accepted (a policy author controls patterns).
const MAX_PATTERN: usize = 32 * 1024;

/// Rewrites a .NET pattern for fancy-regex: `$` (without `Multiline`) and
/// `\Z` also match before a final newline; `(?#...)` comments are dropped;
/// under `ExplicitCapture` plain groups do not capture.
pub(crate) fn translate(p: &str, options: INT) -> RhaiResult<String> {
    if p.len() > MAX_PATTERN {
        return throw(
            "ArgumentException",
            format!(
                "Invalid pattern at offset {MAX_PATTERN}. The pattern is longer than {MAX_PATTERN} bytes."
            ),
        );
    }
    let multiline = options & 2 != 0;
    let explicit = options & 4 != 0;
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut in_class = false;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        match c {
            '\\' => {
                match next {
                    Some('Z') if !in_class => out.push_str(r"(?=\n?\z)"),
                    Some(n) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => {
                        return throw(
                            "ArgumentException",
                            format!(
                                "Invalid pattern '{p}' at offset {}. Illegal \\ at end of pattern.",
                                chars.len()
                            ),
                        );
                    }
                }
                i += 2;
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A `]` first in the class (after an optional `^`) is literal.
                if next == Some('^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str(r"\]");
                    i += 1;
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '$' if !in_class && !multiline => out.push_str(r"(?=\n?\z)"),
            '(' if !in_class && next == Some('?') && chars.get(i + 2) == Some(&'#') => {
                let close = chars
                    .get(i..)
                    .and_then(|r| r.iter().position(|&x| x == ')'));
                match close {
                    Some(n) => i += n,
                    None => {
                        return throw(
                            "ArgumentException",
                            format!(
                                "Invalid pattern '{p}' at offset {}. Unterminated (?#...) comment.",
                                chars.len()
                            ),
                        );
                    }
                }
            }
            '(' if !in_class && explicit && next != Some('?') => out.push_str("(?:"),
            c => out.push(c),
        }
        i += 1;
    }
    Ok(out)
}

/// `Regex.Escape`: `\ * + ? | { [ ( ) ^ $ . #` and white space.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '*' | '+' | '?' | '|' | '{' | '[' | '(' | ')' | '^' | '$' | '.' | '#' | ' ' => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            c => out.push(c),
        }
    }
    out
}

fn hex(chars: &[char], from: usize, n: usize) -> Option<char> {
    let s: String = chars.get(from..from + n)?.iter().collect();
    char::from_u32(u32::from_str_radix(&s, 16).ok()?)
}

/// `Regex.Unescape`: the character escapes of the .NET pattern language.
pub(crate) fn unescape(s: &str) -> RhaiResult<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = chars.get(i) else {
            return throw(
                "ArgumentException",
                format!(
                    "Invalid pattern '{s}' at offset {}. Illegal \\ at end of pattern.",
                    chars.len()
                ),
            );
        };
        i += 1;
        let bad = |what: &str| {
            throw(
                "ArgumentException",
                format!("Invalid pattern '{s}' at offset {i}. {what}"),
            )
        };
        match e {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            'a' => out.push('\u{7}'),
            'e' => out.push('\u{1b}'),
            'x' => match hex(&chars, i, 2) {
                Some(ch) => {
                    out.push(ch);
                    i += 2;
                }
                None => return bad("Insufficient hexadecimal digits."),
            },
            'u' => match hex(&chars, i, 4) {
                Some(ch) => {
                    out.push(ch);
                    i += 4;
                }
                None => return bad("Insufficient hexadecimal digits."),
            },
            'c' => match chars.get(i) {
                Some(&x) if x.is_ascii_alphabetic() => {
                    out.push(char::from(x.to_ascii_uppercase() as u8 - b'@'));
                    i += 1;
                }
                _ => return bad("Unrecognized control character."),
            },
            '0'..='7' => {
                let digits: String = chars
                    .get(i - 1..)
                    .unwrap_or_default()
                    .iter()
                    .take(3)
                    .take_while(|d| ('0'..='7').contains(d))
                    .collect();
                i += digits.len() - 1;
                out.push(
                    char::from_u32(u32::from_str_radix(&digits, 8).unwrap_or(0) & 0xFF)
                        .unwrap_or('\0'),
                );
            }
            other if other.is_ascii_alphanumeric() && other != '_' => {
                return bad(&format!("Unrecognized escape sequence \\{other}."));
            }
            other => out.push(other),
        }
    }
    Ok(out)
}
