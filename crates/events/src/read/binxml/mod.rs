//! Our own decoder of evtx chunks: BinXML records straight to the event model.
//!
//! The evtx crate renders each record to JSON text, which `evtx_json` then parses and
//! flattens. This decoder reads the same bytes into the same [`Event`](crate::Event)s
//! without any JSON or XML text in between:
//!
//! - [`chunk`]: a chunk's header, checksums and records;
//! - [`build`]: BinXML token streams into trees, template definitions parsed once per chunk,
//!   and template instances filled in from their substitution values;
//! - [`values`]: the substitution values, and [`text`] their text;
//! - [`render`]: the evtx crate's JSON rules, walked over a record's tree as members handed
//!   to a sink;
//! - [`sink`]: members flattened into event fields (or, for the rare record that needs it,
//!   built into a JSON document first);
//! - [`names`]: the chunk's string table and the field names it gives;
//! - [`plan`]: the fields of records of one shape, recorded once per chunk from the first
//!   and filled from the values of the rest, so that most records skip `build` and `render`.
//!
//! Nothing here trusts the bytes: every read is checked, every recursion and every
//! allocation a record causes is bounded, and damage fails the record (or the chunk, when
//! its checksums fail), never the process. `tests/evtx_decoder.rs` holds the events to the
//! evtx crate's, record by record, on the whole corpus.

mod build;
pub(crate) mod chunk;
mod names;

pub(crate) use names::IntHasher;
mod plan;
mod render;
mod sink;
mod text;
mod tree;
mod values;

#[cfg(test)]
mod tests;
