//! The admin token (`[admin] token`), on the real binary.
//!
//! Checked: with a token (from the environment), every admin route but
//! `/healthz` answers 401 (with `WWW-Authenticate: Bearer`) without an
//! `Authorization` header, with another token, or with another scheme, and
//! answers as usual with the right bearer token (an unknown path included:
//! its 404 lists the routes, so it is behind the token too); `/healthz`
//! answers without one. The token appears neither in `/status` nor in the
//! log. A token from a file changes on reload. A non-loopback `[admin]
//! listen` without a token does not load: the error names `[admin] token`
//! at the file, line and column of the address.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

use std::process::Command;
use std::time::{Duration, Instant};

use serve_support::{Sluice, free_port, get, send, temp_dir};

const TOKEN: &str = "adm-7f3c9e1b-token";

fn config(port: u16, admin: u16, token: &str) -> String {
    format!(
        "[gateway]\nlisten = \"127.0.0.1:{port}\"\n\n\
         [admin]\nlisten = \"127.0.0.1:{admin}\"\ntoken = {token}\n\n\
         [[api]]\nname = \"hello\"\npath = \"hello\"\n\
         policy = '<policies><inbound><return-response><set-status code=\"200\" /></return-response></inbound></policies>'\n"
    )
}

/// `sluice run` with `SLUICE_TEST_ADMIN_TOKEN` set, once `/healthz` answers.
async fn start_with_env_token(dir: &std::path::Path, port: u16, admin: u16) -> Sluice {
    Sluice::start_with_env(dir, port, admin, &[("SLUICE_TEST_ADMIN_TOKEN", TOKEN)]).await
}

async fn admin(gw: &Sluice, method: &str, path: &str, auth: Option<&str>) -> serve_support::Reply {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
    send(method, &gw.admin_url(path), &headers, b"", false)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_admin_route_but_healthz_needs_the_bearer_token() {
    let dir = temp_dir("admin-auth");
    let (port, admin_port) = (free_port(), free_port());
    std::fs::write(
        dir.join("sluice.toml"),
        config(port, admin_port, "{ env = \"SLUICE_TEST_ADMIN_TOKEN\" }"),
    )
    .unwrap();
    let gw = start_with_env_token(&dir, port, admin_port).await;
    let healthz = admin(&gw, "GET", "/healthz", None).await;
    assert_eq!((healthz.status, healthz.text().as_str()), (200, "ok\n"));

    let right = format!("Bearer {TOKEN}");
    let lower = format!("bearer {TOKEN}");
    let wrong = format!("Bearer {TOKEN}x");
    let no_scheme = TOKEN.to_owned();
    let basic = "Basic YWRtaW46YWRtaW4=".to_owned();
    let routes = [
        ("GET", "/status", 200),
        ("HEAD", "/status", 200),
        ("POST", "/reload", 200),
        ("GET", "/metrics", 200),
        ("GET", "/cache", 200),
        ("POST", "/cache/purge", 200),
        ("GET", "/caches", 200),
        ("POST", "/caches/purge", 200),
        ("GET", "/no-such-route", 404),
    ];
    for (method, path, ok) in routes {
        for refused in [
            None,
            Some(wrong.as_str()),
            Some(no_scheme.as_str()),
            Some(basic.as_str()),
            Some("Bearer "),
        ] {
            let r = admin(&gw, method, path, refused).await;
            assert_eq!(
                r.status,
                401,
                "{method} {path} with {refused:?}: {}",
                r.text()
            );
            assert_eq!(
                r.header("www-authenticate"),
                Some("Bearer"),
                "{method} {path}"
            );
            assert!(
                !r.text().contains("/metrics"),
                "a 401 lists no routes: {}",
                r.text()
            );
        }
        for accepted in [&right, &lower] {
            let r = admin(&gw, method, path, Some(accepted)).await;
            assert_eq!(r.status, ok, "{method} {path}: {}", r.text());
        }
    }
    // The gateway itself asks for nothing.
    assert_eq!(get(&gw.url("/hello")).await.unwrap().status, 200);

    let status = admin(&gw, "GET", "/status", Some(&right)).await.text();
    assert!(!status.contains(TOKEN), "{status}");
    assert!(status.contains("\"draining\": false"), "{status}");
    assert!(!gw.log_text().contains(TOKEN), "{}", gw.log_text());
}

#[tokio::test]
async fn a_token_from_a_file_changes_on_reload() {
    let dir = temp_dir("admin-auth-file");
    let (port, admin_port) = (free_port(), free_port());
    std::fs::write(dir.join("admin-token"), "first-token\n").unwrap();
    std::fs::write(
        dir.join("sluice.toml"),
        config(port, admin_port, "{ file = \"admin-token\" }"),
    )
    .unwrap();
    let gw = Sluice::start(&dir, port, admin_port).await;
    let status = |auth: &'static str| {
        let gw = &gw;
        async move { admin(gw, "GET", "/status", Some(auth)).await.status }
    };
    assert_eq!(status("Bearer first-token").await, 200);
    std::fs::write(dir.join("admin-token"), "second-token\n").unwrap();
    // The file is watched; a reload asked for with the old token is
    // accepted if the watcher has not reloaded first.
    let deadline = Instant::now() + Duration::from_secs(10);
    while status("Bearer second-token").await != 200 {
        let _ = admin(&gw, "POST", "/reload", Some("Bearer first-token")).await;
        assert!(
            Instant::now() < deadline,
            "the new token never served: {}",
            gw.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status("Bearer first-token").await, 401);
    let log = gw.log_text();
    assert!(
        !log.contains("first-token") && !log.contains("second-token"),
        "{log}"
    );
}

#[test]
fn an_admin_listen_not_loopback_without_a_token_does_not_load() {
    let dir = temp_dir("admin-auth-public");
    let (port, admin_port) = (free_port(), free_port());
    std::fs::write(
        dir.join("sluice.toml"),
        format!("[gateway]\nlisten = \"127.0.0.1:{port}\"\n\n[admin]\nlisten = \"0.0.0.0:{admin_port}\"\n"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("run")
        .arg(dir.join("sluice.toml"))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("E0702"), "{log}");
    assert!(log.contains("sluice.toml:5:10"), "{log}");
    assert!(
        log.contains("`[admin] listen` is `0.0.0.0:") && log.contains("set `[admin] token`"),
        "{log}"
    );
    // Nothing was bound.
    assert!(std::net::TcpStream::connect(("127.0.0.1", admin_port)).is_err());
}
