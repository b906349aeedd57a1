//! Running one case: load its configuration into a plan, then each step in
//! order (advance the clock, reload a scope, send the request, compare), on
//! a fresh plan, fresh stubs and a fresh clock.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sluice_engine::runtime::{Multimap, Services, collect};
use toml::Spanned;

use super::case::{self, Case, RequestSpec, Step};
use super::expect::{self, Observed};
use super::stubs::Stubs;
use crate::build::{Input, Purpose, build};
use crate::config::{Config, model::PolicyText};
use crate::plan::{Plan, Request, Response};
use crate::resources::Families;
use crate::resources::metrics::RequestMetrics;

/// How a case ended.
#[derive(Debug)]
pub enum Outcome {
    Passed,
    /// `step` counts from 1; 0 is loading the configuration.
    Failed {
        step: usize,
        lines: Vec<String>,
    },
    Skipped(String),
    /// The file could not be read or parsed as a case.
    Broken(String),
}

/// A case's outcome, and a line per step for `--verbose`.
#[derive(Debug)]
pub struct Report {
    pub title: Option<String>,
    pub outcome: Outcome,
    pub steps: Vec<String>,
}

/// The case being run: where it is, and the policy replacements of the
/// reloads that succeeded so far (the configuration is rebuilt from the
/// file with all of them applied, as a running gateway rebuilds its plan).
struct Run<'a> {
    name: &'a str,
    text: &'a str,
    base: &'a Path,
    reloads: Vec<(String, String)>,
    /// The case's resource families (its semantic cache, ...), made with
    /// its first plan and kept across reloads.
    families: Option<Arc<Families>>,
}

impl Run<'_> {
    fn plan(&mut self) -> Result<Plan, String> {
        let (_, mut config) = case::parse(self.name, self.text)?;
        for (scope, policy) in &self.reloads {
            replace(&mut config, scope, policy)?;
        }
        let input = Input::Text {
            name: self.name,
            base: self.base,
            text: self.text,
            config: Some(Box::new(config)),
        };
        let built =
            build(input, self.families.as_ref(), Purpose::TEST).map_err(|d| d.to_string())?;
        self.families = Some(built.families);
        Ok(built.plan)
    }
}

/// Replaces one scope's policy in the configuration.
fn replace(config: &mut Config, scope: &str, policy: &str) -> Result<(), String> {
    let text = || Some(Spanned::new(0..0, policy.to_owned()));
    let missing = || format!("reload: no scope `{scope}` in this configuration");
    let (kind, name) = scope.split_once(':').unwrap_or((scope, ""));
    match kind {
        "global" => {
            config.policy.global = text();
            config.policy.global_file = None;
        }
        "product" => {
            let p = config
                .products
                .iter_mut()
                .find(|p| p.get_ref().name.get_ref() == name)
                .ok_or_else(missing)?;
            p.get_mut().policy = text();
            p.get_mut().policy_file = None;
        }
        "api" => {
            let a = config
                .apis
                .iter_mut()
                .find(|a| a.get_ref().name.get_ref() == name)
                .ok_or_else(missing)?;
            a.get_mut().policy = text();
            a.get_mut().policy_file = None;
        }
        "operation" => {
            let (api, op) = name.split_once('/').ok_or_else(missing)?;
            let o = config
                .apis
                .iter_mut()
                .find(|a| a.get_ref().name.get_ref() == api)
                .and_then(|a| {
                    a.get_mut()
                        .operations
                        .iter_mut()
                        .find(|o| o.get_ref().name.get_ref() == op)
                })
                .ok_or_else(missing)?;
            o.get_mut().policy = text();
            o.get_mut().policy_file = None;
        }
        "fragment" => {
            let f = config.fragments.get_mut(name).ok_or_else(missing)?;
            *f = Spanned::new(0..0, PolicyText::Inline(policy.to_owned()));
        }
        _ => {
            return Err(format!(
                "reload: unknown scope `{scope}` (global, product:NAME, api:NAME, operation:API/OP, fragment:ID)"
            ));
        }
    }
    Ok(())
}

/// Runs the case file at `path`.
pub fn run_case(path: &Path) -> Report {
    let broken = |e: String| Report {
        title: None,
        outcome: Outcome::Broken(e),
        steps: Vec::new(),
    };
    let name = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return broken(format!("{name}: cannot read: {e}")),
    };
    let (case, _) = match case::parse(&name, &text) {
        Ok(c) => c,
        Err(e) => return broken(e),
    };
    let mut report = Report {
        title: Some(case.title.clone()),
        outcome: Outcome::Passed,
        steps: Vec::new(),
    };
    if let Some(reason) = &case.skip {
        report.outcome = Outcome::Skipped(reason.clone());
        return report;
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut run = Run {
        name: &name,
        text: &text,
        base,
        reloads: Vec::new(),
        families: None,
    };
    report.outcome = steps(&case, &mut run, &mut report.steps);
    report
}

fn failed(step: usize, lines: Vec<String>) -> Outcome {
    Outcome::Failed { step, lines }
}

fn steps(case: &Case, run: &mut Run<'_>, log: &mut Vec<String>) -> Outcome {
    let loaded = run.plan();
    if let Some(want) = &case.expect {
        return match loaded {
            Ok(_) => failed(
                0,
                vec!["load-error: expected the configuration to be refused, it loaded".into()],
            ),
            Err(e) => match missing(&want.load_error, &e) {
                Some(lines) => failed(0, lines),
                None => {
                    log.push("load refused as expected".into());
                    Outcome::Passed
                }
            },
        };
    }
    let mut plan = match loaded {
        Ok(p) => p,
        Err(e) => {
            return failed(
                0,
                vec![format!("the configuration does not load:\n{}", indent(&e))],
            );
        }
    };
    let stubs = Arc::new(Stubs::new(case));
    stubs.set_entities(plan.backends.clone());
    // The gateway's own timers (the semantic cache's timeouts, its
    // background writes) need a runtime; no real time passes in a case.
    // I/O: a case may name a Redis (`[counters] redis-url`, `[cache]
    // external-redis-url`, `[semantic-cache] redis-url`): one on the
    // loopback, or none (a refused connection: the fallback, a miss).
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .enable_io()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return failed(0, vec![format!("cannot start a runtime: {e}")]),
    };
    // As `sluice run` does when a plan starts serving (key sets fetched),
    // through the stubs, before the first step counts calls.
    warm(&rt, run, &stubs);
    for (i, step) in case.step.iter().enumerate() {
        let n = i + 1;
        let mut lines = Vec::new();
        if let Some(a) = &step.advance {
            match case::duration_ms(a) {
                Some(ms) => stubs.advance(ms),
                None => lines.push(format!(
                    "advance: `{a}` is not a duration such as `500ms`, `61s`, `2m`, `1h`"
                )),
            }
        }
        stubs.begin_step(step.backend.clone(), step.stub.clone());
        if reload(step, run, &mut plan, &stubs, &mut lines) {
            warm(&rt, run, &stubs);
        }
        let metrics = run.families.as_ref().map(|f| &f.metrics);
        let certificate = match step
            .request
            .as_ref()
            .and_then(|r| r.client_certificate.as_ref())
        {
            Some(f) => match client_certificate(&run.base.join(f)) {
                Ok(c) => Some(c),
                Err(e) => {
                    lines.push(format!("request.client-certificate: {e}"));
                    return failed(n, lines);
                }
            },
            None => None,
        };
        let response = step.request.as_ref().map(|r| {
            let metrics = metrics.map(|m| &m.requests);
            send(&rt, &plan, r, certificate.clone(), &stubs, metrics)
        });
        // Background writes (the semantic cache's store) finish within the step.
        if let Some(families) = &run.families {
            rt.block_on(families.settle());
        }
        let response = match response {
            Some(Some(r)) => Some(r),
            Some(None) => {
                lines.push(
                    "the request never completed (it waited on something outside the runner)"
                        .into(),
                );
                None
            }
            None => None,
        };
        let counters = stubs.take_counters();
        let exposition = match (&run.families, step.expect.metrics_contain.is_empty()) {
            (Some(f), false) => String::from_utf8_lossy(&f.metrics.render()).into_owned(),
            _ => String::new(),
        };
        let logged = run
            .families
            .as_ref()
            .map(|f| f.sinks.take_logged())
            .unwrap_or_default();
        let seen = Observed {
            response: response.as_ref(),
            counters: &counters,
            metrics: &exposition,
            logged: &logged,
        };
        expect::check(&step.expect, &seen, &mut lines);
        log.push(describe(n, step, response.as_ref(), &seen));
        if !lines.is_empty() {
            return failed(n, lines);
        }
    }
    Outcome::Passed
}

/// What the families fetch when a plan starts serving, through the stubs.
fn warm(rt: &tokio::runtime::Runtime, run: &Run<'_>, stubs: &Arc<Stubs>) {
    if let Some(families) = &run.families {
        let services: Arc<dyn Services> = Arc::clone(stubs) as Arc<dyn Services>;
        rt.block_on(families.warm(services));
    }
}

/// The step's reload, if any, checked against `reload-error`; whether a
/// new plan serves.
fn reload(
    step: &Step,
    run: &mut Run<'_>,
    plan: &mut Plan,
    stubs: &Stubs,
    lines: &mut Vec<String>,
) -> bool {
    let want = step.expect.reload_error.as_ref();
    let Some(r) = &step.reload else {
        if want.is_some() {
            lines.push("reload-error: the step has no `reload`".into());
        }
        return false;
    };
    run.reloads.push((r.scope.clone(), r.policy.clone()));
    let error = match run.plan() {
        Ok(p) => {
            *plan = p;
            stubs.set_entities(plan.backends.clone());
            None
        }
        Err(e) => {
            run.reloads.pop();
            Some(e)
        }
    };
    let served = error.is_none();
    match (want, error) {
        (Some(_), None) => {
            lines.push("reload-error: expected the reload to be refused, it succeeded".into());
        }
        (Some(want), Some(e)) => lines.extend(missing(want, &e).unwrap_or_default()),
        (None, Some(e)) => lines.push(format!("reload: refused:\n{}", indent(&e))),
        (None, None) => {}
    }
    served
}

/// The strings of `want` that `error` lacks, as failure lines.
fn missing(want: &[String], error: &str) -> Option<Vec<String>> {
    let absent: Vec<&String> = want
        .iter()
        .filter(|w| !error.contains(w.as_str()))
        .collect();
    if absent.is_empty() {
        return None;
    }
    let mut lines: Vec<String> = absent
        .iter()
        .map(|w| format!("expected the error to contain {w:?}"))
        .collect();
    lines.push(format!("the error:\n{}", indent(error)));
    Some(lines)
}

fn indent(s: &str) -> String {
    s.trim_end()
        .lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first certificate of a PEM file.
fn client_certificate(path: &Path) -> Result<sluice_stdlib::X509Certificate2, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let der = CertificateDer::from_pem_file(path)
        .map_err(|e| format!("no certificate in `{}`: {e}", path.display()))?;
    sluice_stdlib::X509Certificate2::from_der(&der)
        .ok_or_else(|| format!("`{}` is not a certificate", path.display()))
}

fn send(
    rt: &tokio::runtime::Runtime,
    plan: &Plan,
    r: &RequestSpec,
    certificate: Option<sluice_stdlib::X509Certificate2>,
    stubs: &Arc<Stubs>,
    metrics: Option<&RequestMetrics>,
) -> Option<Response> {
    let mut headers = Multimap::default();
    for (k, v) in &r.headers {
        for v in v.list() {
            headers.append(k, &v);
        }
    }
    let path = if r.path.starts_with('/') {
        r.path.clone()
    } else {
        format!("/{}", r.path)
    };
    let req = Request {
        method: r.method.to_ascii_uppercase(),
        url: format!("http://gateway.test{path}"),
        headers,
        body: r.body.clone().unwrap_or_default().into_bytes().into(),
        ip: r.ip.clone(),
        certificate,
    };
    let services: Arc<dyn Services> = Arc::clone(stubs) as Arc<dyn Services>;
    // As the server does: the response read whole, counted under its route.
    rt.block_on(async {
        tokio::time::timeout(NEVER_COMPLETES, async {
            let (mut response, stream, route) = plan.handle_routed(req, None, services).await;
            if let Some(s) = stream {
                response.body = collect(s).await.unwrap_or_default();
            }
            if let Some(m) = metrics {
                m.count(route.api, route.operation, response.status, Duration::ZERO);
            }
            response
        })
        .await
        .ok()
    })
}

fn describe(n: usize, step: &Step, response: Option<&Response>, seen: &Observed<'_>) -> String {
    let c = seen.counters;
    let mut s = format!("step {n}:");
    if let Some(r) = &step.reload {
        s.push_str(&format!(" reload {}", r.scope));
    }
    if let (Some(req), Some(resp)) = (&step.request, response) {
        s.push_str(&format!(
            " {} {} -> {} {}",
            req.method, req.path, resp.status, resp.reason
        ));
    }
    s.push_str(&format!(
        " (backend {}, stub {}, embeddings {})",
        c.backend, c.stub, c.embeddings
    ));
    s
}

/// Every wait in a case is virtual (stubs answer at once): a request still
/// running after this long waits on something outside the runner.
const NEVER_COMPLETES: std::time::Duration = std::time::Duration::from_secs(30);
