//! taskhunt-correlate: from a task to its network traffic, as one scored incident.
//!
//! [`incident::build`] ties each task (from `taskhunt-tasks`) to the process chain that created
//! it, the processes it ran, their [`activity`] (files, registry, DNS, network), rare
//! [`domains`] and [`beacon`]s, and the Sigma detections among those events; [`behaviour`]
//! adds how the task's runs and actions changed over time.

pub mod activity;
pub mod beacon;
pub mod behaviour;
pub mod domains;
pub mod incident;

pub use incident::{Config, Incident, build};
