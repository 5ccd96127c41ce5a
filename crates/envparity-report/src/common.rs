//! What the renderers share: the order findings are shown in, how a key reads within its
//! file, counts, and how a value is made safe and short for human eyes.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use envparity_core::{Class, Facet, Finding, Report, Side};

/// The classes in the order reports show them: what calls for action first, the most
/// urgent first, then what is intended.
pub const CLASS_ORDER: [Class; 8] = [
    Class::SharedSecret,
    Class::Policy,
    Class::Unreadable,
    Class::Drift,
    Class::Missing,
    Class::Extra,
    Class::Expected,
    Class::EnvEquivalent,
];

pub fn class_rank(class: Class) -> usize {
    CLASS_ORDER
        .iter()
        .position(|c| *c == class)
        .unwrap_or(CLASS_ORDER.len())
}

/// One file's findings.
pub struct Group<'r> {
    pub name: &'r str,
    /// Findings outside any Kubernetes object first, then one block per object.
    pub blocks: Vec<Block<'r>>,
}

impl<'r> Group<'r> {
    pub fn findings(&self) -> impl Iterator<Item = &'r Finding> + '_ {
        self.blocks.iter().flat_map(|b| b.findings.iter().copied())
    }

    pub fn len(&self) -> usize {
        self.blocks.iter().map(|b| b.findings.len()).sum()
    }
}

/// The findings of one Kubernetes object (or of the file itself when `resource` is `None`).
pub struct Block<'r> {
    pub resource: Option<&'r str>,
    pub findings: Vec<&'r Finding>,
}

/// Groups findings by file, then by object, in the order every renderer shows them:
/// - files by their most urgent class (see [`CLASS_ORDER`]), then by name;
/// - within a file, findings outside any object first, then objects in order of first
///   appearance (the reference environment's document order);
/// - within an object, by class (most urgent first), then in the report's order.
pub fn group_findings<'r>(findings: impl IntoIterator<Item = &'r Finding>) -> Vec<Group<'r>> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<Group<'r>> = Vec::new();
    for f in findings {
        let gi = *index.entry(f.group.as_str()).or_insert_with(|| {
            groups.push(Group {
                name: f.group.as_str(),
                blocks: Vec::new(),
            });
            groups.len() - 1
        });
        let group = &mut groups[gi];
        let resource = f.resource.as_deref();
        match group.blocks.iter_mut().find(|b| b.resource == resource) {
            Some(block) => block.findings.push(f),
            None => group.blocks.push(Block {
                resource,
                findings: vec![f],
            }),
        }
    }
    for group in &mut groups {
        // Stable sorts: first appearance is kept among equals.
        group.blocks.sort_by_key(|b| b.resource.is_some());
        for block in &mut group.blocks {
            block.findings.sort_by_key(|f| class_rank(f.class));
        }
    }
    groups.sort_by(|x, y| {
        let rx = x.findings().map(|f| class_rank(f.class)).min();
        let ry = y.findings().map(|f| class_rank(f.class)).min();
        rx.cmp(&ry).then_with(|| x.name.cmp(y.name))
    });
    groups
}

/// Findings sorted for a flat table: by class (most urgent first), then in grouped order.
pub fn flat_order<'r>(findings: impl IntoIterator<Item = &'r Finding>) -> Vec<&'r Finding> {
    let mut flat: Vec<&Finding> = Vec::new();
    for group in group_findings(findings) {
        flat.extend(group.findings());
    }
    flat.sort_by_key(|f| class_rank(f.class));
    flat
}

/// The key within its object (or file): `spec.replicas` for
/// `deploy.yaml:Deployment/shop/api:spec.replicas`. Empty when the finding is about the
/// whole object or file. The whole key when it does not start with its group.
pub fn key_in_block(f: &Finding) -> &str {
    let Some(rest) = f.key.strip_prefix(f.group.as_str()) else {
        return &f.key;
    };
    let rest = match rest.strip_prefix(':') {
        Some(rest) => rest,
        None if rest.is_empty() => return "",
        None => return &f.key,
    };
    match f.resource.as_deref() {
        Some(res) => match rest.strip_prefix(res) {
            Some("") => "",
            Some(r) => r.strip_prefix(':').unwrap_or(r),
            None => rest,
        },
        None => rest,
    }
}

/// The key within its file: `Deployment/shop/api:spec.replicas`.
pub fn key_in_group(f: &Finding) -> &str {
    match f.key.strip_prefix(f.group.as_str()) {
        Some("") => "",
        Some(rest) => rest.strip_prefix(':').unwrap_or(&f.key),
        None => &f.key,
    }
}

/// What a finding about a whole unit is called when it has no key of its own.
pub fn whole_label(f: &Finding) -> &'static str {
    if f.class == Class::Unreadable {
        "(source)"
    } else if f.resource.is_some() {
        "(whole object)"
    } else {
        "(whole file)"
    }
}

/// Whether the finding is about a whole file or object present on one side only (neither
/// side has a value, the present side has a location).
pub fn is_whole_unit(f: &Finding) -> bool {
    matches!(f.class, Class::Missing | Class::Extra | Class::Expected)
        && f.a.value.is_none()
        && f.b.value.is_none()
        && (f.a.location.is_some() || f.b.location.is_some())
}

/// `file:line` of a side; just the file for sources without lines (database schemas).
pub fn location(side: &Side) -> Option<String> {
    side.location.as_ref().map(|l| {
        if l.line == 0 {
            l.file.clone()
        } else {
            format!("{}:{}", l.file, l.line)
        }
    })
}

/// Findings per class, over the report's findings.
pub fn class_counts<'r>(findings: impl IntoIterator<Item = &'r Finding>) -> BTreeMap<Class, u64> {
    let mut counts = BTreeMap::new();
    for f in findings {
        *counts.entry(f.class).or_insert(0) += 1;
    }
    counts
}

/// Facets in the report's order, plus any facet that only appears in findings.
pub fn facets(report: &Report) -> Vec<Facet> {
    let mut facets: Vec<Facet> = report.facets.iter().map(|s| s.facet).collect();
    for f in &report.findings {
        if !facets.contains(&f.facet) {
            facets.push(f.facet);
        }
    }
    facets
}

/// The environments compared (all but the reference), in the report's order.
pub fn compared_envs(report: &Report) -> Vec<&str> {
    report
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .filter(|n| *n != report.reference)
        .collect()
}

/// The two environment names every finding compares, when all findings compare the same
/// pair (always so for two environments).
pub fn uniform_pair(report: &Report) -> Option<(&str, &str)> {
    let mut pair = None;
    for f in &report.findings {
        let this = (f.a.env.as_str(), f.b.env.as_str());
        match pair {
            None => pair = Some(this),
            Some(p) if p == this => {}
            Some(_) => return None,
        }
    }
    pair.or_else(|| {
        let envs = compared_envs(report);
        match envs.as_slice() {
            [only] => Some((*only, report.reference.as_str())),
            _ => None,
        }
    })
}

/// A score as reports print it: one decimal.
pub fn score(score: f64) -> String {
    if score.is_finite() {
        format!("{score:.1}")
    } else {
        "n/a".to_string()
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 file`, `2 files`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// Characters that change how text around them is displayed without being visible
/// themselves: bidirectional overrides and isolates, line and paragraph separators, the
/// byte-order mark. Shown escaped so a value cannot disguise itself or its neighbours.
fn is_invisible_control(c: char) -> bool {
    matches!(c,
        '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        | '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// Whether `c` is shown escaped by [`visible`].
pub fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible_control(c)
}

/// The text with control characters made visible: `\n`, `\r`, `\t`, `\u{1b}`. Nothing
/// else changes. A single line, safe for a terminal.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// At most `max` characters, the last one `…` when the text was cut.
pub fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    if max == 0 {
        return Cow::Borrowed("");
    }
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some(_) => {
            let cut = text
                .char_indices()
                .nth(max - 1)
                .map_or(text.len(), |(i, _)| i);
            Cow::Owned(format!("{}…", &text[..cut]))
        }
    }
}

/// [`visible`], then at most `max` characters of it, chosen so the part that differs
/// from `other` stays in view: two long URLs that differ only in their port show the port,
/// not two identical beginnings cut short. `…` marks what was left out at either end.
pub fn shown_against(text: &str, other: Option<&str>, max: usize) -> String {
    let text = visible(text);
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max || max < 8 {
        return truncate(&text, max).into_owned();
    }
    let common = other.map_or(0, |o| {
        visible(o)
            .chars()
            .zip(chars.iter())
            .take_while(|(x, y)| x == *y)
            .count()
    });
    // Keep a little context before the first difference.
    let start = common.saturating_sub(max / 4);
    if start == 0 {
        return truncate(&text, max).into_owned();
    }
    let room = max - 1;
    let end = (start + room).min(chars.len());
    let start = end.saturating_sub(room).max(1);
    let mut out = String::from("…");
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.pop();
        out.push('…');
    }
    out
}

/// [`visible`], then [`truncate`].
pub fn shown(text: &str, max: usize) -> String {
    truncate(&visible(text), max).into_owned()
}

/// Display width in terminal columns, counting every character as one.
pub fn width(text: &str) -> usize {
    text.chars().count()
}

/// A stable 64-bit FNV-1a hash: the same input gives the same hash on every machine and
/// in every version, which `std`'s hasher does not promise.
pub fn fnv1a64(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            // A separator that cannot occur in UTF-8 text, so ("ab","c") ≠ ("a","bc").
            hash ^= 0xff;
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        for byte in part.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// A load comparison's route table, one row per Production route the run sent: route,
/// both shares, Production's p50/p99 from its logs, the run's service-time p50/p99 under
/// load, and both failure rates. Shared by the text and Markdown reports.
pub fn load_rows(c: &envparity_core::load::LoadComparison) -> Vec<[String; 7]> {
    use envparity_core::fidelity::percent;
    use envparity_core::load::seconds;
    let pair = |p50: f64, p99: f64| format!("{} / {}", seconds(p50), seconds(p99));
    c.routes
        .iter()
        .map(|r| {
            [
                format!("{} {}", r.method, r.route),
                percent(r.reference_share),
                percent(r.run_share),
                r.reference_latency
                    .as_ref()
                    .map_or("not logged".to_string(), |l| pair(l.p50, l.p99)),
                r.run_service
                    .as_ref()
                    .map_or("no answer".to_string(), |l| pair(l.p50, l.p99)),
                percent(r.reference_error_rate),
                percent(r.run_error_rate),
            ]
        })
        .collect()
}

pub const LOAD_HEAD: [&str; 7] = [
    "route",
    "ref share",
    "run share",
    "ref p50 / p99",
    "run p50 / p99",
    "ref 5xx",
    "run failed",
];

/// `enough`, `thin`, `short`, `unknown`.
pub fn headroom_name(h: envparity_core::load::Headroom) -> &'static str {
    use envparity_core::load::Headroom;
    match h {
        Headroom::Enough => "enough",
        Headroom::Thin => "thin",
        Headroom::Short => "short",
        Headroom::Unknown => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_keep_their_difference_in_view() {
        let qa = "amqp://shop:‹secret a209b44c3d91›@qa-mq.internal:5672/shop?heartbeat=30";
        let prod = "amqp://shop:‹secret a209b44c3d91›@qa-mq.internal:5671/shop?heartbeat=30";
        let (a, b) = (
            shown_against(qa, Some(prod), 40),
            shown_against(prod, Some(qa), 40),
        );
        assert!(a.contains("5672") && b.contains("5671"), "{a} / {b}");
        assert!(a.starts_with('…') && a.chars().count() <= 40, "{a}");
        assert_eq!(shown_against("short", Some("other"), 40), "short");
        assert_eq!(shown_against(&"x".repeat(50), None, 10), "xxxxxxxxx…");
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        assert_eq!(truncate("ééééé", 4), "ééé…");
        assert_eq!(truncate("", 3), "");
    }

    #[test]
    fn visible_escapes_controls_only() {
        assert_eq!(visible("a\nb\tc\u{1b}[31m"), "a\\nb\\tc\\u{1b}[31m");
        assert_eq!(visible("zürich ✓"), "zürich ✓");
        assert_eq!(visible("a\u{202e}b"), "a\\u{202e}b");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a64(&[""]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(&["a"]), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(fnv1a64(&["ab", "c"]), fnv1a64(&["a", "bc"]));
    }
}
