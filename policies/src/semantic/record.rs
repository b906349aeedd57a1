//! A streamed answer recorded while it passes to the client: every chunk
//! goes on at once (the first token is not delayed), a copy is kept, and
//! only a stream that ended normally, with the API's final event, and
//! stayed under the size cap is handed to `done`. A broken stream, one the
//! client abandoned (the recorder is dropped before the end), or one that
//! grew too large is never stored.

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

/// Whether a whole answer is complete: an event stream must carry the
/// API's final event (`data: [DONE]`, `response.completed`, `message_stop`)
/// and no error event; any other body arrived whole by definition.
pub fn complete(shape: Shape, event_stream: bool, body: &[u8]) -> bool {
    if !event_stream {
        return true;
    }
    let text = String::from_utf8_lossy(body);
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
