//! `choose`: runs the policies of the first `when` whose condition holds,
//! else those of `otherwise`.

use sluice_engine::runtime::{
    Block, CompileCx, CompiledValue, Exchange, Flow, Run, Stage, run_block,
};
use sluice_engine::xml::Element;

#[derive(Debug)]
struct Choose {
    whens: Vec<(CompiledValue, Block)>,
    otherwise: Option<Block>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Option<Box<dyn Stage>> {
    let mut whens = Vec::new();
    let mut otherwise = None;
    let mut ok = true;
    for c in e.elements() {
        match c.name.as_str() {
            "when" => match cx.attr(c, "condition") {
                Some(cond) => whens.push((cond, cx.block(c.elements()))),
                None => ok = false,
            },
            "otherwise" => otherwise = Some(cx.block(c.elements())),
            _ => {}
        }
    }
    ok.then(|| Box::new(Choose { whens, otherwise }) as Box<dyn Stage>)
}

impl Stage for Choose {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let mut chosen = None;
        for (i, (cond, block)) in self.whens.iter().enumerate() {
            match cond.eval_bool(x) {
                Ok(true) => {
                    chosen = Some((format!("when[{}]", i + 1), block));
                    break;
                }
                Ok(false) => {}
                Err(e) => return Run::fail(e),
            }
        }
        if chosen.is_none() {
            chosen = self
                .otherwise
                .as_ref()
                .map(|b| ("otherwise[1]".to_owned(), b));
        }
        let Some((step, block)) = chosen else {
            return Run::Done(Ok(Flow::Next));
        };
        Run::Later(Box::pin(async move {
            x.path.push(step);
            let r = run_block(block, x).await;
            x.path.pop();
            r
        }))
    }
}
