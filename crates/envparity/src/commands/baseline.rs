use anyhow::{Context, bail};
use envparity_core::Class;
use envparity_core::Date;
use envparity_core::rules::{BaselineEntry, value_fingerprint};

use crate::cli::BaselineArgs;
use crate::printer::{Printer, write_atomic};
use crate::{clock, exit, project};

pub fn run(
    config: Option<&std::path::Path>,
    args: &BaselineArgs,
    printer: &Printer,
) -> anyhow::Result<u8> {
    let project = project::require(config)?;
    let sides: Vec<String> = match args.sides.len() {
        2 => args.sides.clone(),
        0 if project.manifest.environments.len() == 2 => {
            // Non-production first, production (the reference) second.
            let mut envs: Vec<_> = project.manifest.environments.values().collect();
            envs.sort_by_key(|e| e.production);
            envs.iter().map(|e| e.name.clone()).collect()
        }
        _ => bail!(
            "name the two environments to baseline (envparity.toml has {})",
            project.env_names().join(", ")
        ),
    };
    if crate::key::source(Some(&project.root)) == envparity_config::KeySource::Ephemeral {
        printer.warn(
            "no ENVPARITY_KEY and no key file: secrets are hashed with a key for this run only, \
             so the entries of findings that show a secret's hash will not match on the next run \
             (run `envparity init`)",
        );
    }
    let today = clock::today()?;
    let expires = match &args.expires {
        Some(text) => Date::parse(text).context("--expires")?,
        None => today.add_days(i64::from(args.days)),
    };
    if expires < today {
        bail!("--expires {expires} is in the past");
    }
    let data = crate::project::DataOptions {
        schema: true,
        data: true,
        mode: envparity_data::ModeChoice::Auto,
        sample: None,
    };
    let report = super::diff::build_report(config, &sides, &data)?;
    if report.has_unreadable() {
        bail!(
            "some sources could not be read; fix them before taking a baseline (run `envparity diff` to see which)"
        );
    }
    let mut baseline = project.manifest.rules.baseline.clone();
    baseline.version = envparity_core::rules::BASELINE_VERSION;
    let mut added = 0;
    for finding in report
        .findings
        .iter()
        .filter(|f| matches!(f.class, Class::Drift | Class::Missing | Class::Extra))
    {
        let envs = [finding.a.env.clone(), finding.b.env.clone()];
        baseline
            .entries
            .retain(|e| !(e.key == finding.key && e.envs == envs));
        baseline.entries.push(BaselineEntry {
            key: finding.key.clone(),
            envs,
            value_hashes: [
                value_fingerprint(finding.a.value.as_deref()),
                value_fingerprint(finding.b.value.as_deref()),
            ],
            reason: args.reason.clone(),
            added: today,
            expires: Some(expires),
        });
        added += 1;
    }
    // Entries that expired are dropped: they no longer accept anything.
    baseline
        .entries
        .retain(|e| e.expires.is_none_or(|d| d >= today));
    baseline.entries.sort_by(|a, b| a.key.cmp(&b.key));
    let shared = report
        .findings
        .iter()
        .filter(|f| f.class == Class::SharedSecret)
        .count();
    let path = project.baseline_path();
    let json = serde_json::to_string_pretty(&baseline)?;
    write_atomic(&path, json.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    printer.info(&format!(
        "baselined {} until {expires} → {}",
        envparity_report::plural(added as u64, "difference", "differences"),
        path.display()
    ));
    if shared > 0 {
        printer.warn(&format!(
            "{} not baselined: QA must not hold Production's credentials",
            envparity_report::plural(shared as u64, "shared secret was", "shared secrets were")
        ));
    }
    Ok(exit::OK)
}
