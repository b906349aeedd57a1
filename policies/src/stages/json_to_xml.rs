//! `json-to-xml`: converts the JSON body of the request (inbound) or the
//! response (outbound, on-error) to XML, the way Newtonsoft's
//! `JsonConvert.DeserializeXmlNode` does (docs/decisions.md lists the rules):
//! a JSON object with one property is the root element, anything else is
//! wrapped in `<Document>`; properties are elements, arrays repeat their
//! element, `null` and `{}` are empty elements, `@name` properties (and those
//! of the `attribute-block-name` object) are attributes, `#text` is text.

use serde_json::{Map, Value};
use sluice_engine::runtime::{
    Body, CompileCx, Compiled, CompiledValue, Exchange, OFFLOAD_BODY_BYTES, PolicyError, Run, Stage,
};
use sluice_engine::xml::Element;

use crate::xml_tree::{escape_attr, escape_text};

/// The root element when the JSON is not an object with one property.
const ROOT: &str = "Document";

#[derive(Debug)]
struct JsonToXml {
    apply: CompiledValue,
    consider_accept: Option<CompiledValue>,
    separator: Option<CompiledValue>,
    namespace_prefix: Option<CompiledValue>,
    attribute_block: Option<CompiledValue>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(JsonToXml {
        apply: cx.required(e, "apply")?,
        consider_accept: cx.optional(e, "consider-accept-header")?,
        separator: cx.optional(e, "namespace-separator")?,
        namespace_prefix: cx.optional(e, "namespace-prefix")?,
        attribute_block: cx.optional(e, "attribute-block-name")?,
    }))
}

/// Whether the conversion applies: `apply` is `always`, or the message's
/// Content-Type mentions `kind`; and, unless `consider-accept-header` is
/// false, the request's Accept header mentions `wanted`.
pub(crate) fn applies(
    x: &Exchange,
    apply: &CompiledValue,
    consider_accept: Option<&CompiledValue>,
    kind: &str,
    wanted: &str,
) -> Result<bool, PolicyError> {
    let apply = apply.eval_string(x)?.unwrap_or_default();
    if apply.trim() != "always" {
        let ct = header(x.message(), "Content-Type");
        if !ct.to_ascii_lowercase().contains(kind) {
            return Ok(false);
        }
    }
    let consider = match consider_accept {
        Some(v) => v.eval_bool(x)?,
        None => true,
    };
    Ok(!consider
        || header(x.request(), "Accept")
            .to_ascii_lowercase()
            .contains(wanted))
}

fn header(m: &sluice_engine::runtime::MessageRef, name: &str) -> String {
    m.read(|m| m.headers.get(name).map(|v| v.join(",")).unwrap_or_default())
}

/// Replaces the message body (and its Content-Type) when `convert` gives a new one.
pub(crate) fn rewrite(
    x: &Exchange,
    content_type: &str,
    convert: impl FnOnce(&str) -> Option<String>,
) {
    let Some(text) = x.message().read(|m| {
        m.body
            .as_ref()
            .filter(|b| !b.bytes.is_empty())
            .map(|b| String::from_utf8_lossy(&b.bytes).into_owned())
    }) else {
        return;
    };
    // A body that does not parse is left as it is (docs/decisions.md). A
    // large one is converted off the worker (its other connections go on).
    let long = text.len() >= OFFLOAD_BODY_BYTES;
    let Some(out) = x.offload_if(long, || convert(&text)) else {
        return;
    };
    x.message().write(|m| {
        m.body = Some(Body {
            bytes: out.into_bytes().into(),
            consumed: false,
        });
        m.headers.set_one("Content-Type", content_type.to_owned());
    });
}

/// The naming options of a conversion.
pub(crate) struct Options {
    pub separator: char,
    pub namespace_prefix: Option<String>,
    pub attribute_block: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            separator: '_',
            namespace_prefix: None,
            attribute_block: None,
        }
    }
}

impl JsonToXml {
    fn options(&self, x: &Exchange) -> Result<Options, PolicyError> {
        let text = |v: &Option<CompiledValue>| -> Result<Option<String>, PolicyError> {
            match v {
                Some(v) => Ok(v.eval_string(x)?.filter(|s| !s.is_empty())),
                None => Ok(None),
            }
        };
        Ok(Options {
            separator: text(&self.separator)?
                .and_then(|s| s.chars().next())
                .unwrap_or('_'),
            namespace_prefix: text(&self.namespace_prefix)?,
            attribute_block: text(&self.attribute_block)?,
        })
    }
}

impl Stage for JsonToXml {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let r = applies(x, &self.apply, self.consider_accept.as_ref(), "json", "xml")
            .and_then(|yes| Ok(if yes { Some(self.options(x)?) } else { None }));
        match r {
            Ok(Some(opts)) => {
                rewrite(x, "application/xml", |text| {
                    let v: Value = serde_json::from_str(text).ok()?;
                    Some(to_xml(&v, &opts))
                });
                Run::next()
            }
            Ok(None) => Run::next(),
            Err(e) => Run::fail(e),
        }
    }
}

/// The XML text of a JSON value.
pub(crate) fn to_xml(v: &Value, o: &Options) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if m.len() == 1 => {
            if let Some((k, v)) = m.iter().next()
                && !v.is_array()
            {
                element(&mut out, k, v, o);
                return out;
            }
            element(&mut out, ROOT, v, o);
        }
        Value::Array(items) => {
            let wrapped: Map<String, Value> =
                std::iter::once(("Item".to_owned(), Value::Array(items.clone()))).collect();
            element(&mut out, ROOT, &Value::Object(wrapped), o);
        }
        v => element(&mut out, ROOT, v, o),
    }
    out
}

/// An XML name for a JSON property name: `:` becomes the separator unless it
/// is `:`, and characters XML does not allow are `_xHHHH_` (`XmlConvert.EncodeName`).
fn xml_name(name: &str, o: &Options) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        let c = if c == ':' && o.separator != ':' {
            o.separator
        } else {
            c
        };
        let ok = c.is_alphabetic()
            || c == '_'
            || (c == ':' && i > 0)
            || (i > 0 && (c.is_numeric() || c == '-' || c == '.'));
        if ok {
            out.push(c);
        } else {
            out.push_str(&format!("_x{:04X}_", u32::from(c)));
        }
    }
    if out.is_empty() { "_".into() } else { out }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One property (or array item) as an element.
fn element(out: &mut String, name: &str, v: &Value, o: &Options) {
    if let Value::Array(items) = v {
        for item in items {
            element(out, name, item, o);
        }
        return;
    }
    let tag = xml_name(name, o);
    out.push('<');
    out.push_str(&tag);
    let mut content = String::new();
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                let block = o.attribute_block.as_deref() == Some(k.as_str());
                let declaration = o
                    .namespace_prefix
                    .as_deref()
                    .is_some_and(|p| k.starts_with(p));
                if block && let Value::Object(attrs) = val {
                    for (a, av) in attrs {
                        attribute(out, &xml_name(a, o), &scalar(av));
                    }
                } else if declaration {
                    attribute(out, k, &scalar(val));
                } else if let Some(a) = k.strip_prefix('@') {
                    attribute(out, &xml_name(a, o), &scalar(val));
                } else if k == "#text" {
                    escape_text(&scalar(val), &mut content);
                } else if k == "#cdata-section" {
                    content.push_str("<![CDATA[");
                    content.push_str(&scalar(val).replace("]]>", "]]]]><![CDATA[>"));
                    content.push_str("]]>");
                } else {
                    element(&mut content, k, val, o);
                }
            }
        }
        v => escape_text(&scalar(v), &mut content),
    }
    if content.is_empty() {
        out.push_str(" />");
    } else {
        out.push('>');
        out.push_str(&content);
        out.push_str("</");
        out.push_str(&tag);
        out.push('>');
    }
}

fn attribute(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape_attr(value, out);
    out.push('"');
}

#[cfg(test)]
mod tests;
