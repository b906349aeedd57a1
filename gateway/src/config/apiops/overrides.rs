//! `configuration.<env>.yaml`: the APIOps publisher's overrides. Each
//! section (`namedValues`, `backends`, `apis`, `products`, …) lists items by
//! `name`; an item is deep-merged into the resource's information file
//! before it is read, children nest under their parent item with the same
//! keys (`apis[].operations[].policies[]`). `{#NAME#}` in any string is
//! the environment variable `NAME`, as the publisher's pipelines replace it.

use serde_json::Value;

/// The overrides file, placeholders replaced.
#[derive(Debug, Default)]
pub struct Overrides(Value);

impl Overrides {
    /// Parses the YAML text; `Err` says why (the parser's message, or every
    /// `{#NAME#}` whose variable is not set).
    pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut value: Value = serde_norway::from_str(text).map_err(|e| e.to_string())?;
        let mut missing = Vec::new();
        substitute(&mut value, env, &mut missing);
        if !missing.is_empty() {
            missing.sort();
            missing.dedup();
            return Err(format!(
                "set the environment variables of its `{{#NAME#}}` placeholders: {}",
                missing.join(", ")
            ));
        }
        Ok(Overrides(value))
    }

    /// The item named `name` of `section`, under `parent` (an item) or at the top.
    pub fn item<'a>(
        parent: Option<&'a Value>,
        top: &'a Self,
        section: &str,
        name: &str,
    ) -> Option<&'a Value> {
        parent
            .unwrap_or(&top.0)
            .get(section)?
            .as_array()?
            .iter()
            .find(|i| i.get("name").and_then(Value::as_str) == Some(name))
    }

    pub fn top(&self, section: &str, name: &str) -> Option<&Value> {
        Self::item(None, self, section, name)
    }
}

/// Merges `over` into `base` (objects key by key; anything else replaced),
/// leaving out the item's own `name`.
pub fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                if k == "name" {
                    continue;
                }
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

fn substitute(v: &mut Value, env: &dyn Fn(&str) -> Option<String>, missing: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{#") {
                let Some(len) = rest[start + 2..].find("#}") else {
                    break;
                };
                let name = &rest[start + 2..start + 2 + len];
                out.push_str(&rest[..start]);
                match env(name) {
                    Some(value) => out.push_str(&value),
                    None => missing.push(name.to_owned()),
                }
                rest = &rest[start + 4 + len..];
            }
            out.push_str(rest);
            *s = out;
        }
        Value::Array(items) => items.iter_mut().for_each(|i| substitute(i, env, missing)),
        Value::Object(map) => map.values_mut().for_each(|i| substitute(i, env, missing)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_come_from_the_environment_and_items_merge_by_name() {
        let text = "namedValues:\n  - name: nv1\n    properties:\n      value: \"a-{#TOKEN#}-b\"\n";
        let o = Overrides::parse(text, &|k| (k == "TOKEN").then(|| "x".to_owned())).unwrap();
        let mut base = serde_json::json!({"properties": {"displayName": "nv1", "secret": true}});
        merge(&mut base, o.top("namedValues", "nv1").unwrap());
        assert_eq!(
            base,
            serde_json::json!({"properties": {"displayName": "nv1", "secret": true, "value": "a-x-b"}})
        );
        let err = Overrides::parse("a: '{#ONE#} {#TWO#}'", &|_| None).unwrap_err();
        assert!(err.ends_with("ONE, TWO"), "{err}");
    }
}
