//! The Sluice gateway: configuration, and the `sluice` commands.
//!
//! - `config/`: `sluice.toml` and its loading
//! - `check.rs`: `sluice check`

pub mod check;
pub mod config;
