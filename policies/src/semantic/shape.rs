//! What of an LLM request is embedded and what partitions the cache, per
//! API shape (DECISIONS.md, "Semantic cache"):
//!
//! - the text of the **last user turn** is embedded;
//! - everything else that shapes the answer is kept as an exact context:
//!   the earlier turns (role + content), the system/developer prompt unless
//!   `ignore-system-messages` (then it is dropped from both), `model`,
//!   tools, tool choice, response format, `n`, and whether the answer
//!   streams;
//! - non-text content parts (images, audio, files) skip the cache.
//!
//! Shapes: OpenAI Chat Completions (`messages`), legacy Completions
//! (`prompt`), Responses (`input`, `instructions`), Anthropic Messages
//! (`messages` with a top-level `system`). The URL path decides when it
//! names the operation (`.../chat/completions`, `.../completions`,
//! `.../responses`, `.../messages`); otherwise the body's fields do.

use serde_json::{Map, Value};

/// The request shapes the cache understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Chat,
    Completions,
    Responses,
    Anthropic,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Chat => "chat",
            Shape::Completions => "completions",
            Shape::Responses => "responses",
            Shape::Anthropic => "anthropic",
        }
    }
}

/// A request the cache can serve.
#[derive(Clone, Debug, PartialEq)]
pub struct Prompt {
    pub shape: Shape,
    /// The text that is embedded: the last user turn.
    pub text: String,
    /// Everything else that shapes the answer, as canonical JSON: equal
    /// contexts are needed to share an answer.
    pub context: String,
    /// Messages counted for `max-message-count` (after system removal).
    pub messages: usize,
    /// `"stream": true`.
    pub streaming: bool,
}

/// Why a request skips the cache (a metric label and the status header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// The body is not a JSON object.
    NotJson,
    /// Not a request shape the cache knows (an embeddings call, a batch of
    /// prompts, ...).
    UnsupportedShape,
    /// An image, audio or file part, or a non-string prompt.
    NonTextContent,
    /// No user turn with text to embed.
    NoUserTurn,
    /// More messages than `max-message-count`.
    TooManyMessages,
    /// A last user turn longer than the local embeddings model reads.
    PromptTooLong,
}

impl Skip {
    pub fn reason(self) -> &'static str {
        match self {
            Skip::NotJson => "not-json",
            Skip::UnsupportedShape => "unsupported-shape",
            Skip::NonTextContent => "non-text-content",
            Skip::NoUserTurn => "no-user-turn",
            Skip::TooManyMessages => "too-many-messages",
            Skip::PromptTooLong => "prompt-too-long",
        }
    }
}

/// Request fields that do not partition the cache: how the answer is
/// sampled, how long it may be (an answer cut short by its limit is not
/// stored: `record::complete`), and who asks. Every other field does,
/// one the cache has never heard of too: the conversation by its own rules
/// (`PROMPT_FIELDS`), and the rest as it is (`model`, `tools`,
/// `response_format`, `n`, `stream_options`, `logprobs`, `modalities`,
/// `reasoning_effort`, Anthropic's `thinking`, ...), since it may change
/// what the answer holds.
const NEUTRAL_FIELDS: &[&str] = &[
    "temperature",
    "top_p",
    "top_k",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "max_tokens",
    "max_completion_tokens",
    "max_output_tokens",
    "user",
    "metadata",
    "store",
    "service_tier",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    // Read into `Prompt::streaming`.
    "stream",
];

/// The fields that carry the conversation, per shape: embedded (the last
/// user turn) or partitioned as turns and system prompt.
fn prompt_fields(shape: Shape) -> &'static [&'static str] {
    match shape {
        Shape::Chat => &["messages"],
        Shape::Anthropic => &["messages", "system"],
        Shape::Completions => &["prompt"],
        Shape::Responses => &["input", "instructions"],
    }
}

/// Reads a request body (`path` is the request URL's path).
pub fn analyze(path: &str, body: &[u8], ignore_system: bool) -> Result<Prompt, Skip> {
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(body) else {
        return Err(Skip::NotJson);
    };
    let shape = detect(path, &req).ok_or(Skip::UnsupportedShape)?;
    let streaming = req.get("stream").and_then(Value::as_bool) == Some(true);
    let (text, turns, system, messages) = match shape {
        Shape::Chat => messages_of(&req, ignore_system, false)?,
        Shape::Anthropic => messages_of(&req, ignore_system, true)?,
        Shape::Completions => completions(&req)?,
        Shape::Responses => responses(&req, ignore_system)?,
    };
    if text.trim().is_empty() {
        return Err(Skip::NoUserTurn);
    }
    let conversation = prompt_fields(shape);
    let fields: Map<String, Value> = req
        .iter()
        .filter(|(k, _)| {
            !NEUTRAL_FIELDS.contains(&k.as_str()) && !conversation.contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut context = Map::new();
    context.insert("shape".into(), shape.name().into());
    context.insert("stream".into(), streaming.into());
    context.insert("fields".into(), Value::Object(fields));
    context.insert("system".into(), Value::Array(system));
    context.insert("turns".into(), Value::Array(turns));
    Ok(Prompt {
        shape,
        text,
        // serde_json's map keeps keys sorted (no `preserve_order` here):
        // equal requests give equal text.
        context: canonical(&Value::Object(context)),
        messages,
        streaming,
    })
}

/// The shape of a request to `path` with the JSON object `req`.
pub fn detect(path: &str, req: &Map<String, Value>) -> Option<Shape> {
    let path = path.trim_end_matches('/');
    if path.ends_with("/chat/completions") {
        return Some(Shape::Chat);
    }
    if path.ends_with("/completions") {
        return Some(Shape::Completions);
    }
    if path.ends_with("/responses") {
        return Some(Shape::Responses);
    }
    if path.ends_with("/messages") {
        return Some(Shape::Anthropic);
    }
    if path.ends_with("/embeddings") {
        return None;
    }
    if req.contains_key("messages") {
        // OpenAI's chat has no top-level `system` or `stop_sequences`.
        let anthropic = ["anthropic_version", "system", "stop_sequences"]
            .iter()
            .any(|k| req.contains_key(*k));
        return Some(if anthropic {
            Shape::Anthropic
        } else {
            Shape::Chat
        });
    }
    if req.contains_key("prompt") {
        return Some(Shape::Completions);
    }
    if req.contains_key("input") && req.contains_key("model") {
        return Some(Shape::Responses);
    }
    None
}

/// JSON text with object keys in sorted order, whatever the map type.
fn canonical(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string()
}

fn is_system(role: &str) -> bool {
    role == "system" || role == "developer"
}

/// The text of a message's content: a string, or text parts joined by
/// newlines; a non-text part is a skip.
fn content_text(content: Option<&Value>) -> Result<String, Skip> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => {
            let mut texts = Vec::new();
            for p in parts {
                match p {
                    Value::String(s) => texts.push(s.as_str()),
                    Value::Object(o) => {
                        let kind = o.get("type").and_then(Value::as_str).unwrap_or("text");
                        match kind {
                            "text" | "input_text" | "output_text" => texts
                                .push(o.get("text").and_then(Value::as_str).unwrap_or_default()),
                            // Tool calls and results are text in JSON: they stay in the context.
                            "tool_use" | "tool_result" | "refusal" => {}
                            _ => return Err(Skip::NonTextContent),
                        }
                    }
                    _ => return Err(Skip::NonTextContent),
                }
            }
            Ok(texts.join("\n"))
        }
        Some(_) => Err(Skip::NonTextContent),
    }
}

/// Checks every message for non-text parts.
fn check_text(content: Option<&Value>) -> Result<(), Skip> {
    content_text(content).map(|_| ())
}

type Parts = (String, Vec<Value>, Vec<Value>, usize);

/// Chat Completions and Anthropic Messages: `messages` (and Anthropic's top-level `system`).
fn messages_of(
    req: &Map<String, Value>,
    ignore_system: bool,
    anthropic: bool,
) -> Result<Parts, Skip> {
    let Some(Value::Array(msgs)) = req.get("messages") else {
        return Err(Skip::UnsupportedShape);
    };
    let mut system = Vec::new();
    if anthropic && let Some(s) = req.get("system") {
        if let Value::Array(_) = s {
            check_text(Some(s))?;
        }
        if !ignore_system {
            system.push(s.clone());
        }
    }
    let mut kept: Vec<&Map<String, Value>> = Vec::new();
    for m in msgs {
        let Value::Object(m) = m else {
            return Err(Skip::UnsupportedShape);
        };
        let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
        check_text(m.get("content"))?;
        if is_system(role) {
            if !ignore_system {
                system.push(Value::Object(m.clone()));
            }
            continue;
        }
        kept.push(m);
    }
    let (text, turns) = last_user_turn(&kept)?;
    let count = if ignore_system {
        kept.len()
    } else {
        msgs.len()
    };
    Ok((text, turns, system, count))
}

/// The text of the last user turn among `kept` (the conversation without
/// system messages), and every other turn with its position relative to it.
fn last_user_turn(kept: &[&Map<String, Value>]) -> Result<(String, Vec<Value>), Skip> {
    let last_user = kept
        .iter()
        .rposition(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .ok_or(Skip::NoUserTurn)?;
    let text = content_text(kept[last_user].get("content"))?;
    let turns = kept
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != last_user)
        .map(|(i, m)| {
            let mut t = (*m).clone();
            t.insert("@".into(), Value::from(i as i64 - last_user as i64));
            Value::Object(t)
        })
        .collect();
    Ok((text, turns))
}

/// Legacy Completions: `prompt`, a string (or a list holding one); a batch
/// of several prompts is not one cacheable answer, token ids are not text.
fn completions(req: &Map<String, Value>) -> Result<Parts, Skip> {
    let text = match req.get("prompt") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) if a.len() == 1 && a[0].is_string() => {
            a[0].as_str().unwrap_or_default().to_owned()
        }
        Some(Value::Array(a)) if a.len() > 1 && a.iter().all(Value::is_string) => {
            return Err(Skip::UnsupportedShape);
        }
        _ => return Err(Skip::NonTextContent),
    };
    Ok((text, Vec::new(), Vec::new(), 1))
}

/// Responses: `input` (a string or a list of items), `instructions` as the system prompt.
fn responses(req: &Map<String, Value>, ignore_system: bool) -> Result<Parts, Skip> {
    let mut system = Vec::new();
    if let Some(i) = req.get("instructions")
        && !ignore_system
        && !i.is_null()
    {
        system.push(i.clone());
    }
    match req.get("input") {
        Some(Value::String(s)) => Ok((s.clone(), Vec::new(), system, 1)),
        Some(Value::Array(items)) => {
            let mut kept: Vec<&Map<String, Value>> = Vec::new();
            for item in items {
                let Value::Object(o) = item else {
                    return Err(Skip::UnsupportedShape);
                };
                let role = o.get("role").and_then(Value::as_str);
                if role.is_some() {
                    check_text(o.get("content"))?;
                }
                if role.is_some_and(is_system) {
                    if !ignore_system {
                        system.push(item.clone());
                    }
                    continue;
                }
                kept.push(o);
            }
            let (text, turns) = last_user_turn(&kept)?;
            let count = if ignore_system {
                kept.len()
            } else {
                items.len()
            };
            Ok((text, turns, system, count))
        }
        _ => Err(Skip::UnsupportedShape),
    }
}

#[cfg(test)]
mod tests;
