//! Outbound HTTP and the [`Services`] a request runs with.
//!
//! One pooled hyper client for the whole process: HTTP/1.1 and HTTP/2 (by
//! ALPN), TLS by rustls with the web PKI roots (no system certificates), a
//! connect timeout, and per call a timeout on the response headers. Calls
//! with other TLS (a client certificate, a backend's relaxed checks:
//! `outbound_tls.rs`) or through a proxy (`proxy.rs`) get pools of their
//! own, made when first used. The body is then read whole, or, for
//! [`Services::call_streaming`], handed on as a stream of its data frames
//! (see docs/gateway.md). The request body is
//! sent whole, or for [`Services::call_with_body`] as the client's body
//! arrives.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_core::Stream;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Body as _, Frame, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sluice_engine::runtime::{
    BackendEntity, BodyStream, BoxFuture, CallError, ClientIdentity, InboundResponse, Multimap,
    OutboundProxy, OutboundRequest, Services, TlsChecks,
};

use super::outbound_tls;
use super::proxy::{self, ProxyConnector};
use super::state::Current;

/// How long establishing a connection (TCP and TLS) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle pooled connections are closed after this.
const POOL_IDLE: Duration = Duration::from_secs(90);

/// Headers that describe one connection, never forwarded (RFC 9110 §7.6.1),
/// and `Content-Length`, which the client sets from the body it sends.
pub const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "content-length",
];

/// Moves headers into a hyper map (the values' bytes are not copied),
/// leaving out hop-by-hop headers, those `skip` names, and names or values
/// HTTP does not allow (values: visible ASCII and tabs, as
/// `HeaderValue::from_str` takes them).
pub fn move_headers(from: Multimap, into: &mut hyper::HeaderMap, skip: impl Fn(&str) -> bool) {
    for (name, values) in from.0 {
        if is_hop_by_hop(&name) || skip(&name) {
            continue;
        }
        let Some(name) = usual_name(&name).or_else(|| HeaderName::from_bytes(name.as_bytes()).ok())
        else {
            continue;
        };
        for v in values {
            if !v.bytes().all(|b| b == b'\t' || (32..127).contains(&b)) {
                continue;
            }
            if let Ok(v) = HeaderValue::from_maybe_shared(Bytes::from(v)) {
                into.append(name.clone(), v);
            }
        }
    }
}

/// hyper's name of a usual header, without parsing it.
fn usual_name(name: &str) -> Option<HeaderName> {
    use hyper::header as h;
    Some(match name {
        "content-type" | "Content-Type" => h::CONTENT_TYPE,
        "content-length" | "Content-Length" => h::CONTENT_LENGTH,
        "content-encoding" | "Content-Encoding" => h::CONTENT_ENCODING,
        "cache-control" | "Cache-Control" => h::CACHE_CONTROL,
        "date" | "Date" => h::DATE,
        "etag" | "ETag" => h::ETAG,
        "expires" | "Expires" => h::EXPIRES,
        "last-modified" | "Last-Modified" => h::LAST_MODIFIED,
        "location" | "Location" => h::LOCATION,
        "server" | "Server" => h::SERVER,
        "set-cookie" | "Set-Cookie" => h::SET_COOKIE,
        "vary" | "Vary" => h::VARY,
        "accept" | "Accept" => h::ACCEPT,
        "authorization" | "Authorization" => h::AUTHORIZATION,
        "user-agent" | "User-Agent" => h::USER_AGENT,
        _ => return None,
    })
}

pub fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// The body of an outbound request: whole, or the client's as it arrives.
type OutBody = Either<Full<Bytes>, Outgoing>;

type Pooled = Client<HttpsConnector<HttpConnector>, OutBody>;

pub struct HttpClient {
    /// Calls with the default TLS (no client certificate, every check of
    /// the server's certificate) and no proxy: almost all of them.
    client: Pooled,
    /// One pool per TLS setting that is not the default (a client
    /// certificate, `authentication-certificate`; a backend's relaxed
    /// checks), made when first used: a connection's TLS is its handshake's.
    tuned: std::sync::Mutex<HashMap<TlsKey, Pooled>>,
    /// A client per proxy (the `proxy` policy, a backend's `proxy`) and
    /// TLS setting, made when first used.
    proxied: std::sync::Mutex<HashMap<(OutboundProxy, TlsKey), ProxiedClient>>,
}

/// What tells TLS settings apart: the client certificate (and the CAs it
/// carries) and the checks of the server's certificate.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct TlsKey {
    identity: Option<(String, usize)>,
    checks: TlsChecks,
}

impl TlsKey {
    fn of(req: &OutboundRequest) -> Self {
        Self {
            identity: req.client_certificate.as_ref().map(|i| i.pool_key()),
            checks: req.tls,
        }
    }

    fn is_default(&self) -> bool {
        self.identity.is_none() && self.checks == TlsChecks::default()
    }
}

/// The TCP connector every pool uses.
fn tcp() -> HttpConnector {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.set_nodelay(true);
    http
}

fn pool(https: HttpsConnector<HttpConnector>) -> Pooled {
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE)
        .build(https)
}

type ProxiedClient = Client<HttpsConnector<ProxyConnector>, OutBody>;

/// At most this many proxy clients (and as many tuned pools) are kept;
/// past it they are made anew.
const MAX_PROXIES: usize = 64;

impl HttpClient {
    pub fn new() -> Result<Self, String> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| e.to_string())?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(tcp());
        Ok(Self {
            client: pool(https),
            tuned: std::sync::Mutex::new(HashMap::new()),
            proxied: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The pool of calls with the TLS of `req` (not the default).
    fn tuned(&self, identity: Option<&ClientIdentity>, key: TlsKey) -> Result<Pooled, CallError> {
        let mut pools = self
            .tuned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(p) = pools.get(&key) {
            return Ok(p.clone());
        }
        let config = outbound_tls::client_config(identity, key.checks)?;
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(tcp());
        let p = pool(https);
        if pools.len() >= MAX_PROXIES {
            pools.clear();
        }
        pools.insert(key, p.clone());
        Ok(p)
    }

    /// The client that sends through `proxy`, with the TLS of `req`.
    fn proxied(
        &self,
        proxy: &OutboundProxy,
        identity: Option<&ClientIdentity>,
        key: TlsKey,
    ) -> Result<ProxiedClient, CallError> {
        let mut clients = self
            .proxied
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = (proxy.clone(), key);
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let connector =
            ProxyConnector::new(proxy, CONNECT_TIMEOUT).map_err(CallError::connection)?;
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = if key.1.is_default() {
            builder
                .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
                .map_err(CallError::connection)?
        } else {
            builder.with_tls_config(outbound_tls::client_config(identity, key.1.checks)?)
        };
        let https = builder
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(connector);
        let client: ProxiedClient = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            .build(https);
        if clients.len() >= MAX_PROXIES {
            clients.clear();
        }
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// Sends one request and reads the answer whole; the timeout covers
    /// connecting and the response headers.
    pub async fn call(&self, req: OutboundRequest) -> Result<InboundResponse, CallError> {
        let (head, body) = self.send(req, None).await?;
        read_whole(head, body).await
    }

    /// Sends one request whose body is `body`, as it arrives; the answer
    /// as [`HttpClient::call_streaming`] gives it when `stream_response`,
    /// else read whole.
    pub async fn call_with_body(
        &self,
        req: OutboundRequest,
        body: BodyStream,
        stream_response: bool,
    ) -> Result<(InboundResponse, Option<BodyStream>), CallError> {
        let (head, incoming) = self.send(req, Some(body)).await?;
        if stream_response {
            let stream: BodyStream = Box::pin(Frames(incoming));
            Ok((head, Some(stream)))
        } else {
            read_whole(head, incoming).await.map(|h| (h, None))
        }
    }

    /// Sends one request; returns once the response headers are in, with
    /// the body as a stream of its data frames.
    pub async fn call_streaming(
        &self,
        req: OutboundRequest,
    ) -> Result<(InboundResponse, Option<BodyStream>), CallError> {
        let (head, body) = self.send(req, None).await?;
        let stream: BodyStream = Box::pin(Frames(body));
        Ok((head, Some(stream)))
    }

    /// Sends one request (with `stream` as its body instead of `req.body`
    /// when given); the answer's head (with an empty body) and its body.
    async fn send(
        &self,
        mut req: OutboundRequest,
        stream: Option<BodyStream>,
    ) -> Result<(InboundResponse, Incoming), CallError> {
        let proxy = req.proxy.take();
        let tls = TlsKey::of(&req);
        let identity = req.client_certificate.take();
        let method = hyper::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| CallError::connection(format!("invalid method `{}`", req.method)))?;
        let uri: hyper::Uri = req
            .url
            .parse()
            .map_err(|_| CallError::connection(format!("invalid URL `{}`", req.url)))?;
        // A streamed body keeps the client's length, if it said one.
        let length = stream
            .as_ref()
            .and_then(|_| req.headers.get("Content-Length")?.first())
            .and_then(|len| HeaderValue::from_str(len.trim()).ok());
        // The header map is filled in place: names and values are checked
        // once here, not again by a request builder.
        let mut headers = hyper::HeaderMap::with_capacity(req.headers.0.len());
        move_headers(req.headers, &mut headers, |name| {
            name.eq_ignore_ascii_case("host")
        });
        if let Some(len) = length {
            headers.append(hyper::header::CONTENT_LENGTH, len);
        }
        let body = match stream {
            Some(s) => Either::Right(Outgoing(s)),
            None => Either::Left(Full::new(req.body)),
        };
        let mut request = hyper::Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        let pending = match &proxy {
            None if tls.is_default() => self.client.request(request),
            None => self.tuned(identity.as_deref(), tls)?.request(request),
            Some(p) => {
                let client = self.proxied(p, identity.as_deref(), tls)?;
                // A plain-HTTP target is asked of the proxy itself; an
                // HTTPS one goes through the tunnel, credentials on CONNECT.
                if request.uri().scheme_str() != Some("https")
                    && let Some(a) = proxy::authorization(p)
                    && let Ok(v) = HeaderValue::from_str(&a)
                {
                    request
                        .headers_mut()
                        .insert(hyper::header::PROXY_AUTHORIZATION, v);
                }
                client.request(request)
            }
        };
        let response = if req.timeout_ms == 0 {
            pending.await
        } else {
            tokio::time::timeout(Duration::from_millis(req.timeout_ms), pending)
                .await
                .map_err(|_| CallError::Timeout)?
        }
        .map_err(CallError::connection)?;
        let (parts, body) = response.into_parts();
        let mut headers = Multimap::default();
        for (name, value) in &parts.headers {
            headers.append(name.as_str(), &String::from_utf8_lossy(value.as_bytes()));
        }
        let reason = parts
            .extensions
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
            .or_else(|| parts.status.canonical_reason().map(str::to_owned))
            .unwrap_or_default();
        let head = InboundResponse {
            status: parts.status.as_u16(),
            reason,
            headers,
            body: Bytes::new(),
        };
        Ok((head, body))
    }
}

/// Reads the rest of an answer whole.
async fn read_whole(
    mut head: InboundResponse,
    body: Incoming,
) -> Result<InboundResponse, CallError> {
    head.body = body
        .collect()
        .await
        .map_err(CallError::connection)?
        .to_bytes();
    Ok(head)
}

/// The client's body as the body of the outbound request; an error (the
/// client broke off, or the size limit) aborts the call.
struct Outgoing(BodyStream);

impl hyper::body::Body for Outgoing {
    type Data = Bytes;
    /// Kept whole, so that the call's error still says it was the client's
    /// body ([`CallError::is_client_body`]).
    type Error = CallError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(|r| r.map(Frame::data)))
    }
}

/// A response body as the stream of its data frames (trailers are dropped);
/// a broken connection ends it with an error.
struct Frames(Incoming);

impl Stream for Frames {
    type Item = Result<Bytes, CallError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let frame = match Pin::new(&mut self.0).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => {
                    return Poll::Ready(Some(Err(CallError::connection(e))));
                }
                Poll::Ready(Some(Ok(f))) => f,
            };
            if let Ok(data) = frame.into_data() {
                return Poll::Ready(Some(Ok(data)));
            }
        }
    }
}

/// The services of one request: the shared client, and the plan the request runs on.
pub struct Live {
    pub client: Arc<HttpClient>,
    pub current: Arc<Current>,
}

/// The gateway clock of `sluice run`: the system clock, in milliseconds
/// since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Services for Live {
    fn now_ms(&self) -> i64 {
        now_ms()
    }

    fn call(&self, req: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>> {
        Box::pin(self.client.call(req))
    }

    fn call_streaming(
        &self,
        req: OutboundRequest,
    ) -> BoxFuture<'_, Result<(InboundResponse, Option<BodyStream>), CallError>> {
        Box::pin(self.client.call_streaming(req))
    }

    fn call_with_body(
        &self,
        req: OutboundRequest,
        body: BodyStream,
        stream_response: bool,
    ) -> BoxFuture<'_, Result<(InboundResponse, Option<BodyStream>), CallError>> {
        Box::pin(self.client.call_with_body(req, body, stream_response))
    }

    fn backend(&self, id: &str) -> Option<BackendEntity> {
        self.current.plan.backends.get(id).cloned()
    }

    fn sleep(&self, ms: u64) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(Duration::from_millis(ms)))
    }

    /// On a worker (a multi-threaded runtime of one thread): the worker's
    /// other connections move to a fresh thread of its runtime while this
    /// one runs `work` (`block_in_place`); elsewhere (a test's
    /// single-threaded runtime) in place.
    fn offload(&self, work: &mut dyn FnMut()) {
        offload(work);
    }
}

/// [`Services::offload`] as the gateway's workers do it.
pub fn offload(work: &mut dyn FnMut()) {
    let on_worker = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if on_worker {
        tokio::task::block_in_place(work);
    } else {
        work();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_move_with_their_names_in_any_case_and_unsendable_ones_left_out() {
        let mut from = Multimap::default();
        from.append("Content-Type", "application/json");
        from.append("content-type", "text/plain");
        from.append("ETag", "\"v1\"");
        from.append("X-Custom", "a");
        from.append("X-Custom", "b");
        from.append("Connection", "close");
        from.append("X-Skipped", "1");
        from.append("X-Bad", "line\nbreak");
        from.append("bad name", "x");
        let mut into = hyper::HeaderMap::new();
        move_headers(from, &mut into, |n| n.eq_ignore_ascii_case("x-skipped"));
        let all = |n: &str| -> Vec<&str> {
            into.get_all(n)
                .iter()
                .map(|v| v.to_str().unwrap_or("?"))
                .collect()
        };
        assert_eq!(all("content-type"), ["application/json", "text/plain"]);
        assert_eq!(all("etag"), ["\"v1\""]);
        assert_eq!(all("x-custom"), ["a", "b"]);
        for gone in ["connection", "x-skipped", "x-bad"] {
            assert!(into.get(gone).is_none(), "{gone}");
        }
        assert_eq!(into.keys_len(), 3);
    }
}
