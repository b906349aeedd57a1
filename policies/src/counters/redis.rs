//! The Redis store, shared by every replica: one Lua script per decision
//! (`window.rs` in Lua: read, roll the window, decide, add, all atomic on
//! the server), on the server's clock (`TIME`), so replicas' clocks do not
//! matter. A counter is one HASH (bucket number → count) under
//! `<prefix><policy>:{<hash of policy and key>}`: one key per decision, its
//! hash tag keeps it whole in Redis Cluster, and it bears a TTL (a period;
//! ten years for a lifetime quota) renewed by each decision.
//!
//! The store never waits at start: it connects on first use; every call
//! is bounded (connect and response timeouts); a broken connection is
//! replaced on the next call. The script is loaded once (`SCRIPT LOAD`)
//! and run by its digest, loaded again when a restarted server lost it.

use std::sync::Mutex;
use std::time::Duration;

use ::redis::{Client, Cmd, FromRedisValue, RedisResult, cmd};
use sha2::{Digest, Sha256};
use sluice_engine::runtime::BoxFuture;

use super::window::{Raw, layout};
use super::{Counter, CounterStore, StoreError, Take, Window};
use crate::redis_conn::{Conn, Request};

/// The life of a lifetime quota's key (renewed by each write).
const LIFETIME_TTL_MS: u64 = 10 * 365 * 24 * 3_600_000;

const SCRIPT: &str = r"
local mode = ARGV[1]
local amount = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local step = tonumber(ARGV[4])
local steps = tonumber(ARGV[5])
local origin = tonumber(ARGV[6])
local ttl = tonumber(ARGV[7])
local span = ARGV[8] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local since = now - origin
local b, e
if span then
  b = origin; e = since
elseif step == 0 then
  b = 0; e = since
else
  b = math.floor(since / step); e = since - b * step
end
local all = redis.call('HGETALL', KEYS[1])
local buckets = {}
local used = 0
for i = 1, #all, 2 do
  local bb, c = tonumber(all[i]), tonumber(all[i + 1])
  if bb ~= nil and c ~= nil and bb > b - steps and bb <= b and c > 0 then
    table.insert(buckets, {bb, c}); used = used + c
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
table.sort(buckets, function(x, y) return x[1] < y[1] end)
local allowed
if mode == 'fit' then allowed = used + amount <= limit
elseif mode == 'below' then allowed = used < limit
else allowed = true end
if allowed and amount > 0 then
  local last = buckets[#buckets]
  if last ~= nil and last[1] == b then
    last[2] = last[2] + amount
  else
    table.insert(buckets, {b, amount})
  end
  redis.call('HINCRBY', KEYS[1], string.format('%d', b), amount)
elseif allowed and amount < 0 then
  local left = -amount
  for i = #buckets, 1, -1 do
    local take = math.min(left, buckets[i][2])
    buckets[i][2] = buckets[i][2] - take
    left = left - take
    local f = string.format('%d', buckets[i][1])
    if buckets[i][2] <= 0 then
      redis.call('HDEL', KEYS[1], f)
    else
      redis.call('HSET', KEYS[1], f, string.format('%d', buckets[i][2]))
    end
  end
end
redis.call('PEXPIRE', KEYS[1], ttl)
local out = {allowed and 1 or 0, b, e}
for _, x in ipairs(buckets) do
  if x[2] > 0 then
    table.insert(out, x[1]); table.insert(out, x[2])
  end
end
return out
";

/// Where the store is and how long a call may take.
#[derive(Clone)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]`: never printed.
    pub url: String,
    /// Prefix of every key (`sluice:ct:`).
    pub prefix: String,
    pub connect_timeout_ms: u64,
    pub response_timeout_ms: u64,
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".to_owned(),
            prefix: "sluice:ct:".to_owned(),
            connect_timeout_ms: 250,
            response_timeout_ms: 250,
        }
    }
}

pub struct RedisStore {
    conn: Conn,
    prefix: String,
    /// The script's digest once loaded.
    digest: Mutex<Option<String>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Fails only on a malformed URL (the message does not quote it); does
    /// not connect.
    pub fn new(config: RedisConfig) -> Result<Self, StoreError> {
        let client = Client::open(config.url.as_str())
            .map_err(|e| StoreError(format!("invalid redis-url: {}", e.category())))?;
        Ok(Self {
            conn: Conn::new(
                client,
                Duration::from_millis(config.connect_timeout_ms.max(1)),
                Duration::from_millis(config.response_timeout_ms.max(1)),
            ),
            prefix: config.prefix,
            digest: Mutex::new(None),
        })
    }

    /// The Redis key of `counter`.
    pub fn key(&self, counter: &Counter) -> String {
        let mut h = Sha256::new();
        h.update(counter.policy.as_bytes());
        h.update([0]);
        h.update(counter.key.as_bytes());
        let d = h.finalize();
        let mut tag = String::with_capacity(32);
        for b in &d[..16] {
            tag.push_str(&format!("{b:02x}"));
        }
        format!("{}{}:{{{tag}}}", self.prefix, counter.policy)
    }

    /// One command, bounded; not tried again (a decision falls back at
    /// once, and the breaker counts the failure).
    async fn query<T: FromRedisValue>(&self, c: &Cmd) -> RedisResult<T> {
        self.conn.once(&Request::Cmd(c)).await
    }

    fn known_digest(&self) -> Option<String> {
        match self.digest.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    async fn load(&self) -> RedisResult<String> {
        let d: String = self.query(cmd("SCRIPT").arg("LOAD").arg(SCRIPT)).await?;
        match self.digest.lock() {
            Ok(mut g) => *g = Some(d.clone()),
            Err(p) => *p.into_inner() = Some(d.clone()),
        }
        Ok(d)
    }

    async fn eval(&self, counter: &Counter, take: Take, now_ms: i64) -> RedisResult<Vec<i64>> {
        let (mode, amount) = match take {
            Take::Fit(n) => ("fit", i64::try_from(n).unwrap_or(i64::MAX)),
            Take::Below(n) => ("below", i64::try_from(n).unwrap_or(i64::MAX)),
            Take::Add(n) => ("add", n),
        };
        let l = layout(counter.window);
        let period = counter.window.period_ms();
        let ttl = match counter.window {
            // Until the span ends, on the caller's clock (at least a second).
            Window::Span { end_ms, .. } => u64::try_from(end_ms.saturating_sub(now_ms))
                .unwrap_or(0)
                .max(1_000),
            _ if period == 0 => LIFETIME_TTL_MS,
            _ => period,
        };
        let key = self.key(counter);
        let run = |digest: &str| {
            let mut c = cmd("EVALSHA");
            c.arg(digest)
                .arg(1)
                .arg(&key)
                .arg(mode)
                .arg(amount)
                .arg(counter.limit)
                .arg(l.step_ms)
                .arg(l.steps)
                .arg(l.origin_ms)
                .arg(ttl)
                .arg(if l.span { "1" } else { "0" });
            c
        };
        let digest = match self.known_digest() {
            Some(d) => d,
            None => self.load().await?,
        };
        match self.query(&run(&digest)).await {
            Err(e) if e.code() == Some("NOSCRIPT") => {
                let digest = self.load().await?;
                self.query(&run(&digest)).await
            }
            r => r,
        }
    }
}

impl CounterStore for RedisStore {
    fn take<'a>(
        &'a self,
        counter: &'a Counter,
        take: Take,
        now_ms: i64,
    ) -> BoxFuture<'a, Result<Raw, StoreError>> {
        Box::pin(async move {
            let v = self
                .eval(counter, take, now_ms)
                .await
                .map_err(|e| StoreError(format!("redis: {e}")))?;
            match v.as_slice() {
                [allowed, bucket, elapsed, rest @ ..] if rest.len() % 2 == 0 => Ok(Raw {
                    allowed: *allowed == 1,
                    buckets: rest.chunks(2).map(|p| (p[0], p[1])).collect(),
                    bucket: *bucket,
                    elapsed_ms: *elapsed,
                }),
                _ => Err(StoreError(format!("redis: unexpected answer {v:?}"))),
            }
        })
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}
