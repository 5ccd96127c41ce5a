//! JSON (RFC 8259), hand-written for speed and exact lines.
//!
//! Strict: no comments, no trailing commas, nothing after the value, no lone surrogates in
//! `\u` escapes. A leading byte order mark is skipped. Nesting is limited to
//! `MAX_DEPTH` levels so hostile input cannot overflow the stack. Numbers are canonical as
//! [`NodeKind::Number`] says; a duplicated object key keeps its first position and its last
//! value.
//!
//! This file also holds the small helpers the other readers share (canonical numbers, duplicate
//! keys, line and column of a byte offset).

use std::collections::HashMap;

use super::ReadError;
use crate::tree::{Key, Node, NodeKind};

/// How deeply arrays and objects may nest (also used by the YAML reader).
pub(super) const MAX_DEPTH: usize = 1000;

pub fn parse(text: &str) -> Result<Node, ReadError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        depth: 0,
    };
    if text.starts_with('\u{feff}') {
        p.pos = 3;
    }
    p.skip_ws();
    let node = p.value()?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(p.unexpected(p.pos, "end of input after the JSON value"));
    }
    Ok(node)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    depth: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\r' => {}
                b'\n' => self.line += 1,
                _ => break,
            }
            self.pos += 1;
        }
    }

    fn error(&self, at: usize, message: &str) -> ReadError {
        error_at(self.text, at, message)
    }

    /// An error for an unexpected byte (or the end) at `at`, when `expected` was wanted.
    fn unexpected(&self, at: usize, expected: &str) -> ReadError {
        match self.bytes.get(at) {
            None => self.error(at, &format!("unexpected end of input, expected {expected}")),
            Some(b'/') => self.error(at, "comments are not allowed in JSON"),
            Some(_) => self.error(at, &format!("unexpected character, expected {expected}")),
        }
    }

    fn value(&mut self) -> Result<Node, ReadError> {
        let line = self.line;
        let start = self.pos;
        let kind = match self.bytes.get(start) {
            Some(b'{') => return self.object(),
            Some(b'[') => return self.array(),
            Some(b'"') => NodeKind::String(self.string()?.into()),
            Some(b'-' | b'0'..=b'9') => NodeKind::Number(self.number()?.into()),
            Some(b't') => self.literal(b"true", NodeKind::Bool(true))?,
            Some(b'f') => self.literal(b"false", NodeKind::Bool(false))?,
            Some(b'n') => self.literal(b"null", NodeKind::Null)?,
            _ => return Err(self.unexpected(start, "a JSON value")),
        };
        Ok(Node::new(line, kind))
    }

    fn literal(&mut self, word: &[u8], kind: NodeKind) -> Result<NodeKind, ReadError> {
        let end = self.pos + word.len();
        let is_word = self.bytes.get(self.pos..end) == Some(word);
        let is_ident = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
        if !is_word || self.bytes.get(end).is_some_and(is_ident) {
            return Err(self.error(
                self.pos,
                "invalid literal, expected `true`, `false` or `null`",
            ));
        }
        self.pos = end;
        Ok(kind)
    }

    fn enter(&mut self) -> Result<(), ReadError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(self.pos, "arrays and objects nest too deeply"));
        }
        Ok(())
    }

    fn array(&mut self) -> Result<Node, ReadError> {
        let line = self.line;
        self.enter()?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
        } else {
            loop {
                items.push(self.value()?);
                self.skip_ws();
                match self.bytes.get(self.pos) {
                    Some(b',') => {
                        let comma = self.pos;
                        self.pos += 1;
                        self.skip_ws();
                        if self.bytes.get(self.pos) == Some(&b']') {
                            return Err(self.error(comma, "trailing comma before `]`"));
                        }
                    }
                    Some(b']') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.unexpected(self.pos, "`,` or `]` after an array element")),
                }
            }
        }
        self.depth -= 1;
        Ok(Node::new(line, NodeKind::List(items)))
    }

    fn object(&mut self) -> Result<Node, ReadError> {
        let line = self.line;
        self.enter()?;
        self.pos += 1;
        let mut entries = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
        } else {
            loop {
                if self.bytes.get(self.pos) != Some(&b'"') {
                    return Err(self.unexpected(self.pos, "a string key"));
                }
                let key = self.string()?;
                self.skip_ws();
                if self.bytes.get(self.pos) != Some(&b':') {
                    return Err(self.unexpected(self.pos, "`:` after an object key"));
                }
                self.pos += 1;
                self.skip_ws();
                let value = self.value()?;
                entries.push((Key::from(key), value));
                self.skip_ws();
                match self.bytes.get(self.pos) {
                    Some(b',') => {
                        let comma = self.pos;
                        self.pos += 1;
                        self.skip_ws();
                        if self.bytes.get(self.pos) == Some(&b'}') {
                            return Err(self.error(comma, "trailing comma before `}`"));
                        }
                    }
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.unexpected(self.pos, "`,` or `}` after an object value")),
                }
            }
        }
        self.depth -= 1;
        dedup_keys(&mut entries);
        Ok(Node::new(line, NodeKind::Map(entries)))
    }

    /// A string starting at the opening quote at `self.pos`.
    fn string(&mut self) -> Result<String, ReadError> {
        let open = self.pos;
        let start = open + 1;
        let mut i = start;
        // Fast path: no escapes.
        loop {
            match self.bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(self.text[start..i].to_owned());
                }
                Some(b'\\') => break,
                Some(&b) if b < 0x20 => return Err(self.control_char(open, i)),
                Some(_) => i += 1,
                None => return Err(self.error(open, "unterminated string")),
            }
        }
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(&self.text[start..i]);
        loop {
            let run = i;
            while let Some(&b) = self.bytes.get(i) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                i += 1;
            }
            out.push_str(&self.text[run..i]);
            match self.bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc = i;
                    let c = match self.bytes.get(i + 1) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let (c, len) = self.unicode_escape(esc)?;
                            out.push(c);
                            i += len;
                            continue;
                        }
                        None => return Err(self.error(open, "unterminated string")),
                        Some(_) => return Err(self.error(esc, "invalid escape sequence in string")),
                    };
                    out.push(c);
                    i += 2;
                }
                Some(_) => return Err(self.control_char(open, i)),
                None => return Err(self.error(open, "unterminated string")),
            }
        }
    }

    fn control_char(&self, open: usize, at: usize) -> ReadError {
        if self.bytes[at] == b'\n' || self.bytes[at] == b'\r' {
            self.error(open, "unterminated string (line break inside a string)")
        } else {
            self.error(at, "unescaped control character in string")
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.bytes.get(at..at + 4)?;
        digits
            .iter()
            .try_fold(0u32, |acc, &b| Some(acc * 16 + (b as char).to_digit(16)?))
    }

    /// A `\uXXXX` escape (or a surrogate pair of two) at `at`: the character and the bytes used.
    fn unicode_escape(&self, at: usize) -> Result<(char, usize), ReadError> {
        let bad = || self.error(at, "invalid `\\u` escape, expected four hex digits");
        let hi = self.hex4(at + 2).ok_or_else(bad)?;
        match hi {
            0xD800..=0xDBFF => {
                let lo = if self.bytes.get(at + 6..at + 8) == Some(b"\\u") {
                    self.hex4(at + 8)
                        .filter(|lo| (0xDC00..=0xDFFF).contains(lo))
                } else {
                    None
                };
                let Some(lo) = lo else {
                    return Err(self.error(at, "unpaired surrogate in `\\u` escape"));
                };
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                Ok((char::from_u32(c).ok_or_else(bad)?, 12))
            }
            0xDC00..=0xDFFF => Err(self.error(at, "unpaired surrogate in `\\u` escape")),
            _ => Ok((char::from_u32(hi).ok_or_else(bad)?, 6)),
        }
    }

    /// A number starting at `self.pos`, as canonical text.
    fn number(&mut self) -> Result<String, ReadError> {
        let start = self.pos;
        let b = self.bytes;
        let mut i = start;
        if b[i] == b'-' {
            i += 1;
        }
        let digits = |mut i: usize| {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        match b.get(i) {
            Some(b'0') => {
                i += 1;
                if b.get(i).is_some_and(u8::is_ascii_digit) {
                    return Err(self.error(start, "invalid number: leading zeros are not allowed"));
                }
            }
            Some(b'1'..=b'9') => i = digits(i),
            _ => return Err(self.error(start, "invalid number: expected a digit")),
        }
        let mut float = false;
        if b.get(i) == Some(&b'.') {
            float = true;
            let after = digits(i + 1);
            if after == i + 1 {
                return Err(self.error(start, "invalid number: expected a digit after `.`"));
            }
            i = after;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            float = true;
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let after = digits(i);
            if after == i {
                return Err(self.error(start, "invalid number: expected a digit in the exponent"));
            }
            i = after;
        }
        self.pos = i;
        let text = &self.text[start..i];
        if float {
            // The grammar above is a subset of what `f64::from_str` accepts.
            let f: f64 = text
                .parse()
                .map_err(|_| self.error(start, "invalid number"))?;
            Ok(canonical_float(f))
        } else if text == "-0" {
            Ok("0".to_owned())
        } else {
            // JSON integers have no `+` and no leading zeros: already canonical.
            Ok(text.to_owned())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the readers.

/// A [`ReadError`] at byte offset `at` of `text`.
pub(super) fn error_at(text: &str, at: usize, message: &str) -> ReadError {
    let (line, column) = line_col(text, at);
    ReadError {
        line,
        column,
        message: message.to_owned(),
    }
}

/// The 1-based line and 1-based column (in characters) of byte offset `at` in `text`.
pub(super) fn line_col(text: &str, at: usize) -> (u32, u32) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text.as_bytes()[..at];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = text[line_start..at].chars().count() + 1;
    (to_u32(line), to_u32(column))
}

pub(super) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Canonical text of a float: shortest round-trip form, integral values without `.0`, zero
/// without sign, non-finite values as `inf`, `-inf`, `nan`.
pub(super) fn canonical_float(f: f64) -> String {
    if f.is_nan() {
        "nan".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.to_owned()
    } else if f == 0.0 {
        "0".to_owned()
    } else {
        // `Display` for f64 is the shortest round-trip form and never uses an exponent, so
        // `1e3` and `1000.0` both print as `1000`.
        f.to_string()
    }
}

/// Canonical text of a decimal integer `[-+]?[0-9]+`: no `+`, no leading zeros, no `-0`.
/// Integers too large for `i128` are kept as (canonical) text.
pub(super) fn canonical_int(text: &str) -> String {
    if let Ok(n) = text.parse::<i128>() {
        return n.to_string();
    }
    let (neg, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        "0".to_owned()
    } else if neg {
        format!("-{digits}")
    } else {
        digits.to_owned()
    }
}

/// [`canonical_int`] as a node's text, `text` itself when it is canonical already (most
/// integers of an estate are: ports, replicas, sizes), so that no number is parsed and
/// printed again, and a short one costs no allocation.
pub(super) fn canonical_int_text(text: &str) -> crate::tree::Text {
    let digits = text.strip_prefix('-').unwrap_or(text);
    // No `+`, no leading zero, no `-0`.
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !digits.starts_with('0'));
    if canonical {
        crate::tree::Text::new(text)
    } else {
        canonical_int(text).into()
    }
}

/// Canonical decimal text of unsigned `digits` in `radix` (2 to 16), for any length.
pub(super) fn canonical_radix(digits: &str, radix: u32) -> Option<String> {
    if digits.is_empty() {
        return None;
    }
    if let Ok(n) = u128::from_str_radix(digits, radix) {
        return Some(n.to_string());
    }
    // Too big for u128: schoolbook conversion, little-endian base-10^9 limbs.
    let mut limbs: Vec<u64> = vec![0];
    for c in digits.chars() {
        let mut carry = u64::from(c.to_digit(radix)?);
        for limb in &mut limbs {
            let v = *limb * u64::from(radix) + carry;
            *limb = v % 1_000_000_000;
            carry = v / 1_000_000_000;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    let mut out = limbs.last().map(u64::to_string).unwrap_or_default();
    for limb in limbs.iter().rev().skip(1) {
        out.push_str(&format!("{limb:09}"));
    }
    Some(out)
}

/// Resolves duplicated keys: a duplicated key keeps the position of its first occurrence and
/// the value (with its line) of its last one.
pub(super) fn dedup_keys(entries: &mut Vec<(Key, Node)>) {
    let n = entries.len();
    if n < 2 {
        return;
    }
    // Every map of every file comes through here, and almost none has a duplicate: the
    // check is the cost (foldhash, not SipHash: a `.env` of 150 keys cost ~1,100
    // instructions a key with the standard hasher).
    let has_duplicate = if n <= 8 {
        (1..n).any(|i| entries[..i].iter().any(|(k, _)| *k == entries[i].0))
    } else {
        let mut seen = hashbrown::HashSet::with_capacity(n);
        !entries.iter().all(|(k, _)| seen.insert(k.as_str()))
    };
    if !has_duplicate {
        return;
    }
    let mut index: HashMap<Key, usize> = HashMap::with_capacity(n);
    let mut out: Vec<(Key, Node)> = Vec::with_capacity(n);
    for (key, value) in entries.drain(..) {
        match index.get(&key) {
            Some(&i) => out[i].1 = value,
            None => {
                index.insert(key.clone(), out.len());
                out.push((key, value));
            }
        }
    }
    *entries = out;
}

/// A compact rendering of a tree for tests: `{key: value, ...}`, `[a, b]`, strings quoted,
/// and `@line` after every node when `lines` is set.
#[cfg(test)]
pub(super) fn render(node: &Node, lines: bool) -> String {
    let mut out = String::new();
    render_into(node, lines, &mut out);
    out
}

#[cfg(test)]
fn render_into(node: &Node, lines: bool, out: &mut String) {
    match &node.kind {
        NodeKind::Null => out.push('~'),
        NodeKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        NodeKind::Number(n) => out.push_str(n),
        NodeKind::String(s) => out.push_str(&format!("{s:?}")),
        NodeKind::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_into(item, lines, out);
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
                render_into(v, lines, out);
            }
            out.push('}');
        }
    }
    if lines {
        out.push_str(&format!("@{}", node.line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::read::reader_checks!();

    #[test]
    fn values() {
        check(
            r#"{"a": 1, "b": [true, false, null], "c": {}, "d": []}"#,
            r#"{a: 1, b: [true, false, ~], c: {}, d: []}"#,
        );
        check(" \"x\" ", r#""x""#);
        check("\u{feff}[1]", "[1]");
    }

    #[test]
    fn numbers_are_canonical() {
        check(
            "[1000, 1e3, 1000.0, 1.0E+3, 10000e-1]",
            "[1000, 1000, 1000, 1000, 1000]",
        );
        check("[-0, -0.0, 0e5, 0.5, -1.25e-3]", "[0, 0, 0, 0.5, -0.00125]");
        check("[1e400, -1e400]", "[inf, -inf]");
        check(
            "[170141183460469231731687303715884105728, -99999999999999999999999999999999999999999]",
            "[170141183460469231731687303715884105728, -99999999999999999999999999999999999999999]",
        );
        check(
            "[0.1, 0.30000000000000004, 123456789012]",
            "[0.1, 0.30000000000000004, 123456789012]",
        );
    }

    #[test]
    fn string_escapes() {
        check(
            r#""a\"b\\c\/d\b\f\n\r\t""#,
            r#""a\"b\\c/d\u{8}\u{c}\n\r\t""#,
        );
        check(r#""\u00e9\u20AC\ud83d\ude00 é""#, r#""é€😀 é""#);
        check(r#"{"k\u0041": "v"}"#, r#"{kA: "v"}"#);
        check_err(r#""\ud83d""#, 1, 2, "unpaired surrogate");
        check_err(r#""\ud83d\u0041""#, 1, 2, "unpaired surrogate");
        check_err(r#""\ude00""#, 1, 2, "unpaired surrogate");
        check_err(r#""\u12G4""#, 1, 2, "four hex digits");
        check_err(r#""\x""#, 1, 2, "invalid escape");
        check_err("\"a\tb\"", 1, 3, "control character");
    }

    #[test]
    fn duplicate_keys_last_wins_in_first_position() {
        check_lines("{\"a\": 1,\n\"b\": 2,\n\"a\": 3}", "{a: 3@3, b: 2@2}@1");
        let many: Vec<String> = (0..40).map(|i| format!("\"k{}\": {i}", i % 20)).collect();
        let node = parse(&format!("{{{}}}", many.join(","))).unwrap();
        let NodeKind::Map(entries) = &node.kind else {
            panic!()
        };
        assert_eq!(entries.len(), 20);
        assert_eq!(node.get("k3").unwrap().kind, NodeKind::Number("23".into()));
    }

    #[test]
    fn lines() {
        check_lines(
            "{\n  \"a\": \"x\",\n  \"b\": [\n    1,\n\n    {\"c\": null}\n  ],\n  \"d\":\n\n true\n}",
            "{a: \"x\"@2, b: [1@4, {c: ~@6}@6]@3, d: true@10}@1",
        );
        check_lines("\r\n\r\n[\"a\\nb\",\r\n 2]", "[\"a\\nb\"@3, 2@4]@3");
    }

    #[test]
    fn errors() {
        check_err("", 1, 1, "unexpected end of input");
        check_err("[1, 2,]", 1, 6, "trailing comma");
        check_err("{\"a\": 1,\n}", 1, 8, "trailing comma");
        check_err("{\"a\": 1 // c\n}", 1, 9, "comments are not allowed");
        check_err("/* c */ 1", 1, 1, "comments are not allowed");
        check_err("{\"a\": 1} x", 1, 10, "end of input");
        check_err("[1] [2]", 1, 5, "end of input");
        check_err("{a: 1}", 1, 2, "string key");
        check_err("{\"a\" 1}", 1, 6, "`:`");
        check_err("[1 2]", 1, 4, "`,` or `]`");
        check_err("[01]", 1, 2, "leading zeros");
        check_err("[1.]", 1, 2, "after `.`");
        check_err("[1e]", 1, 2, "exponent");
        check_err("[-]", 1, 2, "expected a digit");
        check_err("[+1]", 1, 2, "JSON value");
        check_err("[.5]", 1, 2, "JSON value");
        check_err("[tru]", 1, 2, "invalid literal");
        check_err("[nullx]", 1, 2, "invalid literal");
        check_err("[NaN]", 1, 2, "JSON value");
        check_err("{\"a\":\n  \"é\n\"}", 2, 3, "unterminated string");
        check_err("[\"abc", 1, 2, "unterminated string");
        check_err("[\"abc\\", 1, 2, "unterminated string");
        check_err("{\"a\": [1, {\"b\": 2]}", 1, 18, "`,` or `}`");
        check_err("[1,\n 2,\n  é]", 3, 3, "JSON value");
    }

    #[test]
    fn depth_is_limited() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep = "[".repeat(100_000);
        let err = parse(&deep).unwrap_err();
        assert!(err.message.contains("nest too deeply"), "{err}");
    }

    #[test]
    fn errors_never_include_the_input() {
        let canary = "CANARY-s3cr3t-XYZ";
        for bad in [
            format!("{{\"password\": {canary}}}"),
            format!("{{\"password\": \"{canary}"),
            format!("{{\"password\": \"{canary}\\q\"}}"),
            format!("{{\"password\": \"{canary}\",}}"),
            format!("{{\"password\": \"{canary}\"}} {canary}"),
            format!("{{\"{canary}\" \"x\"}}"),
            format!("[\"{canary}\" \"x\"]"),
            format!("[\"{canary}\\ud800\"]"),
        ] {
            let err = parse(&bad).expect_err(&bad);
            assert!(!err.message.contains("CANARY"), "{err}");
            assert!(!err.to_string().contains("s3cr3t"), "{err}");
        }
    }

    #[test]
    fn integers_already_canonical_are_kept_as_written() {
        let long = "9".repeat(45);
        let digits = ["0", "00", "7", "07", "10", "100", "0010", long.as_str()];
        for sign in ["", "-", "+"] {
            for d in digits {
                let text = format!("{sign}{d}");
                assert_eq!(canonical_int_text(&text), canonical_int(&text), "{text}");
            }
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(canonical_int("+007"), "7");
        assert_eq!(canonical_int("-000"), "0");
        assert_eq!(
            canonical_int("-0001701411834604692317316873037158841057280"),
            "-1701411834604692317316873037158841057280"
        );
        assert_eq!(canonical_radix("ff", 16).as_deref(), Some("255"));
        assert_eq!(
            canonical_radix("100000000000000000000000000000000", 16).as_deref(),
            Some("340282366920938463463374607431768211456")
        );
        assert_eq!(canonical_radix("", 16), None);
        assert_eq!(canonical_radix("8", 8), None);
        assert_eq!(canonical_float(1.5e300).len(), 301);
        assert_eq!(canonical_float(-0.0), "0");
        assert_eq!(canonical_float(f64::NAN), "nan");
        assert_eq!(line_col("ab\ncé\u{1F600}x", 9), (2, 3));
        assert_eq!(line_col("ab\ncé\u{1F600}x", 10), (2, 4));
        assert_eq!(line_col("ab", 10), (1, 3));
    }
}
