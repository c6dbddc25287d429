//! Suspicious-task scoring: a 0–100 score made of named reasons, each with its weight and the
//! value that triggered it, so a hunter can verify a verdict in seconds. Weights, thresholds and
//! the allowlist live in a [`ScoringConfig`] that a YAML file can override (`docs/tasks.md`).

use crate::model::{Action, TaskDefinition, TriggerKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// informational < 20 ≤ low < 40 ≤ medium < 70 ≤ high < 90 ≤ critical.
    pub fn of(score: u32) -> Severity {
        match score {
            0..=19 => Severity::Informational,
            20..=39 => Severity::Low,
            40..=69 => Severity::Medium,
            70..=89 => Severity::High,
            _ => Severity::Critical,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One contribution to a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// Stable signal id (`user_writable_path`, `hidden`, ...), the key of its weight.
    pub signal: String,
    pub weight: i32,
    /// What was seen, in words, with the value (`action runs C:\Windows\Temp\x.exe`).
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Score {
    pub score: u32,
    pub severity: Severity,
    pub reasons: Vec<Reason>,
}

/// An allowlist entry: tasks whose name and action match are known good; they keep their
/// reasons and get a visible negative one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AllowEntry {
    /// Task path glob (`*` any run of characters), case-insensitive.
    pub name: String,
    /// Command glob; absent = any action (ComHandler tasks have none).
    #[serde(default)]
    pub command: Option<String>,
    /// Only tasks whose actions are all COM handlers.
    #[serde(default)]
    pub com_handler_only: bool,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ScoringConfig {
    /// Signal id → weight. Unknown ids in a user file are an error, so typos surface.
    pub weights: BTreeMap<String, i32>,
    /// Repetition at this interval or faster counts as frequent.
    pub frequent_repetition_minutes: u32,
    /// Local start hours (inclusive range) that count as odd for recurring triggers.
    pub odd_hours: (u32, u32),
    /// A task deleted within this many seconds of its creation.
    pub quick_delete_seconds: i64,
    pub allowlist: Vec<AllowEntry>,
}

pub const SIGNALS: &[(&str, i32, &str)] = &[
    (
        "user_writable_path",
        25,
        "an action runs from Temp, AppData, ProgramData, Users\\Public, the recycle bin, a shadow copy or a UNC share",
    ),
    ("random_name", 15, "the task name looks random (entropy, irregular case, consonant runs)"),
    ("guid_name", 10, "the task is named like a GUID outside \\Microsoft\\"),
    ("imitates_microsoft", 20, "a Microsoft-looking name outside \\Microsoft\\Windows\\"),
    ("encoded_powershell", 30, "PowerShell with -EncodedCommand or obfuscation"),
    ("powershell", 10, "PowerShell in the action"),
    ("lolbin", 20, "a living-off-the-land binary in the action"),
    ("script_host", 10, "a script host or command proxy that admins also use (wscript, cscript, forfiles)"),
    ("msiexec_url", 25, "msiexec installing from a URL"),
    ("url_or_ip", 20, "a URL or IP address in the action"),
    ("privileged_user_writable", 20, "SYSTEM or highest privileges running a user-writable binary"),
    ("system_principal", 5, "runs as SYSTEM"),
    ("hidden", 15, "the Hidden setting"),
    ("frequent_repetition", 15, "repeats every few minutes"),
    ("odd_hours", 10, "a recurring trigger at night"),
    ("quick_delete", 20, "deleted soon after creation"),
    ("remote_creation", 20, "created over the network"),
    ("unusual_creator", 15, "created by a process that rarely creates tasks"),
    ("com_handler_outside_microsoft", 10, "a COM-handler action outside \\Microsoft\\Windows\\"),
    ("com_hijack", 30, "the task's COM class was re-pointed in the registry"),
    ("tool_fingerprint", 20, "a trigger or action only a known attack tool writes"),
    ("allowlisted", -40, "a known-good task"),
];

impl Default for ScoringConfig {
    fn default() -> Self {
        ScoringConfig {
            weights: SIGNALS.iter().map(|(s, w, _)| (s.to_string(), *w)).collect(),
            frequent_repetition_minutes: 15,
            odd_hours: (0, 5),
            quick_delete_seconds: 600,
            allowlist: default_allowlist(),
        }
    }
}

fn allow(name: &str, command: Option<&str>, com_only: bool, reason: &str) -> AllowEntry {
    AllowEntry { name: name.into(), command: command.map(String::from), com_handler_only: com_only, reason: reason.into() }
}

fn default_allowlist() -> Vec<AllowEntry> {
    vec![
        allow("\\Microsoft\\Windows\\*", None, true, "Windows COM-handler task"),
        allow("\\Microsoft\\Windows\\*", Some("%windir%\\system32\\*"), false, "Windows task running a System32 binary"),
        allow("\\Microsoft\\Windows\\*", Some("C:\\Windows\\system32\\*"), false, "Windows task running a System32 binary"),
        allow(
            "\\GoogleUpdateTask*",
            Some("C:\\Program Files*\\Google\\Update\\GoogleUpdate.exe"),
            false,
            "Google updater in its install folder",
        ),
        allow(
            "\\MicrosoftEdgeUpdateTask*",
            Some("C:\\Program Files*\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe"),
            false,
            "Edge updater in its install folder",
        ),
        allow(
            "\\OneDrive * Update Task*",
            Some("*\\AppData\\Local\\Microsoft\\OneDrive\\OneDriveStandaloneUpdater.exe"),
            false,
            "OneDrive updater in its per-user folder",
        ),
        allow(
            "\\Adobe Acrobat Update Task",
            Some("C:\\Program Files*\\Common Files\\Adobe\\ARM\\*\\AdobeARM.exe"),
            false,
            "Adobe updater in its install folder",
        ),
    ]
}

impl ScoringConfig {
    /// Reads a YAML override: any subset of the fields; weights merge into the defaults.
    pub fn from_yaml(text: &str) -> Result<ScoringConfig, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Partial {
            weights: Option<BTreeMap<String, i32>>,
            frequent_repetition_minutes: Option<u32>,
            odd_hours: Option<(u32, u32)>,
            quick_delete_seconds: Option<i64>,
            allowlist: Option<Vec<AllowEntry>>,
            #[serde(default)]
            replace_allowlist: bool,
        }
        let p: Partial = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        let mut c = ScoringConfig::default();
        for (k, v) in p.weights.unwrap_or_default() {
            if !c.weights.contains_key(&k) {
                return Err(format!("unknown signal \"{k}\"; known: {}", SIGNALS.iter().map(|s| s.0).collect::<Vec<_>>().join(", ")));
            }
            c.weights.insert(k, v);
        }
        if let Some(v) = p.frequent_repetition_minutes {
            c.frequent_repetition_minutes = v;
        }
        if let Some(v) = p.odd_hours {
            c.odd_hours = v;
        }
        if let Some(v) = p.quick_delete_seconds {
            c.quick_delete_seconds = v;
        }
        if let Some(list) = p.allowlist {
            if p.replace_allowlist {
                c.allowlist = list;
            } else {
                c.allowlist.extend(list);
            }
        }
        Ok(c)
    }

    fn weight(&self, signal: &str) -> i32 {
        self.weights.get(signal).copied().unwrap_or(0)
    }
}

/// What is known about a task beyond its definition.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Image of the process that created the task, when known.
    pub creating_process: Option<String>,
    /// Evidence of creation over the network.
    pub remote: Option<String>,
    /// Seconds between creation and deletion.
    pub deleted_after: Option<i64>,
    /// Evidence that the task's COM class was re-pointed.
    pub com_hijack: Option<String>,
}

const USER_WRITABLE: &[&str] = &[
    "\\temp\\",
    "\\tmp\\",
    "%temp%",
    "%tmp%",
    "\\appdata\\",
    "%appdata%",
    "%localappdata%",
    "\\programdata\\",
    "%programdata%",
    "\\users\\public\\",
    "%public%",
    "\\$recycle.bin\\",
    "harddiskvolumeshadowcopy",
    "\\downloads\\",
    "\\desktop\\",
];
const LOLBINS: &[&str] =
    &["rundll32", "regsvr32", "mshta", "certutil", "bitsadmin", "installutil", "regasm", "msbuild", "cmstp", "odbcconf"];
/// Binaries that run other code but are also everyday administration tools in tasks (VBS
/// maintenance scripts, forfiles cleanups): a weaker signal.
const ADMIN_PROXIES: &[&str] = &["wscript", "cscript", "forfiles", "pcalua", "hh.exe"];
const UNUSUAL_CREATORS: &[&str] = &[
    "powershell.exe",
    "pwsh.exe",
    "wscript.exe",
    "cscript.exe",
    "mshta.exe",
    "rundll32.exe",
    "regsvr32.exe",
    "winword.exe",
    "excel.exe",
    "powerpnt.exe",
    "outlook.exe",
    "wmiprvse.exe",
    "w3wp.exe",
    "sqlservr.exe",
    "java.exe",
    "python.exe",
    "wmic.exe",
];
/// Leaf names of tasks Windows ships under \Microsoft\Windows\, often borrowed by implants.
const MICROSOFT_TASK_NAMES: &[&str] = &[
    "scheduleddefrag",
    "silentcleanup",
    "consolidator",
    "programdataupdater",
    "microsoft compatibility appraiser",
    "svcrestarttask",
    "msctfmonitor",
    "schedule scan",
    "automatic app update",
    "sqm-tasks",
    "proxy",
    "usbceip",
    "queuereporting",
    "uninstalldevicetask",
    "windows defender scheduled scan",
    "onedrive standalone update task",
    "xblgamesavetask",
    "scheduled start",
    "wsswapassessmenttask",
];

fn glob(pattern: &str, text: &str) -> bool {
    // Case-insensitive `*` glob, linear with backtracking to the last star.
    let (p, t): (Vec<char>, Vec<char>) = (pattern.to_lowercase().chars().collect(), text.to_lowercase().chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = ti;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn leaf(name: &str) -> &str {
    name.rsplit('\\').next().unwrap_or(name)
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return 0.0;
    }
    let mut counts = BTreeMap::new();
    for c in &chars {
        *counts.entry(*c).or_insert(0usize) += 1;
    }
    let n = chars.len() as f64;
    counts.values().map(|&c| c as f64 / n).map(|p| -p * p.log2()).sum()
}

/// Names like `CYAlyNSS`: at least two of high character entropy, irregular capitalisation
/// (runs of capitals glued to lowercase, unlike CamelCase), a run of five or more consonants,
/// or letters and digits alternating.
pub fn looks_random(name: &str) -> Option<String> {
    let n = leaf(name);
    let len = n.chars().count();
    if !(6..=64).contains(&len) || !n.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut signs = Vec::new();
    let unique = n.chars().collect::<std::collections::BTreeSet<_>>().len() as f64 / len as f64;
    let h = entropy(n);
    if h >= 2.5 && unique >= 0.75 {
        signs.push(format!("entropy {h:.2} bits/char"));
    }
    let b: Vec<char> = n.chars().collect();
    let mut irregular = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_uppercase() {
            let start = i;
            while i < b.len() && b[i].is_ascii_uppercase() {
                i += 1;
            }
            let run = i - start;
            let before_lower = start > 0 && b[start - 1].is_ascii_lowercase();
            let after_lower = i < b.len() && b[i].is_ascii_lowercase();
            if run >= 2 && (after_lower || before_lower) {
                irregular += 1;
            }
        } else {
            i += 1;
        }
    }
    if irregular >= 2 {
        signs.push("irregular capitalisation".into());
    }
    let lower = n.to_ascii_lowercase();
    let mut run = 0;
    let mut max_run = 0;
    for c in lower.chars() {
        if c.is_ascii_alphabetic() && !"aeiou".contains(c) {
            run += 1;
            max_run = max_run.max(run);
        } else {
            run = 0;
        }
    }
    if max_run >= 5 {
        signs.push(format!("{max_run} consonants in a row"));
    }
    let alternations = b.windows(2).filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit()).count();
    if alternations >= 3 {
        signs.push("letters and digits interleaved".into());
    }
    (signs.len() >= 2).then(|| signs.join(", "))
}

fn is_guid(name: &str) -> bool {
    let n = leaf(name).trim_matches(|c| c == '{' || c == '}');
    let parts: Vec<&str> = n.split('-').collect();
    parts.len() == 5 && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, l)| p.len() == l && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn has_url_or_ip(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    for scheme in ["http://", "https://", "ftp://", "\\\\"] {
        if let Some(i) = lower.find(scheme) {
            if scheme == "\\\\" {
                continue;
            }
            let url: String = text[i..].chars().take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\'').collect();
            return Some(url);
        }
    }
    // Dotted quads.
    for token in text.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() == 4 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u16>().is_ok_and(|v| v <= 255)) {
            return Some(token.to_string());
        }
    }
    None
}

/// Minutes of an ISO 8601 duration such as `PT10M`, `PT1H30M`, `P1D`.
pub fn duration_minutes(d: &str) -> Option<f64> {
    let d = d.trim().to_ascii_uppercase();
    let rest = d.strip_prefix('P')?;
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut total = 0.0;
    let mut num = String::new();
    for (part, is_time) in [(date, false), (time, true)] {
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
                continue;
            }
            let v: f64 = num.parse().ok()?;
            num.clear();
            total += v * match (c, is_time) {
                ('D', false) => 1440.0,
                ('W', false) => 10080.0,
                ('H', true) => 60.0,
                ('M', true) => 1.0,
                ('S', true) => 1.0 / 60.0,
                ('M', false) => 43200.0,
                ('Y', false) => 525600.0,
                _ => return None,
            };
        }
    }
    num.is_empty().then_some(total)
}

fn start_hour(boundary: &str) -> Option<u32> {
    let t = boundary.split_once('T')?.1;
    t.get(0..2)?.parse().ok()
}

/// Scores a task definition in its context.
pub fn score(def: &TaskDefinition, ctx: &Context, cfg: &ScoringConfig) -> Score {
    let mut reasons: Vec<Reason> = Vec::new();
    let mut add = |signal: &str, detail: String| {
        let weight = cfg.weight(signal);
        if weight != 0 && !reasons.iter().any(|r| r.signal == signal) {
            reasons.push(Reason { signal: signal.to_string(), weight, detail });
        }
    };
    let in_microsoft = def.name.to_ascii_lowercase().starts_with("\\microsoft\\windows\\");
    let commands: Vec<String> = def.actions.iter().filter_map(Action::command_line).collect();
    let mut user_writable = None;
    for cmd in &commands {
        let lower = cmd.to_ascii_lowercase();
        if let Some(hit) = USER_WRITABLE.iter().find(|p| lower.contains(*p)) {
            user_writable.get_or_insert_with(|| format!("action \"{cmd}\" contains \"{hit}\""));
        }
        let exe = executable(cmd);
        if exe.starts_with("\\\\") {
            user_writable.get_or_insert_with(|| format!("action runs from the UNC path \"{exe}\""));
        }
        if let Some(enc) = crate::powershell::find_encoded_command(cmd) {
            add("encoded_powershell", format!("{} {}… in \"{cmd}\"", enc.flag, enc.payload.chars().take(24).collect::<String>()));
        } else if ["frombase64string", "invoke-expression", "iex(", "iex (", "-join", "[char]"].iter().any(|o| lower.contains(o))
            && (lower.contains("powershell") || lower.contains("pwsh"))
        {
            add("encoded_powershell", format!("obfuscated PowerShell in \"{cmd}\""));
        } else if lower.contains("powershell") || lower.contains("pwsh") {
            add("powershell", format!("action \"{cmd}\""));
        }
        if let Some(bin) = LOLBINS.iter().find(|b| lower.contains(*b)) {
            add("lolbin", format!("{bin} in \"{cmd}\""));
        } else if let Some(bin) = ADMIN_PROXIES.iter().find(|b| lower.contains(*b)) {
            add("script_host", format!("{bin} in \"{cmd}\""));
        }
        if lower.contains("msiexec") && (lower.contains("http://") || lower.contains("https://")) {
            add("msiexec_url", format!("\"{cmd}\""));
        }
        if let Some(u) = has_url_or_ip(cmd) {
            add("url_or_ip", format!("{u} in \"{cmd}\""));
        }
    }
    let user = def.principal.user_id.clone().unwrap_or_default();
    let is_system = ["s-1-5-18", "system", "nt authority\\system", "localsystem"].contains(&user.to_ascii_lowercase().as_str());
    let highest = def.principal.run_level.as_deref().is_some_and(|r| r.eq_ignore_ascii_case("HighestAvailable"));
    if let Some(w) = &user_writable {
        add("user_writable_path", w.clone());
        if is_system || highest {
            add(
                "privileged_user_writable",
                format!(
                    "runs as {} ({}) and {w}",
                    if user.is_empty() { "?" } else { &user },
                    def.principal.run_level.as_deref().unwrap_or("LeastPrivilege")
                ),
            );
        }
    }
    if is_system {
        add("system_principal", format!("principal {user}"));
    }
    if let Some(why) = looks_random(&def.name) {
        add("random_name", format!("\"{}\": {why}", leaf(&def.name)));
    }
    if is_guid(&def.name) && !in_microsoft {
        add("guid_name", format!("\"{}\"", def.name));
    }
    let leaf_lower = leaf(&def.name).to_ascii_lowercase();
    if !in_microsoft
        && !def.name.is_empty()
        && (MICROSOFT_TASK_NAMES.contains(&leaf_lower.as_str()) || leaf_lower.starts_with("microsoft") || leaf_lower.starts_with("windows"))
        && !cfg.allowlist.iter().any(|a| glob(&a.name, &def.name))
    {
        add("imitates_microsoft", format!("\"{}\" is outside \\Microsoft\\Windows\\", def.name));
    }
    // Impacket's atexec hard-codes this StartBoundary.
    if def.triggers.iter().any(|t| t.start_boundary.as_deref() == Some("2015-07-15T20:35:13.2757294")) {
        add("tool_fingerprint", "StartBoundary 2015-07-15T20:35:13.2757294 is Impacket atexec's".into());
    }
    if def.settings.hidden {
        add("hidden", "<Hidden>true</Hidden>".into());
    }
    for t in &def.triggers {
        if let Some(mins) = t.repetition_interval.as_deref().and_then(duration_minutes)
            && mins <= cfg.frequent_repetition_minutes as f64
            && mins > 0.0
        {
            add("frequent_repetition", format!("repeats every {} ({mins} min)", t.repetition_interval.as_deref().unwrap_or("")));
        }
        let recurring = matches!(t.kind, TriggerKind::Daily | TriggerKind::Weekly | TriggerKind::Monthly | TriggerKind::MonthlyDayOfWeek);
        if recurring
            && let Some(h) = t.start_boundary.as_deref().and_then(start_hour)
            && (cfg.odd_hours.0..=cfg.odd_hours.1).contains(&h)
        {
            add(
                "odd_hours",
                format!(
                    "{} (start hour {h:02} is within {:02}-{:02})",
                    crate::describe::trigger_words(t),
                    cfg.odd_hours.0,
                    cfg.odd_hours.1
                ),
            );
        }
    }
    if let Some(secs) = ctx.deleted_after
        && secs <= cfg.quick_delete_seconds
    {
        add("quick_delete", format!("deleted {secs} s after creation"));
    }
    if let Some(r) = &ctx.remote {
        add("remote_creation", r.clone());
    }
    if let Some(p) = &ctx.creating_process {
        let image = leaf(p).to_ascii_lowercase();
        if UNUSUAL_CREATORS.contains(&image.as_str()) {
            add("unusual_creator", format!("created by {p}"));
        }
    }
    let com_only = !def.actions.is_empty() && def.actions.iter().all(|a| matches!(a, Action::ComHandler { .. }));
    if !in_microsoft && def.actions.iter().any(|a| matches!(a, Action::ComHandler { .. })) {
        add("com_handler_outside_microsoft", "ComHandler action".into());
    }
    if let Some(h) = &ctx.com_hijack {
        add("com_hijack", h.clone());
    }
    if let Some(a) = cfg.allowlist.iter().find(|a| {
        glob(&a.name, &def.name)
            && (!a.com_handler_only || com_only)
            && a.command.as_ref().is_none_or(|c| !commands.is_empty() && commands.iter().all(|cmd| glob(c, executable(cmd))))
    }) {
        add("allowlisted", format!("{} (allowlist entry \"{}\")", a.reason, a.name));
    }
    let total: i32 = reasons.iter().map(|r| r.weight).sum();
    let score = total.clamp(0, 100) as u32;
    reasons.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.signal.cmp(&b.signal)));
    Score { score, severity: Severity::of(score), reasons }
}

/// The executable part of a command line (first token, quotes removed).
fn executable(cmd: &str) -> &str {
    let t = cmd.trim_start();
    if let Some(rest) = t.strip_prefix('"') { rest.split('"').next().unwrap_or(rest) } else { t.split_whitespace().next().unwrap_or(t) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_names() {
        assert!(looks_random("\\CYAlyNSS").is_some());
        assert!(looks_random("\\GoogleUpdateTaskMachineCore").is_none());
        assert!(looks_random("\\SvcRestartTask").is_none());
        assert!(looks_random("\\Updater").is_none());
        assert!(looks_random("\\a8f3k2q9z1").is_some());
    }

    #[test]
    fn durations_and_severity() {
        assert_eq!(duration_minutes("PT10M"), Some(10.0));
        assert_eq!(duration_minutes("PT1H30M"), Some(90.0));
        assert_eq!(duration_minutes("P1D"), Some(1440.0));
        assert_eq!(duration_minutes("garbage"), None);
        assert_eq!(Severity::of(19), Severity::Informational);
        assert_eq!(Severity::of(20), Severity::Low);
        assert_eq!(Severity::of(69), Severity::Medium);
        assert_eq!(Severity::of(70), Severity::High);
        assert_eq!(Severity::of(90), Severity::Critical);
    }

    #[test]
    fn globbing() {
        assert!(glob("\\Microsoft\\Windows\\*", "\\microsoft\\windows\\Defrag\\ScheduledDefrag"));
        assert!(glob("C:\\Program Files*\\Google\\Update\\GoogleUpdate.exe", "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe"));
        assert!(!glob("\\GoogleUpdateTask*", "\\Evil\\GoogleUpdateTask"));
    }

    #[test]
    fn config_override_rejects_unknown_signals() {
        assert!(ScoringConfig::from_yaml("weights:\n  hiden: 5\n").unwrap_err().contains("unknown signal"));
        let c = ScoringConfig::from_yaml("weights:\n  hidden: 40\nodd_hours: [1, 4]\n").unwrap();
        assert_eq!(c.weights["hidden"], 40);
        assert_eq!(c.odd_hours, (1, 4));
        assert!(!c.allowlist.is_empty());
    }
}
