//! `sluice test PATH...`: the conformance runner (../shared/conformance/FORMAT.md).
//!
//! Being written: until then it refuses to run, saying so.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Case files, or folders to search for `*.toml`.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Run only cases whose path contains this.
    #[arg(long)]
    pub filter: Option<String>,
    /// Print every step.
    #[arg(long)]
    pub verbose: bool,
}

pub fn run(_args: &Args) -> ExitCode {
    eprintln!("sluice test: not available in this build yet");
    ExitCode::from(2)
}
