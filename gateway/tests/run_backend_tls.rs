//! A backend entity's `tls` switches and `proxy` on the real binary.
//!
//! TLS: a local HTTPS backend with a self-signed certificate (for
//! `self.test`, not this host) is refused by default (502), still refused with
//! only `validate-certificate-chain = false` (its name is checked), and
//! answers with both switches off; a backend whose certificate names
//! 127.0.0.1 but chains to no trusted root answers with the chain check
//! alone off.
//!
//! Proxy: calls to an `https://` backend go through a `CONNECT` tunnel of a
//! local proxy (a small one in this test) with the entity's credentials on
//! the `CONNECT`; calls to an `http://` backend are asked of the proxy in
//! absolute form with `Proxy-Authorization`. The password never reaches
//! the log or `/status`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serve_support::{Sluice, free_port, get, temp_dir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PROXY_PASSWORD: &str = "pr0xy-s3cret";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tls")
        .join(name)
}

/// An HTTPS backend showing the certificate `name`.pem, answering
/// `<name>: <path>`. Its port.
async fn tls_backend(name: &'static str) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = CertificateDer::pem_file_iter(data(&format!("{name}.pem")))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(data(&format!("{name}.key"))).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate fails here.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let body = format!("{name}: {}", req.uri().path());
                    async move {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            Bytes::from(body),
                        )))
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    port
}

/// What the proxy was asked: the request line and `Proxy-Authorization`.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A small HTTP proxy: `CONNECT host:port` opens a tunnel to it; any other
/// request (absolute form) it answers itself with `via proxy: <target>`.
async fn proxy(seen: Seen) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                    if client.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let line = head.lines().next().unwrap_or_default().to_owned();
                let auth = head.lines().find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.eq_ignore_ascii_case("proxy-authorization")
                        .then(|| v.trim().to_owned())
                });
                seen.lock().unwrap().push((line.clone(), auth));
                let mut parts = line.split(' ');
                let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                if method == "CONNECT" {
                    let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else {
                        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                        return;
                    };
                    let _ = client
                        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                        .await;
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                } else {
                    let body = format!("via proxy: {target}");
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = client.write_all(reply.as_bytes()).await;
                }
            });
        }
    });
    port
}

fn api(name: &str, backend_id: &str) -> String {
    format!(
        "[[api]]\nname = \"{name}\"\npath = \"{name}\"\nservice-url = \"http://unused.invalid\"\n\
         policy = '<policies><inbound><base /><set-backend-service backend-id=\"{backend_id}\" /></inbound>\
         <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>'\n\n"
    )
}

async fn start(name: &str, config: &str) -> Sluice {
    let dir = temp_dir(name);
    let (port, admin) = (free_port(), free_port());
    std::fs::write(
        dir.join("sluice.toml"),
        format!(
            "[gateway]\nlisten = \"127.0.0.1:{port}\"\n\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n\n{config}"
        ),
    )
    .unwrap();
    Sluice::start_with_env(
        &dir,
        port,
        admin,
        &[("BACKEND_PROXY_PASSWORD", PROXY_PASSWORD)],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tls_switches_turn_off_the_chain_and_name_checks() {
    let selfsigned = tls_backend("selfsigned").await;
    let localhost = tls_backend("server").await;
    let config = format!(
        "[backends.strict]\nurl = \"https://127.0.0.1:{selfsigned}\"\n\n\
         [backends.no-chain]\nurl = \"https://127.0.0.1:{selfsigned}\"\n\
         tls = {{ validate-certificate-chain = false }}\n\n\
         [backends.nothing]\nurl = \"https://127.0.0.1:{selfsigned}\"\n\
         tls = {{ validate-certificate-chain = false, validate-certificate-name = false }}\n\n\
         [backends.named]\nurl = \"https://127.0.0.1:{localhost}\"\n\
         tls = {{ validate-certificate-chain = false }}\n\n{}{}{}{}",
        api("strict", "strict"),
        api("no-chain", "no-chain"),
        api("nothing", "nothing"),
        api("named", "named"),
    );
    let gw = start("backend-tls", &config).await;
    // Self-signed: refused by default, and while its name is checked.
    for (path, why) in [
        ("/strict/x", "UnknownIssuer"),
        ("/no-chain/x", "not valid for name"),
    ] {
        let r = get(&gw.url(path)).await.unwrap();
        assert_eq!(r.status, 502, "{path}: {}", r.text());
        assert!(r.text().contains(why), "{path}: {}", r.text());
    }
    let r = get(&gw.url("/nothing/x")).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "selfsigned: /x");
    // An unknown issuer, but the right name: the chain switch alone will do.
    let r = get(&gw.url("/named/y")).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "server: /y");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_go_through_the_entity_proxy_with_its_credentials() {
    let seen: Seen = Arc::default();
    let proxy_port = proxy(Arc::clone(&seen)).await;
    let backend = tls_backend("server").await;
    let proxy = format!(
        "proxy = {{ url = \"http://127.0.0.1:{proxy_port}\", username = \"gw\", password = {{ env = \"BACKEND_PROXY_PASSWORD\" }} }}"
    );
    let config = format!(
        "[backends.tunneled]\nurl = \"https://127.0.0.1:{backend}/api\"\n\
         tls = {{ validate-certificate-chain = false }}\n{proxy}\n\n\
         [backends.plain]\nurl = \"http://backend.invalid/api\"\n{proxy}\n\n{}{}",
        api("tunneled", "tunneled"),
        api("plain", "plain"),
    );
    let gw = start("backend-proxy", &config).await;
    let r = get(&gw.url("/tunneled/items/1")).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "server: /api/items/1");
    let r = get(&gw.url("/plain/items/2?q=1")).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.text(),
        "via proxy: http://backend.invalid/api/items/2?q=1"
    );
    // base64("gw:pr0xy-s3cret")
    let basic = Some("Basic Z3c6cHIweHktczNjcmV0".to_owned());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            (
                format!("CONNECT 127.0.0.1:{backend} HTTP/1.1"),
                basic.clone()
            ),
            (
                "GET http://backend.invalid/api/items/2?q=1 HTTP/1.1".to_owned(),
                basic
            ),
        ]
    );
    assert!(!gw.log_text().contains(PROXY_PASSWORD));
    assert!(!gw.status().await.to_string().contains(PROXY_PASSWORD));
}
