//! `find-and-replace`: replaces every occurrence of a literal string in the
//! body of the section's message (the request in inbound and backend, the
//! response in outbound and on-error); an empty `to` deletes the matches.

use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Run, Stage,
};
use sluice_engine::xml::Element;

#[derive(Debug)]
struct FindAndReplace {
    from: CompiledValue,
    to: CompiledValue,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let from = cx.required(e, "from")?;
    let to = cx.required(e, "to")?;
    Ok(Box::new(FindAndReplace { from, to }))
}

/// `body` with every non-overlapping occurrence of `from` (left to right) replaced by `to`.
fn replace_all(body: &[u8], from: &[u8], to: &[u8]) -> Option<Vec<u8>> {
    if from.is_empty() || body.len() < from.len() {
        return None;
    }
    let mut matches = memchr::memmem::find_iter(body, from).peekable();
    matches.peek()?;
    let mut out = Vec::with_capacity(body.len() + to.len().saturating_sub(from.len()));
    let mut copied = 0;
    // memmem's matches do not overlap, left to right.
    for at in matches {
        out.extend_from_slice(&body[copied..at]);
        out.extend_from_slice(to);
        copied = at + from.len();
    }
    out.extend_from_slice(&body[copied..]);
    Some(out)
}

impl FindAndReplace {
    fn apply(&self, x: &Exchange) -> Result<(), PolicyError> {
        let from = self.from.text(x)?;
        let to = self.to.text(x)?;
        x.message().write(|m| {
            if let Some(body) = &mut m.body
                && let Some(new) = replace_all(&body.bytes, from.as_bytes(), to.as_bytes())
            {
                body.bytes = new.into();
            }
        });
        Ok(())
    }
}

impl Stage for FindAndReplace {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::done(self.apply(x))
    }
}

#[cfg(test)]
mod tests {
    use sluice_engine::runtime::{Body, Message};
    use sluice_engine::schema::Section;

    use super::replace_all;
    use crate::testkit::{Kit, request, run};

    fn body(text: &str) -> Option<Body> {
        Some(Body {
            bytes: bytes::Bytes::copy_from_slice(text.as_bytes()),
            consumed: false,
        })
    }

    fn after(policy: &str, section: Section, text: &str) -> (String, String) {
        let kit = Kit::new();
        let stage = kit.stage(policy, section);
        let req = Message {
            body: body(text),
            ..request("POST", "http://h/api/x", &[])
        };
        let mut x = kit.exchange(req, "/api", section);
        x.response().write(|m| m.body = body(text));
        run(stage.as_ref(), &mut x).unwrap();
        let read = |m: &Message| {
            String::from_utf8(m.body.clone().unwrap_or_default().bytes.to_vec()).unwrap_or_default()
        };
        (x.request().read(read), x.response().read(read))
    }

    #[test]
    fn replaces_every_occurrence_in_the_request_body_inbound() {
        // The docs' example: `notebook` becomes `laptop`.
        let (req, resp) = after(
            r#"<find-and-replace from="notebook" to="laptop" />"#,
            Section::Inbound,
            "a notebook, another notebook",
        );
        assert_eq!(req, "a laptop, another laptop");
        assert_eq!(resp, "a notebook, another notebook");
    }

    #[test]
    fn changes_the_response_body_in_outbound_and_on_error() {
        for section in [Section::Outbound, Section::OnError] {
            let (req, resp) = after(
                r#"<find-and-replace from="secret" to="***" />"#,
                section,
                "secret=1;secret=2",
            );
            assert_eq!(resp, "***=1;***=2");
            assert_eq!(req, "secret=1;secret=2");
        }
    }

    #[test]
    fn an_empty_to_deletes_and_expressions_are_evaluated() {
        let (req, _) = after(
            r#"<find-and-replace from="@("-" + "x")" to="" />"#,
            Section::Backend,
            "a-xb-xc",
        );
        assert_eq!(req, "abc");
    }

    #[test]
    fn nothing_happens_without_a_body_or_a_match() {
        let kit = Kit::new();
        let stage = kit.stage(r#"<find-and-replace from="a" to="b" />"#, Section::Inbound);
        let mut x = kit.exchange(
            request("GET", "http://h/api/x", &[]),
            "/api",
            Section::Inbound,
        );
        run(stage.as_ref(), &mut x).unwrap();
        assert!(x.request().read(|m| m.body.is_none()));
        assert_eq!(replace_all(b"xyz", b"a", b"b"), None);
        assert_eq!(replace_all(b"aaa", b"aa", b"b"), Some(b"ba".to_vec()));
        assert_eq!(replace_all(b"abc", b"", b"z"), None);
    }
}
