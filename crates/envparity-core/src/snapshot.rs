//! The snapshot: everything envparity collected from one environment at one moment.
//!
//! A snapshot is portable and safe: secret values are replaced by keyed hashes before
//! they enter it (see [`SecretValue`]), so a Production snapshot can be compared anywhere.

use serde::{Deserialize, Serialize};

/// The value of the `format` field, so a stray JSON file is not mistaken for a snapshot.
pub const SNAPSHOT_FORMAT: &str = "envparity-snapshot";
/// Bumped whenever a reader of version N could misread version N+1.
pub const SNAPSHOT_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    pub format: String,
    pub version: u32,
    /// The environment's name in envparity.toml.
    pub environment: String,
    /// Whether envparity.toml marks the environment `production = true`.
    #[serde(default)]
    pub production: bool,
    /// RFC 3339, UTC.
    pub taken_at: String,
    pub tool_version: String,
    /// Identifies the key secrets were hashed with (a hash of the key, never the key).
    /// Secrets from snapshots with different key ids cannot be compared.
    pub secret_key_id: String,
    /// True when the key was made up for one run: its hashes match nothing else.
    #[serde(default)]
    pub secret_key_ephemeral: bool,
    #[serde(default)]
    pub config: ConfigSnapshot,
    /// Database schemas, one `ConfigFile` per database (`schema`, or `schema/NAME`), each
    /// table, view, sequence and enum a [`Resource`]; compared by the same engine as config.
    #[serde(default, skip_serializing_if = "ConfigSnapshot::is_empty")]
    pub schema: ConfigSnapshot,
    /// Data profiles.
    #[serde(
        default,
        skip_serializing_if = "crate::profile::DataSnapshot::is_empty"
    )]
    pub data: crate::profile::DataSnapshot,
    /// The traffic model fitted from the environment's access logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<crate::traffic::TrafficModel>,
    /// Access logs (or load results) that could not be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traffic_errors: Vec<SourceError>,
    /// The environment's last load run (`load = [...]` in envparity.toml; shards merged),
    /// compared with the reference's traffic model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<crate::load::RunResult>,
    /// Who can do what: database roles and grants, Kubernetes RBAC, application switches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<crate::access::AccessModel>,
    /// Access sources that could not be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_errors: Vec<SourceError>,
}

impl Snapshot {
    pub fn new(
        environment: &str,
        production: bool,
        taken_at: String,
        secret_key_id: String,
    ) -> Snapshot {
        Snapshot {
            format: SNAPSHOT_FORMAT.to_string(),
            version: SNAPSHOT_VERSION,
            environment: environment.to_string(),
            production,
            taken_at,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            secret_key_id,
            secret_key_ephemeral: false,
            config: ConfigSnapshot::default(),
            schema: ConfigSnapshot::default(),
            data: crate::profile::DataSnapshot::default(),
            traffic: None,
            traffic_errors: Vec::new(),
            load: None,
            access: None,
            access_errors: Vec::new(),
        }
    }
}

/// The config facet of a snapshot: every file read, and every source that could not be.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ConfigSnapshot {
    pub files: Vec<ConfigFile>,
    #[serde(default)]
    pub errors: Vec<SourceError>,
}

impl ConfigSnapshot {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.errors.is_empty()
    }
}

/// One configuration file, flattened into keyed leaf values.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ConfigFile {
    /// Path below the glob's fixed prefix: what files are paired by across environments.
    pub path: String,
    /// Path relative to envparity.toml's folder, for locations in reports.
    pub source: String,
    pub format: Format,
    /// Values outside any Kubernetes object.
    #[serde(default, skip_serializing_if = "Entries::is_empty")]
    pub entries: Entries,
    /// Kubernetes objects, paired across environments by kind/namespace/name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Yaml,
    Json,
    Toml,
    Ini,
    Dotenv,
    Properties,
    /// A database schema read from its catalog.
    Schema,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
            Format::Toml => "TOML",
            Format::Ini => "INI",
            Format::Dotenv => ".env",
            Format::Properties => "Java properties",
            Format::Schema => "database schema",
        }
    }
}

/// A Kubernetes object: a document with apiVersion, kind and metadata.name.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Resource {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// Line of the document's first key.
    pub line: u32,
    pub entries: Entries,
}

impl Resource {
    /// `Kind/namespace/name`, or `Kind/name` when the object names no namespace.
    pub fn id(&self) -> String {
        // Written piece by piece: this runs for every object of an estate, several times.
        let namespace = self.namespace.as_deref();
        let mut id = String::with_capacity(
            self.kind.len() + namespace.map_or(0, |ns| ns.len() + 1) + self.name.len() + 1,
        );
        id.push_str(&self.kind);
        id.push('/');
        if let Some(ns) = namespace {
            id.push_str(ns);
            id.push('/');
        }
        id.push_str(&self.name);
        id
    }
}

/// A file's or an object's leaves, in document order.
///
/// Their key paths are held end to end in one text, not in a box each: an estate has
/// millions of leaves, and a box per path cost 16 bytes in the entry, an allocation, and
/// the allocator's rounding (~20 MB of fresh memory per bench environment). In JSON it is
/// a list of `{"path", "line", "value"}`.
#[derive(Clone, Default, PartialEq)]
pub struct Entries {
    /// Every entry's path, one after the other.
    paths: String,
    list: Vec<Entry>,
}

/// One leaf's line and value, as held; its path is in its [`Entries`]' text. Read as an
/// [`EntryRef`], which has all three.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    /// Where the path ends in the list's text; it starts where the one before ends.
    path_end: u32,
    line: u32,
    value: Value,
}

/// One leaf: a key path within its file or object (`server.timeout`,
/// `spec.template.spec.containers[name=api].image`, `LOG_LEVEL`), where it is, and its
/// value.
#[derive(Clone, Copy, Debug)]
pub struct EntryRef<'a> {
    pub path: &'a str,
    pub line: u32,
    pub value: &'a Value,
}

impl<'a> EntryRef<'a> {
    fn of(path: &'a str, entry: &'a Entry) -> EntryRef<'a> {
        EntryRef {
            path,
            line: entry.line,
            value: &entry.value,
        }
    }
}

impl Entries {
    pub const fn new() -> Entries {
        Entries {
            paths: String::new(),
            list: Vec::new(),
        }
    }

    /// Room for `entries` leaves whose paths together take `path_bytes`.
    pub fn with_capacity(entries: usize, path_bytes: usize) -> Entries {
        Entries {
            paths: String::with_capacity(path_bytes),
            list: Vec::with_capacity(entries),
        }
    }

    pub fn push(&mut self, path: &str, line: u32, value: Value) {
        self.paths.push_str(path);
        let path_end = u32::try_from(self.paths.len())
            .expect("the key paths of one file or object fit in 4 GiB");
        self.list.push(Entry {
            path_end,
            line,
            value,
        });
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// How many entries there is room for.
    pub fn capacity(&self) -> usize {
        self.list.capacity()
    }

    pub fn get(&self, index: usize) -> Option<EntryRef<'_>> {
        let entry = self.list.get(index)?;
        let start = match index {
            0 => 0,
            _ => self.list[index - 1].path_end as usize,
        };
        Some(EntryRef::of(
            &self.paths[start..entry.path_end as usize],
            entry,
        ))
    }

    pub fn iter(&self) -> EntriesIter<'_> {
        EntriesIter {
            rest: &self.paths,
            start: 0,
            list: self.list.iter(),
        }
    }

    /// Every entry's value, to change in place (paths stay as they are).
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Value> {
        self.list.iter_mut().map(|entry| &mut entry.value)
    }

    /// These entries moved to lists of exactly their size, `self` left empty with its
    /// room: a snapshot keeps millions of entries, and spare room is fresh memory the
    /// kernel zeroes for nothing.
    pub fn take_exactly_sized(&mut self) -> Entries {
        let mut list = Vec::with_capacity(self.list.len());
        list.append(&mut self.list);
        let paths = String::from(self.paths.as_str());
        self.paths.clear();
        Entries { paths, list }
    }
}

/// The entries of an [`Entries`], in order, each with its path.
#[derive(Clone, Debug)]
pub struct EntriesIter<'a> {
    /// The text from the next entry's path on.
    rest: &'a str,
    /// Where `rest` starts in the whole text.
    start: usize,
    list: std::slice::Iter<'a, Entry>,
}

impl<'a> Iterator for EntriesIter<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        let entry = self.list.next()?;
        let end = entry.path_end as usize;
        // Split off the front: one bounds check, where slicing the whole text makes three.
        let (path, rest) = self.rest.split_at(end - self.start);
        self.rest = rest;
        self.start = end;
        Some(EntryRef::of(path, entry))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.list.size_hint()
    }
}

impl ExactSizeIterator for EntriesIter<'_> {}

impl<'a> IntoIterator for &'a Entries {
    type Item = EntryRef<'a>;
    type IntoIter = EntriesIter<'a>;

    fn into_iter(self) -> EntriesIter<'a> {
        self.iter()
    }
}

impl<P: AsRef<str>> FromIterator<(P, u32, Value)> for Entries {
    fn from_iter<I: IntoIterator<Item = (P, u32, Value)>>(items: I) -> Entries {
        let mut entries = Entries::new();
        for (path, line, value) in items {
            entries.push(path.as_ref(), line, value);
        }
        entries
    }
}

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|e| (e.path, e.line, e.value)))
            .finish()
    }
}

/// An entry as JSON spells it.
#[derive(Serialize, Deserialize)]
struct EntryJson<'a, V> {
    #[serde(borrow)]
    path: std::borrow::Cow<'a, str>,
    line: u32,
    value: V,
}

impl Serialize for Entries {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(|e| EntryJson {
            path: std::borrow::Cow::Borrowed(e.path),
            line: e.line,
            value: e.value,
        }))
    }
}

/// Reads the list straight into one text and one list (snapshots hold millions).
struct EntriesVisitor;

impl<'de> serde::de::Visitor<'de> for EntriesVisitor {
    type Value = Entries;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of entries (path, line, value)")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Entries, A::Error> {
        let mut entries = Entries::with_capacity(seq.size_hint().unwrap_or(0), 0);
        while let Some(e) = seq.next_element::<EntryJson<'de, Value>>()? {
            entries.push(&e.path, e.line, e.value);
        }
        Ok(entries)
    }
}

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(EntriesVisitor)
    }
}

/// A leaf value. Maps and lists of objects are flattened into paths; a list of scalars
/// stays one value.
///
/// In JSON (snapshots are large, so the form is compact): `null`, `true`, a string as a
/// string, an integer that fits i64 as a number, any other number as `{"n": "1.5"}`, a
/// list as an array, an empty map as `{}`, a secret as `{"hmac": "…", "around": "…"}`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Canonical decimal text (`1e3` and `1000.0` both read `1000`).
    Number(Text),
    String(Text),
    List(Vec<Value>),
    /// An empty map (`{}`), which would otherwise vanish when flattened.
    EmptyMap,
    /// Boxed: secrets are few, and the box keeps every other value at 32 bytes.
    Secret(Box<SecretValue>),
}

/// A value's text. Most configuration values are short (`30s`, `info`, `8080`): held
/// inline up to 24 bytes, a leaf's value costs no allocation (a snapshot holds millions).
pub type Text = compact_str::CompactString;

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::String(text) => s.serialize_str(text),
            Value::Number(n) => match n.parse::<i64>() {
                Ok(i) if i.to_string() == *n => s.serialize_i64(i),
                _ => {
                    let mut map = s.serialize_map(Some(1))?;
                    map.serialize_entry("n", n)?;
                    map.end()
                }
            },
            Value::List(items) => items.serialize(s),
            Value::EmptyMap => s.serialize_map(Some(0))?.end(),
            Value::Secret(secret) => secret.serialize(s),
        }
    }
}

/// Reads the compact form directly (no intermediate buffering: snapshots hold millions
/// of values).
struct ValueVisitor;

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a snapshot value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Number(compact_str::format_compact!("{i}")))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(Value::Number(compact_str::format_compact!("{u}")))
    }

    fn visit_str<E>(self, text: &str) -> Result<Value, E> {
        Ok(Value::String(Text::new(text)))
    }

    fn visit_string<E>(self, text: String) -> Result<Value, E> {
        Ok(Value::String(Text::from(text)))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let (mut n, mut hmac, mut around) = (None, None, None);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "n" => n = Some(map.next_value::<String>()?),
                "hmac" => hmac = Some(map.next_value::<String>()?),
                "around" => around = Some(map.next_value::<String>()?),
                other => {
                    return Err(serde::de::Error::custom(format!(
                        "unknown value field `{other}`: a value is a number, a secret or {{}}"
                    )));
                }
            }
        }
        match (n, hmac, around) {
            (Some(n), None, None) => Ok(Value::Number(n.into())),
            (None, Some(hmac), around) => Ok(Value::Secret(Box::new(SecretValue { hmac, around }))),
            (None, None, None) => Ok(Value::EmptyMap),
            _ => Err(serde::de::Error::custom(
                "a value is a number, a secret or {}",
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

/// A secret, as it may appear in a snapshot: its keyed hash, never its value.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SecretValue {
    /// Hex HMAC-SHA256 of the secret under the project key.
    pub hmac: String,
    /// For a credential inside a larger value (a URL's password), the value with the
    /// secret replaced by `{secret}`, so the rest can still be compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub around: Option<String>,
}

/// How a secret is shown: the first 12 hex digits of its keyed hash.
pub fn secret_display(hmac: &str) -> String {
    format!("‹secret {}›", &hmac[..hmac.len().min(12)])
}

impl Value {
    /// The value as reports show it. Secrets show as their short hash.
    pub fn display(&self) -> String {
        match self {
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.to_string(),
            Value::EmptyMap => "{}".to_string(),
            Value::List(items) => {
                let parts: Vec<String> = items.iter().map(Value::display).collect();
                format!("[{}]", parts.join(", "))
            }
            Value::Secret(secret) => {
                let shown = secret_display(&secret.hmac);
                match &secret.around {
                    Some(around) => around.replace("{secret}", &shown),
                    None => shown,
                }
            }
        }
    }

    pub fn is_secret(&self) -> bool {
        match self {
            Value::Secret(_) => true,
            Value::List(items) => items.iter().any(Value::is_secret),
            _ => false,
        }
    }
}

/// A source that could not be read: reported with where and what, never fatal to the run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SourceError {
    /// Path relative to envparity.toml's folder.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// What was wrong. Never contains a value that could be a secret.
    pub message: String,
    /// For a config file: its path below the glob's fixed prefix, so the comparison knows
    /// the file exists on this side (and does not also call it missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_each_path_with_its_line_and_value() {
        let written = [
            ("server.timeout", 3, Value::String("30s".into())),
            ("$", 1, Value::Null),
            ("data[\"grüße.yaml\"]", 7, Value::Number("1".into())),
            ("", 9, Value::EmptyMap),
            ("spec.containers[name=api].image", 12, Value::Bool(true)),
        ];
        let entries: Entries = written.iter().cloned().collect();
        let read: Vec<(&str, u32, &Value)> =
            entries.iter().map(|e| (e.path, e.line, e.value)).collect();
        let expected: Vec<(&str, u32, &Value)> =
            written.iter().map(|(p, l, v)| (*p, *l, v)).collect();
        assert_eq!(read, expected);
        assert_eq!(entries.len(), written.len());
        for (i, (path, line, value)) in written.iter().enumerate() {
            let e = entries.get(i).unwrap();
            assert_eq!(
                (e.path, e.line, e.value),
                (*path, *line, value),
                "entry {i}"
            );
        }
        assert!(entries.get(written.len()).is_none());

        // The JSON form is a list of objects, as it was when each entry held its path.
        let json = serde_json::to_string(&entries).unwrap();
        assert!(
            json.starts_with(r#"[{"path":"server.timeout","line":3,"value":"30s"},"#),
            "{json}"
        );
        let back: Entries = serde_json::from_str(&json).unwrap();
        assert_eq!(back, entries);
        let from_reader: Entries = serde_json::from_reader(json.as_bytes()).unwrap();
        assert_eq!(from_reader, entries);
        assert!(serde_json::from_str::<Entries>(r#"[{"path":"a","value":1}]"#).is_err());

        // Moved out exactly sized; the scratch keeps its room and holds nothing.
        let mut scratch = Entries::with_capacity(64, 4096);
        for (path, line, value) in &written {
            scratch.push(path, *line, value.clone());
        }
        let exact = scratch.take_exactly_sized();
        assert_eq!(exact, entries);
        assert_eq!(exact.capacity(), written.len());
        assert!(scratch.is_empty() && scratch.iter().next().is_none());
        assert!(scratch.capacity() >= 64);
        scratch.push("after", 1, Value::Null);
        assert_eq!(scratch.get(0).unwrap().path, "after");
    }

    #[test]
    fn values_round_trip_through_their_compact_json() {
        let values = vec![
            Value::Null,
            Value::Bool(false),
            Value::Number("42".into()),
            Value::Number("-7".into()),
            Value::Number("1.5".into()),
            Value::Number("123456789012345678901234567890".into()),
            Value::Number("inf".into()),
            Value::String("42".into()),
            Value::String(String::new().into()),
            Value::List(vec![Value::String("a".into()), Value::Number("1".into())]),
            Value::EmptyMap,
            Value::Secret(Box::new(SecretValue {
                hmac: "ab".repeat(32),
                around: None,
            })),
            Value::Secret(Box::new(SecretValue {
                hmac: "cd".repeat(32),
                around: Some("x:{secret}@h".into()),
            })),
        ];
        let json = serde_json::to_string(&values).unwrap();
        assert!(
            json.starts_with(r#"[null,false,42,-7,{"n":"1.5"},"#),
            "{json}"
        );
        let back: Vec<Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, values);
        assert!(serde_json::from_str::<Value>(r#"{"x": 1}"#).is_err());
    }
}
