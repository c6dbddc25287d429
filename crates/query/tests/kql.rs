//! KQL front end: every supported operator and function against hand-checked results, on
//! small tables built here and on the real corpus (expected values tallied from the
//! evtx_dump output of the corpus, not by a second query), plus error positions and hostile
//! input.

#[path = "kql/common.rs"]
mod common;
#[path = "kql/corpus.rs"]
mod corpus;
#[path = "kql/edges.rs"]
mod edges;
#[path = "kql/errors.rs"]
mod errors;
#[path = "kql/functions.rs"]
mod functions;
#[path = "kql/operators.rs"]
mod operators;
#[path = "kql/tabular.rs"]
mod tabular;
