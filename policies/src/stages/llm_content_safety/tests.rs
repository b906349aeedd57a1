//! The policy against a recorded stand-in of Azure AI Content Safety: the
//! calls it makes (URL, credentials, bodies) and what it makes of the answers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use sluice_engine::runtime::{
    BackendEntity, BoxFuture, CallError, Exchange, InboundResponse, OutboundRequest, Services,
    execute,
};

use crate::fixture::{self, body, last_error, response, status};

type Answer = dyn Fn(&OutboundRequest) -> Result<InboundResponse, CallError> + Send + Sync;

/// Services with backend entities, answering every call with `answer`.
struct Service {
    backends: BTreeMap<String, BackendEntity>,
    calls: Mutex<Vec<OutboundRequest>>,
    answer: Box<Answer>,
}

impl Services for Service {
    fn now_ms(&self) -> i64 {
        fixture::START_MS
    }
    fn call(&self, req: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>> {
        let r = (self.answer)(&req);
        self.calls.lock().unwrap().push(req);
        Box::pin(async move { r })
    }
    fn backend(&self, id: &str) -> Option<BackendEntity> {
        self.backends.get(id).cloned()
    }
    fn sleep(&self, _: u64) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

fn service(
    answer: impl Fn(&OutboundRequest) -> Result<InboundResponse, CallError> + Send + Sync + 'static,
) -> Arc<Service> {
    let mut backends = BTreeMap::new();
    backends.insert(
        "cs".to_owned(),
        BackendEntity {
            url: "https://cs.test/".into(),
            headers: vec![("Ocp-Apim-Subscription-Key".into(), "secret-key".into())],
            ..BackendEntity::default()
        },
    );
    Arc::new(Service {
        backends,
        calls: Mutex::new(Vec::new()),
        answer: Box::new(answer),
    })
}

/// Analyze answers with these severities; the shield with `attack`.
fn answering(hate: i64, attack: bool) -> Arc<Service> {
    service(move |req| {
        Ok(if req.url.contains("text:shieldPrompt") {
            response(
                200,
                &json!({"userPromptAnalysis":{"attackDetected":attack},"documentsAnalysis":[]})
                    .to_string(),
            )
        } else {
            response(
                200,
                &json!({"blocklistsMatch":[],"categoriesAnalysis":[
                    {"category":"Hate","severity":hate},{"category":"Violence","severity":0}]})
                .to_string(),
            )
        })
    })
}

const POLICY: &str = r#"<llm-content-safety backend-id="cs" shield-prompt="true">
    <categories output-type="EightSeverityLevels">
        <category name="Hate" threshold="4" />
        <category name="Violence" threshold="4" />
    </categories>
    <blocklists><id>list1</id></blocklists>
</llm-content-safety>"#;

const CHAT: &str = r#"{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello there"}]}"#;

fn run(policy: &str, svc: &Arc<Service>, body: &str) -> Exchange {
    let doc = format!(
        "<policies><inbound>{policy}</inbound><backend><forward-request/></backend></policies>"
    );
    let p = fixture::pipeline(&doc).unwrap_or_else(|d| panic!("{d}"));
    let mut x = fixture::exchange(fixture::Stub::status(200, ""), &[], body);
    x.services = Arc::clone(svc) as Arc<dyn Services>;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(execute(&p, &mut x));
    x
}

fn calls_to(svc: &Service, operation: &str) -> Vec<OutboundRequest> {
    svc.calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.url.contains(operation))
        .cloned()
        .collect()
}

#[test]
fn calls_both_operations_as_the_rest_api_documents() {
    let svc = answering(0, false);
    let x = run(POLICY, &svc, CHAT);
    let analyze = calls_to(&svc, "text:analyze");
    assert_eq!(analyze.len(), 1);
    let a = &analyze[0];
    assert_eq!(a.method, "POST");
    assert_eq!(
        a.url,
        "https://cs.test/contentsafety/text:analyze?api-version=2024-09-01"
    );
    assert_eq!(
        a.headers
            .get("Ocp-Apim-Subscription-Key")
            .unwrap()
            .join(","),
        "secret-key"
    );
    assert_eq!(
        a.headers.get("Content-Type").unwrap().join(","),
        "application/json"
    );
    let v: Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(
        v,
        json!({"text":"Be brief.\nHello there","categories":["Hate","Violence"],
               "blocklistNames":["list1"],"haltOnBlocklistHit":true,
               "outputType":"EightSeverityLevels"})
    );
    let shield = calls_to(&svc, "text:shieldPrompt");
    assert_eq!(shield.len(), 1);
    assert_eq!(
        shield[0].url,
        "https://cs.test/contentsafety/text:shieldPrompt?api-version=2024-09-01"
    );
    let v: Value = serde_json::from_slice(&shield[0].body).unwrap();
    assert_eq!(
        v,
        json!({"userPrompt":"Be brief.\nHello there","documents":[]})
    );
    // Allowed: the request went on to the backend.
    assert_eq!(status(&x), 200);
    assert_eq!(last_error(&x), None);
}

#[test]
fn a_category_at_its_threshold_is_refused_with_apims_403() {
    let svc = answering(4, false);
    let x = run(POLICY, &svc, CHAT);
    assert_eq!(status(&x), 403);
    assert_eq!(
        serde_json::from_str::<Value>(&body(x.response())).unwrap(),
        json!({"statusCode":403,"message":"Request failed content safety check."})
    );
    assert_eq!(
        last_error(&x).as_deref(),
        Some("llm-content-safety/ContentSafetyViolation")
    );
    // Below the threshold it passes.
    let x = run(POLICY, &answering(3, false), CHAT);
    assert_eq!(status(&x), 200);
}

#[test]
fn a_prompt_attack_is_refused() {
    let x = run(POLICY, &answering(0, true), CHAT);
    assert_eq!(status(&x), 403);
    assert_eq!(
        last_error(&x).as_deref(),
        Some("llm-content-safety/ContentSafetyViolation")
    );
}

#[test]
fn without_shield_prompt_only_analyze_is_called() {
    let svc = answering(0, true);
    let policy = r#"<llm-content-safety backend-id="cs"><categories><category name="Sexual" threshold="2" /></categories></llm-content-safety>"#;
    let x = run(policy, &svc, CHAT);
    assert_eq!(status(&x), 200);
    assert!(calls_to(&svc, "text:shieldPrompt").is_empty());
    let v: Value = serde_json::from_slice(&calls_to(&svc, "text:analyze")[0].body).unwrap();
    assert_eq!(v["outputType"], "FourSeverityLevels");
}

#[test]
fn a_failing_service_fails_closed_without_leaking_its_key() {
    let svc = service(|_| Ok(response(503, "{}")));
    let x = run(POLICY, &svc, CHAT);
    assert_eq!(status(&x), 403);
    assert_eq!(
        last_error(&x).as_deref(),
        Some("llm-content-safety/BackendError")
    );
    let message = x.ctx.0.last_error.read().unwrap().clone().unwrap().message;
    assert!(message.contains("answered 503"), "{message}");
    assert!(!message.contains("secret-key"), "{message}");
    let svc = service(|_| Err(CallError::Timeout));
    let x = run(POLICY, &svc, CHAT);
    assert_eq!(status(&x), 403);
    assert_eq!(
        last_error(&x).as_deref(),
        Some("llm-content-safety/Timeout")
    );
}

#[test]
fn a_connection_error_does_not_quote_the_credentials() {
    let svc = service(|req| {
        Err(CallError::connection(format!(
            "invalid URL `{}` (secret-key)",
            req.url
        )))
    });
    let x = run(POLICY, &svc, CHAT);
    assert_eq!(status(&x), 403);
    let message = x.ctx.0.last_error.read().unwrap().clone().unwrap().message;
    assert!(message.contains("***"), "{message}");
    assert!(!message.contains("secret-key"), "{message}");
}

#[test]
fn a_backend_id_naming_no_backend_fails_closed() {
    let policy = r#"<llm-content-safety backend-id="@(context.Request.Headers.GetValueOrDefault("x-cs", "nope"))" shield-prompt="true" />"#;
    let x = run(policy, &answering(0, false), CHAT);
    assert_eq!(status(&x), 403);
    assert_eq!(
        last_error(&x).as_deref(),
        Some("llm-content-safety/BackendNotFound")
    );
}

#[test]
fn an_oversized_answer_of_the_service_fails_closed() {
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let svc = service(move |_| Ok(response(200, &huge)));
    let x = run(POLICY, &svc, CHAT);
    assert_eq!(status(&x), 403);
    let message = x.ctx.0.last_error.read().unwrap().clone().unwrap().message;
    assert!(message.contains("over 1048576 bytes"), "{message}");
}

#[test]
fn a_request_without_text_is_not_checked() {
    let svc = answering(7, true);
    let x = run(POLICY, &svc, "not json");
    assert_eq!(status(&x), 200);
    assert!(
        svc.calls
            .lock()
            .unwrap()
            .iter()
            .all(|c| !c.url.contains("contentsafety"))
    );
}

#[test]
fn windows_are_checked_one_by_one() {
    let svc = answering(0, false);
    let policy = r#"<llm-content-safety backend-id="cs" window-size="4" window-overlap-size="1"><categories><category name="Hate" threshold="4" /></categories></llm-content-safety>"#;
    run(policy, &svc, r#"{"prompt":"abcdefg"}"#);
    let texts: Vec<String> = calls_to(&svc, "text:analyze")
        .iter()
        .map(|c| {
            serde_json::from_slice::<Value>(&c.body).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(texts, ["abcd", "defg"]);
}

#[test]
fn in_outbound_the_answer_is_checked() {
    let svc = service(|req| {
        Ok(if req.url.contains("text:analyze") {
            let v: Value = serde_json::from_slice(&req.body).unwrap();
            let sev = if v["text"] == "bad answer" { 6 } else { 0 };
            response(
                200,
                &json!({"categoriesAnalysis":[{"category":"Violence","severity":sev}]}).to_string(),
            )
        } else {
            response(200, r#"{"choices":[{"message":{"content":"bad answer"}}]}"#)
        })
    });
    let doc = r#"<policies><inbound/><backend><forward-request/></backend><outbound>
        <llm-content-safety backend-id="cs"><categories><category name="Violence" threshold="4" /></categories></llm-content-safety>
        </outbound></policies>"#;
    let p = fixture::pipeline(doc).unwrap_or_else(|d| panic!("{d}"));
    let mut x = fixture::exchange(fixture::Stub::status(200, ""), &[], CHAT);
    x.services = Arc::clone(&svc) as Arc<dyn Services>;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(execute(&p, &mut x));
    assert_eq!(status(&x), 403);
    let analyzed = calls_to(&svc, "text:analyze");
    assert_eq!(analyzed.len(), 1, "only the answer is checked in outbound");
}

#[test]
fn enforce_on_completions_checks_the_answer_from_inbound() {
    let svc = service(|req| {
        Ok(if req.url.contains("text:analyze") {
            let v: Value = serde_json::from_slice(&req.body).unwrap();
            let sev = if v["text"] == "bad answer" { 6 } else { 0 };
            response(
                200,
                &json!({"categoriesAnalysis":[{"category":"Hate","severity":sev}]}).to_string(),
            )
        } else {
            response(200, r#"{"choices":[{"message":{"content":"bad answer"}}]}"#)
        })
    });
    let policy = r#"<llm-content-safety backend-id="cs" enforce-on-completions="true"><categories><category name="Hate" threshold="4" /></categories></llm-content-safety>"#;
    let x = run(policy, &svc, CHAT);
    assert_eq!(status(&x), 403);
    assert_eq!(
        calls_to(&svc, "text:analyze").len(),
        2,
        "the prompt, then the answer"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body(x.response())).unwrap()["message"],
        "Request failed content safety check."
    );
}

#[test]
fn an_unknown_backend_is_a_load_error_naming_the_key() {
    let backends = sluice_engine::runtime::Backends(BTreeMap::from([(
        "content-safety".to_owned(),
        BackendEntity::default(),
    )]));
    let r = fixture::pipeline_with(
        r#"<policies><inbound><llm-content-safety backend-id="content-safty" /></inbound></policies>"#,
        &sluice_engine::runtime::Resources::new().with(backends),
    );
    let err = r.err().unwrap();
    assert!(
        err.contains("no backend `content-safty` (backend-id)"),
        "{err}"
    );
    assert!(err.contains("did you mean `content-safety`?"), "{err}");
}

/// A body that arrives in chunks.
struct Chunks(std::collections::VecDeque<bytes::Bytes>);

impl futures_core::Stream for Chunks {
    type Item = Result<bytes::Bytes, CallError>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.0.pop_front().map(Ok))
    }
}

/// The backend streams a chat answer (server-sent events); Content Safety
/// refuses the text "Paris." only.
struct Streamed {
    inner: Arc<Service>,
}

impl Services for Streamed {
    fn now_ms(&self) -> i64 {
        fixture::START_MS
    }
    fn call(&self, req: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>> {
        self.inner.call(req)
    }
    fn call_streaming(
        &self,
        req: OutboundRequest,
    ) -> BoxFuture<
        '_,
        Result<(InboundResponse, Option<sluice_engine::runtime::BodyStream>), CallError>,
    > {
        if req.url.contains("/contentsafety/") {
            let r = self.inner.call(req);
            return Box::pin(async move { r.await.map(|r| (r, None)) });
        }
        let chunks = [
            "data: {\"choices\":[{\"delta\":{\"content\":\"Par\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"is.\"}}]}\n\n",
            "data: [DONE]\n\n",
        ];
        let stream: sluice_engine::runtime::BodyStream = Box::pin(Chunks(
            chunks
                .iter()
                .map(|c| bytes::Bytes::from_static(c.as_bytes()))
                .collect(),
        ));
        Box::pin(async move { Ok((response(200, ""), Some(stream))) })
    }
    fn backend(&self, id: &str) -> Option<BackendEntity> {
        self.inner.backend(id)
    }
    fn sleep(&self, _: u64) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

#[test]
fn enforce_on_completions_collects_a_streamed_answer_to_check_it() {
    let run_streamed = |refused: &'static str| {
        let inner = service(move |req| {
            let v: Value = serde_json::from_slice(&req.body).unwrap();
            let sev = if v["text"] == refused { 6 } else { 0 };
            Ok(response(
                200,
                &json!({"categoriesAnalysis":[{"category":"Hate","severity":sev}]}).to_string(),
            ))
        });
        let policy = r#"<llm-content-safety backend-id="cs" enforce-on-completions="true"><categories><category name="Hate" threshold="4" /></categories></llm-content-safety>"#;
        let doc = format!(
            "<policies><inbound>{policy}</inbound><backend><forward-request/></backend></policies>"
        );
        let p = fixture::pipeline(&doc).unwrap_or_else(|d| panic!("{d}"));
        let mut x = fixture::exchange(fixture::Stub::status(200, ""), &[], CHAT);
        x.services = Arc::new(Streamed {
            inner: Arc::clone(&inner),
        });
        x.streaming.response = true;
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(execute(&p, &mut x));
        (x, inner)
    };
    let (x, svc) = run_streamed("Paris.");
    assert_eq!(status(&x), 403);
    assert!(x.streaming.response_body.is_none());
    assert_eq!(calls_to(&svc, "text:analyze").len(), 2);
    // Allowed: the collected answer is the body, whole.
    let (x, _) = run_streamed("something else");
    assert_eq!(status(&x), 200);
    assert!(body(x.response()).contains("\"content\":\"is.\""));
}
