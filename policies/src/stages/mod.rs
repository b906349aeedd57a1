//! One file per policy that `sluice run` executes: how it compiles from its
//! (already validated) element, and the stage that runs it. The table of
//! built-ins ([`crate::BUILTINS`]) names each one's compile function.

pub(crate) mod cache_lookup;
pub(crate) mod cache_store;
pub(crate) mod cache_value;
pub(crate) mod authentication_certificate;
pub(crate) mod check_header;
pub(crate) mod choose;
pub(crate) mod cors;
pub(crate) mod emit_metric;
pub(crate) mod find_and_replace;
pub(crate) mod forward_request;
pub(crate) mod headers;
pub(crate) mod ip_filter;
pub(crate) mod json_to_xml;
pub(crate) mod limit_concurrency;
mod liquid;
mod limits;
pub(crate) mod llm_emit_token_metric;
pub(crate) mod llm_semantic_cache_lookup;
pub(crate) mod llm_semantic_cache_store;
pub(crate) mod llm_token_limit;
pub(crate) mod mock_response;
pub(crate) mod quota;
pub(crate) mod quota_by_key;
pub(crate) mod rate_limit;
pub(crate) mod rate_limit_by_key;
pub(crate) mod retry;
pub(crate) mod return_response;
pub(crate) mod rewrite_uri;
pub(crate) mod send_one_way_request;
pub(crate) mod send_request;
pub(crate) mod set_backend_service;
pub(crate) mod set_body;
pub(crate) mod set_method;
pub(crate) mod set_query_parameter;
pub(crate) mod set_status;
pub(crate) mod set_variable;
pub(crate) mod trace;
pub(crate) mod validate_client_certificate;
pub(crate) mod wait;
pub(crate) mod xml_to_json;
