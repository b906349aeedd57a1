//! Test support: one policy element compiled into a stage, an exchange for
//! a request, and running a stage to its result.

use std::sync::Arc;

use sluice_engine::runtime::{
    Context, ContextData, Exchange, Message, Multimap, Record, Run, Stage, StageResult, Url,
};
use sluice_engine::schema::Section;

pub(crate) use crate::fixture::header;
use crate::fixture::{Stub, pipeline};

/// Compiles policies and builds exchanges.
pub(crate) struct Kit {
    stub: Arc<Stub>,
}

impl Kit {
    pub fn new() -> Self {
        Self {
            stub: Stub::status(200, ""),
        }
    }

    /// One policy element, written as it stands in `section`, compiled.
    pub fn stage(&self, policy: &str, section: Section) -> Box<dyn Stage> {
        self.compile(policy, section)
            .unwrap_or_else(|d| panic!("{d}"))
    }

    /// One policy element compiled, or the rendered diagnostics (validation and compilation).
    pub fn compile(&self, policy: &str, section: Section) -> Result<Box<dyn Stage>, String> {
        let tag = section.tag();
        let doc = format!("<policies><{tag}>{policy}</{tag}></policies>");
        let p = pipeline(&doc)?;
        let block = match section {
            Section::Inbound => p.inbound,
            Section::Backend => p.backend,
            Section::Outbound => p.outbound,
            Section::OnError => p.on_error,
        };
        Ok(block.0.into_iter().next().unwrap().stage)
    }

    /// An exchange for `req` on an API whose path suffix is `api_prefix`.
    pub fn exchange(&self, req: Message, api_prefix: &str, section: Section) -> Exchange {
        let mut x = crate::fixture::exchange(Arc::clone(&self.stub), &[], "");
        x.ctx.0.request.write(|m| *m = req);
        x.api_prefix = api_prefix.into();
        x.section = section;
        x
    }
}

/// Gives the exchange's context the operation `method template` (`context.Operation`).
pub(crate) fn operation(x: &mut Exchange, method: &str, template: &str) {
    let old = &x.ctx.0;
    x.ctx = Context::new(ContextData {
        request: old.request.clone(),
        response: old.response.clone(),
        operation: Some(
            Record::new("IOperation")
                .with("Id", "op")
                .with("Name", "op")
                .with("Method", method.to_owned())
                .with("UrlTemplate", template.to_owned()),
        ),
        ..ContextData::default()
    });
}

/// A request without a body.
pub(crate) fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> Message {
    let url = Url::parse(url).unwrap();
    let mut h = Multimap::default();
    for (k, v) in headers {
        h.append(k, v);
    }
    Message {
        method: method.to_owned(),
        url: url.clone(),
        original_url: url,
        headers: h,
        ip: "10.0.0.1".into(),
        ..Message::default()
    }
}

/// Runs one stage.
pub(crate) fn run(stage: &dyn Stage, x: &mut Exchange) -> StageResult {
    match stage.run(x) {
        Run::Done(r) => r,
        Run::Later(f) => tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f),
    }
}
