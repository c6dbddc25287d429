//! Sigma rules compiled to DataFusion expressions over taskhunt's raw tables (`sysmon`,
//! `security`, ..., `main`), so that rule matching can run as a query: on in-memory tables, on a
//! Parquet case store, and later on Ballista executors.
//!
//! A rule goes through the same steps as its text conversions (`taskhunt_sigma::convert`): one
//! boolean expression over field tests ([`ir::rule_expr`]), mapped onto the raw tables by the
//! `taskhunt` pipeline ([`pipeline::map`]). Each branch then becomes a [`datafusion`] [`Expr`]
//! built with the expression API, never SQL text, and from built-in operators and functions
//! only (`lower`, `btrim`, `strpos`, `contains`, `starts_with`, `ends_with`, LIKE, `~`, IN, IS NULL,
//! IS TRUE, CAST, TRY_CAST), which any DataFusion or Ballista process can deserialize.
//!
//! The semantics are the SQL renderer's (`convert::sql`): case-insensitive values compare
//! `lower(column)` with the lowercased value; wildcards are LIKE patterns with `\` as the escape
//! character; `re` is `~`; a test under a negation is wrapped in IS TRUE, so a missing field
//! counts as "no match" there instead of turning the NOT into null. A raw table has a column
//! only where some event had the field, so a column the rule names may be absent: [`bind`]
//! replaces it by a null of type text when the expression meets a table's schema.

use crate::engine::Engine;
use crate::error::QueryError;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::functions::expr_fn::{btrim, contains, ends_with, lower, starts_with, strpos};
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::{Expr, Operator, binary_expr, cast, ident, in_list, is_true, lit, not, try_cast};
use datafusion::prelude::DataFrame;
use std::collections::BTreeMap;
use taskhunt_sigma::convert::ir::{self, Bool, Leaf, Shape, Test, shape};
use taskhunt_sigma::convert::pipeline::{self, Col, Pipeline};
use taskhunt_sigma::convert::{ConvertError, Lang, Unsupported, cidr_as_patterns, sql};
use taskhunt_sigma::modifiers::{NumOp, RefKind};
use taskhunt_sigma::{Placeholders, Rule};

/// A rule as filters over the raw tables: its events are the rows of each branch's table that
/// its filter keeps.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub title: String,
    pub id: Option<String>,
    /// One per table, each table once (branches on the same table are ORed).
    pub branches: Vec<CompiledBranch>,
    /// What the compiled rule only approximates (as the text conversions report it); empty when
    /// it is exact.
    pub lossy: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct CompiledBranch {
    /// A raw table: `sysmon`, `security`, `powershell`, `taskscheduler`, `system`, `other`, `main`.
    pub table: String,
    /// The rule's test on that table's rows; columns the table may lack are resolved by [`bind`].
    pub filter: Expr,
}

/// Compiles one detection rule. A rule that cannot be expressed (keywords, time-part modifiers,
/// look-around regexes, logsources without a table, ...) is an error naming the reason.
pub fn compile(rule: &Rule, placeholders: Option<&Placeholders>) -> Result<CompiledRule, ConvertError> {
    compile_inner(rule, placeholders).map_err(|u| ConvertError {
        path: rule.meta.path.clone(),
        id: rule.meta.id.clone(),
        title: rule.meta.title.clone(),
        reason: u.0,
    })
}

fn compile_inner(rule: &Rule, placeholders: Option<&Placeholders>) -> Result<CompiledRule, Unsupported> {
    let cond = ir::rule_expr(rule, placeholders)?;
    // The pipeline's language only decides how optional columns are marked; SQL's marking is
    // the one that fits (columns may be absent), and `bind` takes care of it.
    let mapped = pipeline::map(rule, &cond, Pipeline::Taskhunt, Lang::Sql)?;
    let mut lossy = mapped.lossy;
    let mut by_table: BTreeMap<String, Vec<Expr>> = BTreeMap::new();
    let mut order = Vec::new();
    for b in &mapped.branches {
        let cond = cidr_as_patterns(&b.cond, &mut lossy)?;
        let e = expr(&cond, &b.cols, false)?;
        if !by_table.contains_key(&b.table) {
            order.push(b.table.clone());
        }
        by_table.entry(b.table.clone()).or_default().push(e);
    }
    let branches = order
        .into_iter()
        .map(|table| {
            let filters = by_table.remove(&table).unwrap_or_default();
            let filter = balanced(filters, Expr::or).unwrap_or_else(|| lit(false));
            CompiledBranch { table, filter }
        })
        .collect();
    Ok(CompiledRule { title: rule.meta.title.clone(), id: rule.meta.id.clone(), branches, lossy })
}

/// `b` as an expression; `negated`: under an odd number of NOTs, where a null must not stand
/// for "no match" (NOT null is null, and the row would be dropped).
fn expr(b: &Bool, cols: &BTreeMap<String, Col>, negated: bool) -> Result<Expr, Unsupported> {
    Ok(match b {
        Bool::Const(c) => lit(*c),
        Bool::Leaf(l) => {
            let e = leaf(l, cols)?;
            if negated { is_true(e) } else { e }
        }
        Bool::Not(x) => not(expr(x, cols, !negated)?),
        Bool::And(xs) => fold(xs, cols, negated, Expr::and, true)?,
        Bool::Or(xs) => fold(xs, cols, negated, Expr::or, false)?,
    })
}

fn fold(xs: &[Bool], cols: &BTreeMap<String, Col>, negated: bool, op: fn(Expr, Expr) -> Expr, empty: bool) -> Result<Expr, Unsupported> {
    let items = xs.iter().map(|x| expr(x, cols, negated)).collect::<Result<Vec<_>, _>>()?;
    Ok(balanced(items, op).unwrap_or_else(|| lit(empty)))
}

/// `items` joined by `op` as a balanced tree. Rules list hundreds of values, and a chain
/// `((a OR b) OR c) ...` that deep overflows the stack of DataFusion's recursive passes; a
/// balanced tree is as deep as the logarithm of the count.
fn balanced(mut items: Vec<Expr>, op: fn(Expr, Expr) -> Expr) -> Option<Expr> {
    if items.len() <= 1 {
        return items.pop();
    }
    let right = items.split_off(items.len() / 2);
    Some(op(balanced(items, op)?, balanced(right, op)?))
}

fn compare(e: Expr, op: NumOp, value: f64) -> Expr {
    let v = lit(value);
    match op {
        NumOp::Gt => e.gt(v),
        NumOp::Gte => e.gt_eq(v),
        NumOp::Lt => e.lt(v),
        NumOp::Lte => e.lt_eq(v),
    }
}

/// One field test. The result may be null (a missing field); `expr` decides what null means.
fn leaf(l: &Leaf, cols: &BTreeMap<String, Col>) -> Result<Expr, Unsupported> {
    let Some(f) = &l.field else {
        return Err(Unsupported::new("keywords need full-text search over every field, which the compiled rules do not do"));
    };
    let c = ident(f);
    let numeric = cols.get(f).is_some_and(|c| c.numeric);
    Ok(match &l.test {
        Test::Str { pieces, fold } => {
            // An integer on a number column compares as a number (`EventID: 4688`); any other
            // text compares with the number's decimal text, as the matcher does.
            if numeric
                && let Shape::Exact(s) = shape(pieces)
                && let Ok(i) = s.parse::<i64>()
                && i.to_string() == s
            {
                return Ok(c.eq(lit(i)));
            }
            if shape(pieces) == Shape::Any {
                return Ok(c.is_not_null());
            }
            let text = if numeric { cast(c, DataType::Utf8) } else { c };
            let text = if *fold { lower(text) } else { text };
            let needle = |s: &str| lit(if *fold { s.to_lowercase() } else { s.to_string() });
            // The common shapes as string functions, not LIKE: Arrow turns a LIKE pattern with
            // an escaped character (every Windows path's backslash) into a regex compiled for
            // every batch, which dominated a rule set's run time over a store of small files.
            match shape(pieces) {
                Shape::Exact(s) => text.eq(needle(s)),
                Shape::Prefix(s) => starts_with(text, needle(s)),
                Shape::Suffix(s) => ends_with(text, needle(s)),
                Shape::Contains(s) => contains(text, needle(s)),
                _ => Expr::Like(Like::new(false, Box::new(text), Box::new(lit(sql::like(pieces, *fold))), Some('\\'), false)),
            }
        }
        Test::Regex { pattern, backtracking } => {
            if *backtracking {
                return Err(Unsupported::new(format!("regex {pattern:?} needs look-around or back-references")));
            }
            // Arrow's `~` runs the `regex` crate, the matcher's own engine: same syntax, flags
            // and size limit.
            binary_expr(c, Operator::RegexMatch, lit(pattern.clone()))
        }
        Test::Num { op, value } => {
            if numeric {
                compare(c, *op, *value)
            } else {
                // The matcher trims the text and parses it as a float; NaN never compares (Arrow
                // orders NaN above every number, so it is left out by its spellings).
                let trimmed = btrim(vec![c, lit(" \t\r\n")]);
                let nan = in_list(lower(trimmed.clone()), ["nan", "+nan", "-nan"].map(lit).to_vec(), false);
                let n = try_cast(trimmed, DataType::Float64);
                compare(n, *op, *value).and(not(nan))
            }
        }
        Test::IntIn(ids) => in_list(c, ids.iter().map(|i| lit(*i)).collect(), false),
        Test::Null | Test::Exists(false) => c.is_null(),
        Test::Exists(true) => c.is_not_null(),
        Test::Cidr(_) => return Err(Unsupported::new("internal: a cidr test was not turned into text patterns")),
        Test::FieldRef { other, kind, fold } => {
            let o = ident(other);
            let (a, b) = if *fold { (lower(c.clone()), lower(o.clone())) } else { (c.clone(), o.clone()) };
            let cmp = match kind {
                RefKind::Exact => a.eq(b),
                RefKind::Contains => strpos(a, b).gt(lit(0i32)),
                RefKind::Prefix => starts_with(a, b),
                RefKind::Suffix => ends_with(a, b),
            };
            c.is_not_null().and(o.is_not_null()).and(cmp)
        }
        Test::Neq(inner) => {
            let positive = leaf(&Leaf { field: Some(f.clone()), test: (**inner).clone() }, cols)?;
            c.is_not_null().and(not(is_true(positive)))
        }
    })
}

/// `filter` for a table of this schema: every column the table lacks becomes a null of type
/// text (the raw tables' dynamic columns are all text), which is what a row without the field
/// would hold.
pub fn bind(filter: Expr, schema: &DFSchema) -> Result<Expr, QueryError> {
    let bound = filter.transform(|e| {
        Ok(match e {
            Expr::Column(c) if !schema.has_column_with_unqualified_name(&c.name) => Transformed::yes(lit(ScalarValue::Utf8(None))),
            e => Transformed::no(e),
        })
    })?;
    Ok(bound.data)
}

impl Engine {
    /// The rows a compiled rule finds, as `source`, `EventRecordID` (the file and the record),
    /// one query over the union of its branches; `None` when none of its tables is registered.
    pub fn sigma_frame(&self, rule: &CompiledRule) -> Result<Option<DataFrame>, QueryError> {
        let mut all: Option<DataFrame> = None;
        for b in &rule.branches {
            let Some(df) = self.table(&b.table) else { continue };
            let filter = bind(b.filter.clone(), df.schema())?;
            let df = df.filter(filter)?.select(vec![ident("source"), ident("EventRecordID")])?;
            all = Some(match all {
                None => df,
                Some(a) => a.union(df)?,
            });
        }
        Ok(all)
    }

    /// Every (rule index, source, EventRecordID) that `rules` find, with one scan per table
    /// for up to `per_query` rules at once: each rule's filter becomes a boolean column of one
    /// projection, so a whole rule set costs a few queries rather than one per rule (a
    /// distributed query has a fixed cost of about a second).
    pub fn sigma_hits_all(
        &self,
        rules: &[CompiledRule],
        per_query: usize,
    ) -> Result<std::collections::BTreeSet<(usize, String, i64)>, QueryError> {
        use datafusion::arrow::array::{Array, AsArray};
        use datafusion::arrow::datatypes::Int64Type;
        let mut by_table: std::collections::BTreeMap<&str, Vec<(usize, &Expr)>> = Default::default();
        for (i, r) in rules.iter().enumerate() {
            for b in &r.branches {
                by_table.entry(b.table.as_str()).or_default().push((i, &b.filter));
            }
        }
        let mut hits = std::collections::BTreeSet::new();
        for (table, filters) in by_table {
            let Some(df) = self.table(table) else { continue };
            for group in filters.chunks(per_query.max(1)) {
                let mut cols = vec![ident("source"), ident("EventRecordID")];
                for (n, (_, f)) in group.iter().enumerate() {
                    cols.push(bind((*f).clone(), df.schema())?.alias(format!("r{n}")));
                }
                let batches = self.block_on(df.clone().select(cols)?.collect())?;
                for batch in &batches {
                    // Parquet may hand text back as views: one type whatever the source.
                    let source = datafusion::arrow::compute::cast(batch.column(0), &datafusion::arrow::datatypes::DataType::Utf8)
                        .map_err(|e| QueryError::plain(e.to_string()))?;
                    let source = source.as_string::<i32>();
                    let record = datafusion::arrow::compute::cast(batch.column(1), &datafusion::arrow::datatypes::DataType::Int64)
                        .map_err(|e| QueryError::plain(e.to_string()))?;
                    let record = record.as_primitive::<Int64Type>();
                    for (n, (rule, _)) in group.iter().enumerate() {
                        let matched = batch.column(n + 2).as_boolean();
                        for row in 0..batch.num_rows() {
                            if matched.is_valid(row) && matched.value(row) {
                                hits.insert((*rule, source.value(row).to_string(), record.value(row)));
                            }
                        }
                    }
                }
            }
        }
        Ok(hits)
    }

    /// Runs [`Engine::sigma_frame`].
    pub fn sigma_hits(&self, rule: &CompiledRule) -> Result<Vec<RecordBatch>, QueryError> {
        match self.sigma_frame(rule)? {
            Some(df) => self.block_on(df.collect()).map_err(QueryError::from),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CatalogBuilder;
    use datafusion::arrow::array::{Array, Int64Array};
    use std::path::Path;
    use std::sync::Arc;
    use taskhunt_events::{Event, Fields, SourceFile, Timestamp, Value};
    use taskhunt_sigma::rule::{Document, load_file};
    use taskhunt_sigma::{RuleSet, Source};

    const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

    fn event(channel: &str, provider: &str, id: u32, record: u64, fields: &[(&str, &str)]) -> Event {
        let mut system = Fields::new();
        system.insert_str("EventID", Value::UInt(id.into()));
        system.insert_str("Channel", Value::from(channel));
        let mut data = Fields::new();
        for (name, value) in fields {
            data.insert_str(name, Value::from(*value));
        }
        Event {
            timestamp: Timestamp::parse("2026-03-01T10:00:00Z").expect("timestamp"),
            computer: "WS01".into(),
            channel: channel.into(),
            provider: provider.into(),
            event_id: id,
            record_id: record,
            source: Arc::new(SourceFile { path: "hand-built".into(), format: "test" }),
            system,
            fields: data,
        }
    }

    /// Sysmon process creations 1, 2, 3, 4, 6, 7 and a Security 4688 (record 5, which has no
    /// parent process name at all: the `security` table has no such column).
    fn events() -> Vec<Event> {
        let sysmon = |record, fields: &[(&str, &str)]| event(SYSMON, "Microsoft-Windows-Sysmon", 1, record, fields);
        vec![
            sysmon(
                1,
                &[
                    ("Image", r"C:\Windows\System32\cmd.exe"),
                    ("CommandLine", "cmd /c WHOAMI /all"),
                    ("ParentImage", r"C:\Windows\explorer.exe"),
                    ("ProcessId", "1234"),
                ],
            ),
            sysmon(2, &[("Image", r"C:\Tools\WhoAmI.exe"), ("CommandLine", "whoami"), ("ProcessId", "NaN")]),
            sysmon(
                3,
                &[
                    ("Image", r"C:\x\cmd.exe"),
                    ("CommandLine", "WhoAmI /priv"),
                    ("ParentImage", r"C:\Windows\System32\services.exe"),
                    ("ProcessId", " 2048 "),
                ],
            ),
            sysmon(4, &[("Image", r"C:\Windows\System32\cmd.exe.bak"), ("CommandLine", "echo 100%_done")]),
            event(
                "Security",
                "Microsoft-Windows-Security-Auditing",
                4688,
                5,
                &[("NewProcessName", r"C:\Windows\System32\cmd.exe"), ("CommandLine", "net user")],
            ),
            sysmon(6, &[("Image", r"D:\CMD.EXE"), ("CommandLine", "a\nb"), ("ProcessId", "0x10")]),
            sysmon(7, &[("Image", r"C:\w.exe"), ("CommandLine", "who am i")]),
        ]
    }

    fn engine(events: &[Event]) -> Engine {
        let mut b = CatalogBuilder::new();
        events.iter().for_each(|e| b.add(e));
        Engine::new(b.finish(), Timestamp::from_ticks(0)).expect("engine")
    }

    fn rule_text(detection: &str) -> String {
        format!(
            "title: T\nid: 11111111-2222-3333-4444-555555555555\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n{detection}\n"
        )
    }

    /// The record ids the compiled rule finds; checks on the way that the native matcher finds
    /// the same ones.
    fn found(detection: &str) -> Vec<i64> {
        let text = rule_text(detection);
        let rule = match load_file(Path::new("t.yml"), &text, None).pop() {
            Some(Ok(Document::Rule(r))) => r,
            other => panic!("not a rule: {other:?}\n{text}"),
        };
        let compiled = compile(&rule, None).unwrap_or_else(|e| panic!("{e}"));
        let events = events();
        let batches = engine(&events).sigma_hits(&compiled).unwrap_or_else(|e| panic!("{e}"));
        let mut got: Vec<i64> = Vec::new();
        for b in &batches {
            let ids = b.column_by_name("EventRecordID").and_then(|c| c.as_any().downcast_ref::<Int64Array>()).expect("record ids");
            got.extend((0..ids.len()).map(|i| ids.value(i)));
        }
        got.sort();
        let set = RuleSet::load(&[Source::Text { name: "t.yml", text: &text }], None);
        let native: Vec<i64> = events.iter().filter(|e| !set.matches(e).is_empty()).map(|e| e.record_id as i64).collect();
        assert_eq!(got, native, "compiled and native disagree on\n{detection}");
        got
    }

    #[test]
    fn contains_folds_case_and_cased_does_not() {
        // "WHOAMI" (1), "whoami" (2), "WhoAmI" (3); not "who am i" (7) nor the others.
        assert_eq!(found("  sel:\n    CommandLine|contains: 'WhoAmI'\n  condition: sel"), [1, 2, 3]);
        assert_eq!(found("  sel:\n    CommandLine|contains|cased: 'WhoAmI'\n  condition: sel"), [3]);
        // The Security 4688 is reached through its own table with Image → NewProcessName: every
        // image ending in `\cmd.exe` whatever its case (1, 3, 5, and `D:\CMD.EXE`, 6), not
        // `cmd.exe.bak` (4).
        assert_eq!(found("  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel"), [1, 3, 5, 6]);
    }

    #[test]
    fn not_over_a_missing_field_or_column() {
        // cmd.exe images are 1, 3, 5, 6. The filter holds for 1 only (explorer.exe). Record 6
        // has no ParentImage (null in the sysmon table) and 5 is in the security table, which
        // has no ParentProcessName column: for both "not filter" holds.
        assert_eq!(
            found(
                "  sel:\n    Image|endswith: '\\cmd.exe'\n  filter:\n    ParentImage|endswith: '\\explorer.exe'\n  condition: sel and not filter"
            ),
            [3, 5, 6]
        );
        // neq needs the field: only 3 has a ParentImage that is not explorer.exe.
        assert_eq!(found("  sel:\n    ParentImage|neq: 'C:\\Windows\\explorer.exe'\n  condition: sel"), [3]);
    }

    #[test]
    fn absent_columns_are_null() {
        // No event has `NoSuchField`: no table has the column. A value never matches, `null`
        // always does, and neither is an error.
        assert_eq!(found("  sel:\n    NoSuchField: 'x'\n  condition: sel"), Vec::<i64>::new());
        assert_eq!(found("  sel:\n    NoSuchField: null\n    Image|endswith: '\\cmd.exe'\n  condition: sel"), [1, 3, 5, 6]);
        assert_eq!(found("  sel:\n    NoSuchField: 'x'\n  condition: not sel"), [1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn like_escapes_wildcards_regex_and_numbers() {
        // `%` and `_` are literal text in Sigma: only "echo 100%_done" (4) has "%_d"; unescaped,
        // `%_d` would also match "cmd ..." (1).
        assert_eq!(found("  sel:\n    CommandLine|contains: '%_d'\n  condition: sel"), [4]);
        // `?` is one character, a newline included: "a\nb" (6).
        assert_eq!(found("  sel:\n    CommandLine: 'a?b'\n  condition: sel"), [6]);
        // `re` is case-sensitive and unanchored unless the pattern anchors: "whoami" (2) and
        // "who am i" (7) start with "who"; "WhoAmI /priv" (3) does not.
        assert_eq!(found("  sel:\n    CommandLine|re: '^who'\n  condition: sel"), [2, 7]);
        // ProcessId 1234 (1) and " 2048 " (3, trimmed) are above 1000; "NaN" (2) and "0x10" (6)
        // are not numbers to the matcher.
        assert_eq!(found("  sel:\n    ProcessId|gt: 1000\n  condition: sel"), [1, 3]);
    }

    #[test]
    fn keywords_are_refused_with_a_reason() {
        let text = rule_text("  keywords:\n    - 'whoami'\n  condition: keywords");
        let Some(Ok(Document::Rule(rule))) = load_file(Path::new("t.yml"), &text, None).pop() else { panic!("not a rule") };
        let e = compile(&rule, None).unwrap_err();
        assert!(e.reason.contains("keywords"), "{e}");
    }

    #[test]
    fn branches_are_one_per_table() {
        let text = rule_text("  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel");
        let Some(Ok(Document::Rule(rule))) = load_file(Path::new("t.yml"), &text, None).pop() else { panic!("not a rule") };
        let c = compile(&rule, None).unwrap_or_else(|e| panic!("{e}"));
        let tables: Vec<&str> = c.branches.iter().map(|b| b.table.as_str()).collect();
        assert_eq!(tables, ["sysmon", "security"]);
        // Sysmon 1: the event id, then the lowercased image's suffix (a leading `*` only: no
        // LIKE, so no pattern to escape).
        assert_eq!(c.branches[0].filter.to_string(), r#"EventID IN ([Int64(1)]) AND ends_with(lower(Image), Utf8("\cmd.exe"))"#);
    }
}
