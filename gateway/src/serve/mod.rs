//! `sluice run`: the gateway server.
//!
//! Being written: until then it refuses to run, saying so.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The configuration file.
    #[arg(default_value = "sluice.toml")]
    pub config: PathBuf,
}

pub fn run(_args: &Args) -> ExitCode {
    eprintln!("sluice run: not available in this build yet");
    ExitCode::from(2)
}
