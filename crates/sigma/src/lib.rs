//! taskhunt-sigma: Sigma rules, the whole specification, run on taskhunt events.
//!
//! Rules are parsed from YAML ([`rule`]), their values compiled through the modifiers
//! ([`modifiers`], [`pattern`]) into field tests ([`detection`]) combined by a condition
//! ([`condition`]). A [`RuleSet`] indexes rules by the channels and event ids their logsource
//! maps to ([`logsource`]) and evaluates each event through a [`view::View`] that applies
//! SigmaHQ's field mapping (Security 4688 seen as a process creation). Correlation rules and
//! filters ([`correlation`], [`filter`]) work on top of detections.

pub mod builtin;
pub mod condition;
pub mod convert;
pub mod correlate;
pub mod correlation;
pub mod detection;
pub mod explain;
pub mod filter;
pub mod lint;
pub mod logsource;
pub mod modifiers;
pub mod pattern;
pub mod prefilter;
pub mod rule;
pub mod ruleset;
pub mod view;

pub use correlate::CorrelationHit;
pub use modifiers::Placeholders;
pub use rule::{Level, Rule, RuleError};
pub use ruleset::{Hit, RuleSet, Source};
