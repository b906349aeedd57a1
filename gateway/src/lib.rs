//! The Sluice gateway: configuration, and the `sluice` commands.
//!
//! - `config/`: `sluice.toml` and its loading
//! - `build.rs`: the one way from a configuration to a plan (run, test, check, tests)
//! - `check.rs`: `sluice check`
//! - `plan.rs`, `plan/`: the compiled configuration (`compile.rs`); routing
//!   (`routing.rs`, `template.rs`), subscriptions and products
//!   (`subscriptions.rs`), a request's context (`context.rs`), running a request
//! - `resources/`: the state that outlives plans, one family per file (metrics, backends, the semantic cache)
//! - `serve/`: `sluice run`, the server, hot reload and the admin listener
//! - `testing/`: `sluice test`, the conformance runner

pub mod build;
pub mod check;
pub mod config;
pub mod plan;
pub mod resources;
pub mod serve;
pub mod testing;
