//! Named hunts: `.kql`, `.spl` and `.sql` files whose header comment gives a title, ATT&CK
//! techniques and a description. A pack is embedded in the binary; users add their own files.

use crate::engine::Lang;

#[derive(Debug, Clone)]
pub struct Hunt {
    pub name: String,
    pub title: String,
    pub attack: Vec<String>,
    pub description: String,
    pub lang: Lang,
    pub text: String,
}

const BUILTIN: &[(&str, &str)] = &[
    ("writeup-encoded-commands.kql", include_str!("../hunts/writeup-encoded-commands.kql")),
    ("writeup-rundll32.spl", include_str!("../hunts/writeup-rundll32.spl")),
    ("short-lived-tasks.kql", include_str!("../hunts/short-lived-tasks.kql")),
    ("tasks-from-public-folders.sql", include_str!("../hunts/tasks-from-public-folders.sql")),
    ("hidden-tasks.spl", include_str!("../hunts/hidden-tasks.spl")),
    ("rare-task-names.kql", include_str!("../hunts/rare-task-names.kql")),
    ("task-processes-network.sql", include_str!("../hunts/task-processes-network.sql")),
];

/// Parses a hunt file: `// key: value` (KQL), `# key: value` (SPL) or `-- key: value` (SQL)
/// header lines; continuation lines are indented.
pub fn parse(file_name: &str, text: &str) -> Option<Hunt> {
    let (stem, ext) = file_name.rsplit_once('.')?;
    let lang = match ext {
        "kql" => Lang::Kql,
        "spl" => Lang::Spl,
        "sql" => Lang::Sql,
        _ => return None,
    };
    let mut hunt = Hunt {
        name: stem.rsplit(['/', '\\']).next().unwrap_or(stem).to_string(),
        title: String::new(),
        attack: vec![],
        description: String::new(),
        lang,
        text: text.to_string(),
    };
    let mut last_key = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        let Some(body) = ["//", "--", "#"].iter().find_map(|p| t.strip_prefix(p)) else { break };
        let indented = body.starts_with("   ");
        let body = body.trim();
        match body.split_once(':') {
            Some((k, v)) if !indented && k.chars().all(|c| c.is_ascii_alphabetic()) => {
                last_key = k.to_ascii_lowercase();
                match last_key.as_str() {
                    "title" => hunt.title = v.trim().to_string(),
                    "attack" => hunt.attack = v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
                    "description" => hunt.description = v.trim().to_string(),
                    _ => {}
                }
            }
            _ if last_key == "description" => {
                hunt.description.push(' ');
                hunt.description.push_str(body);
            }
            _ => {}
        }
    }
    Some(hunt)
}

pub fn builtin() -> Vec<Hunt> {
    BUILTIN.iter().filter_map(|(n, t)| parse(n, t)).collect()
}

pub fn find(name: &str) -> Option<Hunt> {
    builtin().into_iter().find(|h| h.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_pack_parses() {
        let all = builtin();
        assert_eq!(all.len(), BUILTIN.len());
        let w = find("writeup-encoded-commands").unwrap();
        assert_eq!(w.lang, Lang::Kql);
        assert_eq!(w.attack, vec!["T1059.001", "T1027"]);
        assert!(w.description.ends_with("so read the rows."), "{}", w.description);
        assert!(all.iter().all(|h| !h.title.is_empty() && !h.attack.is_empty()));
    }
}
