//! `invoke-dapr-binding`: triggers a Dapr output binding:
//! `POST {[dapr] endpoint}/v1.0/bindings/{name}` with Dapr's documented
//! body, `{"data": ..., "metadata": {...}, "operation": "..."}`. `data` is
//! the `<data>` element's content (an expression, a literal, or with
//! `template="liquid"` a Liquid template): embedded as JSON when it parses
//! as JSON, as a string otherwise; `metadata` holds the `<item key>`
//! values (strings, as Dapr takes them). The call, its answer and its
//! errors: [`super::dapr`].

use bytes::Bytes;
use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Run, Stage,
};
use sluice_engine::xml::Element;

use super::dapr::{DaprCall, compile_call, segment};
use super::liquid::LiquidTemplate;

#[derive(Debug)]
enum Data {
    None,
    Value(CompiledValue),
    Liquid(LiquidTemplate),
}

#[derive(Debug)]
struct InvokeDaprBinding {
    call: DaprCall,
    name: CompiledValue,
    operation: Option<String>,
    metadata: Vec<(String, CompiledValue)>,
    data: Data,
    content_type: Option<String>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let call = compile_call(e, cx, "invoke-dapr-binding")?;
    let name = cx.required(e, "name")?;
    let liquid = cx
        .literal(e, "template")
        .is_some_and(|t| t.eq_ignore_ascii_case("liquid"));
    let mut metadata = Vec::new();
    let mut data = Data::None;
    for c in e.elements() {
        match c.name.as_str() {
            "metadata" => {
                for item in c.elements().filter(|i| i.name == "item") {
                    let key = cx.required_literal(item, "key")?;
                    metadata.push((key, cx.text(item)?));
                }
            }
            "data" if liquid => data = Data::Liquid(super::liquid::compile(c, cx)?),
            "data" => data = Data::Value(cx.text(c)?),
            _ => {}
        }
    }
    Ok(Box::new(InvokeDaprBinding {
        call,
        name,
        operation: cx.literal(e, "operation").filter(|o| !o.is_empty()),
        metadata,
        data,
        content_type: cx.literal(e, "content-type"),
    }))
}

impl InvokeDaprBinding {
    fn body(&self, x: &Exchange) -> Result<serde_json::Value, PolicyError> {
        let data = match &self.data {
            Data::None => None,
            Data::Value(v) => Some(v.eval_string(x)?.unwrap_or_default()),
            Data::Liquid(t) => Some(t.render(x, true).map_err(|mut e| {
                e.source = "invoke-dapr-binding".into();
                e
            })?),
        };
        let mut body = serde_json::Map::new();
        if let Some(d) = data {
            let d = d.trim();
            let value = serde_json::from_str::<serde_json::Value>(d)
                .unwrap_or_else(|_| serde_json::Value::String(d.to_owned()));
            body.insert("data".into(), value);
        }
        if !self.metadata.is_empty() {
            let mut m = serde_json::Map::new();
            for (k, v) in &self.metadata {
                let v = v.eval_string(x)?.unwrap_or_default();
                m.insert(k.clone(), v.trim().to_owned().into());
            }
            body.insert("metadata".into(), m.into());
        }
        if let Some(op) = &self.operation {
            body.insert("operation".into(), op.clone().into());
        }
        Ok(body.into())
    }
}

impl Stage for InvokeDaprBinding {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let prepared = self.name.eval_string(x).and_then(|name| {
            let name = name.unwrap_or_default();
            if name.trim().is_empty() {
                return Err(self.call.fail("the binding `name` must not be empty"));
            }
            let body = self.body(x)?;
            let ct = self.content_type.as_deref().unwrap_or("application/json");
            self.call.request(
                x,
                &format!("/v1.0/bindings/{}", segment(name.trim())),
                Bytes::from(body.to_string()),
                Some(ct),
            )
        });
        match prepared {
            Ok(req) => Run::Later(Box::pin(async move { self.call.send(x, req).await })),
            Err(e) => Run::fail(e),
        }
    }
}
