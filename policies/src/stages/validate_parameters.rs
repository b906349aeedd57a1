//! `validate-parameters`: the request's header, query and path parameters
//! against the parameters the API's document gives the operation. A
//! parameter the document specifies must be present when required, have
//! one value (unless its schema is an array) and conform to its schema
//! (`specified-parameter-action`); one it does not specify gets
//! `unspecified-parameter-action`. `<headers>`, `<query>` and `<path>`
//! override both for their parameters, and their `<parameter name
//! action>` for one parameter. `prevent` answers 400.
//!
//! The subscription key (`Ocp-Apim-Subscription-Key`, `subscription-key`)
//! and the headers OpenAPI describes by content types (`Accept`,
//! `Content-Type`) are never unspecified.

use std::sync::Arc;

use sluice_engine::runtime::{CompileCx, Compiled, Exchange, PolicyError, Run, Stage};
use sluice_engine::xml::Element;

use crate::openapi::{ApiSpec, Location, SpecOperation, described_elsewhere, path_params};
use crate::validation::{
    Action, ActionValue, Finding, INTERNAL, Report, api_spec, errors_variable, no_schema,
    operation, schema_errors, typed,
};

const SOURCE: &str = "validate-parameters";

/// The actions of one location (`<headers>`, `<query>`, `<path>`).
#[derive(Debug, Default)]
struct Overrides {
    specified: Option<ActionValue>,
    unspecified: Option<ActionValue>,
    parameters: Vec<(String, ActionValue)>,
}

#[derive(Debug)]
struct ValidateParameters {
    spec: Option<Arc<ApiSpec>>,
    specified: ActionValue,
    unspecified: ActionValue,
    headers: Overrides,
    query: Overrides,
    path: Overrides,
    variable: Option<String>,
}

fn overrides(e: Option<&Element>, cx: &mut CompileCx<'_>) -> Compiled<Overrides> {
    let Some(e) = e else {
        return Ok(Overrides::default());
    };
    let mut o = Overrides {
        specified: ActionValue::optional(e, "specified-parameter-action", SOURCE, cx)?,
        unspecified: ActionValue::optional(e, "unspecified-parameter-action", SOURCE, cx)?,
        parameters: Vec::new(),
    };
    for p in e.elements().filter(|c| c.name == "parameter") {
        let name = cx.required_literal(p, "name")?;
        o.parameters
            .push((name, ActionValue::required(p, "action", SOURCE, cx)?));
    }
    Ok(o)
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let specified = ActionValue::required(e, "specified-parameter-action", SOURCE, cx)?;
    let unspecified = ActionValue::required(e, "unspecified-parameter-action", SOURCE, cx)?;
    let child = |n: &str| e.elements().find(|c| c.name == n);
    let headers = overrides(child("headers"), cx)?;
    let query = overrides(child("query"), cx)?;
    let path = overrides(child("path"), cx)?;
    Ok(Box::new(ValidateParameters {
        spec: api_spec(cx),
        specified,
        unspecified,
        headers,
        query,
        path,
        variable: errors_variable(e, cx),
    }))
}

fn exempt(location: Location, name: &str) -> bool {
    match location {
        Location::Header => {
            described_elsewhere(name) || name.eq_ignore_ascii_case("ocp-apim-subscription-key")
        }
        Location::Query => name == "subscription-key",
        Location::Path => false,
    }
}

impl ValidateParameters {
    fn action(
        &self,
        x: &Exchange,
        location: Location,
        name: &str,
        specified: bool,
    ) -> Result<Action, PolicyError> {
        let o = match location {
            Location::Header => &self.headers,
            Location::Query => &self.query,
            Location::Path => &self.path,
        };
        let named = o.parameters.iter().find(|(n, _)| {
            if location == Location::Header {
                n.eq_ignore_ascii_case(name)
            } else {
                n == name
            }
        });
        match (named, specified) {
            (Some((_, a)), _) => a.eval(x),
            (None, true) => o.specified.as_ref().unwrap_or(&self.specified).eval(x),
            (None, false) => o.unspecified.as_ref().unwrap_or(&self.unspecified).eval(x),
        }
    }

    /// The request's parameters of each location, by name, with their values.
    fn received(
        &self,
        x: &Exchange,
        op: Option<&SpecOperation>,
    ) -> Vec<(Location, String, Vec<String>)> {
        let mut out = Vec::new();
        x.request().read(|m| {
            for (n, v) in &m.headers.0 {
                out.push((Location::Header, n.to_string(), v.to_vec()));
            }
            for (n, v) in &m.url.query.0 {
                out.push((Location::Query, n.to_string(), v.to_vec()));
            }
            // The path parameters as the operation's template matched them,
            // else as the document's template matches the path.
            let relative = m
                .url
                .path
                .strip_prefix(&*x.api_prefix)
                .unwrap_or(&m.url.path);
            let from_spec = op.and_then(|o| path_params(&o.path, relative));
            let params = match from_spec {
                Some(p) if m.matched.is_empty() => p,
                _ => m.matched.clone(),
            };
            for (n, v) in params {
                out.push((Location::Path, n, vec![v]));
            }
        });
        out
    }

    fn check(&self, x: &Exchange) -> Result<(), PolicyError> {
        let mut report = Report::new(SOURCE);
        let Some(spec) = &self.spec else {
            report.add(no_schema(self.specified.eval(x)?));
            return report.finish(x, self.variable.as_deref());
        };
        let op = operation(spec, x);
        let received = self.received(x, op);
        // What the document specifies.
        for p in op.map(|o| o.parameters.as_slice()).unwrap_or_default() {
            let action = self.action(x, p.location, &p.name, true)?;
            if action == Action::Ignore {
                continue;
            }
            let noun = p.location.noun();
            let name = &p.name;
            let finding = |rule: &'static str, details: String, public: String| Finding {
                name: name.clone(),
                kind: p.location.error_type(),
                rule,
                details,
                public,
                action,
            };
            let values: Vec<&String> = received
                .iter()
                .filter(|(l, n, _)| {
                    *l == p.location
                        && if p.location == Location::Header {
                            n.eq_ignore_ascii_case(name)
                        } else {
                            n == name
                        }
                })
                .flat_map(|(_, _, v)| v)
                .collect();
            let is_array = p
                .schema
                .as_ref()
                .is_some_and(|s| s.bundled.get("type").and_then(|t| t.as_str()) == Some("array"));
            let found = if values.is_empty() {
                p.required.then(|| {
                    let d = format!(
                        "Value of the {noun} {name} does not conform to the definition.\n\nA value is required but none was given."
                    );
                    finding("IncorrectMessage", d.clone(), d)
                })
            } else if values.len() > 1 && !is_array {
                let d = format!("Request cannot contain multiple values for the {noun} {name}.");
                Some(finding("IncorrectMessage", d.clone(), d))
            } else if let Some(schema) = &p.schema {
                let text = values
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(",");
                match typed(&text, &schema.bundled) {
                    Err(e) => Some(finding(
                        "IncorrectMessage",
                        format!(
                            "Value of the {noun} {name} cannot be parsed according to the definition. \n\n{e}"
                        ),
                        format!(
                            "Value of the {noun} {name} couldn't be parsed according to the definition. \n\n{e}"
                        ),
                    )),
                    Ok(v) => match schema_errors(schema, spec.dialect, &v) {
                        Ok(errors) if errors.is_empty() => None,
                        Ok(errors) => {
                            let errors = errors.join("\n");
                            Some(finding(
                                "IncorrectMessage",
                                format!(
                                    "Value of the {noun} {name} does not conform to the definition.\n\n{errors}"
                                ),
                                format!(
                                    "The value of the {noun} {name} does not conform to the definition.\n\n{errors}"
                                ),
                            ))
                        }
                        Err(e) => {
                            let cap = capitalized(noun);
                            Some(finding(
                                "ValidationError",
                                format!("{cap} {name} cannot be validated.\n\n{e}"),
                                INTERNAL.into(),
                            ))
                        }
                    },
                }
            } else {
                None
            };
            if let Some(f) = found
                && report.add(f)
            {
                return report.finish(x, self.variable.as_deref());
            }
        }
        // What the request has that the document does not specify.
        for (location, name, _) in &received {
            let (location, name) = (*location, name.as_str());
            if location == Location::Path
                || exempt(location, name)
                || op.is_some_and(|o| o.parameter(location, name).is_some())
            {
                continue;
            }
            let action = self.action(x, location, name, false)?;
            let d = format!("Unspecified {} {name} is not allowed.", location.noun());
            let f = Finding {
                name: name.to_owned(),
                kind: location.error_type(),
                rule: "Unspecified",
                details: d.clone(),
                public: d,
                action,
            };
            if report.add(f) {
                break;
            }
        }
        report.finish(x, self.variable.as_deref())
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

impl Stage for ValidateParameters {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::done(self.check(x))
    }
}
