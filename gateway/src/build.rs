//! The one way from a configuration to a plan, for `sluice run` (at start
//! and on every reload), `sluice test`, `sluice check` and the tests:
//! read the configuration, make the expression engine its `[limits]` ask
//! for, load and check every policy (each expression compiled once, and
//! shared by every pipeline that contains it), build the resource families
//! (or keep a running gateway's), and compile the plan. No diagnostic it
//! returns shows a secret of the configuration (see `config`).

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sluice_engine::diag::{Code, Diagnostic, Diagnostics, Severity};
use sluice_engine::script::Compiler;
use sluice_engine::source::{Source, Span};
use sluice_stdlib::Limits;

use crate::config::model::ApiopsSection;
use crate::config::{self, Config, Options, apiops};
use crate::plan::Plan;
use crate::resources::{Families, Mode, Origin};
use toml::Spanned;

/// Where the configuration comes from.
pub enum Input<'a> {
    /// A configuration file.
    File(&'a Path),
    /// Text named `name`, whose relative paths start at `base`, already
    /// parsed or not (a conformance case parses its own keys off).
    Text {
        name: &'a str,
        base: &'a Path,
        text: &'a str,
        config: Option<Box<Config>>,
    },
    /// An APIOps extract's folder, with a publisher overrides file or not
    /// (`sluice run DIR --overrides FILE`): read as a configuration holding
    /// only `[apiops]`.
    Extract {
        dir: &'a Path,
        overrides: Option<&'a Path>,
    },
}

/// What the build is for.
#[derive(Clone, Copy)]
pub struct Purpose<'a> {
    pub mode: Mode,
    /// Refuse policies `run` does not execute (`Error`), or warn (`check`).
    pub not_executed: Severity,
    /// Environment lookup for `{ env = "X" }` named values.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

impl Purpose<'static> {
    pub const RUN: Purpose<'static> = Purpose {
        mode: Mode::RUN,
        not_executed: Severity::Error,
        env: &env,
    };
    pub const TEST: Purpose<'static> = Purpose {
        mode: Mode::TEST,
        not_executed: Severity::Error,
        env: &env,
    };
    pub const CHECK: Purpose<'static> = Purpose {
        mode: Mode::CHECK,
        not_executed: Severity::Warning,
        env: &env,
    };
}

/// A configuration compiled into a plan.
pub struct Built {
    pub plan: Plan,
    pub config: Config,
    pub families: Arc<Families>,
    /// `[admin] token`, resolved.
    pub admin_token: Option<config::Secret>,
    /// The listener's TLS (`[gateway] tls-cert`), loaded.
    pub tls: Option<config::tls::Tls>,
    /// What loading found that is not an error.
    pub warnings: Diagnostics,
}

/// The expression limits of `[limits]`.
pub fn limits(config: &Config) -> Limits {
    let mut limits = Limits::default();
    if let Some(ops) = config.limits.expression_operations {
        limits.max_operations = ops;
    }
    if let Some(ms) = config.limits.expression_wall_time_ms {
        limits.wall_time = Duration::from_millis(ms);
    }
    limits
}

/// `[limits] max-request-body-bytes` unless set (as `serve::state` has it).
const DEFAULT_BODY_BYTES: usize = 16 * 1024 * 1024;

/// `[limits] request-memory-multiple` unless set.
pub const DEFAULT_REQUEST_MEMORY_MULTIPLE: usize = 4;

/// The memory one request's reading may take: `request-memory-multiple`
/// (at least 1) times `max-request-body-bytes`.
pub fn request_memory(config: &Config) -> usize {
    let multiple = config
        .limits
        .request_memory_multiple
        .unwrap_or(DEFAULT_REQUEST_MEMORY_MULTIPLE)
        .max(1);
    let body = config
        .limits
        .max_request_body_bytes
        .unwrap_or(DEFAULT_BODY_BYTES);
    body.saturating_mul(multiple)
}

/// Builds the plan of a configuration, with a running gateway's `families`
/// (a reload: each family first says whether it can be kept) or new ones.
pub fn build(
    input: Input<'_>,
    families: Option<&Arc<Families>>,
    purpose: Purpose<'_>,
) -> Result<Built, Diagnostics> {
    let (name, base, text, parsed) = match input {
        Input::File(path) => {
            let text = config::read_file(path)?;
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (path.display().to_string(), base, Cow::Owned(text), None)
        }
        Input::Text {
            name,
            base,
            text,
            config,
        } => (
            name.to_owned(),
            base.to_path_buf(),
            Cow::Borrowed(text),
            config.map(|c| *c),
        ),
        Input::Extract { dir, overrides } => {
            let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
            let section = ApiopsSection {
                dir: Spanned::new(0..0, absolute(dir).display().to_string()),
                overrides: overrides.map(|o| Spanned::new(0..0, absolute(o).display().to_string())),
            };
            let c = Config {
                apiops: Some(Spanned::new(0..0, section)),
                ..Config::default()
            };
            (
                dir.display().to_string(),
                dir.to_path_buf(),
                Cow::Borrowed(""),
                Some(c),
            )
        }
    };
    let mut config = match parsed {
        Some(c) => c,
        None => config::parse(&name, &text)?,
    };
    // An extract's resources join the configuration's before anything is loaded.
    let mut extract_warnings = Diagnostics::new();
    if let Some(a) = &config.apiops {
        let a = a.get_ref();
        let dir = base.join(a.dir.get_ref());
        let overrides = a.overrides.as_ref().map(|o| base.join(o.get_ref()));
        let read = apiops::Read {
            dir: &dir,
            overrides: overrides.as_deref(),
            env: purpose.env,
            lenient: purpose.not_executed == Severity::Warning,
        };
        extract_warnings = apiops::load_into(&mut config, &read)?;
    }
    let limits = limits(&config);
    let engine = Arc::new(sluice_stdlib::engine(&limits));
    let compiler = Compiler::new(&engine);
    let opts = Options {
        compiler: &compiler,
        not_executed: purpose.not_executed,
        env: purpose.env,
    };
    let mut loaded = config::load_config(&name, &text, config, &base, &opts).map_err(|mut d| {
        d.extend(extract_warnings.clone());
        d.sorted()
    })?;
    loaded.warnings.extend(extract_warnings);
    let redaction = std::mem::take(&mut loaded.redaction);
    // What a plan of this configuration logs is masked too.
    crate::serve::log::mask(redaction.values());
    let origin = Origin {
        name: &name,
        text: &text,
        base: &base,
        env: purpose.env,
    };
    let families = match families {
        Some(f) => {
            let refused = f.check_reload(&loaded.config);
            if !refused.is_empty() {
                let src = Source::new(name.clone(), text.as_ref());
                let mut d = Diagnostics::new();
                for msg in refused {
                    d.push(Diagnostic::new(
                        Code::ConfigReference,
                        &src,
                        Span::point(0),
                        msg,
                    ));
                }
                return Err(d.redacted(&redaction));
            }
            Arc::clone(f)
        }
        None => Arc::new(
            Families::new(&loaded.config, origin, purpose.mode)
                .map_err(|d| d.redacted(&redaction))?,
        ),
    };
    let mut resources = families
        .provide(&loaded.config, origin, purpose.mode)
        .map_err(|d| d.redacted(&redaction))?;
    // `[certificates.ID]`: read anew by every plan.
    resources.insert(Arc::new(std::mem::take(&mut loaded.certificates)));
    // The APIs' documents and `[schemas]` belong to this plan alone.
    resources.insert(Arc::new(std::mem::take(&mut loaded.specs)));
    resources.insert(Arc::new(std::mem::take(&mut loaded.schemas)));
    let warnings = std::mem::take(&mut loaded.warnings);
    let plan = Plan::build(&loaded, Arc::clone(&engine), limits, &compiler, &resources).map_err(
        |errors| {
            // What loading warned about, and the plan's errors but those
            // that repeat loading's: a policy not executed is reported by
            // loading at the severity asked for (a warning in `check`).
            let mut all = warnings.clone();
            let repeated = |d: &Diagnostic| {
                d.code == Code::NotExecuted
                    && warnings
                        .iter()
                        .any(|w| w.code == d.code && w.location() == d.location())
            };
            for d in errors.iter() {
                if d.severity == Severity::Error && !repeated(d) {
                    all.push(d.clone());
                }
            }
            all.sorted().redacted(&redaction)
        },
    )?;
    Ok(Built {
        plan,
        config: loaded.config,
        families,
        admin_token: loaded.admin_token,
        tls: loaded.tls,
        warnings,
    })
}

/// [`build`] of a configuration's text as `sluice run` would serve it, with
/// no environment and new families: what tests build their plans with.
pub fn from_text(text: &str) -> Result<Built, Diagnostics> {
    let input = Input::Text {
        name: "t.toml",
        base: Path::new("."),
        text,
        config: None,
    };
    let purpose = Purpose {
        mode: Mode::TEST,
        not_executed: Severity::Error,
        env: &|_| None,
    };
    build(input, None, purpose)
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str =
        "[[api]]\nname = \"a\"\npath = \"a\"\nservice-url = \"http://backend.test\"\n";

    fn rebuild(families: &Arc<Families>, section: &str) -> Result<Built, Diagnostics> {
        let text = format!("{section}\n{API}");
        let input = Input::Text {
            name: "t.toml",
            base: Path::new("."),
            text: &text,
            config: None,
        };
        build(input, Some(families), Purpose::TEST)
    }

    #[test]
    fn a_rebuild_keeps_the_families_unless_one_refuses_the_new_configuration() {
        let first = from_text(&format!("[semantic-cache]\nexact-entries = 10\n{API}")).unwrap();
        let kept = rebuild(&first.families, "[semantic-cache]\nexact-entries = 10").unwrap();
        assert!(Arc::ptr_eq(&first.families, &kept.families));
        let Err(refused) = rebuild(&first.families, "[semantic-cache]\nexact-entries = 20") else {
            panic!("a changed [semantic-cache] was kept");
        };
        assert!(
            refused
                .to_string()
                .contains("`[semantic-cache]` cannot change while running"),
            "{refused}"
        );
    }

    #[test]
    fn a_rebuild_keeps_the_counters_unless_their_section_changes() {
        let section = "[counters]\nstore = \"memory\"\non-store-failure = \"deny\"";
        let first = from_text(&format!("{section}\n{API}")).unwrap();
        let kept = rebuild(&first.families, section).unwrap();
        assert!(Arc::ptr_eq(&first.families, &kept.families));
        for changed in [
            "[counters]\nstore = \"memory\"",
            "[counters]\nstore = \"redis\"\non-store-failure = \"deny\"",
        ] {
            let Err(refused) = rebuild(&first.families, changed) else {
                panic!("a changed [counters] was kept: {changed}");
            };
            assert!(
                refused
                    .to_string()
                    .contains("`[counters]` cannot change while running"),
                "{refused}"
            );
        }
    }
}
