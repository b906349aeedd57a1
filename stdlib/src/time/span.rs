//! `System.TimeSpan`: a signed count of 100 ns ticks.

use rhai::{Dynamic, Engine, INT, ImmutableString};

use super::{
    TICKS_PER_DAY, TICKS_PER_HOUR, TICKS_PER_MINUTE, TICKS_PER_MS, TICKS_PER_SECOND, number,
};
use crate::core::{RhaiResult, throw};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeSpan {
    pub ticks: i64,
}

fn overflow<T>() -> RhaiResult<T> {
    throw(
        "OverflowException",
        "TimeSpan overflowed because the duration is too long.",
    )
}

fn checked(t: Option<i64>) -> RhaiResult<TimeSpan> {
    t.map_or_else(overflow, |ticks| Ok(TimeSpan { ticks }))
}

/// .NET's `TimeSpan.Interval`: a double count of units, truncated to ticks.
fn interval(v: &Dynamic, scale: i64) -> RhaiResult<TimeSpan> {
    if let Ok(n) = v.as_int() {
        return checked(n.checked_mul(scale));
    }
    let x = number(v)?;
    if x.is_nan() {
        return throw(
            "ArgumentException",
            "TimeSpan does not accept floating point Not-a-Number values.",
        );
    }
    let ticks = x * scale as f64;
    if ticks >= i64::MAX as f64 || ticks < i64::MIN as f64 {
        return overflow();
    }
    Ok(TimeSpan {
        ticks: ticks as i64,
    })
}

/// `TimeSpan * double` and `TimeSpan / double`: rounded to the nearest tick.
fn scaled(ticks: f64) -> RhaiResult<TimeSpan> {
    if ticks.is_nan() {
        return throw(
            "ArgumentException",
            "TimeSpan does not accept floating point Not-a-Number values.",
        );
    }
    let ticks = ticks.round();
    if ticks >= i64::MAX as f64 || ticks < i64::MIN as f64 {
        return overflow();
    }
    Ok(TimeSpan {
        ticks: ticks as i64,
    })
}

fn from_parts(days: INT, h: INT, m: INT, s: INT, ms: INT) -> RhaiResult<TimeSpan> {
    let total = i128::from(days) * i128::from(TICKS_PER_DAY)
        + i128::from(h) * i128::from(TICKS_PER_HOUR)
        + i128::from(m) * i128::from(TICKS_PER_MINUTE)
        + i128::from(s) * i128::from(TICKS_PER_SECOND)
        + i128::from(ms) * i128::from(TICKS_PER_MS);
    match i64::try_from(total) {
        Ok(ticks) => Ok(TimeSpan { ticks }),
        Err(_) => throw(
            "ArgumentOutOfRangeException",
            "TimeSpan overflowed because the duration is too long.",
        ),
    }
}

impl TimeSpan {
    fn parts(self) -> (i64, i64, i64, i64, i64) {
        let t = self.ticks.unsigned_abs();
        let u = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
        let per = |p: i64| p.unsigned_abs();
        (
            u(t / per(TICKS_PER_DAY)),
            u(t % per(TICKS_PER_DAY) / per(TICKS_PER_HOUR)),
            u(t % per(TICKS_PER_HOUR) / per(TICKS_PER_MINUTE)),
            u(t % per(TICKS_PER_MINUTE) / per(TICKS_PER_SECOND)),
            u(t % per(TICKS_PER_SECOND)),
        )
    }

    fn component(self, per: i64, modulo: i64) -> INT {
        self.ticks / per % modulo
    }

    pub(crate) fn to_string_fmt(self, fmt: &str) -> RhaiResult<String> {
        let (d, h, m, s, f) = self.parts();
        let sign = if self.ticks < 0 { "-" } else { "" };
        match fmt {
            "" | "c" | "t" | "T" => {
                let days = if d > 0 {
                    format!("{d}.")
                } else {
                    String::new()
                };
                let frac = if f > 0 {
                    format!(".{f:07}")
                } else {
                    String::new()
                };
                Ok(format!("{sign}{days}{h:02}:{m:02}:{s:02}{frac}"))
            }
            "g" => {
                let days = if d > 0 {
                    format!("{d}:")
                } else {
                    String::new()
                };
                let frac = format!("{f:07}");
                let frac = frac.trim_end_matches('0');
                let frac = if frac.is_empty() {
                    String::new()
                } else {
                    format!(".{frac}")
                };
                Ok(format!("{sign}{days}{h}:{m:02}:{s:02}{frac}"))
            }
            "G" => Ok(format!("{sign}{d}:{h:02}:{m:02}:{s:02}.{f:07}")),
            custom => self.custom(custom, (d, h, m, s, f)),
        }
    }

    fn custom(self, fmt: &str, (d, h, m, s, f): (i64, i64, i64, i64, i64)) -> RhaiResult<String> {
        let bad = || {
            throw(
                "FormatException",
                "Input string was not in a correct format.",
            )
        };
        let tokens = super::format::tokenize(fmt)?;
        let mut out = String::new();
        for token in tokens {
            match token {
                super::format::Token::Literal(l) => out.push_str(&l),
                super::format::Token::Field(c, n) => match c {
                    'd' if n <= 8 => out.push_str(&format!("{d:0n$}")),
                    'h' | 'H' if n <= 2 => out.push_str(&format!("{h:0n$}")),
                    'm' if n <= 2 => out.push_str(&format!("{m:0n$}")),
                    's' if n <= 2 => out.push_str(&format!("{s:0n$}")),
                    'f' if n <= 7 => out.push_str(format!("{f:07}").get(..n).unwrap_or("")),
                    'F' if n <= 7 => out.push_str(
                        format!("{f:07}")
                            .get(..n)
                            .unwrap_or("")
                            .trim_end_matches('0'),
                    ),
                    _ => return bad(),
                },
            }
        }
        Ok(out)
    }
}

fn not_valid<T>(s: &str) -> RhaiResult<T> {
    throw(
        "FormatException",
        format!("String '{s}' was not recognized as a valid TimeSpan."),
    )
}

/// `TimeSpan.Parse`: `[ws][-]{ d | [d.]hh:mm[:ss[.ff]] }[ws]` (also `d:hh:mm:ss`).
pub(crate) fn parse(s: &str) -> RhaiResult<TimeSpan> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let num = |x: &str| -> RhaiResult<i64> {
        if x.is_empty() || x.len() > 10 || !x.bytes().all(|b| b.is_ascii_digit()) {
            return not_valid(s);
        }
        x.parse().map_or_else(|_| not_valid(s), Ok)
    };
    let (days, clock) = match (body.split_once('.'), body.split_once(':')) {
        (Some((d, rest)), Some((before_colon, _))) if d.len() < before_colon.len() => {
            (num(d)?, rest)
        }
        (_, None) => (num(body)?, ""),
        _ => (0, body),
    };
    let mut ticks = i128::from(days) * i128::from(TICKS_PER_DAY);
    if !clock.is_empty() {
        let (clock, frac) = match clock.rsplit_once('.') {
            Some((c, f)) => (c, Some(f)),
            None => (clock, None),
        };
        let parts: Vec<&str> = clock.split(':').collect();
        let (d, h, m, sec) = match parts.as_slice() {
            [h, m] => (0, num(h)?, num(m)?, 0),
            [h, m, sec] => (0, num(h)?, num(m)?, num(sec)?),
            [d, h, m, sec] if days == 0 => (num(d)?, num(h)?, num(m)?, num(sec)?),
            _ => return not_valid(s),
        };
        if h > 23 || m > 59 || sec > 59 {
            return throw("OverflowException", "The TimeSpan string 's' could not be parsed because at least one of the numeric components is out of range or contains too many digits.".replace("'s'", &format!("'{s}'")));
        }
        ticks += i128::from(d) * i128::from(TICKS_PER_DAY)
            + i128::from(h) * i128::from(TICKS_PER_HOUR)
            + i128::from(m) * i128::from(TICKS_PER_MINUTE)
            + i128::from(sec) * i128::from(TICKS_PER_SECOND);
        if let Some(f) = frac {
            if f.is_empty() || f.len() > 7 || !f.bytes().all(|b| b.is_ascii_digit()) {
                return not_valid(s);
            }
            let padded = format!("{f:0<7}");
            ticks += i128::from(padded.parse::<i64>().unwrap_or(0));
        }
    }
    let ticks = if neg { -ticks } else { ticks };
    i64::try_from(ticks).map_or_else(|_| overflow(), |ticks| Ok(TimeSpan { ticks }))
}

pub(crate) fn register(e: &mut Engine) {
    e.register_type_with_name::<TimeSpan>("TimeSpan")
        .register_fn("TimeSpan__FromTicks", |t: INT| TimeSpan { ticks: t })
        .register_fn("TimeSpan__FromMilliseconds", |v: Dynamic| {
            interval(&v, TICKS_PER_MS)
        })
        .register_fn("TimeSpan__FromSeconds", |v: Dynamic| {
            interval(&v, TICKS_PER_SECOND)
        })
        .register_fn("TimeSpan__FromMinutes", |v: Dynamic| {
            interval(&v, TICKS_PER_MINUTE)
        })
        .register_fn("TimeSpan__FromHours", |v: Dynamic| {
            interval(&v, TICKS_PER_HOUR)
        })
        .register_fn("TimeSpan__FromDays", |v: Dynamic| {
            interval(&v, TICKS_PER_DAY)
        })
        .register_fn("TimeSpan__new", |t: INT| TimeSpan { ticks: t })
        .register_fn("TimeSpan__new", |h: INT, m: INT, s: INT| {
            from_parts(0, h, m, s, 0)
        })
        .register_fn("TimeSpan__new", |d: INT, h: INT, m: INT, s: INT| {
            from_parts(d, h, m, s, 0)
        })
        .register_fn(
            "TimeSpan__new",
            |d: INT, h: INT, m: INT, s: INT, ms: INT| from_parts(d, h, m, s, ms),
        )
        .register_fn("TimeSpan__Zero", || TimeSpan { ticks: 0 })
        .register_fn("TimeSpan__MaxValue", || TimeSpan { ticks: i64::MAX })
        .register_fn("TimeSpan__MinValue", || TimeSpan { ticks: i64::MIN })
        .register_fn("TimeSpan__TicksPerMillisecond", || TICKS_PER_MS)
        .register_fn("TimeSpan__TicksPerSecond", || TICKS_PER_SECOND)
        .register_fn("TimeSpan__TicksPerMinute", || TICKS_PER_MINUTE)
        .register_fn("TimeSpan__TicksPerHour", || TICKS_PER_HOUR)
        .register_fn("TimeSpan__TicksPerDay", || TICKS_PER_DAY)
        .register_fn("TimeSpan__Parse", |s: ImmutableString| parse(&s))
        .register_fn("TimeSpan__Parse", |s: ImmutableString, _: Dynamic| {
            parse(&s)
        })
        .register_fn("TimeSpan__TryParse__out", |s: Dynamic| -> rhai::Array {
            let parsed = s.into_immutable_string().ok().and_then(|s| parse(&s).ok());
            vec![
                parsed.is_some().into(),
                Dynamic::from(parsed.unwrap_or(TimeSpan { ticks: 0 })),
            ]
        })
        .register_fn("TimeSpan__Compare", |a: TimeSpan, b: TimeSpan| {
            a.ticks.cmp(&b.ticks) as INT
        })
        .register_get("Ticks", |t: &mut TimeSpan| t.ticks)
        .register_get("Days", |t: &mut TimeSpan| t.ticks / TICKS_PER_DAY)
        .register_get("Hours", |t: &mut TimeSpan| t.component(TICKS_PER_HOUR, 24))
        .register_get("Minutes", |t: &mut TimeSpan| {
            t.component(TICKS_PER_MINUTE, 60)
        })
        .register_get("Seconds", |t: &mut TimeSpan| {
            t.component(TICKS_PER_SECOND, 60)
        })
        .register_get("Milliseconds", |t: &mut TimeSpan| {
            t.component(TICKS_PER_MS, 1000)
        })
        .register_get("TotalDays", |t: &mut TimeSpan| {
            t.ticks as f64 / TICKS_PER_DAY as f64
        })
        .register_get("TotalHours", |t: &mut TimeSpan| {
            t.ticks as f64 / TICKS_PER_HOUR as f64
        })
        .register_get("TotalMinutes", |t: &mut TimeSpan| {
            t.ticks as f64 / TICKS_PER_MINUTE as f64
        })
        .register_get("TotalSeconds", |t: &mut TimeSpan| {
            t.ticks as f64 / TICKS_PER_SECOND as f64
        })
        .register_get("TotalMilliseconds", |t: &mut TimeSpan| {
            t.ticks as f64 / TICKS_PER_MS as f64
        })
        .register_fn("Add", |a: &mut TimeSpan, b: TimeSpan| {
            checked(a.ticks.checked_add(b.ticks))
        })
        .register_fn("Subtract", |a: &mut TimeSpan, b: TimeSpan| {
            checked(a.ticks.checked_sub(b.ticks))
        })
        .register_fn("Negate", |a: &mut TimeSpan| checked(a.ticks.checked_neg()))
        .register_fn("Duration", |a: &mut TimeSpan| {
            checked(a.ticks.checked_abs())
        })
        .register_fn("CompareTo", |a: &mut TimeSpan, b: TimeSpan| {
            a.ticks.cmp(&b.ticks) as INT
        })
        .register_fn("Equals", |a: &mut TimeSpan, b: TimeSpan| a.ticks == b.ticks)
        .register_fn("ToString", |t: &mut TimeSpan| t.to_string_fmt(""))
        .register_fn("ToString", |t: &mut TimeSpan, f: ImmutableString| {
            t.to_string_fmt(&f)
        })
        .register_fn(
            "ToString",
            |t: &mut TimeSpan, f: ImmutableString, _: Dynamic| t.to_string_fmt(&f),
        )
        .register_fn("+", |a: TimeSpan, b: TimeSpan| {
            checked(a.ticks.checked_add(b.ticks))
        })
        .register_fn("-", |a: TimeSpan, b: TimeSpan| {
            checked(a.ticks.checked_sub(b.ticks))
        })
        .register_fn("-", |a: TimeSpan| checked(a.ticks.checked_neg()))
        .register_fn("*", |a: TimeSpan, b: Dynamic| {
            scaled(a.ticks as f64 * number(&b)?)
        })
        .register_fn("*", |b: Dynamic, a: TimeSpan| {
            scaled(a.ticks as f64 * number(&b)?)
        })
        .register_fn("/", |a: TimeSpan, b: Dynamic| {
            scaled(a.ticks as f64 / number(&b)?)
        })
        .register_fn("/", |a: TimeSpan, b: TimeSpan| {
            a.ticks as f64 / b.ticks as f64
        })
        .register_fn("==", |a: TimeSpan, b: TimeSpan| a == b)
        .register_fn("!=", |a: TimeSpan, b: TimeSpan| a != b)
        .register_fn("<", |a: TimeSpan, b: TimeSpan| a < b)
        .register_fn("<=", |a: TimeSpan, b: TimeSpan| a <= b)
        .register_fn(">", |a: TimeSpan, b: TimeSpan| a > b)
        .register_fn(">=", |a: TimeSpan, b: TimeSpan| a >= b);
}
