//! Transformation: headers, query parameters, bodies, method and status,
//! variables, URL rewriting, early responses and body conversions.
//!
//! Where a page says nothing about expressions for an attribute, APIM's
//! general rule applies ("unless the policy specifies otherwise, policy
//! expressions can be used"), except where the attribute picks how the content
//! is read at load time (`set-body@template`) or Microsoft's policy toolkit
//! models it as a literal; each such case is noted.

use super::{
    ALL_SECTIONS, Content, INT, Once, PolicySchema, Rule, Section, ValueKind, attr, child, policy,
    policy_child, sections,
};

const EXISTS_ACTION: ValueKind = ValueKind::Enum(&["override", "skip", "append", "delete"]);

pub(super) const POLICIES: &[PolicySchema] = &[
    // set-header-policy.md: `value` 0..n (none for `delete`); also a child of return-response
    // and send-request.
    policy("set-header", "set-header-policy")
        .sections(ALL_SECTIONS)
        .attrs(&[
            attr("name", ValueKind::Text).required().expr(),
            attr("exists-action", EXISTS_ACTION).expr(),
        ])
        .content(Content::Elements(&[child("value").many().content(
            Content::Text {
                expr: true,
                required: false,
            },
        )])),
    // set-query-parameter-policy.md: inbound and backend only. The Elements table marks `value`
    // required, but `exists-action="delete"` takes none; "required unless delete" cannot be
    // expressed, so permissive: 0..n.
    policy("set-query-parameter", "set-query-parameter-policy")
        .sections(sections(&[Section::Inbound, Section::Backend]))
        .attrs(&[
            attr("name", ValueKind::Text).required().expr(),
            attr("exists-action", EXISTS_ACTION).expr(),
        ])
        .content(Content::Elements(&[child("value").many().content(
            Content::Text {
                expr: true,
                required: false,
            },
        )])),
    // set-body-policy.md: content is literal text (may hold markup, e.g. a SOAP envelope for
    // Liquid) or an expression. Page lists inbound/outbound/backend; the policies overview
    // says to use it in on-error (apim-core §14.2): permissive, all four. `template`: docs
    // list only `liquid`; `none` (the default spelled out) is undocumented but used by
    // Microsoft's ai-gateway-labs (mcp-client-authorization), so accepted. No expressions:
    // the template mode must be known at load (docs silent; toolkit literal).
    policy("set-body", "set-body-policy")
        .sections(ALL_SECTIONS)
        .attrs(&[
            attr("template", ValueKind::Enum(&["liquid", "none"])),
            attr("xsi-nil", ValueKind::Enum(&["blank", "null"])),
            attr("parse-date", ValueKind::Bool),
        ])
        .content(Content::Raw { expr: true }),
    // set-method-policy.md: the text is the method, expressions allowed (the send-request
    // page says not allowed for its child; permissive, apim-core §14.3).
    policy("set-method", "set-method-policy")
        .sections(sections(&[Section::Inbound, Section::OnError]))
        .content(Content::Text {
            expr: true,
            required: true,
        }),
    // set-status-policy.md: `reason` is "required" by the docs but omitted by 21 uses in the
    // official samples (policy-snippets, ai-gateway-labs, which deploy them as they are):
    // permissive, optional. No range is documented for `code`.
    policy("set-status", "set-status-policy")
        .sections(ALL_SECTIONS)
        .attrs(&[
            attr("code", INT).required().expr(),
            attr("reason", ValueKind::Text).expr(),
        ]),
    // set-variable-policy.md: `name` literal; a literal `value` is stored as a string.
    policy("set-variable", "set-variable-policy")
        .sections(ALL_SECTIONS)
        .attrs(&[
            attr("name", ValueKind::Text).required(),
            attr("value", ValueKind::Text).required().expr(),
        ]),
    // rewrite-uri-policy.md: an expression `template` must be the whole value.
    policy("rewrite-uri", "rewrite-uri-policy")
        .sections(sections(&[Section::Inbound]))
        .attrs(&[
            attr("template", ValueKind::Text).required().expr(),
            attr("copy-unmatched-params", ValueKind::Bool).expr(),
        ]),
    // return-response-policy.md: children modify the variable's response when both are given.
    policy("return-response", "return-response-policy")
        .sections(ALL_SECTIONS)
        .attrs(&[attr("response-variable-name", ValueKind::Text)])
        .content(Content::Elements(&[
            policy_child("set-status"),
            policy_child("set-header").many(),
            policy_child("set-body"),
        ])),
    // mock-response-policy.md: no expressions in either attribute; no range for `status-code`.
    // The toolkit's `index` attribute is not documented.
    policy("mock-response", "mock-response-policy")
        .sections(sections(&[
            Section::Inbound,
            Section::Outbound,
            Section::OnError,
        ]))
        .attrs(&[
            attr("status-code", INT),
            attr("content-type", ValueKind::Text),
        ]),
    // find-and-replace-policy.md: an empty `to` deletes the matches.
    policy("find-and-replace", "find-and-replace-policy")
        .sections(ALL_SECTIONS)
        .attrs(&[
            attr("from", ValueKind::Text).required().expr(),
            attr("to", ValueKind::Text).required().expr(),
        ]),
    // json-to-xml-policy.md: `parse-date` is the only literal-only attribute;
    // `namespace-separator` is one character.
    policy("json-to-xml", "json-to-xml-policy")
        .sections(sections(&[
            Section::Inbound,
            Section::Outbound,
            Section::OnError,
        ]))
        .attrs(&[
            attr("apply", ValueKind::Enum(&["always", "content-type-json"]))
                .required()
                .expr(),
            attr("consider-accept-header", ValueKind::Bool).expr(),
            attr("parse-date", ValueKind::Bool),
            attr("namespace-separator", ValueKind::Text).expr(),
            attr("namespace-prefix", ValueKind::Text).expr(),
            attr("attribute-block-name", ValueKind::Text).expr(),
        ]),
    // xml-to-json-policy.md: all attributes allow expressions.
    policy("xml-to-json", "xml-to-json-policy")
        .sections(sections(&[
            Section::Inbound,
            Section::Outbound,
            Section::OnError,
        ]))
        .attrs(&[
            attr("kind", ValueKind::Enum(&["javascript-friendly", "direct"]))
                .required()
                .expr(),
            attr("apply", ValueKind::Enum(&["always", "content-type-xml"]))
                .required()
                .expr(),
            attr("consider-accept-header", ValueKind::Bool).expr(),
            attr("always-array-child-elements", ValueKind::Bool).expr(),
        ]),
    // xsl-transform-policy.md: once per section; XSLT 1.0. The statement names the parameter
    // attribute `parameter-name`, the examples (and the toolkit) `name`: either, not both.
    // The stylesheet is kept verbatim; its attributes are XSLT 1.0's plus the `xsl`
    // namespace declaration (other `xmlns:*` declarations are not attributes to validate).
    policy("xsl-transform", "xsl-transform-policy")
        .sections(sections(&[Section::Inbound, Section::Outbound]))
        .content(Content::Elements(&[
            child("parameter")
                .many()
                .attrs(&[
                    attr("name", ValueKind::Text),
                    attr("parameter-name", ValueKind::Text),
                ])
                .rules(&[Rule::ExactlyOneAttr(&["name", "parameter-name"])])
                .content(Content::Text {
                    expr: true,
                    required: false,
                }),
            child("xsl:stylesheet")
                .required()
                .attrs(&[
                    attr("version", ValueKind::Text).required(),
                    attr("xmlns:xsl", ValueKind::Text),
                    attr("id", ValueKind::Text),
                    attr("extension-element-prefixes", ValueKind::Text),
                    attr("exclude-result-prefixes", ValueKind::Text),
                ])
                .content(Content::Raw { expr: false }),
        ]))
        .once(Once::PerSection),
    // redirect-content-urls-policy.md: no attributes; once per section.
    policy("redirect-content-urls", "redirect-content-urls-policy")
        .sections(sections(&[Section::Inbound, Section::Outbound]))
        .once(Once::PerSection),
];
