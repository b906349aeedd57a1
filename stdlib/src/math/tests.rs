use crate::testing::eval_str;

/// The .NET `ToString()` of the result.
fn net(src: &str) -> String {
    eval_str(&format!("__str({src})"))
}

#[test]
fn round_is_bankers_by_default() {
    assert_eq!(net("Math__Round(2.5)"), "2");
    assert_eq!(net("Math__Round(3.5)"), "4");
    assert_eq!(net("Math__Round(-2.5)"), "-2");
    assert_eq!(net("Math__Round(2.6)"), "3");
    assert_eq!(net("Math__Round(0.125, 2)"), "0.12");
    assert_eq!(net("Math__Round(23.456, 1)"), "23.5");
    // .NET scales first: 2.675 * 100 is exactly 267.5 in binary, so 2.68
    // (a decimal-exact rounding would give 2.67).
    assert_eq!(net("Math__Round(2.675, 2)"), "2.68");
    assert_eq!(net("Math__Round(5)"), "5");
    assert_eq!(eval_str("type_of(Math__Round(5))"), "f64");
    assert_eq!(net("Math__Round(1e17 + 0.0, 3)"), "1E+17");
    assert_eq!(
        eval_str("Math__Round(1.5, 16)"),
        "!ArgumentOutOfRangeException: Rounding digits must be between 0 and 15, inclusive. (Parameter 'digits')"
    );
    assert_eq!(
        eval_str("Math__Round(1.5, -1)"),
        "!ArgumentOutOfRangeException: Rounding digits must be between 0 and 15, inclusive. (Parameter 'digits')"
    );
}

#[test]
fn round_with_midpoint_modes() {
    assert_eq!(
        net("Math__Round(2.5, MidpointRounding__AwayFromZero())"),
        "3"
    );
    assert_eq!(
        net("Math__Round(-2.5, MidpointRounding__AwayFromZero())"),
        "-3"
    );
    assert_eq!(net("Math__Round(2.5, MidpointRounding__ToEven())"), "2");
    assert_eq!(net("Math__Round(2.7, MidpointRounding__ToZero())"), "2");
    assert_eq!(
        net("Math__Round(-2.1, MidpointRounding__ToNegativeInfinity())"),
        "-3"
    );
    assert_eq!(
        net("Math__Round(2.1, MidpointRounding__ToPositiveInfinity())"),
        "3"
    );
    assert_eq!(
        net("Math__Round(1.25, 1, MidpointRounding__AwayFromZero())"),
        "1.3"
    );
    assert_eq!(net("Math__Round(1.25, 1)"), "1.2");
    assert_eq!(net("MidpointRounding__AwayFromZero()"), "AwayFromZero");
    assert_eq!(
        eval_str("MidpointRounding__ToEven() == MidpointRounding__ToEven()"),
        "true"
    );
}

#[test]
fn abs_max_min_keep_integer_types() {
    assert_eq!(eval_str("Math__Abs(-5)"), "5");
    assert_eq!(eval_str("type_of(Math__Abs(-5))"), "i64");
    assert_eq!(eval_str("Math__Abs(-5.5)"), "5.5");
    assert_eq!(eval_str("Math__Max(3, 7)"), "7");
    assert_eq!(eval_str("type_of(Math__Max(3, 7))"), "i64");
    assert_eq!(eval_str("Math__Min(3, 7)"), "3");
    assert_eq!(eval_str("Math__Max(3, 7.5)"), "7.5");
    assert_eq!(eval_str("type_of(Math__Min(3, 7.5))"), "f64");
    assert_eq!(net("Math__Max(1.0, double__NaN())"), "NaN");
    assert_eq!(net("Math__Min(double__NaN(), 1.0)"), "NaN");
    assert_eq!(net("Math__Min(0.0, -0.0)"), "-0");
    assert_eq!(
        eval_str("Math__Abs(long__MinValue())"),
        "!OverflowException: Negating the minimum value of a twos complement number is invalid."
    );
}

#[test]
fn sign_and_clamp() {
    assert_eq!(eval_str("Math__Sign(-3)"), "-1");
    assert_eq!(eval_str("Math__Sign(0.0)"), "0");
    assert_eq!(eval_str("Math__Sign(2.5)"), "1");
    assert_eq!(
        eval_str("Math__Sign(double__NaN())"),
        "!ArithmeticException: Function does not accept floating point Not-a-Number values."
    );
    assert_eq!(eval_str("Math__Clamp(15, 0, 10)"), "10");
    assert_eq!(eval_str("Math__Clamp(-1.5, 0, 10)"), "0.0");
    assert_eq!(
        eval_str("Math__Clamp(1, 5, 3)"),
        "!ArgumentException: '5' cannot be greater than 3."
    );
    assert_eq!(
        eval_str("Math__Clamp(1.0, 5.5, 3)"),
        "!ArgumentException: '5.5' cannot be greater than 3."
    );
}

#[test]
fn floating_functions() {
    assert_eq!(net("Math__Pow(2, 10)"), "1024");
    assert_eq!(net("Math__Sqrt(16)"), "4");
    assert_eq!(net("Math__Sqrt(-1)"), "NaN");
    assert_eq!(net("Math__Floor(-2.5)"), "-3");
    assert_eq!(net("Math__Ceiling(2.1)"), "3");
    assert_eq!(net("Math__Truncate(-2.7)"), "-2");
    assert_eq!(net("Math__Log10(1000)"), "3");
    assert_eq!(net("Math__Log(8, 2)"), "3");
    assert_eq!(net("Math__Log(8, 1)"), "NaN");
    assert_eq!(net("Math__Exp(0)"), "1");
    assert_eq!(net("Math__Log(Math__E())"), "1");
    assert_eq!(net("Math__PI()"), "3.141592653589793");
    assert_eq!(net("Math__Sin(0)"), "0");
    assert_eq!(net("Math__Cos(0)"), "1");
    assert_eq!(net("Math__Atan2(1, 1) * 4"), "3.141592653589793");
    assert_eq!(net("Math__IEEERemainder(11, 3)"), "-1");
    assert_eq!(
        eval_str(r#"Math__Sqrt("4")"#),
        "!InvalidCastException: Unable to cast object of type 'System.String' to type 'System.Double'."
    );
}

#[test]
fn numeric_limits() {
    assert_eq!(eval_str("int__MaxValue()"), "2147483647");
    assert_eq!(eval_str("Int32__MaxValue()"), "2147483647");
    assert_eq!(eval_str("Int32__MinValue()"), "-2147483648");
    assert_eq!(eval_str("long__MaxValue()"), "9223372036854775807");
    assert_eq!(eval_str("Int64__MinValue()"), "-9223372036854775808");
    assert_eq!(eval_str("byte__MaxValue()"), "255");
    assert_eq!(eval_str("short__MinValue()"), "-32768");
    assert_eq!(eval_str("UInt32__MaxValue()"), "4294967295");
    assert_eq!(net("double__MaxValue()"), "1.7976931348623157E+308");
    assert_eq!(net("Double__MinValue()"), "-1.7976931348623157E+308");
    assert_eq!(net("Double__Epsilon()"), "5E-324");
    assert_eq!(net("float__MaxValue()"), "3.4028234663852886E+38");
    assert_eq!(net("double__PositiveInfinity()"), "Infinity");
    assert_eq!(net("double__NegativeInfinity()"), "-Infinity");
    assert_eq!(eval_str("double__IsNaN(double__NaN())"), "true");
    assert_eq!(eval_str("double__IsNaN(1.0)"), "false");
    assert_eq!(
        eval_str("Double__IsInfinity(double__NegativeInfinity())"),
        "true"
    );
    assert_eq!(
        eval_str("double__IsPositiveInfinity(double__NegativeInfinity())"),
        "false"
    );
    assert_eq!(eval_str("double__IsFinite(3)"), "true");
    assert_eq!(eval_str("decimal__One()"), "1.0");
}
