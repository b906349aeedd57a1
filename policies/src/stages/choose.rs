//! `choose`: runs the policies of the first `when` whose condition holds,
//! else those of `otherwise`.

use sluice_engine::runtime::{
    Block, CompileCx, Compiled, CompiledValue, Exchange, Flow, Reported, Run, Stage, run_block,
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

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let mut whens = Vec::new();
    let mut otherwise = None;
    let mut ok = true;
    for c in e.elements() {
        match c.name.as_str() {
            "when" => {
                // Every branch is compiled, so that all of their problems are reported.
                let cond = cx.required(c, "condition");
                let block = cx.block(c.elements());
                match (cond, block) {
                    (Ok(cond), Ok(block)) => {
                        let label = format!("when[{}]", whens.len() + 1).into();
                        whens.push((cond, label, block));
                    }
                    _ => ok = false,
                }
            }
            "otherwise" => match cx.block(c.elements()) {
                Ok(block) => otherwise = Some(("otherwise[1]".into(), block)),
                Err(Reported) => ok = false,
            },
            _ => {}
        }
    }
    if !ok {
        return Err(Reported);
    }
    Ok(Box::new(Choose { whens, otherwise }))
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
