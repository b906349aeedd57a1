//! The sinks family: the outside services policies send to.
//!
//! - `[loggers.ID]`: the loggers of `log-to-eventhub` (its `logger-id`) and
//!   `trace` (`[gateway] trace-logger = "ID"`), each a bounded queue in
//!   front of a Kafka topic (Azure Event Hubs' Kafka endpoint), a file or
//!   standard output ([`sluice_policies::sinks`]). Built once: a reload keeps
//!   them (and what their queues hold) and refuses a change of `[loggers]`.
//! - `[dapr] endpoint`: the Dapr sidecar of `publish-to-dapr` and
//!   `invoke-dapr-binding`; `[service-bus."NAMESPACE"]`: the Service Bus
//!   namespaces of `send-service-bus-message` ([`Endpoints`]), read anew by
//!   every plan.
//!
//! ```toml
//! [loggers.contoso-logger]          # Event Hubs, as APIM's logger entity has it
//! kind = "kafka"
//! connection-string = { env = "EVENTHUB_CONNECTION_STRING" }   # a secret
//! topic = "apim-events"             # the event hub (default: the connection string's EntityPath)
//!
//! [loggers.audit]
//! kind = "file"
//! path = "logs/audit.jsonl"
//!
//! [dapr]
//! endpoint = "http://127.0.0.1:3500"
//!
//! [service-bus."my-bus.servicebus.windows.net"]
//! endpoint = "https://my-bus.servicebus.windows.net"   # the default
//! sas-key-name = "send"                                # without it: the gateway's identity
//! sas-key = { env = "SERVICEBUS_KEY" }
//! ```
//!
//! No secret (a connection string, a SASL password, a SAS key) is ever
//! printed: errors name the key, not what it holds.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use sluice_engine::diag::Diagnostics;
use sluice_engine::runtime::Resources;
use sluice_policies::endpoints::{Endpoints, ServiceBusAuth, ServiceBusNamespace};
use sluice_policies::sinks::{
    Capture, DEFAULT_QUEUE, KafkaSink, Logger, LoggerMetrics, Loggers, Sink,
};
use toml::Spanned;

use super::{BuildCx, Family};
use crate::config::model::{Duration, NamedValue};
use crate::config::{Config, resolve_value};

/// How long a Kafka send (or connecting) may take unless `timeout` says otherwise.
pub const DEFAULT_KAFKA_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The port of Event Hubs' Kafka endpoint.
const EVENT_HUBS_KAFKA_PORT: u16 = 9093;

/// `[loggers.ID]`: one logger (APIM's logger entity).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LoggerEntry {
    /// `kafka` (APIM's `azureEventHub`), `file` or `stdout`.
    pub kind: Spanned<String>,
    /// What the logger is for (APIM's `description`); not used.
    pub description: Option<String>,
    /// `file`: the file events are appended to, relative to the configuration.
    pub path: Option<Spanned<String>>,
    /// `kafka`: an Event Hubs connection string (APIM's
    /// `credentials.connectionString`), given like a named value. It gives
    /// the brokers (`NAMESPACE:9093`), the topic (`EntityPath`), SASL PLAIN
    /// as `$ConnectionString` with the string as password, and TLS. A secret.
    pub connection_string: Option<Spanned<NamedValue>>,
    /// `kafka`: `host:port` of the bootstrap brokers.
    pub brokers: Option<Spanned<Vec<String>>>,
    /// `kafka`: the topic (the event hub; APIM's `credentials.name`).
    pub topic: Option<Spanned<String>>,
    /// `kafka`: SASL PLAIN user name (default `$ConnectionString` when a password is given).
    pub sasl_username: Option<Spanned<String>>,
    /// `kafka`: SASL PLAIN password, given like a named value. A secret.
    pub sasl_password: Option<Spanned<NamedValue>>,
    /// `kafka`: TLS to the brokers (default: true with a connection string, else false).
    pub tls: Option<bool>,
    /// Events waiting to be sent at most; past it they are dropped (default 10000).
    pub queue_size: Option<Spanned<usize>>,
    /// `kafka`: how long one send or connection may take (default 10 s).
    pub timeout: Option<Spanned<Duration>>,
}

/// `[dapr]`: the Dapr sidecar.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DaprSection {
    /// The sidecar's HTTP address (`http://127.0.0.1:3500`, Dapr's default port).
    pub endpoint: Option<Spanned<String>>,
}

/// `[service-bus."NAMESPACE"]`: a Service Bus namespace, by the FQDN
/// `send-service-bus-message namespace` gives.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServiceBusEntry {
    /// The REST API's base URL (default `https://NAMESPACE`).
    pub endpoint: Option<Spanned<String>>,
    /// The shared access policy's name; with `sas-key`, messages carry a
    /// shared access signature instead of a token of the gateway's identity.
    pub sas_key_name: Option<Spanned<String>>,
    /// The shared access key, given like a named value. A secret.
    pub sas_key: Option<Spanned<NamedValue>>,
}

/// The loggers as a gateway holds them.
pub struct SinksFamily {
    loggers: BTreeMap<String, Arc<Logger>>,
    /// `[loggers]` as built, to compare a reload's with (secrets included,
    /// never shown).
    fingerprint: String,
}

impl std::fmt::Debug for SinksFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinksFamily")
            .field("loggers", &self.loggers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn fingerprint(config: &Config) -> String {
    let mut out = String::new();
    for (id, e) in &config.loggers {
        let e = e.get_ref();
        out.push_str(&format!(
            "{id}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}\n",
            e.kind.get_ref(),
            e.path.as_ref().map(Spanned::get_ref),
            e.connection_string.as_ref().map(Spanned::get_ref),
            e.brokers.as_ref().map(Spanned::get_ref),
            e.topic.as_ref().map(Spanned::get_ref),
            e.sasl_username.as_ref().map(Spanned::get_ref),
            e.sasl_password.as_ref().map(Spanned::get_ref),
            e.tls,
            e.queue_size.as_ref().map(Spanned::get_ref),
            e.timeout.as_ref().map(|t| t.get_ref().of().ok()),
        ));
    }
    out
}

/// Collects the problems of one section, each at its key.
struct Problems<'a, 'b> {
    cx: &'a BuildCx<'b>,
    diags: Diagnostics,
}

impl Problems<'_, '_> {
    fn error(&mut self, span: std::ops::Range<usize>, msg: impl Into<String>) {
        self.diags.push(self.cx.error(span, msg));
    }

    fn secret(&mut self, what: &str, v: &Spanned<NamedValue>) -> Option<String> {
        match resolve_value(what, v.get_ref(), self.cx.base, self.cx.env) {
            Ok(s) => Some(s),
            Err((_, msg)) => {
                self.error(v.span(), msg);
                None
            }
        }
    }
}

/// The parts of an Event Hubs connection string
/// (`Endpoint=sb://NS.servicebus.windows.net/;SharedAccessKeyName=...;SharedAccessKey=...;EntityPath=HUB`):
/// the namespace's host and the entity path, if any.
pub fn parse_connection_string(s: &str) -> Option<(String, Option<String>)> {
    let mut host = None;
    let mut entity = None;
    for part in s.split(';') {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        match k.trim().to_ascii_lowercase().as_str() {
            "endpoint" => {
                let v = v.trim();
                let rest = v.split_once("://").map_or(v, |(_, r)| r);
                let h = rest.split('/').next().unwrap_or_default();
                if !h.is_empty() {
                    host = Some(h.to_owned());
                }
            }
            "entitypath" if !v.trim().is_empty() => entity = Some(v.trim().to_owned()),
            _ => {}
        }
    }
    host.map(|h| (h, entity))
}

fn kafka_sink(p: &mut Problems<'_, '_>, id: &str, e: &LoggerEntry) -> Option<KafkaSink> {
    let w = format!("`[loggers.{id}]`");
    let conn = e
        .connection_string
        .as_ref()
        .and_then(|c| p.secret(&format!("{w} connection-string"), c));
    let parsed = match (&conn, &e.connection_string) {
        (Some(c), Some(spanned)) => match parse_connection_string(c) {
            Some(parts) => Some(parts),
            None => {
                p.error(
                    spanned.span(),
                    format!(
                        "{w} connection-string has no `Endpoint=sb://NAMESPACE/`: it is an \
                         Event Hubs connection string"
                    ),
                );
                return None;
            }
        },
        _ => None,
    };
    let brokers = match (&e.brokers, &parsed) {
        (Some(b), _) => b.get_ref().clone(),
        (None, Some((host, _))) => vec![format!("{host}:{EVENT_HUBS_KAFKA_PORT}")],
        (None, None) => {
            if e.connection_string.is_none() {
                p.error(
                    e.kind.span(),
                    format!("{w} kind = \"kafka\" needs `brokers` or `connection-string`"),
                );
            }
            return None;
        }
    };
    let topic = match (&e.topic, &parsed) {
        (Some(t), _) => t.get_ref().clone(),
        (None, Some((_, Some(entity)))) => entity.clone(),
        _ => {
            p.error(
                e.kind.span(),
                format!(
                    "{w} kind = \"kafka\" needs `topic` (the event hub), or a connection string \
                     with `EntityPath`"
                ),
            );
            return None;
        }
    };
    let password = match &e.sasl_password {
        Some(pw) => Some(p.secret(&format!("{w} sasl-password"), pw)?),
        None => conn.clone(),
    };
    let sasl = match (password, &e.sasl_username) {
        (Some(pw), user) => Some((
            user.as_ref()
                .map_or_else(|| "$ConnectionString".to_owned(), |u| u.get_ref().clone()),
            pw,
        )),
        (None, Some(u)) => {
            p.error(
                u.span(),
                format!("{w} sasl-username needs `sasl-password` (or `connection-string`)"),
            );
            return None;
        }
        (None, None) => None,
    };
    let timeout = match &e.timeout {
        None => DEFAULT_KAFKA_TIMEOUT,
        Some(t) => match t.get_ref().of() {
            Ok(d) if !d.is_zero() => d,
            Ok(_) => {
                p.error(t.span(), format!("{w} timeout must be more than 0"));
                return None;
            }
            Err(why) => {
                p.error(t.span(), format!("{w} timeout: {why}"));
                return None;
            }
        },
    };
    Some(KafkaSink {
        brokers,
        topic,
        sasl,
        tls: e.tls.unwrap_or(e.connection_string.is_some()),
        timeout,
    })
}

fn sink(p: &mut Problems<'_, '_>, id: &str, e: &LoggerEntry) -> Option<Sink> {
    let w = format!("`[loggers.{id}]`");
    match e.kind.get_ref().as_str() {
        "stdout" => Some(Sink::Stdout),
        "file" => match &e.path {
            Some(path) if !path.get_ref().trim().is_empty() => {
                Some(Sink::File(p.cx.base.join(path.get_ref().trim())))
            }
            _ => {
                p.error(
                    e.kind.span(),
                    format!("{w} kind = \"file\" needs `path` (the file events are appended to)"),
                );
                None
            }
        },
        "kafka" => {
            let sink = kafka_sink(p, id, e)?;
            if cfg!(feature = "kafka") {
                Some(Sink::Kafka(sink))
            } else {
                p.error(
                    e.kind.span(),
                    format!(
                        "{w} kind = \"kafka\" needs a sluice built with the `kafka` feature \
                         (cargo build --features kafka)"
                    ),
                );
                None
            }
        }
        other => {
            p.error(
                e.kind.span(),
                format!("{w}: `{other}` is not a logger kind: `kafka`, `file` or `stdout`"),
            );
            None
        }
    }
}

impl SinksFamily {
    pub fn new(cx: &BuildCx<'_>) -> Result<Self, Diagnostics> {
        let metrics = LoggerMetrics::new(Some(cx.registry)).map_err(|e| {
            let mut d = Diagnostics::new();
            d.push(cx.error(0..0, format!("cannot set up the loggers' metrics: {e}")));
            d
        })?;
        let capture = if cx.mode.log {
            Capture::Off
        } else {
            Capture::On
        };
        let mut p = Problems {
            cx,
            diags: Diagnostics::new(),
        };
        let mut loggers = BTreeMap::new();
        for (id, entry) in &cx.config.loggers {
            let e = entry.get_ref();
            let queue = match &e.queue_size {
                Some(q) if *q.get_ref() == 0 => {
                    p.error(
                        q.span(),
                        format!("`[loggers.{id}]` queue-size must be at least 1"),
                    );
                    continue;
                }
                Some(q) => *q.get_ref(),
                None => DEFAULT_QUEUE,
            };
            if let Some(s) = sink(&mut p, id, e) {
                let logger = Logger::new(id, s, queue, metrics.clone(), capture, cx.mode.log);
                loggers.insert(id.clone(), Arc::new(logger));
            }
        }
        if p.diags.has_errors() {
            return Err(p.diags);
        }
        Ok(Self {
            loggers,
            fingerprint: fingerprint(cx.config),
        })
    }

    /// What the loggers of a conformance case were sent since the last call.
    pub fn take_logged(&self) -> Vec<String> {
        self.loggers
            .values()
            .flat_map(|l| l.take_captured())
            .collect()
    }

    fn endpoints(&self, p: &mut Problems<'_, '_>) -> Endpoints {
        let config = p.cx.config;
        let url = |p: &mut Problems<'_, '_>, what: &str, s: &Spanned<String>| {
            let v = s.get_ref().trim().trim_end_matches('/');
            if v.starts_with("http://") || v.starts_with("https://") {
                Some(v.to_owned())
            } else {
                p.error(
                    s.span(),
                    format!("{what}: `{v}` is not an http:// or https:// URL"),
                );
                None
            }
        };
        let dapr = config
            .dapr
            .endpoint
            .as_ref()
            .and_then(|e| url(p, "`[dapr] endpoint`", e));
        let mut service_bus = BTreeMap::new();
        for (ns, entry) in &config.service_bus {
            let e = entry.get_ref();
            let w = format!("`[service-bus.\"{ns}\"]`");
            let endpoint = match &e.endpoint {
                Some(s) => match url(p, &format!("{w} endpoint"), s) {
                    Some(u) => u,
                    None => continue,
                },
                None => format!("https://{ns}"),
            };
            let auth = match (&e.sas_key_name, &e.sas_key) {
                (None, None) => ServiceBusAuth::ManagedIdentity,
                (Some(name), Some(key)) => match p.secret(&format!("{w} sas-key"), key) {
                    Some(k) => ServiceBusAuth::SasKey {
                        name: name.get_ref().clone(),
                        key: k,
                    },
                    None => continue,
                },
                (Some(name), None) => {
                    p.error(name.span(), format!("{w} sas-key-name needs `sas-key`"));
                    continue;
                }
                (None, Some(key)) => {
                    p.error(key.span(), format!("{w} sas-key needs `sas-key-name`"));
                    continue;
                }
            };
            service_bus.insert(ns.trim().to_owned(), ServiceBusNamespace { endpoint, auth });
        }
        Endpoints { dapr, service_bus }
    }
}

impl Family for SinksFamily {
    fn section(&self) -> &'static str {
        "loggers"
    }

    fn check_reload(&self, config: &Config) -> Result<(), String> {
        if fingerprint(config) == self.fingerprint {
            return Ok(());
        }
        Err("`[loggers]` cannot change while running (each logger's queue and connection outlive reloads); restart sluice to change it".to_owned())
    }

    fn provide(&self, cx: &BuildCx<'_>, out: &mut Resources) -> Result<(), Diagnostics> {
        let mut p = Problems {
            cx,
            diags: Diagnostics::new(),
        };
        let trace = match &cx.config.gateway.trace_logger {
            None => None,
            Some(id) => match self.loggers.get(id.get_ref()) {
                Some(l) => Some(Arc::clone(l)),
                None => {
                    let id_text = id.get_ref();
                    p.error(
                        id.span(),
                        format!(
                            "`[gateway] trace-logger`: no logger `{id_text}`: add a \
                             `[loggers.{id_text}]` section"
                        ),
                    );
                    None
                }
            },
        };
        let endpoints = self.endpoints(&mut p);
        if p.diags.has_errors() {
            return Err(p.diags);
        }
        out.insert(Arc::new(Loggers {
            by_id: self.loggers.clone(),
            trace,
        }));
        out.insert(Arc::new(endpoints));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Mode;

    /// The Kafka sink `[loggers.hub]` of `text` describes, or the errors.
    fn kafka(text: &str, env: &[(&str, &str)]) -> Result<KafkaSink, String> {
        let config: Config = toml::from_str(text).unwrap();
        let registry = prometheus::Registry::new();
        let env_fn = |k: &str| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        };
        let cx = BuildCx {
            config: &config,
            name: "sluice.toml",
            text,
            base: std::path::Path::new("."),
            env: &env_fn,
            mode: Mode::CHECK,
            registry: &registry,
        };
        let mut p = Problems {
            cx: &cx,
            diags: Diagnostics::new(),
        };
        let entry = config.loggers["hub"].get_ref();
        let sink = kafka_sink(&mut p, "hub", entry);
        sink.ok_or_else(|| p.diags.to_string())
    }

    const CONN: &str = "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=S3CRET=;EntityPath=hub1";

    #[test]
    fn an_event_hubs_connection_string_gives_brokers_topic_sasl_and_tls() {
        let k = kafka(
            "[loggers.hub]\nkind = \"kafka\"\nconnection-string = { env = \"EH\" }\n",
            &[("EH", CONN)],
        )
        .unwrap();
        assert_eq!(k.brokers, ["contoso.servicebus.windows.net:9093"]);
        assert_eq!(k.topic, "hub1");
        assert_eq!(k.sasl, Some(("$ConnectionString".into(), CONN.into())));
        assert!(k.tls);
        assert_eq!(k.timeout, DEFAULT_KAFKA_TIMEOUT);
    }

    #[test]
    fn explicit_keys_override_the_connection_string() {
        let k = kafka(
            "[loggers.hub]\nkind = \"kafka\"\nconnection-string = { env = \"EH\" }\n\
             brokers = [\"127.0.0.1:9092\"]\ntopic = \"other\"\ntls = false\ntimeout = \"500ms\"\n",
            &[("EH", CONN)],
        )
        .unwrap();
        assert_eq!(k.brokers, ["127.0.0.1:9092"]);
        assert_eq!(k.topic, "other");
        assert!(!k.tls);
        assert_eq!(k.timeout, std::time::Duration::from_millis(500));
        let plain = kafka(
            "[loggers.hub]\nkind = \"kafka\"\nbrokers = [\"b:9092\"]\ntopic = \"t\"\n",
            &[],
        )
        .unwrap();
        assert_eq!((plain.sasl, plain.tls), (None, false));
    }

    #[test]
    fn errors_name_the_key_and_never_the_secret() {
        // Through the plan builder, as `sluice check` and `sluice run` show them.
        let err = |text: &str| match crate::build::from_text(text) {
            Ok(_) => panic!("loads: {text}"),
            Err(d) => d.to_string(),
        };
        let e = err(
            "[loggers.hub]\nkind = \"kafka\"\nconnection-string = \"SharedAccessKey=S3CRET\"\n",
        );
        assert!(
            e.contains("connection-string has no `Endpoint=sb://NAMESPACE/`"),
            "{e}"
        );
        assert!(e.contains("t.toml:3:"), "{e}");
        assert!(!e.contains("S3CRET"), "{e}");
        let e = kafka(
            "[loggers.hub]\nkind = \"kafka\"\nconnection-string = { env = \"EH\" }\n",
            &[("EH", "Endpoint=sb://ns.example/;SharedAccessKey=S3CRET")],
        )
        .unwrap_err();
        assert!(e.contains("needs `topic`"), "{e}");
        assert!(!e.contains("S3CRET"), "{e}");
        let e = err("[service-bus.\"b.example\"]\nsas-key = \"S3CRET-sas\"\n");
        assert!(e.contains("sas-key needs `sas-key-name`"), "{e}");
        assert!(!e.contains("S3CRET"), "{e}");
        let e = err("[loggers.f]\nkind = \"file\"\n");
        assert!(e.contains("kind = \"file\" needs `path`"), "{e}");
    }

    #[test]
    fn a_connection_string_gives_the_namespace_and_entity() {
        let c = "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=abc=;EntityPath=hub1";
        assert_eq!(
            parse_connection_string(c),
            Some(("contoso.servicebus.windows.net".into(), Some("hub1".into())))
        );
        assert_eq!(
            parse_connection_string("Endpoint=sb://ns.example/;SharedAccessKey=x"),
            Some(("ns.example".into(), None))
        );
        assert_eq!(parse_connection_string("SharedAccessKey=x"), None);
    }
}
