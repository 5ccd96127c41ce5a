//! Flattening: parsed documents → keyed leaf entries and Kubernetes objects, with
//! secrets hashed on the way. Lists of objects are keyed by identity (`[name=api]`),
//! so reordering them is not a difference.

use envparity_core::rules::{Rules, SecretNames};
use envparity_core::snapshot::{Entries, Format, Resource, Value};

use crate::secrets::SecretHasher;
use crate::tree::{Node, NodeKind, Text};

/// The path of a document that is a bare scalar.
const ROOT_PATH: &str = "$";

/// Hex digits of its hash that name a list element whose identity is a secret.
const SECRET_ID_HEX: usize = 12;

/// The annotation in which `kubectl apply` keeps the object as last applied, as JSON.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Whether values below a key are secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Secrecy {
    No,
    /// Below a secret-looking name: a reference-looking name (`secretName`) stops it.
    Inherited,
    /// The data of a Kubernetes `Secret`: every value, whatever its name.
    Always,
}

pub struct Flattener<'a> {
    rules: &'a Rules,
    secret_names: SecretNames<'a>,
    hasher: &'a SecretHasher,
    /// Identifies the rules this flattener's name cache answers for (see `NAME_CACHE`): a
    /// digest of the name patterns, so the flatteners of two environments under the same
    /// rules share a thread's cache (their files mostly hold the same names), and a cache
    /// never answers for other rules.
    cache_id: u64,
}

impl<'a> Flattener<'a> {
    pub fn new(rules: &'a Rules, hasher: &'a SecretHasher) -> Flattener<'a> {
        use std::hash::{Hash, Hasher};
        let mut digest = std::hash::DefaultHasher::new();
        for (list, patterns) in [(0u8, &rules.secrets), (1, &rules.not_secrets)] {
            list.hash(&mut digest);
            for pattern in patterns {
                pattern.as_str().hash(&mut digest);
            }
        }
        Flattener {
            rules,
            secret_names: rules.secret_names(),
            hasher,
            cache_id: digest.finish(),
        }
    }
}

/// What one file flattens into.
#[derive(Debug, Default)]
pub struct Flat {
    pub entries: Entries,
    pub resources: Vec<Resource>,
    /// Where entries are gathered before being copied to their exactly sized list.
    scratch: Entries,
}

/// Whether a key name is a secret's, by name.
type NameClasses = hashbrown::HashMap<Box<str>, bool>;

thread_local! {
    /// Per thread: the flattener a cache was filled for, and whether each key name seen is
    /// a secret's. Estates repeat the same few thousand key names millions of times.
    static NAME_CACHE: std::cell::RefCell<(u64, NameClasses)> =
        std::cell::RefCell::new((0, hashbrown::HashMap::new()));
}

thread_local! {
    /// Per thread: the scratch list a file's entries are gathered in, kept from file to
    /// file so that its room grows once, not again for every file.
    static SCRATCH: std::cell::Cell<Entries> = const { std::cell::Cell::new(Entries::new()) };
}

/// Entries a kept scratch list may have room for (~42 MB at 40 bytes an entry, and ~55 MB
/// of their paths at the bench's 52 bytes a path): a larger one is let go.
const SCRATCH_KEPT: usize = 1 << 20;

/// The room a path buffer starts with: deeper than most key paths.
const PATH_ROOM: usize = 256;

/// Names cached at most, per thread, before the cache starts over.
const NAME_CACHE_LIMIT: usize = 200_000;

thread_local! {
    /// Per thread: the flattener the set was filled for, and texts in which no credential
    /// was found. Of an estate's string values only ~6 % are distinct (the same ports,
    /// images, hosts and flags in every environment), and looking for credentials by shape
    /// cost ~450 instructions a value against ~60 for a lookup.
    static CLEAN_TEXTS: std::cell::RefCell<(u64, hashbrown::HashSet<Text>)> =
        std::cell::RefCell::new((0, hashbrown::HashSet::new()));
}

/// Texts remembered at most, per thread, before the set starts over.
const CLEAN_TEXTS_LIMIT: usize = 200_000;

thread_local! {
    /// Per thread, for the file being flattened: the secrets hashed in it. The same text
    /// elsewhere in the file under a name that is no secret's (a YAML alias of an
    /// anchored password, a copy in a comment-free `plain_copy:`) is hashed too.
    static FILE_SECRETS: std::cell::RefCell<hashbrown::HashSet<Box<str>>> =
        std::cell::RefCell::new(hashbrown::HashSet::new());
}

/// Secrets shorter than this are not looked for elsewhere in their file: `admin` or
/// `1234` as a password would hash every user name and port that happens to equal it.
const FILE_SECRET_MIN_CHARS: usize = 8;

/// The lengths of text worth remembering: shorter ones are turned away at once by the
/// credential search, longer ones repeat less and cost more to hold.
const CLEAN_TEXT_LENGTHS: std::ops::RangeInclusive<usize> = 8..=96;

impl Flattener<'_> {
    /// Whether `name` names a secret, cached.
    fn secret_name(&self, name: &str) -> bool {
        NAME_CACHE.with_borrow_mut(|(owner, cache)| {
            if *owner != self.cache_id || cache.len() > NAME_CACHE_LIMIT {
                *owner = self.cache_id;
                cache.clear();
            }
            if let Some(&secret) = cache.get(name) {
                return secret;
            }
            let secret = self.secret_names.is_secret_name(name);
            cache.insert(name.into(), secret);
            secret
        })
    }

    /// Whether `text` was found free of credentials before, under the same rules.
    fn known_clean(&self, text: &str) -> bool {
        CLEAN_TEXTS.with_borrow_mut(|(owner, clean)| {
            if *owner != self.cache_id {
                *owner = self.cache_id;
                clean.clear();
            }
            clean.contains(text)
        })
    }

    fn remember_clean(&self, text: &Text) {
        CLEAN_TEXTS.with_borrow_mut(|(_, clean)| {
            if clean.len() >= CLEAN_TEXTS_LIMIT {
                clean.clear();
            }
            clean.insert(text.clone());
        })
    }

    /// Flattens a file's documents. Their strings are moved into the entries (the
    /// documents are left holding empty strings), not copied: a file is flattened once.
    pub fn flatten(&self, format: Format, documents: &mut [Node]) -> Flat {
        let mut flat = Flat {
            scratch: SCRATCH.take(),
            ..Flat::default()
        };
        FILE_SECRETS.with_borrow_mut(hashbrown::HashSet::clear);
        // .env, properties and INI keys are already flat names: keep them whole.
        let raw_keys = matches!(format, Format::Dotenv | Format::Properties | Format::Ini);
        let mut plain_docs = Vec::new();
        for (index, doc) in documents.iter_mut().enumerate() {
            if matches!(doc.kind, NodeKind::Null) {
                continue;
            }
            if matches!(format, Format::Yaml | Format::Json) && is_kubernetes_list(doc) {
                if let Some(NodeKind::List(items)) = doc.get_mut("items").map(|i| &mut i.kind) {
                    for item in items {
                        self.push_resource_or_plain(item, index, &mut flat, &mut plain_docs);
                    }
                }
                continue;
            }
            self.push_resource_or_plain(doc, index, &mut flat, &mut plain_docs);
        }
        let several = plain_docs.len() > 1;
        for (index, doc) in plain_docs {
            // Spring profile documents pair by profile, whatever their order.
            let mut path = String::with_capacity(PATH_ROOM);
            match (several, spring_profile(doc)) {
                (true, Some(profile)) => path.push_str(&format!("[profile={profile}]")),
                (true, None) => path.push_str(&format!("[doc={}]", index + 1)),
                (false, _) => {}
            }
            self.walk(doc, &mut path, Secrecy::No, raw_keys, &mut flat.scratch);
        }
        flat.entries = flat.scratch.take_exactly_sized();
        if flat.scratch.capacity() <= SCRATCH_KEPT {
            SCRATCH.set(std::mem::take(&mut flat.scratch));
        }
        self.hash_copies_of_secrets(&mut flat);
        flat
    }

    /// Hashes every plain value of the file that is the text of a secret hashed in it.
    fn hash_copies_of_secrets(&self, flat: &mut Flat) {
        FILE_SECRETS.with_borrow(|secrets| {
            if secrets.is_empty() {
                return;
            }
            let copy = |value: &mut Value| {
                if let Value::String(text) = value
                    && secrets.contains(text.as_str())
                {
                    *value = self.hasher.secret(text);
                }
            };
            let lists = std::iter::once(&mut flat.entries)
                .chain(flat.resources.iter_mut().map(|r| &mut r.entries));
            for entries in lists {
                for value in entries.values_mut() {
                    match value {
                        Value::List(items) => items.iter_mut().for_each(copy),
                        other => copy(other),
                    }
                }
            }
        });
    }

    /// A secret's text, hashed, and remembered for [`hash_copies_of_secrets`].
    fn secret_text(&self, text: &str) -> Value {
        if text.chars().count() >= FILE_SECRET_MIN_CHARS {
            FILE_SECRETS.with_borrow_mut(|secrets| {
                if !secrets.contains(text) {
                    secrets.insert(text.into());
                }
            });
        }
        self.hasher.secret(text)
    }

    fn push_resource_or_plain<'n>(
        &self,
        doc: &'n mut Node,
        index: usize,
        flat: &mut Flat,
        plain: &mut Vec<(usize, &'n mut Node)>,
    ) {
        match kubernetes_identity(doc) {
            Some((kind, namespace, name)) => {
                // Filled in a scratch list reused for the file's objects, then copied to
                // an exactly sized one: snapshots keep millions of entries, and a grown
                // vector's spare room is fresh memory the kernel zeroes for nothing.
                let mut entries = std::mem::take(&mut flat.scratch);
                let secret_data = kind == "Secret";
                let line = doc.line;
                if let NodeKind::Map(fields) = &mut doc.kind {
                    for (key, value) in fields {
                        if key == "kind" {
                            continue;
                        }
                        // Room for a deep path from the start: it would grow five times.
                        let mut path = String::with_capacity(PATH_ROOM);
                        // A Secret's `stringData` is its `data` written in clear: both
                        // are read as `data`, with `data`'s base64 decoded, so a secret
                        // pairs (and a shared one is caught) however each side wrote it.
                        let secret_field = secret_data && (key == "data" || key == "stringData");
                        push_segment(&mut path, if secret_field { "data" } else { key }, false);
                        if secret_field {
                            let mut decoded;
                            let value = if key == "data" {
                                decoded = decode_base64_values(value);
                                &mut decoded
                            } else {
                                value
                            };
                            self.walk(value, &mut path, Secrecy::Always, false, &mut entries);
                            continue;
                        }
                        if key == "metadata" {
                            self.walk_metadata(value, &mut path, &mut entries);
                            continue;
                        }
                        let secret = if self.secret_name(key) {
                            Secrecy::Inherited
                        } else {
                            Secrecy::No
                        };
                        self.walk(value, &mut path, secret, false, &mut entries);
                    }
                }
                let exact = entries.take_exactly_sized();
                flat.scratch = entries;
                flat.resources.push(Resource {
                    kind,
                    namespace,
                    name,
                    line,
                    entries: exact,
                });
            }
            None => plain.push((index, doc)),
        }
    }

    /// metadata without name and namespace, which are the object's identity.
    fn walk_metadata(&self, metadata: &mut Node, path: &mut String, out: &mut Entries) {
        let NodeKind::Map(fields) = &mut metadata.kind else {
            return self.walk(metadata, path, Secrecy::No, false, out);
        };
        for (key, value) in fields {
            if key == "name" || key == "namespace" {
                continue;
            }
            let len = path.len();
            push_segment(path, key, false);
            if key == "annotations"
                && let NodeKind::Map(annotations) = &mut value.kind
            {
                for (name, annotation) in annotations {
                    let len = path.len();
                    push_segment(path, name, false);
                    // `kubectl apply`'s copy of the whole object as JSON, a Secret's data
                    // and env passwords included: kept only as a hash (it is ignored by
                    // default, and a snapshot must not hold what the report hides).
                    let secrecy = if name == LAST_APPLIED {
                        Secrecy::Always
                    } else {
                        Secrecy::No
                    };
                    self.walk(annotation, path, secrecy, false, out);
                    path.truncate(len);
                }
            } else {
                self.walk(value, path, Secrecy::No, false, out);
            }
            path.truncate(len);
        }
    }

    fn walk(
        &self,
        node: &mut Node,
        path: &mut String,
        secret: Secrecy,
        raw_keys: bool,
        out: &mut Entries,
    ) {
        let line = node.line;
        // `{name: DB_PASSWORD, value: …}` (Kubernetes env vars and the like): the secret's
        // name is a sibling of its value. Only looked up where it can matter: most maps
        // have no `value`, and their `name`s (containers, ports, volumes) are mostly
        // unique, so they would miss the name cache.
        let named_secret = secret == Secrecy::No
            && node.get("value").is_some()
            && ["name", "key"]
                .iter()
                .filter_map(|k| node.get(k).and_then(Node::as_str))
                .any(|name| self.secret_name(name));
        match &mut node.kind {
            // An empty document (`{}`, a comment-only .env) has no keys, not a key `$`.
            NodeKind::Map(fields) if fields.is_empty() && path.is_empty() => {}
            NodeKind::Map(fields) if fields.is_empty() => {
                self.leaf(path, line, Value::EmptyMap, out)
            }
            NodeKind::Map(fields) => {
                for (key, value) in fields {
                    let len = path.len();
                    push_segment(path, key, raw_keys);
                    let child_secret = match secret {
                        Secrecy::Always => Secrecy::Always,
                        // A reference-looking name (`secretName`) stops a secret subtree.
                        // Asked only here, uncached: secret subtrees are rare, and most of
                        // an estate's names are told apart by the secret-name cache alone
                        // (a secret name is never a reference name).
                        Secrecy::Inherited if self.rules.is_reference_name(key) => Secrecy::No,
                        Secrecy::Inherited => Secrecy::Inherited,
                        Secrecy::No if self.secret_name(key) => Secrecy::Inherited,
                        Secrecy::No
                            if named_secret
                                && key == "value"
                                && !self.rules.is_reference_name(key) =>
                        {
                            Secrecy::Inherited
                        }
                        Secrecy::No => Secrecy::No,
                    };
                    self.walk(value, path, child_secret, raw_keys, out);
                    path.truncate(len);
                }
            }
            NodeKind::List(items) => self.walk_list(line, items, path, secret, out),
            _ => {
                let value = self.scalar(node, secret);
                self.leaf(path, line, value, out);
            }
        }
    }

    fn walk_list(
        &self,
        line: u32,
        items: &mut [Node],
        path: &mut String,
        secret: Secrecy,
        out: &mut Entries,
    ) {
        if let Some(pairs) = assignment_list(path, items) {
            // Compose `environment: ["A=1"]` and Kustomize `literals:` mean the same as the
            // map form `environment: {A: "1"}`, and compare like it, variable by variable.
            for (name, value, line) in pairs {
                let len = path.len();
                push_segment(path, name, true);
                let secrecy = if secret == Secrecy::No && self.secret_name(name) {
                    Secrecy::Inherited
                } else {
                    secret
                };
                let mut node = Node::new(line, NodeKind::String(value.into()));
                let value = self.scalar(&mut node, secrecy);
                self.leaf(path, line, value, out);
                path.truncate(len);
            }
            return;
        }
        let all_scalars = items
            .iter()
            .all(|i| !matches!(i.kind, NodeKind::Map(_) | NodeKind::List(_)));
        if all_scalars {
            // `["--db-password", "…"]`: a flag naming a secret makes the next item one
            // (told before the flag's text is moved out).
            let mut after_secret_flag = false;
            // `["mysql", "-pX"]`: a command line written a word an item.
            let in_command = if secret == Secrecy::No
                && items.len() > 1
                && items
                    .iter()
                    .any(|i| i.as_str().is_some_and(|w| w.starts_with('-')))
            {
                let words: Option<Vec<&str>> = items.iter().map(Node::as_str).collect();
                let is_secret_name = |name: &str| self.secret_name(name);
                words.map_or_else(Vec::new, |words| {
                    crate::secrets::command_line_items(&words, &is_secret_name)
                })
            } else {
                Vec::new()
            };
            let values = items
                .iter_mut()
                .enumerate()
                .map(|(k, item)| {
                    let secrecy = if after_secret_flag {
                        Secrecy::Inherited
                    } else {
                        secret
                    };
                    after_secret_flag = item.as_str().is_some_and(|flag| {
                        flag.starts_with('-')
                            && !flag.contains('=')
                            && self.secret_name(flag.trim_start_matches('-'))
                    });
                    if secrecy == Secrecy::No
                        && let Some(&(_, start, end)) = in_command.iter().find(|c| c.0 == k)
                        && let Some(text) = item.as_str()
                    {
                        return self.hasher.secret_within(text, start, end);
                    }
                    self.scalar(item, secrecy)
                })
                .collect();
            return self.leaf(path, line, Value::List(values), out);
        }
        let identity = identity_key(items, &self.rules.identity_keys);
        for (index, item) in items.iter_mut().enumerate() {
            let len = path.len();
            match identity {
                // Below a secret's name the identity may be the secret (`api_keys: [{key:
                // …}]`): the element is named by the identity's hash, and the identity
                // is hashed whatever its field is called.
                Some(field) if secret != Secrecy::No => {
                    let id = identity_of(item, field).unwrap_or_default();
                    let hash = self.hasher.hash(id);
                    path.push('[');
                    path.push_str(shown_identity(field));
                    path.push_str("=#");
                    path.push_str(&hash[..SECRET_ID_HEX.min(hash.len())]);
                    path.push(']');
                    let field = field.split('.').next().unwrap_or(field);
                    self.walk_secret_element(item, field, path, secret, out);
                    path.truncate(len);
                    continue;
                }
                Some(field) => {
                    let id = identity_of(item, field).unwrap_or_default();
                    path.push('[');
                    path.push_str(shown_identity(field));
                    path.push('=');
                    path.push_str(id);
                    path.push(']');
                }
                None => {
                    path.push('[');
                    path.push_str(&index.to_string());
                    path.push(']');
                }
            }
            self.walk(item, path, secret, false, out);
            path.truncate(len);
        }
    }

    /// An object of a list below a secret's name: its `identity` field is a secret,
    /// whatever its name (`key`, `name` are otherwise never secrets themselves).
    fn walk_secret_element(
        &self,
        item: &mut Node,
        identity: &str,
        path: &mut String,
        secret: Secrecy,
        out: &mut Entries,
    ) {
        let NodeKind::Map(fields) = &mut item.kind else {
            return self.walk(item, path, secret, false, out);
        };
        for (key, value) in fields {
            let len = path.len();
            push_segment(path, key, false);
            let child = match secret {
                _ if key == identity => Secrecy::Always,
                Secrecy::Inherited if self.rules.is_reference_name(key) => Secrecy::No,
                other => other,
            };
            self.walk(value, path, child, false, out);
            path.truncate(len);
        }
    }

    /// The leaf value of a scalar node, its text moved out of the node.
    fn scalar(&self, node: &mut Node, secrecy: Secrecy) -> Value {
        let secret = secrecy != Secrecy::No;
        match &mut node.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            // A PIN or a numeric password is a secret too (`db_password: 12345678`);
            // booleans are not (`require_password: true` says nothing of one).
            NodeKind::Number(n) if secret => self.secret_text(n),
            NodeKind::Number(n) => Value::Number(std::mem::take(n)),
            NodeKind::String(s) if secret && !s.is_empty() => self.secret_text(s),
            NodeKind::String(s) => {
                let remember = CLEAN_TEXT_LENGTHS.contains(&s.len());
                if remember && self.known_clean(s) {
                    return Value::String(std::mem::take(s));
                }
                let is_secret_name = |name: &str| self.secret_name(name);
                match self.hasher.scrub_embedded(s, &is_secret_name) {
                    Some(scrubbed) => scrubbed,
                    None => {
                        if remember {
                            self.remember_clean(s);
                        }
                        Value::String(std::mem::take(s))
                    }
                }
            }
            NodeKind::Map(_) | NodeKind::List(_) => unreachable!("scalar() is called on scalars"),
        }
    }

    fn leaf(&self, path: &str, line: u32, value: Value, out: &mut Entries) {
        let path = if path.is_empty() { ROOT_PATH } else { path };
        out.push(path, line, value);
    }
}

/// The profile a Spring Boot document applies to: `spring.config.activate.on-profile`
/// (nested or as one dotted key) or the older `spring.profiles`.
fn spring_profile(doc: &Node) -> Option<String> {
    let nested = |path: &[&str]| {
        path.iter()
            .try_fold(doc, |node, key| node.get(key))
            .and_then(|n| n.as_str())
    };
    nested(&["spring", "config", "activate", "on-profile"])
        .or_else(|| nested(&["spring.config.activate.on-profile"]))
        .or_else(|| nested(&["spring", "profiles"]))
        .or_else(|| nested(&["spring.profiles"]))
        .map(str::to_string)
}

/// `NAME=value` items of a list under `environment` or `literals`, when every item is one
/// and no name repeats.
fn assignment_list<'n>(path: &str, items: &'n [Node]) -> Option<Vec<(&'n str, &'n str, u32)>> {
    let last = path.rsplit(['.', ']']).next().unwrap_or(path);
    if items.is_empty() || !matches!(last, "environment" | "literals") {
        return None;
    }
    let mut seen = std::collections::HashSet::new();
    items
        .iter()
        .map(|item| {
            let (name, value) = item.as_str()?.split_once('=')?;
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            (valid && seen.insert(name)).then_some((name, value, item.line))
        })
        .collect()
}

/// A map key as a path segment: bare when it is a plain word, `["…"]` when it holds a
/// separator, so keys stay unambiguous and patterns can still match them.
fn push_segment(path: &mut String, key: &str, raw: bool) {
    /// The bytes a bare key may hold: ASCII but for separators and whitespace (which is
    /// `char::is_whitespace`'s in ASCII, vertical tab and form feed included).
    const BARE: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 128 {
            table[b] = !matches!(
                b as u8,
                b'.' | b'[' | b']' | b'"' | b':' | b'*' | b'?' | b'\t'..=b'\r' | b' '
            );
            b += 1;
        }
        table
    };
    let separator = |c: char| matches!(c, '.' | '[' | ']' | '"' | ':' | '*' | '?');
    // One table load a byte: this runs on every key of an estate. A non-ASCII byte is
    // not bare, and sends the key to the character-wise test.
    let needs_quotes = !key.bytes().all(|b| BARE[usize::from(b)])
        && (key.is_ascii() || key.chars().any(|c| separator(c) || c.is_whitespace()));
    let plain = raw || (!key.is_empty() && !needs_quotes);
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push_str("[\"");
        for c in key.chars() {
            if matches!(c, '\\' | '"') {
                path.push('\\');
            }
            path.push(c);
        }
        path.push_str("\"]");
    }
}

/// The identity of list elements that are objects themselves (a StatefulSet's
/// `volumeClaimTemplates`), tried after every `identity_keys` field; shown as `[name=…]`.
const METADATA_NAME: &str = "metadata.name";

/// An element's identity value: `field` of it, or its `metadata.name`.
fn identity_of<'n>(item: &'n Node, field: &str) -> Option<&'n str> {
    if field == METADATA_NAME {
        return item.get("metadata")?.get("name").and_then(scalar_str);
    }
    item.get(field).and_then(scalar_str)
}

/// How an identity field is written in a key.
fn shown_identity(field: &str) -> &str {
    if field == METADATA_NAME {
        "name"
    } else {
        field
    }
}

/// The first identity field that every element has as a scalar, with no two equal.
fn identity_key<'r>(items: &[Node], candidates: &'r [String]) -> Option<&'r str> {
    if items.is_empty() || !items.iter().all(|i| matches!(i.kind, NodeKind::Map(_))) {
        return None;
    }
    // Borrowed texts, checked for repeats pairwise in short lists and through foldhash in
    // long ones: every list of objects of an estate comes through here (containers, env
    // vars, ports), and a `String` and a SipHash per item were 1.6 % of a diff.
    candidates
        .iter()
        .map(String::as_str)
        .find(|field| {
            let mut ids: Vec<&str> = Vec::with_capacity(items.len());
            let all_scalars = items.iter().all(|item| {
                match item
                    .get(field)
                    .and_then(|v| (!matches!(v.kind, NodeKind::Null)).then_some(v))
                {
                    Some(v) => scalar_str(v).map(|id| ids.push(id)).is_some(),
                    None => false,
                }
            });
            all_scalars && !crate::tree::has_duplicate(&ids)
        })
        .or_else(|| {
            let ids: Option<Vec<&str>> = items
                .iter()
                .map(|item| identity_of(item, METADATA_NAME))
                .collect();
            ids.filter(|ids| !crate::tree::has_duplicate(ids))
                .map(|_| METADATA_NAME)
        })
}

/// A scalar's text (`null`, `true`, the number's canonical text), borrowed; `None` for
/// maps and lists.
fn scalar_str(node: &Node) -> Option<&str> {
    match &node.kind {
        NodeKind::Null => Some("null"),
        NodeKind::Bool(b) => Some(if *b { "true" } else { "false" }),
        NodeKind::Number(n) => Some(n),
        NodeKind::String(s) => Some(s),
        NodeKind::Map(_) | NodeKind::List(_) => None,
    }
}

/// `(kind, namespace, name)` of a Kubernetes object: a map with apiVersion, kind and metadata.name.
fn kubernetes_identity(doc: &Node) -> Option<(String, Option<String>, String)> {
    doc.get("apiVersion")?.as_str()?;
    let kind = doc.get("kind")?.as_str()?.to_string();
    let metadata = doc.get("metadata")?;
    let name = metadata.get("name")?.as_str()?.to_string();
    let namespace = metadata
        .get("namespace")
        .and_then(Node::as_str)
        .map(str::to_string);
    Some((kind, namespace, name))
}

/// Whether a document is a `kind: List` (or `…List`) of objects, as `kubectl get -o yaml`
/// prints.
fn is_kubernetes_list(doc: &Node) -> bool {
    let kind = doc.get("kind").and_then(Node::as_str).unwrap_or("");
    doc.get("apiVersion").and_then(Node::as_str).is_some()
        && kind.ends_with("List")
        && doc.get("metadata").and_then(|m| m.get("name")).is_none()
        && matches!(doc.get("items").map(|i| &i.kind), Some(NodeKind::List(_)))
}

/// A Secret's `data` with each base64 value decoded (values that are not valid base64
/// of UTF-8 text stay as written).
fn decode_base64_values(node: &Node) -> Node {
    let NodeKind::Map(fields) = &node.kind else {
        return node.clone();
    };
    let fields = fields
        .iter()
        .map(|(k, v)| {
            let value = match &v.kind {
                NodeKind::String(text) => match decode_base64(text) {
                    Some(decoded) => Node::new(v.line, NodeKind::String(decoded.into())),
                    None => v.clone(),
                },
                _ => v.clone(),
            };
            (k.clone(), value)
        })
        .collect();
    Node::new(node.line, NodeKind::Map(fields))
}

/// Standard base64 (whitespace ignored, padding optional) of UTF-8 text.
fn decode_base64(text: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for b in text.bytes().filter(|b| !b.is_ascii_whitespace()) {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => continue,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::KeySource;

    fn n(line: u32, kind: NodeKind) -> Node {
        Node::new(line, kind)
    }

    fn s(line: u32, text: &str) -> Node {
        n(line, NodeKind::String(text.into()))
    }

    fn map(line: u32, fields: Vec<(&str, Node)>) -> Node {
        n(
            line,
            NodeKind::Map(fields.into_iter().map(|(k, v)| (k.into(), v)).collect()),
        )
    }

    fn flatten(format: Format, docs: &[Node]) -> Flat {
        let rules = Rules::default();
        let hasher = SecretHasher::new(b"test".to_vec(), KeySource::Ephemeral);
        Flattener::new(&rules, &hasher).flatten(format, &mut docs.to_vec())
    }

    fn paths(entries: &Entries) -> Vec<String> {
        entries
            .iter()
            .map(|e| format!("{}@{}={}", e.path, e.line, e.value.display()))
            .collect()
    }

    #[test]
    fn lists_of_objects_are_keyed_by_identity() {
        let doc = map(
            1,
            vec![(
                "features",
                n(
                    2,
                    NodeKind::List(vec![
                        map(
                            3,
                            vec![
                                ("id", s(3, "checkout")),
                                ("enabled", n(4, NodeKind::Bool(true))),
                            ],
                        ),
                        map(
                            5,
                            vec![
                                ("id", s(5, "search")),
                                ("enabled", n(6, NodeKind::Bool(false))),
                            ],
                        ),
                    ]),
                ),
            )],
        );
        let flat = flatten(Format::Json, &[doc]);
        assert_eq!(
            paths(&flat.entries),
            [
                "features[id=checkout].id@3=checkout",
                "features[id=checkout].enabled@4=true",
                "features[id=search].id@5=search",
                "features[id=search].enabled@6=false"
            ]
        );
    }

    #[test]
    fn kubernetes_objects_are_resources_and_env_secrets_are_hashed() {
        let container = map(
            7,
            vec![
                ("name", s(7, "api")),
                (
                    "env",
                    n(
                        8,
                        NodeKind::List(vec![
                            map(
                                9,
                                vec![
                                    ("name", s(9, "DB_PASSWORD")),
                                    ("value", s(10, "CANARY-k8s-env")),
                                ],
                            ),
                            map(
                                11,
                                vec![("name", s(11, "LOG_LEVEL")), ("value", s(12, "info"))],
                            ),
                        ]),
                    ),
                ),
            ],
        );
        let doc = map(
            1,
            vec![
                ("apiVersion", s(1, "apps/v1")),
                ("kind", s(2, "Deployment")),
                (
                    "metadata",
                    map(
                        3,
                        vec![
                            ("name", s(4, "api")),
                            ("namespace", s(5, "shop-qa")),
                            (
                                "labels",
                                map(6, vec![("app.kubernetes.io/name", s(6, "api"))]),
                            ),
                        ],
                    ),
                ),
                (
                    "spec",
                    map(
                        7,
                        vec![("containers", n(7, NodeKind::List(vec![container])))],
                    ),
                ),
            ],
        );
        let flat = flatten(Format::Yaml, &[doc]);
        assert!(flat.entries.is_empty());
        let res = &flat.resources[0];
        assert_eq!(res.id(), "Deployment/shop-qa/api");
        let shown = paths(&res.entries);
        assert!(
            shown.contains(&"metadata.labels[\"app.kubernetes.io/name\"]@6=api".to_string()),
            "{shown:?}"
        );
        assert!(
            shown.contains(
                &"spec.containers[name=api].env[name=LOG_LEVEL].value@12=info".to_string()
            ),
            "{shown:?}"
        );
        let secret = shown
            .iter()
            .find(|p| p.contains("DB_PASSWORD].value"))
            .unwrap();
        assert!(
            secret.contains("‹secret ") && !secret.contains("CANARY"),
            "{secret}"
        );
    }

    #[test]
    fn a_flag_naming_a_secret_hides_the_next_argument() {
        let doc = map(
            1,
            vec![(
                "args",
                n(
                    1,
                    NodeKind::List(vec![
                        s(1, "--db-password"),
                        s(1, "CANARY-split"),
                        s(1, "--port"),
                        s(1, "8080"),
                    ]),
                ),
            )],
        );
        let shown = paths(&flatten(Format::Yaml, &[doc]).entries);
        assert!(
            !shown[0].contains("CANARY") && shown[0].contains("--port, 8080"),
            "{shown:?}"
        );
    }

    #[test]
    fn compose_environment_lists_compare_like_maps() {
        let list = map(
            1,
            vec![(
                "environment",
                n(
                    1,
                    NodeKind::List(vec![
                        s(2, "LOG_LEVEL=debug"),
                        s(3, "DB_PASSWORD=CANARY-compose"),
                    ]),
                ),
            )],
        );
        let as_map = map(
            1,
            vec![(
                "environment",
                map(
                    1,
                    vec![
                        ("LOG_LEVEL", s(2, "debug")),
                        ("DB_PASSWORD", s(3, "CANARY-compose")),
                    ],
                ),
            )],
        );
        let (from_list, from_map) = (
            flatten(Format::Yaml, &[list]),
            flatten(Format::Yaml, &[as_map]),
        );
        assert_eq!(paths(&from_list.entries), paths(&from_map.entries));
        assert!(
            paths(&from_list.entries)[1].starts_with("environment.DB_PASSWORD@3=‹secret "),
            "{:?}",
            paths(&from_list.entries)
        );
    }

    #[test]
    fn spring_profile_documents_pair_by_profile() {
        let profile = |line: u32, name: &str| {
            map(
                line,
                vec![
                    (
                        "spring",
                        map(
                            line,
                            vec![(
                                "config",
                                map(
                                    line,
                                    vec![(
                                        "activate",
                                        map(line, vec![("on-profile", s(line, name))]),
                                    )],
                                ),
                            )],
                        ),
                    ),
                    ("x", s(line, "1")),
                ],
            )
        };
        let flat = flatten(
            Format::Yaml,
            &[
                map(1, vec![("a", s(1, "b"))]),
                profile(5, "cloud"),
                profile(9, "metrics"),
            ],
        );
        let shown = paths(&flat.entries);
        assert!(
            shown.contains(&"[profile=metrics].x@9=1".to_string()),
            "{shown:?}"
        );
        assert!(shown.contains(&"[doc=1].a@1=b".to_string()), "{shown:?}");
    }

    #[test]
    fn keys_are_quoted_when_they_hold_a_separator_or_whitespace() {
        // The rule as written for characters: the byte path must agree with it.
        let quoted_by_chars = |key: &str| {
            key.is_empty()
                || key.chars().any(|c| {
                    matches!(c, '.' | '[' | ']' | '"' | ':' | '*' | '?') || c.is_whitespace()
                })
        };
        let mut keys: Vec<String> = (0u8..128).map(|b| format!("a{}b", char::from(b))).collect();
        keys.extend(["", "name", "café", "a\u{a0}b", "é.x", "tab\there"].map(String::from));
        for key in &keys {
            let mut path = String::new();
            push_segment(&mut path, key, false);
            assert_eq!(
                path.starts_with("[\""),
                quoted_by_chars(key),
                "{key:?} → {path}"
            );
        }
    }

    #[test]
    fn a_text_remembered_clean_is_looked_at_again_under_other_rules() {
        let text = "host=db user=app passphrase=CANARY-kept";
        let doc = || map(1, vec![("dsn", s(1, text))]);
        let hasher = SecretHasher::new(b"test".to_vec(), KeySource::Ephemeral);
        let mut lax = Rules::default();
        lax.secrets.clear();
        let mut passphrase = Rules::default();
        passphrase
            .secrets
            .push(envparity_core::pattern::KeyPattern::new("*passphrase*").unwrap());
        let value = |rules: &Rules| {
            let flat = Flattener::new(rules, &hasher).flatten(Format::Yaml, &mut [doc()]);
            flat.entries.get(0).unwrap().value.clone()
        };
        // Twice each way, on one thread: the second read of a text comes from the set.
        for _ in 0..2 {
            assert_eq!(value(&lax), Value::String(text.into()));
        }
        for _ in 0..2 {
            assert!(value(&passphrase).is_secret());
        }
        for _ in 0..2 {
            assert_eq!(value(&lax), Value::String(text.into()));
        }
    }

    #[test]
    fn scalar_lists_stay_one_value_and_dotenv_keys_stay_whole() {
        let doc = map(
            1,
            vec![
                ("spring.datasource.password", s(1, "CANARY-props")),
                ("hosts", n(2, NodeKind::List(vec![s(2, "a"), s(3, "b")]))),
            ],
        );
        let flat = flatten(Format::Properties, &[doc]);
        let shown = paths(&flat.entries);
        assert!(
            shown[0].starts_with("spring.datasource.password@1=‹secret "),
            "{shown:?}"
        );
        assert_eq!(shown[1], "hosts@2=[a, b]");
    }
}
