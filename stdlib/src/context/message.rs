//! Requests and responses as expressions see them: `IRequest`, `IResponse`,
//! `IUrl`, header and query dictionaries, and `IMessageBody`.

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

use smallvec::SmallVec;

use rhai::{Array, Dynamic, Engine, INT, ImmutableString, NativeCallContext};

use crate::core::{RhaiResult, throw};

/// A header or query parameter name. The usual header names are not
/// copied: a message's headers pass through the gateway several times
/// (from the client, to the backend, back), and most are these.
pub type Name = Cow<'static, str>;

/// The values of one name: one, the usual case, without a list on the heap.
pub type Values = SmallVec<[String; 1]>;

/// `name` as a [`Name`]: borrowed when it is one of the usual header names
/// (as HTTP/1.1 and HTTP/2 deliver them, lower-case, or as policies usually
/// write them), else copied.
pub fn name(name: &str) -> Name {
    let same_length: &[&'static str] = match name.len() {
        4 => &["date", "etag", "host", "vary", "Host"],
        6 => &["accept", "cookie", "origin", "server", "Accept"],
        7 => &["expires", "referer"],
        8 => &["location", "Location"],
        10 => &["connection", "set-cookie", "user-agent"],
        11 => &["traceparent"],
        12 => &["content-type", "x-request-id", "Content-Type"],
        13 => &[
            "authorization",
            "cache-control",
            "last-modified",
            "Authorization",
        ],
        14 => &["content-length", "Content-Length"],
        15 => &[
            "accept-encoding",
            "accept-language",
            "x-forwarded-for",
            "X-Forwarded-For",
        ],
        16 => &["content-encoding", "x-forwarded-host"],
        17 => &["transfer-encoding", "x-forwarded-proto"],
        25 => &["ocp-apim-subscription-key"],
        _ => &[],
    };
    match same_length.iter().find(|u| **u == name) {
        Some(u) => Cow::Borrowed(u),
        None => Cow::Owned(name.to_owned()),
    }
}

/// Header or query values by name: names compare case-insensitively (HTTP),
/// order of first appearance is kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Multimap(pub Vec<(Name, Values)>);

impl Multimap {
    pub fn get(&self, name: &str) -> Option<&Values> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Adds a value, after any the name already has.
    pub fn append(&mut self, name: &str, value: &str) {
        self.append_owned(name, value.to_owned());
    }

    /// [`Multimap::append`] of a value already owned.
    pub fn append_owned(&mut self, name: &str, value: String) {
        match self
            .0
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some((_, v)) => v.push(value),
            None => self.0.push((self::name(name), smallvec::smallvec![value])),
        }
    }

    /// Replaces all values of a name.
    pub fn set(&mut self, name: &str, values: impl Into<Values>) {
        let values = values.into();
        match self
            .0
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some((_, v)) => *v = values,
            None => self.0.push((self::name(name), values)),
        }
    }

    /// Replaces all values of a name with one.
    pub fn set_one(&mut self, name: &str, value: String) {
        self.set(name, Values::from_buf([value]));
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
}

/// `IUrl`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Url {
    /// `http` and `https` borrowed (not copied per request).
    pub scheme: Name,
    pub host: String,
    pub port: u16,
    pub path: String,
    /// Shared until changed (`Arc::make_mut`): copying a URL, or reading its
    /// `Query` in an expression, does not copy the query.
    pub query: Arc<Multimap>,
}

impl Url {
    /// Parses an absolute `http(s)` URL (the gateway gives well-formed ones).
    pub fn parse(s: &str) -> Option<Url> {
        let (scheme, rest) = s.split_once("://")?;
        let (authority, path_query) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (h, p.parse().ok()?),
            _ => (
                authority,
                if scheme.eq_ignore_ascii_case("https") {
                    443
                } else {
                    80
                },
            ),
        };
        let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
        let mut q = Multimap::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            q.append(&decode(k), &decode(v));
        }
        Some(Url {
            scheme: if scheme.eq_ignore_ascii_case("http") {
                Cow::Borrowed("http")
            } else if scheme.eq_ignore_ascii_case("https") {
                Cow::Borrowed("https")
            } else {
                Cow::Owned(scheme.to_ascii_lowercase())
            },
            host: host.to_owned(),
            port,
            path: if path.is_empty() {
                "/".into()
            } else {
                path.to_owned()
            },
            query: Arc::new(q),
        })
    }

    /// `?a=1&b=2` (empty when there is no query), encoded.
    pub fn query_string(&self) -> String {
        self.query_string_without(None)
    }

    /// [`Url::query_string`] without the parameter `skip` (named case-insensitively).
    pub fn query_string_without(&self, skip: Option<&str>) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for (k, vs) in &self.query.0 {
            if skip.is_some_and(|s| s.eq_ignore_ascii_case(k)) {
                continue;
            }
            for v in vs {
                out.push(if out.is_empty() { '?' } else { '&' });
                let _ = write!(out, "{}={}", encode(k), encode(v));
            }
        }
        out
    }

    fn default_port(&self) -> bool {
        (self.scheme == "https" && self.port == 443) || (self.scheme == "http" && self.port == 80)
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        if !self.default_port() {
            write!(f, ":{}", self.port)?;
        }
        write!(f, "{}{}", self.path, self.query_string())
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn encode(s: &str) -> percent_encoding::PercentEncode<'_> {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SET)
}

/// A message body, read at most once unless `preserveContent` is given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Body {
    /// Shared with the server's and the client's buffers: a clone is a reference count.
    pub bytes: bytes::Bytes,
    pub consumed: bool,
}

/// An HTTP message: the request (method, URLs, client address, matched
/// template parameters) or a response (status).
#[derive(Clone, Debug, Default)]
pub struct Message {
    pub method: String,
    pub url: Url,
    pub original_url: Url,
    pub headers: Multimap,
    pub body: Option<Body>,
    pub ip: String,
    pub matched: Vec<(String, String)>,
    pub status: i64,
    pub reason: String,
    /// The client's TLS certificate (`context.Request.Certificate`), if it sent one.
    pub certificate: Option<crate::X509Certificate2>,
}

/// `IRequest` or `IResponse`: a shared handle, so an expression reads what
/// the policies before it left, and a response stored in a variable stays whole.
#[derive(Clone, Debug, Default)]
pub struct MessageRef(pub Arc<RwLock<Message>>);

impl MessageRef {
    pub fn new(m: Message) -> Self {
        Self(Arc::new(RwLock::new(m)))
    }

    pub fn read<T>(&self, f: impl FnOnce(&Message) -> T) -> T {
        match self.0.read() {
            Ok(g) => f(&g),
            Err(p) => f(&p.into_inner()),
        }
    }

    pub fn write<T>(&self, f: impl FnOnce(&mut Message) -> T) -> T {
        match self.0.write() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }
}

/// `Headers` of a message (a view: it reads the message when used).
#[derive(Clone, Debug)]
pub struct Headers(pub MessageRef);

/// `Url.Query` or `MatchedParameters` (a snapshot: they do not change under
/// an expression; `Url.Query` shares the URL's query, which is copied on write).
#[derive(Clone, Debug)]
pub struct StringsDictionary {
    pub entries: Arc<Multimap>,
    pub type_name: &'static str,
}

/// `IMessageBody`.
#[derive(Clone, Debug)]
pub struct MessageBody(pub MessageRef);

/// One entry of a headers or query dictionary.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: Name,
    pub values: Values,
}

fn strings(v: &[String]) -> Array {
    v.iter().map(|s| Dynamic::from(s.clone())).collect()
}

fn joined(v: &[String]) -> String {
    v.join(",")
}

fn missing_key<T>(name: &str) -> RhaiResult<T> {
    throw(
        "KeyNotFoundException",
        format!("The given key '{name}' was not present in the dictionary."),
    )
}

impl Headers {
    fn entries(&self) -> Multimap {
        self.0.read(|m| m.headers.clone())
    }

    /// The values of one header, without copying the others.
    fn values(&self, name: &str) -> Option<Values> {
        self.0.read(|m| m.headers.get(name).cloned())
    }

    fn joined(&self, name: &str) -> Option<String> {
        self.0.read(|m| m.headers.get(name).map(|v| joined(v)))
    }
}

pub(super) fn register(e: &mut Engine) {
    e.register_type_with_name::<MessageRef>("IMessage")
        .register_get("Method", |m: &mut MessageRef| m.read(|m| m.method.clone()))
        .register_get("Url", |m: &mut MessageRef| m.read(|m| m.url.clone()))
        .register_get("OriginalUrl", |m: &mut MessageRef| {
            m.read(|m| m.original_url.clone())
        })
        .register_get("IpAddress", |m: &mut MessageRef| m.read(|m| m.ip.clone()))
        .register_get("Headers", |m: &mut MessageRef| Headers(m.clone()))
        .register_get("Body", |m: &mut MessageRef| -> Dynamic {
            if m.read(|m| m.body.is_some()) {
                Dynamic::from(MessageBody(m.clone()))
            } else {
                Dynamic::UNIT
            }
        })
        .register_get("StatusCode", |m: &mut MessageRef| m.read(|m| m.status))
        .register_get("StatusReason", |m: &mut MessageRef| {
            m.read(|m| m.reason.clone())
        })
        .register_get("MatchedParameters", |m: &mut MessageRef| {
            let mut entries = Multimap::default();
            m.read(|m| m.matched.iter().for_each(|(k, v)| entries.append(k, v)));
            StringsDictionary {
                entries: Arc::new(entries),
                type_name: "MatchedParameters",
            }
        })
        .register_get("Certificate", |m: &mut MessageRef| {
            m.read(|m| m.certificate.clone().map_or(Dynamic::UNIT, Dynamic::from))
        });

    e.register_type_with_name::<Url>("IUrl")
        .register_get("Scheme", |u: &mut Url| u.scheme.to_string())
        .register_get("Host", |u: &mut Url| u.host.clone())
        .register_get("Port", |u: &mut Url| INT::from(u.port))
        .register_get("Path", |u: &mut Url| u.path.clone())
        .register_get("QueryString", |u: &mut Url| u.query_string())
        .register_get("Query", |u: &mut Url| StringsDictionary {
            entries: Arc::clone(&u.query),
            type_name: "Query",
        })
        .register_fn("ToString", |u: &mut Url| u.to_string())
        .register_fn("ToUri", |ctx: NativeCallContext, u: &mut Url| {
            ctx.call_native_fn::<Dynamic>("Uri__new", (u.to_string(),))
        });

    e.register_type_with_name::<Headers>("IHeaderDictionary")
        .register_fn(
            "GetValueOrDefault",
            |h: Headers, name: ImmutableString| -> Dynamic {
                h.joined(&name).map_or(Dynamic::UNIT, Dynamic::from)
            },
        )
        .register_fn(
            "GetValueOrDefault",
            |h: Headers, name: ImmutableString, default: Dynamic| -> Dynamic {
                h.joined(&name).map_or(default, Dynamic::from)
            },
        )
        // A string default, the usual case, matches at the first lookup.
        .register_fn(
            "GetValueOrDefault",
            |h: Headers, name: ImmutableString, default: ImmutableString| -> Dynamic {
                h.joined(&name).map_or(default.into(), Dynamic::from)
            },
        )
        .register_fn(
            "TryGetValue__out",
            |h: Headers, name: ImmutableString| -> Array {
                match h.values(&name) {
                    Some(v) => vec![true.into(), strings(&v).into()],
                    None => vec![false.into(), Dynamic::UNIT],
                }
            },
        )
        .register_fn("ContainsKey", |h: Headers, name: ImmutableString| {
            h.values(&name).is_some()
        })
        .register_indexer_get(
            |h: &mut Headers, name: ImmutableString| -> RhaiResult<Array> {
                match h.values(&name) {
                    Some(v) => Ok(strings(&v)),
                    None => missing_key(&name),
                }
            },
        )
        .register_get("Count", |h: &mut Headers| {
            h.0.read(|m| m.headers.0.len() as INT)
        })
        .register_get("Keys", |h: &mut Headers| -> Array {
            h.entries()
                .0
                .iter()
                .map(|(k, _)| Dynamic::from(k.to_string()))
                .collect()
        })
        .register_fn("__items", |h: Headers| -> Array {
            h.entries()
                .0
                .into_iter()
                .map(|(key, values)| Dynamic::from(Entry { key, values }))
                .collect()
        });

    e.register_type_with_name::<StringsDictionary>("IReadOnlyDictionary")
        .register_fn(
            "GetValueOrDefault",
            |d: StringsDictionary, name: ImmutableString| -> Dynamic {
                d.entries
                    .get(&name)
                    .map_or(Dynamic::UNIT, |v| joined(v).into())
            },
        )
        .register_fn(
            "GetValueOrDefault",
            |d: StringsDictionary, name: ImmutableString, default: Dynamic| -> Dynamic {
                d.entries.get(&name).map_or(default, |v| joined(v).into())
            },
        )
        .register_fn(
            "GetValueOrDefault",
            |d: StringsDictionary, name: ImmutableString, default: ImmutableString| -> Dynamic {
                d.entries
                    .get(&name)
                    .map_or(default.into(), |v| joined(v).into())
            },
        )
        .register_fn(
            "ContainsKey",
            |d: StringsDictionary, name: ImmutableString| d.entries.get(&name).is_some(),
        )
        .register_fn(
            "TryGetValue__out",
            |d: StringsDictionary, name: ImmutableString| -> Array {
                match d.entries.get(&name) {
                    Some(v) if d.type_name == "MatchedParameters" => {
                        vec![true.into(), joined(v).into()]
                    }
                    Some(v) => vec![true.into(), strings(v).into()],
                    None => vec![false.into(), Dynamic::UNIT],
                }
            },
        )
        .register_indexer_get(
            |d: &mut StringsDictionary, name: ImmutableString| -> RhaiResult<Dynamic> {
                match d.entries.get(&name) {
                    Some(v) if d.type_name == "MatchedParameters" => Ok(joined(v).into()),
                    Some(v) => Ok(strings(v).into()),
                    None => missing_key(&name),
                }
            },
        )
        .register_get("Count", |d: &mut StringsDictionary| {
            d.entries.0.len() as INT
        })
        .register_get("Keys", |d: &mut StringsDictionary| -> Array {
            d.entries
                .0
                .iter()
                .map(|(k, _)| Dynamic::from(k.to_string()))
                .collect()
        })
        .register_fn("__items", |d: StringsDictionary| -> Array {
            d.entries
                .0
                .iter()
                .map(|(k, v)| {
                    Dynamic::from(Entry {
                        key: k.clone(),
                        values: v.clone(),
                    })
                })
                .collect()
        });

    e.register_type_with_name::<Entry>("KeyValuePair")
        .register_get("Key", |p: &mut Entry| p.key.to_string())
        .register_get("Value", |p: &mut Entry| strings(&p.values));

    e.register_type_with_name::<MessageBody>("IMessageBody")
        .register_fn(
            "As",
            |ctx: NativeCallContext, b: MessageBody, ty: ImmutableString| {
                body_as(&ctx, &b, &ty, false)
            },
        )
        .register_fn(
            "As",
            |ctx: NativeCallContext, b: MessageBody, ty: ImmutableString, preserve: bool| {
                body_as(&ctx, &b, &ty, preserve)
            },
        )
        .register_fn(
            "AsFormUrlEncodedContent",
            |ctx: NativeCallContext, b: MessageBody| form(&ctx, &b, false),
        )
        .register_fn(
            "AsFormUrlEncodedContent",
            |ctx: NativeCallContext, b: MessageBody, preserve: bool| form(&ctx, &b, preserve),
        );
}

/// Takes the body's bytes, marking it consumed unless `preserve`.
fn take(b: &MessageBody, preserve: bool) -> RhaiResult<bytes::Bytes> {
    b.0.write(|m| match &mut m.body {
        Some(body) if body.consumed => throw(
            "InvalidOperationException",
            "The message body has already been read; use `preserveContent: true` to read it more than once.",
        ),
        Some(body) => {
            if !preserve {
                body.consumed = true;
            }
            Ok(body.bytes.clone())
        }
        None => throw("InvalidOperationException", "The message has no body."),
    })
}

fn body_as(
    ctx: &NativeCallContext,
    b: &MessageBody,
    ty: &str,
    preserve: bool,
) -> RhaiResult<Dynamic> {
    let bytes = take(b, preserve)?;
    let text = || String::from_utf8_lossy(&bytes).into_owned();
    match ty {
        "String" => Ok(text().into()),
        "Byte[]" => Ok(Dynamic::from_blob(bytes.to_vec())),
        "JObject" | "JArray" | "JToken" => {
            let v = ctx.call_native_fn::<Dynamic>("JToken__Parse", (text(),))?;
            match crate::core::dotnet_type(&v).as_str() {
                t if ty == "JToken" || t == ty => Ok(v),
                t => throw(
                    "InvalidCastException",
                    format!("Unable to cast object of type '{t}' to type '{ty}'."),
                ),
            }
        }
        "XDocument" => ctx.call_native_fn::<Dynamic>("XDocument__Parse", (text(),)),
        "XElement" | "XNode" => ctx.call_native_fn::<Dynamic>("XElement__Parse", (text(),)),
        other => throw(
            "NotSupportedException",
            format!("Body.As<{other}>() is not supported."),
        ),
    }
}

/// `AsFormUrlEncodedContent()`: a `Dictionary<string, List<string>>` built through the collections family.
fn form(ctx: &NativeCallContext, b: &MessageBody, preserve: bool) -> RhaiResult<Dynamic> {
    let bytes = take(b, preserve)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut entries = Multimap::default();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        entries.append(&decode(k), &decode(v));
    }
    let dict =
        ctx.call_native_fn::<Dynamic>("Dictionary__new", ("String".to_owned(), "List".to_owned()))?;
    for (k, vs) in entries.0 {
        let list = ctx.call_native_fn::<Dynamic>("List__new", ("String".to_owned(),))?;
        for v in vs {
            let _added = ctx.call_native_fn::<Dynamic>("Add", (list.clone(), v))?;
        }
        let _added = ctx.call_native_fn::<Dynamic>("Add", (dict.clone(), k.into_owned(), list))?;
    }
    Ok(dict)
}
