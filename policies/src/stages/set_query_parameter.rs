//! `set-query-parameter`: sets, appends, keeps or deletes a query parameter
//! of the request URL (`context.Request.Url.Query`); inbound and backend.
//! The same shape and `exists-action` rules as `set-header`.

use sluice_engine::runtime::{
    CompileCx, Compiled, CompiledValue, Exchange, PolicyError, Run, Stage,
};
use sluice_engine::xml::Element;

#[derive(Debug)]
struct SetQueryParameter {
    name: CompiledValue,
    action: Option<CompiledValue>,
    values: Vec<CompiledValue>,
}

pub(crate) fn compile(e: &Element, cx: &mut CompileCx<'_>) -> Compiled {
    let name = cx.required(e, "name")?;
    let action = cx.optional(e, "exists-action")?;
    let mut values = Vec::new();
    for v in e.elements().filter(|c| c.name == "value") {
        values.push(cx.text(v)?);
    }
    Ok(Box::new(SetQueryParameter {
        name,
        action,
        values,
    }))
}

impl SetQueryParameter {
    fn apply(&self, x: &Exchange) -> Result<(), PolicyError> {
        let Some(name) = self.name.eval_str(x)? else {
            return Ok(());
        };
        let action = match &self.action {
            Some(a) => a.eval_str(x)?,
            None => None,
        };
        let action = action.as_deref().unwrap_or("override");
        let mut values = sluice_engine::runtime::Values::new();
        for v in &self.values {
            // A null value sets nothing, as for set-header (DECISIONS.md).
            if let Some(s) = v.eval_string(x)? {
                values.push(s);
            }
        }
        // Inbound and backend only: always the request.
        x.request().write(|m| {
            let query = std::sync::Arc::make_mut(&mut m.url.query);
            match action {
                "delete" => query.remove(&name),
                "skip" if query.get(&name).is_some() => {}
                "append" => values.iter().for_each(|v| query.append(&name, v)),
                _ if values.is_empty() && !self.values.is_empty() => {}
                _ => query.set(&name, values),
            }
        });
        Ok(())
    }
}

impl Stage for SetQueryParameter {
    fn run<'a>(&'a self, x: &'a mut Exchange) -> Run<'a> {
        Run::done(self.apply(x))
    }
}

#[cfg(test)]
mod tests {
    use sluice_engine::schema::Section;

    use crate::testkit::{Kit, request, run};

    fn query_after(policy: &str, url: &str) -> String {
        let kit = Kit::new();
        let stage = kit.stage(policy, Section::Inbound);
        let mut x = kit.exchange(request("GET", url, &[]), "/api", Section::Inbound);
        run(stage.as_ref(), &mut x).unwrap();
        x.request().read(|m| m.url.query_string())
    }

    #[test]
    fn override_replaces_all_values_and_adds_a_missing_parameter() {
        let p = r#"<set-query-parameter name="a" exists-action="override"><value>1</value><value>2</value></set-query-parameter>"#;
        assert_eq!(query_after(p, "http://h/api/x?a=0&b=9"), "?a=1&a=2&b=9");
        assert_eq!(query_after(p, "http://h/api/x"), "?a=1&a=2");
        // override is the default
        let p = r#"<set-query-parameter name="a"><value>new</value></set-query-parameter>"#;
        assert_eq!(query_after(p, "http://h/api/x?a=old"), "?a=new");
    }

    #[test]
    fn skip_keeps_an_existing_parameter_and_adds_a_missing_one() {
        // The docs' example: an `api-key` parameter set only when absent.
        let p = r#"<set-query-parameter name="api-key" exists-action="skip"><value>12345678901</value></set-query-parameter>"#;
        assert_eq!(
            query_after(p, "http://h/api/x?api-key=mine"),
            "?api-key=mine"
        );
        assert_eq!(query_after(p, "http://h/api/x"), "?api-key=12345678901");
    }

    #[test]
    fn append_and_delete() {
        let p = r#"<set-query-parameter name="a" exists-action="append"><value>2</value></set-query-parameter>"#;
        assert_eq!(query_after(p, "http://h/api/x?a=1"), "?a=1&a=2");
        let p = r#"<set-query-parameter name="A" exists-action="delete" />"#;
        assert_eq!(query_after(p, "http://h/api/x?a=1&b=2"), "?b=2");
    }

    #[test]
    fn values_and_names_from_expressions() {
        let p = r#"<set-query-parameter name="@("x-" + "method")"><value>@(context.Request.Method)</value></set-query-parameter>"#;
        assert_eq!(query_after(p, "http://h/api/x"), "?x-method=GET");
        // a null value sets nothing
        let p =
            r#"<set-query-parameter name="a"><value>@((string)null)</value></set-query-parameter>"#;
        assert_eq!(query_after(p, "http://h/api/x?a=1"), "?a=1");
    }

    #[test]
    fn a_failing_expression_is_an_error() {
        let kit = Kit::new();
        let stage = kit.stage(
            r#"<set-query-parameter name="a"><value>@(context.Variables["missing"].ToString())</value></set-query-parameter>"#,
            Section::Inbound,
        );
        let mut x = kit.exchange(
            request("GET", "http://h/api/x", &[]),
            "/api",
            Section::Inbound,
        );
        let e = run(stage.as_ref(), &mut x).unwrap_err();
        assert_eq!(e.reason.as_str(), "ExpressionValueEvaluationFailure");
        assert_eq!(e.status, 500);
    }
}
