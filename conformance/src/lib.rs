//! Conformance cases of documented APIM behaviour, as data: one TOML file per
//! behaviour in `cases/<policy>/<behaviour>.toml` (format:
//! ../shared/conformance/FORMAT.md). `cargo test` runs them all through the
//! gateway's runner (`tests/cases.rs`); `sluice test conformance/cases` does
//! the same from the command line.

use std::path::PathBuf;

/// The folder of the cases.
pub fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cases")
}
