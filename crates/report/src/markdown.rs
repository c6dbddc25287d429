//! The hunt report as Markdown, following the write-up's structure with real evidence.

use crate::escape::{md_block, md_code};
use crate::model::HuntReport;
use std::fmt::Write;
use taskhunt_correlate::Incident;

fn t(ts: Option<taskhunt_events::Timestamp>) -> String {
    ts.map(|t| t.to_string()).unwrap_or_else(|| "?".into())
}

pub fn render(r: &HuntReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", r.title);
    let _ = writeln!(
        s,
        "Generated {} by taskhunt from {} files ({} events, {} skipped). Playbook: {}.\n",
        r.generated,
        r.files,
        r.records,
        r.skipped,
        md_code(&r.playbook.name)
    );

    s.push_str("## Why this activity stood out\n\n");
    if r.incidents.is_empty() {
        s.push_str("No incident reached the reporting threshold.\n\n");
    } else {
        let _ = writeln!(s, "{} incident(s), highest first:\n", r.incidents.len());
        for inc in r.incidents.iter().take(10) {
            let top: Vec<String> = inc.reasons.iter().take(3).map(|x| x.detail.clone()).collect();
            let _ = writeln!(
                s,
                "- **{}** {} {} on {}: {}",
                inc.id,
                inc.severity.as_str(),
                inc.score,
                md_code(&inc.hosts.join(", ")),
                md_code(&format!("{} — {}", inc.task_name, top.join("; ")))
            );
        }
        s.push('\n');
    }

    s.push_str("## Hypothesis\n\n");
    let _ = writeln!(s, "{}\n", r.playbook.hypothesis);

    s.push_str("## MITRE ATT&CK mapping\n\n| Technique | Name | Incidents |\n|---|---|---|\n");
    let mut techs: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for inc in &r.incidents {
        for tech in &inc.techniques {
            techs.entry(tech).or_default().push(&inc.id);
        }
    }
    for (id, name) in &r.playbook.attack {
        techs.entry(id).or_default();
        let _ = name;
    }
    for (id, incs) in &techs {
        let name = r.playbook.attack.iter().find(|(i, _)| i == id).map(|(_, n)| n.as_str()).unwrap_or(crate::attack::name(id));
        let _ = writeln!(s, "| {id} | {name} | {} |", if incs.is_empty() { "—".into() } else { incs.join(", ") });
    }
    s.push('\n');

    s.push_str("## Telemetry available\n\n| Host | Events | First | Last | Channels (event ids) |\n|---|---|---|---|---|\n");
    for h in &r.coverage.hosts {
        let chans: Vec<String> = h
            .channels
            .iter()
            .map(|(c, ids)| format!("{c}: {}", ids.iter().map(|(i, n)| format!("{i}×{n}")).collect::<Vec<_>>().join(" ")))
            .collect();
        let _ = writeln!(s, "| {} | {} | {} | {} | {} |", md_code(&h.host), h.events, t(h.first), t(h.last), md_code(&chans.join("; ")));
    }
    s.push_str("\n## Telemetry gaps\n\n");
    if r.coverage.gaps.is_empty() {
        s.push_str("None found.\n");
    }
    for g in &r.coverage.gaps {
        let on = if g.hosts.is_empty() { "all hosts".to_string() } else { g.hosts.join(", ") };
        let _ = writeln!(s, "- **{}** ({}): {}", g.what, md_code(&on), g.consequence);
    }
    s.push('\n');

    s.push_str("## Incidents\n\n");
    for inc in &r.incidents {
        incident(&mut s, inc);
    }

    s.push_str("## Hunting queries\n\n");
    for q in &r.queries {
        let _ = writeln!(s, "### {} ({})\n", q.title, q.lang);
        s.push_str(&md_block(&q.text, &q.lang));
        match &q.error {
            Some(e) => {
                let _ = writeln!(s, "\n\nFailed: {}\n", md_code(e));
            }
            None => {
                let _ = writeln!(s, "\n\n{} row(s).\n", q.rows);
                if !q.sample.is_empty() {
                    let _ = writeln!(
                        s,
                        "| {} |\n|{}",
                        q.columns.iter().map(|c| md_code(c)).collect::<Vec<_>>().join(" | "),
                        "---|".repeat(q.columns.len())
                    );
                    for row in &q.sample {
                        let _ = writeln!(s, "| {} |", row.iter().map(|c| md_code(c)).collect::<Vec<_>>().join(" | "));
                    }
                    s.push('\n');
                }
            }
        }
    }

    s.push_str("## Detection opportunities\n\n### Sigma rules that fired\n\n| Rule | Level | Detections | Hosts |\n|---|---|---|---|\n");
    for d in &r.detections {
        let _ = writeln!(s, "| {} | {} | {} | {} |", md_code(&d.rule_title), d.level, d.count, md_code(&d.hosts.join(", ")));
    }
    s.push_str("\n### Rules generated from the incidents\n\n");
    for g in &r.generated_rules {
        let _ = writeln!(s, "#### {}\n", g.incident);
        s.push_str(&md_block(&g.sigma, "yaml"));
        s.push_str("\n\nKQL:\n\n");
        s.push_str(&md_block(&g.kql, "kql"));
        s.push_str("\n\nSPL:\n\n");
        s.push_str(&md_block(&g.spl, "spl"));
        s.push_str("\n\n");
    }

    s.push_str("## Hypothesis validation\n\n");
    let serious = r.incidents.iter().filter(|i| i.score >= 70).count();
    if serious > 0 {
        let _ = writeln!(s, "Supported: {serious} incident(s) of high or critical severity match the hypothesis. {}\n", r.playbook.meaning);
    } else if !r.incidents.is_empty() {
        s.push_str("Not confirmed: incidents exist but none is high or critical; review them against the business context.\n\n");
    } else {
        s.push_str("Not supported by this data. Check the telemetry gaps before concluding the hypothesis is false.\n\n");
    }

    s.push_str("## Recommendations\n\n");
    for rec in &r.recommendations {
        let _ = writeln!(s, "- {rec}");
    }
    s
}

fn incident(s: &mut String, inc: &Incident) {
    let _ = writeln!(s, "### {} — {} ({} {})\n", inc.id, md_code(&inc.task_name), inc.severity.as_str(), inc.score);
    let _ = writeln!(s, "- Hosts: {}", md_code(&inc.hosts.join(", ")));
    let _ = writeln!(s, "- Seen: {} → {}", t(inc.first_seen), t(inc.last_seen));
    let _ = writeln!(s, "- Techniques: {}", inc.techniques.join(", "));
    if let Some(c) = &inc.campaign {
        let _ = writeln!(s, "- Campaign: {c}");
    }
    let task = &inc.task;
    let _ = writeln!(
        s,
        "- Task: state {:?}, created by {}, principal {}, run level {}, hidden {}",
        task.state,
        md_code(task.created_by.as_deref().unwrap_or("?")),
        md_code(task.principal.as_deref().unwrap_or("?")),
        md_code(task.run_level.as_deref().unwrap_or("?")),
        task.hidden
    );
    let _ = writeln!(s, "- Triggers: {}", md_code(&task.triggers));
    let _ = writeln!(s, "- Actions: {}\n", md_code(&task.actions));
    s.push_str("| Weight | Signal | Detail |\n|---|---|---|\n");
    for r in &inc.reasons {
        let _ = writeln!(s, "| {} | {} | {} |", r.weight, r.signal, md_code(&r.detail));
    }
    s.push('\n');
    for tree in &inc.process_trees {
        s.push_str(&md_block(tree, "text"));
        s.push_str("\n\n");
    }
    for d in &inc.decoded {
        s.push_str("Decoded command:\n\n");
        for layer in &d.layers {
            let _ = writeln!(s, "- {:?}: {}", layer.kind, md_code(&layer.text.chars().take(400).collect::<String>()));
        }
        let iocs: Vec<&String> = d.iocs.urls.iter().chain(&d.iocs.domains).chain(&d.iocs.ips).chain(&d.iocs.paths).collect();
        if !iocs.is_empty() {
            let _ = writeln!(s, "- IOCs: {}", iocs.iter().map(|i| md_code(i)).collect::<Vec<_>>().join(", "));
        }
        s.push('\n');
    }
    if !inc.domains.is_empty() || !inc.beacons.is_empty() {
        s.push_str("| Destination | Hosts / fleet | Notes |\n|---|---|---|\n");
        for d in &inc.domains {
            let _ = writeln!(
                s,
                "| {} | {} / {} | {} |",
                md_code(&d.name),
                d.rarity.hosts,
                d.rarity.fleet,
                md_code(&d.rarity.reasons.join("; "))
            );
        }
        for b in &inc.beacons {
            let _ = writeln!(
                s,
                "| {} | — | {} |",
                md_code(&b.destination),
                md_code(&format!(
                    "beacon score {:.2} over {} connections, every {:.0}s",
                    b.score.score, b.score.connections, b.score.median_interval_secs
                ))
            );
        }
        s.push('\n');
    }
    if !inc.detections.is_empty() {
        s.push_str("Sigma detections:\n\n");
        for d in &inc.detections {
            let _ = writeln!(s, "- {} ({}) on {}:{}", md_code(&d.title), d.level, md_code(&d.file), d.record_id);
        }
        s.push('\n');
    }
    s.push_str("| Time | Host | Role | Event | Summary |\n|---|---|---|---|---|\n");
    for e in inc.events.iter().take(200) {
        let _ = writeln!(s, "| {} | {} | {} | {} | {} |", e.time, md_code(&e.host), e.role, e.event_id, md_code(&e.summary));
    }
    if inc.events.len() > 200 {
        let _ = writeln!(s, "\n({} more events in timeline.csv)", inc.events.len() - 200);
    }
    s.push('\n');
}
