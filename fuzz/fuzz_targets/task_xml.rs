//! Task XML as found in 4698 TaskContent, exports and `C:\Windows\System32\Tasks` files: the
//! tree parser, the one-task and many-task readers, and the export unescaping in front of them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskhunt_tasks::xml::{parse_task, parse_tasks, parse_tree, unescape_export};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = parse_tree(text);
    let _ = parse_tasks(text);
    if let Ok(task) = parse_task(text) {
        let _ = format!("{task:?}");
    }
    let unescaped = unescape_export(text);
    let _ = parse_task(&unescaped);
});
