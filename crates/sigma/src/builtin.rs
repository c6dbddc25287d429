//! taskhunt's own rule pack, embedded in the binary: scheduled-task abuse and the tradecraft
//! around it. The rules are ours; each names its ATT&CK techniques and false positives.

/// (file name, YAML text) of every built-in rule.
pub const RULES: &[(&str, &str)] = &[
    ("builtin/task_create_user_writable_path.yml", include_str!("../rules/task_create_user_writable_path.yml")),
    ("builtin/task_create_encoded_powershell.yml", include_str!("../rules/task_create_encoded_powershell.yml")),
    ("builtin/task_create_lolbin.yml", include_str!("../rules/task_create_lolbin.yml")),
    ("builtin/task_hidden.yml", include_str!("../rules/task_hidden.yml")),
    ("builtin/task_system_user_writable.yml", include_str!("../rules/task_system_user_writable.yml")),
    ("builtin/task_remote_atsvc.yml", include_str!("../rules/task_remote_atsvc.yml")),
    ("builtin/task_cache_tampering.yml", include_str!("../rules/task_cache_tampering.yml")),
    ("builtin/task_deleted_soon_after_creation.yml", include_str!("../rules/task_deleted_soon_after_creation.yml")),
    ("builtin/proc_encoded_powershell.yml", include_str!("../rules/proc_encoded_powershell.yml")),
    ("builtin/schtasks_create_suspicious.yml", include_str!("../rules/schtasks_create_suspicious.yml")),
];

pub fn sources() -> Vec<crate::Source<'static>> {
    RULES.iter().map(|(name, text)| crate::Source::Text { name, text }).collect()
}
