//! A KQL query (`let` statements, the tabular expression, literals such as `datetime()` and
//! `dynamic()`), through `taskhunt-querylang`: the parser `taskhunt query` uses, without
//! DataFusion behind it. A parse error must point inside the text, and rendering it with its
//! caret must work for any text (multi-byte characters, control characters, no final newline).
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskhunt_querylang::kql::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse(text) {
        Ok(query) => {
            let _ = format!("{query:?}");
        }
        Err(e) => {
            let lines = text.split('\n').count();
            assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}", e.line);
            let line = text.split('\n').nth(e.line - 1).unwrap_or("");
            assert!(e.column >= 1 && e.column <= line.chars().count() + 1, "column {} of {line:?}", e.column);
            let _ = e.render(text);
        }
    }
});
