//! The Kafka sink against a real Kafka-compatible broker (Tansu, installed
//! from PyPI by `scripts/kafka install`; no JVM): `log-to-eventhub` events
//! become records of the topic (the message as the value, `partition-id`
//! choosing the partition), read back with the broker's own consumer
//! (which shows values that are JSON, so the messages are JSON); a
//! broker that goes away drops events without failing requests and is
//! logged once. Needs the `kafka` feature (the suite runs with
//! `--all-features`).

#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::panic)]

mod serve_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serve_support::{Sluice, free_port, get, send, temp_dir};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The broker binary, installed once.
fn broker_bin() -> PathBuf {
    let script = repo_root().join("scripts/kafka");
    let out = Command::new(&script).arg("install").output().unwrap();
    assert!(
        out.status.success(),
        "scripts/kafka install failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&script).arg("path").output().unwrap();
    assert!(out.status.success());
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// A broker on a free loopback port, killed when dropped.
struct Broker {
    child: Child,
    bin: PathBuf,
    port: u16,
}

impl Broker {
    fn start(bin: &Path) -> Broker {
        let port = free_port();
        let child = Command::new(repo_root().join("scripts/kafka"))
            .args(["start", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let b = Broker {
            child,
            bin: bin.to_path_buf(),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the broker did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        b
    }

    fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    fn create_topic(&self, name: &str, partitions: u32) {
        let out = Command::new(&self.bin)
            .args(["topic", "create", "--broker", &self.url()])
            .args(["--partitions", &partitions.to_string(), name])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "topic create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// What the broker's consumer prints for one partition, once it holds `want`.
    fn consume_until(&self, topic: &str, partition: u32, want: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = Command::new(&self.bin)
                .args(["cat", "consume", "--broker", &self.url()])
                .args(["--partition", &partition.to_string()])
                .args(["--max-wait-time-ms", "500", topic])
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if want.iter().all(|w| text.contains(w)) {
                return text;
            }
            assert!(Instant::now() < deadline, "partition {partition}: {text}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const POLICY: &str = r#"<policies>
  <inbound>
    <log-to-eventhub logger-id="hub" partition-id="1">@("{\"m\":\"first:" + context.Request.Headers.GetValueOrDefault("x-n", "") + "\"}")</log-to-eventhub>
    <log-to-eventhub logger-id="hub" partition-id="0">@("{\"m\":\"second:" + context.Request.Headers.GetValueOrDefault("x-n", "") + "\"}")</log-to-eventhub>
    <return-response><set-status code="202" reason="Accepted" /></return-response>
  </inbound>
  <backend />
  <outbound />
  <on-error />
</policies>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_to_eventhub_produces_records_to_a_real_broker() {
    let bin = broker_bin();
    let broker = Broker::start(&bin);
    broker.create_topic("apim-events", 2);
    let dir = temp_dir("kafka");
    let (port, admin) = (free_port(), free_port());
    std::fs::write(
        dir.join("sluice.toml"),
        format!(
            "[gateway]\nlisten = \"127.0.0.1:{port}\"\n\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n\n\
             [loggers.hub]\nkind = \"kafka\"\nbrokers = [\"127.0.0.1:{}\"]\ntopic = \"apim-events\"\n\
             timeout = \"3s\"\n\n\
             [[api]]\nname = \"orders\"\npath = \"orders\"\npolicy = '''{POLICY}'''\n",
            broker.port
        ),
    )
    .unwrap();
    let gw = Sluice::start(&dir, port, admin).await;
    for n in ["a", "b"] {
        let r = send("GET", &gw.url("/orders/x"), &[("x-n", n)], b"", false)
            .await
            .unwrap();
        assert_eq!(r.status, 202, "{}", r.text());
    }
    let p1 = broker.consume_until("apim-events", 1, &["first:a", "first:b"]);
    assert!(
        !p1.contains("second:"),
        "partition-id 1 holds the first: {p1}"
    );
    let p0 = broker.consume_until("apim-events", 0, &["second:a", "second:b"]);
    assert!(
        !p0.contains("first:"),
        "partition-id 0 holds the second: {p0}"
    );
    let metrics = get(&gw.admin_url("/metrics")).await.unwrap().text();
    assert!(
        metrics.contains(r#"sluice_logger_events_total{logger="hub",outcome="sent"} 4"#),
        "{metrics}"
    );

    // The broker goes away: requests are still answered at once, events are
    // dropped and counted, and the outage is one log line.
    drop(broker);
    for n in 0..4 {
        let start = Instant::now();
        let r = send(
            "GET",
            &gw.url("/orders/x"),
            &[("x-n", &n.to_string())],
            b"",
            false,
        )
        .await
        .unwrap();
        assert_eq!(r.status, 202);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "never waits for the sink"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = get(&gw.admin_url("/metrics")).await.unwrap().text();
        if metrics
            .contains(r#"sluice_logger_events_total{logger="hub",outcome="dropped-sink-failed"} 8"#)
        {
            break;
        }
        assert!(Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = gw.log_text();
    assert_eq!(log.matches("logger sink failed").count(), 1, "{log}");
}
