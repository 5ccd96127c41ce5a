//! The comparison: `(snapshots, rules, today) -> report`. Pure: no I/O, no clock.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::date::Date;
use crate::finding::{Class, Facet, Finding, Location, Severity, Side};
use crate::pattern::PatternSet;
use crate::report::{
    EnvironmentInfo, FacetSummary, Matrix, MatrixRow, REPORT_FORMAT, REPORT_VERSION, Report,
};
use crate::rules::Rules;
use crate::score;
use crate::snapshot::{
    ConfigSnapshot, Entries, EntriesIter, EntryRef, Snapshot, SourceError, Value, secret_display,
};
use crate::tokens::EnvTokens;

/// Longest value text quoted inside a finding's message.
const MESSAGE_VALUE_CHARS: usize = 60;

/// Compares every snapshot with the reference one (the one marked production, else the
/// last), and returns one report.
pub fn compare(snapshots: &[Snapshot], rules: &Rules, today: Date) -> Report {
    assert!(snapshots.len() >= 2, "a comparison needs two snapshots");
    let names: Vec<String> = snapshots.iter().map(|s| s.environment.clone()).collect();
    let tokens = EnvTokens::new(&rules.env_tokens, &names);
    let reference = reference_index(snapshots);
    let mut findings = Vec::new();
    let mut facets = Vec::new();
    let mut matrix_rows = Vec::new();
    let expect_used: Vec<AtomicBool> = rules
        .expect
        .iter()
        .map(|_| AtomicBool::new(false))
        .collect();
    // Config and schema are both trees of keyed values, compared by the same engine.
    let trees: [(Facet, TreeOf); 2] = [
        (Facet::Config, |s: &Snapshot| &s.config),
        (Facet::Schema, |s: &Snapshot| &s.schema),
    ];
    for (facet, tree) in trees {
        // A facet nothing was read for has no score; config stays when it is all there is.
        let only_config = snapshots.iter().all(|s| {
            s.schema.is_empty()
                && s.data.is_empty()
                && s.traffic.is_none()
                && s.traffic_errors.is_empty()
                && s.load.is_none()
        });
        if snapshots.iter().all(|s| tree(s).is_empty()) && !(facet == Facet::Config && only_config)
        {
            continue;
        }
        let run = TreeComparison {
            facet,
            tree,
            snapshots,
            reference,
            rules,
            tokens: &tokens,
            today,
            expect_used: &expect_used,
        };
        let (facet_findings, compared, rows) = run.run();
        facets.push(summarize(facet, compared, &facet_findings));
        append_findings(&mut findings, facet_findings);
        matrix_rows.extend(rows);
    }
    if snapshots.iter().any(|s| !s.data.is_empty()) {
        let (data_findings, compared) = crate::fidelity::compare_data(
            snapshots,
            reference,
            rules,
            &tokens,
            today,
            &expect_used,
        );
        facets.push(summarize(Facet::Data, compared, &data_findings));
        append_findings(&mut findings, data_findings);
    }
    let mut load = Vec::new();
    let mut load_notes = Vec::new();
    if snapshots
        .iter()
        .any(|s| s.traffic.is_some() || !s.traffic_errors.is_empty() || s.load.is_some())
    {
        let (mut traffic_findings, mut compared) =
            crate::traffic::compare_traffic(snapshots, reference, rules, today, &expect_used);
        // Load runs against the reference's traffic model: the same facet, since a run
        // is the environment's traffic under test.
        let runs = snapshots
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != reference)
            .filter_map(|(_, s)| Some((s, s.load.as_ref()?)));
        for (s, run) in runs {
            let Some(model) = &snapshots[reference].traffic else {
                load_notes.push(format!(
                    "{}'s load run is not compared: {} has no traffic model to compare it with (name {}'s access logs: `traffic = [...]`)",
                    s.environment, names[reference], names[reference]
                ));
                continue;
            };
            let judged = crate::load::judge(
                &names[reference],
                model,
                &s.environment,
                run,
                &crate::load::Limits::from(&rules.load),
                rules,
                today,
                &expect_used,
            );
            compared += judged.compared;
            traffic_findings.extend(judged.findings);
            load.push(judged.overview);
        }
        facets.push(summarize(Facet::Traffic, compared, &traffic_findings));
        append_findings(&mut findings, traffic_findings);
    }
    if snapshots
        .iter()
        .any(|s| s.access.as_ref().is_some_and(|m| !m.is_empty()) || !s.access_errors.is_empty())
    {
        let (access_findings, compared) = crate::access::compare_access(
            snapshots,
            reference,
            rules,
            today,
            &expect_used,
            &tokens,
        );
        facets.push(summarize(Facet::Access, compared, &access_findings));
        append_findings(&mut findings, access_findings);
    }
    // A rule that matches nothing is stale (the drift was fixed) or mistyped.
    let mut notes: Vec<String> = rules
        .expect
        .iter()
        .zip(expect_used.iter())
        .filter(|(_, used)| !used.load(Ordering::Relaxed))
        .map(|(rule, _)| {
            format!(
                "rules.expect `{}` matched no difference: the drift it excused is gone, or the key is mistyped",
                rule.key
            )
        })
        .collect();
    notes.append(&mut load_notes);
    let production: Vec<&str> = snapshots
        .iter()
        .filter(|s| s.production)
        .map(|s| s.environment.as_str())
        .collect();
    if production.len() > 1 {
        notes.push(format!(
            "{} are all marked `production = true`; {} (the last named) is the reference the others are compared with",
            production.join(", "),
            names[reference]
        ));
    }
    let facet_scores: Vec<f64> = facets.iter().map(|f: &FacetSummary| f.score).collect();
    let matrix = (snapshots.len() > 2).then(|| Matrix {
        environments: names.clone(),
        rows: matrix_rows,
    });
    Report {
        format: REPORT_FORMAT.to_string(),
        version: REPORT_VERSION,
        environments: snapshots
            .iter()
            .map(|s| EnvironmentInfo {
                name: s.environment.clone(),
                production: s.production,
                taken_at: s.taken_at.clone(),
            })
            .collect(),
        reference: names[reference].clone(),
        score: score::overall(&facet_scores),
        facets,
        findings,
        matrix,
        notes,
        traffic: snapshots
            .iter()
            .filter_map(|s| {
                s.traffic
                    .as_ref()
                    .map(|m| crate::traffic::overview(&s.environment, m))
            })
            .collect(),
        load,
    }
}

/// `more` after `findings`, moved whole when `findings` is empty: a large estate's findings
/// run to tens of megabytes, which a copy would touch afresh.
fn append_findings(findings: &mut Vec<Finding>, mut more: Vec<Finding>) {
    if findings.is_empty() {
        *findings = more;
    } else {
        findings.append(&mut more);
    }
}

/// A facet's score and counts from its findings.
pub(crate) fn summarize(facet: Facet, compared: u64, findings: &[Finding]) -> FacetSummary {
    let mut counts = BTreeMap::new();
    for f in findings {
        *counts.entry(f.class).or_insert(0u64) += 1;
    }
    FacetSummary {
        facet,
        score: score::facet_score(compared, score::weighted_differences(findings)),
        compared,
        counts,
    }
}

/// Which tree of a snapshot a comparison reads.
type TreeOf = fn(&Snapshot) -> &ConfigSnapshot;

/// One facet's tree (config files, or database schemas) compared across environments.
struct TreeComparison<'a> {
    facet: Facet,
    tree: TreeOf,
    snapshots: &'a [Snapshot],
    reference: usize,
    rules: &'a Rules,
    tokens: &'a EnvTokens,
    today: Date,
    expect_used: &'a [AtomicBool],
}

impl TreeComparison<'_> {
    /// The facet's findings, keys compared, and matrix rows (three or more environments).
    fn run(&self) -> (Vec<Finding>, u64, Vec<MatrixRow>) {
        let (snapshots, reference, tree) = (self.snapshots, self.reference, self.tree);
        // The ignore list runs on every key of every environment: compiled once.
        let ignore = PatternSet::new(&self.rules.ignore);
        // Each environment is indexed on its own thread: the indexes are independent.
        let contexts: Vec<Vec<Context>> = std::thread::scope(|scope| {
            let handles: Vec<_> = snapshots
                .iter()
                .map(|s| scope.spawn(|| contexts_of(s, tree(s), self.facet, self.tokens)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("contexts do not panic"))
                .collect()
        });
        let indexes: Vec<EnvIndex> = std::thread::scope(|scope| {
            let handles: Vec<_> = snapshots
                .iter()
                .zip(&contexts)
                .map(|(s, contexts)| {
                    scope.spawn(|| EnvIndex::build(s, tree(s), contexts, self.tokens, &ignore))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("indexing does not panic"))
                .collect()
        });
        let mut findings = Vec::new();
        let mut compared = 0u64;
        for (i, snapshot) in snapshots.iter().enumerate() {
            if i == reference {
                continue;
            }
            let pair = Pair {
                facet: self.facet,
                a: snapshot,
                b: &snapshots[reference],
                tree_a: tree(snapshot),
                tree_b: tree(&snapshots[reference]),
                ia: &indexes[i],
                ib: &indexes[reference],
                rules: self.rules,
                tokens: self.tokens,
                today: self.today,
                uncomparable_secrets: AtomicU32::new(0),
                expect_used: self.expect_used,
            };
            compared += pair.run(&mut findings);
            let uncomparable = pair.uncomparable_secrets.load(Ordering::Relaxed);
            if uncomparable > 0 {
                // The shared-secret check could not run: a security check that silently did
                // nothing would be worse than a failed run.
                let (ea, eb) = (&snapshot.environment, &snapshots[reference].environment);
                let ephemeral =
                    snapshot.secret_key_ephemeral || snapshots[reference].secret_key_ephemeral;
                findings.push(Finding {
                    facet: self.facet,
                    class: Class::Unreadable,
                    severity: Severity::Error,
                    key: "secrets".to_string(),
                    group: "secrets".to_string(),
                    resource: None,
                    a: Side { env: ea.clone(), value: None, location: None },
                    b: Side { env: eb.clone(), value: None, location: None },
                    message: format!(
                        "{uncomparable} secret{} of {ea} and {eb} cannot be compared: the snapshots were hashed with \
                         different keys{}; set ENVPARITY_KEY (or share the key file `envparity init` wrote) for both",
                        if uncomparable == 1 { "" } else { "s" },
                        if ephemeral { " (one made up for a single run)" } else { "" }
                    ),
                    reason: None,
                    covers: uncomparable,
                });
            }
        }
        push_unreadable(
            &mut findings,
            self.facet,
            snapshots,
            reference,
            |s| &tree(s).errors,
            self.rules,
        );
        let rows = if snapshots.len() > 2 {
            let envs: Vec<&str> = snapshots.iter().map(|s| s.environment.as_str()).collect();
            build_matrix(&findings, &indexes, self.tokens, &envs)
        } else {
            Vec::new()
        };
        (findings, compared, rows)
    }
}

/// Pushes the sources of every snapshot that could not be read, one finding each, with
/// its sides in report order: `a` a compared environment, `b` the reference, whichever of
/// the two could not be read (a report's sides, JUnit's test names and Markdown's columns
/// follow `a` and `b`, and must not turn round because Production has a bad file).
/// Returns how many.
pub(crate) fn push_unreadable<'s>(
    findings: &mut Vec<Finding>,
    facet: Facet,
    snapshots: &'s [Snapshot],
    reference: usize,
    errors: impl Fn(&'s Snapshot) -> &'s [SourceError],
    rules: &Rules,
) -> u64 {
    let reference_env = &snapshots[reference].environment;
    // Against the reference's own errors, the first environment compared with it.
    let first_compared = &snapshots[usize::from(reference == 0).min(snapshots.len() - 1)];
    let before = findings.len();
    for (i, snapshot) in snapshots.iter().enumerate() {
        let (a, b, on_reference) = if i == reference {
            (&first_compared.environment, reference_env, true)
        } else {
            (&snapshot.environment, reference_env, false)
        };
        for error in errors(snapshot) {
            findings.push(unreadable_finding(facet, error, a, b, on_reference, rules));
        }
    }
    (findings.len() - before) as u64
}

/// A source that could not be read: of `a_env`, or of `b_env` when `on_b`.
pub(crate) fn unreadable_finding(
    facet: Facet,
    error: &SourceError,
    a_env: &str,
    b_env: &str,
    on_b: bool,
    rules: &Rules,
) -> Finding {
    let location = Some(Location {
        file: error.source.clone(),
        line: error.line.unwrap_or(0),
        column: error.column,
    });
    let env = if on_b { b_env } else { a_env };
    Finding {
        facet,
        class: Class::Unreadable,
        severity: rules
            .severity_override(&[&error.source])
            .unwrap_or(Class::Unreadable.default_severity()),
        key: error.source.clone(),
        group: error.source.clone(),
        resource: None,
        a: Side {
            env: a_env.to_string(),
            value: None,
            location: if on_b { None } else { location.clone() },
        },
        b: Side {
            env: b_env.to_string(),
            value: None,
            location: if on_b { location } else { None },
        },
        message: format!("{error} (collecting {env})"),
        reason: None,
        covers: 1,
    }
}

/// The environment marked production if exactly one is, else the last one named.
pub fn reference_index(snapshots: &[Snapshot]) -> usize {
    let production: Vec<usize> = (0..snapshots.len())
        .filter(|&i| snapshots[i].production)
        .collect();
    match production.as_slice() {
        [only] => *only,
        _ => snapshots.len() - 1,
    }
}

/// Where a group of leaves lives: one per file (for its plain entries) and one per
/// Kubernetes object, shared by all its leaves so a leaf costs no string copies.
struct Context<'s> {
    /// Normalized file path (env tokens replaced).
    file: String,
    /// Raw file path in this environment.
    raw_file: &'s str,
    source: &'s str,
    /// Normalized and raw `Kind/ns/name` for Kubernetes objects.
    resource: Option<(String, String)>,
    /// The unit's pair key (`F|file` or `R|Kind/ns/name`).
    unit: String,
    /// What the unit is (`Deployment`, `table`), for messages.
    kind: &'s str,
    /// Schema keys read `schema:public.orders.id.type`; config keys put a `:` after the
    /// object.
    facet: Facet,
}

impl Context<'_> {
    /// What every raw key of this context starts with: `file:` or `file:object:`.
    fn write_raw_prefix(&self, out: &mut String) {
        out.clear();
        out.push_str(self.raw_file);
        out.push(':');
        if let Some((_, raw)) = &self.resource {
            out.push_str(raw);
            out.push(self.object_separator());
        }
    }

    /// What follows the object in a key.
    fn object_separator(&self) -> char {
        if self.facet == Facet::Schema {
            '.'
        } else {
            ':'
        }
    }
}

/// One leaf, located.
#[derive(Clone, Copy)]
struct Leaf<'s> {
    ctx: &'s Context<'s>,
    entry: EntryRef<'s>,
}

impl Leaf<'_> {
    fn raw_key(&self) -> String {
        let mut key = String::new();
        self.write_raw_key(&mut key);
        key
    }

    fn write_raw_key(&self, out: &mut String) {
        self.ctx.write_raw_prefix(out);
        out.push_str(self.entry.path);
    }

    fn location(&self) -> Location {
        Location {
            file: self.ctx.source.to_string(),
            line: self.entry.line,
            column: None,
        }
    }
}

/// A unit: a file's plain entries, or one Kubernetes object.
struct Unit<'s> {
    ctx: &'s Context<'s>,
    /// Where it starts in its file (the object's first line, or 1).
    line: u32,
    keys: u32,
    /// Its declarations (more than one when the same object is declared twice).
    parts: Vec<Part<'s>>,
}

/// One declaration of a unit: its entries, less those the ignore list drops, each under
/// its path with identity values normalized. Held as exceptions to the snapshot's own
/// entries, not as a list of leaves: most entries are kept, under their own path, and a
/// list would cost 40 bytes per leaf of fresh memory (a million leaves per environment).
struct Part<'s> {
    entries: &'s Entries,
    /// Positions in `entries` the ignore list drops, ascending.
    dropped: Vec<u32>,
    /// Positions whose path normalizes to another, ascending, with that path.
    renamed: Vec<(u32, String)>,
}

impl<'s> Part<'s> {
    fn len(&self) -> usize {
        self.entries.len() - self.dropped.len()
    }

    /// The kept leaves in document order, each with its normalized path.
    fn leaves<'i>(&'i self, ctx: &'s Context<'s>) -> PartLeaves<'i, 's> {
        PartLeaves {
            entries: self.entries.iter(),
            ctx,
            at: 0,
            dropped: &self.dropped,
            renamed: &self.renamed,
        }
    }
}

struct PartLeaves<'i, 's> {
    entries: EntriesIter<'s>,
    ctx: &'s Context<'s>,
    /// The position of the next entry, and the exceptions from there on.
    at: u32,
    dropped: &'i [u32],
    renamed: &'i [(u32, String)],
}

impl<'i, 's: 'i> Iterator for PartLeaves<'i, 's> {
    type Item = (&'i str, Leaf<'s>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let entry = self.entries.next()?;
            let at = self.at;
            self.at += 1;
            if let [first, rest @ ..] = self.dropped
                && *first == at
            {
                self.dropped = rest;
                continue;
            }
            let path = match self.renamed {
                [(position, renamed), rest @ ..] if *position == at => {
                    self.renamed = rest;
                    renamed.as_str()
                }
                _ => entry.path,
            };
            return Some((
                path,
                Leaf {
                    ctx: self.ctx,
                    entry,
                },
            ));
        }
    }
}

/// A unit's leaves by path, for pairing a unit whose two sides do not hold the same paths
/// in the same order (keys written in another order, a key added). Each path is hashed
/// once, to file it: the other side's lookup and the pass over the other side reuse it,
/// where a map of paths would hash each path twice more.
struct KeyedLeaves<'i, 's> {
    /// The leaves in document order, each with its path's hash; `None` where a later
    /// declaration of the same path won.
    leaves: Vec<Option<(u64, &'i str, Leaf<'s>)>>,
    /// Positions in `leaves`, by path.
    table: hashbrown::HashTable<u32>,
}

impl<'i, 's: 'i> KeyedLeaves<'i, 's> {
    /// The unit's leaves, the later declaration winning, as it would when applied.
    fn of(unit: &'i Unit<'s>, hasher: &impl std::hash::BuildHasher) -> KeyedLeaves<'i, 's> {
        let count = unit.parts.iter().map(Part::len).sum();
        let mut keyed = KeyedLeaves {
            leaves: Vec::with_capacity(count),
            table: hashbrown::HashTable::with_capacity(count),
        };
        for (path, leaf) in unit.parts.iter().flat_map(|part| part.leaves(unit.ctx)) {
            let hash = hasher.hash_one(path);
            let at = keyed.leaves.len() as u32;
            let leaves = &mut keyed.leaves;
            let found = keyed.table.entry(
                hash,
                |&i| leaves[i as usize].is_some_and(|(_, p, _)| p == path),
                |&i| leaves[i as usize].map_or(0, |(h, _, _)| h),
            );
            match found {
                hashbrown::hash_table::Entry::Occupied(mut earlier) => {
                    leaves[*earlier.get() as usize] = None;
                    *earlier.get_mut() = at;
                }
                hashbrown::hash_table::Entry::Vacant(slot) => {
                    slot.insert(at);
                }
            }
            leaves.push(Some((hash, path, leaf)));
        }
        keyed
    }

    /// The winning leaves in document order.
    fn in_order(&self) -> impl Iterator<Item = (u64, &'i str, Leaf<'s>)> + '_ {
        self.leaves.iter().flatten().copied()
    }

    fn get(&self, hash: u64, path: &str) -> Option<&Leaf<'s>> {
        let at = self.table.find(hash, |&i| {
            self.leaves[i as usize].is_some_and(|(_, p, _)| p == path)
        })?;
        self.leaves[*at as usize].as_ref().map(|(_, _, leaf)| leaf)
    }

    /// Whether the unit's leaves include something below `path` (`path.x` or `path[…]`).
    fn has_children(&self, path: &str) -> bool {
        self.in_order().any(|(_, p, _)| {
            p.len() > path.len()
                && p.starts_with(path)
                && matches!(p.as_bytes()[path.len()], b'.' | b'[')
        })
    }
}

impl<'s> Unit<'s> {
    /// The unit's key as its own environment spells it.
    fn raw_key(&self) -> String {
        match &self.ctx.resource {
            Some((_, raw)) => format!("{}:{}", self.ctx.raw_file, raw),
            None => self.ctx.raw_file.to_string(),
        }
    }

    /// The keys a finding about the whole unit stands for (an empty file still counts).
    fn covers(&self) -> u32 {
        self.keys.max(1)
    }
}

/// What one environment's snapshot holds, indexed for pairing.
///
/// Leaves are grouped by unit (a file's plain entries, or one Kubernetes object) and
/// paired unit by unit with a small map per unit: a million keys never go through one
/// big hash table, so pairing stays in cache.
struct EnvIndex<'s> {
    /// File-level and object-level units, by their pair key. Hashed, not ordered: the keys
    /// are long and share long prefixes (`k8s/analytics/…`), so a tree's comparisons cost
    /// more than one hash; `order` keeps the order.
    units: hashbrown::HashMap<String, Unit<'s>>,
    /// Unit keys in the order they first appear.
    order: Vec<String>,
}

/// `path` with env tokens in identity values (`[name=api-qa]`) normalized: only those
/// carry environment names worth pairing by. Borrowed when nothing changes.
fn normalized_path<'p>(tokens: &EnvTokens, env: &str, path: &'p str) -> Cow<'p, str> {
    // Built only once an identity value changes: most hold no environment name.
    let mut out: Option<String> = None;
    // How much of `path` is in `out` so far.
    let mut copied = 0;
    let mut at = 0;
    while let Some(open) = path[at..].find('[') {
        let start = at + open + 1;
        let close = path[start..].find(']').map_or(path.len(), |i| start + i);
        if let Cow::Owned(changed) = tokens.normalize(env, &path[start..close]) {
            let buf = out.get_or_insert_with(|| String::with_capacity(path.len() + 8));
            buf.push_str(&path[copied..start]);
            buf.push_str(&changed);
            copied = close;
        }
        at = close;
    }
    match out {
        None => Cow::Borrowed(path),
        Some(mut buf) => {
            buf.push_str(&path[copied..]);
            Cow::Owned(buf)
        }
    }
}

/// Every unit's context of one environment, in the order [`EnvIndex::build`] reads them:
/// per file, its plain entries' context, then one per object. Built before the index so
/// that each leaf can borrow its context (a million leaves, no reference counts).
fn contexts_of<'s>(
    snapshot: &'s Snapshot,
    tree: &'s ConfigSnapshot,
    facet: Facet,
    tokens: &EnvTokens,
) -> Vec<Context<'s>> {
    let env = snapshot.environment.as_str();
    let mut contexts = Vec::with_capacity(tree.files.iter().map(|f| 1 + f.resources.len()).sum());
    // Unit keys written piece by piece: one per file and per object of an estate.
    let unit_key = |tag: &str, id: &str| {
        let mut key = String::with_capacity(tag.len() + id.len());
        key.push_str(tag);
        key.push_str(id);
        key
    };
    // A name holding no token of its own environment is normalized with the others'
    // (`ledger-prod` in QA as in Production, where manifests were copied unchanged), unless
    // that would make it one with a name of this environment that did hold its own
    // (`values-qa.yaml` and `values-prod.yaml` side by side stay two files).
    let own_files: hashbrown::HashSet<Cow<str>> = tree
        .files
        .iter()
        .map(|f| tokens.normalize(env, &f.path))
        .collect();
    let raw_ids = |file: &'s crate::snapshot::ConfigFile| {
        file.resources.iter().map(move |r| {
            if facet == Facet::Schema {
                r.name.clone()
            } else {
                r.id()
            }
        })
    };
    let own_ids: hashbrown::HashSet<String> = tree
        .files
        .iter()
        .flat_map(raw_ids)
        .map(|id| tokens.normalize(env, &id).into_owned())
        .collect();
    let unit_name = |raw: &str, is_own: &dyn Fn(&str) -> bool| match tokens.normalize(env, raw) {
        Cow::Owned(normalized) => normalized,
        Cow::Borrowed(_) => match tokens.normalize_others(env, raw) {
            Cow::Owned(normalized) if !is_own(&normalized) => normalized,
            _ => raw.to_string(),
        },
    };
    for file in &tree.files {
        let norm_file = unit_name(&file.path, &|n| own_files.contains(n));
        contexts.push(Context {
            file: norm_file.clone(),
            raw_file: &file.path,
            source: &file.source,
            resource: None,
            unit: unit_key("F|", &norm_file),
            kind: "file",
            facet,
        });
        for (resource, raw_id) in file.resources.iter().zip(raw_ids(file)) {
            // Schema objects are named `schema.table`; their kind goes in messages.
            let norm_id = unit_name(&raw_id, &|n| own_ids.contains(n));
            contexts.push(Context {
                file: norm_file.clone(),
                raw_file: &file.path,
                source: &file.source,
                unit: unit_key("R|", &norm_id),
                resource: Some((norm_id, raw_id)),
                kind: &resource.kind,
                facet,
            });
        }
    }
    contexts
}

/// [`normalized_path`] for a unit's paths in document order, which mostly repeat the one
/// before up to its last `]` (`…containers[name=api].env[name=A].value`, `….image`): the
/// identity values are normalized once per distinct head, not once per leaf, and a new
/// head's identity values are normalized only past the last `]` it shares with the head
/// before (`…containers[name=api].env[name=B]` after `…env[name=A]`: only `name=B`).
#[derive(Default)]
struct PathNormalizer<'p> {
    /// The last head seen (a path up to and including its last `]`).
    head: Option<&'p str>,
    /// That head normalized, and whether it differs from the head.
    normalized: String,
    changed: bool,
    /// After each `]` of the head: where in the head, where in `normalized`, and whether
    /// `normalized` differs from the head up to there.
    closes: Vec<(usize, usize, bool)>,
}

impl<'p> PathNormalizer<'p> {
    fn normalize(&mut self, tokens: &EnvTokens, env: &str, path: &'p str) -> Cow<'p, str> {
        // The common case, without searching the path: the head seen last, then no bracket.
        let repeats_head = self.head.is_some_and(|head| {
            path.strip_prefix(head)
                .is_some_and(|tail| !tail.bytes().any(|b| b == b'[' || b == b']'))
        });
        if !repeats_head {
            // No `[` at all (most plain keys): no identity value, in one forward scan.
            let Some(first_open) = memchr::memchr(b'[', path.as_bytes()) else {
                return Cow::Borrowed(path);
            };
            let Some(last_close) = path[first_open..].rfind(']').map(|i| first_open + i) else {
                // No identity value, unless an unclosed `[` (which normalizes to the end).
                return normalized_path(tokens, env, path);
            };
            let (head, tail) = path.split_at(last_close + 1);
            if tail.contains('[') {
                return normalized_path(tokens, env, path);
            }
            self.read_head(tokens, env, head);
        }
        if self.changed {
            let head_len = self.head.map_or(0, str::len);
            Cow::Owned(format!("{}{}", self.normalized, &path[head_len..]))
        } else {
            Cow::Borrowed(path)
        }
    }

    /// Normalizes `head` (which ends in `]`) as [`normalized_path`] would, resuming from
    /// the last `]` it shares with the head before.
    fn read_head(&mut self, tokens: &EnvTokens, env: &str, head: &'p str) {
        let shared = self.head.map_or(0, |before| {
            crate::pattern::common_prefix_len(before.as_bytes(), head.as_bytes())
        });
        let resume = self.closes.iter().rposition(|&(raw, _, _)| raw <= shared);
        let (mut at, mut changed) = match resume {
            Some(i) => {
                let (raw, norm, changed) = self.closes[i];
                self.closes.truncate(i + 1);
                self.normalized.truncate(norm);
                (raw, changed)
            }
            None => {
                self.closes.clear();
                self.normalized.clear();
                (0, false)
            }
        };
        // The loop of `normalized_path`, recording where each identity value ends.
        while let Some(open) = head[at..].find('[') {
            let start = at + open + 1;
            let close = head[start..].find(']').map_or(head.len(), |i| start + i);
            self.normalized.push_str(&head[at..start]);
            match tokens.normalize(env, &head[start..close]) {
                Cow::Owned(value) => {
                    self.normalized.push_str(&value);
                    changed = true;
                }
                Cow::Borrowed(value) => self.normalized.push_str(value),
            }
            at = close;
            if close < head.len() {
                self.normalized.push(']');
                at = close + 1;
                self.closes.push((at, self.normalized.len(), changed));
            }
        }
        self.normalized.push_str(&head[at..]);
        self.head = Some(head);
        self.changed = changed;
    }
}

impl<'s> EnvIndex<'s> {
    /// `contexts`: [`contexts_of`] the same snapshot and tree.
    fn build(
        snapshot: &'s Snapshot,
        tree: &'s ConfigSnapshot,
        contexts: &'s [Context<'s>],
        tokens: &EnvTokens,
        ignore: &PatternSet,
    ) -> EnvIndex<'s> {
        let env = snapshot.environment.as_str();
        // At most one unit per context: sized once, not rehashed as it grows.
        let mut index = EnvIndex {
            units: hashbrown::HashMap::with_capacity(contexts.len()),
            order: Vec::with_capacity(contexts.len()),
        };
        let mut scratch = String::new();
        let mut contexts = contexts.iter();
        let mut next_context = || contexts.next().expect("one context per unit");
        for file in &tree.files {
            let plain = next_context();
            let part = Self::part(plain, &file.entries, tokens, env, ignore, &mut scratch);
            if part.len() > 0 || file.resources.is_empty() {
                let unit = Unit {
                    ctx: plain,
                    line: 1,
                    keys: part.len() as u32,
                    parts: vec![part],
                };
                index.add_unit(plain.unit.clone(), unit);
            }
            for resource in &file.resources {
                let ctx = next_context();
                let part = Self::part(ctx, &resource.entries, tokens, env, ignore, &mut scratch);
                let unit = Unit {
                    ctx,
                    line: resource.line,
                    keys: part.len() as u32,
                    parts: vec![part],
                };
                index.add_unit(ctx.unit.clone(), unit);
            }
        }
        index
    }

    /// One context's entries as a [`Part`]: which the ignore rules drop, and which paths
    /// normalize to others.
    fn part(
        ctx: &'s Context<'s>,
        entries: &'s Entries,
        tokens: &EnvTokens,
        env: &str,
        ignore: &PatternSet,
        scratch: &mut String,
    ) -> Part<'s> {
        let mut part = Part {
            entries,
            dropped: Vec::new(),
            renamed: Vec::new(),
        };
        // Every key of the context starts with the same `file:object:`: written once.
        ctx.write_raw_prefix(scratch);
        let mut ignore = ignore.with_prefix(scratch);
        let mut normalizer = PathNormalizer::default();
        for (at, entry) in entries.iter().enumerate() {
            if ignore.matches_rest(scratch, entry.path) {
                part.dropped.push(at as u32);
            } else if let Cow::Owned(renamed) = normalizer.normalize(tokens, env, entry.path) {
                part.renamed.push((at as u32, renamed));
            }
        }
        part
    }

    fn add_unit(&mut self, key: String, unit: Unit<'s>) {
        match self.units.get_mut(&key) {
            // The same object declared twice: both declarations' leaves, the later winning.
            Some(existing) => {
                existing.keys += unit.keys;
                existing.parts.extend(unit.parts);
            }
            None => {
                self.order.push(key.clone());
                self.units.insert(key, unit);
            }
        }
    }
}

struct Pair<'a, 's> {
    facet: Facet,
    a: &'s Snapshot,
    b: &'s Snapshot,
    /// The compared trees of `a` and `b`.
    tree_a: &'s ConfigSnapshot,
    tree_b: &'s ConfigSnapshot,
    ia: &'a EnvIndex<'s>,
    ib: &'a EnvIndex<'s>,
    rules: &'a Rules,
    tokens: &'a EnvTokens,
    today: Date,
    /// Secret pairs that could not be compared because of different hashing keys.
    uncomparable_secrets: AtomicU32,
    /// Which `rules.expect` entries matched a difference, to name the stale ones.
    expect_used: &'a [AtomicBool],
}

impl Pair<'_, '_> {
    /// Appends this pair's findings; returns the number of keys compared.
    fn run(&self, findings: &mut Vec<Finding>) -> u64 {
        let mut compared = 0u64;
        // Units on one side only: one finding each, standing for all their keys.
        let only_b: BTreeSet<&str> = self
            .ib
            .units
            .keys()
            .filter(|k| !self.ia.units.contains_key(*k))
            .map(String::as_str)
            .collect();
        let only_a: BTreeSet<&str> = self
            .ia
            .units
            .keys()
            .filter(|k| !self.ib.units.contains_key(*k))
            .map(String::as_str)
            .collect();
        // A file that exists on the other side but could not be read there is reported as
        // unreadable, not also as missing or extra.
        let unreadable = |snapshot: &Snapshot, tree: &ConfigSnapshot| -> BTreeSet<String> {
            let env = snapshot.environment.as_str();
            tree.errors
                .iter()
                .filter_map(|e| e.path.as_deref())
                .map(|p| self.tokens.normalize(env, p).into_owned())
                .collect()
        };
        let (unreadable_a, unreadable_b) = (
            unreadable(self.a, self.tree_a),
            unreadable(self.b, self.tree_b),
        );
        for key in &only_b {
            let unit = &self.ib.units[*key];
            if unreadable_a.contains(&unit.ctx.file) {
                continue;
            }
            compared += u64::from(unit.covers());
            let finding = self.unit_finding(unit, Class::Missing);
            findings.push(self.with_rules(finding, || vec![unit.raw_key()]));
        }
        for key in &only_a {
            let unit = &self.ia.units[*key];
            if unreadable_b.contains(&unit.ctx.file) {
                continue;
            }
            compared += u64::from(unit.covers());
            let finding = self.unit_finding(unit, Class::Extra);
            findings.push(self.with_rules(finding, || vec![unit.raw_key()]));
        }
        // Units on both sides, in the reference's order, split over two threads: units
        // pair independently, and the halves' findings are joined in order.
        let order = &self.ib.order;
        let (first, second) = order.split_at(order.len() / 2);
        let (one, two) = std::thread::scope(|scope| {
            let other = scope.spawn(|| self.pair_units(second));
            (
                self.pair_units(first),
                other.join().expect("pairing does not panic"),
            )
        });
        // Room for both halves at once, not grown twice.
        findings.reserve(one.0.len() + two.0.len());
        for (mut part, count) in [one, two] {
            findings.append(&mut part);
            compared += count;
        }
        compared
    }

    /// Pairs the leaves of the given units (present on both sides) by path.
    fn pair_units(&self, keys: &[String]) -> (Vec<Finding>, u64) {
        let mut findings = Vec::new();
        let mut compared = 0u64;
        let hasher = hashbrown::DefaultHashBuilder::default();
        for key in keys {
            let (Some(unit_b), Some(unit_a)) = (self.ib.units.get(key), self.ia.units.get(key))
            else {
                continue;
            };
            if let Some(count) = self.pair_in_step(unit_a, unit_b, &mut findings) {
                compared += count;
                continue;
            }
            let (keyed_a, keyed_b) = (
                KeyedLeaves::of(unit_a, &hasher),
                KeyedLeaves::of(unit_b, &hasher),
            );
            for (hash, path, leaf_b) in keyed_b.in_order() {
                let leaf_b = &leaf_b;
                compared += 1;
                match keyed_a.get(hash, path) {
                    Some(leaf_a) => {
                        if let Some(f) = self.compare_values(leaf_a, leaf_b) {
                            findings.push(
                                self.with_rules(f, || vec![leaf_a.raw_key(), leaf_b.raw_key()]),
                            );
                        }
                    }
                    // `labels: {}` on one side, labels with keys on the other: the keys are
                    // the findings, the empty map is not one more.
                    None if matches!(leaf_b.entry.value, Value::EmptyMap)
                        && keyed_a.has_children(path) => {}
                    None => {
                        let f = self.leaf_finding(None, Some(leaf_b), Class::Missing);
                        findings.push(self.with_rules(f, || vec![leaf_b.raw_key()]));
                    }
                }
            }
            for (hash, path, leaf_a) in keyed_a.in_order() {
                let leaf_a = &leaf_a;
                if keyed_b.get(hash, path).is_some()
                    || (matches!(leaf_a.entry.value, Value::EmptyMap) && keyed_b.has_children(path))
                {
                    continue;
                }
                compared += 1;
                let f = self.leaf_finding(Some(leaf_a), None, Class::Extra);
                findings.push(self.with_rules(f, || vec![leaf_a.raw_key()]));
            }
        }
        (findings, compared)
    }

    /// The common case, paired without a map per side: both units hold the same paths in
    /// the same order, each once (checked on one side: the other holds the same list).
    /// `None`, having added nothing, when they do not.
    fn pair_in_step(
        &self,
        unit_a: &Unit,
        unit_b: &Unit,
        findings: &mut Vec<Finding>,
    ) -> Option<u64> {
        let ([part_a], [part_b]) = (unit_a.parts.as_slice(), unit_b.parts.as_slice()) else {
            return None;
        };
        let (leaves_a, leaves_b) = (part_a.leaves(unit_a.ctx), part_b.leaves(unit_b.ctx));
        if part_a.len() != part_b.len() {
            return None;
        }
        let mut seen = hashbrown::HashSet::with_capacity(part_b.len());
        // One pass: the paths are checked and the values told apart together. The pairs
        // that differ are compared only once the paths are known to pair (comparing counts
        // secrets that cannot be compared, which must be counted once).
        let mut differing = Vec::new();
        for ((path_a, leaf_a), (path_b, leaf_b)) in leaves_a.zip(leaves_b) {
            if path_a != path_b || !seen.insert(path_b) {
                return None;
            }
            if !plainly_equal(leaf_a.entry.value, leaf_b.entry.value) {
                differing.push((leaf_a, leaf_b));
            }
        }
        for (leaf_a, leaf_b) in differing {
            if let Some(f) = self.compare_values(&leaf_a, &leaf_b) {
                findings.push(self.with_rules(f, || vec![leaf_a.raw_key(), leaf_b.raw_key()]));
            }
        }
        Some(part_b.len() as u64)
    }

    fn side(&self, snapshot: &Snapshot, leaf: Option<&Leaf>) -> Side {
        Side {
            env: snapshot.environment.clone(),
            value: leaf.map(|l| l.entry.value.display()),
            location: leaf.map(Leaf::location),
        }
    }

    /// [`Pair::side`] of a leaf whose value is already shown as `shown`.
    fn side_shown(&self, snapshot: &Snapshot, leaf: &Leaf, shown: String) -> Side {
        Side {
            env: snapshot.environment.clone(),
            value: Some(shown),
            location: Some(leaf.location()),
        }
    }

    fn unit_finding(&self, unit: &Unit, class: Class) -> Finding {
        let (present, absent) = if class == Class::Missing {
            (self.b, self.a)
        } else {
            (self.a, self.b)
        };
        let ctx = &unit.ctx;
        let (key, what, kind) = match &ctx.resource {
            Some((norm_id, _)) if self.facet == Facet::Schema => (
                format!("{}:{norm_id}", ctx.file),
                format!("{} {norm_id}", ctx.kind),
                ctx.kind,
            ),
            Some((norm_id, _)) => (
                format!("{}:{norm_id}", ctx.file),
                format!("{norm_id} (in {})", ctx.file),
                "object",
            ),
            None => (ctx.file.clone(), format!("file {}", ctx.file), "file"),
        };
        let keys = format!(
            "{} key{}",
            unit.covers(),
            if unit.covers() == 1 { "" } else { "s" }
        );
        let present_side = Side {
            env: present.environment.clone(),
            value: Some(format!("({kind} with {keys})")),
            location: Some(Location {
                file: ctx.source.to_string(),
                line: unit.line,
                column: None,
            }),
        };
        let absent_side = Side {
            env: absent.environment.clone(),
            value: None,
            location: None,
        };
        let (a, b) = if class == Class::Missing {
            (absent_side, present_side)
        } else {
            (present_side, absent_side)
        };
        Finding {
            facet: self.facet,
            class,
            severity: class.default_severity(),
            message: format!(
                "{what} exists in {} but not in {} ({keys})",
                present.environment, absent.environment
            ),
            group: ctx.file.clone(),
            resource: ctx.resource.as_ref().map(|r| r.0.clone()),
            key,
            a,
            b,
            reason: None,
            covers: unit.covers(),
        }
    }

    /// The key a finding shows: file, object and list identities with `env`'s tokens as
    /// `{env}`, so a rule written once matches in every environment.
    fn display_key(leaf: &Leaf, tokens: &EnvTokens, env: &str) -> String {
        // Written piece by piece: one per finding of an estate.
        let (file, path) = (
            &leaf.ctx.file,
            normalized_path(tokens, env, leaf.entry.path),
        );
        let object = leaf.ctx.resource.as_ref().map(|(norm, _)| norm.as_str());
        let mut key =
            String::with_capacity(file.len() + object.map_or(0, |o| o.len() + 1) + path.len() + 1);
        key.push_str(file);
        key.push(':');
        if let Some(object) = object {
            key.push_str(object);
            key.push(leaf.ctx.object_separator());
        }
        key.push_str(&path);
        key
    }

    fn leaf_finding(&self, a: Option<&Leaf>, b: Option<&Leaf>, class: Class) -> Finding {
        let shown = b.or(a).expect("one side present");
        let shown_env = if b.is_some() { self.b } else { self.a };
        let key = Self::display_key(shown, self.tokens, &shown_env.environment);
        let present = if class == Class::Missing {
            self.b
        } else {
            self.a
        };
        let absent = if class == Class::Missing {
            self.a
        } else {
            self.b
        };
        let value = clip(&shown.entry.value.display());
        Finding {
            facet: self.facet,
            class,
            severity: class.default_severity(),
            message: format!(
                "`{}` is set in {} ({value}) but not in {}",
                shown.entry.path, present.environment, absent.environment
            ),
            group: shown.ctx.file.clone(),
            resource: shown.ctx.resource.as_ref().map(|r| r.0.clone()),
            key,
            a: self.side(self.a, a),
            b: self.side(self.b, b),
            reason: None,
            covers: 1,
        }
    }

    fn compare_values(&self, la: &Leaf, lb: &Leaf) -> Option<Finding> {
        let (va, vb) = (la.entry.value, lb.entry.value);
        // Most leaves are equal: told before any key is built.
        if plainly_equal(va, vb) {
            return None;
        }
        let (ea, eb) = (self.a.environment.as_str(), self.b.environment.as_str());
        let ordered = matches!(va, Value::List(_))
            && self
                .rules
                .is_ordered_list(&Self::display_key(lb, self.tokens, &self.b.environment));
        let (class, message) = match (va, vb) {
            (Value::Secret(sa), Value::Secret(sb)) => {
                let around_a = sa.around.as_deref().map(|s| self.tokens.normalize(ea, s));
                let around_b = sb.around.as_deref().map(|s| self.tokens.normalize(eb, s));
                if around_a != around_b {
                    (
                        Class::Drift,
                        format!(
                            "`{}` differs around its secret: {} in {ea}, {} in {eb}",
                            lb.entry.path,
                            clip(&va.display()),
                            clip(&vb.display())
                        ),
                    )
                } else if self.a.secret_key_id != self.b.secret_key_id {
                    self.uncomparable_secrets.fetch_add(1, Ordering::Relaxed);
                    return None;
                } else if sa.hmac == sb.hmac {
                    (
                        Class::SharedSecret,
                        format!(
                            "`{}` holds the same secret ({}) in {ea} and {eb}: {ea} must not hold {eb}'s credential",
                            lb.entry.path,
                            secret_display(&sa.hmac)
                        ),
                    )
                } else {
                    (
                        Class::Expected,
                        format!(
                            "`{}` is a secret that differs between {ea} and {eb}, as it should",
                            lb.entry.path
                        ),
                    )
                }
            }
            (Value::List(xa), Value::List(xb)) if va.is_secret() || vb.is_secret() => {
                match self.compare_secret_lists(xa, xb, ordered) {
                    Some(SecretListVerdict::Same) => return None,
                    Some(SecretListVerdict::Shared) => (
                        Class::SharedSecret,
                        format!(
                            "`{}` holds the same secret in {ea} and {eb}: {ea} must not hold {eb}'s credential",
                            lb.entry.path
                        ),
                    ),
                    Some(SecretListVerdict::Different) => (
                        Class::Expected,
                        format!(
                            "`{}` holds secrets that differ between {ea} and {eb}, as they should",
                            lb.entry.path
                        ),
                    ),
                    None => (
                        Class::Drift,
                        format!(
                            "`{}` is {} in {ea} but {} in {eb}",
                            lb.entry.path,
                            clip(&va.display()),
                            clip(&vb.display())
                        ),
                    ),
                }
            }
            _ if values_equal(va, vb, ordered) => return None,
            _ => {
                let (da, db) = (va.display(), vb.display());
                let class_message = if !va.is_secret()
                    && !vb.is_secret()
                    && std::mem::discriminant(va) == std::mem::discriminant(vb)
                    && self.env_equivalent_shown(va, vb, (&da, &db), ordered)
                {
                    // Most findings of an estate: written piece by piece, not formatted.
                    let mut message = String::with_capacity(
                        lb.entry.path.len() + da.len() + db.len() + ea.len() + eb.len() + 60,
                    );
                    for piece in [
                        "`",
                        lb.entry.path,
                        "` differs only by environment name: ",
                        &clip(&da),
                        " in ",
                        ea,
                        ", ",
                        &clip(&db),
                        " in ",
                        eb,
                    ] {
                        message.push_str(piece);
                    }
                    (Class::EnvEquivalent, message)
                } else if da == db {
                    (
                        Class::Drift,
                        format!(
                            "`{}` is {} in {ea} but {} in {eb} ({} vs {})",
                            lb.entry.path,
                            clip(&da),
                            clip(&db),
                            type_name(va),
                            type_name(vb)
                        ),
                    )
                } else {
                    (
                        Class::Drift,
                        format!(
                            "`{}` is {} in {ea} but {} in {eb}",
                            lb.entry.path,
                            clip(&da),
                            clip(&db)
                        ),
                    )
                };
                return Some(self.value_finding(la, lb, class_message, (da, db)));
            }
        };
        let shown = (va.display(), vb.display());
        Some(self.value_finding(la, lb, (class, message), shown))
    }

    /// A finding about two leaves' values, with the values as shown.
    fn value_finding(
        &self,
        la: &Leaf,
        lb: &Leaf,
        (class, message): (Class, String),
        (shown_a, shown_b): (String, String),
    ) -> Finding {
        Finding {
            facet: self.facet,
            class,
            severity: class.default_severity(),
            key: Self::display_key(lb, self.tokens, &self.b.environment),
            group: lb.ctx.file.clone(),
            resource: lb.ctx.resource.as_ref().map(|r| r.0.clone()),
            a: self.side_shown(self.a, la, shown_a),
            b: self.side_shown(self.b, lb, shown_b),
            message,
            reason: None,
            covers: 1,
        }
    }

    /// Lists holding secrets (`args: ["--password=…"]`): the items are compared with each
    /// secret as a placeholder, then the secrets by their hashes. `None` when the lists
    /// differ apart from their secrets.
    fn compare_secret_lists(
        &self,
        xa: &[Value],
        xb: &[Value],
        ordered: bool,
    ) -> Option<SecretListVerdict> {
        let (ea, eb) = (self.a.environment.as_str(), self.b.environment.as_str());
        let shape = |env: &str, items: &[Value]| -> Vec<(String, Option<String>)> {
            let mut shaped: Vec<(String, Option<String>)> = items
                .iter()
                .map(|item| match item {
                    Value::Secret(secret) => (
                        self.tokens
                            .normalize(env, secret.around.as_deref().unwrap_or("{secret}"))
                            .into_owned(),
                        Some(secret.hmac.clone()),
                    ),
                    other => (
                        self.tokens.normalize(env, &other.display()).into_owned(),
                        None,
                    ),
                })
                .collect();
            if !ordered {
                shaped.sort_by(|x, y| x.0.cmp(&y.0));
            }
            shaped
        };
        let (sa, sb) = (shape(ea, xa), shape(eb, xb));
        if sa.len() != sb.len()
            || sa
                .iter()
                .zip(&sb)
                .any(|(x, y)| x.0 != y.0 || x.1.is_some() != y.1.is_some())
        {
            return None;
        }
        if self.a.secret_key_id != self.b.secret_key_id {
            self.uncomparable_secrets.fetch_add(1, Ordering::Relaxed);
            return Some(SecretListVerdict::Same);
        }
        // Any secret of one side found among the other's, wherever it sits in the list.
        let hashes_b: BTreeSet<&String> = sb.iter().filter_map(|y| y.1.as_ref()).collect();
        if sa
            .iter()
            .filter_map(|x| x.1.as_ref())
            .any(|h| hashes_b.contains(h))
        {
            Some(SecretListVerdict::Shared)
        } else {
            Some(SecretListVerdict::Different)
        }
    }

    /// [`Pair::env_equivalent`] of two values already shown as `shown`.
    fn env_equivalent_shown(
        &self,
        va: &Value,
        vb: &Value,
        (shown_a, shown_b): (&str, &str),
        ordered: bool,
    ) -> bool {
        if matches!((va, vb), (Value::List(_), Value::List(_))) {
            return self.env_equivalent(va, vb, ordered);
        }
        let (ea, eb) = (self.a.environment.as_str(), self.b.environment.as_str());
        self.tokens.normalize(ea, shown_a) == self.tokens.normalize(eb, shown_b)
    }

    /// Equal once environment tokens are replaced (lists as sets unless ordered).
    fn env_equivalent(&self, va: &Value, vb: &Value, ordered: bool) -> bool {
        let (ea, eb) = (self.a.environment.as_str(), self.b.environment.as_str());
        match (va, vb) {
            (Value::List(xa), Value::List(xb)) => {
                let mut na: Vec<String> = xa
                    .iter()
                    .map(|v| self.tokens.normalize(ea, &v.display()).into_owned())
                    .collect();
                let mut nb: Vec<String> = xb
                    .iter()
                    .map(|v| self.tokens.normalize(eb, &v.display()).into_owned())
                    .collect();
                if !ordered {
                    na.sort_unstable();
                    nb.sort_unstable();
                }
                na == nb
            }
            _ => {
                self.tokens.normalize(ea, &va.display()) == self.tokens.normalize(eb, &vb.display())
            }
        }
    }

    /// Expect rules, the baseline and severity overrides.
    /// `raw_keys` are spelled out only when a rule matches keys: most estates name no
    /// expect or severity rule, and most findings would build their keys for nothing.
    fn with_rules(&self, mut finding: Finding, raw_keys: impl FnOnce() -> Vec<String>) -> Finding {
        let raw_keys = if rules_read_keys(self.rules) {
            raw_keys()
        } else {
            Vec::new()
        };
        self.apply_rules(&mut finding, raw_keys);
        finding
    }

    fn apply_rules(&self, finding: &mut Finding, raw_keys: Vec<String>) {
        apply_rules(self.rules, self.today, self.expect_used, finding, raw_keys);
    }
}

/// Expect rules, the baseline and severity overrides, for a finding of any facet.
/// `raw_keys`: the key as each environment spells it, so a rule written against raw
/// names matches too.
pub(crate) fn apply_rules(
    rules: &Rules,
    today: Date,
    expect_used: &[AtomicBool],
    finding: &mut Finding,
    raw_keys: Vec<String>,
) {
    // The severity the facet judged (a short headroom is an error, though drift is a
    // warning by default), kept unless a rule changes the class or sets a severity.
    let (judged_class, judged_severity) = (finding.class, finding.severity);
    {
        let mut keys = raw_keys;
        if rules_read_keys(rules) {
            keys.insert(0, finding.key.clone());
        }
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        if finding.class == Class::SharedSecret
            && let Some((rule_index, rule)) = rules.expectation(&key_refs)
        {
            // Matched, so not stale; but QA holding Production's credential is never expected.
            expect_used[rule_index].store(true, Ordering::Relaxed);
            finding.reason = Some(format!(
                "rules.expect `{}` cannot excuse a shared secret: give {} its own credential",
                rule.key, finding.a.env
            ));
        }
        if matches!(finding.class, Class::Drift | Class::Missing | Class::Extra)
            && let Some((rule_index, rule)) = rules.expectation(&key_refs)
        {
            expect_used[rule_index].store(true, Ordering::Relaxed);
            let owner = rule
                .owner
                .as_deref()
                .map(|o| format!(" (owner: {o})"))
                .unwrap_or_default();
            match rule.expires {
                Some(until) if until < today => {
                    finding.reason = Some(format!(
                        "expected until {until}, now expired: {}{owner}",
                        rule.reason
                    ));
                }
                Some(until) => {
                    finding.class = Class::Expected;
                    finding.reason = Some(format!("{}{owner}, until {until}", rule.reason));
                }
                None => {
                    finding.class = Class::Expected;
                    finding.reason = Some(format!("{}{owner}", rule.reason));
                }
            }
        }
        if finding.class.is_actionable() && finding.class != Class::Unreadable {
            let envs = [finding.a.env.as_str(), finding.b.env.as_str()];
            let values = [finding.a.value.as_deref(), finding.b.value.as_deref()];
            if let Some(entry) = rules.baseline.accepts(&finding.key, envs, values, today) {
                finding.class = Class::Expected;
                let until = entry
                    .expires
                    .map(|d| format!(", until {d}"))
                    .unwrap_or_default();
                finding.reason = Some(format!(
                    "baseline ({}): {}{until}",
                    entry.added, entry.reason
                ));
            }
        }
        finding.severity =
            rules
                .severity_override(&key_refs)
                .unwrap_or(if finding.class == judged_class {
                    judged_severity
                } else {
                    finding.class.default_severity()
                });
        // A shared secret is a security finding: no override makes it pass an error gate.
        if finding.class == Class::SharedSecret {
            finding.severity = Severity::Error;
        }
    }
}

/// Whether any rule is matched against a finding's keys (expect and severity rules):
/// without one, the keys need not be spelled out.
fn rules_read_keys(rules: &Rules) -> bool {
    !rules.expect.is_empty() || !rules.severity.is_empty()
}

/// How two lists holding secrets compare, apart from differences outside the secrets.
enum SecretListVerdict {
    /// Nothing to report (the secrets could not be compared: counted separately).
    Same,
    /// At least one secret is the same on both sides.
    Shared,
    /// Every secret differs.
    Different,
}

/// Equal, and so no finding. (Equal secrets are one: QA holds Production's credential.)
fn plainly_equal(a: &Value, b: &Value) -> bool {
    a == b && !a.is_secret()
}

fn values_equal(a: &Value, b: &Value, ordered: bool) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) if !ordered => {
            let mut dx: Vec<String> = x.iter().map(Value::display).collect();
            let mut dy: Vec<String> = y.iter().map(Value::display).collect();
            dx.sort();
            dy.sort();
            dx == dy
        }
        _ => a == b,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::EmptyMap => "map",
        Value::Secret(_) => "secret",
    }
}

/// A value quoted in a message, cut short if long.
fn clip(text: &str) -> String {
    // Written piece by piece: this runs twice for every finding of an estate.
    let mut out = String::with_capacity(text.len().min(4 * MESSAGE_VALUE_CHARS) + 5);
    out.push('`');
    // No more bytes than the limit: no more characters either, and no need to count them.
    if text.len() <= MESSAGE_VALUE_CHARS {
        out.push_str(text);
        out.push('`');
        return out;
    }
    match text.char_indices().nth(MESSAGE_VALUE_CHARS) {
        None => out.push_str(text),
        Some(_) => {
            let end = text
                .char_indices()
                .nth(MESSAGE_VALUE_CHARS - 1)
                .map_or(text.len(), |(at, _)| at);
            out.push_str(&text[..end]);
            out.push('…');
        }
    }
    out.push('`');
    out
}

fn build_matrix(
    findings: &[Finding],
    indexes: &[EnvIndex],
    tokens: &EnvTokens,
    envs: &[&str],
) -> Vec<MatrixRow> {
    let mut seen = BTreeSet::new();
    let mut keys = Vec::new();
    for f in findings
        .iter()
        .filter(|f| f.class.is_actionable() && f.class != Class::Unreadable)
    {
        if seen.insert(f.key.as_str()) {
            keys.push(f);
        }
    }
    // One pass over each environment's leaves, not one per row.
    let per_env: Vec<hashbrown::HashMap<String, String>> = indexes
        .iter()
        .zip(envs)
        .map(|(index, env)| {
            index
                .order
                .iter()
                .flat_map(|key| {
                    let unit = &index.units[key];
                    unit.parts.iter().flat_map(|part| part.leaves(unit.ctx))
                })
                .filter_map(|(_, leaf)| {
                    let key = Pair::display_key(&leaf, tokens, env);
                    seen.contains(key.as_str())
                        .then(|| (key, leaf.entry.value.display()))
                })
                .collect()
        })
        .collect();
    keys.into_iter()
        .map(|f| MatrixRow {
            key: f.key.clone(),
            group: f.group.clone(),
            values: per_env
                .iter()
                .map(|values| values.get(&f.key).cloned())
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{ConfigFile, Format};

    fn env(name: &str, entries: &[(&str, &str)]) -> Snapshot {
        let mut s = Snapshot::new(name, name == "prod", String::new(), "k".into());
        s.config.files.push(ConfigFile {
            path: "app.yaml".into(),
            source: format!("{name}/app.yaml"),
            format: Format::Yaml,
            entries: entries
                .iter()
                .enumerate()
                .map(|(i, (path, value))| (path, i as u32 + 1, Value::String((*value).into())))
                .collect(),
            resources: Vec::new(),
        });
        s
    }

    /// (key, class) of every finding of qa against prod.
    fn differences(qa: &[(&str, &str)], prod: &[(&str, &str)]) -> Vec<(String, Class)> {
        let today = Date::parse("2026-12-01").unwrap();
        let report = compare(
            &[env("qa", qa), env("prod", prod)],
            &Rules::default(),
            today,
        );
        report
            .findings
            .iter()
            .map(|f| (f.key.clone(), f.class))
            .collect()
    }

    #[test]
    fn rules_match_a_key_as_each_environment_spells_it() {
        use crate::pattern::KeyPattern;
        use crate::rules::{ExpectRule, SeverityRule};
        let today = Date::parse("2026-12-01").unwrap();
        let sides = || {
            [
                env("qa", &[("hosts[name=db-qa].port", "5432")]),
                env("prod", &[("hosts[name=db-prod].port", "6432")]),
            ]
        };
        let judged = |rules: &Rules| {
            let report = compare(&sides(), rules, today);
            let [finding] = report.findings.as_slice() else {
                panic!("{:?}", report.findings);
            };
            // Shown with `{env}`, as file paths and object names are; each environment's
            // spelling is among the raw keys rules are also tried on.
            assert_eq!(finding.key, "app.yaml:hosts[name=db-{env}].port");
            (finding.class, finding.severity)
        };
        assert_eq!(judged(&Rules::default()), (Class::Drift, Severity::Warning));
        // Neither rule matches the finding's key: each matches qa's spelling of it.
        let expect = Rules {
            expect: vec![ExpectRule {
                key: KeyPattern::new("**db-qa**").unwrap(),
                reason: "pooler in prod".into(),
                owner: None,
                expires: None,
            }],
            ..Rules::default()
        };
        assert_eq!(judged(&expect).0, Class::Expected);
        let severity = Rules {
            severity: vec![SeverityRule {
                key: KeyPattern::new("**db-qa**").unwrap(),
                severity: Severity::Error,
            }],
            ..Rules::default()
        };
        assert_eq!(judged(&severity), (Class::Drift, Severity::Error));
        // And a rule written against the key as shown matches it.
        let shown = Rules {
            expect: vec![ExpectRule {
                key: KeyPattern::new("app.yaml:hosts[name=db-{env}].port").unwrap(),
                reason: "pooler in prod".into(),
                owner: None,
                expires: None,
            }],
            ..Rules::default()
        };
        assert_eq!(judged(&shown).0, Class::Expected);
    }

    #[test]
    fn units_with_the_same_paths_in_order_pair_like_any_others() {
        let key = |k: &str| format!("app.yaml:{k}");
        // Same paths in the same order: paired in step.
        assert_eq!(
            differences(
                &[("a", "1"), ("b", "qa-db")],
                &[("a", "2"), ("b", "prod-db")]
            ),
            [(key("a"), Class::Drift), (key("b"), Class::EnvEquivalent)]
        );
        // Reordered, or a path missing: through the maps, with the same answers.
        assert_eq!(
            differences(
                &[("b", "qa-db"), ("a", "1")],
                &[("a", "2"), ("b", "prod-db")]
            ),
            [(key("a"), Class::Drift), (key("b"), Class::EnvEquivalent)]
        );
        assert_eq!(
            differences(&[("a", "1")], &[("a", "1"), ("c", "3")]),
            [(key("c"), Class::Missing)]
        );
        // A path twice in the same order on both sides: the later one wins on each side,
        // as it would when applied (in step, the first pair would differ).
        assert_eq!(
            differences(&[("a", "1"), ("a", "2")], &[("a", "9"), ("a", "2")]),
            []
        );
        assert_eq!(
            differences(&[("a", "1"), ("a", "2")], &[("a", "1"), ("a", "3")]),
            [(key("a"), Class::Drift)]
        );
    }

    #[test]
    fn values_in_messages_are_clipped_by_characters() {
        let plain = |text: &str| -> String {
            if text.chars().count() <= MESSAGE_VALUE_CHARS {
                return format!("`{text}`");
            }
            let cut: String = text.chars().take(MESSAGE_VALUE_CHARS - 1).collect();
            format!("`{cut}…`")
        };
        for n in [0, 1, 59, 60, 61, 200] {
            for unit in ["a", "é", "東", "👍"] {
                let text = unit.repeat(n);
                assert_eq!(clip(&text), plain(&text), "{n} × {unit}");
            }
        }
        assert_eq!(clip(&"x".repeat(61)), format!("`{}…`", "x".repeat(59)));
    }

    #[test]
    fn identity_values_are_normalized_and_other_paths_borrowed() {
        let configured = [("qa".to_string(), vec!["qa".to_string()])].into();
        let tokens = EnvTokens::new(&configured, &["qa".to_string()]);
        let norm = |path| normalized_path(&tokens, "qa", path);
        assert_eq!(
            norm("spec.containers[name=api-qa].env[name=QA_URL].value"),
            "spec.containers[name=api-{env}].env[name={env}_URL].value"
        );
        assert_eq!(norm("a[name=x].b[name=y-qa]"), "a[name=x].b[name=y-{env}]");
        assert_eq!(norm("a[name=qa"), "a[name={env}");
        for unchanged in [
            "spec.replicas",
            "a[name=api].qa",
            "a[name=quality]",
            "a[",
            "[]",
        ] {
            assert!(
                matches!(norm(unchanged), Cow::Borrowed(p) if p == unchanged),
                "{unchanged}"
            );
        }
        // The remembering normalizer answers the same, whatever came before.
        let paths = [
            "spec.containers[name=api-qa].env[name=QA_URL].value",
            "spec.containers[name=api-qa].env[name=QA_URL].valueFrom",
            "spec.containers[name=api-qa].image",
            "spec.containers[name=api].image",
            "spec.containers[name=api].ports[name=http].containerPort",
            "a[name=qa",
            "a[name=x].b[name=y-qa]",
            "a[name=x].b[name=y-qa].c[name=qa",
            "a[name=api].qa",
            "spec.replicas",
            "spec.containers[name=api-qa].env[name=A].value",
            "spec.containers[name=api-qa].env[name=B-qa].value",
            "spec.containers[name=api-qa].env[name=B].value",
            "spec.containers[name=api].env[name=B-qa].value",
            "spec.containers[name=api].env[name=B-qa]x[qa].value",
            "a[b[c].d[name=qa].e",
            "a[b[c].d[name=x].e",
            "a[b[qa].d[name=x].e",
            "x[qa][qa].y",
            "x[qa][q].y",
            "x[qa][].y",
            // No `[` at all, or a `]` before the first one.
            "plain.qa.key",
            "a]qa",
            "x]y[name=qa]",
            "x]y[name=qa].z]w",
        ];
        // Every order of pairs, so each head follows each other one.
        let mut sequence: Vec<&str> = paths
            .iter()
            .chain(paths.iter().rev())
            .chain(&paths)
            .copied()
            .collect();
        for a in paths {
            for b in paths {
                sequence.extend([a, b]);
            }
        }
        let mut normalizer = PathNormalizer::default();
        for path in &sequence {
            let remembered = normalizer.normalize(&tokens, "qa", path);
            assert_eq!(remembered, norm(path), "{path}");
            assert_eq!(
                matches!(remembered, Cow::Borrowed(_)),
                matches!(norm(path), Cow::Borrowed(_)),
                "{path}"
            );
        }
    }
}
