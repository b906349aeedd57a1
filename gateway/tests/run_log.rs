//! `[log]` on the real binary: `format = "json"` writes one JSON object per
//! line on standard error (level, message, the request's span with its API,
//! operation and status), `level` filters (here `sluice=debug`: the stage
//! events), a reload that changes `[log]` is served with a warning, and bad
//! values are configuration errors with file, line and column.

#![allow(clippy::unwrap_used, clippy::panic)]

mod serve_support;

use std::path::Path;
use std::process::Command;

use serve_support::{Sluice, free_port, get, send, temp_dir};

const POLICY: &str = r#"<policies>
  <inbound>
    <set-variable name="x" value="1" />
    <return-response>
      <set-status code="201" reason="Created" />
      <set-body>hello</set-body>
    </return-response>
  </inbound>
  <backend />
  <outbound />
  <on-error />
</policies>"#;

fn config(port: u16, admin: u16, log: &str) -> String {
    format!(
        "[gateway]\nlisten = \"127.0.0.1:{port}\"\n\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n\n\
         {log}\n\n[[api]]\nname = \"greet\"\npath = \"greet\"\n\n\
         [[api.operation]]\nname = \"say\"\nmethod = \"GET\"\nurl-template = \"/hello\"\n\
         policy = '''{POLICY}'''\n\n\
         [[api]]\nname = \"down\"\npath = \"down\"\nservice-url = \"http://127.0.0.1:1\"\n\n\
         [[subscription]]\nid = \"all\"\nkey = \"s3cret\"\n"
    )
}

fn lines(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("sluice.log")).unwrap();
    assert!(!text.trim().is_empty(), "no log");
    text.lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            assert!(v.is_object(), "not an object: {l}");
            assert!(v["level"].is_string(), "no level: {l}");
            assert!(v["message"].is_string(), "no message: {l}");
            v
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn json_logs_are_one_object_per_line_with_the_request_span() {
    let dir = temp_dir("log-json");
    let (port, admin) = (free_port(), free_port());
    let log = "[log]\nformat = \"json\"\nlevel = \"sluice=debug\"";
    std::fs::write(dir.join("sluice.toml"), config(port, admin, log)).unwrap();
    let gw = Sluice::start(&dir, port, admin).await;
    let r = get(&gw.url("/greet/hello?subscription-key=s3cret"))
        .await
        .unwrap();
    assert_eq!((r.status, r.text().as_str()), (201, "hello"));
    // A backend nobody listens on: forward-request fails, with its cause.
    let r = get(&gw.url("/down/x")).await.unwrap();
    assert_eq!(r.status, 502, "{}", r.text());
    // A reload that changes `[log]`: served, with a warning that it waits for a restart.
    std::fs::write(dir.join("sluice.toml"), config(port, admin, "")).unwrap();
    let reload = send("POST", &gw.admin_url("/reload"), &[], b"", false)
        .await
        .unwrap();
    assert_eq!(reload.status, 200, "{}", reload.text());
    let r = get(&gw.url("/greet/hello")).await.unwrap();
    assert_eq!(r.status, 201);
    drop(gw);

    let lines = lines(&dir);
    let with = |message: &str| {
        lines
            .iter()
            .filter(|l| l["message"].as_str().unwrap().contains(message))
            .collect::<Vec<_>>()
    };
    let serving = with("serving ");
    assert_eq!(serving.len(), 1, "{lines:#?}");
    assert_eq!(serving[0]["level"], "INFO");
    assert!(
        serving[0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("on http://127.0.0.1:{port}")),
        "{:?}",
        serving[0]
    );
    assert_eq!(serving[0]["listen"], format!("127.0.0.1:{port}"));

    // A debug event per stage, inside the request's span.
    let stages = with("stage ran");
    let policies: Vec<&str> = stages
        .iter()
        .map(|l| l["policy"].as_str().unwrap())
        .collect();
    assert!(
        policies.contains(&"set-variable") && policies.contains(&"return-response"),
        "{stages:#?}"
    );
    let set_variable = stages
        .iter()
        .find(|l| l["policy"] == "set-variable")
        .unwrap();
    assert_eq!(set_variable["level"], "DEBUG");
    assert_eq!(set_variable["outcome"], "next");
    assert_eq!(set_variable["section"], "inbound");
    assert_eq!(set_variable["span"]["name"], "request");
    assert_eq!(set_variable["span"]["api"], "greet");
    assert_eq!(set_variable["span"]["operation"], "say");
    let ended = stages
        .iter()
        .find(|l| l["policy"] == "return-response")
        .unwrap();
    assert_eq!(ended["outcome"], "end");
    assert_eq!(ended["path"], "return-response[2]");

    // A failed stage: its reason and the underlying error, never the
    // policy's message (which may quote the request).
    let failed = stages
        .iter()
        .find(|l| l["policy"] == "forward-request")
        .unwrap();
    assert_eq!(failed["outcome"], "error");
    assert_eq!(failed["reason"], "BackendConnectionFailure");
    assert_eq!(failed["section"], "backend");
    assert_eq!(failed["span"]["api"], "down");
    let cause = failed["cause"].as_str().unwrap();
    assert!(
        !cause.is_empty() && !cause.contains("Error occured"),
        "{cause}"
    );
    assert!(failed.get("error").is_none(), "{failed}");

    // The request's end, with its status; the path without the query.
    let answered = with("request answered");
    assert!(!answered.is_empty(), "{lines:#?}");
    assert_eq!(answered[0]["span"]["status"], 201);
    assert_eq!(answered[0]["span"]["path"], "/greet/hello");
    let text = std::fs::read_to_string(dir.join("sluice.log")).unwrap();
    assert!(!text.contains("s3cret"), "the query is not logged: {text}");

    // The reload: served, the log unchanged (still JSON, still debug).
    // (The file watcher may reload the same change again, and warn again.)
    let warned = with("`[log]` changed");
    assert!(!warned.is_empty(), "{lines:#?}");
    assert!(warned.iter().all(|w| w["level"] == "WARN"), "{warned:#?}");
    let ok = with("reload (admin) ok: generation 2 serving");
    assert_eq!(ok.len(), 1, "{lines:#?}");
    assert_eq!(with("request answered").len(), 3, "{lines:#?}");
    assert!(with("stage ran").len() >= 4, "still debug: {lines:#?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_log_values_are_configuration_errors() {
    for (log, says, at) in [
        (
            "[log]\nlevel = \"sluice=loud\"",
            "`sluice=loud` is not a log filter",
            "sluice.toml:8:9",
        ),
        (
            "[log]\nformat = \"xml\"",
            "unknown variant `xml`, expected `text` or `json`",
            "sluice.toml:8:10",
        ),
        ("[log]\nsize = 3", "unknown field `size`", "sluice.toml:8:1"),
    ] {
        let dir = temp_dir("log-bad");
        std::fs::write(dir.join("sluice.toml"), config(1, 2, log)).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("run")
            .arg(dir.join("sluice.toml"))
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{log}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{log}: {err}");
        assert!(err.contains(at), "{log}: file, line and column: {err}");
        assert!(err.contains("does not load: 1 errors"), "{log}: {err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
