//! What tests of the query engine share, here and in the crates above it (the cluster's).

use crate::{Engine, Lang};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// A query's rows as text, sorted, so that answers compare whatever their order; panics with
/// the rendered error when the query fails.
pub fn rows(engine: &Engine, lang: Lang, q: &str) -> Vec<Vec<String>> {
    let batches = engine.run(lang, q).unwrap_or_else(|e| panic!("{lang:?}: {}", e.render(q)));
    let opts = FormatOptions::default().with_null("");
    let mut out = Vec::new();
    for b in &batches {
        let f: Vec<ArrayFormatter> = b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap()).collect();
        for r in 0..b.num_rows() {
            out.push(f.iter().map(|x| x.value(r).to_string()).collect());
        }
    }
    out.sort();
    out
}
