//! The document model: a policy document as sections of statements.
//!
//! - `mod.rs`: [`PolicyDocument`] and [`load`], which parses, checks the
//!   shape (root, sections, `<base/>`, fragments) and validates every policy
//!
//! Values (named-value substitution, literal or expression) are
//! [`crate::value`]'s.
//!
//! Statements keep their raw [`Element`]s (with spans); the plan compiler
//! reads them with the schema that validation already checked them against.
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diag::{Code, Diagnostics, did_you_mean};
use crate::schema::{Scope, Section};
use crate::source::{Source, Span};
use crate::validate::{Ctx, Execution};
use crate::value::NamedValues;
use crate::xml::{Element, Limits, parse};

/// A policy definition (`<policies>`) or a fragment (`<fragment>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocKind {
    Policies,
    Fragment,
}

impl DocKind {
    pub const fn root(self) -> &'static str {
        match self {
            DocKind::Policies => "policies",
            DocKind::Fragment => "fragment",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Statement {
    /// `<base/>`: the parent scope's same section goes here.
    Base(Span),
    /// A policy element, validated against its schema.
    Policy(Element),
}

#[derive(Clone, Debug)]
pub struct SectionBody {
    pub section: Section,
    pub span: Span,
    pub statements: Vec<Statement>,
}

#[derive(Clone, Debug)]
pub struct PolicyDocument {
    pub source: Arc<Source>,
    pub kind: DocKind,
    /// For `<policies>`: the sections present, in document order.
    pub sections: Vec<SectionBody>,
    /// For `<fragment>`: its policies.
    pub body: Vec<Statement>,
}

impl PolicyDocument {
    pub fn section(&self, s: Section) -> Option<&SectionBody> {
        self.sections.iter().find(|b| b.section == s)
    }
}

/// Fragments by id.
pub type Fragments = BTreeMap<String, PolicyDocument>;

/// How to load a document.
#[derive(Clone, Copy, Default)]
pub struct LoadOptions<'a> {
    pub limits: Limits,
    pub named: Option<&'a NamedValues>,
    /// The scope the document is attached to, when known.
    pub scope: Option<Scope>,
    /// The root the document must have; `None` accepts either.
    pub expect: Option<DocKind>,
    /// Report policies that `sluice run` does not execute.
    pub execution: Option<Execution<'a>>,
    /// Fragments that `include-fragment` may name; `None`: not known (standalone check).
    pub fragments: Option<&'a Fragments>,
    /// Compiles expressions against the .NET library; `None`: parse and translate only.
    pub compiler: Option<&'a crate::script::Compiler<'a>>,
}

/// Parses and validates one document. The document is returned whenever its
/// root could be read, even with errors, so that callers can report more.
pub fn load(source: &Arc<Source>, opts: &LoadOptions<'_>) -> (Option<PolicyDocument>, Diagnostics) {
    let (root, mut diags) = parse(source, &opts.limits);
    let Some(root) = root else {
        return (None, diags);
    };
    let unknown = NamedValues::Unknown;
    let mut ctx = Ctx::new(source, opts.named.unwrap_or(&unknown), opts.scope);
    ctx.execution = opts.execution;
    ctx.compiler = opts.compiler;
    let kind = match root.name.as_str() {
        "policies" => DocKind::Policies,
        "fragment" => DocKind::Fragment,
        other => {
            let mut d = ctx.diag(
                Code::BadRoot,
                root.name_span,
                format!("`<{other}>` is not a policy document root"),
            );
            d = match did_you_mean(other, ["policies", "fragment"]) {
                Some(s) => d.with_help(format!("did you mean `<{s}>`?")),
                None => d.with_help("a policy document is `<policies>...</policies>`; a fragment is `<fragment>...</fragment>`"),
            };
            ctx.error(d);
            diags.extend(ctx.finish());
            return (None, diags);
        }
    };
    if let Some(expected) = opts.expect.filter(|&k| k != kind) {
        let d = ctx.diag(
            Code::BadRoot,
            root.name_span,
            format!(
                "expected a `<{}>` document here, found `<{}>`",
                expected.root(),
                kind.root()
            ),
        );
        ctx.error(d);
    }
    no_attributes(&mut ctx, &root);
    let mut doc = PolicyDocument {
        source: Arc::clone(source),
        kind,
        sections: Vec::new(),
        body: Vec::new(),
    };
    match kind {
        DocKind::Policies => policies(&mut ctx, &root, &mut doc),
        DocKind::Fragment => doc.body = fragment(&mut ctx, &root),
    }
    includes(&mut ctx, &doc, opts);
    diags.extend(ctx.finish());
    (Some(doc), diags)
}

fn no_attributes(ctx: &mut Ctx<'_>, e: &Element) {
    for a in &e.attrs {
        let d = ctx
            .diag(
                Code::UnknownAttribute,
                a.name_span,
                format!("unknown attribute `{}` on `<{}>`", a.name, e.name),
            )
            .with_help(format!("`<{}>` takes no attributes", e.name));
        ctx.error(d);
    }
}

fn policies(ctx: &mut Ctx<'_>, root: &Element, doc: &mut PolicyDocument) {
    ctx.only_elements(root, "sections");
    for e in root.elements() {
        let Some(section) = Section::from_tag(&e.name) else {
            let mut d = ctx.diag(
                Code::UnknownSection,
                e.name_span,
                format!("`<{}>` is not a policy section", e.name),
            );
            d = match did_you_mean(&e.name, Section::ALL.iter().map(|s| s.tag())) {
                Some(s) => d.with_help(format!("did you mean `<{s}>`?")),
                None if crate::schema::lookup(&e.name).is_some() => {
                    d.with_help("policies stand inside a section: `<inbound>`, `<backend>`, `<outbound>` or `<on-error>`")
                }
                None => d.with_help("the sections are `<inbound>`, `<backend>`, `<outbound>` and `<on-error>`"),
            };
            ctx.error(d);
            continue;
        };
        if let Some(first) = doc.section(section) {
            let line = ctx.source.line_col(first.span.start).line;
            let d = ctx
                .diag(
                    Code::DuplicateSection,
                    e.name_span,
                    format!("a second `<{}>` section", e.name),
                )
                .with_help(format!("the first is at line {line}; merge them"));
            ctx.error(d);
            continue;
        }
        no_attributes(ctx, e);
        ctx.only_elements(e, "policies");
        ctx.enter_section();
        let mut statements = Vec::new();
        let mut base: Option<Span> = None;
        for c in e.elements() {
            if c.name == "base" {
                base_element(ctx, c);
                if let Some(first) = base {
                    let line = ctx.source.line_col(first.start).line;
                    let d = ctx
                        .diag(
                            Code::DuplicateBase,
                            c.name_span,
                            format!("a second `<base/>` in `<{}>`", e.name),
                        )
                        .with_help(format!(
                            "the first is at line {line}; a section inherits its parent once"
                        ));
                    ctx.error(d);
                    continue;
                }
                base = Some(c.span);
                statements.push(Statement::Base(c.span));
            } else {
                ctx.statement(c, Some(section), true);
                statements.push(Statement::Policy(c.clone()));
            }
        }
        doc.sections.push(SectionBody {
            section,
            span: e.span,
            statements,
        });
    }
}

fn base_element(ctx: &mut Ctx<'_>, e: &Element) {
    no_attributes(ctx, e);
    if e.elements().next().is_some() || e.has_text() {
        let d = ctx.diag(
            Code::UnexpectedChild,
            e.name_span,
            "`<base/>` takes no content",
        );
        ctx.error(d);
    }
}

fn fragment(ctx: &mut Ctx<'_>, root: &Element) -> Vec<Statement> {
    ctx.only_elements(root, "policies");
    ctx.enter_section();
    let mut body = Vec::new();
    for e in root.elements() {
        if Section::from_tag(&e.name).is_some() {
            let d = ctx
                .diag(
                    Code::SectionInFragment,
                    e.name_span,
                    format!("a fragment cannot contain the section `<{}>`", e.name),
                )
                .with_help(
                    "a fragment holds policies only; the including document decides the section",
                );
            ctx.error(d);
        } else if e.name == "base" || e.name == "include-fragment" {
            let d = ctx
                .diag(Code::BaseInFragment, e.name_span, format!("a fragment cannot contain `<{}>`", e.name))
                .with_help("fragments are inserted as they are: they neither inherit nor include other fragments");
            ctx.error(d);
        } else {
            ctx.statement(e, None, true);
            body.push(Statement::Policy(e.clone()));
        }
    }
    body
}

/// Checks every `include-fragment` (at any depth): the fragment exists and
/// its policies are allowed in the including section.
fn includes(ctx: &mut Ctx<'_>, doc: &PolicyDocument, opts: &LoadOptions<'_>) {
    fn walk<'e>(
        e: &'e Element,
        section: Option<Section>,
        out: &mut Vec<(&'e Element, Option<Section>)>,
    ) {
        if e.name == "include-fragment" {
            out.push((e, section));
        }
        for c in e.elements() {
            walk(c, section, out);
        }
    }
    let mut found = Vec::new();
    for s in &doc.sections {
        for st in &s.statements {
            if let Statement::Policy(e) = st {
                walk(e, Some(s.section), &mut found);
            }
        }
    }
    for (e, section) in found {
        // An expression or a named value as the id was reported or cannot be known here.
        let Some(id) = e
            .attr("fragment-id")
            .map(|a| a.value.value.trim())
            .filter(|id| !id.starts_with('@') && !id.contains("{{"))
        else {
            continue;
        };
        match opts.fragments.map(|f| f.get(id)) {
            None => {
                let d = ctx
                    .diag(Code::FragmentNotChecked, e.span, format!("fragment `{id}` was not supplied, so its policies were not checked here"))
                    .with_help("check the fragment's file together with this one");
                ctx.error(d);
            }
            Some(None) => {
                let mut d = ctx.diag(
                    Code::UnknownFragment,
                    e.span,
                    format!("unknown fragment `{id}`"),
                );
                if let Some(s) = opts
                    .fragments
                    .and_then(|f| did_you_mean(id, f.keys().map(String::as_str)))
                {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                ctx.error(d);
            }
            Some(Some(frag)) => {
                // The fragment's policies, checked where they are inserted.
                if let Some(section) = section {
                    let mut inner = Ctx::new(&frag.source, ctx.named, ctx.scope);
                    for st in &frag.body {
                        if let Statement::Policy(p) = st {
                            inner.statement(p, Some(section), false);
                        }
                    }
                    let inner = inner.finish();
                    for d in inner {
                        if d.code == Code::PolicyNotAllowedInSection
                            || d.code == Code::PolicyNotAllowedInScope
                        {
                            let lc = ctx.source.line_col(e.span.start);
                            let help = format!(
                                "included from {}:{}:{}",
                                ctx.source.name(),
                                lc.line,
                                lc.col
                            );
                            ctx.error(d.with_help(help));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
