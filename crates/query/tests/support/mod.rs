//! What the corpus-level query tests share.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use taskhunt_query::{Engine, Lang};

/// A query's rows as text, sorted, so that answers compare whatever their order.
pub fn rows(engine: &Engine, lang: Lang, q: &str) -> Vec<Vec<String>> {
    let batches: Vec<RecordBatch> = engine.run(lang, q).unwrap_or_else(|e| panic!("{lang:?}: {}", e.render(q)));
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
