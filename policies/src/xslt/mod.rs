//! A subset of XSLT 1.0 for `xsl-transform`: the stylesheet is compiled
//! when the policy loads (anything outside the subset is a load error
//! naming it), and run on the body's tree.
//!
//! - `tree.rs`: the body as the XPath data model
//! - `xpath.rs`: XPath 1.0 expressions and patterns
//! - `mod.rs`: the stylesheet (templates, instructions, output) and its run
//!
//! Supported: `xsl:stylesheet`/`xsl:transform` with `xsl:output` (`method`
//! `xml` or `text`, `indent`, `omit-xml-declaration`), `xsl:param` and
//! `xsl:variable` (top level and in templates), `xsl:template` (`match`,
//! `name`, `priority`), `xsl:strip-space`/`xsl:preserve-space` (accepted);
//! the instructions `apply-templates` (`select`), `call-template` with
//! `with-param`, `value-of`, `copy`, `copy-of`, `if`, `choose`/`when`/
//! `otherwise`, `for-each`, `attribute`, `element`, `text`, `comment`,
//! `variable`, and literal result elements with attribute value templates.
//! Not supported (a load error): modes, `xsl:sort`, `xsl:number`, keys,
//! `xsl:import`/`include`, `xsl:message`, extension functions.

mod tree;
mod xpath;

use std::fmt::Write as _;

use sluice_engine::xml::{Element, Node as XmlNode};

use tree::{Kind, NodeId, Tree};
use xpath::{Env, Expr, Focus, Path, Value};

/// How deep templates may call each other before the run is refused.
const MAX_DEPTH: usize = 200;

#[derive(Debug)]
enum Avt {
    Lit(String),
    Parts(Vec<AvtPart>),
}

#[derive(Debug)]
enum AvtPart {
    Lit(String),
    Expr(Expr),
}

#[derive(Debug)]
struct Param {
    name: String,
    select: Option<Expr>,
    body: Vec<Instr>,
}

#[derive(Debug)]
enum Instr {
    Literal {
        name: String,
        attrs: Vec<(String, Avt)>,
        body: Vec<Instr>,
    },
    Text(String),
    ValueOf(Expr),
    ApplyTemplates(Option<Expr>, Vec<Param>),
    CallTemplate(String, Vec<Param>),
    Copy(Vec<Instr>),
    CopyOf(Expr),
    If(Expr, Vec<Instr>),
    Choose(Vec<(Expr, Vec<Instr>)>, Vec<Instr>),
    ForEach(Expr, Vec<Instr>),
    Attribute(Avt, Vec<Instr>),
    Element(Avt, Vec<Instr>),
    Comment(Vec<Instr>),
    Variable(Param),
}

#[derive(Debug)]
struct Template {
    /// Each alternative of the `match` pattern, with its priority.
    patterns: Vec<(Path, f64)>,
    name: Option<String>,
    params: Vec<Param>,
    body: Vec<Instr>,
}

/// A compiled stylesheet.
#[derive(Debug)]
pub(crate) struct Stylesheet {
    templates: Vec<Template>,
    globals: Vec<Param>,
    text_output: bool,
    indent: bool,
    omit_declaration: bool,
}

/// A problem of the stylesheet, at an element of the policy.
pub(crate) struct LoadError<'e> {
    pub at: &'e Element,
    pub message: String,
}

type Load<'e, T> = Result<T, LoadError<'e>>;

fn err<T>(at: &Element, message: impl Into<String>) -> Load<'_, T> {
    Err(LoadError {
        at,
        message: message.into(),
    })
}

fn local(name: &str) -> Option<&str> {
    name.strip_prefix("xsl:")
}

fn attr<'e>(e: &'e Element, name: &str) -> Option<&'e str> {
    e.attr(name).map(|a| a.value.value.as_str())
}

fn expr<'e>(e: &'e Element, name: &str) -> Load<'e, Expr> {
    let Some(text) = attr(e, name) else {
        return err(e, format!("`<{}>` needs the attribute `{name}`", e.name));
    };
    parse_expr(e, text)
}

fn parse_expr<'e>(e: &'e Element, text: &str) -> Load<'e, Expr> {
    let x = xpath::parse(text).or_else(|m| err(e, format!("`{text}`: {m}")))?;
    if let Some(f) = x.unknown_function() {
        return err(
            e,
            format!("`{text}`: the function `{f}()` is not supported"),
        );
    }
    Ok(x)
}

fn avt<'e>(e: &'e Element, text: &str) -> Load<'e, Avt> {
    if !text.contains('{') {
        return Ok(Avt::Lit(text.replace("}}", "}")));
    }
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let inner: String = chars.by_ref().take_while(|&d| d != '}').collect();
                if !lit.is_empty() {
                    parts.push(AvtPart::Lit(std::mem::take(&mut lit)));
                }
                parts.push(AvtPart::Expr(parse_expr(e, &inner)?));
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        parts.push(AvtPart::Lit(lit));
    }
    Ok(Avt::Parts(parts))
}

fn param(e: &Element) -> Load<'_, Param> {
    let Some(name) = attr(e, "name") else {
        return err(e, format!("`<{}>` needs the attribute `name`", e.name));
    };
    Ok(Param {
        name: name.to_owned(),
        select: attr(e, "select").map(|s| parse_expr(e, s)).transpose()?,
        body: body(e)?,
    })
}

/// The default priority of a pattern alternative (XSLT 1.0 §5.5).
fn priority(p: &Path) -> f64 {
    match p.steps.as_slice() {
        [s] if !p.absolute && s.preds.is_empty() => match s.test {
            xpath::Test::Name(_) => 0.0,
            _ => -0.5,
        },
        _ => 0.5,
    }
}

fn alternatives(x: Expr, out: &mut Vec<Path>) -> Result<(), String> {
    match x {
        Expr::Union(a, b) => {
            alternatives(*a, out)?;
            alternatives(*b, out)
        }
        Expr::Path(p) => {
            out.push(p);
            Ok(())
        }
        _ => Err("a pattern is a location path or a union of them".into()),
    }
}

impl Stylesheet {
    /// Compiles `<xsl:stylesheet>`.
    pub(crate) fn compile(root: &Element) -> Load<'_, Stylesheet> {
        if !matches!(local(&root.name), Some("stylesheet" | "transform")) {
            return err(
                root,
                "the stylesheet must be `<xsl:stylesheet>` or `<xsl:transform>`",
            );
        }
        let mut s = Stylesheet {
            templates: Vec::new(),
            globals: Vec::new(),
            text_output: false,
            indent: false,
            omit_declaration: false,
        };
        for e in root.elements() {
            match local(&e.name) {
                Some("output") => {
                    s.text_output = attr(e, "method") == Some("text");
                    s.indent = attr(e, "indent") == Some("yes");
                    s.omit_declaration = attr(e, "omit-xml-declaration") == Some("yes");
                }
                Some("param" | "variable") => s.globals.push(param(e)?),
                Some("strip-space" | "preserve-space") => {}
                Some("template") => {
                    if e.attr("mode").is_some() {
                        return err(e, "template modes are not supported");
                    }
                    let mut patterns = Vec::new();
                    if let Some(m) = attr(e, "match") {
                        let x = parse_expr(e, m)?;
                        let mut alts = Vec::new();
                        alternatives(x, &mut alts).or_else(|m2| err(e, format!("`{m}`: {m2}")))?;
                        let explicit =
                            attr(e, "priority").and_then(|p| p.trim().parse::<f64>().ok());
                        patterns = alts
                            .into_iter()
                            .map(|p| {
                                let pr = explicit.unwrap_or_else(|| priority(&p));
                                (p, pr)
                            })
                            .collect();
                    }
                    let name = attr(e, "name").map(str::to_owned);
                    if patterns.is_empty() && name.is_none() {
                        return err(e, "`<xsl:template>` needs `match` or `name`");
                    }
                    let params = e
                        .elements()
                        .filter(|c| local(&c.name) == Some("param"))
                        .map(param)
                        .collect::<Result<_, _>>()?;
                    s.templates.push(Template {
                        patterns,
                        name,
                        params,
                        body: body_except(e, &["param"])?,
                    });
                }
                _ => {
                    return err(
                        e,
                        format!("`<{}>` is not supported in a stylesheet", e.name),
                    );
                }
            }
        }
        Ok(s)
    }
}

fn body(e: &Element) -> Load<'_, Vec<Instr>> {
    body_except(e, &[])
}

fn body_except<'e>(e: &'e Element, skip: &[&str]) -> Load<'e, Vec<Instr>> {
    let mut out = Vec::new();
    for n in &e.children {
        match n {
            XmlNode::Element(c) => {
                if local(&c.name).is_some_and(|l| skip.contains(&l)) {
                    continue;
                }
                out.push(instr(c)?);
            }
            XmlNode::Text(t) | XmlNode::CData(t) => {
                // White-space-only text in a stylesheet is stripped.
                if !t.value.trim().is_empty() {
                    out.push(Instr::Text(t.value.clone()));
                }
            }
            XmlNode::Comment(_) => {}
        }
    }
    Ok(out)
}

fn with_params(e: &Element) -> Load<'_, Vec<Param>> {
    let mut out = Vec::new();
    for c in e.elements() {
        match local(&c.name) {
            Some("with-param") => out.push(param(c)?),
            Some("sort") => return err(c, "`<xsl:sort>` is not supported"),
            _ => {
                return err(
                    c,
                    format!("`<{}>` is not allowed in `<{}>`", c.name, e.name),
                );
            }
        }
    }
    Ok(out)
}

fn instr(e: &Element) -> Load<'_, Instr> {
    let Some(l) = local(&e.name) else {
        let mut attrs = Vec::new();
        for a in &e.attrs {
            if a.name == "xmlns" || a.name.starts_with("xmlns:") {
                continue;
            }
            attrs.push((a.name.clone(), avt(e, &a.value.value)?));
        }
        return Ok(Instr::Literal {
            name: e.name.clone(),
            attrs,
            body: body(e)?,
        });
    };
    Ok(match l {
        "text" => Instr::Text(e.text().value),
        "value-of" => Instr::ValueOf(expr(e, "select")?),
        "apply-templates" => {
            if e.attr("mode").is_some() {
                return err(e, "template modes are not supported");
            }
            Instr::ApplyTemplates(
                attr(e, "select").map(|s| parse_expr(e, s)).transpose()?,
                with_params(e)?,
            )
        }
        "call-template" => {
            let Some(name) = attr(e, "name") else {
                return err(e, "`<xsl:call-template>` needs the attribute `name`");
            };
            Instr::CallTemplate(name.to_owned(), with_params(e)?)
        }
        "copy" => Instr::Copy(body(e)?),
        "copy-of" => Instr::CopyOf(expr(e, "select")?),
        "if" => Instr::If(expr(e, "test")?, body(e)?),
        "choose" => {
            let mut whens = Vec::new();
            let mut otherwise = Vec::new();
            for c in e.elements() {
                match local(&c.name) {
                    Some("when") => whens.push((expr(c, "test")?, body(c)?)),
                    Some("otherwise") => otherwise = body(c)?,
                    _ => {
                        return err(
                            c,
                            format!("`<{}>` is not allowed in `<xsl:choose>`", c.name),
                        );
                    }
                }
            }
            Instr::Choose(whens, otherwise)
        }
        "for-each" => {
            if let Some(s) = e.elements().find(|c| local(&c.name) == Some("sort")) {
                return err(s, "`<xsl:sort>` is not supported");
            }
            Instr::ForEach(expr(e, "select")?, body(e)?)
        }
        "attribute" | "element" => {
            let Some(name) = attr(e, "name") else {
                return err(e, format!("`<{}>` needs the attribute `name`", e.name));
            };
            let name = avt(e, name)?;
            if l == "attribute" {
                Instr::Attribute(name, body(e)?)
            } else {
                Instr::Element(name, body(e)?)
            }
        }
        "comment" => Instr::Comment(body(e)?),
        "variable" | "param" => Instr::Variable(param(e)?),
        other => return err(e, format!("`<xsl:{other}>` is not supported")),
    })
}

// ---------------------------------------------------------------- running

#[derive(Debug)]
enum Out {
    Elem {
        name: String,
        attrs: Vec<(String, String)>,
        children: Vec<Out>,
    },
    Text(String),
    Comment(String),
}

#[derive(Default)]
struct Sink {
    attrs: Vec<(String, String)>,
    children: Vec<Out>,
}

impl Sink {
    fn text(&mut self, s: String) {
        if s.is_empty() {
            return;
        }
        if let Some(Out::Text(t)) = self.children.last_mut() {
            t.push_str(&s);
        } else {
            self.children.push(Out::Text(s));
        }
    }

    fn attr(&mut self, name: String, value: String) {
        self.attrs.retain(|(n, _)| *n != name);
        self.attrs.push((name, value));
    }
}

struct Run<'s> {
    sheet: &'s Stylesheet,
    tree: Tree,
    vars: Vec<(String, Value)>,
    depth: usize,
}

impl Stylesheet {
    /// Transforms `input` (an XML document) with the top-level parameters
    /// `params`; the result as text.
    pub(crate) fn transform(
        &self,
        input: &str,
        params: &[(String, String)],
    ) -> Result<String, String> {
        let doc = crate::xml_tree::parse(input)?;
        let mut run = Run {
            sheet: self,
            tree: Tree::new(&doc),
            vars: Vec::new(),
            depth: 0,
        };
        let root = Focus {
            node: 0,
            position: 1,
            size: 1,
        };
        for g in &self.globals {
            let value = match params.iter().find(|(n, _)| *n == g.name) {
                Some((_, v)) => Value::Str(v.clone()),
                None => run.param_value(g, root)?,
            };
            run.vars.push((g.name.clone(), value));
        }
        let mut sink = Sink::default();
        run.apply(&[0], &[], &mut sink)?;
        Ok(self.serialize(&sink.children))
    }

    fn serialize(&self, out: &[Out]) -> String {
        let mut s = String::new();
        if self.text_output {
            text_of(out, &mut s);
            return s;
        }
        if !self.omit_declaration {
            s.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            if self.indent {
                s.push('\n');
            }
        }
        for o in out {
            write_out(o, self.indent, 0, &mut s);
        }
        s
    }
}

fn text_of(out: &[Out], s: &mut String) {
    for o in out {
        match o {
            Out::Text(t) => s.push_str(t),
            Out::Elem { children, .. } => text_of(children, s),
            Out::Comment(_) => {}
        }
    }
}

fn write_out(o: &Out, indent: bool, depth: usize, s: &mut String) {
    match o {
        Out::Text(t) => crate::xml_tree::escape_text(t, s),
        Out::Comment(c) => {
            let _ = write!(s, "<!--{c}-->");
        }
        Out::Elem {
            name,
            attrs,
            children,
        } => {
            s.push('<');
            s.push_str(name);
            for (n, v) in attrs {
                let _ = write!(s, " {n}=\"");
                crate::xml_tree::escape_attr(v, s);
                s.push('"');
            }
            if children.is_empty() {
                s.push_str(" />");
                return;
            }
            s.push('>');
            // Indented only when the content is elements alone (mixed
            // content keeps its text as it is).
            let elements_only = indent && children.iter().all(|c| !matches!(c, Out::Text(_)));
            for c in children {
                if elements_only {
                    s.push('\n');
                    s.push_str(&"  ".repeat(depth + 1));
                }
                write_out(c, indent, depth + 1, s);
            }
            if elements_only {
                s.push('\n');
                s.push_str(&"  ".repeat(depth));
            }
            let _ = write!(s, "</{name}>");
        }
    }
}

impl Run<'_> {
    fn eval(&self, e: &Expr, f: Focus) -> Result<Value, String> {
        let vars = |n: &str| {
            self.vars
                .iter()
                .rev()
                .find(|(v, _)| v == n)
                .map(|(_, x)| x.clone())
        };
        let env = Env {
            tree: &self.tree,
            vars: &vars,
        };
        e.eval(&env, f)
    }

    fn param_value(&mut self, p: &Param, f: Focus) -> Result<Value, String> {
        if let Some(s) = &p.select {
            return self.eval(s, f);
        }
        let mut sink = Sink::default();
        self.run(&p.body, f, &mut sink)?;
        let mut text = String::new();
        text_of(&sink.children, &mut text);
        Ok(Value::Str(text))
    }

    fn matches(&self, p: &Path, n: NodeId) -> Result<bool, String> {
        let vars = |_: &str| None;
        let env = Env {
            tree: &self.tree,
            vars: &vars,
        };
        p.matches(&env, n)
    }

    /// Applies the best template to each of `nodes`, or the built-in rules.
    fn apply(&mut self, nodes: &[NodeId], with: &[Param], sink: &mut Sink) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("templates are nested too deeply".into());
        }
        let size = nodes.len();
        for (i, &n) in nodes.iter().enumerate() {
            let f = Focus {
                node: n,
                position: i + 1,
                size,
            };
            let mut best: Option<(f64, usize)> = None;
            for (ti, t) in self.sheet.templates.iter().enumerate() {
                for (p, pr) in &t.patterns {
                    if best.is_some_and(|(b, _)| *pr < b) {
                        continue;
                    }
                    if self.matches(p, n)? {
                        best = Some((*pr, ti));
                    }
                }
            }
            match best {
                Some((_, ti)) => self.invoke(ti, with, f, sink)?,
                None => match &self.tree.node(n).kind {
                    Kind::Root | Kind::Element(_) => {
                        let children = self.tree.node(n).children.clone();
                        self.apply(&children, with, sink)?;
                    }
                    Kind::Text(t) | Kind::Attr(_, t) => sink.text(t.clone()),
                    Kind::Comment(_) => {}
                },
            }
        }
        self.depth -= 1;
        Ok(())
    }

    fn invoke(
        &mut self,
        ti: usize,
        with: &[Param],
        f: Focus,
        sink: &mut Sink,
    ) -> Result<(), String> {
        let sheet = self.sheet;
        let t = &sheet.templates[ti];
        let mark = self.vars.len();
        let mut values = Vec::new();
        for p in &t.params {
            let v = match with.iter().find(|w| w.name == p.name) {
                Some(w) => self.param_value(w, f)?,
                None => self.param_value(p, f)?,
            };
            values.push((p.name.clone(), v));
        }
        self.vars.extend(values);
        let r = self.run(&t.body, f, sink);
        self.vars.truncate(mark);
        r
    }

    fn run(&mut self, body: &[Instr], f: Focus, sink: &mut Sink) -> Result<(), String> {
        let mark = self.vars.len();
        let r = self.run_scoped(body, f, sink);
        self.vars.truncate(mark);
        r
    }

    fn avt(&self, a: &Avt, f: Focus) -> Result<String, String> {
        match a {
            Avt::Lit(s) => Ok(s.clone()),
            Avt::Parts(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        AvtPart::Lit(l) => s.push_str(l),
                        AvtPart::Expr(e) => s.push_str(&self.eval(e, f)?.string(&self.tree)),
                    }
                }
                Ok(s)
            }
        }
    }

    fn nodes(&self, e: &Expr, f: Focus) -> Result<Vec<NodeId>, String> {
        match self.eval(e, f)? {
            Value::Nodes(n) => Ok(n),
            _ => Err("the expression must select nodes".into()),
        }
    }

    fn run_scoped(&mut self, body: &[Instr], f: Focus, sink: &mut Sink) -> Result<(), String> {
        for i in body {
            match i {
                Instr::Literal { name, attrs, body } => {
                    let mut inner = Sink::default();
                    for (n, v) in attrs {
                        inner.attr(n.clone(), self.avt(v, f)?);
                    }
                    self.run(body, f, &mut inner)?;
                    sink.children.push(Out::Elem {
                        name: name.clone(),
                        attrs: inner.attrs,
                        children: inner.children,
                    });
                }
                Instr::Text(t) => sink.text(t.clone()),
                Instr::ValueOf(e) => {
                    let v = self.eval(e, f)?.string(&self.tree);
                    sink.text(v);
                }
                Instr::ApplyTemplates(select, with) => {
                    let nodes = match select {
                        Some(e) => self.nodes(e, f)?,
                        None => self.tree.node(f.node).children.clone(),
                    };
                    self.apply(&nodes, with, sink)?;
                }
                Instr::CallTemplate(name, with) => {
                    let sheet = self.sheet;
                    let Some(ti) = sheet
                        .templates
                        .iter()
                        .rposition(|t| t.name.as_deref() == Some(name))
                    else {
                        return Err(format!("no template is named `{name}`"));
                    };
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err("templates are nested too deeply".into());
                    }
                    self.invoke(ti, with, f, sink)?;
                    self.depth -= 1;
                }
                Instr::Copy(body) => match self.tree.node(f.node).kind.clone() {
                    Kind::Element(name) => {
                        let mut inner = Sink::default();
                        self.run(body, f, &mut inner)?;
                        sink.children.push(Out::Elem {
                            name,
                            attrs: inner.attrs,
                            children: inner.children,
                        });
                    }
                    Kind::Attr(n, v) => sink.attr(n, v),
                    Kind::Text(t) => sink.text(t),
                    Kind::Comment(c) => sink.children.push(Out::Comment(c)),
                    Kind::Root => self.run(body, f, sink)?,
                },
                Instr::CopyOf(e) => match self.eval(e, f)? {
                    Value::Nodes(nodes) => {
                        for n in nodes {
                            self.copy_node(n, sink);
                        }
                    }
                    v => sink.text(v.string(&self.tree)),
                },
                Instr::If(test, body) => {
                    if self.eval(test, f)?.boolean() {
                        self.run(body, f, sink)?;
                    }
                }
                Instr::Choose(whens, otherwise) => {
                    let mut done = false;
                    for (test, body) in whens {
                        if self.eval(test, f)?.boolean() {
                            self.run(body, f, sink)?;
                            done = true;
                            break;
                        }
                    }
                    if !done {
                        self.run(otherwise, f, sink)?;
                    }
                }
                Instr::ForEach(e, body) => {
                    let nodes = self.nodes(e, f)?;
                    let size = nodes.len();
                    for (i, n) in nodes.into_iter().enumerate() {
                        let g = Focus {
                            node: n,
                            position: i + 1,
                            size,
                        };
                        self.run(body, g, sink)?;
                    }
                }
                Instr::Attribute(name, body) => {
                    let name = self.avt(name, f)?;
                    let mut inner = Sink::default();
                    self.run(body, f, &mut inner)?;
                    let mut v = String::new();
                    text_of(&inner.children, &mut v);
                    sink.attr(name, v);
                }
                Instr::Element(name, body) => {
                    let name = self.avt(name, f)?;
                    let mut inner = Sink::default();
                    self.run(body, f, &mut inner)?;
                    sink.children.push(Out::Elem {
                        name,
                        attrs: inner.attrs,
                        children: inner.children,
                    });
                }
                Instr::Comment(body) => {
                    let mut inner = Sink::default();
                    self.run(body, f, &mut inner)?;
                    let mut v = String::new();
                    text_of(&inner.children, &mut v);
                    sink.children.push(Out::Comment(v));
                }
                Instr::Variable(p) => {
                    let v = self.param_value(p, f)?;
                    self.vars.push((p.name.clone(), v));
                }
            }
        }
        Ok(())
    }

    fn copy_node(&self, n: NodeId, sink: &mut Sink) {
        let node = self.tree.node(n);
        match &node.kind {
            Kind::Root => {
                for &c in &node.children {
                    self.copy_node(c, sink);
                }
            }
            Kind::Element(name) => {
                let mut inner = Sink::default();
                for &a in &node.attrs {
                    self.copy_node(a, &mut inner);
                }
                for &c in &node.children {
                    self.copy_node(c, &mut inner);
                }
                sink.children.push(Out::Elem {
                    name: name.clone(),
                    attrs: inner.attrs,
                    children: inner.children,
                });
            }
            Kind::Attr(a, v) => sink.attr(a.clone(), v.clone()),
            Kind::Text(t) => sink.text(t.clone()),
            Kind::Comment(c) => sink.children.push(Out::Comment(c.clone())),
        }
    }
}

#[cfg(test)]
mod tests;
