//! Finding and loading envparity.toml, and turning command-line sides (environment
//! names or snapshot files) into snapshots.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use envparity_config::{CollectOptions, KeySource, SecretHasher};
use envparity_core::manifest::{self, Environment, MANIFEST_NAME, Manifest, SourceGlob};
use envparity_core::rules::Baseline;
use envparity_core::snapshot::SourceError;
use envparity_core::snapshot::{SNAPSHOT_FORMAT, SNAPSHOT_VERSION, Snapshot};
use envparity_data::{DatabaseSource, ModeChoice, ProfileOptions, Want};

use crate::{clock, key};

/// envparity.toml, loaded, with the folder it lives in.
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub path: PathBuf,
    pub manifest: Manifest,
}

/// The nearest envparity.toml, loaded; `None` when there is none (commands that also
/// work on files alone).
pub fn nearest(config: Option<&Path>) -> anyhow::Result<Option<Project>> {
    find(config)?.map(|path| load(&path)).transpose()
}

/// The nearest envparity.toml: `--config`, else this folder and its parents.
pub fn find(config: Option<&Path>) -> anyhow::Result<Option<PathBuf>> {
    if let Some(path) = config {
        if path.is_dir() {
            bail!(
                "{}: is a folder; --config names the file, e.g. {}",
                path.display(),
                path.join(MANIFEST_NAME).display()
            );
        }
        if !path.is_file() {
            bail!("{}: no such file", path.display());
        }
        return Ok(Some(path.to_path_buf()));
    }
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    Ok(cwd
        .ancestors()
        .map(|dir| dir.join(MANIFEST_NAME))
        .find(|p| p.is_file()))
}

pub fn load(path: &Path) -> anyhow::Result<Project> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let manifest = manifest::parse(&text).map_err(|mut e| {
        // The line shown under the error may hold a database URL's password, and the
        // TOML parser's message may quote a value: both go out with credentials hashed out.
        e.source_line = without_credentials(&e.source_line);
        e.message = without_credentials(&e.message);
        anyhow!("{}", e.render(&path.display().to_string()))
    })?;
    let root = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut project = Project {
        root,
        path: path.to_path_buf(),
        manifest,
    };
    project.manifest.rules.baseline = load_baseline(&project.baseline_path())?;
    Ok(project)
}

/// `text` with every credential envparity recognizes (by the built-in secret names and by
/// shape) starred out, a `*` a character so that a caret under the line still points
/// at the column it names.
fn without_credentials(text: &str) -> String {
    let rules = envparity_core::rules::Rules::default();
    let spans =
        envparity_config::secrets::find_credentials(text, &|name| rules.is_secret_name(name));
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for (start, end) in spans {
        out.push_str(&text[from..start]);
        out.extend(std::iter::repeat_n('*', text[start..end].chars().count()));
        from = end;
    }
    out.push_str(&text[from..]);
    out
}

pub fn require(config: Option<&Path>) -> anyhow::Result<Project> {
    match find(config)? {
        Some(path) => load(&path),
        None => bail!(
            "no {MANIFEST_NAME} in this folder or its parents: run `envparity init` to write one, or pass --config FILE"
        ),
    }
}

impl Project {
    /// The manifest's file name, as errors about it name it (relative to `root`, which is
    /// its folder): `--config my.toml` is `my.toml`, not envparity.toml.
    pub fn manifest_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| MANIFEST_NAME.to_string())
    }

    pub fn baseline_path(&self) -> PathBuf {
        self.root.join(&self.manifest.baseline_path)
    }

    pub fn env_names(&self) -> Vec<&str> {
        self.manifest
            .environments
            .keys()
            .map(String::as_str)
            .collect()
    }

    /// Collects one environment into a snapshot.
    pub fn snapshot(
        &self,
        env: &str,
        hasher: &SecretHasher,
        data: &DataOptions,
    ) -> anyhow::Result<Snapshot> {
        let environment = self.manifest.environments.get(env).ok_or_else(|| {
            anyhow!(
                "no environment `{env}` in {} (it has: {})",
                self.path.display(),
                self.env_names().join(", ")
            )
        })?;
        let mut snapshot = Snapshot::new(
            env,
            environment.production,
            clock::now_rfc3339(),
            hasher.key_id().to_string(),
        );
        snapshot.secret_key_ephemeral = hasher.source() == KeySource::Ephemeral;
        // Switches are looked for in each file as it is read (see `envparity_config::collect`).
        let defaults: Vec<String> = envparity_access::switches::DEFAULT_CREDENTIALS
            .iter()
            .map(|d| hasher.hash(d))
            .collect();
        let (config, switches) = envparity_config::collect(
            &CollectOptions {
                root: &self.root,
                manifest_name: &self.manifest_name(),
                environment,
                rules: &self.manifest.rules,
                hasher,
                progress: Some(&|done, total| crate::printer::progress(env, done, total)),
            },
            |file| {
                envparity_access::switches::from_file(
                    file,
                    &defaults,
                    &self.manifest.access_switches,
                )
            },
        );
        snapshot.config = config;
        self.collect_databases(env, environment, data, &mut snapshot);
        self.collect_traffic(environment, &mut snapshot);
        self.collect_load(environment, &mut snapshot);
        self.collect_access(environment, switches.concat(), &mut snapshot);
        Ok(snapshot)
    }

    /// Who can do what: RBAC and switches from the configuration just read, SQL dumps
    /// named by `access = [...]`, and the databases' catalogs. Always set (an empty model
    /// says "nothing found"); the report shows the facet only when some model has content.
    /// `switches`: those found in the configuration as it was read.
    fn collect_access(
        &self,
        environment: &Environment,
        switches: Vec<envparity_core::access::Switch>,
        snapshot: &mut Snapshot,
    ) {
        let mut model = envparity_access::rbac::from_config(&snapshot.config);
        model.switches = switches;
        let files = self.expand_globs(&environment.access, "", &mut snapshot.access_errors);
        for (path, shown) in files {
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    snapshot.access_errors.push(SourceError {
                        source: shown.clone(),
                        line: None,
                        column: None,
                        message: format!("cannot read: {e}"),
                        path: None,
                    });
                    continue;
                }
            };
            match envparity_access::dump::read(&text, &shown) {
                Ok(m) => model.extend(m),
                Err(message) => snapshot.access_errors.push(SourceError {
                    source: shown.clone(),
                    line: None,
                    column: None,
                    message,
                    path: None,
                }),
            }
        }
        let model_so_far = snapshot.access.get_or_insert_default();
        model_so_far.extend(model);
        // The team's Rego rules see everything collected for this environment.
        match self.access_policies() {
            Ok(Some(policies)) => {
                match policies.evaluate(&snapshot.environment, snapshot.production, model_so_far) {
                    Ok(found) => model_so_far.custom.extend(found),
                    Err(message) => snapshot.access_errors.push(SourceError {
                        source: "[access] policies".to_string(),
                        line: None,
                        column: None,
                        message,
                        path: None,
                    }),
                }
            }
            Ok(None) => {}
            Err(e) => snapshot.access_errors.push(e),
        }
    }

    /// The `[access] policies` Rego files, loaded.
    fn access_policies(&self) -> Result<Option<envparity_access::rego::Policies>, SourceError> {
        if self.manifest.access_policies.is_empty() {
            return Ok(None);
        }
        let mut texts = Vec::new();
        for glob in &self.manifest.access_policies {
            let files = match expand_glob(&self.root, &glob.glob) {
                Ok(found) if !found.is_empty() => found,
                Ok(_) => {
                    return Err(
                        self.manifest_error(glob, format!("`{}` matches no file", glob.glob))
                    );
                }
                Err(e) => {
                    return Err(self.manifest_error(glob, format!("bad glob `{}`: {e}", glob.glob)));
                }
            };
            for (path, shown) in files {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    self.manifest_error(glob, format!("cannot read `{shown}`: {e}"))
                })?;
                texts.push((shown, text));
            }
        }
        envparity_access::rego::Policies::load(&texts)
            .map(Some)
            .map_err(|message| {
                // `file:line:col: what` from the loader: keep the parts apart.
                let mut parts = message.splitn(4, ':');
                let (file, line, column) = (parts.next(), parts.next(), parts.next());
                match (
                    file,
                    line.and_then(|l| l.parse().ok()),
                    column.and_then(|c| c.parse().ok()),
                    parts.next(),
                ) {
                    (Some(file), Some(line), Some(column), Some(rest)) => SourceError {
                        source: file.to_string(),
                        line: Some(line),
                        column: Some(column),
                        message: rest.trim().to_string(),
                        path: None,
                    },
                    _ => SourceError {
                        source: "[access] policies".to_string(),
                        line: None,
                        column: None,
                        message: message.clone(),
                        path: None,
                    },
                }
            })
    }

    fn manifest_error(&self, at: &SourceGlob, message: String) -> SourceError {
        SourceError {
            source: self.manifest_name(),
            line: Some(at.line),
            column: Some(at.column),
            message,
            path: None,
        }
    }

    /// The files `globs` name, sorted, each once. A glob that matches nothing or does not
    /// parse is an error at its envparity.toml line, its message after `prefix`.
    fn expand_globs(
        &self,
        globs: &[SourceGlob],
        prefix: &str,
        errors: &mut Vec<SourceError>,
    ) -> Vec<(PathBuf, String)> {
        let mut files = Vec::new();
        for glob in globs {
            match expand_glob(&self.root, &glob.glob) {
                Ok(found) if found.is_empty() => errors.push(
                    self.manifest_error(glob, format!("{prefix}`{}` matches no file", glob.glob)),
                ),
                Ok(found) => files.extend(found),
                Err(e) => errors.push(
                    self.manifest_error(glob, format!("{prefix}bad glob `{}`: {e}", glob.glob)),
                ),
            }
        }
        files.sort();
        files.dedup();
        files
    }

    /// The environment's load run: its result files (the shards of one run, merged).
    fn collect_load(&self, environment: &Environment, snapshot: &mut Snapshot) {
        let files = self.expand_globs(&environment.load, "load: ", &mut snapshot.traffic_errors);
        if files.is_empty() {
            return;
        }
        match crate::commands::load::read_run(&files) {
            Ok(run) => snapshot.load = Some(run),
            // The error names the file (reading one) or the files (merging them).
            Err(e) => snapshot.traffic_errors.push(SourceError {
                source: "load".to_string(),
                line: None,
                column: None,
                message: format!("{e:#}"),
                path: None,
            }),
        }
    }

    /// The traffic model of one environment's access logs (for `load --model ENV`).
    pub fn traffic_model(
        &self,
        env: &str,
    ) -> anyhow::Result<envparity_core::traffic::TrafficModel> {
        let environment = self
            .manifest
            .environments
            .get(env)
            .ok_or_else(|| anyhow!("no environment `{env}` in {}", self.path.display()))?;
        let mut snapshot = Snapshot::new(env, environment.production, String::new(), String::new());
        self.collect_traffic(environment, &mut snapshot);
        if let Some(e) = snapshot.traffic_errors.first() {
            bail!("{e}");
        }
        snapshot
            .traffic
            .ok_or_else(|| anyhow!("environment `{env}` names no access logs (`traffic = [...]`)"))
    }

    /// Fits the traffic model from the environment's access logs, if it names any.
    fn collect_traffic(&self, environment: &Environment, snapshot: &mut Snapshot) {
        if environment.traffic.is_empty() {
            return;
        }
        let input = envparity_traffic::input::Input::from_options(
            environment.traffic_input.as_deref(),
            environment.log_format.as_deref(),
            environment.apache_format.as_deref(),
            environment.json_fields.as_deref(),
        );
        let input = match input {
            Ok(f) => f,
            Err(e) => {
                snapshot
                    .traffic_errors
                    .push(self.manifest_error(&environment.traffic[0], format!("log format: {e}")));
                return;
            }
        };
        let templates = match self.route_templates() {
            Ok(t) => t,
            Err(e) => {
                snapshot.traffic_errors.push(e);
                return;
            }
        };
        let files = self.expand_globs(&environment.traffic, "", &mut snapshot.traffic_errors);
        if files.is_empty() {
            return;
        }
        let options = envparity_traffic::read::ReadOptions {
            input,
            strict: false,
            templates,
        };
        match envparity_traffic::read::read_files(&files, &options) {
            Ok(builder) => snapshot.traffic = Some(builder.finish()),
            Err(message) => snapshot.traffic_errors.push(SourceError {
                source: files[0].1.clone(),
                line: None,
                column: None,
                message,
                path: None,
            }),
        }
    }

    /// The `[traffic]` route templates: the `routes` list and the OpenAPI file's paths.
    fn route_templates(
        &self,
    ) -> Result<Option<std::sync::Arc<envparity_traffic::templates::RouteTemplates>>, SourceError>
    {
        use envparity_traffic::templates::RouteTemplates;
        let settings = &self.manifest.traffic;
        let at = |item: &SourceGlob, message: String| SourceError {
            source: self.manifest_name(),
            line: Some(item.line),
            column: Some(item.column),
            message,
            path: None,
        };
        if settings.routes.is_empty() && settings.openapi.is_none() {
            return Ok(None);
        }
        let texts: Vec<String> = settings.routes.iter().map(|r| r.glob.clone()).collect();
        let mut templates = RouteTemplates::new(&texts).map_err(|e| {
            // Point at the template that is wrong when it is wrong alone (a duplicate is
            // wrong only with the others: point at the list).
            let place = settings
                .routes
                .iter()
                .find(|r| RouteTemplates::new(std::slice::from_ref(&r.glob)).is_err())
                .or(settings.routes.first());
            match place {
                Some(place) => at(place, format!("[traffic] routes: {e}")),
                None => SourceError {
                    source: self.manifest_name(),
                    line: None,
                    column: None,
                    message: e,
                    path: None,
                },
            }
        })?;
        if let Some(openapi) = &settings.openapi {
            let path = self.root.join(&openapi.glob);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| at(openapi, format!("cannot read `{}`: {e}", openapi.glob)))?;
            let from_file = RouteTemplates::from_openapi(&text, &openapi.glob).map_err(|e| {
                // The message starts `FILE:LINE: `: keep the line, drop the repeated name.
                let rest = e.strip_prefix(&format!("{}:", openapi.glob)).unwrap_or(&e);
                let (line, message) = match rest.split_once(": ") {
                    Some((n, m)) if n.parse::<u32>().is_ok() => (n.parse().ok(), m),
                    _ => (None, rest.trim_start()),
                };
                SourceError {
                    source: openapi.glob.clone(),
                    line,
                    column: None,
                    message: message.to_string(),
                    path: None,
                }
            })?;
            templates.extend(from_file);
        }
        Ok(Some(std::sync::Arc::new(templates)))
    }

    /// A snapshot of an environment's databases alone (for `data profile`).
    pub fn data_snapshot(&self, env: &str, data: &DataOptions) -> anyhow::Result<Snapshot> {
        let environment = self.manifest.environments.get(env).ok_or_else(|| {
            anyhow!(
                "no environment `{env}` in {} (it has: {})",
                self.path.display(),
                self.env_names().join(", ")
            )
        })?;
        // No secrets are hashed into a data snapshot: it has no key.
        let mut snapshot = Snapshot::new(
            env,
            environment.production,
            clock::now_rfc3339(),
            String::new(),
        );
        self.collect_databases(env, environment, data, &mut snapshot);
        // Errors of a data-only read belong to the data facet.
        let errors = std::mem::take(&mut snapshot.schema.errors);
        snapshot.data.errors.extend(errors);
        Ok(snapshot)
    }

    /// Reads the schema and data of the environment's databases into the snapshot.
    fn collect_databases(
        &self,
        env: &str,
        environment: &Environment,
        data: &DataOptions,
        snapshot: &mut Snapshot,
    ) {
        if !data.schema && !data.data {
            return;
        }
        let options = ProfileOptions {
            mode: data.mode,
            sample: data.sample,
            sensitivity: self.manifest.rules.sensitivity.clone(),
        };
        let want = Want {
            schema: data.schema,
            data: data.data,
        };
        let manifest_name = self.manifest_name();
        for decl in &environment.databases {
            let source = match DatabaseSource::new(decl.name.as_deref(), &decl.url, &self.root) {
                Ok(source) => source,
                Err(message) => {
                    // Never the URL itself: it may hold a password once expanded.
                    snapshot.schema.errors.push(SourceError {
                        source: manifest_name.clone(),
                        line: Some(decl.line),
                        column: Some(decl.column),
                        message: format!("database of {env}: {message}"),
                        path: None,
                    });
                    continue;
                }
            };
            let progress = |message: &str| crate::printer::progress_message(env, message);
            let collected = envparity_data::collect(&source, want, &options, &progress);
            crate::printer::progress_done();
            if let Some(schema) = collected.schema {
                snapshot.schema.files.push(schema);
                // Reachable: read who may do what there too (catalogs only, read-only).
                let (model, errors) = envparity_data::collect_access(&source);
                snapshot.access.get_or_insert_default().extend(model);
                snapshot.access_errors.extend(errors);
            }
            if let Some(profile) = collected.profile {
                snapshot.data.databases.push(profile);
            }
            // A source that cannot be read at all is one finding, under the schema facet
            // when it was read for its schema, else under data.
            if data.schema {
                snapshot.schema.errors.extend(collected.errors);
            } else {
                snapshot.data.errors.extend(collected.errors);
            }
        }
    }
}

fn load_baseline(path: &Path) -> anyhow::Result<Baseline> {
    use envparity_core::rules::BASELINE_VERSION;
    if !path.exists() {
        return Ok(Baseline::default());
    }
    if !path.is_file() {
        // A baseline that cannot be read must not quietly accept nothing: every baselined
        // finding would come back as drift with no word why.
        bail!("cannot read baseline {}: not a file", path.display());
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read baseline {}", path.display()))?;
    let baseline: Baseline = serde_json::from_str(&text).map_err(|e| {
        let message = e.to_string();
        // serde_json ends its message with the position, which is already in front.
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m);
        anyhow!(
            "{}:{}:{}: invalid baseline: {message}",
            path.display(),
            e.line(),
            e.column().max(1),
        )
    })?;
    if baseline.version != BASELINE_VERSION {
        bail!(
            "{}: baseline version {} is not one this envparity reads (it reads version \
             {BASELINE_VERSION}){}",
            path.display(),
            baseline.version,
            if baseline.version == 0 {
                "; the file has no `version`"
            } else {
                ""
            }
        );
    }
    Ok(baseline)
}

/// Files below `root` matching `glob` (relative to `root`), with their shown paths.
fn expand_glob(root: &Path, glob: &str) -> Result<Vec<(PathBuf, String)>, String> {
    let matcher = globset::GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .map_err(|e| e.kind().to_string())?
        .compile_matcher();
    // Walk from the glob's fixed prefix only.
    let fixed: Vec<&str> = glob
        .split('/')
        .take_while(|part| !part.contains(['*', '?', '[', '{']))
        .collect();
    let mut start = root.to_path_buf();
    for part in &fixed {
        start.push(part);
    }
    let mut found = Vec::new();
    let mut stack = vec![start];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
            }
        } else if let Ok(relative) = path.strip_prefix(root)
            && matcher.is_match(relative)
        {
            found.push((path.clone(), relative.display().to_string()));
        }
    }
    Ok(found)
}

/// Reads a JSON file envparity wrote (a traffic model, a load result), checking its
/// `format` and `version`; errors name the file, line and column, never quote it.
pub fn read_typed<T: serde::de::DeserializeOwned>(
    path: &Path,
    format: &str,
    version: u32,
    what: &str,
) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header = read_header(&text).map_err(|e| {
        anyhow!(
            "{}:{}:{}: not a JSON {what}: {}",
            path.display(),
            e.line(),
            e.column(),
            json_error_kind(&e)
        )
    })?;
    if header.format.as_deref() != Some(format) {
        bail!(
            "{}: not an envparity {what} (no `\"format\": \"{format}\"`)",
            path.display()
        );
    }
    let found = header.version.unwrap_or(0);
    if found != u64::from(version) {
        bail!(
            "{}: {what} version {found}, but this envparity reads version {version}",
            path.display()
        );
    }
    serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "{}:{}:{}: malformed {what}: {}",
            path.display(),
            e.line(),
            e.column(),
            json_error_kind(&e)
        )
    })
}

/// The fields that say what a file is.
#[derive(Default)]
struct Header {
    format: Option<String>,
    version: Option<u64>,
}

/// Reads `format` and `version` from the top-level object, and stops reading once both are
/// known: envparity writes them first, and a snapshot is 100 MB of JSON to skip otherwise.
fn read_header(text: &str) -> Result<Header, serde_json::Error> {
    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
    struct Seed<'h>(&'h mut Header);
    impl<'de> Visitor<'de> for Seed<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                match key.as_ref() {
                    "format" => self.0.format = map.next_value()?,
                    "version" => self.0.version = map.next_value()?,
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                if self.0.format.is_some() && self.0.version.is_some() {
                    return Ok(());
                }
            }
            Ok(())
        }
    }
    impl<'de> DeserializeSeed<'de> for Seed<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }
    let mut header = Header::default();
    let mut reader = serde_json::Deserializer::from_str(text);
    match Seed(&mut header).deserialize(&mut reader) {
        Ok(()) => Ok(header),
        // Stopping early leaves the object open, which the reader then reports: not an
        // error once both fields are read.
        Err(_) if header.format.is_some() && header.version.is_some() => Ok(header),
        Err(e) => Err(e),
    }
}

/// Reads a snapshot file, checking it is one and of a version this build understands.
pub fn read_snapshot(path: &Path) -> anyhow::Result<Snapshot> {
    read_typed(path, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, "snapshot")
}

/// The kind of JSON error without serde's echo of the offending input.
fn json_error_kind(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "JSON syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Eof => "unexpected end of file",
    }
}

/// What to read from an environment's databases, and how.
#[derive(Clone, Debug)]
pub struct DataOptions {
    pub schema: bool,
    pub data: bool,
    pub mode: ModeChoice,
    /// Share of rows, `(0, 1]`.
    pub sample: Option<f64>,
}

impl DataOptions {
    /// Schema but no data profiles: for commands that need neither rows nor statistics.
    pub fn schema_only() -> DataOptions {
        DataOptions {
            schema: true,
            data: false,
            mode: ModeChoice::Auto,
            sample: None,
        }
    }

    pub fn from_args(args: &crate::cli::DataArgs) -> anyhow::Result<DataOptions> {
        let sample = match args.sample {
            Some(pct) if !(pct > 0.0 && pct <= 100.0) => {
                bail!("--sample {pct}: give a percentage above 0 and at most 100")
            }
            Some(pct) => Some(pct / 100.0),
            None => None,
        };
        Ok(DataOptions {
            schema: true,
            data: !args.no_data,
            mode: match args.data_mode {
                crate::cli::DataMode::Auto => ModeChoice::Auto,
                crate::cli::DataMode::Pushdown => ModeChoice::Pushdown,
                crate::cli::DataMode::Streaming => ModeChoice::Streaming,
            },
            sample,
        })
    }
}

/// Resolves each side: an environment of the project, or a snapshot file.
pub fn resolve_sides(
    sides: &[String],
    project: Option<&Project>,
    hasher: &mut Option<SecretHasher>,
    data: &DataOptions,
) -> anyhow::Result<Vec<Snapshot>> {
    // Snapshot files are read and parsed on threads of their own, all at once (each is
    // one long serial parse); environments are collected in turn, each on every core.
    let mut snapshots = Vec::new();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let files: Vec<_> = sides
            .iter()
            .map(|side| {
                let is_environment =
                    project.is_some_and(|p| p.manifest.environments.contains_key(side));
                (!is_environment && Path::new(side).is_file())
                    .then(|| scope.spawn(move || read_snapshot(Path::new(side))))
            })
            .collect();
        for (side, file) in sides.iter().zip(files) {
            if let Some(file) = file {
                let read = file
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                snapshots.push(read?);
            } else if let Some(project) =
                project.filter(|p| p.manifest.environments.contains_key(side))
            {
                let hasher = match hasher {
                    Some(h) => h,
                    None => hasher.insert(key::load(Some(&project.root))?),
                };
                snapshots.push(project.snapshot(side, hasher, data)?);
            } else {
                let known = project
                    .map(|p| p.env_names().join(", "))
                    .unwrap_or_default();
                if project.is_some() {
                    bail!(
                        "`{side}` is neither an environment of envparity.toml ({known}) nor a snapshot file"
                    );
                }
                bail!(
                    "`{side}` is not a snapshot file, and there is no {MANIFEST_NAME} here to name environments"
                );
            }
        }
        Ok(())
    })?;
    let mut names: Vec<&str> = snapshots.iter().map(|s| s.environment.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        bail!("the same environment is given twice: compare two different environments");
    }
    Ok(snapshots)
}

#[cfg(test)]
mod tests {
    use super::read_header;

    #[test]
    fn the_header_is_read_wherever_its_fields_are() {
        let first = read_header(r#"{"format":"f","version":3,"rest":[1,2,{"a":"b"}]}"#).unwrap();
        assert_eq!(
            (first.format.as_deref(), first.version),
            (Some("f"), Some(3))
        );
        let last = read_header(r#"{"rest":{"version":9},"version":4,"format":"g"}"#).unwrap();
        assert_eq!((last.format.as_deref(), last.version), (Some("g"), Some(4)));
        let missing = read_header(r#"{"format":"f","rest":1}"#).unwrap();
        assert_eq!(
            (missing.format.as_deref(), missing.version),
            (Some("f"), None)
        );
    }

    #[test]
    fn a_header_stops_the_read_but_a_broken_start_is_an_error() {
        // Once both fields are read the rest is not looked at (the full parse reports it).
        assert!(read_header(r#"{"format":"f","version":1,"rest":[1,"#).is_ok());
        let broken = read_header("{\n\"format\":\"f\",\n  oops").err().unwrap();
        assert_eq!(
            (broken.line(), broken.classify()),
            (3, serde_json::error::Category::Syntax)
        );
        assert!(read_header(r#"{"format":7,"version":1}"#).is_err());
        assert!(read_header("[1, 2]").is_err());
    }
}
