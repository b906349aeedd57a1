//! Keeping secrets out of diagnostics.
//!
//! A [`Redaction`] knows the secret values of a configuration (and, for a
//! file that holds secrets literally, where they are in its text). Applied
//! to a set of [`Diagnostics`], it replaces every secret in a message, label
//! or help with `***`, and gives each diagnostic whose source text holds a
//! secret a masked copy of that text: each character of the secret becomes
//! a mask character of the same UTF-8 length (`*` for ASCII), so spans,
//! lines and columns stay where they were and the rendered line shows
//! `*****` in place of the secret.
//!
//! A value of fewer than [`Redaction::MIN_CHARS`] characters is not masked
//! wherever it occurs (it would mask every `1` or `ab` of every message),
//! only at the places given for it.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Diagnostics;
use crate::source::{Source, Span};

/// The secrets to keep out of diagnostics. Its `Debug` shows counts, never values.
#[derive(Clone, Default)]
pub struct Redaction {
    /// Masked wherever they occur, longest first.
    values: Vec<String>,
    /// Byte ranges masked in the text of the source of that name.
    places: BTreeMap<String, Vec<Span>>,
}

impl std::fmt::Debug for Redaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Redaction({} values, {} places)",
            self.values.len(),
            self.places.values().map(Vec::len).sum::<usize>()
        )
    }
}

impl Redaction {
    /// What a secret is replaced with in a message, label or help.
    pub const MASK: &'static str = "***";
    /// Shorter values are masked only at their places.
    pub const MIN_CHARS: usize = 4;

    pub fn new() -> Self {
        Self::default()
    }

    /// A secret value, masked wherever it occurs (if long enough).
    pub fn value(&mut self, value: &str) {
        if value.chars().count() >= Self::MIN_CHARS && !self.values.iter().any(|v| v == value) {
            self.values.push(value.to_owned());
            self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    /// A place in the text of the source named `source` that holds a
    /// secret (however short).
    pub fn place(&mut self, source: &str, span: Span) {
        if !span.is_empty() {
            self.places.entry(source.to_owned()).or_default().push(span);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.places.is_empty()
    }

    /// The secret values masked wherever they occur, longest first.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// `text` with every secret value replaced by `***`.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), Self::MASK);
            }
        }
        out
    }

    /// The diagnostics with no secret in their text nor in the source
    /// lines they show.
    pub fn apply(&self, diags: Diagnostics) -> Diagnostics {
        if self.is_empty() {
            return diags;
        }
        // A source shared by many diagnostics is masked once.
        let mut masked: Vec<(Arc<Source>, Arc<Source>)> = Vec::new();
        let out = diags
            .into_iter()
            .map(|mut d| {
                let known = masked.iter().find(|(s, _)| Arc::ptr_eq(s, &d.source));
                let source = match known {
                    Some((_, m)) => Arc::clone(m),
                    None => {
                        let m = self.source(&d.source);
                        masked.push((Arc::clone(&d.source), Arc::clone(&m)));
                        m
                    }
                };
                d.source = source;
                d.message = self.text(&d.message);
                d.label = d.label.map(|l| self.text(&l));
                d.help = d.help.map(|h| self.text(&h));
                d
            })
            .collect();
        Diagnostics(out)
    }

    /// `source` itself if its text holds no secret, else a masked copy.
    fn source(&self, source: &Arc<Source>) -> Arc<Source> {
        let text = source.text();
        let mut spans: Vec<Span> = self
            .places
            .get(source.name())
            .map(|p| p.to_vec())
            .unwrap_or_default();
        for v in &self.values {
            spans.extend(
                text.match_indices(v.as_str())
                    .map(|(i, m)| Span::new(i, i + m.len())),
            );
        }
        let spans: Vec<Span> = spans
            .into_iter()
            .filter(|s| text.get(s.start..s.end).is_some())
            .collect();
        if spans.is_empty() {
            return Arc::clone(source);
        }
        let mut out = String::with_capacity(text.len());
        for (i, c) in text.char_indices() {
            let secret = spans.iter().any(|s| s.start <= i && i < s.end);
            out.push(if secret { mask(c) } else { c });
        }
        Source::new(source.name(), out)
    }
}

/// A character of the same UTF-8 length as `c` (line breaks stay).
fn mask(c: char) -> char {
    match c.len_utf8() {
        _ if c == '\n' || c == '\r' => c,
        1 => '*',
        2 => '×',
        3 => '∗',
        _ => '🞱',
    }
}

impl Diagnostics {
    /// These diagnostics with `redaction`'s secrets masked.
    pub fn redacted(self, redaction: &Redaction) -> Diagnostics {
        redaction.apply(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Code, Diagnostic};

    fn diag(source: &Arc<Source>, at: usize, message: &str) -> Diagnostic {
        Diagnostic::new(
            Code::InvalidAttributeValue,
            source,
            Span::new(at, at + 4),
            message,
        )
        .with_label("not `SECRET-42`")
        .with_help("use `{{key}}`, not `SECRET-42`")
    }

    #[test]
    fn secrets_are_masked_in_text_and_in_the_line_shown() {
        let src = Source::new(
            "p.xml",
            "<policies>\n  <x a=\"SECRET-42\" b=\"ok\" />\n</policies>",
        );
        let mut r = Redaction::new();
        r.value("SECRET-42");
        r.value("ok"); // too short to mask wherever it occurs
        let at = src.text().find("b=").unwrap();
        let mut diags = Diagnostics::new();
        diags.push(diag(&src, at, "`SECRET-42` is not an IP address"));
        let d = &r.apply(diags).into_vec()[0];
        assert_eq!(d.message, "`***` is not an IP address");
        assert_eq!(d.label.as_deref(), Some("not `***`"));
        assert_eq!(d.help.as_deref(), Some("use `{{key}}`, not `***`"));
        let shown = d.to_string();
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(
            shown.contains("2 |   <x a=\"*********\" b=\"ok\" />"),
            "{shown}"
        );
        // The same place, line and column as before masking.
        assert_eq!(d.location(), "p.xml:2:20");
        assert_eq!(d.span, Span::new(at, at + 4));
    }

    #[test]
    fn places_mask_short_secrets_and_keep_columns_of_any_character() {
        let src = Source::new("c.toml", "k = { value = \"ab\" }\nt = \"çé€x\"\nbad");
        let mut r = Redaction::new();
        let short = src.text().find("ab").unwrap();
        r.place("c.toml", Span::new(short, short + 2));
        r.place("other.toml", Span::new(0, 3));
        r.value("çé€x");
        let mut diags = Diagnostics::new();
        let bad = src.text().find("bad").unwrap();
        diags.push(Diagnostic::new(
            Code::ConfigSyntax,
            &src,
            Span::new(bad, bad + 3),
            "oops",
        ));
        let d = &r.apply(diags).into_vec()[0];
        assert_eq!(d.source.text(), "k = { value = \"**\" }\nt = \"××∗*\"\nbad");
        assert_eq!(d.source.text().len(), src.text().len());
        assert_eq!(d.location(), "c.toml:3:1");
    }

    #[test]
    fn nothing_to_mask_keeps_the_source() {
        let src = Source::new("p.xml", "<policies />");
        let mut r = Redaction::new();
        r.value("SECRET-42");
        let mut diags = Diagnostics::new();
        diags.push(Diagnostic::new(
            Code::InvalidAttributeValue,
            &src,
            Span::point(0),
            "fine",
        ));
        let d = &r.apply(diags).into_vec()[0];
        assert!(Arc::ptr_eq(&d.source, &src));
        assert_eq!(format!("{r:?}"), "Redaction(1 values, 0 places)");
    }
}
