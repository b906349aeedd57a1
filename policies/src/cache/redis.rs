//! The external cache: a Redis server (`[cache] external-redis-url`), one
//! string key per entry under the configured prefix (`[cache]
//! external-prefix`), written with `SET ... PX ttl` so that Redis drops it
//! by itself, read with `GET`, removed with `DEL`. It never connects at
//! start (a Redis that is down then is a miss, not a failure to start);
//! every command is bounded by the connect and response timeouts, and a
//! broken connection is replaced, once, at once. `purge` and `count` walk
//! the prefix with `SCAN` (admin operations). The URL may hold a password:
//! it is in no message and no `Debug` output.

use ::redis::{Client, Cmd, FromRedisValue, RedisError, cmd};
use bytes::Bytes;

use super::{ExternalError, millis};
use crate::redis_conn::{Conn, Request};

/// Keys per `SCAN` round of `purge` and `count`.
const SCAN_COUNT: usize = 1000;

/// The longest life of a key: a hundred years.
const MAX_TTL_MS: i64 = 100 * 365 * 24 * 3_600_000;

/// Where the external cache is and how long it may take.
#[derive(Clone)]
pub struct RedisKvConfig {
    /// `redis://[user:password@]host:port[/db]`.
    pub url: String,
    /// Prefix of every key.
    pub prefix: String,
    pub connect_timeout_ms: u64,
    pub response_timeout_ms: u64,
}

impl std::fmt::Debug for RedisKvConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisKvConfig")
            .field("prefix", &self.prefix)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("response_timeout_ms", &self.response_timeout_ms)
            .finish_non_exhaustive()
    }
}

pub struct ExternalCache {
    conn: Conn,
    prefix: String,
}

impl std::fmt::Debug for ExternalCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalCache")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl ExternalCache {
    /// Fails only on a URL that is not a Redis URL (the message does not
    /// quote it); does not connect.
    pub fn new(config: RedisKvConfig) -> Result<Self, String> {
        let client = Client::open(config.url.as_str())
            .map_err(|_| "not a Redis URL (`redis://[user:password@]host:port[/db]`)".to_owned())?;
        Ok(Self {
            conn: Conn::new(
                client,
                millis(config.connect_timeout_ms),
                millis(config.response_timeout_ms),
            ),
            prefix: config.prefix,
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// One command; once more if the connection broke.
    async fn run<T: FromRedisValue>(&self, c: &Cmd) -> Result<T, ExternalError> {
        self.conn
            .send(Request::Cmd(c))
            .await
            .map_err(|e| ExternalError {
                message: describe(&e),
            })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, ExternalError> {
        let v: Option<Vec<u8>> = self.run(cmd("GET").arg(self.key(key))).await?;
        Ok(v.map(Bytes::from))
    }

    pub async fn set(&self, key: &str, value: Bytes, ttl_ms: i64) -> Result<(), ExternalError> {
        let ttl = ttl_ms.clamp(1, MAX_TTL_MS);
        self.run::<()>(
            cmd("SET")
                .arg(self.key(key))
                .arg(value.as_ref())
                .arg("PX")
                .arg(ttl),
        )
        .await
    }

    pub async fn remove(&self, key: &str) -> Result<(), ExternalError> {
        self.run::<u64>(cmd("DEL").arg(self.key(key)))
            .await
            .map(|_| ())
    }

    pub async fn count(&self) -> Result<u64, ExternalError> {
        self.scan(false).await
    }

    pub async fn purge(&self) -> Result<u64, ExternalError> {
        self.scan(true).await
    }

    /// Visits the keys under the prefix; with `delete`, unlinks them.
    async fn scan(&self, delete: bool) -> Result<u64, ExternalError> {
        let pattern = format!("{}*", glob_escape(&self.prefix));
        let (mut cursor, mut n) = (0u64, 0u64);
        loop {
            let mut c = cmd("SCAN");
            c.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT);
            let (next, keys): (u64, Vec<Vec<u8>>) = self.run(&c).await?;
            if !keys.is_empty() {
                n += if delete {
                    self.run::<u64>(cmd("UNLINK").arg(&keys)).await?
                } else {
                    keys.len() as u64
                };
            }
            cursor = next;
            if cursor == 0 {
                return Ok(n);
            }
        }
    }
}

/// A failure as the log and the admin routes show it: its kind and, for a
/// server's answer, its code; never the URL.
fn describe(e: &RedisError) -> String {
    if e.is_timeout() {
        "timeout".to_owned()
    } else if e.is_connection_refusal() {
        "connection refused".to_owned()
    } else if e.is_io_error() || e.is_connection_dropped() {
        "connection error".to_owned()
    } else {
        match e.code() {
            Some(code) => format!("server error {code}"),
            None => "error".to_owned(),
        }
    }
}

/// Escapes the characters special to `SCAN MATCH`.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}
