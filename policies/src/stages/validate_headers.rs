//! `validate-headers`: the response's headers against the headers the
//! API's document gives the operation's response for its status code.
//! A header the document specifies must have one value that conforms to
//! its schema (`specified-header-action`); a header it does not specify
//! gets `unspecified-header-action`; a `<header name action>` overrides
//! either for one header. `Content-Type` is never unspecified (OpenAPI
//! describes it by the response's content). `prevent` answers 502.

use std::sync::Arc;

use sluice_engine::runtime::{CompileCx, Compiled, Exchange, PolicyError, Run, Stage};
use sluice_engine::xml::Element;

use crate::openapi::ApiSpec;
use crate::validation::{
    Action, ActionValue, Finding, INTERNAL, Report, api_spec, errors_variable, no_schema,
    operation, schema_errors, typed,
};

const SOURCE: &str = "validate-headers";

#[derive(Debug)]
struct ValidateHeaders {
    spec: Option<Arc<ApiSpec>>,
    specified: ActionValue,
    unspecified: ActionValue,
    overrides: Vec<(String, ActionValue)>,
    variable: Option<String>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let specified = ActionValue::required(e, "specified-header-action", SOURCE, cx)?;
    let unspecified = ActionValue::required(e, "unspecified-header-action", SOURCE, cx)?;
    let mut overrides = Vec::new();
    for h in e.elements().filter(|c| c.name == "header") {
        let name = cx.required_literal(h, "name")?;
        overrides.push((name, ActionValue::required(h, "action", SOURCE, cx)?));
    }
    Ok(Box::new(ValidateHeaders {
        spec: api_spec(cx),
        specified,
        unspecified,
        overrides,
        variable: errors_variable(e, cx),
    }))
}

impl ValidateHeaders {
    fn action(&self, x: &Exchange, name: &str, specified: bool) -> Result<Action, PolicyError> {
        match self
            .overrides
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some((_, a)) => a.eval(x),
            None if specified => self.specified.eval(x),
            None => self.unspecified.eval(x),
        }
    }

    fn check(&self, x: &Exchange) -> Result<(), PolicyError> {
        let mut report = Report::new(SOURCE);
        let Some(spec) = &self.spec else {
            report.add(no_schema(self.specified.eval(x)?));
            return report.finish(x, self.variable.as_deref());
        };
        let (status, headers) = x.response().read(|m| (m.status, m.headers.clone()));
        let response = operation(spec, x)
            .zip(u16::try_from(status).ok())
            .and_then(|(op, s)| op.response(s));
        let declared = response.map(|r| r.headers.as_slice()).unwrap_or_default();
        for (name, values) in &headers.0 {
            let name: &str = name.as_ref();
            if name.eq_ignore_ascii_case("content-type") {
                continue;
            }
            let spec_header = declared.iter().find(|(n, _)| n.eq_ignore_ascii_case(name));
            let action = self.action(x, name, spec_header.is_some())?;
            if action == Action::Ignore {
                continue;
            }
            let finding = |rule: &'static str, details: String| Finding {
                name: name.to_owned(),
                kind: "ResponseHeader",
                rule,
                details,
                public: INTERNAL.into(),
                action,
            };
            let found = match spec_header {
                None => Some(finding(
                    "Unspecified",
                    format!("Unspecified header {name} is not allowed."),
                )),
                Some(_) if values.len() > 1 => Some(finding(
                    "IncorrectMessage",
                    format!("Response cannot contain multiple values for the header {name}."),
                )),
                Some((_, None)) => None,
                Some((_, Some(schema))) => {
                    let text = values.first().map(|v| v.to_string()).unwrap_or_default();
                    match typed(&text, &schema.bundled) {
                        Err(_) => Some(finding(
                            "IncorrectMessage",
                            format!(
                                "Value of the header {name} couldn't be parsed according to the definition."
                            ),
                        )),
                        Ok(v) => match schema_errors(schema, spec.dialect, &v) {
                            Ok(errors) if errors.is_empty() => None,
                            Ok(errors) => Some(finding(
                                "IncorrectMessage",
                                format!(
                                    "Value of the header {name} does not conform to the definition.\n\n{}",
                                    errors.join("\n")
                                ),
                            )),
                            Err(e) => Some(finding(
                                "ValidationError",
                                format!("Header {name} cannot be validated.\n\n{e}"),
                            )),
                        },
                    }
                }
            };
            if let Some(f) = found
                && report.add(f)
            {
                break;
            }
        }
        report.finish(x, self.variable.as_deref())
    }
}

impl Stage for ValidateHeaders {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::done(self.check(x))
    }
}
