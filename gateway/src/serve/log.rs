//! The log of `sluice run`: `tracing` events to standard error, as text or
//! as JSON lines (`[log] format`), filtered by `[log] level` or, when set,
//! `RUST_LOG`. Installed once, when the gateway starts: a reload cannot
//! change it. `sluice check` and `sluice test` install
//! none, so nothing they run logs.
//!
//! Every line is written through [`Masking`]: the configuration's secret
//! values (those `sluice check` masks: secret named values, keys, tokens,
//! passwords), as each plan built so far has them, are masked in it too.
//! A secret can reach a message at run time (a secret named value in an
//! `openid-config` URL that cannot be fetched, for instance); this is the
//! net under every such message.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::RwLock;

use sluice_engine::diag::{Diagnostic, Diagnostics, Redaction, Severity};
use tracing_subscriber::EnvFilter;

use crate::config::model::{Config, LogFormat, LogSection};

/// The secret values masked in every log line, longest first.
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds the secret values of a configuration to those masked in the log
/// (kept for the process's life: a line about an old plan may still come).
pub fn mask(values: &[String]) {
    let Ok(mut all) = SECRETS.write() else {
        return;
    };
    let before = all.len();
    for v in values {
        if !all.contains(v) {
            all.push(v.clone());
        }
    }
    if all.len() != before {
        all.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }
}

/// `line` with every secret of [`SECRETS`] replaced by `***`, or `None`
/// when it holds none.
fn masked(line: &[u8]) -> Option<Vec<u8>> {
    let secrets = SECRETS.read().ok()?;
    let text = String::from_utf8_lossy(line);
    if !secrets.iter().any(|s| text.contains(s.as_str())) {
        return None;
    }
    let mut out = text.into_owned();
    for s in secrets.iter() {
        out = out.replace(s.as_str(), Redaction::MASK);
    }
    Some(out.into_bytes())
}

/// Standard error, with the secrets masked in what is written (a log
/// event is formatted whole, then written with one call).
pub struct Masking;

impl Write for Masking {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match masked(buf) {
            Some(m) => std::io::stderr().write_all(&m)?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// The filter of `[log] level` if none is given.
pub const DEFAULT_LEVEL: &str = "info";

/// The filter a directive says (`info`, `sluice=debug`, `warn,sluice_gateway=info`).
pub fn filter(directives: &str) -> Result<EnvFilter, String> {
    if directives.trim().is_empty() {
        return Err("it is empty".to_owned());
    }
    EnvFilter::builder()
        .parse(directives)
        .map_err(|e| e.to_string())
}

/// `[log]` as the configuration file says, read before anything else so that
/// every line, a failed start's too, is in the format asked for. A file that
/// does not parse logs with the defaults (and then fails to load, with its
/// diagnostics).
pub fn section_of(path: &Path) -> LogSection {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| toml::from_str::<Config>(&t).ok())
        .map(|c| c.log)
        .unwrap_or_default()
}

/// Installs the process's subscriber for `section`; `rust_log` (the value
/// of `RUST_LOG`), when set, overrides its level.
pub fn install(section: &LogSection, rust_log: Option<&str>) {
    let level = section.level.as_ref().map(|l| l.get_ref().as_str());
    let mut ignored = Vec::new();
    let mut chosen = None;
    for (what, directives) in [("RUST_LOG", rust_log), ("[log] level", level)] {
        let Some(directives) = directives.filter(|d| !d.trim().is_empty()) else {
            continue;
        };
        match filter(directives) {
            Ok(f) => {
                chosen = Some(f);
                break;
            }
            Err(e) => ignored.push((what, directives.to_owned(), e)),
        }
    }
    let filter = chosen.unwrap_or_else(|| EnvFilter::new(DEFAULT_LEVEL));
    let format = section.format.as_ref().map(|f| *f.get_ref());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Masking);
    // Another subscriber already set (a test harness): it stays.
    let _ = match format.unwrap_or_default() {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    for (what, directives, e) in ignored {
        tracing::warn!("{what} `{directives}` is not a log filter, ignored: {e}");
    }
}

/// Logs diagnostics, one event each, at their severity (the rendered text,
/// with file, line and column, is the message).
pub fn diagnostics(diags: &Diagnostics) {
    for d in diags {
        diagnostic(d);
    }
}

fn diagnostic(d: &Diagnostic) {
    let code = d.code.as_str();
    let location = d.location();
    match d.severity {
        Severity::Error => tracing::error!(code, %location, "{d}"),
        Severity::Warning => tracing::warn!(code, %location, "{d}"),
        Severity::Note => tracing::info!(code, %location, "{d}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_log_lines() {
        mask(&["tenant-0f5e".to_owned(), "tenant-0f5e-longer".to_owned()]);
        let line = b"GET https://login.test/tenant-0f5e-longer/v2.0 and tenant-0f5e\n";
        assert_eq!(
            String::from_utf8(masked(line).unwrap()).unwrap(),
            "GET https://login.test/***/v2.0 and ***\n"
        );
        assert_eq!(masked(b"nothing secret here"), None);
    }

    #[test]
    fn filters_are_tracing_directives() {
        for ok in ["info", "sluice=debug", "warn,sluice_gateway=info", "TRACE"] {
            assert!(filter(ok).is_ok(), "{ok}");
        }
        for bad in ["", "  ", "sluice=loud"] {
            assert!(filter(bad).is_err(), "{bad}");
        }
    }
}
