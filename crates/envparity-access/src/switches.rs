//! Application switches that relax access, found in the configuration: auth turned off,
//! debug on, admin endpoints exposed, `CORS *`, TLS off or unverified, insecure cookies,
//! default credentials. A built-in pack of plain-Rust rules over every configuration
//! value (files, ConfigMaps, container env), by the words in the key and the value.

use envparity_core::access::{Origin, Switch};
use envparity_core::manifest::UserSwitch;
use envparity_core::snapshot::{ConfigFile, Entries, Value, secret_display};

/// The rules and what each means, for reports and docs.
pub const RULES: &[(&str, &str)] = &[
    (
        "auth-disabled",
        "authentication or authorization is turned off",
    ),
    ("debug", "debug mode is on"),
    (
        "admin-exposed",
        "admin, actuator or profiling endpoints are exposed",
    ),
    ("cors-any", "CORS allows any origin (`*`)"),
    ("tls-off", "TLS/SSL is turned off"),
    ("tls-verify-off", "TLS certificates are not verified"),
    (
        "cookie-insecure",
        "cookies are sent without Secure/HttpOnly, or SameSite=None",
    ),
    (
        "default-credential",
        "a credential is a well-known default (`admin`, `password`, …)",
    ),
];

/// Passwords every scanner tries first. Their keyed hashes are compared with the
/// snapshot's secret hashes: the secrets themselves are never seen here.
pub const DEFAULT_CREDENTIALS: &[&str] = &[
    "admin",
    "password",
    "changeme",
    "root",
    "postgres",
    "secret",
    "123456",
    "guest",
    "test",
    "default",
    "letmein",
    "mysql",
    "P@ssw0rd",
    "admin123",
    "password1",
];

/// What a value's text says to the rules that read words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Word {
    On,
    Off,
    /// An `sslmode` that lets a connection go without TLS.
    WeakSslMode,
    /// The `SameSite` that sends a cookie with every cross-site request.
    OpenSameSite,
}

/// The one list of the words the rules read, ASCII case aside. Lowered on the stack:
/// this runs on every value of both environments (see [`value_may_switch`]).
fn word_of(text: &str) -> Option<Word> {
    let t = text.as_bytes();
    if t.len() > 8 {
        return None;
    }
    let mut lower = [0u8; 8];
    for (l, b) in lower.iter_mut().zip(t) {
        *l = b.to_ascii_lowercase();
    }
    match &lower[..t.len()] {
        b"true" | b"yes" | b"on" | b"1" | b"y" | b"enabled" => Some(Word::On),
        b"false" | b"no" | b"off" | b"0" | b"n" | b"disabled" => Some(Word::Off),
        b"disable" | b"allow" | b"prefer" => Some(Word::WeakSslMode),
        b"none" => Some(Word::OpenSameSite),
        _ => None,
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n == "1",
        Value::String(s) => word_of(s.trim()) == Some(Word::On),
        _ => false,
    }
}

fn falsy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !*b,
        Value::Number(n) => n == "0",
        Value::String(s) => word_of(s.trim()) == Some(Word::Off),
        _ => false,
    }
}

/// The words of a key: `server.auth.enabled` → server auth enabled; `insecureSkipVerify`
/// → insecure skip verify; `DISABLE_AUTH` → disable auth. Slices of `lower`, which must be
/// `name` lower-cased in ASCII (byte for byte the same length).
fn words<'l>(name: &str, lower: &'l str) -> Vec<&'l str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut previous_lower = false;
    for (i, c) in name.char_indices() {
        if !c.is_ascii_alphanumeric() {
            if let Some(s) = start.take() {
                out.push(&lower[s..i]);
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower {
            if let Some(s) = start.replace(i) {
                out.push(&lower[s..i]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if let Some(s) = start {
        out.push(&lower[s..]);
    }
    out
}

/// The name a value is known by: the env var's name for `env[name=X].value`, the map key
/// path otherwise.
fn value_name(path: &str) -> &str {
    if let Some(stem) = path.strip_suffix(".value")
        && let Some(open) = stem.rfind("[name=")
        && stem.ends_with(']')
    {
        return &stem[open + 6..stem.len() - 1];
    }
    path
}

fn texts(v: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    texts_into(v, &mut out);
    out
}

/// [`texts`] into one list: a list's items add to it rather than each making its own.
fn texts_into<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) => out.push(s.as_str()),
        Value::List(items) => items.iter().for_each(|item| texts_into(item, out)),
        Value::Secret(s) => out.extend(s.around.as_deref()),
        _ => {}
    }
}

/// Which rule a value breaks, if any (`from_file` uses [`check_with`] and cached facts).
#[cfg(test)]
fn check(name: &str, value: &Value, default_hashes: &[String]) -> Option<&'static str> {
    check_with(&NameFacts::of(name), value, default_hashes)
}

/// What the rules of [`check`] read from a key name: a function of the name alone, so it
/// is worked out once per name ([`NameFacts::cached`]) while the values vary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct NameFacts {
    /// An auth word and an on-switch last word (`auth.enabled`).
    auth_on: bool,
    /// An auth word and an off-switch (`disable_auth`, `security.bypass`).
    auth_off: bool,
    /// True means TLS verification is off (`insecureSkipVerify`, `tls.insecure`).
    insecure_verify: bool,
    /// False means TLS verification is off (`ssl.verify`, `NODE_TLS_REJECT_UNAUTHORIZED`).
    verify_off_when_false: bool,
    /// False means TLS is off (`tls.enabled`, `redis.ssl`).
    tls_switch: bool,
    last_sslmode: bool,
    cors: bool,
    /// A cookie or session name whose false value is insecure (`secure`, `httpOnly`).
    cookie_flag: bool,
    cookie_samesite: bool,
    exposure_include: bool,
    /// An admin surface's switch (`actuator…enabled`, `pprof.expose`).
    admin_switch: bool,
    last_debug: bool,
}

/// Names remembered at most, per thread, before the cache starts over.
const NAME_FACTS_LIMIT: usize = 100_000;

thread_local! {
    /// Per thread: the facts of names seen. A key name repeats in every object and in
    /// both environments, and splitting it into words cost ~1,500 instructions.
    static NAME_FACTS: std::cell::RefCell<hashbrown::HashMap<Box<str>, NameFacts>> =
        std::cell::RefCell::new(hashbrown::HashMap::new());
}

impl NameFacts {
    fn cached(name: &str) -> NameFacts {
        NAME_FACTS.with_borrow_mut(|cache| {
            if let Some(&facts) = cache.get(name) {
                return facts;
            }
            if cache.len() >= NAME_FACTS_LIMIT {
                cache.clear();
            }
            let facts = NameFacts::of(name);
            cache.insert(name.into(), facts);
            facts
        })
    }

    /// The facts of a name, from which of the words [`check`] asks about it holds: found
    /// in one pass over its words (asking each of ~35 words in turn cost ~6,600
    /// instructions a name, and an estate's env var names are mostly distinct).
    fn of(name: &str) -> NameFacts {
        let lower = name.to_ascii_lowercase();
        let w = words(name, &lower);
        let mut held = 0u64;
        for word in &w {
            held |= word_bit(word);
        }
        let has = |bit: u64| held & bit != 0;
        let last = w.last().copied().unwrap_or("");
        let auth = has(word::AUTH);
        let switch_on = matches!(
            last,
            "enabled" | "enable" | "required" | "require" | "on" | "active"
        );
        let switch_off = matches!(
            w.first().copied(),
            Some("disable" | "skip" | "no" | "bypass")
        ) || matches!(last, "disabled" | "disable" | "skip" | "bypass" | "off");
        let tls = has(word::SSL | word::TLS | word::HTTPS | word::USESSL);
        let cookie = has(word::COOKIE | word::COOKIES | word::SESSION);
        NameFacts {
            auth_on: auth && switch_on,
            auth_off: auth && switch_off,
            insecure_verify: has(word::INSECURE) && has(word::VERIFY | word::TLS | word::SSL),
            verify_off_when_false: (has(word::VERIFY) && !has(word::INSECURE))
                || name == "NODE_TLS_REJECT_UNAUTHORIZED"
                || name == "PYTHONHTTPSVERIFY",
            tls_switch: tls && (switch_on || last == "ssl" || last == "tls" || last == "usessl"),
            last_sslmode: last == "sslmode",
            cors: has(word::CORS)
                || (has(word::ALLOW) && has(word::ORIGIN))
                || (has(word::ALLOWED) && has(word::ORIGINS)),
            cookie_flag: cookie
                && (last == "secure" || last == "httponly" || (last == "only" && has(word::HTTP))),
            cookie_samesite: cookie && last == "samesite",
            exposure_include: has(word::EXPOSURE) && has(word::INCLUDE),
            admin_switch: (has(word::PPROF | word::ACTUATOR | word::GRAPHIQL | word::ADMIN)
                || (has(word::H2) && has(word::CONSOLE)))
                && matches!(last, "enabled" | "enable" | "expose" | "exposed"),
            last_debug: last == "debug",
        }
    }

    /// [`NameFacts::of`] as first written, asking for each word in turn: the reference
    /// the one-pass version is held to.
    #[cfg(test)]
    fn of_by_search(name: &str) -> NameFacts {
        let lower = name.to_ascii_lowercase();
        let w = words(name, &lower);
        let has = |x: &str| w.contains(&x);
        let last = w.last().copied().unwrap_or("");
        let auth = [
            "auth",
            "authentication",
            "authn",
            "authorization",
            "authz",
            "security",
            "login",
            "oauth",
            "oauth2",
            "jwt",
            "sso",
        ]
        .iter()
        .any(|a| has(a));
        let switch_on = matches!(
            last,
            "enabled" | "enable" | "required" | "require" | "on" | "active"
        );
        let switch_off = matches!(
            w.first().copied(),
            Some("disable" | "skip" | "no" | "bypass")
        ) || matches!(last, "disabled" | "disable" | "skip" | "bypass" | "off");
        let tls = has("ssl") || has("tls") || has("https") || has("usessl");
        let cookie = has("cookie") || has("cookies") || has("session");
        NameFacts {
            auth_on: auth && switch_on,
            auth_off: auth && switch_off,
            insecure_verify: has("insecure") && (has("verify") || has("tls") || has("ssl")),
            verify_off_when_false: (has("verify") && !has("insecure"))
                || name == "NODE_TLS_REJECT_UNAUTHORIZED"
                || name == "PYTHONHTTPSVERIFY",
            tls_switch: tls && (switch_on || last == "ssl" || last == "tls" || last == "usessl"),
            last_sslmode: last == "sslmode",
            cors: has("cors")
                || (has("allow") && has("origin"))
                || (has("allowed") && has("origins")),
            cookie_flag: cookie
                && (last == "secure" || last == "httponly" || (last == "only" && has("http"))),
            cookie_samesite: cookie && last == "samesite",
            exposure_include: has("exposure") && has("include"),
            admin_switch: (has("pprof")
                || has("actuator")
                || has("graphiql")
                || (has("h2") && has("console"))
                || has("admin"))
                && matches!(last, "enabled" | "enable" | "expose" | "exposed"),
            last_debug: last == "debug",
        }
    }
}

/// The words [`NameFacts::of`] asks about, one bit each.
mod word {
    pub const AUTH: u64 = 1 << 0;
    pub const SSL: u64 = 1 << 1;
    pub const TLS: u64 = 1 << 2;
    pub const HTTPS: u64 = 1 << 3;
    pub const USESSL: u64 = 1 << 4;
    pub const COOKIE: u64 = 1 << 5;
    pub const COOKIES: u64 = 1 << 6;
    pub const SESSION: u64 = 1 << 7;
    pub const INSECURE: u64 = 1 << 8;
    pub const VERIFY: u64 = 1 << 9;
    pub const CORS: u64 = 1 << 10;
    pub const ALLOW: u64 = 1 << 11;
    pub const ORIGIN: u64 = 1 << 12;
    pub const ALLOWED: u64 = 1 << 13;
    pub const ORIGINS: u64 = 1 << 14;
    pub const EXPOSURE: u64 = 1 << 15;
    pub const INCLUDE: u64 = 1 << 16;
    pub const PPROF: u64 = 1 << 17;
    pub const ACTUATOR: u64 = 1 << 18;
    pub const GRAPHIQL: u64 = 1 << 19;
    pub const ADMIN: u64 = 1 << 20;
    pub const H2: u64 = 1 << 21;
    pub const CONSOLE: u64 = 1 << 22;
    pub const HTTP: u64 = 1 << 23;
}

/// The bit of a lower-case word [`NameFacts::of`] asks about; 0 for any other word.
fn word_bit(w: &str) -> u64 {
    match w {
        "auth" | "authentication" | "authn" | "authorization" | "authz" | "security" | "login"
        | "oauth" | "oauth2" | "jwt" | "sso" => word::AUTH,
        "ssl" => word::SSL,
        "tls" => word::TLS,
        "https" => word::HTTPS,
        "usessl" => word::USESSL,
        "cookie" => word::COOKIE,
        "cookies" => word::COOKIES,
        "session" => word::SESSION,
        "insecure" => word::INSECURE,
        "verify" => word::VERIFY,
        "cors" => word::CORS,
        "allow" => word::ALLOW,
        "origin" => word::ORIGIN,
        "allowed" => word::ALLOWED,
        "origins" => word::ORIGINS,
        "exposure" => word::EXPOSURE,
        "include" => word::INCLUDE,
        "pprof" => word::PPROF,
        "actuator" => word::ACTUATOR,
        "graphiql" => word::GRAPHIQL,
        "admin" => word::ADMIN,
        "h2" => word::H2,
        "console" => word::CONSOLE,
        "http" => word::HTTP,
        _ => 0,
    }
}

/// [`check`] with the name's facts worked out.
fn check_with(name: &NameFacts, value: &Value, default_hashes: &[String]) -> Option<&'static str> {
    if let Value::Secret(s) = value
        && s.around.is_none()
        && default_hashes.contains(&s.hmac)
    {
        return Some("default-credential");
    }
    let texts = texts(value);
    if (name.auth_on && falsy(value)) || (name.auth_off && truthy(value)) {
        return Some("auth-disabled");
    }
    if (name.insecure_verify && truthy(value)) || (name.verify_off_when_false && falsy(value)) {
        return Some("tls-verify-off");
    }
    if (name.tls_switch && falsy(value))
        || (name.last_sslmode && texts.iter().any(|t| word_of(t) == Some(Word::WeakSslMode)))
        || texts.iter().any(|t| {
            let t = t.to_ascii_lowercase();
            t.contains("sslmode=disable") || t.contains("usessl=false") || t.contains("ssl=false")
        })
    {
        return Some("tls-off");
    }
    if name.cors
        && texts
            .iter()
            .any(|t| t.split(',').any(|part| part.trim() == "*"))
    {
        return Some("cors-any");
    }
    if (name.cookie_flag && falsy(value))
        || (name.cookie_samesite && texts.iter().any(|t| word_of(t) == Some(Word::OpenSameSite)))
    {
        return Some("cookie-insecure");
    }
    if (name.exposure_include && texts.contains(&"*")) || (name.admin_switch && truthy(value)) {
        return Some("admin-exposed");
    }
    if name.last_debug && truthy(value) {
        return Some("debug");
    }
    None
}

/// Words at least one of which a key name must contain (ASCII case aside) for [`check`]
/// to name a rule by it: every word test in `check` is one of these or holds one. Most
/// keys of an estate hold none, so they skip splitting into words (this runs on every
/// value of both environments).
const NAME_TRIGGERS: &[&str] = &[
    "auth", "security", "login", "jwt", "sso", "verify", "tls", "ssl", "https", "cors", "origin",
    "cookie", "session", "exposure", "pprof", "actuator", "graphiql", "h2", "admin", "debug",
];

static NAME_TRIGGER_FINDER: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| {
        // A DFA: the scan runs on every name whose value may switch, and the default (an
        // NFA for a case-insensitive set) spent ~1,300 instructions on a 50-byte name.
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(NAME_TRIGGERS)
            .expect("fixed word list")
    });

/// Longest of [`NAME_TRIGGERS`].
const LONGEST_TRIGGER: usize = 8;

/// Remembers the last name scanned for [`NAME_TRIGGERS`]: consecutive keys share long
/// prefixes (`spec.template.spec.containers[name=api].…`), and a prefix already scanned
/// clean need not be scanned again.
#[derive(Default)]
struct TriggerScan<'a> {
    previous: &'a str,
    previous_clean: bool,
}

impl<'a> TriggerScan<'a> {
    fn has_trigger(&mut self, name: &'a str) -> bool {
        let from = if self.previous_clean {
            let common = envparity_core::pattern::common_prefix_len(
                name.as_bytes(),
                self.previous.as_bytes(),
            );
            // A trigger ending inside the shared prefix would have been found before.
            common.saturating_sub(LONGEST_TRIGGER - 1)
        } else {
            0
        };
        let hit = NAME_TRIGGER_FINDER.is_match(&name.as_bytes()[from..]);
        self.previous = name;
        self.previous_clean = !hit;
        hit
    }
}

/// Whether [`check`] can return a rule for this name and value. A cheap superset: when
/// false, `check` returns `None`. (`from_file` scans names with a [`TriggerScan`].)
#[cfg(test)]
fn may_break_a_rule(name: &str, value: &Value) -> bool {
    may_break_a_rule_with(value, || NAME_TRIGGER_FINDER.is_match(name))
}

/// [`may_break_a_rule`], with the name's trigger scan left to the caller.
fn may_break_a_rule_with(value: &Value, name_has_trigger: impl FnOnce() -> bool) -> bool {
    match value {
        // Most values: one pass over the text for what the value rules need.
        Value::String(s) => match text_marks(s) {
            TextMarks::SslSetting => true,
            TextMarks::MaySwitch => name_has_trigger(),
            TextMarks::Neither => false,
        },
        // A default credential is told by the value alone.
        Value::Secret(s) if s.around.is_none() => true,
        other => {
            let texts = texts(other);
            texts.iter().any(|t| text_marks(t) == TextMarks::SslSetting)
                || (value_may_switch(other) && name_has_trigger())
        }
    }
}

/// What a text can tell the rules, in one pass over its bytes (this runs on every value
/// of both environments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TextMarks {
    /// An `sslmode=disable` or the like may be inside: a rule by the value alone.
    SslSetting,
    /// On or off ([`word_of`]), a wildcard (`*`), or a weak `sslmode` or `SameSite`: a
    /// rule that also reads the name may fire.
    MaySwitch,
    Neither,
}

fn text_marks(text: &str) -> TextMarks {
    let b = text.as_bytes();
    // A plain loop, not memchr: most values are a few bytes long, and this one vectorizes.
    let (mut star, mut equals) = (false, false);
    for &c in b {
        star |= c == b'*';
        equals |= c == b'=';
    }
    // Every such value rule (`sslmode=disable`, `usessl=false`, `ssl=false`) has an `=`.
    if equals && contains_ssl(text) {
        return TextMarks::SslSetting;
    }
    if star || word_of(trim_if_needed(text)).is_some() {
        TextMarks::MaySwitch
    } else {
        TextMarks::Neither
    }
}

fn contains_ssl(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr2_iter(b's', b'S', b).any(|i| {
        b.get(i..i + 3)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"ssl"))
    })
}

/// `str::trim`, skipped when neither end can be whitespace: an ASCII byte that is not
/// whitespace at both ends (Unicode whitespace is never ASCII).
fn trim_if_needed(text: &str) -> &str {
    let edge = |b: &u8| b.is_ascii_whitespace() || !b.is_ascii();
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(first), Some(last)) if !edge(first) && !edge(last) => text,
        _ => text.trim(),
    }
}

/// Whether a value is one that a rule of [`check`] tells by name can fire on: on or off
/// ([`word_of`]), a wildcard (`*`), or a weak `sslmode` or `SameSite` (also [`word_of`]). Most values (ports, images, user ids, paths) are none of these, and then the
/// name need not be looked at: `securityContext.runAsUser: 1000` holds a trigger word but
/// can break no rule.
fn value_may_switch(value: &Value) -> bool {
    let text_may_switch = |t: &str| word_of(t.trim()).is_some() || t.as_bytes().contains(&b'*');
    match value {
        Value::Bool(_) => true,
        Value::Number(n) => n == "0" || n == "1",
        Value::String(s) => text_may_switch(s),
        other => texts(other).into_iter().any(text_may_switch),
    }
}

/// Every relaxing switch in one file of an environment's configuration (the collector
/// runs this on each file as it is read). `default_hashes`: the keyed hashes of
/// [`DEFAULT_CREDENTIALS`] under the snapshot's key.
pub fn from_file<'f>(
    file: &'f ConfigFile,
    default_hashes: &[String],
    user: &[UserSwitch],
) -> Vec<Switch> {
    let mut out = Vec::new();
    let mut scan = TriggerScan::default();
    let mut visit = |key_prefix: &str, entries: &'f Entries| {
        for e in entries {
            // The full key is only needed for the team's rules and for a switch found.
            let full_key = || format!("{key_prefix}{}", e.path);
            let key = (!user.is_empty()).then(full_key);
            // The team's rules first: they name what they mean.
            let theirs = key.as_deref().and_then(|key| {
                user.iter().find(|u| {
                    u.key.matches(key)
                        && match &u.value {
                            Some(glob) => glob.is_match(display(e.value)),
                            None => truthy(e.value),
                        }
                })
            });
            let rule = theirs.map(|u| u.rule.clone()).or_else(|| {
                // Found only for values that may break a rule: most are told by the value.
                let name = || value_name(e.path);
                if !may_break_a_rule_with(e.value, || scan.has_trigger(name())) {
                    return None;
                }
                check_with(&NameFacts::cached(name()), e.value, default_hashes).map(str::to_string)
            });
            if let Some(rule) = rule {
                out.push(Switch {
                    rule,
                    key: key.unwrap_or_else(full_key),
                    value: display(e.value),
                    origin: Origin {
                        file: file.source.clone(),
                        line: Some(e.line),
                    },
                });
            }
        }
    };
    // The key prefixes in one buffer: a file's, then each object's after it.
    let mut prefix = String::with_capacity(file.path.len() + 64);
    prefix.push_str(&file.path);
    prefix.push(':');
    visit(&prefix, &file.entries);
    for r in &file.resources {
        prefix.truncate(file.path.len() + 1);
        prefix.push_str(&r.id());
        prefix.push(':');
        visit(&prefix, &r.entries);
    }
    out
}

fn display(v: &Value) -> String {
    match v {
        Value::Secret(s) => secret_display(&s.hmac),
        Value::String(s) => s.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(display).collect::<Vec<_>>().join(", ")
        ),
        Value::Null => "null".into(),
        Value::EmptyMap => "{}".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, value: Value) -> Option<&'static str> {
        let found = check(name, &value, &[]);
        // The pre-filter must never hide a rule `check` names.
        assert!(
            found.is_none() || may_break_a_rule(name, &value),
            "{name}: {found:?} hidden by the pre-filter"
        );
        // Twice: the second reads the facts back from the thread's cache.
        for _ in 0..2 {
            assert_eq!(
                check_with(&NameFacts::cached(name), &value, &[]),
                found,
                "{name}: the cached facts disagree"
            );
        }
        found
    }

    #[test]
    fn a_name_seen_before_is_judged_by_its_new_value() {
        let file = |value: bool| ConfigFile {
            path: "app.yaml".into(),
            source: format!("{value}/app.yaml"),
            format: envparity_core::snapshot::Format::Yaml,
            entries: [("server.auth.enabled", 3, Value::Bool(value))]
                .into_iter()
                .collect(),
            resources: Vec::new(),
        };
        let (off, on) = (file(false), file(true));
        for _ in 0..2 {
            let found = from_file(&off, &[], &[]);
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].rule, "auth-disabled");
            assert_eq!(found[0].key, "app.yaml:server.auth.enabled");
            assert!(from_file(&on, &[], &[]).is_empty());
        }
    }

    fn s(t: &str) -> Value {
        Value::String(t.into())
    }

    #[test]
    fn name_facts_in_one_pass_agree_with_asking_word_by_word() {
        let pieces = [
            "auth", "Security", "LOGIN", "oauth2", "ssl", "TLS", "https", "useSsl", "cookie",
            "Cookies", "session", "insecure", "Verify", "cors", "allow", "origin", "allowed",
            "origins", "exposure", "include", "pprof", "actuator", "graphiql", "admin", "h2",
            "console", "http", "only", "secure", "sameSite", "sslmode", "debug", "enabled",
            "Disable", "skip", "no", "bypass", "off", "on", "expose", "x",
        ];
        let mut names = vec![
            "NODE_TLS_REJECT_UNAUTHORIZED".to_string(),
            "PYTHONHTTPSVERIFY".to_string(),
            String::new(),
        ];
        for (i, a) in pieces.iter().enumerate() {
            for (j, b) in pieces.iter().enumerate() {
                for separator in [".", "_", ""] {
                    names.push(format!("{a}{separator}{b}"));
                    // A third word for a sample of the pairs.
                    let c = pieces[(i * 7 + j * 3) % pieces.len()];
                    names.push(format!("{a}{separator}{b}-{c}"));
                }
            }
        }
        let mut fired = 0;
        for name in &names {
            let facts = NameFacts::of(name);
            assert_eq!(facts, NameFacts::of_by_search(name), "{name}");
            fired += usize::from(facts != NameFacts::default());
        }
        // Both kinds of name occur, so the comparison means something.
        assert!(
            fired > 1000 && fired < names.len() - 1000,
            "{fired} of {}",
            names.len()
        );
    }

    #[test]
    fn words_split_at_separators_and_camel_case() {
        // The splitting as first written: one owned, lower-cased word at a time.
        fn owned(name: &str) -> Vec<String> {
            let (mut out, mut word, mut previous_lower) = (Vec::new(), String::new(), false);
            for c in name.chars() {
                if !c.is_ascii_alphanumeric() {
                    if !word.is_empty() {
                        out.push(std::mem::take(&mut word));
                    }
                    previous_lower = false;
                    continue;
                }
                if c.is_ascii_uppercase() && previous_lower && !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
                word.push(c.to_ascii_lowercase());
            }
            if !word.is_empty() {
                out.push(word);
            }
            out
        }
        for name in [
            "server.auth.enabled",
            "insecureSkipVerify",
            "DISABLE_AUTH",
            "",
            "..",
            "a",
            "A",
            "oauth2Enabled",
            "HTTPSOnly",
            "h2.console.enabled",
            "zürichAuth",
            "éAuth.ß",
            "x9Y",
            "__a__b__",
            "spec.containers[name=api].env[name=JWT_SECRET].value",
        ] {
            let lower = name.to_ascii_lowercase();
            assert_eq!(words(name, &lower), owned(name), "{name}");
        }
        assert_eq!(
            words("insecureSkipVerify", "insecureskipverify"),
            ["insecure", "skip", "verify"]
        );
    }

    #[test]
    fn the_one_pass_pre_filter_agrees_with_the_plain_one() {
        // The pre-filter as first written: each test on its own, `trim` always.
        fn plain(value: &Value, trigger: bool) -> bool {
            let has_ssl_setting =
                |t: &str| t.contains('=') && t.to_ascii_lowercase().contains("ssl");
            let may_switch = |t: &str| word_of(t.trim()).is_some() || t.contains('*');
            let texts = texts(value);
            matches!(value, Value::Secret(s) if s.around.is_none())
                || texts.iter().any(|t| has_ssl_setting(t))
                || (match value {
                    Value::Bool(_) => true,
                    Value::Number(n) => n == "0" || n == "1",
                    _ => texts.iter().any(|t| may_switch(t)),
                } && trigger)
        }
        let texts = [
            "",
            "true",
            " true ",
            "TRUE",
            "\u{a0}on\u{3000}",
            "\u{2003}off",
            "enabled",
            "enabledX",
            "*",
            "a*b",
            "https://*.example.com",
            "x=1",
            "sslmode=disable",
            "host=db SSLMODE=require",
            "a*=ssl",
            "ssl",
            "none",
            "prefer",
            "é",
            "off\n",
            "registry.example.com/shop/api:1.2.3",
            "=*",
            "*=",
            "s=S*sl",
        ];
        let mut values: Vec<Value> = texts.iter().map(|t| s(t)).collect();
        values.push(Value::List(texts.iter().take(6).map(|t| s(t)).collect()));
        values.push(Value::List(vec![s("a"), s("ssl=false")]));
        values.extend([
            Value::Bool(false),
            Value::Number("0".into()),
            Value::Number("8080".into()),
            Value::Null,
            Value::EmptyMap,
        ]);
        for value in &values {
            for trigger in [false, true] {
                assert_eq!(
                    may_break_a_rule_with(value, || trigger),
                    plain(value, trigger),
                    "{value:?}, trigger {trigger}"
                );
            }
        }
    }

    #[test]
    fn the_prefix_scan_finds_what_a_full_scan_finds() {
        assert_eq!(
            NAME_TRIGGERS.iter().map(|t| t.len()).max(),
            Some(LONGEST_TRIGGER)
        );
        let names = [
            "spec.template.spec.containers[name=api].image",
            "spec.template.spec.containers[name=api].imagePullPolicy",
            "spec.template.spec.securityContext.runAsUser",
            "spec.template.spec.securityContext.fsGroup",
            "spec.template.spec.secur",
            "spec.template.spec.securITY",
            "spec.template.spec.replicas",
            "spec.template.spec.replicas.DEBUG",
            "x",
            "",
            "a.auth",
        ];
        let mut scan = TriggerScan::default();
        for name in names {
            assert_eq!(
                scan.has_trigger(name),
                NAME_TRIGGER_FINDER.is_match(name),
                "{name}"
            );
        }
    }

    #[test]
    fn switches_by_key_words_and_value() {
        assert_eq!(
            rule("server.auth.enabled", Value::Bool(false)),
            Some("auth-disabled")
        );
        assert_eq!(rule("DISABLE_AUTH", s("true")), Some("auth-disabled"));
        assert_eq!(
            rule("spring.security.enabled", s("false")),
            Some("auth-disabled")
        );
        assert_eq!(rule("server.auth.enabled", Value::Bool(true)), None);
        assert_eq!(rule("DEBUG", s("1")), Some("debug"));
        assert_eq!(rule("app.debug", Value::Bool(false)), None);
        assert_eq!(
            rule(
                "cors.allowed_origins",
                Value::List(vec![s("https://a"), s("*")])
            ),
            Some("cors-any")
        );
        assert_eq!(rule("CORS_ORIGINS", s("https://shop.example")), None);
        assert_eq!(
            rule("Access-Control-Allow-Origin", s("*")),
            Some("cors-any")
        );
        assert_eq!(
            rule("tls.insecureSkipVerify", Value::Bool(true)),
            Some("tls-verify-off")
        );
        assert_eq!(
            rule("NODE_TLS_REJECT_UNAUTHORIZED", s("0")),
            Some("tls-verify-off")
        );
        assert_eq!(
            rule("ssl.verify", Value::Bool(false)),
            Some("tls-verify-off")
        );
        assert_eq!(rule("db.sslmode", s("disable")), Some("tls-off"));
        assert_eq!(
            rule("DATABASE_URL", s("postgres://db/shop?sslmode=disable")),
            Some("tls-off")
        );
        assert_eq!(rule("server.ssl.enabled", s("false")), Some("tls-off"));
        assert_eq!(
            rule("session.cookie.secure", Value::Bool(false)),
            Some("cookie-insecure")
        );
        assert_eq!(
            rule("SESSION_COOKIE_SAMESITE", s("None")),
            Some("cookie-insecure")
        );
        assert_eq!(
            rule("management.endpoints.web.exposure.include", s("*")),
            Some("admin-exposed")
        );
        assert_eq!(
            rule("pprof.enabled", Value::Bool(true)),
            Some("admin-exposed")
        );
        assert_eq!(
            rule("spring.h2.console.enabled", Value::Bool(true)),
            Some("admin-exposed")
        );
        assert_eq!(rule("APP_USESSL", s("false")), Some("tls-off"));
        assert_eq!(rule("jdbc", s("jdbc:x://db?SSL=false")), Some("tls-off"));
        assert_eq!(rule("server.timeout", s("false")), None);
        assert_eq!(
            rule(
                "cors.allowed_origins",
                Value::List(vec![s("https://shop.example"), s(" * ")])
            ),
            Some("cors-any")
        );
        assert_eq!(
            rule("app.cookie.samesite", s("NONE")),
            Some("cookie-insecure")
        );
        // A trigger word in the name, and a value no rule can fire on: not looked at.
        for value in [
            Value::Number("1000".into()),
            s("/var/run/tls"),
            s("ENABLED-ish"),
        ] {
            assert!(!value_may_switch(&value), "{value:?}");
            assert!(!may_break_a_rule("spec.securityContext.runAsUser", &value));
        }
        assert_eq!(
            value_name("spec.containers[name=api].env[name=DEBUG].value"),
            "DEBUG"
        );
    }
}
