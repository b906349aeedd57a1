//! A streamed answer recorded while it passes to the client: every chunk
//! goes on at once (the first token is not delayed), a copy is kept, and
//! only a stream that ended normally, with the API's final event, and
//! stayed under the size cap is handed to `done`. A broken stream, one the
//! client abandoned before its final event (the recorder is dropped), or
//! one that grew too large is never stored. An event stream the client
//! closes right after the final event (before the backend's body ends) is
//! whole, and is stored.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use sluice_engine::runtime::{BodyStream, CallError};

use super::shape::Shape;

type Done = Box<dyn FnOnce(Vec<u8>) + Send>;

pub struct Recorder {
    inner: BodyStream,
    kept: Option<Vec<u8>>,
    cap: usize,
    shape: Shape,
    event_stream: bool,
    done: Option<Done>,
}

impl Recorder {
    /// Wraps `inner`; `done` gets the whole body if the stream completes.
    pub fn new(
        inner: BodyStream,
        shape: Shape,
        event_stream: bool,
        cap: usize,
        done: impl FnOnce(Vec<u8>) + Send + 'static,
    ) -> Self {
        Self {
            inner,
            kept: Some(Vec::new()),
            cap,
            shape,
            event_stream,
            done: Some(Box::new(done)),
        }
    }
}

impl Stream for Recorder {
    type Item = Result<Bytes, CallError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let r = this.inner.as_mut().poll_next(cx);
        match &r {
            Poll::Ready(Some(Ok(chunk))) => {
                if let Some(k) = &mut this.kept {
                    if k.len() + chunk.len() > this.cap {
                        this.kept = None;
                    } else {
                        k.extend_from_slice(chunk);
                    }
                }
            }
            Poll::Ready(Some(Err(_))) => this.kept = None,
            Poll::Ready(None) => {
                if let (Some(body), Some(done)) = (this.kept.take(), this.done.take())
                    && complete(this.shape, this.event_stream, &body)
                {
                    done(body);
                }
            }
            Poll::Pending => {}
        }
        r
    }
}

impl Drop for Recorder {
    /// A client may close an event stream as soon as it has the final event
    /// (the `openai` package stops at `data: [DONE]`), before the backend's
    /// body has ended: the answer is whole, so it is stored all the same.
    /// A body that is not an event stream has no final event to go by: left
    /// before its end, it is not stored.
    fn drop(&mut self) {
        if self.event_stream
            && let (Some(body), Some(done)) = (self.kept.take(), self.done.take())
            && complete(self.shape, true, &body)
        {
            done(body);
        }
    }
}

/// Whether a whole answer is complete: an event stream must carry the
/// API's final event (`data: [DONE]`, `response.completed`, `message_stop`)
/// and no error event; and no answer may have been cut short by its length
/// limit (`finish_reason` `length`, Anthropic's `stop_reason` `max_tokens`,
/// a Responses `status` `incomplete`): the length limit does not partition
/// the cache, so a cut answer would be served to requests that allow more.
pub fn complete(shape: Shape, event_stream: bool, body: &[u8]) -> bool {
    if !event_stream {
        return !cut_short(shape, body);
    }
    let text = String::from_utf8_lossy(body);
    let cut = [
        "\"finish_reason\":\"length\"",
        "\"stop_reason\":\"max_tokens\"",
    ];
    if cut.iter().any(|c| text.contains(c)) {
        return false;
    }
    let has_event = |name: &str| {
        text.lines().any(|l| {
            let l = l.trim();
            l == format!("event: {name}") || l == format!("event:{name}")
        }) || text.contains(&format!("\"type\":\"{name}\""))
    };
    if has_event("error") || has_event("response.failed") || has_event("response.incomplete") {
        return false;
    }
    match shape {
        Shape::Chat | Shape::Completions => text.lines().any(|l| {
            let l = l.trim();
            l == "data: [DONE]" || l == "data:[DONE]"
        }),
        Shape::Responses => has_event("response.completed"),
        Shape::Anthropic => has_event("message_stop"),
    }
}

/// A JSON answer that stopped at its length limit.
fn cut_short(shape: Shape, body: &[u8]) -> bool {
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    match shape {
        Shape::Chat | Shape::Completions => answer
            .get("choices")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|choices| {
                choices.iter().any(|c| {
                    c.get("finish_reason").and_then(serde_json::Value::as_str) == Some("length")
                })
            }),
        Shape::Responses => {
            answer.get("status").and_then(serde_json::Value::as_str) == Some("incomplete")
        }
        Shape::Anthropic => {
            answer
                .get("stop_reason")
                .and_then(serde_json::Value::as_str)
                == Some("max_tokens")
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::{Arc, Mutex};

    use sluice_engine::runtime::collect;

    use super::*;

    type Seen = Arc<Mutex<Option<Vec<u8>>>>;

    fn recorder(chunks: Vec<Result<&'static str, CallError>>, cap: usize) -> (Recorder, Seen) {
        let items: Vec<Result<Bytes, CallError>> = chunks
            .into_iter()
            .map(|c| c.map(|t| Bytes::from_static(t.as_bytes())))
            .collect();
        let inner: BodyStream = Box::pin(Iter(items.into_iter()));
        let seen: Seen = Arc::default();
        let s = Arc::clone(&seen);
        let r = Recorder::new(inner, Shape::Chat, true, cap, move |b| {
            *s.lock().unwrap() = Some(b);
        });
        (r, seen)
    }

    struct Iter(std::vec::IntoIter<Result<Bytes, CallError>>);

    impl Stream for Iter {
        type Item = Result<Bytes, CallError>;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(self.0.next())
        }
    }

    #[tokio::test]
    async fn a_complete_stream_passes_whole_and_is_kept() {
        let (r, seen) = recorder(vec![Ok("data: {}\n\n"), Ok("data: [DONE]\n\n")], 1000);
        let body = collect(Box::pin(r)).await.unwrap();
        assert_eq!(body, &b"data: {}\n\ndata: [DONE]\n\n"[..]);
        assert_eq!(seen.lock().unwrap().as_deref(), Some(&body[..]));
    }

    #[tokio::test]
    async fn broken_unfinished_abandoned_or_large_streams_are_not_kept() {
        let (r, seen) = recorder(vec![Ok("data: {}\n\n"), Err(CallError::Timeout)], 1000);
        assert!(collect(Box::pin(r)).await.is_err());
        assert!(seen.lock().unwrap().is_none());

        let (r, seen) = recorder(vec![Ok("data: {}\n\n")], 1000);
        collect(Box::pin(r)).await.unwrap();
        assert!(seen.lock().unwrap().is_none(), "no [DONE]");

        let (r, seen) = recorder(vec![Ok("data: {}\n\n"), Ok("data: [DONE]\n\n")], 1000);
        let mut r = Box::pin(r);
        let first = std::future::poll_fn(|cx| r.as_mut().poll_next(cx)).await;
        assert!(first.is_some());
        drop(r);
        assert!(seen.lock().unwrap().is_none(), "the client left");

        // Closed by the client after the final event, before the body's end: whole.
        let (r, seen) = recorder(vec![Ok("data: {}\n\ndata: [DONE]\n\n"), Ok("")], 1000);
        let mut r = Box::pin(r);
        let first = std::future::poll_fn(|cx| r.as_mut().poll_next(cx)).await;
        assert!(first.is_some());
        drop(r);
        assert!(seen.lock().unwrap().is_some(), "closed after [DONE]");

        let (r, seen) = recorder(vec![Ok("data: {}\n\n"), Ok("data: [DONE]\n\n")], 10);
        let body = collect(Box::pin(r)).await.unwrap();
        assert_eq!(body.len(), 24, "the client still gets everything");
        assert!(seen.lock().unwrap().is_none(), "over the cap");
    }

    #[test]
    fn event_streams_need_their_final_event() {
        let chat = b"data: {\"choices\":[]}\n\ndata: [DONE]\n\n";
        assert!(complete(Shape::Chat, true, chat));
        assert!(!complete(Shape::Chat, true, b"data: {\"choices\":[]}\n\n"));
        assert!(complete(Shape::Chat, false, b"{}"));
        let responses =
            b"event: response.created\ndata: {}\n\nevent: response.completed\ndata: {}\n\n";
        assert!(complete(Shape::Responses, true, responses));
        assert!(!complete(
            Shape::Responses,
            true,
            b"event: response.failed\ndata: {}\n\n"
        ));
        let anthropic = b"event: message_start\ndata: {}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        assert!(complete(Shape::Anthropic, true, anthropic));
        let error = b"event: error\ndata: {}\n\nevent: message_stop\ndata: {}\n\n";
        assert!(!complete(Shape::Anthropic, true, error));
    }

    #[test]
    fn answers_cut_short_by_their_length_limit_are_not_complete() {
        let chat = |reason: &str| {
            format!(
                r#"{{"choices":[{{"message":{{"content":"Pa"}},"finish_reason":"{reason}"}}]}}"#
            )
        };
        assert!(complete(Shape::Chat, false, chat("stop").as_bytes()));
        assert!(!complete(Shape::Chat, false, chat("length").as_bytes()));
        assert!(!complete(Shape::Completions, false, br#"{"choices":[{"text":"a","finish_reason":"stop"},{"text":"b","finish_reason":"length"}]}"#));
        assert!(complete(
            Shape::Responses,
            false,
            br#"{"status":"completed"}"#
        ));
        assert!(!complete(
            Shape::Responses,
            false,
            br#"{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}"#
        ));
        assert!(complete(
            Shape::Anthropic,
            false,
            br#"{"stop_reason":"end_turn"}"#
        ));
        assert!(!complete(
            Shape::Anthropic,
            false,
            br#"{"stop_reason":"max_tokens"}"#
        ));
        // Not JSON (a cache-response="true" error page, say): nothing says cut.
        assert!(complete(Shape::Chat, false, b"<html>"));
        let stream =
            "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n";
        assert!(!complete(Shape::Chat, true, stream.as_bytes()));
        let stream = "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"}}\n\nevent: message_stop\ndata: {}\n\n";
        assert!(!complete(Shape::Anthropic, true, stream.as_bytes()));
    }
}
