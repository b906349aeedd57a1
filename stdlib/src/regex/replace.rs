//! .NET replacement patterns: `$n`, `${name}`, `$$`, `$&`, `` $` ``, `$'`,
//! `$+`, `$_`. A reference to a group that does not exist stays literal.

use super::Match;
use super::results::group_by_name;
use crate::core::{RhaiResult, Ticker};

/// Appends the replacement `chars` (a pattern's chars, split once for
/// every match) for the match `m`; observes the wall-time budget, as a long
/// pattern over many matches may take long.
pub(crate) fn expand(chars: &[char], m: &Match, out: &mut String) -> RhaiResult<()> {
    let whole = m.whole();
    let end = m.start + whole.value.len();
    let mut ticker = Ticker::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        ticker.tick()?;
        i += 1;
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.get(i) {
            Some('$') => {
                out.push('$');
                i += 1;
            }
            Some('&') => {
                out.push_str(&whole.value);
                i += 1;
            }
            Some('`') => {
                out.push_str(m.input.get(..m.start).unwrap_or(""));
                i += 1;
            }
            Some('\'') => {
                out.push_str(m.input.get(end..).unwrap_or(""));
                i += 1;
            }
            Some('+') => {
                if let Some(g) = m.groups.iter().skip(1).last() {
                    out.push_str(&g.value);
                }
                i += 1;
            }
            Some('_') => {
                out.push_str(&m.input);
                i += 1;
            }
            Some('{') => {
                let close = chars
                    .get(i..)
                    .and_then(|r| r.iter().position(|&x| x == '}'));
                let name: Option<String> =
                    close.map(|n| chars.get(i + 1..i + n).unwrap_or_default().iter().collect());
                match (close, name) {
                    (Some(n), Some(name))
                        if group_by_name(&m.groups, &name).success
                            || m.groups.iter().any(|g| g.name.as_str() == name)
                            || name.parse::<usize>().is_ok_and(|k| k < m.groups.len()) =>
                    {
                        out.push_str(&group_by_name(&m.groups, &name).value);
                        i += n + 1;
                    }
                    _ => out.push('$'),
                }
            }
            Some(d) if d.is_ascii_digit() => {
                // The longest run of digits naming an existing group.
                let mut best: Option<(usize, usize)> = None;
                let mut n: usize = 0;
                let mut j = i;
                while let Some(x) = chars.get(j).and_then(|x| x.to_digit(10)) {
                    n = n.saturating_mul(10).saturating_add(x as usize);
                    j += 1;
                    if n < m.groups.len() {
                        best = Some((n, j));
                    }
                }
                match best {
                    Some((g, end)) => {
                        out.push_str(m.groups.get(g).map_or("", |x| x.value.as_str()));
                        i = end;
                    }
                    None => out.push('$'),
                }
            }
            _ => out.push('$'),
        }
    }
    Ok(())
}
