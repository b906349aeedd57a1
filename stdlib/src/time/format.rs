//! .NET date and time format strings (invariant culture): the standard
//! one-letter formats and the custom specifiers, shared by formatting and
//! `ParseExact`.

use super::civil;
use crate::core::{RhaiResult, throw};

pub(crate) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// What `K` and `z` print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Zone {
    /// `DateTimeKind.Unspecified`: `K` prints nothing, `z` the local offset.
    None,
    /// `DateTimeKind.Utc`: `K` prints `Z`.
    Utc,
    /// Local time or a `DateTimeOffset`: the offset in minutes.
    Offset(i64),
}

/// One piece of a custom format string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    Field(char, usize),
    Literal(String),
}

pub(crate) fn bad_format<T>() -> RhaiResult<T> {
    throw(
        "FormatException",
        "Input string was not in a correct format.",
    )
}

/// The custom pattern a standard (one-letter) format stands for.
pub(crate) fn standard(c: char) -> Option<&'static str> {
    Some(match c {
        'd' => "MM/dd/yyyy",
        'D' => "dddd, dd MMMM yyyy",
        'f' => "dddd, dd MMMM yyyy HH:mm",
        'F' | 'U' => "dddd, dd MMMM yyyy HH:mm:ss",
        'g' => "MM/dd/yyyy HH:mm",
        'G' => "MM/dd/yyyy HH:mm:ss",
        'm' | 'M' => "MMMM dd",
        'o' | 'O' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        'r' | 'R' => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        's' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        't' => "HH:mm",
        'T' => "HH:mm:ss",
        'u' => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        'y' | 'Y' => "yyyy MMMM",
        _ => return None,
    })
}

/// The custom pattern for `fmt` (empty = `G`), expanding standard formats.
pub(crate) fn pattern(fmt: &str) -> RhaiResult<String> {
    let mut chars = fmt.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok("MM/dd/yyyy HH:mm:ss".into()),
        (Some(c), None) => standard(c).map_or_else(bad_format, |p| Ok(p.to_owned())),
        _ => Ok(fmt.to_owned()),
    }
}

const FIELDS: &str = "dfFghHKmMstyz";

pub(crate) fn tokenize(pattern: &str) -> RhaiResult<Vec<Token>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '\'' | '"' => {
                let Some(len) = chars
                    .get(i + 1..)
                    .and_then(|rest| rest.iter().position(|&q| q == c))
                else {
                    return throw(
                        "FormatException",
                        format!("Cannot find a matching quote character for the character '{c}'."),
                    );
                };
                lit.extend(chars.get(i + 1..i + 1 + len).unwrap_or_default());
                i += len + 2;
            }
            '\\' => {
                match chars.get(i + 1) {
                    Some(&n) => lit.push(n),
                    None => return bad_format(),
                }
                i += 2;
            }
            '%' => match chars.get(i + 1) {
                Some(&n) if FIELDS.contains(n) => {
                    flush(&mut out, &mut lit);
                    out.push(Token::Field(n, 1));
                    i += 2;
                }
                _ => return bad_format(),
            },
            c if FIELDS.contains(c) => {
                let n = chars
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|&&x| x == c)
                    .count();
                flush(&mut out, &mut lit);
                out.push(Token::Field(c, n));
                i += n;
            }
            c => {
                lit.push(c);
                i += 1;
            }
        }
    }
    flush(&mut out, &mut lit);
    Ok(out)
}

fn flush(out: &mut Vec<Token>, lit: &mut String) {
    if !lit.is_empty() {
        out.push(Token::Literal(std::mem::take(lit)));
    }
}

fn pad(out: &mut String, v: i64, width: usize) {
    out.push_str(&format!("{v:0width$}"));
}

pub(crate) fn offset_string(minutes: i64, count: usize) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let (h, m) = (minutes.abs() / 60, minutes.abs() % 60);
    match count {
        1 => format!("{sign}{h}"),
        2 => format!("{sign}{h:02}"),
        _ => format!("{sign}{h:02}:{m:02}"),
    }
}

/// Formats a tick count with a .NET format string.
pub(crate) fn format(ticks: i64, zone: Zone, fmt: &str) -> RhaiResult<String> {
    let c = civil(ticks);
    let mut out = String::new();
    for token in tokenize(&pattern(fmt)?)? {
        let (f, n) = match token {
            Token::Literal(s) => {
                out.push_str(&s);
                continue;
            }
            Token::Field(f, n) => (f, n),
        };
        let hour12 = if c.hour % 12 == 0 { 12 } else { c.hour % 12 };
        match f {
            'd' if n >= 4 => out.push_str(
                super::DAY_NAMES
                    .get(usize::from(c.day_of_week))
                    .copied()
                    .unwrap_or(""),
            ),
            'd' if n == 3 => out.extend(
                super::DAY_NAMES
                    .get(usize::from(c.day_of_week))
                    .copied()
                    .unwrap_or("")
                    .chars()
                    .take(3),
            ),
            'd' => pad(&mut out, c.day, n),
            'M' if n >= 4 => out.push_str(month_name(c.month)),
            'M' if n == 3 => out.extend(month_name(c.month).chars().take(3)),
            'M' => pad(&mut out, c.month, n),
            'y' if n == 1 => pad(&mut out, c.year % 100, 1),
            'y' if n == 2 => pad(&mut out, c.year % 100, 2),
            'y' => pad(&mut out, c.year, n),
            'h' => pad(&mut out, hour12, n.min(2)),
            'H' => pad(&mut out, c.hour, n.min(2)),
            'm' => pad(&mut out, c.minute, n.min(2)),
            's' => pad(&mut out, c.second, n.min(2)),
            'f' | 'F' if n > 7 => return bad_format(),
            'f' => out.push_str(format!("{:07}", c.fraction).get(..n).unwrap_or("")),
            'F' => {
                let digits = format!("{:07}", c.fraction);
                let digits = digits.get(..n).unwrap_or("").trim_end_matches('0');
                if digits.is_empty() && out.ends_with('.') {
                    out.pop();
                }
                out.push_str(digits);
            }
            't' if n == 1 => out.push(if c.hour < 12 { 'A' } else { 'P' }),
            't' => out.push_str(if c.hour < 12 { "AM" } else { "PM" }),
            'g' => out.push_str("A.D."),
            'K' => match zone {
                Zone::None => {}
                Zone::Utc => out.push('Z'),
                Zone::Offset(m) => out.push_str(&offset_string(m, 3)),
            },
            'z' => out.push_str(&offset_string(
                if let Zone::Offset(m) = zone { m } else { 0 },
                n,
            )),
            _ => return bad_format(),
        }
    }
    Ok(out)
}

fn month_name(month: i64) -> &'static str {
    usize::try_from(month - 1)
        .ok()
        .and_then(|i| MONTHS.get(i))
        .copied()
        .unwrap_or("")
}
