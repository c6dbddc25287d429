//! The event model every reader produces and every analysis consumes.

mod event;
mod intern;
mod time;
mod value;

pub use event::{Event, Fields, SourceFile};
pub use intern::{FieldName, MAX_FIELD_NAMES};
pub use time::Timestamp;
pub use value::Value;
