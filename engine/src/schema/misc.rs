//! Cross-domain and logging: `cors`, `jsonp`, `cross-domain`, `trace`, `emit-metric`.
//!
//! The GraphQL resolver policies (`http-data-source`, `sql-data-source`,
//! `cosmosdb-data-source`, `publish-event`) are not here: they live in a
//! resolver document with its own root, not in `<policies>` sections, and are
//! out of scope for Sluice.

use super::{
    ALL_SCOPES, ChildSchema, Content, Once, PolicySchema, Scope, Section, UINT, ValueKind, attr,
    child, policy, scopes, sections,
};

/// One or more `origin`, `method` or `header` entries of a CORS list (`*` = any).
const fn cors_entries(item: &'static str) -> ChildSchema {
    child(item).required().many().content(Content::Text {
        expr: true,
        required: true,
    })
}

const ORIGINS: &[ChildSchema] = &[cors_entries("origin")];
const METHODS: &[ChildSchema] = &[cors_entries("method")];
const HEADERS: &[ChildSchema] = &[cors_entries("header")];

/// A CORS list element holding its entries.
const fn cors_list(list: &'static str, entries: &'static [ChildSchema]) -> ChildSchema {
    child(list).content(Content::Elements(entries))
}

pub(super) const POLICIES: &[PolicySchema] = &[
    // cors-policy.md: inbound, once per section; allowed-origins and allowed-headers are required (each list needs at
    // least one entry); without allowed-methods only GET and POST are allowed. terminate-unmatched-request defaults
    // to false in the table, true in the troubleshooting text (runtime question, not schema).
    policy("cors", "cors-policy")
        .sections(sections(&[Section::Inbound]))
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("allow-credentials", ValueKind::Bool).expr(),
            attr("terminate-unmatched-request", ValueKind::Bool).expr(),
        ])
        .content(Content::Elements(&[
            cors_list("allowed-origins", ORIGINS).required(),
            cors_list("allowed-methods", METHODS)
                .attrs(&[attr("preflight-result-max-age", UINT).expr()]),
            // Required on the page, but Microsoft's labs deployed to APIM omit it
            // (docs/decisions.md): a warning.
            cors_list("allowed-headers", HEADERS).required_by_docs(),
            cors_list("expose-headers", HEADERS),
        ]))
        .once(Once::PerSection),
    // jsonp-policy.md: outbound, once per section.
    policy("jsonp", "jsonp-policy")
        .sections(sections(&[Section::Outbound]))
        .scopes(ALL_SCOPES)
        .attrs(&[attr("callback-parameter-name", ValueKind::Text)
            .required()
            .expr()])
        .once(Once::PerSection),
    // cross-domain-policy.md: global scope only; the content is an Adobe cross-domain policy file
    // (`<cross-domain-policy>…`), kept verbatim.
    policy("cross-domain", "cross-domain-policy")
        .sections(sections(&[Section::Inbound]))
        .scopes(scopes(&[Scope::Global]))
        .content(Content::Raw { expr: false }),
    // trace-policy.md: source and severity are literal; `message` required, `metadata` 0..n. The page lists
    // inbound/outbound/backend; the error-handling page also allows on-error, and so does Sluice. The 2022 page
    // predates workspaces: workspace scope allowed.
    // The pre-2020 form with the message as text content (`<trace source="x">text</trace>`) is not accepted.
    policy("trace", "trace-policy")
        .sections(sections(&[
            Section::Inbound,
            Section::Outbound,
            Section::Backend,
            Section::OnError,
        ]))
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("source", ValueKind::Text).required(),
            attr(
                "severity",
                ValueKind::Enum(&["verbose", "information", "error"]),
            ),
        ])
        .content(Content::Elements(&[
            child("message").required().content(Content::Text {
                expr: true,
                required: false,
            }),
            child("metadata").many().attrs(&[
                attr("name", ValueKind::Text).required().expr(),
                attr("value", ValueKind::Text).required().expr(),
            ]),
        ])),
    // emit-metric-policy.md: name and namespace literal, value a double; 1..10 dimensions, `value` optional only for a
    // default dimension (API ID, Operation ID, Product ID, User ID, Subscription ID, Location, Gateway ID).
    policy("emit-metric", "emit-metric-policy")
        .sections(sections(&[
            Section::Inbound,
            Section::Outbound,
            Section::Backend,
            Section::OnError,
        ]))
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("name", ValueKind::Text).required(),
            attr("namespace", ValueKind::Text),
            attr(
                "value",
                ValueKind::Number {
                    min: f64::MIN,
                    max: f64::MAX,
                },
            )
            .expr(),
        ])
        .content(Content::Elements(&[child("dimension")
            .occurs(1, Some(10))
            .attrs(&[
                attr("name", ValueKind::Text).required().expr(),
                attr("value", ValueKind::Text).expr(),
            ])])),
];
