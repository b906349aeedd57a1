//! AI gateway policies: semantic caching, token limits, token metrics and
//! `llm-content-safety`.
//!
//! The `azure-openai-*` and `llm-*` names of a policy share one schema where the
//! docs give them the same attributes (DECISIONS.md "Semantic cache": both names,
//! one implementation). Where a page is silent about expressions, the docs'
//! general rule applies (expressions allowed), except for header and variable
//! names, which every page that says so makes literal.

use super::{
    ALL_SCOPES, AttrSchema, ChildSchema, Content, Once, PolicySchema, Rule, Scope, Scopes, Section,
    Sections, UINT, ValueKind, attr, child, policy, scopes, sections,
};

const INBOUND: Sections = sections(&[Section::Inbound]);

/// Semantic caching: "global, product, API, operation" on the current pages (the first 2024 azure-openai pages also
/// listed workspace).
const SEMANTIC_CACHE_SCOPES: Scopes =
    scopes(&[Scope::Global, Scope::Product, Scope::Api, Scope::Operation]);

/// `*-semantic-cache-lookup`. The pages say nothing about expressions: allowed (permissive, see the module doc).
/// score-threshold is a cosine distance, smaller = more similar (DECISIONS.md). `embeddings-backend-auth` must be
/// `system-assigned`. The toolkit's `cache-id` is undocumented: left out.
const SEMANTIC_LOOKUP_ATTRS: &[AttrSchema] = &[
    attr("score-threshold", ValueKind::Number { min: 0.0, max: 1.0 })
        .required()
        .expr(),
    attr("embeddings-backend-id", ValueKind::Text)
        .required()
        .expr(),
    attr(
        "embeddings-backend-auth",
        ValueKind::Enum(&["system-assigned"]),
    )
    .required()
    .expr(),
    attr("ignore-system-messages", ValueKind::Bool).expr(),
    attr("max-message-count", UINT).expr(),
];

/// `vary-by` (0..n): each value partitions the cache; several are combined.
const SEMANTIC_LOOKUP_CONTENT: Content =
    Content::Elements(&[child("vary-by").many().content(Content::Text {
        expr: true,
        required: true,
    })]);

/// `*-token-limit`: at least one of a rate (`tokens-per-minute`) or a quota (`token-quota` with `token-quota-period`).
/// tokens-per-minute and estimate-prompt-tokens: silent about expressions (allowed); token-quota and
/// token-quota-period take expressions since the 04/2026 revision. estimate-prompt-tokens is "required" in the table
/// but the pages' own quota example leaves it out: optional here (absent = false).
const TOKEN_LIMIT_ATTRS: &[AttrSchema] = &[
    attr("counter-key", ValueKind::Text).required().expr(),
    attr("tokens-per-minute", UINT).expr(),
    attr("token-quota", UINT).expr(),
    attr(
        "token-quota-period",
        ValueKind::Enum(&["Hourly", "Daily", "Weekly", "Monthly", "Yearly"]),
    )
    .expr(),
    attr("estimate-prompt-tokens", ValueKind::Bool).expr(),
    attr("retry-after-header-name", ValueKind::Text),
    attr("retry-after-variable-name", ValueKind::Text),
    attr("remaining-quota-tokens-header-name", ValueKind::Text),
    attr("remaining-quota-tokens-variable-name", ValueKind::Text),
    attr("remaining-tokens-header-name", ValueKind::Text),
    attr("remaining-tokens-variable-name", ValueKind::Text),
    attr("tokens-consumed-header-name", ValueKind::Text),
    attr("tokens-consumed-variable-name", ValueKind::Text),
];

/// "token-quota over a token-quota-period": the pairing itself (both or neither) is not expressible as a [`Rule`].
const TOKEN_LIMIT_RULES: &[Rule] = &[Rule::AtLeastOneAttr(&["tokens-per-minute", "token-quota"])];

/// A metric dimension (as in `emit-metric`): `value` may be left out only for a default dimension (API ID, Operation
/// ID, Product ID, User ID, Subscription ID, Location, Gateway ID, Backend ID). At most 10 per policy in the 2024-25
/// pages; the 2026 llm page says 5 custom dimensions: 10 kept (lenient).
const TOKEN_METRIC_DIMENSION: ChildSchema = child("dimension").occurs(1, Some(10)).attrs(&[
    attr("name", ValueKind::Text).required().expr(),
    attr("value", ValueKind::Text).expr(),
]);

/// `*-emit-token-metric`: namespace is literal; root `value` (a double) is on the 2024 pages of both names and gone
/// from the 2026 llm page: accepted on both.
const TOKEN_METRIC_ATTRS: &[AttrSchema] = &[
    attr("namespace", ValueKind::Text),
    attr(
        "value",
        ValueKind::Number {
            min: f64::MIN,
            max: f64::MAX,
        },
    )
    .expr(),
];

pub(super) const POLICIES: &[PolicySchema] = &[
    // llm-semantic-cache-lookup-policy.md (10/2025): inbound only, once per section.
    policy(
        "llm-semantic-cache-lookup",
        "llm-semantic-cache-lookup-policy",
    )
    .sections(INBOUND)
    .scopes(SEMANTIC_CACHE_SCOPES)
    .attrs(SEMANTIC_LOOKUP_ATTRS)
    .content(SEMANTIC_LOOKUP_CONTENT)
    .once(Once::PerSection),
    // azure-openai-semantic-cache-lookup-policy.md (10/2025): same attributes and children as the llm- name.
    policy(
        "azure-openai-semantic-cache-lookup",
        "azure-openai-semantic-cache-lookup-policy",
    )
    .sections(INBOUND)
    .scopes(SEMANTIC_CACHE_SCOPES)
    .attrs(SEMANTIC_LOOKUP_ATTRS)
    .content(SEMANTIC_LOOKUP_CONTENT)
    .once(Once::PerSection),
    // llm-semantic-cache-store-policy.md: outbound only, once per section; cache-response (2026) stores any status,
    // not just 200.
    policy(
        "llm-semantic-cache-store",
        "llm-semantic-cache-store-policy",
    )
    .sections(sections(&[Section::Outbound]))
    .scopes(SEMANTIC_CACHE_SCOPES)
    .attrs(&[
        attr("duration", UINT).required().expr(),
        attr("cache-response", ValueKind::Bool).expr(),
    ])
    .once(Once::PerSection),
    // azure-openai-semantic-cache-store-policy.md: outbound only, once per section. cache-response is documented for
    // the llm- name only, so it is an unknown attribute here (decision: follow each page as written).
    policy(
        "azure-openai-semantic-cache-store",
        "azure-openai-semantic-cache-store-policy",
    )
    .sections(sections(&[Section::Outbound]))
    .scopes(SEMANTIC_CACHE_SCOPES)
    .attrs(&[attr("duration", UINT).required().expr()])
    .once(Once::PerSection),
    // llm-token-limit-policy.md: 429 over the rate, 403 over the quota; may be used several times per definition.
    policy("llm-token-limit", "llm-token-limit-policy")
        .sections(INBOUND)
        .scopes(ALL_SCOPES)
        .attrs(TOKEN_LIMIT_ATTRS)
        .rules(TOKEN_LIMIT_RULES),
    // azure-openai-token-limit-policy.md: same attributes as llm-token-limit.
    policy(
        "azure-openai-token-limit",
        "azure-openai-token-limit-policy",
    )
    .sections(INBOUND)
    .scopes(ALL_SCOPES)
    .attrs(TOKEN_LIMIT_ATTRS)
    .rules(TOKEN_LIMIT_RULES),
    // llm-emit-token-metric-policy.md (05/2026): configured in inbound, emitted once the usage is known.
    policy("llm-emit-token-metric", "llm-emit-token-metric-policy")
        .sections(INBOUND)
        .scopes(ALL_SCOPES)
        .attrs(TOKEN_METRIC_ATTRS)
        .content(Content::Elements(&[TOKEN_METRIC_DIMENSION])),
    // azure-openai-emit-token-metric-policy.md: same as llm-emit-token-metric.
    policy(
        "azure-openai-emit-token-metric",
        "azure-openai-emit-token-metric-policy",
    )
    .sections(INBOUND)
    .scopes(ALL_SCOPES)
    .attrs(TOKEN_METRIC_ATTRS)
    .content(Content::Elements(&[TOKEN_METRIC_DIMENSION])),
    // llm-content-safety-policy.md (03/2026): inbound checks prompts, outbound checks completions; no operation scope;
    // every attribute takes expressions; thresholds 0 (strictest) to 7.
    policy("llm-content-safety", "llm-content-safety-policy")
        .sections(sections(&[Section::Inbound, Section::Outbound]))
        .scopes(scopes(&[
            Scope::Global,
            Scope::Workspace,
            Scope::Product,
            Scope::Api,
        ]))
        .attrs(&[
            attr("backend-id", ValueKind::Text).required().expr(),
            attr("shield-prompt", ValueKind::Bool).expr(),
            attr("enforce-on-completions", ValueKind::Bool).expr(),
            attr("window-size", UINT).expr(),
            attr("window-overlap-size", UINT).expr(),
        ])
        .content(Content::Elements(&[
            child("categories")
                .attrs(&[attr(
                    "output-type",
                    ValueKind::Enum(&["FourSeverityLevels", "EightSeverityLevels"]),
                )
                .expr()])
                .content(Content::Elements(&[child("category")
                    .required()
                    .many()
                    .attrs(&[
                        attr(
                            "name",
                            ValueKind::Enum(&["Hate", "SelfHarm", "Sexual", "Violence"]),
                        )
                        .required()
                        .expr(),
                        attr("threshold", ValueKind::Int { min: 0, max: 7 })
                            .required()
                            .expr(),
                    ])])),
            child("blocklists").content(Content::Elements(&[child("id")
                .required()
                .many()
                .content(Content::Text {
                    expr: true,
                    required: true,
                })])),
        ])),
];
