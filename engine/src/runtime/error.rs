//! Runtime errors: a policy's failure ([`PolicyError`], what
//! `context.LastError` reports and what drives `on-error`), its [`Reason`],
//! and the failure of an outbound call ([`CallError`]).
//!
//! Like pingora's errors, a failure has a kind (the [`Reason`]), a source
//! (the failing policy) and an optional cause (the [`Cause`] underneath,
//! kept whole and returned by [`std::error::Error::source`]). They are built
//! only on failures: the success path carries none of them.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// The error underneath a failure (hyper's, an IO error, a message), kept
/// whole rather than flattened to a string; shared, since errors are cloned.
pub type Cause = Arc<dyn Error + Send + Sync>;

/// Why a policy failed: `context.LastError.Reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// An expression failed, or its value does not fit where it is used.
    ExpressionValueEvaluationFailure,
    /// An outbound call got no answer in time (`forward-request`, `send-request`).
    Timeout,
    /// An outbound call could not connect, or its answer broke off.
    BackendConnectionFailure,
    /// The backend answered with an error status (`fail-on-error-status-code`).
    BackendError,
    /// `set-backend-service backend-id` names no backend entity.
    BackendNotFound,
    /// A backend entity's circuit breaker is open, or no member of a pool can take the call.
    BackendUnavailable,
    /// `rewrite-uri` names a template parameter the operation does not have.
    TemplateParameterNotFound,
    /// `check-header`: the header is missing.
    HeaderNotFound,
    /// `check-header`: no value of the header is allowed.
    HeaderValueNotAllowed,
    /// `ip-filter action="allow"`: the caller is not in the list.
    CallerIpNotAllowed,
    /// `ip-filter action="forbid"`: the caller is in the list.
    CallerIpBlocked,
    /// `ip-filter`: the caller's address is not an IP address.
    FailedToParseCallerIP,
    /// The client broke off, or sent a body that cannot be read, while a
    /// call was sending it on.
    ClientConnectionFailure,
    /// `rate-limit`, `rate-limit-by-key`: over the calls of the window.
    RateLimitExceeded,
    /// `quota`, `quota-by-key`: over the calls or bandwidth of the period.
    QuotaExceeded,
    /// `limit-concurrency`: over `max-count` (not in APIM's list of reasons).
    ConcurrencyLimitExceeded,
    /// `validate-client-certificate`: no certificate, or one that fails a rule.
    ClientCertificateNotValid,
    /// `authentication-certificate`: no such certificate, or none with a private key.
    CertificateNotFound,
    /// A validation policy (`validate-content`, ...) with `prevent` refused the request.
    ValidationBadRequest,
    /// A validation policy with `prevent` refused the response.
    ValidationResponseNotAllowed,
    /// `jsonp`: the callback parameter is not a JavaScript identifier.
    CallbackParameterInvalid,
    /// `validate-jwt`, `validate-azure-ad-token`: no token where the policy looks.
    TokenNotPresent,
    /// The token's signature does not verify (or it is not signed).
    TokenSignatureInvalid,
    /// No key of the policy matches the token's `kid` (or its algorithm).
    TokenSignatureKeyNotFound,
    TokenAudienceNotAllowed,
    TokenIssuerNotAllowed,
    TokenExpired,
    /// A required claim is missing.
    TokenClaimNotFound,
    /// A required claim has none (or not all) of the values asked for.
    TokenClaimValueNotAllowed,
    /// Any other failure of a token: not a JWT, not yet valid, no `exp`.
    JwtInvalid,
    /// `authentication-managed-identity`: no token could be obtained (the name is ours: APIM documents none).
    ManagedIdentityTokenError,
    /// `get-authorization-context`: the connection is not configured, or gave no token (the name is ours).
    AuthorizationContextError,
    /// `llm-content-safety`: Azure AI Content Safety found what the policy blocks (the name is ours).
    ContentSafetyViolation,
}

impl Reason {
    /// The name `context.LastError.Reason` shows (APIM's, unchanged).
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::ExpressionValueEvaluationFailure => "ExpressionValueEvaluationFailure",
            Reason::Timeout => "Timeout",
            Reason::BackendConnectionFailure => "BackendConnectionFailure",
            Reason::BackendError => "BackendError",
            Reason::BackendNotFound => "BackendNotFound",
            Reason::BackendUnavailable => "BackendUnavailable",
            Reason::TemplateParameterNotFound => "TemplateParameterNotFound",
            Reason::HeaderNotFound => "HeaderNotFound",
            Reason::HeaderValueNotAllowed => "HeaderValueNotAllowed",
            Reason::CallerIpNotAllowed => "CallerIpNotAllowed",
            Reason::CallerIpBlocked => "CallerIpBlocked",
            Reason::FailedToParseCallerIP => "FailedToParseCallerIP",
            Reason::ClientConnectionFailure => "ClientConnectionFailure",
            Reason::RateLimitExceeded => "RateLimitExceeded",
            Reason::QuotaExceeded => "QuotaExceeded",
            Reason::ConcurrencyLimitExceeded => "ConcurrencyLimitExceeded",
            Reason::ClientCertificateNotValid => "ClientCertificateNotValid",
            Reason::CertificateNotFound => "CertificateNotFound",
            // The validation policies' reasons, as their docs spell them.
            Reason::ValidationBadRequest => "Bad request",
            Reason::ValidationResponseNotAllowed => "Response not allowed",
            Reason::CallbackParameterInvalid => "CallbackParameterInvalid",
            Reason::TokenNotPresent => "TokenNotPresent",
            Reason::TokenSignatureInvalid => "TokenSignatureInvalid",
            Reason::TokenSignatureKeyNotFound => "TokenSignatureKeyNotFound",
            Reason::TokenAudienceNotAllowed => "TokenAudienceNotAllowed",
            Reason::TokenIssuerNotAllowed => "TokenIssuerNotAllowed",
            Reason::TokenExpired => "TokenExpired",
            Reason::TokenClaimNotFound => "TokenClaimNotFound",
            Reason::TokenClaimValueNotAllowed => "TokenClaimValueNotAllowed",
            Reason::JwtInvalid => "JwtInvalid",
            Reason::ManagedIdentityTokenError => "ManagedIdentityTokenError",
            Reason::AuthorizationContextError => "AuthorizationContextError",
            Reason::ContentSafetyViolation => "ContentSafetyViolation",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy's runtime failure; the executor completes it into `context.LastError`.
#[derive(Clone, Debug)]
pub struct PolicyError {
    /// The policy (or built-in step) that failed: `check-header`, `configuration`.
    pub source: String,
    /// Machine-friendly: `ExpressionValueEvaluationFailure`, `HeaderNotFound`, ...
    pub reason: Reason,
    /// `context.LastError.Message`.
    pub message: String,
    /// The status the client gets if `on-error` does not change it.
    pub status: u16,
    /// Set by the executor: where the failing policy is.
    pub path: String,
    pub policy_id: String,
    /// The scope of the failing policy, set by the executor.
    pub scope: String,
    /// What the client is told, when it differs from `message` (check-header's
    /// `failed-check-error-message`); `None`: `message`, or a generic text for 500.
    pub response_message: Option<String>,
    /// The response's reason phrase, when not the status's standard one
    /// (`Backend pool <id> is temporarily unavailable`).
    pub response_reason: Option<String>,
    /// The error underneath (a failed call's), for logs; `message` already says it in words.
    pub cause: Option<Cause>,
}

impl PolicyError {
    pub fn new(source: &str, reason: Reason, status: u16, message: impl Into<String>) -> Self {
        Self {
            source: source.to_owned(),
            reason,
            message: message.into(),
            status,
            path: String::new(),
            policy_id: String::new(),
            scope: String::new(),
            response_message: None,
            response_reason: None,
            cause: None,
        }
    }

    pub fn with_response_reason(mut self, r: impl Into<String>) -> Self {
        self.response_reason = Some(r.into());
        self
    }

    pub fn with_response_message(mut self, m: impl Into<String>) -> Self {
        self.response_message = Some(m.into());
        self
    }

    pub fn with_cause(mut self, cause: Cause) -> Self {
        self.cause = Some(cause);
        self
    }
}

/// Equal when what `context.LastError` and the client see is equal; the
/// cause is not compared (an error has no equality).
impl PartialEq for PolicyError {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
            && self.reason == other.reason
            && self.message == other.message
            && self.status == other.status
            && self.path == other.path
            && self.policy_id == other.policy_id
            && self.scope == other.scope
            && self.response_message == other.response_message
            && self.response_reason == other.response_reason
    }
}

impl Eq for PolicyError {}

/// `source/reason: message`, as `context.LastError` has them.
impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.source.is_empty() {
            write!(f, "{}/", self.source)?;
        }
        write!(f, "{}: {}", self.reason, self.message)
    }
}

impl Error for PolicyError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause.as_deref().map(|c| c as &(dyn Error + 'static))
    }
}

/// Why an outbound call failed.
#[derive(Clone, Debug)]
pub enum CallError {
    /// No answer in time.
    Timeout,
    /// The call could not be made, or its answer broke off: the error as the
    /// client reported it (see [`error_chain`] for it in words).
    Connection(Cause),
}

impl CallError {
    /// A connection failure caused by `e`: an error (hyper's, IO) or a message.
    pub fn connection(e: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        CallError::Connection(Arc::from(e.into()))
    }

    /// A failure of the client's body while it was being sent on (it broke
    /// off, or is not valid HTTP): the client's fault, not the backend's.
    pub fn client_body(message: impl Into<String>) -> Self {
        CallError::Connection(Arc::new(ClientBodyError(message.into())))
    }

    /// Whether the call failed because of the client's body
    /// ([`CallError::client_body`]), however deep the client wrapped it.
    pub fn is_client_body(&self) -> bool {
        let mut e: Option<&(dyn Error + 'static)> = self.cause().map(|c| &**c as _);
        while let Some(err) = e {
            if err.is::<ClientBodyError>() {
                return true;
            }
            e = err.source();
        }
        false
    }

    /// The error underneath, if any.
    pub fn cause(&self) -> Option<&Cause> {
        match self {
            CallError::Timeout => None,
            CallError::Connection(c) => Some(c),
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Timeout => f.write_str("the call timed out"),
            CallError::Connection(_) => f.write_str("the connection failed"),
        }
    }
}

impl Error for CallError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause().map(|c| &**c as &(dyn Error + 'static))
    }
}

/// The client's body failed while a call sent it on.
#[derive(Debug)]
pub struct ClientBodyError(String);

impl fmt::Display for ClientBodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for ClientBodyError {}

/// An error and its causes, as one line: `a: b: c`.
pub fn error_chain(e: &(dyn Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Io;

    impl fmt::Display for Io {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("connection refused")
        }
    }

    impl Error for Io {}

    #[derive(Debug)]
    struct Hyper(Io);

    impl fmt::Display for Hyper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("client error (Connect)")
        }
    }

    impl Error for Hyper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_call_error_keeps_its_cause() {
        let e = CallError::connection(Hyper(Io));
        let cause = e.cause().map(|c| error_chain(&**c));
        assert_eq!(
            cause.as_deref(),
            Some("client error (Connect): connection refused")
        );
        assert_eq!(
            error_chain(&e),
            "the connection failed: client error (Connect): connection refused"
        );
        assert!(CallError::Timeout.cause().is_none());
        // A message alone: its Debug is the message's, as when it was a `String`.
        assert_eq!(
            format!("{:?}", CallError::connection("refused")),
            "Connection(\"refused\")"
        );
    }

    #[test]
    fn a_policy_error_returns_its_cause_as_source() {
        let cause: Cause = Arc::new(Hyper(Io));
        let e = PolicyError::new(
            "send-request",
            Reason::BackendConnectionFailure,
            500,
            "failed",
        )
        .with_cause(cause);
        assert_eq!(
            e.to_string(),
            "send-request/BackendConnectionFailure: failed"
        );
        assert_eq!(
            error_chain(&e),
            "send-request/BackendConnectionFailure: failed: client error (Connect): connection refused"
        );
        let plain = PolicyError::new("", Reason::Timeout, 504, "late");
        assert!(plain.source().is_none());
        assert_eq!(plain.to_string(), "Timeout: late");
    }

    #[test]
    fn reasons_are_apim_names() {
        for (r, s) in [
            (
                Reason::ExpressionValueEvaluationFailure,
                "ExpressionValueEvaluationFailure",
            ),
            (Reason::Timeout, "Timeout"),
            (Reason::BackendConnectionFailure, "BackendConnectionFailure"),
            (Reason::BackendError, "BackendError"),
            (Reason::BackendNotFound, "BackendNotFound"),
            (Reason::BackendUnavailable, "BackendUnavailable"),
            (
                Reason::TemplateParameterNotFound,
                "TemplateParameterNotFound",
            ),
            (Reason::HeaderNotFound, "HeaderNotFound"),
            (Reason::HeaderValueNotAllowed, "HeaderValueNotAllowed"),
            (Reason::CallerIpNotAllowed, "CallerIpNotAllowed"),
            (Reason::CallerIpBlocked, "CallerIpBlocked"),
            (Reason::FailedToParseCallerIP, "FailedToParseCallerIP"),
            (Reason::ClientConnectionFailure, "ClientConnectionFailure"),
            (Reason::ValidationBadRequest, "Bad request"),
            (Reason::ValidationResponseNotAllowed, "Response not allowed"),
            (Reason::CallbackParameterInvalid, "CallbackParameterInvalid"),
            (Reason::TokenNotPresent, "TokenNotPresent"),
            (Reason::TokenSignatureInvalid, "TokenSignatureInvalid"),
            (
                Reason::TokenSignatureKeyNotFound,
                "TokenSignatureKeyNotFound",
            ),
            (Reason::TokenAudienceNotAllowed, "TokenAudienceNotAllowed"),
            (Reason::TokenIssuerNotAllowed, "TokenIssuerNotAllowed"),
            (Reason::TokenExpired, "TokenExpired"),
            (Reason::TokenClaimNotFound, "TokenClaimNotFound"),
            (
                Reason::TokenClaimValueNotAllowed,
                "TokenClaimValueNotAllowed",
            ),
            (Reason::JwtInvalid, "JwtInvalid"),
        ] {
            assert_eq!((r.as_str(), r.to_string()), (s, s.to_owned()));
        }
    }

    #[test]
    fn a_client_body_failure_is_found_under_the_clients_wrapping() {
        #[derive(Debug)]
        struct Wrapped(CallError);
        impl fmt::Display for Wrapped {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("error from user's Body stream")
            }
        }
        impl Error for Wrapped {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        let inner = CallError::client_body("the client broke off");
        assert!(inner.is_client_body());
        assert!(CallError::connection(Wrapped(inner)).is_client_body());
        assert!(!CallError::connection("connection refused").is_client_body());
        assert!(!CallError::Timeout.is_client_body());
    }
}
