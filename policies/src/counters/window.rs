//! The decision rule, the same for every store (the Redis script is this
//! file in Lua: change both together): the window's bucket at a time, the
//! count a window holds, whether a [`Take`] is admitted, and what the
//! stage is told ([`Raw::decision`]).
//!
//! A counter's state is three integers: the bucket it was last written in,
//! the bucket's count and the count of the bucket before it. Buckets are
//! periods counted from the Unix epoch (sliding windows) or from the
//! window's start (fixed windows). A sliding window holds the current
//! bucket's count plus the previous bucket's, weighted by the share of it
//! the window still covers (two integers per key, as APISIX and
//! Cloudflare count); a fixed window holds its bucket's count.

use super::{Counter, Decision, Fallback, Take, Window};

/// A counter's stored state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct State {
    pub bucket: i64,
    pub current: i64,
    pub previous: i64,
}

/// What a store reports after a decision, on its own clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Raw {
    pub allowed: bool,
    /// The current bucket's count after the decision.
    pub current: i64,
    /// The previous bucket's count (0 for fixed windows).
    pub previous: i64,
    /// How far into its bucket the decision was taken.
    pub elapsed_ms: i64,
}

fn period(w: Window) -> i64 {
    i64::try_from(w.period_ms().max(1)).unwrap_or(i64::MAX)
}

/// The bucket of `now_ms` and how far into it `now_ms` is.
pub fn bucket(w: Window, now_ms: i64) -> (i64, i64) {
    match w {
        Window::Sliding { .. } => {
            let p = period(w);
            (now_ms.div_euclid(p), now_ms.rem_euclid(p))
        }
        Window::Fixed {
            period_ms: 0,
            start_ms,
        } => (0, now_ms.saturating_sub(start_ms)),
        Window::Fixed { start_ms, .. } => {
            let p = period(w);
            let since = now_ms.saturating_sub(start_ms);
            (since.div_euclid(p), since.rem_euclid(p))
        }
    }
}

/// The count a window holds, `elapsed_ms` into its current bucket.
pub fn held(w: Window, current: i64, previous: i64, elapsed_ms: i64) -> f64 {
    match w {
        Window::Sliding { .. } => {
            let p = period(w) as f64;
            current as f64 + previous as f64 * (p - elapsed_ms as f64) / p
        }
        Window::Fixed { .. } => current as f64,
    }
}

/// One decision on a state (`None`: never written, or expired).
pub fn apply(state: Option<State>, counter: &Counter, take: Take, now_ms: i64) -> (State, Raw) {
    let w = counter.window;
    let (b, elapsed_ms) = bucket(w, now_ms);
    let mut s = match state {
        Some(s) if s.bucket == b => s,
        Some(s) if s.bucket.checked_add(1) == Some(b) => State {
            bucket: b,
            current: 0,
            previous: s.current,
        },
        _ => State {
            bucket: b,
            current: 0,
            previous: 0,
        },
    };
    if matches!(w, Window::Fixed { .. }) {
        s.previous = 0;
    }
    let limit = counter.limit as f64;
    let used = held(w, s.current, s.previous, elapsed_ms);
    let (allowed, add) = match take {
        Take::Fit(n) => (used + n as f64 <= limit, sat(n)),
        Take::Below(n) => (used < limit, sat(n)),
        Take::Add(n) => (true, n),
    };
    if allowed && add != 0 {
        s.current = s.current.saturating_add(add).max(0);
    }
    (
        s,
        Raw {
            allowed,
            current: s.current,
            previous: s.previous,
            elapsed_ms,
        },
    )
}

fn sat(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Raw {
    /// What the stage is told about `counter` after `take`.
    pub fn decision(&self, counter: &Counter, take: Take, fallback: Option<Fallback>) -> Decision {
        let w = counter.window;
        let used = held(w, self.current, self.previous, self.elapsed_ms);
        let count = used.max(0.0).ceil() as u64;
        let reset_ms = match w {
            Window::Fixed { period_ms: 0, .. } => None,
            _ => Some(u64::try_from(period(w) - self.elapsed_ms).unwrap_or(0)),
        };
        let retry_after_ms = if self.allowed {
            Some(0)
        } else {
            self.retry_after(counter, take)
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

    /// How long until `take` would be admitted, if nothing else is added.
    fn retry_after(&self, counter: &Counter, take: Take) -> Option<u64> {
        let w = counter.window;
        let limit = counter.limit as f64;
        // Admitted once the window holds at most `target` (strictly less
        // for `Below`: one millisecond more).
        let (target, strict) = match take {
            Take::Fit(n) => (limit - n as f64, 0.0),
            Take::Below(_) => (limit, 1.0),
            Take::Add(_) => return Some(0),
        };
        if target < 0.0 || (strict > 0.0 && target <= 0.0) {
            return None;
        }
        let p = period(w) as f64;
        let left = p - self.elapsed_ms as f64;
        let ms = match w {
            Window::Fixed { period_ms: 0, .. } => return None,
            Window::Fixed { .. } => left,
            Window::Sliding { .. } => {
                let (c, prev) = (self.current as f64, self.previous as f64);
                if c <= target && prev > 0.0 {
                    // Within this bucket, as the previous one slides out.
                    (left - (target - c) * p / prev + strict).max(0.0)
                } else if c <= target {
                    0.0
                } else {
                    // Into the next bucket, as this one slides out.
                    left + (p - target * p / c + strict).max(0.0)
                }
            }
        };
        Some(ms.ceil() as u64)
    }
}
