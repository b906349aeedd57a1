//! The Redis vector store: Redis 8, or Redis Stack, with the search module.
//!
//! Layout under the configured key prefix `P`:
//! - `P` `idx:{dim}`: one HNSW COSINE index per vector length, over the
//!   hashes whose keys start with `P` `e:{dim}:`, with `partition` as a TAG;
//! - `P` `e:{dim}:{partition}:{text id}`: one HASH per prompt (fields in
//!   `codec.rs`), with a TTL, so entries leave the server by themselves;
//!   storing the same prompt again replaces it.
//!
//! The store never fails or waits at start: it connects on first use, every
//! command is bounded by the connect and response timeouts, and a broken
//! connection is replaced (one immediate retry), so a Redis that comes back,
//! even empty after a restart without persistence, is picked up without
//! restarting the gateway. A lost index is created again when a search
//! reports it missing. Expiry follows the caller's clock (`now_ms`).
//! `purge` and `len` walk the entry keys with `SCAN`: admin operations,
//! linear in the key space, right even where an index was lost. Replies are
//! read as RESP2 (the default: no `protocol=resp3` in the URL); `rediss://`
//! would need the redis crate's TLS feature, which is not enabled.
//!
//! - `redis/codec.rs`: the entry's hash fields and FT.SEARCH replies

mod codec;

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use ::redis::{Client, Cmd, FromRedisValue, RedisError, RedisResult, Value, cmd};
use sluice_engine::runtime::BoxFuture;

use super::{Entry, Nearest, StoreError, VectorStore};
use crate::redis_conn::{Conn, Request, once_more, reconnects};

/// How many neighbours a search asks for, in turn, while the nearest ones
/// are expired on the caller's clock but still on the server.
const KNN_STEPS: [usize; 3] = [1, 8, 64];

/// HNSW's candidate list while searching (RediSearch's default is 10,
/// which at 100k entries in a partition misses the nearest neighbour more
/// often than it finds it; 200 finds it, at a fraction of a millisecond).
const EF_RUNTIME: usize = 200;

/// The longest life of a key in Redis: a hundred years (a `duration`
/// past it, up to `i64::MAX` ms, is taken as "for ever").
const MAX_TTL_MS: i64 = 100 * 365 * 24 * 3_600_000;

/// Keys per `SCAN` round of `purge` and `len`.
const SCAN_COUNT: usize = 1000;

/// The byte range of the password in a Redis URL, if it holds one:
/// `redis://user:PASSWORD@host`, `redis://:PASSWORD@host`, or the `pass`
/// (`password`) query parameter of `redis+unix:///path?pass=PASSWORD`.
pub fn url_password(url: &str) -> Option<std::ops::Range<usize>> {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if let Some(at) = authority.rfind('@')
        && let Some(colon) = authority[..at].find(':')
        && colon + 1 < at
    {
        return Some(start + colon + 1..start + at);
    }
    let query = url.find('?')?;
    let mut pos = query + 1;
    for pair in url[query + 1..].split(['&', '#']) {
        if let Some((key, value)) = pair.split_once('=')
            && matches!(key, "pass" | "password")
            && !value.is_empty()
        {
            let from = pos + key.len() + 1;
            return Some(from..from + value.len());
        }
        pos += pair.len() + 1;
    }
    None
}

/// The URL with its password (if any) as `***`, for logs and errors.
pub fn masked_url(url: &str) -> String {
    match url_password(url) {
        Some(r) => format!("{}***{}", &url[..r.start], &url[r.end..]),
        None => url.to_owned(),
    }
}

/// Where the store is and how long it may take. Its `Debug` masks the URL's password.
#[derive(Clone)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]`.
    pub url: String,
    /// Prefix of every key and index name, e.g. `sluice:sc:`.
    pub prefix: String,
    /// Bound on establishing a connection.
    pub connect_timeout_ms: u64,
    /// Bound on one command's answer.
    pub response_timeout_ms: u64,
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &masked_url(&self.url))
            .field("prefix", &self.prefix)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("response_timeout_ms", &self.response_timeout_ms)
            .finish()
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".to_owned(),
            prefix: "sluice:sc:".to_owned(),
            connect_timeout_ms: 500,
            response_timeout_ms: 1_000,
        }
    }
}

/// Made anywhere with [`RedisStore::new`]; used inside a tokio runtime.
pub struct RedisStore {
    /// Connected on first use, inside the runtime that uses it.
    conn: Conn,
    prefix: String,
    /// Vector lengths whose index is known to exist; forgotten when the
    /// connection breaks (the server may have restarted empty).
    indexes: Mutex<HashSet<usize>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("connect_timeout", &self.conn.connect_timeout)
            .field("response_timeout", &self.conn.response_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Fails only on a malformed URL; does not connect.
    pub fn new(config: RedisConfig) -> Result<Self, StoreError> {
        let client = Client::open(config.url.as_str()).map_err(|e| {
            // The client's message may quote the URL: never its password.
            let mut message = format!("redis: invalid url `{}`: {e}", masked_url(&config.url));
            if let Some(r) = url_password(&config.url) {
                message = message.replace(&config.url[r], "***");
            }
            StoreError::new(message)
        })?;
        Ok(Self {
            conn: Conn::new(
                client,
                Duration::from_millis(config.connect_timeout_ms.max(1)),
                Duration::from_millis(config.response_timeout_ms.max(1)),
            ),
            prefix: config.prefix,
            indexes: Mutex::new(HashSet::new()),
        })
    }

    /// Sends one request; if the connection broke (not a timeout), once more
    /// on the connection that replaces it.
    async fn send<T: FromRedisValue>(&self, request: Request<'_>) -> RedisResult<T> {
        once_more(|| self.attempt(&request)).await
    }

    async fn attempt<T: FromRedisValue>(&self, request: &Request<'_>) -> RedisResult<T> {
        let r = self.conn.once(request).await;
        // A new connection may reach a new, empty server: the indexes are
        // checked again. A timeout keeps the connection (and what it knows).
        if r.as_ref().is_err_and(reconnects) {
            self.known_indexes().clear();
        }
        r
    }

    async fn run<T: FromRedisValue>(&self, c: &Cmd) -> RedisResult<T> {
        self.send(Request::Cmd(c)).await
    }

    fn known_indexes(&self) -> std::sync::MutexGuard<'_, HashSet<usize>> {
        match self.indexes.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn index_name(&self, dim: usize) -> String {
        format!("{}idx:{dim}", self.prefix)
    }

    async fn ensure_index(&self, dim: usize) -> RedisResult<()> {
        if self.known_indexes().contains(&dim) {
            return Ok(());
        }
        self.create_index(dim).await
    }

    async fn create_index(&self, dim: usize) -> RedisResult<()> {
        let mut c = cmd("FT.CREATE");
        c.arg(self.index_name(dim))
            .arg(words("ON HASH PREFIX 1"))
            .arg(format!("{}e:{dim}:", self.prefix))
            .arg(words("SCHEMA partition TAG vector VECTOR HNSW 6"))
            .arg(words("TYPE FLOAT32 DIM"))
            .arg(dim)
            .arg(words("DISTANCE_METRIC COSINE"));
        match self.run::<()>(&c).await {
            Err(e) if mentions(&e, &["already exists"]) => {}
            r => r?,
        }
        self.known_indexes().insert(dim);
        Ok(())
    }

    async fn nearest_entry(
        &self,
        partition: &str,
        vector: &[f32],
        now_ms: i64,
    ) -> RedisResult<Option<Nearest>> {
        check_partition(partition)?;
        if vector.iter().all(|x| *x == 0.0) {
            // Empty or zero: no direction, nothing is near it.
            return Ok(None);
        }
        let blob = codec::vector_bytes(vector);
        for k in KNN_STEPS {
            let c = knn_search(&self.index_name(vector.len()), partition, &blob, k);
            let reply: Value = match self.run(&c).await {
                Err(e) if mentions(&e, &["unknown index", "no such index"]) => {
                    // Lost with a restart: create it again (it then indexes
                    // whatever hashes are there) and ask once more.
                    self.known_indexes().remove(&vector.len());
                    self.create_index(vector.len()).await?;
                    self.run(&c).await?
                }
                r => r?,
            };
            let hits = codec::hits(reply)?;
            let found = hits.len();
            if let Some(hit) = hits.into_iter().find(|h| h.expires_at_ms > now_ms) {
                return Ok(Some(hit));
            }
            if found < k {
                break;
            }
        }
        Ok(None)
    }

    async fn insert_entry(&self, entry: Entry, now_ms: i64) -> RedisResult<()> {
        check_partition(&entry.partition)?;
        // At most `MAX_TTL_MS`: a `PEXPIRE` Redis refuses would leave the
        // hash, written in the same transaction, with no expiry at all.
        let ttl_ms = entry.expires_at_ms.saturating_sub(now_ms).min(MAX_TTL_MS);
        if ttl_ms <= 0 || entry.vector.iter().all(|x| *x == 0.0) {
            // Already gone, or a vector no search can be near.
            return Ok(());
        }
        let dim = entry.vector.len();
        self.ensure_index(dim).await?;
        // One key per prompt text: storing the same prompt again replaces it.
        let key = format!(
            "{}e:{dim}:{}:{}",
            self.prefix,
            entry.partition,
            text_id(&entry.response.text)
        );
        let mut hset = cmd("HSET");
        hset.arg(&key);
        codec::write_fields(&mut hset, &entry)?;
        let mut pexpire = cmd("PEXPIRE");
        pexpire.arg(&key).arg(ttl_ms);
        let mut p = ::redis::pipe();
        p.atomic()
            .add_command(hset)
            .ignore()
            .add_command(pexpire)
            .ignore();
        let request = Request::Pipe(&p);
        match self.attempt::<()>(&request).await {
            // A new connection may lead to a new, empty server: the index
            // first, or the entry would wait for a background indexing.
            Err(e) if reconnects(&e) => {
                self.ensure_index(dim).await?;
                self.attempt(&request).await
            }
            r => r,
        }
    }

    /// Visits the entry keys matching `pattern`, a batch at a time; with
    /// `delete`, unlinks them. How many were seen, or deleted.
    async fn scan(&self, pattern: &str, delete: bool) -> RedisResult<u64> {
        let (mut cursor, mut n) = (0u64, 0u64);
        loop {
            let mut c = cmd("SCAN");
            c.arg(cursor)
                .arg("MATCH")
                .arg(pattern)
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

    /// The `SCAN` pattern of all entries, or of one partition's.
    fn entries_pattern(&self, partition: Option<&str>) -> RedisResult<String> {
        let prefix = glob_escape(&self.prefix);
        Ok(match partition {
            None => format!("{prefix}e:*"),
            Some(p) => {
                check_partition(p)?;
                format!("{prefix}e:*:{p}:*")
            }
        })
    }
}

/// Partitions are keys of `[0-9a-f]`: safe in a TAG query, a key and a glob.
/// (Upper case is refused: TAG matching ignores case.)
fn check_partition(p: &str) -> RedisResult<()> {
    if !p.is_empty() && p.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Ok(());
    }
    Err(RedisError::from((
        ::redis::ErrorKind::Client,
        "partition is not [0-9a-f]+",
    )))
}

/// The words of a command's fixed part, as separate arguments.
/// The `k` nearest entries of `partition` to the vector `blob` (FLOAT32
/// bytes), nearest first, with their distance and the returned fields.
fn knn_search(index: &str, partition: &str, blob: &[u8], k: usize) -> Cmd {
    let mut c = cmd("FT.SEARCH");
    c.arg(index)
        .arg(format!(
            "(@partition:{{{partition}}})=>[KNN {k} @vector $v EF_RUNTIME $ef AS dist]"
        ))
        .arg(words("PARAMS 4 v"))
        .arg(blob)
        .arg("ef")
        .arg(EF_RUNTIME.max(k))
        .arg(words("SORTBY dist ASC RETURN"))
        .arg(codec::RETURNED.len() + 1)
        .arg("dist")
        .arg(&codec::RETURNED[..])
        .arg(words("LIMIT 0"))
        .arg(k)
        .arg(words("DIALECT 2"));
    c
}

fn words(s: &'static str) -> Vec<&'static str> {
    s.split(' ').collect()
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

/// Whether the error's text contains one of `needles` (lower case).
fn mentions(e: &RedisError, needles: &[&str]) -> bool {
    let text = e.to_string().to_lowercase();
    needles.iter().any(|n| text.contains(n))
}

fn store_error(e: RedisError) -> StoreError {
    StoreError {
        message: format!("redis: {e}"),
        timeout: e.is_timeout(),
    }
}

impl VectorStore for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn nearest<'a>(
        &'a self,
        partition: &'a str,
        vector: &'a [f32],
        now_ms: i64,
    ) -> BoxFuture<'a, Result<Option<Nearest>, StoreError>> {
        Box::pin(async move {
            self.nearest_entry(partition, vector, now_ms)
                .await
                .map_err(store_error)
        })
    }

    fn insert(&self, entry: Entry, now_ms: i64) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move { self.insert_entry(entry, now_ms).await.map_err(store_error) })
    }

    fn purge<'a>(&'a self, partition: Option<&'a str>) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let pattern = self.entries_pattern(partition).map_err(store_error)?;
            self.scan(&pattern, true).await.map_err(store_error)
        })
    }

    fn count(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let pattern = self.entries_pattern(None).map_err(store_error)?;
            self.scan(&pattern, false).await.map_err(store_error)
        })
    }
}

/// A prompt text's id within its partition: 32 hex digits of its SHA-256.
fn text_id(text: &str) -> String {
    use sha2::Digest;
    crate::semantic::hex(&sha2::Sha256::digest(text.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use ::redis::Arg;

    use super::*;

    /// The search's arguments as text (the vector blob is ASCII here).
    fn args(c: &Cmd) -> Vec<String> {
        c.args_iter()
            .map(|a| match a {
                Arg::Simple(bytes) => String::from_utf8(bytes.to_vec()).unwrap(),
                _ => "<cursor>".to_owned(),
            })
            .collect()
    }

    #[test]
    fn searches_widen_hnsw_candidates_and_filter_by_partition() {
        // No test server holds enough entries for HNSW's default candidate
        // list (10) to miss the nearest one (at 100k entries it misses it
        // more often than not: the vector store benchmark), so the query
        // itself is checked: the partition as a hard pre-filter, and at
        // least `EF_RUNTIME` candidates however few neighbours are asked.
        for k in KNN_STEPS {
            let a = args(&knn_search("idx", "ab12", b"blob", k));
            assert_eq!(a[..2], ["FT.SEARCH", "idx"]);
            assert_eq!(
                a[2],
                format!("(@partition:{{ab12}})=>[KNN {k} @vector $v EF_RUNTIME $ef AS dist]")
            );
            let param = |name: &str| a[a.iter().position(|x| x == name).unwrap() + 1].clone();
            assert_eq!(param("PARAMS"), "4");
            assert_eq!(param("v"), "blob");
            assert_eq!(param("ef"), EF_RUNTIME.max(k).to_string());
            assert!(param("ef").parse::<usize>().unwrap() >= 200);
            assert_eq!(param("SORTBY"), "dist");
            assert_eq!(param("LIMIT"), "0");
            assert_eq!(
                a[a.len() - 3..],
                [k.to_string(), "DIALECT".into(), "2".into()]
            );
        }
    }
}
