//! .NET numeric format strings (invariant culture) for `Int32`/`Int64` and
//! `Double`: the standard ones (`C`, `D`, `E`, `F`, `G`, `N`, `P`, `R`, `X`
//! with a precision) and custom ones (`0.00`, `#,##0`, `0.###`, `0%`,
//! `0.0E+00`, sections `pos;neg;zero`, quoted literals).
//!
//! As in .NET (Core 3.0 and later), a double is first turned into decimal
//! digits: for standard formats, exactly rounded at the requested digit (ties
//! to even on the exact binary value, so `2.5.ToString("F0")` is `2`); for
//! custom formats, 15 significant digits, then rounded half up at the
//! format's last digit (`0.125.ToString("0.00")` is `0.13`).

use super::custom_format::custom;
use crate::core::format_double;

/// Why a format could not be applied.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FmtError {
    /// `FormatException`: "Format specifier was invalid."
    Invalid,
    /// The result would be larger than the string size limit.
    TooLarge,
}

type Fmt<T> = Result<T, FmtError>;

/// `0.d1d2d3... × 10^scale`, digits as ASCII; no digits means zero.
pub(super) struct Number {
    pub(super) digits: Vec<u8>,
    pub(super) scale: i64,
    pub(super) negative: bool,
    pub(super) float: bool,
}

impl Number {
    fn from_int(v: i64) -> Self {
        let digits: Vec<u8> = v.unsigned_abs().to_string().into_bytes();
        let scale = if v == 0 { 0 } else { digits.len() as i64 };
        let digits = if v == 0 { Vec::new() } else { digits };
        Number {
            digits,
            scale,
            negative: v < 0,
            float: false,
        }
    }

    /// The exact decimal expansion of a finite double (at most 767 digits).
    fn from_float_exact(v: f64) -> Self {
        let negative = v.is_sign_negative();
        if v == 0.0 {
            return Number {
                digits: Vec::new(),
                scale: 0,
                negative,
                float: true,
            };
        }
        let sci = format!("{:.800e}", v.abs());
        let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        let scale = exp.parse::<i64>().unwrap_or(0) + 1;
        Number {
            digits,
            scale,
            negative,
            float: true,
        }
    }

    /// Keeps `keep` digits, rounding to nearest with ties to even on the
    /// exact value (what .NET's digit generation does for doubles).
    fn cut_even(&mut self, keep: i64) {
        let Ok(k) = usize::try_from(keep) else {
            self.digits.clear();
            return;
        };
        if k >= self.digits.len() {
            return;
        }
        let next = self.digits.get(k).copied().unwrap_or(b'0');
        let rest_nonzero = self
            .digits
            .get(k + 1..)
            .is_some_and(|r| r.iter().any(|&d| d != b'0'));
        let prev_odd = k > 0 && self.digits.get(k - 1).is_some_and(|d| (d - b'0') % 2 == 1);
        let up = next > b'5' || (next == b'5' && (rest_nonzero || prev_odd));
        self.digits.truncate(k);
        if up {
            self.increment();
        }
        self.strip();
    }

    /// Adds one unit in the last kept digit.
    fn increment(&mut self) {
        let mut i = self.digits.len();
        while i > 0 && self.digits.get(i - 1) == Some(&b'9') {
            i -= 1;
        }
        self.digits.truncate(i);
        match self.digits.last_mut() {
            Some(d) => *d += 1,
            None => {
                self.digits.push(b'1');
                self.scale += 1;
            }
        }
    }

    fn strip(&mut self) {
        while self.digits.last() == Some(&b'0') {
            self.digits.pop();
        }
        if self.digits.is_empty() {
            self.scale = 0;
            if !self.float {
                self.negative = false;
            }
        }
    }

    /// .NET's `RoundNumber`: keep `pos` digits, half up unless the digits
    /// are already correctly rounded.
    pub(super) fn round(&mut self, pos: i64, correctly_rounded: bool) {
        match usize::try_from(pos) {
            Ok(p) if p < self.digits.len() => {
                let up = !correctly_rounded && self.digits.get(p).is_some_and(|&d| d >= b'5');
                self.digits.truncate(p);
                if up {
                    self.increment();
                }
            }
            Ok(_) => {}
            Err(_) => self.digits.clear(),
        }
        self.strip();
    }

    pub(super) fn digit(&self, i: usize) -> Option<char> {
        self.digits.get(i).map(|&d| char::from(d))
    }
}

/// Splits a standard format (`"N2"`) into its letter and precision; `None`
/// for a custom format.
fn standard(fmt: &str) -> Fmt<Option<(char, Option<usize>)>> {
    let mut chars = fmt.chars();
    let Some(c) = chars.next() else {
        return Ok(Some(('G', None)));
    };
    let rest = chars.as_str();
    if !c.is_ascii_alphabetic() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    if rest.is_empty() {
        return Ok(Some((c, None)));
    }
    match rest.parse::<usize>() {
        Ok(p) if p <= 999_999_999 => Ok(Some((c, Some(p)))),
        _ => Err(FmtError::Invalid),
    }
}

fn check(len: usize, cap: usize) -> Fmt<()> {
    if len > cap {
        Err(FmtError::TooLarge)
    } else {
        Ok(())
    }
}

/// `ToString(format)` of an `int`/`long`.
pub(crate) fn format_int(v: i64, fmt: &str, cap: usize) -> Fmt<String> {
    let Some((c, precision)) = standard(fmt)? else {
        check(fmt.len() * 2 + 40, cap)?;
        return Ok(custom(Number::from_int(v), fmt));
    };
    check(precision.unwrap_or(0).saturating_add(40), cap)?;
    let upper = c.to_ascii_uppercase();
    if upper == 'D' || (upper == 'G' && precision.unwrap_or(0) == 0) {
        let digits = v.unsigned_abs().to_string();
        let width = precision.unwrap_or(0);
        let sign = if v < 0 { "-" } else { "" };
        return Ok(format!("{sign}{digits:0>width$}"));
    }
    if upper == 'X' {
        // An int's two's complement when the value fits in 32 bits.
        let bits = if i32::try_from(v).is_ok() {
            u64::from(v as i32 as u32)
        } else {
            v as u64
        };
        let width = precision.unwrap_or(0);
        return Ok(if c == 'x' {
            format!("{bits:0width$x}")
        } else {
            format!("{bits:0width$X}")
        });
    }
    if upper == 'R' {
        return Err(FmtError::Invalid);
    }
    standard_number(Number::from_int(v), c, precision)
}

/// `ToString(format)` of a `double`.
pub(crate) fn format_float(v: f64, fmt: &str, cap: usize) -> Fmt<String> {
    if !v.is_finite() {
        // The symbols `double.ToString()` uses (see `core::format_double`).
        return Ok(format_double(v));
    }
    let Some((c, precision)) = standard(fmt)? else {
        check(fmt.len() * 2 + 400, cap)?;
        let mut n = Number::from_float_exact(v);
        n.cut_even(15);
        return Ok(custom(n, fmt));
    };
    check(precision.unwrap_or(0).saturating_add(400), cap)?;
    let p = precision.map(|p| p as i64);
    let mut n = Number::from_float_exact(v);
    match c.to_ascii_uppercase() {
        'G' if p.unwrap_or(0) == 0 => return Ok(format_double(v)),
        'R' => return Ok(format_double(v)),
        'G' => n.cut_even(p.unwrap_or(0)),
        'E' => n.cut_even(p.unwrap_or(6) + 1),
        'F' | 'N' | 'C' => n.cut_even(n.scale + p.unwrap_or(2)),
        'P' => n.cut_even(n.scale + p.unwrap_or(2) + 2),
        _ => return Err(FmtError::Invalid),
    }
    standard_number(n, c, precision)
}

/// .NET's `NumberToString` for the standard formats other than D, X, R.
fn standard_number(mut n: Number, c: char, precision: Option<usize>) -> Fmt<String> {
    let correct = n.float;
    let mut out = String::new();
    let digits = |default: usize| precision.unwrap_or(default);
    match c {
        'C' | 'c' => {
            let p = digits(2);
            n.round(n.scale + p as i64, correct);
            let body = fixed(&n, p, true);
            if n.negative {
                out = format!("(¤{body})")
            } else {
                out = format!("¤{body}")
            }
        }
        'F' | 'f' => {
            let p = digits(2);
            n.round(n.scale + p as i64, correct);
            if n.negative {
                out.push('-');
            }
            out.push_str(&fixed(&n, p, false));
        }
        'N' | 'n' => {
            let p = digits(2);
            n.round(n.scale + p as i64, correct);
            if n.negative {
                out.push('-');
            }
            out.push_str(&fixed(&n, p, true));
        }
        'E' | 'e' => {
            let p = digits(6) + 1;
            n.round(p as i64, correct);
            if n.negative {
                out.push('-');
            }
            out.push_str(&scientific(&n, p, c));
        }
        'G' | 'g' => {
            let p = match precision {
                Some(p) if p > 0 => p,
                _ => n.digits.len(),
            };
            n.round(p as i64, correct);
            if n.negative {
                out.push('-');
            }
            out.push_str(&general(&n, p, if c == 'G' { 'E' } else { 'e' }));
        }
        'P' | 'p' => {
            let p = digits(2);
            n.scale += 2;
            n.round(n.scale + p as i64, correct);
            let body = fixed(&n, p, true);
            out = if n.negative {
                format!("-{body} %")
            } else {
                format!("{body} %")
            };
        }
        _ => return Err(FmtError::Invalid),
    }
    Ok(out)
}

/// `ddd.ddd` with `decimals` digits after the point, groups of three if asked.
fn fixed(n: &Number, decimals: usize, group: bool) -> String {
    let mut int_part = String::new();
    let mut next = 0;
    if n.scale > 0 {
        let count = usize::try_from(n.scale).unwrap_or(0);
        for i in 0..count {
            int_part.push(n.digit(i).unwrap_or('0'));
        }
        next = count;
    } else {
        int_part.push('0');
    }
    let mut out = if group { grouped(&int_part) } else { int_part };
    if decimals > 0 {
        out.push('.');
        let mut left = decimals;
        if n.scale < 0 {
            let zeros = usize::try_from(-n.scale).unwrap_or(0).min(left);
            out.extend(std::iter::repeat_n('0', zeros));
            left -= zeros;
        }
        for i in 0..left {
            out.push(n.digit(next + i).unwrap_or('0'));
        }
    }
    out
}

/// Inserts `,` between groups of three digits.
fn grouped(int_part: &str) -> String {
    let len = int_part.len();
    let mut out = String::with_capacity(len + len / 3);
    for (i, c) in int_part.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(super) fn exponent(e: i64, exp_char: char, min_digits: usize, positive_sign: bool) -> String {
    let sign = if e < 0 {
        "-"
    } else if positive_sign {
        "+"
    } else {
        ""
    };
    format!("{exp_char}{sign}{:0min_digits$}", e.unsigned_abs())
}

fn scientific(n: &Number, digits: usize, exp_char: char) -> String {
    let mut out = String::new();
    out.push(n.digit(0).unwrap_or('0'));
    if digits != 1 {
        out.push('.');
    }
    for i in 1..digits {
        out.push(n.digit(i).unwrap_or('0'));
    }
    let e = if n.digits.is_empty() { 0 } else { n.scale - 1 };
    out.push_str(&exponent(e, exp_char, 3, true));
    out
}

fn general(n: &Number, max_digits: usize, exp_char: char) -> String {
    let mut pos = n.scale;
    let sci = pos > max_digits as i64 || pos < -3;
    if sci {
        pos = 1;
    }
    let mut out = String::new();
    let mut next = 0;
    if pos > 0 {
        while pos > 0 {
            out.push(n.digit(next).unwrap_or('0'));
            next += 1;
            pos -= 1;
        }
    } else {
        out.push('0');
    }
    if next < n.digits.len() || pos < 0 {
        out.push('.');
        while pos < 0 {
            out.push('0');
            pos += 1;
        }
        while let Some(d) = n.digit(next) {
            out.push(d);
            next += 1;
        }
    }
    if sci {
        out.push_str(&exponent(n.scale - 1, exp_char, 2, true));
    }
    out
}
