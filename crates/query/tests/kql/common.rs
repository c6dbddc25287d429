//! Test tables and helpers.

use datafusion::arrow::array::*;
use datafusion::arrow::datatypes::*;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::TableReference;
use datafusion::datasource::MemTable;
use std::sync::Arc;
use taskhunt_events::Timestamp;
use taskhunt_query::{CatalogBuilder, Engine, Lang, QueryError};

pub fn ns(t: &str) -> i64 {
    Timestamp::parse(t).expect("test time").unix_nanos() as i64
}

fn register(e: &Engine, name: &str, batch: RecordBatch) {
    let t = MemTable::try_new(batch.schema(), vec![vec![batch]]).expect("memtable");
    e.ctx.register_table(TableReference::bare(name), Arc::new(t)).expect("register");
}

/// `Events` (five process starts, with a missing user, command line and pid) and `Hosts`
/// (three owners, one host never seen in Events). `now` is 2024-01-02 12:00 UTC.
///
/// | Timestamp        | Host | User  | Cmd                                                   | Pid  | Score | Extra |
/// | 2024-01-01 00:10 | WS1  | alice | powershell.exe -EncodedCommand SQBFAFgA               | 100  | 1.5   | {"TaskName":"\\Updater","Tags":["a","b"],"Count":3} |
/// | 2024-01-01 00:50 | WS1  | bob   | cmd.exe /c whoami                                     | 200  | 2.5   | {"TaskName":"\\Other","Tags":[],"Count":1} |
/// | 2024-01-01 01:05 | WS2  | alice | C:\Windows\System32\schtasks.exe /create /tn Updater  | 300  | null  | {"TaskName":"\\Updater","Tags":["b"]} |
/// | 2024-01-01 02:30 | ws2  | null  | rundll32.exe javascript:alert                         | 400  | 4.0   | null |
/// | 2024-01-02 00:00 | WS3  | carol | null                                                  | null | 0.5   | not json |
pub fn small() -> Engine {
    let e = Engine::new(CatalogBuilder::new().finish(), Timestamp::parse("2024-01-02T12:00:00Z").unwrap()).unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("Timestamp", DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), true),
        Field::new("Host", DataType::Utf8, true),
        Field::new("User", DataType::Utf8, true),
        Field::new("Cmd", DataType::Utf8, true),
        Field::new("Pid", DataType::Int64, true),
        Field::new("Score", DataType::Float64, true),
        Field::new("Extra", DataType::Utf8, true),
    ]));
    let times = ["2024-01-01T00:10:00Z", "2024-01-01T00:50:00Z", "2024-01-01T01:05:00Z", "2024-01-01T02:30:00Z", "2024-01-02T00:00:00Z"];
    let events = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(TimestampNanosecondArray::from(times.iter().map(|t| ns(t)).collect::<Vec<_>>()).with_timezone("UTC")),
            Arc::new(StringArray::from(vec!["WS1", "WS1", "WS2", "ws2", "WS3"])),
            Arc::new(StringArray::from(vec![Some("alice"), Some("bob"), Some("alice"), None, Some("carol")])),
            Arc::new(StringArray::from(vec![
                Some("powershell.exe -EncodedCommand SQBFAFgA"),
                Some("cmd.exe /c whoami"),
                Some(r"C:\Windows\System32\schtasks.exe /create /tn Updater"),
                Some("rundll32.exe javascript:alert"),
                None,
            ])),
            Arc::new(Int64Array::from(vec![Some(100), Some(200), Some(300), Some(400), None])),
            Arc::new(Float64Array::from(vec![Some(1.5), Some(2.5), None, Some(4.0), Some(0.5)])),
            Arc::new(StringArray::from(vec![
                Some(r#"{"TaskName":"\\Updater","Tags":["a","b"],"Count":3}"#),
                Some(r#"{"TaskName":"\\Other","Tags":[],"Count":1}"#),
                Some(r#"{"TaskName":"\\Updater","Tags":["b"]}"#),
                None,
                Some("not json"),
            ])),
        ],
    )
    .unwrap();
    register(&e, "Events", events);
    let hosts = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("Host", DataType::Utf8, true),
            Field::new("Owner", DataType::Utf8, true),
            Field::new("Tier", DataType::Int64, true),
        ])),
        vec![
            Arc::new(StringArray::from(vec!["WS1", "WS2", "WS9"])),
            Arc::new(StringArray::from(vec!["ops", "dev", "lab"])),
            Arc::new(Int64Array::from(vec![1, 2, 3])),
        ],
    )
    .unwrap();
    register(&e, "Hosts", hosts);
    e
}

/// A result as text: column names and rows of cells (`null` for nulls).
#[derive(Debug)]
pub struct Out {
    pub cols: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Out {
    pub fn col(&self, name: &str) -> Vec<String> {
        let i = self.cols.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name} in {:?}", self.cols));
        self.rows.iter().map(|r| r[i].clone()).collect()
    }

    /// One column, sorted (for results whose row order KQL leaves open).
    pub fn sorted(&self, name: &str) -> Vec<String> {
        let mut v = self.col(name);
        v.sort();
        v
    }

    /// The only cell of a one-row, one-column result.
    pub fn one(&self) -> String {
        assert_eq!(self.rows.len(), 1, "{self:?}");
        assert_eq!(self.cols.len(), 1, "{self:?}");
        self.rows[0][0].clone()
    }
}

pub fn run(e: &Engine, q: &str) -> Out {
    let batches = match e.run(Lang::Kql, q) {
        Ok(b) => b,
        Err(err) => panic!("{}", err.render(q)),
    };
    let opts = FormatOptions::default().with_null("null");
    let mut out = Out { cols: Vec::new(), rows: Vec::new() };
    if let Some(b) = batches.first() {
        out.cols = b.schema().fields().iter().map(|f| f.name().clone()).collect();
    } else if let Ok(df) = e.plan(Lang::Kql, q) {
        out.cols = df.schema().fields().iter().map(|f| f.name().clone()).collect();
    }
    for b in &batches {
        let fmts: Vec<_> = b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap()).collect();
        for r in 0..b.num_rows() {
            out.rows.push(fmts.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    out
}

/// The single value of `print v = <expr>`.
pub fn value(e: &Engine, expr: &str) -> String {
    run(e, &format!("print v = {expr}")).one()
}

pub fn fail(e: &Engine, q: &str) -> QueryError {
    match e.plan(Lang::Kql, q).and_then(|df| e.block_on(df.collect()).map_err(QueryError::from)) {
        Ok(_) => panic!("expected an error from {q}"),
        Err(err) => err,
    }
}

pub fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The whole corpus, read once for all the tests that use it.
pub fn corpus_engine(test: &str) -> Option<&'static Engine> {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    let dir = taskhunt_events::testing::evtx_samples(test)?;
    Some(ENGINE.get_or_init(|| {
        let mut b = CatalogBuilder::new();
        taskhunt_events::read_paths(&[dir], &Default::default(), |batch| batch.events.iter().for_each(|e| b.add(e)), |_, _| {});
        Engine::new(b.finish(), Timestamp::parse("2024-01-01T00:00:00Z").unwrap()).expect("engine")
    }))
}
