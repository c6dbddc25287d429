//! Pipelines: where a rule's events live in a target system (tables, indexes, sources) and what
//! its fields are called there.
//!
//! A rule becomes one or more branches, one per kind of event its logsource covers (process
//! creation is Sysmon 1 and Security 4688); each branch has its own filters and field names.

use super::ir::{Bool, Leaf, Test};
use super::{Lang, Unsupported};
use crate::logsource::{SECURITY, SYSMON, Scope, Target};
use crate::rule::Rule;
use crate::view::{FIELDS_4688_LACKS, Mapping};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pipeline {
    /// taskhunt's raw tables (`sysmon`, `security`, ...), original field names.
    Taskhunt,
    /// Microsoft Defender XDR advanced hunting (`DeviceProcessEvents`, ...).
    Defender,
    /// Microsoft Sentinel: `SecurityEvent` for the Security log, `WindowsEvent` for the others.
    Sentinel,
    /// Splunk with the Windows add-on: `source="XmlWinEventLog:<channel>"`, `EventCode`.
    SplunkWindows,
    /// Splunk CIM data models (`Endpoint.Processes`), through `tstats`.
    SplunkCim,
}

impl Pipeline {
    pub fn parse(s: &str) -> Option<Pipeline> {
        Some(match s {
            "taskhunt" => Pipeline::Taskhunt,
            "defender" => Pipeline::Defender,
            "sentinel" => Pipeline::Sentinel,
            "splunk-windows" => Pipeline::SplunkWindows,
            "splunk-cim" => Pipeline::SplunkCim,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Pipeline::Taskhunt => "taskhunt",
            Pipeline::Defender => "defender",
            Pipeline::Sentinel => "sentinel",
            Pipeline::SplunkWindows => "splunk-windows",
            Pipeline::SplunkCim => "splunk-cim",
        }
    }

    /// The pipeline used when none is named.
    pub fn default_for(lang: Lang) -> Pipeline {
        match lang {
            Lang::Kql => Pipeline::Defender,
            Lang::Spl => Pipeline::SplunkWindows,
            Lang::Sql => Pipeline::Taskhunt,
        }
    }

    pub fn supports(self, lang: Lang) -> bool {
        matches!(
            (self, lang),
            (Pipeline::Taskhunt, _)
                | (Pipeline::Defender, Lang::Kql | Lang::Sql)
                | (Pipeline::Sentinel, Lang::Kql)
                | (Pipeline::SplunkWindows | Pipeline::SplunkCim, Lang::Spl)
        )
    }
}

/// A column as the target names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Col {
    /// KQL: an expression to use instead of the name (Sentinel's `tostring(EventData.X)`).
    pub expr: Option<String>,
    /// Holds numbers (Defender's Long columns, the raw tables' EventID): compared as numbers.
    pub numeric: bool,
    /// Only exists where some event has the field (taskhunt's raw tables build their columns
    /// from the data), so KQL and SQL must not name it bare.
    pub optional: bool,
}

/// One kind of event of a rule, in the target.
#[derive(Debug, Clone)]
pub struct Branch {
    /// KQL / SQL table.
    pub table: String,
    /// SPL: the search prefix selecting the events (`index=sysmon`, `source="..."`).
    pub spl_source: String,
    /// The event log channel, for targets that query every event at once.
    pub channel: &'static str,
    pub cond: Bool,
    pub cols: BTreeMap<String, Col>,
}

/// The branches of a rule and what the pipeline could not keep exact.
pub struct Mapped {
    pub branches: Vec<Branch>,
    pub lossy: Vec<String>,
}

pub(super) enum Field {
    Col(String, Col),
    /// A column that only approximates the Sigma field (the reason is reported as lossy).
    Lossy(String, Col, String),
    /// The event never has it: tests on it are constants.
    Absent,
    /// The branch cannot be expressed; it is left out (lossy).
    DropBranch(String),
    Fail(String),
}

pub(super) struct Spec {
    table: String,
    spl_source: String,
    channel: &'static str,
    filters: Vec<Bool>,
    /// Sigma field name → target field.
    map: Box<dyn Fn(&str) -> Field>,
}

pub fn map(rule: &Rule, expr: &Bool, pipeline: Pipeline, lang: Lang) -> Result<Mapped, Unsupported> {
    let specs = match pipeline {
        Pipeline::Taskhunt => taskhunt(&rule.scope, lang)?,
        Pipeline::Defender => super::fieldmaps::defender(rule)?,
        Pipeline::Sentinel => super::fieldmaps::sentinel(&rule.scope)?,
        Pipeline::SplunkWindows => super::fieldmaps::splunk_windows(&rule.scope)?,
        Pipeline::SplunkCim => super::fieldmaps::splunk_cim(rule)?,
    };
    let mut lossy = Vec::new();
    let mut branches = Vec::new();
    for spec in specs {
        let mut cols: Cols = (BTreeMap::new(), Vec::new());
        let mut mapped = Vec::with_capacity(spec.filters.len() + 1);
        for f in &spec.filters {
            mapped.push(rename(f, &*spec.map, &mut cols)?);
        }
        match rename(expr, &*spec.map, &mut cols) {
            Ok(b) => mapped.push(b),
            Err(Renamed::Drop(why)) => {
                lossy.push(why);
                continue;
            }
            Err(Renamed::Fail(why)) => return Err(Unsupported::new(why)),
        }
        let cond = Bool::And(mapped).simplify();
        for why in cols.1 {
            if !lossy.contains(&why) {
                lossy.push(why);
            }
        }
        branches.push(Branch { table: spec.table, spl_source: spec.spl_source, channel: spec.channel, cond, cols: cols.0 });
    }
    // A branch that can never match says nothing; keep one so the query still names a source.
    if branches.len() > 1 {
        let live: Vec<Branch> = branches.iter().filter(|b| b.cond != Bool::Const(false)).cloned().collect();
        if !live.is_empty() {
            branches = live;
        } else {
            branches.truncate(1);
        }
    }
    if branches.is_empty() {
        return Err(Unsupported::new(lossy.join("; ")));
    }
    Ok(Mapped { branches, lossy })
}

/// The columns a branch uses, and the lossy notes of their mappings.
type Cols = (BTreeMap<String, Col>, Vec<String>);

pub(super) enum Renamed {
    Drop(String),
    Fail(String),
}

impl From<Unsupported> for Renamed {
    fn from(u: Unsupported) -> Self {
        Renamed::Fail(u.0)
    }
}

impl From<Renamed> for Unsupported {
    fn from(r: Renamed) -> Self {
        match r {
            Renamed::Drop(s) | Renamed::Fail(s) => Unsupported(s),
        }
    }
}

fn rename(b: &Bool, map: &dyn Fn(&str) -> Field, cols: &mut Cols) -> Result<Bool, Renamed> {
    Ok(match b {
        Bool::Const(c) => Bool::Const(*c),
        Bool::Not(x) => Bool::Not(Box::new(rename(x, map, cols)?)),
        Bool::And(xs) => Bool::And(xs.iter().map(|x| rename(x, map, cols)).collect::<Result<_, _>>()?),
        Bool::Or(xs) => Bool::Or(xs.iter().map(|x| rename(x, map, cols)).collect::<Result<_, _>>()?),
        Bool::Leaf(Leaf { field: None, test }) => Bool::leaf(None, test.clone()),
        Bool::Leaf(Leaf { field: Some(f), test }) => {
            let name = match resolve(f, map, cols)? {
                Some(n) => n,
                None => return Ok(Bool::Const(absent_truth(test))),
            };
            let test = match test {
                Test::FieldRef { other, kind, fold } => match resolve(other, map, cols)? {
                    Some(o) => Test::FieldRef { other: o, kind: *kind, fold: *fold },
                    None => return Ok(Bool::Const(false)),
                },
                t => t.clone(),
            };
            Bool::leaf(Some(&name), test)
        }
    })
}

fn resolve(f: &str, map: &dyn Fn(&str) -> Field, cols: &mut Cols) -> Result<Option<String>, Renamed> {
    match map(f) {
        Field::Col(name, col) => {
            cols.0.insert(name.clone(), col);
            Ok(Some(name))
        }
        Field::Lossy(name, col, why) => {
            cols.0.insert(name.clone(), col);
            if !cols.1.contains(&why) {
                cols.1.push(why);
            }
            Ok(Some(name))
        }
        Field::Absent => Ok(None),
        Field::DropBranch(why) => Err(Renamed::Drop(why)),
        Field::Fail(why) => Err(Renamed::Fail(why)),
    }
}

/// What a test says about a field the event does not have (as the matcher decides it).
fn absent_truth(t: &Test) -> bool {
    match t {
        Test::Null => true,
        Test::Exists(b) => !b,
        _ => false,
    }
}

/// Helpers the field maps share.
pub(super) fn plain(name: &str) -> Field {
    Field::Col(name.to_string(), Col { expr: None, numeric: false, optional: false })
}

pub(super) fn numeric(name: &str) -> Field {
    Field::Col(name.to_string(), Col { expr: None, numeric: true, optional: false })
}

pub(super) fn event_ids(field: &str, t: &Target) -> Option<Bool> {
    t.event_ids.map(|ids| Bool::leaf(Some(field), Test::IntIn(ids.iter().map(|i| i64::from(*i)).collect())))
}

pub(super) fn exact(field: &str, values: &[&str], fold: bool) -> Bool {
    Bool::Or(
        values
            .iter()
            .map(|v| Bool::leaf(Some(field), Test::Str { pieces: vec![crate::pattern::Piece::Lit(v.to_string())], fold }))
            .collect(),
    )
}

/// The fields of a process_creation rule as SigmaHQ maps them onto a 4688: renamed, computed
/// (not expressible as a column: the branch is dropped) or absent.
pub(super) fn field_4688(f: &str, rename: &dyn Fn(&str) -> Field) -> Field {
    match f {
        "Image" => rename("NewProcessName"),
        "ParentImage" => rename("ParentProcessName"),
        "ProcessId" | "ParentProcessId" | "IntegrityLevel" | "User" | "LogonId" => Field::DropBranch(format!(
            "the Security 4688 branch is left out: `{f}` of a 4688 is computed from several fields (hex ids, label SIDs, Target/Subject accounts), which the target cannot express as a column"
        )),
        f if FIELDS_4688_LACKS.contains(&f) => Field::Absent,
        f => rename(f),
    }
}

/// System header fields the raw tables carry as columns (the rest of the header they do not).
const RAW_HEADER_COLUMNS: &[&str] = &["Computer", "Channel", "Provider_Name"];
const SYSTEM_ONLY: &[&str] = &[
    "Provider_Guid",
    "EventID_Qualifiers",
    "Version",
    "Level",
    "Task",
    "Opcode",
    "Keywords",
    "TimeCreated_SystemTime",
    "Correlation_ActivityID",
    "Correlation_RelatedActivityID",
    "Execution_ProcessID",
    "Execution_ThreadID",
    "Security_UserID",
];

fn raw_table(channel: &str) -> &'static str {
    match channel {
        SYSMON => "sysmon",
        SECURITY => "security",
        "Microsoft-Windows-TaskScheduler/Operational" => "taskscheduler",
        "Microsoft-Windows-PowerShell/Operational" | "Windows PowerShell" => "powershell",
        "System" => "system",
        _ => "other",
    }
}

/// A field of taskhunt's raw tables.
fn raw_field(f: &str, lang: Lang) -> Field {
    match f {
        "EventID" | "EventRecordID" => numeric(f),
        f if RAW_HEADER_COLUMNS.contains(&f) => plain(f),
        // Columns the raw tables add that are no event field: the matcher never finds them.
        "_time" | "EventCode" | "source" => Field::Absent,
        f if SYSTEM_ONLY.contains(&f) => {
            Field::Fail(format!("`{f}` is in the System header, which taskhunt's raw tables do not carry as a column"))
        }
        // SQL cannot ask whether a column exists; KQL can (column_ifexists), SPL does not need to.
        f => Field::Col(f.to_string(), Col { expr: None, numeric: false, optional: lang != Lang::Spl }),
    }
}

fn taskhunt(scope: &Scope, lang: Lang) -> Result<Vec<Spec>, Unsupported> {
    let targets = match scope {
        Scope::Unmapped(why) => return Err(Unsupported::new(why.clone())),
        Scope::AnyWindows => {
            return Ok(vec![Spec {
                table: "main".into(),
                spl_source: "index=main".into(),
                channel: "",
                filters: vec![],
                map: Box::new(move |f| raw_field(f, lang)),
            }]);
        }
        Scope::Targets(t) => t,
    };
    let mut specs = Vec::new();
    for t in targets {
        let table = raw_table(t.channel);
        let mut filters: Vec<Bool> = event_ids("EventID", t).into_iter().collect();
        // Tables holding several channels need the channel named.
        if matches!(table, "other" | "powershell") {
            filters.push(exact("Channel", &[t.channel], false));
        }
        if let Some((field, values)) = t.extra {
            filters.push(exact(field, values, true));
        }
        let map: Box<dyn Fn(&str) -> Field> = match t.mapping {
            Mapping::Direct => Box::new(move |f| raw_field(f, lang)),
            Mapping::Process4688 => Box::new(move |f| field_4688(f, &|g| raw_field(g, lang))),
        };
        specs.push(Spec { table: table.into(), spl_source: format!("index={table}"), channel: t.channel, filters, map });
    }
    Ok(specs)
}

pub(super) fn spec(table: &str, spl_source: &str, channel: &'static str, filters: Vec<Bool>, map: Box<dyn Fn(&str) -> Field>) -> Spec {
    Spec { table: table.into(), spl_source: spl_source.into(), channel, filters, map }
}
