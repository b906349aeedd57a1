//! `xsl-transform`: an XSL transformation of the body of the section's
//! message (the request in inbound, the response in outbound). The
//! stylesheet is compiled when the policy loads (`crate::xslt`: a subset of
//! XSLT 1.0; what is outside it is a load error naming the construct).
//! `<parameter name>` values (expressions allowed) are the stylesheet's
//! top-level `xsl:param`s. A body that is not XML is left as it is.

use sluice_engine::diag::Code;
use sluice_engine::runtime::{
    Body, CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Reason, Run, Stage,
};
use sluice_engine::xml::Element;

use crate::xslt::Stylesheet;

#[derive(Debug)]
struct XslTransform {
    params: Vec<(String, CompiledValue)>,
    sheet: Stylesheet,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let mut params = Vec::new();
    for p in e.elements().filter(|c| c.name == "parameter") {
        let name = cx
            .literal(p, "name")
            .or_else(|| cx.literal(p, "parameter-name"))
            .unwrap_or_default();
        params.push((name, cx.text(p)?));
    }
    let Some(root) = e
        .elements()
        .find(|c| matches!(c.name.as_str(), "xsl:stylesheet" | "xsl:transform"))
    else {
        return cx.fail(
            Code::MissingChild,
            e.span,
            "`<xsl-transform>` needs an `<xsl:stylesheet>`",
        );
    };
    match Stylesheet::compile(root) {
        Ok(sheet) => Ok(Box::new(XslTransform { params, sheet })),
        Err(err) => {
            let span = err.at.head_span();
            cx.fail(Code::ExpressionUnsupported, span, err.message)
        }
    }
}

impl XslTransform {
    fn apply(&self, x: &Exchange) -> Result<(), PolicyError> {
        let mut params = Vec::with_capacity(self.params.len());
        for (name, v) in &self.params {
            params.push((name.clone(), v.text(x)?.into_owned()));
        }
        let body = x.message().read(|m| {
            m.body
                .as_ref()
                .map(|b| String::from_utf8_lossy(&b.bytes).into_owned())
        });
        let Some(body) = body.filter(|b| !b.trim().is_empty()) else {
            return Ok(());
        };
        if crate::xml_tree::parse(&body).is_err() {
            return Ok(());
        }
        let out = self.sheet.transform(&body, &params).map_err(|m| {
            PolicyError::new(
                "xsl-transform",
                Reason::ExpressionValueEvaluationFailure,
                500,
                format!("The XSL transformation failed: {m}"),
            )
        })?;
        x.message().write(|m| {
            m.body = Some(Body {
                bytes: out.into_bytes().into(),
                consumed: false,
            });
        });
        Ok(())
    }
}

impl Stage for XslTransform {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::done(self.apply(x))
    }
}
