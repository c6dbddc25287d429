//! Task XML (MS-TSCH) → [`TaskDefinition`]: one `<Task>` (TaskContent of 4698, a file from
//! `C:\Windows\System32\Tasks`) or many (`schtasks /query /xml` wraps them in `<Tasks>` with a
//! comment naming each). Input is attacker-controlled: depth, node count and size are bounded,
//! entities other than XML's five predefined ones are refused (no expansion tricks).

use crate::model::*;
use quick_xml::events::Event as XmlEvent;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    /// Byte offset in the (unescaped) XML text where the problem was found.
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task XML at byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for XmlError {}

/// A minimal element tree.
#[derive(Debug, Default, Clone)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
    /// The comment right before this element (schtasks names tasks that way).
    pub comment: Option<String>,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.trim().to_string()).filter(|t| !t.is_empty())
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    match s.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => s.into_owned(),
    }
}

/// SIEM exports carry TaskContent HTML-escaped (`&lt;Task&gt;`): undo one level when the text
/// has no markup of its own.
pub fn unescape_export(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('<') || !text.contains("&lt;") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'");
    out = out.replace("&amp;", "&");
    std::borrow::Cow::Owned(out)
}

/// Parses XML text into its root element.
pub fn parse_tree(text: &str) -> Result<Node, XmlError> {
    // The bounds are taskhunt_events::limits' xml_bytes, xml_depth and xml_nodes.
    let limits = taskhunt_events::limits::current();
    if text.len() > limits.xml_bytes {
        let message = format!("{} bytes is over the {}-byte limit (xml_bytes)", text.len(), limits.xml_bytes);
        return Err(XmlError { offset: limits.xml_bytes, message });
    }
    let text = unescape_export(text);
    let mut reader = quick_xml::Reader::from_str(&text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut nodes = 0usize;
    let mut pending_comment: Option<String> = None;
    let err = |reader: &quick_xml::Reader<&[u8]>, message: String| XmlError { offset: reader.buffer_position() as usize, message };
    loop {
        let ev = reader.read_event().map_err(|e| err(&reader, e.to_string()))?;
        match ev {
            XmlEvent::Start(ref e) | XmlEvent::Empty(ref e) => {
                nodes += 1;
                if nodes > limits.xml_nodes {
                    return Err(err(&reader, format!("more than {} elements (limit xml_nodes)", limits.xml_nodes)));
                }
                let mut node = Node { name: local(e.name().as_ref()), comment: pending_comment.take(), ..Node::default() };
                for a in e.attributes().flatten() {
                    let v = a.unescape_value().map(|v| v.into_owned()).map_err(|x| err(&reader, x.to_string()))?;
                    node.attrs.push((local(a.key.as_ref()), v));
                }
                if matches!(ev, XmlEvent::Empty(_)) {
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(node);
                    }
                } else {
                    if stack.len() > limits.xml_depth {
                        return Err(err(&reader, format!("nesting deeper than {} (limit xml_depth)", limits.xml_depth)));
                    }
                    stack.push(node);
                }
            }
            XmlEvent::End(_) => {
                let node = stack.pop().ok_or_else(|| err(&reader, "unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Err(err(&reader, "unbalanced end tag".into())),
                }
            }
            XmlEvent::Text(t) => {
                let s = t.unescape().map_err(|x| err(&reader, x.to_string()))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            XmlEvent::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&c));
                }
            }
            XmlEvent::Comment(c) => pending_comment = Some(String::from_utf8_lossy(&c).trim().to_string()),
            XmlEvent::DocType(_) => return Err(err(&reader, "DOCTYPE declarations are not allowed in task XML".into())),
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err(XmlError {
            offset: text.len(),
            message: format!("document ends inside <{}>", stack.last().map(|n| n.name.as_str()).unwrap_or("?")),
        });
    }
    let mut document = stack.pop().unwrap_or_default();
    match document.children.len() {
        1 => Ok(document.children.remove(0)),
        n => Err(XmlError { offset: 0, message: format!("{n} root elements where one was expected") }),
    }
}

/// Parses one task document (`<Task>` root).
pub fn parse_task(text: &str) -> Result<TaskDefinition, XmlError> {
    let root = parse_tree(text)?;
    if root.name != "Task" {
        return Err(XmlError { offset: 0, message: format!("root element is <{}>, not <Task>", root.name) });
    }
    Ok(task_from_node(&root))
}

/// Parses one or many tasks (`<Tasks>` from `schtasks /query /xml`, names from the comments).
pub fn parse_tasks(text: &str) -> Result<Vec<TaskDefinition>, XmlError> {
    let root = parse_tree(text)?;
    match root.name.as_str() {
        "Task" => Ok(vec![task_from_node(&root)]),
        "Tasks" => Ok(root
            .children
            .iter()
            .filter(|c| c.name == "Task")
            .map(|c| {
                let mut t = task_from_node(c);
                if t.name.is_empty()
                    && let Some(name) = &c.comment
                {
                    t.name = name.clone();
                }
                t
            })
            .collect()),
        other => Err(XmlError { offset: 0, message: format!("root element is <{other}>, not <Task> or <Tasks>") }),
    }
}

fn parse_bool(s: Option<String>, default: bool) -> bool {
    match s.as_deref().map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => true,
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => false,
        _ => default,
    }
}

pub fn task_from_node(task: &Node) -> TaskDefinition {
    let mut def = TaskDefinition::default();
    if let Some(r) = task.child("RegistrationInfo") {
        def.registration = Registration {
            author: r.text_of("Author"),
            date: r.text_of("Date"),
            uri: r.text_of("URI"),
            source: r.text_of("Source"),
            description: r.text_of("Description"),
            security_descriptor: r.text_of("SecurityDescriptor"),
        };
        if let Some(uri) = &def.registration.uri {
            def.name = uri.clone();
        }
    }
    if let Some(ts) = task.child("Triggers") {
        def.triggers = ts.children.iter().map(trigger_from_node).collect();
    }
    if let Some(ps) = task.child("Principals") {
        // Actions name their principal by `Context`; with one principal (the norm) use it.
        let context = task.child("Actions").and_then(|a| a.attr("Context"));
        let p = context.and_then(|c| ps.children.iter().find(|p| p.attr("id") == Some(c))).or_else(|| ps.child("Principal"));
        if let Some(p) = p {
            def.principal = Principal {
                user_id: p.text_of("UserId"),
                group_id: p.text_of("GroupId"),
                logon_type: p.text_of("LogonType"),
                run_level: p.text_of("RunLevel"),
            };
        }
    }
    if let Some(s) = task.child("Settings") {
        def.settings = Settings {
            hidden: parse_bool(s.text_of("Hidden"), false),
            enabled: parse_bool(s.text_of("Enabled"), true),
            execution_time_limit: s.text_of("ExecutionTimeLimit"),
            wake_to_run: parse_bool(s.text_of("WakeToRun"), false),
            start_when_available: parse_bool(s.text_of("StartWhenAvailable"), false),
            delete_expired_task_after: s.text_of("DeleteExpiredTaskAfter"),
            multiple_instances_policy: s.text_of("MultipleInstancesPolicy"),
            priority: s.text_of("Priority").and_then(|p| p.parse().ok()),
        };
    }
    if let Some(a) = task.child("Actions") {
        def.actions = a
            .children
            .iter()
            .map(|x| match x.name.as_str() {
                "Exec" => Action::Exec {
                    command: x.text_of("Command").unwrap_or_default(),
                    arguments: x.text_of("Arguments"),
                    working_directory: x.text_of("WorkingDirectory"),
                },
                "ComHandler" => Action::ComHandler { class_id: x.text_of("ClassId").unwrap_or_default(), data: x.text_of("Data") },
                other => Action::Other { kind: other.to_string() },
            })
            .collect();
    }
    def
}

fn trigger_from_node(t: &Node) -> Trigger {
    let mut tr = Trigger {
        enabled: parse_bool(t.text_of("Enabled"), true),
        start_boundary: t.text_of("StartBoundary"),
        end_boundary: t.text_of("EndBoundary"),
        delay: t.text_of("Delay").or_else(|| t.text_of("RandomDelay")),
        ..Trigger::default()
    };
    if let Some(r) = t.child("Repetition") {
        tr.repetition_interval = r.text_of("Interval");
        tr.repetition_duration = r.text_of("Duration");
    }
    let names = |n: Option<&Node>| -> Vec<String> { n.map(|n| n.children.iter().map(|c| c.name.clone()).collect()).unwrap_or_default() };
    tr.kind = match t.name.as_str() {
        "TimeTrigger" => TriggerKind::Time,
        "BootTrigger" => TriggerKind::Boot,
        "LogonTrigger" => {
            tr.detail = t.text_of("UserId");
            TriggerKind::Logon
        }
        "IdleTrigger" => TriggerKind::Idle,
        "EventTrigger" => {
            tr.detail = t.text_of("Subscription");
            TriggerKind::Event
        }
        "RegistrationTrigger" => TriggerKind::Registration,
        "SessionStateChangeTrigger" => {
            tr.detail = t.text_of("StateChange");
            TriggerKind::SessionStateChange
        }
        "CalendarTrigger" => {
            if let Some(d) = t.child("ScheduleByDay") {
                tr.days_interval = d.text_of("DaysInterval").and_then(|v| v.parse().ok()).or(Some(1));
                TriggerKind::Daily
            } else if let Some(w) = t.child("ScheduleByWeek") {
                tr.weeks_interval = w.text_of("WeeksInterval").and_then(|v| v.parse().ok()).or(Some(1));
                tr.days_of_week = names(w.child("DaysOfWeek"));
                TriggerKind::Weekly
            } else if let Some(m) = t.child("ScheduleByMonth") {
                tr.days_of_month =
                    m.child("DaysOfMonth").map(|d| d.children.iter().map(|c| c.text.trim().to_string()).collect()).unwrap_or_default();
                tr.months = names(m.child("Months"));
                TriggerKind::Monthly
            } else if let Some(m) = t.child("ScheduleByMonthDayOfWeek") {
                tr.days_of_week = names(m.child("DaysOfWeek"));
                tr.months = names(m.child("Months"));
                TriggerKind::MonthlyDayOfWeek
            } else {
                TriggerKind::Time
            }
        }
        _ => {
            tr.detail = Some(t.name.clone());
            TriggerKind::Other
        }
    };
    tr
}

#[cfg(test)]
mod tests {
    use super::*;

    // The TaskContent of the corpus's atexec-style 4698 (Execution/temp_scheduled_task_4698_4699.evtx,
    // record 566836), abridged to the parts under test.
    const ATEXEC: &str = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\r\n  <Triggers>\r\n    <CalendarTrigger>\r\n      <StartBoundary>2015-07-15T20:35:13.2757294</StartBoundary>\r\n      <Enabled>true</Enabled>\r\n      <ScheduleByDay>\r\n        <DaysInterval>1</DaysInterval>\r\n      </ScheduleByDay>\r\n    </CalendarTrigger>\r\n  </Triggers>\r\n  <Principals>\r\n    <Principal id=\"LocalSystem\">\r\n      <UserId>S-1-5-18</UserId>\r\n      <RunLevel>HighestAvailable</RunLevel>\r\n      <LogonType>InteractiveToken</LogonType>\r\n    </Principal>\r\n  </Principals>\r\n  <Settings>\r\n    <Hidden>true</Hidden>\r\n    <Priority>7</Priority>\r\n  </Settings>\r\n  <Actions Context=\"LocalSystem\">\r\n    <Exec>\r\n      <Command>cmd.exe</Command>\r\n      <Arguments>/C tasklist &gt; %windir%\\Temp\\CYAlyNSS.tmp 2&gt;&amp;1</Arguments>\r\n    </Exec>\r\n  </Actions>\r\n</Task>";

    #[test]
    fn parses_the_atexec_task() {
        let t = parse_task(ATEXEC).unwrap();
        assert_eq!(t.triggers.len(), 1);
        assert_eq!(t.triggers[0].kind, TriggerKind::Daily);
        assert_eq!(t.triggers[0].days_interval, Some(1));
        assert_eq!(t.triggers[0].start_boundary.as_deref(), Some("2015-07-15T20:35:13.2757294"));
        assert_eq!(t.principal.user_id.as_deref(), Some("S-1-5-18"));
        assert_eq!(t.principal.run_level.as_deref(), Some("HighestAvailable"));
        assert!(t.settings.hidden);
        assert_eq!(t.settings.priority, Some(7));
        assert_eq!(t.actions[0].command_line().as_deref(), Some("cmd.exe /C tasklist > %windir%\\Temp\\CYAlyNSS.tmp 2>&1"));
    }

    #[test]
    fn html_escaped_exports_and_many_tasks() {
        let escaped = ATEXEC.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        assert_eq!(parse_task(&escaped).unwrap(), parse_task(ATEXEC).unwrap());
        let many = "<?xml version=\"1.0\"?><Tasks><!-- \\A --><Task><Actions><Exec><Command>a.exe</Command></Exec></Actions></Task>\
                    <!-- \\B\\C --><Task><Actions><ComHandler><ClassId>{X}</ClassId></ComHandler></Actions></Task></Tasks>";
        let ts = parse_tasks(many).unwrap();
        assert_eq!(ts.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), vec!["\\A", "\\B\\C"]);
        assert_eq!(ts[1].actions[0], Action::ComHandler { class_id: "{X}".into(), data: None });
    }

    #[test]
    fn hostile_xml_is_refused_with_a_reason() {
        assert!(parse_task("<Task><Actions>").unwrap_err().message.contains("ends inside"));
        assert!(parse_task("<Task></Actions>").is_err());
        let bomb = "<!DOCTYPE t [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><Task><Settings><Hidden>&b;</Hidden></Settings></Task>";
        assert!(parse_task(bomb).unwrap_err().message.contains("DOCTYPE"));
        let deep = "<Task>".to_string() + &"<a>".repeat(100) + &"</a>".repeat(100) + "</Task>";
        assert!(parse_task(&deep).unwrap_err().message.contains("deeper"));
        assert!(parse_task("<Task><Settings><Hidden>&custom;</Hidden></Settings></Task>").is_err());
        assert!(parse_task(&"x".repeat(taskhunt_events::limits::current().xml_bytes + 1)).is_err());
        assert!(parse_task("not xml at all").is_err());
    }
}
