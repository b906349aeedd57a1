//! Policy control and flow: `choose`, `retry`, `wait`, `include-fragment`.
//!
//! `base` is not here: it is part of the document model (`crate::doc`), not a policy.

use super::{
    ALL_SECTIONS, Content, Once, PolicySchema, Section, UINT, ValueKind, attr, child, policy,
    sections,
};

pub(super) const POLICIES: &[PolicySchema] = &[
    // choose-policy.md: at least one `when`, at most one `otherwise`, last.
    policy("choose", "choose-policy").content(Content::Elements(&[
        child("when")
            .required()
            .many()
            .attrs(&[attr("condition", ValueKind::Bool).required().expr()])
            .content(Content::Policies),
        child("otherwise").content(Content::Policies),
    ])),
    // retry-policy.md: count 1..=50; interval, max-interval, delta in seconds.
    policy("retry", "retry-policy")
        .attrs(&[
            attr("condition", ValueKind::Bool).required().expr(),
            attr("count", ValueKind::Int { min: 1, max: 50 })
                .required()
                .expr(),
            attr("interval", UINT).required().expr(),
            attr("max-interval", UINT).expr(),
            attr("delta", UINT).expr(),
            attr("first-fast-retry", ValueKind::Bool).expr(),
        ])
        .content(Content::Policies),
    // wait-policy.md: immediate children run in parallel; only these three.
    policy("wait", "wait-policy")
        .sections(sections(&[
            Section::Inbound,
            Section::Outbound,
            Section::Backend,
        ]))
        .attrs(&[attr("for", ValueKind::Enum(&["all", "any"])).expr()])
        .content(Content::PoliciesOf(&[
            "send-request",
            "cache-lookup-value",
            "choose",
        ])),
    // include-fragment-policy.md: fragment-id is literal only.
    policy("include-fragment", "include-fragment-policy")
        .sections(ALL_SECTIONS)
        .attrs(&[attr("fragment-id", ValueKind::Text).required()])
        .once(Once::No),
];
