//! Caching: response caching (`cache-lookup`, `cache-store`) and the value cache
//! (`cache-lookup-value`, `cache-store-value`, `cache-remove-value`).
//!
//! The semantic caches (`llm-semantic-cache-*`, `azure-openai-semantic-cache-*`) are in `ai.rs`.

use super::{
    ALL_SCOPES, ALL_SECTIONS, Content, Once, PolicySchema, Section, UINT, ValueKind, attr, child,
    policy, sections,
};

/// `caching-type`: which cache a policy uses; literal on every page.
const CACHING_TYPE: ValueKind = ValueKind::Enum(&["internal", "external", "prefer-external"]);

pub(super) const POLICIES: &[PolicySchema] = &[
    // cache-lookup-policy.md: GET only; once per section; not allowed in a policy fragment (checked with fragments, not
    // here). vary-by-developer(-groups) are required although the page gives them a default of false.
    // `vary-by-query-parameter` may list several names separated by `;`.
    policy("cache-lookup", "cache-lookup-policy")
        .sections(sections(&[Section::Inbound]))
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("vary-by-developer", ValueKind::Bool).required().expr(),
            attr("vary-by-developer-groups", ValueKind::Bool)
                .required()
                .expr(),
            attr("caching-type", CACHING_TYPE),
            attr(
                "downstream-caching-type",
                ValueKind::Enum(&["none", "private", "public"]),
            )
            .expr(),
            attr("must-revalidate", ValueKind::Bool).expr(),
            attr("allow-private-response-caching", ValueKind::Bool).expr(),
        ])
        .content(Content::Elements(&[
            child("vary-by-header").many().content(Content::Text {
                expr: true,
                required: true,
            }),
            child("vary-by-query-parameter")
                .many()
                .content(Content::Text {
                    expr: true,
                    required: true,
                }),
        ]))
        .once(Once::PerSection),
    // cache-store-policy.md: GET only; only 200 OK unless cache-response="true"; once per section.
    policy("cache-store", "cache-store-policy")
        .sections(sections(&[Section::Outbound]))
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("duration", UINT).required().expr(),
            attr("cache-response", ValueKind::Bool).expr(),
        ])
        .once(Once::PerSection),
    // cache-lookup-value-policy.md: on a miss the variable gets default-value if given (else it stays unset).
    // Also an allowed child of `wait`.
    policy("cache-lookup-value", "cache-lookup-value-policy")
        .sections(ALL_SECTIONS)
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("key", ValueKind::Text).required().expr(),
            attr("default-value", ValueKind::Text).expr(),
            attr("variable-name", ValueKind::Text).required(),
            attr("caching-type", CACHING_TYPE),
        ]),
    // cache-store-value-policy.md: asynchronous store. The page's "once in a policy section" and "only GET" notes are
    // copied from cache-store: not enforced (Microsoft's own samples store several values per section).
    policy("cache-store-value", "cache-store-value-policy")
        .sections(ALL_SECTIONS)
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("key", ValueKind::Text).required().expr(),
            attr("value", ValueKind::Text).required().expr(),
            attr("duration", UINT).required().expr(),
            attr("caching-type", CACHING_TYPE),
        ]),
    // cache-remove-value-policy.md.
    policy("cache-remove-value", "cache-remove-value-policy")
        .sections(ALL_SECTIONS)
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("key", ValueKind::Text).required().expr(),
            attr("caching-type", CACHING_TYPE),
        ]),
];
