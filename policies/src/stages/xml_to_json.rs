//! `xml-to-json`: converts the XML body of the request (inbound) or the
//! response (outbound, on-error) to JSON (docs/decisions.md lists the rules).
//!
//! - `kind="direct"` mirrors the document like Newtonsoft's
//!   `JsonConvert.SerializeXmlNode`: `{"root": ...}` with the declaration as
//!   `"?xml"`, attributes (namespace declarations too) as `"@name"`, names
//!   with their prefixes, text beside attributes or elements as `"#text"`,
//!   `"#cdata-section"`, `"#comment"`;
//! - `kind="javascript-friendly"` gives plain properties: no declaration,
//!   comments or namespace declarations, local names without prefixes,
//!   attributes without `@`, CDATA as text.
//!
//! In both, an element with only text is a string, an empty element is
//! `null` (`<a></a>`: `""`), values stay strings, and repeated child elements
//! are an array at the place of the first (every child element is an array
//! with `always-array-child-elements="true"`).

use serde_json::{Map, Value};
use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Reason, Run, Stage,
};
use sluice_engine::xml::Element;

use super::json_to_xml::{applies, rewrite};
use crate::xml_tree::{XDocument, XElement, XNode, parse};

#[derive(Debug)]
struct XmlToJson {
    kind: CompiledValue,
    apply: CompiledValue,
    consider_accept: Option<CompiledValue>,
    always_array: Option<CompiledValue>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(XmlToJson {
        kind: cx.required(e, "kind")?,
        apply: cx.required(e, "apply")?,
        consider_accept: cx.optional(e, "consider-accept-header")?,
        always_array: cx.optional(e, "always-array-child-elements")?,
    }))
}

/// How to convert.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Kind {
    pub friendly: bool,
    pub always_array: bool,
}

impl XmlToJson {
    fn kind(&self, x: &Exchange) -> Result<Kind, PolicyError> {
        let friendly = match self.kind.eval_string(x)?.unwrap_or_default().trim() {
            "direct" => false,
            "javascript-friendly" => true,
            other => {
                return Err(PolicyError::new(
                    "xml-to-json",
                    Reason::ExpressionValueEvaluationFailure,
                    500,
                    format!(
                        "Expression evaluation failed. `{other}` is not `javascript-friendly` or `direct`"
                    ),
                ));
            }
        };
        let always_array = match &self.always_array {
            Some(v) => v.eval_bool(x)?,
            None => false,
        };
        Ok(Kind {
            friendly,
            always_array,
        })
    }
}

impl Stage for XmlToJson {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let r = applies(x, &self.apply, self.consider_accept.as_ref(), "xml", "json")
            .and_then(|yes| Ok(if yes { Some(self.kind(x)?) } else { None }));
        match r {
            Ok(Some(kind)) => {
                rewrite(x, "application/json", |text| {
                    let doc = parse(text).ok()?;
                    serde_json::to_string(&to_json(&doc, kind)).ok()
                });
                Run::next()
            }
            Ok(None) => Run::next(),
            Err(e) => Run::fail(e),
        }
    }
}

/// The JSON value of a document.
pub(crate) fn to_json(doc: &XDocument, k: Kind) -> Value {
    let mut out = Map::new();
    if !k.friendly {
        if let Some(decl) = &doc.declaration {
            let attrs = decl
                .iter()
                .map(|(n, v)| (format!("@{n}"), Value::String(v.clone())))
                .collect();
            out.insert("?xml".into(), Value::Object(attrs));
        }
        for c in &doc.comments {
            add(&mut out, "#comment".into(), Value::String(c.clone()), false);
        }
    }
    out.insert(name(&doc.root.name, k), element(&doc.root, k));
    Value::Object(out)
}

fn name(n: &str, k: Kind) -> String {
    if k.friendly {
        n.rsplit(':').next().unwrap_or(n).to_owned()
    } else {
        n.to_owned()
    }
}

/// Adds a property; a second one of the same name makes (or extends) an array.
fn add(m: &mut Map<String, Value>, key: String, v: Value, always_array: bool) {
    match m.get_mut(&key) {
        Some(Value::Array(items)) => items.push(v),
        Some(first) => {
            let first = first.take();
            m.insert(key, Value::Array(vec![first, v]));
        }
        None if always_array => {
            m.insert(key, Value::Array(vec![v]));
        }
        None => {
            m.insert(key, v);
        }
    }
}

fn element(e: &XElement, k: Kind) -> Value {
    let attrs: Vec<&(String, String)> = e
        .attrs
        .iter()
        .filter(|(n, _)| !(k.friendly && (n == "xmlns" || n.starts_with("xmlns:"))))
        .collect();
    let texts =
        |n: &XNode| matches!(n, XNode::Text(_)) || (k.friendly && matches!(n, XNode::CData(_)));
    let only_text = e.children.iter().all(texts);
    if attrs.is_empty() && only_text {
        if e.children.is_empty() {
            return if e.self_closing {
                Value::Null
            } else {
                Value::String(String::new())
            };
        }
        return Value::String(text_of(&e.children));
    }
    let mut m = Map::new();
    for (n, v) in attrs {
        let key = if k.friendly {
            name(n, k)
        } else {
            format!("@{n}")
        };
        m.insert(key, Value::String(v.clone()));
    }
    for c in &e.children {
        match c {
            XNode::Element(child) => add(
                &mut m,
                name(&child.name, k),
                element(child, k),
                k.always_array,
            ),
            XNode::Text(t) => add(&mut m, "#text".into(), Value::String(t.clone()), false),
            XNode::CData(t) if k.friendly => {
                add(&mut m, "#text".into(), Value::String(t.clone()), false)
            }
            XNode::CData(t) => add(
                &mut m,
                "#cdata-section".into(),
                Value::String(t.clone()),
                false,
            ),
            XNode::Comment(t) if !k.friendly => {
                add(&mut m, "#comment".into(), Value::String(t.clone()), false)
            }
            XNode::Comment(_) => {}
        }
    }
    Value::Object(m)
}

fn text_of(children: &[XNode]) -> String {
    children
        .iter()
        .filter_map(|c| match c {
            XNode::Text(t) | XNode::CData(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
