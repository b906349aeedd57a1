//! `sluice check PATH...`: a linter for APIM policy documents, gateway
//! configurations and APIOps extracts (a folder with `apis/*/apiInformation.json`).
//!
//! Files and folders (recursively `*.xml`) are read in two passes: fragments
//! (root `<fragment>`) first, so that `include-fragment` in the other files
//! can be checked against them; then every file. A fragment is known by its
//! file stem, and a stem of the form `dir__name` (a flattened `dir/name`) also
//! as `name`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sluice_engine::diag::{Diagnostics, Severity};
use sluice_engine::doc::{DocKind, Fragments, LoadOptions, load};
use sluice_engine::schema::Scope;
use sluice_engine::script::Compiler;
use sluice_engine::source::Source;
use sluice_engine::validate::Execution;
use sluice_engine::value::NamedValues;

use crate::build::{Input, Purpose};

#[derive(clap::Args)]
pub struct Args {
    /// Policy files, gateway configurations (`*.toml`), or folders to search for `*.xml`.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// A named value for `{{NAME}}` (repeatable). Once any is given, a
    /// reference to a name without a value is an error.
    #[arg(long = "named-value", value_name = "NAME=VALUE", value_parser = parse_named_value)]
    named_values: Vec<(String, String)>,
    /// The scope the documents are attached to; checks that each policy is allowed there.
    #[arg(long, value_parser = parse_scope)]
    scope: Option<Scope>,
    /// The publisher overrides (`configuration.<env>.yaml`) of the APIOps extracts given.
    #[arg(long, value_name = "FILE")]
    overrides: Option<PathBuf>,
    /// One JSON object per diagnostic per line on standard output; the summary line goes to standard error.
    #[arg(long)]
    json: bool,
}

fn parse_named_value(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    Ok((name.to_owned(), value.to_owned()))
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    Scope::ALL
        .into_iter()
        .find(|sc| sc.name() == s)
        .ok_or_else(|| {
            let names: Vec<&str> = Scope::ALL.iter().map(|s| s.name()).collect();
            format!("`{s}` is not a scope: use one of {}", names.join(", "))
        })
}

/// Every `*.xml` under the given paths, sorted, each once.
fn collect(paths: &[PathBuf], unreadable: &mut Vec<String>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            for entry in walkdir::WalkDir::new(p).sort_by_file_name() {
                match entry {
                    Ok(e)
                        if e.file_type().is_file()
                            && e.path().extension().is_some_and(|x| x == "xml") =>
                    {
                        files.push(e.into_path());
                    }
                    Ok(_) => {}
                    Err(e) => unreadable.push(format!("error: cannot read {}: {e}", p.display())),
                }
            }
        } else {
            files.push(p.clone());
        }
    }
    files.dedup();
    files
}

fn fragment_ids(path: &Path) -> Vec<String> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut ids = vec![stem.clone()];
    if let Some((_, last)) = stem.rsplit_once("__") {
        ids.push(last.to_owned());
    }
    ids
}

pub fn run(args: &Args) -> ExitCode {
    let mut unreadable = Vec::new();
    // APIOps extracts: every policy at its own scope, with its fragments and
    // named values, loaded as `sluice run DIR` would.
    let mut all = Diagnostics::new();
    let (extracts, paths): (Vec<PathBuf>, Vec<PathBuf>) = args
        .paths
        .iter()
        .cloned()
        .partition(|p| crate::config::apiops::is_extract(p));
    for dir in &extracts {
        let input = Input::Extract {
            dir,
            overrides: args.overrides.as_deref(),
        };
        match crate::build::build(input, None, Purpose::CHECK) {
            Ok(built) => all.extend(built.warnings),
            Err(diags) => all.extend(diags),
        }
    }
    let files = collect(&paths, &mut unreadable);
    let named = if args.named_values.is_empty() {
        NamedValues::Unknown
    } else {
        NamedValues::Known(
            args.named_values
                .iter()
                .cloned()
                .collect::<BTreeMap<_, _>>(),
        )
    };
    let mut sources = Vec::new();
    for f in &files {
        match std::fs::read_to_string(f) {
            Ok(text) => sources.push((f, Source::new(f.display().to_string(), text))),
            Err(e) => unreadable.push(format!("error: cannot read {}: {e}", f.display())),
        }
    }
    // Pass 1: fragments.
    let mut fragments = Fragments::new();
    for (path, src) in &sources {
        let opts = LoadOptions {
            named: Some(&named),
            expect: Some(DocKind::Fragment),
            ..LoadOptions::default()
        };
        if src.text().contains("<fragment")
            && let (Some(doc), _) = load(src, &opts)
            && doc.kind == DocKind::Fragment
        {
            for id in fragment_ids(path) {
                fragments.insert(id, doc.clone());
            }
        }
    }
    // Pass 2: everything, with the fragments known and every expression compiled.
    let executable = sluice_policies::is_executable;
    let engine = std::sync::Arc::new(sluice_stdlib::engine(&sluice_stdlib::Limits::default()));
    let compiler = Compiler::new(&engine);
    let opts = LoadOptions {
        compiler: Some(&compiler),
        named: Some(&named),
        scope: args.scope,
        execution: Some(Execution {
            executable: &executable,
            severity: Severity::Warning,
        }),
        fragments: Some(&fragments),
        ..LoadOptions::default()
    };
    for (path, src) in &sources {
        if path.extension().is_some_and(|x| x == "toml") {
            // A gateway configuration: every policy at its scope, with its
            // named values, compiled into a plan as `sluice run` would.
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let input = Input::Text {
                name: src.name(),
                base: &base,
                text: src.text(),
                config: None,
            };
            match crate::build::build(input, None, Purpose::CHECK) {
                Ok(built) => all.extend(built.warnings),
                Err(diags) => all.extend(diags),
            }
            continue;
        }
        let (_, diags) = load(src, &opts);
        all.extend(diags.sorted());
    }
    report(
        &all,
        sources.len() + unreadable.len() + extracts.len(),
        &unreadable,
        args.json,
    )
}

fn report(all: &Diagnostics, files: usize, unreadable: &[String], json: bool) -> ExitCode {
    let errors = all.count(Severity::Error) + unreadable.len();
    let warnings = all.count(Severity::Warning);
    for u in unreadable {
        eprintln!("{u}");
    }
    let summary = format!("{files} files, {errors} errors, {warnings} warnings");
    if json {
        // Standard output holds only diagnostics, one object a line; the summary goes to stderr.
        for d in all {
            println!("{}", d.to_json());
        }
        eprintln!("{summary}");
    } else {
        for d in all {
            println!("{d}");
        }
        println!("{summary}");
    }
    if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
