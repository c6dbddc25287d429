//! taskhunt-events: the ground every other taskhunt crate stands on.
//!
//! It reads Windows telemetry — `.evtx` files, evtx-dump JSON, Winlogbeat/ECS JSON and
//! Microsoft Defender Advanced Hunting exports, gzipped or not — into one [`Event`] model, and
//! maps events onto normalized tables named and shaped like Defender's (`DeviceProcessEvents`,
//! `DeviceEvents`, ...) plus raw per-source tables.
//!
//! Data flows one way: [`read`] (files → [`FileBatch`]es of events, with [`ReadIssue`]s for
//! anything damaged) → [`tables`] (events → rows). Nothing here knows about rules or queries.

pub mod limits;
pub mod model;
pub mod read;
pub mod tables;
pub mod testing;
pub mod text;

pub use model::{Event, FieldName, Fields, SourceFile, Timestamp, Value};
pub use read::{
    FileBatch, Format, IssueKind, Location, ReadIssue, ReadOptions, ReadSummary, read_bytes, read_bytes_as, read_file, read_file_as,
    read_file_parts, read_file_parts_as, read_paths, read_stored,
};
