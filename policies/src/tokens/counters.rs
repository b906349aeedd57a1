//! The windows of a token quota (`token-quota-period`): fixed and
//! UTC-aligned, each starting at the start of its hour, day, ISO week
//! (Monday), month or year. (The counts themselves are kept by the
//! counters family: `crate::counters`.)

/// One window of time, in milliseconds since the Unix epoch: `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Window {
    /// Whole seconds until the window ends (at least 1).
    pub fn seconds_left(&self, now_ms: i64) -> i64 {
        ((self.end_ms - now_ms).max(1) + 999) / 1000
    }
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// The minute of `now_ms`.
pub fn minute(now_ms: i64) -> Window {
    let start_ms = now_ms.div_euclid(MINUTE) * MINUTE;
    Window {
        start_ms,
        end_ms: start_ms + MINUTE,
    }
}

/// `token-quota-period`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Period {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "Hourly" => Period::Hourly,
            "Daily" => Period::Daily,
            "Weekly" => Period::Weekly,
            "Monthly" => Period::Monthly,
            "Yearly" => Period::Yearly,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Period::Hourly => "Hourly",
            Period::Daily => "Daily",
            Period::Weekly => "Weekly",
            Period::Monthly => "Monthly",
            Period::Yearly => "Yearly",
        }
    }

    /// The period that holds `now_ms`.
    pub fn window(self, now_ms: i64) -> Window {
        let day = now_ms.div_euclid(DAY);
        match self {
            Period::Hourly => {
                let start_ms = now_ms.div_euclid(HOUR) * HOUR;
                Window {
                    start_ms,
                    end_ms: start_ms + HOUR,
                }
            }
            Period::Daily => Window {
                start_ms: day * DAY,
                end_ms: (day + 1) * DAY,
            },
            Period::Weekly => {
                // 1970-01-01 was a Thursday: Monday is day 4 of that week.
                let monday = day - (day + 3).rem_euclid(7);
                Window {
                    start_ms: monday * DAY,
                    end_ms: (monday + 7) * DAY,
                }
            }
            Period::Monthly => {
                let (y, m, _) = civil(day);
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                Window {
                    start_ms: days(y, m, 1) * DAY,
                    end_ms: days(ny, nm, 1) * DAY,
                }
            }
            Period::Yearly => {
                let (y, _, _) = civil(day);
                Window {
                    start_ms: days(y, 1, 1) * DAY,
                    end_ms: days(y + 1, 1, 1) * DAY,
                }
            }
        }
    }
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day since 1970-01-01.
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-07T15:48:19Z, a Monday.
    const NOW: i64 = 1_796_658_499_000;

    #[test]
    fn periods_start_at_their_utc_boundaries() {
        assert_eq!(days(1970, 1, 1), 0);
        assert_eq!(civil(days(2024, 2, 29)), (2024, 2, 29));
        let at = |y, m, d| days(y, m, d) * DAY;
        assert_eq!(Period::Daily.window(NOW).start_ms, at(2026, 12, 7));
        assert_eq!(Period::Weekly.window(NOW).start_ms, at(2026, 12, 7));
        assert_eq!(Period::Weekly.window(NOW - DAY).start_ms, at(2026, 11, 30));
        assert_eq!(
            Period::Monthly.window(NOW),
            Window {
                start_ms: at(2026, 12, 1),
                end_ms: at(2027, 1, 1)
            }
        );
        assert_eq!(Period::Yearly.window(NOW).start_ms, at(2026, 1, 1));
        assert_eq!(
            Period::Hourly.window(NOW).start_ms,
            at(2026, 12, 7) + 15 * HOUR
        );
        assert_eq!(minute(NOW).seconds_left(NOW), 41);
    }
}
