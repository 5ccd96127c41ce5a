//! The fast path of the YAML reader: a hand-written, byte-oriented parser for the block-style
//! subset of YAML that Kubernetes manifests, Helm values and application configs are written
//! in. It gives exactly the trees (values and lines) the event-driven reader in the parent
//! module gives, and returns `None` as soon as the input leaves the subset, for the caller to
//! read the whole file again with `saphyr-parser`.
//!
//! The subset:
//! - `---` (alone on its line, or with a comment) and `...` (followed by `---` or the end);
//!   full-line comments anywhere, ` #` comments after values; blank lines; CRLF line ends; a
//!   leading byte order mark.
//! - Block mappings of plain, single- or double-quoted keys on one line; block sequences,
//!   including `- key: value` compact maps, nested `- - x`, sequences written at their key's
//!   indentation, and empty entries and values (null).
//! - Plain scalars on one line, single- and double-quoted scalars on one line (all escapes but
//!   the line continuation), typed by the same core-schema functions as the full reader.
//! - Flow sequences and maps on one line (`[a, "b", 1]`, `{a: 1, b: [x]}`, `[]`, `{}`).
//! - Block scalars `|` and `>` with chomping and indentation indicators, after `key: ` or
//!   `- `, read by a port of the scanner's algorithm (folding, chomping, whitespace-only lines,
//!   a last line without a line break).
//!
//! Everything else gives `None`: anchors, aliases, tags, `?` keys, `<<` merges, directives,
//! multi-line plain or quoted scalars, flow collections over several lines, empty flow entries,
//! `...` not followed by `---`, tabs outside quoted and block scalars, content on a `---`
//! line, a block scalar at the top level or on a line of its own, keys over [`MAX_KEY`] bytes,
//! a byte order mark past the start, NUL or a lone CR anywhere, nesting beyond
//! [`MAX_NESTING`], and any malformed input: the fast path never reports an error, the full
//! reader does.

use std::borrow::Cow;

use envparity_core::pattern::first_stop;
use memchr::{memchr, memchr_iter, memchr2, memchr3, memmem};

use super::super::json::dedup_keys;
use super::resolve_plain;
use crate::tree::{Key, Node, NodeKind, Text};

/// How deeply collections may nest on the fast path.
const MAX_NESTING: usize = 100;
/// The longest key taken, in bytes (the scanner refuses simple keys of over 1024 characters).
const MAX_KEY: usize = 1000;
const BOM: &[u8] = "\u{feff}".as_bytes();

/// The documents of `text`, or `None` when the input leaves the subset (or is malformed).
pub(super) fn parse(text: &str) -> Option<Vec<Node>> {
    let b = text.as_bytes();
    // NUL ends the scanner's input, a lone CR breaks its lines, a byte order mark past the
    // start is a document boundary or an error: leave all three to the full reader.
    if memchr(0, b).is_some() || memchr_iter(b'\r', b).any(|i| b.get(i + 1) != Some(&b'\n')) {
        return None;
    }
    let start = if b.starts_with(BOM) { BOM.len() } else { 0 };
    if memmem::find(&b[start..], BOM).is_some() {
        return None;
    }
    let mut p = Parser {
        text,
        b,
        pos: start,
        line_start: start,
        line: 1,
        indent: -1,
        depth: 0,
        entries: Vec::new(),
        items: Vec::new(),
    };
    p.documents()
}

/// Bytes that continue a plain scalar in block context without a closer look: what
/// [`plain_run_end`] tells eight at a time, kept as the table it is tested against.
#[cfg(test)]
static PLAIN: [bool; 256] = plain_table(false);
/// The same in flow context.
static PLAIN_FLOW: [bool; 256] = plain_table(true);

const fn plain_table(flow: bool) -> [bool; 256] {
    let mut t = [true; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = false;
        i += 1;
    }
    t[0x7f] = false;
    t[b' ' as usize] = false;
    t[b':' as usize] = false;
    if flow {
        t[b',' as usize] = false;
        t[b'[' as usize] = false;
        t[b']' as usize] = false;
        t[b'{' as usize] = false;
        t[b'}' as usize] = false;
    }
    t
}

/// Where the run of bytes that continue a plain scalar in block context ends, from `i`:
/// at a control byte, a space, a `:` or DEL (`plain_table(false)`'s exceptions).
fn plain_run_end(b: &[u8], i: usize) -> usize {
    first_stop(b, i, 0x21, [b':', 0x7f])
}

/// A space, a tab, a line break or the end of the input.
fn blank_or_eol(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b' ' | b'\t' | b'\n' | b'\r'))
}

/// Whether `c` (followed by `next`) may start a plain scalar; conservative.
fn plain_start(c: u8, next: Option<&u8>) -> bool {
    match c {
        b'-' => !blank_or_eol(next),
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' | 0x7f => false,
        c => c >= 0x20,
    }
}

struct Parser<'t> {
    text: &'t str,
    b: &'t [u8],
    pos: usize,
    /// Where the current line starts (columns count bytes from here; indentation is ASCII).
    line_start: usize,
    /// The current 1-based line.
    line: u32,
    /// At a line head: the column of the line's first character, or -1 at the end of the
    /// input or at a document marker (`---` or `...`).
    indent: isize,
    depth: usize,
    /// The entries of the mappings being read, innermost last (one exact allocation per map).
    entries: Vec<(Key, Node)>,
    /// The same for the items of sequences.
    items: Vec<Node>,
}

impl<'t> Parser<'t> {
    fn documents(&mut self) -> Option<Vec<Node>> {
        let mut docs = Vec::new();
        self.head()?;
        while self.pos < self.b.len() {
            if self.indent < 0 {
                // A marker: nothing but a comment may follow it on its line.
                let end = self.b[self.pos] == b'.';
                self.pos += 3;
                self.end_line()?;
                let next_start = self.indent < 0 && self.b.get(self.pos) == Some(&b'-');
                if end && self.pos < self.b.len() && !next_start {
                    return None;
                }
                continue;
            }
            if self.b[self.pos] == b'%' {
                return None;
            }
            docs.push(self.node_at_head(-1)?);
            if self.indent >= 0 {
                return None;
            }
        }
        Some(docs)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_NESTING).then_some(())
    }

    fn newline(&mut self, next: usize) {
        self.pos = next;
        self.line_start = next;
        self.line += 1;
    }

    /// Moves past the line break after `at` (or to the end of the input).
    fn skip_rest(&mut self, at: usize) {
        match memchr(b'\n', &self.b[at..]) {
            Some(k) => self.newline(at + k + 1),
            None => self.pos = self.b.len(),
        }
    }

    /// From the start of a line, finds the next line with content (skipping blank and comment
    /// lines) and stops at its first character, `indent` set.
    fn head(&mut self) -> Option<()> {
        loop {
            self.line_start = self.pos;
            let mut i = self.pos;
            while self.b.get(i) == Some(&b' ') {
                i += 1;
            }
            self.pos = i;
            if self.content()? {
                return Some(());
            }
        }
    }

    /// At the first non-space character of a line: whether it is content (then `indent` is
    /// set); if the line is blank or a comment, moves to the next line.
    fn content(&mut self) -> Option<bool> {
        let i = self.pos;
        match self.b.get(i) {
            None => self.indent = -1,
            Some(b'\n') => {
                self.newline(i + 1);
                return Some(false);
            }
            Some(b'\r') => {
                self.newline(i + 2);
                return Some(false);
            }
            Some(b'#') => {
                self.skip_rest(i);
                return Some(false);
            }
            Some(b'\t') => return None,
            Some(_) => {
                let col = i - self.line_start;
                self.indent = if col == 0 && self.marker(i) {
                    -1
                } else {
                    col as isize
                };
            }
        }
        Some(true)
    }

    fn marker(&self, i: usize) -> bool {
        let three = self.b.get(i..i + 3);
        (three == Some(b"---") || three == Some(b"...")) && blank_or_eol(self.b.get(i + 3))
    }

    /// After a value: spaces, then a comment or the end of the line; moves to the next head.
    fn end_line(&mut self) -> Option<()> {
        let b = self.b;
        let mut i = self.pos;
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        match b.get(i) {
            None => {
                self.pos = i;
                self.indent = -1;
                return Some(());
            }
            Some(b'\n') => self.newline(i + 1),
            Some(b'\r') => self.newline(i + 2),
            Some(b'#') if i > self.pos => {
                self.skip_rest(i);
            }
            _ => return None,
        }
        self.head()
    }

    fn seq_entry(&self) -> bool {
        self.b.get(self.pos) == Some(&b'-') && blank_or_eol(self.b.get(self.pos + 1))
    }

    /// A node starting at the current line head, inside a block collection at `parent`.
    fn node_at_head(&mut self, parent: isize) -> Option<Node> {
        if matches!(self.b[self.pos], b'|' | b'>') {
            return None;
        }
        self.node(self.pos - self.line_start, parent, true)
    }

    /// A node starting at `self.pos` (column `col`), inside a block collection at `parent`;
    /// `block` when a block collection may start here (not after `key: `). Ends at the next
    /// line head.
    fn node(&mut self, col: usize, parent: isize, block: bool) -> Option<Node> {
        let b = self.b;
        let line = self.line;
        let start = self.pos;
        match b[start] {
            b'-' if blank_or_eol(b.get(start + 1)) => {
                if block {
                    self.seq(col, false)
                } else {
                    None
                }
            }
            b'[' | b'{' => {
                let node = self.flow()?;
                self.end_line()?;
                Some(node)
            }
            c @ (b'|' | b'>') => self.block_scalar(parent, c == b'>'),
            b'"' | b'\'' => {
                let s = self.quoted()?;
                if let Some(colon) = self.colon_after(self.pos) {
                    if !block || colon - start > MAX_KEY {
                        return None;
                    }
                    self.pos = colon + 1;
                    return self.map(col, Key::from(s.as_ref()), line);
                }
                self.end_line()?;
                Some(Node::new(line, NodeKind::String(s.as_ref().into())))
            }
            c => {
                if !plain_start(c, b.get(start + 1)) {
                    return None;
                }
                let (end, colon) = self.plain()?;
                let text = &self.text[start..end];
                if let Some(colon) = colon {
                    if !block || colon - start > MAX_KEY || text == "<<" {
                        return None;
                    }
                    self.pos = colon + 1;
                    return self.map(col, Key::new(text), line);
                }
                self.pos = end;
                self.end_line()?;
                Some(Node::new(line, resolve_plain(Cow::Borrowed(text))))
            }
        }
    }

    /// After a quoted scalar ending before `i`: the position of a `:` that makes it a key.
    fn colon_after(&self, mut i: usize) -> Option<usize> {
        while self.b.get(i) == Some(&b' ') {
            i += 1;
        }
        (self.b.get(i) == Some(&b':') && blank_or_eol(self.b.get(i + 1))).then_some(i)
    }

    /// A key at a line head, up to and including its `:`.
    fn key(&mut self) -> Option<Key> {
        let b = self.b;
        let start = self.pos;
        let (key, colon) = match b[start] {
            b'"' | b'\'' => {
                let s = self.quoted()?;
                (Key::from(s.as_ref()), self.colon_after(self.pos)?)
            }
            c => {
                if !plain_start(c, b.get(start + 1)) {
                    return None;
                }
                let (end, colon) = self.plain()?;
                let text = &self.text[start..end];
                if text == "<<" {
                    return None;
                }
                (Key::new(text), colon?)
            }
        };
        if colon - start > MAX_KEY {
            return None;
        }
        self.pos = colon + 1;
        Some(key)
    }

    /// A block mapping at column `col` whose first key, written on `line`, has been read.
    fn map(&mut self, col: usize, first: Key, line: u32) -> Option<Node> {
        self.enter()?;
        let icol = col as isize;
        let mark = self.entries.len();
        let mut key = first;
        let mut key_line = line;
        loop {
            let value = self.map_value(col, key_line)?;
            self.entries.push((key, value));
            if self.indent != icol {
                if self.indent < icol {
                    break;
                }
                return None;
            }
            key_line = self.line;
            key = self.key()?;
        }
        self.depth -= 1;
        let mut entries: Vec<_> = self.entries.drain(mark..).collect();
        dedup_keys(&mut entries);
        Some(Node::new(line, NodeKind::Map(entries)))
    }

    /// The value after a key's `:`, in a mapping at column `col`.
    fn map_value(&mut self, col: usize, key_line: u32) -> Option<Node> {
        let b = self.b;
        let mut i = self.pos;
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        match b.get(i) {
            Some(b'\t') => None,
            None | Some(b'\n' | b'\r' | b'#') => {
                self.end_line()?;
                let icol = col as isize;
                if self.indent > icol {
                    self.node_at_head(icol)
                } else if self.indent == icol && self.seq_entry() {
                    self.seq(col, true)
                } else {
                    // An empty value is on its key's line.
                    Some(Node::new(key_line, NodeKind::Null))
                }
            }
            Some(_) => {
                self.pos = i;
                self.node(i - self.line_start, col as isize, false)
            }
        }
    }

    /// A block sequence at column `col`, at its first `-`; `indentless` when it is the value
    /// of a key at the same column.
    fn seq(&mut self, col: usize, indentless: bool) -> Option<Node> {
        self.enter()?;
        let icol = col as isize;
        let line = self.line;
        let mark = self.items.len();
        loop {
            let b = self.b;
            let item_line = self.line;
            let mut i = self.pos + 1;
            while b.get(i) == Some(&b' ') {
                i += 1;
            }
            let item = match b.get(i) {
                Some(b'\t') => return None,
                None | Some(b'\n' | b'\r' | b'#') => {
                    self.pos += 1;
                    self.end_line()?;
                    if self.indent > icol {
                        self.node_at_head(icol)?
                    } else {
                        // An empty entry is on its `-` line.
                        Node::new(item_line, NodeKind::Null)
                    }
                }
                Some(_) => {
                    self.pos = i;
                    self.node(i - self.line_start, icol, true)?
                }
            };
            self.items.push(item);
            if self.indent == icol && self.seq_entry() {
                continue;
            }
            if self.indent < icol || (indentless && self.indent == icol) {
                break;
            }
            return None;
        }
        self.depth -= 1;
        let items = self.items.drain(mark..).collect();
        Some(Node::new(line, NodeKind::List(items)))
    }

    /// A plain scalar in block context on this line, from `self.pos` (a valid first
    /// character): the end of its text, and the position of the `:` after it if it is a key.
    fn plain(&self) -> Option<(usize, Option<usize>)> {
        let b = self.b;
        let mut i = self.pos;
        let mut end = i;
        loop {
            // A run of plain bytes: most of a scalar is one.
            let run = i;
            i = plain_run_end(b, i);
            if i > run {
                end = i;
            }
            let Some(&c) = b.get(i) else {
                return Some((end, None));
            };
            match c {
                b' ' => {
                    let mut j = i + 1;
                    while b.get(j) == Some(&b' ') {
                        j += 1;
                    }
                    match b.get(j) {
                        None | Some(b'\n' | b'\r' | b'#') => return Some((end, None)),
                        Some(b'\t') => return None,
                        _ => i = j,
                    }
                }
                b':' => match b.get(i + 1) {
                    None | Some(b' ' | b'\n' | b'\r') => return Some((end, Some(i))),
                    Some(b'\t') => return None,
                    _ => {
                        i += 1;
                        end = i;
                    }
                },
                b'\n' | b'\r' => return Some((end, None)),
                _ => return None,
            }
        }
    }

    /// A quoted scalar on one line, from its opening quote at `self.pos`; stops after the
    /// closing quote.
    /// A quoted scalar's text: borrowed from the input unless an escape or a doubled `'`
    /// had to be undone (most quoted values hold neither).
    fn quoted(&mut self) -> Option<Cow<'t, str>> {
        let (b, text) = (self.b, self.text);
        let start = self.pos + 1;
        let mut out: Option<String> = None;
        let mut run = start;
        let mut i = start;
        let finish = |out: Option<String>, tail: &'t str| match out {
            None => Cow::Borrowed(tail),
            Some(mut s) => {
                s.push_str(tail);
                Cow::Owned(s)
            }
        };
        if b[self.pos] == b'\'' {
            loop {
                i += memchr2(b'\'', b'\n', &b[i..])?;
                if b[i] == b'\n' {
                    return None;
                }
                if b.get(i + 1) == Some(&b'\'') {
                    out.get_or_insert_with(String::new).push_str(&text[run..=i]);
                    i += 2;
                    run = i;
                    continue;
                }
                self.pos = i + 1;
                return Some(finish(out, &text[run..i]));
            }
        }
        loop {
            i += memchr3(b'"', b'\\', b'\n', &b[i..])?;
            match b[i] {
                b'"' => {
                    self.pos = i + 1;
                    return Some(finish(out, &text[run..i]));
                }
                b'\n' => return None,
                _ => {
                    let s = out.get_or_insert_with(String::new);
                    s.push_str(&text[run..i]);
                    let (c, len) = escape(&b[i + 1..])?;
                    s.push(c);
                    i += 1 + len;
                    run = i;
                }
            }
        }
    }

    fn spaces(&mut self) -> Option<()> {
        while self.b.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        (self.b.get(self.pos) != Some(&b'\t')).then_some(())
    }

    /// A flow collection on one line, from its `[` or `{`.
    fn flow(&mut self) -> Option<Node> {
        self.enter()?;
        let line = self.line;
        let close = if self.b[self.pos] == b'[' { b']' } else { b'}' };
        self.pos += 1;
        self.spaces()?;
        let (items, entries) = (self.items.len(), self.entries.len());
        if self.b.get(self.pos) == Some(&close) {
            self.pos += 1;
        } else {
            loop {
                if close == b']' {
                    let item = self.flow_item()?;
                    self.items.push(item);
                } else {
                    let key = self.flow_key()?;
                    self.spaces()?;
                    if self.b.get(self.pos..self.pos + 2) != Some(b": ") {
                        return None;
                    }
                    self.pos += 2;
                    self.spaces()?;
                    let value = self.flow_item()?;
                    self.entries.push((key, value));
                }
                self.spaces()?;
                match self.b.get(self.pos) {
                    Some(b',') => {
                        self.pos += 1;
                        self.spaces()?;
                    }
                    Some(&c) if c == close => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        let kind = if close == b']' {
            NodeKind::List(self.items.drain(items..).collect())
        } else {
            let mut entries: Vec<_> = self.entries.drain(entries..).collect();
            dedup_keys(&mut entries);
            NodeKind::Map(entries)
        };
        Some(Node::new(line, kind))
    }

    /// A value inside a flow collection.
    fn flow_item(&mut self) -> Option<Node> {
        let line = self.line;
        let start = self.pos;
        match *self.b.get(start)? {
            b'[' | b'{' => self.flow(),
            b'"' | b'\'' => Some(Node::new(
                line,
                NodeKind::String(self.quoted()?.as_ref().into()),
            )),
            _ => {
                let end = self.plain_flow()?;
                self.pos = end;
                let text = &self.text[start..end];
                Some(Node::new(line, resolve_plain(Cow::Borrowed(text))))
            }
        }
    }

    fn flow_key(&mut self) -> Option<Key> {
        let start = self.pos;
        match *self.b.get(start)? {
            b'"' | b'\'' => self.quoted().map(Key::from),
            _ => {
                let end = self.plain_flow()?;
                self.pos = end;
                let text = &self.text[start..end];
                (text != "<<").then(|| Key::new(text))
            }
        }
    }

    /// A plain scalar in flow context, from `self.pos`: the end of its text.
    fn plain_flow(&self) -> Option<usize> {
        let b = self.b;
        let start = self.pos;
        let first = b[start];
        let next = b.get(start + 1);
        if !plain_start(first, next)
            || (first == b'-' && matches!(next, Some(b',' | b'[' | b']' | b'{' | b'}')))
        {
            return None;
        }
        let mut i = start;
        let mut end = i;
        loop {
            let c = *b.get(i)?;
            if PLAIN_FLOW[c as usize] {
                i += 1;
                end = i;
                continue;
            }
            match c {
                b' ' => {
                    let mut j = i + 1;
                    while b.get(j) == Some(&b' ') {
                        j += 1;
                    }
                    match b.get(j) {
                        Some(b',' | b']' | b'}' | b':') => return Some(end),
                        None | Some(b'#' | b'[' | b'{' | b'\t' | b'\n' | b'\r') => return None,
                        // The scanner refuses a word of `-` and a flow indicator.
                        Some(b'-')
                            if matches!(b.get(j + 1), Some(b',' | b'[' | b']' | b'{' | b'}')) =>
                        {
                            return None;
                        }
                        _ => i = j,
                    }
                }
                b':' => match b.get(i + 1) {
                    Some(b' ' | b',' | b'[' | b']' | b'{' | b'}') => return Some(end),
                    None | Some(b'\t' | b'\n' | b'\r') => return None,
                    _ => {
                        i += 1;
                        end = i;
                    }
                },
                b',' | b']' | b'}' => return Some(end),
                _ => return None,
            }
        }
    }

    /// Spaces up to column `indent` and the empty lines after them, counting line breaks.
    fn block_indent(&mut self, indent: usize, breaks: &mut usize) {
        let b = self.b;
        loop {
            let mut k = self.pos;
            while k - self.line_start < indent && b.get(k) == Some(&b' ') {
                k += 1;
            }
            self.pos = k;
            match b.get(k) {
                Some(b'\n') => self.newline(k + 1),
                Some(b'\r') => self.newline(k + 2),
                _ => return,
            }
            *breaks += 1;
        }
    }

    /// A block scalar from its `|` or `>`, as the scanner reads it, inside a block collection
    /// at column `parent`. Its line is that of the indicator.
    fn block_scalar(&mut self, parent: isize, folded: bool) -> Option<Node> {
        let Ok(parent) = usize::try_from(parent) else {
            return None;
        };
        let (b, text) = (self.b, self.text);
        let len = b.len();
        let line = self.line;
        let empty = |p: &mut Self| {
            p.indent = -1;
            Some(Node::new(line, NodeKind::String(Text::default())))
        };
        // The header: chomping and indentation indicators in either order.
        let chomping = |c: Option<&u8>| match c {
            Some(b'-') => Some(Chomp::Strip),
            Some(b'+') => Some(Chomp::Keep),
            _ => None,
        };
        let digit = |c: Option<&u8>| match c {
            Some(&d @ b'1'..=b'9') => Some(usize::from(d - b'0')),
            _ => None,
        };
        let mut i = self.pos + 1;
        let mut chomp = Chomp::Clip;
        let mut increment = 0;
        if let Some(c) = chomping(b.get(i)) {
            chomp = c;
            i += 1;
            if let Some(d) = digit(b.get(i)) {
                increment = d;
                i += 1;
            }
        } else if let Some(d) = digit(b.get(i)) {
            increment = d;
            i += 1;
            if let Some(c) = chomping(b.get(i)) {
                chomp = c;
                i += 1;
            }
        }
        let mut j = i;
        while b.get(j) == Some(&b' ') {
            j += 1;
        }
        match b.get(j) {
            None => {
                self.pos = j;
                return empty(self);
            }
            Some(b'#') if j > i => {
                self.skip_rest(j);
                if self.pos >= len {
                    return empty(self);
                }
            }
            Some(b'\n') => self.newline(j + 1),
            Some(b'\r') => self.newline(j + 2),
            _ => return None,
        }
        if b.get(self.pos) == Some(&b'\t') {
            return None;
        }
        // Leading empty lines, and the content's indentation.
        let mut breaks = 0usize;
        let indent = if increment > 0 {
            let indent = parent + increment;
            self.block_indent(indent, &mut breaks);
            indent
        } else {
            let mut max = 0;
            loop {
                let mut k = self.pos;
                while b.get(k) == Some(&b' ') {
                    k += 1;
                }
                self.pos = k;
                max = max.max(k - self.line_start);
                match b.get(k) {
                    Some(b'\n') => self.newline(k + 1),
                    Some(b'\r') => self.newline(k + 2),
                    _ => break,
                }
                breaks += 1;
            }
            max.max(parent + 1)
        };
        let col = self.pos - self.line_start;
        if self.pos >= len {
            let s = match chomp {
                Chomp::Strip | Chomp::Clip => String::new(),
                Chomp::Keep if breaks == 0 && self.line > line && col > 0 => "\n".to_owned(),
                Chomp::Keep => "\n".repeat(breaks),
            };
            self.indent = -1;
            return Some(Node::new(line, NodeKind::String(s.into())));
        }
        if col < indent && col > parent {
            return None;
        }
        let mut s = String::new();
        let mut leading_break = false;
        let mut leading_blank = false;
        while self.pos - self.line_start == indent
            && !matches!(b.get(self.pos), None | Some(b'\n' | b'\r'))
        {
            let start = self.pos;
            let blank = matches!(b[start], b' ' | b'\t');
            if folded && leading_break && !leading_blank && !blank {
                if breaks == 0 {
                    s.push(' ');
                }
            } else if leading_break {
                s.push('\n');
            }
            push_breaks(&mut s, breaks);
            leading_break = false;
            breaks = 0;
            leading_blank = blank;
            match memchr(b'\n', &b[start..]) {
                None => {
                    s.push_str(&text[start..]);
                    self.pos = len;
                    break;
                }
                Some(k) => {
                    let e = start + k;
                    let content_end = if b[e - 1] == b'\r' { e - 1 } else { e };
                    s.push_str(&text[start..content_end]);
                    leading_break = true;
                    self.newline(e + 1);
                    self.block_indent(indent, &mut breaks);
                }
            }
        }
        if chomp != Chomp::Strip {
            if leading_break {
                s.push('\n');
            }
            if self.pos >= len && self.pos - self.line_start >= indent.max(1) {
                s.push('\n');
            }
        }
        if chomp == Chomp::Keep {
            push_breaks(&mut s, breaks);
        }
        if self.pos >= len {
            self.indent = -1;
        } else if !self.content()? {
            self.head()?;
        }
        Some(Node::new(line, NodeKind::String(s.into())))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

fn push_breaks(s: &mut String, n: usize) {
    for _ in 0..n {
        s.push('\n');
    }
}

/// A double-quoted escape after its `\`: the character and the bytes it takes.
fn escape(rest: &[u8]) -> Option<(char, usize)> {
    let c = match *rest.first()? {
        b'0' => '\0',
        b'a' => '\x07',
        b'b' => '\x08',
        b't' | b'\t' => '\t',
        b'n' => '\n',
        b'v' => '\x0b',
        b'f' => '\x0c',
        b'r' => '\r',
        b'e' => '\x1b',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        b'x' => return hex(rest, 2),
        b'u' => return hex(rest, 4),
        b'U' => return hex(rest, 8),
        _ => return None,
    };
    Some((c, 1))
}

fn hex(rest: &[u8], n: usize) -> Option<(char, usize)> {
    let value = rest
        .get(1..=n)?
        .iter()
        .try_fold(0u32, |acc, &d| Some(acc * 16 + char::from(d).to_digit(16)?))?;
    Some((char::from_u32(value)?, 1 + n))
}

#[cfg(test)]
mod tests {
    use super::super::super::json::render;
    use super::super::parse_events;
    use super::{parse, plain_run_end};
    use crate::tree::Node;

    fn show(docs: &[Node]) -> String {
        docs.iter()
            .map(|d| render(d, true))
            .collect::<Vec<_>>()
            .join(" --- ")
    }

    /// Checks that the fast path leaves `input` alone or reads it as the full reader does;
    /// returns whether it read it.
    #[track_caller]
    fn agree(input: &str) -> bool {
        let full = parse_events(input);
        match (parse(input), full) {
            (None, _) => false,
            (Some(fast), Ok(full)) => {
                if fast != full {
                    panic!(
                        "fast path differs\ninput: {input:?}\nfast: {}\nfull: {}",
                        show(&fast),
                        show(&full)
                    );
                }
                true
            }
            (Some(fast), Err(e)) => {
                panic!(
                    "fast path read malformed input\ninput: {input:?}\nerror: {e}\nfast: {}",
                    show(&fast)
                )
            }
        }
    }

    /// Checks that the fast path reads `input`, as the full reader does.
    #[track_caller]
    fn fast(input: &str) {
        assert!(agree(input), "fast path left the input: {input:?}");
    }

    #[test]
    fn kubernetes_manifests() {
        fast(include_str!("yaml_fast_tests/deployment.yaml"));
        fast(include_str!("yaml_fast_tests/values.yaml"));
        fast(include_str!("yaml_fast_tests/app.yaml"));
        let crlf = include_str!("yaml_fast_tests/deployment.yaml").replace('\n', "\r\n");
        fast(&crlf);
        fast(&super::super::tests::k8s_yaml(100_000));
    }

    #[test]
    fn small_inputs_in_the_subset() {
        for input in [
            "",
            "\n\n",
            "# only\n  # comments\n",
            "a: 1",
            "a: 1\n",
            "\u{feff}a: 1\n",
            "---\na: 1\n",
            "--- # c\na: 1\n...\n",
            "a: 1\n---\nb: 2\n...\n---\n- 3\n",
            "---\n---\n",
            "...\n",
            "~\n",
            "null",
            "hello world\n",
            "'quoted' # c\n",
            // Quoted text is borrowed unless something is undone: both kinds, as values,
            // keys and flow items.
            "a: 'it''s'\nb: \"tab\\there\"\nc: 'plain'\n'd''e': \"\\u00e9\"\nf: ['x''y', \"\\\"q\\\"\"]\n",
            "[1, 2]\n",
            "{}\n",
            "  a: 1\n  b: 2\n",
            "a:\nb:\n",
            "a:   # c\n  # more\nb: x\n",
            "a: b # c\nd: e#f\n",
            "a: http://x.y/z?q=1#f\n",
            "a: 12:30\nb: 0x1F\nc: 0o17\nd: .inf\ne: -.5e3\nf: +1\ng: 007\n",
            "a: True\nb: FALSE\nc: Null\nd: ~\ne: nUll\n",
            "key with spaces: v\n'single key': v\n\"double key\": v\n\"a: b\": c\n",
            "1: a\ntrue: b\n~: c\nnull: d\n",
            "a : 1\n\"b\"  : 2\n",
            "a: 1\nb: 2\na: 3\n",
            "- a\n- b\n-\n- ~\n",
            "- - a\n  - b\n- - - c\n",
            "-   x: 1\n    y: 2\n- z: 3\n",
            "a:\n- x\n- y\nb:\n  - z\n",
            "- a:\n  - x\n  b: 1\n",
            "- name: a\n  items:\n  - x\n  - y\n- name: b\n",
            "a:\n    b:\n       c: 1\n    d: 2\ne: 3\n",
            "-\n  a: 1\n-\n  - x\n",
            "a:\n  x\nb:\n  'y'\n",
            "a: [a, \"b\", 'c', 1, 1.5, true, null, ~, [x, [y]], {k: v}]\n",
            "a: {a: 1, 'b': [x, y], \"c\": {d: e}}\n",
            "a: [ ]\nb: { }\nc: [a , b ]\nd: [http://x, a:b]\n",
            "a: \"esc \\\" \\\\ \\n \\t \\u00e9 \\x41 \\U0001F600 \\/ \\0 \\e \\N \\_ \\L \\P \\a \\b \\v \\f \\r \\ \"\n",
            "a: 'it''s'\nb: ''\nc: \"\"\nd: '  x  '\n",
            "a: |\n  line\n\n  more\nb: >\n  folded\n  text\n\n  para\n   indented\n  back\n",
            "a: |-\n  x\n\n\nb: |+\n  y\n\n\nc: >-\n  z\n\nd: >+\n  w\n",
            "a: |2\n    x\n   y\nb: >1-\n  z\n",
            "- |\n  a\n- >-\n  b\n  c\n- |\n",
            "a: |\n  x\n# comment\nb: |\n\n  \n  y\n",
            "a: |\n  x\n  \n   \n",
            "a: |+\n  x\n  ",
            "a: |\n  no newline at end",
            "a: >\n  \ttab\n  x\n",
            "é: ü\nk: 😀 text\n",
            "a: -x\nb: --y\nc: -1\nd: a - b\ne: a -\n",
            "a: b: c\n",
        ] {
            let full_ok = parse_events(input).is_ok();
            assert_eq!(agree(input), full_ok && input != "a: b: c\n", "{input:?}");
        }
    }

    /// The files listed (one path a line) in the file `YAML_FAST_FILES` names, for checks on
    /// real-world YAML: `YAML_FAST_FILES=list cargo test -p envparity-config -- --ignored files_agree`.
    #[test]
    #[ignore = "needs YAML_FAST_FILES"]
    fn files_agree() {
        let list = std::env::var("YAML_FAST_FILES").expect("YAML_FAST_FILES");
        let list = std::fs::read_to_string(list).unwrap();
        let (mut files, mut fast, mut valid, mut bytes, mut fast_bytes) = (0, 0, 0, 0, 0);
        for path in list.lines() {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            files += 1;
            bytes += text.len();
            valid += usize::from(parse_events(&text).is_ok());
            let result = std::panic::catch_unwind(|| agree(&text));
            match result {
                Ok(true) => {
                    fast += 1;
                    fast_bytes += text.len();
                }
                Ok(false) => {}
                Err(_) => panic!("{path}"),
            }
        }
        println!(
            "{files} files ({bytes} bytes), {valid} valid, {fast} ({fast_bytes} bytes) read by the fast path"
        );
    }

    #[test]
    fn long_keys_and_values() {
        let long = "x".repeat(1500);
        fast(&format!("a: {long}\n"));
        fast(&format!("- {long}\n- '{long}'\n-\n  \"{long}\"\n"));
        fast(&format!("{}: v\n", "k".repeat(900)));
        assert_eq!(parse(&format!("{}: v\n", "k".repeat(1010))), None);
        for n in [1020, 1024, 1025, 1030, 2000] {
            agree(&format!("{}: v\n", "k".repeat(n)));
            agree(&format!("a:\n  {}: v\n", "k".repeat(n)));
        }
    }

    #[test]
    fn leaves_inputs_outside_the_subset() {
        for input in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: !Ref x\n",
            "? a\n: b\n",
            "<<: {a: 1}\n",
            "x:\n  <<: {a: 1}\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: plain\n  continued\n",
            "a: \"multi\n  line\"\n",
            "a: [1,\n  2]\n",
            "a:\n\t- 1\n",
            "a:\tb\n",
            "\ta: 1\n",
            "--- 1\n",
            "--- |\n  x\n",
            "|\n  top-level block scalar\n",
            "a: 1\r b: 2\n",
            "a: \u{feff}b\n",
            "a: \0\n",
            "a: [a, ]\n",
            "a: {b}\n",
            "a: {b: }\n",
            "a: {\"b\":1}\n",
            "[a: b]\n",
            "a: 1\n...\nb: 2\n",
        ] {
            assert_eq!(parse(input), None, "input: {input:?}");
            let _ = parse_events(input);
        }
        let deep = format!("{}x", "- ".repeat(super::MAX_NESTING + 1));
        assert_eq!(parse(&deep), None);
        assert!(parse(&format!("{}x", "- ".repeat(super::MAX_NESTING))).is_some());
    }

    #[test]
    fn malformed_inputs_are_left_to_the_full_reader() {
        for input in [
            "a: 1\n b: 2\n",
            "a: [1, 2\n",
            "a: 'x\n",
            "a: \"x\n",
            "a: 1\nb: @x\n",
            "- a\nb: c\n",
            "a: b: c\n",
            "a: - b\n",
            "a: \"x\" y\n",
            "a: \"\\q\"\n",
            "a: \"\\ud800\"\n",
            "a: |0\n  x\n",
            "a: |x\n",
            "a: |\n    x\n  y\n",
            "a:\n    x\n  y\n",
            "- a\n  b: c\n",
            "a: `x`\n",
            "a: ,x\n",
            "a: [-, x]\n",
            "a: [x -, y]\n",
            "a: [x -]\n",
            "a: 1\n  # ok\n   b: 2\n",
            "a: |\n  \n    \n  x\n",
        ] {
            agree(input);
        }
    }

    /// A small deterministic generator (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn chance(&mut self, percent: usize) -> bool {
            self.below(100) < percent
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    const KEYS: &[&str] = &[
        "name",
        "value",
        "image",
        "app.kubernetes.io/name",
        "key with spaces",
        "k1",
        "k2",
        "k3",
        "1",
        "0x10",
        "true",
        "~",
        "null",
        "-dash",
        "a:b",
        "x#y",
        "ü",
        "\"quoted\"",
        "'single'",
        "\"with: colon\"",
        "'it''s'",
        "\"esc\\tape\"",
        "\"\"",
        "\"k1\"",
    ];

    const PLAIN: &[&str] = &[
        "text",
        "hello world",
        "a:b",
        "http://x.y:80/z?q=1#frag",
        "500m",
        "256Mi",
        "1.2.3",
        "-x",
        "-1",
        "+1",
        "0",
        "007",
        "0x1F",
        "0o17",
        "0b101",
        "1e3",
        "1.5",
        ".5",
        "-.inf",
        ".NaN",
        "123456789012345678901234567890",
        "true",
        "False",
        "NULL",
        "~",
        "null",
        "yes",
        "12:30",
        "a#b",
        "a -b",
        "x [y] {z}",
        "a,b",
        "é ü",
        "😀",
        "C:\\path",
        "a'b",
        "a\"b",
        "50%",
        "a!b&c*d",
        "x   y",
        "---x",
        "...",
    ];

    const QUOTED: &[&str] = &[
        "\"\"",
        "''",
        "\"a b\"",
        "'a b'",
        "\"esc \\\" \\\\ \\n \\t \\u00e9 \\x41 \\U0001F600 \\/ \\0 \\e \\N \\_ \\L \\P\"",
        "'single '' quote'",
        "\"  spaces  \"",
        "\"#not comment\"",
        "'a: b'",
        "\"1\"",
        "'true'",
        "\"tab\there\"",
        "'\\n stays'",
    ];

    const FLOW_PLAIN: &[&str] = &[
        "a",
        "b c",
        "1",
        "-2",
        "1.5e3",
        "true",
        "~",
        "null",
        "x-y",
        "http://h/p",
        "é",
        "a'b",
    ];

    const BLOCK_LINES: &[&str] = &[
        "text",
        "more words here",
        "",
        "",
        " one more space",
        "   three more spaces",
        "\ttab first",
        "# not a comment",
        "key: value",
        "trailing   ",
        "- item",
        "é ü 😀",
        "'quoted'",
    ];

    struct Gen {
        r: Rng,
        out: String,
    }

    impl Gen {
        fn spaces(&mut self, n: usize) {
            for _ in 0..n {
                self.out.push(' ');
            }
        }

        /// Maybe a blank line or a comment line before a line at column `col`.
        fn filler(&mut self, col: usize) {
            match self.r.below(12) {
                0 => self.out.push('\n'),
                1 => {
                    let n = self.r.below(col + 4);
                    self.spaces(n);
                    self.out.push('\n');
                }
                2 => {
                    let n = self.r.below(col + 4);
                    self.spaces(n);
                    self.out.push_str("# comment: - [x]\n");
                }
                _ => {}
            }
        }

        /// The end of a line with a value: maybe a comment.
        fn eol(&mut self) {
            match self.r.below(8) {
                0 => self.out.push_str(" # trailing"),
                1 => self.out.push_str("   #"),
                2 => self.out.push_str("  "),
                _ => {}
            }
            self.out.push('\n');
        }

        fn scalar(&mut self) {
            let s = if self.r.chance(70) {
                self.r.pick(PLAIN)
            } else {
                self.r.pick(QUOTED)
            };
            self.out.push_str(s);
        }

        fn flow(&mut self, depth: usize) {
            let map = self.r.chance(40);
            self.out.push(if map { '{' } else { '[' });
            let pad = self.r.chance(20);
            if pad {
                self.out.push(' ');
            }
            let n = self.r.below(4);
            for i in 0..n {
                if i > 0 {
                    let sep = self.r.pick(&[", ", ",", " , ", ",  "]);
                    self.out.push_str(sep);
                }
                if map {
                    let k = if self.r.chance(80) {
                        self.r.pick(FLOW_PLAIN)
                    } else {
                        self.r.pick(QUOTED)
                    };
                    self.out.push_str(k);
                    self.out.push_str(": ");
                }
                if depth < 2 && self.r.chance(15) {
                    self.flow(depth + 1);
                } else if self.r.chance(80) {
                    let s = self.r.pick(FLOW_PLAIN);
                    self.out.push_str(s);
                } else {
                    let s = self.r.pick(QUOTED);
                    self.out.push_str(s);
                }
            }
            if pad && n > 0 {
                self.out.push(' ');
            }
            self.out.push(if map { '}' } else { ']' });
        }

        /// A block scalar after `parent`'s key or dash, from its indicator.
        fn block_scalar(&mut self, parent: usize) {
            let w = 1 + self.r.below(4);
            let indent = parent + w;
            self.out.push(if self.r.chance(50) { '|' } else { '>' });
            let chomp = self.r.pick(&["", "", "-", "+"]);
            let explicit = self.r.chance(20);
            if explicit && self.r.chance(50) {
                self.out.push_str(&w.to_string());
                self.out.push_str(chomp);
            } else {
                self.out.push_str(chomp);
                if explicit {
                    self.out.push_str(&w.to_string());
                }
            }
            self.eol();
            let n = self.r.below(6);
            for i in 0..n {
                let line = self.r.pick(BLOCK_LINES);
                if line.is_empty() {
                    let spaces = self.r.below(indent + 2);
                    self.spaces(spaces);
                } else if i == 0 && !explicit && line.starts_with([' ', '\t']) {
                    self.spaces(indent);
                    self.out.push_str("first");
                } else {
                    self.spaces(indent);
                    self.out.push_str(line);
                }
                self.out.push('\n');
            }
            for _ in 0..self.r.below(3) {
                let spaces = self.r.below(indent + 2);
                self.spaces(spaces);
                self.out.push('\n');
            }
        }

        fn key(&mut self) {
            let k = self.r.pick(KEYS);
            self.out.push_str(k);
            if self.r.chance(5) {
                self.out.push(' ');
            }
            self.out.push(':');
        }

        /// A block mapping at column `col`; its first key is already placed when `inline`.
        fn map(&mut self, col: usize, inline: bool, depth: usize) {
            let n = 1 + self.r.below(4);
            for i in 0..n {
                if i > 0 || !inline {
                    self.filler(col);
                    self.spaces(col);
                }
                self.key();
                self.map_value(col, depth);
            }
        }

        fn map_value(&mut self, col: usize, depth: usize) {
            let nest = depth < 5;
            match self.r.below(if nest { 10 } else { 6 }) {
                0..=2 => {
                    self.out.push(' ');
                    self.scalar();
                    self.eol();
                }
                3 => {
                    self.out.push(' ');
                    self.flow(0);
                    self.eol();
                }
                4 => {
                    self.out.push(' ');
                    self.block_scalar(col);
                }
                5 => self.eol(),
                6 | 7 => {
                    self.eol();
                    let w = 1 + self.r.below(4);
                    self.map(col + w, false, depth + 1);
                }
                _ => {
                    self.eol();
                    let w = self.r.below(4);
                    self.seq(col + w, false, depth + 1);
                }
            }
        }

        /// A block sequence at column `col`; its first `-` is already placed when `inline`.
        fn seq(&mut self, col: usize, inline: bool, depth: usize) {
            let n = 1 + self.r.below(4);
            let nest = depth < 5;
            for i in 0..n {
                if i > 0 || !inline {
                    self.filler(col);
                    self.spaces(col);
                }
                self.out.push('-');
                match self.r.below(if nest { 12 } else { 6 }) {
                    0..=2 => {
                        self.out.push(' ');
                        self.scalar();
                        self.eol();
                    }
                    3 => {
                        self.out.push(' ');
                        self.flow(0);
                        self.eol();
                    }
                    4 => {
                        self.out.push(' ');
                        self.block_scalar(col);
                    }
                    5 => self.eol(),
                    6..=8 => {
                        let s = 1 + self.r.below(3);
                        self.spaces(s);
                        self.map(col + 1 + s, true, depth + 1);
                    }
                    9 => {
                        let s = 1 + self.r.below(3);
                        self.spaces(s);
                        self.seq(col + 1 + s, true, depth + 1);
                    }
                    10 => {
                        self.eol();
                        let w = 1 + self.r.below(4);
                        self.map(col + w, false, depth + 1);
                    }
                    _ => {
                        self.eol();
                        let w = 1 + self.r.below(4);
                        self.seq(col + w, false, depth + 1);
                    }
                }
            }
        }

        fn document(&mut self) {
            let col = if self.r.chance(10) {
                self.r.below(3)
            } else {
                0
            };
            match self.r.below(10) {
                0..=5 => self.map(col, false, 0),
                6..=8 => self.seq(col, false, 0),
                _ => {
                    self.filler(0);
                    if self.r.chance(50) {
                        self.scalar();
                    } else {
                        self.flow(0);
                    }
                    self.eol();
                }
            }
        }

        fn stream(&mut self) -> String {
            self.out.clear();
            if self.r.chance(30) {
                self.out.push_str("# leading comment\n");
            }
            if self.r.chance(30) {
                self.out.push_str("---\n");
            }
            let docs = 1 + self.r.below(3);
            for i in 0..docs {
                if i > 0 {
                    let sep = self
                        .r
                        .pick(&["---\n", "--- # doc\n", "...\n---\n", "---\n---\n"]);
                    self.out.push_str(sep);
                }
                self.document();
            }
            if self.r.chance(10) {
                self.out.push_str("...\n");
            }
            let mut text = std::mem::take(&mut self.out);
            if self.r.chance(10) {
                text.pop();
            }
            if self.r.chance(10) {
                text = text.replace('\n', "\r\n");
            }
            if self.r.chance(3) {
                text.insert(0, '\u{feff}');
            }
            text
        }
    }

    /// How many random cases to try, and the seed: 3000 and a fixed one unless
    /// `YAML_FAST_CASES` and `YAML_FAST_SEED` say otherwise (for longer runs).
    fn cases(seed: u64) -> (usize, u64) {
        let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
        let cases = var("YAML_FAST_CASES").unwrap_or(3000);
        let seed = var("YAML_FAST_SEED").map_or(seed, |s: u64| s.wrapping_mul(seed) | 1);
        (cases as usize, seed)
    }

    /// The run's end found eight bytes at a time is where the table says it is: for every
    /// byte value at every position of a run, and for random bytes.
    #[test]
    fn plain_runs_end_where_the_table_says() {
        let by_table = |b: &[u8], mut i: usize| {
            while i < b.len() && super::PLAIN[b[i] as usize] {
                i += 1;
            }
            i
        };
        for stop in 0..=255u8 {
            for len in 0..24 {
                let mut text = vec![b'a'; len];
                for at in 0..len {
                    text[at] = stop;
                    // Bytes on either side that are plain but close to the stops.
                    if at > 0 {
                        text[at - 1] = 0x80;
                    }
                    for from in 0..=at {
                        assert_eq!(
                            plain_run_end(&text, from),
                            by_table(&text, from),
                            "{stop} at {at} of {len}"
                        );
                    }
                    text[at] = b'a';
                    if at > 0 {
                        text[at - 1] = b'a';
                    }
                }
                assert_eq!(plain_run_end(&text, 0), len);
            }
        }
        let mut r = Rng(0x5eed);
        for _ in 0..20_000 {
            let len = r.below(40);
            let text: Vec<u8> = (0..len).map(|_| r.below(256) as u8).collect();
            let from = r.below(len + 1);
            assert_eq!(
                plain_run_end(&text, from),
                by_table(&text, from),
                "{text:?} from {from}"
            );
        }
    }

    /// Random documents in the subset: the fast path must read nearly all of them, exactly as
    /// the full reader does.
    #[test]
    fn random_documents_agree() {
        let (cases, seed) = cases(0x9e37_79b9_7f4a_7c15);
        let mut g = Gen {
            r: Rng(seed),
            out: String::new(),
        };
        let (mut total, mut fast, mut valid) = (0, 0, 0);
        let start = std::time::Instant::now();
        while total < cases {
            let text = g.stream();
            total += 1;
            valid += usize::from(parse_events(&text).is_ok());
            fast += usize::from(agree(&text));
        }
        println!(
            "{total} random documents, {valid} valid YAML, {fast} read by the fast path, {:?}",
            start.elapsed()
        );
        assert!(fast * 100 >= valid * 90, "{fast} of {valid}");
    }

    /// Random documents with random edits: whatever the fast path reads, it reads as the full
    /// reader does, and it never reads what the full reader refuses.
    #[test]
    fn mutated_documents_agree() {
        const INSERT: &[&str] = &[
            " ", "  ", ":", ": ", "-", "- ", "#", " #", "\t", "\n", "\r\n", "\"", "'", "|", ">",
            "[", "]", "{", "}", ",", "&a ", "*a", "!", "?", "%", "@", "\\", "x", "---\n", "...",
            "<<", "0", "é",
        ];
        let (cases, seed) = cases(0x2545_f491_4f6c_dd1d);
        let mut g = Gen {
            r: Rng(seed),
            out: String::new(),
        };
        let (mut total, mut fast, mut valid) = (0, 0, 0);
        let start = std::time::Instant::now();
        while total < cases {
            let mut text = g.stream();
            for _ in 0..1 + g.r.below(3) {
                let mut at = g.r.below(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                if g.r.chance(60) {
                    let s = g.r.pick(INSERT);
                    text.insert_str(at, s);
                } else {
                    let mut end = (at + 1 + g.r.below(3)).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(at..end, "");
                }
            }
            total += 1;
            valid += usize::from(parse_events(&text).is_ok());
            fast += usize::from(agree(&text));
        }
        println!(
            "{total} mutated documents, {valid} valid YAML, {fast} read by the fast path, {:?}",
            start.elapsed()
        );
    }
}
