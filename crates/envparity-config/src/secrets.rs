//! Secrets: keyed hashing, of whole values and of the credentials
//! [`envparity_core::credentials`] spots inside them.
//!
//! A secret never enters a snapshot: it is replaced by HMAC-SHA256 under the project key,
//! so equal secrets in two environments are detectable (a `shared-secret` finding) while
//! the value stays unknowable without the key.

pub use envparity_core::credentials::{command_line_items, find_credentials};
use envparity_core::snapshot::{SecretValue, Value};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Where the hashing key came from: reports say so, because a key made up for one run
/// cannot match secrets in snapshots from other runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The `ENVPARITY_KEY` environment variable.
    Environment,
    /// The key file `envparity init` wrote.
    File,
    /// Made up for this run.
    Ephemeral,
}

/// The project key, held only in memory. Its `Debug` shows the key id, never the key.
#[derive(Clone)]
pub struct SecretHasher {
    key: Vec<u8>,
    key_id: String,
    source: KeySource,
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretHasher(key id {}, {:?})", self.key_id, self.source)
    }
}

fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    let bytes = mac.finalize().into_bytes();
    let mut out = String::with_capacity(64);
    for b in bytes {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

impl SecretHasher {
    pub fn new(key: Vec<u8>, source: KeySource) -> SecretHasher {
        let key_id = hmac_hex(&key, b"envparity key id v1")[..16].to_string();
        SecretHasher {
            key,
            key_id,
            source,
        }
    }

    /// Identifies the key in snapshots (a hash of the key, which reveals nothing of it).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn source(&self) -> KeySource {
        self.source
    }

    pub fn hash(&self, secret: &str) -> String {
        hmac_hex(&self.key, secret.as_bytes())
    }

    pub fn secret(&self, secret: &str) -> Value {
        Value::Secret(Box::new(SecretValue {
            hmac: self.hash(secret),
            around: None,
        }))
    }

    /// Replaces a credential embedded in a plain value (a URL's password, a token in an
    /// argument) by its hash, keeping the rest comparable. `None` if it holds none.
    pub fn scrub_embedded(
        &self,
        text: &str,
        is_secret_name: &dyn Fn(&str) -> bool,
    ) -> Option<Value> {
        let spans = find_credentials(text, is_secret_name);
        if spans.is_empty() {
            return None;
        }
        if spans.len() > 1 {
            // Several credentials in one value: hash it whole rather than guess.
            return Some(self.secret(text));
        }
        let (start, end) = spans[0];
        Some(self.secret_within(text, start, end))
    }

    /// `text` with the credential at `start..end` replaced by its hash.
    pub fn secret_within(&self, text: &str, start: usize, end: usize) -> Value {
        if start == 0 && end == text.len() {
            return self.secret(text);
        }
        let around = format!("{}{{secret}}{}", &text[..start], &text[end..]);
        Value::Secret(Box::new(SecretValue {
            hmac: self.hash(&text[start..end]),
            around: Some(around),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_name(name: &str) -> bool {
        let lower = name.to_lowercase();
        lower.contains("password") || lower.contains("token") || lower.ends_with("_key")
    }

    fn scrub(text: &str) -> Option<String> {
        let hasher = SecretHasher::new(b"k".to_vec(), KeySource::Ephemeral);
        hasher
            .scrub_embedded(text, &secret_name)
            .map(|v| v.display())
    }

    #[test]
    fn the_byte_marks_never_skip_a_detector_that_would_fire() {
        // Each holds exactly the bytes its detector needs (see `Marks`).
        for (text, hidden) in [
            ("https://u:CANARY1@h", "CANARY1"),
            ("password=CANARY2", "CANARY2"),
            ("a: 1\npassword: CANARY3", "CANARY3"),
            ("u:CANARY4@tcp(h:3306)/db", "CANARY4"),
            ("run --db-password CANARY5", "CANARY5"),
        ] {
            let shown = scrub(text).unwrap_or_else(|| panic!("{text}: not found"));
            assert!(!shown.contains(hidden), "{shown}");
        }
    }

    #[test]
    fn hides_passwords_in_urls_and_keeps_the_rest() {
        let shown = scrub("postgres://shop:CANARY-pw-1@qa-db.internal:5432/shop").unwrap();
        assert!(!shown.contains("CANARY"), "{shown}");
        assert!(
            shown.starts_with("postgres://shop:‹secret ")
                && shown.ends_with("›@qa-db.internal:5432/shop"),
            "{shown}"
        );
        assert_eq!(scrub("https://example.com/path?q=1"), None);
        assert_eq!(
            scrub("https://user@example.com/"),
            None,
            "a user without password is no secret"
        );
    }

    #[test]
    fn hides_passwords_on_command_lines() {
        for (line, hidden) in [
            ("mysql -h db -u app -pCANARY1 shop", "CANARY1"),
            (
                "/usr/bin/mysqldump -uroot -pCANARY2 --all-databases",
                "CANARY2",
            ),
            ("curl -u admin:CANARY3 https://api.internal/x", "CANARY3"),
            ("curl -uadmin:CANARY4 https://api.internal/x", "CANARY4"),
            ("sh -c 'sshpass -p CANARY5 ssh host'", "CANARY5"),
            ("redis-cli -h cache -a CANARY6 ping", "CANARY6"),
            ("app --db-password CANARY7 --port 80", "CANARY7"),
            ("app --api-token \"CANARY8\" --verbose", "CANARY8"),
        ] {
            let shown = scrub(line).unwrap_or_else(|| panic!("nothing hidden in {line}"));
            assert!(!shown.contains(hidden), "{line} → {shown}");
        }
        // Not passwords: a database named after -p's space, a user without a password.
        assert_eq!(scrub("mysql -u app -p shop_db"), None);
        assert_eq!(scrub("curl -u admin https://x/"), None);
        // A flag that names where a secret is, not the secret (the real name rules).
        let rules = envparity_core::Rules::default();
        let text = "app --password-file /run/secret --port 80";
        assert!(find_credentials(text, &|n| rules.is_secret_name(n)).is_empty());
    }

    #[test]
    fn hides_named_parameters_and_token_shapes() {
        for text in [
            "Server=db;User Id=app;Password=CANARY-pw-2;",
            "--api-token=CANARY-tok-3",
            "jdbc:mysql://db/shop?user=app&password=CANARY-pw-4&ssl=true",
            "AKIAIOSFODNN7CANARYX",
            "Authorization: Bearer CANARY-bearer-token-5",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDQU5BUlkifQ.c2lnbmF0dXJlLWNhbmFyeQ",
            "Jey J token=x; jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDQU5BUlkifQ.c2lnbmF0dXJl end",
            "sk_live_CANARY0123456789abcdef",
            "Data Source=db;Password='CANARY pw with spaces';",
            "app:CANARY-go-dsn@tcp(db:3306)/shop?parseTime=true",
            "https://hooks.slack.com/services/T000/B000/CANARYxxxxxxxxxxxx",
            "spring:\n  datasource:\n    password: CANARY-embedded\n    url: jdbc:x\n",
            "-----BEGIN RSA PRIVATE KEY-----\nCANARY\n-----END RSA PRIVATE KEY-----",
        ] {
            let shown = scrub(text).unwrap_or_else(|| panic!("not detected: {text}"));
            assert!(
                !shown.contains("CANARY") && !shown.contains("AKIA") && !shown.contains("eyJzdWIi"),
                "{text} → {shown}"
            );
        }
        assert_eq!(scrub("LOG_LEVEL=info"), None);
        assert_eq!(scrub("--mode=fast --workers=4"), None);
    }

    #[test]
    fn equal_secrets_hash_equal_only_under_one_key() {
        let a = SecretHasher::new(b"key-a".to_vec(), KeySource::File);
        let b = SecretHasher::new(b"key-b".to_vec(), KeySource::File);
        assert_eq!(a.hash("x"), a.hash("x"));
        assert_ne!(a.hash("x"), b.hash("x"));
        assert_ne!(a.key_id(), b.key_id());
        assert!(!format!("{a:?}").contains("key-a"));
    }
}
