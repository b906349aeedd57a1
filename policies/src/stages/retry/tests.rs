use sluice_engine::runtime::CallError;

use super::{Waits, jitter};
use crate::fixture::{Stub, last_error, response, run_policy, status};

/// A backend that answers 500 to the first `fails` calls, then 200.
fn flaky(fails: usize) -> std::sync::Arc<Stub> {
    Stub::new(move |_, n| Ok(response(if n < fails { 500 } else { 200 }, "")))
}

fn forward_retry(attrs: &str) -> String {
    format!(
        r#"<policies><inbound /><backend>
        <retry condition="@(context.Response.StatusCode == 500)" {attrs}>
            <forward-request buffer-request-body="true" />
        </retry>
    </backend></policies>"#
    )
}

#[test]
fn retries_while_the_condition_holds() {
    let stub = flaky(2);
    let x = run_policy(&forward_retry(r#"count="10" interval="1""#), &stub, &[], "");
    assert_eq!(stub.calls().len(), 3, "two failures, then a success");
    assert_eq!(status(&x), 200);
    // fixed interval: 1 s before each retry, on the virtual clock
    assert_eq!(stub.sleeps(), vec![1000, 1000]);
    assert_eq!(stub.call_times(), vec![0, 1000, 2000]);
}

#[test]
fn stops_after_count_retries() {
    let stub = flaky(100);
    let x = run_policy(&forward_retry(r#"count="3" interval="2""#), &stub, &[], "");
    assert_eq!(stub.calls().len(), 4, "the first run and three retries");
    assert_eq!(status(&x), 500);
    assert_eq!(last_error(&x), None, "a 500 answer is not an error");
}

#[test]
fn a_false_condition_runs_the_children_once() {
    let stub = flaky(100);
    let p = r#"<policies><inbound><retry condition="false" count="5" interval="1">
        <send-request response-variable-name="r"><set-url>http://svc.test/</set-url></send-request>
    </retry></inbound></policies>"#;
    run_policy(p, &stub, &[], "");
    assert_eq!(stub.calls().len(), 1);
    assert!(stub.sleeps().is_empty());
}

#[test]
fn linear_waits() {
    let stub = flaky(100);
    run_policy(
        &forward_retry(r#"count="4" interval="1" delta="2""#),
        &stub,
        &[],
        "",
    );
    // interval + (n - 1) * delta
    assert_eq!(stub.sleeps(), vec![1000, 3000, 5000, 7000]);
}

#[test]
fn exponential_waits_follow_the_docs_example() {
    let stub = flaky(100);
    run_policy(
        &forward_retry(r#"count="6" interval="10" max-interval="100" delta="10""#),
        &stub,
        &[],
        "",
    );
    let s = stub.sleeps();
    assert_eq!(s.len(), 6);
    // about 10, 20, 40, 80 seconds, then 100 for the rest
    assert_eq!(s[0], 10_000);
    assert!((18_000..=22_000).contains(&s[1]), "{s:?}");
    assert!((34_000..=46_000).contains(&s[2]), "{s:?}");
    assert!((66_000..=94_000).contains(&s[3]), "{s:?}");
    assert_eq!(&s[4..], &[100_000, 100_000]);
}

#[test]
fn first_fast_retry_does_not_wait() {
    let stub = flaky(100);
    run_policy(
        &forward_retry(r#"count="3" interval="5" first-fast-retry="true""#),
        &stub,
        &[],
        "",
    );
    assert_eq!(stub.sleeps(), vec![5000, 5000]);
    assert_eq!(stub.call_times(), vec![0, 0, 5000, 10_000]);
}

#[test]
fn the_docs_send_request_example() {
    // Retried up to 3 times while the response is null (an error ignored) or a 5xx.
    let stub = Stub::new(|_, n| match n {
        0 => Err(CallError::Timeout),
        1 => Ok(response(503, "")),
        _ => Ok(response(200, "ok")),
    });
    let p = r#"<policies><inbound>
    <retry condition="@(context.Variables["response"] == null || ((IResponse)context.Variables["response"]).StatusCode >= 500)" count="3" interval="1" first-fast-retry="true">
        <send-request mode="new" response-variable-name="response" timeout="3" ignore-error="true">
            <set-url>https://api.contoso.com/products/5</set-url>
            <set-method>GET</set-method>
        </send-request>
    </retry>
    <return-response response-variable-name="response" />
    </inbound></policies>"#;
    let x = run_policy(p, &stub, &[], "");
    assert_eq!(stub.calls().len(), 3);
    assert_eq!(stub.sleeps(), vec![1000]);
    assert_eq!(status(&x), 200);
}

#[test]
fn child_errors_are_retried_then_raised() {
    let stub = Stub::new(|_, _| Err(CallError::Timeout));
    let p = r#"<policies><inbound><retry condition="true" count="2" interval="1">
        <send-request response-variable-name="r"><set-url>http://svc.test/</set-url></send-request>
    </retry></inbound></policies>"#;
    let x = run_policy(p, &stub, &[], "");
    assert_eq!(stub.calls().len(), 3);
    assert_eq!(last_error(&x).as_deref(), Some("send-request/Timeout"));
    assert_eq!(
        x.ctx.0.last_error.read().unwrap().as_ref().unwrap().path,
        "retry[1]/send-request[1]"
    );

    // A false condition raises the first error at once.
    let stub = Stub::new(|_, _| Err(CallError::Timeout));
    let x = run_policy(
        &p.replace(r#"condition="true""#, r#"condition="false""#),
        &stub,
        &[],
        "",
    );
    assert_eq!(stub.calls().len(), 1);
    assert_eq!(last_error(&x).as_deref(), Some("send-request/Timeout"));
}

#[test]
fn return_response_inside_ends_the_pipeline() {
    let stub = flaky(0);
    let p = r#"<policies><inbound><retry condition="true" count="5" interval="1">
        <return-response><set-status code="204" reason="No Content" /></return-response>
    </retry><set-status code="500" reason="late" /></inbound></policies>"#;
    let x = run_policy(p, &stub, &[], "");
    assert_eq!(status(&x), 204);
    assert!(stub.sleeps().is_empty());
}

#[test]
fn attributes_may_be_expressions() {
    let stub = flaky(100);
    run_policy(
        &forward_retry(r#"count="@(1 + 1)" interval="@(3)""#),
        &stub,
        &[],
        "",
    );
    assert_eq!(stub.sleeps(), vec![3000, 3000]);
}

#[test]
fn jitter_is_within_the_documented_band() {
    for n in 1..50 {
        let j = jitter(&uuid::Uuid::from_u128(42), n);
        assert!((0.8..=1.2).contains(&j), "{j}");
    }
    let w = Waits {
        interval_s: 1,
        max_interval_s: Some(1000),
        delta_s: Some(1),
        first_fast_retry: false,
    };
    assert_eq!(w.before(3, 1.0), 4000);
    assert_eq!(w.before(3, 0.8), 3400);
}
