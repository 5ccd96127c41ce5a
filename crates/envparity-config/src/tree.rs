//! The normalized tree every reader produces: maps, lists and scalars, each node
//! remembering the line it was written on.

/// A map key. Keys are short (`name`, `containerPort`) and dropped once flattened into
/// paths: held inline up to 24 bytes, they cost no allocation of their own.
pub type Key = compact_str::CompactString;

/// A scalar's text, moved into the snapshot's [`envparity_core::snapshot::Value`] as is.
pub use envparity_core::snapshot::Text;

/// Whether a text repeats in `texts`: pairwise for a few, through foldhash for more (maps
/// and lists of objects of every file come through here; SipHash cost ~1,100
/// instructions a key).
pub(crate) fn has_duplicate(texts: &[&str]) -> bool {
    if texts.len() <= 8 {
        (1..texts.len()).any(|i| texts[..i].contains(&texts[i]))
    } else {
        let mut seen = hashbrown::HashSet::with_capacity(texts.len());
        !texts.iter().all(|t| seen.insert(*t))
    }
}

/// A parsed value with the 1-based line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub line: u32,
    pub kind: NodeKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    /// Canonical decimal text: integers without leading zeros or `+`, floats in Rust's
    /// shortest round-trip form with integral floats written as integers (`1000.0` → `1000`),
    /// so `1e3`, `1000` and `1000.0` compare equal. Non-finite floats as `inf`, `-inf`, `nan`.
    Number(Text),
    String(Text),
    List(Vec<Node>),
    /// Keys in document order. A duplicated key keeps its last value, as most loaders do.
    Map(Vec<(Key, Node)>),
}

impl Node {
    pub fn new(line: u32, kind: NodeKind) -> Node {
        Node { line, kind }
    }

    /// The value at a key, for maps.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// [`Node::get`], to move values out of.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match &mut self.kind {
            NodeKind::Map(entries) => entries
                .iter_mut()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::String(s) => Some(s),
            _ => None,
        }
    }
}
