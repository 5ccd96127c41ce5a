//! Route templates supplied by users, directly or as an OpenAPI/Swagger file. They take
//! precedence over the heuristics of `route.rs`: where a template matches, the request is
//! attributed to it as written.
//!
//! Templates are kept in a trie of path segments. Each node has its literal children (sorted,
//! binary-searched), its parameter children (most literal text first) and the routes ending
//! there or continuing with `*`. [`RouteTemplates::find`] walks the trie depth-first without
//! allocating: literal before parameter at every position, left to right, backtracking when a
//! branch leads nowhere — OpenAPI's "concrete path before templated path" rule. A trie node
//! stands for a fixed number of segments, so a search visits each node at most once: the
//! worst case is bounded by the size of the trie, the common case by the path's length.
//!
//! Matching rules:
//! - a literal segment matches itself, case-sensitively; percent-encoding is not decoded;
//! - a parameter (`{id}`, `:id`) matches exactly one non-empty segment; a segment may mix
//!   literals and parameters (`{name}.{ext}`, `report-{date}`), each parameter taking at least
//!   one character;
//! - a trailing `*` segment matches one or more further segments (`/static/*` matches
//!   `/static/a` and `/static/a/b`, not `/static`: write `/static` too if it is wanted); it is
//!   tried last at its position, after any literal or parameter continuation;
//! - a trailing slash is ignored on both sides (`/users/42/` matches `/users/{id}`);
//! - among the routes ending at the same template, one for the request's method beats a
//!   method-less one; methods are compared exactly (templates are upper-cased), and a route
//!   of another method does not match at all, so the search goes on.

use memchr::memmem;
use saphyr_parser::{Event, Parser, ScanError, Span, StrInput};

/// A set of route templates matched against request paths.
#[derive(Debug, Clone, Default)]
pub struct RouteTemplates {
    /// The trie; node 0 is the root once anything is added.
    nodes: Vec<Node>,
    /// Template texts as written, which [`RouteTemplates::find`] returns.
    texts: Vec<Box<str>>,
    /// Every route, in insertion order, so that [`RouteTemplates::extend`] can replay them.
    routes: Vec<Route>,
}

#[derive(Debug, Clone, Default)]
struct Node {
    /// Sorted by segment, for binary search.
    literals: Vec<(Box<[u8]>, u32)>,
    /// Most literal text first; ties keep insertion order.
    params: Vec<(Pieces, u32)>,
    /// Routes ending here. Method-specific first.
    ends: Vec<Entry>,
    /// Routes ending here with `*`. Method-specific first.
    rest: Vec<Entry>,
}

/// The literal pieces of a parameter segment: `{name}.{ext}` → `["", ".", ""]`, one more
/// piece than parameters. Parameter names do not matter for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pieces(Box<[Box<[u8]>]>);

/// A route's method, upper-cased; `None` for any.
type Method = Option<Box<[u8]>>;

#[derive(Debug, Clone)]
struct Entry {
    method: Method,
    text: u32,
}

#[derive(Debug, Clone)]
struct Route {
    method: Method,
    segments: Box<[Segment]>,
    text: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(Box<[u8]>),
    Param(Pieces),
    Rest,
}

/// Which template syntax a text is in: users may write `:id` and `*`; in an OpenAPI path
/// those characters are literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    User,
    OpenApi,
}

/// The operations of an OpenAPI path item.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

impl RouteTemplates {
    /// Templates as users write them: `/users/{id}/orders`, `/users/:id`, `/users/me`,
    /// `/static/*`, optionally preceded by a method (`GET /checkout`) restricting them to it.
    /// An error names the template by its 1-based index and text, and what is wrong with it.
    pub fn new(templates: &[String]) -> Result<RouteTemplates, String> {
        let mut set = RouteTemplates::default();
        // The index in `templates` of each route, to name the first of two duplicates.
        let mut origin: Vec<usize> = Vec::with_capacity(templates.len());
        for (i, written) in templates.iter().enumerate() {
            let name = || format!("route template {} (`{}`)", i + 1, written);
            let (method, path) =
                split_method(written.trim()).map_err(|e| format!("{}: {e}", name()))?;
            let segments =
                parse_path(path, Syntax::User).map_err(|e| format!("{}: {e}", name()))?;
            if let Err(existing) = set.add(method, segments, path) {
                let j = origin[existing];
                return Err(format!(
                    "{}: duplicate of route template {} (`{}`)",
                    name(),
                    j + 1,
                    templates[j]
                ));
            }
            origin.push(i);
        }
        Ok(set)
    }

    /// Reads an OpenAPI 3.x or Swagger 2.0 document, YAML or JSON: the keys of `paths` with
    /// their operations, prefixed with Swagger's `basePath` or the path of OpenAPI's first
    /// `servers[].url` (`https://{region}.example.com/v1` → `/v1`). A path item without
    /// operations (only `$ref` or parameters) gives a method-less route. Only the first YAML
    /// document is read; per-path `servers` are ignored. Errors start with `shown` and, where
    /// there is one, the line: `openapi.yaml:12: …`.
    pub fn from_openapi(text: &str, shown: &str) -> Result<RouteTemplates, String> {
        let doc = read_openapi(text, shown)?;
        let at = |line: usize, e: &str| format!("{shown}:{line}: {e}");
        if doc.version.is_none() {
            return Err(format!(
                "{shown}: not an OpenAPI 3 or Swagger 2 document (no `openapi` or `swagger` key)"
            ));
        }
        let Some((paths_line, paths)) = doc.paths else {
            return Err(format!(
                "{shown}: no `paths`: the document describes no routes"
            ));
        };
        if paths.is_empty() {
            return Err(at(
                paths_line,
                "`paths` is empty: the document describes no routes",
            ));
        }
        let prefix = match doc.version {
            Some(Version::Swagger) => doc.base_path.as_deref().map(base_path),
            _ => doc.server_url.as_deref().map(server_path),
        }
        .unwrap_or_default();

        let mut set = RouteTemplates::default();
        // The line of each route's path key, to name the first of two duplicates.
        let mut origin: Vec<usize> = Vec::new();
        for path in &paths {
            let full = if path.key == "/" && !prefix.is_empty() {
                prefix.clone()
            } else {
                format!("{prefix}{}", path.key)
            };
            let segments = parse_path(&full, Syntax::OpenApi)
                .map_err(|e| at(path.line, &format!("path `{}`: {e}", path.key)))?;
            let methods: Vec<Option<&str>> = if path.methods.is_empty() {
                vec![None]
            } else {
                path.methods.iter().map(|m| Some(*m)).collect()
            };
            for method in methods {
                let method = method.map(|m| m.to_ascii_uppercase().into_bytes().into());
                if let Err(existing) = set.add(method, segments.clone(), &full) {
                    return Err(at(
                        path.line,
                        &format!(
                            "path `{}` is the same route as `{}` on line {}",
                            path.key,
                            set.texts[set.routes[existing].text as usize],
                            origin[existing]
                        ),
                    ));
                }
                origin.push(path.line);
            }
        }
        Ok(set)
    }

    /// Merges another set (a user list and an OpenAPI file). Where both have the same route
    /// (same method, same shape whatever the parameter names), `self`'s is kept.
    pub fn extend(&mut self, other: RouteTemplates) {
        for route in other.routes {
            let text = &other.texts[route.text as usize];
            let _ = self.add(route.method, route.segments, text);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The number of routes: a template counts once per method it is given for.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// The template matching `path` for `method`, as written (OpenAPI's `{userId}` kept, the
    /// base path included, a user template without its method), or `None`. `path` is the path
    /// alone: no query string, no scheme or host. Allocates nothing.
    pub fn find(&self, method: &[u8], path: &[u8]) -> Option<&str> {
        if self.nodes.is_empty() {
            return None;
        }
        let rest = match path {
            [] => None,
            [b'/', rest @ ..] => {
                let rest = rest.strip_suffix(b"/").unwrap_or(rest);
                (!rest.is_empty()).then_some(rest)
            }
            _ => return None,
        };
        self.walk(0, rest, method)
            .map(|text| &*self.texts[text as usize])
    }

    /// Depth-first search from `node` for what is left of the path (`None`: nothing).
    fn walk(&self, node: usize, rest: Option<&[u8]>, method: &[u8]) -> Option<u32> {
        let node = &self.nodes[node];
        let Some(rest) = rest else {
            return pick(&node.ends, method);
        };
        let (segment, next) = match memchr::memchr(b'/', rest) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        if let Ok(i) = node
            .literals
            .binary_search_by(|(literal, _)| (**literal).cmp(segment))
        {
            let found = self.walk(node.literals[i].1 as usize, next, method);
            if found.is_some() {
                return found;
            }
        }
        if !segment.is_empty() {
            for (pieces, child) in &node.params {
                if pieces.matches(segment) {
                    let found = self.walk(*child as usize, next, method);
                    if found.is_some() {
                        return found;
                    }
                }
            }
        }
        if rest.is_empty() {
            return None;
        }
        pick(&node.rest, method)
    }

    /// Adds a route, or returns the index of the route it duplicates.
    fn add(&mut self, method: Method, segments: Box<[Segment]>, text: &str) -> Result<(), usize> {
        if self.nodes.is_empty() {
            self.nodes.push(Node::default());
        }
        let mut node = 0;
        let mut rest = false;
        for segment in &segments {
            node = match segment {
                Segment::Literal(literal) => self.literal_child(node, literal),
                Segment::Param(pieces) => self.param_child(node, pieces),
                Segment::Rest => {
                    rest = true;
                    node
                }
            };
        }
        let n = &self.nodes[node];
        let entries = if rest { &n.rest } else { &n.ends };
        if let Some(same) = entries.iter().find(|e| e.method == method) {
            let existing = self
                .routes
                .iter()
                .position(|r| r.text == same.text && r.method == method);
            return Err(existing.unwrap_or(0));
        }
        let text = match self.texts.last() {
            // Consecutive routes of one OpenAPI path share their text.
            Some(last) if **last == *text => self.texts.len() - 1,
            _ => {
                self.texts.push(text.into());
                self.texts.len() - 1
            }
        } as u32;
        let entry = Entry {
            method: method.clone(),
            text,
        };
        let n = &mut self.nodes[node];
        let entries = if rest { &mut n.rest } else { &mut n.ends };
        if entry.method.is_some() {
            entries.insert(0, entry);
        } else {
            entries.push(entry);
        }
        self.routes.push(Route {
            method,
            segments,
            text,
        });
        Ok(())
    }

    fn literal_child(&mut self, node: usize, literal: &[u8]) -> usize {
        let next = self.nodes.len() as u32;
        let literals = &mut self.nodes[node].literals;
        match literals.binary_search_by(|(l, _)| (**l).cmp(literal)) {
            Ok(i) => literals[i].1 as usize,
            Err(i) => {
                literals.insert(i, (literal.into(), next));
                self.nodes.push(Node::default());
                next as usize
            }
        }
    }

    fn param_child(&mut self, node: usize, pieces: &Pieces) -> usize {
        let next = self.nodes.len() as u32;
        let params = &mut self.nodes[node].params;
        if let Some((_, child)) = params.iter().find(|(p, _)| p == pieces) {
            return *child as usize;
        }
        let weight = pieces.literal_len();
        let at = params
            .iter()
            .position(|(p, _)| p.literal_len() < weight)
            .unwrap_or(params.len());
        params.insert(at, (pieces.clone(), next));
        self.nodes.push(Node::default());
        next as usize
    }
}

/// The route for `method` among those ending at one node (method-specific ones first).
fn pick(entries: &[Entry], method: &[u8]) -> Option<u32> {
    entries
        .iter()
        .find(|e| e.method.as_deref().is_none_or(|m| m == method))
        .map(|e| e.text)
}

impl Pieces {
    fn literal_len(&self) -> usize {
        self.0.iter().map(|p| p.len()).sum()
    }

    /// Whether `segment` is the literal pieces in order with at least one byte for each
    /// parameter between them. Taking each inner piece at its leftmost possible place is
    /// enough: it leaves the most room to what follows.
    fn matches(&self, segment: &[u8]) -> bool {
        let pieces = &self.0;
        let (Some(first), Some(last)) = (pieces.first(), pieces.last()) else {
            return false;
        };
        let params = pieces.len() - 1;
        if segment.len() < self.literal_len() + params
            || !segment.starts_with(first)
            || !segment.ends_with(last)
        {
            return false;
        }
        let end = segment.len() - last.len();
        let mut at = first.len();
        for piece in &pieces[1..params] {
            let from = at + 1;
            if from > end {
                return false;
            }
            match memmem::find(&segment[from..end], piece) {
                Some(i) => at = from + i + piece.len(),
                None => return false,
            }
        }
        at < end
    }
}

/// Splits `GET /path` into its upper-cased method and path.
fn split_method(template: &str) -> Result<(Method, &str), String> {
    if template.is_empty() {
        return Err("empty template".to_owned());
    }
    if template.starts_with('/') {
        return Ok((None, template));
    }
    let Some((method, path)) = template.split_once(char::is_whitespace) else {
        return Err("no leading `/`".to_owned());
    };
    let path = path.trim_start();
    if !path.starts_with('/') {
        return Err("no leading `/` after the method".to_owned());
    }
    if !method
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!("`{method}` is not an HTTP method"));
    }
    Ok((Some(method.to_ascii_uppercase().into_bytes().into()), path))
}

/// Reads a path template starting with `/` into segments. A trailing slash is ignored.
fn parse_path(path: &str, syntax: Syntax) -> Result<Box<[Segment]>, String> {
    let Some(body) = path.strip_prefix('/') else {
        return Err("no leading `/`".to_owned());
    };
    let body = body.strip_suffix('/').unwrap_or(body);
    if body.is_empty() {
        return Ok(Box::new([]));
    }
    if body.contains(char::is_whitespace) {
        return Err("whitespace inside the path".to_owned());
    }
    let count = body.split('/').count();
    let mut segments = Vec::with_capacity(count);
    for (i, segment) in body.split('/').enumerate() {
        if segment.is_empty() {
            return Err("empty segment (`//`)".to_owned());
        }
        if syntax == Syntax::User {
            if segment == "*" {
                if i + 1 != count {
                    return Err("`*` is not the last segment".to_owned());
                }
                segments.push(Segment::Rest);
                continue;
            }
            if segment.contains('*') {
                return Err("`*` must be a whole segment, the last one (`/static/*`)".to_owned());
            }
            if let Some(name) = segment.strip_prefix(':') {
                if name.is_empty() {
                    return Err("`:` without a parameter name".to_owned());
                }
                segments.push(Segment::Param(Pieces(Box::new([
                    Box::default(),
                    Box::default(),
                ]))));
                continue;
            }
        }
        segments.push(parse_segment(segment)?);
    }
    Ok(segments.into())
}

/// A segment with `{name}` parameters among literal text, or a literal.
fn parse_segment(segment: &str) -> Result<Segment, String> {
    let mut pieces: Vec<Box<[u8]>> = Vec::new();
    let mut literal = 0;
    let mut i = 0;
    while i < segment.len() {
        match segment.as_bytes()[i] {
            b'{' => {
                let Some(len) = segment[i + 1..].find('}') else {
                    return Err("unclosed `{`".to_owned());
                };
                let name = &segment[i + 1..i + 1 + len];
                if name.is_empty() {
                    return Err("parameter without a name (`{}`)".to_owned());
                }
                if name.contains('{') {
                    return Err("unclosed `{`".to_owned());
                }
                pieces.push(segment.as_bytes()[literal..i].into());
                i += len + 2;
                literal = i;
            }
            b'}' => return Err("`}` without `{`".to_owned()),
            _ => i += 1,
        }
    }
    if pieces.is_empty() {
        return Ok(Segment::Literal(segment.as_bytes().into()));
    }
    pieces.push(segment.as_bytes()[literal..].into());
    Ok(Segment::Param(Pieces(pieces.into())))
}

/// The path part of a `basePath`, without trailing slash (`/` → nothing).
fn base_path(base: &str) -> String {
    let base = base.trim().trim_end_matches('/');
    match base {
        "" => String::new(),
        b if b.starts_with('/') => b.to_owned(),
        b => format!("/{b}"),
    }
}

/// The path part of an OpenAPI server URL: `https://{region}.example.com/v1?x` → `/v1`. A
/// URL with neither scheme nor leading `/` is relative: `v1` → `/v1`. A variable standing
/// for the scheme and host (`{base}/v1`) is skipped; variables in the path are kept, and
/// match like parameters.
fn server_path(url: &str) -> String {
    let url = url.trim();
    let url = url.find(['?', '#']).map_or(url, |i| &url[..i]);
    let after_host = if let Some(i) = url.find("://") {
        Some(&url[i + 3..])
    } else if let Some(rest) = url.strip_prefix("//") {
        Some(rest)
    } else if url.starts_with('{') {
        Some(url)
    } else {
        None
    };
    let path = match after_host {
        Some(host) => host.find('/').map_or("", |i| &host[i..]),
        None => url,
    };
    base_path(path)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    OpenApi,
    Swagger,
}

/// What is read from an OpenAPI document; everything else is skipped.
#[derive(Debug, Default)]
struct OpenApiDoc {
    version: Option<Version>,
    /// The line of `paths`, and its entries.
    paths: Option<(usize, Vec<PathItem>)>,
    base_path: Option<String>,
    server_url: Option<String>,
}

#[derive(Debug)]
struct PathItem {
    key: String,
    line: usize,
    methods: Vec<&'static str>,
}

/// Reads the parts of the first YAML (or JSON, a subset) document that matter, from the
/// parser's events, without building a tree.
fn read_openapi(text: &str, shown: &str) -> Result<OpenApiDoc, String> {
    let mut events = Events {
        parser: Parser::new_from_str(text),
        shown,
    };
    let (root, span) = loop {
        match events.next()? {
            (Event::StreamStart | Event::DocumentStart(_), _) => {}
            (Event::StreamEnd, _) => return Err(format!("{shown}: empty document")),
            other => break other,
        }
    };
    if !matches!(root, Event::MappingStart(..)) {
        return Err(events.at(span, "not an OpenAPI document: expected a map at the top"));
    }
    let mut doc = OpenApiDoc::default();
    loop {
        let (key, key_span) = events.next()?;
        let key = match key {
            Event::MappingEnd => break,
            Event::Scalar(key, ..) => key,
            other => {
                // A complex key (`? [a, b]`): not one of ours; skip it and its value.
                events.skip(&other)?;
                let (value, _) = events.next()?;
                events.skip(&value)?;
                continue;
            }
        };
        let (value, span) = events.next()?;
        match &*key {
            "openapi" => doc.version = Some(Version::OpenApi),
            "swagger" => doc.version = Some(Version::Swagger),
            "basePath" => {
                if let Event::Scalar(base, ..) = &value {
                    doc.base_path = Some(base.to_string());
                }
            }
            "servers" => {
                if matches!(value, Event::SequenceStart(..)) {
                    doc.server_url = events.first_server_url()?;
                    continue;
                }
            }
            "paths" => {
                if !matches!(value, Event::MappingStart(..)) {
                    return Err(events.at(span, "`paths` is not a map of paths"));
                }
                doc.paths = Some((key_span.start.line(), events.paths()?));
                continue;
            }
            _ => {}
        }
        events.skip(&value)?;
    }
    Ok(doc)
}

struct Events<'t> {
    parser: Parser<'t, StrInput<'t>>,
    shown: &'t str,
}

impl<'t> Events<'t> {
    fn next(&mut self) -> Result<(Event<'t>, Span), String> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(e)) => Err(self.scan_error(&e)),
            None => Err(format!("{}: unexpected end of the document", self.shown)),
        }
    }

    fn scan_error(&self, e: &ScanError) -> String {
        format!("{}:{}: {}", self.shown, e.marker().line().max(1), e.info())
    }

    fn at(&self, span: Span, message: &str) -> String {
        format!("{}:{}: {message}", self.shown, span.start.line().max(1))
    }

    /// Consumes the rest of the node that `first` begins.
    fn skip(&mut self, first: &Event<'t>) -> Result<(), String> {
        let mut depth = usize::from(matches!(
            first,
            Event::MappingStart(..) | Event::SequenceStart(..)
        ));
        while depth > 0 {
            match self.next()?.0 {
                Event::MappingStart(..) | Event::SequenceStart(..) => depth += 1,
                Event::MappingEnd | Event::SequenceEnd => depth -= 1,
                _ => {}
            }
        }
        Ok(())
    }

    /// The `url` of the first server, consuming the whole `servers` sequence.
    fn first_server_url(&mut self) -> Result<Option<String>, String> {
        let mut url = None;
        let mut first = true;
        loop {
            let (item, _) = self.next()?;
            if matches!(item, Event::SequenceEnd) {
                return Ok(url);
            }
            if first && matches!(item, Event::MappingStart(..)) {
                loop {
                    let (key, _) = self.next()?;
                    if matches!(key, Event::MappingEnd) {
                        break;
                    }
                    self.skip(&key)?;
                    let (value, _) = self.next()?;
                    if let (Event::Scalar(key, ..), Event::Scalar(value, ..)) = (&key, &value)
                        && key == "url"
                    {
                        url = Some(value.to_string());
                    }
                    self.skip(&value)?;
                }
            } else {
                self.skip(&item)?;
            }
            first = false;
        }
    }

    /// The entries of `paths`, its `MappingStart` consumed; `x-` extensions skipped.
    fn paths(&mut self) -> Result<Vec<PathItem>, String> {
        let mut paths = Vec::new();
        loop {
            let (key, span) = self.next()?;
            let key = match key {
                Event::MappingEnd => return Ok(paths),
                Event::Scalar(key, ..) => key,
                _ => return Err(self.at(span, "a key of `paths` is not a path")),
            };
            let (value, _) = self.next()?;
            if key.starts_with("x-") {
                self.skip(&value)?;
                continue;
            }
            if !key.starts_with('/') {
                return Err(self.at(span, &format!("path `{key}` does not start with `/`")));
            }
            let mut methods = Vec::new();
            if matches!(value, Event::MappingStart(..)) {
                loop {
                    let (op, _) = self.next()?;
                    if matches!(op, Event::MappingEnd) {
                        break;
                    }
                    if let Event::Scalar(op, ..) = &op
                        && let Some(m) = METHODS.iter().find(|m| **m == *op)
                    {
                        methods.push(*m);
                    }
                    self.skip(&op)?;
                    let (body, _) = self.next()?;
                    self.skip(&body)?;
                }
            } else {
                self.skip(&value)?;
            }
            paths.push(PathItem {
                key: key.into_owned(),
                line: span.start.line().max(1),
                methods,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(templates: &[&str]) -> RouteTemplates {
        let templates: Vec<String> = templates.iter().map(|t| t.to_string()).collect();
        match RouteTemplates::new(&templates) {
            Ok(set) => set,
            Err(e) => panic!("{e}"),
        }
    }

    fn error(templates: &[&str]) -> String {
        let templates: Vec<String> = templates.iter().map(|t| t.to_string()).collect();
        match RouteTemplates::new(&templates) {
            Ok(set) => panic!("accepted: {set:?}"),
            Err(e) => e,
        }
    }

    fn get<'a>(set: &'a RouteTemplates, path: &str) -> Option<&'a str> {
        set.find(b"GET", path.as_bytes())
    }

    #[test]
    fn templates_literal_beats_parameter() {
        let s = set(&["/users/{id}", "/users/me", "/users/{id}/orders"]);
        assert_eq!(get(&s, "/users/me"), Some("/users/me"));
        assert_eq!(get(&s, "/users/42"), Some("/users/{id}"));
        assert_eq!(get(&s, "/users/me/orders"), Some("/users/{id}/orders"));
        assert_eq!(get(&s, "/users"), None);
        assert_eq!(get(&s, "/users/42/orders/7"), None);
        assert_eq!(get(&s, "/Users/42"), None, "case-sensitive");
        assert_eq!(get(&s, "/users/a%20b"), Some("/users/{id}"));
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn templates_colon_parameters() {
        let s = set(&["/users/:id", "/v1/models/{name}:predict"]);
        assert_eq!(get(&s, "/users/42"), Some("/users/:id"));
        assert_eq!(
            get(&s, "/v1/models/m1:predict"),
            Some("/v1/models/{name}:predict")
        );
        assert_eq!(get(&s, "/v1/models/:predict"), None);
    }

    #[test]
    fn templates_backtracking() {
        let s = set(&["/a/{x}/c", "/a/b/d"]);
        assert_eq!(get(&s, "/a/b/c"), Some("/a/{x}/c"));
        assert_eq!(get(&s, "/a/b/d"), Some("/a/b/d"));
        assert_eq!(get(&s, "/a/z/c"), Some("/a/{x}/c"));
        assert_eq!(get(&s, "/a/z/d"), None);
        // Left to right: a literal at the first differing position wins.
        let s = set(&["/{x}/b", "/a/{y}"]);
        assert_eq!(get(&s, "/a/b"), Some("/a/{y}"));
        assert_eq!(get(&s, "/z/b"), Some("/{x}/b"));
    }

    #[test]
    fn templates_trailing_slash_and_root() {
        let s = set(&["/users/{id}/", "/", "/health"]);
        assert_eq!(get(&s, "/users/42/"), Some("/users/{id}/"));
        assert_eq!(get(&s, "/users/42"), Some("/users/{id}/"));
        assert_eq!(get(&s, "/health/"), Some("/health"));
        assert_eq!(get(&s, "/"), Some("/"));
        assert_eq!(get(&s, ""), Some("/"));
        assert_eq!(get(&s, "/users//"), None);
        assert_eq!(get(&s, "/users/42//"), None);
        assert_eq!(get(&s, "users/42"), None);
        assert_eq!(get(&s, "*"), None);
    }

    #[test]
    fn templates_mixed_segments() {
        let s = set(&[
            "/files/{name}.{ext}",
            "/files/{name}.json",
            "/files/{name}",
            "/v1/report-{date}",
            "/v1/{a}-{b}-{c}",
        ]);
        assert_eq!(get(&s, "/files/a.json"), Some("/files/{name}.json"));
        assert_eq!(get(&s, "/files/a.b.json"), Some("/files/{name}.json"));
        assert_eq!(get(&s, "/files/a.txt"), Some("/files/{name}.{ext}"));
        assert_eq!(get(&s, "/files/a.b.txt"), Some("/files/{name}.{ext}"));
        assert_eq!(get(&s, "/files/.txt"), Some("/files/{name}"));
        assert_eq!(get(&s, "/files/a."), Some("/files/{name}"));
        assert_eq!(get(&s, "/files/readme"), Some("/files/{name}"));
        assert_eq!(get(&s, "/v1/report-2024-01-01"), Some("/v1/report-{date}"));
        assert_eq!(get(&s, "/v1/report-"), None);
        assert_eq!(get(&s, "/v1/x-y-z"), Some("/v1/{a}-{b}-{c}"));
        assert_eq!(get(&s, "/v1/x--z"), None);
        assert_eq!(get(&s, "/v1/x-y"), None);
    }

    #[test]
    fn templates_method_restriction() {
        let s = set(&["GET /checkout", "/checkout", "post /orders", "/orders/{id}"]);
        assert_eq!(s.find(b"GET", b"/checkout"), Some("/checkout"));
        assert_eq!(s.find(b"POST", b"/checkout"), Some("/checkout"));
        assert_eq!(s.find(b"POST", b"/orders"), Some("/orders"));
        assert_eq!(s.find(b"GET", b"/orders"), None);
        // A route of another method does not match: the search goes on.
        let s = set(&["POST /users/me", "/users/{id}"]);
        assert_eq!(s.find(b"GET", b"/users/me"), Some("/users/{id}"));
        assert_eq!(s.find(b"POST", b"/users/me"), Some("/users/me"));
        // Method-specific and method-less at one template: the specific one for its method.
        let s = set(&["/a/{x}", "GET /a/{y}"]);
        assert_eq!(s.find(b"GET", b"/a/1"), Some("/a/{y}"));
        assert_eq!(s.find(b"PUT", b"/a/1"), Some("/a/{x}"));
    }

    #[test]
    fn templates_rest() {
        let s = set(&[
            "/static/*",
            "/static/{file}",
            "/static/img/logo.png",
            "GET /api/*",
        ]);
        assert_eq!(get(&s, "/static/app.js"), Some("/static/{file}"));
        assert_eq!(get(&s, "/static/css/app.css"), Some("/static/*"));
        assert_eq!(
            get(&s, "/static/img/logo.png"),
            Some("/static/img/logo.png")
        );
        assert_eq!(get(&s, "/static/img/other.png"), Some("/static/*"));
        assert_eq!(get(&s, "/static"), None);
        assert_eq!(get(&s, "/static/"), None);
        assert_eq!(get(&s, "/api/v1/x"), Some("/api/*"));
        assert_eq!(s.find(b"POST", b"/api/v1/x"), None);
        let s = set(&["/*"]);
        assert_eq!(get(&s, "/anything/at/all"), Some("/*"));
        assert_eq!(get(&s, "/"), None);
    }

    #[test]
    fn templates_errors() {
        let e = error(&["/ok", ""]);
        assert_eq!(e, "route template 2 (``): empty template");
        let e = error(&["users/{id}"]);
        assert_eq!(e, "route template 1 (`users/{id}`): no leading `/`");
        let e = error(&["GET users"]);
        assert!(e.contains("no leading `/`"), "{e}");
        let e = error(&["/users/{id"]);
        assert_eq!(e, "route template 1 (`/users/{id`): unclosed `{`");
        let e = error(&["/a", "/static/*/x"]);
        assert_eq!(
            e,
            "route template 2 (`/static/*/x`): `*` is not the last segment"
        );
        let e = error(&["/img-*.png"]);
        assert!(e.contains("`*` must be a whole segment"), "{e}");
        let e = error(&["/users/{id}", "/x", "/users/:name/"]);
        assert_eq!(
            e,
            "route template 3 (`/users/:name/`): duplicate of route template 1 (`/users/{id}`)"
        );
        let e = error(&["GET /a", "get /a"]);
        assert!(e.contains("duplicate of route template 1"), "{e}");
        assert!(RouteTemplates::new(&["GET /a".into(), "/a".into()]).is_ok());
        assert!(error(&["/a//b"]).contains("empty segment"));
        assert!(error(&["/a/{}"]).contains("without a name"));
        assert!(error(&["/a/}"]).contains("`}` without `{`"));
        assert!(error(&["/a/:"]).contains("without a parameter name"));
        assert!(error(&["G/ET /a"]).contains("not an HTTP method"));
    }

    const OPENAPI3: &str = r#"openapi: 3.0.3
info:
  title: Shop
  version: "1"
servers:
  - url: https://{region}.api.example.com/v1
    variables:
      region: {default: eu}
  - url: http://localhost:8080/other
paths:
  /users/{userId}:
    parameters:
      - $ref: '#/components/parameters/UserId'
    get:
      responses:
        '200': {description: ok}
    delete:
      responses: {}
  /users/me:
    get: {}
  /health: {}
  x-internal: true
  /:
    get: {}
components:
  schemas:
    User: {type: object}
"#;

    #[test]
    fn templates_openapi3_yaml_with_servers() {
        let s = match RouteTemplates::from_openapi(OPENAPI3, "openapi.yaml") {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(s.len(), 5);
        assert_eq!(get(&s, "/v1/users/42"), Some("/v1/users/{userId}"));
        assert_eq!(
            s.find(b"DELETE", b"/v1/users/42"),
            Some("/v1/users/{userId}")
        );
        assert_eq!(s.find(b"POST", b"/v1/users/42"), None);
        assert_eq!(get(&s, "/v1/users/me"), Some("/v1/users/me"));
        assert_eq!(
            s.find(b"DELETE", b"/v1/users/me"),
            Some("/v1/users/{userId}")
        );
        assert_eq!(s.find(b"POST", b"/v1/health"), Some("/v1/health"));
        assert_eq!(get(&s, "/v1"), Some("/v1"));
        assert_eq!(get(&s, "/v1/"), Some("/v1"));
        assert_eq!(get(&s, "/users/42"), None);
    }

    #[test]
    fn templates_swagger2_json_with_base_path() {
        // Tab-indented, as some generators write it.
        let json = "{\n\t\"swagger\": \"2.0\",\n\t\"basePath\": \"/api/\",\n\t\"paths\": {\n\t\t\"/pets/{petId}\": {\"get\": {\"responses\": {}}, \"put\": {}},\n\t\t\"/pets\": {\"post\": {\"parameters\": [{\"in\": \"body\", \"schema\": {\"$ref\": \"#/definitions/Pet\"}}]}}\n\t},\n\t\"definitions\": {\"Pet\": {\"type\": \"object\"}}\n}\n";
        let s = match RouteTemplates::from_openapi(json, "swagger.json") {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(s.len(), 3);
        assert_eq!(get(&s, "/api/pets/7"), Some("/api/pets/{petId}"));
        assert_eq!(s.find(b"PUT", b"/api/pets/7"), Some("/api/pets/{petId}"));
        assert_eq!(s.find(b"POST", b"/api/pets"), Some("/api/pets"));
        assert_eq!(get(&s, "/api/pets"), None);
    }

    #[test]
    fn templates_openapi_errors() {
        let e = RouteTemplates::from_openapi("openapi: 3.1.0\ninfo: {title: x}\n", "api.yaml")
            .err()
            .unwrap_or_default();
        assert!(e.starts_with("api.yaml: no `paths`"), "{e}");
        let e = RouteTemplates::from_openapi("openapi: 3.1.0\npaths: {}\n", "api.yaml")
            .err()
            .unwrap_or_default();
        assert!(e.starts_with("api.yaml:2: `paths` is empty"), "{e}");
        let e = RouteTemplates::from_openapi("paths:\n  /a: {}\n", "api.yaml")
            .err()
            .unwrap_or_default();
        assert!(e.contains("not an OpenAPI 3 or Swagger 2 document"), "{e}");
        let bad = "openapi: 3.0.0\npaths:\n  /a:\n    get: {}\n   bad: [\n";
        let e = RouteTemplates::from_openapi(bad, "openapi.yaml")
            .err()
            .unwrap_or_default();
        assert!(e.starts_with("openapi.yaml:5: "), "{e}");
        let bad = "openapi: 3.0.0\npaths:\n  /a:\n    get: {}\n  /b/{id:\n    get: {}\n";
        let e = RouteTemplates::from_openapi(bad, "openapi.yaml")
            .err()
            .unwrap_or_default();
        assert_eq!(e, "openapi.yaml:5: path `/b/{id`: unclosed `{`");
        let dup = "openapi: 3.0.0\npaths:\n  /a/{x}:\n    get: {}\n  /a/{y}:\n    get: {}\n";
        let e = RouteTemplates::from_openapi(dup, "openapi.yaml")
            .err()
            .unwrap_or_default();
        assert_eq!(
            e,
            "openapi.yaml:5: path `/a/{y}` is the same route as `/a/{x}` on line 3"
        );
        let e = RouteTemplates::from_openapi("openapi: 3.0.0\npaths:\n  a: {}\n", "o.yaml")
            .err()
            .unwrap_or_default();
        assert_eq!(e, "o.yaml:3: path `a` does not start with `/`");
        let e = RouteTemplates::from_openapi("- a\n", "o.yaml")
            .err()
            .unwrap_or_default();
        assert!(e.starts_with("o.yaml:1: not an OpenAPI document"), "{e}");
        let e = RouteTemplates::from_openapi("", "o.yaml")
            .err()
            .unwrap_or_default();
        assert_eq!(e, "o.yaml: empty document");
    }

    #[test]
    fn templates_server_paths() {
        assert_eq!(server_path("https://api.example.com/v1"), "/v1");
        assert_eq!(server_path("https://api.example.com/v1/"), "/v1");
        assert_eq!(server_path("https://api.example.com"), "");
        assert_eq!(server_path("/v1"), "/v1");
        assert_eq!(server_path("v1"), "/v1");
        assert_eq!(server_path("/"), "");
        assert_eq!(server_path("//cdn.example.com/v2?x=1"), "/v2");
        assert_eq!(server_path("{scheme}://{host}:{port}/api"), "/api");
        assert_eq!(server_path("{base}/api"), "/api");
        assert_eq!(server_path("https://x.example.com/{version}"), "/{version}");
        assert_eq!(base_path("/"), "");
        assert_eq!(base_path("/api"), "/api");
    }

    #[test]
    fn templates_extend_keeps_first() {
        let mut s = set(&["/users/{id}", "GET /a"]);
        let other = set(&["/users/:name", "/b/{x}", "POST /a"]);
        s.extend(other);
        assert_eq!(s.len(), 4);
        assert_eq!(get(&s, "/users/1"), Some("/users/{id}"));
        assert_eq!(get(&s, "/b/1"), Some("/b/{x}"));
        assert_eq!(s.find(b"POST", b"/a"), Some("/a"));
        assert!(RouteTemplates::default().is_empty());
        assert_eq!(RouteTemplates::default().find(b"GET", b"/"), None);
    }
}
