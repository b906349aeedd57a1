use std::time::{Duration, Instant};

use super::*;

fn event(n: usize) -> Event {
    Event {
        line: format!(r#"{{"n":{n}}}"#),
        value: n.to_string(),
        key: None,
        partition: None,
    }
}

fn metrics() -> (LoggerMetrics, Registry) {
    let r = Registry::new();
    (LoggerMetrics::new(Some(&r)).unwrap(), r)
}

fn exposition(r: &Registry) -> String {
    use prometheus::Encoder;
    let mut out = Vec::new();
    prometheus::TextEncoder::new()
        .encode(&r.gather(), &mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

fn wait_for(mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sluice-sinks-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_file_sink_appends_one_json_line_an_event() {
    let dir = temp_dir("append");
    let path = dir.join("events.jsonl");
    std::fs::write(&path, "{\"earlier\":true}\n").unwrap();
    let (m, r) = metrics();
    let logger = Logger::new("l1", Sink::File(path.clone()), 100, m, Capture::Off, false);
    for n in 0..3 {
        logger.send(event(n));
    }
    wait_for(|| {
        std::fs::read_to_string(&path)
            .map(|t| t.lines().count() == 4)
            .unwrap_or(false)
    });
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        "{\"earlier\":true}\n{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n"
    );
    wait_for(|| {
        exposition(&r).contains(r#"sluice_logger_events_total{logger="l1",outcome="sent"} 3"#)
    });
}

#[test]
fn a_failing_sink_drops_and_counts_and_recovers() {
    let dir = temp_dir("failing");
    // A directory where the file should be: every open fails.
    let path = dir.join("busy");
    std::fs::create_dir_all(&path).unwrap();
    let (m, r) = metrics();
    let logger = Logger::new("l2", Sink::File(path.clone()), 100, m, Capture::Off, false);
    logger.send(event(1));
    logger.send(event(2));
    wait_for(|| {
        exposition(&r)
            .contains(r#"sluice_logger_events_total{logger="l2",outcome="dropped-sink-failed"} 2"#)
    });
    assert!(exposition(&r).contains(r#"sluice_logger_up{logger="l2"} 0"#));
    // The sink comes back: the next event is written.
    std::fs::remove_dir(&path).unwrap();
    logger.send(event(3));
    wait_for(|| std::fs::read_to_string(&path).is_ok_and(|t| t == "{\"n\":3}\n"));
    wait_for(|| exposition(&r).contains(r#"sluice_logger_up{logger="l2"} 1"#));
}

#[test]
fn a_full_queue_drops_without_waiting() {
    let dir = temp_dir("full");
    let (m, r) = metrics();
    // Standard output cannot be held up from here; a file can't either, so
    // fill a queue of one faster than a thread takes from it.
    let logger = Logger::new("l3", Sink::File(dir.join("f")), 1, m, Capture::Off, false);
    let start = Instant::now();
    for n in 0..2_000 {
        logger.send(event(n));
    }
    assert!(start.elapsed() < Duration::from_secs(2), "send never waits");
    wait_for(|| logger.shared.pending.load(Ordering::SeqCst) == 0);
    let text = exposition(&r);
    let count = |outcome: &str| -> u64 {
        let key = format!(r#"sluice_logger_events_total{{logger="l3",outcome="{outcome}"}} "#);
        text.lines()
            .find_map(|l| l.strip_prefix(&key))
            .map_or(0, |v| v.parse().unwrap())
    };
    assert!(count("dropped-queue-full") > 0, "{text}");
    assert_eq!(count("sent") + count("dropped-queue-full"), 2_000, "{text}");
    let lines = std::fs::read_to_string(dir.join("f"))
        .unwrap()
        .lines()
        .count() as u64;
    assert_eq!(lines, count("sent"));
}

#[test]
fn a_captured_logger_keeps_its_events_and_starts_no_thread() {
    let (m, _r) = metrics();
    let logger = Logger::new(
        "l4",
        Sink::File("/nonexistent/dir/f".into()),
        10,
        m,
        Capture::On,
        false,
    );
    logger.send(event(7));
    assert_eq!(logger.take_captured(), [r#"{"n":7}"#]);
    assert!(logger.take_captured().is_empty());
    assert!(logger.tx.get().is_none());
}

#[test]
fn timestamps_are_rfc3339_utc_with_milliseconds() {
    assert_eq!(timestamp(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
}

#[test]
fn the_kafka_sink_never_shows_its_password() {
    let k = KafkaSink {
        brokers: vec!["ns.servicebus.windows.net:9093".into()],
        topic: "hub".into(),
        sasl: Some((
            "$ConnectionString".into(),
            "Endpoint=sb://x;SharedAccessKey=SECRET".into(),
        )),
        tls: true,
        timeout: Duration::from_secs(5),
    };
    let shown = format!("{k:?} {:?}", Sink::Kafka(k.clone()));
    assert!(!shown.contains("SECRET"), "{shown}");
    assert!(shown.contains("$ConnectionString"));
}
