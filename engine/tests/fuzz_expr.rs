//! Property tests: parse → translate → compile never panics, whatever it is given.
//!
//! Arbitrary text, and soups of C# tokens (which get much further into the
//! grammar), wrapped in `@(...)` and `@{...}`, must compile or return errors
//! whose spans lie inside the value's source range.

use proptest::prelude::*;
use std::sync::OnceLock;

use sluice_engine::expr::{parse_block, parse_expression};
use sluice_engine::script::Compiler;
use sluice_engine::source::Span;
use sluice_engine::value::classify;
use sluice_engine::xml::Text;

const BASE: usize = 1000;

fn exercise(body: &str) {
    for wrapped in [format!("@({body})"), format!("@{{{body}}}")] {
        let span = Span::new(BASE, BASE + wrapped.len());
        let text = Text::verbatim(&wrapped, span);
        let result = if wrapped.starts_with("@(") {
            parse_expression(&text).map(|e| e.to_string())
        } else {
            parse_block(&text).map(|b| b.to_string())
        };
        if let Err(e) = result {
            assert!(
                e.span.start >= span.start && e.span.end <= span.end && e.span.start <= e.span.end,
                "error span {:?} outside {span:?} for {wrapped:?}",
                e.span
            );
            assert!(!e.message.is_empty());
        }
        // Translation and compilation against the library.
        if let Err(errors) = compiler().compile(&classify(text)) {
            for (_, e) in errors {
                assert!(
                    e.span.start >= span.start && e.span.end <= span.end,
                    "compile error span {:?} outside {span:?}",
                    e.span
                );
            }
        }
    }
}

fn compiler() -> &'static Compiler<'static> {
    static ENGINE: OnceLock<rhai::Engine> = OnceLock::new();
    static COMPILER: OnceLock<Compiler<'static>> = OnceLock::new();
    COMPILER.get_or_init(|| {
        Compiler::new(
            ENGINE.get_or_init(|| sluice_stdlib::engine(&sluice_stdlib::Limits::default())),
        )
    })
}

fn token() -> impl Strategy<Value = String> {
    let fixed = prop_oneof![
        Just("("),
        Just(")"),
        Just("["),
        Just("]"),
        Just("{"),
        Just("}"),
        Just("<"),
        Just(">"),
        Just(">>"),
        Just("?"),
        Just("?."),
        Just("??"),
        Just("??="),
        Just(":"),
        Just(";"),
        Just(","),
        Just("."),
        Just("=>"),
        Just("="),
        Just("=="),
        Just("+"),
        Just("-"),
        Just("++"),
        Just("!"),
        Just("~"),
        Just("&&"),
        Just("|"),
        Just("new"),
        Just("var"),
        Just("int"),
        Just("string"),
        Just("is"),
        Just("as"),
        Just("out"),
        Just("ref"),
        Just("if"),
        Just("else"),
        Just("for"),
        Just("foreach"),
        Just("in"),
        Just("while"),
        Just("do"),
        Just("return"),
        Just("throw"),
        Just("try"),
        Just("catch"),
        Just("finally"),
        Just("using"),
        Just("switch"),
        Just("case"),
        Just("default"),
        Just("typeof"),
        Just("null"),
        Just("true"),
        Just("x"),
        Just("List"),
        Just("context"),
        Just("1"),
        Just("2.5m"),
        Just("0x1F"),
        Just("'c'"),
        Just("\"s\""),
        Just("@\"v\"\"\""),
        Just("$\"a{"),
        Just("$@\"{x}\""),
        Just("{{nv}}"),
        Just("/*"),
        Just("*/"),
        Just("//"),
        Just("\n"),
        Just("\\"),
        Just("@"),
        Just("$\""),
        Just("\""),
        Just("'"),
    ];
    prop_oneof![fixed.prop_map(str::to_owned), "[a-z]{1,3}", "[ -~]{1,2}"]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(body in "\\PC{0,64}") {
        exercise(&body);
    }

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(token(), 0..40)) {
        exercise(&tokens.join(" "));
        exercise(&tokens.concat());
    }

    #[test]
    fn deep_soup_never_overflows(open in prop::collection::vec(prop_oneof![
        Just("("), Just("F("), Just("-"), Just("(int)"), Just("{"), Just("new T { A = "), Just("x => "),
        Just("$\"{"), Just("a["), Just("List<"), Just("() => { return "), Just("if (x) "), Just("a ?? "),
    ], 0..300)) {
        exercise(&format!("{}x", open.concat()));
    }
}
