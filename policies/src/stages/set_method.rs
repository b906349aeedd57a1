//! `set-method`: the HTTP method of the request to the backend.

use sluice_engine::runtime::{CompileCx, Compiled, CompiledValue, Exchange, Run, Stage};
use sluice_engine::xml::Element;

#[derive(Debug)]
struct SetMethod {
    method: CompiledValue,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(SetMethod {
        method: cx.text(e)?,
    }))
}

impl Stage for SetMethod {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        match self.method.eval_string(x) {
            Ok(m) => {
                let m = m.unwrap_or_default().trim().to_ascii_uppercase();
                x.request().write(|r| r.method = m);
                Run::next()
            }
            Err(e) => Run::fail(e),
        }
    }
}
