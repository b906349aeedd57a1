//! The content-safety family: the state `llm-content-safety` keeps across
//! plans (`sluice_policies::content_safety::ContentSafety`: its metrics in
//! the one registry, and which Content Safety backends are failing, so an
//! outage is logged once when it starts and once when it ends, whatever
//! reloads happen meanwhile). It has no section: the service is a backend
//! entity (`[backends.ID]`), which the policy's `backend-id` names.

use std::sync::Arc;

use sluice_engine::diag::Diagnostics;
use sluice_engine::runtime::Resources;
use sluice_policies::content_safety::ContentSafety;

use super::{BuildCx, Family};

pub struct ContentSafetyFamily {
    state: Arc<ContentSafety>,
}

impl ContentSafetyFamily {
    pub fn new(cx: &BuildCx<'_>) -> Result<Self, Diagnostics> {
        let state = ContentSafety::new(cx.registry, cx.mode.log).map_err(|e| {
            let mut d = Diagnostics::new();
            d.push(cx.error(
                0..0,
                format!("cannot set up the content safety metrics: {e}"),
            ));
            d
        })?;
        Ok(Self {
            state: Arc::new(state),
        })
    }
}

impl Family for ContentSafetyFamily {
    fn section(&self) -> &'static str {
        "content-safety"
    }

    fn provide(&self, _: &BuildCx<'_>, out: &mut Resources) -> Result<(), Diagnostics> {
        out.insert(Arc::clone(&self.state));
        Ok(())
    }
}
