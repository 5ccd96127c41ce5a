//! `envparity load`: refuses Production unless told, runs the plan with a progress line,
//! prints a summary and writes the result.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use envparity_load::http::Target;
use envparity_load::run::{Plan, Progress};

use crate::cli::LoadArgs;
use crate::printer::{Printer, write_atomic_with};
use crate::project;

pub fn run(config: Option<&Path>, args: &LoadArgs, printer: &Printer) -> anyhow::Result<u8> {
    let project = match project::find(config)? {
        Some(path) => Some(project::load(&path)?),
        None => None,
    };
    let environments = project
        .as_ref()
        .map(|p| p.manifest.environments.values().collect::<Vec<_>>())
        .unwrap_or_default();
    // An environment name, or a URL.
    let (url, production) = match environments.iter().find(|e| e.name == args.target) {
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
            let target = Target::parse(&args.target).map_err(|e| anyhow!(e))?;
            // A URL whose host is a production environment's host is Production.
            let production = environments
                .iter()
                .filter(|e| e.production)
                .find(|e| {
                    e.url
                        .as_deref()
                        .and_then(|u| Target::parse(u).ok())
                        .is_some_and(|t| t.host.eq_ignore_ascii_case(&target.host))
                })
                .map(|e| e.name.clone());
            (args.target.clone(), production)
        }
    };
    if let Some(env) = &production
        && !args.i_know_this_is_production
    {
        bail!(
            "refusing to send load to {url}: it is environment `{env}`, marked `production = true` (add --i-know-this-is-production if you mean it)"
        );
    }
    let target = Target::parse(&url).map_err(|e| anyhow!(e))?;
    let rate: f64 = args
        .rate
        .trim_end_matches("/s")
        .parse()
        .map_err(|_| {
            anyhow!(
                "--rate {}: give requests per second (`200` or `200/s`); model-relative rates (`2x-peak`) need --model, which is not built yet",
                args.rate
            )
        })?;
    if rate.is_nan() || rate <= 0.0 || rate > args.max_rate {
        bail!(
            "--rate {rate}: give a rate above 0 and at most --max-rate ({})",
            args.max_rate
        );
    }
    let duration = parse_duration(&args.duration).context("--duration")?;
    let timeout = parse_duration(&args.timeout).context("--timeout")?;
    let plan = Plan {
        url: url.clone(),
        target,
        rate,
        duration,
        connections: args.connections.max(1),
        timeout,
        precise: args.precise,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(Progress::default());
    let done = Arc::new(AtomicBool::new(false));
    let reporter = {
        let (progress, done) = (progress.clone(), done.clone());
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let mut last = 0;
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(250));
                let elapsed = started.elapsed().as_secs();
                if elapsed > last {
                    last = elapsed;
                    let sent = progress.sent.load(Ordering::Relaxed);
                    crate::printer::progress_message(
                        "load",
                        &format!(
                            "{elapsed} s: {sent} sent ({:.0} req/s, target {rate:.0}), {} errors",
                            sent as f64 / started.elapsed().as_secs_f64(),
                            progress.errors.load(Ordering::Relaxed)
                        ),
                    );
                }
            }
        })
    };
    let result = envparity_load::run::run(&plan, stop.clone(), progress);
    done.store(true, Ordering::Relaxed);
    let _ = reporter.join();
    crate::printer::progress_done();
    if stop.load(Ordering::Relaxed) {
        printer.warn("stopped early: the result covers the requests answered before the stop");
    }
    let errors: u64 = result.errors.values().sum();
    printer.data(&format!(
        "{} requests to {} at {:.1} req/s (target {:.1}); {} late, {} errors{}\nlatency (from the intended send): p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms\nservice time (from the actual send): p50 {:.1} ms, p99 {:.1} ms",
        result.completed,
        result.target,
        result.achieved_rate,
        result.target_rate,
        result.late,
        errors,
        if result.errors.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                result
                    .errors
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        result.latency.p50 * 1e3,
        result.latency.p90 * 1e3,
        result.latency.p99 * 1e3,
        result.latency.max * 1e3,
        result.service_time.p50 * 1e3,
        result.service_time.p99 * 1e3,
    ))?;
    if let Some(path) = &args.output {
        write_atomic_with(path, |out| {
            serde_json::to_writer_pretty(out, &result).map_err(Into::into)
        })
        .with_context(|| format!("cannot write {}", path.display()))?;
        printer.info(&format!("result → {}", path.display()));
    }
    Ok(crate::exit::OK)
}

/// `30s`, `5m`, `1h`, `250ms`, or seconds.
fn parse_duration(text: &str) -> anyhow::Result<Duration> {
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
