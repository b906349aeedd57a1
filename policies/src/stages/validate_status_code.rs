//! `validate-status-code`: the response's status code must be one the
//! API's document gives the operation (exactly, by its range `4XX`, or
//! `default`); otherwise `unspecified-status-code-action`, or the action of
//! a `<status-code code>` naming it. `prevent` answers 502 (reason
//! `Response not allowed`); the findings go to `errors-variable-name`.

use std::sync::Arc;

use sluice_engine::runtime::{CompileCx, Compiled, Exchange, PolicyError, Run, Stage};
use sluice_engine::xml::Element;

use crate::openapi::ApiSpec;
use crate::validation::{
    ActionValue, Finding, INTERNAL, Report, api_spec, errors_variable, no_schema, operation,
};

const SOURCE: &str = "validate-status-code";

#[derive(Debug)]
struct ValidateStatusCode {
    spec: Option<Arc<ApiSpec>>,
    unspecified: ActionValue,
    overrides: Vec<(u16, ActionValue)>,
    variable: Option<String>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let unspecified = ActionValue::required(e, "unspecified-status-code-action", SOURCE, cx)?;
    let mut overrides = Vec::new();
    for s in e.elements().filter(|c| c.name == "status-code") {
        let code = cx.required_literal(s, "code")?;
        let Ok(code) = code.parse::<u16>() else {
            let span = s.attr("code").map_or(s.span, |a| a.value.span);
            return cx.fail(
                sluice_engine::diag::Code::InvalidAttributeValue,
                span,
                format!("`code` must be an HTTP status code, not `{code}`"),
            );
        };
        overrides.push((code, ActionValue::required(s, "action", SOURCE, cx)?));
    }
    Ok(Box::new(ValidateStatusCode {
        spec: api_spec(cx),
        unspecified,
        overrides,
        variable: errors_variable(e, cx),
    }))
}

impl ValidateStatusCode {
    fn check(&self, x: &Exchange) -> Result<(), PolicyError> {
        let mut report = Report::new(SOURCE);
        let status = x.response().read(|m| m.status);
        let Some(spec) = &self.spec else {
            report.add(no_schema(self.unspecified.eval(x)?));
            return report.finish(x, self.variable.as_deref());
        };
        let specified = u16::try_from(status)
            .ok()
            .zip(operation(spec, x))
            .is_some_and(|(s, op)| op.response(s).is_some());
        if !specified {
            let action = match self.overrides.iter().find(|(c, _)| i64::from(*c) == status) {
                Some((_, a)) => a.eval(x)?,
                None => self.unspecified.eval(x)?,
            };
            report.add(Finding {
                name: status.to_string(),
                kind: "StatusCode",
                rule: "Unspecified",
                details: format!("Response status code {status} is not allowed."),
                public: INTERNAL.into(),
                action,
            });
        }
        report.finish(x, self.variable.as_deref())
    }
}

impl Stage for ValidateStatusCode {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::done(self.check(x))
    }
}
