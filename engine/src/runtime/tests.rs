//! Compiling pipelines: each expression once, however many pipelines hold it.

use super::{
    CompileCx, Compiled, Exchange, PipelineCx, Resources, Run, Stage, StageFactory,
    compile_pipeline,
};
use crate::compose::{Layer, effective};
use crate::diag::Diagnostics;
use crate::doc::{Fragments, LoadOptions, load};
use crate::schema::Scope;
use crate::script::Compiler;
use crate::source::Source;
use crate::value::NamedValues;
use crate::xml::Element;

#[derive(Debug)]
struct Holds(
    #[expect(dead_code, reason = "held, never read: the test counts compilations")]
    super::CompiledValue,
);

impl Stage for Holds {
    fn run<'a>(&'a self, _: &'a mut Exchange) -> Run<'a> {
        Run::next()
    }
}

/// Compiles every `set-variable` with its `value`.
struct Factory;

impl StageFactory for Factory {
    fn compile(&self, e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
        Ok(Box::new(Holds(cx.required(e, "value")?)))
    }
}

#[test]
fn an_expression_is_compiled_once_for_validation_and_every_pipeline() {
    let engine = sluice_stdlib::engine(&sluice_stdlib::Limits::default());
    let compiler = Compiler::new(&engine);
    let named = NamedValues::Known(Default::default());
    let fragments = Fragments::new();
    let source = Source::new(
        "api.xml",
        r#"<policies><inbound>
            <set-variable name="a" value="@(context.Request.Method)" />
            <set-variable name="b" value="@(context.Request.Url.Path.Length)" />
            <set-variable name="c" value="literal" />
        </inbound></policies>"#,
    );
    let opts = LoadOptions {
        named: Some(&named),
        scope: Some(Scope::Api),
        fragments: Some(&fragments),
        compiler: Some(&compiler),
        ..LoadOptions::default()
    };
    let (doc, diags) = load(&source, &opts);
    assert!(!diags.has_errors(), "{diags}");
    assert_eq!(
        compiler.compilations(),
        2,
        "validation compiles each expression"
    );
    let layers = [Layer {
        scope: Scope::Api,
        doc: doc.as_ref(),
    }];
    let eff = effective(&layers, &fragments);
    let resources = Resources::new();
    let cx = PipelineCx {
        compiler: &compiler,
        named: &named,
        fragments: &fragments,
        factory: &Factory,
        resources: &resources,
        api: None,
    };
    // As a plan does: one pipeline per operation and product.
    let mut diags = Diagnostics::new();
    let pipelines: Vec<_> = (0..3)
        .map(|_| compile_pipeline(&eff, &cx, &mut diags))
        .collect();
    assert!(!diags.has_errors(), "{diags}");
    assert!(pipelines.iter().all(|p| p.inbound.0.len() == 3));
    assert_eq!(
        compiler.compilations(),
        2,
        "the pipelines share validation's compilations"
    );
}
