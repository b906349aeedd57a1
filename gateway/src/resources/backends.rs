//! The backends family: `[backends]`, the backend entities that
//! `set-backend-service backend-id` and `embeddings-backend-id` name. Every
//! plan reads them anew (a reload may change any of them); the state that
//! will outlive plans (pools, circuit breakers) belongs here.

use std::sync::Arc;

use sluice_engine::diag::Diagnostics;
use sluice_engine::runtime::{BackendEntity, BackendIdentity, Backends, Resources};

use super::{BuildCx, Family};
use crate::config::Config;
use crate::config::model::OneOrMany;

#[derive(Debug, Default)]
pub struct BackendsFamily;

/// The backend entities of a configuration, by id.
pub fn entities(config: &Config) -> Backends {
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
                };
                (id.clone(), entity)
            })
            .collect(),
    )
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

    fn provide(&self, cx: &BuildCx<'_>, out: &mut Resources) -> Result<(), Diagnostics> {
        out.insert(Arc::new(entities(cx.config)));
        Ok(())
    }
}
