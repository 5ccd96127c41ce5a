//! Environment tokens: the words that name an environment inside values and names
//! (`qa-db.internal`, `shop-prod`). Two values that differ only by these tokens are
//! `env-equivalent`, and Kubernetes objects named `shop-qa` and `shop-prod` pair up.

use std::borrow::Cow;
use std::collections::BTreeMap;

/// The placeholder a token is replaced with when normalizing.
pub const ENV_PLACEHOLDER: &str = "{env}";

#[derive(Clone, Debug, Default)]
pub struct EnvTokens {
    by_env: BTreeMap<String, TokenSet>,
}

#[derive(Clone, Debug)]
struct TokenSet {
    /// In lower case, longest first so `production` wins over `prod`.
    tokens: Vec<String>,
    /// Whether some token starts with this byte, either case: most words start with
    /// none, and are passed over without trying each token.
    starts: [bool; 256],
}

impl TokenSet {
    fn new(tokens: Vec<String>) -> TokenSet {
        let mut starts = [false; 256];
        for t in &tokens {
            if let Some(&b) = t.as_bytes().first() {
                starts[usize::from(b.to_ascii_lowercase())] = true;
                starts[usize::from(b.to_ascii_uppercase())] = true;
            }
        }
        TokenSet { tokens, starts }
    }
}

impl EnvTokens {
    pub fn new(configured: &BTreeMap<String, Vec<String>>, environments: &[String]) -> EnvTokens {
        let mut by_env = BTreeMap::new();
        for env in environments.iter().chain(configured.keys()) {
            let mut tokens: Vec<String> = configured
                .get(env)
                .into_iter()
                .flatten()
                .map(|t| t.to_lowercase())
                .chain(std::iter::once(env.to_lowercase()))
                .filter(|t| !t.is_empty())
                .collect();
            tokens.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
            tokens.dedup();
            by_env.insert(env.clone(), TokenSet::new(tokens));
        }
        EnvTokens { by_env }
    }

    pub fn tokens(&self, env: &str) -> &[String] {
        self.by_env
            .get(env)
            .map_or(&[], |set| set.tokens.as_slice())
    }

    /// Replaces every whole-word occurrence (case-insensitive) of one of `env`'s tokens
    /// with `{env}`. A word boundary is the text's edge or a character that is not a
    /// letter or digit, so `qa-db` and `shop_qa` normalize but `quality` does not.
    pub fn normalize<'a>(&self, env: &str, text: &'a str) -> Cow<'a, str> {
        let Some(TokenSet { tokens, starts }) = self.by_env.get(env) else {
            return Cow::Borrowed(text);
        };
        if tokens.is_empty() || text.is_empty() {
            return Cow::Borrowed(text);
        }
        // Compared in place, ASCII case aside (tokens are lower case): this runs on every
        // path and value compared, so no lower-cased copy of the text.
        let bytes = text.as_bytes();
        let mut out: Option<String> = None;
        let mut copied_to = 0;
        let mut i = 0;
        while i < bytes.len() {
            // The start-byte table first: it turns away almost every byte in one load.
            if starts[usize::from(bytes[i])] && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
                let hit = tokens.iter().find(|t| {
                    let end = i + t.len();
                    bytes
                        .get(i..end)
                        .is_some_and(|word| word.eq_ignore_ascii_case(t.as_bytes()))
                        && (end == bytes.len() || !bytes[end].is_ascii_alphanumeric())
                });
                if let Some(token) = hit {
                    let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
                    buf.push_str(&text[copied_to..i]);
                    buf.push_str(ENV_PLACEHOLDER);
                    i += token.len();
                    copied_to = i;
                    continue;
                }
            }
            i += 1;
        }
        match out {
            None => Cow::Borrowed(text),
            Some(mut buf) => {
                buf.push_str(&text[copied_to..]);
                Cow::Owned(buf)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> EnvTokens {
        let mut configured = BTreeMap::new();
        configured.insert(
            "qa".to_string(),
            vec!["qa".to_string(), "staging".to_string()],
        );
        configured.insert(
            "prod".to_string(),
            vec!["prod".to_string(), "production".to_string()],
        );
        EnvTokens::new(
            &configured,
            &["qa".to_string(), "prod".to_string(), "dev".to_string()],
        )
    }

    fn check(env: &str, text: &str, expected: &str) {
        assert_eq!(tokens().normalize(env, text), expected, "{env}: {text}");
    }

    #[test]
    fn replaces_whole_words_only() {
        check(
            "qa",
            "jdbc:postgresql://qa-db.internal/shop",
            "jdbc:postgresql://{env}-db.internal/shop",
        );
        check(
            "prod",
            "jdbc:postgresql://prod-db.internal/shop",
            "jdbc:postgresql://{env}-db.internal/shop",
        );
        check(
            "prod",
            "https://api.production.example.com",
            "https://api.{env}.example.com",
        );
        check("qa", "shop-QA", "shop-{env}");
        check("qa", "quality", "quality");
        check("prod", "product-prod", "product-{env}");
        check("prod", "prod1", "prod1");
        check("dev", "dev", "{env}");
        check("qa", "staging_bucket", "{env}_bucket");
        check("unknown", "qa-db", "qa-db");
    }

    #[test]
    fn leaves_non_ascii_text_intact() {
        check("qa", "café qa ✓", "café {env} ✓");
    }
}
