//! What the limit policies share (`rate-limit`, `rate-limit-by-key`,
//! `quota`, `quota-by-key`): their header and variable names, the answers
//! over a limit (APIM's 429 and 403 bodies and `Retry-After`), and the
//! amounts they count after the response (bandwidth).

use std::collections::HashMap;

use crate::counters::Decision;
use sluice_engine::runtime::{CompileCx, Exchange, PolicyError, Reason};
use sluice_engine::xml::Element;

/// The header and variable names of `rate-limit` and `rate-limit-by-key`
/// (`quota*` have only the retry header, always `Retry-After`).
#[derive(Debug, Default)]
pub(crate) struct Names {
    pub retry_after_header: String,
    pub retry_after_variable: Option<String>,
    pub remaining_header: Option<String>,
    pub remaining_variable: Option<String>,
    pub total_header: Option<String>,
}

impl Names {
    pub(crate) fn compile(e: &Element, cx: &CompileCx<'_>) -> Self {
        let name = |n: &str| cx.literal(e, n).filter(|v| !v.is_empty());
        Self {
            retry_after_header: name("retry-after-header-name")
                .unwrap_or_else(|| "Retry-After".to_owned()),
            retry_after_variable: name("retry-after-variable-name"),
            remaining_header: name("remaining-calls-header-name"),
            remaining_variable: name("remaining-calls-variable-name"),
            total_header: name("total-calls-header-name"),
        }
    }

    /// The remaining and total calls, after an admitted decision.
    pub(crate) fn admitted(&self, x: &Exchange, remaining: u64, total: u64) {
        if let Some(h) = &self.remaining_header {
            late_header(x, h, remaining.to_string());
        }
        if let Some(v) = &self.remaining_variable {
            set_variable(x, v, remaining);
        }
        if let Some(h) = &self.total_header {
            late_header(x, h, total.to_string());
        }
    }

    /// The headers and variables of a refusal: retry after `secs`.
    pub(crate) fn refused(&self, x: &Exchange, secs: u64, total: u64) {
        late_header(x, &self.retry_after_header, secs.to_string());
        if let Some(v) = &self.retry_after_variable {
            set_variable(x, v, secs);
        }
        self.admitted(x, 0, total);
    }
}

/// Adds a header to the final response (whatever produces it: the 429,
/// `on-error`, the backend's answer), unless it has one of that name.
pub(crate) fn late_header(x: &Exchange, name: &str, value: String) {
    let mut late = match x.ctx.0.late_headers.write() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    late.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    late.push((name.to_owned(), value));
}

pub(crate) fn set_variable(x: &Exchange, name: &str, n: u64) {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    x.ctx.variables(|v| {
        v.insert(name.to_owned(), rhai::Dynamic::from(n));
    });
}

/// Whole seconds to wait, rounded up, at least 1.
pub(crate) fn retry_secs(d: &Decision, otherwise_ms: u64) -> u64 {
    d.retry_after_ms
        .unwrap_or(otherwise_ms)
        .div_ceil(1000)
        .max(1)
}

/// The 429 of `rate-limit` and `rate-limit-by-key`.
pub(crate) fn rate_limited(policy: &str, secs: u64) -> PolicyError {
    PolicyError::new(
        policy,
        Reason::RateLimitExceeded,
        429,
        "Rate limit is exceeded",
    )
    .with_response_message(format!(
        "Rate limit is exceeded. Try again in {secs} seconds."
    ))
}

/// What ran out: calls or bandwidth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Volume {
    Calls,
    Bandwidth,
}

/// The 403 of `quota` and `quota-by-key`; `secs` `None`: a lifetime quota,
/// never replenished.
pub(crate) fn quota_exceeded(policy: &str, volume: Volume, secs: Option<u64>) -> PolicyError {
    let what = match volume {
        Volume::Calls => "call volume",
        Volume::Bandwidth => "bandwidth",
    };
    let message = match secs {
        Some(s) => format!(
            "Out of {what} quota. Quota will be replenished in {}.",
            timespan(s)
        ),
        None => format!("Out of {what} quota."),
    };
    PolicyError::new(policy, Reason::QuotaExceeded, 403, message.clone())
        .with_response_message(message)
}

/// `hh:mm:ss`, or `d.hh:mm:ss` from a day (.NET's `TimeSpan` format).
pub(crate) fn timespan(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}.{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// The bytes of a message: its body's, else its `Content-Length` (a body
/// that streamed past the policies).
fn message_bytes(m: &sluice_engine::runtime::Message) -> u64 {
    if let Some(b) = &m.body {
        return b.bytes.len() as u64;
    }
    m.headers
        .get("Content-Length")
        .and_then(|v| v.first())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The bytes of the request and the response, for bandwidth quotas.
pub(crate) fn exchanged_bytes(x: &Exchange) -> u64 {
    x.request().read(message_bytes) + x.response().read(message_bytes)
}

/// The counters a request has already counted in, for `quota-by-key`'s
/// "incremented only once per request": whether at once (`true`) or at
/// the end of the pipeline.
#[derive(Debug, Default)]
pub(crate) struct CountedOnce(pub HashMap<(&'static str, String), bool>);

/// How this request counted `key` of `policy` before: `None` the first
/// time (which is recorded as `at_once`).
pub(crate) fn counted_before(
    x: &mut Exchange,
    policy: &'static str,
    key: &str,
    at_once: bool,
) -> Option<bool> {
    if x.extensions.get::<CountedOnce>().is_none() {
        x.extensions.insert(CountedOnce::default());
    }
    let c = x.extensions.get_mut::<CountedOnce>()?;
    match c.0.get(&(policy, key.to_owned())) {
        Some(b) => Some(*b),
        None => {
            c.0.insert((policy, key.to_owned()), at_once);
            None
        }
    }
}

/// A whole, non-negative number from an expression's value.
pub(crate) fn count_of(
    policy: &str,
    v: &sluice_engine::runtime::CompiledValue,
    x: &Exchange,
    what: &str,
) -> Result<u64, PolicyError> {
    let n = v.eval_int(x)?;
    u64::try_from(n).map_err(|_| {
        PolicyError::new(
            policy,
            Reason::ExpressionValueEvaluationFailure,
            500,
            format!("Expression evaluation failed. `{what}` must not be negative, not {n}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::timespan;

    #[test]
    fn timespans_read_as_dotnet_writes_them() {
        assert_eq!(timespan(504), "00:08:24");
        assert_eq!(timespan(3_600), "01:00:00");
        assert_eq!(timespan(2 * 86_400 + 3 * 3_600 + 5), "2.03:00:05");
    }
}
