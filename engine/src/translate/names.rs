//! Names: C# type aliases, namespaces, rhai's reserved words, and the named
//! parameters the translator can put in position.

use crate::expr::ast::{Type, TypeKind};

/// The .NET simple name of a C# predefined type (`int` → `Int32`).
pub(super) fn dotnet_name(alias: &str) -> &str {
    match alias {
        "int" => "Int32",
        "long" => "Int64",
        "short" => "Int16",
        "byte" => "Byte",
        "sbyte" => "SByte",
        "uint" => "UInt32",
        "ulong" => "UInt64",
        "ushort" => "UInt16",
        "double" => "Double",
        "float" => "Single",
        "decimal" => "Decimal",
        "string" => "String",
        "bool" => "Boolean",
        "char" => "Char",
        "object" => "Object",
        other => other,
    }
}

/// Namespace segments dropped from the front of a qualified name
/// (`System.Text.Encoding` → `Encoding`).
const NAMESPACE_SEGMENTS: &[&str] = &[
    "System",
    "Text",
    "Linq",
    "Collections",
    "Generic",
    "Security",
    "Cryptography",
    "RegularExpressions",
    "Net",
    "Http",
    "Web",
    "Xml",
    "Newtonsoft",
    "Json",
    "Globalization",
    "IO",
];

/// Drops leading namespace segments, keeping at least one.
pub(super) fn strip_namespace(path: &[String]) -> &[String] {
    let mut i = 0;
    while i + 1 < path.len() && NAMESPACE_SEGMENTS.contains(&path[i].as_str()) {
        i += 1;
    }
    path.get(i..).unwrap_or(path)
}

/// The name a type is known by at run time: `List<string>` → `List`,
/// `int` → `Int32`, `string[]` → `String[]`, `int?` → `Int32?`.
pub(super) fn runtime_type_name(ty: &Type) -> String {
    match &ty.kind {
        TypeKind::Predefined(p) => dotnet_name(p).to_owned(),
        TypeKind::Named(segs) => {
            let names: Vec<String> = segs.iter().map(|s| s.name.name.clone()).collect();
            let stripped = strip_namespace(&names);
            stripped.last().cloned().unwrap_or_default()
        }
        TypeKind::Nullable(inner) => format!("{}?", runtime_type_name(inner)),
        TypeKind::Array { element, .. } => format!("{}[]", runtime_type_name(element)),
    }
}

/// Generic arguments of the last segment of a named type.
pub(super) fn type_args(ty: &Type) -> Vec<String> {
    match &ty.kind {
        TypeKind::Named(segs) => segs
            .last()
            .map(|s| s.args.iter().map(runtime_type_name).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Words rhai reserves; a C# local with such a name gets a trailing `_`.
const RHAI_RESERVED: &[&str] = &[
    "let",
    "const",
    "fn",
    "private",
    "import",
    "export",
    "as",
    "if",
    "else",
    "switch",
    "do",
    "while",
    "until",
    "loop",
    "for",
    "in",
    "continue",
    "break",
    "return",
    "throw",
    "try",
    "catch",
    "true",
    "false",
    "this",
    "Fn",
    "call",
    "curry",
    "type_of",
    "print",
    "debug",
    "eval",
    "is_def_fn",
    "is_def_var",
    "is_shared",
    "global",
    "var",
    "static",
    "shared",
    "with",
    "module",
    "package",
    "super",
    "thread",
    "goto",
    "exit",
    "match",
    "case",
    "public",
    "protected",
    "new",
    "use",
    "sync",
    "async",
    "await",
    "yield",
    "spawn",
    "default",
    "void",
    "null",
    "go",
    "is",
    "static",
];

/// The rhai name of a C# local.
pub(super) fn local(name: &str) -> String {
    if RHAI_RESERVED.contains(&name) || name.starts_with("__") {
        format!("{name}_")
    } else {
        name.to_owned()
    }
}

/// Parameter names of the members that take named arguments in policies,
/// in order (after any generic type arguments).
pub(super) fn parameters(method: &str) -> Option<&'static [&'static str]> {
    Some(match method {
        "As" => &["preserveContent"],
        "AsFormUrlEncodedContent" => &["preserveContent"],
        "GetValueOrDefault" => &["key", "defaultValue"],
        "Split" => &["separator", "options"],
        "ToString" => &["format"],
        "SerializeObject" => &["value", "formatting"],
        _ => return None,
    })
}
