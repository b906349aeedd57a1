//! The `proxy` policy through the real binary: requests to a backend that
//! only the proxy can reach (`backend.invalid`) go to a local HTTP proxy (a
//! hyper server in this test) in absolute form, with Basic
//! `Proxy-Authorization` from the policy's username and password; so does a
//! `send-request` with a `proxy` inside it. The password never reaches the
//! log.

#![allow(clippy::unwrap_used, clippy::panic)]

mod serve_support;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use serve_support::{Sluice, free_port, get, serve_backend, temp_dir};

/// What the proxy received: the request target and `Proxy-Authorization`.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

async fn proxy_handle(seen: Seen, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let auth = req
        .headers()
        .get("proxy-authorization")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let target = req.uri().to_string();
    seen.lock().unwrap().push((target.clone(), auth));
    hyper::Response::builder()
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from(format!("via proxy: {target}"))))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_go_through_the_proxy_with_basic_credentials() {
    let seen: Seen = Arc::default();
    let proxy_port = serve_backend(Arc::clone(&seen), proxy_handle).await;
    let dir = temp_dir("proxy");
    let (port, admin) = (free_port(), free_port());
    std::fs::write(
        dir.join("sluice.toml"),
        format!(
            r#"
[gateway]
listen = "127.0.0.1:{port}"
[admin]
listen = "127.0.0.1:{admin}"
[named-values]
proxy-password = {{ value = "s3cret-pw", secret = true }}

[[api]]
name = "hidden"
path = "hidden"
service-url = "http://backend.invalid/api"
policy = '''<policies>
  <inbound><base /><proxy url="http://127.0.0.1:{proxy_port}" username="gw" password="{{{{proxy-password}}}}" /></inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>'''

[[api]]
name = "side"
path = "side"
service-url = "http://backend.invalid/api"
policy = '''<policies>
  <inbound><base />
    <send-request mode="new" response-variable-name="r" timeout="5">
      <set-url>http://lookup.invalid/who</set-url>
      <set-method>GET</set-method>
      <proxy url="http://127.0.0.1:{proxy_port}" />
    </send-request>
    <return-response><set-status code="200" /><set-body>@(((IResponse)context.Variables["r"]).Body.As<string>())</set-body></return-response>
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>'''
"#
        ),
    )
    .unwrap();
    let sluice = Sluice::start(&dir, port, admin).await;

    let r = get(&sluice.url("/hidden/items/1?x=2")).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.text(),
        "via proxy: http://backend.invalid/api/items/1?x=2"
    );
    let r = get(&sluice.url("/side/any")).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "via proxy: http://lookup.invalid/who");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            (
                "http://backend.invalid/api/items/1?x=2".to_owned(),
                // base64("gw:s3cret-pw")
                Some("Basic Z3c6czNjcmV0LXB3".to_owned())
            ),
            ("http://lookup.invalid/who".to_owned(), None),
        ]
    );
    assert!(!sluice.log_text().contains("s3cret-pw"));
}
