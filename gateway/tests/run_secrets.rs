//! Secrets stay secret in `sluice run`: a named value marked `secret = true`
//! that a policy quotes after substitution (an `ip-filter` address), or a
//! syntax error on the line that holds it, shows as `***` in the log of a
//! failed start, in the log of a failed reload, in `POST /reload`'s answer
//! and in `/status`; never as itself.

#![allow(clippy::unwrap_used, clippy::panic)]

mod serve_support;

use std::process::{Command, Stdio};

use serve_support::{Sluice, free_port, get, send, temp_dir};

const SECRET: &str = "SECRET-5be1";

/// A configuration whose API filters by the secret `allowed` (valid when
/// it is `127.0.0.1`); `line` is the secret's own line.
fn config(port: u16, admin: u16, value: &str) -> String {
    format!(
        r#"[gateway]
listen = "127.0.0.1:{port}"

[admin]
listen = "127.0.0.1:{admin}"

[named-values]
allowed = {{ value = "{value}", secret = true }}

[[api]]
name = "one"
path = "one"
policy = '''<policies>
  <inbound>
    <ip-filter action="allow"><address>{{{{allowed}}}}</address></ip-filter>
    <return-response><set-status code="200" reason="OK" /></return-response>
  </inbound>
  <backend />
  <outbound />
  <on-error />
</policies>'''
"#
    )
}

#[test]
fn a_failed_start_does_not_log_the_secret() {
    let dir = temp_dir("secret-start");
    std::fs::write(
        dir.join("sluice.toml"),
        config(free_port(), free_port(), SECRET),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("run")
        .arg(dir.join("sluice.toml"))
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("`***` is not an IP address"), "{log}");
    assert!(!log.contains("SECRET"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_reload_shows_no_secret_in_status_or_log() {
    let dir = temp_dir("secret-reload");
    let (port, admin) = (free_port(), free_port());
    let path = dir.join("sluice.toml");
    std::fs::write(&path, config(port, admin, "127.0.0.1")).unwrap();
    let gw = Sluice::start(&dir, port, admin).await;
    assert_eq!(get(&gw.url("/one/x")).await.unwrap().status, 200);

    let reload = async |text: String| {
        std::fs::write(&path, text).unwrap();
        let r = send("POST", &gw.admin_url("/reload"), &[], b"", false)
            .await
            .unwrap();
        assert_eq!(r.status, 422, "{}", r.text());
        assert!(!r.text().contains("SECRET"), "{}", r.text());
        let status = gw.status().await.to_string();
        assert!(!status.contains("SECRET"), "{status}");
        status
    };
    // The secret in an address that is not one.
    let status = reload(config(port, admin, SECRET)).await;
    assert!(status.contains("`***` is not an IP address"), "{status}");
    // A syntax error on the secret's line (its closing quote left out).
    let broken = config(port, admin, SECRET).replace(
        &format!("\"{SECRET}\", secret"),
        &format!("\"{SECRET}, secret"),
    );
    let status = reload(broken).await;
    assert!(status.contains("E0701"), "{status}");

    let log = gw.log_text();
    assert!(log.contains("`***` is not an IP address"), "{log}");
    assert!(log.contains("E0701"), "{log}");
    assert!(!log.contains("SECRET"), "{log}");
    // The first plan still serves.
    assert_eq!(get(&gw.url("/one/x")).await.unwrap().status, 200);
    drop(gw);
    let _ = std::fs::remove_dir_all(&dir);
}
