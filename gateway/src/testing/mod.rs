//! `sluice test PATH...`: the conformance runner (../shared/conformance/FORMAT.md).
//!
//! - `case.rs`: a case file as data; its own keys split from the configuration
//! - `stubs.rs`: the runner's services: stubs, call counters, the virtual clock
//! - `runner.rs`: running one case, step by step
//! - `expect.rs`: comparing what a step saw with what it expects
//!
//! The runner's choices where FORMAT.md is silent are in docs/conformance.md.

pub mod case;
pub mod expect;
pub mod runner;
pub mod stubs;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub use runner::{Outcome, Report, run_case};

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

/// The case files under `paths` (a file is taken as given, a folder searched
/// for `*.toml` recursively), sorted; a path that does not exist is kept, so
/// that running it reports it.
pub fn case_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(p)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(walkdir::DirEntry::into_path)
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    out
}

/// Totals of a run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Files that could not be read or parsed as a case (also counted in `failed`).
    pub broken: usize,
}

impl Summary {
    pub fn line(&self) -> String {
        let mut s = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            s.push_str(&format!(", {} skipped", self.skipped));
        }
        s
    }

    pub fn exit_code(&self) -> u8 {
        if self.broken > 0 {
            2
        } else if self.failed > 0 {
            1
        } else {
            0
        }
    }
}

/// What is printed for one case: nothing for a pass unless `verbose`.
pub fn render(path: &Path, report: &Report, verbose: bool) -> String {
    let title = report.title.as_deref().unwrap_or("");
    let p = path.display();
    let mut out = String::new();
    match &report.outcome {
        Outcome::Passed if verbose => out.push_str(&format!("ok    {p}: {title}\n")),
        Outcome::Passed => {}
        Outcome::Skipped(reason) if verbose => {
            out.push_str(&format!("skip  {p}: {reason}\n"));
        }
        Outcome::Skipped(_) => {}
        Outcome::Failed { step, lines } => {
            let at = if *step == 0 {
                "loading".to_owned()
            } else {
                format!("step {step}")
            };
            out.push_str(&format!("FAIL  {p} ({at}): {title}\n"));
            for l in lines {
                for l in l.lines() {
                    out.push_str(&format!("      {l}\n"));
                }
            }
        }
        Outcome::Broken(e) => {
            out.push_str(&format!("ERROR {p}: not a valid case\n"));
            for l in e.lines() {
                out.push_str(&format!("      {l}\n"));
            }
        }
    }
    if verbose && !matches!(report.outcome, Outcome::Skipped(_) | Outcome::Broken(_)) {
        for s in &report.steps {
            out.push_str(&format!("      {s}\n"));
        }
    }
    out
}

/// Runs every case under `paths` (filtered), printing as it goes.
pub fn run_all(
    paths: &[PathBuf],
    filter: Option<&str>,
    verbose: bool,
    out: &mut dyn Write,
) -> Summary {
    let mut summary = Summary::default();
    for path in case_files(paths) {
        if let Some(f) = filter
            && !path.display().to_string().contains(f)
        {
            continue;
        }
        let report = run_case(&path);
        match &report.outcome {
            Outcome::Passed => summary.passed += 1,
            Outcome::Failed { .. } => summary.failed += 1,
            Outcome::Skipped(_) => summary.skipped += 1,
            Outcome::Broken(_) => {
                summary.failed += 1;
                summary.broken += 1;
            }
        }
        // A closed standard output is not a reason to stop counting.
        let _ = out.write_all(render(&path, &report, verbose).as_bytes());
    }
    summary
}

pub fn run(args: &Args) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let summary = run_all(&args.paths, args.filter.as_deref(), args.verbose, &mut out);
    let _ = writeln!(out, "{}", summary.line());
    ExitCode::from(summary.exit_code())
}
