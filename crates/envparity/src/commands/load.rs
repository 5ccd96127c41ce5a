//! `envparity load`: refuses Production unless told, builds the plan (a URL at a rate, or a
//! traffic model's mix and curve at a multiple of its peak), runs it with a progress line,
//! prints a summary and writes the result; `load merge` and `load k8s-job`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime};

use anyhow::{Context, anyhow, bail};
use envparity_core::fidelity::{percent, thousands};
use envparity_core::load::{ModelRef, RunResult, seconds};
use envparity_core::traffic::TrafficModel;
use envparity_load::http::{Connector, Protocol, Target, TlsOptions};
use envparity_load::mix::{Mix, Templates};
use envparity_load::run::Plan;
use envparity_load::schedule::{Schedule, Shape, ShardPlan};

use crate::cli::{K8sJobArgs, LoadAction, LoadCommand, PlanArgs};
use crate::printer::{Printer, write_atomic_with};
use crate::project::{self, Project};

pub fn run(config: Option<&Path>, command: &LoadCommand, printer: &Printer) -> anyhow::Result<u8> {
    match &command.action {
        Some(LoadAction::Merge { results, output }) => merge(results, output.as_deref(), printer),
        Some(LoadAction::K8sJob(args)) => k8s_job(config, args, printer),
        None => run_load(config, command, printer),
    }
}

fn run_load(config: Option<&Path>, command: &LoadCommand, printer: &Printer) -> anyhow::Result<u8> {
    let args = &command.run;
    let project = project::nearest(config)?;
    let target_text = args.target.as_deref().expect("clap requires it");
    let url = resolve_target(
        project.as_ref(),
        target_text,
        args.i_know_this_is_production,
    )?;
    let shard = match &args.shard {
        Some(s) => ShardPlan::parse(s).map_err(|e| anyhow!(e))?,
        None => ShardPlan::WHOLE,
    };
    let start_at = args.start_at.as_deref().map(parse_start).transpose()?;
    if let Some(t) = start_at
        && t > SystemTime::now() + Duration::from_secs(86_400)
    {
        bail!(
            "--start-at {}: more than a day from now (seconds since 1970, not milliseconds)",
            rfc3339(t)
        );
    }
    if shard.count > 1 && start_at.is_none() {
        bail!(
            "--shard {}/{} needs --start-at: the shards of one run share one start time",
            shard.index,
            shard.count
        );
    }
    let model = args
        .plan
        .model
        .as_deref()
        .map(|m| read_model(project.as_ref(), m))
        .transpose()?;
    let templates = match &args.plan.requests {
        Some(path) => Templates::read(path).map_err(|e| anyhow!(e))?,
        None => Templates::default(),
    };
    let sending = Sending {
        shard,
        start_at,
        precise: args.precise,
    };
    let mut plan = build_plan(
        model.as_ref(),
        &args.plan,
        &templates,
        &url,
        sending,
        printer,
    )?;
    if let Some(t) = args.threads {
        plan.threads = t.clamp(1, 256);
    }
    printer.info(&format!(
        "load: {} requests{} to {} over {}: {}",
        thousands(shard.share_of(plan.schedule.total())),
        if shard.count > 1 {
            format!(
                " (shard {}/{} of {})",
                shard.index,
                shard.count,
                thousands(plan.schedule.total())
            )
        } else {
            String::new()
        },
        plan.connector.target.base(),
        seconds(plan.schedule.duration()),
        plan.schedule.description
    ));
    // A run can take an hour: where its result goes is checked before it starts.
    if let Some(path) = args.output.as_deref().filter(|p| *p != Path::new("-")) {
        let folder = path
            .parent()
            .filter(|f| !f.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !folder.is_dir() {
            bail!(
                "-o {}: no folder {} to write the result in",
                path.display(),
                folder.display()
            );
        }
    }
    if let Some(t) = start_at
        && let Ok(wait) = t.duration_since(SystemTime::now())
        && wait > Duration::from_secs(2)
    {
        printer.info(&format!(
            "waiting {} for --start-at {}",
            seconds(wait.as_secs_f64()),
            rfc3339(t)
        ));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let result = envparity_load::run::run(&plan, stop.clone(), |live| {
        crate::printer::progress_message(
            "load",
            &format!(
                "{:.0} s: {} sent ({:.0}/s, target {:.0}/s), p50 {} p99 {}, {} failed",
                live.elapsed,
                thousands(live.sent),
                live.sent_rps,
                live.target_rps,
                seconds(live.p50),
                seconds(live.p99),
                thousands(live.failed)
            ),
        );
    })
    .map_err(|e| anyhow!(e))?;
    crate::printer::progress_done();
    if result.sent < result.scheduled {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            printer.warn(&format!(
                "stopped early: the result covers the {} requests sent of {} scheduled",
                thousands(result.sent),
                thousands(result.scheduled)
            ));
        } else {
            printer.warn(&format!(
                "{} of {} scheduled requests were not sent by the end of --duration: {}",
                thousands(result.scheduled - result.sent),
                thousands(result.scheduled),
                if result.waited > result.behind {
                    format!("all {} connections were waiting on the target (its queue is in the latency)", args.plan.connections)
                } else {
                    "the generator fell behind (a busy machine? try shards)".to_string()
                }
            ));
        }
    }
    let text = summary(&result);
    let to_stdout = args.output.as_deref() == Some(Path::new("-"));
    if to_stdout {
        // The result is the data; the summary goes with the messages.
        printer.info(text.trim_end());
        printer.data(&serde_json::to_string(&result)?)?;
    } else {
        printer.data(text.trim_end())?;
        if let Some(path) = &args.output {
            if let Err(e) = write_json(path, &result) {
                // The run is done and cannot be redone: keep its result somewhere.
                let rescue = std::env::temp_dir()
                    .join(format!("envparity-load-{}.json", std::process::id()));
                write_json(&rescue, &result)
                    .with_context(|| format!("{e:#}; and the result could not be kept"))?;
                bail!("{e:#}: the result is kept in {}", rescue.display());
            }
            printer.info(&format!("result → {}", path.display()));
        }
    }
    Ok(crate::exit::OK)
}

/// An environment name (its `url`) or a URL; refuses Production unless told.
fn resolve_target(project: Option<&Project>, target: &str, i_know: bool) -> anyhow::Result<String> {
    let environments = project
        .map(|p| p.manifest.environments.values().collect::<Vec<_>>())
        .unwrap_or_default();
    let (url, production) = match environments.iter().find(|e| e.name == target) {
        Some(env) => (
            env.url.clone().ok_or_else(|| {
                anyhow!(
                    "environment `{}` has no `url` in envparity.toml: give one, or a URL",
                    env.name
                )
            })?,
            env.production.then(|| env.name.clone()),
        ),
        None => {
            let parsed = Target::parse(target).map_err(|e| anyhow!(e))?;
            // A URL whose host is a production environment's host is Production.
            let production = environments
                .iter()
                .filter(|e| e.production)
                .find(|e| {
                    e.url
                        .as_deref()
                        .and_then(|u| Target::parse(u).ok())
                        .is_some_and(|t| t.host.eq_ignore_ascii_case(&parsed.host))
                })
                .map(|e| e.name.clone());
            (target.to_string(), production)
        }
    };
    if let Some(env) = &production
        && !i_know
    {
        bail!(
            "refusing to send load to {url}: it is environment `{env}`, marked `production = true` (add --i-know-this-is-production if you mean it)"
        );
    }
    Ok(url)
}

/// A traffic model file, or an environment whose logs envparity.toml names.
fn read_model(project: Option<&Project>, text: &str) -> anyhow::Result<(TrafficModel, String)> {
    if let Some(p) = project
        && p.manifest.environments.contains_key(text)
        && !Path::new(text).is_file()
    {
        let model = p.traffic_model(text)?;
        return Ok((model, format!("{text}'s access logs")));
    }
    let path = Path::new(text);
    let model: TrafficModel = project::read_typed(
        path,
        envparity_core::traffic::MODEL_FORMAT,
        envparity_core::traffic::MODEL_VERSION,
        "traffic model",
    )?;
    Ok((model, path.display().to_string()))
}

/// The plan from the flags; `model` is read by the caller (once: `k8s-job` also ships it).
/// Which share of the schedule this process sends, from when, and how precisely.
#[derive(Clone, Copy)]
struct Sending {
    shard: ShardPlan,
    start_at: Option<SystemTime>,
    precise: bool,
}

fn build_plan(
    model: Option<&(TrafficModel, String)>,
    args: &PlanArgs,
    templates: &Templates,
    url: &str,
    sending: Sending,
    printer: &Printer,
) -> anyhow::Result<Plan> {
    let Sending {
        shard,
        start_at,
        precise,
    } = sending;
    let target = Target::parse(url).map_err(|e| anyhow!(e))?;
    let duration = parse_duration(&args.duration)
        .context("--duration")?
        .as_secs_f64();
    let timeout = parse_duration(&args.timeout).context("--timeout")?;
    let curve: Option<Vec<f64>> = model.and_then(|(m, _)| {
        m.rate
            .as_ref()
            .and_then(|r| r.curve.as_ref())
            .map(|c| c.counts.iter().map(|n| *n as f64).collect())
    });
    let shape_text = args.shape.clone().unwrap_or_else(|| {
        if model.is_some() {
            "replay".into()
        } else {
            "constant".into()
        }
    });
    let shape = Shape::parse(&shape_text, curve.as_deref()).map_err(|e| anyhow!(e))?;
    let rate_text = match (&args.rate, model) {
        (Some(r), _) => r.clone(),
        (None, Some(_)) => "1x".to_string(),
        (None, None) => bail!("--rate: give requests per second (`200/s`), or a --model to follow"),
    };
    let top = top_rate(&rate_text, model.map(|(m, _)| m), &shape)?;
    if !(args.max_rate > 0.0 && args.max_rate.is_finite()) {
        bail!(
            "--max-rate {}: give requests per second above 0",
            args.max_rate
        );
    }
    if !(top > 0.0 && top <= args.max_rate) {
        bail!(
            "--rate {rate_text} comes to {top:.1} req/s: give a rate above 0 and at most --max-rate ({})",
            args.max_rate
        );
    }
    let mix = match model {
        Some((m, _)) => Mix::from_model(m, templates, args.seed),
        None => Mix::single(&target.path, templates, args.seed),
    }
    .map_err(|e| anyhow!("{e}"))?;
    for unused in &mix.unused_params {
        printer.warn(unused);
    }
    let model_ref = model.map(|(m, file)| ModelRef {
        file: file.clone(),
        peak_rps: m.rate.as_ref().map_or(0, |r| r.peak_rps),
        average_rps: m.rate.as_ref().map_or(0.0, |r| r.average_rps),
        routes: m.routes.len() as u64,
        routes_in_mix: mix.routes.len() as u64,
        share_in_mix: mix.share_in_mix,
    });
    if let Some(m) = &model_ref
        && m.routes_in_mix < m.routes
    {
        printer.info(&format!(
            "the mix follows the model's {} busiest routes ({} of its requests); {} rarer ones are left out",
            m.routes_in_mix,
            percent(m.share_in_mix),
            m.routes - m.routes_in_mix
        ));
    }
    let protocol = if args.http2 {
        Protocol::Http2
    } else {
        Protocol::Http1
    };
    let tls = TlsOptions {
        ca_file: args.cacert.clone(),
        insecure: args.insecure,
    };
    let connector = Connector::new(target, protocol, &tls).map_err(|e| anyhow!(e))?;
    Ok(Plan {
        connector,
        schedule: Schedule::new(&shape, top, duration),
        mix,
        shard,
        connections: args.connections.max(1),
        streams: args.streams.max(1),
        timeout,
        precise,
        start_at,
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        direct: true,
        model: model_ref,
    })
}

/// `1500`, `1500/s`, `2x-peak`, `3x`.
fn top_rate(text: &str, model: Option<&TrafficModel>, shape: &Shape) -> anyhow::Result<f64> {
    let t = text.trim();
    if let Some(factor) = t.strip_suffix("x-peak").or_else(|| t.strip_suffix("x")) {
        let k: f64 = factor.parse().map_err(|_| {
            anyhow!("--rate {text}: give `2x-peak`, `3x`, or requests per second (`1500/s`)")
        })?;
        let model = model
            .ok_or_else(|| anyhow!("--rate {text} is relative to a traffic model: give --model"))?;
        let rate = model
            .rate
            .as_ref()
            .ok_or_else(|| anyhow!("--rate {text}: the model has no rate (no timestamps?)"))?;
        if t.ends_with("x-peak") {
            return Ok(k * rate.peak_rps as f64);
        }
        // `Nx` of a replay scales the curve: its busiest step's rate, N times.
        if let (Shape::Replay(_), Some(curve)) = (shape, &rate.curve) {
            let busiest = curve.counts.iter().copied().max().unwrap_or(0) as f64;
            return Ok(k * busiest / curve.step_seconds.max(1) as f64);
        }
        return Ok(k * rate.average_rps);
    }
    t.trim_end_matches("/s")
        .parse()
        .map_err(|_| anyhow!("--rate {text}: give requests per second (`1500` or `1500/s`), or `2x-peak` / `3x` with --model"))
}

/// `30s`, `5m`, `1h`, `250ms`, or seconds.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len()),
    );
    let value: f64 = number
        .parse()
        .map_err(|_| anyhow!("`{text}` is not a duration (30s, 5m, 1h)"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1e3,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => bail!("`{text}`: unknown unit `{unit}` (ms, s, m, h)"),
    };
    if seconds.is_nan() || seconds <= 0.0 || seconds > 7.0 * 86_400.0 {
        bail!("`{text}`: give a duration above 0 and at most a week");
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Seconds since 1970, or RFC 3339 in UTC (`2026-12-01T20:00:00Z`).
fn parse_start(text: &str) -> anyhow::Result<SystemTime> {
    let bad = || {
        anyhow!("--start-at {text}: give seconds since 1970 or RFC 3339 UTC (2026-12-01T20:00:00Z)")
    };
    let seconds: f64 = match text.parse::<f64>() {
        Ok(s) => s,
        Err(_) => {
            let t = text.strip_suffix('Z').ok_or_else(bad)?;
            let (date, time) = t.split_once('T').ok_or_else(bad)?;
            // The calendar date through core's `Date`, which checks month and day.
            let days = envparity_core::Date::parse(date)
                .map_err(|_| bad())?
                .to_unix_days();
            let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
            let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            let h: Vec<i64> = hms
                .split(':')
                .map(|p| digits(p).then(|| p.parse().ok()).flatten().ok_or_else(bad))
                .collect::<Result<_, _>>()?;
            if h.len() != 3 || h[0] > 23 || h[1] > 59 || h[2] > 60 || !digits(frac) {
                return Err(bad());
            }
            let frac: f64 = format!("0.{frac}").parse().map_err(|_| bad())?;
            (days * 86_400 + h[0] * 3600 + h[1] * 60 + h[2]) as f64 + frac
        }
    };
    let since_1970 = Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(bad)?;
    SystemTime::UNIX_EPOCH
        .checked_add(since_1970)
        .ok_or_else(bad)
}

fn rfc3339(t: SystemTime) -> String {
    let s = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    envparity_core::traffic::utc(s)
        .replace(" UTC", "Z")
        .replacen(' ', "T", 1)
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> anyhow::Result<()> {
    write_atomic_with(path, |out| {
        serde_json::to_writer(out, value).map_err(Into::into)
    })
    .with_context(|| format!("cannot write {}", path.display()))
}

/// The run for people: what was sent, how fast, the latency, then route by route.
pub fn summary(r: &RunResult) -> String {
    let mut out = String::new();
    let failed = r.status.get("5xx").copied().unwrap_or(0) + r.errors.values().sum::<u64>();
    let _ = writeln!(
        out,
        "{} requests to {} ({}), {}{}",
        thousands(r.sent),
        r.target,
        r.protocol,
        r.shape,
        match r.shards.as_slice() {
            [] => String::new(),
            shards => format!(
                "; shards {}",
                shards
                    .iter()
                    .map(|s| format!("{}/{}", s.index, s.count))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    );
    let _ = writeln!(
        out,
        "sent {} of {} scheduled at {:.1} req/s; {} late (> 1 ms; > 50 ms: {} waiting for a free connection, {} for the generator), {} answered, {} failed{}",
        thousands(r.sent),
        thousands(r.scheduled),
        r.achieved_rate,
        thousands(r.late),
        thousands(r.waited),
        thousands(r.behind),
        thousands(r.completed),
        thousands(failed),
        if r.errors.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                r.errors
                    .iter()
                    .map(|(k, v)| format!("{k} {}", thousands(*v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    for (kind, why) in &r.error_samples {
        let _ = writeln!(out, "  first {kind} error: {why}");
    }
    let _ = writeln!(
        out,
        "latency (from the intended send): p50 {}, p90 {}, p99 {}, p99.9 {}, max {}",
        seconds(r.latency.p50),
        seconds(r.latency.p90),
        seconds(r.latency.p99),
        seconds(r.latency.p999),
        seconds(r.latency.max)
    );
    let _ = writeln!(
        out,
        "service time (from the actual send): p50 {}, p99 {}",
        seconds(r.service_time.p50),
        seconds(r.service_time.p99)
    );
    if r.routes.len() > 1 {
        let _ = writeln!(
            out,
            "\n  {:>6} {:>7} {:>7} {:>7} {:>7} {:>7}  {:<10} {:<10} route",
            "share", "sent", "2xx", "4xx", "5xx", "errors", "p50", "p99"
        );
        let total: u64 = r.routes.iter().map(|x| x.sent).sum::<u64>().max(1);
        for x in r.routes.iter().take(20) {
            let status = |c: &str| thousands(x.status.get(c).copied().unwrap_or(0));
            let _ = writeln!(
                out,
                "  {:>6} {:>7} {:>7} {:>7} {:>7} {:>7}  {:<10} {:<10} {} {}",
                percent(x.sent as f64 / total as f64),
                thousands(x.sent),
                status("2xx"),
                status("4xx"),
                status("5xx"),
                thousands(x.errors.values().sum()),
                seconds(x.latency.p50),
                seconds(x.latency.p99),
                x.method,
                x.route
            );
        }
        if r.routes.len() > 20 {
            let _ = writeln!(out, "  … {} more routes in the result", r.routes.len() - 20);
        }
    }
    out
}

fn merge(paths: &[PathBuf], output: Option<&Path>, printer: &Printer) -> anyhow::Result<u8> {
    let parts = paths
        .iter()
        .map(|p| read_result(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let merged = envparity_load::result::merge(&parts, &|k| paths[k].display().to_string())
        .map_err(|e| anyhow!(e))?;
    if !merged.shards.is_empty() {
        printer.warn(&format!(
            "only {} of {} shards: the merge covers part of the run",
            merged.shards.len(),
            merged.shards[0].count
        ));
    }
    match output {
        Some(path) if path != Path::new("-") => {
            write_json(path, &merged)?;
            printer.info(summary(&merged).trim_end());
            printer.info(&format!(
                "merged {} results → {}",
                parts.len(),
                path.display()
            ));
        }
        _ => printer.data(&serde_json::to_string(&merged)?)?,
    }
    Ok(crate::exit::OK)
}

/// A load result file.
pub fn read_result(path: &Path) -> anyhow::Result<RunResult> {
    project::read_typed(
        path,
        envparity_core::load::RESULT_FORMAT,
        envparity_core::load::RESULT_VERSION,
        "load result",
    )
}

/// One run from its result files (the shards of one run are merged), each named as
/// `shown` gives it in errors. One file is the run as it is.
pub fn read_run<P: AsRef<Path>>(files: &[(P, String)]) -> anyhow::Result<RunResult> {
    let mut parts = files
        .iter()
        .map(|(path, _)| read_result(path.as_ref()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if parts.len() == 1 {
        return Ok(parts.remove(0));
    }
    envparity_load::result::merge(&parts, &|k| files[k].1.clone()).map_err(|e| anyhow!(e))
}

fn k8s_job(config: Option<&Path>, args: &K8sJobArgs, printer: &Printer) -> anyhow::Result<u8> {
    let project = project::nearest(config)?;
    let url = resolve_target(
        project.as_ref(),
        &args.target,
        args.i_know_this_is_production,
    )?;
    if args.shards == 0 || args.shards > 10_000 {
        bail!("--shards {}: give 1 to 10,000", args.shards);
    }
    // The plan is built here once, so a mistake shows now, not in N pods.
    // Read once (an environment's model is fitted from its logs): planned with, and shipped.
    let model = args
        .plan
        .model
        .as_deref()
        .map(|m| read_model(project.as_ref(), m))
        .transpose()?;
    // `${VAR}`s are the pods' to expand (a token in a Secret they mount), not this
    // machine's: checked here, left as written.
    let templates = match &args.plan.requests {
        Some(path) => Templates::read_unexpanded(path).map_err(|e| anyhow!(e))?,
        None => Templates::default(),
    };
    let whole = Sending {
        shard: ShardPlan::WHOLE,
        start_at: None,
        precise: false,
    };
    let plan = build_plan(model.as_ref(), &args.plan, &templates, &url, whole, printer)?;
    let model_json = model
        .as_ref()
        .map(|(m, _)| serde_json::to_string(m))
        .transpose()?;
    let requests_toml = match &args.plan.requests {
        Some(p) => Some(
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        ),
        None => None,
    };
    // The pods get the requests file in a ConfigMap, and nothing it points to.
    if let Some(((param, file), requests)) = requests_toml
        .as_deref()
        .and_then(|t| {
            envparity_load::mix::Templates::param_files(t)
                .into_iter()
                .next()
        })
        .zip(args.plan.requests.as_deref())
    {
        bail!(
            "{}: [params] {param} reads {file}, which the pods would not have: give its values in the requests file (a list or a range) for k8s-job",
            requests.display()
        );
    }
    let start = SystemTime::now() + parse_duration(&args.start_in).context("--start-in")?;
    let p = &args.plan;
    let mut shard_args = vec![url.clone()];
    let mut push = |flag: &str, value: String| {
        shard_args.push(flag.to_string());
        shard_args.push(value);
    };
    if model_json.is_some() {
        push("--model", "/plan/model.json".to_string());
    }
    if requests_toml.is_some() {
        push("--requests", "/plan/requests.toml".to_string());
    }
    if let Some(r) = &p.rate {
        push("--rate", r.clone());
    }
    if let Some(s) = &p.shape {
        push("--shape", s.clone());
    }
    push("--duration", p.duration.clone());
    // Connections are per shard: the run's total split over the pods.
    push(
        "--connections",
        p.connections
            .div_ceil(args.shards as usize)
            .max(1)
            .to_string(),
    );
    push("--streams", p.streams.to_string());
    push("--timeout", p.timeout.clone());
    push("--max-rate", p.max_rate.to_string());
    push("--seed", p.seed.to_string());
    if p.http2 {
        shard_args.push("--http2".to_string());
    }
    if p.insecure {
        shard_args.push("--insecure".to_string());
    }
    if p.cacert.is_some() {
        bail!(
            "--cacert is a local file: for a job, build the certificate into the image and trust it there"
        );
    }
    if args.i_know_this_is_production {
        shard_args.push("--i-know-this-is-production".to_string());
    }
    let spec = envparity_load::k8s::JobSpec {
        name: args.name.clone(),
        namespace: args.namespace.clone(),
        image: args.image.clone(),
        shards: args.shards,
        args: shard_args,
        model_json,
        requests_toml,
        start_at: rfc3339(start),
        env_from_secret: args.env_from_secret.clone(),
        cpu: args.cpu.clone(),
        memory: args.memory.clone(),
    };
    let yaml = envparity_load::k8s::render(&spec).map_err(|e| anyhow!(e))?;
    printer.info(&format!(
        "{} shards of {} requests in all ({}), starting at {}: apply before then",
        args.shards,
        thousands(plan.schedule.total()),
        plan.schedule.description,
        spec.start_at
    ));
    match &args.output {
        Some(path) => {
            crate::printer::write_atomic(path, yaml.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            printer.info(&format!("job → {}", path.display()));
        }
        None => printer.data(yaml.trim_end())?,
    }
    Ok(crate::exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_times_read_both_ways() {
        let t = parse_start("2026-12-01T20:00:00Z").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            1_796_155_200
        );
        assert_eq!(rfc3339(t), "2026-12-01T20:00:00Z");
        assert_eq!(parse_start("1796155200").unwrap(), t);
        assert!(parse_start("tomorrow").is_err());
        assert!(parse_start("2026-13-01T20:00:00Z").is_err(), "month 13");
        assert!(parse_start("2026-12-01T25:00:00Z").is_err(), "hour 25");
        for bad in [
            "2026-12-01T-1:00:00Z",
            "2026-12-01T20:00:00.5e3Z",
            "2026-12-01T+2:00:00Z",
            "1e300",
            "-5",
            "0",
            "NaN",
        ] {
            assert!(parse_start(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_start("2026-12-01T20:00:00.25Z").unwrap(),
            t + Duration::from_millis(250)
        );
    }
}
