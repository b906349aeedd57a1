//! XPath 1.0 expressions, as the XSLT subset uses them: parsed once when
//! the stylesheet loads, evaluated against the [`Tree`] of a body.
//!
//! Supported: location paths (absolute, relative, `//`, `.`, `..`, `@`,
//! the axes `child`, `attribute`, `self`, `parent`, `descendant`,
//! `descendant-or-self`, `ancestor`, `ancestor-or-self`,
//! `following-sibling`, `preceding-sibling`), node tests (names, `*`,
//! `node()`, `text()`, `comment()`), predicates (numbers are positions),
//! unions, `or`, `and`, comparisons, arithmetic, variables, string and
//! number literals, and the core functions listed in [`call`].

use super::tree::{Kind, NodeId, Tree};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Cmp(Cmp, Box<Expr>, Box<Expr>),
    Arith(char, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Union(Box<Expr>, Box<Expr>),
    Path(Path),
    /// A primary expression with predicates and a path after it (`$x/a`).
    Filter(Box<Expr>, Vec<Expr>, Option<Path>),
    Lit(String),
    Num(f64),
    Var(String),
    Call(String, Vec<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Path {
    pub absolute: bool,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Step {
    pub axis: Axis,
    pub test: Test,
    pub preds: Vec<Expr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Axis {
    Child,
    Attribute,
    Itself,
    Parent,
    Descendant,
    DescendantOrSelf,
    Ancestor,
    AncestorOrSelf,
    FollowingSibling,
    PrecedingSibling,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Test {
    Name(String),
    Any,
    Node,
    Text,
    Comment,
}

/// A value of an expression.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    Nodes(Vec<NodeId>),
    Str(String),
    Num(f64),
    Bool(bool),
}

/// What evaluating needs besides the context node.
pub(crate) struct Env<'a> {
    pub tree: &'a Tree,
    pub vars: &'a dyn Fn(&str) -> Option<Value>,
}

#[derive(Clone, Copy)]
pub(crate) struct Focus {
    pub node: NodeId,
    pub position: usize,
    pub size: usize,
}

// ---------------------------------------------------------------- parsing

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Name(String),
    Str(String),
    Num(f64),
    Var(String),
    Sym(&'static str),
}

fn tokens(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = b[i..b.len().min(i + 2)].iter().collect();
        if let Some(sym) = ["//", "..", "::", "!=", "<=", ">="]
            .into_iter()
            .find(|s| *s == two)
        {
            out.push(Tok::Sym(sym));
            i += 2;
            continue;
        }
        if let Some(sym) = [
            "/", ".", "@", "(", ")", "[", "]", "|", "=", "<", ">", "+", "-", "*", ",",
        ]
        .into_iter()
        .find(|s| s.starts_with(c))
        {
            // `.5` is a number.
            if c == '.' && b.get(i + 1).is_some_and(char::is_ascii_digit) {
            } else {
                out.push(Tok::Sym(sym));
                i += 1;
                continue;
            }
        }
        if c == '"' || c == '\'' {
            let end = b[i + 1..]
                .iter()
                .position(|&d| d == c)
                .ok_or("a string literal has no end")?;
            out.push(Tok::Str(b[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
            continue;
        }
        if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == '.') {
                i += 1;
            }
            let t: String = b[start..i].iter().collect();
            out.push(Tok::Num(
                t.parse().map_err(|_| format!("`{t}` is not a number"))?,
            ));
            continue;
        }
        let name_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':');
        if c == '$' {
            let start = i + 1;
            i += 1;
            while i < b.len() && name_char(b[i]) && !(b[i] == ':' && b.get(i + 1) == Some(&':')) {
                i += 1;
            }
            out.push(Tok::Var(b[start..i].iter().collect()));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && name_char(b[i]) {
                if b[i] == ':' && (b.get(i + 1) == Some(&':') || b.get(i + 1) == Some(&'*')) {
                    break;
                }
                i += 1;
            }
            out.push(Tok::Name(b[start..i].iter().collect()));
            continue;
        }
        return Err(format!("unexpected `{c}`"));
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

/// Parses an expression.
pub(crate) fn parse(s: &str) -> Result<Expr, String> {
    let mut p = Parser {
        toks: tokens(s)?,
        at: 0,
    };
    let e = p.or()?;
    if p.at != p.toks.len() {
        return Err(format!("unexpected `{:?}`", p.toks[p.at]));
    }
    Ok(e)
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn sym(&mut self, s: &str) -> bool {
        if self.peek() == Some(&Tok::Sym(leak(s))) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Name(n)) if n == w) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.word("or") {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.equality()?;
        while self.word("and") {
            e = Expr::And(Box::new(e), Box::new(self.equality()?));
        }
        Ok(e)
    }

    fn equality(&mut self) -> Result<Expr, String> {
        let mut e = self.relational()?;
        loop {
            let op = if self.sym("=") {
                Cmp::Eq
            } else if self.sym("!=") {
                Cmp::Ne
            } else {
                return Ok(e);
            };
            e = Expr::Cmp(op, Box::new(e), Box::new(self.relational()?));
        }
    }

    fn relational(&mut self) -> Result<Expr, String> {
        let mut e = self.additive()?;
        loop {
            let op = if self.sym("<") {
                Cmp::Lt
            } else if self.sym("<=") {
                Cmp::Le
            } else if self.sym(">") {
                Cmp::Gt
            } else if self.sym(">=") {
                Cmp::Ge
            } else {
                return Ok(e);
            };
            e = Expr::Cmp(op, Box::new(e), Box::new(self.additive()?));
        }
    }

    fn additive(&mut self) -> Result<Expr, String> {
        let mut e = self.multiplicative()?;
        loop {
            let op = if self.sym("+") {
                '+'
            } else if self.sym("-") {
                '-'
            } else {
                return Ok(e);
            };
            e = Expr::Arith(op, Box::new(e), Box::new(self.multiplicative()?));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, String> {
        let mut e = self.unary()?;
        loop {
            // `*` is multiplication only after an operand.
            let op = if self.sym("*") {
                '*'
            } else if self.word("div") {
                '/'
            } else if self.word("mod") {
                '%'
            } else {
                return Ok(e);
            };
            e = Expr::Arith(op, Box::new(e), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.sym("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        let mut e = self.path_expr()?;
        while self.sym("|") {
            e = Expr::Union(Box::new(e), Box::new(self.path_expr()?));
        }
        Ok(e)
    }

    fn path_expr(&mut self) -> Result<Expr, String> {
        let primary = match self.peek().cloned() {
            Some(Tok::Str(s)) => {
                self.at += 1;
                Some(Expr::Lit(s))
            }
            Some(Tok::Num(n)) => {
                self.at += 1;
                Some(Expr::Num(n))
            }
            Some(Tok::Var(v)) => {
                self.at += 1;
                Some(Expr::Var(v))
            }
            Some(Tok::Sym("(")) => {
                self.at += 1;
                let e = self.or()?;
                if !self.sym(")") {
                    return Err("`(` has no `)`".into());
                }
                Some(e)
            }
            Some(Tok::Name(n))
                if self.toks.get(self.at + 1) == Some(&Tok::Sym("("))
                    && !["node", "text", "comment", "processing-instruction"]
                        .contains(&n.as_str()) =>
            {
                self.at += 2;
                let mut args = Vec::new();
                if !self.sym(")") {
                    loop {
                        args.push(self.or()?);
                        if self.sym(")") {
                            break;
                        }
                        if !self.sym(",") {
                            return Err(format!("`{n}(` has no `)`"));
                        }
                    }
                }
                Some(Expr::Call(n, args))
            }
            _ => None,
        };
        let Some(primary) = primary else {
            return Ok(Expr::Path(self.location_path()?));
        };
        let mut preds = Vec::new();
        while self.sym("[") {
            preds.push(self.or()?);
            if !self.sym("]") {
                return Err("`[` has no `]`".into());
            }
        }
        let rest = if matches!(self.peek(), Some(Tok::Sym("/" | "//"))) {
            Some(self.location_path()?)
        } else {
            None
        };
        if preds.is_empty() && rest.is_none() {
            Ok(primary)
        } else {
            Ok(Expr::Filter(Box::new(primary), preds, rest))
        }
    }

    fn location_path(&mut self) -> Result<Path, String> {
        let mut steps = Vec::new();
        let mut absolute = false;
        if self.sym("/") {
            absolute = true;
            if !self.starts_step() {
                return Ok(Path { absolute, steps });
            }
        } else if self.sym("//") {
            absolute = true;
            steps.push(descendant_or_self());
        }
        steps.push(self.step()?);
        loop {
            if self.sym("/") {
                steps.push(self.step()?);
            } else if self.sym("//") {
                steps.push(descendant_or_self());
                steps.push(self.step()?);
            } else {
                return Ok(Path { absolute, steps });
            }
        }
    }

    fn starts_step(&self) -> bool {
        matches!(
            self.peek(),
            Some(Tok::Name(_) | Tok::Sym("." | ".." | "@" | "*"))
        )
    }

    fn step(&mut self) -> Result<Step, String> {
        if self.sym(".") {
            return Ok(Step {
                axis: Axis::Itself,
                test: Test::Node,
                preds: Vec::new(),
            });
        }
        if self.sym("..") {
            return Ok(Step {
                axis: Axis::Parent,
                test: Test::Node,
                preds: Vec::new(),
            });
        }
        let mut axis = Axis::Child;
        if self.sym("@") {
            axis = Axis::Attribute;
        } else if let Some(Tok::Name(n)) = self.peek().cloned()
            && self.toks.get(self.at + 1) == Some(&Tok::Sym("::"))
        {
            axis = match n.as_str() {
                "child" => Axis::Child,
                "attribute" => Axis::Attribute,
                "self" => Axis::Itself,
                "parent" => Axis::Parent,
                "descendant" => Axis::Descendant,
                "descendant-or-self" => Axis::DescendantOrSelf,
                "ancestor" => Axis::Ancestor,
                "ancestor-or-self" => Axis::AncestorOrSelf,
                "following-sibling" => Axis::FollowingSibling,
                "preceding-sibling" => Axis::PrecedingSibling,
                other => return Err(format!("the axis `{other}` is not supported")),
            };
            self.at += 2;
        }
        let test = match self.peek().cloned() {
            Some(Tok::Sym("*")) => {
                self.at += 1;
                Test::Any
            }
            Some(Tok::Name(n)) => {
                self.at += 1;
                if self.sym("(") {
                    if !self.sym(")") {
                        return Err(format!("`{n}()` takes nothing"));
                    }
                    match n.as_str() {
                        "node" => Test::Node,
                        "text" => Test::Text,
                        "comment" => Test::Comment,
                        other => return Err(format!("the node test `{other}()` is not supported")),
                    }
                } else {
                    Test::Name(n)
                }
            }
            other => return Err(format!("expected a step, found {other:?}")),
        };
        let mut preds = Vec::new();
        while self.sym("[") {
            preds.push(self.or()?);
            if !self.sym("]") {
                return Err("`[` has no `]`".into());
            }
        }
        Ok(Step { axis, test, preds })
    }
}

fn descendant_or_self() -> Step {
    Step {
        axis: Axis::DescendantOrSelf,
        test: Test::Node,
        preds: Vec::new(),
    }
}

/// The `&'static str` of a symbol the tokenizer makes.
fn leak(s: &str) -> &'static str {
    const ALL: [&str; 21] = [
        "//", "..", "::", "!=", "<=", ">=", "/", ".", "@", "(", ")", "[", "]", "|", "=", "<", ">",
        "+", "-", "*", ",",
    ];
    ALL.into_iter().find(|a| *a == s).unwrap_or("")
}

// ---------------------------------------------------------------- evaluation

impl Value {
    pub(crate) fn string(&self, tree: &Tree) -> String {
        match self {
            Value::Nodes(n) => n.first().map(|&n| tree.string_value(n)).unwrap_or_default(),
            Value::Str(s) => s.clone(),
            Value::Num(n) => number_string(*n),
            Value::Bool(b) => b.to_string(),
        }
    }

    pub(crate) fn boolean(&self) -> bool {
        match self {
            Value::Nodes(n) => !n.is_empty(),
            Value::Str(s) => !s.is_empty(),
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Bool(b) => *b,
        }
    }

    pub(crate) fn number(&self, tree: &Tree) -> f64 {
        match self {
            Value::Num(n) => *n,
            Value::Bool(b) => f64::from(u8::from(*b)),
            v => v.string(tree).trim().parse().unwrap_or(f64::NAN),
        }
    }
}

fn number_string(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

impl Expr {
    pub(crate) fn eval(&self, env: &Env<'_>, f: Focus) -> Result<Value, String> {
        let t = env.tree;
        Ok(match self {
            Expr::Or(a, b) => Value::Bool(a.eval(env, f)?.boolean() || b.eval(env, f)?.boolean()),
            Expr::And(a, b) => Value::Bool(a.eval(env, f)?.boolean() && b.eval(env, f)?.boolean()),
            Expr::Cmp(op, a, b) => Value::Bool(compare(*op, &a.eval(env, f)?, &b.eval(env, f)?, t)),
            Expr::Arith(op, a, b) => {
                let (x, y) = (a.eval(env, f)?.number(t), b.eval(env, f)?.number(t));
                Value::Num(match op {
                    '+' => x + y,
                    '-' => x - y,
                    '*' => x * y,
                    '/' => x / y,
                    _ => x % y,
                })
            }
            Expr::Neg(a) => Value::Num(-a.eval(env, f)?.number(t)),
            Expr::Union(a, b) => {
                let (Value::Nodes(mut x), Value::Nodes(y)) = (a.eval(env, f)?, b.eval(env, f)?)
                else {
                    return Err("`|` joins node-sets only".into());
                };
                x.extend(y);
                Value::Nodes(t.in_order(x))
            }
            Expr::Path(p) => Value::Nodes(p.select(env, vec![f.node])?),
            Expr::Filter(e, preds, rest) => {
                let Value::Nodes(mut nodes) = e.eval(env, f)? else {
                    return Err("a predicate or path applies to node-sets only".into());
                };
                for p in preds {
                    nodes = filter(env, nodes, p)?;
                }
                match rest {
                    Some(path) => Value::Nodes(path.steps_from(env, nodes)?),
                    None => Value::Nodes(nodes),
                }
            }
            Expr::Lit(s) => Value::Str(s.clone()),
            Expr::Num(n) => Value::Num(*n),
            Expr::Var(v) => {
                (env.vars)(v).ok_or_else(|| format!("the variable `${v}` is not defined"))?
            }
            Expr::Call(name, args) => call(name, args, env, f)?,
        })
    }
}

impl Path {
    pub(crate) fn select(&self, env: &Env<'_>, start: Vec<NodeId>) -> Result<Vec<NodeId>, String> {
        let start = if self.absolute { vec![0] } else { start };
        self.steps_from(env, start)
    }

    fn steps_from(&self, env: &Env<'_>, mut nodes: Vec<NodeId>) -> Result<Vec<NodeId>, String> {
        for step in &self.steps {
            let mut next = Vec::new();
            for &n in &nodes {
                let mut found: Vec<NodeId> = axis(env.tree, step.axis, n)
                    .into_iter()
                    .filter(|&m| test(env.tree, &step.test, step.axis, m))
                    .collect();
                for p in &step.preds {
                    found = filter(env, found, p)?;
                }
                next.extend(found);
            }
            nodes = env.tree.in_order(next);
        }
        Ok(nodes)
    }
}

fn filter(env: &Env<'_>, nodes: Vec<NodeId>, pred: &Expr) -> Result<Vec<NodeId>, String> {
    let size = nodes.len();
    let mut out = Vec::new();
    for (i, n) in nodes.into_iter().enumerate() {
        let f = Focus {
            node: n,
            position: i + 1,
            size,
        };
        let keep = match pred.eval(env, f)? {
            Value::Num(k) => k == (i + 1) as f64,
            v => v.boolean(),
        };
        if keep {
            out.push(n);
        }
    }
    Ok(out)
}

fn axis(t: &Tree, axis: Axis, n: NodeId) -> Vec<NodeId> {
    match axis {
        Axis::Child => t.node(n).children.clone(),
        Axis::Attribute => t.node(n).attrs.clone(),
        Axis::Itself => vec![n],
        Axis::Parent => t.node(n).parent.into_iter().collect(),
        Axis::Descendant => t.descendants(n),
        Axis::DescendantOrSelf => {
            let mut v = vec![n];
            v.extend(t.descendants(n));
            v
        }
        Axis::Ancestor | Axis::AncestorOrSelf => {
            let mut v = Vec::new();
            if axis == Axis::AncestorOrSelf {
                v.push(n);
            }
            let mut p = t.node(n).parent;
            while let Some(q) = p {
                v.push(q);
                p = t.node(q).parent;
            }
            v
        }
        Axis::FollowingSibling | Axis::PrecedingSibling => {
            let Some(p) = t.node(n).parent else {
                return Vec::new();
            };
            let sibs = &t.node(p).children;
            let Some(i) = sibs.iter().position(|&s| s == n) else {
                return Vec::new();
            };
            if axis == Axis::FollowingSibling {
                sibs[i + 1..].to_vec()
            } else {
                sibs[..i].to_vec()
            }
        }
    }
}

fn test(t: &Tree, test: &Test, axis: Axis, n: NodeId) -> bool {
    let kind = &t.node(n).kind;
    let principal_is_attr = axis == Axis::Attribute;
    match test {
        Test::Node => true,
        Test::Text => matches!(kind, Kind::Text(_)),
        Test::Comment => matches!(kind, Kind::Comment(_)),
        Test::Any => {
            if principal_is_attr {
                matches!(kind, Kind::Attr(..))
            } else {
                matches!(kind, Kind::Element(_))
            }
        }
        Test::Name(name) => match kind {
            Kind::Element(e) if !principal_is_attr => e == name,
            Kind::Attr(a, _) if principal_is_attr => a == name,
            _ => false,
        },
    }
}

fn compare(op: Cmp, a: &Value, b: &Value, t: &Tree) -> bool {
    // A node-set compares by each of its nodes' string values.
    let values = |v: &Value| -> Vec<Value> {
        match v {
            Value::Nodes(n) => n.iter().map(|&n| Value::Str(t.string_value(n))).collect(),
            v => vec![v.clone()],
        }
    };
    let (xs, ys) = (values(a), values(b));
    xs.iter().any(|x| {
        ys.iter().any(|y| match op {
            Cmp::Eq | Cmp::Ne => {
                let eq = match (x, y) {
                    (Value::Bool(_), _) | (_, Value::Bool(_)) => x.boolean() == y.boolean(),
                    (Value::Num(_), _) | (_, Value::Num(_)) => x.number(t) == y.number(t),
                    _ => x.string(t) == y.string(t),
                };
                eq == (op == Cmp::Eq)
            }
            Cmp::Lt => x.number(t) < y.number(t),
            Cmp::Le => x.number(t) <= y.number(t),
            Cmp::Gt => x.number(t) > y.number(t),
            Cmp::Ge => x.number(t) >= y.number(t),
        })
    })
}

/// The core functions: `last position count name local-name string concat
/// starts-with contains substring-before substring-after substring
/// string-length normalize-space translate not true false boolean number
/// sum floor ceiling round`.
fn call(name: &str, args: &[Expr], env: &Env<'_>, f: Focus) -> Result<Value, String> {
    let t = env.tree;
    let arg = |i: usize| -> Result<Value, String> {
        args.get(i)
            .ok_or_else(|| format!("`{name}()` needs more arguments"))?
            .eval(env, f)
    };
    let s = |i: usize| -> Result<String, String> { Ok(arg(i)?.string(t)) };
    let ctx_or = |i: usize| -> Result<String, String> {
        if args.len() > i {
            s(i)
        } else {
            Ok(t.string_value(f.node))
        }
    };
    let node_name = |local: bool| -> Result<Value, String> {
        let n = if args.is_empty() {
            Some(f.node)
        } else {
            match arg(0)? {
                Value::Nodes(n) => n.first().copied(),
                _ => return Err(format!("`{name}()` takes a node-set")),
            }
        };
        let full = n.map(|n| t.name(n)).unwrap_or_default();
        Ok(Value::Str(if local {
            full.rsplit(':').next().unwrap_or_default().to_owned()
        } else {
            full
        }))
    };
    Ok(match name {
        "last" => Value::Num(f.size as f64),
        "position" => Value::Num(f.position as f64),
        "count" => match arg(0)? {
            Value::Nodes(n) => Value::Num(n.len() as f64),
            _ => return Err("`count()` takes a node-set".into()),
        },
        "name" => node_name(false)?,
        "local-name" => node_name(true)?,
        "string" => Value::Str(ctx_or(0)?),
        "concat" => {
            let mut out = String::new();
            for i in 0..args.len() {
                out.push_str(&s(i)?);
            }
            Value::Str(out)
        }
        "starts-with" => Value::Bool(s(0)?.starts_with(&s(1)?)),
        "contains" => Value::Bool(s(0)?.contains(&s(1)?)),
        "substring-before" => {
            let (a, b) = (s(0)?, s(1)?);
            Value::Str(a.find(&b).map(|i| a[..i].to_owned()).unwrap_or_default())
        }
        "substring-after" => {
            let (a, b) = (s(0)?, s(1)?);
            Value::Str(
                a.find(&b)
                    .map(|i| a[i + b.len()..].to_owned())
                    .unwrap_or_default(),
            )
        }
        "substring" => {
            let chars: Vec<char> = s(0)?.chars().collect();
            let start = arg(1)?.number(t).round();
            let end = if args.len() > 2 {
                start + arg(2)?.number(t).round()
            } else {
                f64::INFINITY
            };
            Value::Str(
                chars
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| {
                        let p = (*i + 1) as f64;
                        p >= start && p < end
                    })
                    .map(|(_, c)| *c)
                    .collect(),
            )
        }
        "string-length" => Value::Num(ctx_or(0)?.chars().count() as f64),
        "normalize-space" => {
            Value::Str(ctx_or(0)?.split_whitespace().collect::<Vec<_>>().join(" "))
        }
        "translate" => {
            let (a, from, to) = (s(0)?, s(1)?, s(2)?);
            let (from, to): (Vec<char>, Vec<char>) = (from.chars().collect(), to.chars().collect());
            Value::Str(
                a.chars()
                    .filter_map(|c| match from.iter().position(|&x| x == c) {
                        Some(i) => to.get(i).copied(),
                        None => Some(c),
                    })
                    .collect(),
            )
        }
        "not" => Value::Bool(!arg(0)?.boolean()),
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "boolean" => Value::Bool(arg(0)?.boolean()),
        "number" => Value::Num(if args.is_empty() {
            Value::Str(t.string_value(f.node)).number(t)
        } else {
            arg(0)?.number(t)
        }),
        "sum" => match arg(0)? {
            Value::Nodes(n) => Value::Num(
                n.iter()
                    .map(|&n| Value::Str(t.string_value(n)).number(t))
                    .sum(),
            ),
            _ => return Err("`sum()` takes a node-set".into()),
        },
        "floor" => Value::Num(arg(0)?.number(t).floor()),
        "ceiling" => Value::Num(arg(0)?.number(t).ceil()),
        "round" => Value::Num(arg(0)?.number(t).round()),
        other => return Err(format!("the function `{other}()` is not supported")),
    })
}

/// The functions [`call`] knows, for checking a stylesheet when it loads.
pub(crate) const FUNCTIONS: &[&str] = &[
    "last",
    "position",
    "count",
    "name",
    "local-name",
    "string",
    "concat",
    "starts-with",
    "contains",
    "substring-before",
    "substring-after",
    "substring",
    "string-length",
    "normalize-space",
    "translate",
    "not",
    "true",
    "false",
    "boolean",
    "number",
    "sum",
    "floor",
    "ceiling",
    "round",
];

impl Expr {
    /// The first function this expression calls that is not supported.
    pub(crate) fn unknown_function(&self) -> Option<&str> {
        let mut found = None;
        self.walk(&mut |e| {
            if let Expr::Call(n, _) = e
                && found.is_none()
                && !FUNCTIONS.contains(&n.as_str())
            {
                found = Some(n.as_str());
            }
        });
        found
    }

    fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Or(a, b)
            | Expr::And(a, b)
            | Expr::Cmp(_, a, b)
            | Expr::Arith(_, a, b)
            | Expr::Union(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Neg(a) => a.walk(f),
            Expr::Filter(e, preds, rest) => {
                e.walk(f);
                preds.iter().for_each(|p| p.walk(f));
                if let Some(r) = rest {
                    r.walk(f);
                }
            }
            Expr::Path(p) => p.walk(f),
            Expr::Call(_, args) => args.iter().for_each(|a| a.walk(f)),
            Expr::Lit(_) | Expr::Num(_) | Expr::Var(_) => {}
        }
    }
}

impl Path {
    fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        for s in &self.steps {
            s.preds.iter().for_each(|p| p.walk(f));
        }
    }

    /// Whether `n` matches this path as an XSLT pattern: some node's
    /// selection with it holds `n`.
    pub(crate) fn matches(&self, env: &Env<'_>, n: NodeId) -> Result<bool, String> {
        let mut c = Some(n);
        while let Some(ctx) = c {
            if self.select(env, vec![ctx])?.contains(&n) {
                return Ok(true);
            }
            if self.absolute {
                return Ok(false);
            }
            c = env.tree.node(ctx).parent;
        }
        Ok(false)
    }
}
