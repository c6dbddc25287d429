pub mod detect;
pub mod events;
pub mod rules;
