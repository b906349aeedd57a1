//! `rewrite-uri`: turns the public URL into the backend's form. The template
//! is a path relative to the API (what follows the API's suffix, so the
//! request path becomes the API prefix followed by the rewritten path),
//! optionally with a query; `{name}` placeholders take the operation's
//! matched template parameters (`context.Request.MatchedParameters`).
//!
//! With `copy-unmatched-params` (default `true`) the incoming query
//! parameters that the operation's URL template does not name are kept,
//! after the template's own; the ones the template matched are dropped unless
//! the new template uses them. Which names the operation's template matched
//! is read from `context.Operation.UrlTemplate` (its query part), which the
//! gateway sets for every routed request.

use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, Multimap, PolicyError, Reason, Run, Stage,
};
use sluice_engine::xml::Element;

#[derive(Debug)]
struct RewriteUri {
    template: CompiledValue,
    copy_unmatched: Option<CompiledValue>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let template = cx.required(e, "template")?;
    let copy_unmatched = cx.optional(e, "copy-unmatched-params")?;
    Ok(Box::new(RewriteUri {
        template,
        copy_unmatched,
    }))
}

/// `text` with each `{name}` replaced by `value(name)` (encoded by `encode`).
fn fill(
    text: &str,
    matched: &[(String, String)],
    encode: fn(&str) -> String,
) -> Result<String, PolicyError> {
    let mut out = String::with_capacity(text.len());
    fill_into(&mut out, text, matched, encode)?;
    Ok(out)
}

/// [`fill`], appending to `out`.
fn fill_into(
    out: &mut String,
    text: &str,
    matched: &[(String, String)],
    encode: fn(&str) -> String,
) -> Result<(), PolicyError> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return Ok(());
        };
        let name = after[..close].trim_start_matches('*');
        let value = matched
            .iter()
            .find(|(k, _)| k == name)
            .or_else(|| matched.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v);
        match value {
            Some(v) => out.push_str(&encode(v)),
            None => {
                return Err(PolicyError::new(
                    "rewrite-uri",
                    Reason::TemplateParameterNotFound,
                    500,
                    format!(
                        "The rewrite template uses `{{{name}}}`, which the operation's URL template does not match."
                    ),
                ));
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(())
}

/// Encodes what may not stand in a path; keeps `/`, `%` and the path's punctuation.
fn encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => out.push(char::from(b)),
            b'-' | b'.' | b'_' | b'~' | b'/' | b'%' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')'
            | b'*' | b'+' | b',' | b';' | b'=' | b':' | b'@' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Query values are kept decoded (the URL encodes them when it is written).
fn as_is(s: &str) -> String {
    s.to_owned()
}

fn decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(h)) => {
                out.push(h);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The operation's URL template (`context.Operation.UrlTemplate`), shared.
fn operation_template(x: &Exchange) -> rhai::ImmutableString {
    x.ctx
        .0
        .operation
        .as_ref()
        .and_then(|r| r.fields.get("UrlTemplate"))
        .and_then(|t| t.clone().into_immutable_string().ok())
        .unwrap_or_default()
}

/// The query parameter names of a URL template (`/get?a={b}` → `a`).
fn template_query_names(template: &str) -> Vec<&str> {
    let Some((_, query)) = template.split_once('?') else {
        return Vec::new();
    };
    query
        .split('&')
        .map(|kv| kv.split('=').next().unwrap_or_default().trim())
        .filter(|k| !k.is_empty())
        .collect()
}

impl RewriteUri {
    fn rewrite(&self, x: &Exchange) -> Result<(), PolicyError> {
        let template = self.template.text(x)?;
        let copy = match &self.copy_unmatched {
            Some(c) => c.eval_bool(x)?,
            None => true,
        };
        let (path, query) = template.split_once('?').unwrap_or((&template, ""));
        let path = path.trim();
        let prefix = x.api_prefix.trim_end_matches('/');
        let (new_path, mut new_query) = x.request().read(|m| {
            let mut p = String::with_capacity(prefix.len() + path.len() + 16);
            p.push_str(prefix);
            fill_into(&mut p, path, &m.matched, encode_path)?;
            if !p[prefix.len()..].starts_with('/') {
                p.insert(prefix.len(), '/');
            }
            let mut q = Multimap::default();
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                q.append(
                    &fill(&decode(k), &m.matched, as_is)?,
                    &fill(&decode(v), &m.matched, as_is)?,
                );
            }
            Ok::<_, PolicyError>((p, q))
        })?;
        let operation = if copy {
            operation_template(x)
        } else {
            rhai::ImmutableString::new()
        };
        let skip = template_query_names(&operation);
        x.request().write(|m| {
            m.url.path = new_path;
            if copy && new_query.0.is_empty() && skip.is_empty() {
                // The query stays as it came.
                return;
            }
            if copy {
                for (k, vs) in &m.url.query.0 {
                    let named = skip.iter().any(|s| s.eq_ignore_ascii_case(k));
                    if named || new_query.get(k).is_some() {
                        continue;
                    }
                    for v in vs {
                        new_query.append(k, v);
                    }
                }
            }
            m.url.query = new_query.into();
        });
        Ok(())
    }
}

impl Stage for RewriteUri {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        match self.rewrite(x) {
            Ok(()) => Run::next(),
            Err(e) => Run::fail(e),
        }
    }
}

#[cfg(test)]
mod tests;
