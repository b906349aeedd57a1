//! `return-response`: ends the pipeline with a response: 200 with no body,
//! or the response held in a variable, changed by the child policies.

use sluice_engine::runtime::{
    CompileCx, Compiled, Exchange, Flow, Message, MessageRef, PolicyError, Reason, Run, Stage,
};
use sluice_engine::schema::Section;
use sluice_engine::xml::Element;

use super::headers::{SetHeader, compile_header};
use super::set_body::{SetBody, compile_body};
use super::set_status::{SetStatus, compile_status};

#[derive(Debug)]
struct ReturnResponse {
    variable: Option<String>,
    status: Option<SetStatus>,
    headers: Vec<SetHeader>,
    body: Option<SetBody>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let variable = cx.literal(e, "response-variable-name");
    let mut status = None;
    let mut headers = Vec::new();
    let mut body = None;
    for c in e.elements() {
        match c.name.as_str() {
            "set-status" => status = Some(compile_status(c, cx)?),
            "set-header" => headers.push(compile_header(c, cx)?),
            "set-body" => body = Some(compile_body(c, cx)?),
            _ => {}
        }
    }
    Ok(Box::new(ReturnResponse {
        variable,
        status,
        headers,
        body,
    }))
}

impl ReturnResponse {
    fn respond(&self, x: &mut Exchange) -> Result<(), PolicyError> {
        let base = match &self.variable {
            Some(name) => {
                let v = x.ctx.variables(|vars| vars.get(name).cloned());
                match v.and_then(|v| v.try_cast::<MessageRef>()) {
                    Some(m) => m.read(Clone::clone),
                    None => {
                        return Err(PolicyError::new(
                            "return-response",
                            Reason::ExpressionValueEvaluationFailure,
                            500,
                            format!("the variable `{name}` does not hold a response"),
                        ));
                    }
                }
            }
            None => Message {
                status: 200,
                reason: "OK".into(),
                ..Message::default()
            },
        };
        x.response().write(|m| *m = base);
        // The children change the response being returned, whatever the section.
        let section = std::mem::replace(&mut x.section, Section::Outbound);
        let r = (|| {
            if let Some(s) = &self.status {
                s.apply(x)?;
            }
            for h in &self.headers {
                h.apply(x)?;
            }
            if let Some(b) = &self.body {
                b.apply(x)?;
            }
            Ok(())
        })();
        x.section = section;
        r
    }
}

impl Stage for ReturnResponse {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        match self.respond(x) {
            Ok(()) => Run::Done(Ok(Flow::End)),
            Err(e) => Run::fail(e),
        }
    }
}
