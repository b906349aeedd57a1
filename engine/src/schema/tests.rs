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
