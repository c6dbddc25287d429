//! Events → Arrow record batches: the normalized tables (Defender names and types) and the raw
//! per-source tables (original field names, all text), registered in a DataFusion context.

use datafusion::arrow::array::{ArrayRef, Int64Builder, StringBuilder, TimestampNanosecondBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use std::collections::BTreeMap;
use std::sync::Arc;
use taskhunt_events::tables::{self, ColumnType, RAW_TABLES, TableSchema};
use taskhunt_events::{Event, Value};

mod order;
mod raw;
use order::RowKey;
use raw::{RawTable, RawTableBuilder};

/// Rows per Arrow batch.
const BATCH_ROWS: usize = 64 * 1024;

pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

fn arrow_type(t: ColumnType) -> DataType {
    match t {
        ColumnType::Timestamp => timestamp_type(),
        ColumnType::String => DataType::Utf8,
        ColumnType::Long => DataType::Int64,
    }
}

pub fn normalized_schema(t: &TableSchema) -> SchemaRef {
    Arc::new(Schema::new(t.columns.iter().map(|(n, ty)| Field::new(*n, arrow_type(*ty), true)).collect::<Vec<_>>()))
}

enum ColumnBuilder {
    Ts(TimestampNanosecondBuilder),
    Str(StringBuilder),
    Long(Int64Builder),
}

impl ColumnBuilder {
    fn new(t: &DataType) -> ColumnBuilder {
        match t {
            DataType::Timestamp(..) => ColumnBuilder::Ts(TimestampNanosecondBuilder::new().with_timezone("UTC")),
            DataType::Int64 => ColumnBuilder::Long(Int64Builder::new()),
            _ => ColumnBuilder::Str(StringBuilder::new()),
        }
    }

    fn push(&mut self, v: Option<&Value>) {
        match self {
            ColumnBuilder::Ts(b) => {
                b.append_option(v.and_then(|v| taskhunt_events::Timestamp::parse(&v.to_text())).map(|t| t.unix_nanos() as i64))
            }
            ColumnBuilder::Long(b) => b.append_option(v.and_then(Value::as_i64)),
            ColumnBuilder::Str(b) => b.append_option(v.filter(|v| !v.is_null()).map(|v| v.to_text())),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Ts(b) => Arc::new(b.finish()),
            ColumnBuilder::Long(b) => Arc::new(b.finish()),
            ColumnBuilder::Str(b) => Arc::new(b.finish()),
        }
    }
}

/// Accumulates rows of one table into batches.
struct TableBuilder {
    schema: SchemaRef,
    columns: Vec<ColumnBuilder>,
    rows: usize,
    batches: Vec<RecordBatch>,
    /// Every row's key, for a builder made [`CatalogBuilder::sorted`]; empty otherwise.
    keys: Vec<RowKey>,
}

impl TableBuilder {
    fn new(schema: SchemaRef) -> Self {
        let columns = schema.fields().iter().map(|f| ColumnBuilder::new(f.data_type())).collect();
        TableBuilder { schema, columns, rows: 0, batches: Vec::new(), keys: Vec::new() }
    }

    fn push_row(&mut self, values: &[Option<&Value>], key: Option<RowKey>) {
        for (c, v) in self.columns.iter_mut().zip(values) {
            c.push(*v);
        }
        self.keys.extend(key);
        self.rows += 1;
        if self.rows == BATCH_ROWS {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.rows == 0 {
            return;
        }
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(ColumnBuilder::finish).collect();
        // Builders and schema always agree in count and type, so this cannot fail.
        if let Ok(b) = RecordBatch::try_new(self.schema.clone(), arrays) {
            self.batches.push(b);
        }
        self.rows = 0;
    }
}

/// Every table built from a set of events.
#[derive(Default)]
pub struct Catalog {
    pub tables: BTreeMap<String, (SchemaRef, Vec<RecordBatch>)>,
}

/// Builds the catalog as events stream by: nothing keeps the events themselves.
#[derive(Default)]
pub struct CatalogBuilder {
    normalized: BTreeMap<&'static str, TableBuilder>,
    raw: BTreeMap<&'static str, RawTableBuilder>,
    /// Events added so far, for a builder made [`sorted`](Self::sorted).
    sorted: Option<u64>,
}

impl CatalogBuilder {
    pub fn new() -> Self {
        let mut b = CatalogBuilder::default();
        for t in tables::TABLES {
            b.normalized.insert(t.name, TableBuilder::new(normalized_schema(t)));
        }
        b
    }

    /// A builder whose tables come out as [`new`](Self::new)'s would from the same events
    /// sorted by time, computer and record id (stably: events with the same three in the order
    /// added), for events that arrive in another order (a file at a time). Rows and raw-table
    /// columns are put in that order by [`finish`](Self::finish), which briefly needs a second
    /// copy of the largest table.
    pub fn sorted() -> Self {
        CatalogBuilder { sorted: Some(0), ..CatalogBuilder::new() }
    }

    pub fn add(&mut self, event: &Event) {
        let key = self.sorted.as_mut().map(|seq| {
            *seq += 1;
            order::key(event, *seq)
        });
        self.add_normalized(tables::normalize(event), key.clone());
        self.raw.entry(tables::raw_table(event)).or_insert_with(RawTableBuilder::new).push(event, key);
    }

    fn add_normalized(&mut self, row: Option<tables::Row>, key: Option<RowKey>) {
        if let Some(row) = row
            && let Some(t) = self.normalized.get_mut(row.table.name)
        {
            let values: Vec<Option<&Value>> = row.values.iter().map(|v| (!v.is_null()).then_some(v)).collect();
            t.push_row(&values, key);
        }
    }

    pub fn finish(mut self) -> Catalog {
        let mut catalog = Catalog::default();
        for (name, mut t) in std::mem::take(&mut self.normalized) {
            t.flush();
            let mut batches = t.batches;
            if !t.keys.is_empty()
                && let Some(all) = order::sort(&t.schema, &batches, &t.keys)
            {
                batches = order::cut(&all);
            }
            catalog.tables.insert(name.to_string(), (t.schema.clone(), batches));
        }
        let mut raw = std::mem::take(&mut self.raw);
        let built: Vec<(&str, RawTable)> =
            RAW_TABLES.iter().map(|name| (*name, raw.remove(name).unwrap_or_else(RawTableBuilder::new).finish())).collect();
        // `main` holds every event, as Splunk's default index would.
        let main = raw::main_table(&built.iter().map(|(_, t)| t).collect::<Vec<_>>());
        for (name, t) in built {
            catalog.tables.insert(name.to_string(), (t.schema, t.batches));
        }
        catalog.tables.insert("main".to_string(), (main.schema, main.batches));
        catalog
    }
}
