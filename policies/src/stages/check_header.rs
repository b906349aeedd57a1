//! `check-header`: the request must carry a header, and (when `value`
//! elements are given) one of its values must be among them; otherwise the
//! request fails with `failed-check-httpcode` and the client is told
//! `failed-check-error-message`. `context.LastError` gets APIM's reasons and
//! messages (`HeaderNotFound`, `HeaderValueNotAllowed`, apim-core.md §3.5).
//!
//! A header that arrived several times (or was set with several values)
//! passes when any one of its values is allowed; the message of a refusal
//! names its values joined with `,`.

use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Reason, Run, Stage,
};
use sluice_engine::xml::Element;

#[derive(Debug)]
struct CheckHeader {
    name: CompiledValue,
    status: CompiledValue,
    message: CompiledValue,
    ignore_case: CompiledValue,
    values: Vec<CompiledValue>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let name = cx.required(e, "name")?;
    let status = cx.required(e, "failed-check-httpcode")?;
    let message = cx.required(e, "failed-check-error-message")?;
    let ignore_case = cx.required(e, "ignore-case")?;
    let mut values = Vec::new();
    for v in e.elements().filter(|c| c.name == "value") {
        values.push(cx.text(v)?);
    }
    Ok(Box::new(CheckHeader {
        name,
        status,
        message,
        ignore_case,
        values,
    }))
}

/// Whether two strings are equal ignoring case (as .NET's invariant
/// comparison; ASCII without allocating).
fn same_ignoring_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

impl CheckHeader {
    fn check(&self, x: &Exchange) -> Result<(), PolicyError> {
        let name = self.name.text(x)?;
        let received = x.request().read(|m| m.headers.get(&name).cloned());
        let refusal = match received {
            None => Some((
                Reason::HeaderNotFound,
                format!("Header {name} was not found in the request. Access denied."),
            )),
            Some(_) if self.values.is_empty() => None,
            Some(received) => {
                let ignore_case = self.ignore_case.eval_bool(x)?;
                let mut allowed = Vec::new();
                for v in &self.values {
                    if let Some(s) = v.eval_str(x)? {
                        allowed.push(s);
                    }
                }
                let matches = |r: &String| {
                    allowed.iter().any(|a| {
                        if ignore_case {
                            same_ignoring_case(a, r)
                        } else {
                            a == r
                        }
                    })
                };
                if received.iter().any(matches) {
                    None
                } else {
                    Some((
                        Reason::HeaderValueNotAllowed,
                        format!(
                            "Header {name} value of {} is not allowed. Access denied.",
                            received.join(",")
                        ),
                    ))
                }
            }
        };
        let Some((reason, text)) = refusal else {
            return Ok(());
        };
        let status = self.status.eval_int(x)?;
        let status = u16::try_from(status)
            .ok()
            .filter(|c| (100..=999).contains(c))
            .ok_or_else(|| {
                PolicyError::new(
                    "check-header",
                    Reason::ExpressionValueEvaluationFailure,
                    500,
                    format!("`{status}` is not an HTTP status code"),
                )
            })?;
        let response = self.message.eval_string(x)?.unwrap_or_default();
        Err(PolicyError::new("check-header", reason, status, text).with_response_message(response))
    }
}

impl Stage for CheckHeader {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        match self.check(x) {
            Ok(()) => Run::next(),
            Err(e) => Run::fail(e),
        }
    }
}

#[cfg(test)]
mod tests;
