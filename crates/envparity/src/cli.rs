//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "envparity",
    version,
    about = "Finds, fixes and prevents the differences between QA and Production.",
    after_help = "Exit codes: 0 in parity or success, 1 differences found (see --fail-on), 2 envparity could not do its job."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// envparity.toml to use (default: the nearest one in this folder or its parents).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented envparity.toml for the environment folders found here, and a key file.
    Init {
        /// Overwrite an existing envparity.toml.
        #[arg(long)]
        force: bool,
    },
    /// Print the JSON Schema of envparity.toml, for editors.
    Schema,
    /// Collect one environment into a snapshot (secrets hashed).
    Snapshot {
        /// The environment's name in envparity.toml.
        env: String,
        /// Write the snapshot here instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Compare environments (names or snapshot files); three or more give a matrix.
    Diff(DiffArgs),
    /// Accept today's drift: record it in the baseline file with a reason and an expiry.
    Baseline(BaselineArgs),
    /// Data profiles (no row leaves the database) and data fidelity alone.
    #[command(subcommand)]
    Data(DataCommand),
    /// A model of traffic fitted from access logs: routes, rates, latencies.
    #[command(subcommand)]
    Traffic(TrafficCommand),
    /// Who can do what: database roles and grants, Kubernetes RBAC, app switches.
    #[command(subcommand)]
    Access(AccessCommand),
    /// Send load on a schedule (open model) and measure latency from each request's
    /// intended send time, so stalls show: one URL at a constant rate, or Production's
    /// traffic model (route mix and rate curve) at a multiple of its peak.
    Load(Box<LoadCommand>),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct LoadCommand {
    #[command(subcommand)]
    pub action: Option<LoadAction>,
    #[command(flatten)]
    pub run: LoadArgs,
}

#[derive(Debug, Subcommand)]
pub enum LoadAction {
    /// Merge the results of one run's shards exactly (histograms added, not averaged).
    Merge {
        /// Shard results (`envparity load … --shard i/N -o FILE`).
        #[arg(required = true, value_name = "RESULT")]
        results: Vec<PathBuf>,
        /// Write the merged result here (default: stdout).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Render a Kubernetes Indexed Job (and a ConfigMap with the plan) that runs the load
    /// as N shards from one common start time; merge their results with `load merge`.
    K8sJob(Box<K8sJobArgs>),
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// A URL (`http://…`, `https://…`), or an environment whose `url` envparity.toml gives.
    #[arg(required = true)]
    pub target: Option<String>,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Send only this share of the schedule: `INDEX/COUNT` (INDEX from 0). Shards of one
    /// run need one `--start-at`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// When the schedule begins: seconds since 1970 or RFC 3339 UTC
    /// (`2026-12-01T20:00:00Z`). Default: now.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,
    /// Spin through the last 200 µs before each due time instead of sleeping: sends within
    /// microseconds of schedule, at the cost of one busy core.
    #[arg(long)]
    pub precise: bool,
    /// Threads sending and receiving (default: one per core). On a machine shared with
    /// the target, fewer can be faster.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Send load to an environment marked `production = true` anyway.
    #[arg(long)]
    pub i_know_this_is_production: bool,
    /// Write the result (JSON, histograms included) here; `-` for stdout (the summary
    /// then goes to stderr).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What to send and how fast: shared by `load` and `load k8s-job`.
#[derive(Debug, Args, Clone)]
pub struct PlanArgs {
    /// A traffic model (`envparity traffic model … -o FILE`), or an environment whose logs
    /// envparity.toml names: its route mix and rate curve shape the load.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// The top rate: `1500` or `1500/s`; with a model, `2x-peak` (twice its busiest
    /// second) or `3x` (three times its rate: the busiest step of its curve for `replay`,
    /// its average for other shapes). Default with a model: `1x`.
    #[arg(long)]
    pub rate: Option<String>,
    /// How the rate moves: `constant`, `ramp` (a tenth of the top up to it), `steps[:N]`,
    /// `spike[:BASE]`, `replay` (the model's curve compressed into --duration). Default:
    /// `replay` with a model, else `constant`.
    #[arg(long)]
    pub shape: Option<String>,
    /// How long: `30s`, `5m`, `1h`.
    #[arg(long, default_value = "30s")]
    pub duration: String,
    /// Connections (HTTP/1.1: the most requests in flight at once).
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// HTTP/2: streams in flight per connection.
    #[arg(long, default_value_t = 16)]
    pub streams: usize,
    /// Speak HTTP/2 (ALPN over TLS, prior knowledge over plain http).
    #[arg(long)]
    pub http2: bool,
    /// A TOML file of request templates: `[headers]`, `[params]` values, `[[request]]`
    /// path, headers and body per route (see docs/load.md).
    #[arg(long, value_name = "FILE")]
    pub requests: Option<PathBuf>,
    /// Trust these PEM certificates instead of the system's.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Accept any TLS certificate (a QA host with a self-signed one).
    #[arg(long)]
    pub insecure: bool,
    /// A request unanswered for this long is a `timeout` error.
    #[arg(long, default_value = "10s")]
    pub timeout: String,
    /// Refuse a top rate above this (requests per second).
    #[arg(long, default_value_t = 20_000.0)]
    pub max_rate: f64,
    /// Seeds the route draw and parameter values (same seed, same requests).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct K8sJobArgs {
    /// A URL, or an environment whose `url` envparity.toml gives.
    pub target: String,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Pods, each running one shard.
    #[arg(long, default_value_t = 4)]
    pub shards: u32,
    /// The envparity image the pods run (built and pushed by you).
    #[arg(long)]
    pub image: String,
    #[arg(long, default_value = "default")]
    pub namespace: String,
    #[arg(long, default_value = "envparity-load")]
    pub name: String,
    /// The common start, this long after rendering (time to apply and pull the image).
    #[arg(long, default_value = "2m")]
    pub start_in: String,
    /// A Secret whose keys become the pods' environment (for `${VAR}` in --requests).
    #[arg(long, value_name = "SECRET")]
    pub env_from_secret: Option<String>,
    /// CPU request per pod.
    #[arg(long, default_value = "1")]
    pub cpu: String,
    /// Memory request and limit per pod.
    #[arg(long, default_value = "512Mi")]
    pub memory: String,
    /// Render a job against an environment marked `production = true` anyway.
    #[arg(long)]
    pub i_know_this_is_production: bool,
    /// Write the manifests here (default: stdout).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// The strictness pack on one environment: superuser or BYPASSRLS app roles, PUBLIC
    /// grants, cluster-admin or wildcard RBAC, trust auth, auth/TLS/CORS switches. Each
    /// finding names the grant, binding or switch to change.
    Audit {
        /// An environment name or a snapshot file.
        env: String,
        #[arg(long, short, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
        /// Exit 1 when findings reach this level.
        #[arg(long, value_enum, default_value_t = FailOn::Drift)]
        fail_on: FailOn,
        /// Write the report here instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// The access facet of `diff` alone: what one environment grants that another does
    /// not, and the reference's strictness pack.
    Diff(DiffArgs),
    /// What principals may do, per environment, as JSON: attributes, memberships, direct
    /// and inherited permissions. `--principal` filters by name (substring).
    Show {
        /// Environment names or snapshot files.
        #[arg(required = true, value_name = "ENV_OR_SNAPSHOT")]
        sides: Vec<String>,
        #[arg(long, value_name = "NAME", default_value = "")]
        principal: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TrafficCommand {
    /// Production's traffic model against a load run: per route latency and errors
    /// side by side, routes the run never sent, the load at which QA gave way (its knee),
    /// and a verdict on headroom. Exit 1 when findings reach --fail-on.
    Compare {
        /// The reference traffic model (`envparity traffic model … -o prod.traffic.json`).
        model: PathBuf,
        /// The load run's result (`envparity load … -o qa-run.json`); several: shards,
        /// merged first.
        #[arg(required = true, value_name = "RUN")]
        runs: Vec<PathBuf>,
        /// Name the two sides in the report.
        #[arg(long, default_value = "prod")]
        reference_name: String,
        #[arg(long, default_value = "qa")]
        run_name: String,
        /// A step is past the knee when its p99 is above this (default: envparity.toml's
        /// `[rules.load] p99_limit_ms`, else 3× the run's p99 at low load, at least 100 ms).
        #[arg(long, value_name = "DURATION")]
        p99_limit: Option<String>,
        /// … or when more than this share of its requests failed, 5xx or no answer
        /// (default: `[rules.load] error_limit`, else 1%).
        #[arg(long, value_name = "SHARE")]
        error_limit: Option<String>,
        #[arg(long, short, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
        /// Exit 1 when findings reach this level.
        #[arg(long, value_enum, default_value_t = FailOn::Drift)]
        fail_on: FailOn,
        /// Write the report here instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Read access logs (plain or gzip) into a traffic model: route templates and their
    /// mix, status classes, latency quantiles, the arrival rate with its peak and bursts.
    /// Client addresses are only counted and query values dropped.
    Model {
        /// Access-log files.
        #[arg(required = true, value_name = "LOG")]
        logs: Vec<PathBuf>,
        /// A named format: `auto` (default: told from each file's first lines),
        /// `combined`, `common`, `alb`, `har`, `json`, or a JSON-lines preset: `envoy`,
        /// `traefik`, `caddy`, `nginx-json`, `generic`.
        #[arg(long, value_name = "NAME", conflicts_with_all = ["log_format", "apache_format"])]
        input: Option<String>,
        /// An nginx `log_format` string, pasted from nginx.conf.
        #[arg(long, value_name = "FORMAT", conflicts_with_all = ["apache_format", "json_fields"])]
        log_format: Option<String>,
        /// An Apache `LogFormat` string (`%h %l %u %t "%r" %>s %b %D`).
        #[arg(long, value_name = "FORMAT", conflicts_with = "json_fields")]
        apache_format: Option<String>,
        /// JSON lines: which keys hold what, e.g.
        /// `time=start_time:start,method=method,target=path,status=code,duration=took:ms`
        /// (dotted keys reach into nested objects; `a|b` tries `a`, then `b`).
        #[arg(long, value_name = "MAPPING")]
        json_fields: Option<String>,
        /// A route template (`/users/{id}/orders`, `GET /checkout`, `/static/*`); repeat
        /// the flag for more. Templates win over the ones inferred from URLs.
        #[arg(long = "route", value_name = "TEMPLATE")]
        routes: Vec<String>,
        /// An OpenAPI 3 or Swagger 2 file (YAML or JSON) whose paths are route templates.
        #[arg(long, value_name = "FILE")]
        openapi: Option<PathBuf>,
        /// Stop at the first malformed line instead of counting it.
        #[arg(long)]
        strict: bool,
        /// Write the model (JSON) here instead of printing a summary.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Print the model as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Profile an environment's databases: row counts, null and empty rates, distinct
    /// counts, quantiles, character classes and value shapes per column. Sensitive
    /// columns get no raw value.
    Profile {
        /// The environment's name in envparity.toml.
        env: String,
        /// Write the profile (JSON) here instead of printing a summary.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Print the profile as JSON on stdout instead of a summary.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Compare the data of environments (names or snapshot files): fidelity per column.
    Diff(DiffArgs),
}

/// How databases are read.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// `pushdown` runs the aggregates as SQL in the database; `streaming` reads the rows
    /// (COPY for PostgreSQL) and summarizes them here; `auto` pushes down to servers and
    /// streams files and SQLite.
    #[arg(long, value_enum, default_value_t = DataMode::Auto)]
    pub data_mode: DataMode,
    /// Profile this percentage of each table's rows (default: all rows, or about a
    /// million rows of larger tables).
    #[arg(long, value_name = "PCT")]
    pub sample: Option<f64>,
    /// Read database schemas but not their data.
    #[arg(long)]
    pub no_data: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DataMode {
    Auto,
    Pushdown,
    Streaming,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Environment names from envparity.toml, or snapshot files. The one marked
    /// `production` (else the last) is the reference the others are compared with.
    #[arg(required = true, num_args = 2.., value_name = "ENV_OR_SNAPSHOT")]
    pub sides: Vec<String>,
    #[arg(long, short, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Exit 1 when findings reach this level: `drift` (any unaccepted difference),
    /// `warning` or `error` (by severity), or `never`.
    #[arg(long, value_enum, default_value_t = FailOn::Drift)]
    pub fail_on: FailOn,
    /// Write the report here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// List expected and env-equivalent findings one by one.
    #[arg(short, long)]
    pub verbose: bool,
    /// Only these facets (repeatable): config, schema, data, traffic, access.
    #[arg(long = "facet", value_enum, value_name = "FACET")]
    pub facets: Vec<FacetArg>,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FacetArg {
    Config,
    Schema,
    Data,
    Traffic,
    Access,
}

impl FacetArg {
    pub fn facet(self) -> envparity_core::Facet {
        match self {
            FacetArg::Config => envparity_core::Facet::Config,
            FacetArg::Schema => envparity_core::Facet::Schema,
            FacetArg::Data => envparity_core::Facet::Data,
            FacetArg::Traffic => envparity_core::Facet::Traffic,
            FacetArg::Access => envparity_core::Facet::Access,
        }
    }
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The two sides to baseline (default: the two environments of envparity.toml).
    #[arg(num_args = 0..=2, value_name = "ENV")]
    pub sides: Vec<String>,
    /// Why this drift is accepted; recorded with every entry.
    #[arg(long, default_value = "accepted when adopting envparity")]
    pub reason: String,
    /// Entries expire after this many days (then the drift counts again).
    #[arg(long, default_value_t = 90, conflicts_with = "expires")]
    pub days: u32,
    /// Entries expire on this date (YYYY-MM-DD).
    #[arg(long)]
    pub expires: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FormatArg {
    Text,
    Json,
    #[value(alias = "md")]
    Markdown,
    Junit,
    Sarif,
    Html,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FailOn {
    Drift,
    Warning,
    Error,
    Never,
}
