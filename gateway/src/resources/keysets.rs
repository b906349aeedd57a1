//! The key-sets family: the signing keys of the `openid-config` URLs that
//! `validate-jwt` and `validate-azure-ad-token` name (and the Entra tenants
//! the latter implies), cached per URL across every plan of a gateway, so
//! a reload keeps them (`sluice_policies::jwt::keysets` says how they are
//! fetched, cached and refetched).
//!
//! When a plan starts serving, [`Family::warm`] fetches the URLs it names
//! that have no keys yet; one that cannot be fetched is a warning in the
//! log (not a refusal of the plan): its tokens are refused, as APIM refuses
//! tokens whose keys it cannot get, until a later fetch succeeds.

use std::sync::Arc;

use sluice_engine::diag::Diagnostics;
use sluice_engine::runtime::{BoxFuture, Resources, Services};
use sluice_policies::jwt::keysets::{Config, KeySets};

use super::{BuildCx, Family};

pub struct KeySetsFamily {
    pub sets: Arc<KeySets>,
    log: bool,
}

impl KeySetsFamily {
    pub fn new(cx: &BuildCx<'_>) -> Result<Self, Diagnostics> {
        let config = Config {
            log: cx.mode.log,
            ..Config::default()
        };
        let sets = KeySets::new(config, cx.registry).map_err(|e| {
            let mut d = Diagnostics::new();
            d.push(cx.error(0..0, format!("cannot set up the key sets' metrics: {e}")));
            d
        })?;
        Ok(Self {
            sets: Arc::new(sets),
            log: cx.mode.log,
        })
    }
}

impl Family for KeySetsFamily {
    fn section(&self) -> &'static str {
        "keysets"
    }

    fn provide(&self, _: &BuildCx<'_>, out: &mut Resources) -> Result<(), Diagnostics> {
        out.insert(Arc::clone(&self.sets));
        Ok(())
    }

    fn warm(&self, services: Arc<dyn Services>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            for w in self.sets.warm(services.as_ref()).await {
                if self.log {
                    tracing::warn!("{w}");
                }
            }
        })
    }
}
