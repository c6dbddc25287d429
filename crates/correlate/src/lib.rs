//! taskhunt-correlate: from a task to its network traffic, as one scored incident.
//!
//! [`incident::build`] ties each task (from `taskhunt-tasks`) to the process chain that created
//! it, the processes it ran, their [`activity`] (files, registry, DNS, network), rare
//! [`domains`] and [`beacon`]s, and the Sigma detections among those events; [`behaviour`]
//! adds how the task's runs and actions changed over time. [`reduce`] makes the same incidents
//! in bounded memory: a pass over the input a host at a time keeps only what incidents are
//! made of, and [`incident::build_with`] runs on that; [`fleet`] does it a group of hosts at a
//! time.

pub mod activity;
pub mod beacon;
pub mod behaviour;
pub mod domains;
pub mod fleet;
pub mod incident;
pub mod reduce;

pub use fleet::{FleetPlan, FleetRun, fleet_incidents, group_incidents};
pub use incident::{Config, FleetContext, Incident, build, build_with};
pub use reduce::{ReduceConfig, Reduced, Reducer};
