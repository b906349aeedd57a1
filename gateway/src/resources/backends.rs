//! The backends family: `[backends]`, the backend entities that
//! `set-backend-service backend-id` and `embeddings-backend-id` name. Every
//! plan reads them anew (a reload may change any of them); the state that
//! will outlive plans (pools, circuit breakers) belongs here.

use std::sync::Arc;

use sluice_engine::diag::Diagnostics;
use sluice_engine::runtime::{BackendEntity, Backends, Resources};

use super::{BuildCx, Family};
use crate::config::Config;

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
                    headers: b
                        .headers
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    timeout_ms: b.timeout.map(|s| s.saturating_mul(1000)),
                };
                (id.clone(), entity)
            })
            .collect(),
    )
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
