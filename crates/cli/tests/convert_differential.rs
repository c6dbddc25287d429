//! Converted rules run by taskhunt's own query engine find exactly what the native matcher
//! finds: every SigmaHQ Windows rule is converted with the `taskhunt` pipeline to KQL and to
//! SPL, each query runs over the corpus' raw tables, and its (rule, record) hits are compared
//! with `RuleSet::matches` on the same events. Rules that do not convert are listed with the
//! reason; lossy conversions are compared too, and reported, but only exact ones must agree.
//!
//! A second test does the same for the rules compiled to DataFusion expressions
//! (`taskhunt_query::sigma`), run with `Engine::sigma_hits`, sampled the same way (about 15 s in a
//! debug build, under a minute for all rules).
//!
//! Running every query takes about ten minutes in a debug build, so by default the queries run
//! for every rule the matcher finds something for and for every tenth other rule (all rules are
//! still converted); `TASKHUNT_CONVERT_ALL=1` runs them all (KQL 2256/2256 and SPL 2332/2332
//! exact conversions identical when last run in full).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;
use taskhunt_query::arrow::array::{Array, Int64Array, StringArray};
use taskhunt_query::sigma as sigma_exprs;
use taskhunt_query::{CatalogBuilder, Engine, Lang as QLang};
use taskhunt_sigma::convert::{self, Lang, Pipeline};
use taskhunt_sigma::logsource::Scope;
use taskhunt_sigma::{Rule, RuleSet, Source};

/// Whether any event of the rule's logsource is in the corpus.
fn live(rule: &Rule, present: &HashSet<(String, u32)>) -> bool {
    match &rule.scope {
        Scope::AnyWindows => true,
        Scope::Unmapped(_) => false,
        Scope::Targets(ts) => ts.iter().any(|t| match t.event_ids {
            Some(ids) => ids.iter().any(|id| present.contains(&(t.channel.to_string(), *id))),
            None => present.iter().any(|(c, _)| c == t.channel),
        }),
    }
}

type Key = (String, i64);

fn hits(engine: &Engine, lang: QLang, query: &str) -> Result<BTreeSet<Key>, String> {
    let q = match lang {
        QLang::Kql => format!("{query}\n| project source, EventRecordID"),
        _ => format!("{query} | table source EventRecordID"),
    };
    let batches = engine.run(lang, &q).map_err(|e| e.render(&q))?;
    let mut out = BTreeSet::new();
    for b in &batches {
        let src = b.column_by_name("source").and_then(|c| c.as_any().downcast_ref::<StringArray>()).ok_or("no source column")?;
        let rec = b.column_by_name("EventRecordID").and_then(|c| c.as_any().downcast_ref::<Int64Array>()).ok_or("no record column")?;
        for i in 0..b.num_rows() {
            out.insert((src.value(i).to_string(), rec.value(i)));
        }
    }
    Ok(out)
}

/// A failure reason without the names and values in it, to count reasons by kind.
fn reason_kind(r: &str) -> String {
    let mut out = String::new();
    let mut in_tick = false;
    for c in r.chars() {
        match c {
            '`' => {
                in_tick = !in_tick;
                if in_tick {
                    out.push_str("`X`");
                }
            }
            _ if in_tick => {}
            c => out.push(c),
        }
    }
    let out = out.split(" {").next().unwrap_or(&out).to_string();
    // Logsource reasons name the category or product; keep their kind.
    for p in ["no Windows event log records category", "product", "no channel known for service", "cidr", "regex"] {
        if out.starts_with(p) {
            return format!("{p} ...");
        }
    }
    out
}

#[derive(Default)]
struct Tally {
    converted: usize,
    lossy: usize,
    failed: BTreeMap<String, Vec<String>>,
    identical: usize,
    lossy_identical: usize,
    lossy_different: Vec<String>,
    mismatches: Vec<String>,
    query_errors: Vec<String>,
    /// Converted rules whose logsource has events in the corpus (their queries ran).
    run: usize,
    /// Converted rules without any event of their logsource in the corpus.
    not_run: usize,
    /// Converted rules whose query was left out of the default sample.
    sampled_out: usize,
    /// Of the exact rules with identical hit sets, those with hits, and their (rule, record) hits.
    identical_with_hits: usize,
    identical_hits: usize,
}

#[allow(clippy::too_many_arguments)]
impl Tally {
    /// The rules that failed (by reason, then each), and every difference and error.
    fn print_details(&self, failed: &str, error: &str) {
        eprintln!("{failed}, by reason:");
        for (kind, rules) in &self.failed {
            eprintln!("  {:5}  {kind}", rules.len());
        }
        eprintln!("{failed}:");
        for r in self.failed.values().flatten() {
            eprintln!("  {r}");
        }
        for d in &self.lossy_different {
            eprintln!("lossy and different: {d}");
        }
        for m in &self.mismatches {
            eprintln!("MISMATCH: {m}");
        }
        for q in &self.query_errors {
            eprintln!("{error}: {q}");
        }
    }
}

fn check_rule(
    t: &mut Tally,
    _ri: usize,
    rule: &Rule,
    lang: Lang,
    qlang: QLang,
    engine: &Engine,
    want: &BTreeSet<Key>,
    present: &HashSet<(String, u32)>,
    rules_dir: &std::path::Path,
    sampled: bool,
) {
    let name = format!("{} ({})", rule.meta.path.strip_prefix(rules_dir).unwrap_or(&rule.meta.path).display(), rule.meta.title);
    let c = match convert::convert(rule, lang, Pipeline::Taskhunt, None) {
        Ok(c) => c,
        Err(e) => {
            t.failed.entry(reason_kind(&e.reason)).or_default().push(format!("{name}: {}", e.reason));
            return;
        }
    };
    t.converted += 1;

    if !live(rule, present) {
        // No event of the rule's logsource is in the corpus, so the matcher finds nothing and
        // the query selects no row: identical by construction, and not run (running every
        // query costs minutes in a debug build).
        assert!(want.is_empty(), "{name}: hits without events of its logsource");
        t.not_run += 1;
        if c.lossy.is_empty() {
            t.identical += 1;
        } else {
            t.lossy += 1;
            t.lossy_identical += 1;
        }
        return;
    }
    if !sampled {
        t.sampled_out += 1;
        if !c.lossy.is_empty() {
            t.lossy += 1;
        }
        return;
    }
    t.run += 1;
    let t0 = Instant::now();
    let r = hits(engine, qlang, &c.query);
    // CONVERT_TIMING=1 prints each query's time, to find the slow ones.
    if std::env::var_os("CONVERT_TIMING").is_some() {
        eprintln!("{:?} {:.3}s {name}", lang, t0.elapsed().as_secs_f64());
    }
    let got = match r {
        Ok(g) => g,
        Err(e) => {
            t.query_errors.push(format!("{name}:\n{e}"));
            return;
        }
    };
    let same = &got == want;
    let diff = || {
        let only_native: Vec<_> = want.difference(&got).take(3).collect();
        let only_query: Vec<_> = got.difference(want).take(3).collect();
        format!("{name}: native {} query {}; only native {only_native:?}; only query {only_query:?}\n{}", want.len(), got.len(), c.query)
    };
    if c.lossy.is_empty() {
        if same {
            t.identical += 1;
        } else {
            t.mismatches.push(diff());
        }
    } else {
        t.lossy += 1;
        if same {
            t.lossy_identical += 1;
        } else {
            t.lossy_different.push(format!("{} [lossy: {}]", diff(), c.lossy.join("; ")));
        }
    }
}

/// What both tests share, loaded once per test binary: the corpus' raw tables in an engine, the
/// SigmaHQ Windows rules, and the native matcher's hits per rule.
struct Fixture {
    engine: Engine,
    set: RuleSet,
    rules_dir: PathBuf,
    native: HashMap<usize, BTreeSet<Key>>,
    /// (channel, event id) of every event of the corpus.
    present: HashSet<(String, u32)>,
}

fn fixture(test: &str) -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    // Checked per test, so that each says it is skipped.
    taskhunt_events::testing::corpus(test)?;
    FIXTURE.get_or_init(load_fixture).as_ref()
}

fn load_fixture() -> Option<Fixture> {
    let corpus = taskhunt_events::testing::corpus("convert_differential")?;
    let started = Instant::now();
    let mut events = Vec::new();
    let mut builder = CatalogBuilder::new();
    taskhunt_events::read_paths(
        &[corpus.join("evtx-attack-samples")],
        &Default::default(),
        |batch| {
            for e in batch.events {
                builder.add(&e);
                events.push(e);
            }
        },
        |_, _| {},
    );
    let engine = Engine::new(builder.finish(), taskhunt_events::Timestamp::from_ticks(0)).unwrap();
    {
        // Thousands of small queries over small tables: planning dominates and partitioning
        // only adds work; one partition and one optimizer pass give the same rows.
        let state = engine.ctx.state_ref();
        let mut state = state.write();
        let options = state.config_mut().options_mut();
        options.execution.target_partitions = 1;
        options.optimizer.max_passes = 1;
    }
    let rules_dir = corpus.join("sigma/rules/windows");
    let set = RuleSet::load(&[Source::Path(&rules_dir)], None);

    let present: HashSet<(String, u32)> = events.iter().map(|e| (e.channel.to_string(), e.event_id)).collect();
    let mut native: HashMap<usize, BTreeSet<Key>> = HashMap::new();
    for e in &events {
        for h in set.matches(e) {
            native.entry(h.rule).or_default().insert((e.source.path.to_string_lossy().into_owned(), e.record_id as i64));
        }
    }
    eprintln!(
        "{} events, {} rules ({} load errors), {} rules hit natively; loaded in {:.1}s",
        events.len(),
        set.rules.len(),
        set.errors.len(),
        native.len(),
        started.elapsed().as_secs_f64()
    );
    Some(Fixture { engine, set, rules_dir, native, present })
}

/// Whether a rule's query runs by default: every rule the matcher finds something for and every
/// tenth other rule; all of them with `TASKHUNT_CONVERT_ALL=1`.
fn sampled(fx: &Fixture, ri: usize) -> bool {
    std::env::var_os("TASKHUNT_CONVERT_ALL").is_some() || fx.native.contains_key(&ri) || ri % 10 == 0
}

#[test]
fn converted_rules_match_like_the_native_matcher() {
    let Some(fx) = fixture("converted_rules_match_like_the_native_matcher") else { return };
    let started = Instant::now();
    let Fixture { engine, set, rules_dir, native, present } = fx;
    let empty = BTreeSet::new();
    // KQL and SPL on two threads: the engine is shared, each query is planned and run alone.
    let tallies: Vec<(Lang, Tally)> = std::thread::scope(|scope| {
        let handles: Vec<_> = [(Lang::Kql, QLang::Kql), (Lang::Spl, QLang::Spl)]
            .into_iter()
            .map(|(lang, qlang)| {
                let empty = &empty;
                scope.spawn(move || {
                    let mut t = Tally::default();
                    for (ri, rule) in set.rules.iter().enumerate() {
                        let want = native.get(&ri).unwrap_or(empty);
                        check_rule(&mut t, ri, rule, lang, qlang, engine, want, present, rules_dir, sampled(fx, ri));
                    }
                    (lang, t)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut report = Vec::new();
    for (lang, t) in tallies {
        let failed: usize = t.failed.values().map(Vec::len).sum();
        eprintln!("\n===== {lang:?} (pipeline taskhunt) =====");
        eprintln!(
            "{} rules: {} converted ({} exact, {} lossy), {failed} failed; exact with identical hit sets: {}/{}; lossy with identical hit sets: {}/{}; query errors: {}; queries run: {} (not run, no event of their logsource in the corpus: {}; not run, left out of the sample: {})",
            set.rules.len(),
            t.converted,
            t.converted - t.lossy,
            t.lossy,
            t.identical,
            t.converted - t.lossy,
            t.lossy_identical,
            t.lossy,
            t.query_errors.len(),
            t.run,
            t.not_run,
            t.sampled_out
        );
        t.print_details("failed", "QUERY ERROR");
        report.push((lang, t.mismatches.len(), t.query_errors.len(), t.identical));
    }
    eprintln!("\ntook {:.1}s", started.elapsed().as_secs_f64());
    for (lang, mismatches, errors, identical) in report {
        assert!(identical > 0, "{lang:?}: nothing compared");
        assert_eq!((mismatches, errors), (0, 0), "{lang:?}: converted queries disagree with the native matcher or fail (see above)");
    }
}

/// A compiled rule's hits: the rows `Engine::sigma_hits` returns, as keys.
fn expr_hits(engine: &Engine, rule: &sigma_exprs::CompiledRule) -> Result<BTreeSet<Key>, String> {
    let batches = engine.sigma_hits(rule).map_err(|e| e.to_string())?;
    let mut out = BTreeSet::new();
    for b in &batches {
        let src = b.column_by_name("source").and_then(|c| c.as_any().downcast_ref::<StringArray>()).ok_or("no source column")?;
        let rec = b.column_by_name("EventRecordID").and_then(|c| c.as_any().downcast_ref::<Int64Array>()).ok_or("no record column")?;
        for i in 0..b.num_rows() {
            out.insert((src.value(i).to_string(), rec.value(i)));
        }
    }
    Ok(out)
}

/// The rules compiled to DataFusion expressions (`taskhunt_query::sigma`) find exactly what the
/// native matcher finds. Unlike the text queries, every sampled rule's plan runs, also those
/// whose logsource has no event in the corpus, so that each plan is at least built and run once.
#[test]
fn compiled_rules_match_like_the_native_matcher() {
    let Some(fx) = fixture("compiled_rules_match_like_the_native_matcher") else { return };
    let started = Instant::now();
    let empty = BTreeSet::new();
    let mut t = Tally::default();
    // Rules the matcher finds something for that do not compile: hits nothing here compares.
    let mut failed_with_hits = 0;
    for (ri, rule) in fx.set.rules.iter().enumerate() {
        let name = format!("{} ({})", rule.meta.path.strip_prefix(&fx.rules_dir).unwrap_or(&rule.meta.path).display(), rule.meta.title);
        let compiled = match sigma_exprs::compile(rule, None) {
            Ok(c) => c,
            Err(e) => {
                failed_with_hits += usize::from(fx.native.contains_key(&ri));
                t.failed.entry(reason_kind(&e.reason)).or_default().push(format!("{name}: {}", e.reason));
                continue;
            }
        };
        t.converted += 1;
        let exact = compiled.lossy.is_empty();
        if !exact {
            t.lossy += 1;
        }
        let want = fx.native.get(&ri).unwrap_or(&empty);
        if !live(rule, &fx.present) {
            assert!(want.is_empty(), "{name}: hits without events of its logsource");
            t.not_run += 1;
        }
        if !sampled(fx, ri) {
            t.sampled_out += 1;
            continue;
        }
        t.run += 1;
        let got = match expr_hits(&fx.engine, &compiled) {
            Ok(g) => g,
            Err(e) => {
                let filters: Vec<String> = compiled.branches.iter().map(|b| format!("{}: {}", b.table, b.filter)).collect();
                t.query_errors.push(format!("{name}: {e}\n{}", filters.join("\n")));
                continue;
            }
        };
        let same = &got == want;
        let diff = || {
            let only_native: Vec<_> = want.difference(&got).take(3).collect();
            let only_exprs: Vec<_> = got.difference(want).take(3).collect();
            let filters: Vec<String> = compiled.branches.iter().map(|b| format!("{}: {}", b.table, b.filter)).collect();
            format!(
                "{name}: native {} compiled {}; only native {only_native:?}; only compiled {only_exprs:?}\n{}",
                want.len(),
                got.len(),
                filters.join("\n")
            )
        };
        match (exact, same) {
            (true, true) => {
                t.identical += 1;
                if !want.is_empty() {
                    t.identical_with_hits += 1;
                    t.identical_hits += want.len();
                }
            }
            (true, false) => t.mismatches.push(diff()),
            (false, true) => t.lossy_identical += 1,
            (false, false) => t.lossy_different.push(format!("{} [lossy: {}]", diff(), compiled.lossy.join("; "))),
        }
    }
    let failed: usize = t.failed.values().map(Vec::len).sum();
    eprintln!("\n===== DataFusion expressions (taskhunt_query::sigma) =====");
    eprintln!(
        "{} rules: {} compiled ({} exact, {} lossy), {failed} not compiled; plans run: {} (left out of the sample: {}; of all compiled, without any event of their logsource in the corpus: {}); exact with identical hit sets: {} ({} of them with hits, {} (rule, record) hits in all); lossy with identical hit sets: {}; mismatches: {}; errors: {}",
        fx.set.rules.len(),
        t.converted,
        t.converted - t.lossy,
        t.lossy,
        t.run,
        t.sampled_out,
        t.not_run,
        t.identical,
        t.identical_with_hits,
        t.identical_hits,
        t.lossy_identical,
        t.mismatches.len(),
        t.query_errors.len(),
    );
    eprintln!("({failed_with_hits} rules not compiled have native hits)");
    t.print_details("not compiled", "PLAN ERROR");
    eprintln!("\ntook {:.1}s", started.elapsed().as_secs_f64());
    assert!(t.identical > 0, "nothing compared");
    assert_eq!((t.mismatches.len(), t.query_errors.len()), (0, 0), "compiled rules disagree with the native matcher or fail (see above)");
}
