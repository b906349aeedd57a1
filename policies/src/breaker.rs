//! A circuit breaker, one per dependency (the semantic cache's vector store
//! and each of its embeddings backends; backends next): after `failures`
//! failures in a row it opens, and calls are refused at once (a miss
//! without waiting) for `cooldown_ms`; then one trial call goes through, and
//! its success closes the breaker again.
//! Time is the gateway clock, so the conformance runner's virtual clock
//! drives it.

use std::sync::Mutex;

#[derive(Debug)]
pub struct Breaker {
    failures: u32,
    cooldown_ms: i64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    in_a_row: u32,
    /// While `Some(t)` and now < t, calls are refused.
    open_until: Option<i64>,
    /// A trial call is under way (half open).
    trial: bool,
}

impl Breaker {
    pub fn new(failures: u32, cooldown_ms: u64) -> Self {
        Self {
            failures: failures.max(1),
            cooldown_ms: i64::try_from(cooldown_ms).unwrap_or(i64::MAX),
            state: Mutex::new(State::default()),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        match self.state.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// Whether a call may go now.
    pub fn allow(&self, now_ms: i64) -> bool {
        self.with(|s| match s.open_until {
            None => true,
            Some(t) if now_ms < t => false,
            Some(_) if s.trial => false,
            Some(_) => {
                s.trial = true;
                true
            }
        })
    }

    /// A call worked; whether that closed an open breaker.
    pub fn success(&self) -> bool {
        self.with(|s| {
            let was_open = s.open_until.is_some();
            *s = State::default();
            was_open
        })
    }

    /// A call failed; whether that opened a closed breaker (a failed trial
    /// keeps it open, and is not an opening).
    pub fn failure(&self, now_ms: i64) -> bool {
        let (limit, cooldown) = (self.failures, self.cooldown_ms);
        self.with(|s| {
            s.in_a_row = s.in_a_row.saturating_add(1);
            let opens = s.open_until.is_none() && s.in_a_row >= limit;
            if s.trial || s.in_a_row >= limit {
                s.open_until = Some(now_ms.saturating_add(cooldown));
                s.trial = false;
            }
            opens
        })
    }

    /// Open (refusing calls) at `now_ms`.
    pub fn is_open(&self, now_ms: i64) -> bool {
        self.with(|s| s.open_until.is_some_and(|t| now_ms < t))
    }
}

#[cfg(test)]
mod tests {
    use super::Breaker;

    #[test]
    fn opens_after_failures_in_a_row_and_closes_after_a_good_trial() {
        let b = Breaker::new(3, 1000);
        assert!(b.allow(0));
        assert!(!b.failure(0));
        assert!(!b.failure(0));
        assert!(!b.success(), "was closed");
        assert!(!b.failure(0));
        assert!(!b.failure(0));
        assert!(b.allow(0), "two in a row after a success: still closed");
        assert!(b.failure(10), "the third opens it");
        assert!(!b.allow(10));
        assert!(!b.allow(1009));
        assert!(b.allow(1010), "the trial call");
        assert!(!b.allow(1010), "one trial at a time");
        assert!(!b.failure(1020), "a failed trial is no new opening");
        assert!(!b.allow(1500), "a failed trial opens again");
        assert!(b.allow(2020));
        assert!(b.success(), "the good trial closes it");
        assert!(b.allow(2021) && b.allow(2021));
    }
}
