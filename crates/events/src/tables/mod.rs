//! Normalized tables (Defender Advanced Hunting names) and raw per-source tables.

mod map;
mod schema;

pub use map::{POWERSHELL, POWERSHELL_CLASSIC, SECURITY, SYSMON, TASK_SCHEDULER};
pub use map::{Row, file_name, integrity_from_label, logon_type_name, long_hive, normalize, raw_table};
pub use schema::{ColumnType, RAW_HEADER, RAW_TABLES, TABLES, TableSchema, table};
