use rhai::Dynamic;

use crate::core::exception_of;
use crate::testing::{eval, failure};

mod format;

/// The value as text (arrays as `a|b|c`), or `!Type: message` for a .NET exception.
fn ev(src: &str) -> String {
    match eval(src) {
        Ok(v) if v.is_array() => {
            let a = v.cast::<rhai::Array>();
            a.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("|")
        }
        Ok(v) => v.to_string(),
        Err(e) => failure(&e),
    }
}

/// The number of elements of an array result.
fn count(src: &str) -> usize {
    eval(src)
        .map(|v| v.cast::<rhai::Array>().len())
        .unwrap_or(usize::MAX)
}

/// The exception type alone.
fn err(src: &str) -> String {
    let out = ev(src);
    out.split(':').next().unwrap_or("").to_owned()
}

#[test]
fn length_and_chars() {
    assert_eq!(ev(r#""abc".Length"#), "3");
    assert_eq!(ev(r#""héllo".Length"#), "5");
    assert_eq!(ev(r#""abc".Chars(1)"#), "b");
    assert_eq!(
        ev(r#""abc".Chars(3)"#),
        "!IndexOutOfRangeException: Index was outside the bounds of the array."
    );
    assert_eq!(
        ev(r#"let s = (); s.Trim()"#),
        "!NullReferenceException: Object reference not set to an instance of an object."
    );
}

#[test]
fn substring() {
    assert_eq!(ev(r#""Bearer abc".Substring(7)"#), "abc");
    assert_eq!(ev(r#""hello".Substring(1, 3)"#), "ell");
    assert_eq!(ev(r#""hello".Substring(5)"#), "");
    assert_eq!(
        ev(r#""hello".Substring(6)"#),
        "!ArgumentOutOfRangeException: startIndex cannot be larger than length of string. (Parameter 'startIndex')"
    );
    assert_eq!(
        ev(r#""hello".Substring(-1)"#),
        "!ArgumentOutOfRangeException: StartIndex cannot be less than zero. (Parameter 'startIndex')"
    );
    assert_eq!(
        ev(r#""hello".Substring(2, 4)"#),
        "!ArgumentOutOfRangeException: Index and length must refer to a location within the string. (Parameter 'length')"
    );
    assert_eq!(
        ev(r#""hello".Substring(2, -1)"#),
        "!ArgumentOutOfRangeException: Length cannot be less than zero. (Parameter 'length')"
    );
}

#[test]
fn index_of() {
    assert_eq!(ev(r#""client:redirect".IndexOf(':')"#), "6");
    assert_eq!(ev(r#""abcabc".IndexOf("bc")"#), "1");
    assert_eq!(ev(r#""abcabc".IndexOf("bc", 2)"#), "4");
    assert_eq!(ev(r#""abcabc".IndexOf('c', 3, 3)"#), "5");
    assert_eq!(ev(r#""abcabc".IndexOf('c', 3, 2)"#), "-1");
    assert_eq!(ev(r#""abc".IndexOf("")"#), "0");
    assert_eq!(
        ev(r#""ABC".IndexOf("bc", StringComparison__OrdinalIgnoreCase())"#),
        "1"
    );
    assert_eq!(
        ev(r#""ABC".IndexOf("bc", StringComparison__Ordinal())"#),
        "-1"
    );
    assert_eq!(
        err(r#""abc".IndexOf('a', 4)"#),
        "!ArgumentOutOfRangeException"
    );
    assert_eq!(
        ev(r#""abc".IndexOf(())"#),
        "!ArgumentNullException: Value cannot be null. (Parameter 'value')"
    );
    assert_eq!(ev(r#""abcabc".LastIndexOf('b')"#), "4");
    assert_eq!(ev(r#""abcabc".LastIndexOf("bc")"#), "4");
    assert_eq!(ev(r#""abcabc".LastIndexOf("bc", 3)"#), "1");
    assert_eq!(ev(r#""abcabc".LastIndexOf('a', 2, 2)"#), "-1");
    assert_eq!(ev(r#""abc".LastIndexOf("")"#), "3");
    assert_eq!(ev(r#""a,b;c".IndexOfAny([';', ','])"#), "1");
    assert_eq!(ev(r#""a,b;c".LastIndexOfAny([';', ','])"#), "3");
    assert_eq!(ev(r#""a,b;c".IndexOfAny(['x'])"#), "-1");
}

#[test]
fn contains_starts_ends() {
    assert_eq!(ev(r#""a:b".Contains(':')"#), "true");
    assert_eq!(
        ev(r#""hello-eus.azurewebsites.net".Contains("hello-eus")"#),
        "true"
    );
    assert_eq!(ev(r#""Hello".Contains("hell")"#), "false");
    assert_eq!(
        ev(r#""Hello".Contains("hell", StringComparison__OrdinalIgnoreCase())"#),
        "true"
    );
    assert_eq!(
        ev(r#""x".Contains(())"#),
        "!ArgumentNullException: Value cannot be null. (Parameter 'value')"
    );
    assert_eq!(ev(r#""https://x".StartsWith("https://")"#), "true");
    assert_eq!(
        ev(r#""/OAuth/cb".StartsWith("/oauth", StringComparison__InvariantCultureIgnoreCase())"#),
        "true"
    );
    assert_eq!(ev(r#""/OAuth/cb".StartsWith("/oauth")"#), "false");
    assert_eq!(ev(r#""abc".StartsWith('a')"#), "true");
    assert_eq!(ev(r#""abc".StartsWith("")"#), "true");
    assert_eq!(ev(r#""ABC".StartsWith("ab", true, ())"#), "true");
    assert_eq!(ev(r#""x/".EndsWith("/")"#), "true");
    assert_eq!(
        ev(r#""x/".EndsWith("X/", StringComparison__OrdinalIgnoreCase())"#),
        "true"
    );
    assert_eq!(
        ev(r#""x".StartsWith(())"#),
        "!ArgumentNullException: Value cannot be null. (Parameter 'value')"
    );
}

#[test]
fn equals_and_compare() {
    assert_eq!(ev(r#""Starter".Equals("Starter")"#), "true");
    assert_eq!(ev(r#""Starter".Equals("starter")"#), "false");
    assert_eq!(
        ev(r#""West US".Equals("west us", StringComparison__OrdinalIgnoreCase())"#),
        "true"
    );
    assert_eq!(ev(r#""a".Equals(1)"#), "false");
    assert_eq!(ev(r#""a".Equals(())"#), "false");
    assert_eq!(
        ev(r#"String__Equals("x-amz-date", "X-Amz-Date", StringComparison__OrdinalIgnoreCase())"#),
        "true"
    );
    assert_eq!(ev(r#"string__Equals((), ())"#), "true");
    assert_eq!(ev(r#"string__Equals("a", ())"#), "false");
    assert_eq!(ev(r#"string__Compare("abc", "abc")"#), "0");
    assert_eq!(ev(r#"string__Compare("a", "B")"#), "-1");
    assert_eq!(
        ev(r#"string__Compare("a", "B", StringComparison__Ordinal())"#),
        "31"
    );
    assert_eq!(ev(r#"string__Compare("a", "A")"#), "-1");
    assert_eq!(ev(r#"string__Compare("a", "A", true)"#), "0");
    assert_eq!(
        ev(r#"string__Compare("abc", "ABD", StringComparison__OrdinalIgnoreCase())"#),
        "-1"
    );
    assert_eq!(ev(r#"string__Compare((), "a")"#), "-1");
    assert_eq!(ev(r#"string__Compare("a", ())"#), "1");
    assert_eq!(ev(r#"string__Compare("xabc", 1, "abd", 0, 2)"#), "0");
    assert_eq!(ev(r#"String__CompareOrdinal("ab", "abc")"#), "-1");
    assert_eq!(ev(r#""b".CompareTo("a")"#), "1");
    assert_eq!(ev(r#""b".CompareTo(())"#), "1");
    assert_eq!(
        ev(r#""b".CompareTo(1)"#),
        "!ArgumentException: Object must be of type String."
    );
    assert_eq!(
        ev(r#"StringComparison__OrdinalIgnoreCase().ToString()"#),
        "OrdinalIgnoreCase"
    );
    assert_eq!(
        ev(r#"StringComparison__Ordinal() == StringComparison__Ordinal()"#),
        "true"
    );
}

#[test]
fn replace_insert_remove_pad() {
    assert_eq!(
        ev(r#""a+b/c==".Replace("+", "-").Replace("/", "_").Replace("=", "")"#),
        "a-b_c"
    );
    assert_eq!(ev(r#""a+b".Replace('+', '-')"#), "a-b");
    assert_eq!(ev(r#""aaa".Replace("a", "bb")"#), "bbbbbb");
    assert_eq!(ev(r#""abc".Replace("b", ())"#), "ac");
    assert_eq!(
        ev(r#""aBc".Replace("b", "x", StringComparison__OrdinalIgnoreCase())"#),
        "axc"
    );
    assert_eq!(ev(r#""ABAB".Replace("ab", "-", true, ())"#), "--");
    assert_eq!(
        ev(r#""abc".Replace("", "x")"#),
        "!ArgumentException: String cannot be of zero length. (Parameter 'oldValue')"
    );
    assert_eq!(
        ev(r#""abc".Replace((), "x")"#),
        "!ArgumentNullException: Value cannot be null. (Parameter 'oldValue')"
    );
    assert_eq!(ev(r#""héllo".Replace("l", "L")"#), "héLLo");
    assert_eq!(ev(r#""abc".Insert(1, "XY")"#), "aXYbc");
    assert_eq!(ev(r#""abc".Insert(3, "!")"#), "abc!");
    assert_eq!(
        err(r#""abc".Insert(4, "!")"#),
        "!ArgumentOutOfRangeException"
    );
    assert_eq!(
        ev(r#""abc".Insert(1, ())"#),
        "!ArgumentNullException: Value cannot be null. (Parameter 'value')"
    );
    assert_eq!(ev(r#""abcdef".Remove(3)"#), "abc");
    assert_eq!(ev(r#""abcdef".Remove(1, 2)"#), "adef");
    assert_eq!(
        ev(r#""abc".Remove(3)"#),
        "!ArgumentOutOfRangeException: startIndex must be less than length of string. (Parameter 'startIndex')"
    );
    assert_eq!(
        ev(r#""abc".Remove(2, 2)"#),
        "!ArgumentOutOfRangeException: Index and count must refer to a location within the string. (Parameter 'count')"
    );
    assert_eq!(ev(r#""7".PadLeft(3, '0')"#), "007");
    assert_eq!(ev(r#""7".PadLeft(3)"#), "  7");
    assert_eq!(ev(r#""7".PadRight(3, '.')"#), "7..");
    assert_eq!(ev(r#""long".PadLeft(2)"#), "long");
    assert_eq!(
        ev(r#""7".PadLeft(-1)"#),
        "!ArgumentOutOfRangeException: Non-negative number required. (Parameter 'totalWidth')"
    );
    assert_eq!(err(r#""7".PadLeft(2000000000)"#), "!OutOfMemoryException");
}

#[test]
fn case_and_chars() {
    assert_eq!(ev(r#""AbC".ToLowerInvariant()"#), "abc");
    assert_eq!(ev(r#""AbC".ToLower()"#), "abc");
    assert_eq!(ev(r#""sap-host".ToUpper()"#), "SAP-HOST");
    assert_eq!(ev(r#""straße".ToUpperInvariant()"#), "STRAßE");
    assert_eq!(ev(r#""abc".ToCharArray()"#), "a|b|c");
    assert_eq!(ev(r#""abcd".ToCharArray(1, 2)"#), "b|c");
    assert_eq!(ev(r#""abc".Normalize()"#), "abc");
    assert_eq!(ev(r#""abc".ToString()"#), "abc");
}

#[test]
fn split() {
    assert_eq!(ev(r#""a.b.c".Split('.')"#), "a|b|c");
    assert_eq!(count(r#""a.b.c".Split('.')"#), 3);
    assert_eq!(ev(r#""a;;b".Split(';')"#), "a||b");
    assert_eq!(ev(r#""k=v=w".Split(['='], 2)"#), "k|v=w");
    assert_eq!(ev(r#""client:re:dir".Split([':'], 2)"#), "client|re:dir");
    assert_eq!(
        ev(r#""  a  b ".Split([' '], StringSplitOptions__RemoveEmptyEntries())"#),
        "a|b"
    );
    assert_eq!(
        ev(r#""/v1/model/gpt/x".Split(["model/"], 2, StringSplitOptions__None())"#),
        "/v1/|gpt/x"
    );
    assert_eq!(ev(r#""a--b-c".Split("--")"#), "a|b-c");
    assert_eq!(ev(r#""a b\tc".Split(())"#), "a|b|c");
    assert_eq!(ev(r#""Bearer  tok".Split()"#), "Bearer||tok");
    assert_eq!(ev(r#""a,b;c".Split(',', ';')"#), "a|b|c");
    assert_eq!(ev(r#""abc".Split("")"#), "abc");
    assert_eq!(ev(r#""".Split(',')"#), "");
    assert_eq!(count(r#""".Split(',')"#), 1);
    assert_eq!(
        count(r#""".Split([','], StringSplitOptions__RemoveEmptyEntries())"#),
        0
    );
    assert_eq!(
        ev(r#"",a,,b,c".Split([','], 2, StringSplitOptions__RemoveEmptyEntries())"#),
        "a|b,c"
    );
    assert_eq!(count(r#""a,,b".Split([','], 0)"#), 0);
    assert_eq!(
        ev(r#"" a , b ".Split([','], StringSplitOptions__TrimEntries())"#),
        "a|b"
    );
    assert_eq!(
        ev(
            r#"" a , , b ".Split([','], StringSplitOptions__TrimEntries() | StringSplitOptions__RemoveEmptyEntries())"#
        ),
        "a|b"
    );
    assert_eq!(
        ev(r#""a,b".Split([','], -1)"#),
        "!ArgumentOutOfRangeException: Count cannot be less than zero. (Parameter 'count')"
    );
    assert_eq!(
        ev(r#""a-b_c".Split(["_", "-"], StringSplitOptions__None())"#),
        "a|b|c"
    );
}

#[test]
fn trim() {
    assert_eq!(ev(r#""  a b \t\n".Trim()"#), "a b");
    assert_eq!(ev(r#""xxaxx".Trim('x')"#), "a");
    assert_eq!(ev(r#""https://a/".TrimEnd('/')"#), "https://a");
    assert_eq!(ev(r#""abc==".TrimEnd('=')"#), "abc");
    assert_eq!(ev(r#""-_a_-".TrimStart(['-', '_'])"#), "a_-");
    assert_eq!(ev(r#""-_a_-".Trim('-', '_')"#), "a");
    assert_eq!(ev(r#""  a  ".TrimStart()"#), "a  ");
    assert_eq!(ev(r#""  a  ".TrimEnd(())"#), "  a");
}

#[test]
fn string_statics() {
    assert_eq!(ev(r#"string__IsNullOrEmpty(())"#), "true");
    assert_eq!(ev(r#"string__IsNullOrEmpty("")"#), "true");
    assert_eq!(ev(r#"String__IsNullOrEmpty(" ")"#), "false");
    assert_eq!(ev(r#"string__IsNullOrWhiteSpace(" \t")"#), "true");
    assert_eq!(ev(r#"string__IsNullOrWhiteSpace("a")"#), "false");
    assert_eq!(ev(r#"string__Empty() == """#), "true");
    assert_eq!(ev(r#"String__Concat("Bearer ", "tok")"#), "Bearer tok");
    assert_eq!(ev(r#"string__Concat("a", 1, true, (), 1.5)"#), "a1True1.5");
    assert_eq!(ev(r#"string__Concat(["a", "b", "c"])"#), "abc");
    assert_eq!(ev(r#"string__Concat()"#), "");
    assert_eq!(ev(r#"string__Join("&", ["a=1", "b=2"])"#), "a=1&b=2");
    assert_eq!(ev(r#"string__Join(",", "a", 2, ())"#), "a,2,");
    assert_eq!(ev(r#"string__Join(';', ["a", "b"])"#), "a;b");
    assert_eq!(
        ev(r#"string__Join(", ", ["a", "b", "c", "d"], 1, 2)"#),
        "b, c"
    );
    assert_eq!(ev(r#"string__Join((), ["a", "b"])"#), "ab");
    assert_eq!(ev(r#"string__new('=', 3)"#), "===");
    assert_eq!(ev(r#"string__new(['a', 'b'])"#), "ab");
    assert_eq!(ev(r#"String__new(['a', 'b', 'c'], 1, 2)"#), "bc");
    assert_eq!(
        err(r#"string__new('=', -1)"#),
        "!ArgumentOutOfRangeException"
    );
    assert_eq!(
        err(r#"string__new('=', 100000000)"#),
        "!OutOfMemoryException"
    );
}

#[test]
fn char_statics() {
    assert_eq!(ev(r#"char__IsDigit('7')"#), "true");
    assert_eq!(ev(r#"Char__IsDigit('x')"#), "false");
    assert_eq!(ev(r#"char__IsDigit('²')"#), "false");
    assert_eq!(ev(r#"char__IsDigit("a1", 1)"#), "true");
    assert_eq!(
        err(r#"char__IsDigit("a1", 2)"#),
        "!ArgumentOutOfRangeException"
    );
    assert_eq!(ev(r#"char__IsLetter('é')"#), "true");
    assert_eq!(ev(r#"char__IsLetterOrDigit('_')"#), "false");
    assert_eq!(ev(r#"char__IsWhiteSpace('\t')"#), "true");
    assert_eq!(ev(r#"char__IsUpper('A')"#), "true");
    assert_eq!(ev(r#"char__IsLower('A')"#), "false");
    assert_eq!(ev(r#"char__IsPunctuation('!')"#), "true");
    assert_eq!(ev(r#"char__IsPunctuation('+')"#), "false");
    assert_eq!(ev(r#"char__IsSymbol('+')"#), "true");
    assert_eq!(ev(r#"char__ToUpper('a')"#), "A");
    assert_eq!(ev(r#"Char__ToLower('Q')"#), "q");
    assert_eq!(ev(r#"char__GetNumericValue('7')"#), "7.0");
    assert_eq!(ev(r#"char__Parse("x")"#), "x");
    assert_eq!(
        ev(r#"char__Parse("xy")"#),
        "!FormatException: String must be exactly one character long."
    );
    assert_eq!(ev(r#"char__TryParse__out("xy")[0]"#), "false");
}

#[test]
fn string_builder() {
    assert_eq!(
        ev(
            r#"let b = StringBuilder__new(); b.Append("a").Append(1).Append('c').Append(true); b.ToString()"#
        ),
        "a1cTrue"
    );
    assert_eq!(
        ev(r#"let b = StringBuilder__new("x"); let c = b; c.Append("y"); b.ToString()"#),
        "xy"
    );
    assert_eq!(
        ev(
            r#"let b = StringBuilder__new(16); b.AppendLine("<li>a</li>"); b.AppendLine(); b.ToString()"#
        ),
        "<li>a</li>\n\n"
    );
    assert_eq!(
        ev(r#"let b = StringBuilder__new(); b.AppendFormat("{0}-{1:D3}", "a", 7); b.ToString()"#),
        "a-007"
    );
    assert_eq!(
        ev(
            r#"let b = StringBuilder__new("hello"); b.Insert(0, ">").Replace("l", "L").Remove(1, 1); b.ToString()"#
        ),
        ">eLLo"
    );
    assert_eq!(ev(r#"let b = StringBuilder__new("hello"); b.Length"#), "5");
    assert_eq!(
        ev(r#"let b = StringBuilder__new("hello"); b.Length = 2; b.ToString()"#),
        "he"
    );
    assert_eq!(
        ev(r#"let b = StringBuilder__new("hello"); b.Clear(); b.Length"#),
        "0"
    );
    assert_eq!(ev(r#"let b = StringBuilder__new("abc"); b[1]"#), "b");
    assert_eq!(
        ev(r#"let b = StringBuilder__new("abc"); b[1] = 'X'; b.ToString()"#),
        "aXc"
    );
    assert_eq!(
        ev(r#"let b = StringBuilder__new("abc"); b.Append('-', 3); b.ToString()"#),
        "abc---"
    );
    assert_eq!(
        ev(r#"let b = StringBuilder__new("abc"); b.Append("xyz", 1, 2); b.ToString()"#),
        "abcyz"
    );
    assert_eq!(
        ev(r#"let b = StringBuilder__new("abcdef"); b.ToString(2, 3)"#),
        "cde"
    );
    assert_eq!(
        ev(r#"let b = StringBuilder__new(); b.Append(['h', 'i']); b.ToString()"#),
        "hi"
    );
    assert_eq!(
        ev(r#"let b = StringBuilder__new(); b.Append(()); b.Length"#),
        "0"
    );
    assert_eq!(
        err(r#"let b = StringBuilder__new("abc"); b.Remove(2, 5)"#),
        "!ArgumentOutOfRangeException"
    );
    assert_eq!(
        ev(
            r#"let a = StringBuilder__new("x"); let b = StringBuilder__new("x"); [a == b, a.Equals(b), a == a]"#
        ),
        "false|true|true"
    );
    assert_eq!(ev(r#"type_of(StringBuilder__new())"#), "StringBuilder");
}

#[test]
fn parse() {
    assert_eq!(ev(r#"int__Parse("42")"#), "42");
    assert_eq!(ev(r#"int__Parse("  -42 ")"#), "-42");
    assert_eq!(ev(r#"Int32__Parse("+7")"#), "7");
    assert_eq!(
        ev(r#"int__Parse("4.2")"#),
        "!FormatException: The input string '4.2' was not in a correct format."
    );
    assert_eq!(
        ev(r#"int__Parse("")"#),
        "!FormatException: The input string '' was not in a correct format."
    );
    assert_eq!(
        ev(r#"int__Parse("2147483648")"#),
        "!OverflowException: Value was either too large or too small for an Int32."
    );
    assert_eq!(
        ev(r#"int__Parse(())"#),
        "!ArgumentNullException: Value cannot be null. (Parameter 's')"
    );
    assert_eq!(ev(r#"long__Parse("1700000000000")"#), "1700000000000");
    assert_eq!(
        ev(r#"Int64__Parse("9223372036854775808")"#),
        "!OverflowException: Value was either too large or too small for an Int64."
    );
    assert_eq!(
        ev(r#"byte__Parse("256")"#),
        "!OverflowException: Value was either too large or too small for an Byte."
    );
    assert_eq!(ev(r#"double__Parse("1,234.5")"#), "1234.5");
    assert_eq!(ev(r#"Double__Parse(" -1.5e3 ")"#), "-1500.0");
    assert_eq!(ev(r#"double__Parse(".5")"#), "0.5");
    assert_eq!(
        ev(r#"double__Parse("abc")"#),
        "!FormatException: The input string 'abc' was not in a correct format."
    );
    assert_eq!(
        ev(r#"double__Parse("1e")"#),
        "!FormatException: The input string '1e' was not in a correct format."
    );
    assert_eq!(ev(r#"double__Parse("1e999")"#), "inf");
    assert_eq!(ev(r#"double__Parse("NaN").ToString()"#), "NaN");
    assert_eq!(ev(r#"decimal__Parse("12.50")"#), "12.5");
    assert_eq!(
        ev(r#"decimal__Parse("1e5")"#),
        "!FormatException: The input string '1e5' was not in a correct format."
    );
    assert_eq!(ev(r#"bool__Parse(" True ")"#), "true");
    assert_eq!(ev(r#"Boolean__Parse("FALSE")"#), "false");
    assert_eq!(
        ev(r#"bool__Parse("yes")"#),
        "!FormatException: String 'yes' was not recognized as a valid Boolean."
    );
    assert_eq!(
        ev(r#"bool__Parse(())"#),
        "!ArgumentNullException: Value cannot be null. (Parameter 'value')"
    );
    assert_eq!(ev(r#"int__TryParse__out("12")"#), "true|12");
    assert_eq!(ev(r#"int__TryParse__out("x")"#), "false|0");
    assert_eq!(ev(r#"int__TryParse__out(())"#), "false|0");
    assert_eq!(ev(r#"double__TryParse__out("2.5")"#), "true|2.5");
    assert_eq!(ev(r#"bool__TryParse__out("no")"#), "false|false");
    assert_eq!(ev(r#"int__Parse("12", ())"#), "12");
}

#[test]
fn outputs_are_bounded() {
    let limits = crate::Limits {
        max_array_size: 10,
        max_string_size: 1000,
        ..crate::Limits::default()
    };
    let e = crate::engine(&limits);
    let kind = |src: &str| {
        e.eval::<Dynamic>(src)
            .err()
            .and_then(|x| exception_of(&x))
            .map(|x| x.type_name)
    };
    assert_eq!(
        kind(r#""a,a,a,a,a,a,a,a,a,a,a,a".Split(',')"#).as_deref(),
        Some("OutOfMemoryException")
    );
    assert_eq!(kind(r#""aaaaaaaaaa".Replace("a", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")"#).as_deref(), Some("OutOfMemoryException"));
    assert_eq!(
        kind(r#"string__Format("{0,5000}", 1)"#).as_deref(),
        Some("OutOfMemoryException")
    );
    assert_eq!(
        kind(r#"let b = StringBuilder__new(); b.Append('x', 5000)"#).as_deref(),
        Some("OutOfMemoryException")
    );
    assert_eq!(
        kind(r#"12.ToString("F5000")"#).as_deref(),
        Some("OutOfMemoryException")
    );
}

#[test]
fn format_takes_as_many_values_as_the_corpus_gives() {
    // A storage SAS string to sign: twelve values (C#'s `params object[]`).
    assert_eq!(
        ev(
            r#"string__Format("{0}|{1}|{2}|{3}|{4}|{5}|{6}|{7}|{8}|{9}|{10}|{11}", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l")"#
        ),
        "a|b|c|d|e|f|g|h|i|j|k|l"
    );
    assert_eq!(
        ev(r#"String__Format("{14}", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)"#),
        "15"
    );
}
