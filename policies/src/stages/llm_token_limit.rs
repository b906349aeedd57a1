//! `llm-token-limit` (and `azure-openai-token-limit`): limits the tokens
//! (prompt + completion) consumed per `counter-key`, per minute
//! (`tokens-per-minute`: over it, 429) and/or per `token-quota-period`
//! (`token-quota`: over it, 403).
//!
//! - Before the backend: the request is refused when the key's count has
//!   reached a limit, or, with `estimate-prompt-tokens="true"`, when the
//!   prompt's estimate would pass it (then the estimate is counted at once
//!   and corrected when the usage is known). The refusal is APIM's:
//!   `{"statusCode":429,"message":"Token limit is exceeded. Try again in N
//!   seconds."}` (403: `Token quota is exceeded. Try again in ...`), with
//!   the retry-after header (default `Retry-After`) in seconds.
//! - After the answer: the tokens consumed (the answer's usage, streamed
//!   or not; counted by the gateway when none comes) are added to the
//!   key's counts, at the end of a stream (or when the client leaves it).
//! - Headers and variables: remaining tokens and remaining quota on every
//!   response after the policy ran (refusals too); tokens consumed on the
//!   backend's answer (for a stream, still streaming: the prompt's tokens).
//!
//! Counts are the counters family's (`crate::counters`, memory or Redis):
//! tokens per minute on a one-minute sliding window (APIM's classic
//! tiers), a quota on fixed UTC-aligned periods (`tokens::counters`), one
//! count per key whatever the scope, as APIM keeps one counter per key.

use std::sync::Arc;

use rhai::Dynamic;
use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    Body, CompileCx, Compiled, CompiledValue, Exchange, Flow, PolicyError, Reason, Run, Services,
    Stage, default_error,
};
use sluice_engine::xml::Element;

use crate::counters::{Counter, Counters, Decision, Take, Window};
use crate::series::Series;
use crate::tokens::counters::Period;
use crate::tokens::{self, Sink, TokenRequest, Usage};

/// The counters' namespace of this policy (both names share it).
const KIND: &str = "llm-token-limit";

#[derive(Debug)]
struct TokenLimit {
    policy: String,
    counter_key: CompiledValue,
    tokens_per_minute: Option<CompiledValue>,
    token_quota: Option<CompiledValue>,
    token_quota_period: Option<CompiledValue>,
    estimate: Option<CompiledValue>,
    names: Names,
    counters: Arc<Counters>,
    series: Arc<Series>,
}

/// The header and variable names of the policy.
#[derive(Clone, Debug, Default)]
struct Names {
    retry_after_header: String,
    retry_after_variable: Option<String>,
    remaining_quota_header: Option<String>,
    remaining_quota_variable: Option<String>,
    remaining_header: Option<String>,
    remaining_variable: Option<String>,
    consumed_header: Option<String>,
    consumed_variable: Option<String>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let counters = cx.resource::<Counters>(e)?;
    let series = cx.resource::<Series>(e)?;
    let counter_key = cx.required(e, "counter-key")?;
    let tokens_per_minute = cx.optional(e, "tokens-per-minute")?;
    let token_quota = cx.optional(e, "token-quota")?;
    let token_quota_period = cx.optional(e, "token-quota-period")?;
    let estimate = cx.optional(e, "estimate-prompt-tokens")?;
    if token_quota.is_some() != token_quota_period.is_some() {
        return cx.fail(
            Code::AttributeCombination,
            e.name_span,
            format!(
                "`{}` needs `token-quota` and `token-quota-period` together",
                e.name
            ),
        );
    }
    if tokens_per_minute.is_none() && token_quota.is_none() {
        return cx.fail(
            Code::AttributeCombination,
            e.name_span,
            format!(
                "`{}` needs `tokens-per-minute`, or `token-quota` with `token-quota-period`, or both",
                e.name
            ),
        );
    }
    let names = Names {
        retry_after_header: cx
            .literal(e, "retry-after-header-name")
            .unwrap_or_else(|| "Retry-After".to_owned()),
        retry_after_variable: cx.literal(e, "retry-after-variable-name"),
        remaining_quota_header: cx.literal(e, "remaining-quota-tokens-header-name"),
        remaining_quota_variable: cx.literal(e, "remaining-quota-tokens-variable-name"),
        remaining_header: cx.literal(e, "remaining-tokens-header-name"),
        remaining_variable: cx.literal(e, "remaining-tokens-variable-name"),
        consumed_header: cx.literal(e, "tokens-consumed-header-name"),
        consumed_variable: cx.literal(e, "tokens-consumed-variable-name"),
    };
    Ok(Box::new(TokenLimit {
        policy: e.name.clone(),
        counter_key,
        tokens_per_minute,
        token_quota,
        token_quota_period,
        estimate,
        names,
        counters,
        series,
    }))
}

impl TokenLimit {
    fn int(&self, v: &CompiledValue, x: &Exchange, attr: &str) -> Result<u64, PolicyError> {
        let n = v.eval_int(x)?;
        u64::try_from(n).map_err(|_| {
            PolicyError::new(
                &self.policy,
                Reason::ExpressionValueEvaluationFailure,
                500,
                format!("`{attr}` is {n}: it must not be negative"),
            )
        })
    }

    /// The rate's and the quota's counters for this request.
    fn counters(&self, x: &Exchange) -> Result<(Option<Counter>, Option<Counter>), PolicyError> {
        let key = self.counter_key.text(x)?.into_owned();
        let rate = match &self.tokens_per_minute {
            Some(v) => Some(Counter::new(
                KIND,
                format!("tpm:{key}"),
                self.int(v, x, "tokens-per-minute")?,
                Window::Sliding { period_ms: 60_000 },
            )),
            None => None,
        };
        let quota = match (&self.token_quota, &self.token_quota_period) {
            (Some(q), Some(p)) => {
                let limit = self.int(q, x, "token-quota")?;
                let text = p.text(x)?;
                let period = Period::parse(&text).ok_or_else(|| {
                    PolicyError::new(
                        &self.policy,
                        Reason::ExpressionValueEvaluationFailure,
                        500,
                        format!(
                            "`token-quota-period` is `{text}`: Hourly, Daily, Weekly, Monthly or Yearly"
                        ),
                    )
                })?;
                // Calendar periods differ in length: each period is one
                // window the policy computes (the next one counts from zero).
                let w = period.window(x.now_ms());
                Some(Counter::new(
                    KIND,
                    format!("quota:{}:{key}", period.name()),
                    limit,
                    Window::Span {
                        start_ms: w.start_ms,
                        end_ms: w.end_ms,
                    },
                ))
            }
            _ => None,
        };
        Ok((rate, quota))
    }

    /// Sets the remaining-* headers (on the final response) and variables.
    fn remaining(&self, x: &Exchange, rate: Option<&Decision>, quota: Option<&Decision>) {
        let n = &self.names;
        let mut late = Vec::new();
        x.ctx.variables(|vars| {
            for (d, header, variable) in [
                (rate, &n.remaining_header, &n.remaining_variable),
                (
                    quota,
                    &n.remaining_quota_header,
                    &n.remaining_quota_variable,
                ),
            ] {
                let Some(d) = d else { continue };
                if let Some(h) = header {
                    late.push((h.clone(), d.remaining.to_string()));
                }
                if let Some(v) = variable {
                    vars.insert(
                        v.clone(),
                        Dynamic::from(i64::try_from(d.remaining).unwrap_or(i64::MAX)),
                    );
                }
            }
        });
        if !late.is_empty() {
            let mut l = match x.ctx.0.late_headers.write() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            // This policy's values replace an earlier run's (a policy used twice).
            l.retain(|(h, _)| !late.iter().any(|(n, _)| n.eq_ignore_ascii_case(h)));
            l.extend(late);
        }
    }

    /// The refusal: 429 over the rate, 403 over the quota.
    fn refuse(&self, x: &Exchange, status: u16, wait_s: i64) -> Result<Flow, PolicyError> {
        let message = if status == 429 {
            // As APIM's rate limits say it: in seconds.
            format!("Token limit is exceeded. Try again in {wait_s} seconds.")
        } else {
            format!(
                "Token quota is exceeded. Try again in {}.",
                duration(wait_s)
            )
        };
        if let Some(v) = &self.names.retry_after_variable {
            x.ctx
                .variables(|vars| vars.insert(v.clone(), Dynamic::from(wait_s)));
        }
        let d = default_error(status, &message);
        let header = self.names.retry_after_header.clone();
        x.response().write(|m| {
            m.status = i64::from(d.status);
            m.reason = d.reason.to_owned();
            m.headers = d.headers;
            m.headers.set_one(&header, wait_s.to_string());
            m.body = Some(Body {
                bytes: d.body,
                consumed: false,
            });
        });
        Ok(Flow::End)
    }
}

/// `59 seconds`, `21 minutes and 33 seconds`, `23 hours`, `1 day, 2 hours and 5 minutes`.
fn duration(s: i64) -> String {
    let s = s.max(0);
    let parts: Vec<String> = [
        (s / 86_400, "day"),
        (s % 86_400 / 3600, "hour"),
        (s % 3600 / 60, "minute"),
        (s % 60, "second"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, unit)| format!("{n} {unit}{}", if *n == 1 { "" } else { "s" }))
    .collect();
    match parts.len() {
        0 => "0 seconds".to_owned(),
        1 => parts[0].clone(),
        n => format!("{} and {}", parts[..n - 1].join(", "), parts[n - 1]),
    }
}

/// One request's count, settled once its usage is known.
struct Count {
    counters: Arc<Counters>,
    services: Arc<dyn Services>,
    limits: Vec<Counter>,
    /// Counted before the backend (the prompt's estimate).
    reserved: u64,
    names: Names,
}

impl Sink for Count {
    fn responded(&self, x: &Exchange, usage: Option<&Usage>, req: &TokenRequest) {
        // Whole: the usage; streaming: the prompt (the completion is on its way).
        let consumed = match usage {
            Some(u) => u.total,
            None => req.prompt_estimate(),
        };
        if let Some(h) = &self.names.consumed_header {
            x.response()
                .write(|m| m.headers.set_one(h, consumed.to_string()));
        }
        if let Some(v) = &self.names.consumed_variable {
            x.ctx.variables(|vars| {
                vars.insert(
                    v.clone(),
                    Dynamic::from(i64::try_from(consumed).unwrap_or(i64::MAX)),
                )
            });
        }
    }

    fn settle(&self, usage: &Usage, _req: &TokenRequest) {
        let delta = i64::try_from(usage.total).unwrap_or(i64::MAX)
            - i64::try_from(self.reserved).unwrap_or(i64::MAX);
        if delta == 0 || self.limits.is_empty() {
            return;
        }
        let now = self.services.now_ms();
        let counters = Arc::clone(&self.counters);
        let limits = self.limits.clone();
        let add = async move {
            for c in &limits {
                counters.take(c, Take::Add(delta), now).await;
            }
        };
        // The in-process store answers at once: counted before the next
        // request. A shared store's answer is awaited in the background
        // (settling runs where the stream ends, which cannot wait).
        let mut add = Box::pin(add);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if add.as_mut().poll(&mut cx).is_pending()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(add);
        }
    }
}

impl Stage for TokenLimit {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let (rate, quota) = match self.counters(x) {
            Ok(c) => c,
            Err(e) => return Run::fail(e),
        };
        let estimate = match &self.estimate {
            Some(v) => match v.eval_bool(x) {
                Ok(b) => b,
                Err(e) => return Run::fail(e),
            },
            None => false,
        };
        let req = tokens::request(x, &self.series);
        let need = if estimate { req.prompt_estimate() } else { 0 };
        // Without an estimate, a request is admitted while the count is
        // below the limit; with one, when the estimate fits.
        let take = if need > 0 {
            Take::Fit(need)
        } else {
            Take::Below(0)
        };
        Run::Later(Box::pin(async move {
            let now = x.now_ms();
            let mut qd = None;
            if let Some(q) = &quota {
                let d = self.counters.take(q, take, now).await;
                if !d.allowed {
                    self.remaining(x, None, Some(&d));
                    return self.refuse(x, 403, wait_s(&d));
                }
                qd = Some(d);
            }
            let mut rd = None;
            if let Some(r) = &rate {
                let d = self.counters.take(r, take, now).await;
                if !d.allowed {
                    if let (Some(q), true) = (&quota, need > 0) {
                        // The quota's reservation taken back.
                        let back = -i64::try_from(need).unwrap_or(i64::MAX);
                        qd = Some(self.counters.take(q, Take::Add(back), now).await);
                    }
                    self.remaining(x, Some(&d), qd.as_ref());
                    return self.refuse(x, 429, wait_s(&d));
                }
                rd = Some(d);
            }
            self.remaining(x, rd.as_ref(), qd.as_ref());
            if let Some(v) = &self.names.consumed_variable {
                x.ctx.variables(|vars| {
                    vars.insert(
                        v.clone(),
                        Dynamic::from(i64::try_from(need).unwrap_or(i64::MAX)),
                    )
                });
            }
            tokens::add_sink(
                x,
                Arc::new(Count {
                    counters: Arc::clone(&self.counters),
                    services: Arc::clone(&x.services),
                    limits: rate.into_iter().chain(quota).collect(),
                    reserved: need,
                    names: self.names.clone(),
                }),
            );
            Ok(Flow::Next)
        }))
    }
}

/// Whole seconds to wait, from a refusal (at least 1).
fn wait_s(d: &Decision) -> i64 {
    let ms = d.retry_after_ms.or(d.reset_ms).unwrap_or(60_000).max(1);
    i64::try_from(ms.div_ceil(1000)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn waits_read_as_apim_writes_them() {
        assert_eq!(duration(59), "59 seconds");
        assert_eq!(duration(1293), "21 minutes and 33 seconds");
        assert_eq!(duration(23 * 3600), "23 hours");
        assert_eq!(
            duration(86_400 + 7200 + 300),
            "1 day, 2 hours and 5 minutes"
        );
        assert_eq!(duration(1), "1 second");
    }
}
