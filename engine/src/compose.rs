//! Scopes and `<base/>`: the effective policy of an operation.
//!
//! A request runs the effective policy: start at the narrowest scope's
//! document and replace each `<base/>` with the same section of the next
//! broader scope, recursively. A section without `<base/>` inherits
//! nothing; a scope with no document, or a document without that section,
//! behaves as if the section held only `<base/>`. `<base/>` at global scope
//! is a no-op. Top-level `include-fragment` statements are replaced by the
//! fragment's policies, which keep their own source for diagnostics.

use std::sync::Arc;

use crate::doc::{Fragments, PolicyDocument, Statement};
use crate::schema::{Scope, Section};
use crate::source::Source;
use crate::xml::Element;

/// One scope's policy document (or none), broadest first in a chain.
#[derive(Clone, Copy, Debug)]
pub struct Layer<'a> {
    pub scope: Scope,
    pub doc: Option<&'a PolicyDocument>,
}

/// A policy of the effective policy, with where it came from.
#[derive(Clone, Debug)]
pub struct EffectiveStatement {
    pub source: Arc<Source>,
    pub scope: Scope,
    pub element: Element,
}

/// The flattened sections of one operation's effective policy.
#[derive(Clone, Debug, Default)]
pub struct Effective {
    pub inbound: Vec<EffectiveStatement>,
    pub backend: Vec<EffectiveStatement>,
    pub outbound: Vec<EffectiveStatement>,
    pub on_error: Vec<EffectiveStatement>,
}

impl Effective {
    pub fn section(&self, s: Section) -> &[EffectiveStatement] {
        match s {
            Section::Inbound => &self.inbound,
            Section::Backend => &self.backend,
            Section::Outbound => &self.outbound,
            Section::OnError => &self.on_error,
        }
    }
}

/// The effective policy of a chain of layers, broadest (global) first.
pub fn effective(layers: &[Layer<'_>], fragments: &Fragments) -> Effective {
    let mut out = Effective::default();
    for s in Section::ALL {
        let mut list = Vec::new();
        expand(layers, s, fragments, &mut list);
        match s {
            Section::Inbound => out.inbound = list,
            Section::Backend => out.backend = list,
            Section::Outbound => out.outbound = list,
            Section::OnError => out.on_error = list,
        }
    }
    out
}

fn expand(
    layers: &[Layer<'_>],
    s: Section,
    fragments: &Fragments,
    out: &mut Vec<EffectiveStatement>,
) {
    let Some((layer, parents)) = layers.split_last() else {
        return;
    };
    let body = layer.doc.and_then(|d| d.section(s).map(|b| (d, b)));
    let Some((doc, body)) = body else {
        // No document or no such section: as if it held only `<base/>`.
        expand(parents, s, fragments, out);
        return;
    };
    for st in &body.statements {
        match st {
            Statement::Base(_) => expand(parents, s, fragments, out),
            Statement::Policy(e) if e.name == "include-fragment" => {
                let frag = e
                    .attr("fragment-id")
                    .and_then(|a| fragments.get(a.value.value.trim()));
                match frag {
                    Some(f) => {
                        for fs in &f.body {
                            if let Statement::Policy(fe) = fs {
                                out.push(EffectiveStatement {
                                    source: Arc::clone(&f.source),
                                    scope: layer.scope,
                                    element: fe.clone(),
                                });
                            }
                        }
                    }
                    None => out.push(EffectiveStatement {
                        source: Arc::clone(&doc.source),
                        scope: layer.scope,
                        element: e.clone(),
                    }),
                }
            }
            Statement::Policy(e) => out.push(EffectiveStatement {
                source: Arc::clone(&doc.source),
                scope: layer.scope,
                element: e.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests;
