//! `ip-filter`: lets only the listed caller addresses through (`allow`), or
//! blocks them (`forbid`). Addresses and inclusive ranges, IPv4 and IPv6 (an
//! IPv4-mapped IPv6 caller is compared as its IPv4 address); no CIDR, as in
//! APIM. A refused caller gets 403 with APIM's reasons and messages
//! (apim-core.md §3.5). A caller address that cannot be read is refused
//! whatever the action (`FailedToParseCallerIP`): Sluice fails closed.

use std::net::IpAddr;

use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Reason, Reported, Run, Stage,
};
use sluice_engine::xml::Element;

/// An entry: one address (`from == to`) or an inclusive range.
#[derive(Debug)]
struct Entry {
    from: CompiledValue,
    to: CompiledValue,
    /// Both ends, parsed at load when both are literals.
    fixed: Option<(IpAddr, IpAddr)>,
}

#[derive(Debug)]
struct IpFilter {
    action: CompiledValue,
    entries: Vec<Entry>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let action = cx.required(e, "action")?;
    let mut entries = Vec::new();
    for c in e.elements() {
        let mut entry = match c.name.as_str() {
            "address" => {
                let v = cx.text(c)?;
                Entry {
                    from: v.clone(),
                    to: v,
                    fixed: None,
                }
            }
            "address-range" => Entry {
                from: cx.required(c, "from")?,
                to: cx.required(c, "to")?,
                fixed: None,
            },
            _ => continue,
        };
        // Literal addresses are checked at load.
        for v in [&entry.from, &entry.to] {
            if let CompiledValue::Literal(s) = v
                && parse(s).is_none()
            {
                cx.error(
                    Code::InvalidAttributeValue,
                    c.head_span(),
                    format!("`{}` is not an IP address", s.trim()),
                );
                return Err(Reported);
            }
        }
        if let (CompiledValue::Literal(a), CompiledValue::Literal(b)) = (&entry.from, &entry.to) {
            entry.fixed = parse(a).zip(parse(b));
        }
        entries.push(entry);
    }
    Ok(Box::new(IpFilter { action, entries }))
}

/// An address, IPv4-mapped IPv6 as IPv4.
fn parse(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let s = s
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(s);
    s.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// Whether `ip` lies in `from..=to` (same family only).
fn in_range(ip: IpAddr, from: IpAddr, to: IpAddr) -> bool {
    match (ip, from, to) {
        (IpAddr::V4(ip), IpAddr::V4(a), IpAddr::V4(b)) => a <= ip && ip <= b,
        (IpAddr::V6(ip), IpAddr::V6(a), IpAddr::V6(b)) => a <= ip && ip <= b,
        _ => false,
    }
}

fn denied(reason: Reason, message: String) -> PolicyError {
    PolicyError::new("ip-filter", reason, 403, message)
}

impl IpFilter {
    fn listed(&self, x: &Exchange, ip: IpAddr) -> Result<bool, PolicyError> {
        for e in &self.entries {
            if let Some((a, b)) = e.fixed {
                if in_range(ip, a, b) {
                    return Ok(true);
                }
                continue;
            }
            let from = e.from.text(x)?;
            let to = e.to.text(x)?;
            let (Some(a), Some(b)) = (parse(&from), parse(&to)) else {
                return Err(PolicyError::new(
                    "ip-filter",
                    Reason::ExpressionValueEvaluationFailure,
                    500,
                    format!("`{from}`-`{to}` is not an IP address or range"),
                ));
            };
            if in_range(ip, a, b) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn check(&self, x: &Exchange) -> Result<(), PolicyError> {
        let forbid = self.action.text(x)?.trim().eq_ignore_ascii_case("forbid");
        let Some(ip) = x.request().read(|m| parse(&m.ip)) else {
            return Err(denied(
                Reason::FailedToParseCallerIP,
                "Failed to establish IP address for the caller. Access denied.".into(),
            ));
        };
        match (forbid, self.listed(x, ip)?) {
            (false, false) => Err(denied(
                Reason::CallerIpNotAllowed,
                format!(
                    "Caller IP address {} is not allowed. Access denied.",
                    x.request().read(|m| m.ip.clone())
                ),
            )),
            (true, true) => Err(denied(
                Reason::CallerIpBlocked,
                "Caller IP address is blocked. Access denied.".into(),
            )),
            _ => Ok(()),
        }
    }
}

impl Stage for IpFilter {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        match self.check(x) {
            Ok(()) => Run::next(),
            Err(e) => Run::fail(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use sluice_engine::runtime::{Flow, Message, PolicyError};
    use sluice_engine::schema::Section;

    use crate::testkit::{Kit, request, run};

    /// The docs' example.
    const EXAMPLE: &str = r#"<ip-filter action="allow">
        <address>13.66.201.169</address>
        <address-range from="13.66.140.128" to="13.66.140.143" />
    </ip-filter>"#;

    fn filter(policy: &str, ip: &str) -> Result<Flow, PolicyError> {
        let kit = Kit::new();
        let stage = kit.stage(policy, Section::Inbound);
        let req = Message {
            ip: ip.into(),
            ..request("GET", "http://h/api/x", &[])
        };
        let mut x = kit.exchange(req, "/api", Section::Inbound);
        run(stage.as_ref(), &mut x)
    }

    #[test]
    fn allow_lets_listed_addresses_and_inclusive_ranges_through() {
        for ip in [
            "13.66.201.169",
            "13.66.140.128",
            "13.66.140.135",
            "13.66.140.143",
            "::ffff:13.66.140.143",
        ] {
            assert_eq!(filter(EXAMPLE, ip), Ok(Flow::Next), "{ip}");
        }
    }

    #[test]
    fn allow_refuses_others_with_caller_ip_not_allowed() {
        for ip in ["13.66.140.144", "13.66.140.127", "10.0.0.1", "2001:db8::1"] {
            let e = filter(EXAMPLE, ip).unwrap_err();
            assert_eq!(e.source, "ip-filter");
            assert_eq!(e.reason.as_str(), "CallerIpNotAllowed");
            assert_eq!(e.status, 403);
            assert_eq!(
                e.message,
                format!("Caller IP address {ip} is not allowed. Access denied.")
            );
        }
    }

    #[test]
    fn forbid_blocks_listed_addresses_with_caller_ip_blocked() {
        let p = r#"<ip-filter action="forbid"><address>10.0.0.5</address><address-range from="2001:db8::" to="2001:db8::ffff" /></ip-filter>"#;
        for ip in ["10.0.0.5", "2001:db8::10"] {
            let e = filter(p, ip).unwrap_err();
            assert_eq!(e.reason.as_str(), "CallerIpBlocked");
            assert_eq!(e.status, 403);
            assert_eq!(e.message, "Caller IP address is blocked. Access denied.");
        }
        assert_eq!(filter(p, "10.0.0.6"), Ok(Flow::Next));
        assert_eq!(filter(p, "2001:db9::1"), Ok(Flow::Next));
    }

    #[test]
    fn an_unreadable_caller_address_is_refused() {
        for p in [
            EXAMPLE,
            r#"<ip-filter action="forbid"><address>1.2.3.4</address></ip-filter>"#,
        ] {
            let e = filter(p, "not-an-ip").unwrap_err();
            assert_eq!(e.reason.as_str(), "FailedToParseCallerIP");
            assert_eq!(e.status, 403);
            assert_eq!(
                e.message,
                "Failed to establish IP address for the caller. Access denied."
            );
        }
    }

    #[test]
    fn expressions_and_bad_literals() {
        let p = r#"<ip-filter action="@("al" + "low")"><address>@("10.1.2." + "3")</address></ip-filter>"#;
        assert_eq!(filter(p, "10.1.2.3"), Ok(Flow::Next));
        assert!(filter(p, "10.1.2.4").is_err());
        let err = Kit::new()
            .compile(
                r#"<ip-filter action="allow"><address>10.0.0.0/8</address></ip-filter>"#,
                Section::Inbound,
            )
            .unwrap_err();
        assert!(err.contains("`10.0.0.0/8` is not an IP address"), "{err}");
    }
}
