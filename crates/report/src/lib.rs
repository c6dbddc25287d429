//! taskhunt-report: what a hunt hands the hunter — timelines, telemetry coverage and gaps,
//! ATT&CK Navigator layers, and the hunt report as Markdown and one self-contained HTML page.
//! Every string that comes from an event is attacker-controlled and escaped for its output.

pub mod attack;
pub mod coverage;
pub mod escape;
pub mod html;
pub mod markdown;
pub mod model;
pub mod navigator;
pub mod timeline;

pub use model::HuntReport;
