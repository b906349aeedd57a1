//! Built-in policy stages and their one registration table.
//!
//! One file per policy that `sluice run` executes: how it compiles from its
//! (already validated) element and the stage that runs it. [`STAGES`] is the
//! registration table; a policy that APIM has but that is not in it is valid
//! in `sluice check` (a warning) and refused by `sluice run`, naming it.

mod choose;
mod forward_request;
mod headers;
mod return_response;
mod set_backend_service;
mod set_body;
mod set_method;
mod set_status;
mod set_variable;

#[cfg(test)]
mod tests;

use sluice_engine::runtime::{CompileCx, Stage, StageFactory};
use sluice_engine::xml::Element;

type Compile = fn(&Element, &mut CompileCx<'_>) -> Option<Box<dyn Stage>>;

/// The policies `sluice run` executes.
pub const STAGES: &[(&str, Compile)] = &[
    ("choose", choose::compile),
    ("forward-request", forward_request::compile),
    ("return-response", return_response::compile),
    ("set-backend-service", set_backend_service::compile),
    ("set-body", set_body::compile),
    ("set-header", headers::compile_set_header),
    ("set-method", set_method::compile),
    ("set-status", set_status::compile),
    ("set-variable", set_variable::compile),
];

/// Whether `sluice run` executes the policy `name` (`include-fragment` is
/// executed by inserting the fragment's policies when the plan is built).
pub fn is_executable(name: &str) -> bool {
    name == "include-fragment" || STAGES.iter().any(|(n, _)| *n == name)
}

/// The registration table as a [`StageFactory`].
pub struct Registry;

impl StageFactory for Registry {
    fn compile(&self, e: &Element, cx: &mut CompileCx<'_>) -> Option<Box<dyn Stage>> {
        let (_, f) = STAGES.iter().find(|(n, _)| *n == e.name)?;
        f(e, cx)
    }
}
