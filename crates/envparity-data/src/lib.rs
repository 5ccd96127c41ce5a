//! The schema and data facets: reads database catalogs into schema trees and profiles
//! tables without any row leaving the database (pushdown) or leaving envparity's
//! memory (streaming).
//!
//! Sources: PostgreSQL, MySQL/MariaDB, SQLite, CSV and Parquet files. Everything here is
//! read-only: SQL runs in read-only transactions, files are opened for reading.

use std::path::{Path, PathBuf};

use envparity_core::ConfigFile;
use envparity_core::profile::{DatabaseProfile, Sensitivity, TableProfile};
use envparity_core::snapshot::SourceError;

mod access_my;
mod access_pg;
mod csv;
mod mysql;
mod parquet;
mod postgres;
pub mod schema;
mod sqlite;
pub mod stream;
pub mod values;

/// A database or data file of one environment, with its URL expanded.
#[derive(Clone)]
pub struct DatabaseSource {
    /// What it pairs by across environments (empty for an environment's only database).
    pub name: String,
    /// The URL with `${VAR}`s expanded: may hold a password, so never printed.
    url: String,
    /// The URL without credentials, for reports and messages.
    pub shown: String,
    pub kind: SourceKind,
}

impl std::fmt::Debug for DatabaseSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSource")
            .field("name", &self.name)
            .field("shown", &self.shown)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Postgres,
    Mysql,
    Sqlite(PathBuf),
    /// One CSV file, or every `.csv` in a folder.
    Csv(PathBuf),
    Parquet(PathBuf),
}

impl DatabaseSource {
    /// Reads a URL as written in envparity.toml: expands `${VAR}`, resolves file paths
    /// against `root`. Errors never quote the expanded URL.
    pub fn new(name: Option<&str>, written: &str, root: &Path) -> Result<DatabaseSource, String> {
        let url = expand_env(written)?;
        let lower = url.to_ascii_lowercase();
        let file = |rest: &str| -> PathBuf {
            let p = Path::new(rest);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                root.join(p)
            }
        };
        let kind = if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            SourceKind::Postgres
        } else if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
            SourceKind::Mysql
        } else if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or(url.strip_prefix("sqlite:"))
        {
            SourceKind::Sqlite(file(rest))
        } else if lower.ends_with(".db")
            || lower.ends_with(".sqlite")
            || lower.ends_with(".sqlite3")
        {
            SourceKind::Sqlite(file(&url))
        } else if lower.ends_with(".parquet") || (file(&url).is_dir() && holds_parquet(&file(&url)))
        {
            SourceKind::Parquet(file(&url))
        } else if lower.ends_with(".csv") || file(&url).is_dir() {
            SourceKind::Csv(file(&url))
        } else if url.contains("://") {
            let scheme = url.split("://").next().unwrap_or("");
            return Err(format!(
                "database URL scheme `{scheme}` is not one envparity reads (postgres://, mysql://, mariadb://, sqlite:)"
            ));
        } else {
            return Err(
                "database is neither a URL (postgres://, mysql://, sqlite:) nor a .db, .sqlite, .csv or .parquet path or a folder of CSV files"
                    .to_string(),
            );
        };
        let shown = match &kind {
            SourceKind::Postgres | SourceKind::Mysql => redact_url(&url),
            SourceKind::Sqlite(p) | SourceKind::Csv(p) | SourceKind::Parquet(p) => {
                p.strip_prefix(root).unwrap_or(p).display().to_string()
            }
        };
        Ok(DatabaseSource {
            name: name.unwrap_or("").to_string(),
            url,
            shown,
            kind,
        })
    }

    /// The URL with its password, for the driver only.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Where schema findings of this source go: `schema`, or `schema/NAME`.
    pub fn schema_path(&self) -> String {
        if self.name.is_empty() {
            "schema".to_string()
        } else {
            format!("schema/{}", self.name)
        }
    }

    pub fn error(&self, message: impl Into<String>) -> SourceError {
        SourceError {
            source: self.shown.clone(),
            line: None,
            column: None,
            message: scrub(&message.into(), &self.url),
            path: None,
        }
    }
}

/// Whether a folder holds Parquet files (and is then read as a folder of them).
fn holds_parquet(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("parquet"))
        })
    })
}

/// `${VAR}` from the environment. A missing variable is an error naming it.
pub fn expand_env(written: &str) -> Result<String, String> {
    use envparity_core::vars::{Unexpanded, expand};
    expand(written, |name| std::env::var(name).ok()).map_err(|e| match e {
        Unexpanded::Unset(var) => {
            format!("environment variable `{var}` (named in the database URL) is not set")
        }
        Unexpanded::Unclosed => "unclosed `${` in database URL".to_string(),
    })
}

/// `postgres://app:hunter2@db:5432/shop?sslmode=require` → `postgres://app@db:5432/shop`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(database URL)".to_string();
    };
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (auth, host) = match rest.rsplit_once('@') {
        Some((auth, host)) => (Some(auth), host),
        None => (None, rest),
    };
    let user = auth.map(|a| a.split(':').next().unwrap_or(""));
    match user {
        Some(u) if !u.is_empty() => format!("{scheme}://{u}@{host}"),
        _ => format!("{scheme}://{host}"),
    }
}

/// Removes the URL and its password from a driver's message, in case it quotes them.
fn scrub(message: &str, url: &str) -> String {
    let mut out = message.replace(url, "(database URL)");
    if let Some((_, rest)) = url.split_once("://")
        && let Some((auth, _)) = rest.rsplit_once('@')
        && let Some((_, password)) = auth.split_once(':')
        && !password.is_empty()
    {
        out = out.replace(password, "(password)");
        if let Ok(decoded) = percent_decode(password)
            && !decoded.is_empty()
        {
            out = out.replace(&decoded, "(password)");
        }
    }
    out
}

pub(crate) fn percent_decode(s: &str) -> Result<String, ()> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3).ok_or(())?).map_err(|_| ())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

/// How table figures are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ModeChoice {
    /// Pushdown for database servers, streaming for files and SQLite.
    #[default]
    Auto,
    Pushdown,
    Streaming,
}

/// Tables above this many rows are sampled unless `--sample` says otherwise.
pub const AUTO_SAMPLE_ROWS: u64 = 1_000_000;

#[derive(Clone, Default)]
pub struct ProfileOptions {
    pub mode: ModeChoice,
    /// Share of rows to profile, `(0, 1]`; `None` samples big tables down to
    /// [`AUTO_SAMPLE_ROWS`].
    pub sample: Option<f64>,
    pub sensitivity: Sensitivity,
}

impl ProfileOptions {
    /// The share of a table of `rows` rows to read.
    pub fn rate_for(&self, rows: u64) -> f64 {
        match self.sample {
            Some(rate) => rate.clamp(f64::MIN_POSITIVE, 1.0),
            None if rows > AUTO_SAMPLE_ROWS => AUTO_SAMPLE_ROWS as f64 / rows as f64,
            None => 1.0,
        }
    }
}

/// What one source gave.
#[derive(Debug, Default)]
pub struct Collected {
    pub schema: Option<ConfigFile>,
    pub profile: Option<DatabaseProfile>,
    pub errors: Vec<SourceError>,
}

/// Which facets to read.
#[derive(Clone, Copy, Debug)]
pub struct Want {
    pub schema: bool,
    pub data: bool,
}

/// Progress of a long profile, for a line on stderr.
pub type Progress<'a> = &'a (dyn Fn(&str) + Sync);

/// A data-file source (CSV, Parquet): one table per file, a file or every file of that
/// extension in a folder, each profiled by `profile_file(path, table, options)`. A file
/// that fails is a table with its error; the others are still profiled.
pub(crate) fn collect_files(
    source: &DatabaseSource,
    path: &Path,
    (extension, engine): (&str, &str),
    want: Want,
    options: &ProfileOptions,
    progress: Progress<'_>,
    profile_file: impl Fn(&Path, &str, &ProfileOptions) -> Result<TableProfile, String>,
) -> Collected {
    let mut out = Collected::default();
    let files: Vec<PathBuf> = if path.is_dir() {
        match std::fs::read_dir(path) {
            Ok(entries) => {
                let mut v: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.extension()
                            .is_some_and(|x| x.eq_ignore_ascii_case(extension))
                    })
                    .collect();
                v.sort();
                v
            }
            Err(e) => {
                out.errors
                    .push(source.error(format!("cannot read the folder: {e}")));
                return out;
            }
        }
    } else if path.is_file() {
        vec![path.to_path_buf()]
    } else {
        out.errors.push(source.error("no such file or folder"));
        return out;
    };
    if !want.data {
        return out;
    }
    let mut profile = DatabaseProfile {
        name: source.name.clone(),
        source: source.shown.clone(),
        engine: engine.to_string(),
        tables: Vec::new(),
    };
    for (i, file) in files.iter().enumerate() {
        let table = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        progress(&format!(
            "profiling {table}.{extension} ({}/{})",
            i + 1,
            files.len()
        ));
        profile
            .tables
            .push(profile_file(file, &table, options).unwrap_or_else(|e| {
                stream::failed_table(&table, envparity_core::profile::ProfileMode::Streaming, e)
            }));
    }
    out.profile = Some(profile);
    out
}

/// Reads one source's schema and/or data profile. Never panics on bad input: whatever
/// fails is an error in `Collected::errors`, and the rest is still read.
pub fn collect(
    source: &DatabaseSource,
    want: Want,
    options: &ProfileOptions,
    progress: Progress,
) -> Collected {
    match &source.kind {
        SourceKind::Postgres => postgres::collect(source, want, options, progress),
        SourceKind::Mysql => mysql::collect(source, want, options, progress),
        SourceKind::Sqlite(path) => sqlite::collect(source, path, want, options, progress),
        SourceKind::Csv(path) => csv::collect(source, path, want, options, progress),
        SourceKind::Parquet(path) => parquet::collect(source, path, want, options, progress),
    }
}

/// Who can do what in a database, read from its catalog with read access only. SQLite,
/// CSV and Parquet have no principals: an empty model. Never fails: what cannot be read
/// is an error (connection, query) or, when the role may not read it, a sentence in the
/// model's `limits`.
pub fn collect_access(
    source: &DatabaseSource,
) -> (
    envparity_core::access::AccessModel,
    Vec<envparity_core::snapshot::SourceError>,
) {
    match &source.kind {
        SourceKind::Postgres => access_pg::collect(source),
        SourceKind::Mysql => access_my::collect(source),
        SourceKind::Sqlite(_) | SourceKind::Csv(_) | SourceKind::Parquet(_) => {
            (envparity_core::access::AccessModel::default(), Vec::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted_and_scrubbed() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db:5432/shop?sslmode=require"),
            "postgres://app@db:5432/shop"
        );
        assert_eq!(redact_url("mysql://db/shop"), "mysql://db/shop");
        let url = "postgres://app:s3cr%40t@db/shop";
        let msg = scrub(
            "password s3cr@t rejected for postgres://app:s3cr%40t@db/shop",
            url,
        );
        assert!(!msg.contains("s3cr"), "{msg}");
    }

    #[test]
    fn sources_by_url_and_path() {
        let root = Path::new("/p");
        let s = DatabaseSource::new(None, "sqlite:data/qa.db", root).unwrap();
        assert_eq!(s.kind, SourceKind::Sqlite(PathBuf::from("/p/data/qa.db")));
        assert_eq!(s.shown, "data/qa.db");
        assert!(
            DatabaseSource::new(None, "oracle://x", root)
                .unwrap_err()
                .contains("oracle")
        );
        // SAFETY-free: a variable no test sets.
        let err = DatabaseSource::new(None, "${ENVPARITY_TEST_UNSET_VAR}", root).unwrap_err();
        assert!(err.contains("ENVPARITY_TEST_UNSET_VAR"));
    }
}
