//! Whether a pipeline reads the response body, decided once when the plan
//! is built: when it does not, the backend's body passes to the client as
//! it arrives (server-sent events reach the client as they are produced).
//!
//! The check is static and errs on the side of reading (which buffers, as
//! APIM does). What a policy itself does with bodies its built-in declares
//! (`sluice_policies::Builtin::bodies`); this walk adds what expressions
//! mention, nested policies and included fragments. The outbound section
//! reads the body if any policy in it reads or rewrites its own message's
//! body, or if any of its attribute values or texts (with named values
//! substituted) mentions `Body`; the backend section reads it if a text
//! mentions both `Response` and `Body` (an expression after
//! `forward-request`). `on-error` does not count: it starts from the error
//! response, never from the backend's body, which is dropped when it runs.
//!
//! The request body likewise goes to the backend as it arrives unless a
//! policy may read it ([`reads_request_body`]): in inbound or backend, one
//! that reads its own message's body; anywhere, one that reads the request
//! body, any attribute value or text mentioning `Body`, or a policy that
//! may send the body again (inside a policy that repeats its children, more
//! than one, or one that resends it on each call): a stream can be sent
//! only once.

use std::collections::BTreeMap;

use sluice_engine::compose::Effective;
use sluice_engine::doc::{Fragments, Statement};
use sluice_engine::schema::Section;
use sluice_engine::xml::{Element, Node};

/// How deep fragments may include fragments before the check gives up (and says "reads").
const MAX_DEPTH: usize = 16;

/// True when some policy of the effective policy may read the response body.
pub(crate) fn reads_response_body(
    eff: &Effective,
    fragments: &Fragments,
    named: &BTreeMap<String, String>,
) -> bool {
    let check = Check { fragments, named };
    eff.section(Section::Outbound)
        .iter()
        .any(|st| check.element(&st.element, true, 0))
        || eff
            .section(Section::Backend)
            .iter()
            .any(|st| check.element(&st.element, false, 0))
}

/// True when some policy of the effective policy may read the request body,
/// or send it more than once.
pub(crate) fn reads_request_body(
    eff: &Effective,
    fragments: &Fragments,
    named: &BTreeMap<String, String>,
) -> bool {
    let check = Check { fragments, named };
    let mut forwards = 0;
    let reads = Section::ALL.iter().any(|&section| {
        let own = matches!(section, Section::Inbound | Section::Backend);
        eff.section(section)
            .iter()
            .any(|st| check.request(&st.element, own, false, &mut forwards, 0))
    });
    reads || forwards > 1
}

struct Check<'a> {
    fragments: &'a Fragments,
    named: &'a BTreeMap<String, String>,
}

impl Check<'_> {
    /// `outbound`: the section's own message is the response, so body
    /// policies and any mention of `Body` count.
    fn element(&self, e: &Element, outbound: bool, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return true;
        }
        if outbound && sluice_policies::bodies(e).own {
            return true;
        }
        if e.name == "include-fragment" {
            let id = e.attr("fragment-id").map_or("", |a| a.value.value.trim());
            return match self.fragments.get(id) {
                Some(f) => f.body.iter().any(|st| match st {
                    Statement::Policy(fe) => self.element(fe, outbound, depth + 1),
                    Statement::Base(_) => false,
                }),
                None => true,
            };
        }
        if e.attrs
            .iter()
            .any(|a| self.mentions(&a.value.value, outbound))
        {
            return true;
        }
        e.children.iter().any(|n| match n {
            Node::Element(c) => self.element(c, outbound, depth + 1),
            Node::Text(t) | Node::CData(t) => self.mentions(&t.value, outbound),
            Node::Comment(_) => false,
        })
    }

    /// Whether `e` may read the request body (`own`: its section's message
    /// is the request); counts the `forward-request`s met in `forwards`.
    fn request(
        &self,
        e: &Element,
        own: bool,
        in_retry: bool,
        forwards: &mut usize,
        depth: usize,
    ) -> bool {
        let uses = sluice_policies::bodies(e);
        if depth > MAX_DEPTH || own && uses.own || uses.request {
            return true;
        }
        if uses.sends_request {
            *forwards += 1;
            if in_retry || uses.resends_request {
                return true;
            }
        }
        if e.name == "include-fragment" {
            let id = e.attr("fragment-id").map_or("", |a| a.value.value.trim());
            return match self.fragments.get(id) {
                Some(f) => f.body.iter().any(|st| match st {
                    Statement::Policy(fe) => self.request(fe, own, in_retry, forwards, depth + 1),
                    Statement::Base(_) => false,
                }),
                None => true,
            };
        }
        if e.attrs.iter().any(|a| self.mentions(&a.value.value, true)) {
            return true;
        }
        let in_retry = in_retry || uses.repeats;
        e.children.iter().any(|n| match n {
            Node::Element(c) => self.request(c, own, in_retry, forwards, depth + 1),
            Node::Text(t) | Node::CData(t) => self.mentions(&t.value, true),
            Node::Comment(_) => false,
        })
    }

    /// Whether a value, with the named values it references, mentions the body.
    fn mentions(&self, text: &str, outbound: bool) -> bool {
        let hit = |t: &str| t.contains("Body") && (outbound || t.contains("Response"));
        if hit(text) {
            return true;
        }
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else { break };
            if self.named.get(after[..end].trim()).is_some_and(|v| hit(v)) {
                return true;
            }
            rest = &after[end + 2..];
        }
        false
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod request_tests;
