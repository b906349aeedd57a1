//! Comparing what a step observed with its `[step.expect]`; each mismatch
//! is one readable line (or a few, for bodies): what was expected, what was
//! seen.
//!
//! Choices FORMAT.md leaves open (docs/conformance.md):
//! - a header given several times compares as its values joined with `, `;
//!   an expected value may also be an array of values;
//! - JSON numbers compare by value (`1` equals `1.0`);
//! - `body-json-subset`: objects match when every expected key matches;
//!   arrays must have the same length, each element matching as a subset.

use std::collections::BTreeMap;

use sluice_engine::runtime::{Multimap, OutboundRequest};

use super::case::{BackendRequestExpect, Expect, Values};
use super::stubs::Counters;
use crate::plan::Response;

/// Everything a step's expectations look at.
pub struct Observed<'a> {
    pub response: Option<&'a Response>,
    pub counters: &'a Counters,
    /// The Prometheus exposition after the step.
    pub metrics: &'a str,
    /// The events the loggers were sent during the step, as JSON lines.
    pub logged: &'a [String],
}

pub fn check(expect: &Expect, seen: &Observed<'_>, out: &mut Vec<String>) {
    let needs_response = expect.status.is_some()
        || expect.headers.is_some()
        || !expect.headers_absent.is_empty()
        || expect.body.is_some()
        || !expect.body_contains.is_empty()
        || expect.body_json.is_some()
        || expect.body_json_subset.is_some();
    match seen.response {
        Some(r) => response(expect, r, out),
        None if needs_response => {
            out.push("the step expects a response but sends no request".into());
        }
        None => {}
    }
    let c = seen.counters;
    for (what, want, got) in [
        ("backend-calls", expect.backend_calls, c.backend),
        ("stub-calls", expect.stub_calls, c.stub),
        ("embeddings-calls", expect.embeddings_calls, c.embeddings),
    ] {
        if let Some(want) = want
            && want != got
        {
            out.push(format!("{what}: expected {want}, got {got}"));
        }
    }
    for want in &expect.metrics_contain {
        if !seen.metrics.contains(want.as_str()) {
            out.push(format!(
                "metrics-contain: no `{want}` in the metrics:\n{}",
                metrics_excerpt(seen.metrics)
            ));
        }
    }
    if let Some(want) = &expect.backend_request {
        match &c.last_backend {
            Some(req) => backend_request(want, req, out),
            None => out.push("backend-request: expected a request, the backend got none".into()),
        }
    }
    if let Some(want) = &expect.stub_request {
        match &c.last_stub {
            Some(req) => {
                let mut lines = Vec::new();
                backend_request(want, req, &mut lines);
                out.extend(lines.into_iter().map(|l| {
                    l.strip_prefix("backend-request").map_or_else(
                        || format!("stub-request: {l}"),
                        |r| format!("stub-request{r}"),
                    )
                }));
            }
            None => out.push("stub-request: expected a request, no stub got one".into()),
        }
    }
    logged(expect, seen.logged, out);
}

/// `logged` and `logged-count` against what the loggers were sent.
fn logged(expect: &Expect, seen: &[String], out: &mut Vec<String>) {
    let shown = || {
        if seen.is_empty() {
            "          (nothing)".to_owned()
        } else {
            seen.iter()
                .map(|l| format!("          {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    if let Some(want) = expect.logged_count
        && want != seen.len()
    {
        out.push(format!(
            "logged-count: expected {want}, got {}:\n{}",
            seen.len(),
            shown()
        ));
    }
    for want in &expect.logged {
        if !seen.iter().any(|l| l.contains(want.as_str())) {
            out.push(format!("logged: no event contains `{want}`:\n{}", shown()));
        }
    }
}

/// The metrics' sample lines (not their help and type lines), indented.
fn metrics_excerpt(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.contains("_bucket{"))
        .map(|l| format!("          {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn response(expect: &Expect, r: &Response, out: &mut Vec<String>) {
    if let Some(want) = expect.status
        && want != r.status
    {
        out.push(format!(
            "status: expected {want}, got {} {}",
            r.status, r.reason
        ));
    }
    headers(
        "header",
        expect.headers.as_ref(),
        &expect.headers_absent,
        &r.headers,
        out,
    );
    let body = String::from_utf8_lossy(&r.body);
    body_checks(
        "body",
        &body,
        expect.body.as_deref(),
        &expect.body_contains,
        expect.body_json.as_ref(),
        expect.body_json_subset.as_ref(),
        out,
    );
}

fn backend_request(want: &BackendRequestExpect, req: &OutboundRequest, out: &mut Vec<String>) {
    if let Some(m) = &want.method
        && !m.eq_ignore_ascii_case(&req.method)
    {
        out.push(format!(
            "backend-request method: expected {m}, got {}",
            req.method
        ));
    }
    if let Some(u) = &want.url
        && *u != req.url
    {
        out.push(format!(
            "backend-request url:\n    expected {u}\n    got      {}",
            req.url
        ));
    }
    headers(
        "backend-request header",
        want.headers.as_ref(),
        &want.headers_absent,
        &req.headers,
        out,
    );
    let body = String::from_utf8_lossy(&req.body);
    body_checks(
        "backend-request body",
        &body,
        want.body.as_deref(),
        &[],
        want.body_json.as_ref(),
        None,
        out,
    );
}

fn headers(
    what: &str,
    want: Option<&BTreeMap<String, Values>>,
    absent: &[String],
    got: &Multimap,
    out: &mut Vec<String>,
) {
    for (name, value) in want.into_iter().flatten() {
        let want = value.joined();
        match got.get(name) {
            None => out.push(format!("{what} `{name}`: expected `{want}`, absent")),
            Some(v) if v.join(", ") != want => out.push(format!(
                "{what} `{name}`: expected `{want}`, got `{}`",
                v.join(", ")
            )),
            Some(_) => {}
        }
    }
    for name in absent {
        if let Some(v) = got.get(name) {
            out.push(format!(
                "{what} `{name}`: expected absent, got `{}`",
                v.join(", ")
            ));
        }
    }
}

fn body_checks(
    what: &str,
    body: &str,
    exact: Option<&str>,
    contains: &[String],
    json: Option<&toml::Value>,
    subset: Option<&toml::Value>,
    out: &mut Vec<String>,
) {
    if let Some(want) = exact
        && want != body
    {
        out.push(format!(
            "{what}:\n    expected {}\n    got      {}",
            quote(want),
            quote(body)
        ));
    }
    for part in contains {
        if !body.contains(part.as_str()) {
            out.push(format!(
                "{what}: expected to contain {}\n    got {}",
                quote(part),
                quote(body)
            ));
        }
    }
    for (kind, want, whole) in [("json", json, true), ("json subset", subset, false)] {
        let Some(want) = want else { continue };
        let want = to_json(want);
        match serde_json::from_str::<serde_json::Value>(body) {
            Err(e) => out.push(format!(
                "{what} ({kind}): expected {want}, but the body is not JSON ({e}): {}",
                quote(body)
            )),
            Ok(got) => {
                let ok = if whole {
                    json_eq(&want, &got)
                } else {
                    json_subset(&want, &got)
                };
                if !ok {
                    out.push(format!(
                        "{what} ({kind}):\n    expected {want}\n    got      {got}"
                    ));
                }
            }
        }
    }
}

/// A TOML value as JSON (tables become objects).
pub fn to_json(v: &toml::Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// Equality where numbers compare by value.
pub fn json_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Every key of `want` (recursively) matches in `got`.
pub fn json_subset(want: &serde_json::Value, got: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (want, got) {
        (J::Object(x), J::Object(y)) => x
            .iter()
            .all(|(k, v)| y.get(k).is_some_and(|w| json_subset(v, w))),
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_subset(a, b))
        }
        _ => json_eq(want, got),
    }
}
