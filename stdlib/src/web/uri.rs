//! `System.Uri`: parsing of absolute URIs (scheme, user info, host, port,
//! path, query, fragment) with .NET's canonical form (lowercase scheme and
//! host, dot segments removed, unsafe characters escaped, default ports
//! implied), relative URIs, and resolution against a base.

use rhai::{Array, Dynamic, Engine, INT, ImmutableString};

use crate::core::{RhaiResult, throw};

/// The parts of an absolute URI, canonical and escaped.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Parts {
    scheme: String,
    /// `None` for URIs without `//` (mailto:, urn:).
    authority: Option<Authority>,
    path: String,
    query: String,
    fragment: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Authority {
    user_info: String,
    host: String,
    /// Explicit port, if any.
    port: Option<u16>,
}

/// A `System.Uri`: absolute (parsed) or relative (kept as written).
#[derive(Clone, Debug)]
pub struct Uri {
    original: String,
    parts: Option<Parts>,
}

pub(super) const RELATIVE_OR_ABSOLUTE: INT = 0;
pub(super) const ABSOLUTE: INT = 1;
pub(super) const RELATIVE: INT = 2;

fn bad<T>(why: &str) -> RhaiResult<T> {
    throw("UriFormatException", format!("Invalid URI: {why}"))
}

fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        "ftp" => 21,
        "gopher" => 70,
        "nntp" => 119,
        "telnet" => 23,
        "ldap" => 389,
        "mailto" => 25,
        "net.tcp" => 808,
        _ => return None,
    })
}

/// Schemes that must have a host and where `\` means `/`.
fn is_hierarchical(scheme: &str) -> bool {
    matches!(
        scheme,
        "http" | "https" | "ws" | "wss" | "ftp" | "gopher" | "nntp" | "telnet" | "ldap" | "net.tcp"
    )
}

/// Escapes what .NET escapes in a path, query or fragment: controls,
/// space, `"<>\^`{|}`, non-ASCII (as UTF-8), and `%` not starting `%XX`.
fn escape_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        let keep = match c {
            '%' => {
                bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
            }
            '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}' | ' ' => false,
            _ => c.is_ascii_graphic(),
        };
        if keep {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// RFC 3986 §5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." | "%2E" | "%2e" => {
                if i == last {
                    out.push("");
                }
            }
            ".." | "%2E%2E" | "%2e%2e" => {
                if out.len() > 1 {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if path.starts_with('/') && !joined.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

fn parse_authority(auth: &str, scheme: &str) -> RhaiResult<Authority> {
    let (user_info, host_port) = match auth.rfind('@') {
        Some(at) => (
            auth.get(..at).unwrap_or_default(),
            auth.get(at + 1..).unwrap_or_default(),
        ),
        None => ("", auth),
    };
    let (host, port) = if host_port.starts_with('[') {
        let Some(end) = host_port.find(']') else {
            return bad("The hostname could not be parsed.");
        };
        let host = host_port.get(..=end).unwrap_or_default();
        let inner = host.get(1..host.len() - 1).unwrap_or_default();
        if inner.is_empty()
            || !inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return bad("The hostname could not be parsed.");
        }
        (
            host,
            host_port
                .get(end + 1..)
                .unwrap_or_default()
                .strip_prefix(':'),
        )
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    let valid_host = |h: &str| {
        h.chars().all(|c| {
            c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '~' | '%' | '[' | ']' | ':')
        })
    };
    if (host.is_empty() && is_hierarchical(scheme)) || !valid_host(host) {
        return bad("The hostname could not be parsed.");
    }
    let port = match port {
        None | Some("") => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => match p.parse::<u16>() {
            Ok(n) => Some(n),
            Err(_) => return bad("Invalid port specified."),
        },
        Some(_) => return bad("Invalid port specified."),
    };
    Ok(Authority {
        user_info: user_info.to_owned(),
        host: host.to_lowercase(),
        port,
    })
}

fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    let mut chars = scheme.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    ok.then_some((scheme, rest))
}

fn parse_absolute(s: &str) -> RhaiResult<Parts> {
    let s = s.trim();
    if s.is_empty() {
        return bad("The URI is empty.");
    }
    let Some((scheme, rest)) = split_scheme(s) else {
        return bad("The format of the URI could not be determined.");
    };
    let scheme = scheme.to_ascii_lowercase();
    let hier = is_hierarchical(&scheme);
    let rest = if hier {
        rest.replace('\\', "/")
    } else {
        rest.to_owned()
    };
    let (before_fragment, fragment) = match rest.split_once('#') {
        Some((a, f)) => (a, format!("#{}", escape_component(f))),
        None => (rest.as_str(), String::new()),
    };
    let (before_query, query) = match before_fragment.split_once('?') {
        Some((a, q)) => (a, format!("?{}", escape_component(q))),
        None => (before_fragment, String::new()),
    };
    let (authority, path) = match before_query.strip_prefix("//") {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            let auth = parse_authority(after.get(..end).unwrap_or_default(), &scheme)?;
            let path = after.get(end..).unwrap_or_default();
            (
                Some(auth),
                if path.is_empty() {
                    "/".to_owned()
                } else {
                    remove_dot_segments(&escape_component(path))
                },
            )
        }
        None if hier => return bad("The format of the URI could not be determined."),
        None => (None, escape_component(before_query)),
    };
    Ok(Parts {
        scheme,
        authority,
        path,
        query,
        fragment,
    })
}

impl Parts {
    fn port(&self) -> INT {
        match &self.authority {
            Some(Authority { port: Some(p), .. }) => INT::from(*p),
            _ => default_port(&self.scheme).map_or(-1, INT::from),
        }
    }

    fn is_default_port(&self) -> bool {
        self.authority
            .as_ref()
            .and_then(|a| a.port)
            .is_none_or(|p| Some(p) == default_port(&self.scheme))
    }

    fn host(&self) -> &str {
        self.authority.as_ref().map_or("", |a| a.host.as_str())
    }

    fn authority(&self) -> String {
        match &self.authority {
            Some(a) if !self.is_default_port() => format!("{}:{}", a.host, self.port()),
            Some(a) => a.host.clone(),
            None => String::new(),
        }
    }

    fn left_part(&self, part: INT) -> String {
        let mut s = self.scheme.clone();
        s.push(':');
        if let Some(a) = &self.authority {
            s.push_str("//");
            if part >= 1 {
                if !a.user_info.is_empty() {
                    s.push_str(&a.user_info);
                    s.push('@');
                }
                s.push_str(&self.authority());
            }
        }
        if part >= 2 {
            s.push_str(&self.path);
        }
        if part >= 3 {
            s.push_str(&self.query);
        }
        s
    }

    fn absolute_uri(&self) -> String {
        format!("{}{}", self.left_part(3), self.fragment)
    }

    fn segments(&self) -> Array {
        let mut out = Array::new();
        let mut rest = self.path.as_str();
        while let Some(i) = rest.find('/') {
            out.push(rest.get(..=i).unwrap_or_default().to_owned().into());
            rest = rest.get(i + 1..).unwrap_or_default();
        }
        if !rest.is_empty() {
            out.push(rest.to_owned().into());
        }
        out
    }
}

/// `Uri.ToString()`: the canonical form with the escapes of ordinary
/// characters (spaces, non-ASCII) undone; reserved characters, `%` and
/// controls stay escaped.
fn display(s: &str) -> String {
    super::unescape(s, |c| {
        !matches!(
            c,
            ';' | '/'
                | '?'
                | ':'
                | '@'
                | '&'
                | '='
                | '+'
                | '$'
                | ','
                | '#'
                | '['
                | ']'
                | '%'
                | '\''
                | '!'
                | '('
                | ')'
                | '*'
        ) && !c.is_control()
    })
}

impl Uri {
    pub(super) fn create(s: &str, kind: INT) -> RhaiResult<Uri> {
        match kind {
            ABSOLUTE => Ok(Uri {
                original: s.to_owned(),
                parts: Some(parse_absolute(s)?),
            }),
            RELATIVE => {
                if split_scheme(s.trim()).is_some_and(|(scheme, _)| scheme.len() > 1)
                    && parse_absolute(s).is_ok()
                {
                    return throw(
                        "UriFormatException",
                        "A relative URI cannot be created because the 'uriString' parameter represents an absolute URI.",
                    );
                }
                Ok(Uri {
                    original: s.to_owned(),
                    parts: None,
                })
            }
            RELATIVE_OR_ABSOLUTE => match split_scheme(s.trim()) {
                Some(_) => match parse_absolute(s) {
                    Ok(p) => Ok(Uri {
                        original: s.to_owned(),
                        parts: Some(p),
                    }),
                    Err(e) if s.contains("//") => Err(e),
                    Err(_) => Ok(Uri {
                        original: s.to_owned(),
                        parts: None,
                    }),
                },
                None => Ok(Uri {
                    original: s.to_owned(),
                    parts: None,
                }),
            },
            _ => throw(
                "ArgumentException",
                format!("The value '{kind}' passed for the UriKind parameter is invalid."),
            ),
        }
    }

    /// `new Uri(baseUri, relative)` (RFC 3986 §5.2.2).
    pub(super) fn resolve(base: &Uri, rel: &str) -> RhaiResult<Uri> {
        let Some(b) = &base.parts else {
            return throw(
                "InvalidOperationException",
                "This operation is not supported for a relative URI.",
            );
        };
        if split_scheme(rel).is_some_and(|(scheme, _)| scheme.len() > 1) {
            return Uri::create(rel, ABSOLUTE);
        }
        let rel = if is_hierarchical(&b.scheme) {
            rel.replace('\\', "/")
        } else {
            rel.to_owned()
        };
        let target = if let Some(net) = rel.strip_prefix("//") {
            format!("{}://{net}", b.scheme)
        } else {
            let (rest, fragment) = rel
                .split_once('#')
                .map_or((rel.as_str(), None), |(a, f)| (a, Some(f)));
            let (path, query) = rest
                .split_once('?')
                .map_or((rest, None), |(p, q)| (p, Some(q)));
            let (path, query) = if path.is_empty() {
                (
                    b.path.clone(),
                    query.map_or_else(|| b.query.clone(), |q| format!("?{q}")),
                )
            } else if path.starts_with('/') {
                (
                    path.to_owned(),
                    query.map(|q| format!("?{q}")).unwrap_or_default(),
                )
            } else {
                let dir = b
                    .path
                    .rfind('/')
                    .map_or("/", |i| b.path.get(..=i).unwrap_or("/"));
                (
                    format!("{dir}{path}"),
                    query.map(|q| format!("?{q}")).unwrap_or_default(),
                )
            };
            let fragment = fragment.map(|f| format!("#{f}")).unwrap_or_default();
            format!(
                "{}{}{query}{fragment}",
                b.left_part(1),
                remove_dot_segments(&path)
            )
        };
        Uri::create(&target, ABSOLUTE)
    }

    fn abs(&self) -> RhaiResult<&Parts> {
        match &self.parts {
            Some(p) => Ok(p),
            None => throw(
                "InvalidOperationException",
                "This operation is not supported for a relative URI.",
            ),
        }
    }

    fn to_display(&self) -> String {
        match &self.parts {
            Some(p) => display(&p.absolute_uri()),
            None => self.original.clone(),
        }
    }
}

fn get(e: &mut Engine, name: &str, f: fn(&Parts) -> Dynamic) {
    e.register_get(name, move |u: &mut Uri| u.abs().map(f));
}

pub(super) fn register(e: &mut Engine) {
    e.register_type_with_name::<Uri>("Uri")
        .register_fn("Uri__new", |s: ImmutableString| Uri::create(&s, ABSOLUTE))
        .register_fn("Uri__new", |s: ImmutableString, kind: INT| {
            Uri::create(&s, kind)
        })
        .register_fn("Uri__new", |b: Uri, rel: ImmutableString| {
            Uri::resolve(&b, &rel)
        })
        .register_fn("Uri__new", |b: Uri, rel: Uri| {
            Uri::resolve(&b, &rel.original)
        })
        .register_fn("Uri__new", |_: ()| -> RhaiResult<Uri> {
            crate::convert::null_arg("uriString")
        })
        .register_fn("Uri__new", |_: (), _: INT| -> RhaiResult<Uri> {
            crate::convert::null_arg("uriString")
        })
        .register_fn(
            "Uri__TryCreate__out",
            |s: ImmutableString, kind: INT| match Uri::create(&s, kind) {
                Ok(u) => vec![true.into(), Dynamic::from(u)],
                Err(_) => vec![false.into(), Dynamic::UNIT],
            },
        )
        .register_fn("Uri__TryCreate__out", |_: (), _: INT| {
            vec![false.into(), Dynamic::UNIT]
        })
        .register_fn(
            "Uri__TryCreate__out",
            |b: Uri, rel: ImmutableString| match Uri::resolve(&b, &rel) {
                Ok(u) => vec![true.into(), Dynamic::from(u)],
                Err(_) => vec![false.into(), Dynamic::UNIT],
            },
        )
        .register_fn(
            "Uri__TryCreate__out",
            |b: Uri, rel: Uri| match Uri::resolve(&b, &rel.original) {
                Ok(u) => vec![true.into(), Dynamic::from(u)],
                Err(_) => vec![false.into(), Dynamic::UNIT],
            },
        )
        .register_fn(
            "Uri__IsWellFormedUriString",
            |s: ImmutableString, kind: INT| {
                let clean = !s
                    .chars()
                    .any(|c| c == ' ' || c == '\\' || !c.is_ascii() || c.is_ascii_control());
                clean && Uri::create(&s, kind).is_ok_and(|u| kind != ABSOLUTE || u.parts.is_some())
            },
        )
        .register_fn("Uri__IsWellFormedUriString", |_: (), _: INT| false)
        .register_fn("Uri__CheckSchemeName", |s: ImmutableString| {
            split_scheme(&format!("{s}:")).is_some_and(|(x, _)| x == s.as_str())
        })
        .register_fn("Uri__UriSchemeHttp", || "http")
        .register_fn("Uri__UriSchemeHttps", || "https")
        .register_fn("Uri__SchemeDelimiter", || "://")
        .register_get("IsAbsoluteUri", |u: &mut Uri| u.parts.is_some())
        .register_get("OriginalString", |u: &mut Uri| u.original.clone())
        .register_fn("ToString", |u: &mut Uri| u.to_display())
        .register_fn("GetLeftPart", |u: &mut Uri, part: INT| {
            u.abs().map(|p| p.left_part(part))
        })
        .register_fn("GetHashCode", |u: &mut Uri| u.to_display().len() as INT)
        .register_fn("==", |a: Uri, b: Uri| same(&a, &b))
        .register_fn("!=", |a: Uri, b: Uri| !same(&a, &b))
        .register_fn("Equals", |a: &mut Uri, b: Uri| same(a, &b))
        .register_fn("Equals", |_: &mut Uri, _: ()| false);
    get(e, "Scheme", |p| p.scheme.clone().into());
    get(e, "Host", |p| p.host().to_owned().into());
    get(e, "DnsSafeHost", |p| {
        p.host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned()
            .into()
    });
    get(e, "IdnHost", |p| {
        p.host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned()
            .into()
    });
    get(e, "Port", |p| p.port().into());
    get(e, "IsDefaultPort", |p| p.is_default_port().into());
    get(e, "Authority", |p| p.authority().into());
    get(e, "UserInfo", |p| {
        p.authority
            .as_ref()
            .map_or(String::new(), |a| a.user_info.clone())
            .into()
    });
    get(e, "AbsolutePath", |p| p.path.clone().into());
    get(e, "LocalPath", |p| {
        super::unescape(&p.path, |_| true).into()
    });
    get(e, "Query", |p| p.query.clone().into());
    get(e, "Fragment", |p| p.fragment.clone().into());
    get(e, "PathAndQuery", |p| {
        format!("{}{}", p.path, p.query).into()
    });
    get(e, "AbsoluteUri", |p| p.absolute_uri().into());
    get(e, "Segments", |p| p.segments().into());
    get(e, "IsFile", |p| (p.scheme == "file").into());
    get(e, "IsUnc", |_| false.into());
    get(e, "IsLoopback", |p| {
        let h = p.host();
        (h == "localhost" || h == "[::1]" || h.starts_with("127.")).into()
    });
    for (name, v) in [
        ("RelativeOrAbsolute", RELATIVE_OR_ABSOLUTE),
        ("Absolute", ABSOLUTE),
        ("Relative", RELATIVE),
    ] {
        e.register_fn(format!("UriKind__{name}"), move || v);
    }
    for (name, v) in [("Scheme", 0), ("Authority", 1), ("Path", 2), ("Query", 3)] {
        e.register_fn(format!("UriPartial__{name}"), move || v as INT);
    }
}

/// `Uri.Equals`: the canonical forms without fragments (relative URIs by
/// their text).
fn same(a: &Uri, b: &Uri) -> bool {
    match (&a.parts, &b.parts) {
        (Some(x), Some(y)) => x.left_part(3) == y.left_part(3),
        (None, None) => a.original == b.original,
        _ => false,
    }
}
