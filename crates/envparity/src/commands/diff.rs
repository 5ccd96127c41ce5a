use std::path::Path;

use anyhow::Context;
use envparity_core::{Class, Report, Rules, Severity};
use envparity_report::{OutputFormat, RenderOptions};

use crate::cli::{DiffArgs, FailOn, FormatArg};
use crate::printer::{Printer, write_atomic, write_atomic_with};
use crate::project::DataOptions;
use crate::{clock, exit, project};

/// Builds the report for the given sides (environment names or snapshot files).
pub fn build_report(
    config: Option<&Path>,
    sides: &[String],
    data: &DataOptions,
) -> anyhow::Result<Report> {
    let project = project::nearest(config)?;
    let mut hasher = None;
    let started = std::time::Instant::now();
    let snapshots = project::resolve_sides(sides, project.as_ref(), &mut hasher, data)?;
    let collected = started.elapsed();
    let default_rules;
    let rules: &Rules = match &project {
        Some(p) => &p.manifest.rules,
        None => {
            default_rules = Rules::default();
            &default_rules
        }
    };
    let today = clock::today()?;
    let compare_started = std::time::Instant::now();
    let report = envparity_core::compare(&snapshots, rules, today);
    // The snapshots hold millions of small strings and the process ends soon: freeing
    // them one by one would cost a noticeable share of a large diff for nothing.
    std::mem::forget(snapshots);
    if std::env::var_os("ENVPARITY_TIMINGS").is_some() {
        eprintln!(
            "timings: collect {:.2?}, compare {:.2?}",
            collected,
            compare_started.elapsed()
        );
    }
    Ok(report)
}

pub fn run(config: Option<&Path>, args: &DiffArgs, printer: &Printer) -> anyhow::Result<u8> {
    let mut report = build_report(config, &args.sides, &DataOptions::from_args(&args.data)?)?;
    if !args.facets.is_empty() {
        let facets: Vec<envparity_core::Facet> = args.facets.iter().map(|f| f.facet()).collect();
        report.keep_facets(&facets);
    }
    let code = render_and_exit(
        &report,
        args.format,
        args.fail_on,
        args.output.as_deref(),
        args.verbose,
        printer,
    );
    // As for the snapshots: a large report is ~600,000 small strings, and the process ends.
    std::mem::forget(report);
    code
}

/// Renders a report to stdout or a file and returns the exit code `fail_on` gives.
pub fn render_and_exit(
    report: &Report,
    format: FormatArg,
    fail_on: FailOn,
    output: Option<&Path>,
    verbose: bool,
    printer: &Printer,
) -> anyhow::Result<u8> {
    let format = match format {
        FormatArg::Text => OutputFormat::Text,
        FormatArg::Json => OutputFormat::Json,
        FormatArg::Markdown => OutputFormat::Markdown,
        FormatArg::Junit => OutputFormat::Junit,
        FormatArg::Sarif => OutputFormat::Sarif,
        FormatArg::Html => OutputFormat::Html,
    };
    let color = output.is_none() && printer.stdout_color;
    let render = || envparity_report::render(report, format, &RenderOptions { color, verbose });
    match output {
        Some(path) => {
            let written = match format {
                OutputFormat::Json => {
                    write_atomic_with(path, |out| envparity_report::write_json(report, out))
                }
                _ => write_atomic(path, render().as_bytes()),
            };
            written.with_context(|| format!("cannot write {}", path.display()))?;
            printer.info(&format!(
                "score {:.1} · {} → {}",
                report.score,
                envparity_report::plural(report.actionable().count() as u64, "finding", "findings"),
                path.display()
            ));
        }
        None => printer.data(&render())?,
    }
    Ok(exit_code(report, fail_on))
}

/// 2 when a source could not be read, else 1 when findings reach `--fail-on`, else 0.
pub fn exit_code(report: &Report, fail_on: FailOn) -> u8 {
    if report.has_unreadable() {
        return exit::FAILURE;
    }
    let fails = report.findings.iter().any(|f| match fail_on {
        FailOn::Never => false,
        FailOn::Drift => f.class.is_actionable(),
        FailOn::Warning => {
            f.class != Class::Expected
                && f.class != Class::EnvEquivalent
                && f.severity >= Severity::Warning
        }
        FailOn::Error => {
            f.class != Class::Expected
                && f.class != Class::EnvEquivalent
                && f.severity >= Severity::Error
        }
    });
    if fails { exit::DIFFERENCES } else { exit::OK }
}
