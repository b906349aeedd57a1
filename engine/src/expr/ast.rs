//! The syntax tree of a C# policy expression or statement block.
//!
//! Every node carries a [`Span`] into the policy file (not into the
//! expression text), so later stages can point at the right line and column.
//! The tree keeps what C# wrote (casts, `?.`, named arguments, initializers);
//! what it means is for the translator.

use crate::source::Span;

/// A name as written, with its span (`@class` is stored as `class`).
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Type {
    pub kind: TypeKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// `int`, `string`, `object`, ...
    Predefined(String),
    /// `JObject`, `System.Text.Encoding`, `List<string>`, `var`.
    Named(Vec<TypeSegment>),
    /// `int?`
    Nullable(Box<Type>),
    /// `string[]` (rank 1), `int[,]` (rank 2).
    Array { element: Box<Type>, rank: usize },
}

/// One dotted part of a type name, with its type arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeSegment {
    pub name: Ident,
    pub args: Vec<Type>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Bool(bool),
    Null,
    Int {
        value: u64,
        suffix: IntSuffix,
    },
    /// The digits as written (without `_` and suffix), so `decimal` keeps its precision.
    Real {
        text: String,
        suffix: RealSuffix,
    },
    /// A regular or verbatim string, decoded.
    String(String),
    Char(char),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntSuffix {
    None,
    U,
    L,
    UL,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RealSuffix {
    None,
    F,
    D,
    M,
}

/// A part of an interpolated string.
#[derive(Clone, Debug, PartialEq)]
pub enum InterpPart {
    /// Literal text, decoded (`{{`/`}}` as `{`/`}`; a `{{name}}` named value kept as written).
    Text(String),
    /// `{expr[,align][:format]}`
    Hole {
        expr: Box<Expr>,
        align: Option<Box<Expr>>,
        format: Option<String>,
        span: Span,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Plus,
    Neg,
    Not,
    BitNot,
    PreInc,
    PreDec,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostfixOp {
    Inc,
    Dec,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Mul,
    Div,
    Rem,
    Add,
    Sub,
    Shl,
    Shr,
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    Ne,
    BitAnd,
    BitXor,
    BitOr,
    And,
    Or,
    Coalesce,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    Assign,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Coalesce,
}

/// `out`, `ref` or `in` before an argument or parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Modifier {
    Out,
    Ref,
    In,
    Params,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// `name: value`
    pub name: Option<Ident>,
    pub modifier: Option<Modifier>,
    pub value: Expr,
    pub span: Span,
}

/// The right side of `is`.
#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    /// `x is string`
    Type(Type),
    /// `x is JObject o`
    Declaration(Type, Ident),
    /// `x is null`, `x is 3`
    Constant(Expr),
    /// `case var x:`
    Var(Ident),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub modifier: Option<Modifier>,
    pub ty: Option<Type>,
    pub name: Ident,
    pub default: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Expr(Box<Expr>),
    Block(Block),
}

/// A member of an object initializer: `Name = value` or `[key] = value`.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberInit {
    pub target: InitTarget,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum InitTarget {
    Member(Ident),
    Index(Vec<Arg>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Initializer {
    /// `{ A = 1, ["k"] = 2 }`
    Object(Vec<MemberInit>),
    /// `{ 1, 2 }` or `{ {"k", v} }` (an element list is an [`ExprKind::InitList`]).
    Collection(Vec<Expr>),
}

/// A member of an anonymous object: `name = value`, or just `value` (name inferred).
#[derive(Clone, Debug, PartialEq)]
pub struct AnonMember {
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// A simple name, maybe generic: `x`, `List<int>` (in `List<int>.Empty`), `F<T>` in `F<T>()`.
    Name {
        name: Ident,
        args: Vec<Type>,
    },
    /// A predefined type used as a value: `int` in `int.Parse(..)`.
    PredefinedType(String),
    /// `{{name}}` outside a string: a named value substituted before compiling.
    NamedValue(String),
    Interpolated(Vec<InterpPart>),
    /// `a.b`, `a?.b`, `a.As<JObject>`
    Member {
        target: Box<Expr>,
        name: Ident,
        args: Vec<Type>,
        conditional: bool,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    /// `a[i]`, `a?[i]`
    Index {
        target: Box<Expr>,
        args: Vec<Arg>,
        conditional: bool,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Postfix {
        op: PostfixOp,
        operand: Box<Expr>,
    },
    Cast {
        ty: Type,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Is {
        operand: Box<Expr>,
        pattern: Box<Pattern>,
    },
    As {
        operand: Box<Expr>,
        ty: Type,
    },
    Conditional {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Assign {
        op: AssignOp,
        target: Box<Expr>,
        value: Box<Expr>,
    },
    Lambda {
        params: Vec<Param>,
        body: Body,
    },
    /// `new T(args) { init }`; `args` is `None` for `new T { init }`.
    New {
        ty: Type,
        args: Option<Vec<Arg>>,
        init: Option<Initializer>,
    },
    /// `new T[n]`, `new T[] { .. }`: `ty` is the array type; `sizes` the given lengths.
    NewArray {
        ty: Type,
        sizes: Vec<Expr>,
        init: Option<Vec<Expr>>,
    },
    /// `new [] { .. }`
    NewImplicitArray {
        rank: usize,
        init: Vec<Expr>,
    },
    /// `new { a = 1, b }`
    NewAnonymous(Vec<AnonMember>),
    /// `{ a, b }`: an array initializer, or an element of a collection initializer.
    InitList(Vec<Expr>),
    TypeOf(Type),
    /// `default(T)` or `default`
    Default(Option<Type>),
    NameOf(Box<Expr>),
    Checked {
        checked: bool,
        operand: Box<Expr>,
    },
    /// `throw e` in expression position (`x ?? throw new E()`).
    Throw(Box<Expr>),
    /// `out var x`, `out string s` in an argument list.
    Declaration {
        ty: Type,
        name: Ident,
    },
    This,
    Base,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Declarator {
    pub name: Ident,
    pub init: Option<Expr>,
}

/// `T a = 1, b;` (also `var`, `const`).
#[derive(Clone, Debug, PartialEq)]
pub struct LocalDecl {
    pub is_const: bool,
    pub ty: Type,
    pub declarators: Vec<Declarator>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Catch {
    pub ty: Option<Type>,
    pub name: Option<Ident>,
    /// `when (cond)`
    pub filter: Option<Expr>,
    pub body: Block,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ForInit {
    Decl(LocalDecl),
    Exprs(Vec<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum UsingResource {
    Decl(LocalDecl),
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub enum SwitchLabel {
    Case {
        pattern: Box<Pattern>,
        guard: Option<Expr>,
    },
    Default,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SwitchSection {
    pub labels: Vec<SwitchLabel>,
    pub stmts: Vec<Stmt>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LocalFunction {
    pub ret: Type,
    pub name: Ident,
    pub params: Vec<Param>,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    Empty,
    Block(Block),
    Local(LocalDecl),
    LocalFunction(LocalFunction),
    Expr(Expr),
    If {
        cond: Expr,
        then: Box<Stmt>,
        otherwise: Option<Box<Stmt>>,
    },
    Foreach {
        ty: Type,
        name: Ident,
        iter: Expr,
        body: Box<Stmt>,
    },
    For {
        init: Option<ForInit>,
        cond: Option<Expr>,
        update: Vec<Expr>,
        body: Box<Stmt>,
    },
    While {
        cond: Expr,
        body: Box<Stmt>,
    },
    DoWhile {
        body: Box<Stmt>,
        cond: Expr,
    },
    Break,
    Continue,
    Return(Option<Expr>),
    Throw(Option<Expr>),
    Try {
        body: Block,
        catches: Vec<Catch>,
        finally: Option<Block>,
    },
    Using {
        resource: UsingResource,
        body: Box<Stmt>,
    },
    Switch {
        subject: Expr,
        sections: Vec<SwitchSection>,
    },
    /// `checked { }` / `unchecked { }`
    Checked {
        checked: bool,
        body: Block,
    },
}
