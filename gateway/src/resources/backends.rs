//! The backends family: `[backends]`, the backend entities that
//! `set-backend-service backend-id` and `embeddings-backend-id` name. Every
//! plan reads them anew (a reload may change any of them); the state that
//! outlives plans (circuit breakers, pools' round robin: [`BackendHealth`])
//! is the family's, and `GET /backends` shows it.

use std::sync::Arc;

use sluice_engine::diag::Diagnostics;
use sluice_engine::runtime::{
    BackendEntity, BackendIdentity, Backends, BoxFuture, BreakerRule, OutboundProxy, PoolMember,
    Resources, TlsChecks,
};
use sluice_policies::backend_health::BackendHealth;

use super::{AdminReply, AdminRequest, BuildCx, Family, Route};
use crate::config::Config;
use crate::config::model::OneOrMany;

/// The family keeps the breakers and pools' state across reloads.
#[derive(Debug, Default)]
pub struct BackendsFamily {
    pub health: Arc<BackendHealth>,
}

impl BackendsFamily {
    pub fn new(cx: &BuildCx<'_>) -> Result<Self, Diagnostics> {
        let health = BackendHealth::new(cx.registry).map_err(|e| {
            let mut d = Diagnostics::new();
            d.push(cx.error(0..0, format!("[backends]: cannot set up the metrics: {e}")));
            d
        })?;
        Ok(Self {
            health: Arc::new(health),
        })
    }

    /// `GET /backends`: each backend entity, its type and its breaker.
    fn status(&self, now: i64) -> AdminReply {
        let views = self.health.views();
        let list: serde_json::Map<String, serde_json::Value> = views
            .into_iter()
            .map(|(id, v)| {
                let open = v.open_until_ms.is_some_and(|t| now < t);
                (
                    id,
                    serde_json::json!({
                        "state": if open { "open" } else { "closed" },
                        "open-until-ms": v.open_until_ms.filter(|_| open),
                        "trips": v.trips,
                        "requests": v.requests,
                    }),
                )
            })
            .collect();
        AdminReply::json(200, &serde_json::json!({ "backends": list }))
    }
}

/// The backend entities of a configuration, by id. `base` and `env`
/// resolve proxy passwords (checked when the configuration loaded).
pub fn entities(
    config: &Config,
    base: &std::path::Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Backends {
    Backends(
        config
            .backends
            .iter()
            .map(|(id, b)| {
                let b = b.get_ref();
                let entity = BackendEntity {
                    url: b
                        .url
                        .as_ref()
                        .map(|u| u.get_ref().clone())
                        .unwrap_or_default(),
                    headers: pairs(&b.headers),
                    timeout_ms: b.timeout.map(|s| s.saturating_mul(1000)),
                    query: pairs(&b.query),
                    authorization: b.authorization.as_ref().map(|a| {
                        let a = a.get_ref();
                        (a.scheme.clone(), a.parameter.clone())
                    }),
                    certificates: b.certificate.iter().map(|c| c.get_ref().clone()).collect(),
                    managed_identity: b.managed_identity.as_ref().map(|m| {
                        let m = m.get_ref();
                        BackendIdentity {
                            resource: m.resource.clone(),
                            client_id: m.client_id.clone(),
                        }
                    }),
                    pool: b
                        .services
                        .iter()
                        .map(|m| {
                            let m = m.get_ref();
                            PoolMember {
                                id: m.id.clone(),
                                priority: m.priority,
                                weight: m.weight.unwrap_or(1),
                            }
                        })
                        .collect(),
                    breaker: b.circuit_breaker.as_ref().map(|c| {
                        let c = c.get_ref();
                        BreakerRule {
                            failure_count: c.failure_count,
                            failure_percentage: c.failure_percentage,
                            interval_ms: duration_ms(c.failure_interval.get_ref()).unwrap_or(0),
                            status_ranges: c
                                .status_code_ranges
                                .iter()
                                .map(|[lo, hi]| (*lo, *hi))
                                .collect(),
                            // APIM's error reasons are free text; any call
                            // that got no answer counts when some are given.
                            count_errors: !c.error_reasons.is_empty(),
                            trip_ms: duration_ms(c.trip_duration.get_ref()).unwrap_or(0),
                            accept_retry_after: c.accept_retry_after,
                        }
                    }),
                    affinity_cookie: b
                        .session_affinity
                        .as_ref()
                        .map(|a| a.get_ref().session_id.get_ref().name.get_ref().clone()),
                    azure_region: b.azure_region.clone(),
                    tls: b.tls.as_ref().map_or_else(TlsChecks::default, |t| {
                        let t = t.get_ref();
                        TlsChecks {
                            chain: t.validate_certificate_chain,
                            name: t.validate_certificate_name,
                        }
                    }),
                    proxy: b.proxy.as_ref().map(|p| {
                        let p = p.get_ref();
                        OutboundProxy {
                            url: p.url.get_ref().trim().to_owned(),
                            username: p.username.clone(),
                            password: p.password.as_ref().and_then(|pw| {
                                crate::config::resolve_value("", pw.get_ref(), base, env).ok()
                            }),
                        }
                    }),
                };
                (id.clone(), entity)
            })
            .collect(),
    )
}

/// Milliseconds of a duration: ISO 8601 (`PT1M`, `PT1H30M`, `P1D`,
/// `PT0.5S`) or `250ms`, `60s`, `2m`, `1h`.
pub fn duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('P').or_else(|| s.strip_prefix('p')) {
        let mut ms = 0f64;
        let mut time = false;
        let mut num = String::new();
        let mut any = false;
        for c in rest.chars() {
            match c.to_ascii_uppercase() {
                'T' if !time && num.is_empty() => time = true,
                d if d.is_ascii_digit() || d == '.' => num.push(d),
                u => {
                    let n: f64 = num.parse().ok()?;
                    num.clear();
                    let factor = match (time, u) {
                        (false, 'W') => 604_800_000.0,
                        (false, 'D') => 86_400_000.0,
                        (true, 'H') => 3_600_000.0,
                        (true, 'M') => 60_000.0,
                        (true, 'S') => 1_000.0,
                        _ => return None,
                    };
                    ms += n * factor;
                    any = true;
                }
            }
        }
        return (any && num.is_empty() && ms.is_finite()).then_some(ms as u64);
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// `{ name = "v" | ["v1", "v2"] }` as (name, value) pairs, one per value.
fn pairs(map: &std::collections::BTreeMap<String, OneOrMany>) -> Vec<(String, String)> {
    map.iter()
        .flat_map(|(k, v)| v.values().iter().map(move |v| (k.clone(), v.clone())))
        .collect()
}

impl Family for BackendsFamily {
    fn section(&self) -> &'static str {
        "backends"
    }

    fn routes(&self) -> &'static [Route] {
        &[Route {
            path: "/backends",
            methods: &["GET", "HEAD"],
        }]
    }

    /// On the gateway clock, the one the breakers trip and close on.
    fn admin<'a>(&'a self, req: AdminRequest<'a>) -> BoxFuture<'a, AdminReply> {
        let now = req.now_ms;
        Box::pin(async move { self.status(now) })
    }

    fn provide(&self, cx: &BuildCx<'_>, out: &mut Resources) -> Result<(), Diagnostics> {
        out.insert(Arc::new(entities(cx.config, cx.base, cx.env)));
        out.insert(Arc::clone(&self.health));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `GET /backends` says open or closed by the clock it is given (the
    /// gateway's), not the system's.
    #[test]
    fn status_reads_the_gateway_clock() {
        let family = BackendsFamily::default();
        let rule = BreakerRule {
            failure_count: Some(1),
            interval_ms: 60_000,
            status_ranges: vec![(500, 599)],
            trip_ms: 30_000,
            ..BreakerRule::default()
        };
        family.health.record("east", Some(&rule), true, None, 1_000);
        let at = |now_ms| {
            let reply = futures_executor(family.admin(AdminRequest {
                method: &hyper::Method::GET,
                path: "/backends",
                query: None,
                now_ms,
            }));
            serde_json::from_slice::<serde_json::Value>(&reply.body).unwrap()["backends"]["east"]
                .clone()
        };
        let open = at(10_000);
        assert_eq!(open["state"], "open");
        assert_eq!(open["open-until-ms"], 31_000);
        assert_eq!(open["trips"], 1);
        let closed = at(31_000);
        assert_eq!(closed["state"], "closed");
        assert!(closed["open-until-ms"].is_null());
    }

    fn futures_executor<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn durations_are_iso_8601_or_short() {
        assert_eq!(duration_ms("PT1M"), Some(60_000));
        assert_eq!(duration_ms("PT1H30M"), Some(5_400_000));
        assert_eq!(duration_ms("P1D"), Some(86_400_000));
        assert_eq!(duration_ms("PT0.5S"), Some(500));
        assert_eq!(duration_ms("60s"), Some(60_000));
        assert_eq!(duration_ms("250ms"), Some(250));
        assert_eq!(duration_ms("PT"), None);
        assert_eq!(duration_ms("P1M"), None, "months have no fixed length");
        assert_eq!(duration_ms("60"), None, "a unit is needed");
        assert_eq!(duration_ms("soon"), None);
    }
}
