//! The query engine: a DataFusion session over a [`Catalog`], running KQL, SPL or SQL.

use crate::catalog::Catalog;
use crate::error::QueryError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use std::sync::Arc;
use taskhunt_events::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Kql,
    Spl,
    Sql,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "kql" | "kusto" => Some(Lang::Kql),
            "spl" | "splunk" => Some(Lang::Spl),
            "sql" => Some(Lang::Sql),
            _ => None,
        }
    }

    /// Guesses the language of a query: SQL starts with SELECT/WITH; SPL starts with a search
    /// (`index=`, `field=value`, `search`, `|`); KQL starts with a table name then `|`.
    pub fn detect(q: &str) -> Lang {
        let t = strip_comments(q);
        let t = t.trim_start();
        let first: String = t.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let lower = first.to_ascii_lowercase();
        if lower == "select" || lower == "with" {
            return Lang::Sql;
        }
        if lower == "let" {
            return Lang::Kql;
        }
        if t.starts_with('|') || lower == "search" || lower == "index" || lower == "sourcetype" || lower == "source" {
            return Lang::Spl;
        }
        let rest = t[first.len()..].trim_start();
        if rest.starts_with('=') || rest.starts_with("!=") {
            return Lang::Spl;
        }
        Lang::Kql
    }
}

fn strip_comments(q: &str) -> String {
    q.lines()
        .filter(|l| {
            let t = l.trim_start();
            !(t.starts_with("//") || t.starts_with("--") || t.starts_with('#') || t.starts_with("```"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub struct Engine {
    pub ctx: SessionContext,
    runtime: tokio::runtime::Runtime,
    /// The query's `now` (`ago()`, `now()`): settable for reproducible hunts over old logs.
    pub now: Timestamp,
}

impl Engine {
    pub fn new(catalog: Catalog, now: Timestamp) -> Result<Engine, QueryError> {
        let ctx = SessionContext::new_with_config(Engine::session_config(SessionConfig::new()));
        for (name, (schema, batches)) in catalog.tables {
            let table = MemTable::try_new(schema, vec![batches])?;
            ctx.register_table(datafusion::common::TableReference::bare(name.clone()), Arc::new(table))?;
        }
        Ok(Engine { ctx, runtime: Engine::runtime()?, now })
    }

    /// `base` with what taskhunt's planners expect of a session.
    pub fn session_config(base: SessionConfig) -> SessionConfig {
        // Table and column names keep their case (DeviceProcessEvents, CommandLine), as hunters
        // write them; DataFusion would otherwise lowercase unquoted identifiers.
        base.with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()))
            .set_bool("datafusion.sql_parser.enable_ident_normalization", false)
    }

    fn runtime() -> Result<tokio::runtime::Runtime, QueryError> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| QueryError::plain(format!("cannot start the query runtime: {e}")))
    }

    /// An engine around a session made by `make` inside the engine's own runtime (a session
    /// connected to a Ballista scheduler must be made there), with no tables yet.
    pub fn with_session<F: std::future::Future<Output = Result<SessionContext, QueryError>>>(
        now: Timestamp,
        make: impl FnOnce() -> F,
    ) -> Result<Engine, QueryError> {
        let runtime = Engine::runtime()?;
        let ctx = runtime.block_on(make())?;
        Ok(Engine { ctx, runtime, now })
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Plans `text` in `lang` into a DataFrame (nothing runs yet).
    pub fn plan(&self, lang: Lang, text: &str) -> Result<DataFrame, QueryError> {
        match lang {
            Lang::Sql => self.block_on(self.ctx.sql(text)).map_err(QueryError::from),
            Lang::Kql => crate::kql::plan(self, text),
            Lang::Spl => crate::spl::plan(self, text),
        }
    }

    pub fn run(&self, lang: Lang, text: &str) -> Result<Vec<RecordBatch>, QueryError> {
        self.run_with_notes(lang, text).map(|(batches, _)| batches)
    }

    /// Runs `text` and returns, beside the rows, the notes planning gave: what the query asked
    /// for that taskhunt accepts but does not do (KQL `render`), for the caller to show.
    pub fn run_with_notes(&self, lang: Lang, text: &str) -> Result<(Vec<RecordBatch>, Vec<String>), QueryError> {
        let (df, notes) = match lang {
            Lang::Kql => {
                let planned = crate::kql::plan_with_notes(self, text)?;
                (planned.df, planned.notes)
            }
            _ => (self.plan(lang, text)?, Vec::new()),
        };
        let batches = self.block_on(df.collect()).map_err(QueryError::from)?;
        Ok((batches, notes))
    }

    pub fn table(&self, name: &str) -> Option<DataFrame> {
        // Our tables are registered under their exact names (`DeviceProcessEvents`); a table
        // registered through DataFusion's own name parsing is found in its lowercased form.
        self.block_on(self.ctx.table(datafusion::common::TableReference::bare(name)))
            .ok()
            .or_else(|| self.block_on(self.ctx.table(name)).ok())
    }

    pub fn table_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.ctx.catalog("datafusion").and_then(|c| c.schema("public")).map(|s| s.table_names()).unwrap_or_default();
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_languages() {
        assert_eq!(Lang::detect("DeviceProcessEvents\n| where ProcessCommandLine contains \"-enc\""), Lang::Kql);
        assert_eq!(Lang::detect("index=sysmon Image=\"*rundll32.exe\"\n| stats count by Computer, CommandLine"), Lang::Spl);
        assert_eq!(Lang::detect("SELECT * FROM sysmon"), Lang::Sql);
        assert_eq!(Lang::detect("// title: x\nlet a = 1;\nT | take 1"), Lang::Kql);
        assert_eq!(Lang::detect("EventCode=4698"), Lang::Spl);
    }
}

/// `main` over tables already registered: their rows together, matched by column name, in time
/// order (as the in-memory `main` is).
pub(crate) fn register_main(engine: &Engine, raw: &[String]) -> Result<(), QueryError> {
    let mut all: Option<DataFrame> = None;
    for name in raw {
        let Some(df) = engine.table(name) else { continue };
        all = Some(match all {
            None => df,
            Some(a) => a.union_by_name(df)?,
        });
    }
    let Some(all) = all else { return Ok(()) };
    let sorted = all.sort(vec![datafusion::prelude::col("_time").sort(true, true)])?;
    engine.ctx.register_table(datafusion::common::TableReference::bare("main"), sorted.into_view())?;
    Ok(())
}
