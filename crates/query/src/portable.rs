//! taskhunt's own scalar functions in a form that travels with a plan.
//!
//! KQL and SPL plans call functions DataFusion does not have (`has` on whole terms, KQL's
//! `tostring`, SPL's wildcard terms ...): one UDF type per language whose `Kind` carries its
//! parameters (operator, regex, format). A distributed engine (Ballista) serializes plans to
//! protobuf and finds functions on the other side by name, which is not enough for these: a
//! plan's `kql_match` may be `contains` or `has`, case-sensitive or not. [`encode_udf`] writes
//! the kind as JSON beside the name and [`decode_udf`] makes the same function again from it;
//! the cluster crate calls both from the extension codecs it installs on client, scheduler and
//! executors alike. Every other function (DataFusion's built-ins, which Sigma's compiled rules
//! use exclusively) is found by name as usual.

use datafusion::logical_expr::ScalarUDF;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Serialize, Deserialize)]
enum Portable {
    Kql(crate::kql::udf::Kind),
    Spl(crate::spl::udf::Kind),
}

/// The bytes that make `f` again, or `None` when `f` is not one of taskhunt's functions.
pub fn encode_udf(f: &ScalarUDF) -> Option<Vec<u8>> {
    let p = if let Some(k) = crate::kql::udf::kind_of(f) {
        Portable::Kql(k.clone())
    } else {
        Portable::Spl(crate::spl::udf::kind_of(f)?.clone())
    };
    serde_json::to_vec(&p).ok()
}

/// The function `encode_udf` wrote; an error names what could not be read (a regex that no
/// longer compiles, bytes from another version).
pub fn decode_udf(name: &str, bytes: &[u8]) -> Result<Arc<ScalarUDF>, String> {
    let p: Portable = serde_json::from_slice(bytes).map_err(|e| format!("function {name}: {e}"))?;
    let f = match p {
        Portable::Kql(k) => crate::kql::udf::udf(k),
        Portable::Spl(k) => crate::spl::udf::udf(k),
    };
    if f.name() != name {
        return Err(format!("function {name}: the bytes make {}", f.name()));
    }
    Ok(Arc::new(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kql::text::MatchOp;

    #[test]
    fn functions_survive_the_trip_with_their_parameters() {
        let kql = crate::kql::udf::udf(crate::kql::udf::Kind::Match { op: MatchOp::Has, cs: true });
        let bytes = encode_udf(&kql).unwrap();
        let back = decode_udf(kql.name(), &bytes).unwrap();
        assert_eq!(crate::kql::udf::kind_of(&back), Some(&crate::kql::udf::Kind::Match { op: MatchOp::Has, cs: true }));
        assert_ne!(crate::kql::udf::kind_of(&back), Some(&crate::kql::udf::Kind::Match { op: MatchOp::Contains, cs: true }));

        let re = crate::spl::udf::Re::new("(?i)^.*rundll32\\.exe$").unwrap();
        let spl = crate::spl::udf::udf(crate::spl::udf::Kind::Term(re.clone()));
        let back = decode_udf(spl.name(), &encode_udf(&spl).unwrap()).unwrap();
        assert_eq!(crate::spl::udf::kind_of(&back), Some(&crate::spl::udf::Kind::Term(re)));
        // A built-in is left to the function registry.
        assert!(encode_udf(&datafusion::functions::string::lower()).is_none());
        // A regex that does not compile is an error, not a panic.
        assert!(decode_udf("spl_term", br#"{"Spl":{"Term":"("}}"#).is_err());
    }
}
