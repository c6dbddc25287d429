//! Tables in a given row order when the events come in another: `taskhunt hunt` reads its input
//! a file at a time but queries see the rows as if every event had been sorted by time, host and
//! record id first (the order the hunt sorted them in when it held them all), so that a query
//! without an explicit order, or ordering with ties, answers the same either way.

use datafusion::arrow::array::{RecordBatch, UInt32Array};
use datafusion::arrow::compute::{concat_batches, take_record_batch};
use datafusion::arrow::datatypes::SchemaRef;
use std::sync::Arc;
use taskhunt_events::{Event, Timestamp};

/// Where a row goes: the event's time, computer and record id, then the order rows were added
/// in (so events with the same key keep it, as a stable sort would).
pub(crate) type RowKey = (Timestamp, Arc<str>, u64, u64);

pub(crate) fn key(e: &Event, seq: u64) -> RowKey {
    (e.timestamp, e.computer.clone(), e.record_id, seq)
}

/// `batches` (under `schema`) as one batch with its rows in key order; `None` only if Arrow
/// refuses batches that match their schema by construction.
pub(super) fn sort(schema: &SchemaRef, batches: &[RecordBatch], keys: &[RowKey]) -> Option<RecordBatch> {
    let all = concat_batches(schema, batches).ok()?;
    if all.num_rows() != keys.len() || u32::try_from(keys.len()).is_err() {
        return None;
    }
    let mut order: Vec<u32> = (0..keys.len() as u32).collect();
    // Keys are unique (the sequence number), so an unstable sort gives the one order.
    order.sort_unstable_by(|&a, &b| keys[a as usize].cmp(&keys[b as usize]));
    take_record_batch(&all, &UInt32Array::from(order)).ok()
}

/// A batch cut as the builders cut their tables: [`super::BATCH_ROWS`] rows a batch.
pub(super) fn cut(all: &RecordBatch) -> Vec<RecordBatch> {
    let n = all.num_rows();
    (0..n).step_by(super::BATCH_ROWS).map(|at| all.slice(at, super::BATCH_ROWS.min(n - at))).collect()
}
