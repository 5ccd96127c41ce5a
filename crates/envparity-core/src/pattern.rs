//! Key patterns, as users write them in `rules.expect.key` and friends.
//!
//! A finding key looks like `deploy.yaml:Deployment/shop/api:spec.template.spec.containers[name=api].image`.
//! In a pattern `*` matches within one segment (it never crosses `.`, `/`, `:`, `[` or `]`),
//! `**` matches across segments (anything at all, including nothing), and `?` matches one
//! character that is not a separator. Everything else matches itself.

use std::fmt;

use memchr::memmem::Finder;

/// A compiled key pattern.
#[derive(Clone)]
pub struct KeyPattern {
    text: String,
    tokens: Vec<Token>,
    /// The literal runs between wildcards: a key lacking one cannot match. Checking them
    /// first turns almost every non-match into a few `contains` calls.
    literals: Vec<Finder<'static>>,
    literals_lower: Vec<Finder<'static>>,
}

impl PartialEq for KeyPattern {
    fn eq(&self, other: &KeyPattern) -> bool {
        self.text == other.text
    }
}

impl Eq for KeyPattern {}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyChar,
    Star,
    DoubleStar,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PatternError {
    #[error("the pattern is empty")]
    Empty,
    #[error("`***` is ambiguous: use `*` (one segment) or `**` (any number of segments)")]
    TripleStar,
}

fn is_separator(c: char) -> bool {
    matches!(c, '.' | '/' | ':' | '[' | ']')
}

impl KeyPattern {
    pub fn new(text: &str) -> Result<KeyPattern, PatternError> {
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        if text.contains("***") {
            return Err(PatternError::TripleStar);
        }
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    tokens.push(Token::DoubleStar);
                }
                '*' => tokens.push(Token::Star),
                '?' => tokens.push(Token::AnyChar),
                other => tokens.push(Token::Literal(other)),
            }
        }
        let runs: Vec<&str> = text.split(['*', '?']).filter(|l| !l.is_empty()).collect();
        let literals = runs
            .iter()
            .map(|l| Finder::new(l.as_bytes()).into_owned())
            .collect();
        let literals_lower = runs
            .iter()
            .map(|l| Finder::new(l.to_lowercase().as_bytes()).into_owned())
            .collect();
        Ok(KeyPattern {
            text: text.to_string(),
            tokens,
            literals,
            literals_lower,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Case-sensitive match of the whole key.
    pub fn matches(&self, key: &str) -> bool {
        if !self
            .literals
            .iter()
            .all(|l| l.find(key.as_bytes()).is_some())
        {
            return false;
        }
        let chars: Vec<char> = key.chars().collect();
        matches_from(&self.tokens, &chars, false, false)
    }

    /// Match of a name pattern such as `*password*` against a key name
    /// (`spring.datasource.password`, `DB_PASSWORD`): case-insensitive, and `*` crosses
    /// separators, because a name is not a path.
    pub fn matches_name(&self, name: &str) -> bool {
        self.matches_lowercase_name(&name.to_lowercase())
    }

    /// [`matches_name`](Self::matches_name) for a name already in lower case, so callers
    /// checking many patterns lower it once.
    pub fn matches_lowercase_name(&self, lower: &str) -> bool {
        if !self
            .literals_lower
            .iter()
            .all(|l| l.find(lower.as_bytes()).is_some())
        {
            return false;
        }
        let chars: Vec<char> = lower.chars().collect();
        matches_from(&self.tokens, &chars, true, true)
    }
}

/// Glob matching as a set of reachable text positions per token: O(pattern × key),
/// never exponential whatever the stars.
fn matches_from(tokens: &[Token], text: &[char], fold_case: bool, star_crosses: bool) -> bool {
    let n = text.len();
    let mut reachable = vec![false; n + 1];
    reachable[0] = true;
    for token in tokens {
        let mut next = vec![false; n + 1];
        match token {
            Token::Literal(expected) => {
                for i in 0..n {
                    if reachable[i] {
                        let want = if fold_case {
                            expected.to_lowercase().next().unwrap_or(*expected)
                        } else {
                            *expected
                        };
                        if text[i] == want {
                            next[i + 1] = true;
                        }
                    }
                }
            }
            Token::AnyChar => {
                for i in 0..n {
                    if reachable[i] && !is_separator(text[i]) {
                        next[i + 1] = true;
                    }
                }
            }
            Token::Star if !star_crosses => {
                for i in 0..=n {
                    if reachable[i] || (i > 0 && next[i - 1] && !is_separator(text[i - 1])) {
                        next[i] = true;
                    }
                }
            }
            Token::Star | Token::DoubleStar => {
                let mut seen = false;
                for i in 0..=n {
                    seen |= reachable[i];
                    next[i] = seen;
                }
            }
        }
        reachable = next;
    }
    reachable[n]
}

/// Many patterns matched against many keys: one Aho–Corasick scan of a key for the
/// patterns' longest literals picks the few patterns worth a full match.
#[derive(Debug)]
pub struct PatternSet {
    patterns: Vec<KeyPattern>,
    /// Length in bytes of the longest literal searched for (0 without literals).
    longest_literal: usize,
    /// Patterns without any literal: candidates for every key.
    always: Vec<usize>,
    /// Literal number → pattern number.
    owners: Vec<usize>,
    literals: Option<aho_corasick::AhoCorasick>,
}

impl PatternSet {
    pub fn new(patterns: &[KeyPattern]) -> PatternSet {
        let mut always = Vec::new();
        let mut owners = Vec::new();
        let mut literals = Vec::new();
        for (i, pattern) in patterns.iter().enumerate() {
            let longest = pattern
                .text
                .split(['*', '?'])
                .max_by_key(|l| l.len())
                .unwrap_or("");
            if longest.is_empty() {
                always.push(i);
            } else {
                owners.push(i);
                literals.push(longest.to_string());
            }
        }
        let longest_literal = literals.iter().map(String::len).max().unwrap_or(0);
        let literals = (!literals.is_empty())
            .then(|| aho_corasick::AhoCorasick::new(&literals).expect("literal patterns compile"));
        PatternSet {
            patterns: patterns.to_vec(),
            longest_literal,
            always,
            owners,
            literals,
        }
    }

    pub fn matches(&self, key: &str) -> bool {
        if self.always.iter().any(|&i| self.patterns[i].matches(key)) {
            return true;
        }
        let Some(ac) = &self.literals else {
            return false;
        };
        ac.find_overlapping_iter(key)
            .any(|hit| self.patterns[self.owners[hit.pattern().as_usize()]].matches(key))
    }

    /// A matcher for many keys that start with the same `prefix` (a file's or an object's
    /// leaves): the prefix is searched for literals once, not once per key.
    pub fn with_prefix<'p>(&'p self, prefix: &str) -> PrefixMatcher<'p> {
        // Clean: no literal lies wholly inside the prefix, so a key's literal hit ends past
        // it, and only the key's last `longest - 1` prefix bytes and its rest need a look.
        let clean =
            self.always.is_empty() && self.literals.as_ref().is_none_or(|ac| !ac.is_match(prefix));
        let skip = if clean {
            prefix
                .len()
                .saturating_sub(self.longest_literal.saturating_sub(1))
        } else {
            0
        };
        PrefixMatcher { set: self, skip }
    }
}

/// [`PatternSet::matches`] for keys sharing a prefix; see [`PatternSet::with_prefix`].
#[derive(Debug)]
pub struct PrefixMatcher<'p> {
    set: &'p PatternSet,
    /// Bytes of each key that cannot start a literal hit not already ruled out.
    skip: usize,
}

impl PrefixMatcher<'_> {
    /// Whether `key` (which starts with the prefix given) matches a pattern of the set.
    pub fn matches(&self, key: &str) -> bool {
        let set = self.set;
        if self.skip > 0 {
            // Most keys hold no literal past the prefix: one unanchored scan says so.
            let Some(ac) = &set.literals else {
                return false;
            };
            if !ac.is_match(&key.as_bytes()[self.skip.min(key.len())..]) {
                return false;
            }
        }
        set.matches(key)
    }
}

impl fmt::Debug for KeyPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPattern({:?})", self.text)
    }
}

impl fmt::Display for KeyPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, key: &str, expected: bool) {
        let compiled = KeyPattern::new(pattern).unwrap();
        assert_eq!(compiled.matches(key), expected, "{pattern} vs {key}");
    }

    #[test]
    fn star_stays_within_a_segment() {
        let key = "deploy.yaml:Deployment/shop/api:spec.replicas";
        check("deploy.yaml:Deployment/*/api:spec.replicas", key, true);
        check("*.yaml:Deployment/*/*:spec.replicas", key, true);
        check("deploy.yaml:*/api:spec.replicas", key, false);
        check("deploy.yaml:Deployment/*/api:*", key, false);
        check("deploy.yaml:Deployment/*/api:**", key, true);
        check("**.replicas", key, true);
        check("**:spec.replicas", key, true);
        check("**replicas", key, true);
        check("**.image", key, false);
    }

    #[test]
    fn matches_identity_segments() {
        let key = "features.json:features[id=checkout].enabled";
        check("features.json:features[id=*].enabled", key, true);
        check("features.json:features[*].enabled", key, true);
        check("features.json:features[id=check?ut].enabled", key, true);
        check("features.json:features.enabled", key, false);
    }

    #[test]
    fn case_folding_for_name_patterns() {
        let p = KeyPattern::new("*password*").unwrap();
        assert!(p.matches_name("DB_PASSWORD"));
        assert!(!p.matches("DB_PASSWORD"));
        assert!(
            KeyPattern::new("*_KEY")
                .unwrap()
                .matches_name("stripe_api_key")
        );
    }

    #[test]
    fn a_pattern_set_matches_like_its_patterns() {
        let texts = ["**:status", "**:metadata.uid", "a.*", "**", "x?z"];
        let patterns: Vec<KeyPattern> = texts.iter().map(|t| KeyPattern::new(t).unwrap()).collect();
        for subset in 1..texts.len() {
            let set = PatternSet::new(&patterns[..subset]);
            for key in [
                "d.yaml:Pod/x:status",
                "d.yaml:Pod/x:metadata.uid",
                "a.b",
                "a.b.c",
                "xyz",
                "x.z",
                "",
            ] {
                let expected = patterns[..subset].iter().any(|p| p.matches(key));
                assert_eq!(
                    set.matches(key),
                    expected,
                    "{key} against {:?}",
                    &texts[..subset]
                );
            }
        }
    }

    #[test]
    fn a_prefix_matcher_matches_like_its_set_at_every_split() {
        // Literals that straddle the prefix's end, sit inside it, or follow it.
        let texts = [
            "**:metadata.uid",
            "**:status",
            "**:spec.clusterIP",
            "status.yaml:**",
            "**/x:spec.a",
        ];
        let patterns: Vec<KeyPattern> = texts.iter().map(|t| KeyPattern::new(t).unwrap()).collect();
        let keys = [
            "d.yaml:Pod/x:metadata.uid",
            "d.yaml:Pod/x:status",
            "d.yaml:Pod/x:status.phase",
            "d.yaml:Pod/x:spec.clusterIPs",
            "d.yaml:Pod/x:spec.a",
            "status.yaml:Pod/y:spec.b",
            "d.yaml:Service/status:spec.b",
            "d.yaml:Pod/x:spec.b",
        ];
        for subset in 1..=texts.len() {
            let set = PatternSet::new(&patterns[..subset]);
            for key in keys {
                for split in 0..=key.len() {
                    let matcher = set.with_prefix(&key[..split]);
                    assert_eq!(
                        matcher.matches(key),
                        set.matches(key),
                        "{key} split at {split} against {:?}",
                        &texts[..subset]
                    );
                }
            }
        }
    }

    #[test]
    fn rejects_bad_patterns() {
        assert_eq!(KeyPattern::new(""), Err(PatternError::Empty));
        assert_eq!(KeyPattern::new("a.***"), Err(PatternError::TripleStar));
    }
}
