//! Where a configuration's text holds secrets, found without parsing it
//! (a file with a syntax error has secrets too).
//!
//! The rule: the text is read entry by entry (`key = value`, under the
//! last `[table]` header), leniently, so that a broken line still counts.
//! An entry belongs to the named value `NAME` when its key path starts with
//! `named-values.NAME` (`[named-values]` then `NAME = ...`, or the table
//! `[named-values.NAME]`, or dotted keys). A named value is secret when any
//! of its entries has a key `secret` (whatever its value, so a misspelt
//! `secret = ture` still counts), at its own level or inside its inline
//! table, or in a string left open on its line (`value = "s, secret = true`
//! with the quote missing). `[admin] token`, `[counters] redis-url`, each
//! `[[subscription]]`'s `key`, each `[certificates.ID] password`, and the
//! `client-secret`, `token` and `refresh-token` of `[identity]`, its
//! user-assigned identities and `[authorizations.P.I]`, and the `headers`,
//! `query` and `authorization` of each `[backends.ID]`, the `connection-string`
//! and `sasl-password` of each `[loggers.ID]` and the `sas-key` of each
//! `[service-bus.NAMESPACE]` are always secret.
//! In a secret entry every value but that of an
//! `env`, `file` or `secret` key (which say where the secret is, or that it
//! is one) is a secret place: the contents of each string (to the end of
//! the line, or of the text for a multi-line string, when it is not closed)
//! and each bare word that is not a key. An entry ends with its line, or
//! when an inline table spans lines with it; one left open takes the lines
//! after it up to the next `[table]` (masking too much, the safe side).
//! Each such value of at least [`Redaction::MIN_CHARS`] characters is also
//! masked wherever it occurs (a syntax error's message may quote it).
//!
//! The same scan gives the places of a configuration that parses (a
//! secret shorter than `MIN_CHARS` is masked there only).

use sluice_engine::diag::Redaction;
use sluice_engine::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    /// The contents of a string (without its quotes), and whether it is closed.
    Str(Span, bool),
    /// A run of characters that is not a string, punctuation or space.
    Bare(Span),
    Punct(u8),
    Newline,
}

/// The text as tokens (comments dropped), never failing.
fn tokens(text: &str) -> Vec<Token> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => {
                out.push(Token::Newline);
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'[' | b']' | b'{' | b'}' | b',' | b'=' | b'.' => {
                out.push(Token::Punct(b[i]));
                i += 1;
            }
            q @ (b'"' | b'\'') => {
                let multi = b[i..].starts_with(&[q, q, q]);
                let open = if multi { 3 } else { 1 };
                let start = i + open;
                let mut j = start;
                let end = loop {
                    if j >= b.len() || (!multi && b[j] == b'\n') {
                        break j;
                    }
                    if q == b'"' && b[j] == b'\\' {
                        j += 2;
                        continue;
                    }
                    if b[j] == q && (!multi || b[j..].starts_with(&[q, q, q])) {
                        break j;
                    }
                    j += 1;
                };
                let end = end.min(b.len());
                let closed = end < b.len() && b[end] == q;
                out.push(Token::Str(Span::new(start, end), closed));
                i = if closed { end + open } else { end };
            }
            _ => {
                let start = i;
                while i < b.len()
                    && !matches!(
                        b[i],
                        b' ' | b'\t'
                            | b'\r'
                            | b'\n'
                            | b'#'
                            | b'"'
                            | b'\''
                            | b'['
                            | b']'
                            | b'{'
                            | b'}'
                            | b','
                            | b'='
                            | b'.'
                    )
                {
                    i += 1;
                }
                out.push(Token::Bare(Span::new(start, i)));
            }
        }
    }
    out
}

/// One `key = value` (or a broken line) with its full key path.
struct Entry {
    path: Vec<String>,
    /// Whether a key `secret` is set in it, at any level.
    marks_secret: bool,
    /// The values in it: string contents and bare words that are not keys.
    values: Vec<Span>,
}

/// `env` and `file` say where a secret is, not what it is; `secret` marks it.
fn holds_no_secret(key: &str) -> bool {
    matches!(key, "env" | "file" | "secret")
}

/// Whether `text` sets a key `secret` (`secret = `, `secret=`).
fn marks(text: &str) -> bool {
    text.match_indices("secret")
        .any(|(i, m)| text[i + m.len()..].trim_start().starts_with('='))
}

fn word(text: &str, s: Span) -> String {
    text.get(s.start..s.end).unwrap_or("").to_owned()
}

/// The entries of the text, in order.
fn entries(text: &str) -> Vec<Entry> {
    let toks = tokens(text);
    let mut out = Vec::new();
    let mut table: Vec<String> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match toks[i] {
            Token::Newline => i += 1,
            // A header: `[a.b]` or `[[a]]`, up to the end of its line.
            Token::Punct(b'[') => {
                table.clear();
                while i < toks.len() && toks[i] != Token::Newline {
                    if let Token::Str(s, _) | Token::Bare(s) = toks[i] {
                        table.push(word(text, s));
                    }
                    i += 1;
                }
            }
            _ => {
                let mut path = table.clone();
                // The key, up to `=` (or the end of a broken line).
                while i < toks.len() && !matches!(toks[i], Token::Punct(b'=') | Token::Newline) {
                    if let Token::Str(s, _) | Token::Bare(s) = toks[i] {
                        path.push(word(text, s));
                    }
                    i += 1;
                }
                if matches!(toks.get(i), Some(Token::Punct(b'='))) {
                    i += 1;
                }
                // The value, up to the end of its line outside brackets
                // (an inline table may span lines; one left open takes the
                // lines after it, the safe side).
                let mut depth = 0usize;
                let mut key = path.last().cloned().unwrap_or_default();
                let mut entry = Entry {
                    marks_secret: key == "secret",
                    path,
                    values: Vec::new(),
                };
                while i < toks.len() {
                    let before_eq = matches!(toks.get(i + 1), Some(Token::Punct(b'=' | b'.')));
                    match toks[i] {
                        Token::Newline if depth == 0 => break,
                        // A brace left open ends at the next header.
                        Token::Newline if toks.get(i + 1) == Some(&Token::Punct(b'[')) => break,
                        Token::Punct(b'[' | b'{') => depth += 1,
                        Token::Punct(b']' | b'}') => depth = depth.saturating_sub(1),
                        Token::Str(s, _) | Token::Bare(s) if before_eq => {
                            key = word(text, s);
                            entry.marks_secret |= key == "secret";
                        }
                        Token::Str(s, closed) => {
                            // A string left open may have swallowed the mark.
                            entry.marks_secret |= !closed && marks(&word(text, s));
                            if !holds_no_secret(&key) {
                                entry.values.push(s);
                            }
                        }
                        Token::Bare(s) if !holds_no_secret(&key) => entry.values.push(s),
                        _ => {}
                    }
                    i += 1;
                }
                out.push(entry);
            }
        }
    }
    out
}

/// Whether an entry's key is a Redis URL (`[semantic-cache] redis-url`),
/// whose password is a secret.
fn is_redis_url(path: &[String]) -> bool {
    path.last().is_some_and(|k| k == "redis-url")
}

/// The keys of `[identity]` and `[authorizations]` that hold secrets.
fn is_credential(key: &str) -> bool {
    matches!(key, "client-secret" | "token" | "refresh-token")
}

/// The places of `text` (a configuration named `name`) that hold secrets.
pub fn places(name: &str, text: &str) -> Redaction {
    let entries = entries(text);
    let named = |e: &Entry| match e.path.as_slice() {
        [nv, name, ..] if nv == "named-values" => Some(name.clone()),
        _ => None,
    };
    let secret_names: Vec<String> = entries
        .iter()
        .filter(|e| e.marks_secret)
        .filter_map(named)
        .collect();
    let mut r = Redaction::new();
    for e in &entries {
        // A Redis URL's password (not the rest: the host is no secret, and
        // an error about the URL should still show which one).
        if is_redis_url(&e.path) {
            for s in &e.values {
                let value = text.get(s.start..s.end).unwrap_or("");
                if let Some(p) = sluice_policies::semantic::store::redis::url_password(value) {
                    r.place(name, Span::new(s.start + p.start, s.start + p.end));
                    r.value(&value[p]);
                }
            }
            continue;
        }
        let secret = match e.path.as_slice() {
            [admin, token, ..] if admin == "admin" && token == "token" => true,
            [sub, key] if sub == "subscription" && key == "key" => true,
            // May hold a password (`redis://:password@host`).
            [counters, url] if counters == "counters" && url == "redis-url" => true,
            [certs, _, password, ..] if certs == "certificates" && password == "password" => true,
            // `[identity]` and its user-assigned identities, `[authorizations.P.I]`.
            [id, key, ..] if id == "identity" && is_credential(key) => true,
            [id, ua, _, key, ..]
                if id == "identity" && ua == "user-assigned" && is_credential(key) =>
            {
                true
            }
            [auth, _, _, key, ..] if auth == "authorizations" && is_credential(key) => true,
            // A backend entity's credentials.
            [backends, _, key, ..]
                if backends == "backends"
                    && matches!(key.as_str(), "headers" | "query" | "authorization") =>
            {
                true
            }
            // The loggers' Kafka credentials and a Service Bus SAS key.
            [loggers, _, key, ..]
                if loggers == "loggers"
                    && matches!(key.as_str(), "connection-string" | "sasl-password") =>
            {
                true
            }
            // (A namespace is a quoted key with dots: look for the key anywhere after it.)
            [bus, rest @ ..] if bus == "service-bus" && rest.iter().any(|k| k == "sas-key") => true,
            _ => named(e).is_some_and(|n| secret_names.contains(&n)),
        };
        if secret {
            for s in &e.values {
                r.place(name, *s);
                if let Some(v) = text.get(s.start..s.end) {
                    r.value(v);
                }
            }
        } else if is_url_with_password(&e.path) {
            for s in &e.values {
                if let Some(p) = text.get(s.start..s.end).and_then(url_password) {
                    let p = Span::new(s.start + p.start, s.start + p.end);
                    r.place(name, p);
                    if let Some(v) = text.get(p.start..p.end) {
                        r.value(v);
                    }
                }
            }
        }
    }
    r
}

/// Entries whose value is a URL that may carry a password: `[cache]
/// external-redis-url` (only the password is masked: the host stays
/// readable in a diagnostic).
fn is_url_with_password(path: &[String]) -> bool {
    matches!(path, [cache, key] if cache == "cache" && key == "external-redis-url")
}

/// Where the password of `scheme://user:password@host` is in `url`: the
/// part of the user information after its first `:`, or all of it when it
/// has none (`redis://password@host` is read as a password by some
/// clients: the safe side).
fn url_password(url: &str) -> Option<std::ops::Range<usize>> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let end = start + rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = start + url[start..end].rfind('@')?;
    let from = url[start..at].find(':').map_or(start, |c| start + c + 1);
    (from < at).then_some(from..at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_engine::diag::{Code, Diagnostic, Diagnostics};
    use sluice_engine::source::Source;

    /// The text with its secret places masked.
    fn masked(text: &str) -> String {
        let src = Source::new("c.toml", text);
        let mut d = Diagnostics::new();
        d.push(Diagnostic::new(
            Code::ConfigSyntax,
            &src,
            Span::point(0),
            "x",
        ));
        let d = places("c.toml", text).apply(d).into_vec();
        d[0].source.text().to_owned()
    }

    #[test]
    fn logger_and_service_bus_credentials_are_masked() {
        let m = masked(
            "[loggers.hub]\nkind = \"kafka\"\nconnection-string = \"Endpoint=sb://x/;SharedAccessKey=k3y-of-hub\"\n\
             sasl-password = \"pw-of-kafka\"\ntopic = \"visible-topic\"\n\
             [service-bus.\"bus.servicebus.windows.net\"]\nsas-key-name = \"send\"\nsas-key = \"sas-k3y-value\"\n",
        );
        for secret in ["k3y-of-hub", "pw-of-kafka", "sas-k3y-value"] {
            assert!(!m.contains(secret), "{secret} in {m}");
        }
        assert!(m.contains("visible-topic") && m.contains("\"send\""), "{m}");
    }

    #[test]
    fn backend_credentials_are_secret() {
        let m = masked(
            "[backends.a]\nurl = \"http://a.test\"\nheaders = { api-key = \"hdr-secret\" }\n\
             query = { code = \"qry-secret\" }\n\
             authorization = { scheme = \"Basic\", parameter = \"auth-secret\" }\n",
        );
        for s in ["hdr-secret", "qry-secret", "auth-secret"] {
            assert!(!m.contains(s), "{m}");
        }
        assert!(m.contains("http://a.test"), "{m}");
    }

    #[test]
    fn the_counters_redis_url_is_secret() {
        let m =
            masked("[counters]\nstore = \"redis\"\nredis-url = \"redis://:pw-hidden@h:6379\"\n");
        assert!(!m.contains("pw-hidden"), "{m}");
        assert!(m.contains("store = \"redis\""), "{m}");
    }

    #[test]
    fn the_password_of_the_external_cache_url_is_masked() {
        let m = masked(
            "[cache]\nexternal-redis-url = \"redis://user:pa55word@cache.test:6379/0\"\n\
             [semantic-cache]\nredis-url = \"redis://x@y\"\n",
        );
        assert!(!m.contains("pa55word"), "{m}");
        assert!(m.contains("redis://user:"), "{m}");
        assert!(m.contains("@cache.test:6379/0"), "{m}");
        let m = masked("[cache]\nexternal-redis-url = 'redis://:only-secret@h'\n");
        assert!(!m.contains("only-secret"), "{m}");
        assert_eq!(url_password("redis://h:6379"), None);
        assert_eq!(url_password("redis://tok3n@h"), Some(8..13));
    }

    #[test]
    fn secret_entries_in_every_form_are_found() {
        let text = r#"
[named-values]
plain = "visible"
inline = { value = "s1", secret = true } # a comment "visible"
dotted.value = 'hidden-2'
dotted.secret = true
multi = { value = """
hidden-3""", secret = true }
broken = { value = hidden-1, secret = ture

[named-values.table]
value = "hidden-4"
env = "SHOWN_5"
secret = true

[named-values.open]
value = "visible, not marked

[admin]
listen = "127.0.0.1:9090"
token = "hidden-6"

[[subscription]]
id = "visible"
key = "hidden-7"

[certificates.client]
file = "visible.pfx"
password = "hidden-8"

[certificates.other]
password = { env = "SHOWN_9" }
"#;
        // Any text at all is read, never failing: every cut of this one.
        for (cut, _) in text.char_indices() {
            masked(&text[..cut]);
        }
        let m = masked(text);
        for hidden in ["s1\"", "hidden", "HIDDEN"] {
            assert!(!m.contains(hidden), "{hidden}: {m}");
        }
        for shown in [
            "plain = \"visible\"",
            "# a comment \"visible\"",
            "secret = ture",
            "value = \"visible, not marked",
            "listen = \"127.0.0.1:9090\"",
            "id = \"visible\"",
            "env = \"SHOWN_5\"",
            "inline = { value = \"**\", secret = true }",
            "key = \"********\"",
            "file = \"visible.pfx\"",
            "env = \"SHOWN_9\"",
        ] {
            assert!(m.contains(shown), "{shown}: {m}");
        }
    }

    #[test]
    fn an_unclosed_secret_string_is_masked_to_the_end_of_its_line() {
        let m = masked(
            "[named-values]\nk = { value = \"SECRET-1 }, secret = true\nnext = 1\n[api]\nname = \"echo\"\n",
        );
        // The brace left open takes the next line, up to the next header.
        assert_eq!(
            m,
            "[named-values]\nk = { value = \"*************************\nnext = *\n[api]\nname = \"echo\"\n"
        );
    }

    #[test]
    fn the_password_of_a_redis_url_is_masked_and_the_rest_shown() {
        let text = "[semantic-cache]\nstore = \"redis\"\nredis-url = \"redis://cache:pw-of-redis@r.internal:6379/0\"\n";
        let m = masked(text);
        assert!(
            m.contains("redis-url = \"redis://cache:***********@r.internal:6379/0\""),
            "{m}"
        );
        // Wherever a message quotes it, too.
        let r = places("c.toml", text);
        assert_eq!(r.text("auth failed: pw-of-redis"), "auth failed: ***");
        // A line that does not parse still has its password masked.
        let broken = "[semantic-cache]\nredis-url = \"redis://:pw-of-redis@h\nstore = 1\n";
        assert!(
            !masked(broken).contains("pw-of-redis"),
            "{}",
            masked(broken)
        );
    }
}
