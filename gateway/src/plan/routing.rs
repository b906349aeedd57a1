//! Routing: the API by the longest matching path prefix (among APIs of one
//! version set sharing it, the one whose version header or query parameter
//! the request names, else the one without a version), then the operation
//! by method and URL template. One rule ranks the operations, for running a
//! request ([`Plan::handle_routed`]) and for labelling its metrics
//! ([`Plan::route_names`]) alike: among the operations whose method fits
//! (the request's, `*`, or the one a CORS preflight announces) and whose
//! template matches, one of the request's own method wins, then the higher
//! template score, then the later one declared.

use sluice_engine::runtime::{Multimap, Url};

use super::{ApiPlan, OperationPlan, Plan, Route, VersionPlan};

/// Where a request goes: its API and, if one matches, its operation with the
/// template's parameters.
pub(super) struct Routed<'p> {
    pub api: &'p ApiPlan,
    pub operation: Option<(&'p OperationPlan, Vec<(String, String)>)>,
}

impl<'p> Routed<'p> {
    /// The metrics' labels.
    pub fn names(&self) -> Route<'p> {
        Route {
            api: &self.api.name,
            operation: self.operation.as_ref().map_or("", |(o, _)| &o.name),
        }
    }
}

impl Plan {
    /// Routes a request: `None` when no API's path matches. `preflight` is
    /// the method a CORS preflight announces ([`preflight`]): the operation
    /// of that method matches too (an `OPTIONS` operation still wins), so
    /// that `cors` can answer it.
    pub(super) fn route(
        &self,
        method: &str,
        url: &Url,
        headers: &Multimap,
        preflight: Option<&str>,
    ) -> Option<Routed<'_>> {
        let (candidates, rest) = apis_for(&self.api_paths, &url.path)?;
        let api = by_version(
            candidates.iter().filter_map(|&i| self.apis.get(i)),
            url,
            headers,
        )?;
        let query = api.query_pairs(url);
        // Operation methods are upper case (`*` for any).
        let fits = |o: &OperationPlan| {
            o.method == "*"
                || o.method.eq_ignore_ascii_case(method)
                || preflight.is_some_and(|p| o.method.eq_ignore_ascii_case(p))
        };
        // Ranked by (the request's own method, template score); the last of equals wins.
        let operation = api
            .operations
            .iter()
            .filter(|o| fits(o))
            .filter_map(|o| {
                let (params, score) = o.template.matches(rest, &query)?;
                Some(((o.method.eq_ignore_ascii_case(method), score), o, params))
            })
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, o, params)| (o, params));
        Some(Routed { api, operation })
    }

    /// The API a request is routed to and, if one matches, its operation,
    /// without running it (the labels of a request the server refused
    /// before the plan saw it). The same rule as [`Plan::handle_routed`];
    /// the request's headers were not read, so it is not taken for a CORS
    /// preflight.
    pub fn route_names(&self, method: &str, url: &str) -> Option<(&str, Option<&str>)> {
        let url = Url::parse(url)?;
        let routed = self.route(method, &url, &Multimap::default(), None)?;
        let operation = routed.operation.map(|(o, _)| o.name.as_str());
        Some((routed.api.name.as_str(), operation))
    }
}

/// The method a CORS preflight announces (`Access-Control-Request-Method`
/// of an `OPTIONS` request with an `Origin`), if the request is one.
pub(super) fn preflight<'r>(method: &str, headers: &'r Multimap) -> Option<&'r str> {
    if !method.eq_ignore_ascii_case("OPTIONS") || headers.get("Origin").is_none() {
        return None;
    }
    let announced = headers.get("Access-Control-Request-Method")?.first()?;
    Some(announced.trim())
}

impl ApiPlan {
    /// The URL's query as pairs, for templates that name query parameters
    /// (empty, without copying anything, when none does).
    fn query_pairs(&self, url: &Url) -> Vec<(String, String)> {
        if !self.operations.iter().any(|o| o.template.has_query()) {
            return Vec::new();
        }
        url.query
            .0
            .iter()
            .flat_map(|(k, vs)| vs.iter().map(move |v| (k.to_string(), v.clone())))
            .collect()
    }
}

/// Among the APIs of one path, the one whose version the request names
/// (header or query parameter, compared as APIM does: exactly), else the
/// one without a version.
fn by_version<'p>(
    apis: impl Iterator<Item = &'p ApiPlan>,
    url: &Url,
    headers: &Multimap,
) -> Option<&'p ApiPlan> {
    let mut unversioned = None;
    for api in apis {
        let named = match &api.version {
            None => {
                unversioned = unversioned.or(Some(api));
                continue;
            }
            Some(VersionPlan::Header(name, value)) => headers
                .get(name)
                .and_then(|v| v.first())
                .is_some_and(|v| v.trim() == value),
            Some(VersionPlan::Query(name, value)) => url
                .query
                .get(name)
                .and_then(|v| v.first())
                .is_some_and(|v| v == value),
        };
        if named {
            return Some(api);
        }
    }
    unversioned
}

/// The APIs whose path is the longest prefix of `path` (by whole
/// segments; several when they differ by version): their indexes and the
/// rest of the path.
pub fn apis_for<'p>(api_paths: &[String], path: &'p str) -> Option<(Vec<usize>, &'p str)> {
    let (first, rest) = api_for(api_paths, path)?;
    let len = api_paths.get(first)?.trim_matches('/');
    let all = api_paths
        .iter()
        .enumerate()
        .filter(|(_, p)| p.trim_matches('/') == len)
        .map(|(i, _)| i)
        .collect();
    Some((all, rest))
}

/// The API whose path is the longest prefix of `path` (by whole segments):
/// its index and the rest of the path.
pub fn api_for<'p>(api_paths: &[String], path: &'p str) -> Option<(usize, &'p str)> {
    let mut best: Option<(usize, usize)> = None;
    for (i, p) in api_paths.iter().enumerate() {
        let prefix = p.trim_matches('/');
        let rest = if prefix.is_empty() {
            Some(path)
        } else {
            path.strip_prefix('/')
                .and_then(|r| r.strip_prefix(prefix))
                .filter(|r| r.is_empty() || r.starts_with('/'))
        };
        if rest.is_some() && best.is_none_or(|(_, len)| prefix.len() > len) {
            best = Some((i, prefix.len()));
        }
    }
    let (i, len) = best?;
    let rest = if len == 0 { path } else { &path[1 + len..] };
    Some((i, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apis_by_longest_path() {
        let paths = vec!["echo".to_owned(), "echo/v2".to_owned(), String::new()];
        assert_eq!(api_for(&paths, "/echo/v2/x"), Some((1, "/x")));
        assert_eq!(api_for(&paths, "/echo/x"), Some((0, "/x")));
        assert_eq!(api_for(&paths, "/echoes"), Some((2, "/echoes")));
        assert_eq!(api_for(&paths[..2], "/other"), None);
    }
}
