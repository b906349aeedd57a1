//! `llm-content-safety`: sends the text of an LLM request (in inbound) or
//! of its answer (in outbound, or from inbound with
//! `enforce-on-completions="true"`) to Azure AI Content Safety, through
//! the backend entity `backend-id` names (its URL, credential headers and
//! query, `authorization`, client certificate, managed identity; a pool
//! picks a member), and refuses it with APIM's 403
//! `{"statusCode":403,"message":"Request failed content safety check."}`
//! when the service finds what the policy blocks:
//!
//! - `shield-prompt="true"`: `text:shieldPrompt` detects a user prompt
//!   attack (requests only: prompt shields look at prompts);
//! - `<categories>`: `text:analyze` gives a category a severity at or above
//!   its `threshold` (`output-type`: four or eight levels);
//! - `<blocklists>`: `text:analyze` matches a blocklist.
//!
//! The text is that of `content_safety::prompt_text` /
//! `completion_text`, whole, or cut into `window-size` windows that overlap
//! by `window-overlap-size`. A request with no text to check passes.
//!
//! A refusal, and a check that cannot be made (the service does not
//! answer, answers an error or an unknown shape, no token for it), are
//! errors of the policy: `on-error` runs, and without it the client gets
//! the same 403 (fail closed, docs/decisions.md "llm-content-safety").
//! The answer's check from inbound runs at the end of the pipeline, on a
//! buffered (or now collected) successful answer: a refused answer is
//! replaced by the 403.

use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sluice_engine::diag::{Code, Diagnostic, did_you_mean};
use sluice_engine::runtime::{
    AtEnd, BackendEntity, Backends, Body, BodyStream, BoxFuture, CallError, Certificates,
    CompileCx, Compiled, CompiledValue, Exchange, Flow, OutboundRequest, PolicyError, Purpose,
    Reason, Reported, Run, Services, Stage, default_error, error_chain,
};
use sluice_engine::schema::Section;
use sluice_engine::xml::Element;

use crate::backend_health::{self, BackendHealth};
use crate::content_safety::{
    API_VERSION, BLOCKED_MESSAGE, CATEGORIES, ContentSafety, Direction, analyze_request,
    analyze_verdict, completion_text, prompt_text, shield_request, shield_verdict, windows,
};
use crate::identity::{Credentials, entity_credentials};

const POLICY: &str = "llm-content-safety";

/// A call to the service waits this long unless its backend entity says
/// less or more (`timeout`).
const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// The most of a streamed answer collected for its check; past it, the
/// answer is refused (it cannot be checked).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// The most of an answer of the Content Safety service read; a longer one
/// is a failed check.
const MAX_SERVICE_ANSWER_BYTES: usize = 1024 * 1024;

#[derive(Debug)]
struct LlmContentSafety {
    backend_id: CompiledValue,
    shield_prompt: Option<CompiledValue>,
    enforce_on_completions: Option<CompiledValue>,
    window_size: Option<CompiledValue>,
    window_overlap: Option<CompiledValue>,
    output_type: Option<CompiledValue>,
    /// `(name, threshold)` of each `<category>`.
    categories: Vec<(CompiledValue, CompiledValue)>,
    blocklists: Vec<CompiledValue>,
    /// In outbound: checks the answer, not the request.
    outbound: bool,
    deps: Arc<Deps>,
}

/// What the checks reach: the shared state, and what a backend entity's
/// credentials and health need.
#[derive(Debug)]
struct Deps {
    state: Arc<ContentSafety>,
    credentials: Option<Arc<Credentials>>,
    certificates: Option<Arc<Certificates>>,
    health: Option<Arc<BackendHealth>>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let backend_id = cx.required(e, "backend-id")?;
    if let (CompiledValue::Literal(id), Some(known), Some(a)) = (
        &backend_id,
        cx.resources.get::<Backends>(),
        e.attr("backend-id"),
    ) && !known.contains(id.trim())
    {
        let id = id.trim();
        let d = Diagnostic::new(
            Code::ConfigReference,
            &cx.source,
            a.value.span,
            format!("no backend `{id}` (backend-id)"),
        )
        .with_help(match did_you_mean(id, known.ids()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!(
                "the Azure AI Content Safety endpoint is a backend entity: add \
                 `[backends.{id}]` with `url = \"https://<name>.cognitiveservices.azure.com\"` \
                 and its credentials"
            ),
        });
        cx.diags.push(d);
        return Err(Reported);
    }
    let shield_prompt = cx.optional(e, "shield-prompt")?;
    let enforce_on_completions = cx.optional(e, "enforce-on-completions")?;
    let window_size = cx.optional(e, "window-size")?;
    let window_overlap = cx.optional(e, "window-overlap-size")?;
    let mut output_type = None;
    let mut categories = Vec::new();
    let mut blocklists = Vec::new();
    for c in e.elements() {
        match c.name.as_str() {
            "categories" => {
                output_type = cx.optional(c, "output-type")?;
                for cat in c.elements().filter(|k| k.name == "category") {
                    categories.push((cx.required(cat, "name")?, cx.required(cat, "threshold")?));
                }
            }
            "blocklists" => {
                for id in c.elements().filter(|k| k.name == "id") {
                    blocklists.push(cx.text(id)?);
                }
            }
            _ => {}
        }
    }
    let state = cx
        .resources
        .get::<ContentSafety>()
        .unwrap_or_else(|| Arc::new(ContentSafety::detached()));
    Ok(Box::new(LlmContentSafety {
        backend_id,
        shield_prompt,
        enforce_on_completions,
        window_size,
        window_overlap,
        output_type,
        categories,
        blocklists,
        outbound: cx.section == Section::Outbound,
        deps: Arc::new(Deps {
            state,
            credentials: cx.resources.get::<Credentials>(),
            certificates: cx.resources.get::<Certificates>(),
            health: cx.resources.get::<BackendHealth>(),
        }),
    }))
}

/// The policy's values for one request.
#[derive(Clone, Debug)]
struct Settings {
    backend_id: String,
    shield: bool,
    enforce_on_completions: bool,
    window: Option<usize>,
    overlap: usize,
    output_type: String,
    categories: Vec<(String, i64)>,
    blocklists: Vec<String>,
}

fn bad_value(message: String) -> PolicyError {
    PolicyError::new(
        POLICY,
        Reason::ExpressionValueEvaluationFailure,
        500,
        message,
    )
}

impl LlmContentSafety {
    fn settings(&self, x: &Exchange) -> Result<Settings, PolicyError> {
        let flag = |v: &Option<CompiledValue>| match v {
            Some(v) => v.eval_bool(x),
            None => Ok(false),
        };
        let size = |v: &Option<CompiledValue>, what: &str| -> Result<Option<usize>, PolicyError> {
            match v {
                Some(v) => {
                    let n = v.eval_int(x)?;
                    usize::try_from(n).map(Some).map_err(|_| {
                        bad_value(format!("{what} `{n}` is not a number of characters"))
                    })
                }
                None => Ok(None),
            }
        };
        let output_type = match &self.output_type {
            Some(v) => {
                let t = v.text(x)?;
                ["FourSeverityLevels", "EightSeverityLevels"]
                    .into_iter()
                    .find(|k| k.eq_ignore_ascii_case(t.trim()))
                    .ok_or_else(|| {
                        bad_value(format!(
                            "output-type `{t}` is neither `FourSeverityLevels` nor `EightSeverityLevels`"
                        ))
                    })?
            }
            None => "FourSeverityLevels",
        };
        let mut categories = Vec::with_capacity(self.categories.len());
        for (name, threshold) in &self.categories {
            let n = name.text(x)?;
            let canonical = CATEGORIES
                .into_iter()
                .find(|c| c.eq_ignore_ascii_case(n.trim()))
                .ok_or_else(|| {
                    bad_value(format!(
                        "category `{n}` is not one of `Hate`, `SelfHarm`, `Sexual`, `Violence`"
                    ))
                })?;
            let t = threshold.eval_int(x)?;
            if !(0..=7).contains(&t) {
                return Err(bad_value(format!(
                    "threshold `{t}` of category `{canonical}` is not between 0 and 7"
                )));
            }
            categories.push((canonical.to_owned(), t));
        }
        let mut blocklists = Vec::with_capacity(self.blocklists.len());
        for b in &self.blocklists {
            let id = b.text(x)?;
            if !id.trim().is_empty() {
                blocklists.push(id.trim().to_owned());
            }
        }
        Ok(Settings {
            backend_id: self.backend_id.text(x)?.trim().to_owned(),
            shield: flag(&self.shield_prompt)?,
            enforce_on_completions: flag(&self.enforce_on_completions)?,
            window: size(&self.window_size, "window-size")?,
            overlap: size(&self.window_overlap, "window-overlap-size")?.unwrap_or(0),
            output_type: output_type.to_owned(),
            categories,
            blocklists,
        })
    }
}

impl Stage for LlmContentSafety {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let s = match self.settings(x) {
            Ok(s) => s,
            Err(e) => return Run::fail(e),
        };
        let (direction, text) = if self.outbound {
            let text = x
                .response()
                .read(|m| m.body.as_ref().and_then(|b| completion_text(&b.bytes)));
            (Direction::Response, text)
        } else {
            if s.enforce_on_completions {
                x.at_end(Box::new(CheckAnswer {
                    deps: Arc::clone(&self.deps),
                    settings: s.clone(),
                }));
            }
            let text = x
                .request()
                .read(|m| m.body.as_ref().and_then(|b| prompt_text(&b.bytes)));
            (Direction::Request, text)
        };
        let Some(text) = text else {
            return Run::next();
        };
        Run::Later(Box::pin(async move {
            let services = Arc::clone(&x.services);
            match check(&self.deps, services.as_ref(), &s, &text, direction).await {
                Ok(()) => Ok(Flow::Next),
                Err(e) => Err(e),
            }
        }))
    }
}

/// `enforce-on-completions`: the answer's check, once the pipeline has run.
struct CheckAnswer {
    deps: Arc<Deps>,
    settings: Settings,
}

impl AtEnd for CheckAnswer {
    fn run(self: Box<Self>, x: &mut Exchange) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let status = x.response().read(|m| m.status);
            if !(200..300).contains(&status) {
                return;
            }
            let body = match x.streaming.response_body.take() {
                Some(stream) => match collect_bounded(stream, MAX_ANSWER_BYTES).await {
                    Some(b) => {
                        x.response().write(|m| {
                            m.body = Some(Body {
                                bytes: b.clone(),
                                consumed: false,
                            });
                        });
                        b
                    }
                    None => {
                        self.deps.state.count_check(Direction::Response, "error");
                        refuse(x);
                        return;
                    }
                },
                None => x
                    .response()
                    .read(|m| m.body.as_ref().map(|b| b.bytes.clone()))
                    .unwrap_or_default(),
            };
            let Some(text) = completion_text(&body) else {
                return;
            };
            let services = Arc::clone(&x.services);
            let checked = check(
                &self.deps,
                services.as_ref(),
                &self.settings,
                &text,
                Direction::Response,
            )
            .await;
            if checked.is_err() {
                refuse(x);
            }
        })
    }
}

/// The answer is replaced by APIM's refusal.
fn refuse(x: &mut Exchange) {
    let d = default_error(403, BLOCKED_MESSAGE);
    x.streaming.response_body = None;
    x.response().write(|m| {
        m.status = 403;
        m.reason = d.reason.to_owned();
        m.headers = d.headers;
        m.body = Some(Body {
            bytes: d.body,
            consumed: false,
        });
    });
}

/// The whole stream, or `None` when it breaks off or passes `max` bytes.
async fn collect_bounded(mut s: BodyStream, max: usize) -> Option<Bytes> {
    let mut out = Vec::new();
    while let Some(chunk) = poll_fn(|cx| futures_core::Stream::poll_next(s.as_mut(), cx)).await {
        let chunk = chunk.ok()?;
        if out.len() + chunk.len() > max {
            return None;
        }
        out.extend_from_slice(&chunk);
    }
    Some(out.into())
}

/// Checks `text`, window by window (the two operations of a window at
/// once): `Ok` when nothing blocks it, else the policy's error.
async fn check(
    deps: &Deps,
    services: &dyn Services,
    s: &Settings,
    text: &str,
    direction: Direction,
) -> Result<(), PolicyError> {
    let r = verdict(deps, services, s, text, direction).await;
    let outcome = match &r {
        Ok(None) => "allowed",
        Ok(Some(_)) => "blocked",
        Err(_) => "error",
    };
    deps.state.count_check(direction, outcome);
    match r {
        Ok(None) => Ok(()),
        Ok(Some(why)) => Err(PolicyError::new(
            POLICY,
            Reason::ContentSafetyViolation,
            403,
            format!(
                "{BLOCKED_MESSAGE} The {} was refused: {why}",
                direction.as_str()
            ),
        )
        .with_response_message(BLOCKED_MESSAGE)),
        Err(f) => Err(PolicyError::new(
            POLICY,
            f.reason,
            403,
            format!(
                "{BLOCKED_MESSAGE} Azure AI Content Safety (backend `{}`) could not check it: {}",
                s.backend_id, f.message
            ),
        )
        .with_response_message(BLOCKED_MESSAGE)),
    }
}

/// Why a check could not be made.
struct Failure {
    reason: Reason,
    /// The `kind` label of the errors metric.
    kind: &'static str,
    message: String,
}

impl Failure {
    fn new(reason: Reason, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason,
            kind,
            message: message.into(),
        }
    }
}

/// What blocks the text (`Ok(None)`: nothing).
async fn verdict(
    deps: &Deps,
    services: &dyn Services,
    s: &Settings,
    text: &str,
    direction: Direction,
) -> Result<Option<String>, Failure> {
    let shield = s.shield && direction == Direction::Request;
    let analyze = !s.categories.is_empty() || !s.blocklists.is_empty();
    if !shield && !analyze {
        return Ok(None);
    }
    let (id, entity) = target(deps, services, &s.backend_id).inspect_err(|f| {
        // An id no backend has (an expression's) is not a label: labels stay bounded.
        let label = if f.reason == Reason::BackendNotFound {
            "(unknown)"
        } else {
            s.backend_id.as_str()
        };
        deps.state.failed(label, f.kind, &f.message);
    })?;
    let id = id.as_str();
    for w in windows(text, s.window, s.overlap) {
        let shield_call = async {
            if shield {
                Some(
                    call(
                        deps,
                        services,
                        id,
                        &entity,
                        "text:shieldPrompt",
                        shield_request(w),
                    )
                    .await,
                )
            } else {
                None
            }
        };
        let analyze_call = async {
            if analyze {
                let body = analyze_request(w, &s.categories, &s.blocklists, &s.output_type);
                Some(call(deps, services, id, &entity, "text:analyze", body).await)
            } else {
                None
            }
        };
        let (shielded, analyzed) = tokio::join!(shield_call, analyze_call);
        if let Some(answer) = shielded {
            let attack = shield_verdict(&answer?)
                .map_err(|m| Failure::new(Reason::BackendError, "answer", m))?;
            if attack {
                return Ok(Some("a user prompt attack was detected".into()));
            }
        }
        if let Some(answer) = analyzed {
            let why = analyze_verdict(&answer?, &s.categories)
                .map_err(|m| Failure::new(Reason::BackendError, "answer", m))?;
            if why.is_some() {
                return Ok(why);
            }
        }
    }
    Ok(None)
}

/// The backend entity called: the one named, or the member of the pool it
/// names picked now.
fn target(
    deps: &Deps,
    services: &dyn Services,
    id: &str,
) -> Result<(String, BackendEntity), Failure> {
    let entity = services.backend(id).ok_or_else(|| {
        Failure::new(
            Reason::BackendNotFound,
            "unavailable",
            format!("no backend `{id}`"),
        )
    })?;
    let now = services.now_ms();
    let unavailable = |what: String| {
        Failure::new(
            Reason::BackendUnavailable,
            "unavailable",
            format!("{what} is temporarily unavailable"),
        )
    };
    if entity.is_pool() {
        let member = match &deps.health {
            Some(h) => h.pick(id, &entity.pool, now),
            None => entity.pool.first().map(|m| m.id.clone()),
        };
        return member
            .and_then(|m| services.backend(&m).map(|e| (m, e)))
            .ok_or_else(|| unavailable(format!("Backend pool {id}")));
    }
    if deps.health.as_ref().is_some_and(|h| h.is_open(id, now)) {
        return Err(unavailable(format!("Backend {id}")));
    }
    Ok((id.to_owned(), entity))
}

/// One call to the service's `operation`, with the entity's credentials:
/// the answer's body when it is a 200.
async fn call(
    deps: &Deps,
    services: &dyn Services,
    id: &str,
    entity: &BackendEntity,
    operation: &str,
    body: Vec<u8>,
) -> Result<Bytes, Failure> {
    let r = send(deps, services, entity, operation, body).await;
    if let (Some(health), Some(rule)) = (&deps.health, entity.breaker.as_ref()) {
        let status = r.as_ref().ok().map(|(status, _)| *status);
        health.record(
            id,
            Some(rule),
            backend_health::is_failure(rule, status),
            None,
            services.now_ms(),
        );
    }
    let answer = r.and_then(|(status, body)| {
        if status == 200 {
            Ok(body)
        } else {
            Err(Failure::new(
                Reason::BackendError,
                "status",
                format!("{operation} answered {status}"),
            ))
        }
    });
    match &answer {
        Ok(_) => deps.state.answered(id),
        Err(f) => deps.state.failed(id, f.kind, &f.message),
    }
    answer
}

async fn send(
    deps: &Deps,
    services: &dyn Services,
    entity: &BackendEntity,
    operation: &str,
    body: Vec<u8>,
) -> Result<(u16, Bytes), Failure> {
    let base = entity.url.trim_end_matches('/');
    let mut url = format!("{base}/contentsafety/{operation}?api-version={API_VERSION}");
    for (k, v) in &entity.query {
        url.push('&');
        url.extend(form_urlencoded::byte_serialize(k.as_bytes()));
        url.push('=');
        url.extend(form_urlencoded::byte_serialize(v.as_bytes()));
    }
    let timeout_ms = entity.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
    let mut req = OutboundRequest {
        method: "POST".into(),
        url,
        body: body.into(),
        timeout_ms,
        purpose: Purpose::SendRequest,
        ..OutboundRequest::default()
    };
    req.headers
        .set_one("Content-Type", "application/json".to_owned());
    let mut seen: Vec<&str> = Vec::new();
    for (k, v) in &entity.headers {
        if seen.iter().any(|s| s.eq_ignore_ascii_case(k)) {
            req.headers.append(k, v);
        } else {
            req.headers.set_one(k, v.clone());
            seen.push(k);
        }
    }
    if let Some((scheme, parameter)) = &entity.authorization {
        req.headers
            .set_one("Authorization", format!("{scheme} {parameter}"));
    }
    entity_credentials(
        entity,
        deps.certificates.as_deref(),
        deps.credentials.as_deref(),
        services,
        &mut req,
    )
    .await
    .map_err(|why| Failure::new(Reason::ManagedIdentityTokenError, "credentials", why))?;
    // The whole call, its answer read to the end, within the timeout; the
    // answer at most `MAX_SERVICE_ANSWER_BYTES` (its documented shapes are small).
    let call = async {
        let (head, stream) = services.call_streaming(req).await?;
        let body = match stream {
            Some(s) => collect_bounded(s, MAX_SERVICE_ANSWER_BYTES).await,
            None => (head.body.len() <= MAX_SERVICE_ANSWER_BYTES).then_some(head.body),
        };
        Ok::<_, CallError>((head.status, body))
    };
    match tokio::time::timeout(Duration::from_millis(timeout_ms), call).await {
        Err(_) | Ok(Err(CallError::Timeout)) => Err(Failure::new(
            Reason::Timeout,
            "timeout",
            format!("{operation}: no answer within {timeout_ms} ms"),
        )),
        Ok(Err(CallError::Connection(e))) => Err(Failure::new(
            Reason::BackendConnectionFailure,
            "connection",
            format!("{operation}: {}", scrub(error_chain(&*e), entity)),
        )),
        Ok(Ok((status, Some(body)))) => Ok((status, body)),
        Ok(Ok((_, None))) => Err(Failure::new(
            Reason::BackendError,
            "answer",
            format!(
                "{operation}: the answer broke off or is over {MAX_SERVICE_ANSWER_BYTES} bytes"
            ),
        )),
    }
}

/// `message` without the entity's credentials (a client error may quote
/// the URL, whose query holds the entity's `query` values).
fn scrub(mut message: String, entity: &BackendEntity) -> String {
    let secrets = entity
        .headers
        .iter()
        .chain(&entity.query)
        .map(|(_, v)| v.as_str())
        .chain(entity.authorization.as_ref().map(|(_, p)| p.as_str()));
    for secret in secrets.filter(|s| s.len() >= 4) {
        message = message.replace(secret, "***");
        let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        message = message.replace(&encoded, "***");
    }
    message
}

#[cfg(test)]
mod tests;
