//! Subscriptions and products: a request's key (the `Ocp-Apim-Subscription-Key`
//! header, else the `subscription-key` query parameter), the 401 answers of
//! an API that requires one, and the product whose policy applies (the
//! subscription's, when it includes the API).

use sluice_engine::runtime::{Multimap, Pipeline, Url};

use super::{ApiPlan, OperationPlan, Plan, Response, SubscriptionPlan};

const MISSING_KEY: &str = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to this API.";
const INVALID_KEY: &str = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.";

/// Whose request it is.
#[derive(Clone, Copy)]
pub(super) struct Subscriber<'p> {
    /// The subscription its key names, if the key is known.
    pub subscription: Option<&'p SubscriptionPlan>,
    /// The same subscription when its product includes the API: that
    /// product's policy applies.
    pub product: Option<&'p SubscriptionPlan>,
}

impl<'p> Subscriber<'p> {
    /// The operation's pipeline for this subscriber's product (or none).
    pub fn pipeline<'o>(&self, op: &'o OperationPlan) -> Option<&'o Pipeline> {
        match self.product {
            Some(s) => op.pipelines.get(&s.product),
            None => op.pipelines.get(&None),
        }
    }
}

impl Plan {
    /// The subscriber of a request to `api`, or the 401 answer when the API
    /// requires a key and the request has none or an unknown one (a CORS
    /// `preflight` needs none: browsers send no credentials with it, as in APIM).
    pub(super) fn subscriber(
        &self,
        api: &ApiPlan,
        headers: &Multimap,
        url: &Url,
        preflight: bool,
    ) -> Result<Subscriber<'_>, Response> {
        let key = key(headers, url);
        let subscription = key.and_then(|k| self.subscriptions.get(k));
        if api.subscription_required && !preflight {
            match (key, subscription) {
                (None, _) => return Err(Response::error(401, MISSING_KEY)),
                (Some(_), None) => return Err(Response::error(401, INVALID_KEY)),
                _ => {}
            }
        }
        let product = subscription.filter(|s| {
            s.product.as_ref().is_some_and(|p| {
                self.product_apis
                    .get(p)
                    .is_some_and(|apis| apis.contains(&api.name))
            })
        });
        Ok(Subscriber {
            subscription,
            product,
        })
    }
}

/// The subscription key: header, else query.
fn key<'r>(headers: &'r Multimap, url: &'r Url) -> Option<&'r str> {
    headers
        .get("Ocp-Apim-Subscription-Key")
        .and_then(|v| v.first())
        .or_else(|| url.query.get("subscription-key").and_then(|v| v.first()))
        .map(String::as_str)
}
