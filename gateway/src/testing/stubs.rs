//! The runner's [`Services`]: every outbound call answered by a stub
//! (`[embeddings]`, the `[[stub]]` with the longest `url-prefix`, else
//! `[backend]`), calls counted per step, and a virtual clock.
//!
//! No real time passes. The clock starts at 2025-01-01T00:00:00Z and, as
//! FORMAT.md says, only `advance` steps move it: the gateway's own waits
//! (`sleep`, a `retry` interval) return at once, and a stub's `delay-ms` only
//! decides whether a call times out (a delay longer than the call's timeout
//! fails it with [`CallError::Timeout`]).
//!
//! An answer given as `chunks`, or with a `text/event-stream` body (one
//! event per chunk), comes as a stream when the gateway asks for one
//! ([`Services::call_streaming`]), as a real backend's would.

use std::collections::{BTreeMap, VecDeque};
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use sluice_engine::runtime::{
    BackendEntity, BodyStream, BoxFuture, CallError, InboundResponse, Multimap, OutboundRequest,
    Purpose, Services, reason_phrase,
};

use super::case::{Answer, Case, Embeddings, Stub};

/// 2025-01-01T00:00:00Z in milliseconds since the Unix epoch.
pub const EPOCH_MS: i64 = 1_735_689_600_000;

/// What happened during one step.
#[derive(Debug, Default)]
pub struct Counters {
    pub backend: u64,
    pub stub: u64,
    pub embeddings: u64,
    /// The last request answered by `[backend]`.
    pub last_backend: Option<OutboundRequest>,
    /// The last request answered by a `[[stub]]`.
    pub last_stub: Option<OutboundRequest>,
}

pub struct Stubs {
    backend: Answer,
    stubs: Vec<Stub>,
    embeddings: Embeddings,
    clock: AtomicI64,
    /// The current step's `backend` override.
    step_backend: Mutex<Option<Answer>>,
    /// The current step's `[[step.stub]]` entries.
    step_stubs: Mutex<Vec<Stub>>,
    counters: Mutex<Counters>,
    /// Backend entities of the plan being served.
    entities: Mutex<BTreeMap<String, BackendEntity>>,
    /// Inputs that contain no key of `[embeddings.vectors]`, in order of first use.
    unmatched: Mutex<Vec<String>>,
}

impl Stubs {
    pub fn new(case: &Case) -> Self {
        Self {
            backend: case.backend.clone(),
            stubs: case.stub.clone(),
            embeddings: case.embeddings.clone(),
            clock: AtomicI64::new(EPOCH_MS),
            step_backend: Mutex::new(None),
            step_stubs: Mutex::new(Vec::new()),
            counters: Mutex::new(Counters::default()),
            entities: Mutex::new(BTreeMap::new()),
            unmatched: Mutex::new(Vec::new()),
        }
    }

    pub fn advance(&self, ms: u64) {
        self.clock
            .fetch_add(i64::try_from(ms).unwrap_or(i64::MAX), Ordering::SeqCst);
    }

    pub fn set_entities(&self, entities: BTreeMap<String, BackendEntity>) {
        if let Ok(mut e) = self.entities.lock() {
            *e = entities;
        }
    }

    /// Starts a step: counters at zero, the step's backend and stub
    /// overrides in place.
    pub fn begin_step(&self, backend: Option<Answer>, stubs: Vec<Stub>) {
        if let Ok(mut b) = self.step_backend.lock() {
            *b = backend;
        }
        if let Ok(mut s) = self.step_stubs.lock() {
            *s = stubs;
        }
        if let Ok(mut c) = self.counters.lock() {
            *c = Counters::default();
        }
    }

    pub fn take_counters(&self) -> Counters {
        self.counters
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }

    fn count(&self, f: impl FnOnce(&mut Counters)) {
        if let Ok(mut c) = self.counters.lock() {
            f(&mut c);
        }
    }

    /// Which stub answers, counting the call.
    fn answer_for(&self, req: &OutboundRequest) -> Answer {
        let step = self
            .step_stubs
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        // The step's stubs first: a case stub of the same prefix is replaced.
        let stub = step
            .iter()
            .chain(
                self.stubs
                    .iter()
                    .filter(|s| !step.iter().any(|o| o.url_prefix == s.url_prefix)),
            )
            .filter(|s| req.url.starts_with(&s.url_prefix))
            .max_by_key(|s| s.url_prefix.len())
            .map(Stub::answer);
        match stub {
            Some(answer) => {
                self.count(|c| {
                    c.stub += 1;
                    c.last_stub = Some(req.clone());
                });
                answer
            }
            None => {
                self.count(|c| {
                    c.backend += 1;
                    c.last_backend = Some(req.clone());
                });
                self.step_backend
                    .lock()
                    .ok()
                    .and_then(|b| b.clone())
                    .unwrap_or_else(|| self.backend.clone())
            }
        }
    }

    fn embeddings_answer(&self, req: &OutboundRequest) -> InboundResponse {
        self.count(|c| c.embeddings += 1);
        if self.embeddings.status != 200 {
            return json_response(
                self.embeddings.status,
                serde_json::json!({"error": {"message": "stub embeddings failure"}}),
            );
        }
        let inputs: Vec<String> = match serde_json::from_slice::<serde_json::Value>(&req.body)
            .ok()
            .and_then(|v| v.get("input").cloned())
        {
            Some(serde_json::Value::String(s)) => vec![s],
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect(),
            _ => {
                return json_response(
                    400,
                    serde_json::json!({"error": {"message": "`input` is missing"}}),
                );
            }
        };
        let data: Vec<serde_json::Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                serde_json::json!({"object": "embedding", "index": i, "embedding": self.vector(input)})
            })
            .collect();
        json_response(
            200,
            serde_json::json!({"object": "list", "data": data, "model": "sluice-test-stub",
                "usage": {"prompt_tokens": 0, "total_tokens": 0}}),
        )
    }

    /// The vector of the longest key occurring in `input`; else one
    /// orthogonal to every key's vector and to every other unmatched input's.
    pub fn vector(&self, input: &str) -> Vec<f64> {
        if let Some((_, v)) = self
            .embeddings
            .vectors
            .iter()
            .filter(|(k, _)| input.contains(k.as_str()))
            .max_by_key(|(k, _)| k.len())
        {
            return v.clone();
        }
        let Ok(mut unmatched) = self.unmatched.lock() else {
            return vec![0.0; self.embeddings.dimensions];
        };
        let index = match unmatched.iter().position(|u| u == input) {
            Some(i) => i,
            None => {
                unmatched.push(input.to_owned());
                unmatched.len() - 1
            }
        };
        orthogonal(
            self.embeddings.vectors.values().cloned().collect(),
            index,
            self.embeddings.dimensions,
        )
    }

    fn now(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    /// The stub's answer to `req` (counted), with the pieces of its body
    /// when it streams; a delay past the call's timeout is a timeout.
    fn answer(
        &self,
        req: &OutboundRequest,
    ) -> Result<(InboundResponse, Option<VecDeque<Bytes>>), CallError> {
        let (delay, result, pieces) = if req.purpose == Purpose::Embeddings {
            (self.embeddings.delay_ms, self.embeddings_answer(req), None)
        } else {
            let answer = self.answer_for(req);
            (answer.delay_ms, respond(&answer, req), pieces(&answer))
        };
        if delay > req.timeout_ms {
            Err(CallError::Timeout)
        } else {
            Ok((result, pieces))
        }
    }
}

/// The `index`-th of the unit vectors that Gram-Schmidt draws from the
/// standard basis against `fixed` (and the ones drawn before it): each is
/// orthogonal to every vector of `fixed` and to the others. When the space
/// is used up, the zero vector (similar to nothing).
fn orthogonal(fixed: Vec<Vec<f64>>, index: usize, dims: usize) -> Vec<f64> {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for v in fixed {
        let mut v: Vec<f64> = (0..dims)
            .map(|i| v.get(i).copied().unwrap_or(0.0))
            .collect();
        reduce(&mut v, &basis);
        if norm(&v) > 1e-9 {
            basis.push(normalized(v));
        }
    }
    let mut drawn = 0;
    for axis in 0..dims {
        let mut v = vec![0.0; dims];
        if let Some(x) = v.get_mut(axis) {
            *x = 1.0;
        }
        reduce(&mut v, &basis);
        if norm(&v) > 1e-9 {
            let v = normalized(v);
            if drawn == index {
                return v;
            }
            drawn += 1;
            basis.push(v);
        }
    }
    vec![0.0; dims]
}

fn reduce(v: &mut [f64], basis: &[Vec<f64>]) {
    for b in basis {
        let dot: f64 = v.iter().zip(b).map(|(a, b)| a * b).sum();
        for (x, y) in v.iter_mut().zip(b) {
            *x -= dot * y;
        }
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn normalized(v: Vec<f64>) -> Vec<f64> {
    let n = norm(&v);
    v.into_iter()
        .map(|x| {
            let x = x / n;
            if x.abs() < 1e-12 { 0.0 } else { x }
        })
        .collect()
}

fn json_response(status: u16, body: serde_json::Value) -> InboundResponse {
    let mut headers = Multimap::default();
    headers.set_one("Content-Type", "application/json".into());
    InboundResponse {
        status,
        reason: reason_phrase(status).into(),
        headers,
        body: body.to_string().into_bytes().into(),
    }
}

/// The backend's answer when no body is configured: the request it received.
pub fn echo_document(req: &OutboundRequest) -> serde_json::Value {
    let headers: serde_json::Map<String, serde_json::Value> = req
        .headers
        .0
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.join(", ").into()))
        .collect();
    serde_json::json!({
        "method": req.method,
        "url": req.url,
        "headers": headers,
        "body": String::from_utf8_lossy(&req.body),
    })
}

fn respond(answer: &Answer, req: &OutboundRequest) -> InboundResponse {
    let status = answer.status.unwrap_or(200);
    let mut headers = Multimap::default();
    let body = match (&answer.body, &answer.chunks) {
        (Some(b), _) => b.clone().into_bytes(),
        (None, Some(chunks)) => chunks.concat().into_bytes(),
        (None, None) => {
            headers.set_one("Content-Type", "application/json".into());
            echo_document(req).to_string().into_bytes()
        }
    };
    for (k, v) in &answer.headers {
        headers.set(k, v.list());
    }
    InboundResponse {
        status,
        reason: reason_phrase(status).into(),
        headers,
        body: body.into(),
    }
}

/// The pieces in which a streamed answer's body arrives: `chunks` as
/// given; a `text/event-stream` body one event per piece, as a server
/// flushes them; else none (the body comes whole).
fn pieces(answer: &Answer) -> Option<VecDeque<Bytes>> {
    if let Some(chunks) = &answer.chunks {
        return Some(chunks.iter().map(|c| Bytes::from(c.clone())).collect());
    }
    let body = answer.body.as_deref()?;
    let event_stream = answer.headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("content-type")
            && v.list()
                .iter()
                .any(|v| v.to_ascii_lowercase().starts_with("text/event-stream"))
    });
    if !event_stream {
        return None;
    }
    Some(
        body.split_inclusive("\n\n")
            .map(|e| Bytes::from(e.to_owned()))
            .collect(),
    )
}

/// A body delivered piece by piece.
struct Pieces(VecDeque<Bytes>);

impl Stream for Pieces {
    type Item = Result<Bytes, CallError>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }
}

impl Services for Stubs {
    fn now_ms(&self) -> i64 {
        self.now()
    }

    fn call(&self, req: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>> {
        let outcome = self.answer(&req).map(|(r, _)| r);
        Box::pin(async move { outcome })
    }

    /// An answer with `chunks`, or a `text/event-stream` body, comes as a
    /// stream (as `sluice run` passes it on); any other whole.
    fn call_streaming(
        &self,
        req: OutboundRequest,
    ) -> BoxFuture<'_, Result<(InboundResponse, Option<BodyStream>), CallError>> {
        let outcome = self.answer(&req).map(|(mut r, pieces)| match pieces {
            Some(p) => {
                r.body = Bytes::new();
                let stream: BodyStream = Box::pin(Pieces(p));
                (r, Some(stream))
            }
            None => (r, None),
        });
        Box::pin(async move { outcome })
    }

    fn backend(&self, id: &str) -> Option<BackendEntity> {
        self.entities.lock().ok().and_then(|e| e.get(id).cloned())
    }

    fn sleep(&self, _ms: u64) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmatched_inputs_are_orthogonal_to_keys_and_each_other() {
        let fixed = vec![vec![1.0, 1.0, 0.0, 0.0]];
        let a = orthogonal(fixed.clone(), 0, 4);
        let b = orthogonal(fixed.clone(), 1, 4);
        let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
        assert!(dot(&a, &fixed[0]).abs() < 1e-9);
        assert!(dot(&b, &fixed[0]).abs() < 1e-9);
        assert!(dot(&a, &b).abs() < 1e-9);
        assert!((norm(&a) - 1.0).abs() < 1e-9);
    }

    fn embeddings_case() -> Case {
        let text = r#"
title = "t"
[embeddings]
dimensions = 4
[embeddings.vectors]
"France" = [0.0, 1.0, 0.0, 0.0]
"capital of France" = [1.0, 0.0, 0.0, 0.0]
"#;
        super::super::case::parse("t.toml", text).unwrap().0
    }

    #[test]
    fn embeddings_answer_by_longest_key_and_count() {
        let stubs = Stubs::new(&embeddings_case());
        let req = OutboundRequest {
            body: br#"{"input": ["What is the capital of France?", "France", "hello", "hello", "bye"]}"#.to_vec().into(),
            timeout_ms: 1000,
            purpose: Purpose::Embeddings,
            ..OutboundRequest::default()
        };
        let resp = futures_lite(stubs.call(req)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
        let vec = |i: usize| -> Vec<f64> {
            serde_json::from_value(v["data"][i]["embedding"].clone()).unwrap()
        };
        assert_eq!(vec(0), vec![1.0, 0.0, 0.0, 0.0]);
        assert_eq!(vec(1), vec![0.0, 1.0, 0.0, 0.0]);
        assert_eq!(vec(2), vec(3), "the same input gets the same vector");
        assert_eq!(vec(2), vec![0.0, 0.0, 1.0, 0.0]);
        assert_eq!(vec(4), vec![0.0, 0.0, 0.0, 1.0]);
        assert_eq!(stubs.take_counters().embeddings, 1);
    }

    #[test]
    fn a_delay_beyond_the_timeout_is_a_timeout_and_the_clock_stays() {
        let mut case = embeddings_case();
        case.backend.delay_ms = 5_000;
        let stubs = Stubs::new(&case);
        let req = OutboundRequest {
            url: "http://backend.test/x".into(),
            timeout_ms: 2_000,
            ..OutboundRequest::default()
        };
        let late = futures_lite(stubs.call(req.clone())).map(|r| r.status);
        assert!(matches!(late, Err(CallError::Timeout)), "{late:?}");
        assert_eq!(stubs.now_ms(), EPOCH_MS);
        stubs.begin_step(
            Some(Answer {
                delay_ms: 1_500,
                ..Answer::default()
            }),
            Vec::new(),
        );
        assert_eq!(
            futures_lite(stubs.call(req))
                .map(|r| r.status)
                .map_err(|e| e.to_string()),
            Ok(200)
        );
        assert_eq!(stubs.now_ms(), EPOCH_MS);
        assert_eq!(stubs.take_counters().backend, 1);
    }

    fn streamed(stubs: &Stubs, req: &OutboundRequest) -> (InboundResponse, Option<Vec<String>>) {
        let (head, stream) = futures_lite(stubs.call_streaming(req.clone())).unwrap();
        let pieces = stream.map(|mut s| {
            let mut out = Vec::new();
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            while let Poll::Ready(Some(chunk)) = s.as_mut().poll_next(&mut cx) {
                out.push(String::from_utf8(chunk.unwrap().to_vec()).unwrap());
            }
            out
        });
        (head, pieces)
    }

    #[test]
    fn chunks_and_event_streams_come_in_pieces_and_whole_to_call() {
        let text = r#"
title = "t"
[backend]
chunks = ["{\"a\":", "1}"]
"#;
        let mut stubs = Stubs::new(&super::super::case::parse("t.toml", text).unwrap().0);
        let req = OutboundRequest {
            url: "http://backend.test/x".into(),
            timeout_ms: 1000,
            ..OutboundRequest::default()
        };
        let (head, pieces) = streamed(&stubs, &req);
        assert!(head.body.is_empty());
        assert_eq!(pieces.unwrap(), ["{\"a\":", "1}"]);
        let whole = futures_lite(stubs.call(req.clone())).unwrap();
        assert_eq!(&whole.body[..], b"{\"a\":1}");

        let mut sse = Answer::default();
        sse.headers.insert(
            "content-type".into(),
            super::super::case::Values::One("text/event-stream; charset=utf-8".into()),
        );
        sse.body = Some("data: 1\n\ndata: 2\n\ndata: [DONE]".into());
        stubs.backend = sse.clone();
        let (_, pieces) = streamed(&stubs, &req);
        assert_eq!(
            pieces.unwrap(),
            ["data: 1\n\n", "data: 2\n\n", "data: [DONE]"]
        );

        sse.headers.clear();
        stubs.backend = sse;
        let (head, pieces) = streamed(&stubs, &req);
        assert!(pieces.is_none(), "any other body comes whole");
        assert_eq!(&head.body[..], b"data: 1\n\ndata: 2\n\ndata: [DONE]");
        assert_eq!(stubs.take_counters().backend, 4);
    }

    #[test]
    fn body_and_chunks_together_are_refused() {
        let text = "title = \"t\"\n[[step]]\nbackend = { body = \"x\", chunks = [\"x\"] }\n";
        let err = super::super::case::parse("t.toml", text)
            .map(|_| ())
            .unwrap_err();
        assert!(err.contains("step 1 has both `body` and `chunks`"), "{err}");
    }

    fn futures_lite<T>(f: BoxFuture<'_, T>) -> T {
        let mut f = f;
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("stubs answer at once"),
        }
    }
}
