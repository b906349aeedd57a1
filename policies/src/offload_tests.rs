//! Long work runs through `Services::offload` (the gateway runs it off its
//! worker, docs/gateway.md "Slow requests"): an expression once it is known
//! to run long, a body conversion over `OFFLOAD_BODY_BYTES`; short work in
//! place.

use std::sync::atomic::Ordering;

use sluice_engine::runtime::OFFLOAD_BODY_BYTES;

use crate::fixture::{Stub, body, exchange, pipeline, run, variable};

#[test]
fn an_expression_that_ran_long_is_offloaded_from_its_next_evaluation_on() {
    let p = pipeline(
        r#"<policies><inbound>
             <set-variable name="short" value="@(1 + 2)" />
             <set-variable name="long" value="@{ var i = 0; while (true) { i++; } return i; }" />
           </inbound></policies>"#,
    )
    .unwrap();
    let stub = Stub::status(200, "");
    // The first long evaluation runs in place: it is not known yet.
    let mut x = exchange(stub.clone(), &[], "");
    run(&p, &mut x);
    assert_eq!(variable(&x, "short").unwrap().as_int().unwrap(), 3);
    assert_eq!(stub.offloads.load(Ordering::SeqCst), 0);
    // From then on it is offloaded; the short one never is.
    for n in 1..=2 {
        let mut x = exchange(stub.clone(), &[], "");
        run(&p, &mut x);
        assert_eq!(stub.offloads.load(Ordering::SeqCst), n);
    }
}

#[test]
fn a_body_over_the_size_is_converted_offloaded_a_smaller_one_in_place() {
    let p = pipeline("<policies><inbound><json-to-xml apply=\"always\" consider-accept-header=\"false\" /></inbound></policies>")
        .unwrap();
    let stub = Stub::status(200, "");
    let mut x = exchange(
        stub.clone(),
        &[("Content-Type", "application/json")],
        r#"{"a":"b"}"#,
    );
    run(&p, &mut x);
    assert_eq!(body(x.request()), "<a>b</a>");
    assert_eq!(stub.offloads.load(Ordering::SeqCst), 0);
    let large = format!(r#"{{"a":"{}"}}"#, "b".repeat(OFFLOAD_BODY_BYTES));
    let mut x = exchange(
        stub.clone(),
        &[("Content-Type", "application/json")],
        &large,
    );
    run(&p, &mut x);
    assert!(body(x.request()).starts_with("<a>bbb"));
    assert_eq!(stub.offloads.load(Ordering::SeqCst), 1);
}
