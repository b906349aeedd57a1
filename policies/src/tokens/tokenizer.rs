//! Counting tokens offline: the prompt of a request (for
//! `estimate-prompt-tokens` and streams), and a streamed answer's text
//! when the backend reports no usage.
//!
//! With the `tokenizer` feature (on by default), OpenAI's BPE tables
//! compiled into the binary (tiktoken-rs): `o200k_base` for the gpt-4o,
//! gpt-4.1, gpt-5 and o-series models, `cl100k_base` for every other
//! model (gpt-4, gpt-3.5, `gpt-35-turbo`, and models of other families,
//! whose own tokenizers are not public: an estimate). Without the feature,
//! a text counts one token per four bytes, rounded up.
//!
//! A chat prompt counts as tiktoken's recipe for chat models does: 3
//! tokens per message, 1 more per `name`, 3 to prime the answer. An image
//! part counts 1,200 tokens, the most APIM's own estimate charges for one.

use serde_json::Value;

/// What an image counts in a prompt estimate.
pub const IMAGE_TOKENS: u64 = 1200;

/// An encoding of OpenAI's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    O200k,
    Cl100k,
}

impl Encoding {
    /// The encoding of `model` (a model or deployment name; case ignored).
    pub fn for_model(model: &str) -> Self {
        let m = model.trim().to_ascii_lowercase();
        let m = m.rsplit('/').next().unwrap_or(&m);
        let o_series = m.len() > 1
            && m.starts_with('o')
            && m.as_bytes().get(1).is_some_and(u8::is_ascii_digit);
        if m.starts_with("gpt-4o")
            || m.starts_with("gpt-4.1")
            || m.starts_with("gpt-4.5")
            || m.starts_with("gpt-5")
            || m.starts_with("chatgpt-4o")
            || m.starts_with("gpt-oss")
            || o_series
        {
            Encoding::O200k
        } else {
            Encoding::Cl100k
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::O200k => "o200k_base",
            Encoding::Cl100k => "cl100k_base",
        }
    }

    /// The tokens of `text`.
    #[cfg(feature = "tokenizer")]
    pub fn count(self, text: &str) -> u64 {
        if text.is_empty() {
            return 0;
        }
        let bpe = match self {
            Encoding::O200k => tiktoken_rs::o200k_base_singleton(),
            Encoding::Cl100k => tiktoken_rs::cl100k_base_singleton(),
        };
        bpe.encode_ordinary(text).len() as u64
    }

    /// The tokens of `text`, estimated as one per four bytes.
    #[cfg(not(feature = "tokenizer"))]
    pub fn count(self, text: &str) -> u64 {
        (text.len() as u64).div_ceil(4)
    }
}

/// The prompt tokens of a request body (JSON), by the model it names; 0
/// when the body is not a JSON object.
pub fn prompt_tokens(body: &[u8], model_hint: Option<&str>) -> u64 {
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(body) else {
        return 0;
    };
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .or(model_hint)
        .unwrap_or("");
    let enc = Encoding::for_model(model);
    let mut n = 0u64;
    let mut messages = 0u64;
    let add_text = |n: &mut u64, s: &str| *n = n.saturating_add(enc.count(s));
    if let Some(list) = req.get("messages").and_then(Value::as_array) {
        for m in list {
            messages += 1;
            if let Some(name) = m.get("name").and_then(Value::as_str) {
                add_text(&mut n, name);
                n += 1;
            }
            if let Some(role) = m.get("role").and_then(Value::as_str) {
                add_text(&mut n, role);
            }
            n = n.saturating_add(content_tokens(enc, m.get("content")));
            if let Some(calls) = m.get("tool_calls") {
                add_text(&mut n, &calls.to_string());
            }
        }
    }
    if let Some(system) = req.get("system") {
        n = n.saturating_add(content_tokens(enc, Some(system)));
    }
    if let Some(instructions) = req.get("instructions").and_then(Value::as_str) {
        messages += 1;
        add_text(&mut n, instructions);
    }
    match req.get("input") {
        Some(Value::String(s)) => {
            messages += 1;
            add_text(&mut n, s);
        }
        Some(Value::Array(items)) => {
            for item in items {
                messages += 1;
                match item {
                    Value::String(s) => add_text(&mut n, s),
                    item => n = n.saturating_add(content_tokens(enc, item.get("content"))),
                }
            }
        }
        _ => {}
    }
    match req.get("prompt") {
        Some(Value::String(s)) => add_text(&mut n, s),
        Some(Value::Array(items)) => {
            for s in items.iter().filter_map(Value::as_str) {
                add_text(&mut n, s);
            }
        }
        _ => {}
    }
    if let Some(tools) = req.get("tools") {
        add_text(&mut n, &tools.to_string());
    }
    if messages > 0 {
        n = n.saturating_add(3 * messages + 3);
    }
    n
}

/// The tokens of a message's content: a string, or a list of parts (text
/// parts counted, images at [`IMAGE_TOKENS`]).
fn content_tokens(enc: Encoding, content: Option<&Value>) -> u64 {
    match content {
        Some(Value::String(s)) => enc.count(s),
        Some(Value::Array(parts)) => parts
            .iter()
            .map(|p| match p {
                Value::String(s) => enc.count(s),
                p => {
                    let kind = p.get("type").and_then(Value::as_str).unwrap_or("");
                    if kind.contains("image") {
                        IMAGE_TOKENS
                    } else if let Some(s) = p.get("text").and_then(Value::as_str) {
                        enc.count(s)
                    } else {
                        0
                    }
                }
            })
            .fold(0u64, u64::saturating_add),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_chooses_the_encoding() {
        for m in [
            "gpt-4o",
            "gpt-4o-mini",
            "GPT-4.1",
            "o1-preview",
            "o3",
            "o4-mini",
            "gpt-5",
        ] {
            assert_eq!(Encoding::for_model(m), Encoding::O200k, "{m}");
        }
        for m in [
            "gpt-4",
            "gpt-35-turbo",
            "gpt-3.5-turbo",
            "claude-3-5-sonnet",
            "",
            "omni",
        ] {
            assert_eq!(Encoding::for_model(m), Encoding::Cl100k, "{m}");
        }
    }

    #[cfg(feature = "tokenizer")]
    #[test]
    fn counts_as_tiktoken_does() {
        // tiktoken: "hello world" is 2 tokens in both encodings.
        assert_eq!(Encoding::O200k.count("hello world"), 2);
        assert_eq!(Encoding::Cl100k.count("hello world"), 2);
        assert_eq!(Encoding::Cl100k.count(""), 0);
    }

    #[cfg(feature = "tokenizer")]
    #[test]
    fn a_chat_prompt_counts_per_message() {
        // OpenAI's cookbook recipe: "hello world" as one user message of
        // gpt-4o = 3 + count("user") + count("hello world") + 3 = 9.
        let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hello world"}]}"#;
        assert_eq!(prompt_tokens(body, None), 9);
        let image = br#"{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#;
        assert_eq!(prompt_tokens(image, None), 3 + 1 + IMAGE_TOKENS + 3);
        assert_eq!(prompt_tokens(b"not json", None), 0);
    }
}
