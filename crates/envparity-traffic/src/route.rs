//! Route templates from URLs: `/users/12345/orders?page=2` → `/users/:id/orders?page`.
//!
//! Two steps. Each path segment is first read by its look (numbers, UUIDs, hashes, dates,
//! emails, long tokens become parameters). Then, per position, a literal segment with many
//! rare siblings (slugs, usernames) becomes `:param`, while a frequent one (`/users/me`)
//! keeps its name. Query strings keep their parameter names, never their values.

use std::collections::BTreeMap;

/// A segment's parameter name by its look, or `None` for a literal.
pub fn segment_kind(segment: &str) -> Option<&'static str> {
    segment_kind_bytes(segment.as_bytes())
}

/// [`segment_kind`] on bytes, in one pass over the segment.
pub fn segment_kind_bytes(b: &[u8]) -> Option<&'static str> {
    if b.is_empty() {
        return None;
    }
    let (mut digits, mut letters, mut hex, mut dashes, mut at) = (0usize, 0usize, 0usize, 0, false);
    for &c in b {
        if c.is_ascii_digit() {
            digits += 1;
            hex += 1;
        } else if c.is_ascii_alphabetic() {
            letters += 1;
            if matches!(c, b'a'..=b'f' | b'A'..=b'F') {
                hex += 1;
            }
        } else if c == b'-' {
            dashes += 1;
        } else if c == b'@' {
            at = true;
        }
    }
    let n = b.len();
    if digits == n {
        return Some(":id");
    }
    if n == 36
        && dashes == 4
        && hex == 32
        && b[8] == b'-'
        && b[13] == b'-'
        && b[18] == b'-'
        && b[23] == b'-'
    {
        return Some(":uuid");
    }
    if n >= 16 && hex == n && digits > 0 {
        return Some(":hash");
    }
    if n == 10 && digits == 8 && b[4] == b'-' && b[7] == b'-' {
        return Some(":date");
    }
    if at {
        return Some(":email");
    }
    // Long mixed tokens (`a8Fk2LmQ9x`, base64) — not words like `v2` or `oauth2`.
    if n >= 16 && digits > 0 && letters > 0 && dashes == 0 {
        return Some(":token");
    }
    // `blue-widget-123`, `order-000123`: a slug ending in a number.
    if dashes > 0 && letters > 0 {
        let last = b.rsplit(|c| *c == b'-').next().unwrap_or_default();
        if !last.is_empty() && last.iter().all(u8::is_ascii_digit) {
            return Some(":slug");
        }
    }
    None
}

/// The shape of a request target: segments read by their look, query names sorted.
pub fn shape(target: &[u8], out: &mut String) {
    let mut bytes = std::mem::take(out).into_bytes();
    shape_bytes(target, &mut bytes);
    *out = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
}

/// [`shape`] into bytes, as read (a log's bytes need not be UTF-8; they are repaired
/// once per route when the model is finished, not once per line).
pub fn shape_bytes(target: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let (path, query) = match memchr::memchr(b'?', target) {
        Some(i) => (&target[..i], Some(&target[i + 1..])),
        None => (target, None),
    };
    // Absolute-form targets (`http://host/path`) keep their path only.
    let path = if path.first() == Some(&b'/') {
        path
    } else {
        match memchr::memmem::find(path, b"://") {
            Some(i) => {
                memchr::memchr(b'/', &path[i + 3..]).map_or(&b"/"[..], |j| &path[i + 3 + j..])
            }
            None => path,
        }
    };
    let mut any = false;
    for segment in path.split(|c| *c == b'/').filter(|s| !s.is_empty()) {
        any = true;
        out.push(b'/');
        match segment_kind_bytes(segment) {
            Some(kind) => out.extend_from_slice(kind.as_bytes()),
            None => out.extend_from_slice(segment),
        }
    }
    if !any {
        out.push(b'/');
    }
    if let Some(q) = query {
        let mut names: Vec<&[u8]> = q
            .split(|c| *c == b'&')
            .filter_map(|kv| kv.split(|c| *c == b'=').next())
            .filter(|k| !k.is_empty())
            .collect();
        names.sort_unstable();
        names.dedup();
        if !names.is_empty() {
            out.push(b'?');
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    out.push(b'&');
                }
                out.extend_from_slice(name);
            }
        }
    }
}

/// Siblings at one position beyond which rare literals become `:param`.
pub const MAX_LITERAL_SIBLINGS: usize = 50;
/// A literal keeps its name if it carries at least this share of its position's requests.
pub const KEEP_SHARE: f64 = 0.01;

/// Merges rare literal segments with many siblings into `:param`. `routes` maps
/// `(method, shape)` to a value that knows its request count and how to merge.
pub fn collapse<V: Mergeable>(
    routes: BTreeMap<(String, String), V>,
) -> BTreeMap<(String, String), V> {
    let mut routes = routes;
    let depth = routes
        .keys()
        .map(|(_, p)| path_of(p).split('/').count())
        .max()
        .unwrap_or(0);
    for position in 1..depth {
        // Group by everything but the segment at `position`.
        let mut groups: BTreeMap<(String, String), Vec<(String, u64)>> = BTreeMap::new();
        for ((method, shape), v) in &routes {
            let segments: Vec<&str> = path_of(shape).split('/').collect();
            let Some(seg) = segments.get(position) else {
                continue;
            };
            let mut rest = segments.clone();
            rest[position] = "\u{0}";
            let key = (
                method.clone(),
                format!("{}{}", rest.join("/"), query_of(shape)),
            );
            groups
                .entry(key)
                .or_default()
                .push((seg.to_string(), v.requests()));
        }
        let mut renames: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
        for ((method, pattern), members) in &groups {
            let literals = members.iter().filter(|(s, _)| !s.starts_with(':')).count();
            if literals <= MAX_LITERAL_SIBLINGS {
                continue;
            }
            let total: u64 = members.iter().map(|m| m.1).sum();
            for (seg, count) in members {
                if seg.starts_with(':') || (*count as f64) >= KEEP_SHARE * total as f64 {
                    continue;
                }
                let from = pattern.replacen('\u{0}', seg, 1);
                let to = pattern.replacen('\u{0}', ":param", 1);
                renames.insert((method.clone(), from), (method.clone(), to));
            }
        }
        if renames.is_empty() {
            continue;
        }
        let mut next: BTreeMap<(String, String), V> = BTreeMap::new();
        for (key, v) in routes {
            let key = renames.get(&key).cloned().unwrap_or(key);
            match next.get_mut(&key) {
                Some(existing) => existing.merge(v),
                None => {
                    next.insert(key, v);
                }
            }
        }
        routes = next;
    }
    routes
}

fn path_of(shape: &str) -> &str {
    shape.split('?').next().unwrap_or(shape)
}

fn query_of(shape: &str) -> &str {
    shape.find('?').map_or("", |i| &shape[i..])
}

/// What `collapse` needs of a route's figures.
pub trait Mergeable {
    fn requests(&self) -> u64;
    fn merge(&mut self, other: Self);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(target: &str) -> String {
        let mut out = String::new();
        shape(target.as_bytes(), &mut out);
        out
    }

    #[test]
    fn segments_read_by_their_look() {
        assert_eq!(
            s("/users/12345/orders?page=2&sort=asc"),
            "/users/:id/orders?page&sort"
        );
        assert_eq!(
            s("/orders/3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
            "/orders/:uuid"
        );
        // A fingerprinted asset changes name with every deploy: a parameter.
        assert_eq!(s("/assets/app.9f86d081884c7d65.js"), "/assets/:token");
        assert_eq!(s("/blobs/9f86d081884c7d659a2feaa0c55ad015"), "/blobs/:hash");
        assert_eq!(s("/reports/2026-11-23"), "/reports/:date");
        assert_eq!(s("/users/ana@example.com"), "/users/:email");
        assert_eq!(s("/p/blue-widget-123"), "/p/:slug");
        assert_eq!(s("/users/me"), "/users/me");
        assert_eq!(s("/api/v2/oauth2/token"), "/api/v2/oauth2/token");
        assert_eq!(s("/"), "/");
        assert_eq!(s("/search?q=secret+value"), "/search?q");
        assert_eq!(s("http://shop.example/cart"), "/cart");
    }

    #[derive(Debug, PartialEq)]
    struct Count(u64);
    impl Mergeable for Count {
        fn requests(&self) -> u64 {
            self.0
        }
        fn merge(&mut self, other: Self) {
            self.0 += other.0;
        }
    }

    #[test]
    fn rare_literals_with_many_siblings_collapse_frequent_ones_stay() {
        // Make names distinct and realistic: slugs without digits.
        let mut routes: BTreeMap<(String, String), Count> = BTreeMap::new();
        for i in 0..200u32 {
            let name: String =
                format!("item{}", char::from(b'a' + (i % 26) as u8)).repeat(1 + (i / 26) as usize);
            routes.insert(
                ("GET".into(), format!("/products/{name}/reviews")),
                Count(1),
            );
        }
        routes.insert(("GET".into(), "/users/me".into()), Count(500));
        for i in 0..100u32 {
            routes.insert(
                (
                    "GET".into(),
                    format!("/users/u{}", "x".repeat(i as usize + 1)),
                ),
                Count(1),
            );
        }
        routes.insert(
            ("GET".into(), "/products/featured/reviews".into()),
            Count(100),
        );
        let out = collapse(routes);
        let keys: Vec<&str> = out.keys().map(|(_, p)| p.as_str()).collect();
        assert!(keys.contains(&"/products/:param/reviews"), "{keys:?}");
        assert!(keys.contains(&"/products/featured/reviews"), "{keys:?}");
        assert!(keys.contains(&"/users/me"), "{keys:?}");
        assert!(keys.contains(&"/users/:param"), "{keys:?}");
        assert_eq!(
            out[&("GET".into(), "/products/:param/reviews".into())],
            Count(200)
        );
        assert_eq!(keys.len(), 4, "{keys:?}");
    }
}
