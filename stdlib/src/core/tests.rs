use super::*;

use crate::testing::{eval, eval_str};

#[test]
fn doubles_format_like_dotnet() {
    assert_eq!(format_double(1.5), "1.5");
    assert_eq!(format_double(0.1 + 0.2), "0.30000000000000004");
    assert_eq!(format_double(1e20), "1E+20");
    assert_eq!(format_double(1e15), "1E+15");
    assert_eq!(format_double(1e14), "100000000000000");
    assert_eq!(format_double(0.0001), "0.0001");
    assert_eq!(format_double(0.00001), "1E-05");
    assert_eq!(format_double(-2.5e-7), "-2.5E-07");
    assert_eq!(format_double(3.0), "3");
    assert_eq!(format_double(f64::NAN), "NaN");
}

#[test]
fn strict_unboxing() {
    assert_eq!(eval_str(r#"__cast(5, "int")"#), "5");
    assert_eq!(
        eval_str(r#"__cast("5", "int")"#),
        "!InvalidCastException: Unable to cast object of type 'System.String' to type 'System.Int32'."
    );
    assert_eq!(
        eval_str(r#"__cast(5.0, "int")"#),
        "!InvalidCastException: Unable to cast object of type 'System.Double' to type 'System.Int32'."
    );
    assert_eq!(
        eval_str(r#"__cast(5, "double")"#),
        "!InvalidCastException: Unable to cast object of type 'System.Int32' to type 'System.Double'."
    );
    assert!(eval_str(r#"__cast((), "int")"#).starts_with("!NullReferenceException"));
    assert_eq!(eval_str(r#"__cast((), "int?")"#), "");
    assert_eq!(eval_str(r#"__cast((), "string")"#), "");
    assert_eq!(
        eval_str(r#"__cast(3000000000, "int")"#),
        "!InvalidCastException: Unable to cast object of type 'System.Int32' to type 'System.Int32'."
    );
}

#[test]
fn numeric_conversions_truncate_and_wrap() {
    assert_eq!(eval_str(r#"__conv(3.99, "int")"#), "3");
    assert_eq!(eval_str(r#"__conv(-3.99, "int")"#), "-3");
    assert_eq!(eval_str(r#"__conv(2147483648, "int")"#), "-2147483648");
    assert_eq!(eval_str(r#"__conv(65, "char")"#), "A");
    assert_eq!(eval_str(r#"__conv('A', "int")"#), "65");
    assert_eq!(eval_str(r#"__conv(2, "double")"#), "2.0");
}

#[test]
fn string_conversion_and_concatenation() {
    assert_eq!(eval_str(r#"__add("a", true)"#), "aTrue");
    assert_eq!(eval_str(r#"__add("x", ())"#), "x");
    assert_eq!(eval_str(r#"__add(1, 2)"#), "3");
    assert_eq!(eval_str(r#"__add(1, 2.5)"#), "3.5");
    assert_eq!(eval_str(r#"__add("v", 1.0)"#), "v1");
    assert_eq!(eval_str(r#"__str(false)"#), "False");
    assert_eq!(eval_str(r#"true.ToString()"#), "True");
}

#[test]
fn equality_and_type_tests() {
    assert_eq!(eval_str(r#"__eq("a", "a")"#), "true");
    assert_eq!(eval_str(r#"__eq(1, 1.0)"#), "true");
    assert_eq!(eval_str(r#"__eq((), ())"#), "true");
    assert_eq!(eval_str(r#"__eq("1", 1)"#), "false");
    assert_eq!(eval_str(r#"__is("s", "string")"#), "true");
    assert_eq!(eval_str(r#"__is((), "string")"#), "false");
    assert_eq!(eval_str(r#"__as(1, "string")"#), "");
}

#[test]
fn exceptions_carry_type_and_message() {
    assert_eq!(
        eval_str(r#"__throw("FormatException", "bad")"#),
        "!FormatException: bad"
    );
    let e = eval(r#"__throw(Exception__new("boom"))"#).unwrap_err();
    assert_eq!(exception_of(&e).unwrap().message, "boom");
}

#[test]
fn sandbox_bounds() {
    let limits = crate::Limits {
        max_operations: 10_000,
        ..crate::Limits::default()
    };
    let e = crate::engine(&limits);
    assert!(e.eval::<Dynamic>("let x = 0; loop { x += 1; }").is_err());
    // Nothing outside the registered surface.
    assert!(e.eval::<Dynamic>(r#"eval("1")"#).is_err());
    assert!(e.eval::<Dynamic>("undefined_variable").is_err());
    let budget = crate::Limits {
        max_operations: 0,
        wall_time: std::time::Duration::from_millis(20),
        ..crate::Limits::default()
    };
    let e = crate::engine(&budget);
    let _scope = EvalScope::enter(Instant::now() + budget.wall_time, 0);
    let err = e
        .eval::<Dynamic>("let x = 0; loop { x += 1; }")
        .unwrap_err();
    match *err {
        EvalAltResult::ErrorTerminated(token, _) => {
            assert!(token.to_string().contains("time budget"))
        }
        other => panic!("not stopped by the budget: {other}"),
    }
}

#[test]
fn clock_comes_from_the_evaluation() {
    let _scope = EvalScope::enter(Instant::now() + std::time::Duration::from_secs(1), 1_000);
    assert_eq!(now(), 1_000);
}

/// Equality across types goes through the registered `==` (an `XName` and
/// a string), but an array is never equal to anything else.
#[test]
fn equality_across_types() {
    use crate::testing::eval_str;
    assert_eq!(eval_str(r#"__eq(XName__Get("a"), "a")"#), "true");
    assert_eq!(eval_str(r#"__eq("a", XName__Get("a"))"#), "true");
    assert_eq!(eval_str(r#"__eq(["a"], "a")"#), "false");
    assert_eq!(eval_str(r#"__eq("a", ["a"])"#), "false");
}
