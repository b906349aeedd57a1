//! Schemas of APIM policies: what a well-formed use of each policy looks like.
//!
//! One [`PolicySchema`] per APIM policy, as the docs state it: attributes
//! (type, required, expression allowed), child elements in the order of the
//! policy statement, the sections and scopes where it may stand, and
//! once-per-section/document rules. Validation (`crate::validate`) reads only
//! these tables.
//!
//! The catalog is split by the families of APIM's policy index, one file each:
//! - `flow.rs`: choose, retry, wait, include-fragment, base-level control flow
//! - `transform.rs`: set-header, set-body, rewrite-uri, json-to-xml, ...
//! - `routing.rs`: forward-request, set-backend-service, proxy, ...
//! - `integration.rs`: send-request, send-one-way-request, log-to-eventhub, dapr, ...
//! - `access.rs`: rate limits, quotas, check-header, ip-filter, validate-*, authentication-*
//! - `caching.rs`: cache-lookup/store and the value caches
//! - `ai.rs`: llm-* and azure-openai-* policies
//! - `misc.rs`: cors, jsonp, cross-domain, trace, emit-metric, GraphQL resolvers
//!
//! [`catalog`] concatenates them; [`lookup`] finds one by element name.

mod access;
mod ai;
mod caching;
mod flow;
mod integration;
mod misc;
mod routing;
mod transform;

use std::collections::HashMap;
use std::sync::OnceLock;

/// A policy section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    Inbound,
    Backend,
    Outbound,
    OnError,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Inbound,
        Section::Backend,
        Section::Outbound,
        Section::OnError,
    ];

    pub const fn tag(self) -> &'static str {
        match self {
            Section::Inbound => "inbound",
            Section::Backend => "backend",
            Section::Outbound => "outbound",
            Section::OnError => "on-error",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.tag() == tag)
    }

    const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A policy scope, from broadest to narrowest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Global,
    Workspace,
    Product,
    Api,
    Operation,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::Global,
        Scope::Workspace,
        Scope::Product,
        Scope::Api,
        Scope::Operation,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Workspace => "workspace",
            Scope::Product => "product",
            Scope::Api => "api",
            Scope::Operation => "operation",
        }
    }

    const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of sections, built with [`sections`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sections(u8);

impl Sections {
    pub const fn contains(self, s: Section) -> bool {
        self.0 & s.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Section> {
        Section::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

/// A set of scopes, built with [`scopes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    pub const fn contains(self, s: Scope) -> bool {
        self.0 & s.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

pub const fn sections(list: &[Section]) -> Sections {
    let mut bits = 0;
    let mut i = 0;
    while i < list.len() {
        bits |= list[i].bit();
        i += 1;
    }
    Sections(bits)
}

pub const fn scopes(list: &[Scope]) -> Scopes {
    let mut bits = 0;
    let mut i = 0;
    while i < list.len() {
        bits |= list[i].bit();
        i += 1;
    }
    Scopes(bits)
}

pub const ALL_SECTIONS: Sections = sections(&Section::ALL);
pub const ALL_SCOPES: Scopes = scopes(&Scope::ALL);

/// The type of an attribute's literal value. An expression (when allowed)
/// is checked by the expression compiler instead.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueKind {
    /// Any text (possibly empty).
    Text,
    /// A whole number in `min..=max`.
    Int { min: i64, max: i64 },
    /// A decimal number in `min..=max`.
    Number { min: f64, max: f64 },
    /// `true` or `false` (case-insensitive, as .NET's `bool.Parse`).
    Bool,
    /// One of these words (compared case-sensitively, as APIM does).
    Enum(&'static [&'static str]),
}

pub const INT: ValueKind = ValueKind::Int {
    min: i64::MIN,
    max: i64::MAX,
};
pub const UINT: ValueKind = ValueKind::Int {
    min: 0,
    max: i64::MAX,
};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AttrSchema {
    pub name: &'static str,
    pub kind: ValueKind,
    pub required: bool,
    /// Whether `@(...)`/`@{...}` is allowed as the value.
    pub expr: bool,
}

/// An optional, literal-only attribute; refine with `.required()` / `.expr()`.
pub const fn attr(name: &'static str, kind: ValueKind) -> AttrSchema {
    AttrSchema {
        name,
        kind,
        required: false,
        expr: false,
    }
}

impl AttrSchema {
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub const fn expr(mut self) -> Self {
        self.expr = true;
        self
    }
}

/// What may stand inside an element.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Content {
    /// Nothing (whitespace and comments only).
    Empty,
    /// A text value; `expr` says whether it may be a policy expression.
    Text { expr: bool, required: bool },
    /// Anything, kept verbatim as text (e.g. a literal body that contains markup).
    Raw { expr: bool },
    /// These child elements, in this order.
    Elements(&'static [ChildSchema]),
    /// Policy statements valid in the enclosing section (e.g. the body of `when`).
    Policies,
    /// Only these policies (e.g. the children of `wait`).
    PoliciesOf(&'static [&'static str]),
    /// The same attributes and content as the named policy (e.g. `set-header` inside `send-request`).
    Policy(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChildSchema {
    pub name: &'static str,
    pub min: u32,
    /// `None` = unbounded.
    pub max: Option<u32>,
    pub attrs: &'static [AttrSchema],
    pub content: Content,
    pub rules: &'static [Rule],
    /// The docs mark the child required but APIM accepts the element without
    /// it: its absence is a `W0504` warning, not an error (`min` stays 0).
    pub docs_require: bool,
}

/// A child element with no attributes and no content; refine with the builder methods.
pub const fn child(name: &'static str) -> ChildSchema {
    ChildSchema {
        name,
        min: 0,
        max: Some(1),
        attrs: &[],
        content: Content::Empty,
        rules: &[],
        docs_require: false,
    }
}

/// A child element validated exactly like the policy of the same name.
pub const fn policy_child(name: &'static str) -> ChildSchema {
    ChildSchema {
        name,
        min: 0,
        max: Some(1),
        attrs: &[],
        content: Content::Policy(name),
        rules: &[],
        docs_require: false,
    }
}

impl ChildSchema {
    pub const fn required(mut self) -> Self {
        self.min = 1;
        self
    }

    /// Required by the docs, optional in APIM (see [`ChildSchema::docs_require`]).
    pub const fn required_by_docs(mut self) -> Self {
        self.docs_require = true;
        self
    }

    /// Occurs `min..=max` times (`max = None`: unbounded).
    pub const fn occurs(mut self, min: u32, max: Option<u32>) -> Self {
        self.min = min;
        self.max = max;
        self
    }

    /// Any number of times (0..n).
    pub const fn many(mut self) -> Self {
        self.max = None;
        self
    }

    pub const fn attrs(mut self, attrs: &'static [AttrSchema]) -> Self {
        self.attrs = attrs;
        self
    }

    pub const fn content(mut self, content: Content) -> Self {
        self.content = content;
        self
    }

    pub const fn rules(mut self, rules: &'static [Rule]) -> Self {
        self.rules = rules;
        self
    }
}

/// Constraints across attributes or children of one element.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// Exactly one of these attributes must be given.
    ExactlyOneAttr(&'static [&'static str]),
    /// At least one of these attributes must be given.
    AtLeastOneAttr(&'static [&'static str]),
    /// At most one of these attributes may be given.
    AtMostOneAttr(&'static [&'static str]),
    /// At least one of these child elements must be present.
    AtLeastOneChild(&'static [&'static str]),
}

/// How often a policy may appear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Once {
    /// No limit.
    No,
    /// At most once in each section.
    PerSection,
    /// At most once in the whole policy document.
    PerDocument,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolicySchema {
    pub name: &'static str,
    pub sections: Sections,
    /// Sections the docs leave out where APIM accepts the policy all the
    /// same (real policies use it there): a warning, not an error.
    pub tolerated: Sections,
    pub scopes: Scopes,
    pub attrs: &'static [AttrSchema],
    pub content: Content,
    pub rules: &'static [Rule],
    pub once: Once,
    /// The docs page this schema follows (`articles/api-management/<doc>.md`).
    pub doc: &'static str,
}

/// A policy allowed everywhere, with no attributes and no content; refine with the builder methods.
pub const fn policy(name: &'static str, doc: &'static str) -> PolicySchema {
    PolicySchema {
        name,
        sections: ALL_SECTIONS,
        tolerated: sections(&[]),
        scopes: ALL_SCOPES,
        attrs: &[],
        content: Content::Empty,
        rules: &[],
        once: Once::No,
        doc,
    }
}

impl PolicySchema {
    pub const fn sections(mut self, s: Sections) -> Self {
        self.sections = s;
        self
    }

    /// Sections where APIM accepts the policy beyond its docs (a warning).
    pub const fn tolerated(mut self, s: Sections) -> Self {
        self.tolerated = s;
        self
    }

    pub const fn scopes(mut self, s: Scopes) -> Self {
        self.scopes = s;
        self
    }

    pub const fn attrs(mut self, attrs: &'static [AttrSchema]) -> Self {
        self.attrs = attrs;
        self
    }

    pub const fn content(mut self, content: Content) -> Self {
        self.content = content;
        self
    }

    pub const fn rules(mut self, rules: &'static [Rule]) -> Self {
        self.rules = rules;
        self
    }

    pub const fn once(mut self, once: Once) -> Self {
        self.once = once;
        self
    }
}

/// Every APIM policy, in the order of the family files.
pub fn catalog() -> &'static [PolicySchema] {
    static ALL: OnceLock<Vec<PolicySchema>> = OnceLock::new();
    ALL.get_or_init(|| {
        [
            flow::POLICIES,
            transform::POLICIES,
            routing::POLICIES,
            integration::POLICIES,
            access::POLICIES,
            caching::POLICIES,
            ai::POLICIES,
            misc::POLICIES,
        ]
        .concat()
    })
}

/// The schema of the policy element `name`, if APIM has such a policy.
pub fn lookup(name: &str) -> Option<&'static PolicySchema> {
    static INDEX: OnceLock<HashMap<&'static str, &'static PolicySchema>> = OnceLock::new();
    INDEX
        .get_or_init(|| catalog().iter().map(|p| (p.name, p)).collect())
        .get(name)
        .copied()
}

#[cfg(test)]
mod tests;
