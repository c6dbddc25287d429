//! Writing rows as JSON lines, CSV or an aligned terminal table. Every string is attacker
//! data: CSV cells are defused against spreadsheet formulas and terminal cells have control
//! characters escaped.

use std::io::Write;
use taskhunt_events::Value;
use taskhunt_events::text::{csv_safe, terminal_safe};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row; formula-looking cells are defused.
    Csv,
    /// An aligned table for reading in a terminal; long cells are cut.
    Table,
}

/// Widest a terminal table cell may be before it is cut with an ellipsis.
const TABLE_CELL_MAX: usize = 60;

/// Rows with named columns. Rows may bring new columns (raw tables); for CSV and table output
/// rows are held until `finish` so that the header covers every column.
pub struct RowWriter {
    out: Box<dyn Write>,
    format: OutputFormat,
    columns: Vec<String>,
    held: Vec<Vec<(usize, Value)>>,
    wide: bool,
}

impl RowWriter {
    pub fn new(out: Box<dyn Write>, format: OutputFormat, columns: Vec<String>) -> Self {
        RowWriter { out, format, columns, held: Vec::new(), wide: false }
    }

    /// Terminal tables show every cell in full.
    pub fn wide(mut self) -> Self {
        self.wide = true;
        self
    }

    fn column(&mut self, name: &str) -> usize {
        match self.columns.iter().position(|c| c == name) {
            Some(i) => i,
            None => {
                self.columns.push(name.to_string());
                self.columns.len() - 1
            }
        }
    }

    /// Writes one row given as (column, value) pairs; null values are omitted from JSON.
    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = (&'a str, Value)>) -> std::io::Result<()> {
        match self.format {
            OutputFormat::Jsonl => {
                let mut map = serde_json::Map::new();
                for (name, value) in cells {
                    if !value.is_null() {
                        map.insert(name.to_string(), serde_json::to_value(&value).unwrap_or_default());
                    }
                }
                serde_json::to_writer(&mut self.out, &map)?;
                self.out.write_all(b"\n")
            }
            OutputFormat::Csv | OutputFormat::Table => {
                let row: Vec<(usize, Value)> = cells.into_iter().map(|(n, v)| (self.column(n), v)).collect();
                self.held.push(row);
                Ok(())
            }
        }
    }

    /// Writes a pre-serialized JSON line (events without a table).
    pub fn raw_json(&mut self, value: &impl serde::Serialize) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }

    /// A JSON object as a JSON line, or as a row of its top-level keys for CSV and tables.
    pub fn raw_json_or_row(&mut self, format: OutputFormat, v: serde_json::Value) -> std::io::Result<()> {
        if format == OutputFormat::Jsonl {
            return self.raw_json(&v);
        }
        let cells: Vec<(String, Value)> = v
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, x)| !x.is_null())
                    .map(|(k, x)| (k.clone(), Value::from(x.as_str().map(String::from).unwrap_or_else(|| x.to_string()))))
                    .collect()
            })
            .unwrap_or_default();
        self.row(cells.iter().map(|(k, v)| (k.as_str(), v.clone())))
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        let held = std::mem::take(&mut self.held);
        let grid = |row: &Vec<(usize, Value)>, n: usize| -> Vec<String> {
            let mut cells = vec![String::new(); n];
            for (i, v) in row {
                cells[*i] = v.to_text().into_owned();
            }
            cells
        };
        match self.format {
            OutputFormat::Jsonl => {}
            OutputFormat::Csv => {
                let mut w = csv::Writer::from_writer(&mut self.out);
                w.write_record(self.columns.iter().map(|c| csv_safe(c).into_owned()))?;
                for row in &held {
                    w.write_record(grid(row, self.columns.len()).iter().map(|c| csv_safe(c).into_owned()))?;
                }
                w.flush()?;
            }
            OutputFormat::Table => {
                let n = self.columns.len();
                let wide = self.wide;
                let fit = |c: &str| if wide { terminal_safe(c).into_owned() } else { cut(&terminal_safe(c)) };
                let rows: Vec<Vec<String>> = held.iter().map(|r| grid(r, n).iter().map(|c| fit(c)).collect()).collect();
                // Columns that are empty in every row are left out: normalized tables are wide.
                let keep: Vec<usize> = (0..n).filter(|&i| rows.iter().any(|r| !r[i].is_empty())).collect();
                let header: Vec<String> = self.columns.iter().map(|c| cut(&terminal_safe(c))).collect();
                let widths: Vec<usize> = keep
                    .iter()
                    .map(|&i| rows.iter().map(|r| r[i].chars().count()).chain([header[i].chars().count()]).max().unwrap_or(0))
                    .collect();
                let line = |cells: &Vec<String>| -> String {
                    keep.iter()
                        .zip(&widths)
                        .map(|(&i, &w)| format!("{:<w$}", cells[i], w = w))
                        .collect::<Vec<_>>()
                        .join("  ")
                        .trim_end()
                        .to_string()
                };
                writeln!(self.out, "{}", line(&header))?;
                writeln!(self.out, "{}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "))?;
                for r in &rows {
                    writeln!(self.out, "{}", line(r))?;
                }
                writeln!(self.out, "({} rows)", rows.len())?;
            }
        }
        self.out.flush()
    }
}

fn cut(s: &str) -> String {
    if s.chars().count() <= TABLE_CELL_MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(TABLE_CELL_MAX - 1).collect();
        t.push('…');
        t
    }
}

/// A closed pipe (`taskhunt events ... | head`) is a normal way to stop reading.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<csv::Error>()
                .is_some_and(|ce| matches!(ce.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe))
            || c.downcast_ref::<serde_json::Error>().is_some_and(|je| je.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}

/// Standard output or a file, buffered.
pub fn open_output(path: Option<&std::path::Path>) -> anyhow::Result<Box<dyn Write>> {
    use anyhow::Context;
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?)),
        None => Box::new(std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock())),
    })
}
