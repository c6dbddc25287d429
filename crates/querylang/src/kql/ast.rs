//! The KQL syntax tree. Every node keeps the byte range it was parsed from, so that planning
//! errors point at the offending text.

/// Byte offsets `[start, end)` into the query text.
pub type Span = (usize, usize);

#[derive(Debug, Clone)]
pub struct Query {
    pub lets: Vec<Let>,
    pub body: Pipeline,
}

#[derive(Debug, Clone)]
pub struct Let {
    pub name: String,
    pub span: Span,
    pub value: LetValue,
}

#[derive(Debug, Clone)]
pub enum LetValue {
    /// A scalar, or a bare name that may turn out to be a table (`let t = DeviceEvents;`).
    Scalar(Expr),
    Tabular(Pipeline),
}

/// `source | op | op ...`
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub source: Source,
    pub ops: Vec<(Op, Span)>,
}

#[derive(Debug, Clone)]
pub enum Source {
    Name(String, Span),
    Union(UnionSpec),
    Print(Vec<Item>),
    Datatable { columns: Vec<(String, Span, TypeName)>, values: Vec<Expr>, span: Span },
    Paren(Box<Pipeline>),
}

/// `[Name =] Expr` in project, extend, summarize, print.
#[derive(Debug, Clone)]
pub struct Item {
    pub name: Option<(String, Span)>,
    pub expr: Expr,
}

#[derive(Debug, Clone)]
pub struct SortKey {
    pub expr: Expr,
    pub asc: bool,
    pub nulls_first: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    InnerUnique,
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
    LeftAnti,
    LeftSemi,
    RightAnti,
    RightSemi,
}

impl JoinKind {
    pub fn parse(s: &str) -> Option<JoinKind> {
        Some(match s {
            "innerunique" => JoinKind::InnerUnique,
            "inner" => JoinKind::Inner,
            "leftouter" => JoinKind::LeftOuter,
            "rightouter" => JoinKind::RightOuter,
            "fullouter" | "outer" => JoinKind::FullOuter,
            "leftanti" | "anti" | "leftantisemi" => JoinKind::LeftAnti,
            "leftsemi" => JoinKind::LeftSemi,
            "rightanti" | "rightantisemi" => JoinKind::RightAnti,
            "rightsemi" => JoinKind::RightSemi,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub enum JoinKey {
    /// `on Name`: the same column on both sides.
    Same(String, Span),
    /// `$left.a == $right.b`
    Pair { left: (String, Span), right: (String, Span) },
}

#[derive(Debug, Clone)]
pub struct UnionSpec {
    pub inner: bool,
    pub withsource: Option<String>,
    pub args: Vec<UnionArg>,
}

#[derive(Debug, Clone)]
pub enum UnionArg {
    /// A table or `let` name, possibly with `*` wildcards.
    Pattern(String, Span),
    Query(Pipeline, Span),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseKind {
    Simple,
    Regex,
    Relaxed,
}

#[derive(Debug, Clone)]
pub enum ParsePart {
    Star,
    Lit(String),
    Col(String, Span, TypeName),
}

#[derive(Debug, Clone)]
pub struct MvItem {
    pub name: Option<(String, Span)>,
    pub expr: Expr,
    pub to: Option<TypeName>,
}

#[derive(Debug, Clone)]
pub enum Op {
    Where(Expr),
    Project(Vec<Item>),
    ProjectAway(Vec<(String, Span)>),
    ProjectKeep(Vec<(String, Span)>),
    ProjectRename(Vec<((String, Span), (String, Span))>),
    ProjectReorder(Vec<(String, Span)>),
    Extend(Vec<Item>),
    Summarize {
        aggs: Vec<Item>,
        by: Vec<Item>,
    },
    Count,
    Sort(Vec<SortKey>),
    Top {
        n: Expr,
        key: SortKey,
    },
    Take(Expr),
    /// Empty means `distinct *`.
    Distinct(Vec<Item>),
    Join {
        kind: JoinKind,
        right: Box<Pipeline>,
        right_span: Span,
        on: Vec<JoinKey>,
    },
    Union(UnionSpec),
    Parse {
        kind: ParseKind,
        flags: String,
        expr: Expr,
        parts: Vec<ParsePart>,
        keep_failed: bool,
    },
    MvExpand {
        bag_as_array: bool,
        index: Option<String>,
        items: Vec<MvItem>,
        limit: Option<i64>,
    },
    Render(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TypeName {
    String,
    Long,
    Int,
    Real,
    Bool,
    DateTime,
    TimeSpan,
    Dynamic,
}

impl TypeName {
    pub fn parse(s: &str) -> Option<TypeName> {
        Some(match s {
            "string" => TypeName::String,
            "long" => TypeName::Long,
            "int" => TypeName::Int,
            "real" | "double" => TypeName::Real,
            "bool" | "boolean" => TypeName::Bool,
            "datetime" | "date" => TypeName::DateTime,
            "timespan" | "time" => TypeName::TimeSpan,
            "dynamic" => TypeName::Dynamic,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrOp {
    Contains,
    StartsWith,
    EndsWith,
    Has,
    HasPrefix,
    HasSuffix,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `=~`, `!~`: case-insensitive equality.
    EqCi,
    NeCi,
    And,
    Or,
    /// A string operator; `cs` is the `_cs` (case-sensitive) form, `negated` the `!` form.
    Str {
        op: StrOp,
        cs: bool,
        negated: bool,
    },
    /// `matches regex`
    Regex,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Name(String),
    Str(String),
    Long(i64),
    Real(f64),
    Bool(bool),
    /// Nanoseconds since the Unix epoch.
    DateTime(i64),
    /// Nanoseconds.
    TimeSpan(i64),
    Dynamic(serde_json::Value),
    /// A typed null such as `long(null)` or `datetime(null)`.
    Null(TypeName),
    /// `typeof(long)`, as an argument of `extract()`.
    TypeOf(TypeName),
    /// `*` as a function argument (`arg_max(Timestamp, *)`).
    Star,
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    In {
        lhs: Box<Expr>,
        items: Vec<Expr>,
        negated: bool,
        ci: bool,
    },
    InQuery {
        lhs: Box<Expr>,
        query: Box<Pipeline>,
        negated: bool,
        ci: bool,
    },
    HasAny {
        lhs: Box<Expr>,
        items: Vec<Expr>,
        all: bool,
    },
    Between {
        lhs: Box<Expr>,
        lo: Box<Expr>,
        hi: Box<Expr>,
        negated: bool,
    },
    Call {
        name: String,
        args: Vec<Expr>,
    },
    Member(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    /// The column name a bare reference names, if this is one.
    pub fn as_name(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Name(n) => Some(n),
            _ => None,
        }
    }
}
