//! Subscriptions and products: a request's key (the API's key header, by
//! default `Ocp-Apim-Subscription-Key`, else its key query parameter, by
//! default `subscription-key`), the 401 answers, and the product whose
//! policy applies, as APIM's "How API Management handles requests with or
//! without subscription keys" says:
//!
//! - with a key: it must be one of an active subscription whose scope covers
//!   the API (its product, the API, all APIs), whether or not the API
//!   requires one; the product is the subscription's when it includes the API;
//! - without a key: the API's open product (`subscription-required = false`),
//!   if it has one, is its context; else the API must not require a key.

use sluice_engine::runtime::{Multimap, Pipeline, Url};

use super::{ApiPlan, OperationPlan, Plan, ProductPlan, Response, SubscriptionPlan};

const MISSING_KEY: &str = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to this API.";
const INVALID_KEY: &str = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.";

/// Whose request it is.
#[derive(Clone, Copy)]
pub(super) struct Subscriber<'p> {
    /// The subscription its key names, if the key is known.
    pub subscription: Option<&'p SubscriptionPlan>,
    /// The product whose policy applies: the subscription's, when it
    /// includes the API, or the API's open product for a request without a key.
    pub product: Option<&'p ProductPlan>,
}

impl<'p> Subscriber<'p> {
    /// The operation's pipeline for this subscriber's product (or none).
    pub fn pipeline<'o>(&self, op: &'o OperationPlan) -> Option<&'o Pipeline> {
        match self.product {
            Some(p) => op.pipelines.get(&p.key),
            None => op.pipelines.get(&None),
        }
    }
}

impl Plan {
    /// The subscriber of a request to `api`, or the 401 answer when its key
    /// is not one for the API, or it has none and the API needs one (a CORS
    /// `preflight` needs none: browsers send no credentials with it, as in APIM).
    pub(super) fn subscriber(
        &self,
        api: &ApiPlan,
        headers: &Multimap,
        url: &Url,
        preflight: bool,
    ) -> Result<Subscriber<'_>, Response> {
        let Some(key) = key(api, headers, url) else {
            let open = self
                .open_products
                .get(&api.name)
                .and_then(|p| self.products.get(p));
            if open.is_none() && api.subscription_required && !preflight {
                return Err(Response::error(401, MISSING_KEY));
            }
            return Ok(Subscriber {
                subscription: None,
                product: open,
            });
        };
        let subscription = self.subscriptions.get(key).filter(|s| self.covers(s, api));
        if subscription.is_none() && !preflight {
            return Err(Response::error(401, INVALID_KEY));
        }
        let product = subscription
            .and_then(|s| s.product.as_ref())
            .filter(|p| {
                self.product_apis
                    .get(*p)
                    .is_some_and(|apis| apis.contains(&api.name))
            })
            .and_then(|p| self.products.get(p));
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
