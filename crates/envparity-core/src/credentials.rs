//! Spotting credentials by their look inside a value: a URL's password, `password=` in a
//! connection string, a password on a command line, a private key, vendors' tokens. Used
//! by the config facet (which hashes what it finds) and the data facet (which hides a
//! column whose values hold any).

/// Credentials in an exec-form command line, one word an item (`["mysql", "-uroot",
/// "-pX"]`, `["redis-cli", "-a", "X"]`): `(item, start, end)` within that item. Empty
/// unless some word is a flag, and for words holding whitespace or quotes (each of which
/// is looked at as a value on its own).
pub fn command_line_items(
    words: &[&str],
    is_secret_name: &dyn Fn(&str) -> bool,
) -> Vec<(usize, usize, usize)> {
    if words.len() < 2
        || !words.iter().any(|w| w.starts_with('-'))
        || words.iter().any(|w| {
            w.is_empty() || w.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        })
    {
        return Vec::new();
    }
    let line = words.join(" ");
    let mut spans = Vec::new();
    command_line_secrets(&line, is_secret_name, &mut spans);
    let mut found = Vec::new();
    let mut word_start = 0;
    for (k, word) in words.iter().enumerate() {
        let word_end = word_start + word.len();
        for &(s, e) in &spans {
            if s >= word_start && e <= word_end && e > s {
                found.push((k, s - word_start, e - word_start));
            }
        }
        word_start = word_end + 1;
    }
    found
}

/// `haystack.find(needle)`: these searches run on every value of an estate, most of them
/// short. There a memchr for the needle's first byte beats building a searcher (which
/// `str::find` and `memmem::find` both do per call); long texts go through memmem.
fn find(haystack: &str, needle: &str) -> Option<usize> {
    let (hay, needle) = (haystack.as_bytes(), needle.as_bytes());
    if hay.len() >= 256 {
        return memchr::memmem::find(hay, needle);
    }
    let (&first, _) = needle.split_first()?;
    let mut from = 0;
    while let Some(i) = memchr::memchr(first, &hay[from..]) {
        let at = from + i;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Which of the bytes the detectors key on a text holds, in one pass: each detector
/// needs some of them (a URL password `:` and `@`, a named one `=` or a line's `: `, a
/// command line ` -`), so most values skip most detectors.
#[derive(Clone, Copy)]
struct Marks(u8);

impl Marks {
    const COLON: u8 = 1;
    const AT: u8 = 2;
    const EQUALS: u8 = 4;
    const NEWLINE: u8 = 8;
    const DASH: u8 = 16;
    const SPACE: u8 = 32;

    fn of(text: &str) -> Marks {
        const TABLE: [u8; 256] = {
            let mut t = [0u8; 256];
            t[b':' as usize] = Marks::COLON;
            t[b'@' as usize] = Marks::AT;
            t[b'=' as usize] = Marks::EQUALS;
            t[b'\n' as usize] = Marks::NEWLINE;
            t[b'-' as usize] = Marks::DASH;
            t[b' ' as usize] = Marks::SPACE;
            t
        };
        Marks(text.bytes().fold(0, |m, b| m | TABLE[usize::from(b)]))
    }

    fn all(self, bits: u8) -> bool {
        self.0 & bits == bits
    }
}

fn has(haystack: &str, needle: &str) -> bool {
    find(haystack, needle).is_some()
}

/// Byte ranges of credentials inside `text`, by their look.
pub fn find_credentials(text: &str, is_secret_name: &dyn Fn(&str) -> bool) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    // The shortest credential envparity recognizes (`a://:b@c`) has 8 characters; most
    // values are shorter or plain words, and this runs on every value of an estate.
    if text.len() < 8 {
        return spans;
    }
    let marks = Marks::of(text);
    if marks.all(Marks::DASH | Marks::SPACE) && has(text, "-----BEGIN") && has(text, "PRIVATE KEY")
    {
        return vec![(0, text.len())];
    }
    if marks.all(Marks::COLON | Marks::AT) {
        url_passwords(text, &mut spans);
    }
    if marks.all(Marks::EQUALS) || marks.all(Marks::NEWLINE | Marks::COLON | Marks::SPACE) {
        named_parameters(text, is_secret_name, &mut spans);
    }
    if marks.all(Marks::AT) {
        go_dsn_passwords(text, &mut spans);
    }
    if marks.all(Marks::COLON) && has(text, "\":") {
        json_fields(text, is_secret_name, &mut spans);
    }
    token_shapes(text, &mut spans);
    if marks.all(Marks::SPACE | Marks::DASH) {
        command_line_secrets(text, is_secret_name, &mut spans);
    }
    spans.sort_unstable();
    spans.dedup();
    // Overlapping detections are one credential.
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s < last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// `scheme://user:password@host` → the password.
fn url_passwords(text: &str, spans: &mut Vec<(usize, usize)>) {
    let mut from = 0;
    while let Some(pos) = find(&text[from..], "://") {
        let authority_start = from + pos + 3;
        let rest = &text[authority_start..];
        let authority_len = rest
            .find(['/', '?', '#', ' ', '"', '\'', ','])
            .unwrap_or(rest.len());
        let authority = &rest[..authority_len];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            if let Some(colon) = userinfo.find(':') {
                let start = authority_start + colon + 1;
                let end = authority_start + at;
                if end > start {
                    spans.push((start, end));
                }
            }
        }
        from = authority_start + authority_len.max(1).min(rest.len().max(1));
        if from >= text.len() {
            break;
        }
    }
}

/// `password=…` inside connection strings, query strings and command-line flags.
fn named_parameters(
    text: &str,
    is_secret_name: &dyn Fn(&str) -> bool,
    spans: &mut Vec<(usize, usize)>,
) {
    let bytes = text.as_bytes();
    for (eq, _) in text.match_indices('=') {
        if bytes.get(eq + 1) == Some(&b'=') || (eq > 0 && matches!(bytes[eq - 1], b'=' | b'!')) {
            continue; // `==`, `!=`: a comparison, not an assignment
        }
        // The name runs back to a delimiter, over spaces first (`Password = X;`,
        // `password = X` in an embedded INI or TOML file).
        let mut name_end = eq;
        while name_end > 0 && bytes[name_end - 1] == b' ' {
            name_end -= 1;
        }
        let mut name_start = name_end;
        while name_start > 0 {
            let c = bytes[name_start - 1];
            if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.') {
                name_start -= 1;
            } else {
                break;
            }
        }
        let name = text[name_start..name_end].trim_start_matches('-');
        if name.is_empty() || !is_secret_name(name) {
            continue;
        }
        let mut value_start = eq + 1;
        while bytes.get(value_start) == Some(&b' ') {
            value_start += 1;
        }
        push_value_span(
            text,
            value_start,
            &[';', '&', ' ', '"', '\'', ',', '\n'],
            spans,
        );
    }
    // Config files embedded in a value (a ConfigMap's `application.yaml`, an `app.env`):
    // `password: …` lines.
    if text.contains('\n') {
        let mut line_start = 0;
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if let Some(colon) = find(trimmed, ": ") {
                let name = trimmed[..colon].trim_matches(['"', '\'']);
                if !name.is_empty() && !name.contains(' ') && is_secret_name(name) {
                    let value_start = line_start + indent + colon + 2;
                    push_value_span(text, value_start, &['\n', '\r', ' ', '#'], spans);
                }
            }
            line_start += line.len();
        }
    }
}

/// `"password": "X"` in JSON written inside a value (a ConfigMap's `settings.json`, an
/// annotation): the value, quoted or not, of a field whose name is a secret's.
fn json_fields(text: &str, is_secret_name: &dyn Fn(&str) -> bool, spans: &mut Vec<(usize, usize)>) {
    let bytes = text.as_bytes();
    for (colon, _) in text.match_indices("\":") {
        let Some(open) = text[..colon].rfind('"') else {
            continue;
        };
        let name = &text[open + 1..colon];
        if name.is_empty() || name.len() > 64 || !is_secret_name(name) {
            continue;
        }
        let mut value_start = colon + 2;
        while bytes
            .get(value_start)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            value_start += 1;
        }
        if matches!(
            bytes.get(value_start),
            Some(b'{' | b'[' | b'n' | b't' | b'f') | None
        ) {
            continue; // an object, a list, null or a boolean: no credential of its own
        }
        // A quoted JSON string ends at its unescaped closing quote.
        if bytes[value_start] == b'"' {
            let start = value_start + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            let end = end.min(bytes.len());
            if end > start {
                spans.push((start, end));
            }
        } else {
            push_value_span(text, value_start, &[',', '}', ']', ' ', '\n'], spans);
        }
    }
}

/// The value starting at `start`, up to one of `ends` (or its closing quote, when quoted).
fn push_value_span(text: &str, start: usize, ends: &[char], spans: &mut Vec<(usize, usize)>) {
    let rest = &text[start..];
    let (start, end) = match rest.chars().next() {
        Some(quote @ ('\'' | '"')) => match rest[1..].find(quote) {
            Some(close) => (start + 1, start + 1 + close),
            None => (start + 1, text.len()),
        },
        _ => (start, rest.find(ends).map_or(text.len(), |i| start + i)),
    };
    if end > start {
        spans.push((start, end));
    }
}

/// Words of a command line with their byte ranges (quotes stripped from the range).
fn shell_words(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        if matches!(bytes[i], b'"' | b'\'') {
            let quote = bytes[i];
            let start = i + 1;
            let end = text[start..]
                .bytes()
                .position(|b| b == quote)
                .map_or(text.len(), |p| start + p);
            words.push((start, end));
            i = end + 1;
        } else {
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            words.push((start, i));
        }
    }
    words
}

/// Passwords on command lines: `--db-password VALUE` (a flag naming a secret, then the
/// value as the next word), `mysql -pVALUE`, `curl -u user:VALUE`, `sshpass -p VALUE`,
/// `redis-cli -a VALUE`.
fn command_line_secrets(
    text: &str,
    is_secret_name: &dyn Fn(&str) -> bool,
    spans: &mut Vec<(usize, usize)>,
) {
    if !has(text, " -") {
        return;
    }
    let words = shell_words(text);
    let word = |k: usize| &text[words[k].0..words[k].1];
    let mut command = "";
    for k in 0..words.len() {
        let w = word(k);
        // `sh -c 'mysql -pX …'`: the quoted command line is read too.
        if w.contains(' ') {
            let mut inner = Vec::new();
            command_line_secrets(w, is_secret_name, &mut inner);
            spans.extend(
                inner
                    .into_iter()
                    .map(|(s, e)| (words[k].0 + s, words[k].0 + e)),
            );
            continue;
        }
        let base = w.rsplit('/').next().unwrap_or(w);
        if matches!(
            base,
            "mysql"
                | "mysqldump"
                | "mysqladmin"
                | "mariadb"
                | "mariadb-dump"
                | "curl"
                | "wget"
                | "sshpass"
                | "redis-cli"
        ) {
            command = base;
            continue;
        }
        let next = (k + 1 < words.len()).then(|| words[k + 1]);
        if let Some(flag) = w.strip_prefix("--")
            && !flag.contains('=')
            && !flag.is_empty()
            && is_secret_name(flag)
            && let Some(value) = next
            && !word(k + 1).starts_with('-')
        {
            spans.push(value);
        }
        match (command, w) {
            ("curl" | "wget", "-u" | "--user") => {
                if let Some((start, end)) = next
                    && let Some(colon) = text[start..end].find(':')
                {
                    spans.push((start + colon + 1, end));
                }
            }
            ("curl", _) if w.starts_with("-u") && w.len() > 2 => {
                if let Some(colon) = w.find(':') {
                    spans.push((words[k].0 + colon + 1, words[k].1));
                }
            }
            ("mysql" | "mysqldump" | "mysqladmin" | "mariadb" | "mariadb-dump", _)
                if w.starts_with("-p") && w.len() > 2 =>
            {
                spans.push((words[k].0 + 2, words[k].1));
            }
            ("sshpass", "-p") | ("redis-cli", "-a") => {
                if let Some(value) = next {
                    spans.push(value);
                }
            }
            _ => {}
        }
    }
    spans.retain(|(s, e)| e > s);
}

/// Go MySQL DSNs: `user:password@tcp(host:3306)/db`.
fn go_dsn_passwords(text: &str, spans: &mut Vec<(usize, usize)>) {
    for marker in ["@tcp(", "@unix("] {
        let Some(at) = find(text, marker) else {
            continue;
        };
        let userinfo_start = text[..at]
            .rfind([' ', '"', '\'', '=', '/'])
            .map_or(0, |i| i + 1);
        if let Some(colon) = text[userinfo_start..at].find(':') {
            let start = userinfo_start + colon + 1;
            if at > start {
                spans.push((start, at));
            }
        }
    }
}

/// Well-known token formats, anywhere in the value.
fn token_shapes(text: &str, spans: &mut Vec<(usize, usize)>) {
    const PREFIXES: &[(&str, usize)] = &[
        ("AKIA", 16),
        ("ASIA", 16),
        ("ghp_", 30),
        ("gho_", 30),
        ("ghs_", 30),
        ("ghu_", 30),
        ("github_pat_", 30),
        ("glpat-", 20),
        ("xoxb-", 20),
        ("xoxp-", 20),
        ("xoxa-", 20),
        ("xoxs-", 20),
        ("sk_live_", 16),
        ("rk_live_", 16),
        ("sk_test_", 16),
        ("sk-", 32),
        ("AIza", 35),
        ("npm_", 30),
        ("SG.", 40),
        ("hooks.slack.com/services/", 20),
    ];
    // Shorter than any token shape: nothing to find.
    if text.len() < 15 {
        return;
    }
    let bytes = text.as_bytes();
    let is_token_byte =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'+' | b'=');
    // One pass over the text, trying only the prefixes that start with the two bytes at
    // hand. Which second bytes follow each first byte, as a table of 256-bit sets: one
    // load per byte of every long value, and words such as `spec` or `http` (a prefix's
    // first byte, but not its second) go no further.
    const STARTS: [[u64; 4]; 256] = {
        let mut t = [[0u64; 4]; 256];
        let mut i = 0;
        while i < PREFIXES.len() {
            let p = PREFIXES[i].0.as_bytes();
            t[p[0] as usize][(p[1] >> 6) as usize] |= 1 << (p[1] & 63);
            i += 1;
        }
        t
    };
    for start in 0..bytes.len().saturating_sub(1) {
        let first = bytes[start];
        let second = bytes[start + 1];
        if STARTS[usize::from(first)][usize::from(second >> 6)] >> (second & 63) & 1 == 0 {
            continue;
        }
        if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
            continue;
        }
        for &(prefix, min_len) in PREFIXES {
            if prefix.as_bytes()[0] != first || !bytes[start..].starts_with(prefix.as_bytes()) {
                continue;
            }
            let mut end = start + prefix.len();
            while end < bytes.len() && is_token_byte(bytes[end]) {
                end += 1;
            }
            if end - start - prefix.len() >= min_len.min(40) {
                spans.push((start, end));
            }
        }
    }
    // JSON Web Tokens: three base64url parts, the first two starting `eyJ`.
    // Found by their `J`, a rare byte, rather than by `e`, a common one.
    let mut from = 0;
    while let Some(pos) = memchr::memchr(b'J', &bytes[from..]) {
        let j = from + pos;
        if j < from + 2 || &bytes[j - 2..j] != b"ey" {
            from = j + 1;
            continue;
        }
        let start = j - 2;
        let mut end = start;
        let mut dots = 0;
        while end < bytes.len()
            && (bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b'_' | b'-' | b'.'))
        {
            dots += usize::from(bytes[end] == b'.');
            end += 1;
        }
        if dots >= 2 && end - start >= 30 {
            spans.push((start, end));
        }
        from = end.max(start + 1);
    }
    // Authorization header values.
    if !text.contains(' ') {
        return;
    }
    for scheme in ["Bearer ", "Basic ", "bearer "] {
        if let Some(pos) = find(text, scheme) {
            let start = pos + scheme.len();
            let end = text[start..]
                .find([' ', '"', '\'', ','])
                .map_or(text.len(), |i| start + i);
            if end - start >= 8 {
                spans.push((start, end));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_text_search_finds_what_str_find_finds() {
        let long = format!("{}://u:p@h", "x".repeat(300));
        let hays = ["", "a", "://", "ab://c", "é://", "x:/:// ", "eyJeyJ", &long];
        for hay in hays {
            for needle in ["://", "eyJ", "-----BEGIN", "é", "x"] {
                assert_eq!(find(hay, needle), hay.find(needle), "{hay:?} / {needle:?}");
            }
        }
    }
}
