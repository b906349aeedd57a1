//! Checking policy elements against their schemas (`crate::schema`).
//!
//! - `mod.rs`: a policy statement: name, section, scope, once-rules, then its element
//! - `element.rs`: attributes, attribute rules and content models, recursively
//!
//! Every problem is reported; nothing stops at the first.

mod element;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diag::{Code, Diagnostic, Diagnostics, Severity, did_you_mean};
use crate::schema::{self, Once, PolicySchema, Scope, Section};
use crate::source::Source;
use crate::value::{NamedRef, NamedValues};
use crate::xml::Element;

/// Which policies `sluice run` executes, and how to report the others.
#[derive(Clone, Copy)]
pub struct Execution<'a> {
    pub executable: &'a dyn Fn(&str) -> bool,
    /// `Warning` for `check`, `Error` for loading a gateway.
    pub severity: Severity,
}

/// What a document is checked against.
pub struct Ctx<'a> {
    pub source: &'a Arc<Source>,
    pub named: &'a NamedValues,
    /// `None`: a standalone document whose scope is not known.
    pub scope: Option<Scope>,
    pub execution: Option<Execution<'a>>,
    /// Compiles expressions against the library; without it they are parsed and translated only.
    pub compiler: Option<&'a crate::script::Compiler<'a>>,
    pub diags: Diagnostics,
    /// `{{name}}` references without a value, for the one summary note.
    pub unresolved: Vec<NamedRef>,
    /// Policies seen per section, for once-per-section/document rules.
    seen_in_section: BTreeMap<&'static str, usize>,
    seen_in_document: BTreeMap<&'static str, usize>,
}

impl<'a> Ctx<'a> {
    pub fn new(source: &'a Arc<Source>, named: &'a NamedValues, scope: Option<Scope>) -> Self {
        Self {
            source,
            named,
            scope,
            execution: None,
            compiler: None,
            diags: Diagnostics::new(),
            unresolved: Vec::new(),
            seen_in_section: BTreeMap::new(),
            seen_in_document: BTreeMap::new(),
        }
    }

    pub(crate) fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub(crate) fn diag(
        &self,
        code: Code,
        span: crate::source::Span,
        msg: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(code, self.source, span, msg)
    }

    /// Starts a new section for the once-per-section rule.
    pub fn enter_section(&mut self) {
        self.seen_in_section.clear();
    }

    /// Checks one policy statement standing directly in `section` (or nested in
    /// a policy that holds statements). `top` is true for statements directly in
    /// the section, which is where once-rules count.
    pub fn statement(&mut self, e: &Element, section: Option<Section>, top: bool) {
        let Some(schema) = schema::lookup(&e.name) else {
            self.unknown_policy(e);
            return;
        };
        if let Some(section) = section
            && schema.tolerated.contains(section)
        {
            let allowed = list(schema.sections.iter().map(Section::tag));
            let d = self
                .diag(
                    Code::BeyondDocs,
                    e.name_span,
                    format!(
                        "`{}` in the `{}` section: APIM accepts it, but its docs list only {allowed}",
                        e.name,
                        section.tag()
                    ),
                )
                .with_help("see docs/decisions.md for what Sluice does with it there");
            self.diags.push(d);
        } else if let Some(section) = section
            && !schema.sections.contains(section)
        {
            let allowed = list(schema.sections.iter().map(Section::tag));
            let d = self
                .diag(
                    Code::PolicyNotAllowedInSection,
                    e.name_span,
                    format!(
                        "`{}` is not allowed in the `{}` section",
                        e.name,
                        section.tag()
                    ),
                )
                .with_help(format!("`{}` is allowed in: {allowed}", e.name));
            self.error(d);
        }
        if let Some(scope) = self.scope
            && !schema.scopes.contains(scope)
        {
            let allowed = list(schema.scopes.iter().map(Scope::name));
            let d = self
                .diag(
                    Code::PolicyNotAllowedInScope,
                    e.name_span,
                    format!("`{}` is not allowed at {} scope", e.name, scope.name()),
                )
                .with_help(format!("`{}` is allowed at: {allowed}", e.name));
            self.error(d);
        }
        if top {
            self.once_rules(e, schema);
        }
        if let Some(exec) = self.execution
            && !(exec.executable)(&e.name)
        {
            let d = self
                .diag(
                    Code::NotExecuted,
                    e.name_span,
                    format!(
                        "`{}` is valid APIM but `sluice run` does not execute it yet",
                        e.name
                    ),
                )
                .with_severity(exec.severity)
                .with_help("see the policy support table in the README");
            self.error(d);
        }
        self.element(
            e,
            schema.attrs,
            &schema.content,
            schema.rules,
            true,
            section,
        );
    }

    fn once_rules(&mut self, e: &Element, schema: &'static PolicySchema) {
        let (count, what) = match schema.once {
            Once::No => return,
            Once::PerSection => (
                self.seen_in_section.entry(schema.name).or_insert(0),
                "section",
            ),
            Once::PerDocument => (
                self.seen_in_document.entry(schema.name).or_insert(0),
                "policy document",
            ),
        };
        *count += 1;
        if *count > 1 {
            let d = self.diag(
                Code::PolicyRepeated,
                e.name_span,
                format!("`{}` may appear only once in a {what}", e.name),
            );
            self.error(d);
        }
    }

    fn unknown_policy(&mut self, e: &Element) {
        let names = schema::catalog().iter().map(|p| p.name).chain(["base"]);
        let mut d = self.diag(
            Code::UnknownPolicy,
            e.name_span,
            format!("unsupported policy `{}`", e.name),
        );
        d = match did_you_mean(&e.name, names) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => match Section::from_tag(&e.name) {
                Some(_) => d.with_help("sections stand directly under `<policies>`"),
                None => d.with_help("no APIM policy has this name"),
            },
        };
        self.error(d);
    }

    /// Reports text where only elements (sections or policies: `what`) may stand.
    pub fn only_elements(&mut self, e: &Element, what: &str) {
        if let Some(t) = e.stray_text() {
            let d = self
                .diag(
                    Code::UnexpectedText,
                    t.span,
                    format!("text inside `<{}>`, where only {what} may stand", e.name),
                )
                .with_help("remove it, or make it an XML comment");
            self.error(d);
        }
    }

    /// Finishes: one note for named values left in place.
    pub fn finish(mut self) -> Diagnostics {
        if let Some(first) = self.unresolved.first() {
            let mut names: Vec<&str> = self.unresolved.iter().map(|r| r.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            let d = Diagnostic::new(
                Code::UnresolvedNamedValues,
                self.source,
                first.span,
                format!("named values left in place: {}", list(names.into_iter())),
            )
            .with_help("pass `--named-value NAME=VALUE` to check the values they stand for");
            self.diags.push(d);
        }
        self.diags
    }
}

/// The span of `template="liquid"` on a `set-body` (or `template="Liquid"`
/// on the Dapr policies, whose content, or `<data>`, is then a template), if
/// it has one.
pub(crate) fn liquid_template(e: &Element) -> Option<crate::source::Span> {
    let a = e.attr("template")?;
    let v = a.value.value.trim();
    let liquid = match e.name.as_str() {
        "set-body" => v == "liquid",
        "publish-to-dapr" | "invoke-dapr-binding" => v.eq_ignore_ascii_case("liquid"),
        _ => false,
    };
    liquid.then_some(a.span)
}

/// `a`, `b` and `c` as "`a`, `b`, `c`".
pub(crate) fn list<'s>(items: impl Iterator<Item = &'s str>) -> String {
    items
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
