//! `taskhunt query`: KQL, SPL or SQL over telemetry, on DataFusion.

use crate::output::{OutputFormat, RowWriter, open_output};
use anyhow::{Context, Result, bail};
use clap::Args;
use datafusion_arrow::*;
use std::path::PathBuf;
use std::process::ExitCode;
use taskhunt_events::text::terminal_safe;
use taskhunt_events::{ReadOptions, Timestamp, Value, read_paths};
use taskhunt_query::{CatalogBuilder, Engine, Lang, hunts};

mod datafusion_arrow {
    pub use taskhunt_query::arrow::array::{Array, RecordBatch};
    pub use taskhunt_query::arrow::util::display::{ArrayFormatter, FormatOptions};
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueryFormat {
    Table,
    Csv,
    Jsonl,
    Parquet,
}

#[derive(Args)]
pub struct QueryArgs {
    /// The query text, or the name of a hunt (see --list); with -f, every argument is a PATH.
    #[arg(value_name = "QUERY")]
    query: Option<String>,

    /// Telemetry files or directories.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Read the query from a file (.kql, .spl or .sql; header comments are allowed).
    #[arg(long, short = 'f', value_name = "FILE", conflicts_with = "list")]
    file: Option<PathBuf>,

    /// Query language (detected when not given).
    #[arg(long, value_parser = ["kql", "spl", "sql"])]
    lang: Option<String>,

    /// List the built-in hunts.
    #[arg(long)]
    list: bool,

    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    format: QueryFormat,

    /// Write to this file instead of standard output (required for parquet).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Show cells in full in the terminal table.
    #[arg(long)]
    wide: bool,

    /// Query a case store made by `taskhunt ingest` instead of reading PATHs.
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,

    /// Run the query on an Apache Ballista cluster (`df://HOST:PORT`, its scheduler) whose
    /// executors see the `--store` folder at the same path (`taskhunt cluster`).
    #[arg(long, value_name = "URL", requires = "store")]
    cluster: Option<String>,

    /// What `now()` and `ago()` mean, for hunts over old logs (RFC 3339; default: the current time).
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
}

pub fn run(mut args: QueryArgs) -> Result<ExitCode> {
    if args.list {
        for h in hunts::builtin() {
            println!("{:<28} {:<4} {}  [{}]", h.name, format!("{:?}", h.lang).to_lowercase(), h.title, h.attack.join(", "));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (text, detected) = match &args.file {
        Some(f) => {
            if let Some(q) = args.query.take() {
                args.paths.insert(0, PathBuf::from(q));
            }
            let text = std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
            let lang = f.extension().and_then(|e| e.to_str()).and_then(Lang::parse);
            (text, lang)
        }
        None => {
            let q = args.query.clone().context("give a query, a hunt name (--list) or -f FILE")?;
            match hunts::find(&q) {
                Some(h) => (h.text, Some(h.lang)),
                None => (q, None),
            }
        }
    };
    if args.paths.is_empty() && args.store.is_none() {
        bail!("give at least one PATH of telemetry to query, or --store DIR");
    }
    if !args.paths.is_empty() && args.store.is_some() {
        bail!("give PATHs or --store DIR, not both");
    }
    let lang = match &args.lang {
        Some(l) => Lang::parse(l).context("unknown language")?,
        None => detected.unwrap_or_else(|| Lang::detect(&text)),
    };
    let now = match &args.now {
        Some(t) => Timestamp::parse(t).with_context(|| format!("--now {t:?} is not an RFC 3339 time"))?,
        None => Timestamp::from_unix_nanos(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i128).unwrap_or(0),
        ),
    };
    let started = std::time::Instant::now();
    let (engine, summary) = match &args.store {
        Some(store) if args.cluster.is_some() => {
            let url = args.cluster.as_deref().unwrap_or_default();
            (taskhunt_cluster::remote_engine(url, store, now).map_err(|e| anyhow::anyhow!("{e}"))?, Default::default())
        }
        Some(store) => (Engine::open_store(store, now).map_err(|e| anyhow::anyhow!("{e}"))?, Default::default()),
        None => {
            let mut builder = CatalogBuilder::new();
            let summary = read_paths(&args.paths, &ReadOptions::default(), |b| b.events.iter().for_each(|e| builder.add(e)), |_, _| {});
            (Engine::new(builder.finish(), now).map_err(|e| anyhow::anyhow!("{e}"))?, summary)
        }
    };
    let load = started.elapsed();
    let batches = match engine.run_with_notes(lang, &text) {
        Ok((b, notes)) => {
            for n in notes {
                eprintln!("taskhunt: note: {}", terminal_safe(&n));
            }
            b
        }
        Err(e) => {
            eprintln!("taskhunt: query error ({}):\n{}", format!("{lang:?}").to_lowercase(), e.render(&text));
            return Ok(ExitCode::from(2));
        }
    };
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    write(&batches, &args)?;
    let source = match &args.store {
        Some(store) if args.cluster.is_some() => format!(
            "store {} on cluster {}",
            terminal_safe(&store.display().to_string()),
            terminal_safe(args.cluster.as_deref().unwrap_or_default())
        ),
        Some(store) => format!("store {}", terminal_safe(&store.display().to_string())),
        None => format!("{} records from {} files", summary.records, summary.files),
    };
    eprintln!(
        "taskhunt: {source}; {rows} rows; tables ready in {:.2}s, query {:.2}s",
        load.as_secs_f64(),
        (started.elapsed() - load).as_secs_f64()
    );
    for issue in summary.issues.iter().take(5) {
        eprintln!("taskhunt: warning: {}", terminal_safe(&issue.to_string()));
    }
    Ok(ExitCode::SUCCESS)
}

fn write(batches: &[RecordBatch], args: &QueryArgs) -> Result<()> {
    if args.format == QueryFormat::Parquet {
        let path = args.output.as_ref().context("parquet output needs -o FILE")?;
        taskhunt_query::export::write_parquet(batches, path).map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok(());
    }
    let Some(first) = batches.first() else {
        eprintln!("taskhunt: no rows");
        return Ok(());
    };
    let schema = first.schema();
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let format = match args.format {
        QueryFormat::Csv => OutputFormat::Csv,
        QueryFormat::Jsonl => OutputFormat::Jsonl,
        _ => OutputFormat::Table,
    };
    let mut w = RowWriter::new(open_output(args.output.as_deref())?, format, columns.clone());
    if args.wide {
        w = w.wide();
    }
    let options = FormatOptions::default().with_null("");
    for batch in batches {
        let formatters: Vec<ArrayFormatter> =
            batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options)).collect::<Result<_, _>>()?;
        for row in 0..batch.num_rows() {
            let cells = columns.iter().zip(batch.columns()).zip(&formatters).map(|((name, col), f)| {
                let v = if col.is_null(row) {
                    Value::Null
                } else {
                    match col.data_type() {
                        taskhunt_query::arrow::datatypes::DataType::Int64 => {
                            Value::Int(col.as_any().downcast_ref::<taskhunt_query::arrow::array::Int64Array>().map_or(0, |a| a.value(row)))
                        }
                        _ => Value::from(f.value(row).to_string()),
                    }
                };
                (name.as_str(), v)
            });
            w.row(cells)?;
        }
    }
    w.finish()?;
    Ok(())
}
