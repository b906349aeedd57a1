//! `redirect-content-urls`: in outbound, links to the backend in the
//! response body become links to the gateway; in inbound, the opposite in
//! the request body. The backend's base is the URL requests are forwarded
//! to (the API's `service-url`, or what `set-backend-service` chose); the
//! gateway's is the request's original scheme, host and port with the
//! API's path. Headers (`Location`) are not changed, as the docs say.

use sluice_engine::runtime::{CompileCx, Compiled, Exchange, Run, Stage};
use sluice_engine::schema::Section;
use sluice_engine::xml::Element;

#[derive(Debug)]
struct RedirectContentUrls;

pub(crate) fn compile(_: &Element, _: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(RedirectContentUrls))
}

/// The gateway's base URL of the API: `https://host[:port]/api`.
fn gateway_base(x: &Exchange) -> String {
    let mut u = x.request().read(|m| m.original_url.clone());
    u.path = x.api_prefix.to_string();
    u.query = Default::default();
    u.to_string().trim_end_matches('/').to_owned()
}

fn replace_all(body: &[u8], from: &[u8], to: &[u8]) -> Option<Vec<u8>> {
    if from.is_empty() {
        return None;
    }
    let mut matches = memchr::memmem::find_iter(body, from).peekable();
    matches.peek()?;
    let mut out = Vec::with_capacity(body.len());
    let mut copied = 0;
    for at in matches {
        out.extend_from_slice(&body[copied..at]);
        out.extend_from_slice(to);
        copied = at + from.len();
    }
    out.extend_from_slice(&body[copied..]);
    Some(out)
}

impl Stage for RedirectContentUrls {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let backend = x.backend_url.trim_end_matches('/').to_owned();
        let gateway = gateway_base(x);
        let (from, to) = match x.section {
            Section::Outbound | Section::OnError => (backend, gateway),
            Section::Inbound | Section::Backend => (gateway, backend),
        };
        x.message().write(|m| {
            if let Some(body) = &mut m.body
                && let Some(new) = replace_all(&body.bytes, from.as_bytes(), to.as_bytes())
            {
                body.bytes = new.into();
            }
        });
        Run::next()
    }
}
