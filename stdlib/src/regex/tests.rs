use crate::testing::eval_str;

#[test]
fn corpus_patterns() {
    assert_eq!(
        eval_str(
            r#"Regex__Match("public, max-age=3600", "max-age=(?<maxAge>\\d+)").Groups["maxAge"].Value"#
        ),
        "3600"
    );
    assert_eq!(
        eval_str(
            r#"let g = Regex__Match("no-cache", "max-age=(?<maxAge>\\d+)").Groups["maxAge"]; [g.Success, g.Value]"#
        ),
        r#"[false, ""]"#
    );
    assert_eq!(
        eval_str(r#"Regex__IsMatch("a%2Fb", "%[0-9A-Fa-f]{2}")"#),
        "true"
    );
    let m = r#"let m = Regex__Match("client:https://x:2024-01-02T03:04:05Z", ":\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$");"#;
    assert_eq!(
        eval_str(&format!("{m} [m.Success, m.Value, m.Index, m.Length]")),
        r#"[true, ":2024-01-02T03:04:05Z", 16, 21]"#
    );
}

#[test]
fn options_and_dialect() {
    assert_eq!(
        eval_str("RegexOptions__IgnoreCase() | RegexOptions__Multiline()"),
        "3"
    );
    assert_eq!(
        eval_str(r#"Regex__IsMatch("ABC", "abc", RegexOptions__IgnoreCase())"#),
        "true"
    );
    assert_eq!(
        eval_str(r#"Regex__Matches("a\nb", "^\\w$", RegexOptions__Multiline()).Count"#),
        "2"
    );
    assert_eq!(
        eval_str(r#"Regex__IsMatch("a\nb", "a.b", RegexOptions__Singleline())"#),
        "true"
    );
    assert_eq!(eval_str(r#"Regex__IsMatch("a\nb", "a.b")"#), "false");
    assert_eq!(
        eval_str(
            r#"Regex__IsMatch("ab", "a b # comment", RegexOptions__IgnorePatternWhitespace())"#
        ),
        "true"
    );
    // `$` also matches before a final newline, as in .NET.
    assert_eq!(eval_str(r#"Regex__IsMatch("abc\n", "c$")"#), "true");
    assert_eq!(eval_str(r#"Regex__IsMatch("abc\n", "c\\z")"#), "false");
    assert_eq!(
        eval_str(r#"Regex__Match("ab", "(?'x'a)(?#note)b").Groups["x"].Value"#),
        "a"
    );
    assert_eq!(
        eval_str(r#"Regex__Match("ab", "(a)(b)", RegexOptions__ExplicitCapture()).Groups.Count"#),
        "1"
    );
    // .NET numbers unnamed groups before named ones.
    assert_eq!(
        eval_str(
            r#"let g = Regex__Match("xy", "(?<n>x)(y)").Groups; [g[1].Value, g[2].Value, g[2].Name]"#
        ),
        r#"["y", "x", "n"]"#
    );
    assert_eq!(eval_str(r#"Regex__IsMatch("aa", "(?<c>a)\\k<c>")"#), "true");
    assert_eq!(eval_str(r#"Regex__IsMatch("[]", "[]]")"#), "true");
}

#[test]
fn errors() {
    assert!(
        eval_str(r#"Regex__new("(a")"#)
            .starts_with("!ArgumentException: Invalid pattern '(a' at offset 2.")
    );
    assert_eq!(
        eval_str(r#"Regex__IsMatch((), "a")"#),
        "!ArgumentNullException: Value cannot be null. (Parameter 'input')"
    );
    assert_eq!(
        eval_str(r#"Regex__IsMatch("a", ())"#),
        "!ArgumentNullException: Value cannot be null. (Parameter 'pattern')"
    );
    let evil = r#"Regex__IsMatch("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "^(\\w+\\s?)*(?<=x)$")"#;
    let got = eval_str(evil);
    assert!(
        got.starts_with("!RegexMatchTimeoutException: The Regex engine has timed out"),
        "{got}"
    );
    assert!(
        eval_str(&format!("Regex__new(\"{}\")", "a".repeat(40_000)))
            .starts_with("!ArgumentException")
    );
}

#[test]
fn matches_groups_and_next() {
    let m = r#"let ms = Regex__Matches("a1 b22 c333", "([a-z])(?<num>\\d+)");"#;
    assert_eq!(
        eval_str(&format!(
            "{m} [ms.Count, ms[1].Value, ms[2].Groups[1].Value, ms[2].Groups[\"num\"].Index]"
        )),
        r#"[3, "b22", "c", 8]"#
    );
    assert_eq!(
        eval_str(&format!(
            "{m} let s = \"\"; for x in ms {{ s += x.Groups[\"num\"].Value; }} s"
        )),
        "122333"
    );
    assert_eq!(eval_str(&format!("{m} ms.__items().Length")), "3");
    assert_eq!(
        eval_str(&format!("{m} ms[3]")),
        "!ArgumentOutOfRangeException: Specified argument was out of the range of valid values. (Parameter 'i')"
    );
    let n = r#"let m = Regex__Match("x1y2", "\\d");"#;
    assert_eq!(
        eval_str(&format!(
            "{n} let m2 = m.NextMatch(); [m.Value, m2.Value, m2.Index, m2.NextMatch().Success]"
        )),
        r#"["1", "2", 3, false]"#
    );
    assert_eq!(
        eval_str(
            r#"let g = Regex__Match("ab", "a(x)?b").Groups; [g[1].Success, g[1].Value, g[5].Success, g.Count]"#
        ),
        r#"[false, "", false, 2]"#
    );
    assert_eq!(
        eval_str(r#"Regex__Match("ab", "(?<k>b)").Groups["k"].Captures[0].Index"#),
        "1"
    );
    assert_eq!(
        eval_str(r#"Regex__Match("ab", "(?<k>b)").Result("[$1|${k}|$0|$$]")"#),
        "[b|b|b|$]"
    );
    assert_eq!(eval_str(r#"Match__Empty().Success"#), "false");
    assert_eq!(eval_str(r#"Regex__Matches("abc", "").Count"#), "4");
}

#[test]
fn replace_split_escape() {
    assert_eq!(
        eval_str(r#"Regex__Replace("John Smith", "(\\w+) (?<last>\\w+)", "${last}, $1")"#),
        "Smith, John"
    );
    assert_eq!(
        eval_str(r#"Regex__Replace("a1b2", "\\d", "[$0$$$&$9]")"#),
        "a[1$1$9]b[2$2$9]"
    );
    assert_eq!(
        eval_str(r#"Regex__Replace("aXbx", "x", "-", RegexOptions__IgnoreCase())"#),
        "a-b-"
    );
    assert_eq!(
        eval_str(r#"Regex__Replace("a1b22", "\\d+", |m| `<${m.Value}>`)"#),
        "a<1>b<22>"
    );
    assert_eq!(
        eval_str(r#"Regex__new("\\d").Replace("1234", "x", 2)"#),
        "xx34"
    );
    assert_eq!(eval_str(r#"Regex__Replace("abc", "", "-")"#), "-a-b-c-");
    assert_eq!(
        eval_str(r#"Regex__Split("a,b;;c", "[,;]")"#),
        r#"["a", "b", "", "c"]"#
    );
    assert_eq!(
        eval_str(r#"Regex__Split("a1b", "(\\d)")"#),
        r#"["a", "1", "b"]"#
    );
    assert_eq!(eval_str(r#"Regex__new("-").Split("x-y")"#), r#"["x", "y"]"#);
    assert_eq!(
        eval_str(r#"Regex__Escape("a.b*c (d)\t#]")"#),
        r"a\.b\*c\ \(d\)\t\#]"
    );
    assert_eq!(
        eval_str(r#"Regex__Unescape("a\\.b\\tc\\x41\\u0042\\101")"#),
        "a.b\tcABA"
    );
    assert!(eval_str(r#"Regex__Unescape("a\\")"#).starts_with(
        "!ArgumentException: Invalid pattern 'a\\' at offset 2. Illegal \\ at end of pattern."
    ));
}

#[test]
fn instance_members() {
    let r = r#"let r = Regex__new("(?<y>\\d{4})-(?<m>\\d{2})", RegexOptions__Compiled() | RegexOptions__CultureInvariant());"#;
    assert_eq!(
        eval_str(&format!(
            "{r} [r.IsMatch(\"2024-01\"), r.Match(\"x 2024-01\").Index, r.Matches(\"2024-01 2025-02\").Count, r.ToString(), r.Options]"
        )),
        r#"[true, 2, 2, "(?<y>\\d{4})-(?<m>\\d{2})", 520]"#
    );
    assert_eq!(
        eval_str(&format!("{r} r.GetGroupNames()")),
        r#"["0", "y", "m"]"#
    );
    assert_eq!(
        eval_str(&format!(
            "{r} [r.Match(\"2024-01 2025-02\", 3).Value, r.IsMatch(\"2024-01\", 1)]"
        )),
        r#"["2025-02", false]"#
    );
    assert_eq!(
        eval_str(&format!("{r} r.Match(\"x\", 5)")),
        "!ArgumentOutOfRangeException: Specified argument was out of the range of valid values. (Parameter 'startat')"
    );
}

/// Char indexes carried from match to match (not recounted from the start)
/// are the same as counted from the start: non-ASCII text, `NextMatch`, a
/// group in a look-behind (before its match), `startat`.
#[test]
fn char_indexes_carry_over_matches() {
    assert_eq!(
        eval_str(
            r#"let ms = Regex__Matches("éé-ab 😀x-cd", "[a-z]+"); [ms[0].Index, ms[0].Length, ms[1].Index, ms[1].Length, ms[2].Index, ms[2].Length]"#
        ),
        "[3, 2, 7, 1, 9, 2]"
    );
    assert_eq!(
        eval_str(
            r#"let m = Regex__Match("ü1 ü2 ü3", "\\d").NextMatch().NextMatch(); [m.Value, m.Index]"#
        ),
        r#"["3", 7]"#
    );
    assert_eq!(
        eval_str(r#"let m = Regex__Match("éé😀x", "(?<=(é😀))x"); [m.Index, m.Groups[1].Index]"#),
        "[3, 1]"
    );
    assert_eq!(
        eval_str(r#"let m = Regex__new("\\d").Match("ü1 ü2 ü3", 4); [m.Value, m.Index]"#),
        r#"["2", 4]"#
    );
    // The text before and after each match, by byte offsets.
    assert_eq!(
        eval_str(r#"Regex__Replace("é1ü2", "\\d", "[$`|$']")"#),
        "é[é|ü2]ü[é1ü|]"
    );
    // Empty matches step one char, multi-byte chars too.
    assert_eq!(eval_str(r#"Regex__Replace("é😀", "", "-")"#), "-é-😀-");
}
