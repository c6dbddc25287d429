//! Errors name the problem and point at it; hostile queries fail cleanly, never panic.

use super::{C, batch, engine, fail, fixture};
use taskhunt_query::Lang;

/// (line, column, message) of a failing query.
fn at(q: &str) -> (usize, usize, String) {
    let e = fail(&fixture(), q);
    (e.line, e.column, e.message)
}

#[test]
fn unknown_and_unsupported_commands() {
    let q = "index=sysmon | stat count";
    let e = fail(&fixture(), q);
    assert_eq!(e.render(q), "1:16: unknown SPL command `stat`\n  index=sysmon | stat count\n                 ^");
    assert_eq!(at("* | eventstats count by Computer"), (1, 5, "the `eventstats` command is not supported by taskhunt's SPL".into()));
    assert_eq!(at("| makeresults"), (1, 3, "`makeresults` is not supported: start with a search such as index=sysmon".into()));
    assert_eq!(at("   "), (1, 4, "empty query: start with a search such as index=sysmon".into()));
    assert_eq!(at("* | where x=1 | "), (1, 17, "expected a command after `|`, found the end of the query".into()));
}

#[test]
fn bad_arguments_point_at_themselves() {
    let (l, c, m) = at("* | eval x=foo(Image)");
    assert_eq!((l, c), (1, 12));
    assert!(m.starts_with("unknown eval function `foo` (supported: if, case,"), "{m}");
    let (l, c, m) = at("* | rex field=Image \"(?<a>x(?=y))\"");
    assert_eq!((l, c), (1, 21));
    assert!(m.starts_with("rex: regular expression not supported: "), "{m}");
    let (l, c, m) = at("* | eval x=replace(Image, \"(\", \"\")");
    assert_eq!((l, c), (1, 27));
    assert!(m.starts_with("replace(): regular expression not supported"), "{m}");
    assert_eq!(at("* | eval x=\"abc"), (1, 12, "unterminated string: \" needs a closing \"".into()));
    assert_eq!(at("* | stats p95(Image)"), (1, 11, "stats function `p95` is not supported".into()));
    assert_eq!(at("* | stats count(eval(x>1))"), (1, 17, "stats: count(eval(...)) is not supported; eval a field first".into()));
    assert_eq!(at("* | where Image"), (1, 11, "where needs a condition (a comparison, like(), match(), isnull(), ...), not a text".into()));
    assert_eq!(at("* | eval x=if(1, 2)"), (1, 12, "if() takes 3 arguments, not 2".into()));
    assert_eq!(
        at("* | eval x=Image + Computer"),
        (1, 18, "`+` between two text fields is ambiguous: use `.` to join text, or tonumber() to add".into())
    );
    assert_eq!(at("* | eval x=strftime(_time, 5)"), (1, 28, "strftime(): the format must be a quoted string".into()));
    assert_eq!(at("* | sort"), (1, 9, "sort needs at least one field".into()));
    assert_eq!(at("* | table"), (1, 10, "table needs at least one field".into()));
    assert_eq!(at("* | top"), (1, 8, "top needs at least one field".into()));
    assert_eq!(at("* | rename User"), (1, 16, "rename: expected `as` after User, found the end of the query".into()));
    assert_eq!(at("* | head -1"), (1, 10, "head: unexpected `-1`".into()));
    assert_eq!(at("* | where EventCode > 1 2"), (1, 25, "where: unexpected `2`".into()));
    assert_eq!(at("* | rex \"(?<a>x)\""), (1, 5, "rex needs field=NAME: taskhunt events have no _raw".into()));
    assert_eq!(at("* | transaction User foo=bar"), (1, 22, "transaction: option `foo` is not supported".into()));
    assert_eq!(at("* | dedup User consecutive=true"), (1, 16, "dedup: option `consecutive` is not supported".into()));
    assert_eq!(at("* | xmlkv"), (1, 5, "xmlkv: these events have no TaskContent or TaskContentNew; name the XML field with field=".into()));
}

#[test]
fn search_errors() {
    assert_eq!(
        at("index=nope"),
        (1, 7, "unknown index `nope`: use sysmon, wineventlog (security), taskscheduler, powershell, system, other or main".into())
    );
    let e = engine(vec![("sysmon", batch(vec![("x", C::S(&["1"]))])), ("security", batch(vec![("x", C::S(&["1"]))]))]);
    let err = fail(&e, "index=sysmon sourcetype=WinEventLog:Security");
    assert_eq!(
        (err.column, err.message.as_str()),
        (25, "sourcetype=WinEventLog:Security selects table `security` but an earlier selector chose `sysmon`")
    );
    let (l, c, m) = at("(index=sysmon OR EventCode=1)");
    assert_eq!((l, c), (1, 2));
    assert!(m.starts_with("index= chooses what is searched"), "{m}");
    assert_eq!(at("* | search index=sysmon"), (1, 12, "index= only works in the first search".into()));
    assert_eq!(at("index=sysmon [search index=security]"), (1, 14, "subsearches ([...]) are not supported".into()));
    assert_eq!(at("EventCode=1 OR"), (1, 15, "expected a search term, found the end of the query".into()));
    assert_eq!(at("(EventCode=1"), (1, 1, "this `(` is never closed".into()));
    assert_eq!(at("_raw=*x*"), (1, 1, "there is no _raw field: search a bare term or quoted phrase to match any field".into()));
    let (l, c, m) = at("earliest=yesterday");
    assert_eq!((l, c), (1, 10));
    assert!(m.starts_with("earliest: `yesterday` is not a time"), "{m}");
    // The caret finds later lines.
    let q = "index=sysmon\n| where len(Image) >\n| head 1";
    let err = fail(&fixture(), q);
    assert_eq!((err.line, err.column), (3, 1));
    assert_eq!(err.render(q), "3:1: expected a value, field or function, found `|`\n  | head 1\n  ^");
    // tail needs an order; this table has no _time.
    let e = engine(vec![("main", batch(vec![("x", C::S(&["1"]))]))]);
    assert_eq!(fail(&e, "* | tail 1").message, "tail: these rows have no order (no _time); sort them first");
}

/// A tiny deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
}

#[test]
fn hostile_queries_never_panic() {
    let e = fixture();
    let vocab = [
        "|",
        "(",
        ")",
        "[",
        "]",
        "=",
        "!=",
        "<",
        ">=",
        ",",
        "\"",
        "'",
        "`",
        "```",
        "*",
        "-",
        "+",
        ".",
        "/",
        "%",
        "\\",
        "#",
        "index=sysmon",
        "index=*",
        "sourcetype=WinEventLog:Security",
        "earliest=-1d@d",
        "NOT",
        "OR",
        "AND",
        "IN",
        "eval",
        "where",
        "stats",
        "count",
        "dc(User)",
        "values(Image)",
        "list(x)",
        "by",
        "as",
        "table",
        "fields",
        "rename",
        "sort",
        "head",
        "tail",
        "dedup",
        "rex",
        "top",
        "rare",
        "transaction",
        "xmlkv",
        "search",
        "field=Image",
        "\"(?<a>\\w+)\"",
        "mode=sed",
        "\"s/a/b/g\"",
        "maxspan=5m",
        "startswith=\"EventCode=1\"",
        "endswith=eval(x>1)",
        "limit=0",
        "if(",
        "case(",
        "len(",
        "substr(",
        "replace(",
        "match(",
        "tonumber(",
        "tostring(",
        "strftime(",
        "now()",
        "_time",
        "User",
        "Image",
        "EventCode",
        "LogonType",
        "Computer",
        "1",
        "-1",
        "0",
        "99999999999999999999",
        "1e308",
        "\"x\"",
        "'User'",
        "é",
        "\u{0}",
        "🙂",
        "\n",
        "keepempty=true",
        "max_match=0",
        "countfield=count",
        "desc",
        "str(",
        "num(",
    ];
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    for _ in 0..1500 {
        let n = 1 + (rng.next() % 12) as usize;
        let mut q = String::new();
        if rng.next().is_multiple_of(2) {
            q.push_str("* | ");
        }
        for _ in 0..n {
            q.push_str(rng.pick(&vocab));
            if !rng.next().is_multiple_of(3) {
                q.push(' ');
            }
        }
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.run(Lang::Spl, &q)));
        assert!(r.is_ok(), "panicked on {q:?}");
    }
    // Raw bytes too (lossily decoded).
    for _ in 0..300 {
        let bytes: Vec<u8> = (0..(rng.next() % 40)).map(|_| (rng.next() % 256) as u8).collect();
        let q = String::from_utf8_lossy(&bytes).into_owned();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.run(Lang::Spl, &q)));
        assert!(r.is_ok(), "panicked on {q:?}");
    }
}
