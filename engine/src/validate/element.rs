//! One element against its schema: attributes, attribute rules, content.

use super::{Ctx, list};
use crate::diag::{Code, did_you_mean};
use crate::schema::{self, AttrSchema, ChildSchema, Content, Rule, Section, ValueKind};
use crate::script::Step;
use crate::value::{NamedValues, Value, embedded_expression, resolve};
use crate::xml::{Attribute, Element, Node, Text};

impl Ctx<'_> {
    /// Checks `e` against `attrs`, `content` and `rules`. `is_policy`: the
    /// element is a policy statement (which also takes an `id` attribute).
    pub(super) fn element(
        &mut self,
        e: &Element,
        attrs: &[AttrSchema],
        content: &Content,
        rules: &[Rule],
        is_policy: bool,
        section: Option<Section>,
    ) {
        if super::liquid_template(e).is_some() {
            // A Liquid body: `{{...}}` is Liquid, not a named value; the
            // template itself is parsed when the stage compiles (`E0604`).
            return;
        }
        for a in &e.attrs {
            if is_policy && a.name == "id" {
                continue;
            }
            match attrs.iter().find(|s| s.name == a.name) {
                Some(s) => self.attribute(e, a, s),
                None => self.unknown_attribute(e, a, attrs),
            }
        }
        for s in attrs.iter().filter(|s| s.required) {
            if e.attr(s.name).is_none() {
                let d = self
                    .diag(
                        Code::MissingAttribute,
                        e.name_span,
                        format!(
                            "`<{}>` is missing the required attribute `{}`",
                            e.name, s.name
                        ),
                    )
                    .with_help(format!("add `{}=\"...\"`", s.name));
                self.error(d);
            }
        }
        for rule in rules {
            self.rule(e, rule);
        }
        self.content(e, content, section);
    }

    fn unknown_attribute(&mut self, e: &Element, a: &Attribute, attrs: &[AttrSchema]) {
        let mut d = self.diag(
            Code::UnknownAttribute,
            a.name_span,
            format!("unknown attribute `{}` on `<{}>`", a.name, e.name),
        );
        d = match did_you_mean(&a.name, attrs.iter().map(|s| s.name)) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None if attrs.is_empty() => d.with_help(format!("`<{}>` takes no attributes", e.name)),
            None => d.with_help(format!(
                "`<{}>` takes: {}",
                e.name,
                list(attrs.iter().map(|s| s.name))
            )),
        };
        self.error(d);
    }

    /// Resolves a value, recording named values that have none.
    fn value(&mut self, raw: &Text) -> Value {
        let (value, missing) = resolve(raw, self.named);
        for r in missing {
            if let NamedValues::Known(_) = self.named {
                let d = self
                    .diag(Code::UnknownNamedValue, r.span, format!("unknown named value `{}`", r.name))
                    .with_help("supply it with `--named-value NAME=VALUE` or in the `[named-values]` of the configuration");
                self.error(d);
            } else {
                self.unresolved.push(r);
            }
        }
        value
    }

    fn attribute(&mut self, e: &Element, a: &Attribute, s: &AttrSchema) {
        match self.value(&a.value) {
            Value::Unresolved(_) => {}
            v if v.is_expression() && !s.expr => {
                let d = self
                    .diag(
                        Code::ExpressionNotAllowed,
                        v.text().span,
                        format!(
                            "attribute `{}` of `<{}>` does not accept policy expressions",
                            a.name, e.name
                        ),
                    )
                    .with_help("the docs allow only a literal value here");
                self.error(d);
            }
            Value::Literal(t) => self.literal(e, a, s, &t),
            v @ (Value::Expression(_) | Value::Block(_)) => self.expression(&v),
        }
    }

    fn literal(&mut self, e: &Element, a: &Attribute, s: &AttrSchema, t: &Text) {
        let v = t.value.trim();
        let problem = match s.kind {
            ValueKind::Text => {
                self.mixed(t);
                None
            }
            ValueKind::Int { min, max } => match v.parse::<i64>() {
                Err(_) => Some((
                    format!("`{}` must be a whole number, not `{v}`", a.name),
                    None,
                )),
                Ok(n) if n < min || n > max => Some((
                    format!("`{}` must be {}, not {n}", a.name, range(min, max)),
                    None,
                )),
                Ok(_) => None,
            },
            ValueKind::Number { min, max } => match v.parse::<f64>() {
                Ok(n) if n.is_finite() && (min..=max).contains(&n) => None,
                Ok(_) => Some((
                    format!(
                        "`{}` must be a number from {min} to {max}, not `{v}`",
                        a.name
                    ),
                    None,
                )),
                Err(_) => Some((format!("`{}` must be a number, not `{v}`", a.name), None)),
            },
            ValueKind::Bool => {
                (!v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false")).then(|| {
                    (
                        format!("`{}` must be `true` or `false`, not `{v}`", a.name),
                        None,
                    )
                })
            }
            ValueKind::Enum(words) => (!words.contains(&v)).then(|| {
                let help =
                    did_you_mean(v, words.iter().copied()).map(|w| format!("did you mean `{w}`?"));
                (
                    format!(
                        "`{}` must be one of {}, not `{v}`",
                        a.name,
                        list(words.iter().copied())
                    ),
                    help,
                )
            }),
        };
        if let Some((msg, help)) = problem {
            let span = if t.span.is_empty() { a.span } else { t.span };
            let mut d = self.diag(
                Code::InvalidAttributeValue,
                span,
                format!("{msg} (on `<{}>`)", e.name),
            );
            if let Some(h) = help {
                d = d.with_help(h);
            }
            self.error(d);
        }
    }

    /// Parses, translates and (with a compiler) compiles an expression value;
    /// every problem is reported where it is in the policy file.
    fn expression(&mut self, v: &Value) {
        let errors = match self.compiler {
            Some(c) => c.compile_shared(v).err().unwrap_or_default(),
            None => crate::script::Compiler::translate(v)
                .err()
                .into_iter()
                .collect(),
        };
        for (stage, err) in errors {
            let code = match stage {
                Step::Syntax => Code::ExpressionSyntax,
                Step::Unsupported => Code::ExpressionUnsupported,
                Step::Compile => Code::ExpressionCompile,
            };
            let d = self.diag(code, err.span, err.message);
            self.error(d);
        }
    }

    /// Warns about literal text that holds an expression after its start.
    fn mixed(&mut self, t: &Text) {
        if let Some(at) = embedded_expression(t) {
            let d = self
                .diag(
                    Code::MixedExpression,
                    t.source_span(at, at + 2),
                    "this text mixes literal text with an expression, which APIM does not evaluate",
                )
                .with_help("make the whole value one expression, e.g. `@(\"Hello \" + ...)`");
            self.error(d);
        }
    }

    fn rule(&mut self, e: &Element, rule: &Rule) {
        let (names, given, ok, what): (&[&str], usize, bool, &str) = match *rule {
            Rule::ExactlyOneAttr(names) => {
                let n = names.iter().filter(|n| e.attr(n).is_some()).count();
                (names, n, n == 1, "exactly one of the attributes")
            }
            Rule::AtLeastOneAttr(names) => {
                let n = names.iter().filter(|n| e.attr(n).is_some()).count();
                (names, n, n >= 1, "at least one of the attributes")
            }
            Rule::AtMostOneAttr(names) => {
                let n = names.iter().filter(|n| e.attr(n).is_some()).count();
                (names, n, n <= 1, "at most one of the attributes")
            }
            Rule::AtLeastOneChild(names) => {
                let n = e
                    .elements()
                    .filter(|c| names.contains(&c.name.as_str()))
                    .count();
                (names, n, n >= 1, "at least one of the child elements")
            }
        };
        if !ok {
            let d = self
                .diag(
                    Code::AttributeCombination,
                    e.name_span,
                    format!(
                        "`<{}>` needs {what} {}",
                        e.name,
                        list(names.iter().copied())
                    ),
                )
                .with_help(format!("{given} given"));
            self.error(d);
        }
    }

    fn content(&mut self, e: &Element, content: &Content, section: Option<Section>) {
        match *content {
            Content::Empty => {
                for c in e.elements() {
                    let d = self.diag(
                        Code::UnexpectedChild,
                        c.name_span,
                        format!("`<{}>` takes no child elements", e.name),
                    );
                    self.error(d);
                }
                self.no_text(e);
            }
            Content::Text { expr, required } => {
                for c in e.elements() {
                    let d = self
                        .diag(
                            Code::UnexpectedChild,
                            c.name_span,
                            format!("`<{}>` takes text, not child elements", e.name),
                        )
                        .with_help(
                            "to use markup as text, escape it or wrap it in `<![CDATA[...]]>`",
                        );
                    self.error(d);
                }
                self.text_value(e, expr, required);
            }
            Content::Raw { expr } => {
                if !e.children.iter().any(|n| matches!(n, Node::Element(_))) {
                    self.text_value(e, expr, false);
                }
            }
            Content::Elements(children) => self.children(e, children, section),
            Content::Policies => self.statements(e, None, section),
            Content::PoliciesOf(names) => self.statements(e, Some(names), section),
            Content::Policy(name) => {
                if let Some(p) = schema::lookup(name) {
                    self.content(e, &p.content, section);
                }
            }
        }
    }

    fn no_text(&mut self, e: &Element) {
        if let Some(t) = e.stray_text() {
            let d = self.diag(
                Code::TextNotAllowed,
                t.span,
                format!("`<{}>` takes no text", e.name),
            );
            self.error(d);
        }
    }

    fn text_value(&mut self, e: &Element, expr: bool, required: bool) {
        let text = e.text();
        if text.value.trim().is_empty() {
            if required {
                let d = self.diag(
                    Code::TextNotAllowed,
                    e.name_span,
                    format!("`<{}>` needs a value", e.name),
                );
                self.error(d);
            }
            return;
        }
        match self.value(&text) {
            v if v.is_expression() && !expr => {
                let d = self
                    .diag(
                        Code::ExpressionNotAllowed,
                        v.text().span,
                        format!("`<{}>` does not accept policy expressions", e.name),
                    )
                    .with_help("the docs allow only a literal value here");
                self.error(d);
            }
            Value::Literal(t) => self.mixed(&t),
            v @ (Value::Expression(_) | Value::Block(_)) => self.expression(&v),
            Value::Unresolved(_) => {}
        }
    }

    /// Policy statements nested in a policy (the body of `when`, `retry`, `wait`...).
    fn statements(&mut self, e: &Element, only: Option<&[&str]>, section: Option<Section>) {
        self.only_elements(e, "policies");
        for c in e.elements() {
            if c.name == "base" {
                let d = self
                    .diag(
                        Code::UnexpectedChild,
                        c.name_span,
                        format!("`<base/>` cannot stand inside `<{}>`", e.name),
                    )
                    .with_help("`<base/>` stands directly in a section");
                self.error(d);
                continue;
            }
            if let Some(names) = only
                && !names.contains(&c.name.as_str())
            {
                let d = self
                    .diag(
                        Code::UnexpectedChild,
                        c.name_span,
                        format!("`<{}>` cannot contain `<{}>`", e.name, c.name),
                    )
                    .with_help(format!(
                        "`<{}>` may contain only {}",
                        e.name,
                        list(names.iter().copied())
                    ));
                self.error(d);
                continue;
            }
            self.statement(c, section, false);
        }
    }

    /// Child elements against an ordered list of child schemas.
    fn children(&mut self, e: &Element, schema: &[ChildSchema], section: Option<Section>) {
        self.no_text(e);
        let mut counts = vec![0u32; schema.len()];
        let mut at = 0;
        for c in e.elements() {
            let Some(j) = schema.iter().position(|s| s.name == c.name) else {
                let mut d = self.diag(
                    Code::UnexpectedChild,
                    c.name_span,
                    format!("`<{}>` has no child element `<{}>`", e.name, c.name),
                );
                d = match did_you_mean(&c.name, schema.iter().map(|s| s.name)) {
                    Some(s) => d.with_help(format!("did you mean `<{s}>`?")),
                    None if schema.is_empty() => {
                        d.with_help(format!("`<{}>` takes no child elements", e.name))
                    }
                    None => d.with_help(format!(
                        "`<{}>` takes: {}",
                        e.name,
                        list(schema.iter().map(|s| s.name))
                    )),
                };
                self.error(d);
                continue;
            };
            if j < at {
                let d = self
                    .diag(
                        Code::ChildOrder,
                        c.name_span,
                        format!(
                            "`<{}>` must come before `<{}>` in `<{}>`",
                            c.name, schema[at].name, e.name
                        ),
                    )
                    .with_help(format!(
                        "the order is: {}",
                        list(schema.iter().map(|s| s.name))
                    ));
                self.error(d);
            } else {
                at = j;
            }
            counts[j] += 1;
            let s = &schema[j];
            // A child that is a policy (e.g. `set-header` in `send-request`) takes that policy's schema.
            let (attrs, content, rules, is_policy) = match s.content {
                Content::Policy(name) => match schema::lookup(name) {
                    Some(p) => (p.attrs, p.content, p.rules, true),
                    None => (s.attrs, s.content, s.rules, false),
                },
                _ => (s.attrs, s.content, s.rules, false),
            };
            if s.max.is_some_and(|m| counts[j] > m) {
                let times = match s.max {
                    Some(1) => "once".to_owned(),
                    Some(m) => format!("{m} times"),
                    None => String::new(),
                };
                let d = self.diag(
                    Code::TooManyChildren,
                    c.name_span,
                    format!(
                        "`<{}>` may appear at most {times} in `<{}>`",
                        c.name, e.name
                    ),
                );
                self.error(d);
            }
            self.element(c, attrs, &content, rules, is_policy, section);
        }
        for (s, &n) in schema.iter().zip(&counts) {
            if n == 0 && s.docs_require {
                let d = self
                    .diag(
                        Code::BeyondDocs,
                        e.name_span,
                        format!(
                            "`<{}>` without `<{}>`: its docs require it, APIM accepts it without",
                            e.name, s.name
                        ),
                    )
                    .with_help(format!("add `<{}>` to follow the docs", s.name));
                self.error(d);
            }
            if n < s.min {
                let d = self
                    .diag(
                        Code::MissingChild,
                        e.name_span,
                        format!("`<{}>` needs a `<{}>` child element", e.name, s.name),
                    )
                    .with_help(match s.min {
                        1 => format!("add `<{}>`", s.name),
                        m => format!("at least {m} are required"),
                    });
                self.error(d);
            }
        }
    }
}

fn range(min: i64, max: i64) -> String {
    match (min, max) {
        (i64::MIN, m) => format!("at most {m}"),
        (m, i64::MAX) => format!("at least {m}"),
        (a, b) => format!("from {a} to {b}"),
    }
}
