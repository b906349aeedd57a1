//! A compact S-expression form of the tree, for tests and debugging.
//!
//! `a.b(1, x: 2)` prints as `(call (. a b) 1 (: x 2))`; types print as C#
//! writes them (`List<string>`, `int?`, `string[]`); spans are left out.

use std::fmt::{self, Display, Formatter, Write};

use super::ast::*;

fn list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for i in items {
        write!(f, " {i}")?;
    }
    Ok(())
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

fn type_args(f: &mut Formatter<'_>, args: &[Type]) -> fmt::Result {
    if args.is_empty() {
        return Ok(());
    }
    f.write_char('<')?;
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{a}")?;
    }
    f.write_char('>')
}

impl Display for Type {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TypeKind::Predefined(n) => f.write_str(n),
            TypeKind::Named(segs) => {
                for (i, s) in segs.iter().enumerate() {
                    if i > 0 {
                        f.write_char('.')?;
                    }
                    write!(f, "{}", s.name)?;
                    type_args(f, &s.args)?;
                }
                Ok(())
            }
            TypeKind::Nullable(t) => write!(f, "{t}?"),
            TypeKind::Array { element, rank } => {
                write!(f, "{element}[{}]", ",".repeat(rank.saturating_sub(1)))
            }
        }
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Null => f.write_str("null"),
            Literal::Int { value, suffix } => {
                let s = match suffix {
                    IntSuffix::None => "",
                    IntSuffix::U => "u",
                    IntSuffix::L => "L",
                    IntSuffix::UL => "UL",
                };
                write!(f, "{value}{s}")
            }
            Literal::Real { text, suffix } => {
                let s = match suffix {
                    RealSuffix::None => "",
                    RealSuffix::F => "f",
                    RealSuffix::D => "d",
                    RealSuffix::M => "m",
                };
                write!(f, "{text}{s}")
            }
            Literal::String(s) => write!(f, "{s:?}"),
            Literal::Char(c) => write!(f, "{c:?}"),
        }
    }
}

impl Display for Arg {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let m = match self.modifier {
            Some(Modifier::Out) => Some("out"),
            Some(Modifier::Ref) => Some("ref"),
            Some(Modifier::In) => Some("in"),
            Some(Modifier::Params) => Some("params"),
            None => None,
        };
        let value = match m {
            Some(m) => format!("({m} {})", self.value),
            None => self.value.to_string(),
        };
        match &self.name {
            Some(n) => write!(f, "(: {n} {value})"),
            None => f.write_str(&value),
        }
    }
}

impl Display for Pattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Type(t) => write!(f, "{t}"),
            Pattern::Declaration(t, n) => write!(f, "({t} {n})"),
            Pattern::Constant(e) => write!(f, "{e}"),
            Pattern::Var(n) => write!(f, "(var {n})"),
        }
    }
}

impl Display for Param {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let m = match self.modifier {
            Some(Modifier::Out) => "out ",
            Some(Modifier::Ref) => "ref ",
            Some(Modifier::In) => "in ",
            Some(Modifier::Params) => "params ",
            None => "",
        };
        match (&self.ty, &self.default) {
            (None, _) => write!(f, "{m}{}", self.name),
            (Some(t), None) => write!(f, "({m}{t} {})", self.name),
            (Some(t), Some(d)) => write!(f, "({m}{t} {} {d})", self.name),
        }
    }
}

impl Display for Body {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Body::Expr(e) => write!(f, "{e}"),
            Body::Block(b) => write!(f, "{b}"),
        }
    }
}

fn unary(op: UnaryOp) -> &'static str {
    match op {
        UnaryOp::Plus => "+",
        UnaryOp::Neg => "-",
        UnaryOp::Not => "!",
        UnaryOp::BitNot => "~",
        UnaryOp::PreInc => "++",
        UnaryOp::PreDec => "--",
    }
}

pub fn binary(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Rem => "%",
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Shl => "<<",
        BinaryOp::Shr => ">>",
        BinaryOp::Lt => "<",
        BinaryOp::Gt => ">",
        BinaryOp::Le => "<=",
        BinaryOp::Ge => ">=",
        BinaryOp::Eq => "==",
        BinaryOp::Ne => "!=",
        BinaryOp::BitAnd => "&",
        BinaryOp::BitXor => "^",
        BinaryOp::BitOr => "|",
        BinaryOp::And => "&&",
        BinaryOp::Or => "||",
        BinaryOp::Coalesce => "??",
    }
}

fn assign(op: AssignOp) -> &'static str {
    match op {
        AssignOp::Assign => "=",
        AssignOp::Add => "+=",
        AssignOp::Sub => "-=",
        AssignOp::Mul => "*=",
        AssignOp::Div => "/=",
        AssignOp::Rem => "%=",
        AssignOp::BitAnd => "&=",
        AssignOp::BitOr => "|=",
        AssignOp::BitXor => "^=",
        AssignOp::Shl => "<<=",
        AssignOp::Shr => ">>=",
        AssignOp::Coalesce => "??=",
    }
}

impl Display for Initializer {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Initializer::Object(members) => {
                f.write_str("{obj")?;
                for m in members {
                    match &m.target {
                        InitTarget::Member(n) => write!(f, " (= {n} {})", m.value)?,
                        InitTarget::Index(args) => {
                            f.write_str(" (= [")?;
                            for (i, a) in args.iter().enumerate() {
                                write!(f, "{}{a}", if i > 0 { " " } else { "" })?;
                            }
                            write!(f, "] {})", m.value)?;
                        }
                    }
                }
                f.write_char('}')
            }
            Initializer::Collection(items) => {
                f.write_str("{coll")?;
                list(f, items)?;
                f.write_char('}')
            }
        }
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(l) => write!(f, "{l}"),
            ExprKind::Name { name, args } => {
                write!(f, "{name}")?;
                type_args(f, args)
            }
            ExprKind::PredefinedType(t) => f.write_str(t),
            ExprKind::NamedValue(n) => write!(f, "{{{{{n}}}}}"),
            ExprKind::Interpolated(parts) => {
                f.write_str("(interp")?;
                for p in parts {
                    match p {
                        InterpPart::Text(s) => write!(f, " {s:?}")?,
                        InterpPart::Hole {
                            expr,
                            align,
                            format,
                            ..
                        } => {
                            write!(f, " (hole {expr}")?;
                            if let Some(a) = align {
                                write!(f, " (align {a})")?;
                            }
                            if let Some(fm) = format {
                                write!(f, " (format {fm:?})")?;
                            }
                            f.write_char(')')?;
                        }
                    }
                }
                f.write_char(')')
            }
            ExprKind::Member {
                target,
                name,
                args,
                conditional,
            } => {
                write!(
                    f,
                    "({} {target} {name}",
                    if *conditional { "?." } else { "." }
                )?;
                type_args(f, args)?;
                f.write_char(')')
            }
            ExprKind::Call { callee, args } => {
                write!(f, "(call {callee}")?;
                list(f, args)?;
                f.write_char(')')
            }
            ExprKind::Index {
                target,
                args,
                conditional,
            } => {
                write!(f, "({} {target}", if *conditional { "?[]" } else { "[]" })?;
                list(f, args)?;
                f.write_char(')')
            }
            ExprKind::Unary { op, operand } => write!(f, "({} {operand})", unary(*op)),
            ExprKind::Postfix { op, operand } => {
                write!(
                    f,
                    "(post{} {operand})",
                    if *op == PostfixOp::Inc { "++" } else { "--" }
                )
            }
            ExprKind::Cast { ty, operand } => write!(f, "(cast {ty} {operand})"),
            ExprKind::Binary { op, left, right } => write!(f, "({} {left} {right})", binary(*op)),
            ExprKind::Is { operand, pattern } => write!(f, "(is {operand} {pattern})"),
            ExprKind::As { operand, ty } => write!(f, "(as {operand} {ty})"),
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => write!(f, "(? {cond} {then} {otherwise})"),
            ExprKind::Assign { op, target, value } => {
                write!(f, "({} {target} {value})", assign(*op))
            }
            ExprKind::Lambda { params, body } => {
                f.write_str("(lambda (")?;
                for (i, p) in params.iter().enumerate() {
                    write!(f, "{}{p}", if i > 0 { " " } else { "" })?;
                }
                write!(f, ") {body})")
            }
            ExprKind::New { ty, args, init } => {
                write!(f, "(new {ty}")?;
                if let Some(args) = args {
                    f.write_str(" (")?;
                    for (i, a) in args.iter().enumerate() {
                        write!(f, "{}{a}", if i > 0 { " " } else { "" })?;
                    }
                    f.write_char(')')?;
                }
                if let Some(init) = init {
                    write!(f, " {init}")?;
                }
                f.write_char(')')
            }
            ExprKind::NewArray { ty, sizes, init } => {
                write!(f, "(new-array {ty}")?;
                list(f, sizes)?;
                if let Some(init) = init {
                    f.write_str(" {")?;
                    for (i, e) in init.iter().enumerate() {
                        write!(f, "{}{e}", if i > 0 { " " } else { "" })?;
                    }
                    f.write_char('}')?;
                }
                f.write_char(')')
            }
            ExprKind::NewImplicitArray { rank, init } => {
                write!(f, "(new-array [{}]", ",".repeat(rank.saturating_sub(1)))?;
                list(f, init)?;
                f.write_char(')')
            }
            ExprKind::NewAnonymous(members) => {
                f.write_str("(new-anon")?;
                for m in members {
                    match &m.name {
                        Some(n) => write!(f, " (= {n} {})", m.value)?,
                        None => write!(f, " {}", m.value)?,
                    }
                }
                f.write_char(')')
            }
            ExprKind::InitList(items) => {
                f.write_char('{')?;
                for (i, e) in items.iter().enumerate() {
                    write!(f, "{}{e}", if i > 0 { " " } else { "" })?;
                }
                f.write_char('}')
            }
            ExprKind::TypeOf(t) => write!(f, "(typeof {t})"),
            ExprKind::Default(Some(t)) => write!(f, "(default {t})"),
            ExprKind::Default(None) => f.write_str("default"),
            ExprKind::NameOf(e) => write!(f, "(nameof {e})"),
            ExprKind::Checked { checked, operand } => {
                write!(
                    f,
                    "({} {operand})",
                    if *checked { "checked" } else { "unchecked" }
                )
            }
            ExprKind::Throw(e) => write!(f, "(throw {e})"),
            ExprKind::Declaration { ty, name } => write!(f, "(decl {ty} {name})"),
            ExprKind::This => f.write_str("this"),
            ExprKind::Base => f.write_str("base"),
        }
    }
}

impl Display for Block {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("(block")?;
        list(f, &self.stmts)?;
        f.write_char(')')
    }
}

impl Display for LocalDecl {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "({} {}",
            if self.is_const { "const" } else { "let" },
            self.ty
        )?;
        for d in &self.declarators {
            match &d.init {
                Some(e) => write!(f, " ({} {e})", d.name)?,
                None => write!(f, " {}", d.name)?,
            }
        }
        f.write_char(')')
    }
}

fn opt<T: Display>(o: &Option<T>) -> String {
    o.as_ref()
        .map_or_else(|| "_".to_owned(), ToString::to_string)
}

impl Display for Stmt {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            StmtKind::Empty => f.write_str("(empty)"),
            StmtKind::Block(b) => write!(f, "{b}"),
            StmtKind::Local(d) => write!(f, "{d}"),
            StmtKind::LocalFunction(lf) => {
                write!(f, "(fn {} {} (", lf.ret, lf.name)?;
                for (i, p) in lf.params.iter().enumerate() {
                    write!(f, "{}{p}", if i > 0 { " " } else { "" })?;
                }
                write!(f, ") {})", lf.body)
            }
            StmtKind::Expr(e) => write!(f, "{e}"),
            StmtKind::If {
                cond,
                then,
                otherwise: Some(o),
            } => write!(f, "(if {cond} {then} {o})"),
            StmtKind::If {
                cond,
                then,
                otherwise: None,
            } => write!(f, "(if {cond} {then})"),
            StmtKind::Foreach {
                ty,
                name,
                iter,
                body,
            } => write!(f, "(foreach ({ty} {name}) {iter} {body})"),
            StmtKind::For {
                init,
                cond,
                update,
                body,
            } => {
                let init = match init {
                    Some(ForInit::Decl(d)) => d.to_string(),
                    Some(ForInit::Exprs(es)) => es
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                    None => "_".into(),
                };
                let update = update
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ");
                write!(f, "(for {init} {} ({update}) {body})", opt(cond))
            }
            StmtKind::While { cond, body } => write!(f, "(while {cond} {body})"),
            StmtKind::DoWhile { body, cond } => write!(f, "(do {body} {cond})"),
            StmtKind::Break => f.write_str("(break)"),
            StmtKind::Continue => f.write_str("(continue)"),
            StmtKind::Return(Some(e)) => write!(f, "(return {e})"),
            StmtKind::Return(None) => f.write_str("(return)"),
            StmtKind::Throw(Some(e)) => write!(f, "(throw {e})"),
            StmtKind::Throw(None) => f.write_str("(throw)"),
            StmtKind::Try {
                body,
                catches,
                finally,
            } => {
                write!(f, "(try {body}")?;
                for c in catches {
                    write!(f, " (catch {} {}", opt(&c.ty), opt(&c.name))?;
                    if let Some(w) = &c.filter {
                        write!(f, " (when {w})")?;
                    }
                    write!(f, " {})", c.body)?;
                }
                if let Some(fin) = finally {
                    write!(f, " (finally {fin})")?;
                }
                f.write_char(')')
            }
            StmtKind::Using { resource, body } => match resource {
                UsingResource::Decl(d) => write!(f, "(using {d} {body})"),
                UsingResource::Expr(e) => write!(f, "(using {e} {body})"),
            },
            StmtKind::Checked { checked, body } => {
                write!(
                    f,
                    "({} {body})",
                    if *checked { "checked" } else { "unchecked" }
                )
            }
            StmtKind::Switch { subject, sections } => {
                write!(f, "(switch {subject}")?;
                for s in sections {
                    f.write_str(" (")?;
                    for (i, l) in s.labels.iter().enumerate() {
                        if i > 0 {
                            f.write_char(' ')?;
                        }
                        match l {
                            SwitchLabel::Default => f.write_str("default")?,
                            SwitchLabel::Case {
                                pattern,
                                guard: Some(g),
                            } => write!(f, "(case {pattern} (when {g}))")?,
                            SwitchLabel::Case {
                                pattern,
                                guard: None,
                            } => write!(f, "(case {pattern})")?,
                        }
                    }
                    list(f, &s.stmts)?;
                    f.write_char(')')?;
                }
                f.write_char(')')
            }
        }
    }
}
