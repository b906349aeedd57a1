//! `choose`: runs the policies of the first `when` whose condition holds,
//! else those of `otherwise`.

use sluice_engine::runtime::{
    Block, CompileCx, CompiledValue, Exchange, Flow, Run, Stage, run_block,
};
use sluice_engine::xml::Element;
use std::sync::Arc;

/// Each branch with its step in `context.LastError.Path` (`when[k]`,
/// `otherwise[1]`), computed once at build.
#[derive(Debug)]
struct Choose {
    whens: Vec<(CompiledValue, Arc<str>, Block)>,
    otherwise: Option<(Arc<str>, Block)>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Option<Box<dyn Stage>> {
    let mut whens = Vec::new();
    let mut otherwise = None;
    let mut ok = true;
    for c in e.elements() {
        match c.name.as_str() {
            "when" => match cx.attr(c, "condition") {
                Some(cond) => {
                    let label = format!("when[{}]", whens.len() + 1).into();
                    whens.push((cond, label, cx.block(c.elements())));
                }
                None => ok = false,
            },
            "otherwise" => otherwise = Some(("otherwise[1]".into(), cx.block(c.elements()))),
            _ => {}
        }
    }
    ok.then(|| Box::new(Choose { whens, otherwise }) as Box<dyn Stage>)
}

impl Stage for Choose {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let mut chosen = None;
        for (cond, label, block) in &self.whens {
            match cond.eval_bool(x) {
                Ok(true) => {
                    chosen = Some((label, block));
                    break;
                }
                Ok(false) => {}
                Err(e) => return Run::fail(e),
            }
        }
        if chosen.is_none() {
            chosen = self.otherwise.as_ref().map(|(label, b)| (label, b));
        }
        let Some((step, block)) = chosen else {
            return Run::Done(Ok(Flow::Next));
        };
        Run::Later(Box::pin(async move {
            x.path.push(Arc::clone(step));
            let r = run_block(block, x).await;
            x.path.pop();
            r
        }))
    }
}
