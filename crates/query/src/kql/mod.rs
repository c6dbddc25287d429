//! KQL front end: parse, then plan onto DataFusion's DataFrame API.
use crate::engine::Engine;
use crate::error::QueryError;
use datafusion::prelude::DataFrame;

pub fn plan(_engine: &Engine, _text: &str) -> Result<DataFrame, QueryError> {
    Err(QueryError::plain("KQL is not available yet"))
}
