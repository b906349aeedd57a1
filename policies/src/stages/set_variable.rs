//! `set-variable`: stores a value in `context.Variables` (an expression's
//! result keeps its type; a literal is a string).

use sluice_engine::runtime::{CompileCx, Compiled, CompiledValue, Exchange, Run, Stage};
use sluice_engine::xml::Element;

#[derive(Debug)]
struct SetVariable {
    name: String,
    value: CompiledValue,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let name = cx.required_literal(e, "name")?;
    let value = cx.required(e, "value")?;
    Ok(Box::new(SetVariable { name, value }))
}

impl Stage for SetVariable {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        match self.value.eval(x) {
            Ok(v) => {
                x.ctx.variables(|vars| vars.insert(self.name.clone(), v));
                Run::next()
            }
            Err(e) => Run::fail(e),
        }
    }
}
