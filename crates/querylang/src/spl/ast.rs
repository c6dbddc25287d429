//! The SPL syntax tree. Every node keeps the byte span it came from, so planning errors (an
//! unknown function, a regex that does not compile) point at the place in the query.

use super::lexer::Span;

/// A field name as written (it may hold `*` wildcards where a command allows them).
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// A search value: the text after `field=`, or a bare term.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchValue {
    pub text: String,
    pub quoted: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A search expression (the first command, `| search`, transaction's startswith/endswith).
#[derive(Clone, Debug, PartialEq)]
pub enum Search {
    And(Box<Search>, Box<Search>),
    Or(Box<Search>, Box<Search>),
    Not(Box<Search>),
    /// A bare word or quoted phrase, matched against every text field.
    Term(SearchValue),
    Cmp {
        field: Name,
        op: CmpOp,
        value: SearchValue,
    },
    In {
        field: Name,
        values: Vec<SearchValue>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    Xor,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    Add,
    Sub,
    Concat,
    Mul,
    Div,
    Mod,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

/// An eval expression (`eval`, `where`, stats' `eval(...)` is not supported).
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Field(Name),
    Str(String, Span),
    Int(i64, Span),
    Float(f64, Span),
    Unary { op: UnOp, expr: Box<Expr>, span: Span },
    Binary { op: BinOp, left: Box<Expr>, right: Box<Expr>, span: Span },
    In { expr: Box<Expr>, list: Vec<Expr>, span: Span },
    Call { name: String, args: Vec<Expr>, span: Span },
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Field(n) => n.span,
            Expr::Str(_, s) | Expr::Int(_, s) | Expr::Float(_, s) => *s,
            Expr::Unary { span, .. } | Expr::Binary { span, .. } | Expr::In { span, .. } | Expr::Call { span, .. } => *span,
        }
    }
}

/// One `stats` aggregation: `dc(User) as users`.
#[derive(Clone, Debug, PartialEq)]
pub struct Agg {
    /// The function as written (`count`, `dc`, `distinct_count`, `values`, ...).
    pub func: String,
    pub arg: Option<Name>,
    pub alias: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    pub field: Name,
    pub descending: bool,
    /// `num(x)`, `str(x)`, `auto(x)` or none.
    pub how: SortHow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortHow {
    Auto,
    Num,
    Str,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TopArgs {
    pub limit: usize,
    pub fields: Vec<Name>,
    pub by: Vec<Name>,
    pub countfield: String,
    pub percentfield: String,
    pub showcount: bool,
    pub showperc: bool,
}

/// `startswith=` / `endswith=`: a quoted search, or `eval(...)`.
#[derive(Clone, Debug, PartialEq)]
pub enum Boundary {
    Search(Search),
    Eval(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct TransactionArgs {
    pub fields: Vec<Name>,
    pub startswith: Option<Boundary>,
    pub endswith: Option<Boundary>,
    /// Seconds.
    pub maxspan: Option<f64>,
    pub maxpause: Option<f64>,
    pub maxevents: Option<usize>,
    pub keepevicted: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RexMode {
    /// Named groups become fields; `max_match` > 1 or 0 (all) makes multivalue fields.
    Extract { max_match: usize },
    /// `mode=sed "s/regex/replacement/flags"`.
    Sed { replacement: String, global: bool },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Search(Option<Search>),
    Where(Expr),
    Eval(Vec<(Name, Expr)>),
    Stats { aggs: Vec<Agg>, by: Vec<Name> },
    Table(Vec<Name>),
    Fields { remove: bool, names: Vec<Name> },
    Rename(Vec<(Name, Name)>),
    Sort { keys: Vec<SortKey>, limit: Option<usize> },
    Head(usize),
    Tail(usize),
    Dedup { limit: usize, fields: Vec<Name>, keepempty: bool, sortby: Vec<SortKey> },
    Rex { field: Name, regex: String, regex_span: Span, mode: RexMode },
    Top(TopArgs),
    Rare(TopArgs),
    Transaction(Box<TransactionArgs>),
    Xmlkv { field: Option<Name> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    pub command: Command,
    /// The command's name (or the start of the first search).
    pub span: Span,
}
