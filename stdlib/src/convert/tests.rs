use crate::testing::eval_str;

const BAD_BASE64: &str = "!FormatException: The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.";

/// A rhai expression for a Blob of these bytes.
fn blob(bytes: &[u8]) -> String {
    format!("Convert__FromHexString(\"{}\")", super::to_hex(bytes, true))
}

#[test]
fn base64_round_trips() {
    assert_eq!(
        eval_str(&format!("Convert__ToBase64String({})", blob(b"Man"))),
        "TWFu"
    );
    assert_eq!(
        eval_str(&format!("Convert__ToBase64String({})", blob(b"Ma"))),
        "TWE="
    );
    assert_eq!(
        eval_str(&format!("Convert__ToBase64String({})", blob(b"M"))),
        "TQ=="
    );
    assert_eq!(
        eval_str(&format!("Convert__ToBase64String({})", blob(&[0xfb, 0xff]))),
        "+/8="
    );
    assert_eq!(
        eval_str(&format!("Convert__ToBase64String({})", blob(b""))),
        ""
    );
    assert_eq!(
        eval_str(&format!("Convert__ToBase64String({}, 1, 2)", blob(b"xMay"))),
        "TWE="
    );
    assert_eq!(
        eval_str(&format!("Convert__ToBase64String({}, 2, 2)", blob(b"abc"))),
        "!ArgumentOutOfRangeException: Offset and length must refer to a position in the string. (Parameter 'offset')"
    );
    assert_eq!(
        eval_str("Convert__ToBase64String(())"),
        "!ArgumentNullException: Value cannot be null. (Parameter 'inArray')"
    );
    let long = eval_str(&format!(
        "Convert__ToBase64String({}, Base64FormattingOptions__InsertLineBreaks())",
        blob(&[0u8; 60])
    ));
    assert_eq!(
        long.split("\r\n").map(str::len).collect::<Vec<_>>(),
        vec![76, 4]
    );
    assert_eq!(
        eval_str(r#"Convert__ToHexString(Convert__FromBase64String("TWFu"))"#),
        "4D616E"
    );
    assert_eq!(
        eval_str(r#"Convert__ToHexString(Convert__FromBase64String(" TW\r\nE= "))"#),
        "4D61"
    );
    assert_eq!(
        eval_str(r#"Convert__ToHexString(Convert__FromBase64String(""))"#),
        ""
    );
    // .NET does not check the unused bits of the last quartet.
    assert_eq!(eval_str(r#"Convert__FromBase64String("QR==")[0]"#), "65");
}

#[test]
fn bad_base64_is_a_format_exception() {
    for bad in ["abc", "ab=c", "a===", "====", "TWFu!", "TW-u", "TWE=TWE="] {
        assert_eq!(
            eval_str(&format!(r#"Convert__FromBase64String("{bad}")"#)),
            BAD_BASE64,
            "{bad}"
        );
    }
    assert_eq!(
        eval_str("Convert__FromBase64String(())"),
        "!ArgumentNullException: Value cannot be null. (Parameter 's')"
    );
}

#[test]
fn hex_strings() {
    assert_eq!(
        eval_str(&format!("Convert__ToHexString({})", blob(&[1, 0xab, 0xff]))),
        "01ABFF"
    );
    assert_eq!(
        eval_str(&format!(
            "Convert__ToHexStringLower({})",
            blob(&[1, 0xab, 0xff])
        )),
        "01abff"
    );
    assert_eq!(
        eval_str(&format!(
            "Convert__ToHexString({}, 1, 1)",
            blob(&[1, 0xab, 0xff])
        )),
        "AB"
    );
    assert_eq!(
        eval_str(r#"let b = Convert__FromHexString("0aFf"); b[0] * 1000 + b[1]"#),
        "10255"
    );
    assert_eq!(
        eval_str(r#"Convert__FromHexString("abc")"#),
        "!FormatException: The input is not a valid hex string as its length is not a multiple of 2."
    );
    assert_eq!(
        eval_str(r#"Convert__FromHexString("zz")"#),
        "!FormatException: The input is not a valid hex string as it contains a non-hex character."
    );
}

#[test]
fn to_int32_from_each_kind() {
    assert_eq!(eval_str(r#"Convert__ToInt32(" -42 ")"#), "-42");
    assert_eq!(eval_str(r#"Convert__ToInt32("+7")"#), "7");
    assert_eq!(eval_str("Convert__ToInt32(())"), "0");
    assert_eq!(eval_str("Convert__ToInt32(true)"), "1");
    assert_eq!(eval_str("Convert__ToInt32('A')"), "65");
    assert_eq!(eval_str("Convert__ToInt32(2.5)"), "2");
    assert_eq!(eval_str("Convert__ToInt32(3.5)"), "4");
    assert_eq!(eval_str("Convert__ToInt32(-2.5)"), "-2");
    assert_eq!(eval_str("Convert__ToInt32(2.51)"), "3");
    assert_eq!(
        eval_str(r#"Convert__ToInt32("1.5")"#),
        "!FormatException: The input string '1.5' was not in a correct format."
    );
    assert_eq!(
        eval_str(r#"Convert__ToInt32("")"#),
        "!FormatException: The input string '' was not in a correct format."
    );
    assert_eq!(
        eval_str(r#"Convert__ToInt32("2147483648")"#),
        "!OverflowException: Value was either too large or too small for an Int32."
    );
    assert_eq!(
        eval_str("Convert__ToInt32(3000000000)"),
        "!OverflowException: Value was either too large or too small for an Int32."
    );
    assert_eq!(
        eval_str("Convert__ToInt32(2147483647.5)"),
        "!OverflowException: Value was either too large or too small for an Int32."
    );
    assert_eq!(
        eval_str(r#"Convert__ToInt32("-2147483648")"#),
        "-2147483648"
    );
    assert_eq!(
        eval_str(r#"Convert__ToInt64("9223372036854775807")"#),
        "9223372036854775807"
    );
    assert_eq!(
        eval_str(r#"Convert__ToInt64("99999999999999999999999")"#),
        "!OverflowException: Value was either too large or too small for an Int64."
    );
    assert_eq!(eval_str(r#"Convert__ToInt32("12", ())"#), "12");
}

#[test]
fn to_small_integers() {
    assert_eq!(eval_str("Convert__ToByte(255)"), "255");
    assert_eq!(
        eval_str("Convert__ToByte(256)"),
        "!OverflowException: Value was either too large or too small for an unsigned byte."
    );
    assert_eq!(
        eval_str(r#"Convert__ToByte("-1")"#),
        "!OverflowException: Value was either too large or too small for an unsigned byte."
    );
    assert_eq!(eval_str("Convert__ToInt16(-32768)"), "-32768");
    assert_eq!(
        eval_str("Convert__ToInt16(40000)"),
        "!OverflowException: Value was either too large or too small for an Int16."
    );
    assert_eq!(
        eval_str("Convert__ToUInt32(-1)"),
        "!OverflowException: Value was either too large or too small for a UInt32."
    );
    assert_eq!(
        eval_str("Convert__ToSByte(-129)"),
        "!OverflowException: Value was either too large or too small for a signed byte."
    );
}

#[test]
fn integers_in_other_bases() {
    assert_eq!(eval_str(r#"Convert__ToInt32("ff", 16)"#), "255");
    assert_eq!(eval_str(r#"Convert__ToInt32("0x1A", 16)"#), "26");
    assert_eq!(eval_str(r#"Convert__ToInt32("FFFFFFFF", 16)"#), "-1");
    assert_eq!(eval_str(r#"Convert__ToInt32("101", 2)"#), "5");
    assert_eq!(eval_str(r#"Convert__ToInt32("-17", 10)"#), "-17");
    assert_eq!(
        eval_str(r#"Convert__ToInt64("FFFFFFFFFFFFFFFF", 16)"#),
        "-1"
    );
    assert_eq!(eval_str(r#"Convert__ToInt16("FFFF", 16)"#), "-1");
    assert_eq!(eval_str(r#"Convert__ToByte("FF", 16)"#), "255");
    assert_eq!(
        eval_str(r#"Convert__ToByte("100", 16)"#),
        "!OverflowException: Value was either too large or too small for an unsigned byte."
    );
    assert_eq!(
        eval_str(r#"Convert__ToInt32("100000000", 16)"#),
        "!OverflowException: Value was either too large or too small for an Int32."
    );
    assert_eq!(
        eval_str(r#"Convert__ToInt32("12", 3)"#),
        "!ArgumentException: Invalid Base. (Parameter 'fromBase')"
    );
    assert_eq!(
        eval_str(r#"Convert__ToInt32("-1", 16)"#),
        "!ArgumentException: String cannot contain a minus sign if the base is not 10."
    );
    assert_eq!(
        eval_str(r#"Convert__ToInt32("xyz", 16)"#),
        "!FormatException: Could not find any recognizable digits."
    );
    assert_eq!(
        eval_str(r#"Convert__ToInt32("12g", 16)"#),
        "!FormatException: Additional non-parsable characters are at the end of the string."
    );
    assert_eq!(eval_str("Convert__ToString(255, 16)"), "ff");
    assert_eq!(eval_str("Convert__ToString(-1, 16)"), "ffffffff");
    assert_eq!(eval_str("Convert__ToString(5, 2)"), "101");
    assert_eq!(eval_str("Convert__ToString(8, 8)"), "10");
}

#[test]
fn to_double_and_decimal() {
    assert_eq!(eval_str(r#"Convert__ToDouble("1,234.5e1")"#), "12345.0");
    assert_eq!(eval_str(r#"Convert__ToDouble(" -.5 ")"#), "-0.5");
    assert_eq!(
        eval_str(r#"Convert__ToDouble("Infinity").ToString()"#),
        "Infinity"
    );
    assert_eq!(eval_str("Convert__ToDouble(3)"), "3.0");
    assert_eq!(eval_str("Convert__ToDouble(())"), "0.0");
    assert_eq!(
        eval_str(r#"Convert__ToDouble("1e")"#),
        "!FormatException: The input string '1e' was not in a correct format."
    );
    assert_eq!(
        eval_str(r#"Convert__ToDouble("abc")"#),
        "!FormatException: The input string 'abc' was not in a correct format."
    );
    assert_eq!(
        eval_str("Convert__ToDouble('a')"),
        "!InvalidCastException: Invalid cast from 'Char' to 'Double'."
    );
    assert_eq!(eval_str(r#"Convert__ToDecimal("2.25")"#), "2.25");
    assert_eq!(eval_str("Convert__ToSingle(0.1)"), "0.10000000149011612");
}

#[test]
fn to_boolean() {
    assert_eq!(eval_str(r#"Convert__ToBoolean(" TRUE ")"#), "true");
    assert_eq!(eval_str(r#"Convert__ToBoolean("false")"#), "false");
    assert_eq!(eval_str("Convert__ToBoolean(2)"), "true");
    assert_eq!(eval_str("Convert__ToBoolean(0.0)"), "false");
    assert_eq!(eval_str("Convert__ToBoolean(())"), "false");
    assert_eq!(
        eval_str(r#"Convert__ToBoolean("yes")"#),
        "!FormatException: String 'yes' was not recognized as a valid Boolean."
    );
    assert_eq!(
        eval_str("Convert__ToBoolean('t')"),
        "!InvalidCastException: Invalid cast from 'Char' to 'Boolean'."
    );
}

#[test]
fn to_string_and_char() {
    assert_eq!(eval_str("Convert__ToString(true)"), "True");
    assert_eq!(eval_str("Convert__ToString(1.0)"), "1");
    assert_eq!(eval_str("Convert__ToString(1e20)"), "1E+20");
    assert_eq!(eval_str("Convert__ToString(())"), "");
    assert_eq!(eval_str("Convert__ToString(42)"), "42");
    assert_eq!(eval_str("Convert__ToString(1.5, ())"), "1.5");
    assert_eq!(eval_str("Convert__ToChar(65)"), "A");
    assert_eq!(eval_str(r#"Convert__ToChar("z")"#), "z");
    assert_eq!(
        eval_str(r#"Convert__ToChar("zz")"#),
        "!FormatException: String must be exactly one character long."
    );
    assert_eq!(
        eval_str("Convert__ToChar(70000)"),
        "!OverflowException: Value was either too large or too small for a character."
    );
    assert_eq!(
        eval_str("Convert__ToChar(1.0)"),
        "!InvalidCastException: Invalid cast from 'Double' to 'Char'."
    );
}

#[test]
fn change_type() {
    assert_eq!(eval_str(r#"Convert__ChangeType("12", "Int32")"#), "12");
    assert_eq!(eval_str(r#"Convert__ChangeType(12, "String")"#), "12");
    assert_eq!(
        eval_str(r#"Convert__ChangeType("true", "Boolean")"#),
        "true"
    );
    assert_eq!(
        eval_str(r#"Convert__ChangeType(1, "Guid")"#),
        "!InvalidCastException: Invalid cast from 'Int32' to 'Guid'."
    );
}
