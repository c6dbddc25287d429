//! A Sigma rule file (any number of YAML documents: rules, correlations, filters), loaded as
//! `taskhunt detect --rules` loads it, linted as `taskhunt rules lint` does, and then run
//! against a few real events so the compiled matchers (modifiers, regexes, CIDRs) execute too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;
use taskhunt_events::{Event, read_bytes};
use taskhunt_sigma::{RuleSet, Source, lint::lint_file};

fn events() -> &'static [Event] {
    static EVENTS: OnceLock<Vec<Event>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        let dump = include_bytes!("../../crates/events/tests/fixtures/evtx_dump_records.jsonl");
        read_bytes(Path::new("events.jsonl"), dump.to_vec()).events
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let set = RuleSet::load(&[Source::Text { name: "fuzz.yml", text }], None);
    for event in events() {
        for hit in set.matches(event) {
            assert!(hit.rule < set.rules.len());
        }
    }
    let _ = lint_file(Path::new("fuzz.yml"), text);
});
