//! URL templates, APIM's way: literal segments win over `{param}` segments,
//! which win over a `{*wildcard}` tail; `?name={param}` parts match query
//! parameters. Routing (`routing.rs`) ranks operations by the score.

/// Matched template parameters, and a specificity score (higher wins).
pub type Match = (Vec<(String, String)>, Score);

/// A match's specificity, a number per segment (on the stack for usual templates).
pub type Score = smallvec::SmallVec<[u8; 8]>;

/// One segment of an operation's URL template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    /// `{*name}`: the rest of the path.
    Rest(String),
}

/// A parsed `url-template` (its query part is matched separately).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlTemplate {
    segments: Vec<Segment>,
    /// `?a={b}` parts: query parameter name → template parameter name.
    query: Vec<(String, String)>,
    pub text: String,
}

impl UrlTemplate {
    pub fn parse(text: &str) -> UrlTemplate {
        let (path, query) = text.split_once('?').unwrap_or((text, ""));
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(p) if p.starts_with('*') => {
                        Segment::Rest(p.trim_start_matches('*').to_owned())
                    }
                    Some(p) => Segment::Param(p.to_owned()),
                    None => Segment::Literal(s.to_owned()),
                },
            )
            .collect();
        let query = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .filter_map(|(k, v)| {
                v.strip_prefix('{')
                    .and_then(|v| v.strip_suffix('}'))
                    .map(|v| (k.to_owned(), v.to_owned()))
            })
            .collect();
        UrlTemplate {
            segments,
            query,
            text: text.to_owned(),
        }
    }

    /// The matched parameters and a specificity score, if `path` (with its
    /// query pairs) matches.
    pub fn matches(&self, path: &str, query: &[(String, String)]) -> Option<Match> {
        let parts: smallvec::SmallVec<[&str; 16]> =
            path.split('/').filter(|s| !s.is_empty()).collect();
        let mut params = Vec::new();
        let mut score = Score::new();
        let mut i = 0;
        for seg in &self.segments {
            match seg {
                Segment::Literal(l) => {
                    if !parts.get(i).is_some_and(|p| p.eq_ignore_ascii_case(l)) {
                        return None;
                    }
                    score.push(3);
                    i += 1;
                }
                Segment::Param(name) => {
                    let p = parts.get(i)?;
                    params.push((name.clone(), decode(p)));
                    score.push(2);
                    i += 1;
                }
                Segment::Rest(name) => {
                    params.push((name.clone(), parts.get(i..).unwrap_or_default().join("/")));
                    score.push(1);
                    i = parts.len();
                }
            }
        }
        if i != parts.len() {
            return None;
        }
        for (q, name) in &self.query {
            let (_, v) = query.iter().find(|(k, _)| k == q)?;
            params.push((name.clone(), v.clone()));
            score.push(2);
        }
        Some((params, score))
    }

    /// Whether the template names query parameters.
    pub fn has_query(&self) -> bool {
        !self.query.is_empty()
    }

    /// Query parameters the template names (dropped by `rewrite-uri`).
    pub fn query_names(&self) -> impl Iterator<Item = &str> {
        self.query.iter().map(|(k, _)| k.as_str())
    }
}

fn decode(s: &str) -> String {
    percent_decode(s)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(h);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn templates_match_and_rank() {
        let t = UrlTemplate::parse("/resource/{id}");
        let (params, _) = t.matches("/resource/42", &[]).unwrap();
        assert_eq!(params, q(&[("id", "42")]));
        assert!(t.matches("/resource", &[]).is_none());
        assert!(t.matches("/resource/1/2", &[]).is_none());
        let lit = UrlTemplate::parse("/resource/special")
            .matches("/resource/special", &[])
            .unwrap()
            .1;
        let par = t.matches("/resource/special", &[]).unwrap().1;
        assert!(lit > par);
        let rest = UrlTemplate::parse("/files/{*path}");
        assert_eq!(
            rest.matches("/files/a/b%20c", &[]).unwrap().0,
            q(&[("path", "a/b%20c")])
        );
        let query = UrlTemplate::parse("/get?a={b}");
        assert_eq!(
            query
                .matches("/get", &q(&[("a", "1"), ("c", "d")]))
                .unwrap()
                .0,
            q(&[("b", "1")])
        );
        assert!(query.matches("/get", &[]).is_none());
    }
}
