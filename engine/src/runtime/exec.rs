//! The executor: sections in order, errors to `on-error`, `return-response`
//! ending everything, and the default error responses.

use super::{Exchange, Flow, LastError, Phase, PolicyError, Run, Stage, StageResult};
use crate::schema::{Scope, Section};
use std::sync::Arc;

/// A compiled policy with what `context.LastError` reports about it.
#[derive(Debug)]
pub struct Entry {
    pub stage: Box<dyn Stage>,
    pub name: String,
    /// `name[i]`, the entry's step in `context.LastError.Path` (`i` counts
    /// from 1 within its block), computed once when the block is built.
    pub label: Arc<str>,
    pub id: String,
    pub scope: Scope,
}

/// Policies run one after the other.
#[derive(Debug, Default)]
pub struct Block(pub Vec<Entry>);

/// The effective policy of one operation, compiled.
#[derive(Debug, Default)]
pub struct Pipeline {
    pub inbound: Block,
    pub backend: Block,
    pub outbound: Block,
    pub on_error: Block,
    /// No policy reads the response body (decided when the plan is built):
    /// `forward-request` may pass the backend's body through as a stream.
    pub stream_response: bool,
    /// No policy reads the request body: the client's body may go to the
    /// backend as a stream, as it arrives.
    pub stream_request: bool,
}

/// Runs a block; errors come back completed with policy, path and id.
pub async fn run_block(block: &Block, x: &mut Exchange) -> StageResult {
    run_entries(&block.0, x).await
}

/// Runs entries one after the other ([`run_block`] of a block's first
/// entries: `wait for="any"`).
pub async fn run_entries(entries: &[Entry], x: &mut Exchange) -> StageResult {
    for entry in entries {
        x.path.push(Arc::clone(&entry.label));
        let r = match entry.stage.run(x) {
            Run::Done(r) => r,
            Run::Later(f) => f.await,
        };
        let r = r.map_err(|mut e| {
            if e.source.is_empty() {
                e.source = entry.name.clone();
            }
            if e.path.is_empty() {
                e.path = x.path.join("/");
            }
            if e.policy_id.is_empty() {
                e.policy_id = entry.id.clone();
            }
            if e.scope.is_empty() {
                e.scope = entry.scope.name().to_owned();
            }
            e
        });
        // Fields are formatted only when a subscriber takes debug events.
        tracing::debug!(
            policy = %entry.name,
            path = %PathDisplay(&x.path),
            section = x.section.tag(),
            outcome = outcome(&r),
            reason = r.as_ref().err().map(|e| e.reason.as_str()),
            // The underlying error (a connection's, say), never the policy's
            // message: that may quote the request (a header's value).
            cause = r
                .as_ref()
                .err()
                .and_then(|e| e.cause.as_deref())
                .map(|c| tracing::field::display(super::error_chain(c))),
            "stage ran"
        );
        x.path.pop();
        match r? {
            Flow::Next => {}
            flow => return Ok(flow),
        }
    }
    Ok(Flow::Next)
}

/// `choose[2]/when[1]/set-header[1]`, joined only when a log line needs it.
struct PathDisplay<'a>(&'a [Arc<str>]);

impl std::fmt::Display for PathDisplay<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            f.write_str(step)?;
        }
        Ok(())
    }
}

/// A stage's outcome as its debug event names it.
fn outcome(r: &StageResult) -> &'static str {
    match r {
        Ok(Flow::Next) => "next",
        Ok(Flow::End) => "end",
        Ok(Flow::Answered) => "answered",
        Err(_) => "error",
    }
}

/// Runs inbound, backend and outbound; on an error, `on-error`. Then the
/// work stages left for the end ([`Phase::End`]), and adds the late
/// headers (`ContextData::late_headers`) to the final response.
pub async fn execute(p: &Pipeline, x: &mut Exchange) {
    sections(p, x).await;
    x.run_deferred(Phase::End).await;
    // Taken, not copied: nothing reads them after this.
    let late = std::mem::take(&mut *match x.ctx.0.late_headers.write() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    });
    if !late.is_empty() {
        x.response().write(|m| {
            for (name, value) in late {
                if m.headers.get(&name).is_none() {
                    m.headers.set_one(&name, value);
                }
            }
        });
    }
}

async fn sections(p: &Pipeline, x: &mut Exchange) {
    for (section, block) in [
        (Section::Inbound, &p.inbound),
        (Section::Backend, &p.backend),
        (Section::Outbound, &p.outbound),
    ] {
        x.section = section;
        if section == Section::Outbound {
            x.run_deferred(Phase::Answered).await;
        }
        match run_block(block, x).await {
            Ok(Flow::Next)
                if section == Section::Inbound
                    && x.ctx
                        .0
                        .unanswered_preflight
                        .load(std::sync::atomic::Ordering::Relaxed) =>
            {
                // A preflight no `cors` policy answered: an empty `200 OK` (cors-policy.md).
                x.response().write(|m| {
                    *m = super::Message {
                        status: 200,
                        reason: "OK".into(),
                        ..super::Message::default()
                    }
                });
                x.streaming.response_body = None;
                return;
            }
            Ok(Flow::Next) => {}
            Ok(Flow::Answered) if section == Section::Inbound => {
                // A cache hit: the backend section is skipped, outbound runs on the stored response.
                x.section = Section::Outbound;
                match run_block(&p.outbound, x).await {
                    Ok(Flow::End) => x.streaming.response_body = None,
                    Ok(_) => {}
                    Err(e) => on_error(p, x, e).await,
                }
                return;
            }
            Ok(Flow::Answered) => {}
            Ok(Flow::End) => {
                // `return-response`, `mock-response`: a new response, without the backend's body.
                x.streaming.response_body = None;
                return;
            }
            Err(e) => {
                on_error(p, x, e).await;
                return;
            }
        }
    }
}

async fn on_error(p: &Pipeline, x: &mut Exchange, e: PolicyError) {
    x.ctx.set_last_error(Some(LastError {
        source: e.source.clone(),
        reason: e.reason.as_str().to_owned(),
        message: e.message.clone(),
        scope: e.scope.clone(),
        section: x.section.tag().to_owned(),
        path: e.path.clone(),
        policy_id: e.policy_id.clone(),
    }));
    // `on-error` starts from the default error response, which it may change;
    // the backend's body, if it was streaming, is gone with it.
    x.streaming.response_body = None;
    error_response(x, &e);
    x.section = Section::OnError;
    x.path.clear();
    if let Err(e2) = run_block(&p.on_error, x).await {
        // An error inside on-error: the default error response of that error.
        error_response(x, &e2);
    }
}

/// A gateway-generated error response, as APIM answers it: the status, its
/// reason phrase, `Content-Type: application/json` and the body
/// `{"statusCode":N,"message":"..."}`. The one place that builds it: the
/// executor's default error response and the gateway's own errors (no route,
/// no subscription key, a size limit) come from here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultError {
    pub status: u16,
    pub reason: &'static str,
    pub headers: super::Multimap,
    pub body: bytes::Bytes,
}

/// The default error response of `status` with `message`.
pub fn default_error(status: u16, message: &str) -> DefaultError {
    let mut headers = super::Multimap::default();
    headers.set_one("Content-Type", "application/json".to_owned());
    let body = serde_json::to_vec(&serde_json::json!({ "statusCode": status, "message": message }))
        .unwrap_or_default()
        .into();
    DefaultError {
        status,
        reason: reason_phrase(status),
        headers,
        body,
    }
}

fn error_response(x: &Exchange, e: &PolicyError) {
    let message = match (&e.response_message, e.status) {
        (Some(m), _) => m.as_str(),
        (None, 500) => "Internal server error",
        (None, _) => e.message.as_str(),
    };
    let d = default_error(e.status, message);
    x.response().write(|m| {
        m.status = i64::from(d.status);
        m.reason = e
            .response_reason
            .clone()
            .unwrap_or_else(|| d.reason.to_owned());
        m.headers = d.headers;
        m.body = Some(super::Body {
            bytes: d.body,
            consumed: false,
        });
    });
}

/// The standard reason phrase of a status code.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}
