//! The Kafka sink (feature `kafka`): one record an event, produced with
//! rskafka from the logger's own thread on a runtime of its own, so that a
//! slow broker holds up nothing but that logger's queue.
//!
//! The partition: `partition-id` when given (modulo the topic's partition
//! count); else, with a `partition-key`, a stable hash of the key (FNV-1a)
//! modulo the count, and the key as the record's key; else round robin.
//! A broker that cannot be reached (or a topic that does not exist) is an
//! outage: the event is dropped and the next one tries to connect again,
//! at most once a second; every attempt and send is bounded by `timeout`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rskafka::BackoffConfig;
use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::client::{ClientBuilder, Credentials, SaslConfig};
use rskafka::record::Record;

use super::Event;
use super::write::KafkaSink;

/// How long after a failed connection the next one is tried.
const RECONNECT: Duration = Duration::from_secs(1);

pub(super) struct KafkaWriter {
    sink: KafkaSink,
    rt: Option<tokio::runtime::Runtime>,
    partitions: Vec<PartitionClient>,
    retry_at: Option<Instant>,
    next: usize,
}

impl KafkaWriter {
    pub(super) fn new(sink: KafkaSink) -> Self {
        Self {
            sink,
            rt: None,
            partitions: Vec::new(),
            retry_at: None,
            next: 0,
        }
    }

    pub(super) fn write(&mut self, event: &Event) -> Result<(), String> {
        if self.rt.is_none() {
            self.rt = Some(
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the Kafka runtime: {e}"))?,
            );
        }
        let Some(rt) = self.rt.take() else {
            return Err("no Kafka runtime".into());
        };
        let result = rt.block_on(self.send(event));
        self.rt = Some(rt);
        if result.is_err() {
            // Connect anew for the next event (a leader that moved, a broker restarted).
            self.partitions.clear();
        }
        result
    }

    async fn send(&mut self, event: &Event) -> Result<(), String> {
        let timeout = self.sink.timeout;
        if self.partitions.is_empty() {
            if self.retry_at.is_some_and(|t| Instant::now() < t) {
                return Err(format!(
                    "not connected to the brokers of topic `{}`",
                    self.sink.topic
                ));
            }
            let connected = tokio::time::timeout(timeout, connect(&self.sink)).await;
            match connected {
                Ok(Ok(p)) => {
                    self.partitions = p;
                    self.retry_at = None;
                }
                Ok(Err(e)) => {
                    self.retry_at = Some(Instant::now() + RECONNECT);
                    return Err(e);
                }
                Err(_) => {
                    self.retry_at = Some(Instant::now() + RECONNECT);
                    return Err(format!(
                        "connecting to {:?} took more than {timeout:?}",
                        self.sink.brokers
                    ));
                }
            }
        }
        let n = self.partitions.len();
        let index = pick(event, n, &mut self.next);
        let record = record(event);
        let Some(partition) = self.partitions.get(index) else {
            return Err("no partition".into());
        };
        match tokio::time::timeout(
            timeout,
            partition.produce(vec![record], Compression::NoCompression),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("producing to `{}`: {e}", self.sink.topic)),
            Err(_) => Err(format!(
                "producing to `{}` took more than {timeout:?}",
                self.sink.topic
            )),
        }
    }
}

/// The Kafka record of an event.
pub(super) fn record(event: &Event) -> Record {
    Record {
        key: event.key.as_ref().map(|k| k.as_bytes().to_vec()),
        value: Some(event.value.as_bytes().to_vec()),
        headers: Default::default(),
        timestamp: now(),
    }
}

fn now() -> rskafka::chrono::DateTime<rskafka::chrono::Utc> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    rskafka::chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The index of the partition an event goes to, among `n`.
pub(super) fn pick(event: &Event, n: usize, next: &mut usize) -> usize {
    let n = n.max(1);
    if let Some(p) = event.partition {
        return usize::try_from(p).unwrap_or(0) % n;
    }
    if let Some(k) = &event.key {
        return usize::try_from(fnv1a(k.as_bytes()) % n as u64).unwrap_or(0);
    }
    *next = next.wrapping_add(1);
    *next % n
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

async fn connect(sink: &KafkaSink) -> Result<Vec<PartitionClient>, String> {
    let mut builder = ClientBuilder::new(sink.brokers.clone())
        .client_id("sluice")
        .backoff_config(BackoffConfig {
            deadline: Some(sink.timeout),
            ..BackoffConfig::default()
        });
    if let Some((user, password)) = &sink.sasl {
        builder = builder.sasl_config(SaslConfig::Plain(Credentials::new(
            user.clone(),
            password.clone(),
        )));
    }
    if sink.tls {
        builder = builder.tls_config(Arc::new(tls()?));
    }
    // rskafka's errors name brokers and protocol errors, never credentials.
    let client = builder
        .build()
        .await
        .map_err(|e| format!("cannot reach {:?}: {e}", sink.brokers))?;
    let topics = client
        .list_topics()
        .await
        .map_err(|e| format!("cannot list topics: {e}"))?;
    let Some(topic) = topics.into_iter().find(|t| t.name == sink.topic) else {
        return Err(format!("topic `{}` does not exist", sink.topic));
    };
    let mut partitions = Vec::with_capacity(topic.partitions.len());
    for p in topic.partitions {
        partitions.push(
            client
                .partition_client(sink.topic.clone(), p, UnknownTopicHandling::Error)
                .await
                .map_err(|e| format!("partition {p} of `{}`: {e}", sink.topic))?,
        );
    }
    if partitions.is_empty() {
        return Err(format!("topic `{}` has no partitions", sink.topic));
    }
    Ok(partitions)
}

fn tls() -> Result<rustls::ClientConfig, String> {
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(key: Option<&str>, partition: Option<i32>) -> Event {
        Event {
            line: "{}".into(),
            value: "hello".into(),
            key: key.map(str::to_owned),
            partition,
        }
    }

    #[test]
    fn the_record_carries_the_value_and_key() {
        let r = record(&event(Some("k1"), None));
        assert_eq!(r.value.as_deref(), Some(&b"hello"[..]));
        assert_eq!(r.key.as_deref(), Some(&b"k1"[..]));
        assert!(record(&event(None, None)).key.is_none());
    }

    #[test]
    fn partitions_by_id_then_key_then_round_robin() {
        let mut next = 0;
        assert_eq!(pick(&event(None, Some(2)), 4, &mut next), 2);
        assert_eq!(pick(&event(None, Some(5)), 4, &mut next), 1);
        let a = pick(&event(Some("order-1"), None), 4, &mut next);
        assert_eq!(pick(&event(Some("order-1"), None), 4, &mut next), a);
        let spread: std::collections::BTreeSet<_> = (0..40)
            .map(|i| pick(&event(Some(&format!("k{i}")), None), 4, &mut next))
            .collect();
        assert!(spread.len() > 1, "keys spread over partitions");
        let rr: Vec<_> = (0..4)
            .map(|_| pick(&event(None, None), 4, &mut next))
            .collect();
        let distinct: std::collections::BTreeSet<_> = rr.iter().collect();
        assert_eq!(
            distinct.len(),
            4,
            "round robin visits every partition: {rr:?}"
        );
    }
}
