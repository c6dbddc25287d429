//! Raw per-source tables (`sysmon`, `security`, ..., and `main`), built as the events stream by.
//!
//! A raw table's columns are the union of the field names its events carry, which is only known
//! at the end. Rather than keep every event until then (a copy of the whole input), each table
//! appends a column the first time a name appears and back-fills nulls for the rows before it;
//! a batch holds the columns known when it was cut, and `finish` pads older batches with null
//! columns. Columns only ever append, so each batch's columns are a prefix of the final list.

use super::order::RowKey;
use super::{BATCH_ROWS, timestamp_type};
use datafusion::arrow::array::{
    Array, ArrayRef, Int64Builder, RecordBatch, StringBuilder, TimestampNanosecondArray, TimestampNanosecondBuilder, UInt32Array,
    new_null_array,
};
use datafusion::arrow::compute::{concat_batches, take_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use std::collections::HashMap;
use std::sync::Arc;
use taskhunt_events::{Event, FieldName, Value};

/// Columns every raw table starts with, in this order; an event field of the same name is not
/// repeated as a column of its own.
pub(super) const RAW_FIXED: &[&str] = &["_time", "Computer", "Channel", "Provider_Name", "EventID", "EventCode", "EventRecordID", "source"];

pub(super) struct RawTableBuilder {
    time: TimestampNanosecondBuilder,
    computer: StringBuilder,
    channel: StringBuilder,
    provider: StringBuilder,
    event_id: Int64Builder,
    record_id: Int64Builder,
    source: StringBuilder,
    names: Vec<String>,
    index: HashMap<FieldName, Option<usize>>,
    columns: Vec<StringBuilder>,
    rows: usize,
    /// Batches cut so far; each has the fixed columns then a prefix of `names`.
    batches: Vec<RecordBatch>,
    /// Reused per row: whether each dynamic column has its value yet.
    filled: Vec<bool>,
    /// For a sorted catalog: every row's key, and per dynamic column the smallest key of a row
    /// with that field and the field's place in that row (where the column would have appeared
    /// had the rows come in key order).
    keys: Vec<RowKey>,
    first: Vec<Option<(RowKey, usize)>>,
}

impl RawTableBuilder {
    pub(super) fn new() -> Self {
        RawTableBuilder {
            time: TimestampNanosecondBuilder::new().with_timezone("UTC"),
            computer: StringBuilder::new(),
            channel: StringBuilder::new(),
            provider: StringBuilder::new(),
            event_id: Int64Builder::new(),
            record_id: Int64Builder::new(),
            source: StringBuilder::new(),
            names: Vec::new(),
            index: HashMap::new(),
            columns: Vec::new(),
            rows: 0,
            batches: Vec::new(),
            filled: Vec::new(),
            keys: Vec::new(),
            first: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, e: &Event, key: Option<RowKey>) {
        self.time.append_value(e.timestamp.unix_nanos() as i64);
        self.computer.append_value(&*e.computer);
        self.channel.append_value(&*e.channel);
        self.provider.append_value(&*e.provider);
        self.event_id.append_value(e.event_id as i64);
        self.record_id.append_value(e.record_id as i64);
        self.source.append_value(e.source.path.to_string_lossy());
        // Each column takes exactly one value per row: the fields fill theirs (names are unique
        // within an event), the rest get a null.
        self.filled.iter_mut().for_each(|f| *f = false);
        for (place, (name, value)) in e.fields.iter().enumerate() {
            let slot = match self.index.get(&name) {
                Some(slot) => *slot,
                None => {
                    let s = name.as_str();
                    let slot = (!RAW_FIXED.contains(&s)).then(|| {
                        let mut b = StringBuilder::new();
                        b.append_nulls(self.rows);
                        self.columns.push(b);
                        self.names.push(s.to_string());
                        self.filled.push(false);
                        self.first.push(None);
                        self.columns.len() - 1
                    });
                    self.index.insert(name, slot);
                    slot
                }
            };
            if let Some(i) = slot {
                if let Some(k) = &key
                    && self.first[i].as_ref().is_none_or(|(f, _)| k < f)
                {
                    self.first[i] = Some((k.clone(), place));
                }
                self.filled[i] = true;
                match value {
                    Value::Null => self.columns[i].append_null(),
                    Value::Str(s) => self.columns[i].append_value(s),
                    v => self.columns[i].append_value(v.to_text()),
                }
            }
        }
        for (b, _) in self.columns.iter_mut().zip(&self.filled).filter(|(_, f)| !**f) {
            b.append_null();
        }
        self.keys.extend(key);
        self.rows += 1;
        if self.rows == BATCH_ROWS {
            self.flush();
        }
    }

    fn schema_for(names: &[String]) -> SchemaRef {
        let mut fields = vec![
            Field::new("_time", timestamp_type(), false),
            Field::new("Computer", DataType::Utf8, true),
            Field::new("Channel", DataType::Utf8, true),
            Field::new("Provider_Name", DataType::Utf8, true),
            Field::new("EventID", DataType::Int64, false),
            Field::new("EventCode", DataType::Int64, false),
            Field::new("EventRecordID", DataType::Int64, true),
            Field::new("source", DataType::Utf8, true),
        ];
        fields.extend(names.iter().map(|n| Field::new(n, DataType::Utf8, true)));
        Arc::new(Schema::new(fields))
    }

    fn flush(&mut self) {
        if self.rows == 0 {
            return;
        }
        let event_id: ArrayRef = Arc::new(self.event_id.finish());
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(self.time.finish()),
            Arc::new(self.computer.finish()),
            Arc::new(self.channel.finish()),
            Arc::new(self.provider.finish()),
            event_id.clone(),
            event_id,
            Arc::new(self.record_id.finish()),
            Arc::new(self.source.finish()),
        ];
        arrays.extend(self.columns.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        // Builders and schema agree in count and type by construction.
        if let Ok(b) = RecordBatch::try_new(Self::schema_for(&self.names), arrays) {
            self.batches.push(b);
        }
        self.rows = 0;
    }

    /// The table: every batch under the final schema.
    pub(super) fn finish(mut self) -> RawTable {
        self.flush();
        let schema = Self::schema_for(&self.names);
        let batches: Vec<RecordBatch> = self.batches.into_iter().filter_map(|b| conform(&b, &schema)).collect();
        if self.keys.is_empty() {
            return RawTable { schema, batches };
        }
        // Columns in the order rows in key order would have made them.
        let mut columns: Vec<usize> = (0..self.names.len()).collect();
        columns.sort_by(|&a, &b| self.first[a].cmp(&self.first[b]));
        let names: Vec<String> = columns.iter().map(|&i| self.names[i].clone()).collect();
        let projection: Vec<usize> = (0..RAW_FIXED.len()).chain(columns.iter().map(|&i| RAW_FIXED.len() + i)).collect();
        let ordered = Self::schema_for(&names);
        let Some(all) = super::order::sort(&schema, &batches, &self.keys)
            .and_then(|all| all.project(&projection).ok())
            .and_then(|all| RecordBatch::try_new(ordered.clone(), all.columns().to_vec()).ok())
        else {
            return RawTable { schema, batches };
        };
        RawTable { schema: ordered, batches: super::order::cut(&all) }
    }
}

pub(super) struct RawTable {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

/// `batch` under `schema`: its columns taken by name, the ones it lacks as nulls. The arrays are
/// shared, not copied.
fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Option<RecordBatch> {
    let rows = batch.num_rows();
    let arrays = schema
        .fields()
        .iter()
        .map(|f| batch.column_by_name(f.name()).cloned().unwrap_or_else(|| new_null_array(f.data_type(), rows)))
        .collect();
    RecordBatch::try_new(schema.clone(), arrays).ok()
}

/// `main`, Splunk's default index: every raw table's rows under the union of their columns, in
/// time order (stable, so events of the same instant keep their reading order). The arrays are
/// shared with the per-source tables unless the rows need reordering.
pub(super) fn main_table(tables: &[&RawTable]) -> RawTable {
    let mut fields: Vec<Field> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for t in tables {
        for f in t.schema.fields() {
            if seen.insert(f.name().clone()) {
                fields.push(f.as_ref().clone());
            }
        }
    }
    if fields.is_empty() {
        let schema = RawTableBuilder::schema_for(&[]);
        return RawTable { schema, batches: Vec::new() };
    }
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let batches: Vec<RecordBatch> = tables.iter().flat_map(|t| t.batches.iter()).filter_map(|b| conform(b, &schema)).collect();
    if in_time_order(&batches) {
        return RawTable { schema, batches };
    }
    // Out of order (several sources interleaved in time): one sorted copy, cut into batches.
    let sorted = concat_batches(&schema, &batches)
        .ok()
        .and_then(|all| {
            let times = all.column(0).as_any().downcast_ref::<TimestampNanosecondArray>()?;
            // Stable: events of the same instant keep their reading order.
            let mut order: Vec<u32> = (0..all.num_rows() as u32).collect();
            order.sort_by_key(|&i| times.value(i as usize));
            take_record_batch(&all, &UInt32Array::from(order)).ok()
        })
        .map(|all| {
            let n = all.num_rows();
            (0..n).step_by(BATCH_ROWS).map(|at| all.slice(at, BATCH_ROWS.min(n - at))).collect()
        })
        .unwrap_or(batches);
    RawTable { schema, batches: sorted }
}

fn in_time_order(batches: &[RecordBatch]) -> bool {
    let mut last = i64::MIN;
    for b in batches {
        let Some(t) = b.column(0).as_any().downcast_ref::<TimestampNanosecondArray>() else { return false };
        for i in 0..t.len() {
            let v = t.value(i);
            if v < last {
                return false;
            }
            last = v;
        }
    }
    true
}
