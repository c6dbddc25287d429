//! Windows argument splitting, cmd.exe's `/c` handling, and the small value parsers (times,
//! dates, durations, day and month names) shared by the schtasks, at and PowerShell parsers.
//! Everything here is linear in its input and never indexes without a check.

/// One argument and the byte range of the source text it came from.
pub(super) struct Span {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn skip_blanks(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_blank(s[i]) {
        i += 1;
    }
    i
}

/// Splits a command line the way CommandLineToArgvW and the C runtime do. The program name
/// (first argument) ends at the next quote when it starts with one, otherwise at the first blank,
/// with no backslash processing. In later arguments: blanks separate arguments outside quotes;
/// `2n` backslashes before `"` give `n` backslashes and the quote opens or closes quoting;
/// `2n+1` backslashes before `"` give `n` backslashes and a literal quote; other backslashes are
/// literal; inside quotes `""` is a literal quote and quoting continues. An unclosed quote runs to
/// the end. Unlike CommandLineToArgvW, leading blanks are skipped instead of giving an empty
/// program name.
pub(super) fn split_spans(line: &str) -> Vec<Span> {
    let s = line.as_bytes();
    let mut out = Vec::new();
    let mut i = skip_blanks(s, 0);
    if i >= s.len() {
        return out;
    }
    // The program name.
    let start = i;
    if s[i] == b'"' {
        let close = line[i + 1..].find('"').map(|p| p + i + 1);
        let end = close.unwrap_or(s.len());
        out.push(Span { text: line[i + 1..end].to_string(), start, end: close.map_or(end, |c| c + 1) });
        i = close.map_or(end, |c| c + 1);
    } else {
        while i < s.len() && !is_blank(s[i]) {
            i += 1;
        }
        out.push(Span { text: line[start..i].to_string(), start, end: i });
    }
    loop {
        i = skip_blanks(s, i);
        if i >= s.len() {
            break;
        }
        let start = i;
        let mut cur = String::new();
        let mut quoted = false;
        // Copy runs of ordinary bytes at once; they are whole UTF-8 sequences because every
        // byte we stop at is ASCII.
        while i < s.len() {
            let b = s[i];
            if is_blank(b) && !quoted {
                break;
            }
            match b {
                b'\\' => {
                    let mut j = i;
                    while j < s.len() && s[j] == b'\\' {
                        j += 1;
                    }
                    let n = j - i;
                    if j < s.len() && s[j] == b'"' {
                        cur.extend(std::iter::repeat_n('\\', n / 2));
                        if n % 2 == 1 {
                            cur.push('"');
                            i = j + 1;
                        } else {
                            i = j;
                        }
                    } else {
                        cur.extend(std::iter::repeat_n('\\', n));
                        i = j;
                    }
                }
                b'"' => {
                    if quoted && s.get(i + 1) == Some(&b'"') {
                        cur.push('"');
                        i += 2;
                    } else {
                        quoted = !quoted;
                        i += 1;
                    }
                }
                _ => {
                    let mut j = i + 1;
                    while j < s.len() && !matches!(s[j], b'\\' | b'"' | b' ' | b'\t') {
                        j += 1;
                    }
                    cur.push_str(&line[i..j]);
                    i = j;
                }
            }
        }
        out.push(Span { text: cur, start, end: i });
    }
    out
}

/// The lower-case file name of a program argument without directory and `.exe`
/// (`C:\Windows\System32\SCHTASKS.EXE` → `schtasks`).
pub(super) fn program_name(arg: &str) -> String {
    let base = arg.rsplit(['\\', '/']).next().unwrap_or(arg).trim();
    let lower = base.to_ascii_lowercase();
    match lower.strip_suffix(".exe") {
        Some(stem) => stem.to_string(),
        None => lower,
    }
}

/// What follows cmd.exe's `/c` (or `/k`, `/r`) in a command line whose arguments are `spans`
/// and whose program (cmd) is `spans[at]`, with cmd's quote rule applied, cut into the commands
/// separated by `&`, `&&`, `|` and `||`, redirections removed. Empty when there is no `/c`.
pub(super) fn cmd_commands(line: &str, spans: &[Span], at: usize) -> Vec<String> {
    let mut keep_quotes_rule = true;
    for sp in spans.iter().skip(at + 1) {
        let raw = line.get(sp.start..sp.end).unwrap_or("");
        let lower = raw.to_ascii_lowercase();
        if lower.starts_with("/c") || lower.starts_with("/k") || lower.starts_with("/r") {
            let rest = line.get(sp.start + 2..).unwrap_or("");
            return split_cmd_line(&cmd_quote_rule(rest, keep_quotes_rule));
        }
        if lower == "/s" {
            keep_quotes_rule = false;
        }
        if !lower.starts_with('/') {
            break;
        }
    }
    Vec::new()
}

/// cmd.exe keeps the quotes of `/c "C:\Program Files\x.exe"` (exactly two quotes, no special
/// characters between them, blanks inside, an executable name); otherwise a leading quote and
/// the last quote of the line are removed. We cannot check that the file exists, so "an
/// executable name" means a name ending in .exe, .com, .bat or .cmd.
fn cmd_quote_rule(rest: &str, allow_keep: bool) -> String {
    let t = rest.trim_start_matches([' ', '\t']);
    if !t.starts_with('"') {
        return t.to_string();
    }
    let quotes = t.matches('"').count();
    if allow_keep && quotes == 2 {
        let inner = t[1..].split('"').next().unwrap_or("");
        let lower = inner.to_ascii_lowercase();
        let exe = [".exe", ".com", ".bat", ".cmd"].iter().any(|x| lower.ends_with(x));
        if exe && inner.contains([' ', '\t']) && !inner.contains(['&', '<', '>', '(', ')', '@', '^', '|']) {
            return t.to_string();
        }
    }
    let last = t.rfind('"').unwrap_or(0);
    if last == 0 {
        return t[1..].to_string();
    }
    format!("{}{}", &t[1..last], &t[last + 1..])
}

/// Cuts a cmd.exe line into commands at unquoted `&` and `|`, removes `^` escapes outside quotes,
/// drops redirections (`> nul`, `2>&1`, `>>log`, `< in`) and a leading `@` or `(`.
pub(super) fn split_cmd_line(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            cur.push(c);
            quoted = c != '"';
            continue;
        }
        match c {
            '"' => {
                quoted = true;
                cur.push(c);
            }
            '^' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '&' | '|' => finish_command(&mut cur, &mut out),
            '>' | '<' => {
                // A handle number written right before the operator belongs to it.
                let before = cur.chars().rev().nth(1);
                if cur.ends_with(|d: char| d.is_ascii_digit()) && before.is_none_or(|b| b == ' ' || b == '\t') {
                    cur.pop();
                }
                while chars.peek() == Some(&'>') {
                    chars.next();
                }
                if chars.peek() == Some(&'&') {
                    chars.next();
                    while chars.peek().is_some_and(char::is_ascii_digit) {
                        chars.next();
                    }
                    continue;
                }
                while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                    chars.next();
                }
                let mut in_q = false;
                while let Some(&n) = chars.peek() {
                    if !in_q && matches!(n, ' ' | '\t' | '&' | '|' | '<' | '>') {
                        break;
                    }
                    if n == '"' {
                        in_q = !in_q;
                    }
                    chars.next();
                }
                cur.push(' ');
            }
            _ => cur.push(c),
        }
    }
    finish_command(&mut cur, &mut out);
    out
}

fn finish_command(cur: &mut String, out: &mut Vec<String>) {
    let mut t = cur.trim();
    let mut paren = false;
    while let Some(r) = t.strip_prefix('@').or_else(|| t.strip_prefix('(')) {
        paren |= t.starts_with('(');
        t = r.trim_start();
    }
    if paren {
        t = t.trim_end_matches([')', ' ', '\t']);
    }
    if !t.is_empty() {
        out.push(t.to_string());
    }
    cur.clear();
}

/// Splits an action command line the way Task Scheduler splits `/tr`: a leading quoted part is
/// the program, otherwise the program ends at the first blank; the rest are the arguments.
pub(super) fn split_exec(value: &str) -> (String, Option<String>) {
    let v = value.trim();
    let (command, rest) = if let Some(inner) = v.strip_prefix('"') {
        match inner.find('"') {
            Some(p) => (&inner[..p], &inner[p + 1..]),
            None => (inner, ""),
        }
    } else {
        match v.find([' ', '\t']) {
            Some(p) => (&v[..p], &v[p..]),
            None => (v, ""),
        }
    };
    let rest = rest.trim();
    (command.to_string(), (!rest.is_empty()).then(|| rest.to_string()))
}

fn small_number(s: &str, max: u32) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|n| *n <= max)
}

/// A time of day: `HH:mm`, `HH:mm:ss`, optionally followed by `AM`/`PM` (`3am`, `3:30 PM`).
pub(super) fn parse_time(s: &str) -> Option<(u32, u32, u32)> {
    let t = s.trim().to_ascii_lowercase();
    let (t, pm) = match (t.strip_suffix("am"), t.strip_suffix("pm")) {
        (Some(x), _) => (x.trim_end().to_string(), Some(false)),
        (_, Some(x)) => (x.trim_end().to_string(), Some(true)),
        _ => (t, None),
    };
    let mut parts = t.split(':');
    let h = small_number(parts.next()?, 23)?;
    let m = match parts.next() {
        Some(m) => small_number(m, 59)?,
        None if pm.is_some() => 0,
        None => return None,
    };
    let sec = match parts.next() {
        Some(x) => small_number(x.split('.').next().unwrap_or(x), 59)?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    let h = match pm {
        Some(_) if h == 0 || h > 12 => return None,
        Some(true) if h < 12 => h + 12,
        Some(false) if h == 12 => 0,
        _ => h,
    };
    Some((h, m, sec))
}

/// A date: `yyyy-mm-dd` / `yyyy/mm/dd`, or `mm/dd/yyyy` (schtasks' en-US order) unless the first
/// number cannot be a month, in which case `dd/mm/yyyy`. The flag says the order was a guess.
pub(super) fn parse_date(s: &str) -> Option<((u32, u32, u32), bool)> {
    let parts: Vec<&str> = s.trim().split(['/', '-', '.']).collect();
    let [a, b, c] = parts.as_slice() else { return None };
    let (a4, c4) = (a.len() == 4, c.len() == 4);
    let (a, b, c) = (small_number(a, 9999)?, small_number(b, 9999)?, small_number(c, 9999)?);
    let (date, guessed) = if a4 {
        ((a, b, c), false)
    } else if c4 && a > 12 {
        ((c, b, a), false)
    } else if c4 {
        ((c, a, b), a != b && b <= 12)
    } else {
        return None;
    };
    ((1..=12).contains(&date.1) && (1..=31).contains(&date.2)).then_some((date, guessed))
}

pub(super) fn time_of_day((h, m, s): (u32, u32, u32)) -> String {
    format!("T{h:02}:{m:02}:{s:02}")
}

pub(super) fn date_str((y, m, d): (u32, u32, u32)) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// An ISO 8601 duration for a number of seconds (`600` → `PT10M`, `90000` → `P1DT1H`).
pub(super) fn iso_duration(total: u64) -> String {
    let (d, h, m, s) = (total / 86_400, total % 86_400 / 3600, total % 3600 / 60, total % 60);
    let mut out = String::from("P");
    if d > 0 {
        out.push_str(&format!("{d}D"));
    }
    if h > 0 || m > 0 || s > 0 || d == 0 {
        out.push('T');
        if h > 0 {
            out.push_str(&format!("{h}H"));
        }
        if m > 0 {
            out.push_str(&format!("{m}M"));
        }
        if s > 0 || (h == 0 && m == 0) {
            out.push_str(&format!("{s}S"));
        }
    }
    out
}

/// `HHHH:MM` (schtasks /du) or `MMMM:SS` (schtasks /delay) as seconds, with `unit` the seconds
/// in the first field.
pub(super) fn colon_duration(s: &str, unit: u64) -> Option<u64> {
    let (a, b) = s.trim().split_once(':')?;
    let a = u64::from(small_number(a, 9999)?);
    let b = u64::from(small_number(b, 59)?);
    Some(a * unit + b * (unit / 60))
}

/// A .NET TimeSpan text (`[d.]hh:mm[:ss]`) or an ISO duration as an ISO duration.
pub(super) fn timespan(s: &str) -> Option<String> {
    let t = s.trim().trim_matches(['"', '\'']);
    let upper = t.to_ascii_uppercase();
    if upper.starts_with('P') && upper.len() > 1 && upper.len() < 40 {
        return Some(upper);
    }
    let (days, rest) = match t.split_once('.') {
        Some((d, r)) if r.contains(':') => (u64::from(small_number(d, 9999)?), r),
        _ => (0, t),
    };
    let mut parts = rest.split(':');
    let h = u64::from(small_number(parts.next()?, 23)?);
    let m = u64::from(small_number(parts.next()?, 59)?);
    let sec = match parts.next() {
        Some(x) => u64::from(small_number(x, 59)?),
        None => 0,
    };
    Some(iso_duration(days * 86_400 + h * 3600 + m * 60 + sec))
}

/// A day of the week in any of the spellings schtasks (`MON`), at.exe (`M`, `Th`, `S`, `Su`)
/// and PowerShell (`Monday`) use, as the task XML element name.
pub(super) fn day_name(s: &str) -> Option<&'static str> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "m" | "mo" | "mon" | "monday" => "Monday",
        "t" | "tu" | "tue" | "tues" | "tuesday" => "Tuesday",
        "w" | "we" | "wed" | "wednesday" => "Wednesday",
        "th" | "thu" | "thur" | "thurs" | "thursday" => "Thursday",
        "f" | "fr" | "fri" | "friday" => "Friday",
        "s" | "sa" | "sat" | "saturday" => "Saturday",
        "su" | "sun" | "sunday" => "Sunday",
        _ => return None,
    })
}

pub(super) const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// A month (`JAN` or `January`) as the task XML element name.
pub(super) fn month_name(s: &str) -> Option<&'static str> {
    const MONTHS: [&str; 12] =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    let l = s.trim().to_ascii_lowercase();
    if l.len() < 3 {
        return None;
    }
    MONTHS.iter().copied().find(|m| m.to_ascii_lowercase().starts_with(&l))
}

/// Cuts `s` to at most `max` bytes on a character boundary.
pub(super) fn bounded(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

/// Quotes an argument for a command line when it needs it (blanks, quotes or empty).
pub(super) fn quote_arg(a: &str) -> String {
    if !a.is_empty() && !a.contains([' ', '\t', '"']) {
        return a.to_string();
    }
    let mut out = String::from("\"");
    let mut backslashes = 0;
    for c in a.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.extend(std::iter::repeat_n('\\', backslashes + 1));
                backslashes = 0;
                out.push('"');
                continue;
            }
            _ => backslashes = 0,
        }
        out.push(c);
    }
    out.extend(std::iter::repeat_n('\\', backslashes));
    out.push('"');
    out
}
