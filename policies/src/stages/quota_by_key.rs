//! `quota-by-key`: a call volume and/or bandwidth (kilobytes) quota for
//! each value of `counter-key` (one counter per value, shared by every
//! scope that uses it), over fixed windows of `renewal-period` seconds
//! counted from `first-period-start` (0: for ever). Over it: 403,
//! `Retry-After` and "Out of call volume quota. Quota will be replenished
//! in hh:mm:ss." (or "Out of bandwidth quota. ...").
//!
//! A key is incremented once per request, however many `quota-by-key`
//! policies count it. When `increment-condition` or `increment-count` is
//! an expression, it is read, and the key incremented, at the end of the
//! pipeline (the documented example counts by response status); the quota
//! is then checked on the next call. Bandwidth (request and response
//! bodies) is always added at the end.

use std::sync::Arc;

use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, Flow, PolicyError, Run, Stage,
};
use sluice_engine::xml::Element;

use super::limits::{count_of, counted_before};
use super::quota::{AddLater, Limits, Plan};
use crate::counters::{Counters, Take};

const POLICY: &str = "quota-by-key";

/// `first-period-start`'s default, `0001-01-01T00:00:00Z`, in Unix milliseconds.
const YEAR_ONE_MS: i64 = -62_135_596_800_000;

#[derive(Debug)]
struct QuotaByKey {
    counters: Arc<Counters>,
    limits: Limits,
    counter_key: CompiledValue,
    increment_condition: Option<CompiledValue>,
    increment_count: Option<CompiledValue>,
    start_ms: i64,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let counters = cx.resource::<Counters>(e)?;
    let start_ms = match e.attr("first-period-start") {
        None => YEAR_ONE_MS,
        Some(a) => match parse_utc(a.value.value.trim()) {
            Some(ms) => ms,
            None => {
                return cx.fail(
                    Code::InvalidAttributeValue,
                    a.value.span,
                    format!(
                        "`{}` is not a first-period-start: `yyyy-MM-ddTHH:mm:ssZ`",
                        a.value.value.trim()
                    ),
                );
            }
        },
    };
    Ok(Box::new(QuotaByKey {
        counters,
        limits: Limits::compile(e, cx),
        counter_key: cx.required(e, "counter-key")?,
        increment_condition: cx.optional(e, "increment-condition")?,
        increment_count: cx.optional(e, "increment-count")?,
        start_ms,
    }))
}

/// `yyyy-MM-ddTHH:mm:ssZ` (ISO 8601, UTC) in Unix milliseconds.
pub(crate) fn parse_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo) || d < 1 || d > days_in[usize::try_from(mo - 1).ok()?] {
        return None;
    }
    if h > 23 || mi > 59 || se > 59 || y < 1 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (yy, m) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + se * 1000)
}

impl QuotaByKey {
    fn postponed(&self) -> bool {
        !self
            .increment_condition
            .as_ref()
            .is_none_or(CompiledValue::is_literal)
            || !self
                .increment_count
                .as_ref()
                .is_none_or(CompiledValue::is_literal)
    }

    async fn apply(&self, x: &mut Exchange) -> Result<Flow, PolicyError> {
        let key = self.counter_key.text(x)?.into_owned();
        let postponed = self.postponed();
        let (counts, n) = if postponed {
            (false, 0)
        } else {
            let counts = match &self.increment_condition {
                Some(c) => c.eval_bool(x)?,
                None => true,
            };
            let n = match &self.increment_count {
                Some(c) => count_of(POLICY, c, x, "increment-count")?,
                None => 1,
            };
            (counts, n)
        };
        let before = counted_before(x, POLICY, &key, counts && n > 0);
        let first = before.is_none();
        let take = match before {
            None if counts && n > 0 => Take::Fit(n),
            // This request is in the count already: it must still fit.
            Some(true) => Take::Fit(0),
            _ => Take::Below(0),
        };
        let mut plan = Plan::default();
        plan.level(POLICY, &key, self.limits, self.start_ms, take);
        plan.decide(POLICY, &self.counters, x).await?;
        if !first {
            return Ok(Flow::Next);
        }
        let bandwidth = plan.bandwidth();
        if postponed {
            x.at_end(Box::new(AddLater {
                counters: Arc::clone(&self.counters),
                calls: plan.calls(),
                bandwidth,
                condition: self.increment_condition.clone(),
                count: self.increment_count.clone(),
            }));
        } else if counts && !bandwidth.is_empty() {
            x.at_end(Box::new(AddLater {
                counters: Arc::clone(&self.counters),
                calls: Vec::new(),
                bandwidth,
                condition: None,
                count: None,
            }));
        }
        Ok(Flow::Next)
    }
}

impl Stage for QuotaByKey {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::Later(Box::pin(self.apply(x)))
    }
}

#[cfg(test)]
mod tests {
    use super::{YEAR_ONE_MS, parse_utc};

    #[test]
    fn first_period_starts_read_as_utc() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_utc("0001-01-01T00:00:00Z"), Some(YEAR_ONE_MS));
        assert_eq!(parse_utc("2024-02-29T12:30:05Z"), Some(1_709_209_805_000));
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00",
            "x",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }
}
