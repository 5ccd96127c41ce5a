//! A line-oriented reader of the TOML most configuration files are written in: comments,
//! `[table]` and `[[array.of.tables]]` headers of bare keys, and `key = value` lines with a
//! bare key and a one-line value (a string without escapes, a decimal integer, a boolean,
//! or a one-line array of those). It returns `None` on anything else, or on anything TOML
//! calls an error (a duplicate key or table), and `toml_edit` then reads the whole file:
//! the trees and lines of the two are held equal by the tests.
//!
//! Why: `toml_edit` builds a document that keeps every byte for editing, ~210 instructions
//! a byte, where the YAML fast path spends 34; a bench estate's TOML was 3.5 % of a diff's
//! instructions for 2.5 % of its bytes.

use crate::tree::{Key, Node, NodeKind, Text};

/// A table being built: its line, whether a header named it (else a header below it or a
/// dotted path implied it), and its entries in the order they first appear.
struct Table {
    line: u32,
    explicit: bool,
    entries: Vec<(Key, Item)>,
}

enum Item {
    Value(Node),
    Table(Table),
    /// `[[name]]`: the tables in order.
    Tables(Vec<Table>),
}

pub fn parse(text: &str) -> Option<Node> {
    let mut root = Table {
        line: 1,
        explicit: true,
        entries: Vec::new(),
    };
    // The path of the table `key = value` lines go into, and whether its last step is
    // the last table of an array of tables.
    let mut current: Vec<&str> = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = u32::try_from(index + 1).ok()?;
        let content = raw.strip_suffix('\r').unwrap_or(raw);
        if content.contains('\r') {
            return None;
        }
        let content = content.trim_matches([' ', '\t']);
        if content.is_empty() || content.starts_with('#') {
            if content.bytes().any(is_control) {
                return None;
            }
            continue;
        }
        if let Some(rest) = content.strip_prefix("[[") {
            let (inside, after) = rest.split_once("]]")?;
            no_trailer(after)?;
            let path = header_keys(inside)?;
            let (last, parents) = path.split_last()?;
            let parent = table_at(&mut root, parents, line)?;
            match find(&mut parent.entries, last) {
                None => parent
                    .entries
                    .push((Key::new(last), Item::Tables(Vec::new()))),
                Some(Item::Tables(_)) => {}
                Some(_) => return None,
            }
            let Some(Item::Tables(tables)) = find(&mut parent.entries, last) else {
                return None;
            };
            tables.push(Table {
                line,
                explicit: true,
                entries: Vec::new(),
            });
            current = path;
        } else if let Some(rest) = content.strip_prefix('[') {
            let (inside, after) = rest.split_once(']')?;
            no_trailer(after)?;
            let path = header_keys(inside)?;
            let (last, parents) = path.split_last()?;
            let parent = table_at(&mut root, parents, line)?;
            let at = parent.entries.iter().rposition(|(k, _)| k == last);
            match at.map(|at| (at, &parent.entries[at].1)) {
                None => parent.entries.push((
                    Key::new(last),
                    Item::Table(Table {
                        line,
                        explicit: true,
                        entries: Vec::new(),
                    }),
                )),
                // Implied before (`[a.b]` then `[a]`): named now, on this line, and (as
                // toml_edit orders it) after the tables named so far.
                Some((at, Item::Table(t))) if !t.explicit => {
                    let (key, mut item) = parent.entries.remove(at);
                    if let Item::Table(t) = &mut item {
                        t.explicit = true;
                        t.line = line;
                    }
                    parent.entries.push((key, item));
                }
                Some(_) => return None,
            }
            current = path;
        } else {
            let (key, value) = content.split_once('=')?;
            let key = key.trim_end_matches([' ', '\t']);
            if !is_bare_key(key) {
                return None;
            }
            let node = value_of(value.trim_start_matches([' ', '\t']), line)?;
            let table = table_at(&mut root, &current, line)?;
            // Duplicates are told at the end, all at once.
            table.entries.push((Key::new(key), Item::Value(node)));
        }
    }
    into_node(root)
}

/// Only blanks and a comment (without control characters) may follow a header or value.
fn no_trailer(after: &str) -> Option<()> {
    let after = after.trim_start_matches([' ', '\t']);
    let comment_ok = || after.starts_with('#') && !after.bytes().any(is_control);
    (after.is_empty() || comment_ok()).then_some(())
}

/// What TOML allows in no comment or string: control characters but the tab.
fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

fn header_keys(inside: &str) -> Option<Vec<&str>> {
    let keys: Vec<&str> = inside
        .split('.')
        .map(|k| k.trim_matches([' ', '\t']))
        .collect();
    keys.iter().all(|k| is_bare_key(k)).then_some(keys)
}

fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn find<'t>(entries: &'t mut [(Key, Item)], key: &str) -> Option<&'t mut Item> {
    entries
        .iter_mut()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, item)| item)
}

/// The table at `path` below `root`, implying missing tables on `line`; through an array
/// of tables, its last table. `None` when a step is a value.
fn table_at<'t>(root: &'t mut Table, path: &[&str], line: u32) -> Option<&'t mut Table> {
    let mut table = root;
    for key in path {
        if find(&mut table.entries, key).is_none() {
            table.entries.push((
                Key::new(key),
                Item::Table(Table {
                    line,
                    explicit: false,
                    entries: Vec::new(),
                }),
            ));
        }
        table = match find(&mut table.entries, key)? {
            Item::Table(t) => t,
            Item::Tables(tables) => tables.last_mut()?,
            Item::Value(_) => return None,
        };
    }
    Some(table)
}

/// A one-line value and nothing but a comment after it.
fn value_of(text: &str, line: u32) -> Option<Node> {
    let (node, rest) = if let Some(rest) = text.strip_prefix('[') {
        let mut items = Vec::new();
        let mut rest = rest.trim_start_matches([' ', '\t']);
        loop {
            if let Some(after) = rest.strip_prefix(']') {
                break (Node::new(line, NodeKind::List(items)), after);
            }
            let (item, after) = scalar(rest, line)?;
            items.push(item);
            let after = after.trim_start_matches([' ', '\t']);
            rest = match after.strip_prefix(',') {
                Some(after) => after.trim_start_matches([' ', '\t']),
                None if after.starts_with(']') => after,
                None => return None,
            };
        }
    } else {
        scalar(text, line)?
    };
    no_trailer(rest)?;
    Some(node)
}

/// A string without escapes, a decimal integer or a boolean at the start of `text`, and
/// what follows it.
fn scalar(text: &str, line: u32) -> Option<(Node, &str)> {
    let quote = text.as_bytes().first()?;
    if matches!(quote, b'"' | b'\'') {
        let body = &text[1..];
        let end = body.find(char::from(*quote))?;
        let inner = &body[..end];
        // Multi-line strings, escapes and control characters are for toml_edit.
        if (end == 0 && body[1..].starts_with(char::from(*quote)))
            || inner.bytes().any(|b| b == b'\\' || is_control(b))
        {
            return None;
        }
        let node = Node::new(line, NodeKind::String(Text::from(inner)));
        return Some((node, &body[end + 1..]));
    }
    let end = text.find([' ', '\t', ',', ']', '#']).unwrap_or(text.len());
    let (word, rest) = text.split_at(end);
    let kind = match word {
        "true" => NodeKind::Bool(true),
        "false" => NodeKind::Bool(false),
        _ => {
            let digits = word.strip_prefix(['+', '-']).unwrap_or(word);
            // TOML has no leading zeros; underscores, bases, floats and dates go on.
            if digits.is_empty()
                || !digits.bytes().all(|b| b.is_ascii_digit())
                || (digits.len() > 1 && digits.starts_with('0'))
            {
                return None;
            }
            let n: i64 = word.parse().ok()?;
            NodeKind::Number(compact_str::format_compact!("{n}"))
        }
    };
    Some((Node::new(line, kind), rest))
}

fn into_node(table: Table) -> Option<Node> {
    let keys: Vec<&str> = table.entries.iter().map(|(k, _)| k.as_str()).collect();
    if crate::tree::has_duplicate(&keys) {
        return None;
    }
    let mut entries = Vec::with_capacity(table.entries.len());
    for (key, item) in table.entries {
        let node = match item {
            Item::Value(node) => node,
            Item::Table(t) => into_node(t)?,
            Item::Tables(tables) => {
                let line = tables.first()?.line;
                let items = tables.into_iter().map(into_node).collect::<Option<_>>()?;
                Node::new(line, NodeKind::List(items))
            }
        };
        entries.push((key, node));
    }
    Some(Node::new(table.line, NodeKind::Map(entries)))
}
