//! Task parts in words, as a hunter reads them in an inventory: "daily at 03:00, repeating
//! every 10 minutes", "C:\Windows\Temp\a.exe -x".

use crate::model::{Action, TaskDefinition, Trigger, TriggerKind};

fn time_of(boundary: Option<&str>) -> Option<String> {
    let t = boundary?.split_once('T')?.1;
    Some(t.get(0..5)?.to_string())
}

fn repeat_words(d: &str) -> String {
    match crate::score::duration_minutes(d) {
        Some(m) if m >= 1440.0 && m % 1440.0 == 0.0 => format!("every {} day(s)", m / 1440.0),
        Some(m) if m >= 60.0 && m % 60.0 == 0.0 => format!("every {} hour(s)", m / 60.0),
        Some(m) if m >= 1.0 => format!("every {m} minutes"),
        Some(m) => format!("every {} seconds", (m * 60.0).round()),
        None => format!("every {d}"),
    }
}

/// One trigger in words.
pub fn trigger_words(t: &Trigger) -> String {
    let at = time_of(t.start_boundary.as_deref()).map(|h| format!(" at {h}")).unwrap_or_default();
    let mut s = match t.kind {
        TriggerKind::Daily => match t.days_interval {
            Some(n) if n > 1 => format!("every {n} days{at}"),
            _ => format!("daily{at}"),
        },
        TriggerKind::Weekly => {
            let days = if t.days_of_week.is_empty() { String::new() } else { format!(" on {}", t.days_of_week.join(", ")) };
            match t.weeks_interval {
                Some(n) if n > 1 => format!("every {n} weeks{days}{at}"),
                _ => format!("weekly{days}{at}"),
            }
        }
        TriggerKind::Monthly => {
            format!("monthly on day {}{at}", if t.days_of_month.is_empty() { "?".into() } else { t.days_of_month.join(", ") })
        }
        TriggerKind::MonthlyDayOfWeek => format!("monthly on {}{at}", t.days_of_week.join(", ")),
        TriggerKind::Time => match t.start_boundary.as_deref() {
            Some(b) => format!("once at {}", b.replace('T', " ")),
            None => "once".into(),
        },
        TriggerKind::Boot => "at boot".into(),
        TriggerKind::Logon => match &t.detail {
            Some(u) => format!("at logon of {u}"),
            None => "at any logon".into(),
        },
        TriggerKind::Idle => "when idle".into(),
        TriggerKind::Event => "on an event".into(),
        TriggerKind::Registration => "when registered".into(),
        TriggerKind::SessionStateChange => format!("on session {}", t.detail.as_deref().unwrap_or("change")),
        TriggerKind::Other => format!("trigger {}", t.detail.as_deref().unwrap_or("?")),
    };
    if let Some(r) = &t.repetition_interval {
        s.push_str(&format!(", repeating {}", repeat_words(r)));
        if let Some(d) = &t.repetition_duration {
            s.push_str(&format!(" for {d}"));
        }
    }
    if let Some(d) = &t.delay {
        s.push_str(&format!(", delayed {d}"));
    }
    if !t.enabled {
        s.push_str(" (disabled)");
    }
    s
}

pub fn triggers_words(def: &TaskDefinition) -> String {
    def.triggers.iter().map(trigger_words).collect::<Vec<_>>().join("; ")
}

pub fn action_words(a: &Action) -> String {
    match a {
        Action::Exec { working_directory, .. } => {
            let cmd = a.command_line().unwrap_or_default();
            match working_directory {
                Some(w) => format!("{cmd} (in {w})"),
                None => cmd,
            }
        }
        Action::ComHandler { class_id, data } => match data {
            Some(d) => format!("COM {class_id} {d}"),
            None => format!("COM {class_id}"),
        },
        Action::Other { kind } => kind.clone(),
    }
}

pub fn actions_words(def: &TaskDefinition) -> String {
    def.actions.iter().map(action_words).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        let daily = Trigger {
            kind: TriggerKind::Daily,
            start_boundary: Some("2026-01-01T03:00:00".into()),
            days_interval: Some(1),
            ..Trigger::default()
        };
        assert_eq!(trigger_words(&daily), "daily at 03:00");
        let every10 = Trigger {
            kind: TriggerKind::Time,
            start_boundary: Some("2026-01-01T00:00:00".into()),
            repetition_interval: Some("PT10M".into()),
            ..Trigger::default()
        };
        assert_eq!(trigger_words(&every10), "once at 2026-01-01 00:00:00, repeating every 10 minutes");
    }
}
