use crate::testing::eval_str;

/// The hex of the Blob an expression returns.
fn hex(src: &str) -> String {
    eval_str(&format!("Convert__ToHexString({src})"))
}

#[test]
fn encodings_get_bytes() {
    assert_eq!(hex(r#"Encoding__UTF8().GetBytes("aé€")"#), "61C3A9E282AC");
    assert_eq!(hex(r#"Encoding__ASCII().GetBytes("aé😀")"#), "613F3F3F");
    assert_eq!(hex(r#"Encoding__Unicode().GetBytes("A€")"#), "4100AC20");
    assert_eq!(
        hex(r#"Encoding__BigEndianUnicode().GetBytes("A€")"#),
        "004120AC"
    );
    assert_eq!(
        hex(r#"Encoding__UTF32().GetBytes("A😀")"#),
        "4100000000F60100"
    );
    assert_eq!(hex(r#"Encoding__Latin1().GetBytes("é€")"#), "E93F");
    assert_eq!(hex(r#"Encoding__UTF8().GetBytes("")"#), "");
    assert_eq!(hex(r#"Encoding__UTF8().GetBytes(['h', 'i'])"#), "6869");
    assert_eq!(eval_str(r#"Encoding__UTF8().GetByteCount("é")"#), "2");
    assert_eq!(
        eval_str(r#"Encoding__UTF8().GetBytes(())"#),
        "!ArgumentNullException: Value cannot be null. (Parameter 's')"
    );
}

#[test]
fn encodings_get_string() {
    assert_eq!(
        eval_str(r#"Encoding__UTF8().GetString(Convert__FromHexString("61C3A9"))"#),
        "aé"
    );
    assert_eq!(
        eval_str(r#"Encoding__UTF8().GetString(Convert__FromHexString("FF41"))"#),
        "\u{FFFD}A"
    );
    assert_eq!(
        eval_str(r#"Encoding__ASCII().GetString(Convert__FromHexString("41E9"))"#),
        "A?"
    );
    assert_eq!(
        eval_str(r#"Encoding__Unicode().GetString(Convert__FromHexString("4100AC2042"))"#),
        "A€\u{FFFD}"
    );
    assert_eq!(
        eval_str(r#"Encoding__UTF8().GetString(Convert__FromHexString("41424344"), 1, 2)"#),
        "BC"
    );
    assert_eq!(
        eval_str(r#"Encoding__UTF8().GetString(Convert__FromHexString("4142"), 1, 2)"#),
        "!ArgumentOutOfRangeException: Index and count must refer to a location within the buffer. (Parameter 'bytes')"
    );
    assert_eq!(
        eval_str(r#"Encoding__UTF8().GetString(Convert__FromHexString("4142"), -1, 1)"#),
        "!ArgumentOutOfRangeException: Non-negative number required. (Parameter 'index')"
    );
    assert_eq!(
        eval_str(r#"Encoding__UTF8().GetString(())"#),
        "!ArgumentNullException: Value cannot be null. (Parameter 'bytes')"
    );
    assert_eq!(
        eval_str(r#"Encoding__UTF8().GetString(Encoding__UTF8().GetBytes("round trip ✓"))"#),
        "round trip ✓"
    );
}

#[test]
fn encoding_lookup_and_names() {
    assert_eq!(
        eval_str(r#"Encoding__GetEncoding("UTF-8").WebName"#),
        "utf-8"
    );
    assert_eq!(
        eval_str(r#"Encoding__GetEncoding("iso-8859-1").CodePage"#),
        "28591"
    );
    assert_eq!(
        eval_str(r#"Encoding__GetEncoding(1200).EncodingName"#),
        "Unicode"
    );
    assert_eq!(
        eval_str(r#"Encoding__GetEncoding("us-ascii") == Encoding__ASCII()"#),
        "true"
    );
    assert_eq!(
        eval_str(r#"Encoding__UTF8() == UTF8Encoding__new()"#),
        "false"
    );
    assert_eq!(hex("Encoding__UTF8().GetPreamble()"), "EFBBBF");
    assert_eq!(hex("UTF8Encoding__new(false).GetPreamble()"), "");
    assert_eq!(
        eval_str("Encoding__UTF8().ToString()"),
        "System.Text.UTF8Encoding+UTF8EncodingSealed"
    );
    assert_eq!(
        eval_str(r#"Encoding__GetEncoding("klingon")"#),
        "!ArgumentException: 'klingon' is not a supported encoding name. For information on defining a custom encoding, see the documentation for the Encoding.RegisterProvider method. (Parameter 'name')"
    );
    assert!(
        eval_str("Encoding__GetEncoding(1252)")
            .starts_with("!NotSupportedException: No data is available for encoding 1252.")
    );
}

#[test]
fn bit_converter() {
    assert_eq!(
        eval_str(r#"BitConverter__ToString(Convert__FromHexString("01ABFF"))"#),
        "01-AB-FF"
    );
    assert_eq!(
        eval_str(r#"BitConverter__ToString(Convert__FromHexString("01ABFF"), 1)"#),
        "AB-FF"
    );
    assert_eq!(
        eval_str(r#"BitConverter__ToString(Convert__FromHexString("01ABFF"), 1, 1)"#),
        "AB"
    );
    assert_eq!(
        eval_str(r#"BitConverter__ToString(Convert__FromHexString(""))"#),
        ""
    );
    assert_eq!(
        eval_str(r#"BitConverter__ToString(Convert__FromHexString("01AB"), 1, 2)"#),
        "!ArgumentException: Destination array is not long enough to copy all the items in the collection. Check array index and length. (Parameter 'value')"
    );
    assert_eq!(
        eval_str(r#"BitConverter__ToInt32(Convert__FromHexString("0A000001"), 0)"#),
        "16777226"
    );
    assert_eq!(
        eval_str(r#"BitConverter__ToInt32(Convert__FromHexString("FFFFFFFF"), 0)"#),
        "-1"
    );
    assert_eq!(
        eval_str(r#"BitConverter__ToInt16(Convert__FromHexString("00FEFF"), 1)"#),
        "-2"
    );
    assert_eq!(
        eval_str(r#"BitConverter__ToUInt32(Convert__FromHexString("FFFFFFFF"), 0)"#),
        "4294967295"
    );
    assert_eq!(
        eval_str(r#"BitConverter__ToDouble(Convert__FromHexString("000000000000F03F"), 0)"#),
        "1.0"
    );
    assert_eq!(
        eval_str(r#"BitConverter__ToInt32(Convert__FromHexString("010203"), 0)"#),
        "!ArgumentException: Destination array is not long enough to copy all the items in the collection. Check array index and length. (Parameter 'value')"
    );
    assert_eq!(
        eval_str(r#"BitConverter__ToInt32(Convert__FromHexString("01020304"), 4)"#),
        "!ArgumentOutOfRangeException: Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'startIndex')"
    );
    assert_eq!(hex("BitConverter__GetBytes(258)"), "02010000");
    assert_eq!(hex("BitConverter__GetBytes(1.0)"), "000000000000F03F");
    assert_eq!(hex("BitConverter__GetBytes(true)"), "01");
    assert_eq!(eval_str("BitConverter__IsLittleEndian()"), "true");
}

#[test]
fn guid_parse_and_format() {
    let g = r#"Guid__Parse("00112233-4455-6677-8899-AABBCCDDEEFF")"#;
    assert_eq!(
        eval_str(&format!("{g}.ToString()")),
        "00112233-4455-6677-8899-aabbccddeeff"
    );
    assert_eq!(
        eval_str(&format!(r#"{g}.ToString("N")"#)),
        "00112233445566778899aabbccddeeff"
    );
    assert_eq!(
        eval_str(&format!(r#"{g}.ToString("B")"#)),
        "{00112233-4455-6677-8899-aabbccddeeff}"
    );
    assert_eq!(
        eval_str(&format!(r#"{g}.ToString("P")"#)),
        "(00112233-4455-6677-8899-aabbccddeeff)"
    );
    assert_eq!(
        eval_str(&format!(r#"{g}.ToString("X")"#)),
        "{0x00112233,0x4455,0x6677,{0x88,0x99,0xaa,0xbb,0xcc,0xdd,0xee,0xff}}"
    );
    assert_eq!(
        eval_str(&format!(r#"{g}.ToString("Z")"#)),
        r#"!FormatException: Format string can be only "D", "d", "N", "n", "P", "p", "B", "b", "X" or "x"."#
    );
    for form in [
        "00112233445566778899aabbccddeeff",
        " {00112233-4455-6677-8899-aabbccddeeff} ",
        "(00112233-4455-6677-8899-aabbccddeeff)",
        "{0x00112233,0x4455,0x6677,{0x88,0x99,0xaa,0xbb,0xcc,0xdd,0xee,0xff}}",
    ] {
        assert_eq!(
            eval_str(&format!(r#"Guid__Parse("{form}") == {g}"#)),
            "true",
            "{form}"
        );
    }
    assert_eq!(
        eval_str(r#"Guid__Parse("abc")"#),
        "!FormatException: Unrecognized Guid format."
    );
    assert_eq!(
        eval_str(r#"Guid__Parse("0011223-34455-6677-8899-aabbccddeeff")"#),
        "!FormatException: Dashes are in the wrong position for GUID parsing."
    );
    assert_eq!(
        eval_str(r#"Guid__Parse("zz112233-4455-6677-8899-aabbccddeeff")"#),
        "!FormatException: Guid string should only contain hexadecimal characters."
    );
    assert_eq!(
        eval_str("Guid__Parse(())"),
        "!ArgumentNullException: Value cannot be null. (Parameter 'input')"
    );
    assert_eq!(
        eval_str(r#"Guid__ParseExact("00112233445566778899aabbccddeeff", "N").ToString()"#),
        "00112233-4455-6677-8899-aabbccddeeff"
    );
    assert_eq!(eval_str(r#"Guid__TryParse__out("nope")[0]"#), "false");
    assert_eq!(
        eval_str(r#"Guid__TryParse__out("nope")[1].ToString()"#),
        "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(
        eval_str(r#"Guid__TryParse__out("00112233445566778899aabbccddeeff")[0]"#),
        "true"
    );
}

#[test]
fn guid_bytes_identity_and_new() {
    let g = r#"Guid__Parse("00112233-4455-6677-8899-aabbccddeeff")"#;
    // .NET's mixed-endian layout: the first three fields little-endian.
    assert_eq!(
        hex(&format!("{g}.ToByteArray()")),
        "33221100554477668899AABBCCDDEEFF"
    );
    assert_eq!(
        eval_str(&format!("Guid__new({g}.ToByteArray()) == {g}")),
        "true"
    );
    assert_eq!(
        eval_str(r#"Guid__new(Convert__FromHexString("00"))"#),
        "!ArgumentException: Byte array for Guid must be exactly 16 bytes long. (Parameter 'b')"
    );
    assert_eq!(
        eval_str("Guid__Empty().ToString()"),
        "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(eval_str("Guid__new() == Guid__Empty()"), "true");
    // 0x00112233 ^ 0x66774455 ^ 0xbbaa9988 ^ 0xffeeddcc as Int32.
    assert_eq!(
        eval_str(&format!("{g}.GetHashCode()")),
        (0x0011_2233_i32 ^ 0x6677_4455 ^ 0xbbaa_9988_u32 as i32 ^ 0xffee_ddcc_u32 as i32)
            .to_string()
    );
    let a = eval_str("Guid__NewGuid().ToString()");
    let b = eval_str("Guid__NewGuid().ToString()");
    assert_eq!(a.len(), 36);
    assert_eq!(a.as_bytes()[14], b'4', "version 4: {a}");
    assert_ne!(a, b);
    assert_eq!(eval_str("let g = Guid__NewGuid(); g == g"), "true");
    assert_eq!(
        eval_str(r#"Guid__Parse("00000000-0000-0000-0000-000000000001").CompareTo(Guid__Empty())"#),
        "1"
    );
}

#[test]
fn seeded_random_is_dotnet_sequence() {
    // `new Random(0).Next()` and `.NextDouble()` in .NET.
    assert_eq!(eval_str("Random__new(0).Next()"), "1559595546");
    assert_eq!(
        eval_str("Random__new(0).NextDouble()"),
        "0.7262432699679598"
    );
    assert_eq!(
        eval_str(
            "let r = Random__new(7); let q = Random__new(7); r.Next(100) == q.Next(100) && r.Next(5, 500) == q.Next(5, 500)"
        ),
        "true"
    );
    assert_eq!(
        eval_str("let r = Random__new(0); r.Next(); r.Next() != Random__new(0).Next()"),
        "true"
    );
    // Shared state: a copy of the reference advances the same generator.
    assert_eq!(
        eval_str("let r = Random__new(0); let s = r; s.Next(); r.Next() == Random__new(0).Next()"),
        "false"
    );
}

#[test]
fn random_ranges() {
    let ok = eval_str(
        "let r = Random__new(); let ok = true; let i = 0; while i < 200 { i += 1; let n = r.Next(5, 10); if n < 5 || n >= 10 { ok = false; } let d = r.NextDouble(); if d < 0.0 || d >= 1.0 { ok = false; } } ok",
    );
    assert_eq!(ok, "true");
    assert_eq!(eval_str("Random__new(1).Next(3, 3)"), "3");
    assert_eq!(eval_str("Random__new(1).Next(0)"), "0");
    assert_eq!(
        eval_str("Random__new(1).Next(-1)"),
        "!ArgumentOutOfRangeException: maxValue ('-1') must be a non-negative value. (Parameter 'maxValue')\nActual value was -1."
    );
    assert_eq!(
        eval_str("Random__new(1).Next(5, 1)"),
        "!ArgumentOutOfRangeException: '5' cannot be greater than 1. (Parameter 'minValue')"
    );
    assert_eq!(
        hex("Random__new(0).NextBytes(Convert__FromHexString(\"0000\"))").len(),
        4
    );
}
