//! Token usage read from an LLM answer: a whole JSON body, or the events of
//! a stream, in the shapes of OpenAI Chat Completions, Completions and
//! Responses, and of Anthropic Messages.
//!
//! - JSON: `usage.prompt_tokens` / `completion_tokens` / `total_tokens`
//!   (Chat, Completions), `usage.input_tokens` / `output_tokens` /
//!   `total_tokens` (Responses), `usage.input_tokens` / `output_tokens`
//!   plus Anthropic's `cache_creation_input_tokens` and
//!   `cache_read_input_tokens`, which its `input_tokens` leaves out.
//! - Streams: the same `usage` object in a Chat chunk (`stream_options.
//!   include_usage`: the last chunk, its `choices` empty), in
//!   `response.completed` (`response.usage`), in Anthropic's
//!   `message_start` (`message.usage`) and `message_delta` (`usage`, the
//!   output count so far). The streamed text (`choices[].delta.content`,
//!   `choices[].text`, `response.output_text.delta`, Anthropic's
//!   `content_block_delta`) is kept too, for counting when no usage comes.

use serde_json::Value;

/// Tokens one answer consumed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt: u64,
    pub completion: u64,
    pub total: u64,
    /// Counted by the gateway (no usage in the answer): prompt from the
    /// request, completion from the streamed text.
    pub estimated: bool,
}

impl Usage {
    pub fn new(prompt: u64, completion: u64) -> Self {
        Self {
            prompt,
            completion,
            total: prompt.saturating_add(completion),
            estimated: false,
        }
    }
}

/// The usage fields seen so far; each a later event may replace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    pub prompt: Option<u64>,
    pub completion: Option<u64>,
    pub total: Option<u64>,
}

impl Seen {
    /// Whether the answer reported any usage.
    pub fn any(&self) -> bool {
        self.prompt.is_some() || self.completion.is_some()
    }

    /// Reads one `usage` object; its fields replace those seen before.
    pub fn read(&mut self, usage: &Value) {
        let n = |k: &str| usage.get(k).and_then(Value::as_u64);
        let cached = n("cache_creation_input_tokens")
            .unwrap_or(0)
            .saturating_add(n("cache_read_input_tokens").unwrap_or(0));
        if let Some(p) = n("prompt_tokens").or(n("input_tokens")) {
            self.prompt = Some(p.saturating_add(cached));
        }
        if let Some(c) = n("completion_tokens").or(n("output_tokens")) {
            self.completion = Some(c);
        }
        if let Some(t) = n("total_tokens") {
            self.total = Some(t);
        }
    }

    /// The usage, with what is missing filled in: the prompt from the
    /// gateway's estimate, the completion from `completion` (the streamed
    /// text counted), the total as their sum unless reported.
    pub fn usage(&self, prompt_estimate: u64, completion: impl FnOnce() -> u64) -> Usage {
        let estimated = self.prompt.is_none() || self.completion.is_none();
        let prompt = self.prompt.unwrap_or(prompt_estimate);
        let completion = match self.completion {
            Some(c) => c,
            None => completion(),
        };
        let total = match self.total {
            Some(t) if !estimated => t,
            _ => prompt.saturating_add(completion),
        };
        Usage {
            prompt,
            completion,
            total,
            estimated,
        }
    }
}

/// The usage of a whole JSON answer.
pub fn from_json(body: &[u8]) -> Seen {
    let mut seen = Seen::default();
    if let Ok(v) = serde_json::from_slice::<Value>(body)
        && let Some(u) = v.get("usage").filter(|u| u.is_object())
    {
        seen.read(u);
    }
    seen
}

/// What one event of a stream holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// A Chat chunk that only carries usage (`choices` empty): the one the
    /// gateway strips when it asked for it.
    pub usage_only: bool,
}

/// Reads one event's `data` (JSON): usage into `seen`, text into `text`
/// (at most `text_cap` bytes are kept; the length of the rest is added to
/// `overflow`).
pub fn read_event(
    data: &str,
    seen: &mut Seen,
    text: &mut String,
    text_cap: usize,
    overflow: &mut usize,
) -> Event {
    let Ok(v) = serde_json::from_str::<Value>(data) else {
        return Event::default();
    };
    let mut push = |s: &str| {
        if text.len() + s.len() <= text_cap {
            text.push_str(s);
        } else {
            *overflow = overflow.saturating_add(s.len());
        }
    };
    let mut usage_only = false;
    if let Some(choices) = v.get("choices").and_then(Value::as_array) {
        for c in choices {
            if let Some(s) = c.pointer("/delta/content").and_then(Value::as_str) {
                push(s);
            }
            if let Some(s) = c.get("text").and_then(Value::as_str) {
                push(s);
            }
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            seen.read(u);
            usage_only = choices.is_empty();
        }
        return Event { usage_only };
    }
    match v.get("type").and_then(Value::as_str) {
        Some("response.output_text.delta") => {
            if let Some(s) = v.get("delta").and_then(Value::as_str) {
                push(s);
            }
        }
        Some("response.completed" | "response.incomplete" | "response.failed") => {
            if let Some(u) = v.pointer("/response/usage").filter(|u| u.is_object()) {
                seen.read(u);
            }
        }
        Some("message_start") => {
            if let Some(u) = v.pointer("/message/usage").filter(|u| u.is_object()) {
                seen.read(u);
            }
        }
        Some("message_delta") => {
            if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
                seen.read(u);
            }
        }
        Some("content_block_delta") => {
            if let Some(s) = v.pointer("/delta/text").and_then(Value::as_str) {
                push(s);
            }
        }
        _ => {}
    }
    Event { usage_only }
}

/// The `data` of one event (its `data:` lines joined by newlines), or
/// `None` when it has none.
pub fn event_data(event: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for line in event.lines() {
        let Some(rest) = line.strip_prefix("data:") else {
            continue;
        };
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        match &mut out {
            Some(d) => {
                d.push('\n');
                d.push_str(rest);
            }
            None => out = Some(rest.to_owned()),
        }
    }
    out
}

/// Where the first event of `buf` ends (after its blank line), if it has ended.
pub fn event_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' {
            if buf.get(i + 1) == Some(&b'\n') {
                return Some(i + 2);
            }
            if buf.get(i + 1) == Some(&b'\r') && buf.get(i + 2) == Some(&b'\n') {
                return Some(i + 3);
            }
        }
        i += 1;
    }
    None
}
