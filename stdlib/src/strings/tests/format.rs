//! Numeric format strings, composite formatting and interpolation holes.

use super::{err, ev};

#[test]
fn integer_standard_formats() {
    assert_eq!(ev(r##"12345.ToString("D8")"##), "00012345");
    assert_eq!(ev(r##"(-42).ToString("D5")"##), "-00042");
    assert_eq!(ev(r##"255.ToString("x2")"##), "ff");
    assert_eq!(ev(r##"255.ToString("X4")"##), "00FF");
    assert_eq!(ev(r##"(-1).ToString("X")"##), "FFFFFFFF");
    assert_eq!(ev(r##"1234567.ToString("N")"##), "1,234,567.00");
    assert_eq!(ev(r##"1234567.ToString("N0")"##), "1,234,567");
    assert_eq!(ev(r##"(-1234).ToString("N1")"##), "-1,234.0");
    assert_eq!(ev(r##"42.ToString("F3")"##), "42.000");
    assert_eq!(ev(r##"12345.ToString("E2")"##), "1.23E+004");
    assert_eq!(ev(r##"12345.ToString("e")"##), "1.234500e+004");
    assert_eq!(ev(r##"12345.ToString("G")"##), "12345");
    assert_eq!(ev(r##"12345.ToString("G2")"##), "1.2E+04");
    assert_eq!(ev(r##"1.ToString("P")"##), "100.00 %");
    assert_eq!(ev(r##"5.ToString("C")"##), "¤5.00");
    assert_eq!(ev(r##"(-5).ToString("C")"##), "(¤5.00)");
    assert_eq!(ev(r##"5.ToString("")"##), "5");
    assert_eq!(ev(r##"5.ToString(())"##), "5");
    assert_eq!(
        ev(r##"5.ToString("R")"##),
        "!FormatException: Format specifier was invalid."
    );
    assert_eq!(
        ev(r##"5.ToString("Q")"##),
        "!FormatException: Format specifier was invalid."
    );
    assert_eq!(err(r##"5.ToString("F2000000000")"##), "!FormatException");
    assert_eq!(
        err(r##"5.ToString("F200000000")"##),
        "!OutOfMemoryException"
    );
}

#[test]
fn double_standard_formats() {
    assert_eq!(ev(r##"1234.5678.ToString("F2")"##), "1234.57");
    assert_eq!(ev(r##"1234.5678.ToString("N2")"##), "1,234.57");
    assert_eq!(ev(r##"0.125.ToString("F2")"##), "0.12");
    assert_eq!(ev(r##"2.5.ToString("F0")"##), "2");
    assert_eq!(ev(r##"3.5.ToString("F0")"##), "4");
    assert_eq!(ev(r##"1.005.ToString("F2")"##), "1.00");
    assert_eq!(ev(r##"(-0.001).ToString("F2")"##), "-0.00");
    assert_eq!(ev(r##"0.007.ToString("F2")"##), "0.01");
    assert_eq!(ev(r##"0.1.ToString("F20")"##), "0.10000000000000000555");
    assert_eq!(ev(r##"12345.6789.ToString("E")"##), "1.234568E+004");
    assert_eq!(ev(r##"12345.6789.ToString("e4")"##), "1.2346e+004");
    assert_eq!(ev(r##"12345.6789.ToString("G")"##), "12345.6789");
    assert_eq!(ev(r##"12345.6789.ToString("G7")"##), "12345.68");
    assert_eq!(ev(r##"123456789.0.ToString("G7")"##), "1.234568E+08");
    assert_eq!(ev(r##"0.0001234.ToString("G3")"##), "0.000123");
    assert_eq!(ev(r##"0.00001234.ToString("G3")"##), "1.23E-05");
    assert_eq!(ev(r##"0.1234.ToString("P")"##), "12.34 %");
    assert_eq!(ev(r##"(-0.5).ToString("P1")"##), "-50.0 %");
    assert_eq!(ev(r##"1.5.ToString("R")"##), "1.5");
    assert_eq!(
        ev(r##"1.5.ToString("D")"##),
        "!FormatException: Format specifier was invalid."
    );
    assert_eq!(
        ev(r##"1.5.ToString("X")"##),
        "!FormatException: Format specifier was invalid."
    );
    assert_eq!(ev(r##"999.999.ToString("N2")"##), "1,000.00");
    assert_eq!(ev(r##"0.0.ToString("E2")"##), "0.00E+000");
}

#[test]
fn custom_formats() {
    assert_eq!(ev(r##"1234.5678.ToString("0.00")"##), "1234.57");
    assert_eq!(ev(r##"0.125.ToString("0.00")"##), "0.13");
    assert_eq!(ev(r##"1.005.ToString("0.00")"##), "1.01");
    assert_eq!(ev(r##"1234567.ToString("#,##0")"##), "1,234,567");
    assert_eq!(ev(r##"1234567.891.ToString("#,##0.00")"##), "1,234,567.89");
    assert_eq!(ev(r##"1.5.ToString("0.###")"##), "1.5");
    assert_eq!(ev(r##"1.0.ToString("0.###")"##), "1");
    assert_eq!(ev(r##"7.ToString("00")"##), "07");
    assert_eq!(ev(r##"123.ToString("00")"##), "123");
    assert_eq!(ev(r##"0.ToString("#")"##), "");
    assert_eq!(ev(r##"0.5.ToString("#.#")"##), ".5");
    assert_eq!(ev(r##"(-5).ToString("0;(0)")"##), "(5)");
    assert_eq!(ev(r##"0.ToString("0;(0);zero")"##), "zero");
    assert_eq!(ev(r##"(-1.5).ToString("0.0")"##), "-1.5");
    assert_eq!(ev(r##"0.256.ToString("0.0%")"##), "25.6%");
    assert_eq!(ev(r##"1234567890.ToString("#,##0,,")"##), "1,235");
    assert_eq!(ev(r##"12345.ToString("0.0E+00")"##), "1.2E+04");
    assert_eq!(ev(r##"0.00012.ToString("0.0e0")"##), "1.2e-4");
    assert_eq!(ev(r##"42.ToString("'#'0")"##), "#42");
    assert_eq!(ev(r##"42.ToString("\\#0")"##), "#42");
    assert_eq!(ev(r##"5.ToString("0 items")"##), "5 items");
    assert_eq!(ev(r##"2.5.ToString("0")"##), "3");
}

#[test]
fn composite_formatting() {
    assert_eq!(
        ev(r##"string__Format("/table/{0}/{1}", "acct", "t1")"##),
        "/table/acct/t1"
    );
    assert_eq!(
        ev(r##"String__Format("{0}\n{1}\n", "GET", 5)"##),
        "GET\n5\n"
    );
    assert_eq!(
        ev(r##"string__Format("{0:N2}|{1,5}|{2,-4}|", 1234.5, "ab", 7)"##),
        "1,234.50|   ab|7   |"
    );
    assert_eq!(ev(r##"string__Format("{{{0}}}", 1)"##), "{1}");
    assert_eq!(ev(r##"string__Format("{0} {1}", ["a", "b"])"##), "a b");
    assert_eq!(ev(r##"string__Format("{0}", ())"##), "");
    assert_eq!(ev(r##"string__Format("{0}{1}", true, 1.5)"##), "True1.5");
    assert_eq!(ev(r##"string__Format((), "{0}", 7)"##), "7");
    assert_eq!(
        ev(r##"string__Format("{1}", 1)"##),
        "!FormatException: Index (zero based) must be greater than or equal to zero and less than the size of the argument list."
    );
    assert_eq!(
        ev(r##"string__Format("{x}", 1)"##),
        "!FormatException: Input string was not in a correct format."
    );
    assert_eq!(
        ev(r##"string__Format("a}b", 1)"##),
        "!FormatException: Input string was not in a correct format."
    );
    assert_eq!(
        ev(r##"string__Format("{0", 1)"##),
        "!FormatException: Input string was not in a correct format."
    );
    assert_eq!(
        ev(r##"string__Format("{0,2000000}", 1)"##),
        "!FormatException: Input string was not in a correct format."
    );
    assert_eq!(
        ev(r##"string__Format((), 1)"##),
        "!ArgumentNullException: Value cannot be null. (Parameter 'format')"
    );
}

#[test]
fn interpolation_holes() {
    assert_eq!(ev(r##"__format(3.14159, "F2")"##), "3.14");
    assert_eq!(ev(r##"__format(255, "X")"##), "FF");
    assert_eq!(ev(r##"__format("text", "N2")"##), "text");
    assert_eq!(ev(r##"__format(true, ())"##), "True");
    assert_eq!(ev(r##"__format_align(42, 6, "D3")"##), "   042");
    assert_eq!(ev(r##"__format_align("ab", -4, ()) + "|""##), "ab  |");
    assert_eq!(
        ev(r##"__format(StringComparison__Ordinal(), "G")"##),
        "Ordinal"
    );
}
