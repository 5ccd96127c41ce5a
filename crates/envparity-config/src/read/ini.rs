//! INI: `[section]` headers, `key = value` or `key: value` pairs, `;` and `#` comment lines.
//!
//! The result is a map from section name to a map of string values; keys written before the
//! first header are top-level strings. Section names are kept whole (`[a.b]` is the section
//! `"a.b"`, not nested). Keys and values are trimmed and a value wrapped in matching `"` or `'`
//! loses them. A pair splits at the first `=` or `:`, so values may hold either. A header written
//! again merges into the first one (which keeps its line); a duplicated key keeps its first
//! position and its last value. A top-level key and a section of the same name: the one
//! written last wins.
//!
//! Not supported: inline comments after values (`a = b ; c` is the value `b ; c`), continuation
//! lines, keys without a value, interpolation.

use std::collections::HashMap;

use super::ReadError;
use super::json::{dedup_keys, to_u32};
use crate::tree::{Key, Node, NodeKind};

pub fn parse(text: &str) -> Result<Node, ReadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut root: Vec<(Key, Node)> = Vec::new();
    let mut sections: HashMap<String, usize> = HashMap::new();
    // Index in `root` of the current section, if any.
    let mut current: Option<usize> = None;
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = to_u32(index + 1);
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let line = raw.trim();
        let error = |at: &str, message: &str| {
            // `at` is a slice of `raw`: its column is where it starts.
            let offset = at.as_ptr() as usize - raw.as_ptr() as usize;
            let column = raw[..offset].chars().count() + 1;
            ReadError {
                line: line_no,
                column: to_u32(column),
                message: message.to_owned(),
            }
        };
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(close) = rest.find(']') else {
                return Err(error(line, "expected `]` to close the section header"));
            };
            let after = rest[close + 1..].trim_start();
            if !(after.is_empty() || after.starts_with(';') || after.starts_with('#')) {
                return Err(error(
                    after,
                    "unexpected characters after the section header",
                ));
            }
            let name = rest[..close].trim();
            if name.is_empty() {
                return Err(error(line, "empty section name"));
            }
            let at = *sections.entry(name.to_owned()).or_insert_with(|| {
                root.push((
                    Key::new(name),
                    Node::new(line_no, NodeKind::Map(Vec::new())),
                ));
                root.len() - 1
            });
            current = Some(at);
            continue;
        }
        let Some(sep) = line.find(['=', ':']) else {
            return Err(error(line, "expected `=` or `:` after the key"));
        };
        let key = line[..sep].trim_end();
        if key.is_empty() {
            return Err(error(line, "missing key before the separator"));
        }
        let value = unquote(line[sep + 1..].trim());
        let entry = (
            Key::new(key),
            Node::new(line_no, NodeKind::String(value.into())),
        );
        match current {
            Some(at) => match &mut root[at].1.kind {
                NodeKind::Map(entries) => entries.push(entry),
                _ => unreachable!("sections are maps"),
            },
            None => root.push(entry),
        }
    }
    for (_, section) in &mut root {
        if let NodeKind::Map(entries) = &mut section.kind {
            dedup_keys(entries);
        }
    }
    dedup_keys(&mut root);
    Ok(Node::new(1, NodeKind::Map(root)))
}

/// `value` without one pair of matching surrounding quotes.
fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(q) && value.ends_with(q) {
            return &value[1..value.len() - 1];
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::read::reader_checks!();

    #[test]
    fn sections_and_values() {
        check(
            "top = 1\n[db]\nhost = localhost\nport: 5432\nurl = jdbc:pg://h:5432/x?a=b\n[app.web]\nname = \"quoted value \"\nq = 'single'\nmixed = \"a'\nlone = \"\nempty =\n",
            r#"{top: "1", db: {host: "localhost", port: "5432", url: "jdbc:pg://h:5432/x?a=b"}, app.web: {name: "quoted value ", q: "single", mixed: "\"a'", lone: "\"", empty: ""}}"#,
        );
        check("", "{}");
        check("; only\n# comments\n\n", "{}");
        check("[s]\n", "{s: {}}");
        check(
            "  [ spaced ]  ; comment\n  key name  =  v  ; not a comment\n",
            r#"{spaced: {key name: "v  ; not a comment"}}"#,
        );
        check("\u{feff}a=b", r#"{a: "b"}"#);
    }

    #[test]
    fn duplicates_merge_and_last_wins() {
        check_lines(
            "[a]\nx = 1\ny = 2\n[b]\nz = 3\n[a]\nx = 4\nw = 5\n",
            r#"{a: {x: "4"@7, y: "2"@3, w: "5"@8}@1, b: {z: "3"@5}@4}@1"#,
        );
        check("s = top\n[s]\nk = v\n", r#"{s: {k: "v"}}"#);
    }

    #[test]
    fn lines() {
        check_lines(
            "\r\n; c\r\n[s]\r\n\r\nk = v\r\n  j: w",
            r#"{s: {k: "v"@5, j: "w"@6}@3}@1"#,
        );
    }

    #[test]
    fn errors() {
        check_err("[s]\nk = v\njust text\n", 3, 1, "expected `=` or `:`");
        check_err("[s]\n  é text  \n", 2, 3, "expected `=` or `:`");
        check_err("[s]\n\t[é]  x \n", 2, 7, "after the section header");
        check_err("[s\nk = v\n", 1, 1, "`]`");
        check_err("[]\n", 1, 1, "empty section name");
        check_err("[s] junk\n", 1, 5, "after the section header");
        check_err("a = 1\n = 2\n", 2, 2, "missing key");
    }

    #[test]
    fn errors_never_include_the_input() {
        let canary = "CANARY-s3cr3t-XYZ";
        for bad in [
            format!("[s]\npassword {canary}\n"),
            format!("[{canary}\n"),
            format!("[s] {canary}\n"),
            format!("= {canary}\n"),
        ] {
            let err = parse(&bad).expect_err(&bad);
            assert!(!err.message.contains("CANARY"), "{bad:?}: {err}");
        }
    }
}
