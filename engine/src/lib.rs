//! The Sluice engine: from APIM policy text to compiled, runnable stages.
//!
//! The modules follow the pipeline, each depending only on those above it:
//! - [`source`]: source text, byte spans, line/column
//! - [`diag`]: diagnostics with stable codes, rendered like rustc
//! - [`xml`]: the tolerant nom parser for APIM's not-quite-XML
//! - [`value`]: attribute and text values: named values substituted, then a literal or an expression
//! - [`expr`]: C# expressions (`@(...)`, `@{...}`) to a syntax tree
//! - [`translate`]: the C# syntax tree to rhai source, with a position map back to the policy
//! - [`fast`]: the native form of common expressions (evaluated without rhai)
//! - [`script`]: an expression compiled once: parsed, translated, checked against the library, compiled
//! - [`schema`]: the schema of every APIM policy
//! - [`validate`]: checking policy elements against their schemas
//! - [`doc`]: the document model (sections, policies), loaded and validated
//! - [`compose`]: scopes, `<base/>` and fragments into effective policies
//! - [`runtime`]: compiling policies into stages ([`runtime::CompileCx`]) and running them

pub mod compose;
pub mod diag;
pub mod doc;
pub mod expr;
pub mod fast;
pub mod runtime;
pub mod schema;
pub mod script;
pub mod source;
pub mod translate;
pub mod validate;
pub mod value;
pub mod xml;
