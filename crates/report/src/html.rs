//! The hunt report as one self-contained HTML page: no scripts, no fetches, inline CSS and an
//! inline SVG timeline; process trees and event lists fold with `<details>`. Every string from
//! an event goes through [`html`](crate::escape::html).

use crate::escape::{html, html_pre};
use crate::model::HuntReport;
use std::fmt::Write;
use taskhunt_correlate::Incident;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f23;background:#f6f7f9}\
header{background:#1f2a44;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}\
main{padding:18px 28px;max-width:1280px}section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:14px 18px;margin:14px 0}\
h2{font-size:18px;margin:4px 0 10px}h3{font-size:16px;margin:10px 0 6px}table{border-collapse:collapse;width:100%;margin:6px 0}\
td,th{border-bottom:1px solid #e6e8eb;padding:4px 6px;text-align:left;vertical-align:top;font-size:13px;overflow-wrap:anywhere}\
th{background:#f0f2f5;white-space:nowrap;overflow-wrap:normal}td.nw{white-space:nowrap;overflow-wrap:normal}\
code,pre{font:12px/1.4 ui-monospace,Consolas,monospace;overflow-wrap:anywhere}pre{background:#f3f4f6;padding:8px;overflow:auto;white-space:pre-wrap;word-break:break-all}\
.sev{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:12px;white-space:nowrap}\
.critical{background:#8b0000}.high{background:#d00000}.medium{background:#e08a00}.low{background:#a0a000}.informational{background:#6b7280}\
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px 16px;min-width:140px}\
.card b{display:block;font-size:22px}details summary{cursor:pointer;font-weight:600;margin:6px 0}.more{color:#6b7280}\
.k-task{color:#1f2a44}.k-process{color:#2563eb}.k-network{color:#d00000}.k-dns{color:#e08a00}.k-other{color:#6b7280}";

/// Query result cells longer than this are cut in the page (the whole row is in the data).
const CELL_CHARS: usize = 400;

/// Above this many process trees, an incident shows the first two and folds the rest.
const OPEN_TREES: usize = 3;

/// `s` cut to `n` characters, with how much was left out.
fn cut(s: &str, n: usize) -> String {
    let total = s.chars().count();
    if total <= n {
        return html(s);
    }
    format!("{}<span class=\"more\">… ({} more characters)</span>", html(&s.chars().take(n).collect::<String>()), total - n)
}

fn sev(s: &str) -> String {
    format!("<span class=\"sev {0}\">{0}</span>", html(s))
}

fn ts(t: Option<taskhunt_events::Timestamp>) -> String {
    t.map(|t| t.to_string()).unwrap_or_else(|| "?".into())
}

pub fn render(r: &HuntReport) -> String {
    let mut s = String::with_capacity(64 * 1024);
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>",
        html(&r.title)
    );
    let _ = write!(
        s,
        "<header><h1>{}</h1><div>Generated {} · playbook {} · {} files, {} events ({} skipped)</div></header><main>",
        html(&r.title),
        r.generated,
        html(&r.playbook.name),
        r.files,
        r.records,
        r.skipped
    );
    // Summary cards.
    let count = |lvl: &str| r.incidents.iter().filter(|i| i.severity.as_str() == lvl).count();
    let _ = write!(
        s,
        "<div class=\"cards\"><div class=\"card\"><b>{}</b>incidents</div><div class=\"card\"><b>{}</b>critical</div>\
         <div class=\"card\"><b>{}</b>high</div><div class=\"card\"><b>{}</b>hosts</div><div class=\"card\"><b>{}</b>tasks inventoried</div></div>",
        r.incidents.len(),
        count("critical"),
        count("high"),
        r.coverage.hosts.len(),
        r.tasks_total
    );
    let _ = write!(
        s,
        "<section><h2>Why this activity stood out</h2><table><tr><th>Incident</th><th>Severity</th><th>Hosts</th><th>Task</th><th>Top reasons</th></tr>"
    );
    for inc in &r.incidents {
        let top: Vec<String> = inc.reasons.iter().take(3).map(|x| html(&x.detail)).collect();
        let _ = write!(
            s,
            "<tr><td class=\"nw\"><a href=\"#{0}\">{0}</a></td><td class=\"nw\">{1} {2}</td><td>{3}</td><td><code>{4}</code></td><td>{5}</td></tr>",
            html(&inc.id),
            sev(inc.severity.as_str()),
            inc.score,
            html(&inc.hosts.join(", ")),
            html(&inc.task_name),
            top.join("<br>")
        );
    }
    s.push_str("</table></section>");
    let _ = write!(s, "<section><h2>Hypothesis</h2><p>{}</p><h3>ATT&amp;CK</h3><ul>", html(&r.playbook.hypothesis));
    for (id, name) in &r.playbook.attack {
        let _ = write!(s, "<li><b>{}</b> {}</li>", html(id), html(name));
    }
    s.push_str("</ul></section>");
    s.push_str(&timeline_svg(&r.incidents));
    // Telemetry.
    s.push_str(
        "<section><h2>Telemetry available</h2><table><tr><th>Host</th><th>Events</th><th>First</th><th>Last</th><th>Channels</th></tr>",
    );
    for h in &r.coverage.hosts {
        let chans: Vec<String> = h
            .channels
            .iter()
            .map(|(c, ids)| format!("{} ({})", html(c), ids.iter().map(|(i, n)| format!("{i}×{n}")).collect::<Vec<_>>().join(" ")))
            .collect();
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"nw\">{}</td><td class=\"nw\">{}</td><td>{}</td></tr>",
            html(&h.host),
            h.events,
            ts(h.first),
            ts(h.last),
            chans.join("<br>")
        );
    }
    s.push_str("</table><h2>Telemetry gaps</h2><ul>");
    for g in &r.coverage.gaps {
        let on = if g.hosts.is_empty() { "all hosts".to_string() } else { g.hosts.join(", ") };
        let _ = write!(s, "<li><b>{}</b> ({}): {}</li>", html(&g.what), html(&on), html(&g.consequence));
    }
    s.push_str("</ul></section>");
    for inc in &r.incidents {
        incident(&mut s, inc);
    }
    s.push_str("<section><h2>Hunting queries</h2>");
    for q in &r.queries {
        let _ = write!(s, "<h3>{} <small>({})</small></h3><pre>{}</pre>", html(&q.title), html(&q.lang), html_pre(&q.text));
        match &q.error {
            Some(e) => {
                let _ = write!(s, "<p>Failed: <code>{}</code></p>", html(e));
            }
            None => {
                let _ = write!(s, "<p>{} row(s)</p>", q.rows);
                if !q.sample.is_empty() {
                    s.push_str("<table><tr>");
                    for c in &q.columns {
                        let _ = write!(s, "<th>{}</th>", html(c));
                    }
                    s.push_str("</tr>");
                    for row in &q.sample {
                        s.push_str("<tr>");
                        for c in row {
                            let _ = write!(s, "<td><code>{}</code></td>", cut(c, CELL_CHARS));
                        }
                        s.push_str("</tr>");
                    }
                    s.push_str("</table>");
                }
            }
        }
    }
    s.push_str("</section><section><h2>Detection opportunities</h2><h3>Sigma rules that fired</h3><table><tr><th>Rule</th><th>Level</th><th>Detections</th><th>Hosts</th></tr>");
    for d in &r.detections {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html(&d.rule_title),
            sev(&d.level),
            d.count,
            html(&d.hosts.join(", "))
        );
    }
    s.push_str("</table><h3>Rules generated from the incidents</h3>");
    if !r.generated_rules.is_empty() {
        s.push_str("<p>The Sigma rules are also in <code>generated-rules.yml</code> next to this page, ready for <code>taskhunt detect --rules</code>.</p>");
    }
    for g in &r.generated_rules {
        let _ = write!(
            s,
            "<details><summary>{} — Sigma, KQL, SPL</summary><pre>{}</pre><p>KQL</p><pre>{}</pre><p>SPL</p><pre>{}</pre></details>",
            html(&g.incident),
            html_pre(&g.sigma),
            html_pre(&g.kql),
            html_pre(&g.spl)
        );
    }
    s.push_str("</section><section><h2>Recommendations</h2><ul>");
    for rec in &r.recommendations {
        let _ = write!(s, "<li>{}</li>", html(rec));
    }
    s.push_str("</ul></section></main></body></html>\n");
    s
}

fn incident(s: &mut String, inc: &Incident) {
    let task = &inc.task;
    let _ = write!(
        s,
        "<section id=\"{}\"><h2>{} — <code>{}</code> {} {}</h2><p>Hosts {} · {} → {} · {}{}</p>",
        html(&inc.id),
        html(&inc.id),
        html(&inc.task_name),
        sev(inc.severity.as_str()),
        inc.score,
        html(&inc.hosts.join(", ")),
        ts(inc.first_seen),
        ts(inc.last_seen),
        html(&inc.techniques.join(", ")),
        inc.campaign.as_ref().map(|c| format!(" · campaign {}", html(c))).unwrap_or_default()
    );
    let _ = write!(
        s,
        "<table><tr><th>Created by</th><td>{}</td><th>Principal</th><td>{}</td><th>Run level</th><td>{}</td><th>Hidden</th><td>{}</td></tr>\
         <tr><th>Triggers</th><td colspan=\"7\"><code>{}</code></td></tr><tr><th>Actions</th><td colspan=\"7\"><code>{}</code></td></tr></table>",
        html(task.created_by.as_deref().unwrap_or("?")),
        html(task.principal.as_deref().unwrap_or("?")),
        html(task.run_level.as_deref().unwrap_or("?")),
        task.hidden,
        html(&task.triggers),
        html(&task.actions)
    );
    s.push_str("<table><tr><th>Weight</th><th>Signal</th><th>Detail</th></tr>");
    for r in &inc.reasons {
        let _ = write!(s, "<tr><td>{}</td><td class=\"nw\">{}</td><td>{}</td></tr>", r.weight, html(&r.signal), html(&r.detail));
    }
    s.push_str("</table>");
    // A task that ran every few minutes has a tree per run: the first ones open, the rest folded.
    let shown = if inc.process_trees.len() > OPEN_TREES { 2 } else { inc.process_trees.len() };
    for tree in &inc.process_trees[..shown] {
        let _ = write!(s, "<details open><summary>Process tree</summary><pre>{}</pre></details>", html_pre(tree));
    }
    if shown < inc.process_trees.len() {
        let rest: Vec<String> = inc.process_trees[shown..].iter().map(|t| html_pre(t)).collect();
        let _ = write!(s, "<details><summary>{} more process trees</summary><pre>{}</pre></details>", rest.len(), rest.join("\n\n"));
    }
    for d in &inc.decoded {
        s.push_str("<details open><summary>Decoded command</summary><ol>");
        for layer in &d.layers {
            let _ = write!(s, "<li>{:?}<pre>{}</pre></li>", layer.kind, html_pre(&layer.text.chars().take(2000).collect::<String>()));
        }
        s.push_str("</ol>");
        let iocs: Vec<String> = d
            .iocs
            .urls
            .iter()
            .chain(&d.iocs.domains)
            .chain(&d.iocs.ips)
            .chain(&d.iocs.paths)
            .map(|i| format!("<code>{}</code>", html(i)))
            .collect();
        if !iocs.is_empty() {
            let _ = write!(s, "<p>IOCs: {}</p>", iocs.join(", "));
        }
        s.push_str("</details>");
    }
    if !inc.domains.is_empty() || !inc.beacons.is_empty() {
        s.push_str("<h3>Network</h3><table><tr><th>Destination</th><th>Hosts / fleet</th><th>Notes</th></tr>");
        for d in &inc.domains {
            let _ = write!(
                s,
                "<tr><td><code>{}</code></td><td>{} / {}</td><td>{}</td></tr>",
                html(&d.name),
                d.rarity.hosts,
                d.rarity.fleet,
                html(&d.rarity.reasons.join("; "))
            );
        }
        for b in &inc.beacons {
            let _ = write!(
                s,
                "<tr><td><code>{}</code></td><td>—</td><td>beacon score {:.2} over {} connections, every {:.0}s ({})</td></tr>",
                html(&b.destination),
                b.score.score,
                b.score.connections,
                b.score.median_interval_secs,
                html(&b.process)
            );
        }
        s.push_str("</table>");
    }
    if !inc.detections.is_empty() {
        s.push_str("<h3>Sigma detections</h3><ul>");
        for d in &inc.detections {
            let _ = write!(s, "<li>{} {} <code>{}:{}</code></li>", sev(&d.level), html(&d.title), html(&d.file), d.record_id);
        }
        s.push_str("</ul>");
    }
    let _ = write!(
        s,
        "<details><summary>Timeline ({} events)</summary><table><tr><th>Time</th><th>Host</th><th>Role</th><th>Event</th><th>Summary</th></tr>",
        inc.events.len()
    );
    for e in inc.events.iter().take(500) {
        let _ = write!(
            s,
            "<tr><td class=\"nw\">{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            e.time,
            html(&e.host),
            html(&e.role),
            e.event_id,
            html(&e.summary)
        );
    }
    s.push_str("</table>");
    if inc.events.len() > 500 {
        let _ = write!(s, "<p>{} more events in timeline.csv and incidents.jsonl.</p>", inc.events.len() - 500);
    }
    s.push_str("</details></section>");
}

/// One row per incident, its events as dots along a shared time axis.
fn timeline_svg(incidents: &[Incident]) -> String {
    let times: Vec<i64> = incidents.iter().flat_map(|i| i.events.iter().map(|e| e.time.unix_seconds())).collect();
    let (Some(&min), Some(&max)) = (times.iter().min(), times.iter().max()) else { return String::new() };
    let span = (max - min).max(1) as f64;
    let rows = incidents.len().min(40);
    let (w, row_h, left) = (1100.0, 22.0, 110.0);
    let h = rows as f64 * row_h + 40.0;
    let mut s = format!(
        "<section><h2>Timeline</h2><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"incident timeline\">"
    );
    for (r, inc) in incidents.iter().take(rows).enumerate() {
        let y = 20.0 + r as f64 * row_h;
        let _ = write!(
            s,
            "<text x=\"4\" y=\"{:.1}\" font-size=\"12\">{}</text><line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{w}\" y2=\"{y:.1}\" stroke=\"#e5e7eb\"/>",
            y + 4.0,
            html(&inc.id)
        );
        for e in &inc.events {
            let x = left + (e.time.unix_seconds() - min) as f64 / span * (w - left - 10.0);
            let color = match e.role.as_str() {
                "task" => "#1f2a44",
                "process" => "#2563eb",
                "network" => "#d00000",
                "dns" => "#e08a00",
                _ => "#6b7280",
            };
            let _ = write!(
                s,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{color}\"><title>{} {} {}</title></circle>",
                e.time,
                html(&e.role),
                html(&e.summary)
            );
        }
    }
    let _ = write!(
        s,
        "<text x=\"{left}\" y=\"{:.1}\" font-size=\"11\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text></svg>\
         <p><small><span class=\"k-task\">●</span> task <span class=\"k-process\">●</span> process <span class=\"k-network\">●</span> network <span class=\"k-dns\">●</span> dns <span class=\"k-other\">●</span> other</small></p></section>",
        h - 6.0,
        taskhunt_events::Timestamp::from_ticks(min * 10_000_000),
        w - 4.0,
        h - 6.0,
        taskhunt_events::Timestamp::from_ticks(max * 10_000_000)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_cells_are_cut_and_escaped() {
        assert_eq!(cut("<ab>", 4), "&lt;ab&gt;");
        assert_eq!(cut("<abcdef", 3), "&lt;ab<span class=\"more\">… (4 more characters)</span>");
        // Characters, not bytes.
        assert_eq!(cut("ééé", 2), "éé<span class=\"more\">… (1 more characters)</span>");
    }
}
