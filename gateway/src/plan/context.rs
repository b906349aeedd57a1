//! A routed request's context: its body (read whole, or left to stream to
//! the backend), the [`Exchange`] its pipeline runs on (`context.Request`,
//! `context.Api`, `context.Subscription` and the rest), and the response
//! taken back out of it.

use std::sync::Arc;

use sluice_engine::runtime::{
    Body, BodyStream, Context, ContextData, Exchange, Message, MessageRef, Pipeline, Services,
    Streaming, Url, collect,
};
use sluice_engine::schema::Section;

use super::subscriptions::Subscriber;
use super::{ApiPlan, OperationPlan, Plan, Request, Response};

/// The request body the pipeline gets: `body` (not read yet) as a stream
/// when no policy reads it, else read whole into `into` (a stream that
/// fails gives 400). Without `body`, `Request::body` stays as it is.
pub(super) async fn read_body(
    pipeline: &Pipeline,
    body: Option<BodyStream>,
    into: &mut bytes::Bytes,
) -> Result<Option<BodyStream>, Response> {
    match body {
        Some(s) if pipeline.stream_request => Ok(Some(s)),
        Some(s) => match collect(s).await {
            Ok(bytes) => {
                *into = bytes;
                Ok(None)
            }
            Err(_) => Err(Response::error(400, "The request body could not be read.")),
        },
        None => Ok(None),
    }
}

/// Where a request goes, and whose it is: what its context is built from.
pub(super) struct Target<'p> {
    pub api: &'p ApiPlan,
    pub op: &'p OperationPlan,
    pub params: Vec<(String, String)>,
    pub subscriber: Subscriber<'p>,
    pub pipeline: &'p Pipeline,
}

impl Plan {
    /// The exchange `req` (its method in upper case) runs on. A streamed
    /// `request_body` is not in the context; no policy reads it.
    pub(super) fn exchange(
        &self,
        req: Request,
        url: Url,
        target: Target<'_>,
        request_body: Option<BodyStream>,
        services: Arc<dyn Services>,
    ) -> Exchange {
        let Target {
            api,
            op,
            params,
            subscriber,
            pipeline,
        } = target;
        let streamed = request_body.is_some();
        let no_body =
            streamed || req.body.is_empty() && matches!(req.method.as_str(), "GET" | "HEAD");
        let subscription = subscriber.subscription;
        let ctx = Context::new(ContextData {
            request: MessageRef::new(Message {
                method: req.method,
                url: url.clone(),
                original_url: url,
                headers: req.headers,
                body: if no_body {
                    None
                } else {
                    Some(Body {
                        bytes: req.body,
                        consumed: false,
                    })
                },
                ip: req.ip,
                matched: params,
                certificate: req.certificate,
                ..Message::default()
            }),
            response: MessageRef::new(Message {
                status: 200,
                reason: "OK".into(),
                ..Message::default()
            }),
            api: Some(api.record.clone()),
            operation: Some(op.record.clone()),
            product: subscriber.product.and_then(|s| s.product_record.clone()),
            subscription: subscription.map(|s| s.record.clone()),
            user: subscription.and_then(|s| s.user.clone()),
            deployment: Some(self.deployment.clone()),
            request_id: new_request_id(),
            timestamp_ms: services.now_ms(),
            ..ContextData::default()
        });
        Exchange {
            ctx,
            services,
            engine: Arc::clone(&self.engine),
            limits: self.limits,
            backend_url: api.service_url.clone(),
            backend_headers: Vec::new(),
            api_prefix: api.prefix.clone(),
            section: Section::Inbound,
            path: Vec::new(),
            streaming: Streaming {
                response: pipeline.stream_response,
                response_body: None,
                request_body,
            },
            extensions: Default::default(),
        }
    }
}

/// The request is over: the response leaves the context, with the backend's
/// body as a stream when no policy read it.
pub(super) fn response(x: &mut Exchange) -> (Response, Option<BodyStream>) {
    let response = x.response().write(|m| Response {
        status: u16::try_from(m.status).unwrap_or(500),
        reason: std::mem::take(&mut m.reason),
        headers: std::mem::take(&mut m.headers),
        body: m.body.take().map(|b| b.bytes).unwrap_or_default(),
    });
    (response, x.streaming.response_body.take())
}

/// A version-4 GUID (`context.RequestId`). The id must be unique, not secret:
/// its random bits come from a per-thread SplitMix64 generator seeded once
/// from the operating system, not from a system call per request.
pub(super) fn new_request_id() -> uuid::Uuid {
    thread_local! {
        static STATE: std::cell::Cell<u64> = std::cell::Cell::new(seed());
    }
    fn seed() -> u64 {
        // Once per thread.
        let r = uuid::Uuid::new_v4().as_u128();
        (r as u64) ^ ((r >> 64) as u64)
    }
    fn next(state: &std::cell::Cell<u64>) -> u64 {
        let s = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    let (hi, lo) = STATE.with(|s| (next(s), next(s)));
    let bytes = ((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes();
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}
