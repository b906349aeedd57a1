//! Access restriction, authentication and content validation: rate limits and
//! quotas, `limit-concurrency`, `check-header`, `ip-filter`, `validate-*`,
//! `get-authorization-context` and `authentication-*`.
//!
//! Expressions: where a page says nothing, the docs' general rule applies ("unless
//! the policy specifies otherwise, policy expressions can be used as attribute
//! values or text values"), except for `*-variable-name` attributes, which are
//! literal on every page that says so. Workspace scope: the 2022 revisions of
//! `check-header`, `validate-content`, `validate-status-code` and
//! `authentication-basic` predate workspaces and list none; as on their newer
//! siblings (`validate-headers`, `validate-parameters`, `ip-filter`, ...) it is
//! allowed here. Pages revised in 2024 or later that still leave workspace out
//! (`get-authorization-context`, `authentication-managed-identity`) are followed
//! as written.

use super::{
    ALL_SCOPES, ALL_SECTIONS, AttrSchema, ChildSchema, Content, Once, PolicySchema, Rule, Scope,
    Scopes, Section, Sections, UINT, ValueKind, attr, child, policy, scopes, sections,
};

const INBOUND: Sections = sections(&[Section::Inbound]);

/// Scopes of pages revised in 2024+ that leave out workspace.
const NO_WORKSPACE: Scopes = scopes(&[Scope::Global, Scope::Product, Scope::Api, Scope::Operation]);

/// The validation action of the content validation policies (include `api-management-validation-policy-actions`).
const ACTION: ValueKind = ValueKind::Enum(&["ignore", "prevent", "detect"]);

/// `rate-limit` and `rate-limit-by-key`: a sliding window of at most 300 s.
const RENEWAL_300: ValueKind = ValueKind::Int { min: 0, max: 300 };

/// Per-API/operation limits inside `rate-limit`: `name` or `id` (id wins), own `calls` and `renewal-period`.
const RATE_LIMIT_ENTITY: &[AttrSchema] = &[
    attr("name", ValueKind::Text),
    attr("id", ValueKind::Text),
    attr("calls", UINT).required(),
    attr("renewal-period", RENEWAL_300).required(),
];

/// Per-API/operation quotas inside `quota`: `name` or `id`, `calls` and/or `bandwidth`, `renewal-period`.
const QUOTA_ENTITY: &[AttrSchema] = &[
    attr("name", ValueKind::Text),
    attr("id", ValueKind::Text),
    attr("calls", UINT),
    attr("bandwidth", UINT),
    attr("renewal-period", UINT).required(),
];

const QUOTA_ENTITY_RULES: &[Rule] = &[
    Rule::AtLeastOneAttr(&["name", "id"]),
    Rule::AtLeastOneAttr(&["calls", "bandwidth"]),
];

/// `required-claims` of `validate-jwt` and `validate-azure-ad-token`.
const REQUIRED_CLAIMS: ChildSchema =
    child("required-claims").content(Content::Elements(&[child("claim")
        .required()
        .many()
        .attrs(&[
            attr("name", ValueKind::Text).required().expr(),
            attr("match", ValueKind::Enum(&["all", "any"])).expr(),
            attr("separator", ValueKind::Text).expr(),
        ])
        .content(Content::Elements(&[child("value").many().content(
            Content::Text {
                expr: true,
                required: false,
            },
        )]))]));

/// `audiences` of `validate-jwt` and `validate-azure-ad-token`: "at least one audience must be specified".
const AUDIENCES: ChildSchema = child("audiences").content(Content::Elements(&[child("audience")
    .required()
    .many()
    .content(Content::Text {
        expr: true,
        required: true,
    })]));

const APPLICATION_IDS: &[ChildSchema] =
    &[child("application-id")
        .required()
        .many()
        .content(Content::Text {
            expr: false,
            required: true,
        })];

/// `client-application-ids` / `backend-application-ids` of `validate-azure-ad-token` (no expressions).
const fn application_ids(name: &'static str) -> ChildSchema {
    child(name).content(Content::Elements(APPLICATION_IDS))
}

const PARAMETERS: &[ChildSchema] = &[child("parameter").many().attrs(&[
    attr("name", ValueKind::Text).required().expr(),
    attr("action", ACTION).required().expr(),
])];

/// `headers` / `query` / `path` of `validate-parameters`: the actions are optional and override the policy's.
const fn parameter_group(name: &'static str, attrs: &'static [AttrSchema]) -> ChildSchema {
    child(name)
        .attrs(attrs)
        .content(Content::Elements(PARAMETERS))
}

pub(super) const POLICIES: &[PolicySchema] = &[
    // rate-limit-policy.md: no expressions anywhere; product/API/operation only; once per definition.
    policy("rate-limit", "rate-limit-policy")
        .sections(INBOUND)
        .scopes(scopes(&[Scope::Product, Scope::Api, Scope::Operation]))
        .attrs(&[
            attr("calls", UINT).required(),
            attr("renewal-period", RENEWAL_300).required(),
            attr("retry-after-header-name", ValueKind::Text),
            attr("retry-after-variable-name", ValueKind::Text),
            attr("remaining-calls-header-name", ValueKind::Text),
            attr("remaining-calls-variable-name", ValueKind::Text),
            attr("total-calls-header-name", ValueKind::Text),
        ])
        .content(Content::Elements(&[child("api")
            .many()
            .attrs(RATE_LIMIT_ENTITY)
            .rules(&[Rule::AtLeastOneAttr(&["name", "id"])])
            .content(Content::Elements(&[child("operation")
                .many()
                .attrs(RATE_LIMIT_ENTITY)
                .rules(&[Rule::AtLeastOneAttr(&["name", "id"])])]))]))
        .once(Once::PerDocument),
    // rate-limit-by-key-policy.md (03/2025): limits and key take expressions; header/variable names don't.
    policy("rate-limit-by-key", "rate-limit-by-key-policy")
        .sections(INBOUND)
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("calls", UINT).required().expr(),
            attr("renewal-period", RENEWAL_300).required().expr(),
            attr("counter-key", ValueKind::Text).required().expr(),
            attr("increment-condition", ValueKind::Bool).expr(),
            attr("increment-count", UINT).expr(),
            attr("retry-after-header-name", ValueKind::Text),
            attr("retry-after-variable-name", ValueKind::Text),
            attr("remaining-calls-header-name", ValueKind::Text),
            attr("remaining-calls-variable-name", ValueKind::Text),
            attr("total-calls-header-name", ValueKind::Text),
        ]),
    // quota-policy.md: no expressions; calls and/or bandwidth (KB); renewal-period 0 = lifetime; product only; once per definition.
    policy("quota", "quota-policy")
        .sections(INBOUND)
        .scopes(scopes(&[Scope::Product]))
        .attrs(&[
            attr("calls", UINT),
            attr("bandwidth", UINT),
            attr("renewal-period", UINT).required(),
        ])
        .content(Content::Elements(&[child("api")
            .many()
            .attrs(QUOTA_ENTITY)
            .rules(QUOTA_ENTITY_RULES)
            .content(Content::Elements(&[child("operation")
                .many()
                .attrs(QUOTA_ENTITY)
                .rules(QUOTA_ENTITY_RULES)]))]))
        .rules(&[Rule::AtLeastOneAttr(&["calls", "bandwidth"])])
        .once(Once::PerDocument),
    // quota-by-key-policy.md: renewal-period is "minimum 300, 0 = infinite" (not expressible as a range: only
    // non-negative is checked); first-period-start is ISO 8601 `yyyy-MM-ddTHH:mm:ssZ`, literal. `increment-count`
    // (default 1, expressions allowed) is in the current revision of the page (and the toolkit).
    policy("quota-by-key", "quota-by-key-policy")
        .sections(INBOUND)
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("calls", UINT),
            attr("bandwidth", UINT),
            attr("renewal-period", UINT).required(),
            attr("counter-key", ValueKind::Text).required().expr(),
            attr("increment-condition", ValueKind::Bool).expr(),
            attr("increment-count", UINT).expr(),
            attr("first-period-start", ValueKind::Text),
        ])
        .rules(&[Rule::AtLeastOneAttr(&["calls", "bandwidth"])]),
    // limit-concurrency-policy.md: wraps policies; max-count is literal.
    policy("limit-concurrency", "limit-concurrency-policy")
        .sections(ALL_SECTIONS)
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("key", ValueKind::Text).required().expr(),
            attr("max-count", UINT).required(),
        ])
        .content(Content::Policies),
    // check-header-policy.md: all four attributes required, expressions allowed (later revision); no `value` = presence check.
    policy("check-header", "check-header-policy")
        .sections(INBOUND)
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("name", ValueKind::Text).required().expr(),
            attr("failed-check-httpcode", UINT).required().expr(),
            attr("failed-check-error-message", ValueKind::Text)
                .required()
                .expr(),
            attr("ignore-case", ValueKind::Bool).required().expr(),
        ])
        .content(Content::Elements(&[child("value").many().content(
            Content::Text {
                expr: true,
                required: false,
            },
        )])),
    // ip-filter-policy.md: at least one `address` or `address-range`; ranges are inclusive; no CIDR.
    policy("ip-filter", "ip-filter-policy")
        .sections(INBOUND)
        .scopes(ALL_SCOPES)
        .attrs(&[attr("action", ValueKind::Enum(&["allow", "forbid"]))
            .required()
            .expr()])
        .content(Content::Elements(&[
            child("address").many().content(Content::Text {
                expr: true,
                required: true,
            }),
            child("address-range").many().attrs(&[
                attr("from", ValueKind::Text).required().expr(),
                attr("to", ValueKind::Text).required().expr(),
            ]),
        ]))
        .rules(&[Rule::AtLeastOneChild(&["address", "address-range"])]),
    // validate-jwt-policy.md (02/2026): exactly one token source; `openid-config@validate-connectivity` is new in 2026.
    // Children follow the statement order (the page's own decryption-key example puts `decryption-keys` last).
    policy("validate-jwt", "validate-jwt-policy")
        .sections(INBOUND)
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("header-name", ValueKind::Text).expr(),
            attr("query-parameter-name", ValueKind::Text).expr(),
            attr("token-value", ValueKind::Text).expr(),
            attr("failed-validation-httpcode", UINT).expr(),
            attr("failed-validation-error-message", ValueKind::Text).expr(),
            attr("require-expiration-time", ValueKind::Bool).expr(),
            attr("require-scheme", ValueKind::Text).expr(),
            attr("require-signed-tokens", ValueKind::Bool).expr(),
            attr("clock-skew", UINT).expr(),
            attr("output-token-variable-name", ValueKind::Text),
        ])
        .content(Content::Elements(&[
            child("openid-config").many().attrs(&[
                attr("url", ValueKind::Text).required().expr(),
                attr("validate-connectivity", ValueKind::Bool).expr(),
            ]),
            // key: Base64 text, or certificate-id, or RSA n+e; optional id matched against `kid`.
            child("issuer-signing-keys").content(Content::Elements(&[child("key")
                .required()
                .many()
                .attrs(&[
                    attr("id", ValueKind::Text).expr(),
                    attr("certificate-id", ValueKind::Text).expr(),
                    attr("n", ValueKind::Text),
                    attr("e", ValueKind::Text),
                ])
                .content(Content::Text {
                    expr: true,
                    required: false,
                })])),
            // 2026: id, n and e are for issuer signing keys only.
            child("decryption-keys").content(Content::Elements(&[child("key")
                .required()
                .many()
                .attrs(&[attr("certificate-id", ValueKind::Text).expr()])
                .content(Content::Text {
                    expr: true,
                    required: false,
                })])),
            AUDIENCES,
            child("issuers").content(Content::Elements(&[child("issuer")
                .required()
                .many()
                .content(Content::Text {
                    expr: true,
                    required: true,
                })])),
            REQUIRED_CLAIMS,
        ]))
        .rules(&[Rule::ExactlyOneAttr(&[
            "header-name",
            "query-parameter-name",
            "token-value",
        ])]),
    // validate-azure-ad-token-policy.md: header-name defaults to Authorization, so at most one token source.
    // Child order as in the current statement and the toolkit (backend ids first, decryption-keys last; the 2022-24
    // statement had client ids first). client-application-ids is optional: the 2024 table says required, but the toolkit
    // and Microsoft's own AI-gateway labs omit it. `authentication-endpoint` (sovereign clouds) is in the current statement.
    policy("validate-azure-ad-token", "validate-azure-ad-token-policy")
        .sections(INBOUND)
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("tenant-id", ValueKind::Text).required().expr(),
            attr("header-name", ValueKind::Text).expr(),
            attr("query-parameter-name", ValueKind::Text).expr(),
            attr("token-value", ValueKind::Text).expr(),
            attr("authentication-endpoint", ValueKind::Text).expr(),
            attr("failed-validation-httpcode", UINT).expr(),
            attr("failed-validation-error-message", ValueKind::Text).expr(),
            attr("output-token-variable-name", ValueKind::Text),
        ])
        .content(Content::Elements(&[
            application_ids("backend-application-ids"),
            application_ids("client-application-ids"),
            AUDIENCES,
            REQUIRED_CLAIMS,
            child("decryption-keys")
                .content(Content::Elements(&[child("key").required().many().attrs(
                    &[attr("certificate-id", ValueKind::Text).required().expr()],
                )])),
        ]))
        .rules(&[Rule::AtMostOneAttr(&[
            "header-name",
            "query-parameter-name",
            "token-value",
        ])]),
    // validate-client-certificate-policy.md (01/2025): top-level booleans are literal; identities match any one.
    policy(
        "validate-client-certificate",
        "validate-client-certificate-policy",
    )
    .sections(INBOUND)
    .scopes(ALL_SCOPES)
    .attrs(&[
        attr("validate-revocation", ValueKind::Bool),
        attr("validate-trust", ValueKind::Bool),
        attr("validate-not-before", ValueKind::Bool),
        attr("validate-not-after", ValueKind::Bool),
        attr("ignore-error", ValueKind::Bool),
    ])
    .content(Content::Elements(&[child("identities").content(
        Content::Elements(&[child("identity")
            .required()
            .many()
            .attrs(&[
                attr("thumbprint", ValueKind::Text).expr(),
                attr("serial-number", ValueKind::Text).expr(),
                attr("common-name", ValueKind::Text).expr(),
                attr("subject", ValueKind::Text).expr(),
                attr("dns-name", ValueKind::Text).expr(),
                attr("issuer-subject", ValueKind::Text).expr(),
                attr("issuer-thumbprint", ValueKind::Text).expr(),
                attr("issuer-certificate-id", ValueKind::Text).expr(),
            ])
            .rules(&[
                Rule::AtMostOneAttr(&["issuer-certificate-id", "issuer-subject"]),
                Rule::AtMostOneAttr(&["issuer-certificate-id", "issuer-thumbprint"]),
            ])]),
    )])),
    // validate-content-policy.md: max-size at most 102,400 bytes; expressions on the three top-level settings per the
    // toolkit; `case-insensitive-property-names` is in the 2025 statement. `type` maps `from` a type or `when` a condition.
    policy("validate-content", "validate-content-policy")
        .sections(sections(&[
            Section::Inbound,
            Section::Outbound,
            Section::OnError,
        ]))
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("unspecified-content-type-action", ACTION)
                .required()
                .expr(),
            attr(
                "max-size",
                ValueKind::Int {
                    min: 0,
                    max: 102_400,
                },
            )
            .required()
            .expr(),
            attr("size-exceeded-action", ACTION).required().expr(),
            attr("errors-variable-name", ValueKind::Text),
        ])
        .content(Content::Elements(&[
            child("content-type-map")
                .attrs(&[
                    attr("any-content-type-value", ValueKind::Text).expr(),
                    attr("missing-content-type-value", ValueKind::Text).expr(),
                ])
                .content(Content::Elements(&[child("type")
                    .many()
                    .attrs(&[
                        attr("from", ValueKind::Text).expr(),
                        attr("when", ValueKind::Bool).expr(),
                        attr("to", ValueKind::Text).required().expr(),
                    ])
                    .rules(&[Rule::ExactlyOneAttr(&["from", "when"])])])),
            child("content").many().attrs(&[
                attr("type", ValueKind::Text).expr(),
                attr("validate-as", ValueKind::Enum(&["json", "xml", "soap"]))
                    .required()
                    .expr(),
                attr("schema-id", ValueKind::Text).expr(),
                attr("schema-ref", ValueKind::Text).expr(),
                attr("action", ACTION).required().expr(),
                attr("allow-additional-properties", ValueKind::Bool).expr(),
                attr("case-insensitive-property-names", ValueKind::Bool).expr(),
            ]),
        ])),
    // validate-parameters-policy.md: once per section; group attributes override the top-level actions (path has no
    // unspecified action).
    policy("validate-parameters", "validate-parameters-policy")
        .sections(INBOUND)
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("specified-parameter-action", ACTION).required().expr(),
            attr("unspecified-parameter-action", ACTION)
                .required()
                .expr(),
            attr("errors-variable-name", ValueKind::Text),
        ])
        .content(Content::Elements(&[
            parameter_group(
                "headers",
                &[
                    attr("specified-parameter-action", ACTION).expr(),
                    attr("unspecified-parameter-action", ACTION).expr(),
                ],
            ),
            parameter_group(
                "query",
                &[
                    attr("specified-parameter-action", ACTION).expr(),
                    attr("unspecified-parameter-action", ACTION).expr(),
                ],
            ),
            parameter_group("path", &[attr("specified-parameter-action", ACTION).expr()]),
        ]))
        .once(Once::PerSection),
    // validate-headers-policy.md: response headers; once per section.
    policy("validate-headers", "validate-headers-policy")
        .sections(sections(&[Section::Outbound, Section::OnError]))
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("specified-header-action", ACTION).required().expr(),
            attr("unspecified-header-action", ACTION).required().expr(),
            attr("errors-variable-name", ValueKind::Text),
        ])
        .content(Content::Elements(&[child("header").many().attrs(&[
            attr("name", ValueKind::Text).required().expr(),
            attr("action", ACTION).required().expr(),
        ])]))
        .once(Once::PerSection),
    // validate-status-code-policy.md: "multiple statements per policy document: supported". The toolkit writes
    // `error-variable-name`; the page says `errors-variable-name`.
    policy("validate-status-code", "validate-status-code-policy")
        .sections(sections(&[Section::Outbound, Section::OnError]))
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("unspecified-status-code-action", ACTION)
                .required()
                .expr(),
            attr("errors-variable-name", ValueKind::Text),
        ])
        .content(Content::Elements(&[child("status-code").many().attrs(&[
            attr("code", UINT).required().expr(),
            attr("action", ACTION).required().expr(),
        ])])),
    // validate-odata-request-policy.md: no operation scope; once per section; versions like "4.01" are text.
    policy("validate-odata-request", "validate-odata-request-policy")
        .sections(INBOUND)
        .scopes(scopes(&[
            Scope::Global,
            Scope::Workspace,
            Scope::Product,
            Scope::Api,
        ]))
        .attrs(&[
            attr("error-variable-name", ValueKind::Text),
            attr("default-odata-version", ValueKind::Text).expr(),
            attr("min-odata-version", ValueKind::Text).expr(),
            attr("max-odata-version", ValueKind::Text).expr(),
            attr("max-size", UINT).expr(),
        ])
        .once(Once::PerSection),
    // validate-graphql-request-policy.md: no operation scope; once per section; max-size at most 102,400 bytes;
    // error-variable-name is the one variable name documented as expression-capable.
    policy(
        "validate-graphql-request",
        "validate-graphql-request-policy",
    )
    .sections(INBOUND)
    .scopes(scopes(&[
        Scope::Global,
        Scope::Workspace,
        Scope::Product,
        Scope::Api,
    ]))
    .attrs(&[
        attr("error-variable-name", ValueKind::Text).expr(),
        attr(
            "max-size",
            ValueKind::Int {
                min: 0,
                max: 102_400,
            },
        )
        .required()
        .expr(),
        attr("max-depth", UINT).expr(),
    ])
    .content(Content::Elements(&[child("authorize").content(
        Content::Elements(&[child("rule").many().attrs(&[
            attr("path", ValueKind::Text).required().expr(),
            attr(
                "action",
                ValueKind::Enum(&["allow", "remove", "reject", "ignore"]),
            )
            .expr(),
        ])]),
    )]))
    .once(Once::PerSection),
    // get-authorization-context-policy.md (07/2024): every attribute takes expressions; no workspace scope.
    policy(
        "get-authorization-context",
        "get-authorization-context-policy",
    )
    .sections(INBOUND)
    .scopes(NO_WORKSPACE)
    .attrs(&[
        attr("provider-id", ValueKind::Text).required().expr(),
        attr("authorization-id", ValueKind::Text).required().expr(),
        attr("context-variable-name", ValueKind::Text)
            .required()
            .expr(),
        attr("identity-type", ValueKind::Enum(&["managed", "jwt"])).expr(),
        attr("identity", ValueKind::Text).expr(),
        attr("ignore-error", ValueKind::Bool).expr(),
    ]),
    // authentication-basic-policy.md: sets `Authorization: Basic …` for the backend call.
    policy("authentication-basic", "authentication-basic-policy")
        .sections(INBOUND)
        .scopes(ALL_SCOPES)
        .attrs(&[
            attr("username", ValueKind::Text).required().expr(),
            attr("password", ValueKind::Text).required().expr(),
        ]),
    // authentication-certificate-policy.md: the certificate by thumbprint, by certificate-id or as `body` bytes
    // (password only for a protected `body`). Also a child of send-request (integration.rs).
    policy(
        "authentication-certificate",
        "authentication-certificate-policy",
    )
    .sections(INBOUND)
    .scopes(ALL_SCOPES)
    .attrs(&[
        attr("thumbprint", ValueKind::Text).expr(),
        attr("certificate-id", ValueKind::Text).expr(),
        attr("body", ValueKind::Text).expr(),
        attr("password", ValueKind::Text).expr(),
    ])
    .rules(&[Rule::ExactlyOneAttr(&[
        "thumbprint",
        "certificate-id",
        "body",
    ])]),
    // authentication-managed-identity-policy.md (07/2024): no workspace scope; client-id and the variable name are
    // literal. Also a child of send-request (integration.rs). The current page adds
    // `authentication-provider="WorkloadIdentity"` (self-hosted gateways). APIM accepts it in
    // outbound too (a lab does so): a warning there (docs/decisions.md).
    policy(
        "authentication-managed-identity",
        "authentication-managed-identity-policy",
    )
    .sections(INBOUND)
    .tolerated(sections(&[Section::Outbound]))
    .scopes(NO_WORKSPACE)
    .attrs(&[
        attr("resource", ValueKind::Text).required().expr(),
        attr("client-id", ValueKind::Text),
        attr("output-token-variable-name", ValueKind::Text),
        attr("ignore-error", ValueKind::Bool).expr(),
        attr(
            "authentication-provider",
            ValueKind::Enum(&["WorkloadIdentity"]),
        ),
    ])
    .rules(&[Rule::AtMostOneAttr(&[
        "client-id",
        "authentication-provider",
    ])]),
];
