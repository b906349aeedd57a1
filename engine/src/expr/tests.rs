//! One test per language feature, asserting the tree in its S-expression form.

use super::*;
use crate::source::Span;

fn text(s: &str) -> Text {
    Text::verbatim(s, Span::new(100, 100 + s.len()))
}

/// Parses `@(src)` and prints it.
fn e(src: &str) -> String {
    match parse_expression(&text(&format!("@({src})"))) {
        Ok(e) => e.to_string(),
        Err(err) => panic!("`{src}` did not parse: {} at {:?}", err.message, err.span),
    }
}

/// Parses `@{src}` and prints its statements.
fn b(src: &str) -> String {
    match parse_block(&text(&format!("@{{{src}}}"))) {
        Ok(b) => b
            .stmts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        Err(err) => panic!("`{src}` did not parse: {} at {:?}", err.message, err.span),
    }
}

fn expr_err(src: &str) -> ExprError {
    match parse_expression(&text(&format!("@({src})"))) {
        Ok(e) => panic!("`{src}` parsed as {e}"),
        Err(err) => err,
    }
}

fn block_err(src: &str) -> ExprError {
    match parse_block(&text(&format!("@{{{src}}}"))) {
        Ok(b) => panic!("`{src}` parsed as {b}"),
        Err(err) => err,
    }
}

#[test]
fn literals() {
    assert_eq!(e("true"), "true");
    assert_eq!(e("null"), "null");
    assert_eq!(e("42"), "42");
    assert_eq!(e("42L"), "42L");
    assert_eq!(e("7u"), "7u");
    assert_eq!(e("7UL"), "7UL");
    assert_eq!(e("0xFF"), "255");
    assert_eq!(e("0b1010"), "10");
    assert_eq!(e("1_000"), "1000");
    assert_eq!(e("1.5"), "1.5");
    assert_eq!(e("1.5e-3"), "1.5e-3");
    assert_eq!(e(".5"), ".5");
    assert_eq!(e("2m"), "2m");
    assert_eq!(e("2.5f"), "2.5f");
    assert_eq!(e("3d"), "3d");
    assert_eq!(e("'x'"), "'x'");
    assert_eq!(e(r"'\n'"), r"'\n'");
    assert_eq!(e(r#""a\"b\\c\u0041""#), r#""a\"b\\cA""#);
    assert_eq!(e(r#"@"C:\x""y""#), r#""C:\\x\"y""#);
}

#[test]
fn interpolated_strings() {
    assert_eq!(e(r#"$"a{x}b""#), r#"(interp "a" (hole x) "b")"#);
    assert_eq!(
        e(r#"$"{x,5:N2}""#),
        r#"(interp (hole x (align 5) (format "N2")))"#
    );
    assert_eq!(
        e(r#"$"{{literal}} {x}}}""#),
        r#"(interp "{{literal}} " (hole x) "}")"#
    );
    assert_eq!(e(r#"$"{{ {x}""#), r#"(interp "{ " (hole x))"#);
    assert_eq!(e(r#"$@"a\b{x}""c""#), r#"(interp "a\\b" (hole x) "\"c")"#);
    assert_eq!(e(r#"@$"{x}""#), r#"(interp (hole x))"#);
    assert_eq!(e(r#"$"{d["k"]}""#), r#"(interp (hole ([] d "k")))"#);
    assert_eq!(e(r#"$"{(a ? 1 : 2)}""#), r#"(interp (hole (? a 1 2)))"#);
    assert_eq!(e(r#"$"{$"{x}"}""#), r#"(interp (hole (interp (hole x))))"#);
    assert_eq!(
        e(r#"$"{DateTime.Now:yyyy-MM-dd}""#),
        r#"(interp (hole (. DateTime Now) (format "yyyy-MM-dd")))"#
    );
}

#[test]
fn named_values() {
    assert_eq!(e("{{my-key}}"), "{{my-key}}");
    assert_eq!(
        e(r#""{{secret}}" + {{x.y}}"#),
        r#"(+ "{{secret}}" {{x.y}})"#
    );
    assert_eq!(e("{{n}}.Length"), "(. {{n}} Length)");
}

#[test]
fn member_access_calls_and_indexers() {
    assert_eq!(
        e("context.Request.Headers"),
        "(. (. context Request) Headers)"
    );
    assert_eq!(e(r#"a.B(1, "x")"#), r#"(call (. a B) 1 "x")"#);
    assert_eq!(
        e(r#"context.Variables["x"]"#),
        r#"([] (. context Variables) "x")"#
    );
    assert_eq!(e("a?.b?[0]"), "(?[] (?. a b) 0)");
    assert_eq!(e("m[1, 2]"), "([] m 1 2)");
    assert_eq!(e("F()"), "(call F)");
    assert_eq!(e("@class.@int"), "(. class int)");
    assert_eq!(e("int.Parse(s)"), "(call (. int Parse) s)");
    assert_eq!(e("string.Empty"), "(. string Empty)");
    assert_eq!(e("x++"), "(post++ x)");
    assert_eq!(e("x--"), "(post-- x)");
}

#[test]
fn named_out_and_ref_arguments() {
    assert_eq!(
        e("b.As<string>(preserveContent: true)"),
        "(call (. b As<string>) (: preserveContent true))"
    );
    assert_eq!(
        e("d.TryGetValue(k, out v)"),
        "(call (. d TryGetValue) k (out v))"
    );
    assert_eq!(
        e("s.TryParseJwt(out var jwt)"),
        "(call (. s TryParseJwt) (out (decl var jwt)))"
    );
    assert_eq!(
        e("int.TryParse(s, out int n)"),
        "(call (. int TryParse) s (out (decl int n)))"
    );
    assert_eq!(
        e("F(ref x, out string[] parts)"),
        "(call F (ref x) (out (decl string[] parts)))"
    );
    assert_eq!(e("F(name: out x)"), "(call F (: name (out x)))");
}

#[test]
fn generic_names() {
    assert_eq!(e("body.As<JObject>()"), "(call (. body As<JObject>))");
    assert_eq!(
        e(r#"v.GetValueOrDefault<int>("n", 0)"#),
        r#"(call (. v GetValueOrDefault<int>) "n" 0)"#
    );
    assert_eq!(e("new List<string>()"), "(new List<string> ())");
    assert_eq!(
        e("new Dictionary<string, List<int>>()"),
        "(new Dictionary<string, List<int>> ())"
    );
    assert_eq!(e("F<List<List<int>>>(x)"), "(call F<List<List<int>>> x)");
    assert_eq!(
        e("a.Value<DateTime?>(k)"),
        "(call (. a Value<DateTime?>) k)"
    );
    assert_eq!(
        e("Enumerable.Empty<string>().Count()"),
        "(call (. (call (. Enumerable Empty<string>)) Count))"
    );
    // Not type arguments: relational operators.
    assert_eq!(e("a < b && c > d"), "(&& (< a b) (> c d))");
    assert_eq!(e("a < b > c"), "(> (< a b) c)");
    assert_eq!(e("F(a < b, c > d)"), "(call F (< a b) (> c d))");
    assert_eq!(e("F(a < b, c > (d))"), "(call F (call a<b, c> d))");
}

#[test]
fn unary_and_casts() {
    assert_eq!(e("-x"), "(- x)");
    assert_eq!(e("!a.b"), "(! (. a b))");
    assert_eq!(e("~x"), "(~ x)");
    assert_eq!(e("++x"), "(++ x)");
    assert_eq!(e("- -x"), "(- (- x))");
    assert_eq!(
        e(r#"(string)context.Variables["x"]"#),
        r#"(cast string ([] (. context Variables) "x"))"#
    );
    assert_eq!(e("(IResponse)r"), "(cast IResponse r)");
    assert_eq!(e("(int)-1"), "(cast int (- 1))");
    assert_eq!(e("(int?)x"), "(cast int? x)");
    assert_eq!(e("(string[])x"), "(cast string[] x)");
    assert_eq!(e("(System.Int32)(x)"), "(cast System.Int32 x)");
    assert_eq!(e("(JObject)!x"), "(cast JObject (! x))");
    assert_eq!(e("((IResponse)v).Body"), "(. (cast IResponse v) Body)");
    assert_eq!(e("(List<int>)x"), "(cast List<int> x)");
    // Not casts.
    assert_eq!(e("(a) - b"), "(- a b)");
    assert_eq!(e("(a) + b"), "(+ a b)");
    assert_eq!(e("(a)"), "a");
    assert_eq!(e("(a).B"), "(. a B)");
    assert_eq!(e("(a)[0]"), "([] a 0)");
}

#[test]
fn binary_precedence_and_associativity() {
    assert_eq!(e("1 + 2 * 3"), "(+ 1 (* 2 3))");
    assert_eq!(e("1 - 2 - 3"), "(- (- 1 2) 3)");
    assert_eq!(e("a / b % c"), "(% (/ a b) c)");
    assert_eq!(e("1 << 2 + 3"), "(<< 1 (+ 2 3))");
    assert_eq!(e("x >> 2"), "(>> x 2)");
    assert_eq!(e("a < b == c > d"), "(== (< a b) (> c d))");
    assert_eq!(e("a <= b != c >= d"), "(!= (<= a b) (>= c d))");
    assert_eq!(e("a & b ^ c | d"), "(| (^ (& a b) c) d)");
    assert_eq!(e("a == b & c"), "(& (== a b) c)");
    assert_eq!(e("a || b && c"), "(|| a (&& b c))");
    assert_eq!(e("a ?? b ?? c"), "(?? a (?? b c))");
    assert_eq!(e("a || b ?? c"), "(?? (|| a b) c)");
    assert_eq!(e("a ? b : c ? d : e"), "(? a b (? c d e))");
    assert_eq!(e("a ?? b ? c : d"), "(? (?? a b) c d)");
    assert_eq!(
        e("x ?? throw new Exception()"),
        "(?? x (throw (new Exception ())))"
    );
}

#[test]
fn type_testing() {
    assert_eq!(e("x is string"), "(is x string)");
    assert_eq!(
        e("x is JObject o && o.HasValues"),
        "(&& (is x (JObject o)) (. o HasValues))"
    );
    assert_eq!(e("x is null"), "(is x null)");
    assert_eq!(e("x is 3"), "(is x 3)");
    assert_eq!(e("x as JObject"), "(as x JObject)");
    assert_eq!(
        e("(x as JObject)?.ToString()"),
        "(call (?. (as x JObject) ToString))"
    );
    assert_eq!(e("x is int ? 1 : 0"), "(? (is x int) 1 0)");
    assert_eq!(e("x as int? ?? 0"), "(?? (as x int?) 0)");
    assert_eq!(e("a < b is bool"), "(is (< a b) bool)");
}

#[test]
fn assignment() {
    assert_eq!(e("a = b = c"), "(= a (= b c))");
    assert_eq!(e("a += 1"), "(+= a 1)");
    assert_eq!(e("a ??= b"), "(??= a b)");
    assert_eq!(e("a <<= 1"), "(<<= a 1)");
    assert_eq!(e("a >>= 1"), "(>>= a 1)");
    assert_eq!(e("a[0] |= b ? 1 : 2"), "(|= ([] a 0) (? b 1 2))");
}

#[test]
fn lambdas() {
    assert_eq!(
        e("xs.Any(c => c.Value == 1)"),
        "(call (. xs Any) (lambda (c) (== (. c Value) 1)))"
    );
    assert_eq!(e("(x, y) => x + y"), "(lambda (x y) (+ x y))");
    assert_eq!(e("(int x) => x * 2"), "(lambda ((int x)) (* x 2))");
    assert_eq!(e("() => { return 1; }"), "(lambda () (block (return 1)))");
    assert_eq!(
        e("xs.Select((x, i) => new { x, i })"),
        "(call (. xs Select) (lambda (x i) (new-anon x i)))"
    );
    assert_eq!(
        e("f = x => y => x + y"),
        "(= f (lambda (x) (lambda (y) (+ x y))))"
    );
}

#[test]
fn object_creation() {
    assert_eq!(e("new JObject()"), "(new JObject ())");
    assert_eq!(e(r#"new JProperty("a", 1)"#), r#"(new JProperty ("a" 1))"#);
    assert_eq!(e("new Uri(u) { }"), "(new Uri (u) {coll})");
    assert_eq!(e("new C { A = 1, B = x }"), "(new C {obj (= A 1) (= B x)})");
    assert_eq!(
        e(r#"new JObject { ["a"] = 1 }"#),
        r#"(new JObject {obj (= ["a"] 1)})"#
    );
    assert_eq!(
        e(r#"new List<string>() { "a", "b", }"#),
        r#"(new List<string> () {coll "a" "b"})"#
    );
    assert_eq!(
        e(r#"new Dictionary<string, string> { {"k", v}, {"k2", "v2"} }"#),
        r#"(new Dictionary<string, string> {coll {"k" v} {"k2" "v2"}})"#
    );
    assert_eq!(
        e("new C { A = { B = 1 } }"),
        "(new C {obj (= A {(= B 1)})})"
    );
    assert_eq!(
        e("new System.Text.StringBuilder()"),
        "(new System.Text.StringBuilder ())"
    );
}

#[test]
fn arrays_and_anonymous_types() {
    assert_eq!(
        e(r#"new string[] { "a", "b" }"#),
        r#"(new-array string[] {"a" "b"})"#
    );
    assert_eq!(e("new string[n]"), "(new-array string[] n)");
    assert_eq!(e("new byte[16]"), "(new-array byte[] 16)");
    assert_eq!(e("new int[2, 3]"), "(new-array int[,] 2 3)");
    assert_eq!(e("new int[3][]"), "(new-array int[][] 3)");
    assert_eq!(e(r#"new [] { "a", "b" }"#), r#"(new-array [] "a" "b")"#);
    assert_eq!(
        e(r#"new { typ = "JWT", alg = "HS256" }"#),
        r#"(new-anon (= typ "JWT") (= alg "HS256"))"#
    );
    assert_eq!(e("new { a = 1, x.b }"), "(new-anon (= a 1) (. x b))");
    assert_eq!(e("new { }"), "(new-anon)");
}

#[test]
fn typeof_default_nameof_checked() {
    assert_eq!(e("typeof(string)"), "(typeof string)");
    assert_eq!(e("typeof(List<int>)"), "(typeof List<int>)");
    assert_eq!(e("default(int)"), "(default int)");
    assert_eq!(e("x ?? default"), "(?? x default)");
    assert_eq!(e("nameof(x)"), "(nameof x)");
    assert_eq!(e("checked(a + b)"), "(checked (+ a b))");
    assert_eq!(e("unchecked((int)x)"), "(unchecked (cast int x))");
}

#[test]
fn comments_are_skipped() {
    assert_eq!(e("a /* one */ + // two\n b"), "(+ a b)");
}

#[test]
fn local_declarations() {
    assert_eq!(b("var x = 1; return x;"), "(let var (x 1)) (return x)");
    assert_eq!(
        b("string[] value; return null;"),
        "(let string[] value) (return null)"
    );
    assert_eq!(b("int a = 1, b, c = a;"), "(let int (a 1) b (c a))");
    assert_eq!(
        b(r#"string[] a = { "x", "y" };"#),
        r#"(let string[] (a {"x" "y"}))"#
    );
    assert_eq!(b("int? n = null;"), "(let int? (n null))");
    assert_eq!(
        b("List<string> l = new List<string>();"),
        "(let List<string> (l (new List<string> ())))"
    );
    assert_eq!(
        b("System.Text.Encoding enc = null;"),
        "(let System.Text.Encoding (enc null))"
    );
    assert_eq!(b("const int N = 3;"), "(const int (N 3))");
    assert_eq!(
        b("x = 1; i++; F(x); a.b = c;"),
        "(= x 1) (post++ i) (call F x) (= (. a b) c)"
    );
    assert_eq!(b("a ? b : c;"), "(? a b c)");
    assert_eq!(b("a < b;"), "(< a b)");
}

#[test]
fn control_flow() {
    assert_eq!(
        b("if (a) return 1; else return 2;"),
        "(if a (return 1) (return 2))"
    );
    assert_eq!(
        b("if (a) { return 1; } else if (b) { return 2; } return 3;"),
        "(if a (block (return 1)) (if b (block (return 2)))) (return 3)"
    );
    assert_eq!(
        b("foreach (var x in xs) { s += x; }"),
        "(foreach (var x) xs (block (+= s x)))"
    );
    assert_eq!(
        b("foreach (string x in xs) continue;"),
        "(foreach (string x) xs (continue))"
    );
    assert_eq!(
        b("for (int i = 0; i < n; i++) { break; }"),
        "(for (let int (i 0)) (< i n) ((post++ i)) (block (break)))"
    );
    assert_eq!(b("for (;;) ;"), "(for _ _ () (empty))");
    assert_eq!(
        b("for (i = 0, j = 1; ; i++, j--) {}"),
        "(for (= i 0) (= j 1) _ ((post++ i) (post-- j)) (block))"
    );
    assert_eq!(b("while (x > 0) x--;"), "(while (> x 0) (post-- x))");
    assert_eq!(
        b("do { x++; } while (x < 3);"),
        "(do (block (post++ x)) (< x 3))"
    );
    assert_eq!(b("return;"), "(return)");
    assert_eq!(
        b("throw new Exception(\"no\");"),
        "(throw (new Exception (\"no\")))"
    );
    assert_eq!(b("{ ; }"), "(block (empty))");
    assert_eq!(
        b("unchecked { x = (byte)(t >> 8); }"),
        "(unchecked (block (= x (cast byte (>> t 8)))))"
    );
}

#[test]
fn try_catch_finally() {
    assert_eq!(
        b(
            "try { return F(); } catch (FormatException e) { return e.Message; } catch { return null; } finally { x = 1; }"
        ),
        "(try (block (return (call F))) (catch FormatException e (block (return (. e Message)))) (catch _ _ (block (return null))) (finally (block (= x 1))))"
    );
    assert_eq!(
        b("try { } catch (Exception) when (x) { }"),
        "(try (block) (catch Exception _ (when x) (block)))"
    );
    assert!(
        block_err("try { }")
            .message
            .contains("`catch` or `finally`")
    );
}

#[test]
fn using_statements() {
    assert_eq!(
        b("using (var md5 = MD5.Create()) { return md5.Hash; }"),
        "(using (let var (md5 (call (. MD5 Create)))) (block (return (. md5 Hash))))"
    );
    assert_eq!(b("using (r) return 1;"), "(using r (return 1))");
    assert_eq!(
        b("using (var sr = new StringReader(s)) using (var r = XmlReader.Create(sr)) { }"),
        "(using (let var (sr (new StringReader (s)))) (using (let var (r (call (. XmlReader Create) sr))) (block)))"
    );
}

#[test]
fn switch_statements() {
    assert_eq!(
        b(
            r#"switch (x) { case "a": case "b": return 1; case int n when n > 0: return n; case null: break; default: return 0; }"#
        ),
        r#"(switch x ((case "a") (case "b") (return 1)) ((case (int n) (when (> n 0))) (return n)) ((case null) (break)) (default (return 0)))"#
    );
}

#[test]
fn local_functions() {
    assert_eq!(
        b("string F(int a) { return a.ToString(); } return F(1);"),
        "(fn string F ((int a)) (block (return (call (. a ToString))))) (return (call F 1))"
    );
    assert_eq!(
        b("bool Ok(string s) => s != null;"),
        "(fn bool Ok ((string s)) (!= s null))"
    );
    assert_eq!(
        b("static int Add(int a, int b = 2) => a + b;"),
        "(fn int Add ((int a) (int b 2)) (+ a b))"
    );
    assert_eq!(
        b("List<string> G() { return null; }"),
        "(fn List<string> G () (block (return null)))"
    );
}

#[test]
fn spans_point_into_the_policy_file() {
    // The value as decoded from `@(a &lt; b)` at source offset 100.
    let mut t = Text::new(Span::new(100, 113));
    t.push_verbatim("@(a ", 100);
    t.push_decoded('<', 104, 108);
    t.push_verbatim(" b)", 108);
    let e = parse_expression(&t).unwrap();
    assert_eq!(e.span, Span::new(102, 110));
    let ExprKind::Binary { left, right, .. } = &e.kind else {
        panic!("{e}")
    };
    assert_eq!(left.span, Span::new(102, 103));
    assert_eq!(right.span, Span::new(109, 110));
    // Errors too: `#` at value offset 7 is at source offset 110.
    let mut t = Text::new(Span::new(100, 112));
    t.push_verbatim("@(a ", 100);
    t.push_decoded('<', 104, 108);
    t.push_verbatim(" #)", 108);
    let err = parse_expression(&t).unwrap_err();
    assert_eq!(err.span, Span::new(109, 110));
    assert_eq!(err.message, "unexpected character `#`");
}

#[test]
fn statement_spans() {
    let src = "@{ var x = 1;\n return x; }";
    let block = parse_block(&text(src)).unwrap();
    assert_eq!(block.span, Span::new(100, 100 + src.len()));
    let at = |s: Span| &src[s.start - 100..s.end - 100];
    assert_eq!(at(block.stmts[0].span), "var x = 1;");
    assert_eq!(at(block.stmts[1].span), "return x;");
}

#[test]
fn errors_read_like_rustc() {
    assert_eq!(
        expr_err("a +").message,
        "expected an expression, found the end of the expression"
    );
    assert_eq!(
        expr_err("a b").message,
        "unexpected `b` after the expression"
    );
    assert_eq!(expr_err("F(a b)").message, "expected `,` or `)`, found `b`");
    assert_eq!(expr_err(r#""abc"#).message, "unterminated string literal");
    assert_eq!(
        expr_err(r#""\q""#).message,
        r"unrecognized escape sequence `\q`"
    );
    assert_eq!(
        expr_err("99999999999999999999").message,
        "integral constant is too large"
    );
    assert_eq!(
        expr_err("1x").message,
        "invalid suffix `x` on an integer literal"
    );
    assert_eq!(expr_err("/* x").message, "unterminated block comment");
    assert_eq!(expr_err(r#"$"{}""#).message, "empty interpolation hole");
    assert_eq!(expr_err("").message, "empty expression");
    assert_eq!(
        block_err("return 1").message,
        "expected `;`, found the end of the expression"
    );
    assert_eq!(
        block_err("if (x) { return 1;").message,
        "expected `}`, found the end of the expression"
    );
    let err = parse_expression(&text("@{ x }")).unwrap_err();
    assert_eq!(err.message, "an expression here must be written `@(...)`");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for depth in [150, 200, 5000] {
        let src = format!("{}x{}", "(".repeat(depth), ")".repeat(depth));
        assert!(
            expr_err(&src).message.contains("nested too deeply"),
            "depth {depth}"
        );
        let src = format!("{}x", "- ".repeat(depth));
        assert!(expr_err(&src).message.contains("nested too deeply"));
        let src = format!("{}x{}", "F(".repeat(depth), ")".repeat(depth));
        assert!(expr_err(&src).message.contains("nested too deeply"));
        let src = format!("{}{}", "{".repeat(depth), "}".repeat(depth));
        assert!(block_err(&src).message.contains("nested too deeply"));
        let src = format!("List{}int{}", "<List".repeat(depth), ">".repeat(depth));
        let _ = parse_expression(&text(&format!("@(new {src}())")));
        let src = format!("{}x{}", "$\"{".repeat(depth), "}\"".repeat(depth));
        assert!(parse_expression(&text(&format!("@({src})"))).is_err());
    }
    // Long chains nest the tree too: bounded per statement.
    for (op, n) in [(".", 5000), ("+", 5000), ("?.", 2000)] {
        let src = vec!["a"; n].join(op);
        assert!(
            expr_err(&src).message.contains("expression too long"),
            "{op}"
        );
        let src = format!("return {src};");
        assert!(block_err(&src).message.contains("expression too long"));
    }
    let src = format!("({})", vec!["(a.b.c + d)"; 40].join(" * "));
    let nested = format!("{}{src}{}", "F(".repeat(40), ")".repeat(40));
    assert!(parse_expression(&text(&format!("@({nested})"))).is_ok());
    // Each statement has its own budget.
    let stmt = format!("x = {};", vec!["a"; 600].join(" + "));
    assert!(parse_block(&text(&format!("@{{{}}}", stmt.repeat(10)))).is_ok());
    // Nesting just inside the limit parses (and fits the stack of a test thread).
    let n = MAX_DEPTH - 2;
    assert_eq!(e(&format!("{}x{}", "(".repeat(n), ")".repeat(n))), "x");
    assert!(
        parse_expression(&text(&format!(
            "@({}x{})",
            "F(a, ".repeat(n),
            ")".repeat(n)
        )))
        .is_ok()
    );
    assert!(
        parse_expression(&text(&format!(
            "@({}x{})",
            "new T { A = ".repeat(n),
            " }".repeat(n)
        )))
        .is_ok()
    );
    assert!(parse_expression(&text(&format!("@({}x)", "(int)".repeat(n)))).is_ok());
    let n = MAX_DEPTH / 4 - 1;
    assert!(
        parse_expression(&text(&format!(
            "@({}x{})",
            "F(() => { return ".repeat(n),
            "; })".repeat(n)
        )))
        .is_ok()
    );
    assert!(
        parse_block(&text(&format!(
            "@{{{}return 1;{}}}",
            "if (x) { ".repeat(n),
            "}".repeat(n)
        )))
        .is_ok()
    );
}
