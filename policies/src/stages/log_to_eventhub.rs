//! `log-to-eventhub`: sends the element's text (a literal or an
//! expression) to the logger `logger-id` names (`[loggers.ID]`: a Kafka
//! topic, which is how Event Hubs is reached, a file or standard output).
//!
//! A logger id with no `[loggers.ID]` is a load error naming the section
//! to add. The message is cut at 200 KB (on a character boundary), as the
//! docs say Event Hubs messages are. Sending never waits and never fails
//! the request ([`crate::sinks`]): only an expression that fails does.
//!
//! The event: the message as the Kafka record's value, `partition-key` as
//! its key, `partition-id` as its partition; the file and stdout sinks
//! write `{"time", "logger", "policy", "partition-id"?, "partition-key"?,
//! "message"}` on one line.

use std::sync::Arc;

use sluice_engine::diag::Code;
use sluice_engine::runtime::{CompileCx, Compiled, CompiledValue, Exchange, Run, Stage};
use sluice_engine::xml::Element;

use crate::sinks::{Event, Logger, Loggers, timestamp};

/// The docs' bound on one message.
pub(crate) const MAX_MESSAGE_BYTES: usize = 200 * 1024;

#[derive(Debug)]
struct LogToEventhub {
    logger: Arc<Logger>,
    partition_id: Option<i32>,
    partition_key: Option<CompiledValue>,
    message: CompiledValue,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let loggers = cx.resource::<Loggers>(e)?;
    let id = cx.required_literal(e, "logger-id")?;
    let span = e.attr("logger-id").map_or(e.name_span, |a| a.value.span);
    let Some(logger) = loggers.by_id.get(&id).cloned() else {
        return cx.fail(
            Code::ConfigReference,
            span,
            format!(
                "no logger `{id}`: add a `[loggers.{id}]` section to the configuration \
                 (kind = \"kafka\", \"file\" or \"stdout\")"
            ),
        );
    };
    let partition_id = match cx.literal(e, "partition-id") {
        None => None,
        Some(p) => match p.parse::<i32>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                let span = e.attr("partition-id").map_or(e.name_span, |a| a.value.span);
                return cx.fail(
                    Code::InvalidAttributeValue,
                    span,
                    format!("`{p}` is not a partition index"),
                );
            }
        },
    };
    let partition_key = cx.optional(e, "partition-key")?;
    let message = cx.text(e)?;
    Ok(Box::new(LogToEventhub {
        logger,
        partition_id,
        partition_key,
        message,
    }))
}

/// `text` cut to at most `max` bytes, on a character boundary.
pub(crate) fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

impl LogToEventhub {
    fn event(&self, x: &Exchange) -> Result<Event, sluice_engine::runtime::PolicyError> {
        let message = truncate(
            self.message.eval_string(x)?.unwrap_or_default(),
            MAX_MESSAGE_BYTES,
        );
        let key = match &self.partition_key {
            Some(k) => k.eval_string(x)?,
            None => None,
        };
        let mut line = serde_json::Map::new();
        line.insert("time".into(), timestamp(x.services.now_ms()).into());
        line.insert("logger".into(), self.logger.id().into());
        line.insert("policy".into(), "log-to-eventhub".into());
        if let Some(p) = self.partition_id {
            line.insert("partition-id".into(), p.into());
        }
        if let Some(k) = &key {
            line.insert("partition-key".into(), k.clone().into());
        }
        line.insert("message".into(), message.clone().into());
        Ok(Event {
            line: serde_json::Value::Object(line).to_string(),
            value: message,
            key,
            partition: self.partition_id,
        })
    }
}

impl Stage for LogToEventhub {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        match self.event(x) {
            Ok(ev) => {
                self.logger.send(ev);
                Run::next()
            }
            Err(e) => Run::fail(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn messages_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("abc".into(), 5), "abc");
        assert_eq!(truncate("abcdef".into(), 4), "abcd");
        // "é" is two bytes: a cut inside it keeps the character out.
        assert_eq!(truncate("aé".into(), 2), "a");
    }
}
