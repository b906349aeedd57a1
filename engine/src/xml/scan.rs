//! The C#-aware scan for the end of a policy expression.
//!
//! APIM accepts `"`, `<`, `>` and `&&` unescaped inside `@(...)` and `@{...}`,
//! so the end of an expression cannot be found by XML rules. Starting at the
//! `@`, this scanner walks C# tokens that can hide brackets (regular,
//! verbatim and interpolated strings, char literals, `//` and `/* */`
//! comments) and returns the offset just past the balanced `)` or `}`.
//! The escaped XML forms (`&quot;`, `&lt;`, `&amp;`, ...) are read as the
//! characters they stand for, so both spellings scan alike.

/// Why a scan failed, and where (a byte offset into the source).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanError {
    /// No balanced end before the end of the document.
    Unterminated,
    /// A closing bracket of the wrong kind at this offset.
    Mismatched(usize),
    /// Longer than the limit.
    TooLarge,
    /// Brackets nested deeper than the scanner follows.
    TooDeep(usize),
}

const MAX_DEPTH: usize = 256;

/// Offset just past the end of the expression that starts with `@(` or `@{` at `at`.
pub fn expression_end(src: &str, at: usize, max_len: usize) -> Result<usize, ScanError> {
    let mut s = Scanner {
        src: src.as_bytes(),
        pos: at + 2,
        limit: at.saturating_add(max_len),
        depth: 0,
    };
    let close = match src.as_bytes().get(at + 1) {
        Some(b'(') => b')',
        _ => b'}',
    };
    s.code(close)?;
    Ok(s.pos)
}

struct Scanner<'a> {
    src: &'a [u8],
    pos: usize,
    limit: usize,
    depth: usize,
}

impl Scanner<'_> {
    /// The next character as C# sees it: an XML escape counts as its character.
    /// Returns the byte and how many source bytes it takes.
    fn peek_at(&self, at: usize) -> Option<(u8, usize)> {
        let b = *self.src.get(at)?;
        if b == b'&' {
            for (ent, c) in [
                (&b"&quot;"[..], b'"'),
                (b"&apos;", b'\''),
                (b"&lt;", b'<'),
                (b"&gt;", b'>'),
                (b"&amp;", b'&'),
            ] {
                if self.src.get(at..at + ent.len()) == Some(ent) {
                    return Some((c, ent.len()));
                }
            }
        }
        Some((b, 1))
    }

    fn peek(&self) -> Option<u8> {
        self.peek_at(self.pos).map(|(c, _)| c)
    }

    fn peek2(&self) -> Option<u8> {
        let (_, n) = self.peek_at(self.pos)?;
        self.peek_at(self.pos + n).map(|(c, _)| c)
    }

    fn bump(&mut self) -> Result<u8, ScanError> {
        if self.pos > self.limit {
            return Err(ScanError::TooLarge);
        }
        let (c, n) = self.peek_at(self.pos).ok_or(ScanError::Unterminated)?;
        self.pos += n;
        Ok(c)
    }

    fn enter(&mut self) -> Result<(), ScanError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(ScanError::TooDeep(self.pos))
        } else {
            Ok(())
        }
    }

    /// Code up to and including `close`, at bracket depth zero.
    fn code(&mut self, close: u8) -> Result<(), ScanError> {
        self.enter()?;
        loop {
            let at = self.pos;
            match self.bump()? {
                c if c == close => break,
                b'(' => self.code(b')')?,
                b'{' => self.code(b'}')?,
                b'[' => self.code(b']')?,
                b')' | b'}' | b']' => return Err(ScanError::Mismatched(at)),
                b'"' => self.string()?,
                b'\'' => self.char_literal()?,
                b'/' if self.peek() == Some(b'/') => self.line_comment(),
                b'/' if self.peek() == Some(b'*') => self.block_comment()?,
                b'@' if self.peek() == Some(b'"') => {
                    self.bump()?;
                    self.verbatim(false)?;
                }
                b'@' if self.peek() == Some(b'$') && self.peek2() == Some(b'"') => {
                    self.bump()?;
                    self.bump()?;
                    self.verbatim(true)?;
                }
                b'$' if self.peek() == Some(b'"') => {
                    self.bump()?;
                    self.interpolated()?;
                }
                b'$' if self.peek() == Some(b'@') && self.peek2() == Some(b'"') => {
                    self.bump()?;
                    self.bump()?;
                    self.verbatim(true)?;
                }
                _ => {}
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// A regular string after its opening quote. A line break ends it too
    /// (C# does not allow one there; stopping keeps a typo from swallowing the file).
    fn string(&mut self) -> Result<(), ScanError> {
        loop {
            match self.bump()? {
                b'"' | b'\n' => return Ok(()),
                b'\\' => {
                    self.bump()?;
                }
                _ => {}
            }
        }
    }

    fn char_literal(&mut self) -> Result<(), ScanError> {
        loop {
            match self.bump()? {
                b'\'' | b'\n' => return Ok(()),
                b'\\' => {
                    self.bump()?;
                }
                _ => {}
            }
        }
    }

    /// A verbatim string after its opening quote: `""` is a quote.
    fn verbatim(&mut self, interpolated: bool) -> Result<(), ScanError> {
        loop {
            match self.bump()? {
                b'"' if self.peek() == Some(b'"') => {
                    self.bump()?;
                }
                b'"' => return Ok(()),
                b'{' if interpolated && self.peek() == Some(b'{') => {
                    self.bump()?;
                }
                b'{' if interpolated => self.code(b'}')?,
                _ => {}
            }
        }
    }

    /// An interpolated string after its opening quote: `{{` is a brace, `{...}` is code.
    fn interpolated(&mut self) -> Result<(), ScanError> {
        loop {
            match self.bump()? {
                b'"' | b'\n' => return Ok(()),
                b'\\' => {
                    self.bump()?;
                }
                b'{' if self.peek() == Some(b'{') => {
                    self.bump()?;
                }
                b'{' => self.code(b'}')?,
                _ => {}
            }
        }
    }

    fn line_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'\n' {
                return;
            }
            self.pos += self.peek_at(self.pos).map_or(1, |(_, n)| n);
        }
    }

    fn block_comment(&mut self) -> Result<(), ScanError> {
        self.bump()?;
        loop {
            if self.bump()? == b'*' && self.peek() == Some(b'/') {
                self.bump()?;
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(s: &str) -> Result<&str, ScanError> {
        expression_end(s, 0, 1 << 20).map(|e| &s[..e])
    }

    #[test]
    fn balanced_parentheses_with_strings() {
        assert_eq!(
            end(r#"@(a.Get("x)",")"))" rest"#),
            Ok(r#"@(a.Get("x)",")"))"#)
        );
        assert_eq!(end(r#"@(a < b && c > d)"/>"#), Ok("@(a < b && c > d)"));
    }

    #[test]
    fn escaped_quotes_count_as_quotes() {
        assert_eq!(end("@(f(&quot;)&quot;))\" x"), Ok("@(f(&quot;)&quot;))"));
        assert_eq!(end("@(a &amp;&amp; b)x"), Ok("@(a &amp;&amp; b)"));
    }

    #[test]
    fn verbatim_interpolated_chars_and_comments() {
        assert_eq!(
            end(r#"@{ return @"a "" } b"; }x"#),
            Ok(r#"@{ return @"a "" } b"; }"#)
        );
        assert_eq!(
            end(r#"@($"{a["}"]}}}{{" + "}")x"#),
            Ok(r#"@($"{a["}"]}}}{{" + "}")"#)
        );
        assert_eq!(end(r#"@($@"{x}"" }")x"#), Ok(r#"@($@"{x}"" }")"#));
        assert_eq!(
            end("@{ var c = '}'; // }\n /* } */ return c; }x"),
            Ok("@{ var c = '}'; // }\n /* } */ return c; }")
        );
        assert_eq!(end(r"@(s.Split('\'', ')'))x"), Ok(r"@(s.Split('\'', ')'))"));
    }

    #[test]
    fn failures() {
        assert_eq!(end("@(a.b(c)"), Err(ScanError::Unterminated));
        assert_eq!(end("@(a})"), Err(ScanError::Mismatched(3)));
        assert_eq!(
            expression_end("@(aaaaaaaaaaaaaaaa)", 0, 5),
            Err(ScanError::TooLarge)
        );
        let deep = format!("@{}", "(".repeat(1000));
        assert!(matches!(
            expression_end(&deep, 0, 1 << 20),
            Err(ScanError::TooDeep(_))
        ));
    }
}
