use std::path::Path;

use anyhow::Context;

use crate::printer::{Printer, write_atomic_with};
use crate::{exit, key, project};

pub fn run(
    config: Option<&Path>,
    env: &str,
    output: Option<&Path>,
    data: &crate::project::DataOptions,
    printer: &Printer,
) -> anyhow::Result<u8> {
    let project = project::require(config)?;
    let hasher = key::load(Some(&project.root))?;
    if hasher.source() == envparity_config::KeySource::Ephemeral {
        printer.warn(
            "no ENVPARITY_KEY and no key file: secrets are hashed with a key for this run only, \
             so this snapshot's secrets cannot be compared with another run's (run `envparity init`)",
        );
    }
    let snapshot = project.snapshot(env, &hasher, data)?;
    let errors: Vec<_> = snapshot
        .config
        .errors
        .iter()
        .chain(&snapshot.schema.errors)
        .chain(&snapshot.data.errors)
        .collect();
    for error in &errors {
        printer.warn(&error.to_string());
    }
    match output {
        Some(path) => {
            write_atomic_with(path, |out| {
                serde_json::to_writer(out, &snapshot).map_err(Into::into)
            })
            .with_context(|| format!("cannot write {}", path.display()))?;
            let keys: usize = snapshot
                .config
                .files
                .iter()
                .map(|f| {
                    f.entries.len() + f.resources.iter().map(|r| r.entries.len()).sum::<usize>()
                })
                .sum();
            printer.info(&format!(
                "snapshot of {env}: {}, {keys} keys, {} unreadable → {}",
                envparity_report::plural(snapshot.config.files.len() as u64, "file", "files"),
                snapshot.config.errors.len(),
                path.display()
            ));
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            serde_json::to_writer(&mut out, &snapshot).map_err(std::io::Error::from)?;
            std::io::Write::write_all(&mut out, b"\n")?;
            std::io::Write::flush(&mut out)?;
        }
    }
    Ok(if errors.is_empty() {
        exit::OK
    } else {
        exit::FAILURE
    })
}
