//! Routing: `forward-request`, `set-backend-service` (plain, Service Fabric and
//! Dapr forms) and `proxy` (a policy of its own and a child of `send-request`).

use super::{PolicySchema, Rule, Section, UINT, ValueKind, attr, policy, sections};

pub(super) const POLICIES: &[PolicySchema] = &[
    // forward-request-policy.md: backend only; `timeout` (s) or `timeout-ms`, not both.
    // `http-version` and `buffer-request-body` say nothing about expressions; the toolkit
    // models both as literals. The 2022 page said "multiple statements per policy document:
    // not supported"; the current page does not, and one per `choose` branch is common: no
    // once rule.
    policy("forward-request", "forward-request-policy")
        .sections(sections(&[Section::Backend]))
        .attrs(&[
            attr("http-version", ValueKind::Enum(&["1", "2or1", "2"])),
            attr("timeout", UINT).expr(),
            attr("timeout-ms", UINT).expr(),
            attr("continue-timeout", UINT).expr(),
            attr("follow-redirects", ValueKind::Bool).expr(),
            attr("buffer-request-body", ValueKind::Bool),
            attr("buffer-response", ValueKind::Bool),
            attr("fail-on-error-status-code", ValueKind::Bool),
        ])
        .rules(&[Rule::AtMostOneAttr(&["timeout", "timeout-ms"])]),
    // set-backend-service-policy.md + set-backend-service-dapr-policy.md: exactly one of
    // `base-url`/`backend-id` in every form (Dapr requires `backend-id="dapr"`). Service Fabric
    // `sf-*` and Dapr `dapr-*` attributes allow expressions; `sf-replica-type` is only in the
    // older page and its example (primary|secondary). "dapr-app-id/dapr-method required when
    // backend-id is dapr" cannot be expressed: not checked. Sections and scopes: the union of
    // both pages (the Dapr form is inbound only, no workspace scope).
    policy("set-backend-service", "set-backend-service-policy")
        .sections(sections(&[Section::Inbound, Section::Backend]))
        .attrs(&[
            attr("base-url", ValueKind::Text).expr(),
            attr("backend-id", ValueKind::Text).expr(),
            attr("sf-resolve-condition", ValueKind::Bool).expr(),
            attr("sf-service-instance-name", ValueKind::Text).expr(),
            attr("sf-partition-key", ValueKind::Text).expr(),
            attr(
                "sf-replica-type",
                ValueKind::Enum(&["primary", "secondary"]),
            )
            .expr(),
            attr("sf-listener-name", ValueKind::Text).expr(),
            attr("dapr-app-id", ValueKind::Text).expr(),
            attr("dapr-method", ValueKind::Text).expr(),
            attr("dapr-namespace", ValueKind::Text).expr(),
        ])
        .rules(&[Rule::ExactlyOneAttr(&["base-url", "backend-id"])]),
    // proxy-policy.md: HTTP proxy (http://host:port), Basic/NTLM credentials; all attributes
    // allow expressions. Inbound only as a policy; inside send-request(s) it is a child.
    policy("proxy", "proxy-policy")
        .sections(sections(&[Section::Inbound]))
        .attrs(&[
            attr("url", ValueKind::Text).required().expr(),
            attr("username", ValueKind::Text).expr(),
            attr("password", ValueKind::Text).expr(),
        ]),
];
