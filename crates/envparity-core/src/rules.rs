//! Rules: what the user says about expected differences, tokens, secrets and identity,
//! compiled from envparity.toml, plus the baseline of accepted drift.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::date::Date;
use crate::finding::Severity;
use crate::pattern::KeyPattern;

/// Key-name patterns whose values are secrets, when envparity.toml names none.
pub const DEFAULT_SECRET_PATTERNS: &[&str] = &[
    "*password*",
    "*passwd*",
    "*secret*",
    "*token*",
    "*_key",
    "*api_key*",
    "*apikey*",
    "*credential*",
    "*private_key*",
    "*access_key*",
    "*signing_key*",
    "*encryption_key*",
    "*master_key*",
    "*secret_key*",
    "*passphrase*",
    "*salt*",
    "pwd",
    "*_pwd",
    "auth",
    "authorization",
    "*_auth",
    "*dsn*",
    "*webhook*",
];

/// Name endings that mark a reference to a secret, or a setting about one, rather than the
/// secret itself: `secretKeyRef`, `secretName`, `DB_PASSWORD_FILE`, `token_ttl`. Checked on
/// the lower-cased name with `-`/`_` removed.
pub const NOT_SECRET_SUFFIXES: &[&str] = &[
    "ref", "refs", "name", "names", "file", "path", "ttl", "enabled", "length", "expiry",
    "expires", "timeout", "header", "type", "mode",
];

/// Field names that never hold a secret value themselves, even inside a secret's subtree
/// (Kubernetes secret volumes and projections: `secret: {secretName, items: [{key, path}]}`).
pub const NOT_SECRET_NAMES: &[&str] = &[
    "key",
    "items",
    "optional",
    "defaultmode",
    "kind",
    "apiversion",
];

/// Fields that identify an object inside a list, tried in order: the first one present
/// and unique in every element of a list is used.
pub const DEFAULT_IDENTITY_KEYS: &[&str] = &[
    "name",
    "id",
    "key",
    "containerPort",
    "port",
    "mountPath",
    "ip",
    "host",
];

/// Scalar lists whose order matters; all other scalar lists compare as sets.
pub const DEFAULT_ORDERED_LISTS: &[&str] = &[
    "**.command",
    "**.args",
    "**.entrypoint",
    "**:command",
    "**:args",
];

/// Keys never compared: fields a cluster writes into live objects.
pub const DEFAULT_IGNORE: &[&str] = &[
    "**:metadata.creationTimestamp",
    "**:metadata.resourceVersion",
    "**:metadata.uid",
    "**:metadata.generation",
    "**:metadata.managedFields**",
    "**:metadata.annotations[\"kubectl.kubernetes.io/last-applied-configuration\"]",
    "**:metadata.annotations[\"deployment.kubernetes.io/revision\"]",
    "**:status",
    "**:spec.clusterIP",
    "**:spec.clusterIPs",
    "**:metadata.annotations[\"kubectl.kubernetes.io/restartedAt\"]",
    "**:spec.template.metadata.annotations[\"kubectl.kubernetes.io/restartedAt\"]",
    "**:status.**",
    "**:status[**",
];

/// A difference the team expects, with a reason.
#[derive(Clone, Debug)]
pub struct ExpectRule {
    pub key: KeyPattern,
    pub reason: String,
    pub owner: Option<String>,
    /// After this date the difference is drift again.
    pub expires: Option<Date>,
}

#[derive(Clone, Debug)]
pub struct SeverityRule {
    pub key: KeyPattern,
    pub severity: Severity,
}

#[derive(Clone, Debug)]
pub struct Rules {
    pub env_tokens: BTreeMap<String, Vec<String>>,
    pub secrets: Vec<KeyPattern>,
    /// Names never secret though they match `secrets` (added to [`NOT_SECRET_SUFFIXES`]).
    pub not_secrets: Vec<KeyPattern>,
    pub expect: Vec<ExpectRule>,
    pub identity_keys: Vec<String>,
    pub ordered_lists: Vec<KeyPattern>,
    pub ignore: Vec<KeyPattern>,
    pub severity: Vec<SeverityRule>,
    pub baseline: Baseline,
    /// Which data columns are personal or secret (`rules.sensitive`, `rules.not_sensitive`).
    pub sensitivity: crate::profile::Sensitivity,
    /// When a data difference becomes a finding (`[rules.data]`).
    pub data: DataThresholds,
    /// When a load run's difference from the reference's traffic is a finding (`[rules.load]`).
    pub load: LoadThresholds,
    /// `[access] pairs`: names that are one principal across environments, where the
    /// environment tokens do not tell (`["legacy_app", "shop_app_prod"]`).
    pub access_pairs: Vec<Vec<String>>,
}

/// `[rules.data]`: when a difference between two data profiles is worth a finding.
/// Rates and shares are fractions (0.05 = 5 percentage points).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DataThresholds {
    /// NULL-rate difference. A column never NULL on one side and NULL in at least
    /// `never_vs` of rows on the other is always a finding.
    pub null_rate: f64,
    /// Empty-string-rate difference (same `never_vs` rule).
    pub empty_rate: f64,
    /// "Never on one side, sometimes on the other" starts at this share.
    pub never_vs: f64,
    /// Kolmogorov–Smirnov distance of values (numbers, dates) or text lengths.
    pub ks: f64,
    /// Jensen–Shannon divergence of category mixes and value shapes.
    pub js: f64,
    /// Character-class share difference (non-ASCII, emoji, padded, control).
    pub char_class: f64,
    /// Smallest acceptable ratio of distinct counts (fewer/more) for category-like
    /// columns (at most `category_max_distinct` values).
    pub distinct_ratio: f64,
    pub category_max_distinct: u64,
    /// Smallest acceptable ratio of rows (QA/Production).
    pub row_ratio: f64,
}

impl Default for DataThresholds {
    fn default() -> Self {
        DataThresholds {
            null_rate: 0.05,
            empty_rate: 0.05,
            never_vs: 0.01,
            ks: 0.2,
            js: 0.15,
            char_class: 0.02,
            distinct_ratio: 0.5,
            category_max_distinct: 1000,
            row_ratio: 0.01,
        }
    }
}

/// `[rules.load]`: when a load run against the reference's traffic model is a finding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LoadThresholds {
    /// A step is past the knee when its p99 latency is above this many milliseconds
    /// (default: 3× the run's best p99 at low load, at least 100 ms).
    pub p99_limit_ms: Option<f64>,
    /// …or when more than this share of its requests failed (5xx or no answer).
    pub error_limit: f64,
    /// A route whose p99 under load is above the reference's times this is a finding.
    pub p99_factor: f64,
    /// A route whose failed share is above the reference's by more than this is a finding.
    pub error_margin: f64,
}

impl Default for LoadThresholds {
    fn default() -> Self {
        LoadThresholds {
            p99_limit_ms: None,
            error_limit: 0.01,
            p99_factor: 2.0,
            error_margin: 0.01,
        }
    }
}

fn compile(patterns: &[&str]) -> Vec<KeyPattern> {
    patterns
        .iter()
        .map(|p| KeyPattern::new(p).expect("built-in pattern"))
        .collect()
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            env_tokens: BTreeMap::new(),
            secrets: compile(DEFAULT_SECRET_PATTERNS),
            not_secrets: Vec::new(),
            expect: Vec::new(),
            identity_keys: DEFAULT_IDENTITY_KEYS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            ordered_lists: compile(DEFAULT_ORDERED_LISTS),
            ignore: compile(DEFAULT_IGNORE),
            severity: Vec::new(),
            baseline: Baseline::default(),
            sensitivity: crate::profile::Sensitivity::default(),
            data: DataThresholds::default(),
            load: LoadThresholds::default(),
            access_pairs: Vec::new(),
        }
    }
}

/// [`Rules::is_secret_name`] for many names: one scan for the secret patterns' literals
/// turns most names away before each pattern is tried on each spelling of the name (a
/// name no literal occurs in matches no pattern). See [`Rules::secret_names`].
#[derive(Clone, Debug)]
pub struct SecretNames<'r> {
    rules: &'r Rules,
    /// Every literal run of every secret pattern, in lower case; `None` when some pattern
    /// has none (`*`): then every name is tried in full.
    literals: Option<aho_corasick::AhoCorasick>,
    /// For each literal run, its longest stretch without `_`, matched without regard to
    /// ASCII case on the name as written. A run found in any spelling of an ASCII name
    /// has that stretch in the name itself: the spellings only lower the case and write
    /// `_` for separators or between camelCase words. Most names (`CART_QUEUE_PREFETCH`)
    /// are turned away here with no spelling made: three spellings cost ~2,500
    /// instructions a name, and estates hold tens of thousands of distinct names.
    /// `None` when `literals` is, or some run is only `_`.
    pieces: Option<aho_corasick::AhoCorasick>,
}

impl SecretNames<'_> {
    pub fn is_secret_name(&self, name: &str) -> bool {
        if name.is_ascii()
            && let Some(pieces) = &self.pieces
            && !pieces.is_match(name)
        {
            return false;
        }
        let spellings = Spellings::of(name);
        if let Some(literals) = &self.literals
            && ![&spellings.lower, &spellings.separated, &spellings.camel]
                .iter()
                .any(|spelling| literals.is_match(spelling.as_str()))
        {
            return false;
        }
        self.rules.is_secret_spelled(&spellings)
    }
}

/// The spellings of a name that the secret patterns are tried on.
struct Spellings {
    /// As written, lower-cased.
    lower: String,
    /// Lower-cased, with `-`, `.` and ` ` read as `_`.
    separated: String,
    /// camelCase split ([`snake_case`], which lower-cases too).
    camel: String,
}

impl Spellings {
    fn of(name: &str) -> Spellings {
        let lower = name.to_lowercase();
        let separated = lower
            .chars()
            .map(|c| if matches!(c, '-' | '.' | ' ') { '_' } else { c })
            .collect();
        Spellings {
            lower,
            separated,
            camel: snake_case(name),
        }
    }
}

impl Rules {
    /// A matcher answering [`is_secret_name`](Self::is_secret_name) faster, for callers
    /// asking about many names under the same rules.
    pub fn secret_names(&self) -> SecretNames<'_> {
        let mut runs = Vec::new();
        let mut every_pattern_has_one = true;
        for pattern in &self.secrets {
            let before = runs.len();
            runs.extend(
                pattern
                    .as_str()
                    .split(['*', '?'])
                    .filter(|run| !run.is_empty())
                    .map(str::to_lowercase),
            );
            every_pattern_has_one &= runs.len() > before;
        }
        let literals = every_pattern_has_one
            .then(|| aho_corasick::AhoCorasick::new(&runs).ok())
            .flatten();
        let pieces: Option<Vec<&str>> = runs
            .iter()
            .map(|run| {
                run.split('_')
                    .filter(|piece| !piece.is_empty())
                    .max_by_key(|piece| piece.len())
            })
            .collect();
        let pieces = literals.as_ref().and(pieces).and_then(|pieces| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(pieces)
                .ok()
        });
        SecretNames {
            rules: self,
            literals,
            pieces,
        }
    }

    /// Whether a key name (the last segment of a key, or a whole `.env` name) names a secret.
    /// Names are matched as written (lower-cased) and with `-`/`.` read as `_`, so `*_key`
    /// also catches `api-key` and `master.key`. camelCase names are split too
    /// (`signingKey` → `signing_key`), but not for the bare `*_key` pattern: Kubernetes is
    /// full of `topologyKey`, `routingKey`, `sortKey` that are no secrets.
    pub fn is_secret_name(&self, name: &str) -> bool {
        self.is_secret_spelled(&Spellings::of(name))
    }

    fn is_secret_spelled(&self, name: &Spellings) -> bool {
        if !self.secrets.iter().any(|p| {
            p.matches_lowercase_name(&name.lower)
                || p.matches_lowercase_name(&name.separated)
                || (!p.as_str().eq_ignore_ascii_case("*_key")
                    && p.matches_lowercase_name(&name.camel))
        }) {
            return false;
        }
        !self.is_reference_spelled(&name.lower, &name.camel)
    }

    /// Whether a name refers to a secret (or a setting about one) rather than holding one:
    /// `secretKeyRef`, `secretName`, `DB_PASSWORD_FILE`, `existingSecret`, `rules.not_secrets`.
    /// Such a name also stops a secret subtree: `secret: {secretName: tls}` holds no secret.
    pub fn is_reference_name(&self, name: &str) -> bool {
        self.is_reference_spelled(&name.to_lowercase(), &snake_case(name))
    }

    /// `lower`: the name lower-cased; `words`: in snake case (camelCase split). The
    /// suffixes are whole words (`tlsSecretName`, `DB_PASSWORD_FILE`), not letters: a
    /// squashed `secretprofile` ends in `file` but names a secret.
    fn is_reference_spelled(&self, lower: &str, words: &str) -> bool {
        let mut parts = words.split('_').filter(|w| !w.is_empty());
        let first = parts.next().unwrap_or("");
        let last = parts.next_back().unwrap_or(first);
        let squashed: String = lower.chars().filter(|c| *c != '_' && *c != '-').collect();
        NOT_SECRET_SUFFIXES.contains(&last)
            || first == "existing"
            || NOT_SECRET_NAMES.contains(&squashed.as_str())
            || self
                .not_secrets
                .iter()
                .any(|p| p.matches_lowercase_name(lower))
    }

    pub fn is_ordered_list(&self, key: &str) -> bool {
        self.ordered_lists.iter().any(|p| p.matches(key))
    }

    /// The first expect rule matching any of the keys, whether expired or not.
    pub fn expectation(&self, keys: &[&str]) -> Option<(usize, &ExpectRule)> {
        self.expect
            .iter()
            .enumerate()
            .find(|(_, rule)| keys.iter().any(|k| rule.key.matches(k)))
    }

    pub fn severity_override(&self, keys: &[&str]) -> Option<Severity> {
        self.severity
            .iter()
            .find(|rule| keys.iter().any(|k| rule.key.matches(k)))
            .map(|r| r.severity)
    }
}

/// `signingKey`, `api-key`, `master.key` → `signing_key`, `api_key`, `master_key`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    if name.is_ascii() {
        // The same rules byte by byte: names are almost always ASCII, and this runs on
        // every name the name cache has not seen.
        for b in name.bytes() {
            match b {
                b'-' | b'.' | b' ' => {
                    out.push('_');
                    previous_lower = false;
                }
                b'A'..=b'Z' => {
                    if previous_lower {
                        out.push('_');
                    }
                    out.push(char::from(b.to_ascii_lowercase()));
                    previous_lower = false;
                }
                _ => {
                    out.push(char::from(b));
                    previous_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
                }
            }
        }
        return out;
    }
    snake_case_chars(name)
}

/// [`snake_case`] character by character, for any text.
fn snake_case_chars(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c == '-' || c == '.' || c == ' ' {
            out.push('_');
            previous_lower = false;
        } else if c.is_uppercase() {
            if previous_lower {
                out.push('_');
            }
            out.extend(c.to_lowercase());
            previous_lower = false;
        } else {
            out.push(c);
            previous_lower = c.is_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// The version of the baseline file this build writes and reads.
pub const BASELINE_VERSION: u32 = 1;

/// The baseline file: drift a team has accepted for now, value by value.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    #[serde(default)]
    pub version: u32,
    #[serde(default)]
    pub entries: Vec<BaselineEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub key: String,
    /// The two environments, in report order.
    pub envs: [String; 2],
    /// SHA-256 of each side's displayed value (`-` when absent): a changed value is drift again.
    pub value_hashes: [String; 2],
    pub reason: String,
    pub added: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Date>,
}

/// The fingerprint a baseline keeps of a displayed value.
pub fn value_fingerprint(display: Option<&str>) -> String {
    match display {
        None => "-".to_string(),
        Some(text) => {
            let digest = Sha256::digest(text.as_bytes());
            digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
        }
    }
}

impl Baseline {
    /// The live entry accepting exactly these values, if any.
    pub fn accepts(
        &self,
        key: &str,
        envs: [&str; 2],
        values: [Option<&str>; 2],
        today: Date,
    ) -> Option<&BaselineEntry> {
        if self.entries.is_empty() {
            return None;
        }
        let hashes = [value_fingerprint(values[0]), value_fingerprint(values[1])];
        self.entries.iter().find(|e| {
            e.key == key
                && e.envs[0] == envs[0]
                && e.envs[1] == envs[1]
                && e.value_hashes == hashes
                && e.expires.is_none_or(|d| d >= today)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name of three pieces, each from `pieces`.
    fn names_of_three(pieces: &[&str]) -> Vec<String> {
        let mut names = Vec::new();
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    names.push(format!("{a}{b}{c}"));
                }
            }
        }
        names
    }

    #[test]
    fn snake_case_reads_ascii_names_as_the_character_rules_do() {
        assert_eq!(snake_case("signingKey"), "signing_key");
        assert_eq!(snake_case("api-key"), "api_key");
        assert_eq!(snake_case("master.key"), "master_key");
        assert_eq!(snake_case("DB_PASSWORD"), "db_password");
        let pieces = ["a", "Z", "9", "-", ".", " ", "_", "Key", "ID", "x1Y", "~"];
        for name in names_of_three(&pieces) {
            assert_eq!(snake_case(&name), snake_case_chars(&name), "{name}");
        }
        assert_eq!(snake_case("ÄpfelKey"), "äpfel_key");
    }

    #[test]
    fn the_secret_name_matcher_answers_like_the_rules() {
        let pieces = [
            "db", "password", "Pass", "word", "api", "-", "_", ".", " ", "Key", "key", "token",
            "Secret", "Ref", "name", "auth", "x", "DSN", "salt", "pwd", "FILE", "existing",
        ];
        let mut rules = Rules::default();
        rules.secrets.push(KeyPattern::new("stripe*").unwrap());
        let names = rules.secret_names();
        let mut secret = 0;
        for name in names_of_three(&pieces) {
            let expected = rules.is_secret_name(&name);
            assert_eq!(names.is_secret_name(&name), expected, "{name}");
            // The flattener relies on it: a secret name is never a reference name.
            assert!(!(expected && rules.is_reference_name(&name)), "{name}");
            secret += usize::from(expected);
        }
        // Both answers occur, so the comparison means something.
        assert!(secret > 1000 && secret < 9000, "{secret}");
        assert!(names.is_secret_name("StripeAccount"));
        // Runs found only once a spelling writes `_`: between camelCase words, for a
        // separator.
        for name in ["signingKey", "DB-API-KEY", "master.key", "x PassWord"] {
            assert!(names.is_secret_name(name), "{name}");
        }
        assert!(!names.is_secret_name("CART_QUEUE_PREFETCH_101"));
    }

    #[test]
    fn a_pattern_of_underscores_turns_the_quick_check_off() {
        let rules = Rules {
            secrets: vec![
                KeyPattern::new("*a_b*").unwrap(),
                KeyPattern::new("*__*").unwrap(),
            ],
            ..Rules::default()
        };
        let names = rules.secret_names();
        assert!(names.pieces.is_none());
        for name in ["aB", "a-b", "x--y", "x__y", "ab", "x_y"] {
            assert_eq!(
                names.is_secret_name(name),
                rules.is_secret_name(name),
                "{name}"
            );
        }
        assert!(names.is_secret_name("x--y") && names.is_secret_name("aB"));
    }
}
