use super::*;

#[test]
fn names_are_unique_and_lowercase() {
    let mut seen = std::collections::HashSet::new();
    for p in catalog() {
        assert!(seen.insert(p.name), "`{}` is in the catalog twice", p.name);
        assert!(
            p.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{}",
            p.name
        );
        assert!(!p.doc.is_empty(), "{} has no doc page", p.name);
    }
}

#[test]
fn policy_children_refer_to_known_policies() {
    fn check(content: &Content, owner: &str) {
        match content {
            Content::Policy(name) => {
                assert!(lookup(name).is_some(), "{owner}: `{name}` is not a policy")
            }
            Content::PoliciesOf(names) => {
                for n in *names {
                    assert!(lookup(n).is_some(), "{owner}: `{n}` is not a policy");
                }
            }
            Content::Elements(children) => {
                for c in *children {
                    check(&c.content, owner);
                }
            }
            _ => {}
        }
    }
    for p in catalog() {
        check(&p.content, p.name);
    }
}

#[test]
fn lookup_finds_choose() {
    let choose = lookup("choose").expect("choose is in the catalog");
    assert!(matches!(choose.content, Content::Elements(_)));
    assert!(lookup("chose").is_none());
}

// --- transform.rs, routing.rs, integration.rs ---

fn attr_of(p: &PolicySchema, name: &str) -> AttrSchema {
    *p.attrs
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("{}: no attribute `{name}`", p.name))
}

fn child_names(content: &Content) -> Vec<&'static str> {
    match content {
        Content::Elements(children) => children.iter().map(|c| c.name).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn transform_routing_integration_are_all_present() {
    for name in [
        "set-header",
        "set-query-parameter",
        "set-body",
        "set-method",
        "set-status",
        "set-variable",
        "rewrite-uri",
        "return-response",
        "mock-response",
        "find-and-replace",
        "json-to-xml",
        "xml-to-json",
        "xsl-transform",
        "redirect-content-urls",
        "forward-request",
        "set-backend-service",
        "proxy",
        "send-request",
        "send-one-way-request",
        "log-to-eventhub",
        "publish-to-dapr",
        "invoke-dapr-binding",
        "send-service-bus-message",
    ] {
        let p = lookup(name).unwrap_or_else(|| panic!("`{name}` is missing"));
        assert_eq!(p.doc, format!("{name}-policy"), "{name}: doc page");
    }
}

#[test]
fn no_policy_declares_id_and_no_attribute_is_listed_twice() {
    fn attrs_ok(owner: &str, attrs: &[AttrSchema]) {
        let mut seen = std::collections::HashSet::new();
        for a in attrs {
            assert!(seen.insert(a.name), "{owner}: `{}` twice", a.name);
        }
    }
    fn content_ok(owner: &str, content: &Content) {
        if let Content::Elements(children) = content {
            let mut seen = std::collections::HashSet::new();
            for c in *children {
                assert!(seen.insert(c.name), "{owner}: child `{}` twice", c.name);
                attrs_ok(owner, c.attrs);
                content_ok(owner, &c.content);
            }
        }
    }
    for p in catalog() {
        assert!(
            p.attrs.iter().all(|a| a.name != "id"),
            "{}: `id` is implicit on every policy",
            p.name
        );
        attrs_ok(p.name, p.attrs);
        content_ok(p.name, &p.content);
    }
}

#[test]
fn send_request_children_follow_the_policy_statement() {
    let expected = [
        "set-url",
        "set-method",
        "set-header",
        "set-body",
        "authentication-certificate",
        "authentication-managed-identity",
        "proxy",
    ];
    for name in ["send-request", "send-one-way-request"] {
        let p = lookup(name).unwrap();
        assert_eq!(child_names(&p.content), expected, "{name}");
    }
    let sr = lookup("send-request").unwrap();
    assert!(attr_of(sr, "response-variable-name").required);
    assert!(!attr_of(sr, "ignore-error").expr);
    assert!(
        lookup("send-one-way-request")
            .unwrap()
            .attrs
            .iter()
            .all(|a| a.name != "response-variable-name")
    );
}

#[test]
fn return_response_takes_status_headers_body_in_order() {
    let p = lookup("return-response").unwrap();
    let Content::Elements(children) = p.content else {
        panic!("elements expected")
    };
    assert_eq!(
        child_names(&p.content),
        ["set-status", "set-header", "set-body"]
    );
    assert_eq!(children[1].max, None, "set-header repeats");
    assert!(
        children
            .iter()
            .all(|c| c.content == Content::Policy(c.name))
    );
    assert!(!attr_of(p, "response-variable-name").expr);
}

#[test]
fn set_backend_service_needs_base_url_or_backend_id() {
    let p = lookup("set-backend-service").unwrap();
    assert!(
        p.rules
            .contains(&Rule::ExactlyOneAttr(&["base-url", "backend-id"]))
    );
    let sf_and_dapr = [
        "sf-resolve-condition",
        "sf-partition-key",
        "sf-replica-type",
        "dapr-app-id",
        "dapr-method",
    ];
    for a in sf_and_dapr {
        assert!(attr_of(p, a).expr, "{a}");
    }
    assert_eq!(p.sections, sections(&[Section::Inbound, Section::Backend]));
}

#[test]
fn forward_request_is_backend_only_with_one_timeout() {
    let p = lookup("forward-request").unwrap();
    assert_eq!(p.sections, sections(&[Section::Backend]));
    assert!(
        p.rules
            .contains(&Rule::AtMostOneAttr(&["timeout", "timeout-ms"]))
    );
    assert!(attr_of(p, "timeout").expr);
    assert!(!attr_of(p, "buffer-response").expr);
    assert!(!attr_of(p, "fail-on-error-status-code").expr);
}

#[test]
fn literal_only_attributes_stay_literal() {
    for (policy, attr) in [
        ("set-variable", "name"),
        ("mock-response", "status-code"),
        ("mock-response", "content-type"),
        ("set-body", "xsi-nil"),
        ("set-body", "parse-date"),
        ("json-to-xml", "parse-date"),
        ("log-to-eventhub", "logger-id"),
        ("log-to-eventhub", "partition-id"),
        ("publish-to-dapr", "response-variable-name"),
        ("invoke-dapr-binding", "operation"),
    ] {
        assert!(
            !attr_of(lookup(policy).unwrap(), attr).expr,
            "{policy}@{attr}"
        );
    }
}

#[test]
fn once_per_section_transforms() {
    for name in ["xsl-transform", "redirect-content-urls"] {
        assert_eq!(lookup(name).unwrap().once, Once::PerSection, "{name}");
    }
    assert_eq!(lookup("set-header").unwrap().once, Once::No);
}

#[test]
fn service_bus_message_properties_precede_payload() {
    let p = lookup("send-service-bus-message").unwrap();
    assert_eq!(child_names(&p.content), ["message-properties", "payload"]);
    assert!(
        p.rules
            .contains(&Rule::ExactlyOneAttr(&["queue-name", "topic-name"]))
    );
}

// --- access.rs, caching.rs, ai.rs, misc.rs ---

#[test]
fn access_caching_ai_misc_are_all_present() {
    for name in [
        "rate-limit",
        "rate-limit-by-key",
        "quota",
        "quota-by-key",
        "limit-concurrency",
        "check-header",
        "ip-filter",
        "validate-jwt",
        "validate-azure-ad-token",
        "validate-client-certificate",
        "validate-content",
        "validate-parameters",
        "validate-headers",
        "validate-status-code",
        "validate-odata-request",
        "validate-graphql-request",
        "get-authorization-context",
        "authentication-basic",
        "authentication-certificate",
        "authentication-managed-identity",
        "cache-lookup",
        "cache-store",
        "cache-lookup-value",
        "cache-store-value",
        "cache-remove-value",
        "llm-semantic-cache-lookup",
        "llm-semantic-cache-store",
        "azure-openai-semantic-cache-lookup",
        "azure-openai-semantic-cache-store",
        "llm-token-limit",
        "azure-openai-token-limit",
        "llm-emit-token-metric",
        "azure-openai-emit-token-metric",
        "llm-content-safety",
        "cors",
        "jsonp",
        "cross-domain",
        "trace",
        "emit-metric",
    ] {
        let p = lookup(name).unwrap_or_else(|| panic!("`{name}` is missing"));
        assert_eq!(p.doc, format!("{name}-policy"), "{name}: doc page");
    }
    for resolver in [
        "http-data-source",
        "sql-data-source",
        "cosmosdb-data-source",
        "publish-event",
    ] {
        assert!(
            lookup(resolver).is_none(),
            "{resolver} belongs to resolver documents"
        );
    }
}

#[test]
fn rules_name_declared_attributes_and_children() {
    fn check(owner: &str, attrs: &[AttrSchema], content: &Content, rules: &[Rule]) {
        let children = child_names(content);
        for rule in rules {
            match rule {
                Rule::ExactlyOneAttr(names)
                | Rule::AtLeastOneAttr(names)
                | Rule::AtMostOneAttr(names) => {
                    assert!(names.len() >= 2, "{owner}: {rule:?} names fewer than two");
                    for n in *names {
                        assert!(
                            attrs.iter().any(|a| a.name == *n),
                            "{owner}: {rule:?} names no attribute `{n}`"
                        );
                        assert!(
                            !attrs.iter().any(|a| a.name == *n && a.required),
                            "{owner}: `{n}` is required and in {rule:?}"
                        );
                    }
                }
                Rule::AtLeastOneChild(names) => {
                    for n in *names {
                        assert!(
                            children.contains(n),
                            "{owner}: {rule:?} names no child `{n}`"
                        );
                    }
                }
            }
        }
        if let Content::Elements(cs) = content {
            for c in *cs {
                assert!(
                    c.max.is_none_or(|max| max >= c.min.max(1)),
                    "{owner}/{}: occurs {}..{:?}",
                    c.name,
                    c.min,
                    c.max
                );
                check(&format!("{owner}/{}", c.name), c.attrs, &c.content, c.rules);
            }
        }
    }
    for p in catalog() {
        check(p.name, p.attrs, &p.content, p.rules);
    }
}

#[test]
fn value_ranges_are_well_formed() {
    fn check(owner: &str, attrs: &[AttrSchema], content: &Content) {
        for a in attrs {
            match a.kind {
                ValueKind::Int { min, max } => assert!(min <= max, "{owner}@{}", a.name),
                ValueKind::Number { min, max } => assert!(min <= max, "{owner}@{}", a.name),
                ValueKind::Enum(words) => assert!(!words.is_empty(), "{owner}@{}", a.name),
                ValueKind::Text | ValueKind::Bool => {}
            }
        }
        if let Content::Elements(cs) = content {
            for c in *cs {
                check(&format!("{owner}/{}", c.name), c.attrs, &c.content);
            }
        }
    }
    for p in catalog() {
        check(p.name, p.attrs, &p.content);
    }
}

#[test]
fn semantic_cache_names_share_one_schema() {
    let llm = lookup("llm-semantic-cache-lookup").unwrap();
    let aoai = lookup("azure-openai-semantic-cache-lookup").unwrap();
    assert_eq!(llm.attrs, aoai.attrs);
    assert_eq!(llm.content, aoai.content);
    for p in [llm, aoai] {
        assert_eq!(p.sections, sections(&[Section::Inbound]), "{}", p.name);
        assert_eq!(p.once, Once::PerSection, "{}", p.name);
        assert_eq!(
            attr_of(p, "score-threshold").kind,
            ValueKind::Number { min: 0.0, max: 1.0 }
        );
        assert!(attr_of(p, "embeddings-backend-id").required);
        assert_eq!(child_names(&p.content), ["vary-by"]);
    }
    for name in [
        "llm-semantic-cache-store",
        "azure-openai-semantic-cache-store",
    ] {
        let p = lookup(name).unwrap();
        assert_eq!(p.sections, sections(&[Section::Outbound]), "{name}");
        assert_eq!(p.once, Once::PerSection, "{name}");
        assert!(attr_of(p, "duration").required, "{name}");
    }
    assert!(
        attr_of(
            lookup("llm-semantic-cache-store").unwrap(),
            "cache-response"
        )
        .expr
    );
}

#[test]
fn subscription_limits_keep_their_scopes() {
    let rate = lookup("rate-limit").unwrap();
    assert_eq!(
        rate.scopes,
        scopes(&[Scope::Product, Scope::Api, Scope::Operation])
    );
    assert_eq!(rate.once, Once::PerDocument);
    assert!(
        rate.attrs.iter().all(|a| !a.expr),
        "rate-limit takes no expressions"
    );
    let quota = lookup("quota").unwrap();
    assert_eq!(quota.scopes, scopes(&[Scope::Product]));
    assert!(
        quota
            .rules
            .contains(&Rule::AtLeastOneAttr(&["calls", "bandwidth"]))
    );
    assert_eq!(lookup("rate-limit-by-key").unwrap().scopes, ALL_SCOPES);
    for name in ["llm-token-limit", "azure-openai-token-limit"] {
        let p = lookup(name).unwrap();
        assert!(
            p.rules
                .contains(&Rule::AtLeastOneAttr(&["tokens-per-minute", "token-quota"])),
            "{name}"
        );
        assert_eq!(p.once, Once::No, "{name}");
    }
}

#[test]
fn token_sources_and_value_caches() {
    let jwt = lookup("validate-jwt").unwrap();
    assert!(jwt.rules.contains(&Rule::ExactlyOneAttr(&[
        "header-name",
        "query-parameter-name",
        "token-value"
    ])));
    assert!(!attr_of(jwt, "output-token-variable-name").expr);
    assert_eq!(
        child_names(&jwt.content),
        [
            "openid-config",
            "issuer-signing-keys",
            "decryption-keys",
            "audiences",
            "issuers",
            "required-claims"
        ]
    );
    let ip = lookup("ip-filter").unwrap();
    assert!(
        ip.rules
            .contains(&Rule::AtLeastOneChild(&["address", "address-range"]))
    );
    // The page's "once per section" note is a copy of cache-store's; samples store several values per section.
    assert_eq!(lookup("cache-store-value").unwrap().once, Once::No);
    assert!(!attr_of(lookup("cache-lookup-value").unwrap(), "variable-name").expr);
    assert_eq!(
        lookup("cross-domain").unwrap().scopes,
        scopes(&[Scope::Global])
    );
}
