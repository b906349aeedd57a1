//! Built-in policies: one table of descriptors ([`BUILTINS`]), the stages
//! (`stages/`, one file per policy), and the support code they share.
//!
//! - `stages/`: one file per policy `sluice run` executes: its compile
//!   function (element → stage) and the stage that runs it
//! - `semantic/`: the semantic cache of LLM calls (layers, stores,
//!   embeddings, streamed answers) that the two semantic-cache stages share
//! - `counters/`: rate, quota, token and concurrency counters (memory and
//!   Redis stores) the limit policies share
//! - `cache/`: the internal and external caches of the `cache-*` policies
//! - `content_safety.rs`: Azure AI Content Safety's requests and answers,
//!   and the state of `llm-content-safety` (metrics, failing backends)
//! - `identity/`: the credentials (token providers, connections, the token
//!   cache) that the authentication stages share
//! - `sinks/`: the loggers of `log-to-eventhub` and `trace` (bounded queues
//!   in front of stdout, file and Kafka sinks); `endpoints.rs`: the Dapr
//!   sidecar and Service Bus namespaces the integration policies call
//! - `breaker.rs`: a circuit breaker for a dependency
//! - `redis_conn.rs`: how the Redis clients (counters, external cache,
//!   semantic store) connect and send: bounded, once more after a break
//! - `openapi.rs`: the OpenAPI documents of APIs (`[[api]] specification`),
//!   `schemas.rs`: the schemas of `[schemas]`, and `validation.rs`: what the
//!   four validation policies share (actions, errors, JSON Schema checks)
//! - `jwt/`: JSON web tokens (parts, keys, checks) and the key sets of
//!   `openid-config` URLs, for `validate-jwt` and `validate-azure-ad-token`
//! - `xml_tree.rs`: the XML tree the JSON/XML conversions read and write
//! - `xslt/`: the XSLT 1.0 subset of `xsl-transform`
//! - `redis_server.rs` (feature `redis-server`, and tests): a real
//!   redis-server for tests
//!
//! A policy that APIM has but that is not in [`BUILTINS`] is valid in
//! `sluice check` (a warning) and refused by `sluice run`, naming it.
//!
//! ## Adding a policy
//! One file in `stages/` with `pub(crate) fn compile(e, cx) -> Compiled`,
//! and one line in [`BUILTINS`] with its names and, if it reads or rewrites
//! a body, its [`Bodies`]. A policy that keeps state across requests takes
//! its family's handle from the compile context (`cx.resource::<T>(e)?`),
//! which the gateway's resource family of that state provides.

pub mod backend_health;
pub mod breaker;
pub mod cache;
pub mod content_safety;
pub mod counters;
pub mod endpoints;
pub mod identity;
pub mod jwt;
pub mod openapi;
mod redis_conn;
pub mod schemas;
pub mod semantic;
pub mod series;
pub mod sinks;
mod stages;
pub mod tokens;
mod validation;
mod xml_tree;
mod xslt;

#[cfg(test)]
mod deferred_tests;
#[cfg(test)]
mod fixture;
#[cfg(test)]
mod offload_tests;
#[cfg(any(test, feature = "redis-server"))]
pub mod redis_server;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

use sluice_engine::diag::{Code, Diagnostic, Severity};
use sluice_engine::runtime::{Bodies, CompileCx, Compiled, Reported, StageFactory};
use sluice_engine::xml::Element;

use stages::*;

/// A built-in policy: every name APIM gives it, how it compiles, and how it
/// uses message bodies (which decides whether they may stream).
#[derive(Clone, Copy)]
pub struct Builtin {
    /// The first is its name; the others are aliases with the same schema
    /// (`azure-openai-*` for `llm-*`).
    pub names: &'static [&'static str],
    pub compile: fn(&Element, &mut CompileCx<'_>) -> Compiled,
    /// How an element of this policy uses bodies.
    pub bodies: fn(&Element) -> Bodies,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builtin")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl Builtin {
    /// A built-in that uses no body (but what its expressions mention,
    /// which the plan sees for itself).
    const fn new(
        names: &'static [&'static str],
        compile: fn(&Element, &mut CompileCx<'_>) -> Compiled,
    ) -> Self {
        Self {
            names,
            compile,
            bodies: |_| Bodies::NONE,
        }
    }

    /// Reads or rewrites the body of its section's message.
    const fn own_body(mut self) -> Self {
        self.bodies = |_| Bodies::OWN;
        self
    }

    const fn bodies(mut self, bodies: fn(&Element) -> Bodies) -> Self {
        self.bodies = bodies;
        self
    }
}

/// Every policy `sluice run` executes (`include-fragment` is executed by
/// inserting the fragment's policies when the plan is built). A policy that
/// reads or rewrites a body must declare it (`own_body`, `bodies`): what is
/// not declared here may stream past it (`xsl-transform` and `validate-content`,
/// when they come, read theirs).
pub const BUILTINS: &[Builtin] = &[
    Builtin::new(&["cache-lookup"], cache_lookup::compile),
    Builtin::new(&["cache-lookup-value"], cache_value::compile_lookup),
    Builtin::new(&["cache-remove-value"], cache_value::compile_remove),
    // Reads the response it stores.
    Builtin::new(&["cache-store"], cache_store::compile).own_body(),
    Builtin::new(&["cache-store-value"], cache_value::compile_store),
    Builtin::new(
        &["authentication-certificate"],
        authentication_certificate::compile,
    ),
    Builtin::new(&["authentication-basic"], authentication_basic::compile),
    Builtin::new(
        &["authentication-managed-identity"],
        authentication_managed_identity::compile,
    ),
    Builtin::new(&["check-header"], check_header::compile),
    Builtin::new(&["choose"], choose::compile),
    Builtin::new(&["cors"], cors::compile),
    Builtin::new(&["emit-metric"], emit_metric::compile),
    Builtin::new(&["cross-domain"], cross_domain::compile),
    Builtin::new(&["find-and-replace"], find_and_replace::compile).own_body(),
    Builtin::new(&["forward-request"], forward_request::compile).bodies(forward_request::bodies),
    Builtin::new(
        &["get-authorization-context"],
        get_authorization_context::compile,
    ),
    // With `template="Liquid"` they read the body (the template's `body`).
    Builtin::new(&["invoke-dapr-binding"], invoke_dapr_binding::compile).bodies(dapr::bodies),
    Builtin::new(&["ip-filter"], ip_filter::compile),
    Builtin::new(&["json-to-xml"], json_to_xml::compile).own_body(),
    Builtin::new(&["limit-concurrency"], limit_concurrency::compile),
    Builtin::new(&["log-to-eventhub"], log_to_eventhub::compile),
    // The token policies read the request (model, prompt, `stream`; they
    // may ask a Chat stream for its usage); the answer streams past them.
    Builtin::new(
        &["llm-emit-token-metric", "azure-openai-emit-token-metric"],
        llm_emit_token_metric::compile,
    )
    .own_body(),
    Builtin::new(&["jsonp"], jsonp::compile).own_body(),
    // Reads the prompt (inbound) or the answer (outbound) it checks.
    Builtin::new(&["llm-content-safety"], llm_content_safety::compile).own_body(),
    Builtin::new(
        &[
            "llm-semantic-cache-lookup",
            "azure-openai-semantic-cache-lookup",
        ],
        llm_semantic_cache_lookup::compile,
    )
    .bodies(|_| Bodies::REQUEST),
    // The store records a streamed answer while it passes: it needs no buffering.
    Builtin::new(
        &[
            "llm-semantic-cache-store",
            "azure-openai-semantic-cache-store",
        ],
        llm_semantic_cache_store::compile,
    ),
    Builtin::new(
        &["llm-token-limit", "azure-openai-token-limit"],
        llm_token_limit::compile,
    )
    .own_body(),
    Builtin::new(&["mock-response"], mock_response::compile),
    Builtin::new(&["quota"], quota::compile),
    Builtin::new(&["quota-by-key"], quota_by_key::compile),
    Builtin::new(&["rate-limit"], rate_limit::compile),
    Builtin::new(&["rate-limit-by-key"], rate_limit_by_key::compile),
    Builtin::new(&["proxy"], proxy::compile),
    Builtin::new(&["publish-to-dapr"], publish_to_dapr::compile).bodies(dapr::bodies),
    Builtin::new(&["redirect-content-urls"], redirect_content_urls::compile).own_body(),
    Builtin::new(&["retry"], retry::compile).bodies(|_| Bodies::REPEATS),
    Builtin::new(&["return-response"], return_response::compile),
    Builtin::new(&["rewrite-uri"], rewrite_uri::compile),
    Builtin::new(&["send-one-way-request"], send_one_way_request::compile)
        .bodies(send_request::bodies),
    Builtin::new(&["send-request"], send_request::compile).bodies(send_request::bodies),
    Builtin::new(
        &["send-service-bus-message"],
        send_service_bus_message::compile,
    ),
    Builtin::new(&["set-backend-service"], set_backend_service::compile),
    Builtin::new(&["set-body"], set_body::compile).own_body(),
    Builtin::new(&["set-header"], headers::compile_set_header),
    Builtin::new(&["set-method"], set_method::compile),
    Builtin::new(&["set-query-parameter"], set_query_parameter::compile),
    Builtin::new(&["set-status"], set_status::compile),
    Builtin::new(&["set-variable"], set_variable::compile),
    Builtin::new(&["trace"], trace::compile),
    Builtin::new(
        &["validate-client-certificate"],
        validate_client_certificate::compile,
    ),
    Builtin::new(&["validate-content"], validate_content::compile).own_body(),
    Builtin::new(&["validate-headers"], validate_headers::compile),
    Builtin::new(&["validate-parameters"], validate_parameters::compile),
    Builtin::new(&["validate-status-code"], validate_status_code::compile),
    Builtin::new(
        &["validate-azure-ad-token"],
        validate_azure_ad_token::compile,
    ),
    Builtin::new(&["validate-jwt"], validate_jwt::compile),
    Builtin::new(&["wait"], wait::compile),
    Builtin::new(&["xml-to-json"], xml_to_json::compile).own_body(),
    Builtin::new(&["xsl-transform"], xsl_transform::compile).own_body(),
];

/// The cross-domain policy file of a `cross-domain` element, which the
/// gateway serves at `/crossdomain.xml`.
pub use stages::cross_domain::document as cross_domain_document;

/// The built-in named `name` (by any of its names).
pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.names.contains(&name))
}

/// Whether `sluice run` executes the policy `name`.
pub fn is_executable(name: &str) -> bool {
    name == "include-fragment" || builtin(name).is_some()
}

/// How the element `e` uses bodies ([`Bodies::NONE`] for a policy that is not built in).
pub fn bodies(e: &Element) -> Bodies {
    builtin(&e.name).map_or(Bodies::NONE, |b| (b.bodies)(e))
}

/// The table of built-ins as the engine compiles policies through it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Builtins;

impl StageFactory for Builtins {
    fn compile(&self, e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
        match builtin(&e.name) {
            Some(b) => (b.compile)(e, cx),
            None => {
                // An error here whatever `check` makes of it: loading has
                // already reported it at the severity asked for.
                let d = Diagnostic::new(
                    Code::NotExecuted,
                    &cx.source,
                    e.name_span,
                    format!("`{}` is not executed by `sluice run` yet", e.name),
                )
                .with_severity(Severity::Error);
                cx.diags.push(d);
                Err(Reported)
            }
        }
    }
}
