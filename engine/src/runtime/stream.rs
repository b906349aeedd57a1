//! Unbuffered bodies: the backend's body as a stream of chunks, carried
//! past the pipeline to the client when no policy reads it, and the
//! client's body, carried to the backend the same way.
//!
//! The plan decides per pipeline, when it is built, whether the response
//! body may stream ([`Streaming::response`]); `forward-request` then asks
//! [`Services::call_streaming`] for the body as a [`BodyStream`] and keeps it
//! in [`Streaming::response_body`] instead of `context.Response.Body`. An
//! error (`on-error`) or a response that ends the pipeline
//! (`return-response`, `mock-response`) replaces the response, and drops the
//! stream with it.
//!
//! In the other direction, the plan hands a request body no policy reads to
//! the exchange as [`Streaming::request_body`]; `forward-request` passes it
//! to [`Services::call_with_body`].
//!
//! [`Services::call_streaming`]: super::Services::call_streaming
//! [`Services::call_with_body`]: super::Services::call_with_body

use std::future::poll_fn;
use std::pin::Pin;

use bytes::Bytes;
use futures_core::Stream;

use super::CallError;

/// A body read chunk by chunk as it arrives; an error ends it early (the
/// connection to the backend broke).
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, CallError>> + Send>>;

/// What one request knows about streaming its response body.
#[derive(Default)]
pub struct Streaming {
    /// Set by the plan: no policy of the pipeline reads the response body,
    /// so `forward-request` may take it as a stream.
    pub response: bool,
    /// The backend's body, not read yet (`context.Response.Body` is then empty).
    pub response_body: Option<BodyStream>,
    /// The client's body, not read yet: set by the plan when no policy reads
    /// the request body (`context.Request.Body` is then empty);
    /// `forward-request` takes it and sends it on as it arrives.
    pub request_body: Option<BodyStream>,
}

impl std::fmt::Debug for Streaming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streaming")
            .field("response", &self.response)
            .field("response_body", &self.response_body.is_some())
            .field("request_body", &self.request_body.is_some())
            .finish()
    }
}

/// Reads a stream to its end: the chunks joined, or the first error. A body
/// that came in one chunk is that chunk (shared, not copied).
pub async fn collect(mut s: BodyStream) -> Result<Bytes, CallError> {
    let Some(first) = poll_fn(|cx| s.as_mut().poll_next(cx)).await else {
        return Ok(Bytes::new());
    };
    let first = first?;
    let Some(second) = poll_fn(|cx| s.as_mut().poll_next(cx)).await else {
        return Ok(first);
    };
    let mut out = Vec::with_capacity(first.len() + second.as_ref().map_or(0, Bytes::len));
    out.extend_from_slice(&first);
    out.extend_from_slice(&second?);
    while let Some(chunk) = poll_fn(|cx| s.as_mut().poll_next(cx)).await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out.into())
}
