//! The output buffer: rhai source plus a map from rhai positions back to
//! spans of the policy file.

use crate::source::Span;

/// Where a piece of generated rhai code came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PositionMap {
    /// `(rhai line, rhai column, policy span)`, in emission order (ascending position).
    entries: Vec<(u32, u32, Span)>,
}

impl PositionMap {
    /// The policy span of the code at rhai `line`:`col` (1-based): the last
    /// mapped node that starts at or before it.
    pub fn lookup(&self, line: usize, col: usize) -> Option<Span> {
        let key = (
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(col).unwrap_or(u32::MAX),
        );
        let i = self.entries.partition_point(|&(l, c, _)| (l, c) <= key);
        i.checked_sub(1)
            .and_then(|i| self.entries.get(i))
            .map(|&(_, _, s)| s)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

pub(super) struct Emitter {
    pub out: String,
    line: u32,
    col: u32,
    pub map: PositionMap,
    next_tmp: usize,
}

impl Emitter {
    pub fn new() -> Self {
        Self {
            out: String::new(),
            line: 1,
            col: 1,
            map: PositionMap::default(),
            next_tmp: 0,
        }
    }

    /// Records that what is written next comes from `span`.
    pub fn mark(&mut self, span: Span) {
        let entry = (self.line, self.col, span);
        match self.map.entries.last_mut() {
            Some(last) if (last.0, last.1) == (entry.0, entry.1) => *last = entry,
            _ => self.map.entries.push(entry),
        }
    }

    pub fn w(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
        }
        self.out.push_str(s);
    }

    /// A fresh temporary name (`__t1`, `__t2`, ...).
    pub fn tmp(&mut self) -> String {
        self.next_tmp += 1;
        format!("__t{}", self.next_tmp)
    }
}

/// A rhai string literal for `s`.
pub(super) fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        escape_into(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// A rhai character literal for `c`.
pub(super) fn char_literal(c: char) -> String {
    let mut out = String::from("'");
    escape_into(&mut out, c, '\'');
    out.push('\'');
    out
}

fn escape_into(out: &mut String, c: char, quote: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if c.is_control() => out.push_str(&format!("\\U{:08x}", u32::from(c))),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_map_back() {
        let mut e = Emitter::new();
        e.mark(Span::new(10, 11));
        e.w("a + ");
        e.mark(Span::new(20, 21));
        e.w("b\n");
        e.mark(Span::new(30, 31));
        e.w("c");
        assert_eq!(e.map.lookup(1, 1), Some(Span::new(10, 11)));
        assert_eq!(e.map.lookup(1, 3), Some(Span::new(10, 11)));
        assert_eq!(e.map.lookup(1, 5), Some(Span::new(20, 21)));
        assert_eq!(e.map.lookup(2, 1), Some(Span::new(30, 31)));
    }

    #[test]
    fn literals_escape() {
        assert_eq!(string_literal("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(char_literal('\''), r"'\''");
        assert_eq!(string_literal("\u{1}"), r#""\U00000001""#);
    }
}
