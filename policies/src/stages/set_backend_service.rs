//! `set-backend-service`: the backend base URL requests are forwarded to,
//! given as a URL or as a backend entity of the configuration.
//!
//! A backend entity also becomes `context.Backend` (`Id`, `Type`: `Single`
//! or `Pool`, `AzureRegion`); a pool stays `context.Backend` when
//! `forward-request` picks its member (docs/decisions.md). A `base-url`
//! clears it.

use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    BackendEntity, CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Reason, Run,
    SelectedBackend, Stage,
};
use sluice_engine::xml::Element;
use sluice_stdlib::context::Record;

#[derive(Debug)]
enum Target {
    BaseUrl(CompiledValue),
    BackendId(CompiledValue),
}

#[derive(Debug)]
struct SetBackendService(Target);

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let target = match (e.attr("base-url"), e.attr("backend-id")) {
        (Some(_), _) => Target::BaseUrl(cx.required(e, "base-url")?),
        (None, Some(_)) => Target::BackendId(cx.required(e, "backend-id")?),
        (None, None) => {
            return cx.fail(
                Code::MissingAttribute,
                e.span,
                "`<set-backend-service>` needs `base-url` or `backend-id`",
            );
        }
    };
    Ok(Box::new(SetBackendService(target)))
}

impl SetBackendService {
    fn apply(&self, x: &mut Exchange) -> Result<(), PolicyError> {
        match &self.0 {
            Target::BaseUrl(v) => {
                x.backend_url = v.eval_string(x)?.unwrap_or_default().into();
                x.backend_headers.clear();
                x.extensions.remove::<SelectedBackend>();
                x.ctx.set_backend(None);
            }
            Target::BackendId(v) => {
                let id = v.eval_string(x)?.unwrap_or_default();
                let b = x.services.backend(&id).ok_or_else(|| {
                    PolicyError::new(
                        "set-backend-service",
                        Reason::BackendNotFound,
                        500,
                        format!("Backend with id '{id}' could not be found."),
                    )
                })?;
                x.backend_url = b.url.clone().into();
                x.backend_headers = b.headers.clone();
                x.ctx.set_backend(Some(record(&id, &b)));
                x.extensions.insert(SelectedBackend { id, entity: b });
            }
        }
        Ok(())
    }
}

/// `context.Backend` for the entity `id`.
fn record(id: &str, b: &BackendEntity) -> Record {
    Record::new("IBackend")
        .with("Id", id.to_owned())
        .with("Type", if b.is_pool() { "Pool" } else { "Single" })
        .with(
            "AzureRegion",
            b.azure_region
                .clone()
                .map_or(rhai::Dynamic::UNIT, rhai::Dynamic::from),
        )
}

impl Stage for SetBackendService {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::done(self.apply(x))
    }
}
