//! Azure AI Content Safety as `llm-content-safety` calls it: the text of an
//! LLM request or answer, the two REST operations (`text:analyze`,
//! `text:shieldPrompt`, api-version 2024-09-01) with their request and
//! answer shapes, and the state shared by every plan of a gateway
//! ([`ContentSafety`]: metrics, and which backends are failing, so that an
//! outage is logged once, not once a request).
//!
//! The REST shapes are those of the service's quickstarts
//! (`rest-quickstart-text.md`, `rest-quickstart-prompt-shields.md`):
//! `POST {endpoint}/contentsafety/text:analyze?api-version=2024-09-01` with
//! `{"text", "categories", "blocklistNames", "haltOnBlocklistHit",
//! "outputType"}`, answered `{"blocklistsMatch": [...],
//! "categoriesAnalysis": [{"category", "severity"}]}`; and
//! `POST {endpoint}/contentsafety/text:shieldPrompt?api-version=2024-09-01`
//! with `{"userPrompt", "documents"}`, answered `{"userPromptAnalysis":
//! {"attackDetected"}, "documentsAnalysis": [{"attackDetected"}]}`.

use std::collections::BTreeSet;
use std::sync::Mutex;

use prometheus::{IntCounterVec, Opts, Registry};
use serde_json::{Value, json};

/// The service's current GA version (its quickstarts').
pub const API_VERSION: &str = "2024-09-01";

/// The harm categories the policy and the service know.
pub const CATEGORIES: [&str; 4] = ["Hate", "SelfHarm", "Sexual", "Violence"];

/// What APIM tells a client whose request (or answer) is refused.
pub const BLOCKED_MESSAGE: &str = "Request failed content safety check.";

/// The state every plan of a gateway shares: metrics, and the backends
/// whose last call failed (an outage is logged when it starts and when it
/// ends, not for every request in between).
#[derive(Debug)]
pub struct ContentSafety {
    /// `sluice_content_safety_checks_total{direction, outcome}`.
    checks: IntCounterVec,
    /// `sluice_content_safety_errors_total{backend, kind}`.
    errors: IntCounterVec,
    failing: Mutex<BTreeSet<String>>,
    log: bool,
}

/// What was checked: a request's prompt or an LLM's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Response => "response",
        }
    }
}

impl ContentSafety {
    /// Registers its metrics in `registry`; `log`: outages go to the log.
    pub fn new(registry: &Registry, log: bool) -> Result<Self, prometheus::Error> {
        let checks = IntCounterVec::new(
            Opts::new(
                "sluice_content_safety_checks_total",
                "llm-content-safety checks, by what was checked and their outcome (allowed, blocked, error)",
            ),
            &["direction", "outcome"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "sluice_content_safety_errors_total",
                "calls to Azure AI Content Safety that failed, by backend and kind (timeout, connection, status, answer, credentials, unavailable)",
            ),
            &["backend", "kind"],
        )?;
        registry.register(Box::new(checks.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        Ok(Self {
            checks,
            errors,
            failing: Mutex::new(BTreeSet::new()),
            log,
        })
    }

    /// Unregistered metrics, nothing logged (unit tests).
    pub fn detached() -> Self {
        let registry = Registry::new();
        #[expect(clippy::expect_used, reason = "two fixed metrics in a fresh registry")]
        Self::new(&registry, false).expect("fresh registry")
    }

    pub fn count_check(&self, direction: Direction, outcome: &str) {
        self.checks
            .with_label_values(&[direction.as_str(), outcome])
            .inc();
    }

    /// A call to `backend` failed (`kind`, `message`: no secret in either).
    pub fn failed(&self, backend: &str, kind: &str, message: &str) {
        self.errors.with_label_values(&[backend, kind]).inc();
        let first = match self.failing.lock() {
            Ok(mut f) => f.insert(backend.to_owned()),
            Err(p) => p.into_inner().insert(backend.to_owned()),
        };
        if first && self.log {
            tracing::warn!(
                backend,
                kind,
                error = message,
                "llm-content-safety: the Content Safety backend `{backend}` fails ({kind}: {message}); \
                 the requests it should check are refused with 403 until it answers again"
            );
        }
    }

    /// A call to `backend` was answered.
    pub fn answered(&self, backend: &str) {
        let was = match self.failing.lock() {
            Ok(mut f) => f.remove(backend),
            Err(p) => p.into_inner().remove(backend),
        };
        if was && self.log {
            tracing::info!(
                backend,
                "llm-content-safety: the Content Safety backend `{backend}` answers again"
            );
        }
    }
}

/// The text content of an LLM request body: every message's text (chat
/// completions: `messages[].content`, a string or parts of `type: text`),
/// the `prompt` of a completion (a string or strings), the `input` of a
/// Responses or embeddings call; joined by newlines. `None`: not JSON, or
/// no text in it.
pub fn prompt_text(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let mut out = Vec::new();
    if let Some(messages) = v.get("messages").and_then(Value::as_array) {
        for m in messages {
            content_text(m.get("content"), &mut out);
        }
    }
    strings(v.get("prompt"), &mut out);
    match v.get("input") {
        Some(Value::Array(items)) => {
            for i in items {
                match i {
                    Value::String(s) => out.push(s.clone()),
                    other => content_text(other.get("content"), &mut out),
                }
            }
        }
        other => strings(other, &mut out),
    }
    joined(out)
}

/// The text of an LLM answer: `choices[].message.content` (chat),
/// `choices[].text` (completions), the Responses API's
/// `output[].content[].text`; or, for a server-sent event stream, the same
/// from each `data:` event (`choices[].delta.content`). `None`: no text.
pub fn completion_text(body: &[u8]) -> Option<String> {
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        answer_text(&v, &mut out);
        return joined(out);
    }
    // A stream: the text of each event, in order, joined as it was sent.
    let text = std::str::from_utf8(body).ok()?;
    let mut streamed = String::new();
    for line in text.lines() {
        let Some(data) = line.strip_prefix("data:") else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(data.trim()) else {
            continue;
        };
        let mut parts = Vec::new();
        answer_text(&v, &mut parts);
        if let Some(delta) = v.get("delta").and_then(Value::as_str) {
            // The Responses API's `response.output_text.delta` events.
            parts.push(delta.to_owned());
        }
        for p in parts {
            streamed.push_str(&p);
        }
    }
    (!streamed.trim().is_empty()).then_some(streamed)
}

fn answer_text(v: &Value, out: &mut Vec<String>) {
    if let Some(choices) = v.get("choices").and_then(Value::as_array) {
        for c in choices {
            for key in ["message", "delta"] {
                content_text(c.get(key).and_then(|m| m.get("content")), out);
            }
            strings(c.get("text"), out);
        }
    }
    if let Some(output) = v.get("output").and_then(Value::as_array) {
        for o in output {
            content_text(o.get("content"), out);
        }
    }
}

/// A message's content: a string, or parts whose `text` is taken.
fn content_text(content: Option<&Value>, out: &mut Vec<String>) {
    match content {
        Some(Value::String(s)) => out.push(s.clone()),
        Some(Value::Array(parts)) => {
            for p in parts {
                match p {
                    Value::String(s) => out.push(s.clone()),
                    p => strings(p.get("text"), out),
                }
            }
        }
        _ => {}
    }
}

/// A string, or the strings of an array.
fn strings(v: Option<&Value>, out: &mut Vec<String>) {
    match v {
        Some(Value::String(s)) => out.push(s.clone()),
        Some(Value::Array(a)) => out.extend(a.iter().filter_map(Value::as_str).map(str::to_owned)),
        _ => {}
    }
}

fn joined(parts: Vec<String>) -> Option<String> {
    let text = parts.join("\n");
    (!text.trim().is_empty()).then_some(text)
}

/// `text` cut into windows of `size` characters, each starting `size -
/// overlap` characters after the previous one; the whole text when `size`
/// is `None` (or 0).
pub fn windows(text: &str, size: Option<usize>, overlap: usize) -> Vec<&str> {
    let size = match size {
        Some(s) if s > 0 => s,
        _ => return vec![text],
    };
    let step = size.saturating_sub(overlap).max(1);
    let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    if starts.len() <= size {
        return vec![text];
    }
    let mut out = Vec::new();
    let mut first = 0;
    loop {
        let end = starts.get(first + size).copied().unwrap_or(text.len());
        out.push(&text[starts[first]..end]);
        if end == text.len() {
            break;
        }
        first += step;
    }
    out
}

/// The body of a `text:analyze` call.
pub fn analyze_request(
    text: &str,
    categories: &[(String, i64)],
    blocklists: &[String],
    output_type: &str,
) -> Vec<u8> {
    let mut body = json!({ "text": text, "outputType": output_type });
    if !categories.is_empty() {
        let names: Vec<&str> = categories.iter().map(|(n, _)| n.as_str()).collect();
        body["categories"] = json!(names);
    }
    if !blocklists.is_empty() {
        body["blocklistNames"] = json!(blocklists);
        // A hit blocks whatever the categories say: the service need not go on.
        body["haltOnBlocklistHit"] = json!(true);
    }
    body.to_string().into_bytes()
}

/// The body of a `text:shieldPrompt` call.
pub fn shield_request(user_prompt: &str) -> Vec<u8> {
    json!({ "userPrompt": user_prompt, "documents": [] })
        .to_string()
        .into_bytes()
}

/// Why an answer of `text:analyze` blocks the text (`None`: it does not),
/// or `Err` when the answer is not the documented shape.
pub fn analyze_verdict(
    answer: &[u8],
    categories: &[(String, i64)],
) -> Result<Option<String>, String> {
    let v: Value =
        serde_json::from_slice(answer).map_err(|_| "the analyze answer is not JSON".to_owned())?;
    if let Some(m) = v
        .get("blocklistsMatch")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        let list = m
            .get("blocklistName")
            .and_then(Value::as_str)
            .unwrap_or("?");
        return Ok(Some(format!("blocklist `{list}` matched")));
    }
    let analysis = v
        .get("categoriesAnalysis")
        .and_then(Value::as_array)
        .ok_or_else(|| "the analyze answer has no `categoriesAnalysis`".to_owned())?;
    for (name, threshold) in categories {
        let severity = analysis
            .iter()
            .find(|a| a.get("category").and_then(Value::as_str) == Some(name.as_str()))
            .and_then(|a| a.get("severity"))
            .and_then(Value::as_i64);
        if let Some(s) = severity
            && s >= *threshold
        {
            return Ok(Some(format!(
                "category `{name}` has severity {s} (threshold {threshold})"
            )));
        }
    }
    Ok(None)
}

/// Whether an answer of `text:shieldPrompt` detected an attack, or `Err`
/// when it is not the documented shape.
pub fn shield_verdict(answer: &[u8]) -> Result<bool, String> {
    let v: Value = serde_json::from_slice(answer)
        .map_err(|_| "the shieldPrompt answer is not JSON".to_owned())?;
    let user = v
        .get("userPromptAnalysis")
        .and_then(|u| u.get("attackDetected"))
        .and_then(Value::as_bool)
        .ok_or_else(|| {
            "the shieldPrompt answer has no `userPromptAnalysis.attackDetected`".to_owned()
        })?;
    let documents = v
        .get("documentsAnalysis")
        .and_then(Value::as_array)
        .is_some_and(|d| {
            d.iter()
                .any(|a| a.get("attackDetected").and_then(Value::as_bool) == Some(true))
        });
    Ok(user || documents)
}

#[cfg(test)]
mod tests;
