//! The schemas added to the gateway for `validate-content schema-id`
//! (`[schemas]` of the configuration: an id and a JSON Schema file), as
//! APIM's schemas added to an instance. `schema-ref` picks a part of one.

use std::collections::HashMap;

use serde_json::Value;

use crate::openapi::{Dialect, Schema};

/// The configured schemas by id: the resource the gateway provides.
#[derive(Debug, Default)]
pub struct Schemas(pub HashMap<String, SchemaDoc>);

impl Schemas {
    pub fn get(&self, id: &str) -> Option<&SchemaDoc> {
        self.0.get(id)
    }
}

/// One schema document.
#[derive(Debug)]
pub struct SchemaDoc {
    pub value: Value,
    pub dialect: Dialect,
}

impl SchemaDoc {
    /// Reads a JSON (or YAML) schema; `$schema` naming draft 4 is read as
    /// draft 4, anything else as draft 2020-12.
    pub fn parse(text: &str) -> Result<SchemaDoc, String> {
        let value: Value = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?
        } else {
            serde_norway::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?
        };
        if !value.is_object() && !value.is_boolean() {
            return Err("a schema is a JSON object".into());
        }
        let dialect = match value.get("$schema").and_then(Value::as_str) {
            Some(s) if s.contains("draft-04") => Dialect::Draft4,
            _ => Dialect::Draft202012,
        };
        Ok(SchemaDoc { value, dialect })
    }

    /// The schema `id`, or its part at `reference` (`#/components/schemas/address`)
    /// with the document's reusable parts beside it.
    pub fn at(&self, id: &str, reference: Option<&str>) -> Result<Schema, String> {
        let Some(r) = reference else {
            return Ok(Schema::new(id.to_owned(), self.value.clone()));
        };
        let pointer = r.strip_prefix('#').unwrap_or(r);
        let Some(part) = self.value.pointer(pointer) else {
            return Err(format!("schema `{id}` has nothing at `{r}`"));
        };
        let mut bundled = part.clone();
        if let Value::Object(o) = &mut bundled {
            for key in ["components", "definitions", "$defs"] {
                if let Some(v) = self.value.get(key) {
                    o.entry(key.to_owned()).or_insert(v.clone());
                }
            }
        }
        let name = r.rsplit('/').next().unwrap_or(r).to_owned();
        Ok(Schema::new(name, bundled))
    }
}
