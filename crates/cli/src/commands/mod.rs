pub mod decode;
pub mod detect;
pub mod events;
pub mod ingest;
pub mod query;
pub mod rules;
pub mod simulate;
pub mod tasks;
