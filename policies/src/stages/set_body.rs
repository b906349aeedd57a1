//! `set-body`: replaces the body of the request (inbound, backend) or the
//! response (outbound, on-error) with literal text or an expression's result.

use sluice_engine::runtime::{
    Body, CompileCx, Compiled, CompiledValue, Exchange, MessageRef, PolicyError, Run, Stage,
};
use sluice_engine::source::Span;
use sluice_engine::xml::{Element, Node};

#[derive(Debug)]
pub(crate) struct SetBody {
    body: BodySource,
}

#[derive(Debug)]
enum BodySource {
    Value(CompiledValue),
    Liquid(super::liquid::LiquidTemplate),
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(compile_body(e, cx)?))
}

pub(crate) fn compile_body(e: &Element, cx: &mut CompileCx<'_>) -> Compiled<SetBody> {
    if e.attr("template")
        .is_some_and(|a| a.value.value.trim() == "liquid")
    {
        return Ok(SetBody {
            body: BodySource::Liquid(super::liquid::compile(e, cx)?),
        });
    }
    // Markup inside set-body is a literal body, taken as written.
    let has_markup = e.children.iter().any(|n| matches!(n, Node::Element(_)));
    let body = match (has_markup, e.content_span) {
        (true, Some(span)) => CompiledValue::Literal(
            cx.source
                .slice(Span::new(span.start, span.end))
                .trim()
                .to_owned(),
        ),
        _ => cx.text(e)?,
    };
    Ok(SetBody {
        body: BodySource::Value(body),
    })
}

impl SetBody {
    pub(crate) fn apply(&self, x: &Exchange) -> Result<(), PolicyError> {
        self.apply_to(x, x.message())
    }

    /// Sets the body of `target` (the request `send-request` builds).
    pub(crate) fn apply_to(&self, x: &Exchange, target: &MessageRef) -> Result<(), PolicyError> {
        let text = match &self.body {
            BodySource::Value(v) => v.eval_string(x)?.unwrap_or_default(),
            // Inside `return-response` or `send-request` the template has no body to read.
            BodySource::Liquid(t) => t.render(x, std::ptr::eq(target, x.message()))?,
        };
        target.write(|m| {
            m.body = Some(Body {
                bytes: text.into_bytes().into(),
                consumed: false,
            })
        });
        Ok(())
    }
}

impl Stage for SetBody {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::done(self.apply(x))
    }
}
