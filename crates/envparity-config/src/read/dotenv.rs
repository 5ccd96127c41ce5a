//! `.env` files: `KEY=value` lines, a flat map of strings.
//!
//! - An optional `export ` prefix; spaces or tabs around `=` are allowed.
//! - Keys match `[A-Za-z_][A-Za-z0-9_.-]*`.
//! - Unquoted values are trimmed and end at an inline comment: a `#` preceded by a space or tab
//!   (`KEY=a#b` is `a#b`, `KEY=a #b` is `a`).
//! - `'single'` values are literal; `"double"` values understand `\n`, `\r`, `\t`, `\"`, `\\`
//!   (and `\$`, `\'`); any other backslash is kept as written. Both may span lines: the value's
//!   line is the line of its key. After the closing quote only a comment may follow.
//! - `#` lines and blank lines are skipped. A duplicated key keeps its first position and its
//!   last value.
//!
//! Not supported: variable expansion (`${OTHER}` stays as written), backtick values.

use super::ReadError;
use super::json::{dedup_keys, error_at};
use crate::tree::{Key, Node, NodeKind};

pub fn parse(text: &str) -> Result<Node, ReadError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    if text.starts_with('\u{feff}') {
        p.pos = 3;
    }
    let mut entries = Vec::new();
    loop {
        p.skip_blanks();
        match p.peek() {
            None => break,
            Some(b'\n') => p.newline(),
            Some(b'\r') => p.pos += 1,
            Some(b'#') => p.skip_to_eol(),
            Some(_) => entries.push(p.entry()?),
        }
    }
    dedup_keys(&mut entries);
    Ok(Node::new(1, NodeKind::Map(entries)))
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
}

fn is_key_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn newline(&mut self) {
        self.pos += 1;
        self.line += 1;
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_to_eol(&mut self) {
        while !matches!(self.peek(), None | Some(b'\n')) {
            self.pos += 1;
        }
    }

    fn error(&self, at: usize, message: &str) -> ReadError {
        error_at(self.text, at, message)
    }

    fn key(&mut self) -> Result<&'a str, ReadError> {
        let start = self.pos;
        if !self.peek().is_some_and(is_key_start) {
            return Err(self.error(start, "invalid key: expected a letter or `_`"));
        }
        while self.peek().is_some_and(is_key_char) {
            self.pos += 1;
        }
        Ok(&self.text[start..self.pos])
    }

    fn entry(&mut self) -> Result<(Key, Node), ReadError> {
        let line = self.line;
        let mut key = self.key()?;
        if key == "export" && matches!(self.peek(), Some(b' ' | b'\t')) {
            self.skip_blanks();
            if self.peek() != Some(b'=') {
                key = self.key()?;
            }
        }
        let key = Key::new(key);
        self.skip_blanks();
        if self.peek() != Some(b'=') {
            let message = if self.peek().is_none_or(|b| b == b'\n' || b == b'\r') {
                "expected `=` after key"
            } else {
                "expected `=` after key (keys hold letters, digits, `_`, `.` and `-`)"
            };
            return Err(self.error(self.pos, message));
        }
        self.pos += 1;
        let after_eq = self.pos;
        self.skip_blanks();
        let value = match self.peek() {
            // `KEY= # comment`: an empty value.
            Some(b'#') if self.pos > after_eq => {
                self.skip_to_eol();
                String::new()
            }
            Some(q @ (b'"' | b'\'')) => {
                let value = self.quoted(q)?;
                self.skip_blanks();
                match self.peek() {
                    None | Some(b'\n' | b'\r') => {}
                    Some(b'#') => self.skip_to_eol(),
                    Some(_) => {
                        return Err(
                            self.error(self.pos, "unexpected characters after the closing quote")
                        );
                    }
                }
                value
            }
            _ => {
                let start = self.pos;
                self.skip_to_eol();
                let rest = &self.text[start..self.pos];
                let rest = rest.strip_suffix('\r').unwrap_or(rest);
                let end = rest
                    .as_bytes()
                    .windows(2)
                    .position(|w| matches!(w[0], b' ' | b'\t') && w[1] == b'#')
                    .unwrap_or(rest.len());
                rest[..end].trim().to_owned()
            }
        };
        Ok((key, Node::new(line, NodeKind::String(value.into()))))
    }

    /// A quoted value starting at the opening quote `q`.
    fn quoted(&mut self, q: u8) -> Result<String, ReadError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.peek() {
                None => {
                    let message = if q == b'"' {
                        "unterminated double-quoted value"
                    } else {
                        "unterminated single-quoted value"
                    };
                    return Err(self.error(open, message));
                }
                Some(b) if b == q => {
                    out.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\n') => self.newline(),
                Some(b'\\') if q == b'"' => {
                    out.push_str(&self.text[run..self.pos]);
                    let escaped = match self.bytes.get(self.pos + 1) {
                        Some(b'n') => Some('\n'),
                        Some(b'r') => Some('\r'),
                        Some(b't') => Some('\t'),
                        Some(b'"') => Some('"'),
                        Some(b'\\') => Some('\\'),
                        Some(b'$') => Some('$'),
                        Some(b'\'') => Some('\''),
                        _ => None,
                    };
                    match escaped {
                        Some(c) => {
                            out.push(c);
                            self.pos += 2;
                        }
                        None => {
                            out.push('\\');
                            self.pos += 1;
                        }
                    }
                    run = self.pos;
                }
                Some(_) => self.pos += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::read::reader_checks!();

    #[test]
    fn values() {
        check(
            "A=1\nexport B = two words  \nC=a#b\nD=a #comment\nE= #only comment\nE2=#x\nF=\nG=${A}/x\nexport=e\nexport  H=h\nsvc.name-x=y",
            r##"{A: "1", B: "two words", C: "a#b", D: "a", E: "", E2: "#x", F: "", G: "${A}/x", export: "e", H: "h", svc.name-x: "y"}"##,
        );
        check("", "{}");
        check("# c\n\n   # indented comment\n", "{}");
        check("\u{feff}A=1\r\nB=2\r\n", r#"{A: "1", B: "2"}"#);
    }

    #[test]
    fn quoted_values() {
        check(
            r##"A='lit \n $x "q"'
B="esc \n \t \" \\ \$ \' \q"
C="a" # trailing comment
D='' 
E="#not a comment""##,
            r##"{A: "lit \\n $x \"q\"", B: "esc \n \t \" \\ $ ' \\q", C: "a", D: "", E: "#not a comment"}"##,
        );
    }

    #[test]
    fn duplicate_keys_last_wins_in_first_position() {
        check_lines("A=1\nB=2\nA=3\n", r#"{A: "3"@3, B: "2"@2}@1"#);
    }

    #[test]
    fn lines_with_multi_line_values() {
        check_lines(
            "# c\nA=1\nKEY=\"-----BEGIN-----\nabc\n-----END-----\"\nB='x\ny'\n\nC=after\n",
            r#"{A: "1"@2, KEY: "-----BEGIN-----\nabc\n-----END-----"@3, B: "x\ny"@6, C: "after"@9}@1"#,
        );
    }

    #[test]
    fn errors() {
        check_err("A=1\nB\n", 2, 2, "expected `=` after key");
        check_err("A=1\nB C=2\n", 2, 3, "expected `=`");
        check_err("A='it''s'\n", 1, 7, "after the closing quote");
        check_err("A=1\n1A=2\n", 2, 1, "invalid key");
        check_err("A=1\n  é=2\n", 2, 3, "invalid key");
        check_err("A=1\nB=\"abc\nC=2\n", 2, 3, "unterminated double-quoted");
        check_err("A='abc", 1, 3, "unterminated single-quoted");
        check_err("A=\"x\" y\n", 1, 7, "after the closing quote");
        check_err("export\n", 1, 7, "expected `=`");
    }

    #[test]
    fn errors_never_include_the_input() {
        let canary = "CANARY-s3cr3t-XYZ";
        for bad in [
            format!("PASSWORD {canary}\n"),
            format!("PASSWORD=\"{canary}\n"),
            format!("PASSWORD='{canary}\n"),
            format!("PASSWORD=\"{canary}\" {canary}\n"),
            format!("{canary}\n"),
            format!("-{canary}=x\n"),
        ] {
            let err = parse(&bad).expect_err(&bad);
            assert!(!err.message.contains("CANARY"), "{bad:?}: {err}");
        }
    }
}
