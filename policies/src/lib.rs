//! Built-in policy stages and their one registration table.
//!
//! One file per policy that `sluice run` executes: how it compiles from its
//! (already validated) element and the stage that runs it. [`STAGES`] is the
//! registration table; a policy that APIM has but that is not in it is valid
//! in `sluice check` (a warning) and refused by `sluice run`, naming it.

mod check_header;
mod choose;
mod cors;
mod find_and_replace;
mod forward_request;
mod headers;
mod ip_filter;
mod json_to_xml;
mod llm_semantic_cache_lookup;
mod llm_semantic_cache_store;
mod mock_response;
mod retry;
mod return_response;
mod rewrite_uri;
pub mod semantic;
mod send_one_way_request;
mod send_request;
mod set_backend_service;
mod set_body;
mod set_method;
mod set_query_parameter;
mod set_status;
mod set_variable;
mod trace;
mod wait;
mod xml_to_json;
mod xml_tree;

#[cfg(test)]
mod fixture;
#[cfg(any(test, feature = "redis-server"))]
pub mod redis_server;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use semantic::{Embedder, SemanticCache};
use sluice_engine::runtime::{CompileCx, Stage, StageFactory};
use sluice_engine::xml::Element;

type Compile = fn(&Element, &mut CompileCx<'_>) -> Option<Box<dyn Stage>>;

/// The policies `sluice run` executes.
pub const STAGES: &[(&str, Compile)] = &[
    ("check-header", check_header::compile),
    ("choose", choose::compile),
    ("cors", cors::compile),
    ("find-and-replace", find_and_replace::compile),
    ("forward-request", forward_request::compile),
    ("ip-filter", ip_filter::compile),
    ("json-to-xml", json_to_xml::compile),
    ("mock-response", mock_response::compile),
    ("retry", retry::compile),
    ("return-response", return_response::compile),
    ("rewrite-uri", rewrite_uri::compile),
    ("send-one-way-request", send_one_way_request::compile),
    ("send-request", send_request::compile),
    ("set-backend-service", set_backend_service::compile),
    ("set-body", set_body::compile),
    ("set-header", headers::compile_set_header),
    ("set-method", set_method::compile),
    ("set-query-parameter", set_query_parameter::compile),
    ("set-status", set_status::compile),
    ("set-variable", set_variable::compile),
    ("trace", trace::compile),
    ("wait", wait::compile),
    ("xml-to-json", xml_to_json::compile),
];

type CompileShared = fn(&Element, &mut CompileCx<'_>, &Registry) -> Option<Box<dyn Stage>>;

/// The policies that use what the gateway shares across requests (the
/// semantic cache), by every name APIM gives them.
pub const SHARED_STAGES: &[(&str, CompileShared)] = &[
    (
        "azure-openai-semantic-cache-lookup",
        llm_semantic_cache_lookup::compile,
    ),
    (
        "azure-openai-semantic-cache-store",
        llm_semantic_cache_store::compile,
    ),
    (
        "llm-semantic-cache-lookup",
        llm_semantic_cache_lookup::compile,
    ),
    (
        "llm-semantic-cache-store",
        llm_semantic_cache_store::compile,
    ),
];

/// Whether `sluice run` executes the policy `name` (`include-fragment` is
/// executed by inserting the fragment's policies when the plan is built).
pub fn is_executable(name: &str) -> bool {
    name == "include-fragment"
        || STAGES.iter().any(|(n, _)| *n == name)
        || SHARED_STAGES.iter().any(|(n, _)| *n == name)
}

/// The registration table as a [`StageFactory`], with what stages share:
/// the semantic cache (which outlives plan reloads) and the in-process
/// embedders by backend id.
#[derive(Clone, Debug)]
pub struct Registry {
    pub semantic: Arc<SemanticCache>,
    pub embedders: Arc<BTreeMap<String, Arc<dyn Embedder>>>,
    /// The backend entities' ids, when known: a literal
    /// `embeddings-backend-id` must name one.
    pub backends: Option<Arc<BTreeSet<String>>>,
}

impl Registry {
    pub fn new(semantic: Arc<SemanticCache>) -> Self {
        Self {
            semantic,
            embedders: Arc::default(),
            backends: None,
        }
    }

    /// A registry with a fresh in-memory semantic cache of default settings.
    pub fn in_memory() -> Result<Self, prometheus::Error> {
        let cache = SemanticCache::in_memory(semantic::Config::default(), 100_000)?;
        Ok(Self::new(Arc::new(cache)))
    }

    pub fn with_embedders(mut self, embedders: BTreeMap<String, Arc<dyn Embedder>>) -> Self {
        self.embedders = Arc::new(embedders);
        self
    }

    pub fn with_backends(mut self, ids: BTreeSet<String>) -> Self {
        self.backends = Some(Arc::new(ids));
        self
    }
}

impl StageFactory for Registry {
    fn compile(&self, e: &Element, cx: &mut CompileCx<'_>) -> Option<Box<dyn Stage>> {
        if let Some((_, f)) = SHARED_STAGES.iter().find(|(n, _)| *n == e.name) {
            return f(e, cx, self);
        }
        let (_, f) = STAGES.iter().find(|(n, _)| *n == e.name)?;
        f(e, cx)
    }
}
