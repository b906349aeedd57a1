//! `publish-to-dapr`: publishes the element's content (an expression, a
//! literal, or with `template="liquid"` a Liquid template) to a Dapr
//! pub/sub topic: `POST {[dapr] endpoint}/v1.0/publish/{pubsub-name}/{topic}`
//! with `content-type` as the `Content-Type` when given. Without
//! `pubsub-name`, `topic` is `pubsub/topic`. The call, its answer and its
//! errors: [`super::dapr`].

use bytes::Bytes;
use sluice_engine::runtime::{CompileCx, Compiled, CompiledValue, Exchange, Run, Stage};
use sluice_engine::xml::Element;

use super::dapr::{DaprCall, compile_call, segment};
use super::liquid::LiquidTemplate;

#[derive(Debug)]
enum Content {
    Value(CompiledValue),
    Liquid(LiquidTemplate),
}

#[derive(Debug)]
struct PublishToDapr {
    call: DaprCall,
    pubsub: Option<CompiledValue>,
    topic: CompiledValue,
    content: Content,
    content_type: Option<String>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let call = compile_call(e, cx, "publish-to-dapr")?;
    let pubsub = cx.optional(e, "pubsub-name")?;
    let topic = cx.required(e, "topic")?;
    let content = match cx.literal(e, "template") {
        Some(t) if t.eq_ignore_ascii_case("liquid") => {
            Content::Liquid(super::liquid::compile(e, cx)?)
        }
        _ => Content::Value(cx.text(e)?),
    };
    Ok(Box::new(PublishToDapr {
        call,
        pubsub,
        topic,
        content,
        content_type: cx.literal(e, "content-type"),
    }))
}

impl PublishToDapr {
    fn path(&self, x: &Exchange) -> Result<String, sluice_engine::runtime::PolicyError> {
        let topic = self.topic.eval_string(x)?.unwrap_or_default();
        let (pubsub, topic) = match &self.pubsub {
            Some(p) => (p.eval_string(x)?.unwrap_or_default(), topic),
            None => match topic.split_once('/') {
                Some((p, t)) => (p.to_owned(), t.to_owned()),
                None => {
                    return Err(self.call.fail(format!(
                        "`topic` is `{topic}`: without `pubsub-name` it is `pubsub-name/topic-name`"
                    )));
                }
            },
        };
        if pubsub.trim().is_empty() || topic.trim().is_empty() {
            return Err(self
                .call
                .fail("the pub/sub component and topic must not be empty"));
        }
        Ok(format!(
            "/v1.0/publish/{}/{}",
            segment(pubsub.trim()),
            segment(topic.trim())
        ))
    }
}

impl Stage for PublishToDapr {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let prepared = self.path(x).and_then(|path| {
            let body = match &self.content {
                Content::Value(v) => v.eval_string(x)?.unwrap_or_default(),
                Content::Liquid(t) => t.render(x, true).map_err(|mut e| {
                    e.source = "publish-to-dapr".into();
                    e
                })?,
            };
            self.call.request(
                x,
                &path,
                Bytes::from(body.trim().to_owned()),
                self.content_type.as_deref(),
            )
        });
        match prepared {
            Ok(req) => Run::Later(Box::pin(async move { self.call.send(x, req).await })),
            Err(e) => Run::fail(e),
        }
    }
}
