//! DateTime, DateTimeKind, DayOfWeek, CultureInfo; with DateTimeOffset
//! (`offset.rs`), TimeSpan (`span.rs`), .NET format strings (`format.rs`)
//! and parsing (`parse.rs`).
//!
//! A `DateTime` is .NET's: 100 ns ticks since 0001-01-01 plus a
//! `DateTimeKind`. The gateway's local time zone is UTC: `Local` values have
//! the clock of UTC and an offset of `+00:00`, so `ToLocalTime` and
//! `ToUniversalTime` only change the kind. Every clock reading goes through
//! [`crate::core::now`].

mod format;
mod offset;
mod parse;
mod span;

use chrono::{Datelike, NaiveDate};
use rhai::{Dynamic, Engine, INT, ImmutableString};

use crate::core::{RhaiResult, throw};
pub(crate) use offset::DateTimeOffset;
pub(crate) use span::TimeSpan;

pub(crate) const TICKS_PER_MS: i64 = 10_000;
pub(crate) const TICKS_PER_SECOND: i64 = 10_000_000;
pub(crate) const TICKS_PER_MINUTE: i64 = 600_000_000;
pub(crate) const TICKS_PER_HOUR: i64 = 36_000_000_000;
pub(crate) const TICKS_PER_DAY: i64 = 864_000_000_000;
pub(crate) const MAX_TICKS: i64 = 3_155_378_975_999_999_999;
pub(crate) const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateTimeKind {
    Unspecified,
    Utc,
    Local,
}

impl DateTimeKind {
    fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "Unspecified",
            Self::Utc => "Utc",
            Self::Local => "Local",
        }
    }
    fn value(self) -> INT {
        match self {
            Self::Unspecified => 0,
            Self::Utc => 1,
            Self::Local => 2,
        }
    }
}

/// `System.DateTime`: ticks since 0001-01-01T00:00:00 and a kind.
#[derive(Clone, Copy, Debug)]
pub struct DateTime {
    pub ticks: i64,
    pub kind: DateTimeKind,
}

/// `System.DayOfWeek` (Sunday = 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayOfWeek(pub u8);

const DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

impl DayOfWeek {
    fn name(self) -> &'static str {
        DAY_NAMES
            .get(usize::from(self.0))
            .copied()
            .unwrap_or("Sunday")
    }
}

/// `System.Globalization.CultureInfo`: every culture is the invariant one.
#[derive(Clone, Copy, Debug)]
pub struct CultureInfo;

/// The civil fields of a tick count.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    /// Ticks within the second (0..10_000_000).
    pub fraction: i64,
    pub day_of_week: u8,
    pub day_of_year: i64,
}

fn date_of(ticks: i64) -> NaiveDate {
    let days = i32::try_from(ticks.clamp(0, MAX_TICKS) / TICKS_PER_DAY).unwrap_or(0);
    NaiveDate::from_num_days_from_ce_opt(days + 1).unwrap_or_default()
}

pub(crate) fn civil(ticks: i64) -> Civil {
    let d = date_of(ticks);
    let in_day = ticks.rem_euclid(TICKS_PER_DAY);
    Civil {
        year: i64::from(d.year()),
        month: i64::from(d.month()),
        day: i64::from(d.day()),
        hour: in_day / TICKS_PER_HOUR,
        minute: in_day % TICKS_PER_HOUR / TICKS_PER_MINUTE,
        second: in_day % TICKS_PER_MINUTE / TICKS_PER_SECOND,
        fraction: in_day % TICKS_PER_SECOND,
        day_of_week: u8::try_from(d.weekday().num_days_from_sunday()).unwrap_or(0),
        day_of_year: i64::from(d.ordinal()),
    }
}

/// Ticks at midnight of a date, if the date exists in 1..=9999.
pub(crate) fn date_ticks(year: i64, month: i64, day: i64) -> Option<i64> {
    if !(1..=9999).contains(&year) {
        return None;
    }
    let d = NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    )?;
    Some(i64::from(d.num_days_from_ce() - 1) * TICKS_PER_DAY)
}

pub(crate) fn days_in_month(year: i64, month: i64) -> Option<i64> {
    (28..=31)
        .rev()
        .find(|&d| date_ticks(year, month, d).is_some())
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn unrepresentable<T>() -> RhaiResult<T> {
    throw(
        "ArgumentOutOfRangeException",
        "The added or subtracted value results in an un-representable DateTime. (Parameter 'value')",
    )
}

impl DateTime {
    pub(crate) fn new(ticks: i64, kind: DateTimeKind) -> RhaiResult<Self> {
        if (0..=MAX_TICKS).contains(&ticks) {
            Ok(Self { ticks, kind })
        } else {
            throw(
                "ArgumentOutOfRangeException",
                "Ticks must be between DateTime.MinValue.Ticks and DateTime.MaxValue.Ticks. (Parameter 'ticks')",
            )
        }
    }

    pub(crate) fn now(kind: DateTimeKind) -> Self {
        let ticks = crate::core::now()
            .saturating_mul(TICKS_PER_MS)
            .saturating_add(UNIX_EPOCH_TICKS);
        Self {
            ticks: ticks.clamp(0, MAX_TICKS),
            kind,
        }
    }

    fn from_parts(p: &[INT], kind: DateTimeKind) -> RhaiResult<Self> {
        let get = |i: usize| p.get(i).copied().unwrap_or(0);
        let Some(date) = date_ticks(get(0), get(1), get(2)) else {
            return throw(
                "ArgumentOutOfRangeException",
                "Year, Month, and Day parameters describe an un-representable DateTime.",
            );
        };
        if !(0..24).contains(&get(3)) || !(0..60).contains(&get(4)) || !(0..60).contains(&get(5)) {
            return throw(
                "ArgumentOutOfRangeException",
                "Hour, Minute, and Second parameters describe an un-representable DateTime.",
            );
        }
        if !(0..1000).contains(&get(6)) {
            return throw(
                "ArgumentOutOfRangeException",
                "Valid values are between 0 and 999, inclusive. (Parameter 'millisecond')",
            );
        }
        let ticks = date
            + get(3) * TICKS_PER_HOUR
            + get(4) * TICKS_PER_MINUTE
            + get(5) * TICKS_PER_SECOND
            + get(6) * TICKS_PER_MS;
        Ok(Self { ticks, kind })
    }

    pub(crate) fn add_ticks(self, delta: i64) -> RhaiResult<Self> {
        match self.ticks.checked_add(delta) {
            Some(t) if (0..=MAX_TICKS).contains(&t) => Ok(Self {
                ticks: t,
                kind: self.kind,
            }),
            _ => unrepresentable(),
        }
    }

    /// .NET's `AddUnits`: whole units exactly, the fraction truncated to ticks.
    pub(crate) fn add_units(self, value: f64, per_unit: i64) -> RhaiResult<Self> {
        let max_units = (MAX_TICKS / per_unit) as f64;
        if value.is_nan() || value.abs() > max_units {
            return throw(
                "ArgumentOutOfRangeException",
                "Value to add was out of range. (Parameter 'value')",
            );
        }
        let whole = value.trunc();
        let ticks = (whole as i64)
            .saturating_mul(per_unit)
            .saturating_add(((value - whole) * per_unit as f64) as i64);
        self.add_ticks(ticks)
    }

    pub(crate) fn add_months(self, months: INT) -> RhaiResult<Self> {
        if !(-120_000..=120_000).contains(&months) {
            return throw(
                "ArgumentOutOfRangeException",
                "Months value must be between +/-120000. (Parameter 'months')",
            );
        }
        let c = civil(self.ticks);
        let total = c.year * 12 + (c.month - 1) + months;
        let (year, month) = (total.div_euclid(12), total.rem_euclid(12) + 1);
        let Some(dim) = days_in_month(year, month) else {
            return throw(
                "ArgumentOutOfRangeException",
                "The added or subtracted value results in an un-representable DateTime. (Parameter 'months')",
            );
        };
        let date = date_ticks(year, month, c.day.min(dim)).unwrap_or(0);
        Ok(Self {
            ticks: date + self.ticks.rem_euclid(TICKS_PER_DAY),
            kind: self.kind,
        })
    }

    fn add_years(self, years: INT) -> RhaiResult<Self> {
        if !(-10_000..=10_000).contains(&years) {
            return throw(
                "ArgumentOutOfRangeException",
                "Years value must be between +/-10000. (Parameter 'years')",
            );
        }
        self.add_months(years * 12).or_else(|_| throw("ArgumentOutOfRangeException", "The added or subtracted value results in an un-representable DateTime. (Parameter 'years')"))
    }

    pub(crate) fn to_string_fmt(self, fmt: &str) -> RhaiResult<String> {
        let zone = match self.kind {
            DateTimeKind::Utc => format::Zone::Utc,
            DateTimeKind::Local => format::Zone::Offset(0),
            DateTimeKind::Unspecified => format::Zone::None,
        };
        format::format(self.ticks, zone, fmt)
    }
}

/// A number argument: INT or FLOAT (and, leniently, a numeric string).
pub(crate) fn number(v: &Dynamic) -> RhaiResult<f64> {
    if let Ok(n) = v.as_int() {
        return Ok(n as f64);
    }
    if let Ok(f) = v.as_float() {
        return Ok(f);
    }
    if let Some(f) = v
        .read_lock::<ImmutableString>()
        .and_then(|s| s.trim().parse::<f64>().ok())
    {
        return Ok(f);
    }
    throw(
        "InvalidCastException",
        format!(
            "Unable to cast object of type 'System.{}' to type 'System.Double'.",
            crate::core::dotnet_type(v)
        ),
    )
}

fn kind_of(v: &Dynamic) -> DateTimeKind {
    v.clone()
        .try_cast::<DateTimeKind>()
        .unwrap_or(DateTimeKind::Unspecified)
}

fn register_date_time(e: &mut Engine) {
    e.register_type_with_name::<DateTime>("DateTime")
        .register_fn("DateTime__UtcNow", || DateTime::now(DateTimeKind::Utc))
        .register_fn("DateTime__Now", || DateTime::now(DateTimeKind::Local))
        .register_fn("DateTime__Today", || {
            let n = DateTime::now(DateTimeKind::Local);
            DateTime {
                ticks: n.ticks - n.ticks % TICKS_PER_DAY,
                kind: DateTimeKind::Local,
            }
        })
        .register_fn("DateTime__MinValue", || DateTime {
            ticks: 0,
            kind: DateTimeKind::Unspecified,
        })
        .register_fn("DateTime__MaxValue", || DateTime {
            ticks: MAX_TICKS,
            kind: DateTimeKind::Unspecified,
        })
        .register_fn("DateTime__UnixEpoch", || DateTime {
            ticks: UNIX_EPOCH_TICKS,
            kind: DateTimeKind::Utc,
        })
        .register_fn("DateTime__new", |t: INT| {
            DateTime::new(t, DateTimeKind::Unspecified)
        })
        .register_fn("DateTime__new", |t: INT, k: DateTimeKind| {
            DateTime::new(t, k)
        })
        .register_fn("DateTime__new", |y: INT, m: INT, d: INT| {
            DateTime::from_parts(&[y, m, d], DateTimeKind::Unspecified)
        })
        .register_fn(
            "DateTime__new",
            |y: INT, m: INT, d: INT, h: INT, mi: INT, s: INT| {
                DateTime::from_parts(&[y, m, d, h, mi, s], DateTimeKind::Unspecified)
            },
        )
        .register_fn(
            "DateTime__new",
            |y: INT, m: INT, d: INT, h: INT, mi: INT, s: INT, k: Dynamic| match k.as_int() {
                Ok(ms) => DateTime::from_parts(&[y, m, d, h, mi, s, ms], DateTimeKind::Unspecified),
                Err(_) => DateTime::from_parts(&[y, m, d, h, mi, s], kind_of(&k)),
            },
        )
        .register_fn(
            "DateTime__new",
            |y: INT, m: INT, d: INT, h: INT, mi: INT, s: INT, ms: INT, k: DateTimeKind| {
                DateTime::from_parts(&[y, m, d, h, mi, s, ms], k)
            },
        )
        .register_fn("DateTime__SpecifyKind", |d: DateTime, k: DateTimeKind| {
            DateTime {
                ticks: d.ticks,
                kind: k,
            }
        })
        .register_fn(
            "DateTime__DaysInMonth",
            |y: INT, m: INT| -> RhaiResult<INT> {
                if !(1..=12).contains(&m) {
                    return throw(
                        "ArgumentOutOfRangeException",
                        "Month must be between one and twelve. (Parameter 'month')",
                    );
                }
                match days_in_month(y, m) {
                    Some(d) => Ok(d),
                    None => throw(
                        "ArgumentOutOfRangeException",
                        "Year must be between 1 and 9999. (Parameter 'year')",
                    ),
                }
            },
        )
        .register_fn("DateTime__IsLeapYear", |y: INT| -> RhaiResult<bool> {
            if (1..=9999).contains(&y) {
                Ok(is_leap(y))
            } else {
                throw(
                    "ArgumentOutOfRangeException",
                    "Year must be between 1 and 9999. (Parameter 'year')",
                )
            }
        })
        .register_fn("DateTime__Compare", |a: DateTime, b: DateTime| {
            a.ticks.cmp(&b.ticks) as INT
        })
        .register_fn("DateTime__Equals", |a: DateTime, b: DateTime| {
            a.ticks == b.ticks
        })
        .register_fn("DateTime__FromFileTimeUtc", |t: INT| {
            DateTime::new(t.saturating_add(504_911_232_000_000_000), DateTimeKind::Utc)
        })
        .register_fn("DateTime__Parse", |s: ImmutableString| {
            parse::parse_date_time(&s)
        })
        .register_fn("DateTime__Parse", |s: ImmutableString, _: CultureInfo| {
            parse::parse_date_time(&s)
        })
        .register_fn("DateTime__TryParse__out", |s: Dynamic| -> rhai::Array {
            let parsed = s
                .into_immutable_string()
                .ok()
                .and_then(|s| parse::parse_date_time(&s).ok());
            let ok = parsed.is_some();
            vec![
                ok.into(),
                Dynamic::from(parsed.unwrap_or(DateTime {
                    ticks: 0,
                    kind: DateTimeKind::Unspecified,
                })),
            ]
        })
        .register_fn(
            "DateTime__ParseExact",
            |s: ImmutableString, f: ImmutableString, _: Dynamic| parse::parse_exact(&s, &f),
        )
        .register_fn(
            "DateTime__TryParseExact__out",
            |s: Dynamic, f: ImmutableString, _: Dynamic, _: Dynamic| -> rhai::Array {
                let parsed = s
                    .into_immutable_string()
                    .ok()
                    .and_then(|s| parse::parse_exact(&s, &f).ok());
                let ok = parsed.is_some();
                vec![
                    ok.into(),
                    Dynamic::from(parsed.unwrap_or(DateTime {
                        ticks: 0,
                        kind: DateTimeKind::Unspecified,
                    })),
                ]
            },
        );
    e.register_get("Year", |d: &mut DateTime| civil(d.ticks).year)
        .register_get("Month", |d: &mut DateTime| civil(d.ticks).month)
        .register_get("Day", |d: &mut DateTime| civil(d.ticks).day)
        .register_get("Hour", |d: &mut DateTime| civil(d.ticks).hour)
        .register_get("Minute", |d: &mut DateTime| civil(d.ticks).minute)
        .register_get("Second", |d: &mut DateTime| civil(d.ticks).second)
        .register_get("Millisecond", |d: &mut DateTime| {
            civil(d.ticks).fraction / TICKS_PER_MS
        })
        .register_get("DayOfWeek", |d: &mut DateTime| {
            DayOfWeek(civil(d.ticks).day_of_week)
        })
        .register_get("DayOfYear", |d: &mut DateTime| civil(d.ticks).day_of_year)
        .register_get("Date", |d: &mut DateTime| DateTime {
            ticks: d.ticks - d.ticks % TICKS_PER_DAY,
            kind: d.kind,
        })
        .register_get("TimeOfDay", |d: &mut DateTime| TimeSpan {
            ticks: d.ticks % TICKS_PER_DAY,
        })
        .register_get("Ticks", |d: &mut DateTime| d.ticks)
        .register_get("Kind", |d: &mut DateTime| d.kind)
        .register_fn("IsDaylightSavingTime", |_: &mut DateTime| false)
        .register_fn("AddTicks", |d: &mut DateTime, v: INT| d.add_ticks(v))
        .register_fn("AddMilliseconds", |d: &mut DateTime, v: Dynamic| {
            d.add_units(number(&v)?, TICKS_PER_MS)
        })
        .register_fn("AddSeconds", |d: &mut DateTime, v: Dynamic| {
            d.add_units(number(&v)?, TICKS_PER_SECOND)
        })
        .register_fn("AddMinutes", |d: &mut DateTime, v: Dynamic| {
            d.add_units(number(&v)?, TICKS_PER_MINUTE)
        })
        .register_fn("AddHours", |d: &mut DateTime, v: Dynamic| {
            d.add_units(number(&v)?, TICKS_PER_HOUR)
        })
        .register_fn("AddDays", |d: &mut DateTime, v: Dynamic| {
            d.add_units(number(&v)?, TICKS_PER_DAY)
        })
        .register_fn("AddMonths", |d: &mut DateTime, v: INT| d.add_months(v))
        .register_fn("AddYears", |d: &mut DateTime, v: INT| d.add_years(v))
        .register_fn("Add", |d: &mut DateTime, t: TimeSpan| d.add_ticks(t.ticks))
        .register_fn("Subtract", |d: &mut DateTime, t: TimeSpan| {
            d.add_ticks(t.ticks.saturating_neg())
        })
        .register_fn("Subtract", |d: &mut DateTime, o: DateTime| TimeSpan {
            ticks: d.ticks - o.ticks,
        })
        .register_fn("ToUniversalTime", |d: &mut DateTime| DateTime {
            ticks: d.ticks,
            kind: DateTimeKind::Utc,
        })
        .register_fn("ToLocalTime", |d: &mut DateTime| DateTime {
            ticks: d.ticks,
            kind: DateTimeKind::Local,
        })
        .register_fn("ToFileTimeUtc", |d: &mut DateTime| -> RhaiResult<INT> {
            if d.ticks < 504_911_232_000_000_000 {
                return throw(
                    "ArgumentOutOfRangeException",
                    "Not a valid Win32 FileTime. (Parameter 'fileTime')",
                );
            }
            Ok(d.ticks - 504_911_232_000_000_000)
        })
        .register_fn("ToString", |d: &mut DateTime| d.to_string_fmt(""))
        .register_fn("ToString", |d: &mut DateTime, f: ImmutableString| {
            d.to_string_fmt(&f)
        })
        .register_fn("ToString", |d: &mut DateTime, _: CultureInfo| {
            d.to_string_fmt("")
        })
        .register_fn(
            "ToString",
            |d: &mut DateTime, f: ImmutableString, _: Dynamic| d.to_string_fmt(&f),
        )
        .register_fn("ToShortDateString", |d: &mut DateTime| d.to_string_fmt("d"))
        .register_fn("ToLongDateString", |d: &mut DateTime| d.to_string_fmt("D"))
        .register_fn("ToShortTimeString", |d: &mut DateTime| d.to_string_fmt("t"))
        .register_fn("ToLongTimeString", |d: &mut DateTime| d.to_string_fmt("T"))
        .register_fn("ToIso8601String", |d: &mut DateTime| d.to_string_fmt("o"))
        .register_fn("CompareTo", |a: &mut DateTime, b: DateTime| {
            a.ticks.cmp(&b.ticks) as INT
        })
        .register_fn("Equals", |a: &mut DateTime, b: DateTime| a.ticks == b.ticks)
        .register_fn("GetHashCode", |a: &mut DateTime| a.ticks ^ (a.ticks >> 32))
        .register_fn("+", |a: DateTime, t: TimeSpan| a.add_ticks(t.ticks))
        .register_fn("-", |a: DateTime, t: TimeSpan| {
            a.add_ticks(t.ticks.saturating_neg())
        })
        .register_fn("-", |a: DateTime, b: DateTime| TimeSpan {
            ticks: a.ticks - b.ticks,
        })
        .register_fn("==", |a: DateTime, b: DateTime| a.ticks == b.ticks)
        .register_fn("!=", |a: DateTime, b: DateTime| a.ticks != b.ticks)
        .register_fn("<", |a: DateTime, b: DateTime| a.ticks < b.ticks)
        .register_fn("<=", |a: DateTime, b: DateTime| a.ticks <= b.ticks)
        .register_fn(">", |a: DateTime, b: DateTime| a.ticks > b.ticks)
        .register_fn(">=", |a: DateTime, b: DateTime| a.ticks >= b.ticks)
        // `(DateTimeOffset)dt` is C#'s implicit conversion, not an unboxing.
        .register_fn("__cast", |d: DateTime, t: ImmutableString| {
            convert_date_time(d, &t)
        })
        .register_fn("__conv", |d: DateTime, t: ImmutableString| {
            convert_date_time(d, &t)
        });
}

fn convert_date_time(d: DateTime, target: &str) -> RhaiResult<Dynamic> {
    match target.trim_end_matches('?') {
        "DateTimeOffset" | "System.DateTimeOffset" => {
            Ok(Dynamic::from(DateTimeOffset::from_date_time(d)))
        }
        other => crate::core::unbox(Dynamic::from(d), other),
    }
}

fn register_enums(e: &mut Engine) {
    e.register_type_with_name::<DateTimeKind>("DateTimeKind")
        .register_fn("DateTimeKind__Utc", || DateTimeKind::Utc)
        .register_fn("DateTimeKind__Local", || DateTimeKind::Local)
        .register_fn("DateTimeKind__Unspecified", || DateTimeKind::Unspecified)
        .register_fn("ToString", |k: &mut DateTimeKind| k.name())
        .register_fn("==", |a: DateTimeKind, b: DateTimeKind| a == b)
        .register_fn("!=", |a: DateTimeKind, b: DateTimeKind| a != b)
        .register_fn("__conv", |k: DateTimeKind, t: ImmutableString| {
            crate::core::convert(Dynamic::from_int(k.value()), &t)
        });
    e.register_type_with_name::<DayOfWeek>("DayOfWeek")
        .register_fn("ToString", |d: &mut DayOfWeek| d.name())
        .register_fn("==", |a: DayOfWeek, b: DayOfWeek| a == b)
        .register_fn("!=", |a: DayOfWeek, b: DayOfWeek| a != b)
        .register_fn("__conv", |d: DayOfWeek, t: ImmutableString| {
            crate::core::convert(Dynamic::from_int(INT::from(d.0)), &t)
        })
        .register_fn("__cast", |d: DayOfWeek, t: ImmutableString| {
            crate::core::convert(Dynamic::from_int(INT::from(d.0)), &t)
        });
    for (i, name) in DAY_NAMES.iter().enumerate() {
        let day = DayOfWeek(u8::try_from(i).unwrap_or(0));
        e.register_fn(format!("DayOfWeek__{name}"), move || day);
    }
    e.register_type_with_name::<CultureInfo>("CultureInfo")
        .register_fn("CultureInfo__InvariantCulture", || CultureInfo)
        .register_fn("CultureInfo__CurrentCulture", || CultureInfo)
        .register_fn("CultureInfo__new", |_: ImmutableString| CultureInfo)
        .register_fn("CultureInfo__GetCultureInfo", |_: ImmutableString| {
            CultureInfo
        })
        .register_get("Name", |_: &mut CultureInfo| "")
        .register_fn("ToString", |_: &mut CultureInfo| "");
}

pub(crate) fn register(e: &mut Engine) {
    register_enums(e);
    register_date_time(e);
    span::register(e);
    offset::register(e);
}

#[cfg(test)]
mod tests;
