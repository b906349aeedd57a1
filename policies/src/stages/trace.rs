//! `trace`: adds a custom trace (source, severity, message, metadata) to the
//! request's trace output. Sluice records it in `ContextData::traces`, the
//! same storage as `context.Trace(...)`, one line per trace:
//! `[severity] source: message` followed by ` name=value` for each metadata
//! entry. It is recorded whatever `context.Tracing` says (APIM's Application
//! Insights and resource-log sinks are not subject to the request-trace
//! switch), and, with `[gateway] trace-logger = "ID"`, sent to that logger
//! as one JSON object (`{"time", "logger", "policy": "trace", "source",
//! "severity", "message", "metadata"}`; the whole line is a Kafka record's
//! value). The trace never fails the request unless one of its expressions
//! fails: sending never waits ([`crate::sinks`]).

use std::sync::Arc;

use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Run, Stage,
};
use sluice_engine::xml::Element;

use crate::sinks::{Event, Logger, Loggers, timestamp};

#[derive(Debug)]
struct Trace {
    source: String,
    severity: String,
    message: Option<CompiledValue>,
    metadata: Vec<(CompiledValue, CompiledValue)>,
    /// `[gateway] trace-logger`, if set.
    logger: Option<Arc<Logger>>,
}

/// What one trace says.
struct Traced {
    message: String,
    metadata: Vec<(String, String)>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let source = cx.literal(e, "source").unwrap_or_default();
    let severity = cx
        .literal(e, "severity")
        .unwrap_or_else(|| "verbose".into());
    let mut message = None;
    let mut metadata = Vec::new();
    for c in e.elements() {
        match c.name.as_str() {
            "message" => message = Some(cx.text(c)?),
            "metadata" => metadata.push((cx.required(c, "name")?, cx.required(c, "value")?)),
            _ => {}
        }
    }
    // A gateway without loggers (unit tests' kits) traces as before.
    let logger = cx.resources.get::<Loggers>().and_then(|l| l.trace.clone());
    Ok(Box::new(Trace {
        source,
        severity,
        message,
        metadata,
        logger,
    }))
}

impl Trace {
    fn traced(&self, x: &Exchange) -> Result<Traced, PolicyError> {
        let message = match &self.message {
            Some(m) => m.eval_string(x)?.unwrap_or_default(),
            None => String::new(),
        };
        let mut metadata = Vec::with_capacity(self.metadata.len());
        for (name, value) in &self.metadata {
            let name = name.eval_string(x)?.unwrap_or_default();
            let value = value.eval_string(x)?.unwrap_or_default();
            metadata.push((name, value));
        }
        Ok(Traced { message, metadata })
    }

    fn line(&self, t: &Traced) -> String {
        let mut line = format!("[{}] {}: {}", self.severity, self.source, t.message);
        for (name, value) in &t.metadata {
            line.push_str(&format!(" {name}={value}"));
        }
        line
    }

    fn event(&self, x: &Exchange, logger: &Logger, t: Traced) -> Event {
        let metadata: serde_json::Map<String, serde_json::Value> =
            t.metadata.into_iter().map(|(k, v)| (k, v.into())).collect();
        let line = serde_json::json!({
            "time": timestamp(x.services.now_ms()),
            "logger": logger.id(),
            "policy": "trace",
            "source": self.source,
            "severity": self.severity,
            "message": t.message,
            "metadata": metadata,
        })
        .to_string();
        Event {
            value: line.clone(),
            line,
            key: None,
            partition: None,
        }
    }
}

impl Stage for Trace {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        match self.traced(x) {
            Ok(t) => {
                let line = self.line(&t);
                if let Some(logger) = &self.logger {
                    logger.send(self.event(x, logger, t));
                }
                match x.ctx.0.traces.write() {
                    Ok(mut t) => t.push(line),
                    Err(p) => p.into_inner().push(line),
                }
                Run::next()
            }
            Err(e) => Run::fail(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use sluice_engine::runtime::Flow;
    use sluice_engine::schema::Section;

    use crate::testkit::{Kit, request, run};

    fn traces(policy: &str) -> Vec<String> {
        let kit = Kit::new();
        let stage = kit.stage(policy, Section::Inbound);
        let mut x = kit.exchange(
            request("GET", "http://h/api/x", &[]),
            "/api",
            Section::Inbound,
        );
        x.ctx
            .variables(|v| v.insert("clientConnectionID".into(), "c-42".into()));
        assert_eq!(run(stage.as_ref(), &mut x), Ok(Flow::Next));
        x.ctx.0.traces.read().unwrap().clone()
    }

    #[test]
    fn records_the_docs_example() {
        let t = traces(
            r#"<trace source="PetStore API" severity="verbose">
                <message>@((string)context.Variables["clientConnectionID"])</message>
                <metadata name="Operation Name" value="New-Order"/>
            </trace>"#,
        );
        assert_eq!(t, ["[verbose] PetStore API: c-42 Operation Name=New-Order"]);
    }

    #[test]
    fn severity_defaults_to_verbose_and_metadata_is_optional() {
        let t = traces(r#"<trace source="s"><message>hello</message></trace>"#);
        assert_eq!(t, ["[verbose] s: hello"]);
        let t = traces(
            r#"<trace source="s" severity="error"><message>@(context.Request.Method)</message><metadata name="a" value="@("b")"/></trace>"#,
        );
        assert_eq!(t, ["[error] s: GET a=b"]);
    }

    #[test]
    fn a_failing_message_expression_is_an_error() {
        let kit = Kit::new();
        let stage = kit.stage(
            r#"<trace source="s"><message>@((string)context.Variables["nope"])</message></trace>"#,
            Section::Outbound,
        );
        let mut x = kit.exchange(
            request("GET", "http://h/api/x", &[]),
            "/api",
            Section::Outbound,
        );
        let e = run(stage.as_ref(), &mut x).unwrap_err();
        assert_eq!(e.reason.as_str(), "ExpressionValueEvaluationFailure");
        assert!(x.ctx.0.traces.read().unwrap().is_empty());
    }
}
