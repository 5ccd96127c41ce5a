//! What each request is: its route drawn by the model's shares, its path parameters and
//! query values filled by generators (or from the user's values), its headers and body
//! from the user's templates. Every choice is a function of the request's run-wide index,
//! so a shard sends exactly the requests a single run would have sent at those indices.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use envparity_core::sketch::{SplitMix, mix64};
use envparity_core::traffic::TrafficModel;
use envparity_core::vars::Unexpanded;
use serde::Deserialize;

/// Routes of a model beyond these are left out of the mix (the long tail): the mix
/// stops at this many routes or once it covers this share of requests.
pub const MIX_ROUTES: usize = 200;
pub const MIX_SHARE: f64 = 0.999;

#[derive(Clone, Debug)]
pub struct Mix {
    pub routes: Vec<PlannedRoute>,
    /// Running sums of the shares, normalised to end at 1.
    cumulative: Vec<f64>,
    seed: u64,
    /// Headers every request carries (from the requests file's `[headers]`).
    headers: Vec<(String, String)>,
    /// The model's share of requests the mix covers.
    pub share_in_mix: f64,
    /// `[params]` no route of the mix asks for, each said with its file and line: a
    /// placeholder spelled otherwise (`{userId}` for `user_id`) is filled by a generator
    /// of its own, silently.
    pub unused_params: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct PlannedRoute {
    pub method: String,
    /// As the model (or the URL) names it: what results are grouped by.
    pub route: String,
    pub share: f64,
    path: Vec<Part>,
    headers: Vec<(String, Vec<Part>)>,
    body: Option<Vec<Part>>,
}

#[derive(Clone, Debug)]
enum Part {
    Text(String),
    Value(Generator),
}

/// Where a parameter's values come from.
#[derive(Clone, Debug)]
pub enum Generator {
    /// Integers in `lo..=hi`.
    Int {
        lo: u64,
        hi: u64,
    },
    Uuid,
    Hex(usize),
    /// A date in 2026.
    Date,
    Email,
    Token,
    /// `item-123`.
    Slug,
    /// `p123`.
    Word,
    /// One of the user's values.
    List(Arc<Vec<String>>),
}

/// One request, ready to send.
#[derive(Debug, Default)]
pub struct Request {
    pub route: usize,
    pub method: String,
    pub path: String,
    /// The route's own headers; [`Mix::common_headers`] go with every request.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The requests file (`--requests load.toml`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestsFile {
    /// Headers for every request; `${VAR}` reads the process environment.
    #[serde(default)]
    headers: BTreeMap<String, toml::Spanned<String>>,
    /// Values for parameters by name: `"1..5000"`, a list, or `{ file = "ids.txt" }`.
    #[serde(default)]
    params: BTreeMap<String, toml::Spanned<ParamDecl>>,
    #[serde(default)]
    request: Vec<RequestDecl>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ParamDecl {
    Range(String),
    List(Vec<toml::Value>),
    File { file: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestDecl {
    /// `POST /cart/items`, as the model names the route.
    route: toml::Spanned<String>,
    /// The path to send, with `{param}`s, when not the route's own.
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    /// Without a model: this route's share of the mix (default: equal shares).
    #[serde(default)]
    share: Option<f64>,
}

/// The user's templates and values, read from the requests file.
#[derive(Debug, Default)]
pub struct Templates {
    headers: Vec<(String, String)>,
    params: BTreeMap<String, Generator>,
    /// Where each of `params` is declared (`load.toml:4`).
    param_lines: BTreeMap<String, String>,
    requests: Vec<(String, String, RequestDecl, u32)>,
    /// `${VAR}`s left as written (`k8s-job`: they are the pods' to expand).
    unexpanded: bool,
}

impl Templates {
    /// The `[params]` of a requests file's text that read their values from files, as
    /// `(param, file)`: what a pod given only the requests file would not have. Nothing is
    /// expanded (a `${VAR}` is the pod's to read).
    pub fn param_files(text: &str) -> Vec<(String, String)> {
        toml::from_str::<RequestsFile>(text)
            .map(|f| {
                f.params
                    .into_iter()
                    .filter_map(|(name, decl)| match decl.into_inner() {
                        ParamDecl::File { file } => Some((name, file)),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Reads a requests file; errors name the file and line. `${VAR}`s in headers are
    /// read from this process's environment.
    pub fn read(path: &Path) -> Result<Templates, String> {
        Templates::read_as(path, false)
    }

    /// [`Templates::read`], every check made, but `${VAR}`s left as written: for a file
    /// shipped to the machines that will send (their environment holds the values).
    pub fn read_unexpanded(path: &Path) -> Result<Templates, String> {
        Templates::read_as(path, true)
    }

    fn read_as(path: &Path, unexpanded: bool) -> Result<Templates, String> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let file: RequestsFile = toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let (line, col) = envparity_core::manifest::line_col(&text, s.start);
                    format!(":{line}:{col}")
                })
                .unwrap_or_default();
            format!("{shown}{at}: {}", e.message())
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let at = |span: std::ops::Range<usize>| {
            format!(
                "{shown}:{}",
                envparity_core::manifest::line_col(&text, span.start).0
            )
        };
        let mut params = BTreeMap::new();
        let mut param_lines = BTreeMap::new();
        for (name, decl) in file.params {
            let shown = at(decl.span());
            param_lines.insert(name.clone(), shown.clone());
            let generator = match decl.into_inner() {
                ParamDecl::Range(r) => {
                    let (lo, hi) = r
                        .split_once("..")
                        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().trim_start_matches('=').parse().ok()?)))
                        .filter(|(lo, hi): &(u64, u64)| lo <= hi)
                        .ok_or_else(|| format!("{shown}: [params] {name} = \"{r}\": give a range `1..5000`, a list, or {{ file = \"…\" }}"))?;
                    Generator::Int { lo, hi }
                }
                ParamDecl::List(values) => {
                    if values.is_empty() {
                        return Err(format!("{shown}: [params] {name}: the list is empty"));
                    }
                    Generator::List(Arc::new(
                        values
                            .into_iter()
                            .map(|v| match v {
                                toml::Value::String(s) => s,
                                other => other.to_string(),
                            })
                            .collect(),
                    ))
                }
                ParamDecl::File { file } => {
                    let p = base.join(&file);
                    let text = std::fs::read_to_string(&p).map_err(|e| {
                        format!("{shown}: [params] {name}: cannot read {}: {e}", p.display())
                    })?;
                    let values: Vec<String> = text
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(String::from)
                        .collect();
                    if values.is_empty() {
                        return Err(format!(
                            "{shown}: [params] {name}: {} has no values",
                            p.display()
                        ));
                    }
                    Generator::List(Arc::new(values))
                }
            };
            params.insert(name, generator);
        }
        let mut headers = Vec::new();
        for (name, value) in file.headers {
            let shown = at(value.span());
            let value = value.into_inner();
            header_name(&name).map_err(|why| format!("{shown}: [headers] {why}"))?;
            let value = header_value(&value, unexpanded)
                .map_err(|why| format!("{shown}: [headers] {name}: {why}"))?;
            headers.push((name, value));
        }
        let mut requests = Vec::new();
        for decl in file.request {
            let (line, _) = envparity_core::manifest::line_col(&text, decl.route.span().start);
            let route_text = decl.route.get_ref().trim().to_string();
            let (method, route) = route_text
                .split_once(' ')
                .map(|(m, r)| (m.to_ascii_uppercase(), r.trim().to_string()))
                .filter(|(m, r)| !m.is_empty() && r.starts_with('/'))
                .ok_or_else(|| format!("{shown}:{line}: route = \"{route_text}\": give a method and a path, `POST /cart/items`"))?;
            if let Some(s) = decl.share
                && !(s > 0.0 && s.is_finite())
            {
                return Err(format!("{shown}:{line}: share = {s}: give a share above 0"));
            }
            // A second template for one route would never be used: say so, not pick one.
            if let Some((.., first)) =
                requests
                    .iter()
                    .find(|(m, r, ..): &&(String, String, RequestDecl, u32)| {
                        *m == method && *r == route
                    })
            {
                return Err(format!(
                    "{shown}:{line}: `{method} {route}` has a [[request]] already, at line {first}: give each route one"
                ));
            }
            requests.push((method, route, decl, line));
        }
        Ok(Templates {
            headers,
            params,
            param_lines,
            requests,
            unexpanded,
        })
    }
}

/// A header value with its `${VAR}`s expanded (`unexpanded`: left as written). The error
/// names the variable, never its value: a value with a line break (a Secret's trailing
/// newline) would end the header.
fn header_value(text: &str, unexpanded: bool) -> Result<String, String> {
    let why = |e| match e {
        Unexpanded::Unset(v) => format!("${{{v}}} is not set in the environment"),
        Unexpanded::Unclosed => "a `${` has no `}`".to_string(),
    };
    let value = if unexpanded {
        // Checked as the pods will read it, every variable taken as set.
        envparity_core::vars::expand(text, |_| Some(String::new())).map_err(why)?;
        text.to_string()
    } else {
        envparity_core::vars::expand(text, |name| std::env::var(name).ok()).map_err(why)?
    };
    if value.contains(['\r', '\n']) {
        return Err(
            "its value holds a line break (a Secret's trailing newline?), which would end the header"
                .to_string(),
        );
    }
    Ok(value)
}

/// A header name as HTTP allows it; the ones the client writes itself are refused.
fn header_name(name: &str) -> Result<(), String> {
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!("header `{name}`: not a valid header name"));
    }
    if ["content-length", "transfer-encoding", "connection"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
    {
        return Err(format!("header {name}: envparity writes it itself"));
    }
    Ok(())
}

impl Mix {
    /// The mix a model calls for: its busiest routes by share.
    pub fn from_model(
        model: &TrafficModel,
        templates: &Templates,
        seed: u64,
    ) -> Result<Mix, String> {
        let mut routes: Vec<&envparity_core::traffic::RouteModel> =
            model.routes.iter().filter(|r| r.share > 0.0).collect();
        routes.sort_by(|a, b| b.share.total_cmp(&a.share));
        let mut chosen = Vec::new();
        let mut covered = 0.0;
        for r in routes {
            if chosen.len() >= MIX_ROUTES || covered >= MIX_SHARE {
                break;
            }
            covered += r.share;
            chosen.push(r);
        }
        if chosen.is_empty() {
            return Err("the model has no routes to send".to_string());
        }
        let asked = RefCell::default();
        let mut planned = Vec::new();
        for r in &chosen {
            let decl = templates
                .requests
                .iter()
                .find(|(m, route, _, _)| *m == r.method && *route == r.route);
            planned.push(plan_route(
                &r.method,
                &r.route,
                r.share,
                decl.map(|d| &d.2),
                r.mean_request_bytes,
                templates,
                &asked,
            )?);
        }
        for (method, route, _, line) in &templates.requests {
            if !chosen
                .iter()
                .any(|r| r.method == *method && r.route == *route)
            {
                let known: Vec<String> = chosen
                    .iter()
                    .take(8)
                    .map(|r| format!("{} {}", r.method, r.route))
                    .collect();
                return Err(format!(
                    "the requests file's line {line}: `{method} {route}` is not a route of the model's mix (the busiest are: {})",
                    known.join(", ")
                ));
            }
        }
        Ok(Mix::new(planned, covered.min(1.0), templates, &asked, seed))
    }

    /// Without a model: the requests file's routes by their shares, or the URL's path.
    pub fn single(path: &str, templates: &Templates, seed: u64) -> Result<Mix, String> {
        let asked = RefCell::default();
        let planned = if templates.requests.is_empty() {
            // The URL is sent as written, query values and all (they are the user's, not
            // a model's placeholders); results name it without its query, which may hold
            // a key.
            let route = path.split('?').next().unwrap_or(path);
            let mut single = plan_route("GET", route, 1.0, None, None, templates, &asked)?;
            single.path = vec![Part::Text(path.to_string())];
            vec![single]
        } else {
            templates
                .requests
                .iter()
                .map(|(m, r, d, _)| {
                    plan_route(
                        m,
                        r,
                        d.share.unwrap_or(1.0),
                        Some(d),
                        None,
                        templates,
                        &asked,
                    )
                })
                .collect::<Result<_, _>>()?
        };
        Ok(Mix::new(planned, 1.0, templates, &asked, seed))
    }

    /// `asked`: the placeholder names the routes asked values for.
    fn new(
        routes: Vec<PlannedRoute>,
        share_in_mix: f64,
        templates: &Templates,
        asked: &RefCell<BTreeSet<String>>,
        seed: u64,
    ) -> Mix {
        let asked = asked.borrow();
        let unfilled: Vec<String> = asked
            .iter()
            .filter(|name| *name != "*" && !templates.params.contains_key(*name))
            .map(|name| format!("{{{name}}}"))
            .collect();
        let unused_params = templates
            .param_lines
            .iter()
            .filter(|(name, _)| !asked.contains(*name))
            .map(|(name, at)| {
                let hint = if unfilled.is_empty() {
                    String::new()
                } else {
                    format!(" (placeholders without [params]: {})", unfilled.join(", "))
                };
                format!("{at}: [params] {name} is asked for by no route of the mix{hint}")
            })
            .collect();
        let total: f64 = routes.iter().map(|r| r.share).sum();
        let mut running = 0.0;
        let cumulative = routes
            .iter()
            .map(|r| {
                running += r.share / total;
                running
            })
            .collect();
        Mix {
            routes,
            cumulative,
            seed,
            headers: templates.headers.clone(),
            share_in_mix,
            unused_params,
        }
    }

    /// Headers every request carries (`[headers]`), kept apart from each request's own
    /// so they are not copied per request.
    pub fn common_headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The route of the run's request `i`.
    pub fn route_of(&self, i: u64) -> usize {
        route_of(self.seed, &self.cumulative, i)
    }

    /// The run's request `i`, whole.
    pub fn request(&self, i: u64) -> Request {
        let route = self.route_of(i);
        let r = &self.routes[route];
        let mut draw = Draw::for_request(self.seed, i);
        let mut path = String::with_capacity(64);
        render(&r.path, &mut draw, &mut path);
        let mut headers = Vec::with_capacity(r.headers.len());
        for (name, value) in &r.headers {
            let mut v = String::new();
            render(value, &mut draw, &mut v);
            headers.push((name.clone(), v));
        }
        let body = r
            .body
            .as_ref()
            .map(|b| {
                let mut s = String::new();
                render(b, &mut draw, &mut s);
                s.into_bytes()
            })
            .unwrap_or_default();
        Request {
            route,
            method: r.method.clone(),
            path,
            headers,
            body,
        }
    }
}

/// The mix's requests as HTTP/1.1 bytes for one `Host`. A route's fixed text (request
/// line, Host, the common and the route's own headers, a fixed body) is joined once per
/// run, so a request costs a copy and its drawn values, not a format per line.
#[derive(Clone, Debug)]
pub struct Http1Requests {
    seed: u64,
    cumulative: Vec<f64>,
    routes: Vec<Http1Route>,
}

#[derive(Clone, Debug)]
struct Http1Route {
    /// Through the last header, or through the body when the body is fixed.
    head: Vec<Part>,
    /// A body with drawn values: its `Content-Length` is known once it is drawn.
    drawn_body: Option<Vec<Part>>,
    /// A `HEAD` request: its response has no body, whatever its headers say.
    head_method: bool,
    /// Safe to send twice (RFC 9110 §9.2.2): GET, HEAD, PUT, DELETE, OPTIONS, TRACE.
    idempotent: bool,
}

/// What [`Http1Requests::write`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    pub route: usize,
    pub head_method: bool,
    /// Safe to send again on a new connection (RFC 9110 §9.2.2).
    pub idempotent: bool,
}

impl Mix {
    /// The requests as HTTP/1.1 for `host` (what the `Host` header says, unless the
    /// user's headers give one of their own).
    pub fn http1(&self, host: &str) -> Http1Requests {
        let is_host = |name: &String| name.eq_ignore_ascii_case("host");
        let common_host = self.headers.iter().any(|(n, _)| is_host(n));
        let routes = self
            .routes
            .iter()
            .map(|r| {
                let mut head = vec![Part::Text(format!("{} ", r.method))];
                head.extend(r.path.iter().cloned());
                let mut fixed = " HTTP/1.1\r\n".to_string();
                if !common_host && !r.headers.iter().any(|(n, _)| is_host(n)) {
                    let _ = write!(fixed, "Host: {host}\r\n");
                }
                fixed.push_str("User-Agent: envparity-load\r\nAccept: */*\r\n");
                for (name, value) in &self.headers {
                    let _ = write!(fixed, "{name}: {value}\r\n");
                }
                head.push(Part::Text(fixed));
                for (name, value) in &r.headers {
                    head.push(Part::Text(format!("{name}: ")));
                    head.extend(value.iter().cloned());
                    head.push(Part::Text("\r\n".to_string()));
                }
                let drawn_body = match &r.body {
                    Some(body) if body.iter().any(|p| matches!(p, Part::Value(_))) => {
                        Some(body.clone())
                    }
                    Some(body) => {
                        let text: String = body
                            .iter()
                            .map(|p| match p {
                                Part::Text(t) => t.as_str(),
                                Part::Value(_) => unreachable!("a fixed body"),
                            })
                            .collect();
                        if !text.is_empty() {
                            head.push(Part::Text(format!("Content-Length: {}\r\n", text.len())));
                        }
                        head.push(Part::Text(format!("\r\n{text}")));
                        None
                    }
                    None => {
                        head.push(Part::Text("\r\n".to_string()));
                        None
                    }
                };
                Http1Route {
                    head: join_text(head),
                    drawn_body,
                    head_method: r.method == "HEAD",
                    idempotent: matches!(
                        r.method.as_str(),
                        "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS" | "TRACE"
                    ),
                }
            })
            .collect();
        Http1Requests {
            seed: self.seed,
            cumulative: self.cumulative.clone(),
            routes,
        }
    }
}

impl Http1Requests {
    /// Writes the run's request `i` into `out` (cleared first): the same request, value
    /// for value, as [`Mix::request`] draws.
    pub fn write(&self, i: u64, out: &mut String) -> Written {
        out.clear();
        let route = route_of(self.seed, &self.cumulative, i);
        let r = &self.routes[route];
        let mut draw = Draw::for_request(self.seed, i);
        render(&r.head, &mut draw, out);
        if let Some(body) = &r.drawn_body {
            let at = out.len();
            render(body, &mut draw, out);
            let length = out.len() - at;
            // `Content-Length: N\r\n` and the blank line go before the body just drawn.
            let mut line = [0u8; 48];
            let used = {
                let mut cursor = &mut line[..];
                if length > 0 {
                    let _ = std::io::Write::write_fmt(
                        &mut cursor,
                        format_args!("Content-Length: {length}\r\n"),
                    );
                }
                let _ = std::io::Write::write_all(&mut cursor, b"\r\n");
                48 - cursor.len()
            };
            out.insert_str(at, std::str::from_utf8(&line[..used]).expect("ASCII"));
        }
        Written {
            route,
            head_method: r.head_method,
            idempotent: r.idempotent,
        }
    }
}

/// Adjacent text parts as one, so a fixed stretch is a single copy.
fn join_text(parts: Vec<Part>) -> Vec<Part> {
    let mut joined: Vec<Part> = Vec::with_capacity(parts.len());
    for part in parts {
        match (joined.last_mut(), part) {
            (Some(Part::Text(last)), Part::Text(t)) => last.push_str(&t),
            (_, Part::Text(t)) if t.is_empty() => {}
            (_, part) => joined.push(part),
        }
    }
    joined
}

/// The route of the run's request `i`: a hash of `i` placed on the shares' running sums.
fn route_of(seed: u64, cumulative: &[f64], i: u64) -> usize {
    let u = unit(mix64(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
    cumulative
        .partition_point(|c| *c <= u)
        .min(cumulative.len() - 1)
}

/// A route template (`/users/:id/orders?page`, `/items/{sku}`, `/files/*`) into parts.
fn plan_route(
    method: &str,
    route: &str,
    share: f64,
    decl: Option<&RequestDecl>,
    mean_request_bytes: Option<f64>,
    templates: &Templates,
    asked: &RefCell<BTreeSet<String>>,
) -> Result<PlannedRoute, String> {
    let generator = |name: &str, query: bool| -> Generator {
        asked.borrow_mut().insert(name.to_string());
        templates
            .params
            .get(name)
            .cloned()
            .unwrap_or_else(|| default_generator(name, query))
    };
    let template = decl.and_then(|d| d.path.clone());
    let path = match &template {
        Some(t) => parse_braces(t, &generator)?,
        None => parse_route(route, &generator),
    };
    let mut headers = Vec::new();
    let mut body = None;
    if let Some(d) = decl {
        for (name, value) in &d.headers {
            let parts = parse_braces(value, &generator)?
                .into_iter()
                .map(|part| match part {
                    Part::Text(text) => header_value(&text, templates.unexpanded).map(Part::Text),
                    value => Ok(value),
                })
                .collect::<Result<_, _>>()
                .map_err(|why| format!("{method} {route}: header {name}: {why}"))?;
            header_name(name).map_err(|why| format!("{method} {route}: {why}"))?;
            headers.push((name.clone(), parts));
        }
        if let Some(b) = &d.body {
            body = Some(parse_braces(b, &generator)?);
        }
    }
    if body.is_none() && matches!(method, "POST" | "PUT" | "PATCH") {
        // No template: a JSON body of the size Production's requests had, so the server
        // reads as many bytes (its handler will likely answer 4xx: give a template).
        let size = mean_request_bytes.unwrap_or(16.0).clamp(16.0, 1_048_576.0) as usize;
        let pad = size.saturating_sub(r#"{"envparity":""}"#.len());
        body = Some(vec![Part::Text(format!(
            r#"{{"envparity":"{}"}}"#,
            "x".repeat(pad)
        ))]);
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            headers.push((
                "Content-Type".to_string(),
                vec![Part::Text("application/json".to_string())],
            ));
        }
    }
    Ok(PlannedRoute {
        method: method.to_string(),
        route: route.to_string(),
        share,
        path,
        headers,
        body,
    })
}

fn default_generator(name: &str, query: bool) -> Generator {
    let n = name.to_ascii_lowercase();
    match n.as_str() {
        "id" => Generator::Int { lo: 1, hi: 100_000 },
        "uuid" => Generator::Uuid,
        "hash" => Generator::Hex(32),
        "date" => Generator::Date,
        "email" => Generator::Email,
        "token" => Generator::Token,
        "slug" => Generator::Slug,
        "page" | "limit" | "per_page" | "size" | "offset" if query => {
            Generator::Int { lo: 1, hi: 10 }
        }
        _ if n.ends_with("id") || n.ends_with("_id") => Generator::Int { lo: 1, hi: 100_000 },
        _ => Generator::Word,
    }
}

/// The model's route form: `:name` segments, `{name}` inside segments, `*`, and query
/// names after `?` (`?page&sort`) which get values.
fn parse_route(route: &str, generator: &dyn Fn(&str, bool) -> Generator) -> Vec<Part> {
    let (path, query) = match route.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (route, None),
    };
    let mut parts = Vec::new();
    let mut text = String::new();
    for (k, segment) in path.split('/').enumerate() {
        if k > 0 {
            text.push('/');
        }
        if let Some(name) = segment.strip_prefix(':') {
            parts.push(Part::Text(std::mem::take(&mut text)));
            parts.push(Part::Value(generator(name, false)));
        } else if segment == "*" {
            parts.push(Part::Text(std::mem::take(&mut text)));
            parts.push(Part::Value(generator("*", false)));
        } else if segment.contains('{') {
            parts.push(Part::Text(std::mem::take(&mut text)));
            parts.extend(
                parse_braces(segment, generator)
                    .unwrap_or_else(|_| vec![Part::Text(segment.to_string())]),
            );
        } else {
            text.push_str(segment);
        }
    }
    if let Some(q) = query {
        for (k, name) in q.split('&').filter(|n| !n.is_empty()).enumerate() {
            text.push(if k == 0 { '?' } else { '&' });
            let name = name.split('=').next().unwrap_or(name);
            text.push_str(name);
            text.push('=');
            parts.push(Part::Text(std::mem::take(&mut text)));
            parts.push(Part::Value(generator(name, true)));
        }
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    parts.retain(|p| !matches!(p, Part::Text(t) if t.is_empty()));
    parts
}

/// `{name}` placeholders in user text (paths, headers, bodies); `{{` is a literal brace.
fn parse_braces(
    text: &str,
    generator: &dyn Fn(&str, bool) -> Generator,
) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|p| p.1) == Some('{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek().map(|p| p.1) == Some('}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let end = text[i..]
                    .find('}')
                    .ok_or_else(|| format!("`{text}`: a `{{` without its `}}`"))?;
                let name = &text[i + 1..i + end];
                // `${VAR}` is the environment's, expanded later in the text parts only:
                // a secret's value is never read as a template (nor quoted in an error).
                if literal.ends_with('$') {
                    literal.push_str(&text[i..=i + end]);
                    while chars.next_if(|(j, _)| *j <= i + end).is_some() {}
                    continue;
                }
                // A JSON object in a body (`{"a": 1}`) is text, not a placeholder.
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    literal.push(c);
                    continue;
                }
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                parts.push(Part::Value(generator(name, false)));
                while let Some((j, _)) = chars.peek() {
                    if *j <= i + end {
                        chars.next();
                    } else {
                        break;
                    }
                }
            }
            _ => literal.push(c),
        }
    }
    if !literal.is_empty() {
        parts.push(Part::Text(literal));
    }
    Ok(parts)
}

fn render(parts: &[Part], draw: &mut Draw, out: &mut String) {
    for p in parts {
        match p {
            Part::Text(t) => out.push_str(t),
            Part::Value(g) => draw.value(g, out),
        }
    }
}

/// The values of one request, drawn from its own stream.
struct Draw(SplitMix);

impl Draw {
    /// The stream of request `i`'s values.
    fn for_request(seed: u64, i: u64) -> Draw {
        Draw(SplitMix::new(mix64(
            seed.wrapping_add(i).wrapping_mul(0xD6E8_FEB8_6659_FD93),
        )))
    }

    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn value(&mut self, g: &Generator, out: &mut String) {
        const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        match g {
            Generator::Int { lo, hi } => {
                // In u128: `0..u64::MAX` has 2^64 values.
                let span = u128::from(hi - lo) + 1;
                let _ = write!(out, "{}", lo + (u128::from(self.next()) % span) as u64);
            }
            Generator::Uuid => {
                let (a, b) = (self.next(), self.next());
                let _ = write!(
                    out,
                    "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                    a >> 32,
                    (a >> 16) & 0xffff,
                    a & 0xfff,
                    ((b >> 48) & 0x3fff) | 0x8000,
                    b & 0xffff_ffff_ffff
                );
            }
            Generator::Hex(n) => {
                let mut left = *n;
                while left > 0 {
                    let v = self.next();
                    let take = left.min(16);
                    let _ = write!(out, "{:016x}", v);
                    out.truncate(out.len() - (16 - take));
                    left -= take;
                }
            }
            Generator::Date => {
                let new_year = envparity_core::Date::new(2026, 1, 1).expect("a date");
                let day = new_year.add_days((self.next() % 365) as i64);
                let _ = write!(out, "{day}");
            }
            Generator::Email => {
                let _ = write!(out, "user{}@example.test", self.next() % 100_000);
            }
            Generator::Token => {
                for _ in 0..20 {
                    out.push(ALNUM[(self.next() % ALNUM.len() as u64) as usize] as char);
                }
            }
            Generator::Slug => {
                let _ = write!(out, "item-{}", self.next() % 100_000);
            }
            Generator::Word => {
                let _ = write!(out, "p{}", self.next() % 10_000);
            }
            Generator::List(values) => {
                out.push_str(&values[(self.next() % values.len() as u64) as usize])
            }
        }
    }
}

/// A uniform number in [0, 1).
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, route: &str, share: f64) -> envparity_core::traffic::RouteModel {
        envparity_core::traffic::RouteModel {
            method: method.into(),
            route: route.into(),
            requests: (share * 1000.0) as u64,
            share,
            status: BTreeMap::new(),
            latency: None,
            mean_bytes: None,
            mean_request_bytes: Some(60.0),
        }
    }

    fn model(routes: Vec<envparity_core::traffic::RouteModel>) -> TrafficModel {
        TrafficModel {
            format: String::new(),
            version: 1,
            lines: 0,
            requests: 1000,
            malformed: 0,
            malformed_samples: vec![],
            first: None,
            last: None,
            routes,
            rate: None,
            clients: 0,
            concurrency: None,
            sources: vec![],
        }
    }

    #[test]
    fn routes_are_drawn_by_their_shares() {
        let m = model(vec![
            route("GET", "/products/:id", 0.6),
            route("POST", "/checkout", 0.3),
            route("GET", "/", 0.1),
        ]);
        let mix = Mix::from_model(&m, &Templates::default(), 7).unwrap();
        let mut counts = [0u32; 3];
        for i in 0..100_000 {
            counts[mix.route_of(i)] += 1;
        }
        for (c, want) in counts.iter().zip([60_000.0, 30_000.0, 10_000.0]) {
            assert!((f64::from(*c) - want).abs() < 600.0, "{counts:?}");
        }
        // The same index, the same request: shards agree with a single run.
        let a = mix.request(12_345);
        let b = mix.request(12_345);
        assert_eq!((a.route, &a.path), (b.route, &b.path));
    }

    #[test]
    fn parameters_are_filled_by_their_kind() {
        let m = model(vec![route("GET", "/users/:id/orders/:uuid?page&sort", 1.0)]);
        let mix = Mix::from_model(&m, &Templates::default(), 1).unwrap();
        let r = mix.request(3);
        let rest = r.path.strip_prefix("/users/").unwrap();
        let (id, rest) = rest.split_once("/orders/").unwrap();
        assert!(id.parse::<u64>().is_ok(), "{}", r.path);
        let (uuid, query) = rest.split_once('?').unwrap();
        assert_eq!(uuid.len(), 36, "{}", r.path);
        assert!(
            query.starts_with("page=") && query.contains("&sort=p"),
            "{}",
            r.path
        );
        // Dates are days of 2026, every one of them drawn in time.
        let m = model(vec![route("GET", "/day/:date", 1.0)]);
        let mix = Mix::from_model(&m, &Templates::default(), 1).unwrap();
        let days: std::collections::BTreeSet<String> = (0..20_000)
            .map(|i| mix.request(i).path["/day/".len()..].to_string())
            .collect();
        assert_eq!(days.len(), 365);
        assert_eq!(days.first().map(String::as_str), Some("2026-01-01"));
        assert_eq!(days.last().map(String::as_str), Some("2026-12-31"));
        assert!(days.contains("2026-02-28") && !days.contains("2026-02-29"));
    }

    #[test]
    fn a_single_url_is_sent_as_written_and_named_without_its_query() {
        let mix = Mix::single("/search/42?q=shoes&key=abc", &Templates::default(), 1).unwrap();
        for i in 0..3 {
            let r = mix.request(i);
            assert_eq!(r.path, "/search/42?q=shoes&key=abc");
            assert_eq!(mix.routes[r.route].route, "/search/42");
        }
    }

    #[test]
    fn a_post_without_a_template_sends_a_body_of_productions_size() {
        let m = model(vec![route("POST", "/cart/items", 1.0)]);
        let r = Mix::from_model(&m, &Templates::default(), 1)
            .unwrap()
            .request(0);
        assert_eq!(r.body.len(), 60);
        assert!(
            r.headers
                .iter()
                .any(|(n, v)| n == "Content-Type" && v == "application/json")
        );
    }

    #[test]
    fn the_widest_range_draws_without_overflow() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("load.toml");
        std::fs::write(
            &file,
            "[params]\nid = \"0..18446744073709551615\"\n[[request]]\nroute = \"GET /a/:id\"\npath = \"/a/{id}\"\n",
        )
        .unwrap();
        let mix = Mix::single("/", &Templates::read(&file).unwrap(), 1).unwrap();
        let ids: std::collections::BTreeSet<String> =
            (0..20).map(|i| mix.request(i).path).collect();
        assert!(ids.len() > 15, "{ids:?}");
    }

    #[test]
    fn templates_fill_paths_headers_and_bodies_from_the_users_values() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("skus.txt"), "SKU-1\nSKU-2\n").unwrap();
        let file = dir.path().join("load.toml");
        std::fs::write(
            &file,
            r#"
[params]
id = "5..6"
sku = { file = "skus.txt" }
[[request]]
route = "POST /cart/items"
headers = { "Content-Type" = "application/json" }
body = '{"sku": "{sku}", "qty": {id}}'
[[request]]
route = "GET /products/:id"
"#,
        )
        .unwrap();
        let t = Templates::read(&file).unwrap();
        let m = model(vec![
            route("POST", "/cart/items", 0.5),
            route("GET", "/products/:id", 0.5),
        ]);
        let mix = Mix::from_model(&m, &t, 3).unwrap();
        for i in 0..50 {
            let r = mix.request(i);
            if r.method == "POST" {
                let body = String::from_utf8(r.body).unwrap();
                let allowed: Vec<String> = ["SKU-1", "SKU-2"]
                    .iter()
                    .flat_map(|s| [5, 6].map(|q| format!(r#"{{"sku": "{s}", "qty": {q}}}"#)))
                    .collect();
                assert!(allowed.contains(&body), "{body}");
            } else {
                assert!(
                    r.path == "/products/5" || r.path == "/products/6",
                    "{}",
                    r.path
                );
            }
        }
    }

    #[test]
    fn a_param_no_route_asks_for_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("load.toml");
        std::fs::write(
            &file,
            "[params]\nuser_id = \"1..9\"\nid = \"1..9\"\n[[request]]\nroute = \"GET /users/{userId}\"\n[[request]]\nroute = \"GET /items/:id\"\n",
        )
        .unwrap();
        let t = Templates::read(&file).unwrap();
        let mix = Mix::single("/", &t, 1).unwrap();
        let shown = file.display();
        assert_eq!(
            mix.unused_params,
            [format!(
                "{shown}:2: [params] user_id is asked for by no route of the mix (placeholders without [params]: {{userId}})"
            )]
        );
        // Every param asked for: nothing to say.
        let m = model(vec![
            route("GET", "/users/:user_id", 0.5),
            route("GET", "/items/:id", 0.5),
        ]);
        let t = Templates::read(&file).unwrap();
        let fine = Templates {
            requests: Vec::new(),
            ..t
        };
        assert!(
            Mix::from_model(&m, &fine, 1)
                .unwrap()
                .unused_params
                .is_empty()
        );
    }

    /// The request [`Mix::request`] draws, written as HTTP/1.1 line by line.
    fn http1_reference(mix: &Mix, i: u64, host: &str) -> String {
        let r = mix.request(i);
        let mut out = format!(
            "{} {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: envparity-load\r\nAccept: */*\r\n",
            r.method, r.path
        );
        for (name, value) in mix.common_headers().iter().chain(&r.headers) {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        if !r.body.is_empty() {
            out.push_str(&format!("Content-Length: {}\r\n", r.body.len()));
        }
        out.push_str("\r\n");
        out.push_str(std::str::from_utf8(&r.body).unwrap());
        out
    }

    #[test]
    fn http1_bytes_are_the_drawn_request_value_for_value() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("load.toml");
        std::fs::write(
            &file,
            r#"
[headers]
Authorization = "Bearer fixed"
[params]
id = "1..900"
[[request]]
route = "POST /cart/items"
headers = { "X-Trace" = "t-{id}", "Content-Type" = "application/json" }
body = '{"qty": {id}, "note": "{id}"}'
[[request]]
route = "PUT /fixed"
body = 'same every time'
[[request]]
route = "GET /products/:id"
[[request]]
route = "HEAD /health"
"#,
        )
        .unwrap();
        let t = Templates::read(&file).unwrap();
        let m = model(vec![
            route("POST", "/cart/items", 0.4),
            route("PUT", "/fixed", 0.2),
            route("GET", "/products/:id", 0.3),
            route("HEAD", "/health", 0.1),
        ]);
        let mix = Mix::from_model(&m, &t, 7).unwrap();
        let requests = mix.http1("qa.shop.test:8443");
        let mut out = String::new();
        let mut routes = std::collections::BTreeSet::new();
        for i in 0..400 {
            let written = requests.write(i, &mut out);
            assert_eq!(
                out,
                http1_reference(&mix, i, "qa.shop.test:8443"),
                "request {i}"
            );
            assert_eq!(written.route, mix.route_of(i));
            assert_eq!(
                written.head_method,
                mix.routes[written.route].method == "HEAD"
            );
            routes.insert(written.route);
        }
        assert_eq!(routes.len(), 4, "every route was written");
    }

    #[test]
    fn a_users_host_header_replaces_the_targets() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("load.toml");
        std::fs::write(&file, "[headers]\nhost = \"shop.internal\"\n").unwrap();
        let mix = Mix::single("/", &Templates::read(&file).unwrap(), 1).unwrap();
        let mut out = String::new();
        mix.http1("127.0.0.1:8080").write(0, &mut out);
        assert_eq!(
            out,
            "GET / HTTP/1.1\r\nUser-Agent: envparity-load\r\nAccept: */*\r\nhost: shop.internal\r\n\r\n"
        );
    }

    #[test]
    fn a_bad_requests_file_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("load.toml");
        std::fs::write(
            &file,
            "[[request]]\nroute = \"POST /a\"\n\n[[request]]\nroute = \"nothing\"\n",
        )
        .unwrap();
        let e = Templates::read(&file).unwrap_err();
        assert!(
            e.contains("load.toml:5") && e.contains("give a method and a path"),
            "{e}"
        );
        std::fs::write(&file, "[params]\nsku = [\"a\"]\nid = \"ten\"\n").unwrap();
        let e = Templates::read(&file).unwrap_err();
        assert!(
            e.contains("load.toml:3") && e.contains("give a range"),
            "{e}"
        );
        std::fs::write(&file, "[params]\n\nsku = []\n").unwrap();
        let e = Templates::read(&file).unwrap_err();
        assert!(e.contains("load.toml:3") && e.contains("empty"), "{e}");
        // Left for the pods to expand, a variable is still checked for its syntax.
        std::fs::write(&file, "[headers]\nAuthorization = \"Bearer ${TOKEN\"\n").unwrap();
        let e = Templates::read_unexpanded(&file).unwrap_err();
        assert!(e.contains("load.toml:2") && e.contains("has no `}`"), "{e}");
        std::fs::write(
            &file,
            "[headers]\nAuthorization = \"Bearer ${UNSET_HERE_1}\"\n",
        )
        .unwrap();
        assert!(Templates::read_unexpanded(&file).is_ok());
        std::fs::write(&file, "[headers]\nAccept = \"*/*\"\n\"Bad Name\" = \"x\"\n").unwrap();
        let e = Templates::read(&file).unwrap_err();
        assert!(e.contains("load.toml:3") && e.contains("[headers]"), "{e}");
        std::fs::write(&file, "colour = 1\n").unwrap();
        let e = Templates::read(&file).unwrap_err();
        assert!(
            e.contains("load.toml:1:1") && e.contains("unknown field"),
            "{e}"
        );
        // A route the model does not have.
        std::fs::write(&file, "[[request]]\nroute = \"GET /nope\"\n").unwrap();
        let t = Templates::read(&file).unwrap();
        let e = Mix::from_model(&model(vec![route("GET", "/", 1.0)]), &t, 0).unwrap_err();
        assert!(e.contains("line 2") && e.contains("GET /nope"), "{e}");
        // One route twice (methods are case-blind).
        std::fs::write(
            &file,
            "[[request]]\nroute = \"POST /a\"\nbody = \"x\"\n[[request]]\nroute = \"post /a\"\n",
        )
        .unwrap();
        let e = Templates::read(&file).unwrap_err();
        assert!(
            e.contains("load.toml:5") && e.contains("POST /a") && e.contains("line 2"),
            "{e}"
        );
    }
}
