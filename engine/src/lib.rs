//! The Sluice engine: from APIM policy text to a validated document.
//!
//! The modules follow the pipeline:
//! - [`source`]: source text, byte spans, line/column
//! - [`diag`]: diagnostics with stable codes, rendered like rustc
//! - [`xml`]: the tolerant nom parser for APIM's not-quite-XML
//! - [`schema`]: the schema of every APIM policy
//! - [`doc`]: the document model: sections, policies, values, named values
//! - [`validate`]: checking a document against the schemas
//! - [`compose`]: scopes, `<base/>` and fragments into effective policies

pub mod compile;
pub mod compose;
pub mod diag;
pub mod doc;
pub mod expr;
pub mod fast;
pub mod runtime;
pub mod schema;
pub mod source;
pub mod translate;
pub mod validate;
pub mod xml;
