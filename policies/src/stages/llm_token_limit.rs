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
//! Windows are fixed and UTC-aligned (`tokens::counters`); counts are kept
//! per key whatever the scope, as APIM keeps one counter per key.

use std::sync::Arc;

use rhai::Dynamic;
use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    Body, CompileCx, Compiled, CompiledValue, Exchange, Flow, PolicyError, Reason, Run, Services,
    Stage, default_error,
};
use sluice_engine::xml::Element;

use crate::series::Series;
use crate::tokens::counters::{Period, TokenCounters, TokenStore, Window, minute};
use crate::tokens::{self, Sink, TokenRequest, Usage, record_id};

#[derive(Debug)]
struct TokenLimit {
    policy: String,
    counter_key: CompiledValue,
    tokens_per_minute: Option<CompiledValue>,
    token_quota: Option<CompiledValue>,
    token_quota_period: Option<CompiledValue>,
    estimate: Option<CompiledValue>,
    names: Names,
    store: TokenStore,
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
    let store = cx.resource::<TokenStore>(e)?;
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
        store: (*store).clone(),
        series,
    }))
}

/// A limit of the policy, with its counter and window.
#[derive(Clone, Debug)]
struct Limit {
    key: String,
    window: Window,
    limit: u64,
    /// Counted in the window before this request.
    used: u64,
}

impl Limit {
    fn remaining(&self, reserved: u64) -> u64 {
        self.limit
            .saturating_sub(self.used.saturating_add(reserved))
    }
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

    fn limits(&self, x: &Exchange) -> Result<(Option<Limit>, Option<Limit>), PolicyError> {
        let key = self.counter_key.text(x)?.into_owned();
        let now = x.now_ms();
        let counters = &self.store.0;
        let rate = match &self.tokens_per_minute {
            Some(v) => {
                let limit = self.int(v, x, "tokens-per-minute")?;
                let key = format!("tpm\u{1f}{key}");
                let window = minute(now);
                let used = counters.add(&key, window, 0, now);
                Some(Limit {
                    key,
                    window,
                    limit,
                    used,
                })
            }
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
                let key = format!("quota\u{1f}{}\u{1f}{key}", period.name());
                let window = period.window(now);
                let used = counters.add(&key, window, 0, now);
                Some(Limit {
                    key,
                    window,
                    limit,
                    used,
                })
            }
            _ => None,
        };
        Ok((rate, quota))
    }

    /// Sets the remaining-* headers (on the final response) and variables.
    fn remaining(&self, x: &Exchange, rate: Option<&Limit>, quota: Option<&Limit>, reserved: u64) {
        let n = &self.names;
        let mut late = Vec::new();
        x.ctx.variables(|vars| {
            if let Some(r) = rate {
                let left = r.remaining(reserved);
                if let Some(h) = &n.remaining_header {
                    late.push((h.clone(), left.to_string()));
                }
                if let Some(v) = &n.remaining_variable {
                    vars.insert(v.clone(), Dynamic::from(left as i64));
                }
            }
            if let Some(q) = quota {
                let left = q.remaining(reserved);
                if let Some(h) = &n.remaining_quota_header {
                    late.push((h.clone(), left.to_string()));
                }
                if let Some(v) = &n.remaining_quota_variable {
                    vars.insert(v.clone(), Dynamic::from(left as i64));
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
    fn refuse(&self, x: &Exchange, status: u16, wait_s: i64) -> Run<'static> {
        let message = if status == 429 {
            format!(
                "Token limit is exceeded. Try again in {}.",
                duration(wait_s)
            )
        } else {
            format!(
                "Token quota is exceeded. Try again in {}.",
                duration(wait_s)
            )
        };
        let api = record_id(x.ctx.0.api.as_ref());
        self.series.count(
            "sluice_limit_hits_total",
            "Requests refused by a limit policy, by policy, API and limit",
            vec![
                ("policy".into(), self.policy.clone()),
                ("api".into(), api),
                (
                    "limit".into(),
                    if status == 429 {
                        "tokens-per-minute"
                    } else {
                        "token-quota"
                    }
                    .into(),
                ),
            ],
            1.0,
        );
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
        Run::Done(Ok(Flow::End))
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
    counters: Arc<dyn TokenCounters>,
    services: Arc<dyn Services>,
    rate: Option<Limit>,
    quota: Option<Limit>,
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
            x.ctx
                .variables(|vars| vars.insert(v.clone(), Dynamic::from(consumed as i64)));
        }
    }

    fn settle(&self, usage: &Usage, _req: &TokenRequest) {
        let now = self.services.now_ms();
        let delta = i64::try_from(usage.total).unwrap_or(i64::MAX)
            - i64::try_from(self.reserved).unwrap_or(i64::MAX);
        // The window of the request, if it is still current; else the
        // minute now (a stream may end in the next minute). An estimate is
        // taken back only from the window it was counted in.
        let rate = self.rate.as_ref().map(|l| (l, minute(now)));
        let quota = self
            .quota
            .as_ref()
            .filter(|l| l.window.end_ms > now)
            .map(|l| (l, l.window));
        for (l, w) in rate.into_iter().chain(quota) {
            if w == l.window || delta > 0 {
                self.counters.add(&l.key, w, delta, now);
            }
        }
    }
}

impl Stage for TokenLimit {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let (rate, quota) = match self.limits(x) {
            Ok(l) => l,
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
        let over = |l: &Limit| {
            if estimate {
                l.used.saturating_add(need) > l.limit
            } else {
                l.used >= l.limit
            }
        };
        let now = x.now_ms();
        if let Some(q) = quota.as_ref().filter(|q| over(q)) {
            self.remaining(x, rate.as_ref(), quota.as_ref(), 0);
            return self.refuse(x, 403, q.window.seconds_left(now));
        }
        if let Some(r) = rate.as_ref().filter(|r| over(r)) {
            self.remaining(x, rate.as_ref(), quota.as_ref(), 0);
            return self.refuse(x, 429, r.window.seconds_left(now));
        }
        let counters = Arc::clone(&self.store.0);
        if need > 0 {
            for l in rate.iter().chain(quota.iter()) {
                counters.add(
                    &l.key,
                    l.window,
                    i64::try_from(need).unwrap_or(i64::MAX),
                    now,
                );
            }
        }
        self.remaining(x, rate.as_ref(), quota.as_ref(), need);
        if let Some(v) = &self.names.consumed_variable {
            x.ctx
                .variables(|vars| vars.insert(v.clone(), Dynamic::from(need as i64)));
        }
        tokens::add_sink(
            x,
            Arc::new(Count {
                counters,
                services: Arc::clone(&x.services),
                rate,
                quota,
                reserved: need,
                names: self.names.clone(),
            }),
        );
        Run::next()
    }
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
