//! Escaping attacker-controlled text for HTML and Markdown.

use taskhunt_events::text::terminal_safe;

/// Text for an HTML element body or a quoted attribute value: the five XML-significant
/// characters as entities, control and bidi-override characters shown as `\u{..}`.
pub fn html(s: &str) -> String {
    let visible = terminal_safe(s);
    let mut out = String::with_capacity(visible.len() + 16);
    for c in visible.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Multi-line text for a `<pre>` block: like [`html`] but keeps newlines.
pub fn html_pre(s: &str) -> String {
    s.lines().map(html).collect::<Vec<_>>().join("\n")
}

/// Text inside a Markdown table cell or list item, as inline code: no Markdown, HTML or link in
/// the text can take effect.
pub fn md_code(s: &str) -> String {
    let visible = terminal_safe(s).replace('|', "\\|");
    let longest = longest_run(&visible, '`');
    let fence = "`".repeat(longest + 1);
    if visible.is_empty() { String::new() } else { format!("{fence} {visible} {fence}") }
}

/// A fenced block for multi-line attacker text.
pub fn md_block(s: &str, lang: &str) -> String {
    let cleaned: String = s.lines().map(|l| terminal_safe(l).into_owned()).collect::<Vec<_>>().join("\n");
    let fence = "`".repeat(longest_run(&cleaned, '`').max(2) + 1);
    format!("{fence}{lang}\n{cleaned}\n{fence}")
}

fn longest_run(s: &str, c: char) -> usize {
    let mut best = 0;
    let mut run = 0;
    for x in s.chars() {
        if x == c {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_neutralises_markup_and_bidi() {
        assert_eq!(html("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assert_eq!(html("\" onmouseover=\"x"), "&quot; onmouseover=&quot;x");
        assert_eq!(html("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(html("x\x1b[31m"), "x\\u{001b}[31m");
    }

    #[test]
    fn markdown_code_spans_survive_backticks_and_pipes() {
        assert_eq!(md_code("a|b"), "` a\\|b `");
        assert_eq!(md_code("x`y"), "`` x`y ``");
        assert!(md_block("```\nevil", "").starts_with("````\n"));
    }
}
