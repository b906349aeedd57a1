//! `DateTime.Parse` (the invariant culture's usual shapes: ISO 8601,
//! `MM/dd/yyyy [HH:mm:ss]`, RFC 1123, long dates) and `ParseExact`.

use super::format::{MONTHS, Token, pattern, tokenize};
use super::{
    DateTime, DateTimeKind, TICKS_PER_HOUR, TICKS_PER_MINUTE, TICKS_PER_SECOND, civil, date_ticks,
};
use crate::core::{RhaiResult, throw};

/// The shapes `DateTime.Parse` tries, in order.
const GENERAL: &[&str] = &[
    "yyyy-M-d'T'H:m:s.FFFFFFFK",
    "yyyy-M-d'T'H:m:sK",
    "yyyy-M-d'T'H:mK",
    "yyyy-M-d H:m:s.FFFFFFFK",
    "yyyy-M-d H:m:sK",
    "yyyy-M-d H:mK",
    "yyyy-M-dK",
    "yyyy/M/d H:m:s.FFFFFFFK",
    "yyyy/M/d H:m:sK",
    "yyyy/M/d H:mK",
    "yyyy/M/d",
    "M/d/yyyy h:m:s tt",
    "M/d/yyyy h:m tt",
    "M/d/yyyy H:m:s.FFFFFFFK",
    "M/d/yyyy H:m:sK",
    "M/d/yyyy H:mK",
    "M/d/yyyy",
    "ddd, d MMM yyyy H:m:s 'GMT'",
    "ddd, d MMM yyyy H:m:s K",
    "d MMM yyyy H:m:s 'GMT'",
    "d MMM yyyy H:m:s",
    "d MMM yyyy",
    "dddd, d MMMM yyyy H:m:s",
    "dddd, d MMMM yyyy",
    "d MMMM yyyy",
    "MMMM d, yyyy",
    "MMMM d yyyy",
    "H:m:s.FFFFFFFK",
    "H:m:sK",
    "H:m",
    "h:m:s tt",
    "h:m tt",
];

#[derive(Default)]
struct Fields {
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    hour: i64,
    minute: i64,
    second: i64,
    fraction: i64,
    pm: Option<bool>,
    offset: Option<i64>,
}

/// A date and the offset it carried (minutes), if any.
pub(crate) struct Parsed {
    /// Clock ticks as written.
    pub ticks: i64,
    pub offset: Option<i64>,
}

fn not_valid<T>(s: &str) -> RhaiResult<T> {
    throw(
        "FormatException",
        format!("String '{s}' was not recognized as a valid DateTime."),
    )
}

/// `DateTime.Parse`: a zone in the text converts to local time (= UTC here)
/// with kind `Local`; without one the kind is `Unspecified`.
pub(crate) fn parse_date_time(s: &str) -> RhaiResult<DateTime> {
    let p = parse_general(s)?;
    to_date_time(p, s)
}

pub(crate) fn parse_general(s: &str) -> RhaiResult<Parsed> {
    let text = s.trim();
    for fmt in GENERAL {
        if let Some(p) = tokenize(fmt)
            .ok()
            .and_then(|t| parse_tokens(text, &t, true))
        {
            return Ok(p);
        }
    }
    not_valid(s)
}

/// `DateTime.ParseExact(s, format, provider)`.
pub(crate) fn parse_exact(s: &str, fmt: &str) -> RhaiResult<DateTime> {
    let tokens = tokenize(&pattern(fmt)?)?;
    match parse_tokens(s, &tokens, false) {
        Some(p) => to_date_time(p, s),
        None => not_valid(s),
    }
}

fn to_date_time(p: Parsed, s: &str) -> RhaiResult<DateTime> {
    match p.offset {
        None => Ok(DateTime {
            ticks: p.ticks,
            kind: DateTimeKind::Unspecified,
        }),
        Some(m) => {
            let ticks = p.ticks - m * TICKS_PER_MINUTE;
            if (0..=super::MAX_TICKS).contains(&ticks) {
                Ok(DateTime {
                    ticks,
                    kind: DateTimeKind::Local,
                })
            } else {
                not_valid(s)
            }
        }
    }
}

/// Reads `min..=max` ASCII digits.
fn digits(text: &[char], pos: &mut usize, min: usize, max: usize) -> Option<i64> {
    let n = text
        .get(*pos..)?
        .iter()
        .take(max)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if n < min {
        return None;
    }
    let v = text.get(*pos..*pos + n)?.iter().fold(0i64, |acc, c| {
        acc * 10 + i64::from(c.to_digit(10).unwrap_or(0))
    });
    *pos += n;
    Some(v)
}

fn word(text: &[char], pos: &mut usize, names: &[&str], abbreviated: bool) -> Option<usize> {
    let rest: String = text.get(*pos..)?.iter().collect::<String>().to_lowercase();
    for (i, name) in names.iter().enumerate() {
        let name: String = if abbreviated {
            name.chars().take(3).collect()
        } else {
            (*name).to_owned()
        };
        if rest.starts_with(&name.to_lowercase()) {
            *pos += name.chars().count();
            return Some(i);
        }
    }
    None
}

fn offset(text: &[char], pos: &mut usize, optional_z: bool) -> Option<Option<i64>> {
    match text.get(*pos) {
        Some('Z') | Some('z') if optional_z => {
            *pos += 1;
            Some(Some(0))
        }
        Some(&sign @ ('+' | '-')) => {
            *pos += 1;
            let h = digits(text, pos, 1, 2)?;
            let m = if text.get(*pos) == Some(&':') {
                *pos += 1;
                digits(text, pos, 2, 2)?
            } else {
                digits(text, pos, 2, 2).unwrap_or(0)
            };
            if h > 14 || m > 59 {
                return None;
            }
            let total = h * 60 + m;
            Some(Some(if sign == '-' { -total } else { total }))
        }
        _ if optional_z => Some(None),
        _ => None,
    }
}

fn parse_tokens(s: &str, tokens: &[Token], general: bool) -> Option<Parsed> {
    let text: Vec<char> = s.chars().collect();
    let mut pos = 0;
    let mut f = Fields::default();
    for token in tokens {
        let (c, n) = match token {
            Token::Literal(lit) => {
                if general && lit.trim() == "GMT" {
                    f.offset = Some(0);
                }
                for lc in lit.chars() {
                    if lc == ' ' && general {
                        let spaces = text
                            .get(pos..)?
                            .iter()
                            .take_while(|c| c.is_whitespace())
                            .count();
                        if spaces == 0 {
                            return None;
                        }
                        pos += spaces;
                    } else if text.get(pos).is_some_and(|tc| tc.eq_ignore_ascii_case(&lc)) {
                        pos += 1;
                    } else {
                        return None;
                    }
                }
                continue;
            }
            Token::Field(c, n) => (*c, *n),
        };
        let (min, max) = if n == 1 { (1, 2) } else { (2, 2) };
        match c {
            'y' => {
                f.year = Some(if n <= 2 {
                    2000 + digits(&text, &mut pos, n.min(2), 2)?
                } else {
                    digits(&text, &mut pos, n.min(4), n.max(4))?
                })
            }
            'M' if n >= 3 => f.month = Some(word(&text, &mut pos, &MONTHS, n == 3)? as i64 + 1),
            'M' => f.month = Some(digits(&text, &mut pos, min, max)?),
            'd' if n >= 3 => {
                word(&text, &mut pos, &super::DAY_NAMES, n == 3)?;
            }
            'd' => f.day = Some(digits(&text, &mut pos, min, max)?),
            'h' | 'H' => f.hour = digits(&text, &mut pos, min, max)?,
            'm' => f.minute = digits(&text, &mut pos, min, max)?,
            's' => f.second = digits(&text, &mut pos, min, max)?,
            'f' | 'F' => {
                let start = pos;
                let v = digits(&text, &mut pos, if c == 'f' { n } else { 0 }, n.min(7))?;
                let read = u32::try_from(pos - start).unwrap_or(0);
                f.fraction = v * 10i64.pow(7u32.saturating_sub(read));
                if c == 'F' && read == 0 && general {
                    return None;
                }
            }
            't' => {
                let am_pm = if n == 1 { ["A", "P"] } else { ["AM", "PM"] };
                f.pm = Some(word(&text, &mut pos, &am_pm, false)? == 1);
            }
            'K' => {
                if let Some(o) = offset(&text, &mut pos, true)? {
                    f.offset = Some(o);
                }
            }
            'z' => f.offset = Some(offset(&text, &mut pos, false)??),
            _ => return None,
        }
    }
    if pos != text.len() {
        return None;
    }
    let hour = match f.pm {
        Some(pm) if (1..=12).contains(&f.hour) => f.hour % 12 + if pm { 12 } else { 0 },
        Some(_) => return None,
        None => f.hour,
    };
    if hour > 23 || f.minute > 59 || f.second > 59 {
        return None;
    }
    let date = if f.year.is_none() && f.month.is_none() && f.day.is_none() {
        let today = civil(super::DateTime::now(DateTimeKind::Local).ticks);
        date_ticks(today.year, today.month, today.day)?
    } else {
        date_ticks(
            f.year.unwrap_or(1),
            f.month.unwrap_or(1),
            f.day.unwrap_or(1),
        )?
    };
    Some(Parsed {
        ticks: date
            + hour * TICKS_PER_HOUR
            + f.minute * TICKS_PER_MINUTE
            + f.second * TICKS_PER_SECOND
            + f.fraction,
        offset: f.offset,
    })
}
