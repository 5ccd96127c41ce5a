//! YAML 1.2, multi-document, built from the `saphyr-parser` event stream.
//!
//! Most files never reach the event stream: a hand-written fast path (`yaml_fast.rs`) reads the
//! block-style subset that manifests, Helm values and app configs are written in, several times
//! faster, giving the same trees; a file that leaves the subset anywhere (or is malformed) is
//! read whole by the event-driven reader, which also reports the errors.
//!
//! - Plain scalars follow the YAML 1.2 core schema: `null`/`Null`/`NULL`/`~`/empty are null,
//!   `true`/`True`/`TRUE` (and `false`) are booleans, `[-+]?[0-9]+`, `0o…` and `0x…` are
//!   integers, decimal floats and `.inf`/`-.inf`/`.nan` (any core casing) are floats; anything
//!   else is a string. Quoted and block (`|`, `>`) scalars are always strings. Note that YAML
//!   1.1 forms are plain strings here (`yes`, `on`, `0b101`, `1_000`) and `0644` is decimal 644.
//! - Core tags are honoured: `!!str`, `!!int`, `!!float`, `!!bool`, `!!null` (a value that does
//!   not fit its tag is an error); other core tags (`!!binary`, `!!timestamp`, …) give strings.
//!   Custom tags (`!Ref`, `!Sub`, `!`) are dropped: a tagged scalar becomes a string, a tagged
//!   collection stays what it is.
//! - An alias copies the anchored node, lines included (they point to where the value is
//!   written). Aliases that would expand beyond `ALIAS_BUDGET` nodes are refused.
//! - Merge keys: `<<: *a` and `<<: [*a, *b]` (or inline maps). Keys written in the map win over
//!   merged ones, earlier merged maps win over later ones, and merged keys are inserted where
//!   the `<<` entry stands. A quoted `"<<"` is an ordinary key.
//! - Map keys are their scalar text (`1: a` → key `"1"`, `~: a` → key `"~"`); collection keys
//!   (`? [a, b]`) are rendered in flow style (`"[a, b]"`). A duplicated key keeps the position of
//!   its first occurrence and the last value.
//! - A node's line is the line its first character (or its anchor or tag) is on; a block
//!   scalar's line is that of its `|`/`>` indicator; an empty value is on its key's line.
//! - Empty documents (nothing but comments, or a bare `---`) are skipped: an empty file or a
//!   file of separators gives no documents. A document holding an explicit `null` or `~` gives
//!   a [`NodeKind::Null`] document.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};

use super::ReadError;
use super::json::{
    MAX_DEPTH, canonical_float, canonical_int_text, canonical_radix, dedup_keys, to_u32,
};
use crate::tree::{Key as MapKey, Node, NodeKind, Text};

/// The most nodes aliases may copy in one file (protection against "billion laughs").
const ALIAS_BUDGET: usize = 1_000_000;

#[path = "yaml_fast.rs"]
mod fast;

pub fn parse(text: &str) -> Result<Vec<Node>, ReadError> {
    if let Some(docs) = fast::parse(text) {
        return Ok(docs);
    }
    parse_events(text)
}

/// The full reader, for every input: builds the trees from the parser's events, and reports
/// the errors.
fn parse_events(text: &str) -> Result<Vec<Node>, ReadError> {
    let mut builder = Builder {
        text,
        ascii: text.is_ascii(),
        char_pos: (0, 0),
        docs: Vec::new(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_budget: ALIAS_BUDGET,
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(scan_error)?;
        builder.event(event, span)?;
    }
    Ok(builder.docs)
}

fn scan_error(e: ScanError) -> ReadError {
    let mark = e.marker();
    // The parser's messages are fixed texts except this one, which quotes a character.
    let message = if e.info().starts_with("unexpected character") {
        "unexpected character: `@`, `%` and `` ` `` cannot start a plain scalar".to_owned()
    } else {
        e.info().to_owned()
    };
    ReadError {
        line: to_u32(mark.line().max(1)),
        column: to_u32(mark.col() + 1),
        message,
    }
}

enum Key {
    Text(MapKey),
    Merge,
}

enum Frame {
    Seq {
        line: u32,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        line: u32,
        anchor: usize,
        entries: Vec<(MapKey, Node)>,
        key: Option<(Key, u32)>,
        /// `<<` values and the index in `entries` where they were written.
        merges: Vec<(usize, Node)>,
    },
}

struct Builder<'t> {
    text: &'t str,
    ascii: bool,
    /// Last converted (character index, byte index), for non-ASCII input.
    char_pos: (usize, usize),
    docs: Vec<Node>,
    stack: Vec<Frame>,
    /// Finished anchored nodes of the current document, with their node counts.
    anchors: HashMap<usize, (Node, usize)>,
    alias_budget: usize,
}

fn error(span: Span, message: &str) -> ReadError {
    ReadError {
        line: to_u32(span.start.line().max(1)),
        column: to_u32(span.start.col() + 1),
        message: message.to_owned(),
    }
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), ReadError> {
        let line = to_u32(span.start.line());
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                self.scalar(value, style, anchor, tag.as_deref(), span)?;
            }
            Event::SequenceStart(anchor, _) => {
                self.check_depth(span)?;
                self.stack.push(Frame::Seq {
                    line,
                    anchor,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, _) => {
                self.check_depth(span)?;
                self.stack.push(Frame::Map {
                    line,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    merges: Vec::new(),
                });
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    line,
                    anchor,
                    items,
                }) => {
                    self.finish(Node::new(line, NodeKind::List(items)), anchor, span)?;
                }
                _ => return Err(error(span, "unbalanced sequence end")),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map {
                    line,
                    anchor,
                    entries,
                    merges,
                    ..
                }) => {
                    let entries = merge_entries(entries, merges);
                    self.finish(Node::new(line, NodeKind::Map(entries)), anchor, span)?;
                }
                _ => return Err(error(span, "unbalanced mapping end")),
            },
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id) else {
                    let open = self.stack.iter().any(|f| match f {
                        Frame::Seq { anchor, .. } | Frame::Map { anchor, .. } => *anchor == id,
                    });
                    return Err(error(
                        span,
                        if open {
                            "recursive alias: the alias is inside the node it refers to"
                        } else {
                            "alias to an anchor of another document"
                        },
                    ));
                };
                if *size > self.alias_budget {
                    return Err(error(span, "aliases expand to too many nodes"));
                }
                self.alias_budget -= size;
                let node = node.clone();
                self.attach(node, span)?;
            }
            Event::DocumentStart(_) => self.anchors.clear(),
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn check_depth(&self, span: Span) -> Result<(), ReadError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(error(span, "sequences and mappings nest too deeply"));
        }
        Ok(())
    }

    fn scalar(
        &mut self,
        value: Cow<'_, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<(), ReadError> {
        let mut line = to_u32(span.start.line());
        if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
            line = self.block_scalar_line(span);
        }
        match self.stack.last_mut() {
            // A map key: keep its text.
            Some(Frame::Map {
                key: key @ None, ..
            }) => {
                let anchored = if anchor == 0 {
                    None
                } else {
                    Some(resolve(value.clone(), style, tag))
                };
                let k = if value == "<<" && style == ScalarStyle::Plain && tag.is_none() {
                    Key::Merge
                } else {
                    Key::Text(owned(value))
                };
                *key = Some((k, line));
                if let Some(kind) = anchored {
                    let kind = kind.map_err(|m| error(span, m))?;
                    self.anchors.insert(anchor, (Node::new(line, kind), 1));
                }
                return Ok(());
            }
            // An empty document.
            None if value.is_empty()
                && style == ScalarStyle::Plain
                && tag.is_none()
                && anchor == 0 =>
            {
                return Ok(());
            }
            _ => {}
        }
        let kind = resolve(value, style, tag).map_err(|m| error(span, m))?;
        self.finish(Node::new(line, kind), anchor, span)
    }

    /// A node is complete: remember it if anchored, then attach it to its parent.
    fn finish(&mut self, node: Node, anchor: usize, span: Span) -> Result<(), ReadError> {
        if anchor != 0 {
            self.anchors
                .insert(anchor, (node.clone(), count_nodes(&node)));
        }
        self.attach(node, span)
    }

    fn attach(&mut self, node: Node, span: Span) -> Result<(), ReadError> {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                key: key @ None, ..
            }) => {
                *key = Some((Key::Text(key_text(&node).into()), node.line));
            }
            Some(Frame::Map {
                key: key @ Some(_),
                entries,
                merges,
                ..
            }) => {
                let Some((key, key_line)) = key.take() else {
                    unreachable!()
                };
                match key {
                    Key::Text(key) => {
                        let mut node = node;
                        // An empty value sits right after its key's `:`, possibly on the
                        // next line when it is the last thing on the key's line.
                        if node.kind == NodeKind::Null && node.line > key_line && span.is_empty() {
                            node.line = key_line;
                        }
                        entries.push((key, node));
                    }
                    Key::Merge => {
                        let ok = match &node.kind {
                            NodeKind::Map(_) => true,
                            NodeKind::List(items) => {
                                items.iter().all(|i| matches!(i.kind, NodeKind::Map(_)))
                            }
                            _ => false,
                        };
                        if !ok {
                            return Err(error(
                                span,
                                "the merge key `<<` needs a mapping or a list of mappings",
                            ));
                        }
                        merges.push((entries.len(), node));
                    }
                }
            }
        }
        Ok(())
    }

    /// The line of a block scalar's `|` or `>` indicator: the scanner reports where its
    /// content starts, which is after the indicator's line and any blank lines.
    fn block_scalar_line(&mut self, span: Span) -> u32 {
        let mut line = span.start.line();
        let byte = self.byte_index(span.start.index());
        let bytes = self.text.as_bytes();
        let blank = |s: &[u8]| s.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
        let mut start = bytes[..byte]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        if !blank(&bytes[start..byte]) {
            // Empty content at the end of the input: still on the indicator's line.
            return to_u32(line);
        }
        while start > 0 && line > 1 {
            let end = start - 1;
            let prev = bytes[..end]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            line -= 1;
            if !blank(&bytes[prev..end]) {
                break;
            }
            start = prev;
        }
        to_u32(line)
    }

    /// Byte offset of a character index (the parser counts characters).
    fn byte_index(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        let (mut c, mut b) = self.char_pos;
        if char_index < c {
            (c, b) = (0, 0);
        }
        let mut chars = self.text[b..].chars();
        while c < char_index {
            let Some(ch) = chars.next() else { break };
            b += ch.len_utf8();
            c += 1;
        }
        self.char_pos = (c, b);
        b
    }
}

fn count_nodes(node: &Node) -> usize {
    match &node.kind {
        NodeKind::List(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        NodeKind::Map(entries) => 1 + entries.iter().map(|(_, v)| count_nodes(v)).sum::<usize>(),
        _ => 1,
    }
}

/// The entries of a finished map, with `<<` merges applied and duplicates resolved.
fn merge_entries(
    mut entries: Vec<(MapKey, Node)>,
    merges: Vec<(usize, Node)>,
) -> Vec<(MapKey, Node)> {
    if merges.is_empty() {
        dedup_keys(&mut entries);
        return entries;
    }
    let explicit: std::collections::HashSet<MapKey> =
        entries.iter().map(|(k, _)| k.clone()).collect();
    let mut merged: std::collections::HashSet<MapKey> = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    let mut merges = merges.into_iter().peekable();
    let mut insert = |out: &mut Vec<(MapKey, Node)>, source: Node| {
        let maps = match source.kind {
            NodeKind::List(items) => items,
            kind => vec![Node::new(source.line, kind)],
        };
        for map in maps {
            if let NodeKind::Map(pairs) = map.kind {
                for (k, v) in pairs {
                    if !explicit.contains(&k) && merged.insert(k.clone()) {
                        out.push((k, v));
                    }
                }
            }
        }
    };
    for (i, entry) in entries.into_iter().enumerate() {
        while let Some((_, source)) = merges.next_if(|(at, _)| *at == i) {
            insert(&mut out, source);
        }
        out.push(entry);
    }
    for (_, source) in merges {
        insert(&mut out, source);
    }
    dedup_keys(&mut out);
    out
}

/// The text a non-scalar (or aliased) key stands for.
fn key_text(node: &Node) -> String {
    let mut out = String::new();
    write_key_text(node, &mut out);
    out
}

fn write_key_text(node: &Node, out: &mut String) {
    match &node.kind {
        NodeKind::Null => out.push_str("null"),
        NodeKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        NodeKind::Number(s) | NodeKind::String(s) => out.push_str(s),
        NodeKind::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_key_text(item, out);
            }
            out.push(']');
        }
        NodeKind::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push_str(": ");
                write_key_text(v, out);
            }
            out.push('}');
        }
    }
}

/// The core-schema type a tag asks for, if it is a core tag.
fn core_tag(tag: &Tag) -> Option<&str> {
    const CORE: &str = "tag:yaml.org,2002:";
    if tag.handle == CORE {
        Some(&tag.suffix)
    } else if tag.handle.is_empty() {
        tag.suffix.strip_prefix(CORE)
    } else {
        None
    }
}

/// The scalar's text as an owned string. The scanner builds plain scalars in buffers with
/// over a hundred bytes to spare; an exact-size copy keeps big trees several times smaller
/// (and, as the scanner's buffer is then reused at once, costs about nothing).
fn owned(value: Cow<'_, str>) -> Text {
    match value {
        Cow::Borrowed(s) => Text::new(s),
        Cow::Owned(s) if s.capacity() > s.len() + 32 => Text::new(&s),
        Cow::Owned(s) => Text::from(s),
    }
}

/// The value of a scalar: plain scalars by the core schema, tags as described in the module
/// documentation, everything else a string.
fn resolve(
    value: Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> Result<NodeKind, &'static str> {
    let Some(tag) = tag else {
        if style == ScalarStyle::Plain {
            return Ok(resolve_plain(value));
        }
        return Ok(NodeKind::String(owned(value)));
    };
    let v: &str = &value;
    Ok(match core_tag(tag) {
        Some("null") => match v {
            "" | "~" | "null" | "Null" | "NULL" => NodeKind::Null,
            _ => return Err("value does not match its `!!null` tag"),
        },
        Some("bool") => match v {
            "true" | "True" | "TRUE" => NodeKind::Bool(true),
            "false" | "False" | "FALSE" => NodeKind::Bool(false),
            _ => return Err("value does not match its `!!bool` tag"),
        },
        Some("int") => NodeKind::Number(int(v).ok_or("value does not match its `!!int` tag")?),
        Some("float") => NodeKind::Number(
            float(v)
                .map(Text::from)
                .or_else(|| int(v))
                .ok_or("value does not match its `!!float` tag")?,
        ),
        _ => NodeKind::String(owned(value)),
    })
}

fn resolve_plain(value: Cow<'_, str>) -> NodeKind {
    let v: &str = &value;
    let Some(&first) = v.as_bytes().first() else {
        return NodeKind::Null;
    };
    let special = match first {
        b'~' | b'n' | b'N' => match v {
            "~" | "null" | "Null" | "NULL" => Some(NodeKind::Null),
            _ => None,
        },
        b't' | b'T' => match v {
            "true" | "True" | "TRUE" => Some(NodeKind::Bool(true)),
            _ => None,
        },
        b'f' | b'F' => match v {
            "false" | "False" | "FALSE" => Some(NodeKind::Bool(false)),
            _ => None,
        },
        b'0'..=b'9' | b'-' | b'+' | b'.' => int(v)
            .or_else(|| float(v).map(Text::from))
            .map(NodeKind::Number),
        _ => None,
    };
    special.unwrap_or_else(|| NodeKind::String(owned(value)))
}

/// A core-schema integer (`[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`), canonical.
fn int(v: &str) -> Option<Text> {
    if let Some(hex) = v.strip_prefix("0x") {
        return canonical_radix(hex, 16).map(Text::from);
    }
    if let Some(oct) = v.strip_prefix("0o") {
        return canonical_radix(oct, 8).map(Text::from);
    }
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        Some(canonical_int_text(v))
    } else {
        None
    }
}

/// A core-schema float (`[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `.inf`, `.nan`),
/// canonical.
fn float(v: &str) -> Option<String> {
    let (negative, unsigned) = match v.as_bytes().first() {
        Some(b'-') => (true, &v[1..]),
        Some(b'+') => (false, &v[1..]),
        _ => (false, v),
    };
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(if negative { "-inf" } else { "inf" }.to_owned()),
        ".nan" | ".NaN" | ".NAN" if unsigned.len() == v.len() => return Some("nan".to_owned()),
        _ => {}
    }
    let b = unsigned.as_bytes();
    let digits = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let int_end = digits(0);
    let mut i = int_end;
    if b.get(i) == Some(&b'.') {
        i = digits(i + 1);
        if int_end == 0 && i == 1 {
            return None; // a lone `.`
        }
    } else if int_end == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let end = digits(j);
        if end == j {
            return None;
        }
        i = end;
    }
    if i != b.len() {
        return None;
    }
    // The grammar above is a subset of what `f64::from_str` accepts.
    v.parse::<f64>().ok().map(canonical_float)
}

#[cfg(test)]
mod tests {
    use super::super::json::render;
    use super::*;

    /// Renders every document, separated by ` --- `.
    /// Also checks that the fast path gives the same documents or leaves the input alone.
    fn docs(input: &str, lines: bool) -> String {
        let docs = parse_events(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        if let Some(fast) = fast::parse(input) {
            assert_eq!(fast, docs, "fast path, input: {input:?}");
        }
        docs.iter()
            .map(|d| render(d, lines))
            .collect::<Vec<_>>()
            .join(" --- ")
    }

    #[track_caller]
    fn check(input: &str, expected: &str) {
        assert_eq!(docs(input, false), expected, "input: {input:?}");
    }

    #[track_caller]
    fn check_lines(input: &str, expected: &str) {
        assert_eq!(docs(input, true), expected, "input: {input:?}");
    }

    #[track_caller]
    fn check_err(input: &str, line: u32, message: &str) {
        assert_eq!(fast::parse(input), None, "fast path, input: {input:?}");
        let err = parse(input).expect_err(input);
        assert_eq!(err.line, line, "{input:?}: {err}");
        assert!(err.message.contains(message), "{input:?}: {err}");
    }

    #[test]
    fn core_schema_plain_scalars() {
        check(
            "[~, null, Null, NULL, nUll, '', true, True, TRUE, tRue, false, FALSE, yes, no, on]",
            r#"[~, ~, ~, ~, "nUll", "", true, true, true, "tRue", false, false, "yes", "no", "on"]"#,
        );
        check(
            "[0, 007, +12, -3, 0x1F, 0xff, 0o17, 0o8, 0b101, 1_000, -0x1, 0644]",
            r#"[0, 7, 12, -3, 31, 255, 15, "0o8", "0b101", "1_000", "-0x1", 644]"#,
        );
        check(
            "[1.5, 1e3, 1000.0, 1.e3, .5, -.5, +1.25E-2, 5., .inf, -.Inf, +.INF, .nan, .NaN, -.nan, ., 1e, e3, 1.2.3]",
            r#"[1.5, 1000, 1000, 1000, 0.5, -0.5, 0.0125, 5, inf, -inf, inf, nan, nan, "-.nan", ".", "1e", "e3", "1.2.3"]"#,
        );
        check(
            "a: 123456789012345678901234567890123456789012",
            "{a: 123456789012345678901234567890123456789012}",
        );
        check(
            "a: 0xffffffffffffffffffffffffffffffffff",
            "{a: 87112285931760246646623899502532662132735}",
        );
        check(
            "- 500m\n- 256Mi\n- 1.2.3.4\n- -x\n- 12:30\n- 0.25\n- -1",
            r#"["500m", "256Mi", "1.2.3.4", "-x", "12:30", 0.25, -1]"#,
        );
    }

    #[test]
    fn quoted_and_block_scalars_are_strings() {
        check(
            r#"[ "1", '2', "true", 'null', "" ]"#,
            r#"["1", "2", "true", "null", ""]"#,
        );
        check(
            "a: |\n  1\n  two\nb: >-\n  folded\n  text\n\n  para\nc: |+\n  keep\n\n",
            r#"{a: "1\ntwo\n", b: "folded text\npara", c: "keep\n\n"}"#,
        );
        check("a: |\nb: >\n", r#"{a: "", b: ""}"#);
        check(
            "a: \"multi\n  line\"\nb: plain\n  continued",
            r#"{a: "multi line", b: "plain continued"}"#,
        );
    }

    #[test]
    fn tags() {
        check(
            "[!!str 12, !!str true, !!int '12', !!float 1, !!float '1.5', !!bool 'TRUE', !!null '', !!binary aGk=, !!timestamp 2001-12-14]",
            r#"["12", "true", 12, 1, 1.5, true, ~, "aGk=", "2001-12-14"]"#,
        );
        check(
            "a: !Ref MyBucket\nb: !Sub '${X}'\nc: !GetAZs\nd: ! 12\ne: !custom [1, 2]\nf: !!map {x: 1}",
            r#"{a: "MyBucket", b: "${X}", c: "", d: "12", e: [1, 2], f: {x: 1}}"#,
        );
        check(
            "a: !<tag:yaml.org,2002:int> 0x10\nb: !<tag:yaml.org,2002:str> 7",
            r#"{a: 16, b: "7"}"#,
        );
        check(
            "%TAG !e! tag:example.com,2000:\n---\na: !e!foo 12",
            r#"{a: "12"}"#,
        );
        check_err("a: 1\nb: !!int twelve", 2, "`!!int`");
        check_err("a: !!bool yes", 1, "`!!bool`");
        check_err("a: !!null x", 1, "`!!null`");
        check_err("a: !!float abc", 1, "`!!float`");
    }

    #[test]
    fn keys() {
        check(
            "1: a\n1.0: b\ntrue: c\n~: d\n'q': e\n: f\n",
            r#"{1: "a", 1.0: "b", true: "c", ~: "d", q: "e", : "f"}"#,
        );
        check("? [a, b]\n: 1\n? {x: 1}\n: 2\n", "{[a, b]: 1, {x: 1}: 2}");
        check("x: &k key\n*k : v", r#"{x: "key", key: "v"}"#);
        check("&a k: 1\nb: *a", r#"{k: 1, b: "k"}"#);
    }

    #[test]
    fn duplicate_keys_last_wins_in_first_position() {
        check_lines("a: 1\nb: 2\na: 3\n", "{a: 3@3, b: 2@2}@1");
    }

    #[test]
    fn anchors_and_aliases() {
        check_lines(
            "base: &b\n  x: 1\n  y: [a, b]\ncopy: *b\nscalar: &s hello\nagain: *s\n",
            r#"{base: {x: 1@2, y: ["a"@3, "b"@3]@3}@1, copy: {x: 1@2, y: ["a"@3, "b"@3]@3}@1, scalar: "hello"@5, again: "hello"@5}@1"#,
        );
        // Anchors can be redefined; an alias takes the latest definition.
        check("- &a 1\n- *a\n- &a 2\n- *a", "[1, 1, 2, 2]");
        check("a: &e\nb: *e", "{a: ~, b: ~}");
        check_err("a: &x [1, *x]", 1, "recursive alias");
        check_err("a: *nope", 1, "unknown anchor");
        check_err("a: &x 1\n---\nb: *x", 3, "another document");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h"])
        {
            bomb.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let err = parse(&bomb).unwrap_err();
        assert!(err.message.contains("too many nodes"), "{err}");
    }

    #[test]
    fn merge_keys() {
        let base = "base: &base {a: 1, b: 2}\nmore: &more {b: 3, c: 4}\n";
        check(
            &format!("{base}x:\n  <<: *base\n  b: 9\n"),
            "{base: {a: 1, b: 2}, more: {b: 3, c: 4}, x: {a: 1, b: 9}}",
        );
        // Explicit keys win even when written before the merge.
        check(
            &format!("{base}x:\n  a: 0\n  <<: *base\n  z: 5\n"),
            "{base: {a: 1, b: 2}, more: {b: 3, c: 4}, x: {a: 0, b: 2, z: 5}}",
        );
        // In a list, earlier maps win.
        check(
            &format!("{base}x:\n  <<: [*more, *base]\n"),
            "{base: {a: 1, b: 2}, more: {b: 3, c: 4}, x: {b: 3, c: 4, a: 1}}",
        );
        check("x: {<<: {a: 1}, b: 2}", "{x: {a: 1, b: 2}}");
        // Merged nodes keep the lines where they were written.
        check_lines(
            "b: &b\n  k: v\nx:\n  <<: *b\n",
            r#"{b: {k: "v"@2}@1, x: {k: "v"@2}@4}@1"#,
        );
        // A quoted `<<` is an ordinary key.
        check("x: {'<<': {a: 1}}", "{x: {<<: {a: 1}}}");
        check_err("x:\n  <<: 1\n", 2, "merge key");
        check_err("x:\n  <<: [{a: 1}, 2]\n", 2, "merge key");
    }

    #[test]
    fn multi_document() {
        check(
            "a: 1\n---\nb: 2\n...\n---\n- 3\n",
            "{a: 1} --- {b: 2} --- [3]",
        );
        check("--- 1\n--- two\n", r#"1 --- "two""#);
        check("", "");
        check("# only a comment\n\n", "");
        check("---\n---\n---\n", "");
        check("---\n# nothing\n---\na: 1\n---\n", "{a: 1}");
        check("--- ~\n---\nnull\n", "~ --- ~");
        check("--- ''\n", r#""""#);
        check(
            "%YAML 1.2\n---\na: 1\n...\n%YAML 1.2\n---\nb: 2\n",
            "{a: 1} --- {b: 2}",
        );
        check("\u{feff}a: 1\n", "{a: 1}");
        check_lines(
            "# c\n---\n\n---\n# c\nk: v\n---\n- 1\n",
            r#"{k: "v"@6}@6 --- [1@8]@8"#,
        );
    }

    #[test]
    fn lines() {
        let input = "\
# comment
apiVersion: v1
kind: ConfigMap
data:
  script: |
    line one

    line three
  after: x
  folded: >-

    text
  quoted: \"a
    b\"
  next: 1
  empty:
  flow: {a: 1,
    b: [x,
      y]}
  list:
  - one
  -
  - &anchor three
---
second: doc
";
        check_lines(
            input,
            concat!(
                r#"{apiVersion: "v1"@2, kind: "ConfigMap"@3, data: {script: "line one\n\nline three\n"@5, after: "x"@9, "#,
                r#"folded: "\ntext"@10, quoted: "a b"@13, next: 1@15, empty: ~@16, flow: {a: 1@17, b: ["x"@18, "y"@19]@18}@17, "#,
                r#"list: ["one"@21, ~@22, "three"@23]@21}@5}@2 --- {second: "doc"@25}@25"#
            ),
        );
        check_lines(
            "- |\n  a\n- >\n\n\n  b\n- |\n",
            r#"["a\n"@1, "\n\nb\n"@3, ""@7]@1"#,
        );
        check_lines("a:\n  - x\nb:", r#"{a: ["x"@2]@2, b: ~@3}@1"#);
        check_lines("k: |", r#"{k: ""@1}@1"#);
        // Non-ASCII text before a block scalar.
        check_lines("é: ü\nk: |\n\n  v", r#"{é: "ü"@1, k: "\nv\n"@2}@1"#);
        check_lines(
            "a: 1\r\nb: |\r\n  x\r\nc: 2\r\n",
            r#"{a: 1@1, b: "x\n"@2, c: 2@4}@1"#,
        );
    }

    #[test]
    fn errors() {
        check_err("a: 1\n b: 2\n", 2, "");
        check_err("a: [1, 2\n", 2, "");
        check_err("a:\n\t- 1\n", 2, "tab");
        check_err("a: 'x\n", 1, "quoted scalar");
        check_err("a: 1\nb: @x\n", 2, "cannot start a plain scalar");
        check_err("- a\nb: c\n", 2, "");
        // Block nesting is limited here; the parser limits flow nesting itself.
        check_err(
            &format!("{}x", "- ".repeat(MAX_DEPTH + 1)),
            1,
            "nest too deeply",
        );
        assert!(parse(&format!("{}x", "- ".repeat(MAX_DEPTH))).is_ok());
        check_err(
            &format!("{}{}", "[".repeat(300), "]".repeat(300)),
            1,
            "recursion limit",
        );
    }

    #[test]
    fn errors_never_include_the_input() {
        let canary = "CANARY-s3cr3t-XYZ";
        for bad in [
            format!("password: {canary}\n bad: indent\n"),
            format!("password: \"{canary}\n"),
            format!("password: '{canary}\n"),
            format!("password: [{canary}, \n"),
            format!("password: {{a: {canary}\n"),
            format!("password: *{canary}\n"),
            format!("password: !!int {canary}\n"),
            format!("password: @{canary}\n"),
            format!("password: `{canary}\n"),
            format!("password: \"{canary}\\q\"\n"),
            format!("- {canary}\nkey: value\n"),
            format!("a: &{canary} [*{canary}]\n"),
            format!("%TAG !a! {canary}\n%TAG !a! {canary}\n--- a"),
            format!("--- !{canary}!x a\n"),
            format!("{canary}: 1\n\t{canary}: 2\n"),
        ] {
            let err = parse(&bad).expect_err(&bad);
            assert!(!err.message.contains("CANARY"), "{bad:?}: {err}");
            assert!(!err.message.contains("s3cr3t"), "{bad:?}: {err}");
        }
    }

    /// Kubernetes-style YAML: Deployment, Service and ConfigMap documents, `target` bytes or so.
    pub(crate) fn k8s_yaml(target: usize) -> String {
        use std::fmt::Write;
        let mut s = String::with_capacity(target + 4096);
        let mut i = 0usize;
        while s.len() < target {
            let (name, rev, rep) = (format!("svc-{i:05}"), i % 97, i % 5 + 1);
            write!(
                s,
                "---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: prod
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: shop
    tier: backend
  annotations:
    deployment.kubernetes.io/revision: \"{rev}\"
spec:
  replicas: {rep}
  revisionHistoryLimit: 10
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxSurge: 25%, maxUnavailable: 0}}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      serviceAccountName: {name}
      containers:
        - name: app
          image: registry.example.com/shop/{name}:1.{rev}.3
          imagePullPolicy: IfNotPresent
          args: [\"--port=8080\", \"--log-level=info\"]
          ports:
            - containerPort: 8080
              name: http
              protocol: TCP
          env:
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef:
                  name: {name}-db
                  key: url
            - name: JAVA_OPTS
              value: \"-Xmx512m -XX:+UseG1GC\"
            - name: FEATURE_FLAGS
              value: 'a,b,c'
          resources:
            limits:
              cpu: 500m
              memory: 512Mi
            requests:
              cpu: 0.25
              memory: 256Mi
          readinessProbe:
            httpGet:
              path: /healthz
              port: 8080
            initialDelaySeconds: 5
            periodSeconds: 10
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {name}
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
data:
  LOG_LEVEL: info
  CACHE_TTL: \"300\"
  enabled: true
  ratio: 1.5e2
  application.yaml: |
    server:
      port: 8080
    spring:
      datasource:
        url: jdbc:postgresql://db:5432/{name}
  nothing: ~
"
            )
            .unwrap();
            i += 1;
        }
        s
    }

    #[test]
    fn generated_k8s_yaml_parses() {
        let text = k8s_yaml(20_000);
        let docs = parse(&text).unwrap();
        assert_eq!(docs.len() % 3, 0);
        let line_of =
            |needle: &str| 1 + text[..text.find(needle).unwrap()].matches('\n').count() as u32;
        let svc = &docs[1];
        assert_eq!(svc.line, line_of("kind: Service") - 1);
        assert_eq!(
            svc.get("spec").unwrap().get("ports").unwrap().line,
            line_of("  - name: http")
        );
        let data = docs[2].get("data").unwrap();
        assert_eq!(
            data.get("ratio").unwrap().kind,
            NodeKind::Number("150".into())
        );
        assert_eq!(data.get("CACHE_TTL").unwrap().as_str(), Some("300"));
        assert_eq!(
            data.get("application.yaml").unwrap().line,
            line_of("  application.yaml: |")
        );
        assert_eq!(data.get("nothing").unwrap().line, line_of("  nothing: ~"));
    }

    /// Throughput on ~20 MB of Kubernetes-style YAML and the same content as JSON:
    /// `cargo test --release -p envparity-config -- --ignored --nocapture throughput`.
    /// Reports the fast path and the full (event-driven) reader separately, and the reader end
    /// to end (which takes the fast path on this input).
    #[test]
    #[ignore = "measurement; run in release mode"]
    fn throughput() {
        let yaml = k8s_yaml(20 << 20);
        let docs = parse_events(&yaml).unwrap();
        assert_eq!(fast::parse(&yaml).as_ref(), Some(&docs));
        let json = format!(
            "[{}]",
            docs.iter().map(to_json).collect::<Vec<_>>().join(",\n")
        );
        let mb = |n: usize| n as f64 / 1e6;
        let mut best = [0.0f64; 5];
        let mut time = |i: usize, bytes: usize, f: &dyn Fn()| {
            let t = std::time::Instant::now();
            f();
            best[i] = best[i].max(mb(bytes) / t.elapsed().as_secs_f64());
        };
        for _ in 0..3 {
            time(0, yaml.len(), &|| {
                let mut parser = Parser::new_from_str(&yaml);
                let mut events = 0usize;
                while let Some(e) = parser.next_event() {
                    e.unwrap();
                    events += 1;
                }
                assert!(events > 0);
            });
            // Each: parsing, building the trees, and dropping them.
            time(1, yaml.len(), &|| {
                assert_eq!(parse_events(&yaml).unwrap().len(), docs.len());
            });
            time(2, yaml.len(), &|| {
                assert_eq!(fast::parse(&yaml).unwrap().len(), docs.len());
            });
            time(3, yaml.len(), &|| {
                assert_eq!(parse(&yaml).unwrap().len(), docs.len());
            });
            time(4, json.len(), &|| {
                super::super::json::parse(&json).unwrap();
            });
        }
        println!(
            "YAML {:.1} MB, {} documents: saphyr events only {:.1} MB/s, full reader (fallback) {:.1} MB/s, \
             fast path {:.1} MB/s, reader end to end {:.1} MB/s",
            mb(yaml.len()),
            docs.len(),
            best[0],
            best[1],
            best[2],
            best[3]
        );
        println!("JSON {:.1} MB: {:.1} MB/s", mb(json.len()), best[4]);
    }

    fn to_json(node: &Node) -> String {
        match &node.kind {
            NodeKind::Null => "null".into(),
            NodeKind::Bool(b) => b.to_string(),
            NodeKind::Number(n) => n.to_string(),
            NodeKind::String(s) => format!("{s:?}"),
            NodeKind::List(items) => format!(
                "[{}]",
                items.iter().map(to_json).collect::<Vec<_>>().join(", ")
            ),
            NodeKind::Map(entries) => format!(
                "{{\n{}\n}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("  {k:?}: {}", to_json(v)))
                    .collect::<Vec<_>>()
                    .join(",\n")
            ),
        }
    }
}
