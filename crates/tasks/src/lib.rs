//! taskhunt-tasks: scheduled tasks, understood.
//!
//! Task definitions come from everywhere a hunter finds them — Security 4698–4702 TaskContent,
//! Defender DeviceEvents, TaskScheduler/Operational, task XML files, PowerShell exports and
//! schtasks.exe command lines — into one [`TaskDefinition`]. [`score`] explains how suspicious
//! each one is, [`powershell`] peels encoded PowerShell, [`lineage`] builds process trees and
//! ties processes to the tasks that started them, and [`inventory`] audits tasks over time.

pub mod describe;
pub mod files;
pub mod inventory;
pub mod lineage;
pub mod model;
pub mod powershell;
pub mod schtasks;
pub mod score;
pub mod sources;
pub mod xml;

pub use model::{Action, Origin, OriginKind, Principal, Registration, Settings, TaskDefinition, Trigger, TriggerKind};
