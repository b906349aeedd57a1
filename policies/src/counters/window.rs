//! The decision rule, the same for every store (the Redis script is this
//! file in Lua: change both together): which buckets a window holds at a
//! time, whether a [`Take`] is admitted, and what the stage is told
//! ([`Raw::decision`]).
//!
//! A counter's state is a few buckets, each a count of what was added in
//! one step of time. A sliding window of period `P` moves in steps of
//! `P / 10` and holds the last ten buckets: what was added leaves the
//! window one period after the start of its step (so at most a tenth of
//! the period early, never late). A fixed window has one step, its
//! period, counted from its start (for ever when the period is 0).

use super::{Counter, Decision, Fallback, Take, Window};

/// Steps of a sliding window.
pub const SLIDING_STEPS: i64 = 10;

/// A counter's stored state: `(bucket, count)`, oldest first.
pub type Buckets = Vec<(i64, i64)>;

/// What a store reports after a decision, on its own clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Raw {
    pub allowed: bool,
    /// The buckets the window holds after the decision, oldest first.
    pub buckets: Buckets,
    /// The bucket of the decision's time, and how far into it that was.
    pub bucket: i64,
    pub elapsed_ms: i64,
}

/// How a window is cut: its step, how many steps it holds, where steps
/// are counted from (`step_ms` 0: one step for ever).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub step_ms: i64,
    pub steps: i64,
    pub origin_ms: i64,
    /// One window from `origin_ms`, whose bucket is its start.
    pub span: bool,
}

pub fn layout(w: Window) -> Layout {
    let ms = |p: u64| i64::try_from(p).unwrap_or(i64::MAX);
    match w {
        Window::Sliding { period_ms } => Layout {
            step_ms: (ms(period_ms) / SLIDING_STEPS).max(1),
            steps: SLIDING_STEPS,
            origin_ms: 0,
            span: false,
        },
        Window::Fixed {
            period_ms,
            start_ms,
        } => Layout {
            step_ms: ms(period_ms),
            steps: 1,
            origin_ms: start_ms,
            span: false,
        },
        Window::Span { start_ms, .. } => Layout {
            step_ms: ms(w.period_ms()),
            steps: 1,
            origin_ms: start_ms,
            span: true,
        },
    }
}

impl Layout {
    /// The bucket of `now_ms` and how far into it `now_ms` is.
    pub fn bucket(&self, now_ms: i64) -> (i64, i64) {
        let since = now_ms.saturating_sub(self.origin_ms);
        if self.span {
            return (self.origin_ms, since);
        }
        if self.step_ms == 0 {
            return (0, since);
        }
        (
            since.div_euclid(self.step_ms),
            since.rem_euclid(self.step_ms),
        )
    }

    /// Whether bucket `b` is still in the window at bucket `now`.
    fn holds(&self, b: i64, now: i64) -> bool {
        b > now - self.steps && b <= now
    }
}

/// One decision on a counter's buckets (empty: never written, or expired).
pub fn apply(mut buckets: Buckets, counter: &Counter, take: Take, now_ms: i64) -> (Buckets, Raw) {
    let l = layout(counter.window);
    let (b, elapsed_ms) = l.bucket(now_ms);
    buckets.retain(|(bb, c)| l.holds(*bb, b) && *c > 0);
    let used: i64 = buckets.iter().map(|(_, c)| *c).sum();
    let limit = i64::try_from(counter.limit).unwrap_or(i64::MAX);
    let (allowed, add) = match take {
        Take::Fit(n) => {
            let n = sat(n);
            (used.saturating_add(n) <= limit, n)
        }
        Take::Below(n) => (used < limit, sat(n)),
        Take::Add(n) => (true, n),
    };
    if allowed && add > 0 {
        match buckets.last_mut() {
            Some((bb, c)) if *bb == b => *c = c.saturating_add(add),
            _ => buckets.push((b, add)),
        }
    } else if allowed && add < 0 {
        // A correction: taken from the newest buckets first.
        let mut left = add.saturating_neg();
        for (_, c) in buckets.iter_mut().rev() {
            let t = left.min(*c);
            *c -= t;
            left -= t;
        }
        buckets.retain(|(_, c)| *c > 0);
    }
    let raw = Raw {
        allowed,
        buckets: buckets.clone(),
        bucket: b,
        elapsed_ms,
    };
    (buckets, raw)
}

fn sat(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Raw {
    /// What the stage is told about `counter` after `take`.
    pub fn decision(&self, counter: &Counter, take: Take, fallback: Option<Fallback>) -> Decision {
        let l = layout(counter.window);
        let count: i64 = self.buckets.iter().map(|(_, c)| *c).sum();
        let count = u64::try_from(count).unwrap_or(0);
        let retry_after_ms = if self.allowed {
            Some(0)
        } else {
            self.retry_after(counter, take, l)
        };
        let reset_ms = if l.step_ms == 0 {
            None
        } else {
            // When the oldest bucket leaves (the end of the step when empty).
            let oldest = self.buckets.first().map_or(self.bucket, |(b, _)| *b);
            Some(self.leaves_in(oldest, l))
        };
        Decision {
            allowed: self.allowed,
            count,
            remaining: counter.limit.saturating_sub(count),
            retry_after_ms,
            reset_ms,
            fallback,
        }
    }

    /// Milliseconds until bucket `b` leaves the window.
    fn leaves_in(&self, b: i64, l: Layout) -> u64 {
        let at = (b + l.steps - self.bucket).saturating_mul(l.step_ms);
        u64::try_from(at - self.elapsed_ms).unwrap_or(0)
    }

    /// How long until `take` would be admitted, if nothing else is added;
    /// `None`: never (more than the limit, or a lifetime window).
    fn retry_after(&self, counter: &Counter, take: Take, l: Layout) -> Option<u64> {
        let limit = i64::try_from(counter.limit).unwrap_or(i64::MAX);
        // Admitted once the window holds at most `target`.
        let target = match take {
            Take::Fit(n) => limit.checked_sub(sat(n))?,
            Take::Below(_) => limit.checked_sub(1)?,
            Take::Add(_) => return Some(0),
        };
        if target < 0 || l.step_ms == 0 {
            return None;
        }
        let mut held: i64 = self.buckets.iter().map(|(_, c)| *c).sum();
        for (b, c) in &self.buckets {
            held -= c;
            if held <= target {
                return Some(self.leaves_in(*b, l));
            }
        }
        Some(0)
    }
}
