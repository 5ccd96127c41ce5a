//! TOML 1.0/1.1 through `toml_edit`, converting its spans to lines.
//!
//! Tables (standard, inline, dotted, implicit) become maps in document order, arrays of
//! tables become lists of maps, datetimes become their RFC 3339 text, integers and floats
//! canonical numbers (`1_000` → `1000`, `0xff` → `255`, `1e3` → `1000`). Duplicated keys are
//! errors, as TOML requires. A value's line is where it starts (a multi-line string: its
//! opening quotes); a `[table]`'s or `[[table]]`'s line is its header's; a table that is only
//! implied (`[a.b]` implies `a`, `a.b = 1` implies `a`) is on the line of its first key.

use std::ops::Range;

use toml_edit::{Array, InlineTable, Item, Table, Value};

use super::ReadError;
use super::json::{canonical_float, line_col, to_u32};
use crate::tree::{Key, Node, NodeKind};

#[path = "toml_fast.rs"]
mod fast;

pub fn parse(text: &str) -> Result<Node, ReadError> {
    if let Some(root) = fast::parse(text) {
        return Ok(root);
    }
    parse_full(text)
}

/// The whole of TOML, through `toml_edit`.
fn parse_full(text: &str) -> Result<Node, ReadError> {
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        let (line, column) = line_col(text, e.span().map_or(0, |s| s.start));
        // toml_edit's messages are a fixed description plus the grammar tokens it expected;
        // keep the first line only in case a later one ever shows the input.
        let message = e
            .message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .to_owned();
        ReadError {
            line,
            column,
            message,
        }
    })?;
    let lines = Lines::new(text);
    let mut root = table(doc.as_table(), 1, &lines);
    root.line = 1;
    Ok(root)
}

/// Line starts, to turn byte offsets into lines.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines(starts.collect())
    }

    fn line(&self, span: Option<Range<usize>>, fallback: u32) -> u32 {
        match span {
            Some(span) => to_u32(self.0.partition_point(|&start| start <= span.start)),
            None => fallback,
        }
    }
}

fn table(t: &Table, fallback: u32, lines: &Lines) -> Node {
    let line = lines.line(t.span(), fallback);
    let mut entries = Vec::with_capacity(t.len());
    let mut first_key_line = None;
    for (key, item) in t.iter() {
        let key_line = lines.line(t.key(key).and_then(|k| k.span()), line);
        first_key_line.get_or_insert(key_line);
        if let Some(node) = self::item(item, key_line, lines) {
            entries.push((Key::new(key), node));
        }
    }
    let line = if t.span().is_none() {
        first_key_line.unwrap_or(line)
    } else {
        line
    };
    Node::new(line, NodeKind::Map(entries))
}

fn item(item: &Item, key_line: u32, lines: &Lines) -> Option<Node> {
    Some(match item {
        Item::None => return None,
        Item::Value(v) => value(v, key_line, lines),
        Item::Table(t) => table(t, key_line, lines),
        Item::ArrayOfTables(a) => {
            let items: Vec<Node> = a.iter().map(|t| table(t, key_line, lines)).collect();
            let line = items.first().map_or(key_line, |n| n.line);
            Node::new(lines.line(a.span(), line), NodeKind::List(items))
        }
    })
}

fn value(v: &Value, fallback: u32, lines: &Lines) -> Node {
    let line = lines.line(v.span(), fallback);
    let kind = match v {
        Value::String(s) => NodeKind::String(s.value().as_str().into()),
        Value::Integer(i) => NodeKind::Number(compact_str::format_compact!("{}", i.value())),
        Value::Float(f) => NodeKind::Number(canonical_float(*f.value()).into()),
        Value::Boolean(b) => NodeKind::Bool(*b.value()),
        Value::Datetime(d) => NodeKind::String(compact_str::format_compact!("{}", d.value())),
        Value::Array(a) => return array(a, line, lines),
        Value::InlineTable(t) => return inline_table(t, line, lines),
    };
    Node::new(line, kind)
}

fn array(a: &Array, line: u32, lines: &Lines) -> Node {
    let items = a.iter().map(|v| value(v, line, lines)).collect();
    Node::new(line, NodeKind::List(items))
}

fn inline_table(t: &InlineTable, line: u32, lines: &Lines) -> Node {
    let line = lines.line(t.span(), line);
    let entries = t
        .iter()
        .map(|(key, v)| {
            let key_line = lines.line(t.key(key).and_then(|k| k.span()), line);
            (Key::new(key), value(v, key_line, lines))
        })
        .collect();
    Node::new(line, NodeKind::Map(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::read::reader_checks!();

    #[test]
    fn values() {
        check(
            "a = 1_000\nb = 0xff\nc = 0o17\nd = 1e3\ne = 1000.0\nf = -0.0\ng = inf\nh = -inf\ni = nan\nj = true\nk = 'lit\\n'\nl = \"esc\\t\\u00e9\"",
            r#"{a: 1000, b: 255, c: 15, d: 1000, e: 1000, f: 0, g: inf, h: -inf, i: nan, j: true, k: "lit\\n", l: "esc\té"}"#,
        );
        check(
            "a = 1979-05-27T07:32:00Z\nb = 1979-05-27\nc = 07:32:00\nd = 1979-05-27T00:32:00.999999-07:00\ne = 1979-05-27 07:32:00",
            r#"{a: "1979-05-27T07:32:00Z", b: "1979-05-27", c: "07:32:00", d: "1979-05-27T00:32:00.999999-07:00", e: "1979-05-27T07:32:00"}"#,
        );
        check("", "{}");
        check(
            "a = [1, [2, 'x'], {b = 3}]",
            r#"{a: [1, [2, "x"], {b: 3}]}"#,
        );
    }

    #[test]
    fn tables() {
        check(
            "top = 1\n[server]\nhost = 'h'\n[server.tls]\nenabled = true\n[db]\nurl.scheme = 'pg'\nurl.port = 5432\n",
            r#"{top: 1, server: {host: "h", tls: {enabled: true}}, db: {url: {scheme: "pg", port: 5432}}}"#,
        );
        check(
            "[[svc]]\nname = 'a'\n[[svc]]\nname = 'b'\n[svc.meta]\nx = 1\n",
            r#"{svc: [{name: "a"}, {name: "b", meta: {x: 1}}]}"#,
        );
        check("[a.b.c]\nd = 1\n[a]\ne = 2", "{a: {b: {c: {d: 1}}, e: 2}}");
        check(
            "'quoted.key' = 1\n\"sp ace\" = 2",
            "{quoted.key: 1, sp ace: 2}",
        );
    }

    #[test]
    fn lines() {
        check_lines(
            "# comment\ntitle = 'x'\ntext = \"\"\"\none\ntwo\"\"\"\nafter = 3\n\n[server]\nport = 80\nlist = [\n  1,\n  2,\n]\n\n[a.b]\nc = { d = 1,\n  e = 2 }\nx.y = 5\n\n[[svc]]\nn = 1\n[[svc]]\nn = 2\n",
            concat!(
                r#"{title: "x"@2, text: "one\ntwo"@3, after: 3@6, server: {port: 80@9, list: [1@11, 2@12]@10}@8, "#,
                r#"a: {b: {c: {d: 1@16, e: 2@17}@16, x: {y: 5@18}@18}@15}@15, svc: [{n: 1@21}@20, {n: 2@23}@22]@20}@1"#
            ),
        );
    }

    #[test]
    fn errors() {
        check_err("a = 1\na = 2\n", 2, 1, "duplicate key");
        check_err("a = 1\nb = \n", 2, 5, "expected");
        check_err("a = 'x\n", 1, 7, "invalid literal string");
        check_err("a = 1\n[t]\nb = [1,,]\n", 3, 8, "extra comma");
        check_err("[t]\n[t]\n", 2, 2, "duplicate key");
        check_err("é = 1\nkey\n", 2, 4, "expected `=`");
        check_err("a = \"\\q\"", 1, 7, "escape");
        check_err("a = 1979-05-27T12\n", 1, 5, "invalid time");
    }

    /// Lines the fast path reads, lines it leaves to toml_edit, and lines that are errors.
    const FRAGMENTS: &[&str] = &[
        "a = 1",
        "b = 'x'",
        "c = \"y z\"",
        "d = true",
        "e = [1, 'two', \"three\", false]",
        "f = []",
        "[t]",
        "[t.u]",
        "[[arr]]",
        "[arr.sub]",
        "[[arr.list]]",
        "g = -5",
        "h = +0",
        "i = 007",
        "j = 1_000",
        "k = 1.5",
        "# comment",
        "",
        "  l = 2  # trailing",
        "[t]  # again",
        "m = \"a\\tb\"",
        "n = '''x'''",
        "o = \"\"\"x\"\"\"",
        "p = 1979-05-27",
        "[ t . v ]",
        "q = [1,2,]",
        "r = [ ]",
        "s = \"\"",
        "a = 2",
        "[a]",
        "x.y = 1",
        "'q' = 1",
        "[[t]]",
        "u = [1, [2]]",
        "v = {w = 1}",
        "z = 9223372036854775808",
        "\"k\" = 1",
        "w = 'it''s'",
        "y = true # c\u{7f}",
        "[[arr]] # more",
        "[u]",
        "bad line",
        "= 1",
        "t = 1",
        "[]",
        "[[]]",
        "e = [1 2]",
        "e2 = [1,",
        "ünï = 1",
        "\tl2 = 'tab'",
        "big = -9223372036854775808",
        "[arr.sub.deep]",
        "sub = 1",
        "[a.b]",
        "c2 = 0",
        "d2 = tru",
        "h2 = true#c",
        "lit = 'a\\b'",
        "[t.u.w]",
        "[a.b.c]",
        "[arr.list.x]",
        "val = 3",
    ];

    #[test]
    fn the_fast_path_agrees_with_toml_edit() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let (mut fast_read, mut left) = (0, 0);
        for round in 0..12_000 {
            let lines: Vec<&str> = (0..1 + next(9))
                .map(|_| FRAGMENTS[next(FRAGMENTS.len())])
                .collect();
            let text = lines.join(if round % 5 == 0 { "\r\n" } else { "\n" });
            let full = parse_full(&text);
            match fast::parse(&text) {
                Some(fast) => {
                    fast_read += 1;
                    let full = full.unwrap_or_else(|e| panic!("{text:?}: fast read, full: {e}"));
                    assert_eq!(
                        crate::read::json::render(&fast, true),
                        crate::read::json::render(&full, true),
                        "{text:?}"
                    );
                    assert_eq!(fast, full, "{text:?}");
                }
                None => left += 1,
            }
        }
        // Both paths were exercised.
        assert!(
            fast_read > 1_200 && left > 1_200,
            "fast {fast_read}, left {left}"
        );
    }

    #[test]
    fn the_fast_path_reads_the_files_configuration_is_written_in() {
        let typical = "# svc/config.toml\nname = \"svc-a\"\nconcurrency = 8\ntags = [\"shop\", \"media\"]\n\n[pool]\nmin = 2\nmax = 30\n\n[retry]\njitter = true\n\n[[upstreams]]\nname = \"coupon\"\nurl = \"http://coupon.shop-qa.svc:8080\"\ntimeout_ms = 800\n\n[[upstreams]]\nname = \"review\"\n";
        let fast = fast::parse(typical).expect("the fast path reads a typical file");
        assert_eq!(fast, parse_full(typical).unwrap());
        for file in ["qa/config.toml", "prod/config.toml"] {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/shop/");
            let text = std::fs::read_to_string(format!("{path}{file}")).unwrap();
            if let Some(fast) = fast::parse(&text) {
                assert_eq!(fast, parse_full(&text).unwrap(), "{file}");
            }
        }
    }

    #[test]
    fn errors_never_include_the_input() {
        let canary = "CANARY-s3cr3t-XYZ";
        for bad in [
            format!("password = {canary}\n"),
            format!("password = \"{canary}\n"),
            format!("password = '{canary}' extra\n"),
            format!("{canary} = 1\n{canary} = 2\n"),
            format!("[{canary}]\n[{canary}]\n"),
            format!("password = \"{canary}\\q\"\n"),
            format!("a = 1979-05-27T{canary}\n"),
            format!("{canary}\n"),
        ] {
            let err = parse(&bad).expect_err(&bad);
            assert!(!err.message.contains("CANARY"), "{bad:?}: {err}");
            assert!(!err.message.contains("s3cr3t"), "{bad:?}: {err}");
        }
    }
}
