//! Inputs that once crashed the Sigma parsers (found while building the `sigma_condition` and
//! `sigma_rule` fuzz targets, see docs/fuzzing.md), kept so they stay fixed.

use std::path::Path;
use taskhunt_sigma::condition::{MAX_DEPTH, parse};
use taskhunt_sigma::rule::load_file;

fn names() -> Vec<String> {
    vec!["selection".to_string(), "filter".to_string()]
}

/// Runs `f` on a thread with a small stack, as rayon's workers have: a recursion bound that
/// only holds on the main thread's 8 MiB would not be a bound.
fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(512 * 1024).spawn(f).unwrap().join().expect("no stack overflow")
}

#[test]
fn deeply_nested_parentheses_are_an_error_not_a_stack_overflow() {
    // Was: `fatal runtime error: stack overflow` at about 10 000 levels (debug build).
    let text = format!("{}selection{}", "(".repeat(100_000), ")".repeat(100_000));
    let e = small_stack(move || parse(&text, &names())).unwrap_err();
    assert_eq!(e.offset, MAX_DEPTH, "points at the first `(` too deep");
    assert!(e.message.contains("nested more than 64 deep"), "{}", e.message);
}

#[test]
fn long_not_chains_are_an_error_not_a_stack_overflow() {
    let text = format!("{}selection", "not ".repeat(100_000));
    let e = small_stack(move || parse(&text, &names())).unwrap_err();
    assert_eq!(e.offset, 4 * MAX_DEPTH);
    assert!(e.message.contains("nested"));
}

#[test]
fn nesting_up_to_the_bound_still_parses() {
    let ok = format!("{}selection{} and not filter", "(".repeat(MAX_DEPTH - 1), ")".repeat(MAX_DEPTH - 1));
    assert!(parse(&ok, &names()).is_ok());
    let mixed = format!("{}selection{}", "not (".repeat(MAX_DEPTH / 2 - 1), ")".repeat(MAX_DEPTH / 2 - 1));
    assert!(parse(&mixed, &names()).is_ok());
}

#[test]
fn a_rule_file_with_a_hostile_condition_loads_as_an_error() {
    let yaml = format!(
        "title: deep\nlogsource:\n  product: windows\ndetection:\n  selection:\n    EventID: 1\n  condition: '{}selection{}'\n",
        "(".repeat(50_000),
        ")".repeat(50_000)
    );
    let docs = small_stack(move || {
        load_file(Path::new("deep.yml"), &yaml, None).into_iter().map(|d| d.err().map(|e| e.to_string())).collect::<Vec<_>>()
    });
    assert_eq!(docs.len(), 1);
    let err = docs[0].as_ref().expect("an error, not a rule");
    assert!(err.contains("nested more than 64 deep"), "{err}");
}
