//! `authentication-certificate` on the real binary: the backend is a local
//! TLS server (the test CA's localhost certificate) that requires a client
//! certificate from the test CA and answers with its subject.
//!
//! Checked: the certificate of a `[certificates.ID]` PEM entry (chosen by
//! `certificate-id` or by `thumbprint`) and of a PKCS#12 entry (its
//! password from the environment) reaches the backend, and so does the one
//! of an `authentication-certificate` inside `send-request`; without the policy
//! the backend refuses the handshake and the client gets 502; the
//! backend's certificate is trusted through the `ca = true` entry; the
//! password never reaches the log; a `certificate-id` that names no entry
//! is refused at load.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serve_support::{Sluice, free_port, get, temp_dir};

const PFX_PASSWORD: &str = "test-pfx-password";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tls")
        .join(name)
}

/// A TLS backend that requires a client certificate from the test CA and
/// answers `subject=<its subject>`. Its port.
async fn mtls_backend() -> u16 {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(data("ca.pem")).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let certs = CertificateDer::pem_file_iter(data("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(data("server.key")).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client without a certificate fails here.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let subject = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .and_then(|c| sluice_stdlib::X509Certificate2::from_der(c))
                    .map(|c| c.subject().to_owned())
                    .unwrap_or_default();
                let svc = service_fn(move |_req| {
                    let body = format!("subject={subject}");
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

fn thumbprint(pem: &str) -> String {
    let der = CertificateDer::from_pem_file(data(pem)).unwrap();
    sluice_stdlib::X509Certificate2::from_der(&der)
        .unwrap()
        .thumbprint()
}

fn api(name: &str, backend: u16, policy: &str) -> String {
    format!(
        "[[api]]\nname = \"{name}\"\npath = \"{name}\"\nservice-url = \"https://127.0.0.1:{backend}\"\n\
         policy = '<policies><inbound><base />{policy}</inbound><backend><base /></backend>\
         <outbound><base /></outbound><on-error><base /></on-error></policies>'\n\n"
    )
}

async fn start(name: &str, backend: u16, certificates: &str, apis: &str) -> (Sluice, PathBuf) {
    let dir = temp_dir(name);
    // The certificate and its key in one PEM file; the PKCS#12 file.
    let bundle = [
        std::fs::read_to_string(data("client.pem")).unwrap(),
        std::fs::read_to_string(data("client.key")).unwrap(),
    ]
    .concat();
    std::fs::write(dir.join("client-bundle.pem"), bundle).unwrap();
    std::fs::copy(data("client.pfx"), dir.join("client.pfx")).unwrap();
    std::fs::copy(data("ca.pem"), dir.join("ca.pem")).unwrap();
    let (port, admin) = (free_port(), free_port());
    let _ = backend;
    std::fs::write(
        dir.join("sluice.toml"),
        format!(
            "[gateway]\nlisten = \"127.0.0.1:{port}\"\n\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n\n\
             {certificates}\n{apis}"
        ),
    )
    .unwrap();
    let gw =
        Sluice::start_with_env(&dir, port, admin, &[("CLIENT_PFX_PASSWORD", PFX_PASSWORD)]).await;
    (gw, dir)
}

const CERTIFICATES: &str = "[certificates.test-ca]\nfile = \"ca.pem\"\nca = true\n\n\
     [certificates.client]\nfile = \"client-bundle.pem\"\n\n\
     [certificates.client-pfx]\nfile = \"client.pfx\"\npassword = { env = \"CLIENT_PFX_PASSWORD\" }\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backend_gets_the_configured_client_certificate() {
    let backend = mtls_backend().await;
    let apis = [
        api(
            "by-id",
            backend,
            "<authentication-certificate certificate-id=\"client\" />",
        ),
        api(
            "by-thumbprint",
            backend,
            &format!(
                "<authentication-certificate thumbprint=\"{}\" />",
                thumbprint("client.pem").to_lowercase()
            ),
        ),
        api(
            "pfx",
            backend,
            "<authentication-certificate certificate-id=\"client-pfx\" />",
        ),
        api("none", backend, ""),
        // Inside send-request: that call presents it, the backend call does not.
        api(
            "side",
            backend,
            &format!(
                "<send-request response-variable-name=\"r\" timeout=\"10\">\
                 <set-url>https://localhost:{backend}/side</set-url>\
                 <authentication-certificate certificate-id=\"client\" /></send-request>\
                 <return-response><set-status code=\"200\" />\
                 <set-body>@(((IResponse)context.Variables[\"r\"]).Body.As&lt;string&gt;())</set-body>\
                 </return-response>"
            ),
        ),
    ]
    .concat();
    let (gw, _dir) = start("backend-mtls", backend, CERTIFICATES, &apis).await;
    for path in ["/by-id/x", "/by-thumbprint/x", "/pfx/x"] {
        let r = get(&gw.url(path)).await.unwrap();
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert_eq!(
            r.text(),
            "subject=O=Sluice Tests, CN=sluice-test-client",
            "{path}"
        );
    }
    let r = get(&gw.url("/side/x")).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "subject=O=Sluice Tests, CN=sluice-test-client");
    // No certificate: the backend refuses the handshake.
    let r = get(&gw.url("/none/x")).await.unwrap();
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(!gw.log_text().contains(PFX_PASSWORD));
    assert!(!gw.status().await.to_string().contains(PFX_PASSWORD));
}

#[test]
fn a_certificate_id_that_names_no_entry_or_one_without_a_key_is_refused_at_load() {
    let dir = temp_dir("backend-mtls-check");
    std::fs::copy(data("ca.pem"), dir.join("ca.pem")).unwrap();
    let config = [
        "[certificates.test-ca]\nfile = \"ca.pem\"\nca = true\n\n".to_owned(),
        api(
            "missing",
            1,
            "<authentication-certificate certificate-id=\"nope\" />",
        ),
        api(
            "keyless",
            1,
            "<authentication-certificate certificate-id=\"test-ca\" />",
        ),
    ]
    .concat();
    std::fs::write(dir.join("sluice.toml"), config).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("check")
        .arg(dir.join("sluice.toml"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("no `[certificates.ID]` entry has this certificate"),
        "{text}"
    );
    assert!(
        text.contains("`[certificates.test-ca]` has no private key"),
        "{text}"
    );
}
