//! `envparity data profile` and `envparity data diff`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use envparity_core::fidelity::{column_fidelity, percent, thousands};
use envparity_core::profile::{ColumnKind, ColumnProfile, DataSnapshot, ratio};
use envparity_core::snapshot::{ConfigSnapshot, Snapshot};
use envparity_report::{OutputFormat, RenderOptions};

use crate::cli::{DataCommand, DiffArgs, FormatArg};
use crate::printer::{Printer, write_atomic_with};
use crate::project::{self, DataOptions};
use crate::{clock, exit};

pub fn run(config: Option<&Path>, command: DataCommand, printer: &Printer) -> anyhow::Result<u8> {
    match command {
        DataCommand::Profile {
            env,
            output,
            json,
            data,
        } => profile(config, &env, output.as_deref(), json, &data, printer),
        DataCommand::Diff(args) => diff(config, &args, printer),
    }
}

fn data_only(args: &crate::cli::DataArgs) -> anyhow::Result<DataOptions> {
    let mut options = DataOptions::from_args(args)?;
    options.schema = false;
    options.data = true;
    Ok(options)
}

fn profile(
    config: Option<&Path>,
    env: &str,
    output: Option<&Path>,
    json: bool,
    args: &crate::cli::DataArgs,
    printer: &Printer,
) -> anyhow::Result<u8> {
    let project = project::require(config)?;
    let environment = project.manifest.environments.get(env).ok_or_else(|| {
        anyhow::anyhow!(
            "no environment `{env}` in {} (it has: {})",
            project.path.display(),
            project.env_names().join(", ")
        )
    })?;
    if environment.databases.is_empty() {
        anyhow::bail!(
            "environment `{env}` names no database in {}: add `database = \"…\"` to [environments.{env}]",
            project.path.display()
        );
    }
    let snapshot = project.data_snapshot(env, &data_only(args)?)?;
    for error in &snapshot.data.errors {
        printer.warn(&error.to_string());
    }
    if let Some(path) = output {
        write_atomic_with(path, |out| {
            serde_json::to_writer_pretty(out, &snapshot).map_err(Into::into)
        })
        .with_context(|| format!("cannot write {}", path.display()))?;
        printer.info(&format!(
            "profile of {env}: {} → {}",
            summary_line(&snapshot.data),
            path.display()
        ));
    } else if json {
        printer.data(&serde_json::to_string_pretty(&snapshot)?)?;
    } else {
        printer.data(&render_profile(&snapshot))?;
    }
    let failed = !snapshot.data.errors.is_empty()
        || snapshot
            .data
            .databases
            .iter()
            .any(|d| d.tables.iter().any(|t| t.error.is_some()));
    Ok(if failed { exit::FAILURE } else { exit::OK })
}

fn summary_line(data: &DataSnapshot) -> String {
    let tables: usize = data.databases.iter().map(|d| d.tables.len()).sum();
    let columns: usize = data
        .databases
        .iter()
        .flat_map(|d| &d.tables)
        .map(|t| t.columns.len())
        .sum();
    let sensitive = data
        .databases
        .iter()
        .flat_map(|d| &d.tables)
        .flat_map(|t| &t.columns)
        .filter(|c| c.sensitive.is_some())
        .count();
    format!(
        "{} database{}, {tables} tables, {columns} columns ({sensitive} sensitive)",
        data.databases.len(),
        if data.databases.len() == 1 { "" } else { "s" }
    )
}

/// A profile for people: one block per table, one line per column.
fn render_profile(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "data profile of {} · {}",
        snapshot.environment,
        summary_line(&snapshot.data)
    );
    for db in &snapshot.data.databases {
        let _ = writeln!(out, "\n{} ({})", db.source, db.engine);
        for t in &db.tables {
            if let Some(e) = &t.error {
                let _ = writeln!(out, "\n  {}: could not be profiled: {e}", t.name);
                continue;
            }
            let _ = writeln!(
                out,
                "\n  {} · {}{} rows{} · {:?}, {}",
                t.name,
                if t.rows_exact { "" } else { "~" },
                thousands(t.rows),
                if t.rows_exact { "" } else { " (estimated)" },
                t.mode,
                t.method
            );
            let width = t.columns.iter().map(|c| c.name.len()).max().unwrap_or(0);
            for c in &t.columns {
                let _ = writeln!(out, "    {:width$}  {}", c.name, column_line(c));
            }
        }
    }
    out
}

fn column_line(c: &ColumnProfile) -> String {
    let mut parts = vec![
        c.data_type.clone(),
        format!("{} NULL", percent(c.null_rate())),
        format!(
            "{}{} distinct",
            if c.distinct_exact { "" } else { "~" },
            thousands(c.distinct)
        ),
    ];
    if c.kind == ColumnKind::Text {
        parts.push(format!("{} empty", percent(c.empty_rate())));
        if let Some(cc) = c.chars {
            parts.push(format!(
                "{} non-ASCII",
                percent(ratio(cc.non_ascii, cc.values))
            ));
        }
        if let Some((shape, n)) = c.shapes.first() {
            parts.push(format!(
                "shape `{shape}` {}",
                percent(ratio(*n, c.values - c.nulls))
            ));
        }
    }
    if let (Some(min), Some(max)) = (&c.min, &c.max) {
        parts.push(format!("{min} … {max}"));
    }
    if let Some(why) = &c.sensitive {
        parts.push(format!("SENSITIVE: {why}"));
    }
    parts.join(" · ")
}

fn diff(config: Option<&Path>, args: &DiffArgs, printer: &Printer) -> anyhow::Result<u8> {
    let project = project::nearest(config)?;
    let mut hasher = None;
    let mut snapshots = project::resolve_sides(
        &args.sides,
        project.as_ref(),
        &mut hasher,
        &data_only(&args.data)?,
    )?;
    for s in &mut snapshots {
        s.config = ConfigSnapshot::default();
        s.schema = ConfigSnapshot::default();
    }
    let default_rules = envparity_core::Rules::default();
    let rules = project
        .as_ref()
        .map(|p| &p.manifest.rules)
        .unwrap_or(&default_rules);
    let mut report = envparity_core::compare(&snapshots, rules, clock::today()?);
    // Only data was compared: rules about other keys matched nothing, and that says nothing.
    report
        .notes
        .retain(|n| !n.starts_with("rules.expect `") || n.starts_with("rules.expect `data"));
    let format = match args.format {
        FormatArg::Text => OutputFormat::Text,
        FormatArg::Json => OutputFormat::Json,
        FormatArg::Markdown => OutputFormat::Markdown,
        FormatArg::Junit => OutputFormat::Junit,
        FormatArg::Sarif => OutputFormat::Sarif,
        FormatArg::Html => OutputFormat::Html,
    };
    let mut rendered = envparity_report::render(
        &report,
        format,
        &RenderOptions {
            color: args.output.is_none() && printer.stdout_color,
            verbose: args.verbose,
        },
    );
    if format == OutputFormat::Text {
        rendered.push_str(&fidelity_table(&snapshots));
    }
    match &args.output {
        Some(path) => {
            crate::printer::write_atomic(path, rendered.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => printer.data(&rendered)?,
    }
    Ok(super::diff::exit_code(&report, args.fail_on))
}

/// Per column, the fidelity figure of each environment against the reference.
fn fidelity_table(snapshots: &[Snapshot]) -> String {
    let reference = envparity_core::compare::reference_index(snapshots);
    let b = &snapshots[reference];
    let mut out = String::new();
    for (i, a) in snapshots.iter().enumerate() {
        if i == reference {
            continue;
        }
        let _ = writeln!(
            out,
            "\ncolumn fidelity of {} against {} (100 = same distribution):",
            a.environment, b.environment
        );
        for db_b in &b.data.databases {
            let Some(db_a) = a.data.databases.iter().find(|d| d.name == db_b.name) else {
                continue;
            };
            for tb in &db_b.tables {
                let Some(ta) = db_a.tables.iter().find(|t| t.name == tb.name) else {
                    continue;
                };
                for cb in &tb.columns {
                    let Some(ca) = ta.columns.iter().find(|c| c.name == cb.name) else {
                        continue;
                    };
                    let f = column_fidelity(ca, cb);
                    let _ = writeln!(out, "  {:>5.1}  {}.{}", f.score(), tb.name, cb.name);
                }
            }
        }
    }
    out
}
