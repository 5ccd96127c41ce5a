//! `envparity access audit | diff | show`.

use std::path::Path;

use crate::cli::{AccessCommand, FacetArg};
use crate::printer::Printer;
use crate::project::{self, DataOptions};

pub fn run(config: Option<&Path>, command: AccessCommand, printer: &Printer) -> anyhow::Result<u8> {
    match command {
        AccessCommand::Audit {
            env,
            format,
            fail_on,
            output,
        } => {
            let (snapshot, rules) = one_side(config, &env)?;
            let report = envparity_core::access::audit_report(&snapshot, &rules);
            super::diff::render_and_exit(&report, format, fail_on, output.as_deref(), true, printer)
        }
        AccessCommand::Diff(mut args) => {
            args.facets = vec![FacetArg::Access];
            super::diff::run(config, &args, printer)
        }
        AccessCommand::Show { sides, principal } => {
            let mut reports = Vec::new();
            for side in &sides {
                let (snapshot, _) = one_side(config, side)?;
                if let Some(model) = &snapshot.access {
                    reports.extend(envparity_core::access::principal_reports(
                        model,
                        &snapshot.environment,
                        &principal,
                    ));
                }
            }
            printer.data(&serde_json::to_string_pretty(&reports)?)?;
            Ok(if reports.is_empty() {
                crate::exit::DIFFERENCES
            } else {
                crate::exit::OK
            })
        }
    }
}

/// One environment (by name, from envparity.toml) or snapshot file, without data profiles.
fn one_side(
    config: Option<&Path>,
    side: &str,
) -> anyhow::Result<(envparity_core::snapshot::Snapshot, envparity_core::Rules)> {
    let project = project::nearest(config)?;
    let mut hasher = None;
    let no_data = DataOptions::schema_only();
    let mut snapshots =
        project::resolve_sides(&[side.to_string()], project.as_ref(), &mut hasher, &no_data)?;
    let rules = project.map(|p| p.manifest.rules).unwrap_or_default();
    Ok((snapshots.remove(0), rules))
}
