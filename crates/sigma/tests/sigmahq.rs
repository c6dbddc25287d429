//! The SigmaHQ rule set as published: every active rule loads.

use std::collections::BTreeMap;
use taskhunt_sigma::{RuleSet, Source};

const ACTIVE_FOLDERS: &[&str] = &["rules", "rules-threat-hunting", "rules-emerging-threats", "rules-compliance", "rules-placeholder"];

#[test]
fn every_active_sigmahq_rule_loads() {
    let Some(corpus) = taskhunt_events::testing::corpus("every_active_sigmahq_rule_loads") else { return };
    let paths: Vec<_> = ACTIVE_FOLDERS.iter().map(|f| corpus.join("sigma").join(f)).collect();
    let sources: Vec<Source> = paths.iter().map(|p| Source::Path(p)).collect();
    let started = std::time::Instant::now();
    let set = RuleSet::load(&sources, None);
    let elapsed = started.elapsed();
    let inactive: Vec<_> = set.rules.iter().filter(|r| r.inactive.is_some()).collect();
    let mut unmapped: BTreeMap<String, usize> = BTreeMap::new();
    for r in &set.rules {
        if let taskhunt_sigma::logsource::Scope::Unmapped(why) = &r.scope {
            *unmapped.entry(why.clone()).or_default() += 1;
        }
    }
    println!(
        "SigmaHQ: {} rules loaded ({} active, {} inactive), {} rejected, {} correlations, in {:?}",
        set.rules.len(),
        set.active_rules(),
        inactive.len(),
        set.errors.len(),
        set.correlations.len(),
        elapsed
    );
    for e in &set.errors {
        println!("  rejected: {e}");
    }
    for r in &inactive {
        println!("  inactive: {} ({})", r.meta.title, r.inactive.as_deref().unwrap_or(""));
    }
    for (why, n) in &unmapped {
        println!("  no Windows mapping: {n} rules: {why}");
    }
    assert!(set.errors.is_empty(), "{} rules rejected", set.errors.len());
    assert_eq!(set.rules.len(), 3780, "the corpus README counts 3,780 active rules");
    // Exactly the rules with `|expand` values wait for placeholder values (23 of the 25 live in
    // rules-placeholder, per the rule-set statistics in shared/notes/sigma.md).
    let uses_expand = |r: &taskhunt_sigma::Rule| {
        r.selections
            .iter()
            .flat_map(|s| s.maps.iter().flatten())
            .any(|t| t.modifiers.contains(&taskhunt_sigma::modifiers::Modifier::Expand))
    };
    assert!(inactive.iter().all(|r| uses_expand(r)));
    assert_eq!(inactive.len(), set.rules.iter().filter(|r| uses_expand(r)).count());
    assert_eq!(inactive.len(), 25);
}
