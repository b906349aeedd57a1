//! A JSON reader with Newtonsoft's leniency (comments, single-quoted strings,
//! unquoted property names, trailing commas) and its `JsonReaderException`
//! messages (`... Path 'a.b', line 1, position 7.`).

use indexmap::IndexMap;

use super::tree::{self, Kind, Link, MAX_DEPTH, Val};
use crate::core::{RhaiResult, Ticker, throw};

/// Newtonsoft's default `JsonReader.MaxDepth`.
const READER_MAX_DEPTH: usize = 64;

enum Step {
    Name(String),
    Index(usize),
}

struct Reader<'a> {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    line_start: usize,
    path: Vec<Step>,
    _src: &'a str,
    /// A large body is parsed within the expression's wall-time budget.
    ticker: Ticker,
}

/// What `Parse` was called on: decides the "Error reading X" messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    Token,
    Object,
    Array,
}

/// Parses one JSON value and checks nothing but whitespace and comments follows.
pub(crate) fn parse(src: &str, want: Want) -> RhaiResult<Link> {
    let mut r = Reader {
        chars: src.chars().collect(),
        pos: 0,
        line: 1,
        line_start: 0,
        path: Vec::new(),
        _src: src,
        ticker: Ticker::new(),
    };
    r.skip_ws()?;
    let Some(c) = r.peek() else {
        let what = match want {
            Want::Token => "JToken",
            Want::Object => "JObject",
            Want::Array => "JArray",
        };
        return r.fail_at(&format!("Error reading {what} from JsonReader."), 0, 0);
    };
    match (want, c) {
        (Want::Object, '{') | (Want::Array, '[') | (Want::Token, _) => {}
        (Want::Object, _) | (Want::Array, _) => {
            let (what, article) = if want == Want::Object {
                ("JObject", "an object")
            } else {
                ("JArray", "an array")
            };
            let token = match c {
                '{' => "StartObject",
                '[' => "StartArray",
                '"' | '\'' => "String",
                't' | 'f' => "Boolean",
                'n' => "Null",
                c if c == '-' || c.is_ascii_digit() => {
                    if r.number_text().contains(['.', 'e', 'E']) {
                        "Float"
                    } else {
                        "Integer"
                    }
                }
                _ => return r.unexpected_value(c),
            };
            r.pos += 1;
            return r.fail(&format!("Error reading {what} from JsonReader. Current JsonReader item is not {article}: {token}."));
        }
    }
    let v = r.value(0)?;
    r.skip_ws()?;
    if let Some(c) = r.peek() {
        r.pos += 1;
        return r.fail(&format!(
            "Additional text encountered after finished reading JSON content: {c}."
        ));
    }
    Ok(v)
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn path_string(&self) -> String {
        let mut out = String::new();
        for s in &self.path {
            match s {
                Step::Name(n) => tree::push_name(&mut out, n),
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    fn fail<T>(&self, msg: &str) -> RhaiResult<T> {
        self.fail_at(msg, self.line, self.pos.saturating_sub(self.line_start))
    }

    fn fail_at<T>(&self, msg: &str, line: usize, col: usize) -> RhaiResult<T> {
        throw(
            "JsonReaderException",
            format!(
                "{msg} Path '{}', line {line}, position {col}.",
                self.path_string()
            ),
        )
    }

    fn unexpected_value<T>(&mut self, c: char) -> RhaiResult<T> {
        if self.pos == 0 {
            return self.fail_at(
                &format!("Unexpected character encountered while parsing value: {c}."),
                0,
                0,
            );
        }
        self.pos += 1;
        self.fail(&format!(
            "Unexpected character encountered while parsing value: {c}."
        ))
    }

    fn eof<T>(&self) -> RhaiResult<T> {
        self.fail("Unexpected end when reading JSON.")
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.line_start = self.pos;
        }
        Some(c)
    }

    /// Skips whitespace and `//` / `/* */` comments.
    fn skip_ws(&mut self) -> RhaiResult<()> {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('/') => match self.chars.get(self.pos + 1) {
                    Some('/') => {
                        while let Some(c) = self.bump() {
                            if c == '\n' {
                                break;
                            }
                        }
                    }
                    Some('*') => {
                        self.pos += 2;
                        loop {
                            match self.bump() {
                                None => return self.fail("Unexpected end while parsing comment."),
                                Some('*') if self.peek() == Some('/') => {
                                    self.pos += 1;
                                    break;
                                }
                                Some(_) => {}
                            }
                        }
                    }
                    _ => {
                        self.pos += 1;
                        return self.fail("Error parsing comment. Expected: *, got /.");
                    }
                },
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> RhaiResult<Link> {
        self.ticker.tick()?;
        self.skip_ws()?;
        let Some(c) = self.peek() else {
            return self.eof();
        };
        match c {
            '{' | '[' if depth >= READER_MAX_DEPTH.min(MAX_DEPTH) => {
                self.pos += 1;
                self.fail(&format!(
                    "The reader's MaxDepth of {READER_MAX_DEPTH} has been exceeded."
                ))
            }
            '{' => self.object(depth),
            '[' => self.array(depth),
            '"' | '\'' => Ok(tree::value(Val::Str(self.string(c)?))),
            't' => self.literal("true", Val::Bool(true), "Error parsing boolean value."),
            'f' => self.literal("false", Val::Bool(false), "Error parsing boolean value."),
            'n' => self.literal("null", Val::Null, "Error parsing null value."),
            'N' => self.literal("NaN", Val::Float(f64::NAN), "Cannot read NaN value."),
            'I' => self.literal(
                "Infinity",
                Val::Float(f64::INFINITY),
                "Cannot read Infinity value.",
            ),
            c if c == '-' || c.is_ascii_digit() || c == '.' => {
                if c == '-' && self.chars.get(self.pos + 1) == Some(&'I') {
                    self.pos += 1;
                    return self.literal(
                        "Infinity",
                        Val::Float(f64::NEG_INFINITY),
                        "Cannot read -Infinity value.",
                    );
                }
                self.number()
            }
            c => self.unexpected_value(c),
        }
    }

    fn literal(&mut self, word: &str, v: Val, err: &str) -> RhaiResult<Link> {
        for expected in word.chars() {
            if self.peek() != Some(expected) {
                self.pos += 1;
                return self.fail(err);
            }
            self.pos += 1;
        }
        if self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
            return self.fail(err);
        }
        Ok(tree::value(v))
    }

    fn number_text(&self) -> String {
        self.chars
            .get(self.pos..)
            .unwrap_or(&[])
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
            .collect()
    }

    fn number(&mut self) -> RhaiResult<Link> {
        let text = self.number_text();
        self.pos += text.chars().count();
        let float = text.contains(['.', 'e', 'E']);
        if !float && let Ok(n) = text.parse::<i64>() {
            return Ok(tree::value(Val::Int(n)));
        }
        let valid = text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
            && !text.ends_with(['e', 'E', '+', '-']);
        match text.parse::<f64>() {
            Ok(f) if valid => Ok(tree::value(Val::Float(f))),
            _ => self.fail(&format!("Input string '{text}' is not a valid number.")),
        }
    }

    fn string(&mut self, quote: char) -> RhaiResult<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.bump() else {
                return self.fail(&format!(
                    "Unterminated string. Expected delimiter: {quote}."
                ));
            };
            match c {
                c if c == quote => return Ok(out),
                '\\' => {
                    let Some(e) = self.bump() else {
                        return self.fail(&format!(
                            "Unterminated string. Expected delimiter: {quote}."
                        ));
                    };
                    match e {
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi)
                                && self.peek() == Some('\\')
                                && self.chars.get(self.pos + 1) == Some(&'u')
                            {
                                self.pos += 2;
                                let lo = self.hex4()?;
                                let c = 0x10000
                                    + ((hi - 0xD800) << 10)
                                    + (lo.wrapping_sub(0xDC00) & 0x3FF);
                                out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
                            } else {
                                out.push(char::from_u32(hi).unwrap_or('\u{FFFD}'));
                            }
                        }
                        '"' | '\'' | '\\' | '/' => out.push(e),
                        other => {
                            return self.fail(&format!("Bad JSON escape sequence: \\{other}."));
                        }
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> RhaiResult<u32> {
        let digits: String = self.chars.iter().skip(self.pos).take(4).collect();
        match u32::from_str_radix(&digits, 16) {
            Ok(n) if digits.len() == 4 => {
                self.pos += 4;
                Ok(n)
            }
            _ => self.fail(&format!("Invalid Unicode escape sequence: \\u{digits}.")),
        }
    }

    fn property_name(&mut self) -> RhaiResult<String> {
        match self.peek() {
            Some(q @ ('"' | '\'')) => self.string(q),
            Some(c) if c.is_alphanumeric() || c == '_' || c == '$' => {
                let mut name = String::new();
                while let Some(c) = self
                    .peek()
                    .filter(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
                {
                    name.push(c);
                    self.pos += 1;
                }
                Ok(name)
            }
            Some(c) => {
                self.pos += 1;
                self.fail(&format!("Invalid property identifier character: {c}."))
            }
            None => self.eof(),
        }
    }

    fn object(&mut self, depth: usize) -> RhaiResult<Link> {
        self.pos += 1;
        let obj = tree::object();
        let mut props: IndexMap<String, Link> = IndexMap::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                None => return self.eof(),
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => {}
            }
            let name = self.property_name()?;
            self.skip_ws()?;
            match self.peek() {
                Some(':') => self.pos += 1,
                Some(c) => {
                    self.pos += 1;
                    return self.fail(&format!(
                        "Invalid character after parsing property name. Expected ':' but got: {c}."
                    ));
                }
                None => return self.eof(),
            }
            self.path.push(Step::Name(name.clone()));
            let v = self.value(depth + 1)?;
            match props.get(&name) {
                Some(existing) => tree::set_prop_value(existing, v)?,
                None => {
                    let p = tree::property(name.clone(), v);
                    tree::write(&p).parent = std::sync::Arc::downgrade(&obj);
                    props.insert(name, p);
                }
            }
            self.skip_ws()?;
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {
                    self.path.pop();
                    self.pos += 1;
                    break;
                }
                Some(c) => {
                    self.pos += 1;
                    return self.fail(&format!(
                        "After parsing a value an unexpected character was encountered: {c}."
                    ));
                }
                None => return self.eof(),
            }
            self.path.pop();
        }
        tree::write(&obj).kind = Kind::Object(props);
        Ok(obj)
    }

    fn array(&mut self, depth: usize) -> RhaiResult<Link> {
        self.pos += 1;
        let arr = tree::array();
        let mut items = Vec::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                None => return self.eof(),
                Some(']') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => {}
            }
            self.path.push(Step::Index(items.len()));
            let v = self.value(depth + 1)?;
            tree::write(&v).parent = std::sync::Arc::downgrade(&arr);
            items.push(v);
            self.skip_ws()?;
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.path.pop();
                    self.pos += 1;
                    break;
                }
                Some(c) => {
                    self.pos += 1;
                    return self.fail(&format!(
                        "After parsing a value an unexpected character was encountered: {c}."
                    ));
                }
                None => return self.eof(),
            }
            self.path.pop();
        }
        tree::write(&arr).kind = Kind::Array(items);
        Ok(arr)
    }
}
