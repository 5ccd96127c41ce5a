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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<Entry>,
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
    pub entries: Vec<Entry>,
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

/// One leaf: a key path within its file or object, where it is, and its value.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// `server.timeout`, `spec.template.spec.containers[name=api].image`, `LOG_LEVEL`.
    pub path: Box<str>,
    pub line: u32,
    pub value: Value,
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
