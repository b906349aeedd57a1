//! `cross-domain`: the Adobe cross-domain policy file of the gateway, for
//! Flash and Silverlight clients. The plan serves the element's content
//! (`<cross-domain-policy>...`) at `/crossdomain.xml` ([`document`]); in a
//! pipeline the policy does nothing.

use sluice_engine::runtime::{CompileCx, Compiled, Exchange, Run, Stage};
use sluice_engine::source::Source;
use sluice_engine::xml::Element;

#[derive(Debug)]
struct CrossDomain;

pub(crate) fn compile(_: &Element, _: &mut CompileCx<'_>) -> Compiled {
    Ok(Box::new(CrossDomain))
}

impl Stage for CrossDomain {
    fn run<'a>(&'a self, _: &'a mut Exchange) -> Run<'a> {
        Run::next()
    }
}

/// The cross-domain policy file a `cross-domain` element gives: its
/// content as written, after an XML declaration.
pub fn document(e: &Element, source: &Source) -> String {
    let inner = e
        .content_span
        .and_then(|s| source.text().get(s.start..s.end))
        .unwrap_or_default()
        .trim();
    format!("<?xml version=\"1.0\"?>\n{inner}\n")
}
