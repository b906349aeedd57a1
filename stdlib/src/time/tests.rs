use std::time::{Duration, Instant};

use crate::core::EvalScope;
use crate::testing::eval_str;

/// 2024-01-02T03:04:05.678Z
const NOW_MS: i64 = 1_704_164_645_678;

fn at_now(src: &str) -> String {
    let _scope = EvalScope::enter(Instant::now() + Duration::from_secs(5), NOW_MS);
    eval_str(src)
}

#[test]
fn clock_comes_from_core_now() {
    assert_eq!(
        at_now("DateTime__UtcNow().ToString()"),
        "01/02/2024 03:04:05"
    );
    assert_eq!(
        at_now(r#"DateTime__UtcNow().ToString("o")"#),
        "2024-01-02T03:04:05.6780000Z"
    );
    assert_eq!(
        at_now(r#"DateTime__Now().ToString("o")"#),
        "2024-01-02T03:04:05.6780000+00:00"
    );
    assert_eq!(
        at_now(r#"DateTime__Today().ToString("s")"#),
        "2024-01-02T00:00:00"
    );
    assert_eq!(at_now("DateTime__UtcNow().Ticks"), "638397614456780000");
    assert_eq!(
        at_now("DateTimeOffset__UtcNow().ToUnixTimeSeconds()"),
        "1704164645"
    );
    assert_eq!(
        at_now("DateTimeOffset__Now().ToUnixTimeMilliseconds()"),
        NOW_MS.to_string()
    );
    assert_eq!(at_now("DateTime__UtcNow().Kind.ToString()"), "Utc");
}

#[test]
fn construction_and_fields() {
    let d = "let d = DateTime__new(2024, 2, 29, 13, 4, 5, 678);";
    assert_eq!(
        eval_str(&format!(
            "{d} [d.Year, d.Month, d.Day, d.Hour, d.Minute, d.Second, d.Millisecond, d.DayOfYear]"
        )),
        "[2024, 2, 29, 13, 4, 5, 678, 60]"
    );
    assert_eq!(eval_str(&format!("{d} d.DayOfWeek.ToString()")), "Thursday");
    assert_eq!(
        eval_str(&format!("{d} d.Date.ToString()")),
        "02/29/2024 00:00:00"
    );
    assert_eq!(
        eval_str(&format!("{d} d.TimeOfDay.ToString()")),
        "13:04:05.6780000"
    );
    assert_eq!(
        eval_str("DateTime__new(2023, 2, 29)"),
        "!ArgumentOutOfRangeException: Year, Month, and Day parameters describe an un-representable DateTime."
    );
    assert_eq!(
        eval_str("DateTime__new(2023, 2, 1, 24, 0, 0)"),
        "!ArgumentOutOfRangeException: Hour, Minute, and Second parameters describe an un-representable DateTime."
    );
    assert_eq!(
        eval_str("DateTime__new(1970, 1, 1, 0, 0, 0, DateTimeKind__Utc()).Kind.ToString()"),
        "Utc"
    );
    assert_eq!(
        eval_str("DateTime__MinValue().ToString()"),
        "01/01/0001 00:00:00"
    );
    assert_eq!(
        eval_str("DateTime__MaxValue().Ticks"),
        "3155378975999999999"
    );
    assert_eq!(eval_str("DateTime__DaysInMonth(2024, 2)"), "29");
    assert_eq!(eval_str("DateTime__IsLeapYear(1900)"), "false");
    assert_eq!(
        eval_str(
            "DateTime__SpecifyKind(DateTime__new(2020, 1, 1), DateTimeKind__Utc()).ToString(\"o\")"
        ),
        "2020-01-01T00:00:00.0000000Z"
    );
}

#[test]
fn arithmetic() {
    let d = "let d = DateTime__new(2024, 1, 31, 23, 0, 0);";
    assert_eq!(
        eval_str(&format!("{d} d.AddMonths(1).ToString(\"s\")")),
        "2024-02-29T23:00:00"
    );
    assert_eq!(
        eval_str(&format!("{d} d.AddYears(-1).AddMonths(1).ToString(\"s\")")),
        "2023-02-28T23:00:00"
    );
    assert_eq!(
        eval_str(&format!("{d} d.AddHours(1.5).ToString(\"s\")")),
        "2024-02-01T00:30:00"
    );
    assert_eq!(
        eval_str(&format!(
            "{d} d.AddSeconds(-0.5).ToString(\"HH:mm:ss.fff\")"
        )),
        "22:59:59.500"
    );
    assert_eq!(
        eval_str(&format!(
            "{d} d.AddDays(1).AddMinutes(30).AddMilliseconds(5).AddTicks(1).ToString(\"o\")"
        )),
        "2024-02-01T23:30:00.0050001"
    );
    assert_eq!(
        eval_str(&format!("{d} (d - DateTime__new(2024, 1, 1)).ToString()")),
        "30.23:00:00"
    );
    assert_eq!(
        eval_str(&format!(
            "{d} (d - TimeSpan__FromHours(23)).ToString(\"d\")"
        )),
        "01/31/2024"
    );
    assert_eq!(
        eval_str(&format!("{d} (d + TimeSpan__FromHours(1)).ToString(\"d\")")),
        "02/01/2024"
    );
    assert_eq!(
        eval_str(&format!(
            "{d} d.Subtract(DateTime__new(2024, 1, 31)).TotalHours"
        )),
        "23.0"
    );
    assert_eq!(
        eval_str(&format!("{d} d.Add(TimeSpan__FromDays(1)) > d")),
        "true"
    );
    assert_eq!(
        eval_str(&format!(
            "{d} [d == d.AddTicks(0), d != d, d <= d, d < d, d.CompareTo(DateTime__MinValue())]"
        )),
        "[true, false, true, false, 1]"
    );
    assert_eq!(
        eval_str("DateTime__MaxValue().AddDays(1)"),
        "!ArgumentOutOfRangeException: The added or subtracted value results in an un-representable DateTime. (Parameter 'value')"
    );
    // The corpus's epoch arithmetic.
    assert_eq!(
        eval_str("(DateTime__new(2024, 1, 2, 3, 4, 5) - DateTime__new(1970, 1, 1)).TotalSeconds"),
        "1704164645.0"
    );
    // A numeric string, which C# would reject at compile time, is read as a number.
    assert_eq!(
        eval_str(r#"DateTime__new(2024, 1, 1).AddSeconds("60").ToString("t")"#),
        "00:01"
    );
}

#[test]
fn standard_formats() {
    let d = "let d = DateTime__new(2024, 1, 2, 15, 4, 5, 60, DateTimeKind__Utc());";
    let cases = [
        ("d", "01/02/2024"),
        ("D", "Tuesday, 02 January 2024"),
        ("f", "Tuesday, 02 January 2024 15:04"),
        ("F", "Tuesday, 02 January 2024 15:04:05"),
        ("g", "01/02/2024 15:04"),
        ("G", "01/02/2024 15:04:05"),
        ("M", "January 02"),
        ("o", "2024-01-02T15:04:05.0600000Z"),
        ("O", "2024-01-02T15:04:05.0600000Z"),
        ("r", "Tue, 02 Jan 2024 15:04:05 GMT"),
        ("R", "Tue, 02 Jan 2024 15:04:05 GMT"),
        ("s", "2024-01-02T15:04:05"),
        ("t", "15:04"),
        ("T", "15:04:05"),
        ("u", "2024-01-02 15:04:05Z"),
        ("Y", "2024 January"),
    ];
    for (f, want) in cases {
        assert_eq!(
            eval_str(&format!("{d} d.ToString(\"{f}\")")),
            want,
            "format {f}"
        );
    }
    assert_eq!(
        eval_str(&format!("{d} d.ToString(\"Q\")")),
        "!FormatException: Input string was not in a correct format."
    );
    assert_eq!(
        eval_str(&format!(
            "{d} d.ToString(\"o\", CultureInfo__InvariantCulture())"
        )),
        "2024-01-02T15:04:05.0600000Z"
    );
    assert_eq!(
        eval_str("DateTime__new(2024, 1, 2).ToString(\"o\")"),
        "2024-01-02T00:00:00.0000000"
    );
}

#[test]
fn custom_formats() {
    let d = "let d = DateTime__new(2024, 1, 2, 15, 4, 5, 60, DateTimeKind__Utc());";
    let cases = [
        ("yyyy-MM-ddTHH:mm:ssZ", "2024-01-02T15:04:05Z"),
        ("yyyyMMddTHHmmssZ", "20240102T150405Z"),
        ("yyyyMMdd", "20240102"),
        ("yyyy-MM-ddTHH:mm:ss.fffZ", "2024-01-02T15:04:05.060Z"),
        ("yy M d H h m s", "24 1 2 15 3 4 5"),
        ("MMM MMMM ddd dddd", "Jan January Tue Tuesday"),
        ("hh tt t", "03 PM P"),
        ("ss.FFF|ss.FFFFFFF|f|ff|fffffff", "05.06|05.06|0|06|0600000"),
        ("K zzz zz z", "Z +00:00 +00 +0"),
        ("'yyyy' \\d \"MM\" %d", "yyyy d MM 2"),
        ("yyyyy", "02024"),
    ];
    for (f, want) in cases {
        assert_eq!(
            eval_str(&format!(
                "{d} d.ToString(\"{}\")",
                f.replace('\\', "\\\\").replace('"', "\\\"")
            )),
            want,
            "format {f}"
        );
    }
    assert_eq!(
        eval_str("DateTime__new(2024, 1, 2, 0, 0, 5).ToString(\"ss.FFF\")"),
        "05"
    );
    assert_eq!(
        eval_str("DateTime__new(2024, 1, 2).ToString(\"hh:mm tt\")"),
        "12:00 AM"
    );
    assert_eq!(
        eval_str("DateTime__new(2024, 1, 2).ToString(\"ffffffff\")"),
        "!FormatException: Input string was not in a correct format."
    );
    assert_eq!(
        eval_str("DateTime__new(2024, 1, 2).ToString(\"'abc\")"),
        "!FormatException: Cannot find a matching quote character for the character '''."
    );
}

#[test]
fn parsing() {
    assert_eq!(
        eval_str(r#"let d = DateTime__Parse("2024-01-02T03:04:05Z"); d.ToString("o")"#),
        "2024-01-02T03:04:05.0000000+00:00"
    );
    assert_eq!(
        eval_str(r#"DateTime__Parse("2024-01-02T03:04:05.123+02:00").ToString("o")"#),
        "2024-01-02T01:04:05.1230000+00:00"
    );
    assert_eq!(
        eval_str(r#"DateTime__Parse("2024-01-02").ToString("o")"#),
        "2024-01-02T00:00:00.0000000"
    );
    assert_eq!(
        eval_str(r#"DateTime__Parse("1/2/2024 3:04:05 PM").ToString("s")"#),
        "2024-01-02T15:04:05"
    );
    assert_eq!(
        eval_str(r#"DateTime__Parse("01/02/2024 15:04:05").ToString("s")"#),
        "2024-01-02T15:04:05"
    );
    assert_eq!(
        eval_str(r#"DateTime__Parse("Tue, 02 Jan 2024 15:04:05 GMT").Kind.ToString()"#),
        "Local"
    );
    assert_eq!(
        eval_str(r#"DateTime__Parse("2 January 2024").ToString("s")"#),
        "2024-01-02T00:00:00"
    );
    assert_eq!(
        eval_str(r#"DateTime__Parse("nope")"#),
        "!FormatException: String 'nope' was not recognized as a valid DateTime."
    );
    assert_eq!(
        eval_str(r#"DateTime__Parse("2024-02-30")"#),
        "!FormatException: String '2024-02-30' was not recognized as a valid DateTime."
    );
    assert_eq!(
        eval_str(r#"DateTime__TryParse__out("2024-01-02")[0]"#),
        "true"
    );
    assert_eq!(
        eval_str(r#"let r = DateTime__TryParse__out("x"); [r[0], r[1].Ticks]"#),
        "[false, 0]"
    );
    assert_eq!(eval_str(r#"DateTime__TryParse__out(())[0]"#), "false");
    let inv = "CultureInfo__InvariantCulture()";
    assert_eq!(
        eval_str(&format!(
            r#"DateTime__ParseExact("20240102T030405Z", "yyyyMMddTHHmmssZ", {inv}).ToString("o")"#
        )),
        "2024-01-02T03:04:05.0000000"
    );
    assert_eq!(
        eval_str(&format!(
            r#"DateTime__ParseExact("02/01/2024 7:05 pm", "dd/MM/yyyy h:mm tt", {inv}).ToString("s")"#
        )),
        "2024-01-02T19:05:00"
    );
    assert_eq!(
        eval_str(&format!(
            r#"DateTime__ParseExact("2024-01-02T03:04:05.1234567Z", "o", {inv}).Ticks % 10000000"#
        )),
        "1234567"
    );
    assert_eq!(
        eval_str(&format!(
            r#"DateTime__ParseExact("2024-1-02", "yyyy-MM-dd", {inv})"#
        )),
        "!FormatException: String '2024-1-02' was not recognized as a valid DateTime."
    );
}

#[test]
fn date_time_offset() {
    assert_eq!(
        eval_str("DateTimeOffset__FromUnixTimeSeconds(1704164645).ToString(\"R\")"),
        "Tue, 02 Jan 2024 03:04:05 GMT"
    );
    assert_eq!(
        eval_str("DateTimeOffset__FromUnixTimeMilliseconds(1704164645678).ToString()"),
        "01/02/2024 03:04:05 +00:00"
    );
    assert_eq!(
        eval_str(
            "DateTimeOffset__FromUnixTimeMilliseconds(1704164645678).AddSeconds(300).ToUnixTimeMilliseconds()"
        ),
        "1704164945678"
    );
    assert_eq!(
        eval_str("DateTimeOffset__FromUnixTimeMilliseconds(-1).ToUnixTimeSeconds()"),
        "-1"
    );
    assert_eq!(
        eval_str("DateTimeOffset__FromUnixTimeSeconds(253402300800)"),
        "!ArgumentOutOfRangeException: Valid values are between -62135596800 and 253402300799, inclusive. (Parameter 'seconds')"
    );
    assert_eq!(
        eval_str(
            "DateTimeOffset__FromUnixTimeSeconds(10) > DateTimeOffset__FromUnixTimeSeconds(9)"
        ),
        "true"
    );
    assert_eq!(
        eval_str("DateTimeOffset__new(DateTime__new(2024, 1, 2, 3, 4, 5)).ToUnixTimeSeconds()"),
        "1704164645"
    );
    assert_eq!(
        eval_str(
            "__cast(DateTime__new(1970, 1, 1, 0, 1, 0), \"DateTimeOffset\").ToUnixTimeSeconds()"
        ),
        "60"
    );
    assert_eq!(
        eval_str(
            "(DateTime__new(1970, 1, 1) + TimeSpan__FromSeconds(1200)).__conv(\"DateTimeOffset\").ToUnixTimeSeconds()"
        ),
        "1200"
    );
    let o = "let o = DateTimeOffset__new(2024, 1, 2, 3, 4, 5, TimeSpan__FromHours(2));";
    assert_eq!(
        eval_str(&format!("{o} o.ToString(\"o\")")),
        "2024-01-02T03:04:05.0000000+02:00"
    );
    assert_eq!(
        eval_str(&format!("{o} o.ToString(\"r\")")),
        "Tue, 02 Jan 2024 01:04:05 GMT"
    );
    assert_eq!(
        eval_str(&format!(
            "{o} [o.UtcDateTime.ToString(\"o\"), o.DateTime.ToString(\"o\"), o.Offset.ToString()]"
        )),
        r#"["2024-01-02T01:04:05.0000000Z", "2024-01-02T03:04:05.0000000", "02:00:00"]"#
    );
    assert_eq!(
        eval_str(&format!("{o} o.ToUnixTimeSeconds()")),
        "1704157445"
    );
    assert_eq!(
        eval_str("DateTimeOffset__Parse(\"2024-01-02T03:04:05-05:30\").ToString(\"zzz\")"),
        "-05:30"
    );
    assert_eq!(
        eval_str("DateTimeOffset__new(DateTime__UtcNow(), TimeSpan__FromHours(1))"),
        "!ArgumentException: The UTC Offset for Utc DateTime instances must be 0. (Parameter 'offset')"
    );
}

#[test]
fn time_span() {
    assert_eq!(eval_str("TimeSpan__FromSeconds(90).ToString()"), "00:01:30");
    assert_eq!(eval_str("TimeSpan__FromMilliseconds(1.5).Ticks"), "15000");
    assert_eq!(
        eval_str("TimeSpan__new(1, 2, 3, 4, 5).ToString()"),
        "1.02:03:04.0050000"
    );
    assert_eq!(eval_str("TimeSpan__new(-1, 0, 0).ToString()"), "-01:00:00");
    assert_eq!(
        eval_str(
            "let t = TimeSpan__new(1, 2, 3, 4); [t.Days, t.Hours, t.Minutes, t.Seconds, t.Milliseconds]"
        ),
        "[1, 2, 3, 4, 0]"
    );
    assert_eq!(eval_str("TimeSpan__FromMinutes(-90).Hours"), "-1");
    assert_eq!(eval_str("TimeSpan__FromHours(36).TotalDays"), "1.5");
    assert_eq!(
        eval_str("TimeSpan__FromDays(1).TotalMilliseconds"),
        "86400000.0"
    );
    assert_eq!(
        eval_str("TimeSpan__new(1, 2, 3, 4, 500).ToString(\"g\")"),
        "1:2:03:04.5"
    );
    assert_eq!(
        eval_str("TimeSpan__new(0, 2, 3, 4, 500).ToString(\"G\")"),
        "0:02:03:04.5000000"
    );
    assert_eq!(
        eval_str("TimeSpan__new(0, 2, 3, 4, 500).ToString(\"hh\\\\:mm\\\\:ss\\\\.fff\")"),
        "02:03:04.500"
    );
    assert_eq!(eval_str("TimeSpan__new(0, 2, 3, 4).ToString(\"%d\")"), "0");
    assert_eq!(
        eval_str("TimeSpan__Parse(\"1.02:03:04.5\").Ticks"),
        "937845000000"
    );
    assert_eq!(
        eval_str("TimeSpan__Parse(\"-00:30\").TotalMinutes"),
        "-30.0"
    );
    assert_eq!(eval_str("TimeSpan__Parse(\"3\").TotalDays"), "3.0");
    assert_eq!(
        eval_str("TimeSpan__Parse(\"x\")"),
        "!FormatException: String 'x' was not recognized as a valid TimeSpan."
    );
    assert_eq!(
        eval_str("TimeSpan__Parse(\"25:00\")").split(':').next(),
        Some("!OverflowException")
    );
    assert_eq!(
        eval_str(
            "(TimeSpan__FromHours(1) + TimeSpan__FromMinutes(1) - TimeSpan__FromSeconds(60)).ToString()"
        ),
        "01:00:00"
    );
    assert_eq!(
        eval_str("(-TimeSpan__FromHours(1)).Duration().Negate().ToString()"),
        "-01:00:00"
    );
    assert_eq!(
        eval_str("(TimeSpan__FromHours(1) * 1.5).ToString()"),
        "01:30:00"
    );
    assert_eq!(
        eval_str("(TimeSpan__FromHours(1) / 4).ToString()"),
        "00:15:00"
    );
    assert_eq!(
        eval_str(
            "[TimeSpan__Zero() < TimeSpan__FromTicks(1), TimeSpan__FromSeconds(1) == TimeSpan__FromMilliseconds(1000)]"
        ),
        "[true, true]"
    );
    assert_eq!(
        eval_str("TimeSpan__FromSeconds(1e300)"),
        "!OverflowException: TimeSpan overflowed because the duration is too long."
    );
    assert_eq!(
        eval_str("TimeSpan__MaxValue() + TimeSpan__FromTicks(1)"),
        "!OverflowException: TimeSpan overflowed because the duration is too long."
    );
}

#[test]
fn enums_and_culture() {
    assert_eq!(
        eval_str("DateTime__new(2024, 1, 6).DayOfWeek == DayOfWeek__Saturday()"),
        "true"
    );
    assert_eq!(
        eval_str("__conv(DateTime__new(2024, 1, 6).DayOfWeek, \"int\")"),
        "6"
    );
    assert_eq!(eval_str("DateTimeKind__Utc().ToString()"), "Utc");
    assert_eq!(
        eval_str("type_of(CultureInfo__InvariantCulture())"),
        "CultureInfo"
    );
}
