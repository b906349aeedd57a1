//! `set-header`: sets, appends, keeps or deletes a header of the request
//! (inbound, backend) or the response (outbound, on-error).

use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, MessageRef, PolicyError, Run, Stage,
};
use sluice_engine::xml::Element;

/// Headers a policy may not change (the docs: `Connection`, `Content-Length`,
/// `Keep-Alive`, `Transfer-Encoding`); the gateway manages them.
const PROTECTED: &[&str] = &[
    "connection",
    "content-length",
    "keep-alive",
    "transfer-encoding",
];

#[derive(Debug)]
pub(crate) struct SetHeader {
    name: CompiledValue,
    action: Option<CompiledValue>,
    values: Vec<CompiledValue>,
}

pub(crate) fn compile_set_header(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(compile_header(e, cx)?))
}

pub(crate) fn compile_header(e: &Element, cx: &mut CompileCx<'_>) -> Compiled<SetHeader> {
    let name = cx.required(e, "name")?;
    let action = cx.optional(e, "exists-action")?;
    let mut values = Vec::new();
    for v in e.elements().filter(|c| c.name == "value") {
        values.push(cx.text(v)?);
    }
    Ok(SetHeader {
        name,
        action,
        values,
    })
}

impl SetHeader {
    /// Applies the policy to the message of the current section.
    pub(crate) fn apply(&self, x: &Exchange) -> Result<(), PolicyError> {
        self.apply_to(x, x.message())
    }

    /// Applies the policy to `target` (the request `send-request` builds).
    pub(crate) fn apply_to(&self, x: &Exchange, target: &MessageRef) -> Result<(), PolicyError> {
        let Some(name) = self.name.eval_str(x)? else {
            return Ok(());
        };
        let action = match &self.action {
            Some(a) => a.eval_str(x)?,
            None => None,
        };
        let action = action.as_deref().unwrap_or("override");
        if PROTECTED.iter().any(|p| p.eq_ignore_ascii_case(&name)) {
            return Ok(());
        }
        let mut values = sluice_engine::runtime::Values::new();
        for v in &self.values {
            // A null value sets nothing (DECISIONS.md).
            if let Some(s) = v.eval_string(x)? {
                values.push(s);
            }
        }
        target.write(|m| match action {
            "delete" => m.headers.remove(&name),
            "skip" if m.headers.get(&name).is_some() => {}
            "append" => values.iter().for_each(|v| m.headers.append(&name, v)),
            _ if values.is_empty() && !self.values.is_empty() => {}
            _ => m.headers.set(&name, values),
        });
        Ok(())
    }
}

impl Stage for SetHeader {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::done(self.apply(x))
    }
}
