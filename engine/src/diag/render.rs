//! Rendering diagnostics like rustc, and as one JSON object per line.

use super::Diagnostic;

/// rustc-style text:
///
/// ```text
/// error[E0305]: unknown attribute `exist-action` on `set-header`
///  --> policy.xml:3:17
///   |
/// 3 |     <set-header exist-action="override" name="x">
///   |                 ^^^^^^^^^^^^ not an attribute of `set-header`
///   |
///   = help: did you mean `exists-action`?
/// ```
pub(super) fn render(d: &Diagnostic) -> String {
    let src = &d.source;
    let lc = src.line_col(d.span.start);
    let line_text = src.line_text(lc.line);
    let gutter = lc.line.to_string().len();
    let pad = " ".repeat(gutter);
    let mut out = format!(
        "{}[{}]: {}\n",
        d.severity.as_str(),
        d.code.as_str(),
        d.message
    );
    out.push_str(&format!("{pad}--> {}:{}:{}\n", src.name(), lc.line, lc.col));
    out.push_str(&format!("{pad} |\n"));
    // Tabs are shown as four spaces so the caret stays aligned.
    let shown: String = line_text.replace('\t', "    ");
    out.push_str(&format!("{} | {}\n", lc.line, shown));
    let before: usize = line_text
        .chars()
        .take(lc.col - 1)
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum();
    // The caret covers the span up to the end of its first line.
    let line_end = src.line_start(lc.line) + line_text.len();
    let end = d.span.end.min(line_end).max(d.span.start);
    let width = src
        .slice(crate::source::Span::new(d.span.start, end))
        .chars()
        .count()
        .max(1);
    out.push_str(&format!(
        "{pad} | {}{}",
        " ".repeat(before),
        "^".repeat(width)
    ));
    if let Some(label) = &d.label {
        out.push(' ');
        out.push_str(label);
    }
    out.push('\n');
    if let Some(help) = &d.help {
        out.push_str(&format!("{pad} |\n{pad} = help: {help}\n"));
    }
    out
}

impl Diagnostic {
    /// One JSON object: file, line, column, severity, code, message (and help).
    pub fn to_json(&self) -> serde_json::Value {
        let lc = self.line_col();
        let mut v = serde_json::json!({
            "file": self.source.name(),
            "line": lc.line,
            "column": lc.col,
            "severity": self.severity.as_str(),
            "code": self.code.as_str(),
            "message": self.message,
        });
        if let (Some(help), Some(obj)) = (&self.help, v.as_object_mut()) {
            obj.insert("help".into(), serde_json::Value::String(help.clone()));
        }
        v
    }
}
