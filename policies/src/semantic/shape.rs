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

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
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
    /// Reading the body would take more memory than a request may hold
    /// ([`Bounds::max_bytes`]).
    TooLarge,
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
            Skip::TooLarge => "too-large",
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

/// What reading one body may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// `max-message-count`: past it the reading stops
    /// ([`Skip::TooManyMessages`]), the rest of the body unread.
    pub max_messages: Option<usize>,
    /// The memory the parsed body may take (an estimate that errs high,
    /// [`Budget`]); past it the reading stops ([`Skip::TooLarge`]).
    pub max_bytes: usize,
}

impl Bounds {
    /// No bound but memory's default (tests, and callers without `[limits]`).
    pub const DEFAULT: Bounds = Bounds {
        max_messages: None,
        max_bytes: 64 << 20,
    };
}

/// Reads a request body (`path` is the request URL's path), unbounded but
/// for the default memory bound.
pub fn analyze(path: &str, body: &[u8], ignore_system: bool) -> Result<Prompt, Skip> {
    analyze_bounded(path, body, ignore_system, Bounds::DEFAULT)
}

/// Reads a request body within `bounds`: the body is parsed once, the
/// turns counted as they are read (so `max-message-count` stops the parse
/// early), every value charged to a memory budget, and the parsed parts
/// moved, not copied, into the context.
pub fn analyze_bounded(
    path: &str,
    body: &[u8],
    ignore_system: bool,
    bounds: Bounds,
) -> Result<Prompt, Skip> {
    let mut req = parse(body, ignore_system, bounds)?;
    let shape = detect(path, &req).ok_or(Skip::UnsupportedShape)?;
    let streaming = req.get("stream").and_then(Value::as_bool) == Some(true);
    let (text, turns, system, messages) = match shape {
        Shape::Chat => messages_of(&mut req, ignore_system, false)?,
        Shape::Anthropic => messages_of(&mut req, ignore_system, true)?,
        Shape::Completions => completions(&req)?,
        Shape::Responses => responses(&mut req, ignore_system)?,
    };
    if text.trim().is_empty() {
        return Err(Skip::NoUserTurn);
    }
    let conversation = prompt_fields(shape);
    req.retain(|k, _| !NEUTRAL_FIELDS.contains(&k.as_str()) && !conversation.contains(&k.as_str()));
    let mut context = Map::new();
    context.insert("shape".into(), shape.name().into());
    context.insert("stream".into(), streaming.into());
    context.insert("fields".into(), Value::Object(req));
    context.insert("system".into(), Value::Array(system));
    context.insert("turns".into(), Value::Array(turns));
    let mut out = String::new();
    canonical(&Value::Object(context), &mut out);
    Ok(Prompt {
        shape,
        text,
        // Keys sorted whatever the map's order: equal requests give equal text.
        context: out,
        messages,
        streaming,
    })
}

/// What a value costs in the budget beyond its text: the `Value` itself,
/// and for an element of an array or object its share of the container's
/// spare capacity and, in an object, the entry and index (an estimate that
/// errs high; the test `a_large_body_stays_within_its_memory_bound`
/// measures it).
const VALUE_COST: usize = std::mem::size_of::<Value>();
const ELEMENT_COST: usize = 2 * VALUE_COST;
const ENTRY_COST: usize = 2 * (VALUE_COST + std::mem::size_of::<String>() + 16);

/// The memory left to a reading, and why it stopped, if it did.
struct Budget {
    left: Cell<usize>,
    stopped: Cell<Option<Skip>>,
    max_messages: Option<usize>,
    ignore_system: bool,
}

impl Budget {
    fn charge<E: de::Error>(&self, bytes: usize) -> Result<(), E> {
        match self.left.get().checked_sub(bytes) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => Err(self.stop(Skip::TooLarge)),
        }
    }

    fn stop<E: de::Error>(&self, why: Skip) -> E {
        self.stopped.set(Some(why));
        E::custom(why.reason())
    }
}

/// Parses the body as a JSON object, within the budget; `messages` and
/// `input` are counted as they are read.
fn parse(body: &[u8], ignore_system: bool, bounds: Bounds) -> Result<Map<String, Value>, Skip> {
    let budget = Budget {
        left: Cell::new(bounds.max_bytes),
        stopped: Cell::new(None),
        max_messages: bounds.max_messages,
        ignore_system,
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = Build {
        budget: &budget,
        turns: false,
        top: true,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(Value::Object(req)) => Ok(req),
        Ok(_) => Err(Skip::NotJson),
        Err(_) => Err(budget.stopped.get().unwrap_or(Skip::NotJson)),
    }
}

/// Builds a `Value` as serde_json's own would, charging the budget; as the
/// value of a top-level `messages` or `input` (`turns`), counts the turns
/// against `max-message-count`.
#[derive(Clone, Copy)]
struct Build<'b> {
    budget: &'b Budget,
    turns: bool,
    top: bool,
}

impl Build<'_> {
    fn inner(self) -> Self {
        Self {
            turns: false,
            top: false,
            ..self
        }
    }
}

impl<'de> DeserializeSeed<'de> for Build<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Build<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.budget.charge(v.len())?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.budget.charge(v.len())?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        let mut counted = 0usize;
        while let Some(item) = {
            self.budget.charge(ELEMENT_COST)?;
            seq.next_element_seed(self.inner())?
        } {
            if self.turns {
                let role = item.get("role").and_then(Value::as_str);
                if !(self.budget.ignore_system && role.is_some_and(is_system)) {
                    counted += 1;
                }
                if self.budget.max_messages.is_some_and(|max| counted > max) {
                    return Err(self.budget.stop(Skip::TooManyMessages));
                }
            }
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.budget.charge(ENTRY_COST + key.len())?;
            let turns = self.top && matches!(key.as_str(), "messages" | "input");
            let value = map.next_value_seed(Build {
                turns,
                ..self.inner()
            })?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
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

/// Writes JSON text with object keys in sorted order, whatever the map
/// type (without copying the value; the same text as sorting a copy and
/// writing it with serde_json).
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&serde_json::to_string(scalar).unwrap_or_default()),
    }
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

/// Chat Completions and Anthropic Messages: `messages` (and Anthropic's
/// top-level `system`), taken out of the request.
fn messages_of(
    req: &mut Map<String, Value>,
    ignore_system: bool,
    anthropic: bool,
) -> Result<Parts, Skip> {
    let Some(Value::Array(msgs)) = req.remove("messages") else {
        return Err(Skip::UnsupportedShape);
    };
    let mut system = Vec::new();
    if anthropic && let Some(s) = req.remove("system") {
        if let Value::Array(_) = s {
            check_text(Some(&s))?;
        }
        if !ignore_system {
            system.push(s);
        }
    }
    let total = msgs.len();
    let mut kept: Vec<Map<String, Value>> = Vec::with_capacity(total);
    for m in msgs {
        let Value::Object(m) = m else {
            return Err(Skip::UnsupportedShape);
        };
        let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
        check_text(m.get("content"))?;
        if is_system(role) {
            if !ignore_system {
                system.push(Value::Object(m));
            }
            continue;
        }
        kept.push(m);
    }
    let count = if ignore_system { kept.len() } else { total };
    let (text, turns) = last_user_turn(kept)?;
    Ok((text, turns, system, count))
}

/// The text of the last user turn among `kept` (the conversation without
/// system messages), and every other turn with its position relative to it.
fn last_user_turn(kept: Vec<Map<String, Value>>) -> Result<(String, Vec<Value>), Skip> {
    let last_user = kept
        .iter()
        .rposition(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .ok_or(Skip::NoUserTurn)?;
    let text = content_text(kept[last_user].get("content"))?;
    let turns = kept
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != last_user)
        .map(|(i, mut t)| {
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

/// Responses: `input` (a string or a list of items), `instructions` as the
/// system prompt, taken out of the request.
fn responses(req: &mut Map<String, Value>, ignore_system: bool) -> Result<Parts, Skip> {
    let mut system = Vec::new();
    if let Some(i) = req.remove("instructions")
        && !ignore_system
        && !i.is_null()
    {
        system.push(i);
    }
    match req.remove("input") {
        Some(Value::String(s)) => Ok((s, Vec::new(), system, 1)),
        Some(Value::Array(items)) => {
            let total = items.len();
            let mut kept: Vec<Map<String, Value>> = Vec::with_capacity(total);
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
                        system.push(Value::Object(o));
                    }
                    continue;
                }
                kept.push(o);
            }
            let count = if ignore_system { kept.len() } else { total };
            let (text, turns) = last_user_turn(kept)?;
            Ok((text, turns, system, count))
        }
        _ => Err(Skip::UnsupportedShape),
    }
}

#[cfg(test)]
mod tests;
