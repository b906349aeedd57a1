//! The sinks a logger's thread writes to: standard output and a file (one
//! JSON object a line, each line one `write`), and a Kafka topic (one
//! record an event: value, key, partition), through `kafka.rs`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use super::Event;

/// Where a logger's events go.
#[derive(Debug)]
pub enum Sink {
    /// JSON lines on standard output.
    Stdout,
    /// JSON lines appended to a file (created if missing).
    File(PathBuf),
    /// Records of a Kafka topic.
    Kafka(KafkaSink),
}

/// A Kafka topic (Azure Event Hubs' Kafka endpoint, or any Kafka).
#[derive(Clone, PartialEq, Eq)]
pub struct KafkaSink {
    /// `host:port` of the bootstrap brokers.
    pub brokers: Vec<String>,
    pub topic: String,
    /// SASL PLAIN user name and password (Event Hubs: `$ConnectionString`
    /// and the connection string). The password is never printed.
    pub sasl: Option<(String, String)>,
    /// TLS to the brokers (the web PKI roots).
    pub tls: bool,
    /// How long one send (or connecting) may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSink")
            .field("brokers", &self.brokers)
            .field("topic", &self.topic)
            .field("sasl", &self.sasl.as_ref().map(|(u, _)| (u, "***")))
            .field("tls", &self.tls)
            .finish()
    }
}

/// A sink as its thread holds it.
pub(super) enum Writer {
    Stdout,
    File {
        path: PathBuf,
        file: Option<std::fs::File>,
    },
    #[cfg(feature = "kafka")]
    Kafka(Box<super::kafka::KafkaWriter>),
    /// A Kafka sink in a build without the `kafka` feature (refused at
    /// load; kept so that the type is total).
    #[cfg_attr(feature = "kafka", allow(dead_code))]
    Unavailable(&'static str),
}

impl Writer {
    pub(super) fn new(sink: Sink) -> Self {
        match sink {
            Sink::Stdout => Writer::Stdout,
            Sink::File(path) => Writer::File { path, file: None },
            #[cfg(feature = "kafka")]
            Sink::Kafka(k) => Writer::Kafka(Box::new(super::kafka::KafkaWriter::new(k))),
            #[cfg(not(feature = "kafka"))]
            Sink::Kafka(_) => Writer::Unavailable("this build has no `kafka` feature"),
        }
    }

    /// Writes one event; the error says why it was not taken.
    pub(super) fn write(&mut self, event: &Event) -> Result<(), String> {
        match self {
            Writer::Stdout => {
                let mut line = Vec::with_capacity(event.line.len() + 1);
                line.extend_from_slice(event.line.as_bytes());
                line.push(b'\n');
                let mut out = std::io::stdout().lock();
                out.write_all(&line)
                    .and_then(|()| out.flush())
                    .map_err(|e| format!("standard output: {e}"))
            }
            Writer::File { path, file } => {
                if file.is_none() {
                    *file = Some(
                        std::fs::OpenOptions::new()
                            .create(true)
                            .append(true)
                            .open(&*path)
                            .map_err(|e| format!("cannot open `{}`: {e}", path.display()))?,
                    );
                }
                let mut line = Vec::with_capacity(event.line.len() + 1);
                line.extend_from_slice(event.line.as_bytes());
                line.push(b'\n');
                let written = file.as_mut().map(|f| f.write_all(&line));
                match written {
                    Some(Ok(())) => Ok(()),
                    Some(Err(e)) => {
                        // Opened again for the next event (a file that was moved away).
                        *file = None;
                        Err(format!("cannot write to `{}`: {e}", path.display()))
                    }
                    None => Err(format!("`{}` is not open", path.display())),
                }
            }
            #[cfg(feature = "kafka")]
            Writer::Kafka(k) => k.write(event),
            Writer::Unavailable(why) => Err((*why).to_owned()),
        }
    }
}
