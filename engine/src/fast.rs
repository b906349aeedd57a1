//! The native form of an expression ([`sluice_stdlib::fast`]), when the
//! whole C# expression is made of forms it has: literals, `context` reads
//! (headers, query and matched parameters, variables, record fields, a few
//! request properties, the request id), `ToString()`, `(string)`, `+`, `==`,
//! `!=`, `&&`, `||`, `!`, `?:`, and the string members `Contains`,
//! `StartsWith`, `EndsWith` (one argument), `ToUpper()`, `ToLower()`.
//! Anything else has no native form and runs in rhai only.

use sluice_stdlib::fast::{Dict, Fast, Missing, Prop, Rec, Search, default_of};

use crate::expr::ast::{Arg, BinaryOp, Expr, ExprKind, Literal, Type, TypeKind, UnaryOp};

/// The native form of an expression, if it has one.
pub fn compile(e: &Expr) -> Option<Fast> {
    let b = |e: &Expr| compile(e).map(Box::new);
    Some(match &e.kind {
        ExprKind::Literal(l) => Fast::Value(match l {
            Literal::String(s) => s.clone().into(),
            Literal::Bool(v) => (*v).into(),
            Literal::Null => rhai::Dynamic::UNIT,
            Literal::Int {
                value,
                suffix: crate::expr::ast::IntSuffix::None,
            } if *value <= i32::MAX as u64 => rhai::Dynamic::from_int(i64::try_from(*value).ok()?),
            _ => return None,
        }),
        ExprKind::Member { .. } => member(e)?,
        ExprKind::Index {
            target,
            args,
            conditional: false,
        } => {
            let args = plain_args(args)?;
            let [name] = args.as_slice() else {
                return None;
            };
            let name = b(name)?;
            match path(target)?.as_slice() {
                ["Variables"] => Fast::Variable {
                    name,
                    missing: Missing::Throw,
                    ty: None,
                },
                ["Request", "MatchedParameters"] => Fast::Lookup {
                    dict: Dict::Matched,
                    name,
                    missing: Missing::Throw,
                },
                _ => return None,
            }
        }
        ExprKind::Call { callee, args } => call(callee, args)?,
        ExprKind::Cast { ty, operand } if predefined(ty) == Some("string") => {
            Fast::CastString(b(operand)?)
        }
        ExprKind::Unary {
            op: UnaryOp::Not,
            operand,
        } => Fast::Not(b(operand)?),
        ExprKind::Binary { op, left, right } => {
            let (l, r) = (b(left)?, b(right)?);
            match op {
                BinaryOp::Add => Fast::Add(l, r),
                BinaryOp::Eq | BinaryOp::Ne => Fast::Eq {
                    left: l,
                    right: r,
                    negate: *op == BinaryOp::Ne,
                },
                BinaryOp::And => Fast::And(l, r),
                BinaryOp::Or => Fast::Or(l, r),
                _ => return None,
            }
        }
        ExprKind::Conditional {
            cond,
            then,
            otherwise,
        } => Fast::Cond(b(cond)?, b(then)?, b(otherwise)?),
        _ => return None,
    })
}

/// `context.A.B...` as its names (`["A", "B"]`); `None` for anything else
/// (`?.`, type arguments, another root).
fn path(e: &Expr) -> Option<Vec<&str>> {
    match &e.kind {
        ExprKind::Name { name, args } if name.name == "context" && args.is_empty() => {
            Some(Vec::new())
        }
        ExprKind::Member {
            target,
            name,
            args,
            conditional: false,
        } if args.is_empty() => {
            let mut p = path(target)?;
            p.push(&name.name);
            Some(p)
        }
        _ => None,
    }
}

/// A property read: a record field or a request property.
fn member(e: &Expr) -> Option<Fast> {
    let p = path(e)?;
    let record = |name: &str| {
        Some(match name {
            "Api" => Rec::Api,
            "Operation" => Rec::Operation,
            "Product" => Rec::Product,
            "Subscription" => Rec::Subscription,
            "User" => Rec::User,
            "Deployment" => Rec::Deployment,
            "Workspace" => Rec::Workspace,
            _ => return None,
        })
    };
    Some(match p.as_slice() {
        ["Request", "Method"] => Fast::Prop(Prop::RequestMethod),
        ["Request", "Url", "Path"] => Fast::Prop(Prop::RequestPath),
        ["Request", "Url", "Host"] => Fast::Prop(Prop::RequestHost),
        ["Request", "Url", "Scheme"] => Fast::Prop(Prop::RequestScheme),
        ["Request", "IpAddress"] => Fast::Prop(Prop::RequestIp),
        ["Response", "StatusCode"] => Fast::Prop(Prop::ResponseStatusCode),
        [r, field] => Fast::Field {
            record: record(r)?,
            field: sluice_stdlib::context::record_field(field)?,
        },
        _ => return None,
    })
}

/// A method call.
fn call(callee: &Expr, args: &[Arg]) -> Option<Fast> {
    let ExprKind::Member {
        target,
        name,
        args: type_args,
        conditional: false,
    } = &callee.kind
    else {
        return None;
    };
    let b = |e: &Expr| compile(e).map(Box::new);
    let values = plain_args(args)?;
    let method = name.name.as_str();
    if method == "GetValueOrDefault" {
        let (name, missing) = match values.as_slice() {
            [n] => (b(n)?, Missing::Null),
            [n, d] => (b(n)?, Missing::Default(b(d)?)),
            _ => return None,
        };
        let target = path(target)?;
        if let ["Variables"] = target.as_slice() {
            let ty = match type_args.as_slice() {
                [] => None,
                [t] => Some(dotnet(predefined(t)?)?),
                _ => return None,
            };
            let missing = match (missing, ty) {
                (Missing::Null, Some(t)) => Missing::Default(Box::new(Fast::Value(default_of(t)?))),
                (m, _) => m,
            };
            return Some(Fast::Variable { name, missing, ty });
        }
        if !type_args.is_empty() {
            return None;
        }
        let dict = match target.as_slice() {
            ["Request", "Headers"] => Dict::RequestHeaders,
            ["Response", "Headers"] => Dict::ResponseHeaders,
            ["Request", "Url", "Query"] => Dict::Query,
            ["Request", "MatchedParameters"] => Dict::Matched,
            _ => return None,
        };
        return Some(Fast::Lookup {
            dict,
            name,
            missing,
        });
    }
    if !type_args.is_empty() {
        return None;
    }
    Some(match (method, values.as_slice()) {
        ("ToString", []) => {
            if path(target).is_some_and(|p| p == ["RequestId"]) {
                Fast::RequestId
            } else {
                Fast::ToString(b(target)?)
            }
        }
        ("ToUpper", []) => Fast::Case {
            on: b(target)?,
            upper: true,
        },
        ("ToLower", []) => Fast::Case {
            on: b(target)?,
            upper: false,
        },
        ("Contains" | "StartsWith" | "EndsWith", [arg]) => Fast::Search {
            on: b(target)?,
            which: match method {
                "Contains" => Search::Contains,
                "StartsWith" => Search::StartsWith,
                _ => Search::EndsWith,
            },
            arg: b(arg)?,
        },
        _ => return None,
    })
}

/// Positional arguments without `out`/`ref`.
fn plain_args(args: &[Arg]) -> Option<Vec<&Expr>> {
    args.iter()
        .map(|a| (a.name.is_none() && a.modifier.is_none()).then_some(&a.value))
        .collect()
}

fn predefined(t: &Type) -> Option<&str> {
    match &t.kind {
        TypeKind::Predefined(n) => Some(n),
        _ => None,
    }
}

/// The .NET name of the predefined types `GetValueOrDefault<T>` takes natively.
fn dotnet(alias: &str) -> Option<&'static str> {
    Some(match alias {
        "string" => "String",
        "int" => "Int32",
        "long" => "Int64",
        "bool" => "Boolean",
        _ => return None,
    })
}
