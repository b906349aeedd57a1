use super::*;

#[test]
fn names_are_unique_and_lowercase() {
    let mut seen = std::collections::HashSet::new();
    for p in catalog() {
        assert!(seen.insert(p.name), "`{}` is in the catalog twice", p.name);
        assert!(p.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}", p.name);
        assert!(!p.doc.is_empty(), "{} has no doc page", p.name);
    }
}

#[test]
fn policy_children_refer_to_known_policies() {
    fn check(content: &Content, owner: &str) {
        match content {
            Content::Policy(name) => assert!(lookup(name).is_some(), "{owner}: `{name}` is not a policy"),
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
    *p.attrs.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("{}: no attribute `{name}`", p.name))
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
        "set-header", "set-query-parameter", "set-body", "set-method", "set-status", "set-variable",
        "rewrite-uri", "return-response", "mock-response", "find-and-replace", "json-to-xml",
        "xml-to-json", "xsl-transform", "redirect-content-urls", "forward-request",
        "set-backend-service", "proxy", "send-request", "send-one-way-request", "log-to-eventhub",
        "publish-to-dapr", "invoke-dapr-binding", "send-service-bus-message",
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
        assert!(p.attrs.iter().all(|a| a.name != "id"), "{}: `id` is implicit on every policy", p.name);
        attrs_ok(p.name, p.attrs);
        content_ok(p.name, &p.content);
    }
}

#[test]
fn send_request_children_follow_the_policy_statement() {
    let expected = [
        "set-url", "set-method", "set-header", "set-body", "authentication-certificate",
        "authentication-managed-identity", "proxy",
    ];
    for name in ["send-request", "send-one-way-request"] {
        let p = lookup(name).unwrap();
        assert_eq!(child_names(&p.content), expected, "{name}");
    }
    let sr = lookup("send-request").unwrap();
    assert!(attr_of(sr, "response-variable-name").required);
    assert!(!attr_of(sr, "ignore-error").expr);
    assert!(lookup("send-one-way-request").unwrap().attrs.iter().all(|a| a.name != "response-variable-name"));
}

#[test]
fn return_response_takes_status_headers_body_in_order() {
    let p = lookup("return-response").unwrap();
    let Content::Elements(children) = p.content else { panic!("elements expected") };
    assert_eq!(child_names(&p.content), ["set-status", "set-header", "set-body"]);
    assert_eq!(children[1].max, None, "set-header repeats");
    assert!(children.iter().all(|c| c.content == Content::Policy(c.name)));
    assert!(!attr_of(p, "response-variable-name").expr);
}

#[test]
fn set_backend_service_needs_base_url_or_backend_id() {
    let p = lookup("set-backend-service").unwrap();
    assert!(p.rules.contains(&Rule::ExactlyOneAttr(&["base-url", "backend-id"])));
    let sf_and_dapr = ["sf-resolve-condition", "sf-partition-key", "sf-replica-type", "dapr-app-id", "dapr-method"];
    for a in sf_and_dapr {
        assert!(attr_of(p, a).expr, "{a}");
    }
    assert_eq!(p.sections, sections(&[Section::Inbound, Section::Backend]));
}

#[test]
fn forward_request_is_backend_only_with_one_timeout() {
    let p = lookup("forward-request").unwrap();
    assert_eq!(p.sections, sections(&[Section::Backend]));
    assert!(p.rules.contains(&Rule::AtMostOneAttr(&["timeout", "timeout-ms"])));
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
        assert!(!attr_of(lookup(policy).unwrap(), attr).expr, "{policy}@{attr}");
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
    assert!(p.rules.contains(&Rule::ExactlyOneAttr(&["queue-name", "topic-name"])));
}
