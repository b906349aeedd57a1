//! Custom numeric format strings (`0.00`, `#,##0`, `0.###`, `0%`, `0.0E+00`,
//! sections `pos;neg;zero`, quoted literals), as .NET's `NumberToStringFormat`
//! applies them to a number's decimal digits.

use super::numfmt::{Number, exponent};

/// Start of section `section` (0 positive, 1 negative, 2 zero) of a custom
/// format; 0 when the format has no such (non-empty) section.
fn find_section(f: &[char], section: usize) -> usize {
    if section == 0 {
        return 0;
    }
    let mut left = section;
    let mut src = 0;
    while let Some(&ch) = f.get(src) {
        src += 1;
        match ch {
            '\'' | '"' => {
                while let Some(&c) = f.get(src) {
                    src += 1;
                    if c == ch {
                        break;
                    }
                }
            }
            '\\' if src < f.len() => src += 1,
            ';' => {
                left -= 1;
                if left == 0 {
                    return if f.get(src).is_some_and(|&c| c != ';') {
                        src
                    } else {
                        0
                    };
                }
            }
            _ => {}
        }
    }
    0
}

/// The shape of one section of a custom format.
struct Section {
    digit_count: i64,
    decimal_pos: i64,
    first_digit: i64,
    last_digit: i64,
    scientific: bool,
    thousand_seps: bool,
}

fn scan(f: &[char], start: usize) -> (Section, i64) {
    let mut s = Section {
        digit_count: 0,
        decimal_pos: -1,
        first_digit: i64::MAX,
        last_digit: 0,
        scientific: false,
        thousand_seps: false,
    };
    let (mut thousand_pos, mut thousand_count, mut scale_adjust) = (-1i64, 0i64, 0i64);
    let mut src = start;
    while let Some(&ch) = f.get(src) {
        src += 1;
        match ch {
            ';' => break,
            '#' => s.digit_count += 1,
            '0' => {
                if s.first_digit == i64::MAX {
                    s.first_digit = s.digit_count;
                }
                s.digit_count += 1;
                s.last_digit = s.digit_count;
            }
            '.' if s.decimal_pos < 0 => s.decimal_pos = s.digit_count,
            ',' if s.digit_count > 0 && s.decimal_pos < 0 => {
                if thousand_pos >= 0 {
                    if thousand_pos == s.digit_count {
                        thousand_count += 1;
                        continue;
                    }
                    s.thousand_seps = true;
                }
                thousand_pos = s.digit_count;
                thousand_count = 1;
            }
            '%' => scale_adjust += 2,
            '\u{2030}' => scale_adjust += 3,
            '\'' | '"' => {
                while let Some(&c) = f.get(src) {
                    src += 1;
                    if c == ch {
                        break;
                    }
                }
            }
            '\\' if src < f.len() => src += 1,
            'E' | 'e' => {
                let zero_next = f.get(src) == Some(&'0');
                let signed_zero =
                    matches!(f.get(src), Some('+' | '-')) && f.get(src + 1) == Some(&'0');
                if zero_next || signed_zero {
                    src += 1;
                    while f.get(src) == Some(&'0') {
                        src += 1;
                    }
                    s.scientific = true;
                }
            }
            _ => {}
        }
    }
    if s.decimal_pos < 0 {
        s.decimal_pos = s.digit_count;
    }
    if thousand_pos >= 0 {
        if thousand_pos == s.decimal_pos {
            scale_adjust -= thousand_count * 3;
        } else {
            s.thousand_seps = true;
        }
    }
    (s, scale_adjust)
}

/// .NET's `NumberToStringFormat`.
pub(super) fn custom(mut n: Number, fmt: &str) -> String {
    let f: Vec<char> = fmt.chars().collect();
    let mut section = find_section(
        &f,
        if n.digits.is_empty() {
            2
        } else if n.negative {
            1
        } else {
            0
        },
    );
    let sec = loop {
        let (sec, scale_adjust) = scan(&f, section);
        if n.digits.is_empty() {
            if !n.float {
                n.negative = false;
            }
            n.scale = 0;
        } else {
            n.scale += scale_adjust;
            let pos = if sec.scientific {
                sec.digit_count
            } else {
                n.scale + sec.digit_count - sec.decimal_pos
            };
            n.round(pos, false);
            if n.digits.is_empty() {
                let zero = find_section(&f, 2);
                if zero != section {
                    section = zero;
                    continue;
                }
            }
        }
        break sec;
    };
    let first_digit = if sec.first_digit < sec.decimal_pos {
        sec.decimal_pos - sec.first_digit
    } else {
        0
    };
    let last_digit = if sec.last_digit > sec.decimal_pos {
        sec.decimal_pos - sec.last_digit
    } else {
        0
    };
    let (mut dig_pos, mut adjust) = if sec.scientific {
        (sec.decimal_pos, 0)
    } else {
        (n.scale.max(sec.decimal_pos), n.scale - sec.decimal_pos)
    };
    // Positions (counted from the decimal point) after which a group separator goes.
    let mut seps: Vec<i64> = Vec::new();
    if sec.thousand_seps {
        let total = dig_pos + adjust.min(0);
        let count = first_digit.max(total);
        let mut at = 3;
        while count > at {
            seps.push(at);
            at += 3;
        }
    }
    let mut scientific = sec.scientific;
    let mut out = String::new();
    if n.negative && section == 0 && n.scale != 0 {
        out.push('-');
    }
    let mut cur = 0usize;
    let mut decimal_written = false;
    let mut src = section;
    let sep_after = |out: &mut String, dig_pos: i64, seps: &mut Vec<i64>| {
        if sec.thousand_seps && dig_pos > 1 && seps.last().is_some_and(|&p| dig_pos == p + 1) {
            out.push(',');
            seps.pop();
        }
    };
    while let Some(&ch) = f.get(src) {
        src += 1;
        if ch == ';' {
            break;
        }
        if adjust > 0 && matches!(ch, '#' | '0' | '.') {
            while adjust > 0 {
                match n.digit(cur) {
                    Some(d) => {
                        out.push(d);
                        cur += 1;
                    }
                    None => out.push('0'),
                }
                sep_after(&mut out, dig_pos, &mut seps);
                dig_pos -= 1;
                adjust -= 1;
            }
        }
        match ch {
            '#' | '0' => {
                let c = if adjust < 0 {
                    adjust += 1;
                    (dig_pos <= first_digit).then_some('0')
                } else if let Some(d) = n.digit(cur) {
                    cur += 1;
                    Some(d)
                } else {
                    (dig_pos > last_digit).then_some('0')
                };
                if let Some(c) = c {
                    out.push(c);
                    sep_after(&mut out, dig_pos, &mut seps);
                }
                dig_pos -= 1;
            }
            '.' => {
                if dig_pos == 0
                    && !decimal_written
                    && (last_digit < 0
                        || (sec.decimal_pos < sec.digit_count && cur < n.digits.len()))
                {
                    out.push('.');
                    decimal_written = true;
                }
            }
            '\u{2030}' | '%' => out.push(ch),
            ',' => {}
            '\'' | '"' => {
                while let Some(&c) = f.get(src) {
                    src += 1;
                    if c == ch {
                        break;
                    }
                    out.push(c);
                }
            }
            '\\' => {
                if let Some(&c) = f.get(src) {
                    out.push(c);
                    src += 1;
                }
            }
            'E' | 'e' => {
                let next = f.get(src).copied();
                let after = f.get(src + 1).copied();
                let sci_here = scientific
                    && (next == Some('0')
                        || (matches!(next, Some('+' | '-')) && after == Some('0')));
                if sci_here {
                    let positive_sign = next == Some('+');
                    let mut zeros = usize::from(next == Some('0'));
                    src += 1;
                    while f.get(src) == Some(&'0') {
                        zeros += 1;
                        src += 1;
                    }
                    let e = if n.digits.is_empty() {
                        0
                    } else {
                        n.scale - sec.decimal_pos
                    };
                    out.push_str(&exponent(e, ch, zeros.min(10), positive_sign));
                    scientific = false;
                } else {
                    out.push(ch);
                    if matches!(next, Some('+' | '-')) {
                        out.extend(next);
                        src += 1;
                    }
                    while f.get(src) == Some(&'0') {
                        out.push('0');
                        src += 1;
                    }
                }
            }
            other => out.push(other),
        }
    }
    if n.negative && section == 0 && n.scale == 0 && !out.is_empty() {
        out.insert(0, '-');
    }
    out
}
