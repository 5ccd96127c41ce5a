//! Environment tokens: the words that name an environment inside values and names
//! (`qa-db.internal`, `shop-prod`). Two values that differ only by these tokens are
//! `env-equivalent`, and Kubernetes objects named `shop-qa` and `shop-prod` pair up.

use crate::pattern::{ONES, zero_bytes};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The placeholder a token is replaced with when normalizing.
pub const ENV_PLACEHOLDER: &str = "{env}";

#[derive(Clone, Debug, Default)]
pub struct EnvTokens {
    /// Each environment once. A list, not a map: there are a handful, and the lookup runs
    /// on every path and value compared (a B-tree's string comparisons were ~60
    /// instructions of each).
    by_env: Vec<(String, TokenSet)>,
}

#[derive(Clone, Debug)]
struct TokenSet {
    /// In lower case, longest first so `production` wins over `prod`.
    tokens: Vec<String>,
    /// Whether some token starts with this byte, either case: most words start with
    /// none, and are passed over without trying each token.
    starts: [bool; 256],
    /// The tokens' distinct first two bytes, ASCII case folded (`| 0x20`) and repeated in
    /// every byte of a word, when every token has two bytes and there are at most four
    /// such pairs: then [`TokenSet::next_candidate`] passes over seven bytes at a time.
    pairs: Vec<(u64, u64)>,
}

/// Every byte of a word holding 0x20.
const CASE: u64 = 0x2020_2020_2020_2020;

impl TokenSet {
    fn new(tokens: Vec<String>) -> TokenSet {
        let mut starts = [false; 256];
        let mut pairs: Vec<(u64, u64)> = Vec::new();
        let mut pairs_usable = true;
        for t in &tokens {
            if let Some(&b) = t.as_bytes().first() {
                starts[usize::from(b.to_ascii_lowercase())] = true;
                starts[usize::from(b.to_ascii_uppercase())] = true;
            }
            match t.as_bytes() {
                [first, second, ..] => {
                    let pair = (
                        u64::from(first | 0x20) * ONES,
                        u64::from(second | 0x20) * ONES,
                    );
                    if !pairs.contains(&pair) {
                        pairs.push(pair);
                    }
                }
                _ => pairs_usable = false,
            }
        }
        if !pairs_usable || pairs.len() > 4 {
            pairs.clear();
        }
        TokenSet {
            tokens,
            starts,
            pairs,
        }
    }

    /// The first position from `i` where a token may start: every earlier one holds
    /// neither first byte of a pair followed by its second, ASCII case aside (folding with
    /// `| 0x20` maps some other bytes together too, which only lets more through).
    fn next_candidate(&self, bytes: &[u8], mut i: usize) -> usize {
        if self.pairs.is_empty() {
            return i;
        }
        while i + 8 <= bytes.len() {
            let word = u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes")) | CASE;
            // Byte k of `next` is byte k + 1 of the text; the top byte is not compared.
            let next = word >> 8;
            let mut hits = 0;
            for &(first, second) in &self.pairs {
                let differ = (word ^ first) | (next ^ second);
                // The classic zero-byte test: the lowest bit set marks the first zero byte
                // exactly (bits above it may be false).
                hits |= zero_bytes(differ);
            }
            hits &= !(0x80 << 56);
            if hits != 0 {
                return i + (hits.trailing_zeros() / 8) as usize;
            }
            i += 7;
        }
        i
    }
}

impl EnvTokens {
    pub fn new(configured: &BTreeMap<String, Vec<String>>, environments: &[String]) -> EnvTokens {
        let mut by_env: Vec<(String, TokenSet)> = Vec::new();
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
            let set = TokenSet::new(tokens);
            match by_env.iter_mut().find(|(name, _)| name == env) {
                Some((_, existing)) => *existing = set,
                None => by_env.push((env.clone(), set)),
            }
        }
        EnvTokens { by_env }
    }

    fn set(&self, env: &str) -> Option<&TokenSet> {
        self.by_env
            .iter()
            .find(|(name, _)| name == env)
            .map(|(_, set)| set)
    }

    pub fn tokens(&self, env: &str) -> &[String] {
        self.set(env).map_or(&[], |set| set.tokens.as_slice())
    }

    /// [`normalize`](Self::normalize) with every environment's tokens but `env`'s: a QA
    /// object named `{prod token}-tools` (a manifest copied from Production unchanged).
    pub fn normalize_others<'a>(&self, env: &str, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for (other, _) in self.by_env.iter().filter(|(name, _)| name != env) {
            if let Cow::Owned(changed) = self.normalize(other, &out) {
                out = Cow::Owned(changed);
            }
        }
        out
    }

    /// Replaces every whole-word occurrence (case-insensitive) of one of `env`'s tokens
    /// with `{env}`. A word boundary is the text's edge or a character that is not a
    /// letter or digit, so `qa-db` and `shop_qa` normalize but `quality` does not.
    pub fn normalize<'a>(&self, env: &str, text: &'a str) -> Cow<'a, str> {
        let Some(set @ TokenSet { tokens, starts, .. }) = self.set(env) else {
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
            i = set.next_candidate(bytes, i);
            if i >= bytes.len() {
                break;
            }
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

    /// `normalize` as first written: every position tried against every token.
    fn plain(tokens: &[&str], text: &str) -> String {
        let b = text.as_bytes();
        let mut out = String::new();
        let (mut i, mut copied) = (0, 0);
        while i < b.len() {
            let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
            let hit = tokens.iter().find(|t| {
                let end = i + t.len();
                boundary
                    && b.get(i..end)
                        .is_some_and(|w| w.eq_ignore_ascii_case(t.as_bytes()))
                    && (end == b.len() || !b[end].is_ascii_alphanumeric())
            });
            if let Some(t) = hit {
                out.push_str(&text[copied..i]);
                out.push_str(ENV_PLACEHOLDER);
                i += t.len();
                copied = i;
            } else {
                i += 1;
            }
        }
        out.push_str(&text[copied..]);
        out
    }

    #[test]
    fn the_word_at_a_time_skip_misses_no_token() {
        // Random texts over an alphabet dense in the tokens' bytes, separators and
        // characters that fold together with `| 0x20` (`@`/`` ` ``, `Q`/`q`, `_`/DEL).
        const ALPHABET: &[&str] = &[
            "q",
            "Q",
            "a",
            "A",
            "p",
            "P",
            "r",
            "R",
            "o",
            "d",
            "s",
            "S",
            "t",
            "g",
            "i",
            "n",
            "-",
            ".",
            "_",
            "/",
            "@",
            "`",
            "1",
            " ",
            "\u{7f}",
            "é",
            "qa",
            "prod",
            "staging",
            "production",
            "PROD",
            "Qa",
        ];
        let sets: &[&[&str]] = &[&["qa", "staging"], &["production", "prod"], &["dev"]];
        let configured: BTreeMap<String, Vec<String>> = [
            ("qa", &["qa", "staging"][..]),
            ("prod", &["production", "prod"][..]),
            ("dev", &["dev"][..]),
        ]
        .into_iter()
        .map(|(env, t)| (env.to_string(), t.iter().map(|s| s.to_string()).collect()))
        .collect();
        let all = EnvTokens::new(&configured, &[]);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..20_000 {
            let len = next(40);
            let text: String = (0..len).map(|_| ALPHABET[next(ALPHABET.len())]).collect();
            for (env, set) in ["qa", "prod", "dev"].iter().zip(sets) {
                assert_eq!(
                    all.normalize(env, &text),
                    plain(set, &text),
                    "{env}: {text:?}"
                );
            }
        }
        assert!(
            !all.set("qa").unwrap().pairs.is_empty(),
            "the skip is in use"
        );
    }

    #[test]
    fn leaves_non_ascii_text_intact() {
        check("qa", "café qa ✓", "café {env} ✓");
    }
}
