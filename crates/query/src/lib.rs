//! taskhunt-query: hunts in KQL, SPL and SQL over the normalized tables, on Apache DataFusion.
//!
//! Events become Arrow tables ([`catalog`]); an [`engine::Engine`] registers them in a DataFusion
//! session. KQL ([`kql`]) and SPL ([`spl`]) are parsed into our own syntax trees and planned with
//! the DataFrame / logical-plan API (never rewritten into SQL text); SQL goes to DataFusion's
//! own parser. Sigma rules compile to DataFusion expressions over the raw tables ([`sigma`]).

pub mod catalog;
pub mod engine;
pub mod error;
pub mod export;
pub mod hunts;
pub mod kql;
pub mod portable;
pub mod sigma;
pub mod spl;
pub mod store;
#[doc(hidden)]
pub mod testing;

pub use catalog::{Catalog, CatalogBuilder};
pub use engine::{Engine, Lang};
pub use error::QueryError;

/// The DataFusion this crate plans with, for crates that extend its sessions (the cluster).
pub use datafusion;
/// The Arrow version the tables use (DataFusion's), for callers that read results.
pub use datafusion::arrow;
