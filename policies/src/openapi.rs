//! The OpenAPI document attached to an API (`[[api]] specification`), as
//! the validation policies read it: per operation, its parameters, its
//! request body's content types and schemas, and its responses (status
//! codes, headers, content types). OpenAPI 3.0 and 3.1, and Swagger 2.0,
//! in JSON or YAML.
//!
//! Schemas are kept as JSON values, each with the document's
//! `components` (or Swagger's `definitions` and `parameters`) beside it, so
//! that the local `$ref`s of the document resolve inside the schema alone
//! (see [`Schema::bundled`]).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

/// The specifications of a plan's APIs, by API name: the resource the
/// validation policies take (the gateway provides it with every plan).
#[derive(Debug, Default)]
pub struct ApiSpecs(pub HashMap<String, Arc<ApiSpec>>);

impl ApiSpecs {
    pub fn get(&self, api: &str) -> Option<&Arc<ApiSpec>> {
        self.0.get(api)
    }
}

/// Which JSON Schema dialect the document's schemas are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Swagger 2.0 and OpenAPI 3.0: draft 4 (with OpenAPI's `nullable`).
    Draft4,
    /// OpenAPI 3.1: draft 2020-12.
    Draft202012,
}

/// One API's document.
#[derive(Debug)]
pub struct ApiSpec {
    pub dialect: Dialect,
    pub operations: Vec<SpecOperation>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Location {
    Query,
    Header,
    Path,
}

impl Location {
    /// How the validation errors name it (`query parameter`).
    pub fn noun(self) -> &'static str {
        match self {
            Location::Query => "query parameter",
            Location::Header => "header",
            Location::Path => "path parameter",
        }
    }

    /// The `Type` of a validation error about a request parameter.
    pub fn error_type(self) -> &'static str {
        match self {
            Location::Query => "QueryParameter",
            Location::Header => "RequestHeader",
            Location::Path => "PathParameter",
        }
    }
}

/// A schema of the document, and the name validation errors give it.
#[derive(Clone, Debug)]
pub struct Schema {
    /// The `$ref`'s last segment (`Pet`), or the schema's JSON pointer in
    /// the document when it is written in place.
    pub name: String,
    /// The schema with the document's reusable parts beside it.
    pub bundled: Value,
    /// Its validator, compiled when first used.
    pub compiled: SchemaCache,
}

impl Schema {
    pub fn new(name: String, bundled: Value) -> Self {
        Self {
            name,
            bundled,
            compiled: SchemaCache::default(),
        }
    }
}

/// A schema's compiled validator, shared by the clones of the schema.
#[derive(Clone, Default)]
pub struct SchemaCache(
    #[cfg(feature = "json-schema")]
    pub  Arc<std::sync::OnceLock<Result<Arc<jsonschema::Validator>, String>>>,
);

impl std::fmt::Debug for SchemaCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SchemaCache")
    }
}

#[derive(Clone, Debug)]
pub struct SpecParameter {
    pub name: String,
    pub location: Location,
    pub required: bool,
    pub schema: Option<Schema>,
}

#[derive(Clone, Debug)]
pub struct SpecResponse {
    /// `200`, `2XX` or `default`.
    pub status: String,
    pub headers: Vec<(String, Option<Schema>)>,
    /// Media types (lower case) and their schemas.
    pub content: Vec<(String, Option<Schema>)>,
}

#[derive(Clone, Debug)]
pub struct SpecOperation {
    /// Upper case.
    pub method: String,
    /// The path template (`/pets/{id}`).
    pub path: String,
    pub operation_id: Option<String>,
    pub parameters: Vec<SpecParameter>,
    /// Media types (lower case) of the request body and their schemas.
    pub request_content: Vec<(String, Option<Schema>)>,
    pub responses: Vec<SpecResponse>,
}

impl SpecOperation {
    /// The parameter `name` in `location` (header names ignore case).
    pub fn parameter(&self, location: Location, name: &str) -> Option<&SpecParameter> {
        self.parameters.iter().find(|p| {
            p.location == location
                && if location == Location::Header {
                    p.name.eq_ignore_ascii_case(name)
                } else {
                    p.name == name
                }
        })
    }

    /// The response the document gives for `status`: the exact code, else
    /// its range (`4XX`), else `default`.
    pub fn response(&self, status: u16) -> Option<&SpecResponse> {
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        self.responses
            .iter()
            .find(|r| r.status == exact)
            .or_else(|| {
                self.responses
                    .iter()
                    .find(|r| r.status.eq_ignore_ascii_case(&range))
            })
            .or_else(|| self.responses.iter().find(|r| r.status == "default"))
    }
}

impl ApiSpec {
    /// Reads a document: JSON when it starts with `{`, YAML otherwise.
    pub fn parse(text: &str) -> Result<ApiSpec, String> {
        let doc: Value = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?
        } else {
            serde_norway::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?
        };
        Self::from_value(&doc)
    }

    fn from_value(doc: &Value) -> Result<ApiSpec, String> {
        let swagger = doc.get("swagger").and_then(Value::as_str);
        let openapi = doc.get("openapi").and_then(Value::as_str);
        let (dialect, v2) = match (swagger, openapi) {
            (Some(s), _) if s.starts_with("2.") => (Dialect::Draft4, true),
            (_, Some(o)) if o.starts_with("3.0") => (Dialect::Draft4, false),
            (_, Some(o)) if o.starts_with("3.") => (Dialect::Draft202012, false),
            _ => {
                return Err(
                    "not an OpenAPI document: it needs `openapi: 3.x` or `swagger: \"2.0\"`".into(),
                );
            }
        };
        let reader = Reader { doc, v2, dialect };
        let mut operations = Vec::new();
        if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let item = reader.deref(item);
                let shared = item.get("parameters");
                for method in [
                    "get", "put", "post", "delete", "options", "head", "patch", "trace",
                ] {
                    if let Some(op) = item.get(method) {
                        let pointer = format!("/paths/{}/{method}", escape(path));
                        operations.push(reader.operation(path, method, op, shared, &pointer)?);
                    }
                }
            }
        }
        Ok(ApiSpec {
            dialect,
            operations,
        })
    }

    /// The operation of a request: by `operationId` equal to the
    /// configured operation's name, else by method and path template,
    /// else (an API without operations of its own) by matching the request
    /// path, relative to the API, against the document's templates.
    pub fn operation(
        &self,
        name: &str,
        method: &str,
        template: &str,
        relative_path: &str,
    ) -> Option<&SpecOperation> {
        let method = method.to_ascii_uppercase();
        if let Some(op) = self
            .operations
            .iter()
            .find(|o| o.operation_id.as_deref() == Some(name))
        {
            return Some(op);
        }
        let template = template.split('?').next().unwrap_or_default();
        if let Some(op) = self
            .operations
            .iter()
            .find(|o| o.method == method && same_template(&o.path, template))
        {
            return Some(op);
        }
        self.operations
            .iter()
            .find(|o| o.method == method && path_params(&o.path, relative_path).is_some())
    }
}

/// The values of `template`'s parameters in `path` (`/pets/{id}` against
/// `/pets/7`), or `None` when it does not match.
pub fn path_params(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut out = Vec::new();
    for (t, p) in t.iter().zip(&p) {
        if let Some(name) = t.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
            if p.is_empty() {
                return None;
            }
            out.push((name.to_owned(), (*p).to_owned()));
        } else if t != p {
            return None;
        }
    }
    Some(out)
}

/// Whether two templates are the same up to their parameters' names.
fn same_template(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> Vec<String> {
        s.trim_matches('/')
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    "{}".to_owned()
                } else {
                    seg.to_owned()
                }
            })
            .collect()
    };
    norm(a) == norm(b)
}

/// The request headers OpenAPI describes by content types, not as
/// parameters: never specified, never unspecified.
pub fn described_elsewhere(header: &str) -> bool {
    header.eq_ignore_ascii_case("accept") || header.eq_ignore_ascii_case("content-type")
}

/// A JSON pointer segment.
fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

struct Reader<'d> {
    doc: &'d Value,
    v2: bool,
    dialect: Dialect,
}

impl<'d> Reader<'d> {
    /// A `$ref` to a part of the document, followed (once per level, to a bound).
    fn deref(&self, mut v: &'d Value) -> &'d Value {
        for _ in 0..16 {
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) if r.starts_with('#') => match self.doc.pointer(&r[1..]) {
                    Some(t) => v = t,
                    None => return v,
                },
                _ => return v,
            }
        }
        v
    }

    fn operation(
        &self,
        path: &str,
        method: &str,
        op: &'d Value,
        shared: Option<&'d Value>,
        pointer: &str,
    ) -> Result<SpecOperation, String> {
        let mut parameters: Vec<SpecParameter> = Vec::new();
        let mut request_content = Vec::new();
        let consumes = self.media_types(op.get("consumes"), "consumes");
        let produces = self.media_types(op.get("produces"), "produces");
        // The operation's own parameters override the path item's.
        let lists = [
            (shared, format!("{}/parameters", pointer_parent(pointer))),
            (op.get("parameters"), format!("{pointer}/parameters")),
        ];
        for (list, at) in lists {
            let Some(list) = list.and_then(Value::as_array) else {
                continue;
            };
            for (i, p) in list.iter().enumerate() {
                let p = self.deref(p);
                let at = format!("{at}/{i}");
                let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
                let location = match p.get("in").and_then(Value::as_str) {
                    Some("query") => Location::Query,
                    Some("header") => Location::Header,
                    Some("path") => Location::Path,
                    Some("body") if self.v2 => {
                        let schema = p
                            .get("schema")
                            .map(|s| self.schema(s, &format!("{at}/schema")));
                        request_content = consumes
                            .iter()
                            .map(|m| (m.clone(), schema.clone()))
                            .collect();
                        continue;
                    }
                    _ => continue,
                };
                // OpenAPI: `Accept` and `Content-Type` header parameters
                // are ignored (the content types say them).
                if location == Location::Header && described_elsewhere(name) {
                    continue;
                }
                let schema = if self.v2 {
                    Some(self.v2_schema(p, &at))
                } else {
                    p.get("schema")
                        .map(|s| self.schema(s, &format!("{at}/schema")))
                };
                let param = SpecParameter {
                    name: name.to_owned(),
                    location,
                    required: location == Location::Path
                        || p.get("required").and_then(Value::as_bool) == Some(true),
                    schema,
                };
                parameters.retain(|q| !(q.location == location && q.name == param.name));
                parameters.push(param);
            }
        }
        if !self.v2
            && let Some(body) = op.get("requestBody")
        {
            let body = self.deref(body);
            request_content = self.content(
                body.get("content"),
                &format!("{pointer}/requestBody/content"),
            );
        }
        let mut responses = Vec::new();
        if let Some(map) = op.get("responses").and_then(Value::as_object) {
            for (status, r) in map {
                let r = self.deref(r);
                let at = format!("{pointer}/responses/{}", escape(status));
                let headers = r
                    .get("headers")
                    .and_then(Value::as_object)
                    .map(|h| {
                        h.iter()
                            .filter(|(n, _)| !n.eq_ignore_ascii_case("content-type"))
                            .map(|(n, h)| {
                                let h = self.deref(h);
                                let hat = format!("{at}/headers/{}", escape(n));
                                let schema = if self.v2 {
                                    Some(self.v2_schema(h, &hat))
                                } else {
                                    h.get("schema")
                                        .map(|s| self.schema(s, &format!("{hat}/schema")))
                                };
                                (n.clone(), schema)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let content = if self.v2 {
                    let schema = r
                        .get("schema")
                        .map(|s| self.schema(s, &format!("{at}/schema")));
                    produces
                        .iter()
                        .map(|m| (m.clone(), schema.clone()))
                        .collect()
                } else {
                    self.content(r.get("content"), &format!("{at}/content"))
                };
                responses.push(SpecResponse {
                    status: status.clone(),
                    headers,
                    content,
                });
            }
        }
        Ok(SpecOperation {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            operation_id: op
                .get("operationId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            parameters,
            request_content,
            responses,
        })
    }

    /// Swagger's `consumes`/`produces` of an operation, else the document's.
    fn media_types(&self, own: Option<&Value>, key: &str) -> Vec<String> {
        if !self.v2 {
            return Vec::new();
        }
        own.or_else(|| self.doc.get(key))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_else(|| vec!["application/json".to_owned()])
    }

    /// An OpenAPI 3 `content` map.
    fn content(&self, content: Option<&Value>, at: &str) -> Vec<(String, Option<Schema>)> {
        content
            .and_then(Value::as_object)
            .map(|c| {
                c.iter()
                    .map(|(mt, m)| {
                        let schema = m
                            .get("schema")
                            .map(|s| self.schema(s, &format!("{at}/{}/schema", escape(mt))));
                        (mt.to_ascii_lowercase(), schema)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A Swagger 2 parameter or header: its schema is the object itself.
    fn v2_schema(&self, p: &Value, at: &str) -> Schema {
        let mut s = Map::new();
        if let Some(o) = p.as_object() {
            for (k, v) in o {
                if ![
                    "name",
                    "in",
                    "required",
                    "description",
                    "collectionFormat",
                    "allowEmptyValue",
                ]
                .contains(&k.as_str())
                {
                    s.insert(k.clone(), v.clone());
                }
            }
        }
        self.schema(&Value::Object(s), at)
    }

    fn schema(&self, s: &Value, at: &str) -> Schema {
        let name = match s.get("$ref").and_then(Value::as_str) {
            Some(r) => r.rsplit('/').next().unwrap_or(r).to_owned(),
            None => format!("#{at}"),
        };
        let mut bundled = s.clone();
        if let Value::Object(o) = &mut bundled {
            for (key, v) in self.referenced(s) {
                o.entry(key).or_insert(v);
            }
        }
        if self.dialect == Dialect::Draft4 {
            nullable(&mut bundled);
        }
        Schema::new(name, bundled)
    }

    /// The parts of the document's `components` / `definitions` that `s`
    /// reaches through its `$ref`s (and theirs), at their places: what its
    /// validator needs, without a copy of every schema of a large document
    /// beside each of its schemas.
    fn referenced(&self, s: &Value) -> Map<String, Value> {
        let mut out = Map::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![s];
        while let Some(v) = stack.pop() {
            let mut refs = Vec::new();
            collect_refs(v, &mut refs);
            for r in refs {
                let Some(pointer) = r.strip_prefix('#') else {
                    continue;
                };
                if !seen.insert(pointer) {
                    continue;
                }
                let path: Vec<String> = pointer
                    .split('/')
                    .skip(1)
                    .map(|p| p.replace("~1", "/").replace("~0", "~"))
                    .collect();
                if !matches!(
                    path.first().map(String::as_str),
                    Some("components" | "definitions")
                ) {
                    continue;
                }
                let Some(target) = self.doc.pointer(pointer) else {
                    // (A pointer written otherwise, e.g. percent-encoded:
                    // the whole part, as the validator may still resolve it.)
                    if let Some(whole) = path.first().and_then(|k| self.doc.get(k)) {
                        out.insert(path[0].clone(), whole.clone());
                    }
                    continue;
                };
                insert_at(&mut out, &path, target.clone());
                stack.push(target);
            }
        }
        out
    }
}

/// Every `$ref` string in `v`.
fn collect_refs<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::Object(o) => {
            if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                out.push(r);
            }
            o.values().for_each(|c| collect_refs(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| collect_refs(c, out)),
        _ => {}
    }
}

/// Sets `value` at `path` in `map`, making the objects on the way.
fn insert_at(map: &mut Map<String, Value>, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        map.insert(first.clone(), value);
        return;
    }
    let entry = map
        .entry(first.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        return;
    }
    if let Value::Object(inner) = entry {
        insert_at(inner, rest, value);
    }
}

/// The JSON pointer of the path item of an operation's pointer.
fn pointer_parent(p: &str) -> &str {
    p.rsplit_once('/').map_or(p, |(a, _)| a)
}

/// OpenAPI 3.0's `nullable: true` as JSON Schema says it: `null` is one of the types.
fn nullable(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if o.get("nullable").and_then(Value::as_bool) == Some(true) {
                match o.get("type").cloned() {
                    Some(Value::String(t)) => {
                        o.insert("type".into(), Value::Array(vec![t.into(), "null".into()]));
                    }
                    Some(_) => {}
                    None => {}
                }
                if let Some(Value::Array(e)) = o.get_mut("enum")
                    && !e.contains(&Value::Null)
                {
                    e.push(Value::Null);
                }
            }
            for (_, c) in o.iter_mut() {
                nullable(c);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(nullable),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PETS: &str = r##"
openapi: 3.0.1
info: { title: pets, version: "1" }
paths:
  /pets/{id}:
    parameters:
      - { name: id, in: path, required: true, schema: { type: integer } }
    get:
      operationId: getPet
      parameters:
        - { name: verbose, in: query, schema: { type: boolean } }
        - { name: Accept, in: header, schema: { type: string } }
      responses:
        "200":
          description: ok
          headers:
            X-Rate: { schema: { type: integer } }
          content:
            application/json: { schema: { $ref: "#/components/schemas/Pet" } }
        4XX: { description: bad }
components:
  schemas:
    Pet:
      type: object
      properties: { name: { type: string, nullable: true } }
"##;

    #[test]
    fn reads_operations_parameters_and_responses_of_an_openapi_3_yaml_document() {
        let spec = ApiSpec::parse(PETS).unwrap();
        let op = spec.operation("getPet", "GET", "/x", "/x").unwrap();
        assert_eq!(op.path, "/pets/{id}");
        assert!(op.parameter(Location::Path, "id").unwrap().required);
        assert!(op.parameter(Location::Query, "verbose").is_some());
        assert!(
            op.parameter(Location::Header, "accept").is_none(),
            "Accept is ignored"
        );
        let r = op.response(200).unwrap();
        assert_eq!(r.headers[0].0, "X-Rate");
        let schema = r.content[0].1.as_ref().unwrap();
        assert_eq!(schema.name, "Pet");
        assert_eq!(
            schema.bundled["components"]["schemas"]["Pet"]["properties"]["name"]["type"],
            serde_json::json!(["string", "null"])
        );
        assert_eq!(op.response(404).unwrap().status, "4XX");
        assert!(op.response(500).is_none());
        // Without an operationId that matches: by method and the request path.
        let by_path = spec.operation("*", "get", "/{*path}", "/pets/7").unwrap();
        assert_eq!(by_path.operation_id.as_deref(), Some("getPet"));
        assert!(spec.operation("*", "POST", "/{*path}", "/pets/7").is_none());
    }

    #[test]
    fn reads_swagger_2_bodies_and_typed_parameters() {
        let spec = ApiSpec::parse(
            r##"{"swagger":"2.0","consumes":["application/json"],"paths":{"/a":{"post":{
            "parameters":[{"name":"n","in":"query","type":"integer","required":true},
                          {"name":"b","in":"body","schema":{"$ref":"#/definitions/B"}}],
            "responses":{"201":{"description":"ok","schema":{"type":"object"}}}}}},
            "definitions":{"B":{"type":"object","required":["x"]}}}"##,
        )
        .unwrap();
        let op = &spec.operations[0];
        let n = op.parameter(Location::Query, "n").unwrap();
        assert!(n.required);
        assert_eq!(n.schema.as_ref().unwrap().bundled["type"], "integer");
        assert_eq!(op.request_content[0].0, "application/json");
        assert_eq!(op.request_content[0].1.as_ref().unwrap().name, "B");
        assert_eq!(op.response(201).unwrap().content[0].0, "application/json");
    }

    #[test]
    fn a_schema_carries_the_components_it_reaches_and_no_others() {
        let spec = ApiSpec::parse(
            r##"{"openapi":"3.0.1","paths":{"/a":{"post":{
            "requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Pet"}}}},
            "responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"string"}}}}}}}},
            "components":{"schemas":{
              "Pet":{"type":"object","properties":{"tag":{"$ref":"#/components/schemas/Tag"},"self":{"$ref":"#/components/schemas/Pet"}}},
              "Tag":{"type":"string","nullable":true},
              "Other":{"type":"integer"}}}}"##,
        )
        .unwrap();
        let op = &spec.operations[0];
        let body = &op.request_content[0].1.as_ref().unwrap().bundled;
        let schemas = body["components"]["schemas"].as_object().unwrap();
        let mut names: Vec<&str> = schemas.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["Pet", "Tag"]);
        assert_eq!(
            schemas["Tag"]["type"],
            serde_json::json!(["string", "null"])
        );
        let response = &op.response(200).unwrap().content[0]
            .1
            .as_ref()
            .unwrap()
            .bundled;
        assert!(response.get("components").is_none(), "{response}");
    }

    #[test]
    fn refuses_what_is_not_an_openapi_document() {
        assert!(
            ApiSpec::parse("{\"a\":1}")
                .unwrap_err()
                .contains("not an OpenAPI document")
        );
        assert!(ApiSpec::parse("{").unwrap_err().contains("not valid JSON"));
        assert!(
            ApiSpec::parse("a: [")
                .unwrap_err()
                .contains("not valid YAML")
        );
    }

    #[test]
    fn path_templates_match_by_segments() {
        assert_eq!(
            path_params("/pets/{id}", "/pets/7"),
            Some(vec![("id".into(), "7".into())])
        );
        assert_eq!(path_params("/pets/{id}", "/pets"), None);
        assert_eq!(path_params("/pets/{id}", "/cats/7"), None);
    }
}
