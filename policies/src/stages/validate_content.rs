//! `validate-content`: the body of the request (inbound) or response
//! (outbound, on-error) against the API's document.
//!
//! In order: the body's size against `max-size` (`size-exceeded-action`);
//! its content type (the `Content-Type` media type, mapped by
//! `<content-type-map>`: a matching `<type from|when to>`, else
//! `any-content-type-value`, else `missing-content-type-value` when there
//! is none) against the content types the document gives the operation's
//! request body or its response for the status code
//! (`unspecified-content-type-action`); then the `<content>` whose `type`
//! is that content type (or the one without `type`) validates the body as
//! it says (`validate-as`) with its `action`: `json` against the
//! document's schema for the content type (or `schema-id`'s, at
//! `schema-ref`), with `allow-additional-properties` and
//! `case-insensitive-property-names` applied to the schema; `xml` and
//! `soap` check that the body is well-formed XML (and a SOAP envelope with
//! a body), as Sluice has no XML Schema validator. A body that is empty is
//! not validated. `prevent` answers 400 for a request and 502 for a response.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Run, Stage,
};
use sluice_engine::schema::Section;
use sluice_engine::xml::Element;

use crate::openapi::{ApiSpec, Dialect, Schema, SpecOperation};
use crate::schemas::Schemas;
use crate::validation::{
    Action, ActionValue, Finding, INTERNAL, Report, api_spec, errors_variable, no_schema,
    operation, schema_errors,
};

const SOURCE: &str = "validate-content";

#[derive(Debug)]
struct TypeMap {
    from: Option<CompiledValue>,
    when: Option<CompiledValue>,
    to: CompiledValue,
}

#[derive(Debug)]
struct ContentRule {
    ty: Option<CompiledValue>,
    validate_as: CompiledValue,
    /// `schema-id`'s schema (at `schema-ref`), resolved when loading.
    schema: Option<(Schema, Dialect)>,
    action: ActionValue,
    allow_additional: Option<CompiledValue>,
    case_insensitive: Option<CompiledValue>,
}

/// A schema's name, `allow-additional-properties`, `case-insensitive-property-names`.
type VariantKey = (String, Option<bool>, bool);

#[derive(Debug)]
struct ValidateContent {
    spec: Option<Arc<ApiSpec>>,
    unspecified: ActionValue,
    max_size: CompiledValue,
    size_exceeded: ActionValue,
    variable: Option<String>,
    any_type: Option<CompiledValue>,
    missing_type: Option<CompiledValue>,
    types: Vec<TypeMap>,
    contents: Vec<ContentRule>,
    /// Schemas changed by `allow-additional-properties` or
    /// `case-insensitive-property-names`, each compiled once.
    variants: Mutex<HashMap<VariantKey, Schema>>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let unspecified = ActionValue::required(e, "unspecified-content-type-action", SOURCE, cx)?;
    let max_size = cx.required(e, "max-size")?;
    let size_exceeded = ActionValue::required(e, "size-exceeded-action", SOURCE, cx)?;
    let (mut any_type, mut missing_type, mut types) = (None, None, Vec::new());
    if let Some(map) = e.elements().find(|c| c.name == "content-type-map") {
        any_type = cx.optional(map, "any-content-type-value")?;
        missing_type = cx.optional(map, "missing-content-type-value")?;
        for t in map.elements().filter(|c| c.name == "type") {
            types.push(TypeMap {
                from: cx.optional(t, "from")?,
                when: cx.optional(t, "when")?,
                to: cx.required(t, "to")?,
            });
        }
    }
    let mut contents = Vec::new();
    for c in e.elements().filter(|c| c.name == "content") {
        let validate_as = cx.required(c, "validate-as")?;
        if !cfg!(feature = "json-schema")
            && matches!(&validate_as, CompiledValue::Literal(v) if v == "json")
        {
            return cx.fail(
                sluice_engine::diag::Code::ConfigReference,
                c.span,
                "`validate-as=\"json\"` needs a build of sluice with the feature `json-schema`",
            );
        }
        let schema = match cx.literal(c, "schema-id") {
            Some(id) => Some(named_schema(c, &id, cx)?),
            None => None,
        };
        contents.push(ContentRule {
            ty: cx.optional(c, "type")?,
            validate_as,
            schema,
            action: ActionValue::required(c, "action", SOURCE, cx)?,
            allow_additional: cx.optional(c, "allow-additional-properties")?,
            case_insensitive: cx.optional(c, "case-insensitive-property-names")?,
        });
    }
    Ok(Box::new(ValidateContent {
        spec: api_spec(cx),
        unspecified,
        max_size,
        size_exceeded,
        variable: errors_variable(e, cx),
        any_type,
        missing_type,
        types,
        contents,
        variants: Mutex::new(HashMap::new()),
    }))
}

/// `schema-id`'s schema from `[schemas]`, at `schema-ref` when given.
fn named_schema(c: &Element, id: &str, cx: &mut CompileCx<'_>) -> Compiled<(Schema, Dialect)> {
    let span = c.attr("schema-id").map_or(c.span, |a| a.value.span);
    let Some(schemas) = cx.resources.get::<Schemas>() else {
        return cx.fail(
            sluice_engine::diag::Code::ConfigReference,
            span,
            format!("no schema `{id}`: add it to `[schemas]`"),
        );
    };
    let Some(doc) = schemas.get(id) else {
        return cx.fail(
            sluice_engine::diag::Code::ConfigReference,
            span,
            format!("no schema `{id}`: add it to `[schemas]`"),
        );
    };
    let reference = cx.literal(c, "schema-ref");
    match doc.at(id, reference.as_deref()) {
        Ok(s) => Ok((s, doc.dialect)),
        Err(msg) => {
            let span = c.attr("schema-ref").map_or(span, |a| a.value.span);
            cx.fail(sluice_engine::diag::Code::ConfigReference, span, msg)
        }
    }
}

/// The media type of a `Content-Type` value: lower case, without parameters.
fn media_type(v: &str) -> String {
    v.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

impl ValidateContent {
    /// The content type validation uses: mapped, or the message's own.
    fn content_type(&self, x: &Exchange, own: Option<String>) -> Result<String, PolicyError> {
        for t in &self.types {
            let matches = match (&t.from, &t.when) {
                (Some(from), _) => own
                    .as_deref()
                    .is_some_and(|o| media_type(&from.text(x).unwrap_or_default()) == o),
                (None, Some(when)) => when.eval_bool(x)?,
                (None, None) => false,
            };
            if matches {
                return Ok(media_type(&t.to.text(x)?));
            }
        }
        if let Some(any) = &self.any_type {
            return Ok(media_type(&any.text(x)?));
        }
        match (own, &self.missing_type) {
            (None, Some(m)) => Ok(media_type(&m.text(x)?)),
            (own, _) => Ok(own.unwrap_or_default()),
        }
    }

    /// The document's content types (and schemas) for this message.
    fn declared<'s>(
        &self,
        x: &Exchange,
        op: Option<&'s SpecOperation>,
    ) -> &'s [(String, Option<Schema>)] {
        let Some(op) = op else { return &[] };
        if is_request(x) {
            &op.request_content
        } else {
            let status = x.response().read(|m| m.status);
            u16::try_from(status)
                .ok()
                .and_then(|s| op.response(s))
                .map(|r| r.content.as_slice())
                .unwrap_or_default()
        }
    }

    fn check(&self, x: &Exchange) -> Result<(), PolicyError> {
        let mut report = Report::new(SOURCE);
        let request = is_request(x);
        let (kind, noun) = if request {
            ("RequestBody", "request")
        } else {
            ("ResponseBody", "response")
        };
        let (body, own_type) = x.message().read(|m| {
            (
                m.body.as_ref().map(|b| b.bytes.clone()).unwrap_or_default(),
                m.headers
                    .get("content-type")
                    .and_then(|v| v.first())
                    .map(|v| media_type(v))
                    .filter(|v| !v.is_empty()),
            )
        });
        let public = |details: &str| {
            if request {
                details.to_owned()
            } else {
                INTERNAL.to_owned()
            }
        };
        // Size.
        let max = self.max_size.eval_int(x)?;
        let size = body.len();
        if i64::try_from(size).unwrap_or(i64::MAX) > max {
            let action = self.size_exceeded.eval(x)?;
            let who = if request { "Request's" } else { "Response's" };
            let f = Finding {
                name: String::new(),
                kind,
                rule: "SizeLimit",
                details: format!(
                    "{who} body is {size} bytes long and it exceeds the configured limit of {max} bytes."
                ),
                public: if request {
                    format!(
                        "{who} body is {size} bytes long and it exceeds the limit of {max} bytes."
                    )
                } else {
                    INTERNAL.into()
                },
                action,
            };
            if report.add(f) {
                return report.finish(x, self.variable.as_deref());
            }
        }
        if body.is_empty() {
            return report.finish(x, self.variable.as_deref());
        }
        // Content type: checked against the document when the API has one.
        let ct = self.content_type(x, own_type)?;
        let mut in_spec = None;
        match &self.spec {
            None if self.contents.iter().all(|c| c.schema.is_none()) => {
                report.add(no_schema(self.unspecified.eval(x)?));
                return report.finish(x, self.variable.as_deref());
            }
            None => {}
            Some(spec) => {
                let declared = self.declared(x, operation(spec, x));
                in_spec = declared.iter().find(|(t, _)| *t == ct);
                if in_spec.is_none() {
                    let d = format!("Unspecified content type {ct} is not allowed.");
                    let f = Finding {
                        name: ct.clone(),
                        kind,
                        rule: "Unspecified",
                        details: d.clone(),
                        public: public(&d),
                        action: self.unspecified.eval(x)?,
                    };
                    if report.add(f) {
                        return report.finish(x, self.variable.as_deref());
                    }
                }
            }
        }
        // Body.
        let mut rule = None;
        for c in &self.contents {
            match &c.ty {
                Some(t) if media_type(&t.text(x)?) == ct => {
                    rule = Some(c);
                    break;
                }
                None if rule.is_none() && (in_spec.is_some() || self.spec.is_none()) => {
                    rule = Some(c)
                }
                _ => {}
            }
        }
        let Some(rule) = rule else {
            return report.finish(x, self.variable.as_deref());
        };
        let action = rule.action.eval(x)?;
        if action == Action::Ignore {
            return report.finish(x, self.variable.as_deref());
        }
        let text = String::from_utf8_lossy(&body);
        let incorrect = |definition: &str, errors: String| {
            let d = format!(
                "Body of the {noun} does not conform to the definition {definition}, which is associated with the content type {ct}.\n\n{errors}"
            );
            Finding {
                name: ct.clone(),
                kind,
                rule: "IncorrectMessage",
                details: d.clone(),
                public: public(&d),
                action,
            }
        };
        let found = match rule.validate_as.text(x)?.trim() {
            "json" => {
                let schema = match (&rule.schema, in_spec, &self.spec) {
                    (Some((s, d)), _, _) => Some((s, *d)),
                    (None, Some((_, Some(s))), Some(spec)) => Some((s, spec.dialect)),
                    _ => None,
                };
                match schema {
                    None => None,
                    Some((schema, dialect)) => {
                        let cx = Json {
                            x,
                            rule,
                            text: &text,
                            ct: &ct,
                            kind,
                            noun,
                            action,
                        };
                        self.json(&cx, schema, dialect, &incorrect)?
                    }
                }
            }
            as_xml => match crate::xml_tree::parse(&text) {
                Err(e) => Some(incorrect("xml", e)),
                Ok(doc) if as_xml == "soap" && !is_soap(&doc.root) => Some(incorrect(
                    "soap",
                    "The body is not a SOAP envelope with a body.".into(),
                )),
                Ok(_) => None,
            },
        };
        if let Some(f) = found {
            report.add(f);
        }
        report.finish(x, self.variable.as_deref())
    }

    fn json(
        &self,
        cx: &Json<'_>,
        schema: &Schema,
        dialect: Dialect,
        incorrect: &dyn Fn(&str, String) -> Finding,
    ) -> Result<Option<Finding>, PolicyError> {
        let Json {
            x,
            rule,
            text,
            ct,
            kind,
            noun,
            action,
        } = *cx;
        let mut instance: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return Ok(Some(incorrect(&schema.name, e.to_string()))),
        };
        let allow = match &rule.allow_additional {
            Some(v) => Some(v.eval_bool(x)?),
            None => None,
        };
        let insensitive = match &rule.case_insensitive {
            Some(v) => v.eval_bool(x)?,
            None => false,
        };
        if insensitive {
            lowercase_keys(&mut instance);
        }
        let schema = if allow.is_none() && !insensitive {
            schema.clone()
        } else {
            let key = (schema.name.clone(), allow, insensitive);
            let mut variants = self
                .variants
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            variants
                .entry(key)
                .or_insert_with(|| {
                    let mut bundled = schema.bundled.clone();
                    if let Some(allow) = allow {
                        additional(&mut bundled, allow);
                    }
                    if insensitive {
                        lowercase_properties(&mut bundled);
                    }
                    Schema::new(schema.name.clone(), bundled)
                })
                .clone()
        };
        Ok(match schema_errors(&schema, dialect, &instance) {
            Ok(errors) if errors.is_empty() => None,
            Ok(errors) => Some(incorrect(&schema.name, errors.join("\n"))),
            Err(e) => Some(Finding {
                name: ct.to_owned(),
                kind,
                rule: "ValidationException",
                details: format!(
                    "Body of the {noun} cannot be validated for the content type {ct}.\n\n{e}"
                ),
                public: INTERNAL.into(),
                action,
            }),
        })
    }
}

/// What checking a JSON body needs.
#[derive(Clone, Copy)]
struct Json<'a> {
    x: &'a Exchange,
    rule: &'a ContentRule,
    text: &'a str,
    ct: &'a str,
    kind: &'static str,
    noun: &'a str,
    action: Action,
}

fn is_request(x: &Exchange) -> bool {
    matches!(x.section, Section::Inbound | Section::Backend)
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn is_soap(root: &crate::xml_tree::XElement) -> bool {
    local(&root.name) == "Envelope"
        && root
            .children
            .iter()
            .any(|c| matches!(c, crate::xml_tree::XNode::Element(e) if local(&e.name) == "Body"))
}

/// `allow-additional-properties`: every object schema allows (or refuses)
/// properties it does not name, whatever it says itself.
fn additional(v: &mut Value, allow: bool) {
    match v {
        Value::Object(o) => {
            let is_object_schema = o.contains_key("properties")
                || o.get("type").and_then(Value::as_str) == Some("object");
            if allow {
                if o.get("additionalProperties") == Some(&Value::Bool(false)) {
                    o.remove("additionalProperties");
                }
            } else if is_object_schema {
                o.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (k, c) in o.iter_mut() {
                if k != "additionalProperties" || !c.is_boolean() {
                    additional(c, allow);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| additional(c, allow)),
        _ => {}
    }
}

/// `case-insensitive-property-names`: the schema's property names in lower case.
fn lowercase_properties(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::Object(props)) = o.get_mut("properties") {
                let old = std::mem::take(props);
                for (k, c) in old {
                    props.insert(k.to_lowercase(), c);
                }
            }
            if let Some(Value::Array(req)) = o.get_mut("required") {
                for r in req.iter_mut() {
                    if let Value::String(s) = r {
                        *s = s.to_lowercase();
                    }
                }
            }
            for (_, c) in o.iter_mut() {
                lowercase_properties(c);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(lowercase_properties),
        _ => {}
    }
}

/// The body's property names in lower case.
fn lowercase_keys(v: &mut Value) {
    match v {
        Value::Object(o) => {
            let old = std::mem::take(o);
            for (k, mut c) in old {
                lowercase_keys(&mut c);
                o.insert(k.to_lowercase(), c);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(lowercase_keys),
        _ => {}
    }
}

impl Stage for ValidateContent {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::done(self.check(x))
    }
}
