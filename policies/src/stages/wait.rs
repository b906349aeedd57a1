//! `wait`: runs its immediate children (`send-request`, `cache-lookup-value`,
//! `choose`) and goes on when all of them (`for="all"`, the default) or the
//! first of them (`for="any"`) completed.
//!
//! Not parallel yet: every child needs the one request's exchange, so the
//! children run one after the other, in document order. With `for="all"`
//! the result is what APIM gives (all children ran). With `for="any"` only
//! the first child runs: run one after the other, it is the one that
//! completes first, and APIM terminates the others. The time taken is the
//! sum of the children's times, not the longest. An error in a child is the
//! `wait`'s error; a `return-response` in a child ends the pipeline.

use sluice_engine::runtime::{
    Block, CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Reason, Run, Stage,
    run_entries,
};
use sluice_engine::xml::Element;

#[derive(Debug)]
struct Wait {
    for_: Option<CompiledValue>,
    children: Block,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let for_ = cx.optional(e, "for")?;
    let children = cx.block(e.elements())?;
    Ok(Box::new(Wait { for_, children }))
}

impl Wait {
    /// Whether the wait ends with the first child (`for="any"`).
    fn any(&self, x: &Exchange) -> Result<bool, PolicyError> {
        let Some(v) = &self.for_ else {
            return Ok(false);
        };
        match v.eval_string(x)?.unwrap_or_default().trim() {
            "all" => Ok(false),
            "any" => Ok(true),
            other => Err(PolicyError::new(
                "wait",
                Reason::ExpressionValueEvaluationFailure,
                500,
                format!("Expression evaluation failed. `{other}` is not `all` or `any`"),
            )),
        }
    }
}

impl Stage for Wait {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        let take = match self.any(x) {
            Ok(true) => 1,
            Ok(false) => self.children.0.len(),
            Err(e) => return Run::fail(e),
        };
        let children = &self.children.0;
        Run::Later(Box::pin(run_entries(
            &children[..take.min(children.len())],
            x,
        )))
    }
}

#[cfg(test)]
mod tests {
    use sluice_engine::runtime::CallError;

    use crate::fixture::{Stub, last_error, response, run_policy, status, variable};

    fn two_requests(for_: &str) -> String {
        format!(
            r#"<policies><inbound>
            <wait {for_}>
                <send-request response-variable-name="a"><set-url>http://a.test/</set-url></send-request>
                <choose>
                    <when condition="@(true)">
                        <send-request response-variable-name="b"><set-url>http://b.test/</set-url></send-request>
                    </when>
                </choose>
            </wait>
            <return-response><set-status code="200" reason="OK" /></return-response>
        </inbound></policies>"#
        )
    }

    #[test]
    fn for_all_runs_every_child() {
        for attr in ["", r#"for="all""#, r#"for="@("all")""#] {
            let stub = Stub::status(200, "");
            let x = run_policy(&two_requests(attr), &stub, &[], "");
            let urls: Vec<String> = stub.calls().into_iter().map(|c| c.url).collect();
            assert_eq!(urls, vec!["http://a.test/", "http://b.test/"]);
            assert!(variable(&x, "a").is_some() && variable(&x, "b").is_some());
            assert_eq!(status(&x), 200);
        }
    }

    #[test]
    fn for_any_completes_with_the_first_child() {
        let stub = Stub::status(200, "");
        let x = run_policy(&two_requests(r#"for="any""#), &stub, &[], "");
        assert_eq!(stub.calls().len(), 1);
        assert!(variable(&x, "a").is_some());
        assert!(variable(&x, "b").is_none());
    }

    #[test]
    fn a_child_error_is_the_wait_error() {
        let stub = Stub::new(|req, _| {
            if req.url.contains("b.test") {
                Err(CallError::Timeout)
            } else {
                Ok(response(200, ""))
            }
        });
        let x = run_policy(&two_requests(""), &stub, &[], "");
        assert_eq!(last_error(&x).as_deref(), Some("send-request/Timeout"));
        let path = x
            .ctx
            .0
            .last_error
            .read()
            .unwrap()
            .as_ref()
            .unwrap()
            .path
            .clone();
        assert_eq!(path, "wait[1]/choose[2]/when[1]/send-request[1]");
        assert_eq!(status(&x), 500);
    }

    #[test]
    fn only_the_documented_children_are_accepted() {
        let p = r#"<policies><inbound><wait><set-header name="a"><value>1</value></set-header></wait></inbound></policies>"#;
        assert!(crate::fixture::pipeline(p).is_err());
    }
}
