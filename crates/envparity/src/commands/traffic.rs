//! `envparity traffic model`.

use std::fmt::Write as _;

use anyhow::{Context, anyhow, bail};
use envparity_core::fidelity::{percent, thousands};
use envparity_traffic::input::Input;
use envparity_traffic::model::TrafficModel;
use envparity_traffic::read::ReadOptions;
use envparity_traffic::templates::RouteTemplates;

use crate::cli::TrafficCommand;
use crate::exit;
use crate::printer::{Printer, write_atomic_with};

pub fn run(
    config: Option<&std::path::Path>,
    command: TrafficCommand,
    printer: &Printer,
) -> anyhow::Result<u8> {
    if let TrafficCommand::Compare {
        model,
        runs,
        reference_name,
        run_name,
        p99_limit,
        error_limit,
        format,
        fail_on,
        output,
    } = command
    {
        let reference: envparity_core::traffic::TrafficModel = crate::project::read_typed(
            &model,
            envparity_core::traffic::MODEL_FORMAT,
            envparity_core::traffic::MODEL_VERSION,
            "traffic model",
        )?;
        let files: Vec<_> = runs.iter().map(|p| (p, p.display().to_string())).collect();
        let run = super::load::read_run(&files)?;
        // The project's rules (`[rules.load]`, expected differences) when there is an
        // envparity.toml; the flags, when given, over its thresholds.
        let rules = crate::project::nearest(config)?
            .map(|p| p.manifest.rules)
            .unwrap_or_default();
        let from_rules = envparity_core::load::Limits::from(&rules.load);
        let p99_seconds = p99_limit
            .as_deref()
            .map(|t| {
                // `[rules.load] p99_limit_ms` is in milliseconds: a bare number here
                // would be read in seconds, so the unit is asked for.
                if !t.trim().ends_with(|c: char| c.is_ascii_alphabetic()) {
                    bail!("`{t}`: give a unit (300ms, 1s)");
                }
                super::load::parse_duration(t).map(|d| d.as_secs_f64())
            })
            .transpose()
            .context("--p99-limit")?;
        let limits = envparity_core::load::Limits {
            p99_seconds: p99_seconds.or(from_rules.p99_seconds),
            error_rate: match error_limit {
                Some(limit) => parse_share(&limit).context("--error-limit")?,
                None => from_rules.error_rate,
            },
            ..from_rules
        };
        let report = envparity_core::load::compare_report(
            &reference_name,
            &reference,
            &run_name,
            &run,
            &limits,
            &rules,
            crate::clock::today()?,
        );
        return super::diff::render_and_exit(
            &report,
            format,
            fail_on,
            output.as_deref(),
            false,
            printer,
        );
    }
    let TrafficCommand::Model {
        logs,
        input,
        log_format,
        apache_format,
        json_fields,
        routes,
        openapi,
        strict,
        output,
        json,
    } = command
    else {
        unreachable!("compare returned above")
    };
    let input = Input::from_options(
        input.as_deref(),
        log_format.as_deref(),
        apache_format.as_deref(),
        json_fields.as_deref(),
    )
    .map_err(|e| anyhow!("log format: {e}"))?;
    let mut templates = RouteTemplates::new(&routes).map_err(|e| anyhow!("--route: {e}"))?;
    if let Some(path) = &openapi {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        templates.extend(
            RouteTemplates::from_openapi(&text, &path.display().to_string())
                .map_err(|e| anyhow!("{e}"))?,
        );
    }
    let files: Vec<(std::path::PathBuf, String)> = logs
        .iter()
        .map(|p| (p.clone(), p.display().to_string()))
        .collect();
    let options = ReadOptions {
        input,
        strict,
        templates: (!templates.is_empty()).then(|| std::sync::Arc::new(templates)),
    };
    let builder =
        envparity_traffic::read::read_files(&files, &options).map_err(|e| anyhow!("{e}"))?;
    let model = builder.finish();
    for m in &model.malformed_samples {
        printer.warn(&format!("{}:{}: {}", m.file, m.line, m.why));
    }
    if let Some(path) = &output {
        write_atomic_with(path, |out| {
            serde_json::to_writer_pretty(out, &model).map_err(Into::into)
        })
        .with_context(|| format!("cannot write {}", path.display()))?;
        printer.info(&format!(
            "traffic model: {} requests, {} routes, {} malformed lines → {}",
            thousands(model.requests),
            model.routes.len(),
            thousands(model.malformed),
            path.display()
        ));
    } else if json {
        printer.data(&serde_json::to_string_pretty(&model)?)?;
    } else {
        printer.data(&summary(&model))?;
    }
    Ok(if model.requests == 0 {
        exit::FAILURE
    } else {
        exit::OK
    })
}

/// The model for people: volume, rate, the busiest routes.
fn summary(m: &TrafficModel) -> String {
    let mut out = String::new();
    for s in &m.sources {
        let _ = writeln!(out, "{}: read as {}", s.file, s.format);
    }
    let _ = writeln!(
        out,
        "{} requests from ~{} clients, {} malformed lines of {}",
        thousands(m.requests),
        thousands(m.clients),
        thousands(m.malformed),
        thousands(m.lines)
    );
    if let Some(r) = &m.rate {
        let _ = writeln!(
            out,
            "rate: {:.2} req/s average, peak {} req/s ({:.1}× average), over {} s; dispersion {}",
            r.average_rps,
            r.peak_rps,
            r.peak_to_average,
            thousands(r.span_seconds),
            {
                // Windows in time order (`1s`, `10s`, `60s`), not text order.
                let mut windows: Vec<(&String, &f64)> = r.dispersion.iter().collect();
                windows.sort_by_key(|(w, _)| w.trim_end_matches('s').parse::<u64>().unwrap_or(0));
                windows
                    .iter()
                    .map(|(w, d)| format!("{w} {d:.1}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }
    if let Some(r) = &m.rate {
        for spike in r.spikes.iter().take(3) {
            let mix: Vec<String> = spike
                .routes
                .iter()
                .take(3)
                .map(|s| {
                    format!(
                        "{} {} {} (usually {})",
                        s.method,
                        s.route,
                        percent(s.share),
                        percent(s.usual_share)
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "  spike {}: {} req/s; in its {} s window: {}",
                envparity_core::traffic::utc(spike.at),
                thousands(spike.requests),
                spike.window_seconds,
                mix.join(", ")
            );
        }
        if r.span_seconds >= 6 * 3600 {
            let busiest = r
                .daily
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(h, _)| h);
            let _ = writeln!(
                out,
                "  busiest hour of day: {busiest:02}:00–{:02}:00 UTC ({} of requests)",
                (busiest + 1) % 24,
                percent(r.daily[busiest])
            );
        }
    }
    if let Some(c) = &m.concurrency {
        let _ = writeln!(
            out,
            "in flight: {:.1} average, {:.1} peak",
            c.average, c.peak
        );
    }
    let _ = writeln!(out, "\nroutes ({}), busiest first:", m.routes.len());
    for r in m.routes.iter().take(30) {
        let latency = r
            .latency
            .as_ref()
            .map(|l| format!("  p50 {:.3}s p99 {:.3}s", l.p50, l.p99))
            .unwrap_or_default();
        let errors: u64 = r.status.get("5xx").copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "  {:>7}  {:<6} {}  ({} 5xx){latency}",
            percent(r.share),
            r.method,
            r.route,
            percent(errors as f64 / r.requests.max(1) as f64)
        );
    }
    if m.routes.len() > 30 {
        let _ = writeln!(out, "  … {} more (-o FILE for all)", m.routes.len() - 30);
    }
    out
}

/// `1%`, `0.5 %`, or a fraction (`0.01`).
fn parse_share(text: &str) -> anyhow::Result<f64> {
    let t = text.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| anyhow!("`{text}` is not a share (1%, 0.5%, 0.01)"))?;
    if !(0.0..=1.0).contains(&value) {
        anyhow::bail!("`{text}`: give a share from 0 to 100 %");
    }
    Ok(value)
}
