//! Java `.properties`, as `java.util.Properties.load` reads them: a flat map of strings.
//!
//! - Lines end at `\n`, `\r` or `\r\n`. Blank lines and lines whose first non-blank character
//!   is `#` or `!` are comments (a comment never continues onto the next line).
//! - The key ends at the first unescaped `=`, `:` or blank (space, tab, form feed); blanks and
//!   one `=` or `:` after it are skipped: `key=value`, `key: value`, `key value`. Keys are kept
//!   whole (`spring.datasource.url` is one key).
//! - A line ending in an odd number of backslashes continues on the next one, whose leading
//!   blanks are dropped. The entry's line is the line its key is on.
//! - Escapes in keys and values: `\t`, `\n`, `\r`, `\f`, `\uXXXX` (surrogate pairs combine);
//!   any other escaped character stands for itself (`\=`, `\:`, `\ `, `\\`, `\#`).
//! - As in Java, a value keeps its trailing blanks. A duplicated key keeps its first position
//!   and its last value.
//!
//! The only errors are malformed `\u` escapes (Java throws on them too) and lone surrogates,
//! which a Rust string cannot hold.

use super::ReadError;
use super::json::{dedup_keys, error_at};
use crate::tree::{Key, Node, NodeKind};

pub fn parse(text: &str) -> Result<Node, ReadError> {
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut lines = NaturalLines {
        text,
        pos: start,
        line: 0,
    };
    let mut entries = Vec::new();
    while let Some((mut chunk, mut offset, line)) = lines.next() {
        chunk = chunk.trim_start_matches(is_blank);
        offset += lines.skipped(chunk, offset);
        if chunk.is_empty() || chunk.starts_with(['#', '!']) {
            continue;
        }
        // The logical line, with the byte offset in `text` where each piece starts.
        let mut logical = String::new();
        let mut pieces: Vec<(usize, usize)> = Vec::new();
        loop {
            let continued = ends_in_odd_backslashes(chunk);
            pieces.push((logical.len(), offset));
            logical.push_str(if continued {
                &chunk[..chunk.len() - 1]
            } else {
                chunk
            });
            if !continued {
                break;
            }
            let Some((next, next_offset, _)) = lines.next() else {
                break;
            };
            chunk = next.trim_start_matches(is_blank);
            offset = next_offset + (next.len() - chunk.len());
        }
        let (key, value) = split(&logical);
        let locate = |at: usize| {
            let (start, offset) = pieces
                .iter()
                .rev()
                .find(|(s, _)| *s <= at)
                .copied()
                .unwrap_or((0, 0));
            offset + (at - start)
        };
        let unescape = |part: &str| {
            let base = part.as_ptr() as usize - logical.as_ptr() as usize;
            unescape(part).map_err(|(at, message)| error_at(text, locate(base + at), message))
        };
        let key = unescape(key)?;
        let value = unescape(value)?;
        entries.push((
            Key::from(key),
            Node::new(line, NodeKind::String(value.into())),
        ));
    }
    dedup_keys(&mut entries);
    Ok(Node::new(1, NodeKind::Map(entries)))
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

/// Natural lines: (content without its terminator, byte offset, 1-based line number).
struct NaturalLines<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
}

impl<'a> NaturalLines<'a> {
    fn next(&mut self) -> Option<(&'a str, usize, u32)> {
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        let rest = &self.text[start..];
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let mut next = start + end;
        if rest[end..].starts_with("\r\n") {
            next += 2;
        } else if end < rest.len() {
            next += 1;
        }
        self.pos = next;
        self.line += 1;
        Some((&rest[..end], start, self.line))
    }

    /// How many bytes `trimmed` skips from the start of the natural line at `offset`.
    fn skipped(&self, trimmed: &str, offset: usize) -> usize {
        trimmed.as_ptr() as usize - self.text[offset..].as_ptr() as usize
    }
}

fn ends_in_odd_backslashes(s: &str) -> bool {
    s.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// Splits a logical line (leading blanks removed) into raw key and raw value.
fn split(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut key_end = bytes.len();
    let mut value_start = bytes.len();
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' => {
                key_end = i;
                value_start = i + 1;
                break;
            }
            b' ' | b'\t' | b'\x0c' => {
                key_end = i;
                value_start = i;
                break;
            }
            _ => i += 1,
        }
    }
    let key_end = key_end.min(bytes.len());
    let mut rest = line[value_start.min(bytes.len())..].trim_start_matches(is_blank);
    if value_start == key_end {
        // The key ended at a blank: one `=` or `:` may still follow.
        if let Some(r) = rest.strip_prefix(['=', ':']) {
            rest = r.trim_start_matches(is_blank);
        }
    }
    (&line[..key_end], rest)
}

/// Resolves escapes; on error, the byte offset in `s` and the message.
fn unescape(s: &str) -> Result<String, (usize, &'static str)> {
    if !s.contains('\\') {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else {
            break; // a trailing backslash at the end of the input
        };
        match e {
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            'f' => out.push('\u{c}'),
            'u' => {
                let hi = hex4(s, i + 2).ok_or((i, "malformed `\\uXXXX` escape"))?;
                skip(&mut chars, 4);
                let c = match hi {
                    0xD800..=0xDBFF => {
                        let lo = if s[i + 6..].starts_with("\\u") {
                            hex4(s, i + 8)
                        } else {
                            None
                        };
                        match lo {
                            Some(lo @ 0xDC00..=0xDFFF) => {
                                skip(&mut chars, 6);
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            }
                            _ => None,
                        }
                    }
                    _ => char::from_u32(hi),
                };
                out.push(c.ok_or((i, "unpaired surrogate in `\\u` escape"))?);
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

fn skip(chars: &mut impl Iterator, n: usize) {
    for _ in 0..n {
        chars.next();
    }
}

fn hex4(s: &str, at: usize) -> Option<u32> {
    let digits = s.as_bytes().get(at..at + 4)?;
    digits
        .iter()
        .try_fold(0u32, |acc, &b| Some(acc * 16 + (b as char).to_digit(16)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::read::reader_checks!();

    #[test]
    fn separators() {
        check(
            "a=1\nb: 2\nc 3\nd = 4\ne\t:\t5\nf  =  =6\ng\nh=\ni :\nspring.datasource.url=jdbc:pg://h/db?x=y\n",
            r#"{a: "1", b: "2", c: "3", d: "4", e: "5", f: "=6", g: "", h: "", i: "", spring.datasource.url: "jdbc:pg://h/db?x=y"}"#,
        );
        check("=v\n:w", r#"{: "w"}"#);
        check("trailing = kept  \n", r#"{trailing: "kept  "}"#);
    }

    #[test]
    fn comments_and_blanks() {
        check(
            "# c\n! c\n   # indented\n\n  \t\nk=v # not a comment\n",
            r#"{k: "v # not a comment"}"#,
        );
        check("# comment \\\nk=v", r#"{k: "v"}"#);
        check("", "{}");
        check("\u{feff}k=v", r#"{k: "v"}"#);
    }

    #[test]
    fn escapes() {
        check(
            r"key\ with\ spaces=1
a\=b\:c=2
tab=\t|\n|\r|\f|\\|\q|\#
uni=\u00e9\u20AC \uD83D\uDE00
\#notcomment=3",
            r##"{key with spaces: "1", a=b:c: "2", tab: "\t|\n|\r|\u{c}|\\|q|#", uni: "é€ 😀", #notcomment: "3"}"##,
        );
    }

    #[test]
    fn continuation() {
        check(
            "fruits = apple, \\\n    banana, \\\n\tpear\nnext=1",
            r#"{fruits: "apple, banana, pear", next: "1"}"#,
        );
        check(
            "even=a\\\\\nodd=b\\\\\\\n  c",
            r#"{even: "a\\", odd: "b\\c"}"#,
        );
        check("k\\\n  ey = v", r#"{key: "v"}"#);
        check("k=v\\\n# not a comment", r##"{k: "v# not a comment"}"##);
        check("k=v\\", r#"{k: "v"}"#);
    }

    #[test]
    fn lines() {
        check_lines(
            "# c\na=1\nlong=x\\\n  y\\\n  z\nb=2\r\nc=3\rd=4\n\n  e = 5",
            r#"{a: "1"@2, long: "xyz"@3, b: "2"@6, c: "3"@7, d: "4"@8, e: "5"@10}@1"#,
        );
    }

    #[test]
    fn duplicate_keys_last_wins_in_first_position() {
        check_lines("a=1\nb=2\na=3\n", r#"{a: "3"@3, b: "2"@2}@1"#);
    }

    #[test]
    fn errors() {
        check_err("a=1\nb=x\\u12G4\n", 2, 4, "malformed");
        check_err("a=\\u12", 1, 3, "malformed");
        check_err("k=first \\\n    é\\uZZZZ", 2, 6, "malformed");
        check_err("k=\\uD800x", 1, 3, "unpaired surrogate");
        check_err("k=\\uDC00", 1, 3, "unpaired surrogate");
        check_err("\\u00=v", 1, 1, "malformed");
    }

    #[test]
    fn errors_never_include_the_input() {
        let canary = "CANARY-s3cr3t-XYZ";
        for bad in [
            format!("password={canary}\\u12G4\n"),
            format!("{canary}\\uD800={canary}\n"),
        ] {
            let err = parse(&bad).expect_err(&bad);
            assert!(!err.message.contains("CANARY"), "{bad:?}: {err}");
        }
    }
}
