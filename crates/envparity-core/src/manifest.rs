//! envparity.toml: the user's interface. Parsed from text here (no I/O); every error
//! carries the line and column of what was wrong.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use crate::date::Date;
use crate::finding::Severity;
use crate::pattern::KeyPattern;
use crate::rules::{self, ExpectRule, Rules, SeverityRule};

/// The file name envparity looks for in the current directory and its parents.
pub const MANIFEST_NAME: &str = "envparity.toml";

/// The whole of envparity.toml.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "envparity.toml")]
pub struct ManifestFile {
    /// The environments, by name (`qa`, `prod`, …) and their sources.
    #[serde(default)]
    pub environments: BTreeMap<String, EnvironmentDecl>,
    /// What differences are expected, which words name environments, what is secret.
    #[serde(default)]
    pub rules: RulesDecl,
    /// Route templates for the traffic facet, shared by all environments.
    #[serde(default)]
    pub traffic: TrafficDecl,
    /// The team's own access rules, shared by all environments.
    #[serde(default)]
    pub access: AccessDecl,
}

/// `[access]`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessDecl {
    /// Rego policy files (globs relative to this file) with `package envparity.access`
    /// and a `deny` set, evaluated over each environment's access model.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub policies: Vec<Spanned<String>>,
    /// Names that are one principal across environments where the environment tokens do
    /// not tell: `pairs = [["legacy_app", "shop_app_prod"]]`.
    #[serde(default)]
    pub pairs: Vec<Vec<String>>,
    /// Switches of your own, beside the built-in pack: a config key pattern (`*` within a
    /// segment, `**` across) and, optionally, the value (a glob; default: any true-ish
    /// value).
    #[serde(default)]
    pub switches: Vec<SwitchDecl>,
}

/// `[[access.switches]]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchDecl {
    /// The name findings carry (`open-registration`).
    pub rule: String,
    /// `app.yaml:features.open_registration`, `**:*.allow_anonymous`.
    #[schemars(with = "String")]
    pub key: Spanned<String>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub value: Option<Spanned<String>>,
}

/// `[traffic]`: how request paths become routes, when the inferred templates are not
/// what the team writes.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrafficDecl {
    /// Route templates (`/users/{id}/orders`, `/users/:id`, `GET /checkout`, `/static/*`);
    /// a literal segment beats a parameter, so `/users/me` and `/users/{id}` both work.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub routes: Vec<Spanned<String>>,
    /// An OpenAPI 3 or Swagger 2 file (YAML or JSON), relative to this file: its paths are
    /// route templates.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub openapi: Option<Spanned<String>>,
}

/// One environment and its sources.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentDecl {
    /// Globs of configuration files, relative to envparity.toml. Files are paired across
    /// environments by their path below the glob's fixed prefix (`qa/**` → paths below `qa/`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub config: Vec<Spanned<String>>,
    /// Marks Production: stricter rules apply, and it is never a target for writes or load.
    #[serde(default)]
    pub production: bool,
    /// Free text shown in reports.
    #[serde(default)]
    pub description: Option<String>,
    /// Databases and data files whose schema and data are compared: a URL
    /// (`postgres://…`, `mysql://…`, `sqlite:path`), a `.db`/`.sqlite`, `.csv` or
    /// `.parquet` path relative to envparity.toml, or `{ name, url }` when an environment
    /// has several. `${VAR}` reads an environment variable, so no password is written here.
    #[serde(default)]
    #[schemars(with = "Option<DatabasesSchema>")]
    pub database: Option<Spanned<DatabasesDecl>>,
    /// Access logs, globs relative to this file (plain or gzip): the traffic facet.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub traffic: Vec<Spanned<String>>,
    /// The nginx `log_format` string of those logs (default: nginx `combined`).
    #[serde(default)]
    pub log_format: Option<String>,
    /// An Apache `LogFormat` string, instead of `log_format`.
    #[serde(default)]
    pub apache_format: Option<String>,
    /// Load results of this environment (`envparity load … -o FILE`), globs relative to
    /// this file; several files are the shards of one run, merged. Compared with the
    /// reference environment's traffic model in the traffic facet.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub load: Vec<Spanned<String>>,
    /// The environment's base URL (`https://qa.shop.example`): what `envparity load ENV`
    /// sends to, and how a load target is recognised as this environment.
    #[serde(default)]
    pub url: Option<String>,
    /// A named log format instead: `auto` (the default: told from each file's first
    /// lines), `combined`, `common`, `alb`, `har`, `json`, or a JSON-lines preset
    /// (`envoy`, `traefik`, `caddy`, `nginx-json`, `generic`).
    #[serde(default)]
    pub traffic_input: Option<String>,
    /// Roles and grants kept as SQL (what `pg_dumpall --roles-only`, `pg_dump
    /// --schema-only` or MySQL `SHOW GRANTS` print), globs relative to this file: the
    /// access facet without a running server.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub access: Vec<Spanned<String>>,
    /// JSON-lines logs: which keys hold what, e.g.
    /// `time=start_time:start,method=method,target=path,status=code,duration=took:ms`.
    #[serde(default)]
    pub json_fields: Option<String>,
}

/// `database = "url"`, `database = ["url", …]` or `database = [{ name, url }, …]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum DatabasesDecl {
    One(String),
    Many(Vec<DatabaseItemDecl>),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum DatabaseItemDecl {
    Url(String),
    Named { name: String, url: String },
}

/// For the JSON Schema only.
#[derive(JsonSchema)]
#[allow(dead_code)]
#[serde(untagged)]
enum DatabasesSchema {
    One(String),
    Many(Vec<DatabaseItemSchema>),
}

#[derive(JsonSchema)]
#[allow(dead_code)]
#[serde(untagged)]
enum DatabaseItemSchema {
    Url(String),
    Named { name: String, url: String },
}

/// The `[rules]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesDecl {
    /// Per environment, the words that name it inside values and names. The environment's
    /// own name is always one of them. `qa-db` and `prod-db` are then env-equivalent.
    #[serde(default)]
    pub env_tokens: BTreeMap<String, Vec<String>>,
    /// Key-name globs (case-insensitive) whose values are secrets: hashed, never shown.
    /// Added to the built-in list (`*password*`, `*passwd*`, `*secret*`, `*token*`, `*_key`,
    /// `*credential*`, …); `not_secrets` turns a name off.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub secrets: Option<Vec<Spanned<String>>>,
    /// Key-name globs that are never secrets though they match `secrets`. Names ending in
    /// `Ref`, `Name`, `File`, `Path`, `TTL`, `Timeout`… (references to secrets, settings about
    /// them) are never secrets already.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub not_secrets: Vec<Spanned<String>>,
    /// Expected differences, each with a reason.
    #[serde(default)]
    pub expect: Vec<ExpectDecl>,
    /// Fields that identify objects in lists (tried in order). Replaces the built-in list.
    #[serde(default)]
    pub identity_keys: Option<Vec<String>>,
    /// Key globs of scalar lists whose order matters (others compare as sets). Added to
    /// the built-in `**.command`, `**.args`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub ordered_lists: Vec<Spanned<String>>,
    /// Key globs never compared. Added to the built-in list of fields a cluster writes.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub ignore: Vec<Spanned<String>>,
    /// Severity overrides by key glob.
    #[serde(default)]
    pub severity: Vec<SeverityDecl>,
    /// The baseline file, relative to envparity.toml. Default `envparity.baseline.json`.
    #[serde(default)]
    pub baseline: Option<String>,
    /// `table.column` globs of data columns that hold personal or secret data, beyond
    /// those found by name and by their values. Their raw values never enter a profile.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub sensitive: Vec<Spanned<String>>,
    /// `table.column` globs that are not sensitive though their name or values look so.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub not_sensitive: Vec<Spanned<String>>,
    /// When a data difference is worth a finding.
    #[serde(default)]
    pub data: crate::rules::DataThresholds,
    /// When a load run's difference from the reference's traffic is worth a finding.
    #[serde(default)]
    #[schemars(with = "Option<crate::rules::LoadThresholds>")]
    pub load: Option<Spanned<crate::rules::LoadThresholds>>,
}

/// `[[rules.expect]]`: a difference that is intended.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectDecl {
    /// Key glob: `*` matches within a segment, `**` across segments.
    #[schemars(with = "String")]
    pub key: Spanned<String>,
    /// Why the difference is intended. Shown in every report.
    pub reason: String,
    /// Who answers for it.
    #[serde(default)]
    pub owner: Option<String>,
    /// `YYYY-MM-DD`: after this date the difference is drift again.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub expires: Option<Spanned<DateDecl>>,
}

/// `[[rules.severity]]`: a severity override.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityDecl {
    #[schemars(with = "String")]
    pub key: Spanned<String>,
    pub severity: Severity,
}

/// A date written either as a TOML date (`2027-06-30`) or a string (`"2027-06-30"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum DateDecl {
    Text(String),
    Toml(toml::value::Datetime),
}

/// A configuration glob with where it was written.
#[derive(Clone, Debug)]
pub struct SourceGlob {
    pub glob: String,
    pub line: u32,
    pub column: u32,
}

#[derive(Clone, Debug)]
pub struct Environment {
    pub name: String,
    pub config: Vec<SourceGlob>,
    pub production: bool,
    pub description: Option<String>,
    pub databases: Vec<DatabaseDecl>,
    /// Access-log globs.
    pub traffic: Vec<SourceGlob>,
    pub log_format: Option<String>,
    pub apache_format: Option<String>,
    pub traffic_input: Option<String>,
    pub json_fields: Option<String>,
    /// SQL files with roles and grants.
    pub access: Vec<SourceGlob>,
    pub url: Option<String>,
    /// Load results (one run, or its shards).
    pub load: Vec<SourceGlob>,
}

/// Globs as written in envparity.toml, with where each was written (for errors).
fn located_globs(text: &str, globs: &[Spanned<String>]) -> Vec<SourceGlob> {
    globs
        .iter()
        .map(|g| {
            let (line, column) = line_col(text, g.span().start + 1);
            SourceGlob {
                glob: g.get_ref().clone(),
                line,
                column,
            }
        })
        .collect()
}

/// `[traffic]`, with where each entry was written (for errors).
#[derive(Clone, Debug, Default)]
pub struct TrafficSettings {
    /// Route templates, as `SourceGlob`s for their text and position.
    pub routes: Vec<SourceGlob>,
    /// The OpenAPI file's path, relative to envparity.toml.
    pub openapi: Option<SourceGlob>,
}

/// A database or data file of an environment, as written (`${VAR}` not yet expanded).
#[derive(Clone, Debug)]
pub struct DatabaseDecl {
    /// Databases pair across environments by name; `None` for an environment's only,
    /// unnamed database.
    pub name: Option<String>,
    pub url: String,
    pub line: u32,
    pub column: u32,
}

/// envparity.toml, validated.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub environments: BTreeMap<String, Environment>,
    pub rules: Rules,
    /// Relative to envparity.toml.
    pub baseline_path: String,
    pub traffic: TrafficSettings,
    /// `[access] policies`: Rego files, as globs with where they were written.
    pub access_policies: Vec<SourceGlob>,
    /// `[[access.switches]]`, compiled.
    pub access_switches: Vec<UserSwitch>,
}

/// A user's switch rule: a key pattern and an optional value glob.
#[derive(Clone, Debug)]
pub struct UserSwitch {
    pub rule: String,
    pub key: KeyPattern,
    pub value: Option<globset::GlobMatcher>,
}

/// An error in envparity.toml, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ManifestError {
    pub line: u32,
    pub column: u32,
    pub message: String,
    /// The offending line, for a caret display.
    pub source_line: String,
}

/// Line and column (both 1-based) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line as u32, column as u32)
}

fn error_at(text: &str, offset: usize, message: String) -> ManifestError {
    let (line, column) = line_col(text, offset);
    let source_line = text
        .lines()
        .nth(line as usize - 1)
        .unwrap_or("")
        .to_string();
    ManifestError {
        line,
        column,
        message,
        source_line,
    }
}

impl ManifestError {
    /// `file:line:col: message`, the offending line and a caret under the column.
    pub fn render(&self, file: &str) -> String {
        let gutter = self.line.to_string().len();
        format!(
            "{file}:{line}:{col}: {msg}\n{pad} |\n{line} | {src}\n{pad} | {caret:>width$}",
            line = self.line,
            col = self.column,
            msg = self.message,
            pad = " ".repeat(gutter),
            src = self.source_line,
            caret = "^",
            width = self.column as usize,
        )
    }
}

/// Parses and validates envparity.toml.
pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
    let file: ManifestFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        error_at(text, offset, e.message().trim().to_string())
    })?;
    validate(text, file)
}

fn pattern(text: &str, spanned: &Spanned<String>, what: &str) -> Result<KeyPattern, ManifestError> {
    KeyPattern::new(spanned.get_ref()).map_err(|e| {
        error_at(
            text,
            spanned.span().start + 1,
            format!("bad {what} `{}`: {e}", spanned.get_ref()),
        )
    })
}

fn validate(text: &str, file: ManifestFile) -> Result<Manifest, ManifestError> {
    let mut environments = BTreeMap::new();
    for (name, decl) in file.environments {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            let at = [
                format!("environments.{name}"),
                format!("environments.\"{name}\""),
                format!("environments.'{name}'"),
            ]
            .iter()
            .find_map(|header| text.find(header.as_str()))
            .map_or(0, |at| at + "environments.".len());
            return Err(error_at(
                text,
                at,
                format!(
                    "environment name `{name}` may use only ASCII letters, digits, `-` and `_` \
                     (it is written in commands, file names and reports)"
                ),
            ));
        }
        let mut config = Vec::new();
        for glob in &decl.config {
            let (line, column) = line_col(text, glob.span().start + 1);
            if glob.get_ref().trim().is_empty() {
                return Err(error_at(
                    text,
                    glob.span().start,
                    "empty config glob".to_string(),
                ));
            }
            if glob.get_ref().starts_with('/') || glob.get_ref().split('/').any(|part| part == "..")
            {
                // Globs stay inside the project so paths in snapshots are portable.
                return Err(error_at(
                    text,
                    glob.span().start + 1,
                    format!(
                        "config glob `{}` must be relative to envparity.toml and stay below it",
                        glob.get_ref()
                    ),
                ));
            }
            config.push(SourceGlob {
                glob: glob.get_ref().clone(),
                line,
                column,
            });
        }
        let mut databases = Vec::new();
        if let Some(spanned) = &decl.database {
            let (line, column) = line_col(text, spanned.span().start + 1);
            let items: Vec<(Option<String>, String)> = match spanned.get_ref() {
                DatabasesDecl::One(url) => vec![(None, url.clone())],
                DatabasesDecl::Many(items) => items
                    .iter()
                    .map(|item| match item {
                        DatabaseItemDecl::Url(url) => (None, url.clone()),
                        DatabaseItemDecl::Named { name, url } => (Some(name.clone()), url.clone()),
                    })
                    .collect(),
            };
            let unnamed = items.iter().filter(|(n, _)| n.is_none()).count();
            if unnamed > 1 || (unnamed == 1 && items.len() > 1) {
                return Err(error_at(
                    text,
                    spanned.span().start,
                    format!(
                        "environment `{name}` lists {} databases: give each a name \
                         (`{{ name = \"orders\", url = \"…\" }}`) so they pair across environments",
                        items.len()
                    ),
                ));
            }
            for (db_name, url) in items {
                if url.trim().is_empty() {
                    return Err(error_at(
                        text,
                        spanned.span().start,
                        "empty database URL".to_string(),
                    ));
                }
                if let Some(n) = &db_name
                    && (n.is_empty()
                        || !n
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                {
                    return Err(error_at(
                        text,
                        spanned.span().start,
                        format!("database name `{n}` may use only letters, digits, `-` and `_`"),
                    ));
                }
                databases.push(DatabaseDecl {
                    name: db_name,
                    url,
                    line,
                    column,
                });
            }
        }
        environments.insert(
            name.clone(),
            Environment {
                name,
                config,
                production: decl.production,
                description: decl.description,
                databases,
                traffic: located_globs(text, &decl.traffic),
                log_format: decl.log_format,
                apache_format: decl.apache_format,
                traffic_input: decl.traffic_input,
                json_fields: decl.json_fields,
                url: decl.url,
                load: located_globs(text, &decl.load),
                access: located_globs(text, &decl.access),
            },
        );
    }

    let decl = file.rules;
    let mut rules = Rules {
        env_tokens: decl.env_tokens,
        ..Rules::default()
    };
    for env in rules.env_tokens.keys() {
        if !environments.contains_key(env) {
            let offset = text
                .find(&format!("{env} ="))
                .or_else(|| text.find("env_tokens"))
                .unwrap_or(0);
            return Err(error_at(
                text,
                offset,
                format!("env_tokens names `{env}`, which is not an environment"),
            ));
        }
    }
    for (env, tokens) in &rules.env_tokens {
        if tokens.iter().any(|t| t.trim().is_empty()) {
            let offset = text.find("env_tokens").unwrap_or(0);
            return Err(error_at(
                text,
                offset,
                format!("env_tokens for `{env}` holds an empty token"),
            ));
        }
    }
    // Added to the built-in list, never replacing it: a team listing the names it knows
    // of must not unhide the `*passwd*` and `*credential*` it did not think to list (a
    // built-in that is wrong for them is turned off by name with `not_secrets`).
    for glob in decl.secrets.iter().flatten() {
        let added = pattern(text, glob, "secret pattern")?;
        if !rules
            .secrets
            .iter()
            .any(|p| p.as_str().eq_ignore_ascii_case(added.as_str()))
        {
            rules.secrets.push(added);
        }
    }
    for glob in &decl.not_secrets {
        rules
            .not_secrets
            .push(pattern(text, glob, "not_secrets pattern")?);
    }
    if let Some(keys) = decl.identity_keys {
        rules.identity_keys = keys;
    }
    for glob in &decl.ordered_lists {
        rules
            .ordered_lists
            .push(pattern(text, glob, "ordered_lists pattern")?);
    }
    for glob in &decl.ignore {
        rules.ignore.push(pattern(text, glob, "ignore pattern")?);
    }
    for glob in &decl.sensitive {
        rules
            .sensitivity
            .sensitive
            .push(pattern(text, glob, "sensitive pattern")?);
    }
    for glob in &decl.not_sensitive {
        rules
            .sensitivity
            .not_sensitive
            .push(pattern(text, glob, "not_sensitive pattern")?);
    }
    rules.data = decl.data.clone();
    if let Some(load) = &decl.load {
        rules.load = load.get_ref().clone();
        let t = &rules.load;
        let share = |v: f64| (0.0..=1.0).contains(&v);
        let problem = if t
            .p99_limit_ms
            .is_some_and(|ms| !(ms > 0.0 && ms.is_finite()))
        {
            Some("p99_limit_ms: give milliseconds above 0")
        } else if !share(t.error_limit) || !share(t.error_margin) {
            Some("error_limit and error_margin are shares: give them between 0 and 1 (0.01 is 1 %)")
        } else if !(t.p99_factor > 0.0 && t.p99_factor.is_finite()) {
            Some("p99_factor: give a factor above 0")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(error_at(
                text,
                load.span().start,
                format!("[rules.load] {problem}"),
            ));
        }
    }
    for sev in &decl.severity {
        rules.severity.push(SeverityRule {
            key: pattern(text, &sev.key, "key pattern")?,
            severity: sev.severity,
        });
    }
    for expect in &decl.expect {
        let key = pattern(text, &expect.key, "key pattern")?;
        if expect.reason.trim().is_empty() {
            return Err(error_at(
                text,
                expect.key.span().start,
                "an expected difference needs a reason".to_string(),
            ));
        }
        let expires = match &expect.expires {
            None => None,
            Some(spanned) => {
                let raw = match spanned.get_ref() {
                    DateDecl::Text(s) => s.clone(),
                    DateDecl::Toml(dt) => dt.to_string(),
                };
                let offset = spanned.span().start;
                Some(
                    Date::parse(&raw)
                        .map_err(|e| error_at(text, offset, format!("bad expiry date: {e}")))?,
                )
            }
        };
        rules.expect.push(ExpectRule {
            key,
            reason: expect.reason.clone(),
            owner: expect.owner.clone(),
            expires,
        });
    }
    let located = |s: &Spanned<String>| {
        let (line, column) = line_col(text, s.span().start + 1);
        SourceGlob {
            glob: s.get_ref().clone(),
            line,
            column,
        }
    };
    let traffic = TrafficSettings {
        routes: file.traffic.routes.iter().map(located).collect(),
        openapi: file.traffic.openapi.as_ref().map(located),
    };
    let access_policies = file.access.policies.iter().map(located).collect();
    let mut access_switches = Vec::new();
    for s in &file.access.switches {
        let key = KeyPattern::new(s.key.get_ref())
            .map_err(|e| error_at(text, s.key.span().start, format!("bad key pattern: {e}")))?;
        let value = match &s.value {
            Some(v) => Some(
                globset::GlobBuilder::new(v.get_ref())
                    .case_insensitive(true)
                    .build()
                    .map_err(|e| error_at(text, v.span().start, format!("bad value glob: {e}")))?
                    .compile_matcher(),
            ),
            None => None,
        };
        access_switches.push(UserSwitch {
            rule: s.rule.clone(),
            key,
            value,
        });
    }
    rules.access_pairs = file.access.pairs.clone();
    Ok(Manifest {
        environments,
        rules,
        traffic,
        access_policies,
        access_switches,
        baseline_path: decl
            .baseline
            .unwrap_or_else(|| "envparity.baseline.json".to_string()),
    })
}

/// The JSON Schema of envparity.toml, for editors.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(ManifestFile);
    serde_json::to_value(schema).expect("schema serializes")
}

/// Default secret patterns, re-exported for templates.
pub fn default_secret_patterns() -> &'static [&'static str] {
    rules::DEFAULT_SECRET_PATTERNS
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[environments.qa]
config = ["qa/**"]
[environments.prod]
config = ["prod/**"]
production = true

[rules]
env_tokens = { qa = ["qa", "staging"], prod = ["prod", "production"] }
secrets = ["*password*", "*secret*", "*token*", "*_KEY", "*api_key*"]

[[rules.expect]]
key = "deploy.yaml:Deployment/*/api:spec.replicas"
reason = "Production runs more replicas"
owner = "platform"
expires = "2027-06-30"
"#;

    #[test]
    fn parses_the_documented_example() {
        let m = parse(EXAMPLE).unwrap();
        assert_eq!(m.environments.len(), 2);
        assert!(m.environments["prod"].production);
        assert_eq!(m.environments["qa"].config[0].glob, "qa/**");
        assert_eq!(m.environments["qa"].config[0].line, 3);
        assert_eq!(
            m.rules.expect[0].expires,
            Some(Date::new(2027, 6, 30).unwrap())
        );
        assert!(m.rules.is_secret_name("STRIPE_API_KEY"));
        assert!(!m.rules.is_secret_name("LOG_LEVEL"));
        for name in [
            "api-key",
            "x-api-key",
            "master.key",
            "encryptionKey",
            "signingKey",
            "privateKey",
            "access_key_id",
            "passphrase",
            "Authorization",
            "pwd",
            "accessKey",
            "jwt.signing-key",
            "SENTRY_DSN",
        ] {
            assert!(Rules::default().is_secret_name(name), "{name}");
            assert!(
                Rules::default().secret_names().is_secret_name(name),
                "{name}"
            );
        }
        for plain in [
            "keys",
            "monkey",
            "log_level",
            "authors",
            "cache_key_prefix",
            "topologyKey",
            "routingKey",
        ] {
            assert!(!Rules::default().is_secret_name(plain), "{plain}");
            assert!(
                !Rules::default().secret_names().is_secret_name(plain),
                "{plain}"
            );
        }
        for reference in [
            "secretKeyRef",
            "secretName",
            "DB_PASSWORD_FILE",
            "token_ttl",
            "existingSecret",
        ] {
            assert!(!m.rules.is_secret_name(reference), "{reference}");
            assert!(
                !m.rules.secret_names().is_secret_name(reference),
                "{reference}"
            );
        }
        assert!(m.rules.is_secret_name("spring.datasource.password"));
        assert!(m.rules.is_secret_name("client-secret"));
        let names = m.rules.secret_names();
        assert!(names.is_secret_name("spring.datasource.password"));
        assert!(names.is_secret_name("client-secret"));
        // The team's pattern is in the literal scan too.
        assert!(names.is_secret_name("STRIPE_API_KEY"));
    }

    fn error_of(text: &str) -> ManifestError {
        parse(text).unwrap_err()
    }

    #[test]
    fn errors_point_at_line_and_column() {
        let e = error_of("[environments.qa]\nconfig = [\"qa/**\"]\nconfgi = 1\n");
        assert_eq!((e.line, e.column), (3, 1), "{e}");
        assert!(e.message.contains("unknown field `confgi`"), "{e}");

        let e = error_of("[environments.qa]\nconfig = [\"qa/**\"\n");
        assert_eq!(e.line, 2, "{e}");

        for (value, says) in [
            ("error_limit = 5", "between 0 and 1"),
            ("error_margin = -0.1", "between 0 and 1"),
            ("p99_factor = -1", "p99_factor"),
            ("p99_limit_ms = -3", "p99_limit_ms"),
        ] {
            let e = error_of(&format!("[environments.qa]\n\n[rules.load]\n{value}\n"));
            assert_eq!(e.line, 3, "{value}: {e}");
            assert!(
                e.message.contains("[rules.load]") && e.message.contains(says),
                "{e}"
            );
        }
        assert!(parse("[environments.qa]\n[rules.load]\nerror_limit = 0.05\n").is_ok());

        let e = error_of(
            "[environments.qa]\n[[rules.expect]]\nkey = \"a\"\nreason = \"r\"\nexpires = \"2027-02-30\"\n",
        );
        assert_eq!((e.line, e.column), (5, 11), "{e}");
        assert!(e.message.contains("2027-02-30"), "{e}");

        let e = error_of("[environments.qa]\n[[rules.expect]]\nkey = \"a.***\"\nreason = \"r\"\n");
        assert_eq!(e.line, 3, "{e}");

        let e = error_of("[environments.qa]\nconfig = [\"../etc/**\"]\n");
        assert_eq!((e.line, e.column), (2, 12), "{e}");

        let e = error_of("[environments.qa]\n[rules]\nenv_tokens = { qa = [\"\"] }\n");
        assert!(e.message.contains("empty token"), "{e}");

        let e = error_of("[environments.qa]\n[rules]\nenv_tokens = { prd = [\"p\"] }\n");
        assert!(e.message.contains("`prd`"), "{e}");
    }

    #[test]
    fn accepts_toml_dates() {
        let m = parse("[environments.qa]\n[[rules.expect]]\nkey = \"a\"\nreason = \"r\"\nexpires = 2027-06-30\n").unwrap();
        assert_eq!(m.rules.expect[0].expires.unwrap().to_string(), "2027-06-30");
    }

    #[test]
    fn renders_a_caret_under_the_column() {
        let e = error_of("[environments.qa]\nconfgi = 1\n");
        let shown = e.render("envparity.toml");
        assert!(shown.starts_with("envparity.toml:2:1: "), "{shown}");
        assert!(shown.contains("2 | confgi = 1\n  | ^"), "{shown}");
    }
}
