//! The `sluice` command: `check`, `test` and `run`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sluice_gateway::{check, serve, testing};

#[derive(Parser)]
#[command(
    name = "sluice",
    version,
    about = "Run Azure API Management policies as written"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check policy documents: syntax, structure, every policy against its schema.
    Check(check::Args),
    /// Run conformance cases (FORMAT.md): a configuration plus HTTP exchanges with expectations.
    Test(testing::Args),
    /// Serve a configuration (`sluice.toml`).
    Run(serve::Args),
}

/// Per-request allocations are the gateway's hot path; mimalloc serves them
/// faster than glibc malloc (see README "Speed").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Test(args) => testing::run(&args),
        Command::Run(args) => serve::run(&args),
    }
}
