//! Which regular expressions of the SigmaHQ rule set and of the built-in pack need the
//! backtracking engine (fancy-regex: look-around, back-references) instead of the regex crate.
//! Prints them, for docs/sigma.md.

use taskhunt_sigma::modifiers::{Regex, ValueTest};
use taskhunt_sigma::{Rule, RuleSet, Source, builtin};

const ACTIVE_FOLDERS: &[&str] = &["rules", "rules-threat-hunting", "rules-emerging-threats", "rules-compliance", "rules-placeholder"];

/// (field, engine) of every `re` value of a rule.
fn regexes(rule: &Rule) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    for test in rule.selections.iter().flat_map(|s| s.maps.iter().flatten()) {
        for v in test.values.iter().flatten() {
            let engine = match v {
                ValueTest::Regex(Regex::Fast(_)) => "fast",
                ValueTest::Regex(Regex::Backtracking(_)) => "backtracking",
                _ => continue,
            };
            out.push((test.field.clone().unwrap_or_default(), engine));
        }
    }
    out
}

fn report(set: &RuleSet, what: &str) -> Vec<String> {
    let mut backtracking = Vec::new();
    let mut with_re = 0;
    for r in &set.rules {
        let res = regexes(r);
        if !res.is_empty() {
            with_re += 1;
        }
        if res.iter().any(|(_, e)| *e == "backtracking") {
            backtracking.push(format!("{} ({})", r.meta.title, r.meta.path.display()));
        }
    }
    println!("{what}: {with_re} rules use `re`, {} need the backtracking engine", backtracking.len());
    for b in &backtracking {
        println!("  backtracking: {b}");
    }
    backtracking
}

#[test]
fn builtin_rules_stay_on_the_fast_engine() {
    let set = RuleSet::load(&builtin::sources(), None);
    assert!(report(&set, "built-in pack").is_empty());
}

#[test]
fn sigmahq_rules_by_regex_engine() {
    let Some(corpus) = taskhunt_events::testing::corpus("sigmahq_rules_by_regex_engine") else { return };
    let paths: Vec<_> = ACTIVE_FOLDERS.iter().map(|f| corpus.join("sigma").join(f)).collect();
    let sources: Vec<Source> = paths.iter().map(|p| Source::Path(p)).collect();
    let set = RuleSet::load(&sources, None);
    let backtracking = report(&set, "SigmaHQ");
    // A scan of the rule files for look-around (`(?=`, `(?!`, `(?<=`, `(?<!`), back-references
    // (`\1`...) and atomic or possessive forms finds none: the only inline group SigmaHQ uses is
    // `(?i)`. So every SigmaHQ regex runs on the linear-time engine.
    assert!(backtracking.is_empty(), "{backtracking:#?}");
}
