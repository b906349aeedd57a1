//! Diagnostics: what went wrong, where, and how to fix it.
//!
//! - `codes.rs`: the stable code table.
//! - `render.rs`: rustc-style text and one-line JSON.
//! - `redact.rs`: secrets masked in messages and in the source lines shown.
//!
//! A [`Diagnostic`] carries its own [`Source`], so it can be rendered without
//! any other context, and all problems of a file are collected in one
//! [`Diagnostics`] list rather than stopping at the first.

mod codes;
mod redact;
mod render;

use std::sync::Arc;

pub use codes::Code;
pub use redact::Redaction;

use crate::source::{LineCol, Source, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub source: Arc<Source>,
    pub span: Span,
    /// Text printed beside the caret.
    pub label: Option<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, source: &Arc<Source>, span: Span, message: impl Into<String>) -> Self {
        let severity = match code.as_str().as_bytes().first() {
            Some(b'W') => Severity::Warning,
            Some(b'N') => Severity::Note,
            _ => Severity::Error,
        };
        Self {
            severity,
            code,
            message: message.into(),
            source: Arc::clone(source),
            span,
            label: None,
            help: None,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Where the diagnostic points, 1-based.
    pub fn line_col(&self) -> LineCol {
        self.source.line_col(self.span.start)
    }

    /// `WHERE:LINE:COL`, as load errors are reported.
    pub fn location(&self) -> String {
        let lc = self.line_col();
        format!("{}:{}:{}", self.source.name(), lc.line, lc.col)
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&render::render(self))
    }
}

/// The diagnostics of one load or check, in the order they were found.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Adds `d` unless the same diagnostic (file, place, code, message) is
    /// already here: a policy file that two scopes use is read twice, and
    /// its problems are reported once.
    pub fn push(&mut self, d: Diagnostic) {
        let same = |e: &Diagnostic| {
            e.span == d.span
                && e.code == d.code
                && e.message == d.message
                && e.source.name() == d.source.name()
        };
        if !self.0.iter().any(same) {
            self.0.push(d);
        }
    }

    pub fn extend(&mut self, other: Diagnostics) {
        for d in other.0 {
            self.push(d);
        }
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.0.iter().filter(|d| d.severity == severity).count()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Drops all but the first `len` diagnostics (for error recovery that re-reads input).
    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    /// Sorted by file and position, as a reader expects them.
    pub fn sorted(mut self) -> Self {
        self.0.sort_by(|a, b| {
            (a.source.name(), a.span.start, a.code).cmp(&(b.source.name(), b.span.start, b.code))
        });
        self
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.0
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

/// "did you mean" for a misspelt name: the closest candidate, if close enough.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&name.to_ascii_lowercase(), c),
                c,
            )
        })
        .filter(|&(d, c)| d <= (c.len() / 3).max(2) && d < c.len())
        .min_by_key(|&(d, c)| (d, c.len()))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_problem_read_twice_is_reported_once() {
        // One policy file read for two APIs: two sources of one name.
        let (a, b) = (
            Source::new("llm.xml", "<policies/>"),
            Source::new("llm.xml", "<policies/>"),
        );
        let problem = |s: &Arc<Source>, at: usize, message: &str| {
            Diagnostic::new(
                Code::InvalidAttributeValue,
                s,
                Span::new(at, at + 1),
                message,
            )
        };
        let mut first = Diagnostics::new();
        first.push(problem(&a, 1, "bad"));
        let mut second = Diagnostics::new();
        second.push(problem(&b, 1, "bad"));
        second.push(problem(&b, 2, "bad"));
        second.push(problem(&b, 1, "worse"));
        first.extend(second);
        first.push(problem(&a, 1, "bad"));
        first.push(problem(&Source::new("other.xml", "<policies/>"), 1, "bad"));
        let seen: Vec<String> = first
            .iter()
            .map(|d| format!("{} {} {}", d.source.name(), d.span.start, d.message))
            .collect();
        assert_eq!(
            seen,
            [
                "llm.xml 1 bad",
                "llm.xml 2 bad",
                "llm.xml 1 worse",
                "other.xml 1 bad"
            ]
        );
    }
}
