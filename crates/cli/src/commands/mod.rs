pub mod detect;
pub mod events;
pub mod query;
pub mod rules;
