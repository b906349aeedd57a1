//! `System.DateTimeOffset`: a clock time and its offset from UTC.

use rhai::{Dynamic, Engine, INT, ImmutableString};

use super::format::{Zone, format};
use super::{
    DateTime, DateTimeKind, MAX_TICKS, TICKS_PER_DAY, TICKS_PER_HOUR, TICKS_PER_MINUTE,
    TICKS_PER_MS, TimeSpan, civil, number,
};
use super::{TICKS_PER_SECOND, UNIX_EPOCH_TICKS};
use crate::core::{RhaiResult, throw};

#[derive(Clone, Copy, Debug)]
pub struct DateTimeOffset {
    /// Clock ticks (local to the offset).
    pub ticks: i64,
    /// Offset from UTC in minutes.
    pub offset: i64,
}

const MIN_UNIX_SECONDS: i64 = -62_135_596_800;
const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

impl DateTimeOffset {
    pub(crate) fn utc_ticks(self) -> i64 {
        self.ticks - self.offset * TICKS_PER_MINUTE
    }

    /// The implicit conversion from `DateTime`: UTC keeps offset 0; local and
    /// unspecified times take the local offset, which is 0 here.
    pub(crate) fn from_date_time(d: DateTime) -> Self {
        Self {
            ticks: d.ticks,
            offset: 0,
        }
    }

    fn utc(ticks: i64) -> Self {
        Self { ticks, offset: 0 }
    }

    fn with_offset(d: DateTime, offset: TimeSpan) -> RhaiResult<Self> {
        if offset.ticks % TICKS_PER_MINUTE != 0 {
            return throw(
                "ArgumentException",
                "Offset must be specified in whole minutes. (Parameter 'offset')",
            );
        }
        let minutes = offset.ticks / TICKS_PER_MINUTE;
        if minutes.abs() > 14 * 60 {
            return throw(
                "ArgumentOutOfRangeException",
                "Offset must be within plus or minus 14 hours. (Parameter 'offset')",
            );
        }
        if d.kind != DateTimeKind::Unspecified && minutes != 0 {
            return throw(
                "ArgumentException",
                "The UTC Offset for Utc DateTime instances must be 0. (Parameter 'offset')",
            );
        }
        let me = Self {
            ticks: d.ticks,
            offset: minutes,
        };
        if !(0..=MAX_TICKS).contains(&me.utc_ticks()) {
            return throw(
                "ArgumentOutOfRangeException",
                "The UTC time represented when the offset is applied must be between year 0 and 10,000. (Parameter 'offset')",
            );
        }
        Ok(me)
    }

    fn map(self, f: impl FnOnce(DateTime) -> RhaiResult<DateTime>) -> RhaiResult<Self> {
        let d = f(DateTime {
            ticks: self.ticks,
            kind: DateTimeKind::Unspecified,
        })?;
        Ok(Self {
            ticks: d.ticks,
            offset: self.offset,
        })
    }

    pub(crate) fn to_string_fmt(self, fmt: &str) -> RhaiResult<String> {
        match fmt {
            "" => format(
                self.ticks,
                Zone::Offset(self.offset),
                "MM/dd/yyyy HH:mm:ss zzz",
            ),
            "r" | "R" | "u" => format(self.utc_ticks(), Zone::Utc, fmt),
            _ => format(self.ticks, Zone::Offset(self.offset), fmt),
        }
    }

    fn unix_ms(self) -> INT {
        (self.utc_ticks() / TICKS_PER_MS) - UNIX_EPOCH_TICKS / TICKS_PER_MS
    }
}

fn from_unix(value: INT, per: i64, param: &str) -> RhaiResult<DateTimeOffset> {
    let (min, max) = (
        MIN_UNIX_SECONDS * (TICKS_PER_SECOND / per),
        (MAX_UNIX_SECONDS + 1) * (TICKS_PER_SECOND / per) - 1,
    );
    if !(min..=max).contains(&value) {
        return throw(
            "ArgumentOutOfRangeException",
            format!("Valid values are between {min} and {max}, inclusive. (Parameter '{param}')"),
        );
    }
    Ok(DateTimeOffset::utc(value * per + UNIX_EPOCH_TICKS))
}

fn parse(s: &str) -> RhaiResult<DateTimeOffset> {
    let p = super::parse::parse_general(s)?;
    let offset = p.offset.unwrap_or(0);
    let me = DateTimeOffset {
        ticks: p.ticks,
        offset,
    };
    if (0..=MAX_TICKS).contains(&me.utc_ticks()) {
        Ok(me)
    } else {
        throw(
            "FormatException",
            format!("String '{s}' was not recognized as a valid DateTime."),
        )
    }
}

pub(crate) fn register(e: &mut Engine) {
    e.register_type_with_name::<DateTimeOffset>("DateTimeOffset")
        .register_fn("DateTimeOffset__UtcNow", || {
            DateTimeOffset::utc(DateTime::now(DateTimeKind::Utc).ticks)
        })
        .register_fn("DateTimeOffset__Now", || {
            DateTimeOffset::utc(DateTime::now(DateTimeKind::Local).ticks)
        })
        .register_fn("DateTimeOffset__MinValue", || DateTimeOffset::utc(0))
        .register_fn("DateTimeOffset__MaxValue", || {
            DateTimeOffset::utc(MAX_TICKS)
        })
        .register_fn("DateTimeOffset__UnixEpoch", || {
            DateTimeOffset::utc(UNIX_EPOCH_TICKS)
        })
        .register_fn("DateTimeOffset__FromUnixTimeSeconds", |v: INT| {
            from_unix(v, TICKS_PER_SECOND, "seconds")
        })
        .register_fn("DateTimeOffset__FromUnixTimeMilliseconds", |v: INT| {
            from_unix(v, TICKS_PER_MS, "milliseconds")
        })
        .register_fn("DateTimeOffset__new", |d: DateTime| {
            DateTimeOffset::from_date_time(d)
        })
        .register_fn("DateTimeOffset__new", |d: DateTime, o: TimeSpan| {
            DateTimeOffset::with_offset(d, o)
        })
        .register_fn("DateTimeOffset__new", |t: INT, o: TimeSpan| {
            DateTimeOffset::with_offset(DateTime::new(t, DateTimeKind::Unspecified)?, o)
        })
        .register_fn(
            "DateTimeOffset__new",
            |y: INT, m: INT, d: INT, h: INT, mi: INT, s: INT, o: TimeSpan| {
                DateTimeOffset::with_offset(
                    DateTime::from_parts(&[y, m, d, h, mi, s], DateTimeKind::Unspecified)?,
                    o,
                )
            },
        )
        .register_fn(
            "DateTimeOffset__new",
            |y: INT, m: INT, d: INT, h: INT, mi: INT, s: INT, ms: INT, o: TimeSpan| {
                DateTimeOffset::with_offset(
                    DateTime::from_parts(&[y, m, d, h, mi, s, ms], DateTimeKind::Unspecified)?,
                    o,
                )
            },
        )
        .register_fn("DateTimeOffset__Parse", |s: ImmutableString| parse(&s))
        .register_fn("DateTimeOffset__Parse", |s: ImmutableString, _: Dynamic| {
            parse(&s)
        })
        .register_fn(
            "DateTimeOffset__TryParse__out",
            |s: Dynamic| -> rhai::Array {
                let parsed = s.into_immutable_string().ok().and_then(|s| parse(&s).ok());
                vec![
                    parsed.is_some().into(),
                    Dynamic::from(parsed.unwrap_or(DateTimeOffset::utc(0))),
                ]
            },
        )
        .register_fn(
            "DateTimeOffset__Compare",
            |a: DateTimeOffset, b: DateTimeOffset| a.utc_ticks().cmp(&b.utc_ticks()) as INT,
        );
    e.register_get("UtcDateTime", |d: &mut DateTimeOffset| DateTime {
        ticks: d.utc_ticks(),
        kind: DateTimeKind::Utc,
    })
    .register_get("DateTime", |d: &mut DateTimeOffset| DateTime {
        ticks: d.ticks,
        kind: DateTimeKind::Unspecified,
    })
    .register_get("LocalDateTime", |d: &mut DateTimeOffset| DateTime {
        ticks: d.utc_ticks(),
        kind: DateTimeKind::Local,
    })
    .register_get("Offset", |d: &mut DateTimeOffset| TimeSpan {
        ticks: d.offset * TICKS_PER_MINUTE,
    })
    .register_get("Ticks", |d: &mut DateTimeOffset| d.ticks)
    .register_get("UtcTicks", |d: &mut DateTimeOffset| d.utc_ticks())
    .register_get("Year", |d: &mut DateTimeOffset| civil(d.ticks).year)
    .register_get("Month", |d: &mut DateTimeOffset| civil(d.ticks).month)
    .register_get("Day", |d: &mut DateTimeOffset| civil(d.ticks).day)
    .register_get("Hour", |d: &mut DateTimeOffset| civil(d.ticks).hour)
    .register_get("Minute", |d: &mut DateTimeOffset| civil(d.ticks).minute)
    .register_get("Second", |d: &mut DateTimeOffset| civil(d.ticks).second)
    .register_get("Millisecond", |d: &mut DateTimeOffset| {
        civil(d.ticks).fraction / TICKS_PER_MS
    })
    .register_get("DayOfWeek", |d: &mut DateTimeOffset| {
        super::DayOfWeek(civil(d.ticks).day_of_week)
    })
    .register_get("DayOfYear", |d: &mut DateTimeOffset| {
        civil(d.ticks).day_of_year
    })
    .register_get("Date", |d: &mut DateTimeOffset| DateTime {
        ticks: d.ticks - d.ticks % TICKS_PER_DAY,
        kind: DateTimeKind::Unspecified,
    })
    .register_get("TimeOfDay", |d: &mut DateTimeOffset| TimeSpan {
        ticks: d.ticks % TICKS_PER_DAY,
    })
    .register_fn("ToUnixTimeSeconds", |d: &mut DateTimeOffset| {
        d.utc_ticks() / TICKS_PER_SECOND - UNIX_EPOCH_TICKS / TICKS_PER_SECOND
    })
    .register_fn("ToUnixTimeMilliseconds", |d: &mut DateTimeOffset| {
        d.unix_ms()
    })
    .register_fn("AddTicks", |d: &mut DateTimeOffset, v: INT| {
        d.map(|x| x.add_ticks(v))
    })
    .register_fn("AddMilliseconds", |d: &mut DateTimeOffset, v: Dynamic| {
        d.map(|x| x.add_units(number(&v)?, TICKS_PER_MS))
    })
    .register_fn("AddSeconds", |d: &mut DateTimeOffset, v: Dynamic| {
        d.map(|x| x.add_units(number(&v)?, TICKS_PER_SECOND))
    })
    .register_fn("AddMinutes", |d: &mut DateTimeOffset, v: Dynamic| {
        d.map(|x| x.add_units(number(&v)?, TICKS_PER_MINUTE))
    })
    .register_fn("AddHours", |d: &mut DateTimeOffset, v: Dynamic| {
        d.map(|x| x.add_units(number(&v)?, TICKS_PER_HOUR))
    })
    .register_fn("AddDays", |d: &mut DateTimeOffset, v: Dynamic| {
        d.map(|x| x.add_units(number(&v)?, TICKS_PER_DAY))
    })
    .register_fn("AddMonths", |d: &mut DateTimeOffset, v: INT| {
        d.map(|x| x.add_months(v))
    })
    .register_fn("AddYears", |d: &mut DateTimeOffset, v: INT| {
        d.map(|x| x.add_months(v.clamp(-10_001, 10_001) * 12))
    })
    .register_fn("Add", |d: &mut DateTimeOffset, t: TimeSpan| {
        d.map(|x| x.add_ticks(t.ticks))
    })
    .register_fn("Subtract", |d: &mut DateTimeOffset, t: TimeSpan| {
        d.map(|x| x.add_ticks(t.ticks.saturating_neg()))
    })
    .register_fn("Subtract", |a: &mut DateTimeOffset, b: DateTimeOffset| {
        TimeSpan {
            ticks: a.utc_ticks() - b.utc_ticks(),
        }
    })
    .register_fn("ToUniversalTime", |d: &mut DateTimeOffset| {
        DateTimeOffset::utc(d.utc_ticks())
    })
    .register_fn("ToLocalTime", |d: &mut DateTimeOffset| {
        DateTimeOffset::utc(d.utc_ticks())
    })
    .register_fn("ToOffset", |d: &mut DateTimeOffset, o: TimeSpan| {
        DateTimeOffset::with_offset(
            DateTime {
                ticks: d.utc_ticks() + o.ticks,
                kind: DateTimeKind::Unspecified,
            },
            o,
        )
    })
    .register_fn("ToString", |d: &mut DateTimeOffset| d.to_string_fmt(""))
    .register_fn("ToString", |d: &mut DateTimeOffset, f: ImmutableString| {
        d.to_string_fmt(&f)
    })
    .register_fn(
        "ToString",
        |d: &mut DateTimeOffset, _: super::CultureInfo| d.to_string_fmt(""),
    )
    .register_fn(
        "ToString",
        |d: &mut DateTimeOffset, f: ImmutableString, _: Dynamic| d.to_string_fmt(&f),
    )
    .register_fn("CompareTo", |a: &mut DateTimeOffset, b: DateTimeOffset| {
        a.utc_ticks().cmp(&b.utc_ticks()) as INT
    })
    .register_fn("Equals", |a: &mut DateTimeOffset, b: DateTimeOffset| {
        a.utc_ticks() == b.utc_ticks()
    })
    .register_fn(
        "EqualsExact",
        |a: &mut DateTimeOffset, b: DateTimeOffset| a.ticks == b.ticks && a.offset == b.offset,
    )
    .register_fn("+", |a: DateTimeOffset, t: TimeSpan| {
        a.map(|x| x.add_ticks(t.ticks))
    })
    .register_fn("-", |a: DateTimeOffset, t: TimeSpan| {
        a.map(|x| x.add_ticks(t.ticks.saturating_neg()))
    })
    .register_fn("-", |a: DateTimeOffset, b: DateTimeOffset| TimeSpan {
        ticks: a.utc_ticks() - b.utc_ticks(),
    })
    .register_fn("==", |a: DateTimeOffset, b: DateTimeOffset| {
        a.utc_ticks() == b.utc_ticks()
    })
    .register_fn("!=", |a: DateTimeOffset, b: DateTimeOffset| {
        a.utc_ticks() != b.utc_ticks()
    })
    .register_fn("<", |a: DateTimeOffset, b: DateTimeOffset| {
        a.utc_ticks() < b.utc_ticks()
    })
    .register_fn("<=", |a: DateTimeOffset, b: DateTimeOffset| {
        a.utc_ticks() <= b.utc_ticks()
    })
    .register_fn(">", |a: DateTimeOffset, b: DateTimeOffset| {
        a.utc_ticks() > b.utc_ticks()
    })
    .register_fn(">=", |a: DateTimeOffset, b: DateTimeOffset| {
        a.utc_ticks() >= b.utc_ticks()
    });
}
