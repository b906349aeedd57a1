//! The state of backend entities that outlives plans: each backend's
//! circuit breaker (APIM's one rule: failures counted, or their share of
//! the calls, within an interval; then open for the trip duration, or the
//! backend's `Retry-After` when accepted) and each pool's weighted round
//! robin. State is per replica, as APIM documents. Time is the gateway
//! clock, so the conformance runner's virtual clock drives it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use sluice_engine::runtime::{BreakerRule, PoolMember};

/// The longest a backend's `Retry-After` keeps its breaker open (Azure
/// OpenAI may ask for up to a day; docs/decisions.md).
pub const RETRY_AFTER_CAP_MS: u64 = 24 * 3600 * 1000;

#[derive(Debug, Default)]
pub struct BackendHealth {
    inner: Mutex<Inner>,
    metrics: Option<Metrics>,
}

/// Per backend (a pool's members each): calls, trips, and whether its
/// breaker is open (1) as of the last call or trip.
#[derive(Debug, Clone)]
struct Metrics {
    requests: prometheus::IntCounterVec,
    trips: prometheus::IntCounterVec,
    open: prometheus::IntGaugeVec,
}

#[derive(Debug, Default)]
struct Inner {
    breakers: HashMap<String, Health>,
    /// Smooth weighted round robin: (pool, member) → current weight.
    current: HashMap<(String, String), i64>,
}

#[derive(Debug, Default, Clone)]
struct Health {
    /// (time, failed) of the calls within the interval.
    calls: VecDeque<(i64, bool)>,
    open_until: Option<i64>,
    trips: u64,
    requests: u64,
}

/// What `GET /backends` and the metrics show of one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerView {
    pub open_until_ms: Option<i64>,
    pub trips: u64,
    pub requests: u64,
}

impl BackendHealth {
    /// With its metrics on `registry`: `sluice_backend_requests_total`,
    /// `sluice_backend_trips_total`, `sluice_backend_open` (label `backend`).
    pub fn new(registry: &prometheus::Registry) -> Result<Self, prometheus::Error> {
        let requests = prometheus::IntCounterVec::new(
            prometheus::Opts::new(
                "sluice_backend_requests_total",
                "Calls to each backend entity (a pool's members each)",
            ),
            &["backend"],
        )?;
        let trips = prometheus::IntCounterVec::new(
            prometheus::Opts::new(
                "sluice_backend_trips_total",
                "Times each backend's circuit breaker opened",
            ),
            &["backend"],
        )?;
        let open = prometheus::IntGaugeVec::new(
            prometheus::Opts::new(
                "sluice_backend_open",
                "1 while a backend's circuit breaker is open (as of its last trip or call)",
            ),
            &["backend"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(trips.clone()))?;
        registry.register(Box::new(open.clone()))?;
        Ok(Self {
            inner: Mutex::default(),
            metrics: Some(Metrics {
                requests,
                trips,
                open,
            }),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        match self.inner.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// Whether `id`'s breaker is open at `now`.
    pub fn is_open(&self, id: &str, now: i64) -> bool {
        self.with(|i| {
            i.breakers
                .get(id)
                .and_then(|h| h.open_until)
                .is_some_and(|t| now < t)
        })
    }

    /// Counts a call to `id`: `failed` when the rule says so (its status is
    /// in a range, or it got no answer). Trips the breaker when the rule's
    /// threshold is reached; returns true when this call tripped it.
    pub fn record(
        &self,
        id: &str,
        rule: Option<&BreakerRule>,
        failed: bool,
        retry_after_ms: Option<u64>,
        now: i64,
    ) -> bool {
        let tripped = self.count(id, rule, failed, retry_after_ms, now);
        if let Some(m) = &self.metrics {
            m.requests.with_label_values(&[id]).inc();
            if tripped {
                m.trips.with_label_values(&[id]).inc();
                m.open.with_label_values(&[id]).set(1);
            } else if !self.is_open(id, now) {
                m.open.with_label_values(&[id]).set(0);
            }
        }
        tripped
    }

    fn count(
        &self,
        id: &str,
        rule: Option<&BreakerRule>,
        failed: bool,
        retry_after_ms: Option<u64>,
        now: i64,
    ) -> bool {
        self.with(|i| {
            let h = i.breakers.entry(id.to_owned()).or_default();
            h.requests += 1;
            let Some(rule) = rule else {
                return false;
            };
            let from = now.saturating_sub(i64::try_from(rule.interval_ms).unwrap_or(i64::MAX));
            while h.calls.front().is_some_and(|(t, _)| *t <= from) {
                h.calls.pop_front();
            }
            h.calls.push_back((now, failed));
            if !failed || h.open_until.is_some_and(|t| now < t) {
                return false;
            }
            let failures = h.calls.iter().filter(|(_, f)| *f).count() as u64;
            let total = h.calls.len() as u64;
            // One threshold, two measures: the failures, or their share
            // of the calls (in hundredths, to stay in integers).
            let reached = [
                rule.failure_count.map(|n| (failures, u64::from(n.max(1)))),
                rule.failure_percentage
                    .map(|p| (failures * 100, u64::from(p) * total)),
            ]
            .into_iter()
            .flatten()
            .any(|(measured, threshold)| measured >= threshold);
            if !reached {
                return false;
            }
            let mut open_ms = rule.trip_ms;
            if rule.accept_retry_after
                && let Some(r) = retry_after_ms
            {
                open_ms = open_ms.max(r.min(RETRY_AFTER_CAP_MS));
            }
            h.open_until = Some(now.saturating_add(i64::try_from(open_ms).unwrap_or(i64::MAX)));
            h.trips += 1;
            h.calls.clear();
            true
        })
    }

    /// The member of pool `pool` the next call goes to: the group of the
    /// lowest priority number with a member whose breaker is closed, then
    /// smooth weighted round robin inside it. `None`: every member is open.
    pub fn pick(&self, pool: &str, members: &[PoolMember], now: i64) -> Option<String> {
        self.with(|i| {
            let closed = |m: &PoolMember| {
                i.breakers
                    .get(&m.id)
                    .and_then(|h| h.open_until)
                    .is_none_or(|t| now >= t)
            };
            let priority = members
                .iter()
                .filter(|m| closed(m))
                .map(|m| m.priority)
                .min()?;
            let group: Vec<&PoolMember> = members
                .iter()
                .filter(|m| m.priority == priority && closed(m))
                .collect();
            let total: i64 = group.iter().map(|m| i64::from(m.weight.max(1))).sum();
            let mut best: Option<(&PoolMember, i64)> = None;
            for m in &group {
                let cw = i
                    .current
                    .entry((pool.to_owned(), m.id.clone()))
                    .or_insert(0);
                *cw += i64::from(m.weight.max(1));
                if best.is_none_or(|(_, b)| *cw > b) {
                    best = Some((m, *cw));
                }
            }
            let (chosen, _) = best?;
            if let Some(cw) = i.current.get_mut(&(pool.to_owned(), chosen.id.clone())) {
                *cw -= total;
            }
            Some(chosen.id.clone())
        })
    }

    /// Every backend that has been called, with its breaker.
    pub fn views(&self) -> BTreeMap<String, BreakerView> {
        self.with(|i| {
            i.breakers
                .iter()
                .map(|(id, h)| {
                    (
                        id.clone(),
                        BreakerView {
                            open_until_ms: h.open_until,
                            trips: h.trips,
                            requests: h.requests,
                        },
                    )
                })
                .collect()
        })
    }
}

/// The value of a pool's session-affinity cookie that sends a client to
/// `member`: opaque (a digest of the pool and member ids, so that it does
/// not show the pool's makeup) and stable (the same for every replica, and
/// across restarts and reloads). docs/decisions.md.
pub fn affinity_token(pool: &str, member: &str) -> String {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(b"sluice backend affinity\0");
    h.update(pool.as_bytes());
    h.update(b"\0");
    h.update(member.as_bytes());
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The member of `members` whose affinity token is `token`.
pub fn affinity_member<'a>(
    pool: &str,
    members: &'a [PoolMember],
    token: &str,
) -> Option<&'a PoolMember> {
    members
        .iter()
        .find(|m| affinity_token(pool, &m.id) == token)
}

/// Whether a call's outcome counts as a failure under `rule`: its status is
/// in one of the ranges, or (`status` `None`) it got no answer.
pub fn is_failure(rule: &BreakerRule, status: Option<u16>) -> bool {
    match status {
        Some(s) => rule
            .status_ranges
            .iter()
            .any(|(lo, hi)| (*lo..=*hi).contains(&s)),
        None => rule.count_errors,
    }
}

/// `Retry-After` in milliseconds from `now_ms` (the gateway clock): a
/// number of seconds (what Azure OpenAI and the labs' backends send) or an
/// HTTP date (RFC 9110 §10.2.3; one already past is 0).
pub fn retry_after_ms(value: &str, now_ms: i64) -> Option<u64> {
    let value = value.trim();
    if let Ok(s) = value.parse::<u64>() {
        return Some(s.saturating_mul(1000));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at_ms = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Some(u64::try_from(at_ms.saturating_sub(now_ms)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> BreakerRule {
        BreakerRule {
            failure_count: Some(2),
            failure_percentage: None,
            interval_ms: 60_000,
            status_ranges: vec![(429, 429), (500, 599)],
            count_errors: true,
            trip_ms: 30_000,
            accept_retry_after: true,
        }
    }

    #[test]
    fn trips_on_the_count_within_the_interval_only() {
        let h = BackendHealth::default();
        let r = rule();
        assert!(!h.record("a", Some(&r), true, None, 0));
        // The first failure has left the interval.
        assert!(!h.record("a", Some(&r), true, None, 61_000));
        assert!(!h.is_open("a", 61_000));
        assert!(h.record("a", Some(&r), true, None, 62_000));
        assert!(h.is_open("a", 62_000 + 29_999));
        assert!(!h.is_open("a", 62_000 + 30_000));
        assert_eq!(h.views()["a"].trips, 1);
    }

    #[test]
    fn retry_after_extends_the_trip_and_is_capped() {
        let h = BackendHealth::default();
        let mut r = rule();
        r.failure_count = Some(1);
        h.record("a", Some(&r), true, Some(90_000), 0);
        assert!(h.is_open("a", 89_999));
        assert!(!h.is_open("a", 90_000));
        h.record("b", Some(&r), true, Some(u64::MAX), 0);
        assert!(!h.is_open("b", i64::try_from(RETRY_AFTER_CAP_MS).unwrap()));
    }

    #[test]
    fn percentage_counts_the_share_of_failures() {
        let h = BackendHealth::default();
        let mut r = rule();
        r.failure_count = None;
        r.failure_percentage = Some(50);
        assert!(!h.record("a", Some(&r), false, None, 0));
        assert!(!h.record("a", Some(&r), false, None, 1));
        assert!(!h.record("a", Some(&r), true, None, 2), "1 of 3");
        assert!(h.record("a", Some(&r), true, None, 3), "2 of 4");
    }

    #[test]
    fn pools_go_by_priority_then_weight() {
        let h = BackendHealth::default();
        let m = |id: &str, priority, weight| PoolMember {
            id: id.into(),
            priority,
            weight,
        };
        let members = [m("a", 1, 3), m("b", 1, 1), m("c", 2, 1)];
        let picks: Vec<String> = (0..8).filter_map(|_| h.pick("p", &members, 0)).collect();
        assert_eq!(picks.iter().filter(|p| *p == "a").count(), 6);
        assert_eq!(picks.iter().filter(|p| *p == "b").count(), 2);
        let mut r = rule();
        r.failure_count = Some(1);
        h.record("a", Some(&r), true, None, 0);
        assert_eq!(h.pick("p", &members, 1).as_deref(), Some("b"));
        h.record("b", Some(&r), true, None, 0);
        assert_eq!(h.pick("p", &members, 1).as_deref(), Some("c"));
        h.record("c", Some(&r), true, None, 0);
        assert_eq!(h.pick("p", &members, 1), None);
        assert!(h.pick("p", &members, 30_000).is_some());
    }

    #[test]
    fn metrics_count_calls_and_trips() {
        let registry = prometheus::Registry::new();
        let h = BackendHealth::new(&registry).unwrap();
        let mut r = rule();
        r.failure_count = Some(1);
        h.record("east", Some(&r), false, None, 0);
        h.record("east", Some(&r), true, None, 1);
        let text = prometheus::TextEncoder::new()
            .encode_to_string(&registry.gather())
            .unwrap();
        assert!(
            text.contains("sluice_backend_requests_total{backend=\"east\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("sluice_backend_trips_total{backend=\"east\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("sluice_backend_open{backend=\"east\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn affinity_tokens_are_opaque_stable_and_tell_members_apart() {
        let m = |id: &str| PoolMember {
            id: id.into(),
            priority: 1,
            weight: 1,
        };
        let members = [m("east"), m("west")];
        let east = affinity_token("pool", "east");
        assert_eq!(east.len(), 32);
        assert!(!east.contains("east"));
        assert_eq!(east, affinity_token("pool", "east"));
        assert_ne!(east, affinity_token("pool", "west"));
        assert_ne!(east, affinity_token("other-pool", "east"));
        assert_eq!(
            affinity_member("pool", &members, &east).map(|m| m.id.as_str()),
            Some("east")
        );
        assert!(affinity_member("pool", &members, "nonsense").is_none());
    }

    #[test]
    fn retry_after_reads_seconds_or_an_http_date() {
        assert_eq!(retry_after_ms("10", 0), Some(10_000));
        assert_eq!(retry_after_ms("soon", 0), None);
        // Wed, 21 Oct 2015 07:28:00 GMT is 1445412480 s after the epoch.
        let date = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(retry_after_ms(date, 1_445_412_450_000), Some(30_000));
        assert_eq!(retry_after_ms(date, 1_445_412_490_000), Some(0), "past");
        assert_eq!(retry_after_ms("Wed, 21 Oct 2015", 0), None);
    }
}
