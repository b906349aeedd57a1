//! Integration and external communication: `send-request`,
//! `send-one-way-request`, `log-to-eventhub`, the Dapr policies and
//! `send-service-bus-message`.

use super::{
    ALL_SECTIONS, ChildSchema, Content, PolicySchema, Rule, Scope, Scopes, Section, UINT,
    ValueKind, attr, child, policy, policy_child, scopes, sections,
};

/// The children of `send-request` and `send-one-way-request`, in the order of their statements.
/// `set-url` and `set-method` are "required unless mode=copy", which cannot be expressed:
/// both optional. The pages say `set-method` allows no expressions there, the set-method
/// page says it does: permissive (apim-core §14.3). `authentication-managed-identity` is in
/// the current statements (between the certificate and `proxy`).
const REQUEST_CHILDREN: &[ChildSchema] = &[
    child("set-url").content(Content::Text {
        expr: true,
        required: true,
    }),
    policy_child("set-method"),
    policy_child("set-header").many(),
    policy_child("set-body"),
    policy_child("authentication-certificate"),
    policy_child("authentication-managed-identity"),
    policy_child("proxy"),
];

/// `global, product, API, operation`: pages that do not list the workspace scope.
const NO_WORKSPACE: Scopes = scopes(&[Scope::Global, Scope::Product, Scope::Api, Scope::Operation]);

/// The Dapr pages name `Liquid` as the only template value; `set-body` spells it `liquid`.
/// Both spellings accepted (how APIM compares it is not documented).
const DAPR_TEMPLATE: ValueKind = ValueKind::Enum(&["Liquid", "liquid"]);

pub(super) const POLICIES: &[PolicySchema] = &[
    // send-request-policy.md: `response-variable-name` required, and the page says expressions
    // are allowed in it (apim-core §14.4; kept permissive). `ignore-error` literal only.
    policy("send-request", "send-request-policy")
        .sections(ALL_SECTIONS)
        .attrs(&[
            attr("mode", ValueKind::Enum(&["new", "copy"])).expr(),
            attr("response-variable-name", ValueKind::Text)
                .required()
                .expr(),
            attr("timeout", UINT).expr(),
            attr("ignore-error", ValueKind::Bool),
        ])
        .content(Content::Elements(REQUEST_CHILDREN)),
    // send-one-way-request-policy.md: like send-request without a response variable or
    // ignore-error; fire and forget.
    policy("send-one-way-request", "send-one-way-request-policy")
        .sections(ALL_SECTIONS)
        .attrs(&[
            attr("mode", ValueKind::Enum(&["new", "copy"])).expr(),
            attr("timeout", UINT).expr(),
        ])
        .content(Content::Elements(REQUEST_CHILDREN)),
    // log-to-eventhub-policy.md: the text (an expression or literal) is the message, truncated
    // at 200 KB. `logger-id` and `partition-id` literal only (the toolkit allows an expression
    // in `logger-id`; the page does not). `partition-id` and `partition-key` exclude each other.
    policy("log-to-eventhub", "log-to-eventhub-policy")
        .sections(ALL_SECTIONS)
        .scopes(NO_WORKSPACE)
        .attrs(&[
            attr("logger-id", ValueKind::Text).required(),
            attr("partition-id", UINT),
            attr("partition-key", ValueKind::Text).expr(),
        ])
        .rules(&[Rule::AtMostOneAttr(&["partition-id", "partition-key"])])
        .content(Content::Text {
            expr: true,
            required: true,
        }),
    // publish-to-dapr-policy.md: self-hosted only; the text is the message content (a Liquid
    // template when `template` is set). Without `pubsub-name`, `topic` is `pubsub/topic`.
    // `template` and `content-type` say nothing about expressions; the toolkit models them
    // as literals.
    policy("publish-to-dapr", "publish-to-dapr-policy")
        .sections(sections(&[Section::Inbound]))
        .scopes(NO_WORKSPACE)
        .attrs(&[
            attr("pubsub-name", ValueKind::Text).expr(),
            attr("topic", ValueKind::Text).required().expr(),
            attr("ignore-error", ValueKind::Bool),
            attr("response-variable-name", ValueKind::Text),
            attr("timeout", ValueKind::Int { min: 1, max: 240 }).expr(),
            attr("template", DAPR_TEMPLATE),
            attr("content-type", ValueKind::Enum(&["application/json"])),
        ])
        .content(Content::Text {
            expr: true,
            required: false,
        }),
    // invoke-dapr-binding-policy.md: self-hosted only; `metadata` holds `item key=...` pairs
    // (values allow expressions, keys are literal per the toolkit), `data` the message.
    policy("invoke-dapr-binding", "invoke-dapr-binding-policy")
        .sections(sections(&[
            Section::Inbound,
            Section::Outbound,
            Section::OnError,
        ]))
        .scopes(NO_WORKSPACE)
        .attrs(&[
            attr("name", ValueKind::Text).required().expr(),
            attr("operation", ValueKind::Text),
            attr("ignore-error", ValueKind::Bool),
            attr("response-variable-name", ValueKind::Text),
            attr("timeout", ValueKind::Int { min: 1, max: 240 }).expr(),
            attr("template", DAPR_TEMPLATE),
            attr("content-type", ValueKind::Enum(&["application/json"])),
        ])
        .content(Content::Elements(&[
            child("metadata").content(Content::Elements(&[child("item")
                .many()
                .attrs(&[attr("key", ValueKind::Text).required()])
                .content(Content::Text {
                    expr: true,
                    required: false,
                })])),
            child("data").content(Content::Text {
                expr: true,
                required: false,
            }),
        ])),
    // send-service-bus-message-policy.md (preview, 09/2025): exactly one of `queue-name` /
    // `topic-name`; the current statement puts `message-properties` before `payload` (an
    // earlier revision had them the other way round). The page allows expressions in the
    // properties (the toolkit only in their values): permissive, name and value.
    policy(
        "send-service-bus-message",
        "send-service-bus-message-policy",
    )
    .sections(sections(&[
        Section::Inbound,
        Section::Outbound,
        Section::OnError,
    ]))
    .scopes(NO_WORKSPACE)
    .attrs(&[
        attr("queue-name", ValueKind::Text).expr(),
        attr("topic-name", ValueKind::Text).expr(),
        attr("namespace", ValueKind::Text).expr(),
        attr("client-id", ValueKind::Text).expr(),
    ])
    .rules(&[Rule::ExactlyOneAttr(&["queue-name", "topic-name"])])
    .content(Content::Elements(&[
        child("message-properties").content(Content::Elements(&[child("message-property")
            .many()
            .attrs(&[attr("name", ValueKind::Text).required().expr()])
            .content(Content::Text {
                expr: true,
                required: false,
            })])),
        child("payload").required().content(Content::Text {
            expr: true,
            required: true,
        }),
    ])),
];
