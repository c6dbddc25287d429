//! A process command line, as `taskhunt tasks` reads schtasks / at / Register-ScheduledTask
//! from process events: argument splitting and every task command in the line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskhunt_tasks::schtasks::{parse_all, parse_command_line, split_args};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = split_args(text);
    let all = parse_all(text);
    let best = parse_command_line(text);
    assert_eq!(best.is_some(), !all.is_empty());
    if let Some(best) = best {
        assert!(all.contains(&best));
    }
});
