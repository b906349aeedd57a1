//! Hot reload under load, on the real binary: while two clients send
//! requests without pause, the policy file is rewritten 50 times, some
//! versions invalid (an unknown policy, broken XML, a broken expression).
//! Every version N sets the header `X-Version: N` and the body `version N`
//! from two different policies, so a response that mixed two plans would
//! show two numbers. Checked: no request fails, no response mixes two
//! versions, no invalid version is ever served, each invalid version is
//! reported in `/status` (with its diagnostics) and the metrics, and the
//! last valid version ends up serving. `POST /reload` and SIGHUP reload too.
//! The clients are bounded in count and time, and only use loopback.

#![allow(clippy::unwrap_used, clippy::panic)]

mod serve_support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serve_support::{Sluice, free_port, get, send, temp_dir};

/// The policy of version `n`: valid, or broken in one of three ways.
fn policy(n: u32, valid: bool) -> String {
    let broken = match (valid, n % 3) {
        (true, _) => "",
        (false, 0) => "<bogus-policy />",
        (false, 1) => "<set-header name=\"x\"",
        (false, _) => "<set-variable name=\"y\" value=\"@(1 +)\" />",
    };
    format!(
        r#"<policies>
  <inbound>
    <set-variable name="version" value="{n}" />
    {broken}
    <return-response>
      <set-status code="200" reason="OK" />
      <set-header name="X-Version" exists-action="override"><value>{n}</value></set-header>
      <set-body>@("version " + (string)context.Variables["version"])</set-body>
    </return-response>
  </inbound>
  <backend />
  <outbound />
  <on-error />
</policies>
"#
    )
}

fn config(port: u16, admin: u16) -> String {
    format!(
        "[gateway]\nlisten = \"127.0.0.1:{port}\"\n\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n\n\
         [[api]]\nname = \"versioned\"\npath = \"v\"\npolicy-file = \"v.xml\"\n"
    )
}

/// The version a response shows, checking that header and body agree.
async fn version(gw: &Sluice) -> Result<u32, String> {
    let r = send("GET", &gw.url("/v/x"), &[], b"", false).await?;
    if r.status != 200 {
        return Err(format!("status {}: {}", r.status, r.text()));
    }
    let header: u32 = r
        .header("x-version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no X-Version: {r:?}"))?;
    let body = r.text();
    if body != format!("version {header}") {
        return Err(format!("mixed plans: X-Version {header}, body `{body}`"));
    }
    Ok(header)
}

/// Polls `/status` until `done` holds (10 s at most).
async fn wait_status(
    gw: &Sluice,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = gw.status().await;
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "{what}: {s}\n{}", gw.log_text());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_rewrites_under_load_never_serve_an_invalid_or_mixed_plan() {
    let dir = temp_dir("reload");
    let (port, admin) = (free_port(), free_port());
    std::fs::write(dir.join("sluice.toml"), config(port, admin)).unwrap();
    std::fs::write(dir.join("v.xml"), policy(1, true)).unwrap();
    let gw = Arc::new(Sluice::start(&dir, port, admin).await);
    assert_eq!(version(&gw).await, Ok(1));

    // The load: two clients, each at most 20 000 requests, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::<Result<u32, String>>::new()));
    let mut clients = Vec::new();
    for _ in 0..2 {
        let (gw, stop, seen) = (Arc::clone(&gw), Arc::clone(&stop), Arc::clone(&seen));
        clients.push(tokio::spawn(async move {
            for _ in 0..20_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let v = version(&gw).await;
                seen.lock().unwrap().push(v);
            }
        }));
    }

    let mut valid = BTreeSet::from([1]);
    let mut invalid = BTreeSet::new();
    // Phase 1: ten rewrites, each waited for, so each outcome is observed.
    for n in 2..=11 {
        let ok = n % 3 != 0;
        let before = gw.status().await;
        let attempts = before["reloads"]["attempts"].as_u64().unwrap();
        let generation = before["generation"].as_u64().unwrap();
        std::fs::write(dir.join("v.xml"), policy(n, ok)).unwrap();
        if ok {
            valid.insert(n);
            wait_status(&gw, &format!("version {n} serves"), |s| {
                s["generation"].as_u64() > Some(generation) && s["last_reload"]["outcome"] == "ok"
            })
            .await;
            assert_eq!(version(&gw).await, Ok(n));
        } else {
            invalid.insert(n);
            let s = wait_status(&gw, &format!("version {n} is refused"), |s| {
                s["reloads"]["attempts"].as_u64() > Some(attempts)
                    && s["last_reload"]["outcome"] == "error"
            })
            .await;
            assert_eq!(
                s["generation"].as_u64(),
                Some(generation),
                "the old plan stays"
            );
            let diags = s["last_reload"]["diagnostics"].as_array().unwrap();
            assert!(!diags.is_empty());
            assert!(
                diags
                    .iter()
                    .all(|d| d["file"].as_str().unwrap().ends_with("v.xml")),
                "{s}"
            );
            assert!(
                diags
                    .iter()
                    .any(|d| d["severity"] == "error" && d["line"].as_u64() > Some(0))
            );
            let previous = *valid.iter().next_back().unwrap();
            assert_eq!(version(&gw).await, Ok(previous));
        }
    }
    // Phase 2: forty rewrites in a burst, 25 ms apart; the last is valid.
    for n in 12..=51 {
        let ok = n % 4 != 0 || n == 51;
        if ok {
            valid.insert(n);
        } else {
            invalid.insert(n);
        }
        std::fs::write(dir.join("v.xml"), policy(n, ok)).unwrap();
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    wait_status(&gw, "the last version serves", |_| true).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while version(&gw).await != Ok(51) {
        assert!(
            Instant::now() < deadline,
            "version 51 never served: {}",
            gw.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // POST /reload and SIGHUP build the same (valid) plan again.
    let g = gw.status().await["generation"].as_u64().unwrap();
    let r = send("POST", &gw.admin_url("/reload"), &[], b"", false)
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(gw.status().await["generation"].as_u64(), Some(g + 1));
    let pid = gw.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    wait_status(&gw, "SIGHUP reloads", |s| {
        s["generation"].as_u64() == Some(g + 2) && s["last_reload"]["trigger"] == "signal"
    })
    .await;
    // An invalid configuration through POST /reload: 422 and the diagnostics.
    std::fs::write(dir.join("v.xml"), policy(99, false)).unwrap();
    let r = send("POST", &gw.admin_url("/reload"), &[], b"", false)
        .await
        .unwrap();
    assert_eq!(r.status, 422);
    invalid.insert(99);

    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(seen.len() > 50, "the load ran: {} requests", seen.len());
    let mut served = BTreeSet::new();
    for r in seen.iter() {
        match r {
            Ok(v) => {
                served.insert(*v);
            }
            Err(e) => panic!("a request failed during reloads: {e}"),
        }
    }
    assert!(
        served.is_disjoint(&invalid),
        "invalid versions served: {served:?}"
    );
    assert!(served.is_subset(&valid));
    assert!(served.contains(&51));
    let metrics = get(&gw.admin_url("/metrics")).await.unwrap().text();
    let errors: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("sluice_reloads_total{outcome=\"error\"} "))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(errors >= 4, "{metrics}");
    drop(gw);
    let _ = std::fs::remove_dir_all(&dir);
}
