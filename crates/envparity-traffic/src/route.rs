//! Route templates from URLs: `/users/12345/orders?page=2` → `/users/:id/orders?page`.
//!
//! Two steps. Each path segment is first read by its look (numbers, UUIDs, hashes, dates,
//! emails, long tokens become parameters). Then, per position, a literal segment with many
//! rare siblings (slugs, usernames) becomes `:param`, while a frequent one (`/users/me`)
//! keeps its name. Query strings keep their parameter names, never their values.

use std::collections::BTreeMap;

/// A segment's parameter name by its look, or `None` for a literal.
pub fn segment_kind(segment: &str) -> Option<&'static str> {
    let b = segment.as_bytes();
    if b.is_empty() {
        return None;
    }
    if b.iter().all(u8::is_ascii_digit) {
        return Some(":id");
    }
    if b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
    {
        return Some(":uuid");
    }
    if b.len() >= 16 && b.iter().all(u8::is_ascii_hexdigit) && b.iter().any(u8::is_ascii_digit) {
        return Some(":hash");
    }
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return Some(":date");
    }
    if segment.contains('@') {
        return Some(":email");
    }
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let letters = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
    // Long mixed tokens (`a8Fk2LmQ9x`, base64) — not words like `v2` or `oauth2`.
    if b.len() >= 16 && digits > 0 && letters > 0 && !segment.contains('-') {
        return Some(":token");
    }
    // `blue-widget-123`, `order-000123`: a slug ending in a number.
    if segment.contains('-')
        && segment
            .rsplit('-')
            .next()
            .is_some_and(|last| !last.is_empty() && last.bytes().all(|c| c.is_ascii_digit()))
        && letters > 0
    {
        return Some(":slug");
    }
    None
}

/// The shape of a request target: segments read by their look, query names sorted.
pub fn shape(target: &[u8], out: &mut String) {
    out.clear();
    let target = String::from_utf8_lossy(target);
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target.as_ref(), None),
    };
    // Absolute-form targets (`http://host/path`) keep their path only.
    let path = match path.find("://") {
        Some(i) => path[i + 3..].find('/').map_or("/", |j| &path[i + 3 + j..]),
        None => path,
    };
    if path.is_empty() || path == "/" {
        out.push('/');
    }
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        match segment_kind(segment) {
            Some(kind) => out.push_str(kind),
            None => out.push_str(segment),
        }
    }
    if let Some(q) = query {
        let mut names: Vec<&str> = q
            .split('&')
            .filter_map(|kv| kv.split('=').next())
            .filter(|k| !k.is_empty())
            .collect();
        names.sort_unstable();
        names.dedup();
        if !names.is_empty() {
            out.push('?');
            out.push_str(&names.join("&"));
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
