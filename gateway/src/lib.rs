//! The Sluice gateway: configuration, and the `sluice` commands.
//!
//! - `config/`: `sluice.toml` and its loading
//! - `build.rs`: the one way from a configuration to a plan (run, test, check, tests)
//! - `check.rs`: `sluice check`
//! - `plan.rs`: the compiled configuration; routing, subscriptions, running a request
//! - `route.rs`: APIs by path, operations by method and URL template
//! - `resources/`: the state that outlives plans, one family per file (metrics, backends, the semantic cache)
//! - `serve/`: `sluice run`, the server, hot reload and the admin listener
//! - `testing/`: `sluice test`, the conformance runner

pub mod build;
pub mod check;
pub mod config;
pub mod plan;
pub mod resources;
pub mod route;
pub mod serve;
pub mod testing;
