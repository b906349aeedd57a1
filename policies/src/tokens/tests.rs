//! The meter on real streams: chunks cut anywhere, the usage chunk taken
//! out only when the gateway asked for it, usage and text read from the
//! four API shapes, and a stream the client leaves still counted.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_core::Stream;
use sluice_engine::runtime::{BodyStream, CallError};

use super::meter::{Meter, settle, whole};
use super::usage::{Seen, from_json};

struct Chunks(Vec<Bytes>);

impl Stream for Chunks {
    type Item = Result<Bytes, CallError>;
    fn poll_next(
        mut self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(if self.0.is_empty() {
            None
        } else {
            Some(Ok(self.0.remove(0)))
        })
    }
}

fn stream(body: &str, cut: usize) -> BodyStream {
    let chunks = body
        .as_bytes()
        .chunks(cut)
        .map(Bytes::copy_from_slice)
        .collect();
    Box::pin(Chunks(chunks))
}

type Got = Arc<Mutex<Option<(Seen, String, usize)>>>;

fn meter(body: &str, cut: usize, strip: bool) -> (Meter, Got) {
    let got: Got = Arc::default();
    let g = Arc::clone(&got);
    let m = Meter::new(stream(body, cut), strip, move |seen, text, overflow| {
        *g.lock().unwrap() = Some((seen, text, overflow));
    });
    (m, got)
}

/// Reads the meter to its end: each chunk it gave, in order.
async fn chunks(m: Meter) -> Vec<Bytes> {
    let mut m = Box::pin(m);
    let mut out = Vec::new();
    while let Some(c) = poll_fn(|cx| m.as_mut().poll_next(cx)).await {
        out.push(c.unwrap());
    }
    out
}

const CHAT: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"is\"}}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":14,\"completion_tokens\":2,\"total_tokens\":16}}\n\n\
data: [DONE]\n\n";

const CHAT_WITHOUT_USAGE: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"is\"}}]}\n\n\
data: [DONE]\n\n";

#[tokio::test]
async fn the_usage_chunk_is_taken_out_however_the_stream_is_cut() {
    for cut in [1, 3, 7, 40, 1000] {
        let (m, got) = meter(CHAT, cut, true);
        let out = chunks(m).await;
        let body: Vec<u8> = out.iter().flat_map(|c| c.to_vec()).collect();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            CHAT_WITHOUT_USAGE,
            "cut {cut}"
        );
        // Event by event: no chunk holds a partial event, and none is held
        // back until the end.
        assert!(
            out.len() >= 3 || cut >= 1000,
            "cut {cut}: {} chunks",
            out.len()
        );
        let (seen, text, _) = got.lock().unwrap().clone().unwrap();
        assert_eq!(
            (seen.prompt, seen.completion, seen.total),
            (Some(14), Some(2), Some(16))
        );
        assert_eq!(text, "Paris");
    }
}

#[tokio::test]
async fn without_strip_the_chunks_pass_unchanged() {
    let (m, got) = meter(CHAT, 5, false);
    let out = chunks(m).await;
    assert!(out.iter().all(|c| c.len() <= 5));
    let body: Vec<u8> = out.iter().flat_map(|c| c.to_vec()).collect();
    assert_eq!(String::from_utf8(body).unwrap(), CHAT);
    assert_eq!(got.lock().unwrap().clone().unwrap().0.total, Some(16));
}

#[tokio::test]
async fn a_stream_the_client_leaves_is_counted_as_far_as_it_went() {
    let (m, got) = meter(CHAT_WITHOUT_USAGE, 10, false);
    let mut m = Box::pin(m);
    // Read until the first event has passed, then leave.
    let mut read = Vec::new();
    while !String::from_utf8_lossy(&read).contains("\n\n") {
        let c = poll_fn(|cx| m.as_mut().poll_next(cx))
            .await
            .unwrap()
            .unwrap();
        read.extend_from_slice(&c);
    }
    drop(m);
    let (seen, text, _) = got.lock().unwrap().clone().unwrap();
    assert!(!seen.any());
    assert!(text.starts_with("Par"), "{text}");
    let usage = settle(seen, &text, 0, || 7, |t| t.len() as u64);
    assert_eq!(
        (usage.prompt, usage.completion, usage.total),
        (7, text.len() as u64, 7 + text.len() as u64)
    );
    assert!(usage.estimated);
}

#[test]
fn usage_is_read_from_every_shape() {
    // Responses API: response.completed carries it.
    let responses = "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n\
event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":1,\"total_tokens\":6}}}\n\n";
    let (seen, text, _, stripped) = whole(responses.as_bytes(), false);
    assert_eq!(
        (seen.prompt, seen.completion, seen.total),
        (Some(5), Some(1), Some(6))
    );
    assert_eq!(text, "Hi");
    assert!(stripped.is_none());
    // Anthropic: input in message_start (cached tokens added), output in the last message_delta.
    let anthropic = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":4,\"output_tokens\":1}}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"Bonjour\"}}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":12}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    let (seen, text, _, _) = whole(anthropic.as_bytes(), false);
    let u = seen.usage(0, || 0);
    assert_eq!((u.prompt, u.completion, u.total), (14, 12, 26));
    assert_eq!(text, "Bonjour");
    // Completions: choices[].text.
    let (_, text, _, _) = whole(
        b"data: {\"choices\":[{\"text\":\"abc\"}]}\n\ndata: [DONE]\n\n",
        false,
    );
    assert_eq!(text, "abc");
    // JSON answers.
    let u = from_json(br#"{"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#)
        .usage(0, || 0);
    assert_eq!(
        (u.prompt, u.completion, u.total, u.estimated),
        (3, 4, 7, false)
    );
    let u = from_json(br#"{"usage":{"input_tokens":3,"output_tokens":4}}"#).usage(0, || 0);
    assert_eq!(u.total, 7);
    assert!(!from_json(br#"{"choices":[]}"#).any());
}

#[test]
fn a_whole_stream_loses_only_the_usage_chunk_when_asked() {
    let (seen, _, _, stripped) = whole(CHAT.as_bytes(), true);
    assert_eq!(seen.total, Some(16));
    assert_eq!(
        String::from_utf8(stripped.unwrap()).unwrap(),
        CHAT_WITHOUT_USAGE
    );
    let (_, _, _, kept) = whole(CHAT.as_bytes(), false);
    assert!(kept.is_none());
}

/// A JSON answer that streams through the gateway (the plan did not read
/// it whole): it passes unchanged, and its reported usage is what counts,
/// not an estimate (found by the APIOps end-to-end test: 60 reported, 14
/// counted).
#[tokio::test]
async fn a_streamed_json_answer_is_read_for_its_usage() {
    const JSON: &str = r#"{"choices":[{"message":{"content":"Paris"}}],"usage":{"prompt_tokens":50,"completion_tokens":10,"total_tokens":60}}"#;
    for cut in [1, 9, 1000] {
        let got: Got = Arc::default();
        let g = Arc::clone(&got);
        let m = Meter::json(stream(JSON, cut), move |seen, text, overflow| {
            *g.lock().unwrap() = Some((seen, text, overflow));
        });
        let body: Vec<u8> = chunks(m).await.iter().flat_map(|c| c.to_vec()).collect();
        assert_eq!(body, JSON.as_bytes(), "cut {cut}");
        let (seen, _, overflow) = got.lock().unwrap().clone().unwrap();
        assert_eq!(
            (seen.prompt, seen.completion, seen.total, overflow),
            (Some(50), Some(10), Some(60), 0),
            "cut {cut}"
        );
    }
    // Without usage, the answer's text is what the tokenizer counts.
    let got: Got = Arc::default();
    let g = Arc::clone(&got);
    let m = Meter::json(
        stream(r#"{"choices":[{"message":{"content":"Paris"}}]}"#, 4),
        move |seen, text, overflow| *g.lock().unwrap() = Some((seen, text, overflow)),
    );
    chunks(m).await;
    let (seen, text, _) = got.lock().unwrap().clone().unwrap();
    assert!(!seen.any());
    assert_eq!(text, "Paris");
}
