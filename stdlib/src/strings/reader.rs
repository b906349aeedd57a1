//! `System.IO.StringReader` (on APIM's allowed list): reading a string by
//! character or line. Shared state, as a .NET reader is a reference.

use std::sync::{Arc, Mutex};

use rhai::{Dynamic, Engine, INT, ImmutableString};

#[derive(Clone, Debug, Default)]
pub struct StringReader(Arc<Mutex<(Vec<char>, usize)>>);

impl StringReader {
    fn with<T>(&self, f: impl FnOnce(&mut (Vec<char>, usize)) -> T) -> T {
        match self.0.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }
}

pub(super) fn register(e: &mut Engine) {
    e.register_type_with_name::<StringReader>("StringReader")
        .register_fn("StringReader__new", |s: ImmutableString| {
            StringReader(Arc::new(Mutex::new((s.chars().collect(), 0))))
        })
        .register_fn("ReadToEnd", |r: &mut StringReader| {
            r.with(|(chars, pos)| {
                let rest: String = chars.get(*pos..).unwrap_or_default().iter().collect();
                *pos = chars.len();
                rest
            })
        })
        .register_fn("ReadLine", |r: &mut StringReader| -> Dynamic {
            r.with(|(chars, pos)| {
                if *pos >= chars.len() {
                    return Dynamic::UNIT;
                }
                let mut line = String::new();
                while let Some(&c) = chars.get(*pos) {
                    *pos += 1;
                    match c {
                        '\n' => break,
                        '\r' => {
                            if chars.get(*pos) == Some(&'\n') {
                                *pos += 1;
                            }
                            break;
                        }
                        c => line.push(c),
                    }
                }
                line.into()
            })
        })
        .register_fn("Read", |r: &mut StringReader| -> INT {
            r.with(|(chars, pos)| match chars.get(*pos) {
                Some(&c) => {
                    *pos += 1;
                    INT::from(u32::from(c))
                }
                None => -1,
            })
        })
        .register_fn("Peek", |r: &mut StringReader| -> INT {
            r.with(|(chars, pos)| chars.get(*pos).map_or(-1, |&c| INT::from(u32::from(c))))
        })
        .register_fn("Dispose", |_: &mut StringReader| {})
        .register_fn("Close", |_: &mut StringReader| {});
}

#[cfg(test)]
mod tests {
    fn eval(src: &str) -> String {
        crate::engine(&crate::Limits::default())
            .eval::<rhai::Dynamic>(src)
            .map(|v| v.to_string())
            .unwrap_or_else(|e| format!("!{e}"))
    }

    #[test]
    fn reads_lines_and_the_rest() {
        assert_eq!(
            eval(
                r#"let r = StringReader__new("a\r\nb\nc"); r.ReadLine() + "|" + r.ReadLine() + "|" + r.ReadToEnd()"#
            ),
            "a|b|c"
        );
        assert_eq!(
            eval(r#"let r = StringReader__new("x"); r.Read(); r.Peek()"#),
            "-1"
        );
    }
}
