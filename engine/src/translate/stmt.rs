//! Statements of `@{...}` blocks, and the hoisting of variables that C#
//! declares inside expressions (`out var x`, `is T x`).

use super::expr::ty_of_type;
use super::names::local;
use super::{Translator, Ty, unsupported};
use crate::expr::ExprError;
use crate::expr::ast::*;

type R = Result<(), ExprError>;

impl Translator {
    pub(super) fn statements(&mut self, stmts: &[Stmt]) -> R {
        // Local functions may be called before their declaration and call each
        // other (C#): declare them all first; each becomes a closure where it
        // stands, and closures share what they capture, so later assignments
        // (and the block's variables) are seen when they run.
        for s in stmts {
            if let StmtKind::LocalFunction(f) = &s.kind {
                self.declare(&f.name.name, Ty::Unknown);
                self.e.w(&format!("let {} = (); ", local(&f.name.name)));
            }
        }
        for s in stmts {
            self.stmt(s)?;
        }
        Ok(())
    }

    /// Declares (as `let x = ();`) the variables that the expressions of one
    /// statement introduce, so they outlive the expression as in C#.
    pub(super) fn hoist(&mut self, exprs: &[Expr]) {
        fn walk(e: &Expr, out: &mut Vec<String>) {
            match &e.kind {
                ExprKind::Declaration { name, .. } => out.push(name.name.clone()),
                ExprKind::Is { operand, pattern } => {
                    walk(operand, out);
                    match pattern.as_ref() {
                        Pattern::Declaration(_, n) | Pattern::Var(n) => out.push(n.name.clone()),
                        Pattern::Constant(c) => walk(c, out),
                        Pattern::Type(_) => {}
                    }
                }
                ExprKind::Lambda { .. } => {}
                ExprKind::Call { callee, args } => {
                    walk(callee, out);
                    args.iter().for_each(|a| walk(&a.value, out));
                }
                ExprKind::Member { target, .. } => walk(target, out),
                ExprKind::Index { target, args, .. } => {
                    walk(target, out);
                    args.iter().for_each(|a| walk(&a.value, out));
                }
                ExprKind::Unary { operand, .. }
                | ExprKind::Postfix { operand, .. }
                | ExprKind::Cast { operand, .. }
                | ExprKind::As { operand, .. }
                | ExprKind::Checked { operand, .. }
                | ExprKind::Throw(operand) => walk(operand, out),
                ExprKind::Binary { left, right, .. } => {
                    walk(left, out);
                    walk(right, out);
                }
                ExprKind::Assign { target, value, .. } => {
                    walk(target, out);
                    walk(value, out);
                }
                ExprKind::Conditional {
                    cond,
                    then,
                    otherwise,
                } => {
                    walk(cond, out);
                    walk(then, out);
                    walk(otherwise, out);
                }
                _ => {}
            }
        }
        let mut names = Vec::new();
        for e in exprs {
            walk(e, &mut names);
        }
        for n in names {
            if n != "_" && self.local_ty(&n).is_none() {
                self.declare(&n, Ty::Unknown);
                self.e.w(&format!("let {} = (); ", local(&n)));
            }
        }
    }

    /// A statement as a braced block (rhai requires braces on `if`/loops).
    fn braced(&mut self, s: &Stmt) -> R {
        self.e.w("{ ");
        self.push_scope();
        let r = match &s.kind {
            StmtKind::Block(b) => self.statements(&b.stmts),
            _ => self.stmt(s),
        };
        self.pop_scope();
        self.e.w(" }");
        r
    }

    fn stmt(&mut self, s: &Stmt) -> R {
        self.e.mark(s.span);
        match &s.kind {
            StmtKind::Empty => Ok(()),
            StmtKind::Block(_) | StmtKind::Checked { .. } => {
                let b = match &s.kind {
                    StmtKind::Checked { body, .. } => body,
                    StmtKind::Block(b) => b,
                    _ => return Ok(()),
                };
                self.e.w("{ ");
                self.push_scope();
                let r = self.statements(&b.stmts);
                self.pop_scope();
                self.e.w(" }\n");
                r
            }
            StmtKind::Local(decl) => self.local_decl(decl),
            StmtKind::LocalFunction(f) => {
                self.e.w(&format!("{} = ", local(&f.name.name)));
                self.lambda_fn(&f.params, &f.body)?;
                self.e.w(";\n");
                Ok(())
            }
            StmtKind::Expr(e) => {
                self.hoist(std::slice::from_ref(e));
                self.expr_stmt(e)?;
                self.e.w(";\n");
                Ok(())
            }
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.hoist(std::slice::from_ref(cond));
                self.e.w("if (");
                self.expr(cond)?;
                self.e.w(") ");
                self.braced(then)?;
                if let Some(o) = otherwise {
                    self.e.w(" else ");
                    if matches!(o.kind, StmtKind::If { .. }) {
                        self.e.w("{ ");
                        self.stmt(o)?;
                        self.e.w(" }");
                    } else {
                        self.braced(o)?;
                    }
                }
                self.e.w("\n");
                Ok(())
            }
            StmtKind::Foreach {
                ty,
                name,
                iter,
                body,
            } => {
                self.hoist(std::slice::from_ref(iter));
                self.push_scope();
                self.declare(&name.name, ty_of_type(ty));
                self.e.w(&format!("for {} in __iter(", local(&name.name)));
                self.expr(iter)?;
                self.e.w(") ");
                let r = self.braced(body);
                self.pop_scope();
                self.e.w("\n");
                r
            }
            StmtKind::For {
                init,
                cond,
                update,
                body,
            } => {
                // `{ init; let __first = true; loop { if !__first { update } __first = false; if !cond { break; } body } }`
                self.e.w("{ ");
                self.push_scope();
                match init {
                    Some(ForInit::Decl(d)) => self.local_decl(d)?,
                    Some(ForInit::Exprs(es)) => {
                        for e in es {
                            self.expr_stmt(e)?;
                            self.e.w("; ");
                        }
                    }
                    None => {}
                }
                let first = self.e.tmp();
                self.e
                    .w(&format!("let {first} = true; loop {{ if !{first} {{ "));
                for u in update {
                    self.expr_stmt(u)?;
                    self.e.w("; ");
                }
                self.e.w(&format!("}} {first} = false; "));
                if let Some(c) = cond {
                    self.e.w("if !(");
                    self.expr(c)?;
                    self.e.w(") { break; } ");
                }
                let r = self.braced(body);
                self.pop_scope();
                self.e.w(" } }\n");
                r
            }
            StmtKind::While { cond, body } => {
                self.e.w("while (");
                self.expr(cond)?;
                self.e.w(") ");
                self.braced(body)?;
                self.e.w("\n");
                Ok(())
            }
            StmtKind::DoWhile { body, cond } => {
                self.e.w("do ");
                self.braced(body)?;
                self.e.w(" while (");
                self.expr(cond)?;
                self.e.w(");\n");
                Ok(())
            }
            StmtKind::Break => {
                self.e.w("break;\n");
                Ok(())
            }
            StmtKind::Continue => {
                self.e.w("continue;\n");
                Ok(())
            }
            StmtKind::Return(e) => {
                if let Some(e) = e {
                    self.hoist(std::slice::from_ref(e));
                    self.e.w("return ");
                    self.expr(e)?;
                    self.e.w(";\n");
                } else {
                    self.e.w("return;\n");
                }
                Ok(())
            }
            StmtKind::Throw(Some(e)) => {
                self.e.w("__throw(");
                self.expr(e)?;
                self.e.w(");\n");
                Ok(())
            }
            StmtKind::Throw(None) => {
                if self.local_ty("__err").is_none() {
                    return Err(unsupported("`throw;` outside a `catch`", s.span));
                }
                self.e.w("throw __err;\n");
                Ok(())
            }
            StmtKind::Try {
                body,
                catches,
                finally,
            } => self.try_stmt(body, catches, finally.as_ref()),
            StmtKind::Using { resource, body } => {
                self.e.w("{ ");
                self.push_scope();
                match resource {
                    UsingResource::Decl(d) => self.local_decl(d)?,
                    UsingResource::Expr(e) => {
                        self.expr(e)?;
                        self.e.w("; ");
                    }
                }
                let r = self.braced(body);
                self.pop_scope();
                self.e.w(" }\n");
                r
            }
            StmtKind::Switch { subject, sections } => self.switch(subject, sections),
        }
    }

    fn lambda_fn(&mut self, params: &[Param], body: &Body) -> R {
        let e = Expr {
            kind: ExprKind::Lambda {
                params: params.to_vec(),
                body: body.clone(),
            },
            span: match body {
                Body::Expr(e) => e.span,
                Body::Block(b) => b.span,
            },
        };
        self.expr(&e)
    }

    fn local_decl(&mut self, d: &LocalDecl) -> R {
        let declared = ty_of_type(&d.ty);
        let is_var = matches!(&d.ty.kind, TypeKind::Named(segs) if segs.len() == 1 && segs[0].name.name == "var");
        for decl in &d.declarators {
            if let Some(init) = &decl.init {
                self.hoist(std::slice::from_ref(init));
            }
            let ty = if is_var {
                decl.init.as_ref().map_or(Ty::Unknown, |i| self.ty(i))
            } else {
                declared
            };
            self.e.mark(decl.name.span);
            self.e.w(&format!("let {} = ", local(&decl.name.name)));
            match &decl.init {
                Some(init) => self.expr(init)?,
                None => self.e.w(match declared {
                    Ty::Int => "0",
                    Ty::Float => "0.0",
                    Ty::Bool => "false",
                    _ => "()",
                }),
            }
            self.e.w(";\n");
            self.declare(&decl.name.name, ty);
        }
        Ok(())
    }

    /// An expression used as a statement: assignments and `++`/`--` are statements in rhai.
    fn expr_stmt(&mut self, e: &Expr) -> R {
        match &e.kind {
            ExprKind::Assign { op, target, value } => {
                self.assign_target(target)?;
                let t = self.ty(target);
                match op {
                    AssignOp::Assign => {
                        self.e.w(" = ");
                        self.expr(value)
                    }
                    AssignOp::Add if !(t.numeric() && self.ty(value).numeric()) => {
                        self.e.w(" = __add(");
                        self.expr(target)?;
                        self.e.w(", ");
                        self.expr(value)?;
                        self.e.w(")");
                        Ok(())
                    }
                    AssignOp::Coalesce => {
                        self.e.w(" = (");
                        self.expr(target)?;
                        self.e.w(" ?? ");
                        self.expr(value)?;
                        self.e.w(")");
                        Ok(())
                    }
                    op => {
                        let sym = match op {
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
                            AssignOp::Assign | AssignOp::Coalesce => "=",
                        };
                        self.e.w(&format!(" {sym} "));
                        self.expr(value)
                    }
                }
            }
            ExprKind::Postfix { op, operand } => {
                self.assign_target(operand)?;
                self.e.w(if *op == PostfixOp::Inc {
                    " += 1"
                } else {
                    " -= 1"
                });
                Ok(())
            }
            ExprKind::Unary {
                op: op @ (UnaryOp::PreInc | UnaryOp::PreDec),
                operand,
            } => {
                self.assign_target(operand)?;
                self.e.w(if *op == UnaryOp::PreInc {
                    " += 1"
                } else {
                    " -= 1"
                });
                Ok(())
            }
            _ => self.expr(e),
        }
    }

    fn assign_target(&mut self, target: &Expr) -> R {
        match &target.kind {
            ExprKind::Name { .. }
            | ExprKind::Member {
                conditional: false, ..
            }
            | ExprKind::Index {
                conditional: false, ..
            } => self.expr(target),
            _ => Err(unsupported("assigning to this", target.span)),
        }
    }

    fn try_stmt(&mut self, body: &Block, catches: &[Catch], finally: Option<&Block>) -> R {
        self.e.w("try { ");
        self.push_scope();
        self.statements(&body.stmts)?;
        self.pop_scope();
        self.e.w(" } catch (__err) { ");
        self.push_scope();
        self.declare("__err", Ty::Unknown);
        for (i, c) in catches.iter().enumerate() {
            if i > 0 {
                self.e.w(" else ");
            }
            let ty = c.ty.as_ref().map(super::names::runtime_type_name);
            let mut cond = match ty.as_deref() {
                None | Some("Exception") => "true".to_owned(),
                Some(t) => format!("__catches(__err, {})", super::emit::string_literal(t)),
            };
            if c.filter.is_some() {
                cond = format!(
                    "{cond} && {{ {}; ",
                    c.name
                        .as_ref()
                        .map_or(String::new(), |n| format!("let {} = __err", local(&n.name)))
                );
            }
            self.e.w(&format!("if {cond}"));
            self.push_scope();
            if let Some(f) = &c.filter {
                if let Some(n) = &c.name {
                    self.declare(&n.name, Ty::Unknown);
                }
                self.expr(f)?;
                self.e.w(" }");
            }
            self.e.w(" { ");
            if let Some(n) = &c.name {
                self.declare(&n.name, Ty::Unknown);
                self.e.w(&format!("let {} = __err; ", local(&n.name)));
            }
            self.statements(&c.body.stmts)?;
            self.pop_scope();
            self.e.w(" }");
        }
        if catches.is_empty() {
            self.e.w("throw __err;");
        } else {
            self.e.w(" else { throw __err; }");
        }
        self.pop_scope();
        self.e.w(" }\n");
        if let Some(f) = finally {
            // Runs after normal completion and after a caught exception
            // (not when the block returns or rethrows).
            self.e.w("{ ");
            self.push_scope();
            self.statements(&f.stmts)?;
            self.pop_scope();
            self.e.w(" }\n");
        }
        Ok(())
    }

    fn switch(&mut self, subject: &Expr, sections: &[SwitchSection]) -> R {
        let tmp = self.e.tmp();
        self.e.w(&format!("{{ let {tmp} = "));
        self.expr(subject)?;
        self.e.w("; ");
        let mut default: Option<&SwitchSection> = None;
        let mut first = true;
        for sec in sections {
            let cases: Vec<&SwitchLabel> = sec
                .labels
                .iter()
                .filter(|l| matches!(l, SwitchLabel::Case { .. }))
                .collect();
            if cases.is_empty() {
                default = Some(sec);
                continue;
            }
            self.e.w(if first { "if " } else { " else if " });
            first = false;
            for (i, l) in cases.iter().enumerate() {
                if i > 0 {
                    self.e.w(" || ");
                }
                let SwitchLabel::Case { pattern, guard } = l else {
                    continue;
                };
                match pattern.as_ref() {
                    Pattern::Constant(c) => {
                        self.e.w(&format!("(__eq({tmp}, "));
                        self.expr(c)?;
                        self.e.w(")");
                    }
                    Pattern::Type(t) => self.e.w(&format!(
                        "(__is({tmp}, {})",
                        super::emit::string_literal(&super::names::runtime_type_name(t))
                    )),
                    _ => {
                        return Err(unsupported(
                            "this `case` pattern",
                            sec.stmts.first().map_or(subject.span, |s| s.span),
                        ));
                    }
                }
                if let Some(g) = guard {
                    self.e.w(" && ");
                    self.expr(g)?;
                }
                self.e.w(")");
            }
            self.e.w(" { ");
            self.section_body(&sec.stmts)?;
            self.e.w(" }");
        }
        if let Some(d) = default {
            if first {
                self.e.w("{ ");
            } else {
                self.e.w(" else { ");
            }
            self.section_body(&d.stmts)?;
            self.e.w(" }");
        }
        self.e.w(" }\n");
        Ok(())
    }

    /// A switch section's statements without the `break` that ends it.
    fn section_body(&mut self, stmts: &[Stmt]) -> R {
        let body = match stmts.last() {
            Some(Stmt {
                kind: StmtKind::Break,
                ..
            }) => &stmts[..stmts.len() - 1],
            _ => stmts,
        };
        self.push_scope();
        let r = self.statements(body);
        self.pop_scope();
        r
    }
}
