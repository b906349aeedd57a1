//! TLS on the gateway's listener, on the real binary, with the test
//! certificates in `tests/data/tls/` (a test CA, two server certificates for
//! localhost, a client certificate from the CA and a self-signed stranger;
//! `make.sh` made them).
//!
//! Checked: HTTP/1.1 and HTTP/2 over TLS, chosen by ALPN, with `https` as
//! the request's scheme; `context.Request.Certificate` null without a client
//! certificate and the client's with one (`request`); `require` with
//! `tls-client-ca` refuses a client without a certificate or with one the
//! CA did not issue; a reload picks up a new certificate for new
//! connections, and a reload with a certificate that does not match its key
//! is refused, the old one kept, and no key text reaches the log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serve_support::{Sluice, free_port, send, temp_dir};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tls")
        .join(name)
}

/// Copies the test certificates into `dir`.
fn copy_certs(dir: &Path) {
    for f in [
        "ca.pem",
        "server.pem",
        "server.key",
        "server2.pem",
        "server2.key",
    ] {
        std::fs::copy(data(f), dir.join(f)).unwrap();
    }
}

/// `/who` answers the scheme, then the client certificate's subject and
/// thumbprint, or `none`.
fn config(port: u16, admin: u16, tls: &str) -> String {
    format!(
        "[gateway]\nlisten = \"127.0.0.1:{port}\"\n{tls}\n\n\
         [admin]\nlisten = \"127.0.0.1:{admin}\"\n\n\
         [[api]]\nname = \"who\"\npath = \"who\"\n\
         policy = '<policies><inbound><return-response><set-status code=\"200\" />\
         <set-body>@(context.Request.OriginalUrl.Scheme + \"|\" + (context.Request.Certificate == null ? \
         \"none\" : context.Request.Certificate.Subject + \"|\" + context.Request.Certificate.Thumbprint))\
         </set-body></return-response></inbound></policies>'\n"
    )
}

async fn start(name: &str, tls: &str) -> (Sluice, PathBuf) {
    let dir = temp_dir(name);
    copy_certs(&dir);
    let (port, admin) = (free_port(), free_port());
    std::fs::write(dir.join("sluice.toml"), config(port, admin, tls)).unwrap();
    (Sluice::start(&dir, port, admin).await, dir)
}

/// What one request over TLS saw: the protocol ALPN chose, the server
/// certificate's DER, the status and the body.
struct Seen {
    alpn: Option<Vec<u8>>,
    server_cert: Vec<u8>,
    status: u16,
    body: String,
}

/// `GET /who` over TLS, trusting the test CA, offering `alpn`, with the
/// client certificate `client` (`name.pem` and `name.key`) if given.
async fn get_tls(port: u16, alpn: &[&[u8]], client: Option<&str>) -> Result<Seen, String> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(data("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match client {
        Some(name) => {
            let certs = CertificateDer::pem_file_iter(data(&format!("{name}.pem")))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let key = PrivateKeyDer::from_pem_file(data(&format!("{name}.key"))).unwrap();
            builder.with_client_auth_cert(certs, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let work = async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| e.to_string())?;
        let tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        let (_, session) = tls.get_ref();
        let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
        let server_cert = session.peer_certificates().unwrap()[0].to_vec();
        let req = hyper::Request::builder()
            .uri("/who")
            .header("Host", "localhost")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let resp = if alpn.as_deref() == Some(b"h2") {
            let (mut send, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                    .await
                    .map_err(|e| format!("h2: {e}"))?;
            tokio::spawn(conn);
            send.send_request(req).await
        } else {
            let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                .await
                .map_err(|e| format!("http1: {e}"))?;
            tokio::spawn(conn);
            send.send_request(req).await
        }
        .map_err(|e| format!("request: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok(Seen {
            alpn,
            server_cert,
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    };
    tokio::time::timeout(Duration::from_secs(10), work)
        .await
        .map_err(|_| "timed out".to_owned())?
}

fn thumbprint(pem: &str) -> String {
    let der = CertificateDer::from_pem_file(data(pem)).unwrap();
    sluice_stdlib::X509Certificate2::from_der(&der)
        .unwrap()
        .thumbprint()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_and_http2_over_tls_by_alpn_with_and_without_a_client_certificate() {
    let (gw, _dir) = start(
        "tls-basic",
        "tls-cert = \"server.pem\"\ntls-key = \"server.key\"\ntls-client-certificate = \"request\"",
    )
    .await;
    for (alpn, expect) in [
        (&[b"h2".as_slice(), b"http/1.1"][..], b"h2".as_slice()),
        (&[b"http/1.1".as_slice()][..], b"http/1.1".as_slice()),
    ] {
        let seen = get_tls(gw.port, alpn, None).await.unwrap();
        assert_eq!(seen.alpn.as_deref(), Some(expect));
        assert_eq!(seen.status, 200);
        assert_eq!(seen.body, "https|none");
        let seen = get_tls(gw.port, alpn, Some("client")).await.unwrap();
        assert_eq!(seen.alpn.as_deref(), Some(expect));
        assert_eq!(
            seen.body,
            format!(
                "https|O=Sluice Tests, CN=sluice-test-client|{}",
                thumbprint("client.pem")
            )
        );
    }
    // Without ALPN: HTTP/1.1 (the protocol is told from the first bytes).
    let seen = get_tls(gw.port, &[], None).await.unwrap();
    assert_eq!((seen.alpn, seen.status), (None, 200));
    // Plain HTTP on the TLS port gets no answer.
    assert!(send("GET", &gw.url("/who"), &[], b"", false).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_with_a_ca_refuses_a_client_without_a_certificate_or_with_a_stranger() {
    let (gw, dir) = start(
        "tls-require",
        "tls-cert = \"server.pem\"\ntls-key = \"server.key\"\n\
         tls-client-certificate = \"require\"\ntls-client-ca = \"ca.pem\"",
    )
    .await;
    std::fs::copy(data("stranger.pem"), dir.join("stranger.pem")).unwrap();
    let seen = get_tls(gw.port, &[b"h2"], Some("client")).await.unwrap();
    assert!(
        seen.body
            .starts_with("https|O=Sluice Tests, CN=sluice-test-client")
    );
    // (TLS 1.3: the client's handshake ends before the server judges its
    // certificate; the refusal comes with the first read.)
    for client in [None, Some("stranger")] {
        for alpn in [&[b"h2".as_slice()][..], &[b"http/1.1".as_slice()][..]] {
            let r = get_tls(gw.port, alpn, client).await;
            assert!(r.is_err(), "{client:?} was served");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_picks_up_a_new_certificate_and_refuses_a_bad_one() {
    let tls = "tls-cert = \"server.pem\"\ntls-key = \"server.key\"";
    let (gw, dir) = start("tls-reload", tls).await;
    let first = std::fs::read(data("server.pem")).unwrap();
    let der = |pem: &[u8]| CertificateDer::from_pem_slice(pem).unwrap().to_vec();
    let seen = get_tls(gw.port, &[b"h2"], None).await.unwrap();
    assert_eq!(seen.server_cert, der(&first));

    let reload = |gw: &Sluice| {
        let url = gw.admin_url("/reload");
        async move { send("POST", &url, &[], b"", false).await.unwrap() }
    };
    // The second certificate: new connections get it.
    std::fs::write(
        dir.join("sluice.toml"),
        config(
            gw.port,
            gw.admin,
            "tls-cert = \"server2.pem\"\ntls-key = \"server2.key\"",
        ),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let second = std::fs::read(data("server2.pem")).unwrap();
    loop {
        let _ = reload(&gw).await;
        let seen = get_tls(gw.port, &[b"h2"], None).await.unwrap();
        if seen.server_cert == der(&second) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate never served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A certificate with another's key: refused, the second kept.
    let generation = gw.status().await["generation"].as_u64().unwrap();
    std::fs::write(
        dir.join("sluice.toml"),
        config(
            gw.port,
            gw.admin,
            "tls-cert = \"server.pem\"\ntls-key = \"server2.key\"",
        ),
    )
    .unwrap();
    let r = reload(&gw).await;
    assert_ne!(r.status, 200);
    let status = gw.status().await;
    assert_eq!(status["generation"].as_u64(), Some(generation));
    let diags = status["last_reload"]["diagnostics"].to_string();
    assert!(
        diags
            .contains("`[gateway] tls-cert`: the private key (`tls-key`) is not the certificate's"),
        "{diags}"
    );
    let seen = get_tls(gw.port, &[b"h2"], None).await.unwrap();
    assert_eq!(seen.server_cert, der(&second));
    // No key's text in the log or the status.
    let key = std::fs::read_to_string(data("server2.key")).unwrap();
    let line = key.lines().nth(1).unwrap();
    assert!(!gw.log_text().contains(line));
    assert!(!status.to_string().contains(line));
}
