//! Attribute and text values: named-value substitution, then literal or expression.
//!
//! An expression is the *whole* value: `@(...)` or `@{...}` from the first to
//! the last character (white space around it is ignored). `{{name}}` is
//! replaced before that decision, inside expression source and literal text
//! alike, as APIM does.

use std::collections::BTreeMap;

use crate::source::Span;
use crate::xml::Text;
use crate::xml::scan::expression_end;

/// What a value is, once named values are substituted.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Literal(Text),
    /// `@(...)`: the text includes the `@(` and `)`.
    Expression(Text),
    /// `@{...}`: the text includes the `@{` and `}`.
    Block(Text),
    /// Holds `{{name}}` references with no value supplied (standalone check):
    /// what the value will be is not known.
    Unresolved(Text),
}

impl Value {
    pub fn text(&self) -> &Text {
        match self {
            Value::Literal(t) | Value::Expression(t) | Value::Block(t) | Value::Unresolved(t) => t,
        }
    }

    pub fn is_expression(&self) -> bool {
        matches!(self, Value::Expression(_) | Value::Block(_))
    }
}

/// A `{{name}}` reference found in a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedRef {
    pub name: String,
    /// The span of `{{name}}` in the source.
    pub span: Span,
}

/// The named values a document is loaded with.
#[derive(Clone, Debug, Default)]
pub enum NamedValues {
    /// None supplied: references stay in place (a standalone `check`).
    #[default]
    Unknown,
    /// These and no others: any other reference is an error.
    Known(BTreeMap<String, String>),
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// Every `{{name}}` in `text`, as value-offset ranges and names.
fn references(text: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("{{").map(|i| from + i) {
        let rest = &text[i + 2..];
        let len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        if len > 0 && rest[len..].starts_with("}}") {
            out.push((i, i + 2 + len + 2, &rest[..len]));
            from = i + 2 + len + 2;
        } else {
            from = i + 2;
        }
    }
    out
}

/// Resolves a raw value. Returns the value and the references it held that
/// have no value (in `Unknown` mode those are left in place).
pub fn resolve(raw: &Text, named: &NamedValues) -> (Value, Vec<NamedRef>) {
    let refs = references(&raw.value);
    let mut missing = Vec::new();
    let text = if refs.is_empty() {
        raw.clone()
    } else {
        let mut out = Text::new(Span::point(raw.span.start));
        let mut last = 0;
        for &(start, end, name) in &refs {
            out.append(&raw.sub(last, start));
            let span = raw.source_span(start, end);
            match named {
                NamedValues::Known(values) if values.contains_key(name) => {
                    out.push_replacement(values.get(name).map_or("", String::as_str), span);
                }
                _ => {
                    missing.push(NamedRef {
                        name: name.to_owned(),
                        span,
                    });
                    out.append(&raw.sub(start, end));
                }
            }
            last = end;
        }
        out.append(&raw.sub(last, raw.value.len()));
        out.span = raw.span;
        out
    };
    if !missing.is_empty() {
        return (Value::Unresolved(text), missing);
    }
    (classify(text), missing)
}

/// Literal or expression: an expression spans the whole (trimmed) value.
pub fn classify(text: Text) -> Value {
    let trimmed = text.trimmed();
    let v = trimmed.value.as_str();
    let opener = v.as_bytes().get(1).copied();
    if v.starts_with('@')
        && matches!(opener, Some(b'(' | b'{'))
        && expression_end(v, 0, usize::MAX) == Ok(v.len())
    {
        return if opener == Some(b'(') {
            Value::Expression(trimmed)
        } else {
            Value::Block(trimmed)
        };
    }
    Value::Literal(text)
}

/// Whether a literal value holds `@(`/`@{` after its start: text mixed with an
/// expression, which APIM does not evaluate. Returns the value offset.
pub fn embedded_expression(literal: &Text) -> Option<usize> {
    let v = &literal.value;
    let lead = v.len() - v.trim_start().len();
    [v.find("@("), v.find("@{")]
        .into_iter()
        .flatten()
        .filter(|&i| i > lead)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Text {
        Text::verbatim(s, Span::new(100, 100 + s.len()))
    }

    #[test]
    fn whole_value_expressions_only() {
        assert!(matches!(classify(text("@(1 + 1)")), Value::Expression(_)));
        assert!(matches!(
            classify(text("\n   @{ return 1; }\n ")),
            Value::Block(_)
        ));
        assert!(matches!(classify(text("Hello @(x)")), Value::Literal(_)));
        assert!(matches!(classify(text("@(a) + @(b)")), Value::Literal(_)));
        assert_eq!(embedded_expression(&text("Hello @(x)")), Some(6));
        assert_eq!(embedded_expression(&text("  @(x)")), None);
    }

    #[test]
    fn named_values_substitute_everywhere() {
        let values = NamedValues::Known([("host".to_owned(), "example.org".to_owned())].into());
        let (v, missing) = resolve(&text("https://{{host}}/x"), &values);
        assert!(missing.is_empty());
        assert_eq!(v.text().value, "https://example.org/x");
        // Offsets after the substitution still map to the source.
        assert_eq!(
            v.text().source_offset("https://example.org/".len()),
            100 + "https://{{host}}/".len()
        );
        let (v, _) = resolve(&text(r#"@("{{host}}".Length)"#), &values);
        assert!(matches!(v, Value::Expression(ref t) if t.value == r#"@("example.org".Length)"#));
    }

    #[test]
    fn unknown_named_values() {
        let (v, missing) = resolve(&text("a{{x}}b{{y-1}}"), &NamedValues::Unknown);
        assert!(matches!(v, Value::Unresolved(_)));
        assert_eq!(
            missing.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["x", "y-1"]
        );
        assert_eq!(missing[0].span, Span::new(101, 106));
        let known = NamedValues::Known(BTreeMap::new());
        let (_, missing) = resolve(&text("{{x}}"), &known);
        assert_eq!(missing.len(), 1);
        // Not references: no name, or not closed.
        let (v, missing) = resolve(&text(r#"$"{{ {"#), &known);
        assert!(missing.is_empty() && matches!(v, Value::Literal(_)));
    }
}
