//! The project key that secrets are hashed with: `ENVPARITY_KEY`, else the key file that
//! `envparity init` writes, else a key for this run only.

use std::path::Path;

use anyhow::{Context, bail};
use envparity_config::collect::KEY_FILE_NAME;
use envparity_config::{KeySource, SecretHasher};

/// The shortest `ENVPARITY_KEY` taken (other than as 64 hex digits).
const MIN_KEY_CHARS: usize = 16;

/// Where [`load`] will take the key from, without reading it.
pub fn source(root: Option<&Path>) -> KeySource {
    if std::env::var_os("ENVPARITY_KEY").is_some_and(|k| !k.is_empty()) {
        KeySource::Environment
    } else if root.is_some_and(|root| root.join(KEY_FILE_NAME).is_file()) {
        KeySource::File
    } else {
        KeySource::Ephemeral
    }
}

pub fn load(root: Option<&Path>) -> anyhow::Result<SecretHasher> {
    match source(root) {
        KeySource::Environment => from_environment(),
        KeySource::File => {
            let path = root
                .expect("a key file is found beside a root")
                .join(KEY_FILE_NAME);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read key file {}", path.display()))?;
            let key = parse_hex(text.trim())
                .with_context(|| format!("key file {} is not 64 hex digits", path.display()))?;
            Ok(SecretHasher::new(key, KeySource::File))
        }
        KeySource::Ephemeral => Ok(SecretHasher::new(random_key()?, KeySource::Ephemeral)),
    }
}

fn from_environment() -> anyhow::Result<SecretHasher> {
    let key = std::env::var_os("ENVPARITY_KEY")
        .unwrap_or_default()
        .into_string()
        .map_err(|_| anyhow::anyhow!("ENVPARITY_KEY is not valid UTF-8"))?;
    let key = key.trim();
    // The key file's form (64 hex digits) means the same key here, so that CI's
    // `ENVPARITY_KEY=$(cat .envparity.key)` and a laptop's key file compare secrets.
    if let Ok(bytes) = parse_hex(key) {
        return Ok(SecretHasher::new(bytes, KeySource::Environment));
    }
    // A short key can be guessed offline from any snapshot's key id.
    if key.chars().count() < MIN_KEY_CHARS {
        bail!(
            "ENVPARITY_KEY has {} characters: use at least {MIN_KEY_CHARS} (the 64 hex digits \
             of the key file `envparity init` writes are best)",
            key.chars().count()
        );
    }
    Ok(SecretHasher::new(
        key.as_bytes().to_vec(),
        KeySource::Environment,
    ))
}

pub fn random_key() -> anyhow::Result<Vec<u8>> {
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    Ok(key)
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex(text: &str) -> anyhow::Result<Vec<u8>> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("expected 64 hex digits");
    }
    (0..32)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(Into::into))
        .collect()
}
