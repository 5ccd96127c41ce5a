//! `envparity init`: a commented envparity.toml for the environment folders found here,
//! and the key file secrets are hashed with.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use envparity_config::collect::KEY_FILE_NAME;
use envparity_core::manifest::{MANIFEST_NAME, default_secret_patterns};

use crate::printer::{Printer, write_atomic};
use crate::{exit, key};

/// Folder names that name an environment, and whether it is production.
const ENV_NAMES: &[(&str, bool)] = &[
    ("dev", false),
    ("development", false),
    ("test", false),
    ("qa", false),
    ("uat", false),
    ("stage", false),
    ("staging", false),
    ("preprod", false),
    ("prod", true),
    ("production", true),
    ("live", true),
];

/// Folders that commonly hold one subfolder per environment.
const PARENTS: &[&str] = &[
    "",
    "config",
    "configs",
    "env",
    "envs",
    "environments",
    "deploy",
    "overlays",
    "k8s/overlays",
    "kustomize/overlays",
];

#[derive(Debug, PartialEq)]
struct Found {
    name: String,
    folder: String,
    production: bool,
}

fn find_environments(root: &Path) -> Vec<Found> {
    let mut found = Vec::new();
    for parent in PARENTS {
        let dir = root.join(parent);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            if let Some((_, production)) = ENV_NAMES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&name))
            {
                let folder = if parent.is_empty() {
                    name.clone()
                } else {
                    format!("{parent}/{name}")
                };
                if !found.iter().any(|f: &Found| f.name == name.to_lowercase()) {
                    found.push(Found {
                        name: name.to_lowercase(),
                        folder,
                        production: *production,
                    });
                }
            }
        }
        if found.len() >= 2 {
            break;
        }
    }
    found
}

fn template(found: &[Found]) -> String {
    let mut t = String::new();
    t.push_str("# envparity.toml: the environments envparity compares, and the rules it compares them by.\n");
    t.push_str("# Reference: `envparity schema` prints the JSON Schema of this file.\n\n");
    let envs: Vec<Found> = if found.is_empty() {
        t.push_str("# No environment folders were found here; adjust the globs below.\n");
        vec![
            Found {
                name: "qa".into(),
                folder: "qa".into(),
                production: false,
            },
            Found {
                name: "prod".into(),
                folder: "prod".into(),
                production: true,
            },
        ]
    } else {
        found
            .iter()
            .map(|f| Found {
                name: f.name.clone(),
                folder: f.folder.clone(),
                production: f.production,
            })
            .collect()
    };
    for env in &envs {
        let _ = writeln!(t, "[environments.{}]", env.name);
        let _ = writeln!(
            t,
            "# Globs relative to this file; files pair up across environments by their path below the glob's fixed prefix."
        );
        let _ = writeln!(t, "config = [\"{}/**\"]", env.folder);
        let _ = writeln!(
            t,
            "# Databases to compare (schema and data; read-only, no row leaves them): a URL or a file.\n# database = \"${{{}_DB_URL}}\"   # postgres://…, mysql://…, sqlite:path, a .csv/.parquet file or folder",
            env.name.to_uppercase().replace('-', "_")
        );
        if env.production {
            let _ = writeln!(
                t,
                "production = true   # the reference the others are compared with"
            );
        }
        t.push('\n');
    }
    t.push_str("[rules]\n");
    t.push_str("# Words that name each environment inside values and names: `qa-db` vs `prod-db` is then env-equivalent.\n");
    let tokens: Vec<String> = envs
        .iter()
        .map(|e| {
            let extra = match e.name.as_str() {
                "prod" => ", \"production\"",
                "production" => ", \"prod\"",
                "staging" => ", \"stage\"",
                _ => "",
            };
            format!("{} = [\"{}\"{extra}]", e.name, e.name)
        })
        .collect();
    let _ = writeln!(t, "env_tokens = {{ {} }}", tokens.join(", "));
    t.push_str(
        "# Key names whose values are secrets (case-insensitive globs): hashed, never shown.\n",
    );
    let secrets: Vec<String> = default_secret_patterns()
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect();
    let _ = writeln!(t, "secrets = [{}]", secrets.join(", "));
    t.push_str(
        "\n# An expected difference: reported as `expected`, never as drift, until it expires.\n\
         # `*` matches within one key segment, `**` across segments.\n\
         # [[rules.expect]]\n\
         # key = \"k8s/deploy.yaml:Deployment/*/api:spec.replicas\"\n\
         # reason = \"Production runs more replicas\"\n\
         # owner = \"platform\"\n\
         # expires = \"2027-06-30\"\n",
    );
    t
}

/// Writes the template to `config` (`--config FILE`), else to envparity.toml here; the
/// environment folders are looked for beside it, and the key file goes there too.
pub fn run(force: bool, config: Option<&Path>, printer: &Printer) -> anyhow::Result<u8> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let manifest = match config {
        Some(path) => cwd.join(path),
        None => cwd.join(MANIFEST_NAME),
    };
    if manifest.is_dir() {
        bail!(
            "{} is a folder; --config names the file to write, e.g. {}",
            manifest.display(),
            manifest.join(MANIFEST_NAME).display()
        );
    }
    let root = manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cwd.clone());
    if !root.is_dir() {
        bail!(
            "no folder {} to write {} in",
            root.display(),
            manifest
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        );
    }
    if manifest.exists() && !force {
        bail!(
            "{} already exists (use --force to overwrite it)",
            manifest.display()
        );
    }
    let found = find_environments(&root);
    write_atomic(&manifest, template(&found).as_bytes())
        .with_context(|| format!("cannot write {}", manifest.display()))?;
    let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
    printer.info(&format!(
        "wrote {} ({})",
        manifest.display(),
        if names.is_empty() {
            "no environment folders found: edit the globs".to_string()
        } else {
            format!("environments: {}", names.join(", "))
        }
    ));
    let key_path = root.join(KEY_FILE_NAME);
    if !key_path.exists() {
        write_key(&key_path)?;
        printer.info(&format!(
            "wrote {} (keep it out of version control; share it with whoever takes snapshots)",
            key_path.display()
        ));
    }
    ignore_in_git(&root.join(".gitignore"))?;
    Ok(exit::OK)
}

fn write_key(path: &PathBuf) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{}", key::to_hex(&key::random_key()?))?;
    Ok(())
}

fn ignore_in_git(gitignore: &Path) -> anyhow::Result<()> {
    let existing = std::fs::read_to_string(gitignore).unwrap_or_default();
    if existing
        .lines()
        .any(|l| l.trim() == KEY_FILE_NAME || l.trim() == format!("/{KEY_FILE_NAME}"))
    {
        return Ok(());
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(KEY_FILE_NAME);
    text.push('\n');
    std::fs::write(gitignore, text).with_context(|| format!("cannot write {}", gitignore.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_parses_and_names_found_folders() {
        let found = vec![
            Found {
                name: "staging".into(),
                folder: "envs/staging".into(),
                production: false,
            },
            Found {
                name: "production".into(),
                folder: "envs/production".into(),
                production: true,
            },
        ];
        let text = template(&found);
        let manifest = envparity_core::manifest::parse(&text).unwrap();
        assert_eq!(
            manifest.environments["staging"].config[0].glob,
            "envs/staging/**"
        );
        assert!(manifest.environments["production"].production);
        envparity_core::manifest::parse(&template(&[])).unwrap();
    }
}
