//! What the four validation policies (`validate-content`,
//! `validate-parameters`, `validate-headers`, `validate-status-code`)
//! share: their actions (`ignore`, `prevent`, `detect`), the validation
//! errors they record (APIM's `{Name, Type, ValidationRule, Details,
//! Action}`), the variable of `errors-variable-name`, the failure a
//! `prevent` becomes (400 in inbound, 502 in outbound and on-error, with
//! the details in `context.LastError.Message` and the public text to the
//! client), and JSON Schema checks of values against the API's document.

use std::sync::Arc;

use serde_json::Value;
use sluice_engine::runtime::{CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Reason};
use sluice_engine::schema::Section;
use sluice_engine::xml::Element;

use crate::openapi::{ApiSpec, ApiSpecs, Dialect, Schema, SpecOperation};

/// The public text of every error about a response, and of the request
/// errors whose details are not for the client.
pub(crate) const INTERNAL: &str =
    "The request could not be processed due to an internal error. Contact the API owner.";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Ignore,
    Prevent,
    Detect,
}

impl Action {
    fn parse(s: &str) -> Option<Action> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ignore" => Some(Action::Ignore),
            "prevent" => Some(Action::Prevent),
            "detect" => Some(Action::Detect),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Action::Ignore => "ignore",
            Action::Prevent => "prevent",
            Action::Detect => "detect",
        }
    }
}

/// An action attribute: a literal (checked when loading) or an expression
/// (checked when it runs).
#[derive(Debug)]
pub(crate) struct ActionValue {
    value: CompiledValue,
    source: &'static str,
}

impl ActionValue {
    pub(crate) fn required(
        e: &Element,
        name: &str,
        source: &'static str,
        cx: &mut CompileCx<'_>,
    ) -> Compiled<ActionValue> {
        let value = cx.required(e, name)?;
        Self::checked(e, name, value, source, cx)
    }

    pub(crate) fn optional(
        e: &Element,
        name: &str,
        source: &'static str,
        cx: &mut CompileCx<'_>,
    ) -> Compiled<Option<ActionValue>> {
        match cx.optional(e, name)? {
            Some(v) => Self::checked(e, name, v, source, cx).map(Some),
            None => Ok(None),
        }
    }

    fn checked(
        e: &Element,
        name: &str,
        value: CompiledValue,
        source: &'static str,
        cx: &mut CompileCx<'_>,
    ) -> Compiled<ActionValue> {
        if let CompiledValue::Literal(s) = &value
            && Action::parse(s).is_none()
        {
            let span = e.attr(name).map_or(e.span, |a| a.value.span);
            return cx.fail(
                sluice_engine::diag::Code::InvalidAttributeValue,
                span,
                format!("`{name}` must be `ignore`, `prevent` or `detect`, not `{s}`"),
            );
        }
        Ok(ActionValue { value, source })
    }

    pub(crate) fn eval(&self, x: &Exchange) -> Result<Action, PolicyError> {
        let s = self.value.text(x)?;
        Action::parse(&s).ok_or_else(|| {
            PolicyError::new(
                self.source,
                Reason::ExpressionValueEvaluationFailure,
                500,
                format!("`{s}` is not an action: `ignore`, `prevent` or `detect`"),
            )
        })
    }
}

/// One validation error, as APIM records it.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub name: String,
    pub kind: &'static str,
    pub rule: &'static str,
    pub details: String,
    /// What the client is told (requests: often the details; responses: [`INTERNAL`]).
    pub public: String,
    pub action: Action,
}

/// The findings of one run of a validation policy.
#[derive(Debug)]
pub(crate) struct Report {
    source: &'static str,
    pub findings: Vec<Finding>,
}

impl Report {
    pub(crate) fn new(source: &'static str) -> Self {
        Self {
            source,
            findings: Vec::new(),
        }
    }

    /// Records `f` unless its action is `ignore`; `true` when it is a
    /// `prevent` (the policy stops at the first set of errors).
    pub(crate) fn add(&mut self, f: Finding) -> bool {
        match f.action {
            Action::Ignore => false,
            a => {
                self.findings.push(f);
                a == Action::Prevent
            }
        }
    }

    /// Writes the findings to the errors variable (when one is named and
    /// something was found), and fails on the first `prevent`.
    pub(crate) fn finish(self, x: &Exchange, variable: Option<&str>) -> Result<(), PolicyError> {
        if let Some(var) = variable
            && !self.findings.is_empty()
        {
            let list: Vec<Value> = self
                .findings
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "Name": f.name,
                        "Type": f.kind,
                        "ValidationRule": f.rule,
                        "Details": f.details,
                        "Action": f.action.as_str(),
                    })
                })
                .collect();
            let text = Value::Array(list).to_string();
            if let Ok(v) = sluice_stdlib::parse_json(&text) {
                x.ctx.variables(|vars| vars.insert(var.to_owned(), v));
            }
        }
        let Some(f) = self.findings.iter().find(|f| f.action == Action::Prevent) else {
            return Ok(());
        };
        let (reason, status) = match x.section {
            Section::Inbound | Section::Backend => (Reason::ValidationBadRequest, 400),
            Section::Outbound | Section::OnError => (Reason::ValidationResponseNotAllowed, 502),
        };
        Err(
            PolicyError::new(self.source, reason, status, f.details.clone())
                .with_response_message(f.public.clone()),
        )
    }
}

/// The literal `errors-variable-name` (it takes no expression).
pub(crate) fn errors_variable(e: &Element, cx: &CompileCx<'_>) -> Option<String> {
    cx.literal(e, "errors-variable-name")
        .filter(|v| !v.is_empty())
}

/// The document of the API being compiled, if it has one.
pub(crate) fn api_spec(cx: &CompileCx<'_>) -> Option<Arc<ApiSpec>> {
    let specs = cx.resources.get::<ApiSpecs>()?;
    cx.api.and_then(|a| specs.get(a).cloned())
}

/// The finding of a request or response whose API has no document.
pub(crate) fn no_schema(action: Action) -> Finding {
    Finding {
        name: String::new(),
        kind: "ApiSchema",
        rule: "",
        details: "API's schema does not exist or it could not be resolved.".into(),
        public: INTERNAL.into(),
        action,
    }
}

/// The document's operation of the running request.
pub(crate) fn operation<'s>(spec: &'s ApiSpec, x: &Exchange) -> Option<&'s SpecOperation> {
    let op = x.ctx.0.operation.as_ref();
    let field = |n: &str| {
        op.and_then(|r| r.fields.get(n))
            .map(|d| d.to_string())
            .unwrap_or_default()
    };
    let path = x.request().read(|m| m.url.path.clone());
    let relative = path
        .strip_prefix(&*x.api_prefix)
        .unwrap_or(&path)
        .to_owned();
    let method = x.request().read(|m| m.method.clone());
    spec.operation(&field("Name"), &method, &field("UrlTemplate"), &relative)
}

/// Checks `instance` against `schema`: the messages of what does not hold,
/// each with the place in the instance it is about.
pub(crate) fn schema_errors(
    schema: &Schema,
    dialect: Dialect,
    instance: &Value,
) -> Result<Vec<String>, String> {
    #[cfg(feature = "json-schema")]
    {
        let draft = match dialect {
            Dialect::Draft4 => jsonschema::Draft::Draft4,
            Dialect::Draft202012 => jsonschema::Draft::Draft202012,
        };
        let validator = schema
            .compiled
            .0
            .get_or_init(|| {
                jsonschema::options()
                    .with_draft(draft)
                    .build(&schema.bundled)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()?;
        Ok(validator
            .iter_errors(instance)
            .map(|e| {
                let at = e.instance_path().to_string();
                if at.is_empty() {
                    e.to_string()
                } else {
                    format!("{e} Path: {at}")
                }
            })
            .collect())
    }
    #[cfg(not(feature = "json-schema"))]
    {
        let _ = (schema, dialect, instance);
        Err("this build of sluice has no JSON Schema validation (feature `json-schema`)".into())
    }
}

/// A parameter's or header's text as the JSON value its schema expects
/// (`7` for an integer, `true` for a boolean, `a,b` for an array).
pub(crate) fn typed(text: &str, schema: &Value) -> Result<Value, String> {
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string"),
        _ => "string",
    };
    match ty {
        "integer" => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("`{text}` is not an integer.")),
        "number" => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("`{text}` is not a number.")),
        "boolean" => match text.trim() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not a boolean.")),
        },
        "array" => {
            let items = schema.get("items").cloned().unwrap_or(Value::Null);
            text.split(',')
                .map(|p| typed(p, &items))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        "object" => serde_json::from_str(text).map_err(|e| e.to_string()),
        _ => Ok(Value::String(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::typed;
    use serde_json::json;

    #[test]
    fn parameter_text_becomes_the_type_its_schema_says() {
        assert_eq!(typed("7", &json!({"type": "integer"})), Ok(json!(7)));
        assert!(typed("x", &json!({"type": "integer"})).is_err());
        assert_eq!(typed("1.5", &json!({"type": "number"})), Ok(json!(1.5)));
        assert_eq!(typed("true", &json!({"type": "boolean"})), Ok(json!(true)));
        assert_eq!(
            typed(
                "1,2",
                &json!({"type": "array", "items": {"type": "integer"}})
            ),
            Ok(json!([1, 2]))
        );
        assert_eq!(typed("a", &json!({})), Ok(json!("a")));
        assert_eq!(
            typed("3", &json!({"type": ["integer", "null"]})),
            Ok(json!(3))
        );
    }
}
