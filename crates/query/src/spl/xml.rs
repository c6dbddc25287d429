//! A small, bounded XML scanner for `xmlkv`: the text of every leaf element (an element with no
//! child elements), by local name, in document order. It never fails: malformed input gives
//! whatever leaves were well formed before the damage.

/// `(local name, unescaped trimmed text)` of each non-empty leaf element.
pub fn leaves(doc: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // (name, where its text starts, whether it has child elements)
    let mut stack: Vec<(&str, usize, bool)> = Vec::new();
    let b = doc.as_bytes();
    let mut i = 0;
    while let Some(off) = doc[i..].find('<') {
        let lt = i + off;
        let rest = &doc[lt..];
        if rest.starts_with("<?") {
            i = rest.find("?>").map_or(b.len(), |e| lt + e + 2);
            continue;
        }
        if rest.starts_with("<!--") {
            i = rest.find("-->").map_or(b.len(), |e| lt + e + 3);
            continue;
        }
        if rest.starts_with("<![CDATA[") {
            i = rest.find("]]>").map_or(b.len(), |e| lt + e + 3);
            continue;
        }
        if rest.starts_with("<!") {
            i = rest.find('>').map_or(b.len(), |e| lt + e + 1);
            continue;
        }
        let Some(gt) = rest.find('>') else { break };
        let tag = &rest[1..gt];
        let end = lt + gt + 1;
        if let Some(name) = tag.strip_prefix('/') {
            let name = local(name.trim());
            if let Some(pos) = stack.iter().rposition(|(n, _, _)| *n == name) {
                let (_, text_start, has_child) = stack[pos];
                if pos == stack.len() - 1 && !has_child {
                    let text = unescape(doc[text_start..lt].trim());
                    if !text.is_empty() {
                        out.push((name.to_string(), text));
                    }
                }
                stack.truncate(pos);
            }
        } else {
            let self_closing = tag.ends_with('/');
            let name_end = tag.find(|c: char| c.is_whitespace() || c == '/').unwrap_or(tag.len());
            let name = local(&tag[..name_end]);
            if let Some(parent) = stack.last_mut() {
                parent.2 = true;
            }
            if !self_closing && !name.is_empty() {
                stack.push((name, end, false));
            }
        }
        i = end;
    }
    out
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// XML's five entities and numeric references; anything else stays as written.
pub fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let decoded = after.find(';').filter(|semi| *semi <= 12).and_then(|semi| {
            let ent = &after[1..semi];
            let c = match ent {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let num = ent.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            };
            c.map(|c| (c, semi + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &after[len..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_of_a_task() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task xmlns=\"x\"><Triggers><T><Enabled>true</Enabled></T></Triggers>\
                   <Settings><Hidden>true</Hidden><Enabled>false</Enabled><Empty/><Blank> </Blank></Settings>\
                   <Actions><Exec><Command>cmd.exe</Command><Arguments>/c a &gt; b &amp;&#65;&#x42;&bogus;</Arguments></Exec></Actions></Task>";
        assert_eq!(
            leaves(doc),
            vec![
                ("Enabled".into(), "true".into()),
                ("Hidden".into(), "true".into()),
                ("Enabled".into(), "false".into()),
                ("Command".into(), "cmd.exe".into()),
                ("Arguments".into(), "/c a > b &AB&bogus;".into()),
            ]
        );
    }

    #[test]
    fn damaged_input_does_not_fail() {
        assert_eq!(leaves("<a><b>x</b><c>unclosed"), vec![("b".into(), "x".into())]);
        assert!(leaves("<<<>>></></>&<!--").is_empty());
        assert_eq!(leaves("<ns:A>1</ns:A>"), vec![("A".into(), "1".into())]);
    }
}
