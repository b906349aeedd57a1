//! An API's operations from its specification file (OpenAPI 3 or Swagger 2,
//! JSON or YAML, as APIM exports it): for each `paths` key and method, the
//! operation named by `operationId` (the folder name of its policy), its
//! method upper-cased and the key as URL template (relative to the API's
//! path, as APIM exports it).

use std::path::{Path, PathBuf};

use serde_json::Value;

/// An operation as the specification gives it.
pub struct SpecOperation {
    pub name: String,
    pub method: String,
    pub template: String,
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The specification file of an API folder, if any.
pub fn find(folder: &Path) -> Option<PathBuf> {
    ["yaml", "yml", "json", "wsdl", "wadl", "graphql"]
        .into_iter()
        .map(|ext| folder.join(format!("specification.{ext}")))
        .find(|p| p.is_file())
}

/// The operations of an OpenAPI file; `Err` says why it cannot be read.
pub fn operations(file: &Path) -> Result<Vec<SpecOperation>, String> {
    let text =
        std::fs::read_to_string(file).map_err(|e| format!("cannot read the specification: {e}"))?;
    let doc: Value = if file.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|e| format!("the specification is not valid JSON: {e}"))?
    } else {
        serde_norway::from_str(&text)
            .map_err(|e| format!("the specification is not valid YAML: {e}"))?
    };
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Ok(out);
    };
    for (template, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let name = op
                .get("operationId")
                .and_then(Value::as_str)
                .map_or_else(|| format!("{method}-{template}"), str::to_owned);
            let template = if template.starts_with('/') {
                template.clone()
            } else {
                format!("/{template}")
            };
            out.push(SpecOperation {
                name,
                method: method.to_ascii_uppercase(),
                template,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_of_an_openapi_3_yaml_file() {
        let dir = std::env::temp_dir().join(format!("sluice-spec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("specification.yaml");
        std::fs::write(
            &file,
            "openapi: 3.0.1\npaths:\n  '/items/{id}':\n    get:\n      operationId: get-item\n    delete:\n      operationId: del\n",
        )
        .unwrap();
        let ops = operations(&file).unwrap();
        let got: Vec<(&str, &str, &str)> = ops
            .iter()
            .map(|o| (o.name.as_str(), o.method.as_str(), o.template.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("get-item", "GET", "/items/{id}"),
                ("del", "DELETE", "/items/{id}")
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
