//! taskhunt-correlate: from a task to its network traffic, as one scored incident.
//!
//! [`domains`] says how rare a domain is, [`beacon`] how periodic a connection series is.

pub mod beacon;
pub mod domains;
