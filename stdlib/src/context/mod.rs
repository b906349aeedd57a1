//! The `context` object of policy expressions (apim-core.md §7, §8, §10).
//!
//! - `mod.rs`: [`Context`], its records (Api, Operation, Product, ...),
//!   `Variables` and `LastError`
//! - `message.rs`: `IRequest`/`IResponse`, `IUrl`, headers, query, body
//! - `auth.rs`: the string extensions `AsJwt`, `TryParseJwt`, `AsBasic`, `TryParseBasic`
//!
//! The gateway builds one [`Context`] per request and changes it as policies
//! run; an expression gets a handle (`Dynamic::from(ctx.clone())`) under the
//! name `context` and reads what is there at that moment. Everything is
//! read-only from expressions, as in APIM.

mod auth;

pub use auth::authorization;
pub mod message;

#[cfg(test)]
mod tests;

use std::sync::{Arc, RwLock};

use indexmap::IndexMap;
use rhai::{Array, Dynamic, Engine, INT, ImmutableString, NativeCallContext};

use crate::core::{RhaiResult, throw, unbox};
pub use auth::jwt_value;
pub use message::{Body, Message, MessageRef, Multimap, Name, Url, Values};

/// A read-only record such as `context.Api` or `context.User`: named fields
/// of a .NET-named type.
#[derive(Clone, Debug, Default)]
pub struct Record {
    pub type_name: &'static str,
    pub fields: Fields,
}

impl Record {
    pub fn new(type_name: &'static str) -> Self {
        Self {
            type_name,
            fields: Fields::default(),
        }
    }

    pub fn with(mut self, name: &'static str, value: impl Into<Dynamic>) -> Self {
        self.fields.insert(name, value.into());
        self
    }
}

/// A record's fields in insertion order. Records have a handful of fields
/// and expressions read them often: a shared list, so that handing
/// `context.Api` to an expression does not copy it, searched linearly.
#[derive(Clone, Debug, Default)]
pub struct Fields(Arc<Vec<(&'static str, Dynamic)>>);

impl Fields {
    pub fn get(&self, name: &str) -> Option<&Dynamic> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Sets a field, replacing its value if it has one.
    pub fn insert(&mut self, name: &'static str, value: Dynamic) {
        let fields = Arc::make_mut(&mut self.0);
        match fields.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => *v = value,
            None => fields.push((name, value)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Dynamic)> {
        self.0.iter().map(|(n, v)| (*n, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `context.LastError`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LastError {
    pub source: String,
    pub reason: String,
    pub message: String,
    pub scope: String,
    pub section: String,
    pub path: String,
    pub policy_id: String,
}

/// Per-request state shared between the gateway and expressions.
#[derive(Debug, Default)]
pub struct ContextData {
    pub request: MessageRef,
    pub response: MessageRef,
    pub variables: RwLock<IndexMap<String, Dynamic>>,
    pub api: Option<Record>,
    pub operation: Option<Record>,
    pub product: Option<Record>,
    pub subscription: Option<Record>,
    pub user: Option<Record>,
    pub deployment: Option<Record>,
    pub workspace: Option<Record>,
    /// `context.Backend`: the backend entity `set-backend-service
    /// backend-id` chose (`Id`, `Type`, `AzureRegion`); null until then.
    pub backend: RwLock<Option<Record>>,
    pub last_error: RwLock<Option<LastError>>,
    /// `context.RequestId`.
    pub request_id: uuid::Uuid,
    /// When the request arrived, in milliseconds since the Unix epoch (gateway clock).
    pub timestamp_ms: i64,
    pub tracing: bool,
    /// Messages written by `context.Trace(...)` and the `trace` policy.
    pub traces: RwLock<Vec<String>>,
    /// Headers for the final response, whatever produces it, each added
    /// unless the response already has it (`cors` on an allowed cross-origin request).
    pub late_headers: RwLock<Vec<(String, String)>>,
    /// A CORS preflight that a `cors` policy with `terminate-unmatched-request="false"`
    /// did not match: unless a later `cors` answers it, inbound ends it with an empty `200 OK`.
    pub unanswered_preflight: std::sync::atomic::AtomicBool,
}

/// The handle expressions see as `context`.
#[derive(Clone, Debug, Default)]
pub struct Context(pub Arc<ContextData>);

impl Context {
    pub fn new(data: ContextData) -> Self {
        Self(Arc::new(data))
    }

    pub fn variables<T>(&self, f: impl FnOnce(&mut IndexMap<String, Dynamic>) -> T) -> T {
        match self.0.variables.write() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// Sets `context.Backend` (`None`: no backend entity, as after
    /// `set-backend-service base-url`).
    pub fn set_backend(&self, b: Option<Record>) {
        match self.0.backend.write() {
            Ok(mut g) => *g = b,
            Err(p) => *p.into_inner() = b,
        }
    }

    pub fn set_last_error(&self, e: Option<LastError>) {
        match self.0.last_error.write() {
            Ok(mut g) => *g = e,
            Err(p) => *p.into_inner() = e,
        }
    }
}

/// `context.Deployment`: `Certificates`, the gateway's certificates
/// (`IReadOnlyDictionary<string, X509Certificate2>`) by thumbprint (upper-case hex).
pub fn deployment_record(
    certificates: impl IntoIterator<Item = crate::X509Certificate2>,
) -> Record {
    let certificates = crate::collections::string_dictionary(
        "X509Certificate2",
        certificates
            .into_iter()
            .map(|c| (c.thumbprint(), Dynamic::from(c))),
    );
    Record::new("IDeployment").with("Certificates", Dynamic::from(certificates))
}

/// The name of the function that gives `context` inside a lambda (see
/// [`Current`]).
pub const CURRENT_CONTEXT_FN: &str = "context__current";

thread_local! {
    static CURRENT: std::cell::RefCell<Option<Context>> = const { std::cell::RefCell::new(None) };
}

/// The context of the evaluation running on this thread, for the lambdas
/// of an expression. A lambda that named the `context` variable would
/// capture it, which makes it a shared value in rhai: a chain on `context`
/// around the lambda (`context.Request.Headers.Any(h => ... context ...)`)
/// then holds it while the lambda reads it, a data race to rhai. The
/// translator has lambdas call [`CURRENT_CONTEXT_FN`] instead.
pub struct Current(Option<Context>);

impl Current {
    /// Sets the current context until the guard is dropped (the previous
    /// one, if any, comes back then).
    pub fn enter(context: &Context) -> Current {
        Current(CURRENT.with(|c| c.replace(Some(context.clone()))))
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// `context` inside a lambda: the evaluation's, or null outside one.
fn current_context() -> Dynamic {
    CURRENT
        .with(|c| c.borrow().clone())
        .map_or(Dynamic::UNIT, Dynamic::from)
}

/// `context.Variables`.
#[derive(Clone, Debug)]
pub struct Variables(Context);

fn opt(r: &Option<Record>) -> Dynamic {
    r.clone().map_or(Dynamic::UNIT, Dynamic::from)
}

/// Every field name a record may have: one getter each, which throws when
/// the record has no such field.
const RECORD_FIELDS: &[&str] = &[
    "Id",
    "Name",
    "Path",
    "Protocols",
    "ServiceUrl",
    "SubscriptionKeyParameterNames",
    "Header",
    "Query",
    "IsCurrentRevision",
    "Revision",
    "Version",
    "Method",
    "UrlTemplate",
    "ApprovalRequired",
    "Groups",
    "State",
    "SubscriptionLimit",
    "SubscriptionsLimit",
    "SubscriptionRequired",
    "CreatedDate",
    "EndDate",
    "Key",
    "PrimaryKey",
    "SecondaryKey",
    "StartDate",
    "Email",
    "FirstName",
    "LastName",
    "Identities",
    "Note",
    "RegistrationDate",
    "Region",
    "ServiceName",
    "Certificates",
    "ServiceId",
    "GatewayId",
    "Gateway",
    "InstanceId",
    "IsManaged",
    "Provider",
    "Value",
    "Algorithm",
    "Audiences",
    "Claims",
    "ExpirationTime",
    "Issuer",
    "IssuedAt",
    "NotBefore",
    "Subject",
    "Type",
    "UserId",
    "Password",
    "AccessToken",
    "AzureRegion",
];

/// The field name as the records know it, if records have such a field.
pub fn record_field(name: &str) -> Option<&'static str> {
    RECORD_FIELDS.iter().copied().find(|f| *f == name)
}

fn register_records(e: &mut Engine) {
    e.register_type_with_name::<Record>("Record");
    for &name in RECORD_FIELDS {
        e.register_get(name, move |r: &mut Record| -> RhaiResult<Dynamic> {
            match r.fields.get(name) {
                Some(v) => Ok(v.clone()),
                None => throw(
                    "MissingMemberException",
                    format!(
                        "'{}' does not contain a definition for '{name}'.",
                        r.type_name
                    ),
                ),
            }
        });
    }
}

fn register_variables(e: &mut Engine) {
    e.register_type_with_name::<Variables>("IReadOnlyDictionary")
        .register_indexer_get(
            |v: &mut Variables, name: ImmutableString| -> RhaiResult<Dynamic> {
                match v.0.variables(|m| m.get(name.as_str()).cloned()) {
                    Some(x) => Ok(x),
                    None => throw(
                        "KeyNotFoundException",
                        format!("The given key '{name}' was not present in the dictionary."),
                    ),
                }
            },
        )
        .register_fn("ContainsKey", |v: Variables, name: ImmutableString| {
            v.0.variables(|m| m.contains_key(name.as_str()))
        })
        .register_fn(
            "TryGetValue__out",
            |v: Variables, name: ImmutableString| -> Array {
                match v.0.variables(|m| m.get(name.as_str()).cloned()) {
                    Some(x) => vec![true.into(), x],
                    None => vec![false.into(), Dynamic::UNIT],
                }
            },
        )
        // `GetValueOrDefault(name[, default])`: the stored object as it is.
        .register_fn(
            "GetValueOrDefault",
            |v: Variables, name: ImmutableString| {
                v.0.variables(|m| m.get(name.as_str()).cloned())
                    .unwrap_or(Dynamic::UNIT)
            },
        )
        .register_fn(
            "GetValueOrDefault",
            |v: Variables, name: ImmutableString, default: Dynamic| {
                v.0.variables(|m| m.get(name.as_str()).cloned())
                    .unwrap_or(default)
            },
        )
        // `GetValueOrDefault<T>(name[, default])`, translated with the type
        // first under its own name: the stored value must be a `T` (strict, as APIM documents).
        .register_fn(
            "GetValueOrDefault__of",
            |v: Variables, ty: ImmutableString, name: ImmutableString, default: Dynamic| {
                typed(&v, &ty, &name, default)
            },
        )
        .register_get("Count", |v: &mut Variables| {
            v.0.variables(|m| m.len() as INT)
        })
        .register_get("Keys", |v: &mut Variables| -> Array {
            v.0.variables(|m| m.keys().map(|k| Dynamic::from(k.clone())).collect())
        })
        .register_fn("__items", |v: Variables| -> Array {
            v.0.variables(|m| {
                m.iter()
                    .map(|(k, x)| {
                        let mut r = Record::new("KeyValuePair");
                        r.fields.insert("Key", k.clone().into());
                        r.fields.insert("Value", x.clone());
                        Dynamic::from(r)
                    })
                    .collect()
            })
        });
}

fn typed(v: &Variables, ty: &str, name: &str, default: Dynamic) -> RhaiResult<Dynamic> {
    match v.0.variables(|m| m.get(name).cloned()) {
        None => Ok(default),
        Some(x) => unbox(x, ty),
    }
}

/// The two-argument generic form without a default: `GetValueOrDefault<T>(name)`
/// is translated with the type first; its default is `default(T)`.
fn default_of(ty: &str) -> Dynamic {
    match ty {
        "Int32" | "Int64" | "Int16" | "Byte" => Dynamic::from_int(0),
        "Double" | "Single" | "Decimal" => Dynamic::from_float(0.0),
        "Boolean" => Dynamic::FALSE,
        _ => Dynamic::UNIT,
    }
}

pub(crate) fn register(e: &mut Engine) {
    e.register_fn(CURRENT_CONTEXT_FN, current_context);
    message::register(e);
    auth::register(e);
    register_records(e);
    register_variables(e);
    e.register_fn(
        "GetValueOrDefault__of",
        |v: Variables, ty: ImmutableString, name: ImmutableString| {
            let d = default_of(&ty);
            typed(&v, &ty, &name, d)
        },
    );
    e.register_type_with_name::<LastError>("ProxyError")
        .register_get("Source", |x: &mut LastError| x.source.clone())
        .register_get("Reason", |x: &mut LastError| x.reason.clone())
        .register_get("Message", |x: &mut LastError| x.message.clone())
        .register_get("Scope", |x: &mut LastError| x.scope.clone())
        .register_get("Section", |x: &mut LastError| x.section.clone())
        .register_get("Path", |x: &mut LastError| x.path.clone())
        .register_get("PolicyId", |x: &mut LastError| x.policy_id.clone());
    e.register_type_with_name::<Context>("IContext")
        .register_get("Request", |c: &mut Context| c.0.request.clone())
        .register_get("Response", |c: &mut Context| c.0.response.clone())
        .register_get("Variables", |c: &mut Context| Variables(c.clone()))
        .register_get("Api", |c: &mut Context| opt(&c.0.api))
        .register_get("Operation", |c: &mut Context| opt(&c.0.operation))
        .register_get("Product", |c: &mut Context| opt(&c.0.product))
        .register_get("Subscription", |c: &mut Context| opt(&c.0.subscription))
        .register_get("User", |c: &mut Context| opt(&c.0.user))
        .register_get("Deployment", |c: &mut Context| opt(&c.0.deployment))
        .register_get("Workspace", |c: &mut Context| opt(&c.0.workspace))
        .register_get("Backend", |c: &mut Context| match c.0.backend.read() {
            Ok(g) => opt(&g),
            Err(p) => opt(&p.into_inner()),
        })
        .register_get("Tracing", |c: &mut Context| c.0.tracing)
        .register_get("LastError", |c: &mut Context| -> Dynamic {
            let e = match c.0.last_error.read() {
                Ok(g) => g.clone(),
                Err(p) => p.into_inner().clone(),
            };
            e.map_or(Dynamic::UNIT, Dynamic::from)
        })
        // A `Guid` built here, not through a by-name call of `Guid.Parse`.
        .register_get("RequestId", |c: &mut Context| {
            crate::text::Guid(c.0.request_id)
        })
        .register_get(
            "Timestamp",
            |ctx: NativeCallContext, c: &mut Context| -> RhaiResult<Dynamic> {
                let dto = ctx.call_native_fn::<Dynamic>(
                    "DateTimeOffset__FromUnixTimeMilliseconds",
                    (c.0.timestamp_ms,),
                )?;
                ctx.call_native_fn::<Dynamic>("get$UtcDateTime", (dto,))
            },
        )
        .register_get("Elapsed", |ctx: NativeCallContext, c: &mut Context| {
            let ms = (crate::core::now() - c.0.timestamp_ms).max(0);
            ctx.call_native_fn::<Dynamic>("TimeSpan__FromMilliseconds", (ms as f64,))
        })
        .register_fn("Trace", |c: Context, msg: ImmutableString| {
            match c.0.traces.write() {
                Ok(mut t) => t.push(msg.to_string()),
                Err(p) => p.into_inner().push(msg.to_string()),
            }
        });
}
