//! Subscriptions and products: a request's key (the API's key header, by default `Ocp-Apim-Subscription-Key`,
//! else its key query parameter, by default `subscription-key`), the 401 answers of
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
        let key = key(api, headers, url);
        let mut subscription = key.and_then(|k| self.subscriptions.get(k));
        if api.subscription_required {
            // An API that requires a key takes only one whose scope covers it.
            subscription = subscription.filter(|s| self.covers(s, api));
        }
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

impl Plan {
    /// Whether a subscription's scope covers `api`: its API, or an API of
    /// its product, or every API when it names neither.
    fn covers(&self, s: &SubscriptionPlan, api: &ApiPlan) -> bool {
        match (&s.api, &s.product) {
            // Every revision of the API (`name;rev=n`) is the API.
            (Some(a), _) => api.name.split(";rev=").next() == Some(a.as_str()),
            (None, Some(p)) => self
                .product_apis
                .get(p)
                .is_some_and(|apis| apis.contains(&api.name)),
            // (An extract's product lists the revisions of its APIs: `config/apiops`.)
            _ => true,
        }
    }
}

/// The subscription key: the API's header, else its query parameter.
fn key<'r>(api: &ApiPlan, headers: &'r Multimap, url: &'r Url) -> Option<&'r str> {
    headers
        .get(&api.key_header)
        .and_then(|v| v.first())
        .or_else(|| url.query.get(&api.key_query).and_then(|v| v.first()))
        .map(String::as_str)
}
