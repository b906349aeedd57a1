//! `set-status`: the response status code and reason phrase.

use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Reason, Run, Stage, reason_phrase,
};
use sluice_engine::xml::Element;

#[derive(Debug)]
pub(crate) struct SetStatus {
    code: CompiledValue,
    reason: Option<CompiledValue>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(compile_status(e, cx)?))
}

pub(crate) fn compile_status(e: &Element, cx: &mut CompileCx<'_>) -> Compiled<SetStatus> {
    let code = cx.required(e, "code")?;
    let reason = cx.optional(e, "reason")?;
    Ok(SetStatus { code, reason })
}

impl SetStatus {
    pub(crate) fn apply(&self, x: &Exchange) -> Result<(), PolicyError> {
        let code = self.code.eval_int(x)?;
        let code = u16::try_from(code)
            .ok()
            .filter(|c| (100..=999).contains(c))
            .ok_or_else(|| {
                PolicyError::new(
                    "set-status",
                    Reason::ExpressionValueEvaluationFailure,
                    500,
                    format!("`{code}` is not an HTTP status code"),
                )
            })?;
        let reason = match &self.reason {
            Some(r) => r.eval_string(x)?.unwrap_or_default(),
            None => reason_phrase(code).to_owned(),
        };
        x.response().write(|m| {
            m.status = i64::from(code);
            m.reason = reason;
        });
        Ok(())
    }
}

impl Stage for SetStatus {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::done(self.apply(x))
    }
}
