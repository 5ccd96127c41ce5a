//! Data profiles: what a table's data looks like, without any row leaving the database.
//!
//! A profile holds counts, rates, sketches and shapes. Raw values (quantiles, min/max,
//! top values) are kept only for columns that are not sensitive; [`ColumnProfile::redact`]
//! is the one place that enforces it, and every constructor goes through it.

use serde::{Deserialize, Serialize};

use crate::sketch::{Hll, Reservoir, SpaceSaving, stable_hash};
use crate::snapshot::SourceError;

/// The data facet of a snapshot: one profile per database or file source.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct DataSnapshot {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<DatabaseProfile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<SourceError>,
}

impl DataSnapshot {
    pub fn is_empty(&self) -> bool {
        self.databases.is_empty() && self.errors.is_empty()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DatabaseProfile {
    /// What databases are paired by across environments.
    pub name: String,
    /// Where it was read, without credentials (`postgres://app@db:5432/shop`, a file path).
    pub source: String,
    /// `PostgreSQL 15.8`, `MariaDB 10.11.14`, `SQLite 3.46.0`, `CSV`, `Parquet`.
    pub engine: String,
    pub tables: Vec<TableProfile>,
}

/// How a table's figures were computed.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProfileMode {
    /// Aggregates ran as SQL in the database.
    Pushdown,
    /// Rows were streamed to envparity and summarized by its sketches.
    Streaming,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TableProfile {
    /// `schema.table` (or the file name for CSV and Parquet).
    pub name: String,
    pub rows: u64,
    /// False when `rows` is the planner's estimate.
    pub rows_exact: bool,
    pub mode: ProfileMode,
    /// Rows the column figures come from, and what share of the table they are.
    pub profiled_rows: u64,
    pub sample_rate: f64,
    /// How the rows were read: `full scan`, `TABLESAMPLE SYSTEM (10 %)`, `COPY`.
    pub method: String,
    pub columns: Vec<ColumnProfile>,
    /// Set when the table could not be profiled; the run goes on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    Number,
    /// Dates and timestamps; quantiles are seconds since 1970-01-01 UTC.
    Temporal,
    Text,
    Boolean,
    Binary,
    Other,
}

impl ColumnKind {
    /// Whether values have an order worth quantiles.
    pub fn is_ordered(self) -> bool {
        matches!(self, ColumnKind::Number | ColumnKind::Temporal)
    }
}

/// Character classes of a text column's non-null values.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CharClasses {
    /// Non-null text values examined.
    pub values: u64,
    pub non_ascii: u64,
    pub emoji: u64,
    /// Leading or trailing whitespace.
    pub padded: u64,
    /// Tabs, newlines and other control characters inside.
    pub control: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ColumnProfile {
    pub name: String,
    /// As the database declares it.
    pub data_type: String,
    pub kind: ColumnKind,
    /// Why the column is treated as personal or secret data; `None` if it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<String>,
    /// Values examined, NULLs included.
    pub values: u64,
    pub nulls: u64,
    /// Empty strings (text columns).
    pub empty: u64,
    pub distinct: u64,
    /// False when `distinct` is a sketch's estimate.
    pub distinct_exact: bool,
    /// The distinct-count sketch, for merging profiles (streaming mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hll: Option<Hll>,
    /// p0..p100 of the values (numbers, dates); empty for sensitive columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quantiles: Vec<f64>,
    /// p0..p100 of text lengths in characters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub length_quantiles: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chars: Option<CharClasses>,
    /// Value shapes (`Aa 9`: letters and digits collapsed to classes) with counts, most
    /// frequent first; rare shapes pooled as `…`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shapes: Vec<(String, u64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    /// Most frequent values with counts (not for sensitive columns).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top: Vec<(String, u64)>,
}

impl ColumnProfile {
    /// Drops every raw value if the column is sensitive. Every way of building a profile
    /// ends here.
    pub fn redact(&mut self) {
        if self.sensitive.is_some() {
            self.quantiles.clear();
            self.min = None;
            self.max = None;
            self.top.clear();
        }
    }

    pub fn null_rate(&self) -> f64 {
        ratio(self.nulls, self.values)
    }

    pub fn empty_rate(&self) -> f64 {
        ratio(self.empty, self.values - self.nulls.min(self.values))
    }
}

pub fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// How many shapes a column keeps before pooling the rest.
const SHAPES_KEPT: usize = 64;
/// Longest shape kept; longer ones end in `…`.
const SHAPE_CHARS: usize = 24;
/// Top values kept per column.
pub const TOP_VALUES: usize = 10;
/// Values sampled per column to decide whether it holds personal data.
const SENSITIVITY_SAMPLE: u64 = 10_000;

/// `John Smith` → `Aa Aa`, `555-1234` → `9-9`, `ab12@x.io` → `a9@a.a`.
/// The shape class of each ASCII character (the table `shape_of` would compute).
const ASCII_SHAPE: [u8; 128] = {
    let mut table = [b'*'; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c.is_ascii_digit() {
            b'9'
        } else if c.is_ascii_uppercase() {
            b'A'
        } else if c.is_ascii_lowercase() {
            b'a'
        } else if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            b' '
        } else if c.is_ascii_punctuation() {
            c
        } else {
            b'*'
        };
        b += 1;
    }
    table
};

pub fn shape_of(value: &str, out: &mut String) {
    out.clear();
    let mut last: Option<char> = None;
    let mut chars = 0;
    for c in value.chars() {
        let class = if c.is_ascii() {
            ASCII_SHAPE[c as usize] as char
        } else if c.is_alphabetic() {
            if c.is_uppercase() { 'A' } else { 'a' }
        } else if c.is_whitespace() {
            ' '
        } else if c.is_ascii_punctuation() {
            c
        } else {
            // Symbols, emoji and the like: one class, never the character itself.
            '*'
        };
        // Runs collapse: `Aaaa` and `Aa` are one shape. Upper then lower is one word.
        let same_run = match (last, class) {
            (Some(l), c) if l == c => true,
            (Some('A'), 'a') => true,
            _ => false,
        };
        if same_run {
            if class == 'a' && last == Some('A') && !out.ends_with('a') {
                out.push('a');
            }
            continue;
        }
        if chars == SHAPE_CHARS {
            out.push('…');
            return;
        }
        out.push(class);
        chars += 1;
        last = Some(class);
    }
}

/// Classifies a value's characters into `classes`.
pub fn count_chars(value: &str, classes: &mut CharClasses) {
    classes.values += 1;
    if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
        classes.padded += 1;
    }
    if value.is_ascii() {
        if value.bytes().any(|b| b.is_ascii_control()) {
            classes.control += 1;
        }
        return;
    }
    classes.non_ascii += 1;
    if value.chars().any(is_emoji) {
        classes.emoji += 1;
    }
    if value.chars().any(char::is_control) {
        classes.control += 1;
    }
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0xFE0F)
}

/// What a value looks like, for deciding whether a column holds personal data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lookalike {
    Email,
    Phone,
    CardNumber,
    Iban,
    IpAddress,
    NationalId,
    FreeText,
    Credential,
}

impl Lookalike {
    const ALL: [Lookalike; 8] = [
        Lookalike::Email,
        Lookalike::Phone,
        Lookalike::CardNumber,
        Lookalike::Iban,
        Lookalike::IpAddress,
        Lookalike::NationalId,
        Lookalike::FreeText,
        Lookalike::Credential,
    ];

    fn name(self) -> &'static str {
        match self {
            Lookalike::Email => "email addresses",
            Lookalike::Phone => "phone numbers",
            Lookalike::CardNumber => "card numbers (Luhn-valid)",
            Lookalike::Iban => "IBANs",
            Lookalike::IpAddress => "IP addresses",
            Lookalike::NationalId => "national id numbers",
            Lookalike::FreeText => "free text",
            Lookalike::Credential => {
                "credentials (a URL's password, `password=`, a bearer token, a key)"
            }
        }
    }

    fn matches(self, v: &str) -> bool {
        let v = v.trim();
        match self {
            Lookalike::Email => {
                let Some((local, domain)) = v.split_once('@') else {
                    return false;
                };
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !v.contains(char::is_whitespace)
            }
            Lookalike::Phone => {
                let digits = v.bytes().filter(u8::is_ascii_digit).count();
                !looks_like_date(v)
                    && (7..=15).contains(&digits)
                    && v.bytes()
                        .all(|b| b.is_ascii_digit() || b" -.()+/".contains(&b))
                    && (v.starts_with('+') || v.bytes().any(|b| b" -.()/".contains(&b)))
            }
            Lookalike::CardNumber => {
                let digits: Vec<u8> = v
                    .bytes()
                    .filter(u8::is_ascii_digit)
                    .map(|b| b - b'0')
                    .collect();
                (13..=19).contains(&digits.len())
                    && v.bytes()
                        .all(|b| b.is_ascii_digit() || b == b' ' || b == b'-')
                    && luhn_valid(&digits)
            }
            Lookalike::Iban => iban_valid(v),
            Lookalike::IpAddress => v.parse::<std::net::IpAddr>().is_ok(),
            Lookalike::NationalId => {
                // US SSN (123-45-6789) and UK NINO (AB123456C) shapes.
                let b = v.as_bytes();
                (b.len() == 11
                    && b[3] == b'-'
                    && b[6] == b'-'
                    && b.iter()
                        .enumerate()
                        .all(|(i, c)| i == 3 || i == 6 || c.is_ascii_digit()))
                    || (b.len() == 9
                        && b[..2].iter().all(u8::is_ascii_uppercase)
                        && b[2..8].iter().all(u8::is_ascii_digit)
                        && b[8].is_ascii_uppercase())
            }
            Lookalike::FreeText => v.split_whitespace().count() >= 6,
            Lookalike::Credential => looks_like_credential(v),
        }
    }
}

/// A value holding a credential, by the same finder the config facet hashes them with,
/// under the built-in secret names (`password=…`, `token=…`).
fn looks_like_credential(v: &str) -> bool {
    static DEFAULT_RULES: std::sync::LazyLock<crate::rules::Rules> =
        std::sync::LazyLock::new(crate::rules::Rules::default);
    !crate::credentials::find_credentials(v, &|name| DEFAULT_RULES.is_secret_name(name)).is_empty()
}

/// `2024-10-04`, `04/10/2024`, `04.10.2024`: dates, whose digits and dashes would
/// otherwise read as phone numbers.
fn looks_like_date(v: &str) -> bool {
    let b = v.as_bytes();
    let digits_at =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    (b.len() >= 10 && digits_at(0..4) && b[4] == b'-' && digits_at(5..7) && b[7] == b'-')
        || (b.len() == 10
            && digits_at(0..2)
            && matches!(b[2], b'/' | b'.' | b'-')
            && digits_at(3..5)
            && b[5] == b[2]
            && digits_at(6..10))
}

pub fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// ISO 13616: two letters, two check digits, up to 30 letters and digits, mod 97 = 1.
pub fn iban_valid(v: &str) -> bool {
    let compact: Vec<u8> = v.bytes().filter(|b| *b != b' ').collect();
    if !(15..=34).contains(&compact.len())
        || !compact[..2].iter().all(u8::is_ascii_uppercase)
        || !compact[2..4].iter().all(u8::is_ascii_digit)
        || !compact.iter().all(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    let rearranged = compact[4..].iter().chain(&compact[..4]);
    let mut rem: u32 = 0;
    for &b in rearranged {
        let n = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b.to_ascii_uppercase() - b'A') + 10
        };
        rem = if n >= 10 {
            (rem * 100 + n) % 97
        } else {
            (rem * 10 + n) % 97
        };
    }
    rem == 1
}

/// Words of a column name that mark personal or secret data on their own.
const SENSITIVE_WORDS: &[&str] = &[
    "email",
    "mail",
    "phone",
    "mobile",
    "tel",
    "telephone",
    "fax",
    "address",
    "street",
    "zip",
    "zipcode",
    "postcode",
    "postal",
    "ssn",
    "passport",
    "dob",
    "birthday",
    "birthdate",
    "iban",
    "card",
    "cvv",
    "cvc",
    "ip",
    "password",
    "passwd",
    "secret",
    "token",
    "salary",
    "surname",
    "firstname",
    "lastname",
    "fullname",
    "username",
    "nino",
    "latitude",
    "longitude",
];

/// Word pairs that do (`first_name`, `date_of_birth` as `date`+`birth`).
const SENSITIVE_PAIRS: &[(&str, &str)] = &[
    ("first", "name"),
    ("last", "name"),
    ("full", "name"),
    ("given", "name"),
    ("family", "name"),
    ("middle", "name"),
    ("maiden", "name"),
    ("user", "name"),
    ("display", "name"),
    ("contact", "name"),
    ("customer", "name"),
    ("birth", "date"),
    ("of", "birth"),
    ("national", "id"),
    ("tax", "id"),
    ("social", "security"),
    ("account", "number"),
    ("credit", "card"),
    ("api", "key"),
    ("private", "key"),
];

/// Column names that hold free text people type.
const FREE_TEXT_WORDS: &[&str] = &["notes", "note", "comment", "comments", "bio", "message"];

/// Tables whose bare `name` column names a person.
const PEOPLE_TABLES: &[&str] = &[
    "customer",
    "customers",
    "user",
    "users",
    "person",
    "people",
    "persons",
    "employee",
    "employees",
    "contact",
    "contacts",
    "member",
    "members",
    "patient",
    "patients",
    "account",
    "accounts",
    "client",
    "clients",
];

/// `firstName`, `first_name`, `First-Name` → `["first", "name"]`.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Why a column's name marks it as personal or secret data, if it does.
pub fn sensitive_by_name(table: &str, column: &str) -> Option<String> {
    let w = words(column);
    let has = |x: &str| w.iter().any(|y| y == x);
    if let Some(word) = w.iter().find(|x| SENSITIVE_WORDS.contains(&x.as_str())) {
        return Some(format!("its name (`{word}`) marks personal or secret data"));
    }
    if let Some((x, y)) = SENSITIVE_PAIRS
        .iter()
        .find(|(x, y)| w.windows(2).any(|p| p[0] == *x && p[1] == *y))
    {
        return Some(format!("its name (`{x}_{y}`) marks personal data"));
    }
    if w.iter().any(|x| FREE_TEXT_WORDS.contains(&x.as_str())) {
        return Some("its name marks free text people type".to_string());
    }
    let table_last = table.rsplit('.').next().unwrap_or(table).to_lowercase();
    if w == ["name"] && PEOPLE_TABLES.contains(&table_last.as_str()) {
        return Some(format!("`name` in `{table_last}` names a person"));
    }
    if has("name") && w.len() == 2 && PEOPLE_TABLES.contains(&w[0].as_str()) {
        return Some("its name marks a person's name".to_string());
    }
    None
}

/// Counts how many sampled values look like each kind of personal data.
#[derive(Clone, Debug, Default)]
pub struct SensitivityProbe {
    sampled: u64,
    hits: [u64; Lookalike::ALL.len()],
}

impl SensitivityProbe {
    /// Looks at a non-null value, while fewer than the sample size have been seen.
    pub fn observe(&mut self, value: &str) {
        if self.sampled >= SENSITIVITY_SAMPLE || value.trim().is_empty() {
            return;
        }
        self.sampled += 1;
        for (i, kind) in Lookalike::ALL.iter().enumerate() {
            if kind.matches(value) {
                self.hits[i] += 1;
            }
        }
    }

    pub fn is_full(&self) -> bool {
        self.sampled >= SENSITIVITY_SAMPLE
    }

    /// Why the sampled values look personal: at least a fifth of them (and 3) look like
    /// one kind of personal data, or any one holds a credential.
    pub fn verdict(&self) -> Option<String> {
        Lookalike::ALL
            .iter()
            .zip(self.hits)
            .filter(|(kind, hits)| {
                (**kind == Lookalike::Credential && *hits >= 1)
                    || (*hits >= 3 && *hits * 5 >= self.sampled)
            })
            .max_by_key(|(_, hits)| *hits)
            .map(|(kind, hits)| {
                format!(
                    "{:.0} % of sampled values look like {}",
                    100.0 * hits as f64 / self.sampled as f64,
                    kind.name()
                )
            })
    }
}

/// Streaming profiler of one column: feed it every value, then [`finish`](Self::finish).
#[derive(Clone, Debug)]
pub struct ColumnProfiler {
    name: String,
    data_type: String,
    kind: ColumnKind,
    values: u64,
    nulls: u64,
    empty: u64,
    hll: Hll,
    numbers: Reservoir,
    lengths: Reservoir,
    chars: CharClasses,
    shapes: hashbrown::HashMap<String, u64>,
    pooled_shapes: u64,
    top: SpaceSaving,
    min: Option<(f64, String)>,
    max: Option<(f64, String)>,
    text_min: Option<String>,
    text_max: Option<String>,
    probe: SensitivityProbe,
    scratch: String,
}

impl ColumnProfiler {
    pub fn new(name: &str, data_type: &str, kind: ColumnKind) -> Self {
        // Seeded by name, so the same data gives the same profile.
        let seed = stable_hash(name.as_bytes());
        ColumnProfiler {
            name: name.to_string(),
            data_type: data_type.to_string(),
            kind,
            values: 0,
            nulls: 0,
            empty: 0,
            hll: Hll::default(),
            numbers: Reservoir::new(seed),
            lengths: Reservoir::new(seed ^ 1),
            chars: CharClasses::default(),
            shapes: hashbrown::HashMap::new(),
            pooled_shapes: 0,
            top: SpaceSaving::new(64),
            min: None,
            max: None,
            text_min: None,
            text_max: None,
            probe: SensitivityProbe::default(),
            scratch: String::new(),
        }
    }

    pub fn kind(&self) -> ColumnKind {
        self.kind
    }

    pub fn push_null(&mut self) {
        self.values += 1;
        self.nulls += 1;
    }

    /// A number or timestamp (seconds since 1970) and its text as the database gave it.
    pub fn push_number(&mut self, x: f64, text: &str) {
        self.values += 1;
        self.hll.insert(text.as_bytes());
        self.top.push(text);
        // Numbers can be card numbers or phone numbers; dates cannot be personal data
        // by their look alone (birth dates are caught by name).
        if self.kind != ColumnKind::Temporal && !self.probe.is_full() {
            self.probe.observe(text);
        }
        if x.is_nan() {
            return;
        }
        self.numbers.push(x);
        if self.min.as_ref().is_none_or(|(m, _)| x < *m) {
            self.min = Some((x, text.to_string()));
        }
        if self.max.as_ref().is_none_or(|(m, _)| x > *m) {
            self.max = Some((x, text.to_string()));
        }
    }

    /// Text (and anything profiled as its text: booleans, binary as hex).
    pub fn push_text(&mut self, value: &str) {
        self.values += 1;
        self.hll.insert(value.as_bytes());
        self.top.push(value);
        if value.is_empty() {
            self.empty += 1;
        }
        if !self.probe.is_full() {
            self.probe.observe(value);
        }
        if self.kind != ColumnKind::Text {
            return;
        }
        self.lengths.push(value.chars().count() as f64);
        count_chars(value, &mut self.chars);
        shape_of(value, &mut self.scratch);
        if let Some(count) = self.shapes.get_mut(self.scratch.as_str()) {
            *count += 1;
        } else if self.shapes.len() < SHAPES_KEPT * 4 {
            self.shapes.insert(self.scratch.clone(), 1);
        } else {
            self.pooled_shapes += 1;
        }
        if self.text_min.as_deref().is_none_or(|m| value < m) {
            self.text_min = Some(value.to_string());
        }
        if self.text_max.as_deref().is_none_or(|m| value > m) {
            self.text_max = Some(value.to_string());
        }
    }

    /// The profile, with raw values dropped if the column is sensitive.
    pub fn finish(self, table: &str, sensitivity: &Sensitivity) -> ColumnProfile {
        let sensitive = sensitivity.decide(table, &self.name, Some(&self.probe));
        let mut shapes: Vec<(String, u64)> = self.shapes.into_iter().collect();
        shapes.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        let pooled: u64 =
            self.pooled_shapes + shapes.iter().skip(SHAPES_KEPT).map(|s| s.1).sum::<u64>();
        shapes.truncate(SHAPES_KEPT);
        if pooled > 0 {
            shapes.push(("…".to_string(), pooled));
        }
        let distinct_exact = self.top.is_exact();
        let distinct = self
            .top
            .exact_distinct()
            .unwrap_or_else(|| self.hll.estimate());
        let is_text = self.kind == ColumnKind::Text;
        let (min, max) = if self.kind.is_ordered() {
            (self.min.map(|m| m.1), self.max.map(|m| m.1))
        } else if is_text {
            (self.text_min, self.text_max)
        } else {
            (None, None)
        };
        let mut profile = ColumnProfile {
            name: self.name,
            data_type: self.data_type,
            kind: self.kind,
            sensitive,
            values: self.values,
            nulls: self.nulls,
            empty: self.empty,
            distinct,
            distinct_exact,
            hll: Some(self.hll),
            quantiles: if self.kind.is_ordered() {
                self.numbers.percentiles()
            } else {
                Vec::new()
            },
            length_quantiles: if is_text {
                self.lengths.percentiles()
            } else {
                Vec::new()
            },
            chars: is_text.then_some(self.chars),
            shapes,
            min: min.map(|v| clip_value(&v)),
            max: max.map(|v| clip_value(&v)),
            top: self
                .top
                .top(TOP_VALUES)
                .into_iter()
                .map(|(v, c)| (clip_value(&v), c))
                .collect(),
        };
        profile.redact();
        profile
    }
}

/// Long values in a profile (top values, min, max) are cut to this many characters.
const VALUE_CHARS: usize = 80;

fn clip_value(v: &str) -> String {
    if v.chars().count() <= VALUE_CHARS {
        v.to_string()
    } else {
        let mut s: String = v.chars().take(VALUE_CHARS - 1).collect();
        s.push('…');
        s
    }
}

/// Decides which columns are sensitive: rules first (`rules.sensitive`,
/// `rules.not_sensitive`, matched against `table.column`), then the column's name, then
/// its sampled values.
#[derive(Clone, Debug, Default)]
pub struct Sensitivity {
    pub sensitive: Vec<crate::pattern::KeyPattern>,
    pub not_sensitive: Vec<crate::pattern::KeyPattern>,
}

impl Sensitivity {
    pub fn decide(
        &self,
        table: &str,
        column: &str,
        probe: Option<&SensitivityProbe>,
    ) -> Option<String> {
        let key = format!("{table}.{column}");
        if let Some(p) = self.sensitive.iter().find(|p| p.matches(&key)) {
            return Some(format!("rules.sensitive `{}`", p.as_str()));
        }
        if self.not_sensitive.iter().any(|p| p.matches(&key)) {
            return None;
        }
        sensitive_by_name(table, column).or_else(|| probe.and_then(SensitivityProbe::verdict))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(v: &str) -> String {
        let mut s = String::new();
        shape_of(v, &mut s);
        s
    }

    #[test]
    fn shapes_collapse_runs() {
        assert_eq!(shape("John Smith"), "Aa Aa");
        assert_eq!(shape("555-1234"), "9-9");
        assert_eq!(shape("ab12@x.io"), "a9@a.a");
        assert_eq!(shape("ORD-000123"), "A-9");
        assert_eq!(shape("Zoë 🎉"), "Aa *");
        assert_eq!(shape(""), "");
    }

    #[test]
    fn lookalikes() {
        assert!(Lookalike::Email.matches("ana@example.com"));
        assert!(!Lookalike::Email.matches("not an email"));
        assert!(Lookalike::Phone.matches("+44 20 7946 0958"));
        assert!(
            !Lookalike::Phone.matches("12345678"),
            "a plain number is not a phone"
        );
        assert!(
            !Lookalike::Phone.matches("2024-10-04"),
            "a date is not a phone"
        );
        assert!(
            !Lookalike::Phone.matches("04/10/2024"),
            "a date is not a phone"
        );
        assert!(Lookalike::CardNumber.matches("4111 1111 1111 1111"));
        assert!(!Lookalike::CardNumber.matches("4111 1111 1111 1112"));
        assert!(Lookalike::Iban.matches("GB82 WEST 1234 5698 7654 32"));
        assert!(!Lookalike::Iban.matches("GB82 WEST 1234 5698 7654 33"));
        assert!(Lookalike::IpAddress.matches("10.0.0.1"));
        assert!(Lookalike::NationalId.matches("078-05-1120"));
        assert!(Lookalike::FreeText.matches("please leave the parcel by the back door"));
    }

    #[test]
    fn names_mark_sensitive_columns() {
        assert!(sensitive_by_name("public.customers", "email").is_some());
        assert!(sensitive_by_name("public.customers", "firstName").is_some());
        assert!(sensitive_by_name("public.customers", "date_of_birth").is_some());
        assert!(sensitive_by_name("public.customers", "birth_date").is_some());
        assert!(sensitive_by_name("public.customers", "name").is_some());
        assert!(sensitive_by_name("public.products", "name").is_none());
        assert!(sensitive_by_name("public.orders", "total_cents").is_none());
        assert!(sensitive_by_name("public.orders", "shipping_address").is_some());
        assert!(sensitive_by_name("public.orders", "ip").is_some());
        assert!(sensitive_by_name("public.orders", "tip").is_none());
    }

    #[test]
    fn sensitive_columns_keep_no_raw_value() {
        let mut p = ColumnProfiler::new("contact", "text", ColumnKind::Text);
        for i in 0..100 {
            p.push_text(&format!("canary{i}@example.com"));
        }
        let profile = p.finish("public.t", &Sensitivity::default());
        assert!(profile.sensitive.as_deref().unwrap().contains("email"));
        let json = serde_json::to_string(&profile).unwrap();
        assert!(!json.contains("canary"), "{json}");
        assert_eq!(profile.distinct, 100);
        assert_eq!(profile.shapes[0], ("a9@a.a".to_string(), 100));
    }

    #[test]
    fn profiler_counts() {
        let mut p = ColumnProfiler::new("total", "integer", ColumnKind::Number);
        for i in 0..1000 {
            if i % 10 == 0 {
                p.push_null();
            } else {
                p.push_number(f64::from(i), &i.to_string());
            }
        }
        let profile = p.finish("public.orders", &Sensitivity::default());
        assert_eq!(profile.values, 1000);
        assert_eq!(profile.nulls, 100);
        assert!((profile.null_rate() - 0.1).abs() < 1e-9);
        assert_eq!(profile.min.as_deref(), Some("1"));
        assert_eq!(profile.max.as_deref(), Some("999"));
        assert_eq!(profile.quantiles.len(), 101);
        assert!((profile.distinct as f64 - 900.0).abs() < 30.0);
        assert!(!profile.distinct_exact);
    }

    #[test]
    fn char_classes() {
        let mut c = CharClasses::default();
        for v in ["plain", "Zoë", "party 🎉", " padded", "tab\there"] {
            count_chars(v, &mut c);
        }
        assert_eq!(
            c,
            CharClasses {
                values: 5,
                non_ascii: 2,
                emoji: 1,
                padded: 1,
                control: 1
            }
        );
    }
}
