//! Domain rarity: registered domains through the public suffix list, prevalence across hosts,
//! label entropy and DGA-likeness, many unique subdomains under one domain (C2 over DNS).

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// `a.b.example.co.uk` → `example.co.uk`; IP literals and unknown suffixes → `None`.
pub fn registered_domain(name: &str) -> Option<String> {
    let n = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if n.is_empty() || n.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let d = psl::domain(n.as_bytes())?;
    if !d.suffix().is_known() {
        return None;
    }
    std::str::from_utf8(d.as_bytes()).ok().map(str::to_string)
}

/// Shannon entropy, bits per character.
pub fn entropy(s: &str) -> f64 {
    let n = s.chars().count();
    if n == 0 {
        return 0.0;
    }
    let mut counts: BTreeMap<char, usize> = BTreeMap::new();
    for c in s.chars() {
        *counts.entry(c).or_default() += 1;
    }
    counts.values().map(|&c| c as f64 / n as f64).map(|p| -p * p.log2()).sum()
}

/// A 0–1 estimate of how machine-generated a label looks: entropy, digit mix, vowel scarcity
/// and length. Words and brand names score low; `x7kq2vz9p1` scores high.
pub fn dga_likeness(label: &str) -> f64 {
    let l = label.to_ascii_lowercase();
    let n = l.chars().count();
    if n < 6 {
        return 0.0;
    }
    let letters = l.chars().filter(char::is_ascii_alphabetic).count().max(1) as f64;
    let vowels = l.chars().filter(|c| "aeiou".contains(*c)).count() as f64;
    let digits = l.chars().filter(char::is_ascii_digit).count() as f64;
    let e = (entropy(&l) / (n as f64).log2().max(1.0)).min(1.0);
    let vowel_gap = ((0.38 - vowels / letters) / 0.38).clamp(0.0, 1.0);
    let digit_mix = if digits > 0.0 && letters > 1.0 { (digits / n as f64 * 3.0).min(1.0) } else { 0.0 };
    let length = ((n as f64 - 8.0) / 12.0).clamp(0.0, 1.0);
    (0.35 * e + 0.3 * vowel_gap + 0.2 * digit_mix + 0.15 * length).clamp(0.0, 1.0)
}

/// Prevalence of each registered domain across hosts, and subdomain fan-out.
#[derive(Debug, Default, Clone)]
pub struct DomainStats {
    hosts: BTreeMap<String, BTreeSet<String>>,
    subdomains: BTreeMap<String, BTreeSet<String>>,
    all_hosts: BTreeSet<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rarity {
    pub domain: String,
    pub hosts: usize,
    pub fleet: usize,
    /// Share of hosts that resolved it.
    pub prevalence: f64,
    pub unique_subdomains: usize,
    pub dga: f64,
    /// Why it is rare or odd, in words.
    pub reasons: Vec<String>,
}

impl DomainStats {
    pub fn add(&mut self, host: &str, query: &str) {
        self.all_hosts.insert(host.to_ascii_lowercase());
        if let Some(reg) = registered_domain(query) {
            self.hosts.entry(reg.clone()).or_default().insert(host.to_ascii_lowercase());
            self.subdomains.entry(reg).or_default().insert(query.trim_end_matches('.').to_ascii_lowercase());
        }
    }

    pub fn add_host(&mut self, host: &str) {
        self.all_hosts.insert(host.to_ascii_lowercase());
    }

    /// How rare `query`'s registered domain is in this data (and against known domains).
    pub fn rarity(&self, query: &str, known: &BTreeSet<String>) -> Option<Rarity> {
        let reg = registered_domain(query)?;
        let hosts = self.hosts.get(&reg).map_or(0, BTreeSet::len);
        let fleet = self.all_hosts.len().max(1);
        let prevalence = hosts as f64 / fleet as f64;
        let unique_subdomains = self.subdomains.get(&reg).map_or(0, BTreeSet::len);
        let label = reg.split('.').next().unwrap_or(&reg);
        let dga = dga_likeness(label);
        let mut reasons = Vec::new();
        if !known.contains(&reg) {
            reasons.push(format!("{reg} is not in the known-domain baseline"));
        }
        if fleet >= 5 && prevalence <= 0.02 || fleet < 5 && hosts <= 1 {
            reasons.push(format!("resolved by {hosts} of {fleet} hosts"));
        }
        if dga >= 0.6 {
            reasons.push(format!("label {label:?} looks generated (DGA-likeness {dga:.2}, entropy {:.2})", entropy(label)));
        }
        if unique_subdomains >= 50 {
            reasons.push(format!("{unique_subdomains} distinct subdomains (possible DNS tunnelling)"));
        }
        Some(Rarity { domain: reg, hosts, fleet, prevalence, unique_subdomains, dga, reasons })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_domains_follow_the_public_suffix_list() {
        assert_eq!(registered_domain("a.b.example.co.uk").as_deref(), Some("example.co.uk"));
        assert_eq!(registered_domain("cdn.static.example.com.").as_deref(), Some("example.com"));
        // googleapis.com is itself a (private) public suffix: each subdomain is its own site.
        assert_eq!(registered_domain("update.googleapis.com").as_deref(), Some("update.googleapis.com"));
        assert_eq!(registered_domain("10.0.0.1"), None);
        assert_eq!(registered_domain("localhost"), None);
    }

    #[test]
    fn dga_labels_score_higher_than_words() {
        assert!(dga_likeness("x7kq2vz9p1wq") > 0.6);
        assert!(dga_likeness("microsoft") < 0.5);
        assert!(dga_likeness("googleapis") < 0.5);
    }

    #[test]
    fn rarity_across_a_fleet() {
        let mut s = DomainStats::default();
        for h in 0..100 {
            s.add(&format!("ws{h}"), "www.microsoft.com");
        }
        s.add("ws7", "c2.x7kq2vz9p1wq.com");
        let known: BTreeSet<String> = ["microsoft.com".to_string()].into();
        let r = s.rarity("c2.x7kq2vz9p1wq.com", &known).unwrap();
        assert_eq!((r.hosts, r.fleet), (1, 100));
        assert_eq!(r.reasons.len(), 3, "{:?}", r.reasons);
        assert!(s.rarity("www.microsoft.com", &known).unwrap().reasons.is_empty());
    }
}
