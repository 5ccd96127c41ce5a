//! The collector: expands an environment's config globs, reads and flattens every file
//! (in parallel), and records what could not be read instead of stopping.

use std::path::{Path, PathBuf};

use envparity_core::manifest::{Environment, MANIFEST_NAME, SourceGlob};
use envparity_core::rules::Rules;
use envparity_core::snapshot::{ConfigFile, ConfigSnapshot, Format, SourceError};
use globset::GlobBuilder;
use rayon::prelude::*;

use crate::flatten::Flattener;
use crate::read;
use crate::secrets::SecretHasher;

/// The key file `envparity init` writes: never read as configuration.
pub const KEY_FILE_NAME: &str = ".envparity.key";

pub struct CollectOptions<'a> {
    /// The folder holding envparity.toml: globs and reported paths are relative to it.
    pub root: &'a Path,
    /// The manifest's file name (errors about its globs name it).
    pub manifest_name: &'a str,
    pub environment: &'a Environment,
    pub rules: &'a Rules,
    pub hasher: &'a SecretHasher,
    /// Told `(files done, files in all)` as files are read, from any thread; the caller
    /// decides whether and how often to show it (library crates never print).
    pub progress: Option<&'a (dyn Fn(usize, usize) + Sync)>,
}

impl std::fmt::Debug for CollectOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CollectOptions")
            .field("root", &self.root)
            .field("environment", &self.environment.name)
            .field("progress", &self.progress.is_some())
            .finish_non_exhaustive()
    }
}

/// The format of a file, from its name. `None` for files envparity does not read.
pub fn detect_format(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") {
        return Some(Format::Dotenv);
    }
    let ext = name.rsplit_once('.')?.1;
    Some(match ext {
        "yaml" | "yml" => Format::Yaml,
        "json" => Format::Json,
        "toml" => Format::Toml,
        "ini" | "cfg" => Format::Ini,
        "properties" => Format::Properties,
        _ => return None,
    })
}

struct Candidate {
    absolute: PathBuf,
    /// Relative to the root, `/`-separated.
    source: String,
    /// Relative to the glob's fixed prefix: what pairs files across environments.
    paired: String,
    format: Format,
    /// What it is when it is no regular file (a symlink followed): then it is never
    /// opened, as opening a named pipe blocks the run until someone writes to it.
    not_a_file: Option<&'static str>,
}

/// Reads every config file of one environment, and runs `inspect` on each file as soon
/// as it is flattened, on the thread that read it: a pass over every entry costs far less
/// while the file's entries are still in cache than over the whole snapshot afterwards.
/// Its results come back in file order, one per file read.
pub fn collect<T: Send>(
    options: &CollectOptions,
    inspect: impl Fn(&ConfigFile) -> T + Sync,
) -> (ConfigSnapshot, Vec<T>) {
    let mut errors = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    // Files two globs both match are read once (a set: estates have thousands of files).
    let mut seen = std::collections::HashSet::new();
    for glob in &options.environment.config {
        match expand(options.root, options.manifest_name, glob) {
            Ok(found) => {
                for c in found {
                    if seen.insert(c.source.clone()) {
                        candidates.push(c);
                    }
                }
            }
            Err(error) => errors.push(error),
        }
    }
    candidates.sort_by(|a, b| a.source.cmp(&b.source));
    // Files pair across environments by their path below the glob's prefix, so two files
    // of one environment with the same such path (`config/qa/app.env`, `k8s/qa/app.env`)
    // cannot both be compared: the first by name is, the others are named as unreadable.
    let mut first_with_path: std::collections::HashMap<&str, &str> =
        std::collections::HashMap::with_capacity(candidates.len());
    let mut shadowed = vec![false; candidates.len()];
    for (i, c) in candidates.iter().enumerate() {
        let first = *first_with_path.entry(&c.paired).or_insert(&c.source);
        if first != c.source {
            shadowed[i] = true;
            errors.push(SourceError {
                source: c.source.clone(),
                line: None,
                column: None,
                message: format!(
                    "not compared: it pairs across environments as `{}`, and so does `{first}` \
                     (files pair by their path below the glob's fixed prefix); narrow a glob \
                     or rename one of them",
                    c.paired
                ),
                path: Some(c.paired.clone()),
            });
        }
    }
    if shadowed.iter().any(|&s| s) {
        let mut keep = shadowed.iter().map(|&s| !s);
        candidates.retain(|_| keep.next().unwrap_or(true));
    }

    let flattener = Flattener::new(options.rules, options.hasher);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = candidates.len();
    let results: Vec<Result<(ConfigFile, T), SourceError>> = candidates
        .par_iter()
        .map(|c| {
            let result = read_one(c, &flattener).map(|file| {
                let inspected = inspect(&file);
                (file, inspected)
            });
            if let Some(progress) = options.progress {
                progress(
                    done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                    total,
                );
            }
            result
        })
        .collect();
    let mut files = Vec::with_capacity(results.len());
    let mut inspected = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok((file, inspection)) => {
                files.push(file);
                inspected.push(inspection);
            }
            Err(error) => errors.push(error),
        }
    }
    (ConfigSnapshot { files, errors }, inspected)
}

fn read_one(candidate: &Candidate, flattener: &Flattener) -> Result<ConfigFile, SourceError> {
    let error = |line: Option<u32>, column: Option<u32>, message: String| SourceError {
        source: candidate.source.clone(),
        line,
        column,
        message,
        path: Some(candidate.paired.clone()),
    };
    if let Some(what) = candidate.not_a_file {
        return Err(error(None, None, format!("cannot read: {what}")));
    }
    let bytes = std::fs::read(&candidate.absolute)
        .map_err(|e| error(None, None, format!("cannot read: {}", io_reason(&e))))?;
    let latin1: String;
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        // Java reads .properties as ISO-8859-1: every byte is a character.
        Err(_) if candidate.format == Format::Properties => {
            latin1 = bytes.iter().map(|&b| char::from(b)).collect();
            &latin1
        }
        Err(e) => {
            let offset = e.valid_up_to();
            let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            return Err(error(
                Some(line),
                None,
                format!("not UTF-8 text (invalid byte at offset {offset})"),
            ));
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut documents = read::parse(candidate.format, text).map_err(|e| {
        error(
            Some(e.line),
            Some(e.column),
            format!("invalid {}: {}", candidate.format.name(), e.message),
        )
    })?;
    let flat = flattener.flatten(candidate.format, &mut documents);
    Ok(ConfigFile {
        path: candidate.paired.clone(),
        source: candidate.source.clone(),
        format: candidate.format,
        entries: flat.entries,
        resources: flat.resources,
    })
}

/// An I/O error's reason without the path (which the caller already names).
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// What a path that is not a regular file is, for an error message.
fn not_a_file(metadata: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = metadata.file_type();
        if t.is_fifo() {
            return "a named pipe, not a file";
        }
        if t.is_socket() {
            return "a socket, not a file";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device, not a file";
        }
    }
    if metadata.is_dir() {
        "a folder, not a file"
    } else {
        "not a regular file"
    }
}

fn has_wildcard(part: &str) -> bool {
    part.contains(['*', '?', '[', '{'])
}

/// The matching files of one glob, relative to the root.
fn expand(
    root: &Path,
    manifest_name: &str,
    glob: &SourceGlob,
) -> Result<Vec<Candidate>, SourceError> {
    let manifest_error = |message: String| SourceError {
        source: manifest_name.to_string(),
        line: Some(glob.line),
        column: Some(glob.column),
        message,
        path: None,
    };
    let pattern = glob.glob.trim_start_matches("./");
    let matcher = GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| manifest_error(format!("bad config glob `{}`: {}", glob.glob, e.kind())))?
        .compile_matcher();
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    let fixed_len = parts
        .iter()
        .position(|p| has_wildcard(p))
        .unwrap_or(parts.len().saturating_sub(1));
    let prefix: Vec<&str> = parts[..fixed_len].to_vec();
    let start = prefix
        .iter()
        .fold(root.to_path_buf(), |p, part| p.join(part));

    let mut found = Vec::new();
    if !has_wildcard(pattern) {
        // A single file named outright: a missing one is an error, an unknown format too.
        let absolute = root.join(pattern);
        match std::fs::metadata(&absolute) {
            Ok(m) if m.is_file() => {}
            Ok(m) if m.is_dir() => {
                return Err(manifest_error(format!(
                    "config file `{pattern}` is a folder: write `{}/**` to read the files in it",
                    pattern.trim_end_matches('/')
                )));
            }
            Ok(m) => {
                return Err(manifest_error(format!(
                    "config file `{pattern}` is {}",
                    not_a_file(&m)
                )));
            }
            Err(_) => {
                return Err(manifest_error(format!(
                    "config file `{pattern}` does not exist"
                )));
            }
        }
        let format = detect_format(&absolute)
            .ok_or_else(|| manifest_error(format!("`{pattern}` is not a format envparity reads (YAML, JSON, TOML, INI, .env, properties)")))?;
        let paired = parts.last().copied().unwrap_or(pattern).to_string();
        found.push(Candidate {
            absolute,
            source: pattern.to_string(),
            paired,
            format,
            not_a_file: None,
        });
        return Ok(found);
    }
    if !start.is_dir() {
        return Err(manifest_error(format!(
            "config glob `{}`: folder `{}` does not exist",
            glob.glob,
            prefix.join("/")
        )));
    }
    let mut stack = vec![start];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| {
            manifest_error(format!(
                "cannot list `{}`: {}",
                relative(root, &dir),
                io_reason(&e)
            ))
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if file_type.is_dir() {
                // Symlinked folders are not followed: no loops, no escaping the project.
                if name != ".git" {
                    stack.push(path);
                }
                continue;
            }
            if name == KEY_FILE_NAME
                || name == MANIFEST_NAME
                || (name == manifest_name && dir == root)
            {
                continue;
            }
            let source = relative(root, &path);
            if !matcher.is_match(&source) {
                continue;
            }
            let Some(format) = detect_format(&path) else {
                continue;
            };
            let paired = source
                .split('/')
                .skip(prefix.len())
                .collect::<Vec<_>>()
                .join("/");
            // The listing tells a regular file's type for free; only a symlink costs a
            // look at what it points to (a dangling one fails when read, and says so).
            let not_a_file = if file_type.is_file() {
                None
            } else {
                std::fs::metadata(&path)
                    .ok()
                    .filter(|m| !m.is_file())
                    .map(|m| not_a_file(&m))
            };
            found.push(Candidate {
                absolute: path,
                source,
                paired,
                format,
                not_a_file,
            });
        }
    }
    if found.is_empty() {
        return Err(manifest_error(format!(
            "config glob `{}` matches no file envparity reads",
            glob.glob
        )));
    }
    Ok(found)
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_properties_are_read_as_java_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("l.properties"), b"greeting=Gr\xfc\xdfe\n").unwrap();
        let candidate = Candidate {
            absolute: dir.path().join("l.properties"),
            source: "l.properties".into(),
            paired: "l.properties".into(),
            format: Format::Properties,
            not_a_file: None,
        };
        let rules = Rules::default();
        let hasher = SecretHasher::new(b"k".to_vec(), crate::KeySource::Ephemeral);
        let file = read_one(&candidate, &Flattener::new(&rules, &hasher)).unwrap();
        assert_eq!(file.entries.get(0).unwrap().value.display(), "Grüße");
    }

    #[test]
    fn detects_formats_by_name() {
        for (name, format) in [
            ("app.yaml", Some(Format::Yaml)),
            ("x/deploy.YML", Some(Format::Yaml)),
            (".env", Some(Format::Dotenv)),
            (".env.production", Some(Format::Dotenv)),
            ("prod.env", Some(Format::Dotenv)),
            ("application.properties", Some(Format::Properties)),
            ("legacy.ini", Some(Format::Ini)),
            ("Cargo.toml", Some(Format::Toml)),
            ("README.md", None),
            ("Makefile", None),
        ] {
            assert_eq!(detect_format(Path::new(name)), format, "{name}");
        }
    }
}
