//! Expressions.

use super::emit::{char_literal, string_literal};
use super::names::{dotnet_name, local, parameters, runtime_type_name, strip_namespace, type_args};
use super::{MemberKind, Translator, Ty, unsupported};
use crate::expr::ExprError;
use crate::expr::ast::*;

type R = Result<(), ExprError>;

impl Translator {
    pub(super) fn expr(&mut self, e: &Expr) -> R {
        self.e.mark(e.span);
        match &e.kind {
            ExprKind::Literal(l) => self.literal(l),
            ExprKind::Name { name, args } => {
                if !args.is_empty() {
                    return Err(unsupported("a generic name as a value", e.span));
                }
                if self.local_ty(&name.name).is_none() {
                    return Err(ExprError {
                        message: format!("unknown name `{}`", name.name),
                        span: name.span,
                    });
                }
                if self.lambdas > 0 && self.is_context(&name.name) {
                    self.e
                        .w(&format!("{}()", sluice_stdlib::context::CURRENT_CONTEXT_FN));
                } else {
                    self.e.w(&local(&name.name));
                }
                Ok(())
            }
            ExprKind::PredefinedType(p) => Err(ExprError {
                message: format!("`{p}` is a type, not a value"),
                span: e.span,
            }),
            ExprKind::NamedValue(n) => {
                self.e.w(&string_literal(&format!("{{{{{n}}}}}")));
                Ok(())
            }
            ExprKind::Interpolated(parts) => self.interpolated(parts),
            ExprKind::Member {
                target,
                name,
                args,
                conditional,
            } => {
                if !args.is_empty() {
                    return Err(unsupported("a generic member without a call", e.span));
                }
                if let Some(ty) = self.static_type(target) {
                    self.member(
                        MemberKind::Static,
                        format!("{ty}__{}", name.name),
                        format!("{ty}.{}", name.name),
                        e.span,
                    );
                    self.e.w(&format!("{ty}__{}()", name.name));
                    return Ok(());
                }
                self.expr(target)?;
                self.e.mark(name.span);
                self.member(
                    MemberKind::Property,
                    format!("get${}", name.name),
                    format!(".{}", name.name),
                    name.span,
                );
                self.e.w(if *conditional { "?." } else { "." });
                self.e.w(&name.name);
                Ok(())
            }
            ExprKind::Call { callee, args } => self.call(e, callee, args),
            ExprKind::Index {
                target,
                args,
                conditional,
            } => {
                let [arg] = args.as_slice() else {
                    return Err(unsupported("an indexer with several arguments", e.span));
                };
                self.expr(target)?;
                if self.ty(target) == Ty::Str {
                    // rhai indexes strings itself (negative indexes count from the end); .NET throws.
                    self.e.w(if *conditional { "?.Chars(" } else { ".Chars(" });
                    self.expr(&arg.value)?;
                    self.e.w(")");
                    return Ok(());
                }
                self.e.w(if *conditional { "?[" } else { "[" });
                self.expr(&arg.value)?;
                self.e.w("]");
                Ok(())
            }
            ExprKind::Unary { op, operand } => {
                let pre = match op {
                    UnaryOp::Plus => "(+",
                    UnaryOp::Neg => "(-",
                    UnaryOp::Not => "(!",
                    UnaryOp::BitNot => "(-1 ^ ",
                    UnaryOp::PreInc | UnaryOp::PreDec => {
                        return Err(unsupported("`++`/`--` inside an expression", e.span));
                    }
                };
                self.e.w(pre);
                self.expr(operand)?;
                self.e.w(")");
                Ok(())
            }
            ExprKind::Postfix { .. } => Err(unsupported("`++`/`--` inside an expression", e.span)),
            ExprKind::Cast { ty, operand } => {
                let target = runtime_type_name(ty);
                let f = if self.ty(operand).numeric() && is_numeric_name(&target) {
                    "__conv"
                } else {
                    "__cast"
                };
                self.e.w(f);
                self.e.w("(");
                self.expr(operand)?;
                self.e.w(&format!(", {})", string_literal(&target)));
                Ok(())
            }
            ExprKind::Binary { op, left, right } => self.binary(*op, left, right),
            ExprKind::Is { operand, pattern } => self.is(operand, pattern),
            ExprKind::As { operand, ty } => {
                self.e.w("__as(");
                self.expr(operand)?;
                self.e
                    .w(&format!(", {})", string_literal(&runtime_type_name(ty))));
                Ok(())
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                self.e.w("(if ");
                self.expr(cond)?;
                self.e.w(" { ");
                self.expr(then)?;
                self.e.w(" } else { ");
                self.expr(otherwise)?;
                self.e.w(" })");
                Ok(())
            }
            ExprKind::Assign { .. } => {
                Err(unsupported("an assignment inside an expression", e.span))
            }
            ExprKind::Lambda { params, body } => self.lambda(params, body),
            ExprKind::New { ty, args, init } => self.new_object(ty, args.as_deref(), init.as_ref()),
            ExprKind::NewArray { ty, sizes, init } => self.new_array(ty, sizes, init.as_deref(), e),
            ExprKind::NewImplicitArray { init, .. } => self.list(init),
            ExprKind::InitList(items) => self.list(items),
            ExprKind::NewAnonymous(members) => self.anonymous(members, e),
            ExprKind::TypeOf(_) => Err(unsupported("`typeof`", e.span)),
            ExprKind::Default(ty) => {
                let v = match ty.as_ref().map(runtime_type_name).as_deref() {
                    Some("Int32" | "Int64" | "Int16" | "Byte" | "UInt32" | "UInt64") => "0",
                    Some("Double" | "Single" | "Decimal") => "0.0",
                    Some("Boolean") => "false",
                    _ => "()",
                };
                self.e.w(v);
                Ok(())
            }
            ExprKind::NameOf(inner) => {
                let name = match &inner.kind {
                    ExprKind::Name { name, .. } | ExprKind::Member { name, .. } => {
                        name.name.clone()
                    }
                    _ => return Err(unsupported("this `nameof` operand", inner.span)),
                };
                self.e.w(&string_literal(&name));
                Ok(())
            }
            ExprKind::Checked { operand, .. } => self.expr(operand),
            ExprKind::Throw(inner) => {
                self.e.w("__throw(");
                self.expr(inner)?;
                self.e.w(")");
                Ok(())
            }
            ExprKind::Declaration { .. } => Err(unsupported("a declaration here", e.span)),
            ExprKind::This | ExprKind::Base => Err(unsupported("`this` and `base`", e.span)),
        }
    }

    fn literal(&mut self, l: &Literal) -> R {
        let s = match l {
            Literal::Bool(b) => b.to_string(),
            Literal::Null => "()".into(),
            Literal::Int { value, .. } => match i64::try_from(*value) {
                Ok(v) => v.to_string(),
                Err(_) => format!("{}.0", value),
            },
            Literal::Real { text, .. } => {
                let t = text.trim_start_matches('.');
                let t = if text.starts_with('.') {
                    format!("0.{t}")
                } else {
                    text.clone()
                };
                if t.contains(['.', 'e', 'E']) {
                    t
                } else {
                    format!("{t}.0")
                }
            }
            Literal::String(s) => string_literal(s),
            Literal::Char(c) => char_literal(*c),
        };
        self.e.w(&s);
        Ok(())
    }

    fn interpolated(&mut self, parts: &[InterpPart]) -> R {
        self.e.w("(\"\"");
        for p in parts {
            self.e.w(" + ");
            match p {
                InterpPart::Text(t) => self.e.w(&string_literal(t)),
                InterpPart::Hole {
                    expr,
                    align,
                    format,
                    span,
                } => {
                    self.e.mark(*span);
                    match (align, format) {
                        (None, None) => {
                            self.e.w("__str(");
                            self.expr(expr)?;
                        }
                        (None, Some(f)) => {
                            self.e.w("__format(");
                            self.expr(expr)?;
                            self.e.w(&format!(", {}", string_literal(f)));
                        }
                        (Some(a), f) => {
                            self.e.w("__format_align(");
                            self.expr(expr)?;
                            self.e.w(", ");
                            self.expr(a)?;
                            self.e
                                .w(&format!(", {}", string_literal(f.as_deref().unwrap_or(""))));
                        }
                    }
                    self.e.w(")");
                }
            }
        }
        self.e.w(")");
        Ok(())
    }

    /// If `e` names a type (not a value), its run-time name: `Encoding`,
    /// `System.Text.Encoding`, `string`.
    pub(super) fn static_type(&self, e: &Expr) -> Option<String> {
        fn path(t: &Translator, e: &Expr, out: &mut Vec<String>) -> bool {
            match &e.kind {
                ExprKind::Name { name, args }
                    if args.is_empty() && t.local_ty(&name.name).is_none() =>
                {
                    out.push(name.name.clone());
                    true
                }
                ExprKind::PredefinedType(p) => {
                    out.push(dotnet_name(p).to_owned());
                    true
                }
                ExprKind::Member {
                    target,
                    name,
                    args,
                    conditional: false,
                } if args.is_empty() => {
                    path(t, target, out) && {
                        out.push(name.name.clone());
                        true
                    }
                }
                _ => false,
            }
        }
        let mut segs = Vec::new();
        if !path(self, e, &mut segs) {
            return None;
        }
        match strip_namespace(&segs) {
            [one] => Some(one.clone()),
            _ => None,
        }
    }

    fn call(&mut self, e: &Expr, callee: &Expr, args: &[Arg]) -> R {
        let outs: Vec<&Arg> = args
            .iter()
            .filter(|a| a.modifier == Some(Modifier::Out))
            .collect();
        if !outs.is_empty() {
            return self.call_with_out(e, callee, args);
        }
        self.call_plain(callee, args, "")
    }

    /// `target.M(args)` or `T__M(args)`; `suffix` is added to the member name.
    fn call_plain(&mut self, callee: &Expr, args: &[Arg], suffix: &str) -> R {
        match &callee.kind {
            ExprKind::Member {
                target,
                name,
                args: targs,
                conditional,
            } => {
                let targs: Vec<String> = targs.iter().map(runtime_type_name).collect();
                if let Some(ty) = self.static_type(target) {
                    self.e.mark(name.span);
                    self.member(
                        MemberKind::Static,
                        format!("{ty}__{}{suffix}", name.name),
                        format!("{ty}.{}", name.name),
                        callee.span,
                    );
                    self.e.w(&format!("{ty}__{}{suffix}(", name.name));
                } else {
                    // `GetValueOrDefault<T>(name)` has its own name: with the
                    // type as a leading string it would read like
                    // `GetValueOrDefault(name, "default")`.
                    let method = if name.name == "GetValueOrDefault" && !targs.is_empty() {
                        "GetValueOrDefault__of"
                    } else {
                        name.name.as_str()
                    };
                    self.expr(target)?;
                    self.e.mark(name.span);
                    self.member(
                        MemberKind::Method,
                        format!("{method}{suffix}"),
                        format!(".{}()", name.name),
                        name.span,
                    );
                    self.e.w(if *conditional { "?." } else { "." });
                    self.e.w(&format!("{method}{suffix}("));
                }
                self.arguments(&name.name, &targs, args)?;
                self.e.w(")");
                Ok(())
            }
            ExprKind::Name { name, args: targs }
                if targs.is_empty() && self.local_ty(&name.name).is_some() =>
            {
                // A local function or a delegate held in a local: `call(f, ...)`
                // reads the closure without locking the (shared) variable, so it may recurse.
                self.e.w(&format!("call({}", local(&name.name)));
                if !args.is_empty() {
                    self.e.w(", ");
                }
                self.arguments(&name.name, &[], args)?;
                self.e.w(")");
                Ok(())
            }
            ExprKind::Name { name, .. } => Err(ExprError {
                message: format!("unknown method `{}`", name.name),
                span: name.span,
            }),
            _ => {
                self.e.w("(");
                self.expr(callee)?;
                self.e.w(").call(");
                self.arguments("", &[], args)?;
                self.e.w(")");
                Ok(())
            }
        }
    }

    /// Generic type arguments first (as strings), then the arguments, with
    /// named ones put in position where the member's parameters are known.
    fn arguments(&mut self, method: &str, targs: &[String], args: &[Arg]) -> R {
        let mut first = true;
        for t in targs {
            if !first {
                self.e.w(", ");
            }
            first = false;
            self.e.w(&string_literal(t));
        }
        let ordered: Vec<&Arg> = match parameters(method) {
            Some(params) if args.iter().any(|a| a.name.is_some()) => {
                let mut v: Vec<&Arg> = args.iter().filter(|a| a.name.is_none()).collect();
                let mut named: Vec<&Arg> = args.iter().filter(|a| a.name.is_some()).collect();
                named.sort_by_key(|a| {
                    a.name
                        .as_ref()
                        .and_then(|n| params.iter().position(|p| *p == n.name))
                        .unwrap_or(usize::MAX)
                });
                v.extend(named);
                v
            }
            _ => args.iter().collect(),
        };
        for a in ordered {
            if a.modifier == Some(Modifier::Out) {
                continue;
            }
            if !first {
                self.e.w(", ");
            }
            first = false;
            self.expr(&a.value)?;
        }
        Ok(())
    }

    /// `M(a, out x)` → `{ let __t = M__out(a); x = __t[1]; __t[0] }`.
    fn call_with_out(&mut self, e: &Expr, callee: &Expr, args: &[Arg]) -> R {
        let tmp = self.e.tmp();
        self.e.w(&format!("({{ let {tmp} = "));
        self.call_plain(callee, args, "__out")?;
        self.e.w("; ");
        for (i, a) in args
            .iter()
            .filter(|a| a.modifier == Some(Modifier::Out))
            .enumerate()
        {
            let name = match &a.value.kind {
                ExprKind::Declaration { name, ty } => {
                    let t = ty_of_type(ty);
                    self.declare(&name.name, t);
                    name.name.clone()
                }
                ExprKind::Name { name, .. } => name.name.clone(),
                _ => return Err(unsupported("this `out` argument", a.span)),
            };
            if name != "_" {
                self.e.w(&format!("{} = {tmp}[{}]; ", local(&name), i + 1));
            }
        }
        self.e.mark(e.span);
        self.e.w(&format!("{tmp}[0] }})"));
        Ok(())
    }

    fn binary(&mut self, op: BinaryOp, left: &Expr, right: &Expr) -> R {
        let (lt, rt) = (self.ty(left), self.ty(right));
        let func = match op {
            BinaryOp::Add if !(lt.numeric() && rt.numeric()) => Some("__add"),
            BinaryOp::Eq if !same_primitive(lt, rt) => Some("__eq"),
            BinaryOp::Ne if !same_primitive(lt, rt) => Some("__ne"),
            _ => None,
        };
        if let Some(f) = func {
            self.e.w(f);
            self.e.w("(");
            self.expr(left)?;
            self.e.w(", ");
            self.expr(right)?;
            self.e.w(")");
            return Ok(());
        }
        let sym = crate::expr::binary_symbol(op);
        self.e.w("(");
        self.expr(left)?;
        self.e.w(&format!(" {sym} "));
        self.expr(right)?;
        self.e.w(")");
        Ok(())
    }

    fn is(&mut self, operand: &Expr, pattern: &Pattern) -> R {
        match pattern {
            Pattern::Type(ty) => {
                self.e.w("__is(");
                self.expr(operand)?;
                self.e
                    .w(&format!(", {})", string_literal(&runtime_type_name(ty))));
            }
            Pattern::Constant(c) if matches!(c.kind, ExprKind::Literal(Literal::Null)) => {
                self.e.w("(");
                self.expr(operand)?;
                self.e.w(" == ())");
            }
            Pattern::Constant(c) => {
                self.e.w("__eq(");
                self.expr(operand)?;
                self.e.w(", ");
                self.expr(c)?;
                self.e.w(")");
            }
            Pattern::Declaration(ty, name) => {
                let tmp = self.e.tmp();
                self.declare(&name.name, ty_of_type(ty));
                self.e.w(&format!("({{ let {tmp} = "));
                self.expr(operand)?;
                self.e.w(&format!(
                    "; if __is({tmp}, {}) {{ {} = {tmp}; true }} else {{ false }} }})",
                    string_literal(&runtime_type_name(ty)),
                    local(&name.name)
                ));
            }
            Pattern::Var(name) => {
                self.declare(&name.name, Ty::Unknown);
                self.e.w(&format!("({{ {} = ", local(&name.name)));
                self.expr(operand)?;
                self.e.w("; true })");
            }
        }
        Ok(())
    }

    fn lambda(&mut self, params: &[Param], body: &Body) -> R {
        self.push_scope();
        let names: Vec<String> = params
            .iter()
            .map(|p| {
                self.declare(&p.name.name, p.ty.as_ref().map_or(Ty::Unknown, ty_of_type));
                local(&p.name.name)
            })
            .collect();
        self.e.w(&format!("|{}| ", names.join(", ")));
        self.lambdas += 1;
        let r = match body {
            Body::Expr(e) => self.expr(e),
            Body::Block(b) => {
                self.e.w("{ ");
                let r = self.statements(&b.stmts);
                self.e.w(" }");
                r
            }
        };
        self.lambdas -= 1;
        self.pop_scope();
        r
    }

    fn new_object(&mut self, ty: &Type, args: Option<&[Arg]>, init: Option<&Initializer>) -> R {
        let name = runtime_type_name(ty);
        let targs = type_args(ty);
        self.member(
            MemberKind::Static,
            format!("{name}__new"),
            format!("new {name}(...)"),
            ty.span,
        );
        let ctor = |t: &mut Self| -> R {
            t.e.w(&format!("{name}__new("));
            t.arguments("", &targs, args.unwrap_or(&[]))?;
            t.e.w(")");
            Ok(())
        };
        let Some(init) = init else {
            return ctor(self);
        };
        let tmp = self.e.tmp();
        self.e.w(&format!("({{ let {tmp} = "));
        ctor(self)?;
        self.e.w("; ");
        match init {
            Initializer::Object(members) => {
                for m in members {
                    match &m.target {
                        InitTarget::Member(id) => self.e.w(&format!("{tmp}.{} = ", id.name)),
                        InitTarget::Index(keys) => {
                            let [k] = keys.as_slice() else {
                                return Err(unsupported(
                                    "an index initializer with several keys",
                                    m.value.span,
                                ));
                            };
                            self.e.w(&format!("{tmp}["));
                            self.expr(&k.value)?;
                            self.e.w("] = ");
                        }
                    }
                    self.expr(&m.value)?;
                    self.e.w("; ");
                }
            }
            Initializer::Collection(items) => {
                for item in items {
                    self.e.w(&format!("{tmp}.Add("));
                    match &item.kind {
                        ExprKind::InitList(parts) => {
                            for (i, p) in parts.iter().enumerate() {
                                if i > 0 {
                                    self.e.w(", ");
                                }
                                self.expr(p)?;
                            }
                        }
                        _ => self.expr(item)?,
                    }
                    self.e.w("); ");
                }
            }
        }
        self.e.w(&format!("{tmp} }})"));
        Ok(())
    }

    fn new_array(&mut self, ty: &Type, sizes: &[Expr], init: Option<&[Expr]>, e: &Expr) -> R {
        let bytes = runtime_type_name(ty) == "Byte[]";
        match (init, sizes) {
            (Some(items), _) => {
                if bytes {
                    self.e.w("__bytes(");
                }
                self.list(items)?;
                if bytes {
                    self.e.w(")");
                }
                Ok(())
            }
            (None, [n]) => {
                self.e.w(if bytes {
                    "__new_bytes("
                } else {
                    "__new_array("
                });
                self.expr(n)?;
                self.e.w(")");
                Ok(())
            }
            _ => Err(unsupported("a multi-dimensional array", e.span)),
        }
    }

    fn list(&mut self, items: &[Expr]) -> R {
        self.e.w("[");
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                self.e.w(", ");
            }
            self.expr(it)?;
        }
        self.e.w("]");
        Ok(())
    }

    fn anonymous(&mut self, members: &[AnonMember], e: &Expr) -> R {
        let mut names = Vec::new();
        for m in members {
            let n = match (&m.name, &m.value.kind) {
                (Some(n), _) => n.name.clone(),
                (None, ExprKind::Name { name, .. } | ExprKind::Member { name, .. }) => {
                    name.name.clone()
                }
                _ => {
                    return Err(ExprError {
                        message: "an anonymous type member needs a name".into(),
                        span: e.span,
                    });
                }
            };
            names.push(string_literal(&n));
        }
        self.e.w(&format!("__anon([{}], [", names.join(", ")));
        for (i, m) in members.iter().enumerate() {
            if i > 0 {
                self.e.w(", ");
            }
            self.expr(&m.value)?;
        }
        self.e.w("])");
        Ok(())
    }

    /// What is statically known of an expression's type.
    pub(super) fn ty(&self, e: &Expr) -> Ty {
        match &e.kind {
            ExprKind::Literal(Literal::Int { .. }) => Ty::Int,
            ExprKind::Literal(Literal::Real { .. }) => Ty::Float,
            ExprKind::Literal(Literal::String(_)) | ExprKind::Interpolated(_) => Ty::Str,
            ExprKind::Literal(Literal::Bool(_)) => Ty::Bool,
            ExprKind::Literal(Literal::Char(_)) => Ty::Char,
            ExprKind::Name { name, .. } => self.local_ty(&name.name).unwrap_or(Ty::Unknown),
            ExprKind::Cast { ty, .. } => ty_of_type(ty),
            ExprKind::Checked { operand, .. } => self.ty(operand),
            ExprKind::Unary {
                op: UnaryOp::Not, ..
            }
            | ExprKind::Is { .. } => Ty::Bool,
            ExprKind::Unary { operand, .. } => self.ty(operand),
            ExprKind::Binary { op, left, right } => match op {
                BinaryOp::Lt
                | BinaryOp::Gt
                | BinaryOp::Le
                | BinaryOp::Ge
                | BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::And
                | BinaryOp::Or => Ty::Bool,
                BinaryOp::Add if self.ty(left) == Ty::Str || self.ty(right) == Ty::Str => Ty::Str,
                BinaryOp::Coalesce => Ty::Unknown,
                _ => match (self.ty(left), self.ty(right)) {
                    (Ty::Float, r) | (r, Ty::Float) if r.numeric() => Ty::Float,
                    (l, r) if l.numeric() && r.numeric() => Ty::Int,
                    _ => Ty::Unknown,
                },
            },
            ExprKind::Member { name, .. } if name.name == "Length" || name.name == "Count" => {
                Ty::Int
            }
            // `TimeSpan`'s totals, the only members of these names on the
            // types expressions may use: `(int)span.TotalSeconds` converts.
            ExprKind::Member { name, .. }
                if matches!(
                    name.name.as_str(),
                    "TotalDays"
                        | "TotalHours"
                        | "TotalMinutes"
                        | "TotalSeconds"
                        | "TotalMilliseconds"
                ) =>
            {
                Ty::Float
            }
            _ => Ty::Unknown,
        }
    }
}

fn is_numeric_name(t: &str) -> bool {
    matches!(
        t,
        "Int32"
            | "Int64"
            | "Int16"
            | "Byte"
            | "UInt32"
            | "UInt64"
            | "Double"
            | "Single"
            | "Decimal"
            | "Char"
    )
}

/// The static type a declared C# type gives.
pub(super) fn ty_of_type(ty: &Type) -> Ty {
    match runtime_type_name(ty).as_str() {
        "Int32" | "Int64" | "Int16" | "Byte" | "UInt32" | "UInt64" => Ty::Int,
        "Double" | "Single" | "Decimal" => Ty::Float,
        "String" => Ty::Str,
        "Boolean" => Ty::Bool,
        "Char" => Ty::Char,
        _ => Ty::Unknown,
    }
}

fn same_primitive(l: Ty, r: Ty) -> bool {
    (l.numeric() && r.numeric() && l != Ty::Char && r != Ty::Char) || (l == r && l != Ty::Unknown)
}
