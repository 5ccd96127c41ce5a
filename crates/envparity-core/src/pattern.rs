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
    /// The same literals as a DFA stepped byte by byte (see [`PrefixMatcher`]).
    literal_dfa: Option<aho_corasick::dfa::DFA>,
    /// The literals' distinct first bytes.
    first_bytes: Vec<u8>,
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
        let mut first_bytes: Vec<u8> = literals.iter().map(|l| l.as_bytes()[0]).collect();
        first_bytes.sort_unstable();
        first_bytes.dedup();
        let literal_dfa = (!literals.is_empty())
            .then(|| aho_corasick::dfa::DFA::new(&literals).expect("literal patterns compile"));
        let literals = (!literals.is_empty())
            .then(|| aho_corasick::AhoCorasick::new(&literals).expect("literal patterns compile"));
        PatternSet {
            patterns: patterns.to_vec(),
            literal_dfa,
            first_bytes,
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
    pub fn with_prefix<'p, 'k>(&'p self, prefix: &str) -> PrefixMatcher<'p, 'k> {
        let mut matcher = PrefixMatcher {
            set: self,
            walk: None,
            clean: None,
        };
        let (Some(dfa), Some(search)) = (&self.literal_dfa, &self.literals) else {
            return matcher;
        };
        if !self.always.is_empty() {
            return matcher;
        }
        use aho_corasick::automaton::Automaton;
        let Ok(fresh) = dfa.start_state(aho_corasick::Anchored::No) else {
            return matcher;
        };
        let mut state = fresh;
        for &byte in prefix.as_bytes() {
            state = dfa.next_state(aho_corasick::Anchored::No, state, byte);
            if dfa.is_match(state) {
                // A literal in the prefix: every key holds it, and each is matched in full.
                return matcher;
            }
        }
        matcher.walk = Some(LiteralWalk {
            dfa,
            search,
            first_bytes: &self.first_bytes,
            after_prefix: state,
            fresh,
        });
        matcher
    }
}

/// [`PatternSet::matches`] for keys sharing a prefix; see [`PatternSet::with_prefix`].
#[derive(Debug)]
pub struct PrefixMatcher<'p, 'k> {
    set: &'p PatternSet,
    /// `None`: every key is matched in full (a literal-free pattern, or a literal in the
    /// prefix).
    walk: Option<LiteralWalk<'p>>,
    /// The last rest known clean: the automaton was back at its start at `.1`, and no
    /// literal's first byte follows. Keys come in document order and share long heads
    /// (`spec.template.spec.containers[name=api].`): a key sharing that rest past `.1`
    /// need only be searched past what they share.
    clean: Option<(&'k [u8], usize)>,
}

/// What [`LiteralWalk::holds_literal`] found.
enum Walk {
    Literal,
    /// No literal: the automaton was at its start from this position on, and no first
    /// byte of a literal came after it.
    CleanFrom(usize),
    /// No literal, and nothing to remember.
    Nothing,
}

/// The literal automaton run over the prefix; each key's rest resumes from there.
#[derive(Debug)]
struct LiteralWalk<'p> {
    dfa: &'p aho_corasick::dfa::DFA,
    /// The same literals with a prefilter, for a rest that starts afresh.
    search: &'p aho_corasick::AhoCorasick,
    /// The literals' distinct first bytes.
    first_bytes: &'p [u8],
    after_prefix: aho_corasick::automaton::StateID,
    /// The automaton's state when no literal is partly seen.
    fresh: aho_corasick::automaton::StateID,
}

impl LiteralWalk<'_> {
    /// Whether some literal ends in `rest` (the key past the prefix).
    fn holds_literal(&self, rest: &[u8]) -> Walk {
        use aho_corasick::automaton::Automaton;
        let mut state = self.after_prefix;
        // Byte by byte only while a literal begun in the prefix may go on: once the
        // automaton is back at its start, the prefiltered search (a memchr for the
        // literals' first bytes) takes the rest.
        for (at, &byte) in rest.iter().enumerate() {
            if state == self.fresh {
                if !self.may_start(&rest[at..]) {
                    return Walk::CleanFrom(at);
                }
                return if self.search.is_match(&rest[at..]) {
                    Walk::Literal
                } else {
                    Walk::Nothing
                };
            }
            state = self.dfa.next_state(aho_corasick::Anchored::No, state, byte);
            if self.dfa.is_match(state) {
                return Walk::Literal;
            }
        }
        if state == self.fresh {
            Walk::CleanFrom(rest.len())
        } else {
            Walk::Nothing
        }
    }

    /// Whether a literal's first byte is in `text` (`:` for every built-in ignore rule):
    /// a literal starting afresh starts with one, and one memchr turns most keys away.
    fn may_start(&self, text: &[u8]) -> bool {
        match self.first_bytes {
            [a] => contains_byte(*a, text),
            [a, b] => memchr::memchr2(*a, *b, text).is_some(),
            [a, b, c] => memchr::memchr3(*a, *b, *c, text).is_some(),
            _ => true,
        }
    }
}

impl<'k> PrefixMatcher<'_, 'k> {
    /// [`PatternSet::matches`] for the key `prefix` + `rest`, where `prefix` holds the
    /// prefix given (and is left holding it): the key is put together only when a literal
    /// makes a pattern worth trying.
    pub fn matches_rest(&mut self, prefix: &mut String, rest: &'k str) -> bool {
        if let Some(walk) = &self.walk {
            let rest = rest.as_bytes();
            // The same bytes up to `clean_from` leave the automaton at its start there,
            // and hold no first byte of a literal past it up to where the two differ.
            if let Some((last, clean_from)) = self.clean {
                let shared = common_prefix_len(last, rest);
                if shared >= clean_from && !walk.may_start(&rest[shared..]) {
                    self.clean = Some((rest, clean_from));
                    return false;
                }
            }
            match walk.holds_literal(rest) {
                Walk::Literal => self.clean = None,
                Walk::CleanFrom(at) => {
                    self.clean = Some((rest, at));
                    return false;
                }
                Walk::Nothing => {
                    self.clean = None;
                    return false;
                }
            }
        }
        let prefix_len = prefix.len();
        prefix.push_str(rest);
        let matched = self.set.matches(prefix);
        prefix.truncate(prefix_len);
        matched
    }
}

/// Every byte of a word holding 0x01.
pub const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The zero-byte test: nonzero exactly when some byte of `word` is zero, and then its
/// lowest set bit is the high bit of the first such byte (little-endian: first in the
/// text). Bits above it may be set falsely.
pub const fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// The first position from `from` whose byte is below `below` (at most 0x80) or one of
/// `any_of`, or `bytes.len()`: eight bytes at a time, then byte by byte. Most of what
/// this scans (a key's tail, a scalar's run, a JSON string) is a few dozen bytes, where
/// this costs a fraction of memchr's set-up.
#[inline]
pub fn first_stop<const N: usize>(
    bytes: &[u8],
    mut from: usize,
    below: u8,
    any_of: [u8; N],
) -> usize {
    debug_assert!(
        below <= 0x80,
        "the borrow test counts bytes below 0x80 only"
    );
    while let Some(chunk) = bytes.get(from..from + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // Bytes below `below`: subtracting it borrows into their high bit (`!word` keeps
        // bytes from 0x80 out). Each mask's lowest set bit is exact, so the lowest of all
        // marks the first stop.
        let mut stops = word.wrapping_sub(u64::from(below) * ONES) & !word & HIGHS;
        for byte in any_of {
            stops |= zero_bytes(word ^ (u64::from(byte) * ONES));
        }
        if stops != 0 {
            return from + (stops.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    while from < bytes.len() && bytes[from] >= below && !any_of.contains(&bytes[from]) {
        from += 1;
    }
    from
}

/// Whether `byte` occurs in `text`: [`first_stop`] for short texts, memchr for long ones.
pub fn contains_byte(byte: u8, text: &[u8]) -> bool {
    if text.len() > 64 {
        return memchr::memchr(byte, text).is_some();
    }
    first_stop(text, 0, 0, [byte]) < text.len()
}

/// How many leading bytes `a` and `b` share, compared eight at a time.
pub fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let word = |s: &[u8]| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
        let differ = word(a) ^ word(b);
        if differ != 0 {
            // Little-endian: the lowest set bit is in the first differing byte.
            return i + (differ.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
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
    fn common_prefixes_are_counted_to_the_first_differing_byte() {
        let text = b"spec.template.spec.containers[name=api].env[name=X].value";
        for cut in 0..text.len() {
            let mut other = text.to_vec();
            other[cut] ^= 0x20;
            assert_eq!(common_prefix_len(text, &other), cut);
            assert_eq!(common_prefix_len(text, &text[..cut]), cut);
        }
        assert_eq!(common_prefix_len(text, text), text.len());
        assert_eq!(common_prefix_len(b"", text), 0);
    }

    #[test]
    fn a_byte_is_found_wherever_it_is() {
        // Each length around the word size and the memchr hand-over, the byte at each
        // place or nowhere, among neighbours that differ from it by one bit or by 0x80.
        for byte in [b':', 0u8, 0x80, 0xff, b'a'] {
            let others = [byte ^ 1, byte ^ 0x80, byte.wrapping_add(1), byte ^ 0x7f];
            for len in 0..=80 {
                let filler: Vec<u8> = (0..len).map(|i| others[i % others.len()]).collect();
                assert!(!contains_byte(byte, &filler), "{byte} in none of {len}");
                for at in 0..len {
                    let mut text = filler.clone();
                    text[at] = byte;
                    assert!(contains_byte(byte, &text), "{byte} at {at} of {len}");
                }
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
            "d.yaml:Pod/x:metadata.ui",
            "d.yaml:Pod/x:metadata.uidx",
            "d.yaml:Pod/x:metadata.annotations.a",
            "d.yaml:Pod/x:status",
            "d.yaml:Pod/x:status.phase",
            "d.yaml:Pod/x:spec.clusterIPs",
            "d.yaml:Pod/x:spec.a",
            "status.yaml:Pod/y:spec.b",
            "d.yaml:Service/status:spec.b",
            "d.yaml:Pod/x:spec.b",
            "d.yaml:Pod/x:spec.b:status",
            "d.yaml:Pod/x:spec.b:statu",
            "d.yaml:Pod/x:metadata.annotations.a:metadata.uid",
            "d.yaml:Pod/x:metadata.annotations.a:b",
        ];
        for subset in 1..=texts.len() {
            let set = PatternSet::new(&patterns[..subset]);
            for key in keys {
                for split in 0..=key.len() {
                    let prefix = &key[..split];
                    // One matcher for every key with this prefix, in both orders.
                    let sharing: Vec<&str> = keys
                        .iter()
                        .copied()
                        .filter(|k| k.starts_with(prefix))
                        .collect();
                    for order in [sharing.clone(), sharing.iter().rev().copied().collect()] {
                        let mut matcher = set.with_prefix(prefix);
                        let mut scratch = prefix.to_string();
                        for k in order.iter().chain(&order) {
                            let expected = set.matches(k);
                            let context =
                                format!("{k} after {prefix:?} against {:?}", &texts[..subset]);
                            let rest = &k[prefix.len()..];
                            assert_eq!(
                                matcher.matches_rest(&mut scratch, rest),
                                expected,
                                "{context}"
                            );
                            assert_eq!(scratch, prefix);
                        }
                    }
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
