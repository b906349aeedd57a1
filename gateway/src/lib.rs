//! The Sluice gateway: configuration, and the `sluice` commands.
//!
//! - `config/`: `sluice.toml` and its loading
//! - `check.rs`: `sluice check`
//! - `plan.rs`, `plan/`: the compiled configuration (`build.rs`); routing
//!   (`routing.rs`, `template.rs`), subscriptions and products
//!   (`subscriptions.rs`), a request's context (`context.rs`), running a request
//! - `semantic.rs`: the semantic cache every plan of a gateway shares, local embeddings models
//! - `serve/`: `sluice run`, the server, hot reload and the admin listener
//! - `testing/`: `sluice test`, the conformance runner

pub mod check;
pub mod config;
pub mod plan;
pub mod semantic;
pub mod serve;
pub mod testing;
