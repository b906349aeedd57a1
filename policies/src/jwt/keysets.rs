//! The key sets of `openid-config` URLs, shared by every plan of a gateway
//! (the gateway's `keysets` family holds them) so that a reload keeps them.
//!
//! Per URL: the OpenID configuration is fetched, then the JWKS its
//! `jwks_uri` names; the keys are kept for the answer's `Cache-Control:
//! max-age` (the smaller of the two answers'), else an hour, as APIM does.
//! A token whose `kid` is not in the set, or a set that could not be
//! fetched, fetches again at most once per 5 minutes per URL; one fetch at
//! a time per URL (the others wait for it and use its result); a fetch that
//! fails keeps the last good keys. Answers are bounded in size and time.
//! Every call goes through the request's [`Services`], so `sluice test`
//! answers them with its stubs and its virtual clock.
//!
//! An outage (the first failure after a success, or at start) is logged
//! once, its end once; `sluice_keyset_fetches_total{outcome}` counts every
//! fetch.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use prometheus::{IntCounterVec, Opts, Registry};
use serde_json::Value;
use sluice_engine::runtime::{BodyStream, Multimap, OutboundRequest, Purpose, Services};

use super::Key;

/// How key sets are fetched and kept.
#[derive(Clone, Debug)]
pub struct Config {
    /// How long keys are kept when the answer gives no `max-age`.
    pub default_ttl_ms: i64,
    /// At most one fetch per URL this often on an unknown `kid` or after a failure.
    pub refetch_interval_ms: i64,
    /// Per call: the response headers and the body must arrive within it.
    pub timeout_ms: u64,
    /// The largest answer read (the configuration, the JWKS).
    pub max_bytes: usize,
    /// Whether outages are logged (`sluice run`) or not (`sluice test`).
    pub log: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            default_ttl_ms: 3_600_000,
            refetch_interval_ms: 300_000,
            timeout_ms: 10_000,
            max_bytes: 1 << 20,
            log: true,
        }
    }
}

/// The keys of one URL as last fetched.
#[derive(Debug)]
pub struct Fetched {
    pub keys: Vec<Key>,
    /// The configuration's `issuer`, which tokens must then have.
    pub issuer: Option<String>,
    /// Until when (gateway clock, ms) they are fresh.
    pub fresh_until_ms: i64,
}

impl Fetched {
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.id.as_deref() == Some(kid))
    }
}

#[derive(Debug, Default)]
struct Attempts {
    /// When the last fetch was tried, and whether it worked.
    last_ms: Option<i64>,
    last_ok: bool,
    /// Whether an outage is going on (logged once).
    outage: bool,
}

#[derive(Debug, Default)]
struct Set {
    current: RwLock<Option<Arc<Fetched>>>,
    /// Held while fetching: one fetch at a time per URL.
    flight: tokio::sync::Mutex<Attempts>,
}

impl Set {
    fn current(&self) -> Option<Arc<Fetched>> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn store(&self, f: Arc<Fetched>) {
        match self.current.write() {
            Ok(mut g) => *g = Some(f),
            Err(p) => *p.into_inner() = Some(f),
        }
    }
}

/// Every key set of a gateway, by URL.
pub struct KeySets {
    config: Config,
    sets: Mutex<HashMap<String, Arc<Set>>>,
    /// URLs the plans name as literals: fetched when a plan starts serving.
    registered: Mutex<BTreeSet<String>>,
    fetches: IntCounterVec,
}

impl std::fmt::Debug for KeySets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySets")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Why a key set could not be fetched.
#[derive(Debug)]
struct FetchError(String);

impl KeySets {
    /// Key sets whose metric is in `registry`.
    pub fn new(config: Config, registry: &Registry) -> Result<Self, prometheus::Error> {
        let fetches = IntCounterVec::new(
            Opts::new(
                "sluice_keyset_fetches_total",
                "Fetches of openid-config key sets, by outcome (ok, error).",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(fetches.clone()))?;
        Ok(Self {
            config,
            sets: Mutex::new(HashMap::new()),
            registered: Mutex::new(BTreeSet::new()),
            fetches,
        })
    }

    /// Key sets with a registry of their own (tests, benches).
    pub fn standalone(config: Config) -> Result<Self, prometheus::Error> {
        Self::new(config, &Registry::new())
    }

    /// A URL a plan names: [`KeySets::warm`] fetches it.
    pub fn register(&self, url: &str) {
        if let Ok(mut r) = self.registered.lock() {
            r.insert(url.to_owned());
        }
    }

    fn set(&self, url: &str) -> Arc<Set> {
        let mut sets = match self.sets.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        Arc::clone(sets.entry(url.to_owned()).or_default())
    }

    /// Fetches every registered URL that has no keys yet (a plan starts
    /// serving); what could not be fetched, one line per URL.
    pub async fn warm(&self, services: &dyn Services) -> Vec<String> {
        let urls: Vec<String> = match self.registered.lock() {
            Ok(r) => r.iter().cloned().collect(),
            Err(p) => p.into_inner().iter().cloned().collect(),
        };
        let mut failed = Vec::new();
        for url in urls {
            let set = self.set(&url);
            if set.current().is_some() {
                continue;
            }
            let mut attempts = set.flight.lock().await;
            if set.current().is_some() {
                continue;
            }
            if let Err(e) = self.fetch_into(&set, &mut attempts, services, &url).await {
                failed.push(format!(
                    "openid-config `{url}`: the keys cannot be fetched ({}); tokens it signs are refused until they can",
                    e.0
                ));
            }
        }
        failed
    }

    /// The keys of `url`, fetched if there are none yet, if they are no
    /// longer fresh, or if none has the token's `kid` (each at most as
    /// often as the configuration allows); `None` while none could ever
    /// be fetched.
    pub async fn keys(
        &self,
        services: &dyn Services,
        url: &str,
        kid: Option<&str>,
    ) -> Option<Arc<Fetched>> {
        let set = self.set(url);
        let wanted = |f: &Option<Arc<Fetched>>, now: i64| match f {
            None => false,
            Some(f) => now < f.fresh_until_ms && kid.is_none_or(|k| f.has_kid(k)),
        };
        let current = set.current();
        if wanted(&current, services.now_ms()) {
            return current;
        }
        let mut attempts = set.flight.lock().await;
        // Another request may have fetched while this one waited.
        let current = set.current();
        let now = services.now_ms();
        if wanted(&current, now) {
            return current;
        }
        let stale = current.as_ref().is_some_and(|f| now >= f.fresh_until_ms);
        let may = match attempts.last_ms {
            None => true,
            // Fresh keys ran out: fetch (their lifetime was the answer's).
            Some(_) if stale && attempts.last_ok => true,
            Some(last) => now.saturating_sub(last) >= self.config.refetch_interval_ms,
        };
        if may {
            let _ = self.fetch_into(&set, &mut attempts, services, url).await;
        }
        set.current()
    }

    async fn fetch_into(
        &self,
        set: &Set,
        attempts: &mut Attempts,
        services: &dyn Services,
        url: &str,
    ) -> Result<(), FetchError> {
        let now = services.now_ms();
        attempts.last_ms = Some(now);
        match self.fetch(services, url, now).await {
            Ok(f) => {
                self.fetches.with_label_values(&["ok"]).inc();
                attempts.last_ok = true;
                if attempts.outage && self.config.log {
                    tracing::info!(url, "openid-config {url}: keys fetched again");
                }
                attempts.outage = false;
                set.store(Arc::new(f));
                Ok(())
            }
            Err(e) => {
                self.fetches.with_label_values(&["error"]).inc();
                attempts.last_ok = false;
                if !attempts.outage && self.config.log {
                    let kept = if set.current().is_some() {
                        "the last keys fetched are kept"
                    } else {
                        "tokens it signs are refused until they can be fetched"
                    };
                    tracing::warn!(
                        url,
                        "openid-config {url}: the keys cannot be fetched ({}); {kept}; trying again at most every {} s",
                        e.0,
                        self.config.refetch_interval_ms / 1000
                    );
                }
                attempts.outage = true;
                Err(e)
            }
        }
    }

    /// The configuration at `url`, then its key set.
    async fn fetch(
        &self,
        services: &dyn Services,
        url: &str,
        now: i64,
    ) -> Result<Fetched, FetchError> {
        let (doc, age1) = self.get_json(services, url).await?;
        let issuer = doc.get("issuer").and_then(Value::as_str).map(str::to_owned);
        // A key set given directly (some providers' URL is the JWKS) is taken as it is.
        let (jwks, age2) = match (doc.get("keys"), doc.get("jwks_uri").and_then(Value::as_str)) {
            (Some(_), _) => (doc.clone(), None),
            (None, Some(jwks_uri)) => self.get_json(services, jwks_uri).await?,
            (None, None) => {
                return Err(FetchError(
                    "the OpenID configuration has no `jwks_uri`".into(),
                ));
            }
        };
        let keys: Vec<Key> = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| FetchError("the key set has no `keys` array".into()))?
            .iter()
            .filter_map(Key::from_jwk)
            .collect();
        let ttl = match (age1, age2) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(self.config.default_ttl_ms),
        };
        Ok(Fetched {
            keys,
            issuer,
            fresh_until_ms: now.saturating_add(ttl),
        })
    }

    /// A JSON document and its `max-age` in ms, bounded in size and time.
    async fn get_json(
        &self,
        services: &dyn Services,
        url: &str,
    ) -> Result<(Value, Option<i64>), FetchError> {
        let mut headers = Multimap::default();
        headers.set_one("Accept", "application/json".into());
        let req = OutboundRequest {
            method: "GET".into(),
            url: url.to_owned(),
            headers,
            timeout_ms: self.config.timeout_ms,
            purpose: Purpose::SendRequest,
            ..OutboundRequest::default()
        };
        let limit = Duration::from_millis(self.config.timeout_ms);
        let call = async {
            let (head, stream) = services
                .call_streaming(req)
                .await
                .map_err(|e| FetchError(format!("GET {url}: {e}")))?;
            let body = match stream {
                Some(s) => read_bounded(s, self.config.max_bytes)
                    .await
                    .map_err(|e| FetchError(format!("GET {url}: {e}")))?,
                None => head.body.to_vec(),
            };
            Ok::<_, FetchError>((head, body))
        };
        let (head, body) = tokio::time::timeout(limit.saturating_mul(2), call)
            .await
            .map_err(|_| FetchError(format!("GET {url}: no answer in time")))??;
        if body.len() > self.config.max_bytes {
            return Err(FetchError(format!(
                "GET {url}: the answer is larger than {} bytes",
                self.config.max_bytes
            )));
        }
        if !(200..300).contains(&head.status) {
            return Err(FetchError(format!("GET {url}: status {}", head.status)));
        }
        let doc: Value = serde_json::from_slice(&body)
            .map_err(|e| FetchError(format!("GET {url}: not JSON: {e}")))?;
        let max_age = head
            .headers
            .get("Cache-Control")
            .and_then(|v| v.iter().find_map(|v| max_age(v)));
        Ok((doc, max_age))
    }
}

/// `max-age=N` of a `Cache-Control` value, in ms (`no-cache`, `no-store`: 0).
fn max_age(v: &str) -> Option<i64> {
    v.split(',').map(str::trim).find_map(|d| {
        let d = d.to_ascii_lowercase();
        if d == "no-cache" || d == "no-store" {
            return Some(0);
        }
        d.strip_prefix("max-age=")?
            .trim_matches('"')
            .parse::<i64>()
            .ok()
            .map(|s| s.saturating_mul(1000))
    })
}

async fn read_bounded(mut s: BodyStream, max: usize) -> Result<Vec<u8>, String> {
    use std::future::poll_fn;
    let mut out = Vec::new();
    while let Some(chunk) = poll_fn(|cx| s.as_mut().poll_next(cx)).await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        if out.len() + chunk.len() > max {
            return Err(format!("the answer is larger than {max} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_engine::runtime::{BackendEntity, BoxFuture, CallError, InboundResponse};
    use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

    /// Answers the configuration and a key set (failing while `down`),
    /// counting calls; each answer yields first, so concurrent callers overlap.
    struct Provider {
        calls: AtomicU64,
        now: AtomicI64,
        down: std::sync::atomic::AtomicBool,
    }

    impl Services for Provider {
        fn now_ms(&self) -> i64 {
            self.now.load(Ordering::SeqCst)
        }
        fn call(&self, req: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>> {
            Box::pin(async move {
                self.calls.fetch_add(1, Ordering::SeqCst);
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                if self.down.load(Ordering::SeqCst) {
                    return Err(CallError::Timeout);
                }
                let body = if req.url.ends_with("/keys") {
                    r#"{"keys":[{"kty":"oct","kid":"k1","k":"c2VjcmV0"}]}"#
                } else {
                    r#"{"issuer":"https://i.test/","jwks_uri":"https://i.test/keys"}"#
                };
                Ok(InboundResponse {
                    status: 200,
                    body: body.as_bytes().to_vec().into(),
                    ..InboundResponse::default()
                })
            })
        }
        fn backend(&self, _: &str) -> Option<BackendEntity> {
            None
        }
        fn sleep(&self, _: u64) -> BoxFuture<'_, ()> {
            Box::pin(async {})
        }
    }

    fn provider() -> Provider {
        Provider {
            calls: AtomicU64::new(0),
            now: AtomicI64::new(0),
            down: std::sync::atomic::AtomicBool::new(false),
        }
    }

    const URL: &str = "https://i.test/.well-known/openid-configuration";

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn concurrent_requests_share_one_fetch() {
        let sets = KeySets::standalone(Config::default()).unwrap();
        let p = provider();
        rt().block_on(async {
            let (a, b, c) = tokio::join!(
                sets.keys(&p, URL, Some("k1")),
                sets.keys(&p, URL, Some("k1")),
                sets.keys(&p, URL, None),
            );
            assert!(a.unwrap().has_kid("k1") && b.is_some() && c.is_some());
        });
        assert_eq!(
            p.calls.load(Ordering::SeqCst),
            2,
            "one configuration, one key set"
        );
    }

    #[test]
    fn unknown_kids_refetch_at_most_every_five_minutes_and_failures_keep_the_keys() {
        let sets = KeySets::standalone(Config::default()).unwrap();
        let p = provider();
        let rt = rt();
        let calls = || p.calls.load(Ordering::SeqCst);
        assert!(rt.block_on(sets.keys(&p, URL, None)).is_some());
        assert_eq!(calls(), 2);
        let (a, b) = rt.block_on(async {
            tokio::join!(
                sets.keys(&p, URL, Some("k9")),
                sets.keys(&p, URL, Some("k9"))
            )
        });
        assert!(a.is_some() && b.is_some());
        assert_eq!(calls(), 2, "within 5 minutes of the last fetch");
        p.now.store(300_000, Ordering::SeqCst);
        rt.block_on(async {
            tokio::join!(
                sets.keys(&p, URL, Some("k9")),
                sets.keys(&p, URL, Some("k9"))
            )
        });
        assert_eq!(calls(), 4, "one refetch for both");
        p.down.store(true, Ordering::SeqCst);
        p.now.store(600_000, Ordering::SeqCst);
        let kept = rt.block_on(sets.keys(&p, URL, Some("k9"))).unwrap();
        assert_eq!(calls(), 5, "the failed refetch");
        assert!(kept.has_kid("k1"), "the last good keys are kept");
        assert_eq!(sets.fetches.with_label_values(&["error"]).get(), 1);
        assert_eq!(sets.fetches.with_label_values(&["ok"]).get(), 2);
    }

    #[test]
    fn answers_larger_than_the_bound_are_refused() {
        let sets = KeySets::standalone(Config {
            max_bytes: 10,
            ..Config::default()
        })
        .unwrap();
        let p = provider();
        assert!(rt().block_on(sets.keys(&p, URL, None)).is_none());
    }

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(max_age("public, max-age=600"), Some(600_000));
        assert_eq!(max_age("no-store"), Some(0));
        assert_eq!(max_age("public"), None);
    }
}
