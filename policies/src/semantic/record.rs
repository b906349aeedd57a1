//! A streamed answer recorded while it passes to the client: every chunk
//! goes on at once (the first token is not delayed), a copy is kept, and
//! only a stream that ended normally, with the API's final event, and
//! stayed under the size cap is handed to `done`. A broken stream, one the
//! client abandoned before its final event (the recorder is dropped), or
//! one that grew too large is never stored; `done` hears why instead (the
//! store counts it). An event stream the client closes right after the
//! final event (before the backend's body ends) is whole, and is stored.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use serde_json::Value;
use sluice_engine::runtime::{BodyStream, CallError};

use super::shape::Shape;

/// What became of a recorded answer: the whole body, or why it is not
/// stored (`too-large`, `broken`, `abandoned`, `incomplete`).
pub type Outcome = Result<Vec<u8>, &'static str>;

type Done = Box<dyn FnOnce(Outcome) + Send>;

pub struct Recorder {
    inner: BodyStream,
    /// The copy, or why there is none.
    kept: Result<Vec<u8>, &'static str>,
    cap: usize,
    shape: Shape,
    event_stream: bool,
    done: Option<Done>,
    /// Read on in the background after its client left: dropped again
    /// (at `DRAIN_LIMIT`), it gives up.
    draining: bool,
}

impl Recorder {
    /// Wraps `inner`; `done` gets the whole body if the stream completes,
    /// else the reason it is not kept.
    pub fn new(
        inner: BodyStream,
        shape: Shape,
        event_stream: bool,
        cap: usize,
        done: impl FnOnce(Outcome) + Send + 'static,
    ) -> Self {
        Self {
            inner,
            kept: Ok(Vec::new()),
            cap,
            shape,
            event_stream,
            done: Some(Box::new(done)),
            draining: false,
        }
    }

    /// Hands the outcome to `done`, once.
    fn finish(&mut self, ended: bool) {
        let Some(done) = self.done.take() else {
            return;
        };
        let kept = std::mem::replace(&mut self.kept, Err("abandoned"));
        let outcome = match kept {
            // Left before its end, a body that is not an event stream has
            // no final event to go by.
            Ok(body)
                if (ended || self.event_stream)
                    && complete(self.shape, self.event_stream, &body) =>
            {
                Ok(body)
            }
            Ok(_) if ended => Err("incomplete"),
            Ok(_) => Err("abandoned"),
            Err(why) => Err(why),
        };
        done(outcome);
    }
}

impl Stream for Recorder {
    type Item = Result<Bytes, CallError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let r = this.inner.as_mut().poll_next(cx);
        match &r {
            Poll::Ready(Some(Ok(chunk))) => {
                if let Ok(k) = &mut this.kept {
                    if k.len() + chunk.len() > this.cap {
                        this.kept = Err("too-large");
                    } else {
                        k.extend_from_slice(chunk);
                    }
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if this.kept.is_ok() {
                    this.kept = Err("broken");
                }
            }
            Poll::Ready(None) => this.finish(true),
            Poll::Pending => {}
        }
        r
    }
}

impl Drop for Recorder {
    /// A client may close an event stream as soon as it has the final event
    /// (the `openai` package stops at `data: [DONE]`), before the backend's
    /// body has ended: the answer is whole, so it is stored all the same;
    /// left before its final event, it is not (closing the backend's
    /// stream stops a generation the client no longer wants).
    ///
    /// A whole answer (not an event stream) the client stopped waiting for
    /// has been generated, and paid for, all the same: the rest of it is
    /// read in the background, for at most `DRAIN_LIMIT`, and stored.
    fn drop(&mut self) {
        let whole = self.kept.is_ok() && self.done.is_some();
        if self.event_stream || self.draining || !whole {
            self.finish(false);
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            self.finish(false);
            return;
        };
        // The same recorder, on the rest of the body: its own polls keep
        // the cap, see a break, and judge the whole answer at its end.
        let mut rest = Recorder {
            inner: std::mem::replace(&mut self.inner, Box::pin(Ended)),
            kept: std::mem::replace(&mut self.kept, Err("abandoned")),
            cap: self.cap,
            shape: self.shape,
            event_stream: false,
            done: self.done.take(),
            draining: true,
        };
        rt.spawn(async move {
            let read = async {
                while std::future::poll_fn(|cx| Pin::new(&mut rest).poll_next(cx))
                    .await
                    .is_some()
                {}
            };
            let _ = tokio::time::timeout(DRAIN_LIMIT, read).await;
        });
    }
}

/// How long the rest of an answer its client left is read for.
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// A stream with nothing left (what a drained recorder keeps).
struct Ended;

impl Stream for Ended {
    type Item = Result<Bytes, CallError>;
    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(None)
    }
}

/// Whether a whole answer is complete: an event stream must carry the
/// API's final event (`data: [DONE]`, `response.completed`, `message_stop`)
/// and no error event; and no answer may have been cut short by its length
/// limit (`finish_reason` `length`, Anthropic's `stop_reason` `max_tokens`,
/// a Responses `status` `incomplete`): the length limit does not partition
/// the cache, so a cut answer would be served to requests that allow more.
/// Events are read as JSON, whatever their spacing.
pub fn complete(shape: Shape, event_stream: bool, body: &[u8]) -> bool {
    if !event_stream {
        return serde_json::from_slice::<Value>(body).map_or(true, |v| !cut_short(shape, &v));
    }
    let text = String::from_utf8_lossy(body);
    let mut finished = false;
    for line in text.lines() {
        if let Some(name) = field(line, "event") {
            match name {
                "error" | "response.failed" | "response.incomplete" => return false,
                "response.completed" if shape == Shape::Responses => finished = true,
                "message_stop" if shape == Shape::Anthropic => finished = true,
                _ => {}
            }
            continue;
        }
        let Some(data) = field(line, "data") else {
            continue;
        };
        if data == "[DONE]" {
            finished |= matches!(shape, Shape::Chat | Shape::Completions);
            continue;
        }
        let Ok(event) = serde_json::from_str::<Value>(data) else {
            continue;
        };
        if event.get("error").is_some() || cut_short(shape, &event) {
            return false;
        }
        match event.get("type").and_then(Value::as_str) {
            Some("error" | "response.failed" | "response.incomplete") => return false,
            Some("response.completed") if shape == Shape::Responses => finished = true,
            Some("message_stop") if shape == Shape::Anthropic => finished = true,
            _ => {}
        }
    }
    finished
}

/// The value of an SSE field line (`name: value` or `name:value`).
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = line.trim().strip_prefix(name)?.strip_prefix(':')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest).trim())
}

/// An answer, or one event of a stream, that says it stopped at the
/// length limit.
fn cut_short(shape: Shape, v: &Value) -> bool {
    let str_at = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    match shape {
        Shape::Chat | Shape::Completions => {
            v.get("choices")
                .and_then(Value::as_array)
                .is_some_and(|choices| {
                    choices
                        .iter()
                        .any(|c| str_at(c, "finish_reason").as_deref() == Some("length"))
                })
        }
        Shape::Responses => {
            // The answer, or a stream event's `response`.
            let r = v.get("response").unwrap_or(v);
            str_at(r, "status").as_deref() == Some("incomplete")
        }
        Shape::Anthropic => {
            // The answer, or a stream's `message_delta` event.
            let d = v.get("delta").unwrap_or(v);
            str_at(d, "stop_reason").as_deref() == Some("max_tokens")
                || str_at(v, "stop_reason").as_deref() == Some("max_tokens")
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::{Arc, Mutex};

    use sluice_engine::runtime::collect;

    use super::*;

    type Seen = Arc<Mutex<Option<Outcome>>>;

    fn recorder(chunks: Vec<Result<&'static str, CallError>>, cap: usize) -> (Recorder, Seen) {
        recorder_of(chunks, cap, true)
    }

    fn recorder_of(
        chunks: Vec<Result<&'static str, CallError>>,
        cap: usize,
        event_stream: bool,
    ) -> (Recorder, Seen) {
        let items: Vec<Result<Bytes, CallError>> = chunks
            .into_iter()
            .map(|c| c.map(|t| Bytes::from_static(t.as_bytes())))
            .collect();
        let inner: BodyStream = Box::pin(Iter(items.into_iter()));
        let seen: Seen = Arc::default();
        let s = Arc::clone(&seen);
        let r = Recorder::new(inner, Shape::Chat, event_stream, cap, move |b| {
            *s.lock().unwrap() = Some(b);
        });
        (r, seen)
    }

    /// Reads a recorder's first chunk, then drops it (the client leaves),
    /// and waits for its outcome.
    async fn left_after_one_chunk(r: Recorder, seen: &Seen) -> Outcome {
        let mut r = Box::pin(r);
        assert!(
            std::future::poll_fn(|cx| r.as_mut().poll_next(cx))
                .await
                .is_some()
        );
        drop(r);
        for _ in 0..1000 {
            if let Some(outcome) = seen.lock().unwrap().clone() {
                return outcome;
            }
            tokio::task::yield_now().await;
        }
        panic!("no outcome");
    }

    #[tokio::test(start_paused = true)]
    async fn a_whole_answer_whose_rest_never_comes_is_given_up_at_the_drain_limit() {
        /// One chunk, then nothing, for ever.
        struct Stalls(bool);
        impl Stream for Stalls {
            type Item = Result<Bytes, CallError>;
            fn poll_next(
                mut self: Pin<&mut Self>,
                _: &mut Context<'_>,
            ) -> Poll<Option<Self::Item>> {
                if std::mem::replace(&mut self.0, true) {
                    Poll::Pending
                } else {
                    Poll::Ready(Some(Ok(Bytes::from_static(b"{\"choices\":["))))
                }
            }
        }
        let seen: Seen = Arc::default();
        let s = Arc::clone(&seen);
        let mut r = Box::pin(Recorder::new(
            Box::pin(Stalls(false)),
            Shape::Chat,
            false,
            1000,
            move |b| {
                *s.lock().unwrap() = Some(b);
            },
        ));
        assert!(
            std::future::poll_fn(|cx| r.as_mut().poll_next(cx))
                .await
                .is_some()
        );
        drop(r);
        tokio::time::sleep(DRAIN_LIMIT - std::time::Duration::from_secs(1)).await;
        assert_eq!(*seen.lock().unwrap(), None, "still reading");
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        assert_eq!(*seen.lock().unwrap(), Some(Err("abandoned")));
    }

    #[tokio::test]
    async fn a_whole_answer_the_client_left_is_read_to_its_end_and_kept() {
        let answer = [
            r#"{"choices":[{"message":{"content":"Pa"#,
            r#"ris"},"finish_reason":"stop"}]}"#,
        ];
        let (r, seen) = recorder_of(answer.iter().map(|c| Ok(*c)).collect(), 1000, false);
        assert_eq!(
            left_after_one_chunk(r, &seen).await,
            Ok(answer.concat().into_bytes())
        );
        // But not past the cap, a break, or the length limit.
        let (r, seen) = recorder_of(answer.iter().map(|c| Ok(*c)).collect(), 60, false);
        assert_eq!(left_after_one_chunk(r, &seen).await, Err("too-large"));
        let (r, seen) = recorder_of(vec![Ok(answer[0]), Err(CallError::Timeout)], 1000, false);
        assert_eq!(left_after_one_chunk(r, &seen).await, Err("broken"));
        let cut = [r#"{"choices":[{"finish_reason":"#, r#""length"}]}"#];
        let (r, seen) = recorder_of(cut.iter().map(|c| Ok(*c)).collect(), 1000, false);
        assert_eq!(left_after_one_chunk(r, &seen).await, Err("incomplete"));
        // An event stream left before its final event is not read on.
        let (r, seen) = recorder(vec![Ok("data: {}\n\n"), Ok("data: [DONE]\n\n")], 1000);
        assert_eq!(left_after_one_chunk(r, &seen).await, Err("abandoned"));
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
        assert_eq!(*seen.lock().unwrap(), Some(Ok(body.to_vec())));
    }

    #[tokio::test]
    async fn broken_unfinished_abandoned_or_large_streams_are_not_kept() {
        let (r, seen) = recorder(vec![Ok("data: {}\n\n"), Err(CallError::Timeout)], 1000);
        assert!(collect(Box::pin(r)).await.is_err());
        assert_eq!(*seen.lock().unwrap(), Some(Err("broken")));

        let (r, seen) = recorder(vec![Ok("data: {}\n\n")], 1000);
        collect(Box::pin(r)).await.unwrap();
        assert_eq!(*seen.lock().unwrap(), Some(Err("incomplete")), "no [DONE]");

        let (r, seen) = recorder(vec![Ok("data: {}\n\n"), Ok("data: [DONE]\n\n")], 1000);
        let mut r = Box::pin(r);
        let first = std::future::poll_fn(|cx| r.as_mut().poll_next(cx)).await;
        assert!(first.is_some());
        drop(r);
        assert_eq!(
            *seen.lock().unwrap(),
            Some(Err("abandoned")),
            "the client left"
        );

        // Closed by the client after the final event, before the body's end: whole.
        let (r, seen) = recorder(vec![Ok("data: {}\n\ndata: [DONE]\n\n"), Ok("")], 1000);
        let mut r = Box::pin(r);
        let first = std::future::poll_fn(|cx| r.as_mut().poll_next(cx)).await;
        assert!(first.is_some());
        drop(r);
        assert!(
            matches!(*seen.lock().unwrap(), Some(Ok(_))),
            "closed after [DONE]"
        );

        let (r, seen) = recorder(vec![Ok("data: {}\n\n"), Ok("data: [DONE]\n\n")], 10);
        let body = collect(Box::pin(r)).await.unwrap();
        assert_eq!(body.len(), 24, "the client still gets everything");
        assert_eq!(
            *seen.lock().unwrap(),
            Some(Err("too-large")),
            "over the cap"
        );
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
        // JSON as any encoder spaces it.
        let spaced = "data: {\"choices\": [{\"delta\": {}, \"finish_reason\": \"length\"}]}\n\ndata: [DONE]\n\n";
        assert!(!complete(Shape::Chat, true, spaced.as_bytes()));
        let spaced = "data: {\"choices\": [{\"delta\": {}, \"finish_reason\": \"stop\"}]}\n\ndata:[DONE]\n\n";
        assert!(complete(Shape::Chat, true, spaced.as_bytes()));
        let spaced = "event: message_delta\ndata: {\"type\": \"message_delta\", \"delta\": {\"stop_reason\": \"max_tokens\"}}\n\nevent: message_stop\ndata: {\"type\": \"message_stop\"}\n\n";
        assert!(!complete(Shape::Anthropic, true, spaced.as_bytes()));
        let error = "data: {\"error\": {\"message\": \"overloaded\"}}\n\ndata: [DONE]\n\n";
        assert!(!complete(Shape::Chat, true, error.as_bytes()));
        let incomplete = "event: response.created\ndata: {}\n\ndata: {\"type\": \"response.incomplete\", \"response\": {\"status\": \"incomplete\"}}\n\n";
        assert!(!complete(Shape::Responses, true, incomplete.as_bytes()));
    }
}
