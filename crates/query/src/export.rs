//! Writing query results as Parquet.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use std::path::Path;

pub fn write_parquet(batches: &[RecordBatch], path: &Path) -> Result<(), String> {
    let Some(first) = batches.first() else { return Err("no rows to write".into()) };
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut w = ArrowWriter::try_new(file, first.schema(), None).map_err(|e| e.to_string())?;
    for b in batches {
        w.write(b).map_err(|e| e.to_string())?;
    }
    w.close().map_err(|e| e.to_string())?;
    Ok(())
}
