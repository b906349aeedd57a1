//! `jsonp`: when the request has the query parameter named by
//! `callback-parameter-name`, the response body is wrapped in a call of
//! the function it names (`cb(<body>);`) and sent as
//! `application/javascript`; without the parameter the body is unchanged.
//! A name that is not a JavaScript identifier (dotted names allowed, as
//! `ns.cb`) fails with `CallbackParameterInvalid` (apim-core.md §3.5), 400.

use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Reason, Run, Stage,
};
use sluice_engine::xml::Element;

#[derive(Debug)]
struct Jsonp {
    parameter: CompiledValue,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(Jsonp {
        parameter: cx.required(e, "callback-parameter-name")?,
    }))
}

/// A JavaScript identifier, or several joined by `.`.
fn is_callback(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
                && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        })
}

impl Jsonp {
    fn apply(&self, x: &Exchange) -> Result<(), PolicyError> {
        let parameter = self.parameter.text(x)?;
        let callback = x.request().read(|m| {
            m.original_url
                .query
                .get(&parameter)
                .and_then(|v| v.first().cloned())
        });
        let Some(callback) = callback else {
            return Ok(());
        };
        if !is_callback(&callback) {
            return Err(PolicyError::new(
                "jsonp",
                Reason::CallbackParameterInvalid,
                400,
                format!(
                    "Value of callback parameter {parameter} is not a valid JavaScript identifier."
                ),
            ));
        }
        x.response().write(|m| {
            let body = m.body.take().map(|b| b.bytes).unwrap_or_default();
            let mut out = Vec::with_capacity(body.len() + callback.len() + 3);
            out.extend_from_slice(callback.as_bytes());
            out.push(b'(');
            out.extend_from_slice(&body);
            out.extend_from_slice(b");");
            m.body = Some(sluice_engine::runtime::Body {
                bytes: out.into(),
                consumed: false,
            });
            m.headers
                .set_one("Content-Type", "application/javascript".to_owned());
        });
        Ok(())
    }
}

impl Stage for Jsonp {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::done(self.apply(x))
    }
}

#[cfg(test)]
mod tests {
    use super::is_callback;

    #[test]
    fn callbacks_are_javascript_identifiers() {
        for ok in ["cb", "_x1", "$", "ns.cb", "jQuery1_2"] {
            assert!(is_callback(ok), "{ok}");
        }
        for bad in ["", "1a", "a-b", "alert(1)", "a..b", "a b"] {
            assert!(!is_callback(bad), "{bad}");
        }
    }
}
