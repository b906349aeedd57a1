use std::sync::Mutex;

use sluice_engine::runtime::{BoxFuture, CallError, InboundResponse, OutboundRequest};

use super::*;

/// Answers every call with an echo of what it received.
#[derive(Default)]
struct Echo {
    seen: Mutex<Vec<OutboundRequest>>,
}

impl Services for Echo {
    fn now_ms(&self) -> i64 {
        1_700_000_000_000
    }
    fn call(&self, req: OutboundRequest) -> BoxFuture<'_, Result<InboundResponse, CallError>> {
        let body = serde_json::json!({ "method": req.method, "url": req.url })
            .to_string()
            .into_bytes();
        if let Ok(mut s) = self.seen.lock() {
            s.push(req);
        }
        Box::pin(async move {
            Ok(InboundResponse {
                status: 200,
                reason: "OK".into(),
                headers: Multimap::default(),
                body: body.into(),
            })
        })
    }
    fn backend(&self, _: &str) -> Option<BackendEntity> {
        None
    }
    fn sleep(&self, _: u64) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

fn plan(config: &str) -> Plan {
    crate::build::from_text(config)
        .unwrap_or_else(|d| panic!("{d}"))
        .plan
}

/// Builds the plan for `config` and sends one request through it to an
/// [`Echo`] backend; returns the response and the backend.
fn send_one(
    config: &str,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
) -> (Response, Arc<Echo>) {
    let p = plan(config);
    let echo = Arc::new(Echo::default());
    let r = get(&p, Arc::clone(&echo), method, url, headers);
    (r, echo)
}

fn get(
    plan: &Plan,
    services: Arc<Echo>,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
) -> Response {
    let mut h = Multimap::default();
    for (k, v) in headers {
        h.append(k, v);
    }
    let req = Request {
        method: method.into(),
        url: url.into(),
        headers: h,
        body: Bytes::new(),
        ip: "10.1.2.3".into(),
        certificate: None,
    };
    futures_executor(plan.handle(req, services))
}

fn futures_executor<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

const CONFIG: &str = r#"
[[product]]
name = "starter"
apis = ["echo"]
policy = '''<policies><inbound><base /><set-header name="x-product" exists-action="override"><value>@(context.Product.Name)</value></set-header></inbound></policies>'''

[[subscription]]
id = "sub-1"
key = "key-1"
product = "starter"

[[api]]
name = "echo"
path = "echo"
service-url = "http://backend.test/api"
policy = '''<policies>
  <inbound>
    <base />
    <choose>
      <when condition="@(context.Request.MatchedParameters["id"] == "0")">
        <return-response><set-status code="418" reason="teapot" /><set-body>@("no " + context.Operation.Name)</set-body></return-response>
      </when>
    </choose>
    <set-variable name="v" value="@(context.Request.Headers.GetValueOrDefault("x-in", "none"))" />
  </inbound>
  <backend><base /></backend>
  <outbound><base /><set-header name="x-var" exists-action="override"><value>@((string)context.Variables["v"])</value></set-header></outbound>
  <on-error><base /></on-error>
</policies>'''

[[api.operation]]
name = "get-resource"
method = "GET"
url-template = "/resource/{id}"
"#;

#[test]
fn routes_runs_policies_and_forwards() {
    let (r, echo) = send_one(
        CONFIG,
        "GET",
        "http://gw.test/echo/resource/42?x=1",
        &[("x-in", "hello")],
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers.get("x-var").map(|v| v.to_vec()),
        Some(vec!["hello".to_owned()])
    );
    let seen = echo.seen.lock().unwrap();
    assert_eq!(seen[0].url, "http://backend.test/api/resource/42?x=1");
    assert_eq!(
        seen[0].headers.get("X-Forwarded-For").map(|v| v.to_vec()),
        Some(vec!["10.1.2.3".to_owned()])
    );
}

#[test]
fn return_response_ends_the_pipeline() {
    let (r, echo) = send_one(CONFIG, "GET", "http://gw.test/echo/resource/0", &[]);
    assert_eq!(
        (r.status, r.reason.as_str(), &r.body[..]),
        (418, "teapot", &b"no get-resource"[..])
    );
    assert!(
        echo.seen.lock().unwrap().is_empty(),
        "the backend must not be called"
    );
    assert!(r.headers.get("x-var").is_none(), "outbound must not run");
}

#[test]
fn products_apply_with_their_subscription() {
    let (r, echo) = send_one(
        CONFIG,
        "GET",
        "http://gw.test/echo/resource/1",
        &[("Ocp-Apim-Subscription-Key", "key-1")],
    );
    assert_eq!(r.status, 200);
    let seen = echo.seen.lock().unwrap();
    assert_eq!(
        seen[0].headers.get("x-product").map(|v| v.to_vec()),
        Some(vec!["starter".to_owned()])
    );
    assert!(seen[0].headers.get("Ocp-Apim-Subscription-Key").is_none());
}

#[test]
fn unmatched_requests_get_apim_errors() {
    let (r, _) = send_one(CONFIG, "POST", "http://gw.test/echo/resource/1", &[]);
    assert_eq!(r.status, 404);
    assert_eq!(
        &r.body[..],
        br#"{"statusCode":404,"message":"Unable to match incoming request to an operation."}"#
    );
}

#[test]
fn expression_failures_go_to_on_error() {
    let config = r#"
[[api]]
name = "e"
path = "e"
policy = '''<policies><inbound><set-variable name="x" value="@((int)context.Variables["missing"])" /></inbound><on-error><set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason + "|" + context.LastError.Source + "|" + context.LastError.Path)</value></set-header></on-error></policies>'''
"#;
    let (r, _) = send_one(config, "GET", "http://gw.test/e/x", &[]);
    assert_eq!(r.status, 500);
    assert_eq!(
        r.headers.get("x-reason").map(|v| v.to_vec()),
        Some(vec![
            "ExpressionValueEvaluationFailure|set-variable|set-variable[1]".to_owned()
        ])
    );
}

#[test]
fn cors_preflights_route_to_the_announced_operation_without_a_key() {
    let config = r#"
[[api]]
name = "c"
path = "c"
subscription-required = true
service-url = "http://backend.test"
policy = '''<policies><inbound><cors><allowed-origins><origin>http://a.test</origin></allowed-origins><allowed-methods><method>PUT</method></allowed-methods><allowed-headers><header>*</header></allowed-headers></cors></inbound><backend><forward-request /></backend></policies>'''

[[api.operation]]
name = "put"
method = "PUT"
url-template = "/items/{id}"
"#;
    let p = plan(config);
    let echo = Arc::new(Echo::default());
    let preflight = [
        ("Origin", "http://a.test"),
        ("Access-Control-Request-Method", "PUT"),
    ];
    let r = get(
        &p,
        Arc::clone(&echo),
        "OPTIONS",
        "http://gw.test/c/items/1",
        &preflight,
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers
            .get("Access-Control-Allow-Methods")
            .map(|v| v.to_vec()),
        Some(vec!["PUT".to_owned()])
    );
    assert!(
        echo.seen.lock().unwrap().is_empty(),
        "a preflight is answered by cors"
    );
    // an OPTIONS request that is not a preflight is not routed, and the key is still required
    let r = get(
        &p,
        Arc::clone(&echo),
        "OPTIONS",
        "http://gw.test/c/items/1",
        &[],
    );
    assert_eq!(r.status, 404);
    let r = get(
        &p,
        Arc::clone(&echo),
        "PUT",
        "http://gw.test/c/items/1",
        &[("Origin", "http://a.test")],
    );
    assert_eq!(r.status, 401);
}

#[test]
fn a_request_and_its_metrics_label_land_on_the_same_operation() {
    // Equal template scores: the request's own method wins over `*` (the
    // label used to follow the score alone, and so the later `*` operation).
    let config = r#"
[[api]]
name = "t"
path = "t"
service-url = "http://backend.test"
policy = '''<policies><inbound><return-response><set-body>@(context.Operation.Name)</set-body></return-response></inbound></policies>'''

[[api.operation]]
name = "get-item"
method = "GET"
url-template = "/items/{id}"

[[api.operation]]
name = "any-item"
method = "*"
url-template = "/items/{key}"
"#;
    let p = plan(config);
    let echo = Arc::new(Echo::default());
    for (method, expected) in [
        ("GET", "get-item"),
        ("get", "get-item"),
        ("PUT", "any-item"),
    ] {
        let url = "http://gw.test/t/items/1";
        let req = Request {
            method: method.into(),
            url: url.into(),
            ..Request::default()
        };
        let services: Arc<dyn Services> = Arc::clone(&echo) as Arc<dyn Services>;
        let (r, _, route) = futures_executor(p.handle_routed(req, None, services));
        assert_eq!(&r.body[..], expected.as_bytes(), "{method}");
        assert_eq!(
            route,
            Route {
                api: "t",
                operation: expected
            },
            "{method}"
        );
        assert_eq!(
            p.route_names(method, url),
            Some(("t", Some(expected))),
            "{method}"
        );
    }
    assert_eq!(
        p.route_names("GET", "http://gw.test/t/other"),
        Some(("t", None))
    );
    assert_eq!(p.route_names("GET", "http://gw.test/elsewhere"), None);
}

#[test]
fn liquid_set_body_loads_when_serving() {
    let config = r#"
[[api]]
name = "l"
path = "l"
policy = '''<policies><inbound><return-response><set-body template="liquid">{{body.x}}</set-body></return-response></inbound></policies>'''
"#;
    if let Err(err) = crate::build::from_text(config) {
        panic!("the configuration did not load: {err}")
    }
}

#[test]
fn a_liquid_template_that_does_not_parse_is_refused() {
    let config = r#"
[[api]]
name = "l"
path = "l"
policy = '''<policies><inbound><set-body template="liquid">{% if x %}open</set-body></inbound></policies>'''
"#;
    let Err(err) = crate::build::from_text(config) else {
        panic!("the configuration loaded")
    };
    assert!(err.to_string().contains("E0604"), "{err}");
}

#[test]
fn request_ids_are_distinct_version_4_guids_in_d_form() {
    let ids: BTreeSet<String> = (0..1000)
        .map(|_| super::context::new_request_id().to_string())
        .collect();
    assert_eq!(ids.len(), 1000);
    for id in &ids {
        // xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx, lower-case hex.
        let u = uuid::Uuid::parse_str(id).unwrap();
        assert_eq!(u.get_version_num(), 4, "{id}");
        assert_eq!(u.get_variant(), uuid::Variant::RFC4122, "{id}");
        assert_eq!(id.len(), 36);
        assert_eq!(id, &u.hyphenated().to_string());
    }
}
