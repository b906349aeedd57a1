//! The endpoints of the outside services that policies call over HTTP:
//! the Dapr sidecar (`publish-to-dapr`, `invoke-dapr-binding`) and the
//! Service Bus namespaces (`send-service-bus-message`). The gateway's
//! `[dapr]` and `[service-bus.NAMESPACE]` sections fill them; a stage
//! takes them with `cx.resource::<Endpoints>(e)`.

use std::collections::BTreeMap;

/// What a plan's stages may call.
#[derive(Debug, Default)]
pub struct Endpoints {
    /// `[dapr] endpoint`: the sidecar's HTTP base URL (no trailing `/`).
    pub dapr: Option<String>,
    /// `[service-bus.NAMESPACE]`, by the namespace's name as policies give
    /// it (`my-bus.servicebus.windows.net`).
    pub service_bus: BTreeMap<String, ServiceBusNamespace>,
}

/// One Service Bus namespace.
pub struct ServiceBusNamespace {
    /// The REST API's base URL (`https://NAMESPACE` by default; no trailing `/`).
    pub endpoint: String,
    pub auth: ServiceBusAuth,
}

impl std::fmt::Debug for ServiceBusNamespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceBusNamespace")
            .field("endpoint", &self.endpoint)
            .field("auth", &self.auth)
            .finish()
    }
}

/// How messages to a namespace are authorized.
pub enum ServiceBusAuth {
    /// A token of the gateway's identity (the policy's `client-id` selects
    /// a user-assigned one), for `https://servicebus.azure.net`.
    ManagedIdentity,
    /// A shared access signature made with a SAS key (a secret, never printed).
    SasKey { name: String, key: String },
}

impl std::fmt::Debug for ServiceBusAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ManagedIdentity => f.write_str("ManagedIdentity"),
            Self::SasKey { name, .. } => f
                .debug_struct("SasKey")
                .field("name", name)
                .field("key", &"***")
                .finish(),
        }
    }
}

/// The resource a Service Bus token is for.
pub const SERVICE_BUS_RESOURCE: &str = "https://servicebus.azure.net";

/// A shared access signature for `uri` (the entity's URL), valid until
/// `expiry` (seconds since the epoch): Service Bus's documented token,
/// `SharedAccessSignature sr=URI&sig=SIG&se=EXPIRY&skn=NAME`, where SIG is
/// the base64 HMAC-SHA256, under the key, of the URL-encoded URI, a newline
/// and the expiry.
pub fn sas_token(uri: &str, key_name: &str, key: &str, expiry: i64) -> String {
    use base64::Engine as _;
    use hmac::{KeyInit, Mac};
    let encoded: String = form_urlencoded::byte_serialize(uri.as_bytes()).collect();
    let to_sign = format!("{encoded}\n{expiry}");
    let sig = match hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(to_sign.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    let sig: String = form_urlencoded::byte_serialize(sig.as_bytes()).collect();
    let name: String = form_urlencoded::byte_serialize(key_name.as_bytes()).collect();
    format!("SharedAccessSignature sr={encoded}&sig={sig}&se={expiry}&skn={name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sas_token_signs_the_encoded_uri_and_expiry() {
        let t = sas_token(
            "https://bus.servicebus.windows.net/orders",
            "send",
            "c2VjcmV0",
            1_700_000_000,
        );
        assert!(t.starts_with(
            "SharedAccessSignature sr=https%3A%2F%2Fbus.servicebus.windows.net%2Forders&sig="
        ));
        assert!(t.ends_with("&se=1700000000&skn=send"));
        // The signature is HMAC-SHA256 of "ENCODED\nEXPIRY" under the key's bytes,
        // checked against an independent computation (Python's hmac module):
        // hmac.new(b"c2VjcmV0", b"https%3A%2F%2Fbus.servicebus.windows.net%2Forders\n1700000000", sha256)
        let sig = t.split("&sig=").nth(1).and_then(|s| s.split('&').next());
        assert_eq!(sig, Some(EXPECTED_SIG));
    }

    const EXPECTED_SIG: &str = "3lrgESghJEZCJe%2Fav%2FWs1vKlsRe5CHDEC6XgJ27SUSo%3D";
}
