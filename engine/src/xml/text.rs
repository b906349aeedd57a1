//! Decoded text with a map back to the source.
//!
//! Attribute values and text nodes are stored decoded (`&quot;` → `"`), but
//! expression spans must still point into the original file; [`Text`] keeps
//! breakpoints where decoded and source offsets stop moving in step.

use crate::source::Span;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text {
    /// The decoded value.
    pub value: String,
    /// The source range it was read from (for text made of several pieces, all of them).
    pub span: Span,
    /// `(value_offset, source_offset)` pairs, ascending; between two, offsets move together.
    map: Vec<(usize, usize)>,
}

impl Text {
    /// The `(value offset, source offset)` pairs positions are mapped by.
    pub fn offsets(&self) -> &[(usize, usize)] {
        &self.map
    }

    pub fn new(span: Span) -> Self {
        Self {
            value: String::new(),
            span,
            map: vec![(0, span.start)],
        }
    }

    /// A text whose value is exactly the source text under `span`.
    pub fn verbatim(value: &str, span: Span) -> Self {
        Self {
            value: value.to_owned(),
            span,
            map: vec![(0, span.start)],
        }
    }

    /// Appends `s`, which stands at source offset `src_at` and has the same length there.
    pub fn push_verbatim(&mut self, s: &str, src_at: usize) {
        self.mark(src_at);
        self.value.push_str(s);
    }

    /// Appends `c`, decoded from a reference that ends at source offset `src_end`.
    pub fn push_decoded(&mut self, c: char, src_start: usize, src_end: usize) {
        self.mark(src_start);
        self.value.push(c);
        self.map.push((self.value.len(), src_end));
    }

    /// Appends `s` in place of the reference at `span` (a substituted named value):
    /// every offset inside `s` maps into that reference.
    pub fn push_replacement(&mut self, s: &str, span: Span) {
        self.map.push((self.value.len(), span.start));
        self.value.push_str(s);
        self.map.push((self.value.len(), span.end));
    }

    /// Appends another text (e.g. the next text node or CDATA of the same element).
    pub fn append(&mut self, other: &Text) {
        let base = self.value.len();
        self.value.push_str(&other.value);
        self.map
            .extend(other.map.iter().map(|&(v, s)| (v + base, s)));
        self.span = if self.span.is_empty() && self.map.len() == other.map.len() {
            other.span
        } else {
            self.span.join(other.span)
        };
    }

    fn mark(&mut self, src_at: usize) {
        let here = self.value.len();
        match self.map.last() {
            Some(&(v, s)) if s + (here - v) == src_at => {}
            _ => self.map.push((here, src_at)),
        }
    }

    /// The source offset of value offset `at`.
    pub fn source_offset(&self, at: usize) -> usize {
        let i = self.map.partition_point(|&(v, _)| v <= at);
        match i.checked_sub(1).and_then(|i| self.map.get(i)) {
            Some(&(v, s)) => s + (at - v),
            None => self.span.start + at,
        }
    }

    /// The source span of the value range `start..end`.
    pub fn source_span(&self, start: usize, end: usize) -> Span {
        let s = self.source_offset(start);
        let e = if end > start {
            self.source_offset(end - 1) + 1
        } else {
            s
        };
        Span::new(s, e.max(s))
    }

    /// The value with leading and trailing white space removed, keeping the map.
    pub fn trimmed(&self) -> Text {
        let start = self.value.len() - self.value.trim_start().len();
        let end = self.value.trim_end().len().max(start);
        self.sub(start, end)
    }

    /// The part of the value in `start..end`, keeping the map.
    pub fn sub(&self, start: usize, end: usize) -> Text {
        let value = self.value.get(start..end).unwrap_or("").to_owned();
        let mut map = vec![(0, self.source_offset(start))];
        map.extend(
            self.map
                .iter()
                .filter(|&&(v, _)| v > start && v < end)
                .map(|&(v, s)| (v - start, s)),
        );
        let span = self.source_span(start, end);
        Text { value, span, map }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_offsets_map_back_to_source() {
        // source: a&quot;b   (a at 10, &quot; at 11..17, b at 17)
        let mut t = Text::new(Span::new(10, 18));
        t.push_verbatim("a", 10);
        t.push_decoded('"', 11, 17);
        t.push_verbatim("b", 17);
        assert_eq!(t.value, "a\"b");
        assert_eq!(t.source_offset(0), 10);
        assert_eq!(t.source_offset(1), 11);
        assert_eq!(t.source_offset(2), 17);
        assert_eq!(t.source_span(2, 3), Span::new(17, 18));
        let sub = t.sub(2, 3);
        assert_eq!(sub.value, "b");
        assert_eq!(sub.source_offset(0), 17);
    }

    #[test]
    fn appended_pieces_keep_their_positions() {
        let mut a = Text::verbatim("ab", Span::new(0, 2));
        let b = Text::verbatim("cd", Span::new(20, 22));
        a.append(&b);
        assert_eq!(a.value, "abcd");
        assert_eq!(a.source_offset(1), 1);
        assert_eq!(a.source_offset(2), 20);
        assert_eq!(a.source_offset(3), 21);
    }
}
