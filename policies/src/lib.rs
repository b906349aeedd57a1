//! Built-in policy stages and their one registration table.
//!
//! Each policy that `sluice run` executes gets one file here (its compiled
//! form and its stage) and one line in [`STAGES`]. A policy that APIM has but
//! that is not in this table is valid in `sluice check` (a warning) and is
//! refused by `sluice run` with a message naming it.

/// The policies `sluice run` executes. Empty until the gateway stages land:
/// until then every policy is reported as not executed yet.
pub const STAGES: &[&str] = &[];

/// Whether `sluice run` executes the policy `name`.
pub fn is_executable(name: &str) -> bool {
    STAGES.contains(&name)
}
