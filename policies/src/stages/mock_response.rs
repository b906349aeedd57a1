//! `mock-response`: ends the pipeline with a mocked response: `status-code`
//! (default 200) and, when given, `content-type`. Sluice has no API schemas
//! or response examples, so the body is always empty (the docs' third case:
//! "else an empty body").

use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    Body, CompileCx, Compiled, Exchange, Flow, Message, Multimap, Reported, Run, Stage,
    reason_phrase,
};
use sluice_engine::xml::Element;

#[derive(Debug)]
struct MockResponse {
    status: u16,
    content_type: Option<String>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let status = match cx.literal(e, "status-code") {
        None => 200,
        Some(s) => match s.parse::<u16>().ok().filter(|c| (100..=999).contains(c)) {
            Some(c) => c,
            None => {
                let span = e.attr("status-code").map_or(e.name_span, |a| a.span);
                cx.error(
                    Code::InvalidAttributeValue,
                    span,
                    format!("`{s}` is not an HTTP status code"),
                );
                return Err(Reported);
            }
        },
    };
    let content_type = cx.literal(e, "content-type").filter(|c| !c.is_empty());
    Ok(Box::new(MockResponse {
        status,
        content_type,
    }))
}

impl Stage for MockResponse {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let mut headers = Multimap::default();
        if let Some(ct) = &self.content_type {
            headers.set_one("Content-Type", ct.clone());
        }
        x.response().write(|m| {
            *m = Message {
                status: i64::from(self.status),
                reason: reason_phrase(self.status).to_owned(),
                headers,
                body: Some(Body::default()),
                ..Message::default()
            }
        });
        Run::Done(Ok(Flow::End))
    }
}

#[cfg(test)]
mod tests {
    use sluice_engine::runtime::Flow;
    use sluice_engine::schema::Section;

    use crate::testkit::{Kit, header, request, run};

    #[test]
    fn defaults_to_an_empty_200_and_ends_the_pipeline() {
        let kit = Kit::new();
        let stage = kit.stage("<mock-response/>", Section::Inbound);
        let mut x = kit.exchange(
            request("GET", "http://h/api/x", &[]),
            "/api",
            Section::Inbound,
        );
        x.response()
            .write(|m| m.headers.set_one("X-Old", "1".into()));
        assert_eq!(run(stage.as_ref(), &mut x), Ok(Flow::End));
        x.response().read(|m| {
            assert_eq!((m.status, m.reason.as_str()), (200, "OK"));
            assert!(m.headers.0.is_empty());
            assert_eq!(m.body.as_ref().map(|b| b.bytes.len()), Some(0));
        });
    }

    #[test]
    fn status_code_and_content_type() {
        // The docs' statement: `<mock-response status-code="200" content-type="application/json" />`.
        let kit = Kit::new();
        for (xml, status, ct) in [
            (
                r#"<mock-response status-code="200" content-type="application/json" />"#,
                200,
                Some("application/json"),
            ),
            (r#"<mock-response status-code="404" />"#, 404, None),
        ] {
            let stage = kit.stage(xml, Section::Outbound);
            let mut x = kit.exchange(
                request("GET", "http://h/api/x", &[]),
                "/api",
                Section::Outbound,
            );
            assert_eq!(run(stage.as_ref(), &mut x), Ok(Flow::End));
            assert_eq!(x.response().read(|m| m.status), status);
            assert_eq!(header(x.response(), "Content-Type").as_deref(), ct);
        }
    }

    #[test]
    fn a_status_that_is_not_a_code_is_a_load_error() {
        let kit = Kit::new();
        let err = kit
            .compile(r#"<mock-response status-code="99999" />"#, Section::Inbound)
            .unwrap_err();
        assert!(err.contains("`99999` is not an HTTP status code"), "{err}");
    }
}
