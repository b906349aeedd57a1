//! A streamed answer metered while it passes: every event goes on to the
//! client as it arrives, a copy is parsed for usage and text, and the
//! usage-only chunk the gateway asked for is taken out. When the stream
//! ends, or the client leaves, `done` gets what was consumed (the usage
//! the backend reported, else the text streamed so far, counted).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use sluice_engine::runtime::{BodyStream, CallError};

use super::usage::{Seen, Usage, event_data, event_end, read_event};

/// The streamed text kept for counting; past it, four bytes count a token.
pub const TEXT_CAP: usize = 1 << 20;

/// An event not ended past this many bytes is passed on unparsed.
const EVENT_CAP: usize = 1 << 20;

/// A JSON answer kept for reading its usage; past it, four bytes of the
/// answer count a token.
pub const JSON_CAP: usize = 8 << 20;

type Done = Box<dyn FnOnce(Seen, String, usize) + Send>;

pub struct Meter {
    inner: BodyStream,
    /// A whole JSON document, not an event stream: kept (up to
    /// [`JSON_CAP`]) and read when it ends.
    json: bool,
    /// Take the usage-only chunk out (the gateway added `include_usage`).
    strip: bool,
    /// The bytes of the event not ended yet.
    pending: Vec<u8>,
    seen: Seen,
    text: String,
    overflow: usize,
    done: Option<Done>,
}

impl Meter {
    /// Wraps `inner`; `done` gets the usage seen, the text streamed and the
    /// length of text not kept.
    pub fn new(
        inner: BodyStream,
        strip: bool,
        done: impl FnOnce(Seen, String, usize) + Send + 'static,
    ) -> Self {
        Self {
            inner,
            json: false,
            strip,
            pending: Vec::new(),
            seen: Seen::default(),
            text: String::new(),
            overflow: 0,
            done: Some(Box::new(done)),
        }
    }

    /// Wraps a streamed JSON answer (not an event stream): it goes on to
    /// the client unchanged, and `done` gets its usage, or its text when it
    /// reports none, once it has ended.
    pub fn json(
        inner: BodyStream,
        done: impl FnOnce(Seen, String, usize) + Send + 'static,
    ) -> Self {
        let mut m = Self::new(inner, false, done);
        m.json = true;
        m
    }

    /// Keeps a chunk of a JSON answer, or only its length past the cap.
    fn keep_json(&mut self, chunk: &[u8]) {
        if self.overflow == 0 && self.pending.len() + chunk.len() <= JSON_CAP {
            self.pending.extend_from_slice(chunk);
        } else {
            self.overflow += self.pending.len() + chunk.len();
            self.pending = Vec::new();
        }
    }

    /// Parses the events ended in `pending`; returns what goes on to the
    /// client when stripping (the ended events but the usage-only one).
    fn events(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(len) = event_end(&self.pending[at..]) {
            let event = &self.pending[at..at + len];
            let keep = match std::str::from_utf8(event).ok().and_then(event_data) {
                Some(data) => {
                    let e = read_event(
                        &data,
                        &mut self.seen,
                        &mut self.text,
                        TEXT_CAP,
                        &mut self.overflow,
                    );
                    !(self.strip && e.usage_only)
                }
                None => true,
            };
            if keep && self.strip {
                out.extend_from_slice(event);
            }
            at += len;
        }
        self.pending.drain(..at);
        if self.pending.len() > EVENT_CAP {
            // Not an event stream after all: passed on as it is.
            out.append(&mut self.pending);
        }
        out
    }

    fn finish(&mut self) {
        if let Some(done) = self.done.take() {
            if self.json {
                let seen = super::usage::from_json(&self.pending);
                let text = if seen.any() || self.overflow > 0 {
                    String::new()
                } else {
                    super::answer_text(&self.pending)
                };
                done(seen, text, self.overflow);
                return;
            }
            // A last event without its blank line.
            if !self.pending.is_empty() {
                self.pending.extend_from_slice(b"\n\n");
                let _ = self.events();
            }
            done(self.seen, std::mem::take(&mut self.text), self.overflow);
        }
    }
}

impl Stream for Meter {
    type Item = Result<Bytes, CallError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            match this.inner.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) if this.json => {
                    this.keep_json(&chunk);
                    return Poll::Ready(Some(Ok(chunk)));
                }
                Poll::Ready(Some(Ok(chunk))) => {
                    this.pending.extend_from_slice(&chunk);
                    let out = this.events();
                    if !this.strip {
                        return Poll::Ready(Some(Ok(chunk)));
                    }
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Bytes::from(out))));
                    }
                    // Only part of an event, or the stripped one: read on.
                }
                Poll::Ready(None) => {
                    let rest = if this.strip {
                        std::mem::take(&mut this.pending)
                    } else {
                        Vec::new()
                    };
                    this.finish();
                    if !rest.is_empty() {
                        return Poll::Ready(Some(Ok(Bytes::from(rest))));
                    }
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(e))) => {
                    this.finish();
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl Drop for Meter {
    /// The client left, or the stream broke: what streamed so far is
    /// counted all the same.
    fn drop(&mut self) {
        self.finish();
    }
}

/// Meters a whole body that is an event stream: its usage and text, and
/// the body without the usage-only chunk when `strip`.
pub fn whole(body: &[u8], strip: bool) -> (Seen, String, usize, Option<Vec<u8>>) {
    let mut seen = Seen::default();
    let mut text = String::new();
    let mut overflow = 0;
    let mut out = Vec::with_capacity(if strip { body.len() } else { 0 });
    let mut stripped = false;
    let mut at = 0;
    while at < body.len() {
        let len = event_end(&body[at..]).unwrap_or(body.len() - at);
        let event = &body[at..at + len];
        let keep = match std::str::from_utf8(event).ok().and_then(event_data) {
            Some(data) => {
                let e = read_event(&data, &mut seen, &mut text, TEXT_CAP, &mut overflow);
                !(strip && e.usage_only)
            }
            None => true,
        };
        if keep {
            out.extend_from_slice(event);
        } else {
            stripped = true;
        }
        at += len;
    }
    (seen, text, overflow, stripped.then_some(out))
}

/// The usage once a stream has ended: reported, or counted.
pub fn settle(
    seen: Seen,
    text: &str,
    overflow: usize,
    prompt_estimate: impl FnOnce() -> u64,
    count: impl FnOnce(&str) -> u64,
) -> Usage {
    let prompt = if seen.prompt.is_some() {
        0
    } else {
        prompt_estimate()
    };
    seen.usage(prompt, || {
        count(text).saturating_add((overflow as u64).div_ceil(4))
    })
}
