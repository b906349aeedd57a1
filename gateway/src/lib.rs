//! The Sluice gateway: configuration, and the `sluice` commands.
//!
//! - `config/`: `sluice.toml` and its loading
//! - `check.rs`: `sluice check`
//! - `plan.rs`: the compiled configuration; routing, subscriptions, running a request
//! - `route.rs`: APIs by path, operations by method and URL template
//! - `semantic.rs`: the semantic cache every plan of a gateway shares, local embeddings models
//! - `serve/`: `sluice run`, the server, hot reload and the admin listener
//! - `testing/`: `sluice test`, the conformance runner

pub mod check;
pub mod config;
pub mod plan;
pub mod route;
pub mod semantic;
pub mod serve;
pub mod testing;
