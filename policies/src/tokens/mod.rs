//! Token accounting that streams cannot dodge: what the token policies
//! (`llm-token-limit`, `llm-emit-token-metric` and their `azure-openai-`
//! names) share about one request.
//!
//! - `usage.rs`: usage read from a JSON answer or from stream events
//! - `meter.rs`: a streamed answer metered as it passes (nothing buffered)
//! - `tokenizer.rs`: offline token counts (prompt estimates, streamed text)
//! - `counters.rs`: the windows of a token quota (hour, day, week, month, year)
//!
//! The first token policy of a request reads the request (its API shape,
//! model, whether it streams) and, for a Chat Completions stream that does
//! not ask for usage, asks for it (`stream_options.include_usage`) and
//! remembers to take the extra usage-only chunk out of the answer before
//! the client sees it. It leaves work for [`Phase::Answered`]: once the
//! backend has answered, a whole body is read for its usage at once, a streamed
//! one is wrapped in a [`meter::Meter`]. Each policy is a [`Sink`]: told
//! when the answer arrives (headers, variables), and given the usage once
//! it is known (at the end of a stream, or when the client leaves it).

pub mod counters;
pub mod meter;
pub mod tokenizer;
pub mod usage;

#[cfg(test)]
mod tests;

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde_json::Value;
use sluice_engine::runtime::{Body, BoxFuture, Deferred, Exchange, Phase, Record};

use crate::semantic::shape::{Shape, detect};
use crate::series::{Labels, Series};
use tokenizer::Encoding;
pub use usage::Usage;

/// What the request says, for counting its tokens.
#[derive(Debug)]
pub struct TokenRequest {
    pub shape: Option<Shape>,
    /// `model` of the body; empty when it names none (an Azure OpenAI
    /// deployment URL).
    pub model: String,
    /// `"stream": true`.
    pub streaming: bool,
    /// The gateway added `stream_options.include_usage`.
    pub injected: bool,
    body: Bytes,
    estimate: OnceLock<u64>,
}

impl TokenRequest {
    /// Reads the request of `x`; asks for usage in a Chat stream that does not.
    fn read(x: &Exchange) -> Self {
        let (path, body) = x.request().read(|m| {
            (
                m.url.path.clone(),
                m.body.as_ref().map(|b| b.bytes.clone()).unwrap_or_default(),
            )
        });
        let Ok(Value::Object(mut req)) = serde_json::from_slice::<Value>(&body) else {
            return Self {
                shape: None,
                model: String::new(),
                streaming: false,
                injected: false,
                body,
                estimate: OnceLock::new(),
            };
        };
        let shape = detect(&path, &req);
        let model = req
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let streaming = req.get("stream").and_then(Value::as_bool) == Some(true);
        let asks = req
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            == Some(true);
        let mut injected = false;
        let mut body = body;
        if shape == Some(Shape::Chat) && streaming && !asks {
            let options = req
                .entry("stream_options")
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if let Value::Object(o) = options {
                o.insert("include_usage".into(), Value::Bool(true));
                if let Ok(new) = serde_json::to_vec(&Value::Object(req)) {
                    body = Bytes::from(new);
                    injected = true;
                    let b = body.clone();
                    x.request().write(|m| {
                        m.body = Some(Body {
                            bytes: b,
                            consumed: false,
                        })
                    });
                }
            }
        }
        Self {
            shape,
            model,
            streaming,
            injected,
            body,
            estimate: OnceLock::new(),
        }
    }

    /// The encoding that counts this request's tokens.
    pub fn encoding(&self) -> Encoding {
        Encoding::for_model(&self.model)
    }

    /// The prompt's tokens as the gateway counts them (computed once).
    pub fn prompt_estimate(&self) -> u64 {
        *self
            .estimate
            .get_or_init(|| tokenizer::prompt_tokens(&self.body, None))
    }

    /// `gen_ai.operation.name` of the OpenTelemetry GenAI conventions.
    pub fn operation_name(&self) -> &'static str {
        match self.shape {
            Some(Shape::Chat | Shape::Anthropic | Shape::Responses) => "chat",
            Some(Shape::Completions) => "text_completion",
            None => "",
        }
    }

    /// `gen_ai.provider.name`.
    pub fn provider_name(&self) -> &'static str {
        match self.shape {
            Some(Shape::Anthropic) => "anthropic",
            Some(_) => "openai",
            None => "",
        }
    }
}

/// A token policy's part in one request.
pub trait Sink: Send + Sync {
    /// The backend answered (before outbound); `usage` is known when the
    /// body came whole.
    fn responded(&self, _x: &Exchange, _usage: Option<&Usage>, _req: &TokenRequest) {}
    /// The tokens the request consumed, once they are known.
    fn settle(&self, usage: &Usage, req: &TokenRequest);
}

/// One request's accounting (in its extensions).
struct Accounting {
    req: Arc<TokenRequest>,
    sinks: Vec<Arc<dyn Sink>>,
}

/// The request's [`TokenRequest`], read by the first token policy of the
/// request (which also leaves the tap that reads the answer).
pub fn request(x: &mut Exchange, series: &Arc<Series>) -> Arc<TokenRequest> {
    if let Some(a) = x.extensions.get_mut::<Accounting>() {
        return Arc::clone(&a.req);
    }
    let req = Arc::new(TokenRequest::read(x));
    x.extensions.insert(Accounting {
        req: Arc::clone(&req),
        sinks: Vec::new(),
    });
    x.defer(
        Phase::Answered,
        Box::new(Answered {
            series: Arc::clone(series),
        }),
    );
    req
}

/// Reads the backend's answer once it is in ([`answered`]).
struct Answered {
    series: Arc<Series>,
}

impl Deferred for Answered {
    fn run(self: Box<Self>, x: &mut Exchange) -> BoxFuture<'_, ()> {
        answered(x, &self.series);
        Box::pin(std::future::ready(()))
    }
}

/// Adds `sink` to those told about the request's usage (after [`request`]).
pub fn add_sink(x: &mut Exchange, sink: Arc<dyn Sink>) {
    if let Some(a) = x.extensions.get_mut::<Accounting>() {
        a.sinks.push(sink);
    }
}

/// The value of a record's `Id`, or empty.
pub fn record_id(r: Option<&Record>) -> String {
    r.and_then(|r| r.fields.get("Id"))
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// The backend answered: its usage now (a whole body) or as it streams.
fn answered(x: &mut Exchange, series: &Arc<Series>) {
    let Some(Accounting { req, sinks }) = x.extensions.remove::<Accounting>() else {
        return;
    };
    let (status, event_stream, body) = x.response().read(|m| {
        let event_stream = m.headers.get("Content-Type").is_some_and(|v| {
            v.iter()
                .any(|v| v.to_ascii_lowercase().starts_with("text/event-stream"))
        });
        (
            m.status,
            event_stream,
            m.body.as_ref().map(|b| b.bytes.clone()).unwrap_or_default(),
        )
    });
    let labels = UsageLabels::of(x, &req);
    let settle = {
        let series = Arc::clone(series);
        let req = Arc::clone(&req);
        let sinks = sinks.clone();
        move |usage: Usage| {
            labels.record(&series, &usage, &req);
            for s in &sinks {
                s.settle(&usage, &req);
            }
        }
    };
    // An error answer consumed no tokens (nothing is counted, estimates
    // taken back).
    if !(200..300).contains(&status) {
        let usage = Usage::default();
        for s in &sinks {
            s.responded(x, Some(&usage), &req);
        }
        for s in &sinks {
            s.settle(&usage, &req);
        }
        return;
    }
    if let Some(stream) = x.streaming.response_body.take() {
        for s in &sinks {
            s.responded(x, None, &req);
        }
        let strip = req.injected && event_stream;
        let r = Arc::clone(&req);
        let done = move |seen, text: String, overflow| {
            let usage = meter::settle(
                seen,
                &text,
                overflow,
                || r.prompt_estimate(),
                |t| r.encoding().count(t),
            );
            settle(usage);
        };
        // A JSON answer the plan lets stream (nothing read it whole) is
        // metered as it passes too: its usage is read when it ends.
        let meter = if event_stream {
            meter::Meter::new(stream, strip, done)
        } else {
            meter::Meter::json(stream, done)
        };
        x.streaming.response_body = Some(Box::pin(meter));
        return;
    }
    let usage = if event_stream {
        let (seen, text, overflow, stripped) = meter::whole(&body, req.injected);
        if let Some(new) = stripped {
            x.response().write(|m| {
                m.body = Some(Body {
                    bytes: Bytes::from(new),
                    consumed: false,
                })
            });
        }
        meter::settle(
            seen,
            &text,
            overflow,
            || req.prompt_estimate(),
            |t| req.encoding().count(t),
        )
    } else {
        let seen = usage::from_json(&body);
        if seen.any() {
            seen.usage(0, || 0)
        } else {
            // No usage in the answer: the prompt is estimated, and the
            // completion counted from the answer's text.
            seen.usage(req.prompt_estimate(), || {
                req.encoding().count(&answer_text(&body))
            })
        }
    };
    for s in &sinks {
        s.responded(x, Some(&usage), &req);
    }
    settle(usage);
}

/// The text of a whole answer (Chat, Completions, Responses, Anthropic).
pub(super) fn answer_text(body: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return String::new();
    };
    let mut out = String::new();
    if let Some(choices) = v.get("choices").and_then(Value::as_array) {
        for c in choices {
            for p in ["/message/content", "/text"] {
                if let Some(s) = c.pointer(p).and_then(Value::as_str) {
                    out.push_str(s);
                }
            }
        }
    }
    for list in ["content", "output"] {
        for item in v.get(list).and_then(Value::as_array).into_iter().flatten() {
            if let Some(s) = item.get("text").and_then(Value::as_str) {
                out.push_str(s);
            }
            for part in item
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(s) = part.get("text").and_then(Value::as_str) {
                    out.push_str(s);
                }
            }
        }
    }
    out
}

/// The token usage metrics' labels, taken when the backend answers.
struct UsageLabels {
    api: String,
    operation: String,
    subscription: String,
}

/// `gen_ai.client.token.usage` buckets: 1, 4, 16, ... 67108864 (×4), as the
/// OpenTelemetry GenAI conventions advise.
const TOKEN_BUCKETS: &[f64] = &[
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];

impl UsageLabels {
    fn of(x: &Exchange, _req: &TokenRequest) -> Self {
        let d = &x.ctx.0;
        Self {
            api: record_id(d.api.as_ref()),
            operation: record_id(d.operation.as_ref()),
            subscription: record_id(d.subscription.as_ref()),
        }
    }

    /// `sluice_llm_tokens_total{api, operation, subscription, model, type}`
    /// and `gen_ai_client_token_usage{gen_ai_token_type, ...}`.
    fn record(&self, series: &Series, usage: &Usage, req: &TokenRequest) {
        let labels = |kind: &str| -> Labels {
            vec![
                ("api".into(), self.api.clone()),
                ("operation".into(), self.operation.clone()),
                ("subscription".into(), self.subscription.clone()),
                ("model".into(), req.model.clone()),
                ("type".into(), kind.into()),
            ]
        };
        const HELP: &str = "LLM tokens consumed, by API, operation, subscription, model and type (prompt, completion, total)";
        series.count(
            "sluice_llm_tokens_total",
            HELP,
            labels("prompt"),
            usage.prompt as f64,
        );
        series.count(
            "sluice_llm_tokens_total",
            HELP,
            labels("completion"),
            usage.completion as f64,
        );
        series.count(
            "sluice_llm_tokens_total",
            HELP,
            labels("total"),
            usage.total as f64,
        );
        let gen_ai = |kind: &str| -> Labels {
            vec![
                ("gen_ai_operation_name".into(), req.operation_name().into()),
                ("gen_ai_provider_name".into(), req.provider_name().into()),
                ("gen_ai_request_model".into(), req.model.clone()),
                ("gen_ai_token_type".into(), kind.into()),
            ]
        };
        const GEN_AI: &str = "gen_ai.client.token.usage: tokens per request, by token type (input, output), OpenTelemetry GenAI conventions";
        series.observe(
            "gen_ai_client_token_usage",
            GEN_AI,
            TOKEN_BUCKETS,
            gen_ai("input"),
            usage.prompt as f64,
        );
        series.observe(
            "gen_ai_client_token_usage",
            GEN_AI,
            TOKEN_BUCKETS,
            gen_ai("output"),
            usage.completion as f64,
        );
    }
}
