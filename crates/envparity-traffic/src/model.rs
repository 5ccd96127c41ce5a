//! The traffic model: what Production's traffic looks like, as a versioned JSON artifact.
//!
//! Built in one pass over the records ([`ModelBuilder::add`]); memory grows with the number
//! of routes and with the time span covered (one counter per second), never with lines.

use std::collections::BTreeMap;

use envparity_core::sketch::Hll;

use crate::format::Record;
use crate::route::{Mergeable, collapse, shape_bytes};
use crate::templates::RouteTemplates;

pub use envparity_core::traffic::*;

/// Latency histogram: for each power of two from 2^-14 s (61 µs) to 2^12 s (68 min), 64
/// linear sub-buckets, so a bucket is at most 1/64 (1.6 %) wide. The bucket comes straight
/// from the float's exponent and top mantissa bits (no logarithm per line); merges are
/// exact.
#[derive(Clone, Debug, Default)]
struct Histogram {
    counts: Vec<u32>,
    max: f64,
}

const MIN_EXPONENT: i64 = -14;
const MAX_EXPONENT: i64 = 12;
const SUB_BITS: u32 = 6;
const BUCKETS: usize = ((MAX_EXPONENT - MIN_EXPONENT) as usize) << SUB_BITS;

impl Histogram {
    fn bucket(x: f64) -> usize {
        let bits = x.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
        if x.is_nan() || x <= 0.0 || exponent < MIN_EXPONENT {
            return 0;
        }
        if exponent >= MAX_EXPONENT {
            return BUCKETS - 1;
        }
        let sub = (bits >> (52 - SUB_BITS)) as usize & ((1 << SUB_BITS) - 1);
        (((exponent - MIN_EXPONENT) as usize) << SUB_BITS) + sub
    }

    /// The upper edge of a bucket.
    fn upper(bucket: usize) -> f64 {
        let exponent = (bucket >> SUB_BITS) as i32 + MIN_EXPONENT as i32;
        let sub = (bucket & ((1 << SUB_BITS) - 1)) as f64;
        2f64.powi(exponent) * (1.0 + (sub + 1.0) / f64::from(1u32 << SUB_BITS))
    }

    fn add(&mut self, x: f64) {
        let b = Self::bucket(x);
        if self.counts.len() <= b {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] += 1;
        if x > self.max {
            self.max = x;
        }
    }

    fn merge(&mut self, other: &Histogram) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.max = self.max.max(other.max);
    }

    fn quantile(&self, q: f64) -> Option<f64> {
        let total: u64 = self.counts.iter().map(|c| u64::from(*c)).sum();
        if total == 0 {
            return None;
        }
        let rank = (q * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (b, c) in self.counts.iter().enumerate() {
            seen += u64::from(*c);
            if seen >= rank {
                // The bucket's upper edge, never above the largest value seen.
                return Some(Self::upper(b).min(self.max));
            }
        }
        Some(self.max)
    }
}

#[derive(Clone, Debug, Default)]
struct RouteStats {
    requests: u64,
    status: [u64; 6],
    latency: Histogram,
    bytes: u64,
    bytes_seen: u64,
    request_bytes: u64,
    request_bytes_seen: u64,
    /// The ids this route had before `collapse` merged shapes into it.
    ids: Vec<u32>,
}

impl Mergeable for RouteStats {
    fn requests(&self) -> u64 {
        self.requests
    }

    fn merge(&mut self, other: Self) {
        self.requests += other.requests;
        for (a, b) in self.status.iter_mut().zip(other.status) {
            *a += b;
        }
        self.latency.merge(&other.latency);
        self.bytes += other.bytes;
        self.bytes_seen += other.bytes_seen;
        self.request_bytes += other.request_bytes;
        self.request_bytes_seen += other.request_bytes_seen;
        self.ids.extend(other.ids);
    }
}

/// A counter per second, kept in blocks of 256 seconds: memory follows the time span
/// covered (sparse spans stay small), and the block of the previous line is cached
/// because logs are nearly in time order.
#[derive(Default)]
struct PerSecond<T> {
    index: hashbrown::HashMap<i64, usize>,
    blocks: Vec<(i64, Box<[T]>)>,
    last: Option<(i64, usize)>,
}

const BLOCK: i64 = 256;

impl<T: Copy + Default + std::ops::AddAssign + PartialEq> PerSecond<T> {
    fn slot(&mut self, second: i64) -> &mut T {
        let block = second.div_euclid(BLOCK);
        let i = match self.last {
            Some((b, i)) if b == block => i,
            _ => {
                let blocks = &mut self.blocks;
                let i = *self.index.entry(block).or_insert_with(|| {
                    blocks.push((block, vec![T::default(); BLOCK as usize].into_boxed_slice()));
                    blocks.len() - 1
                });
                self.last = Some((block, i));
                i
            }
        };
        &mut self.blocks[i].1[second.rem_euclid(BLOCK) as usize]
    }

    /// Seconds with a non-zero value.
    fn iter(&self) -> impl Iterator<Item = (i64, T)> + '_ {
        self.blocks.iter().flat_map(|(block, values)| {
            values
                .iter()
                .enumerate()
                .filter(|(_, v)| **v != T::default())
                .map(move |(i, v)| (block * BLOCK + i as i64, *v))
        })
    }

    fn merge(&mut self, other: &PerSecond<T>) {
        for (second, v) in other.iter() {
            *self.slot(second) += v;
        }
    }

    fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

/// Requests per (time bucket, route id), to tell which routes made a spike. Buckets start
/// at 10 s and double whenever the map outgrows `MIX_CAP`, so memory stays bounded.
#[derive(Default)]
struct RouteMix {
    width: i64,
    counts: hashbrown::HashMap<(i64, u32), u32>,
    /// The bucket lines are arriving in, counted per route id in a plain vector and
    /// folded into `counts` when the bucket changes (logs are nearly in time order).
    pending_bucket: Option<i64>,
    pending: Vec<u32>,
    touched: Vec<u32>,
}

const MIX_CAP: usize = 1 << 20;
const MIX_WIDTH: i64 = 10;

impl RouteMix {
    /// One request of route `id` at `second`.
    fn add_one(&mut self, second: i64, id: u32) {
        if self.width == 0 {
            self.width = MIX_WIDTH;
        }
        let bucket = second.div_euclid(self.width);
        if self.pending_bucket != Some(bucket) {
            self.flush();
            self.pending_bucket = Some(bucket);
        }
        let i = id as usize;
        if self.pending.len() <= i {
            self.pending.resize(i + 1, 0);
        }
        if self.pending[i] == 0 {
            self.touched.push(id);
        }
        self.pending[i] += 1;
    }

    fn flush(&mut self) {
        let Some(bucket) = self.pending_bucket.take() else {
            return;
        };
        let width = self.width;
        for id in std::mem::take(&mut self.touched) {
            let n = std::mem::take(&mut self.pending[id as usize]);
            self.add(bucket * width, id, n);
        }
    }

    fn add(&mut self, second: i64, id: u32, n: u32) {
        if self.width == 0 {
            self.width = MIX_WIDTH;
        }
        *self
            .counts
            .entry((second.div_euclid(self.width), id))
            .or_insert(0) += n;
        if self.counts.len() > MIX_CAP {
            self.widen(self.width * 2);
        }
    }

    fn widen(&mut self, width: i64) {
        self.flush();
        if width <= self.width {
            return;
        }
        let factor = width / self.width.max(1);
        let mut wider = hashbrown::HashMap::with_capacity(self.counts.len() / 2);
        for ((bucket, id), n) in self.counts.drain() {
            *wider.entry((bucket.div_euclid(factor), id)).or_insert(0) += n;
        }
        self.counts = wider;
        self.width = width;
    }
}

/// Builds a model from records, one at a time.
#[derive(Default)]
pub struct ModelBuilder {
    lines: u64,
    malformed: u64,
    samples: Vec<Malformed>,
    /// By `METHOD shape`: one key, looked up with a reused buffer, no allocation per line.
    routes: hashbrown::HashMap<Box<[u8]>, RouteStats>,
    per_second: PerSecond<u32>,
    in_flight: PerSecond<f64>,
    mix: RouteMix,
    clients: Hll,
    first: Option<f64>,
    last: Option<f64>,
    scratch: Vec<u8>,
    key: Vec<u8>,
    templates: Option<std::sync::Arc<RouteTemplates>>,
    sources: Vec<LogSource>,
}

impl ModelBuilder {
    pub fn new() -> Self {
        ModelBuilder::default()
    }

    /// A builder that names routes by the user's templates first, and by their look only
    /// where no template matches.
    pub fn with_templates(templates: Option<std::sync::Arc<RouteTemplates>>) -> Self {
        ModelBuilder {
            templates: templates.filter(|t| !t.is_empty()),
            ..ModelBuilder::default()
        }
    }

    /// A line that could not be read: counted, and the first 20 kept with where and why.
    pub fn malformed(&mut self, file: &str, line: u64, why: &str) {
        self.lines += 1;
        self.malformed += 1;
        if self.samples.len() < 20 {
            self.samples.push(Malformed {
                file: file.to_string(),
                line,
                why: why.to_string(),
            });
        }
    }

    /// A parsed request. `time_is_start`: whether the record's time is when it began.
    pub fn add(&mut self, r: &Record, time_is_start: bool) {
        self.lines += 1;
        let method = r.method;
        let templated = self.templates.as_ref().and_then(|t| {
            let path = path_part(r.target);
            t.find(r.method, path)
                .map(|template| (template, query_part(r.target)))
        });
        match templated {
            Some((template, query)) => {
                // The template names the path; the query keeps its names, as in `shape`.
                shape_bytes(query, &mut self.scratch);
                let names = self.scratch.strip_prefix(b"/").unwrap_or(&self.scratch);
                self.key.clear();
                self.key.extend_from_slice(method);
                self.key.push(b' ');
                self.key.extend_from_slice(template.as_bytes());
                self.key.extend_from_slice(names);
            }
            None => {
                shape_bytes(r.target, &mut self.scratch);
                self.key.clear();
                self.key.extend_from_slice(method);
                self.key.push(b' ');
                self.key.extend_from_slice(&self.scratch);
            }
        }
        let next_id = self.routes.len() as u32;
        let stats = match self.routes.get_mut(self.key.as_slice()) {
            Some(s) => s,
            None => self
                .routes
                .entry(self.key.as_slice().into())
                .or_insert_with(|| RouteStats {
                    ids: vec![next_id],
                    ..RouteStats::default()
                }),
        };
        stats.requests += 1;
        stats.status[usize::from(r.status / 100).min(5)] += 1;
        if let Some(d) = r.duration {
            stats.latency.add(d);
        }
        if let Some(b) = r.bytes {
            stats.bytes += b;
            stats.bytes_seen += 1;
        }
        if let Some(b) = r.request_bytes {
            stats.request_bytes += b;
            stats.request_bytes_seen += 1;
        }
        let id = stats.ids[0];
        if let Some(client) = r.client {
            self.clients.insert(client);
        }
        if let Some(t) = r.time {
            // The log's time is when the request ended unless the format says otherwise.
            let start = if time_is_start {
                t
            } else {
                t - r.duration.unwrap_or(0.0)
            };
            self.first = Some(self.first.map_or(start, |f| f.min(start)));
            self.last = Some(self.last.map_or(start, |l| l.max(start)));
            let second = floor(start);
            *self.per_second.slot(second) += 1;
            self.mix.add_one(second, id);
            if let Some(d) = r.duration {
                // Time in flight, spread over the seconds it covers.
                let mut at = start;
                let end = start + d;
                while at < end {
                    let second = floor(at);
                    let until = ((second + 1) as f64).min(end);
                    *self.in_flight.slot(second) += until - at;
                    at = until;
                }
            }
        }
    }

    /// Records that `file` was read as `format`.
    pub fn source(&mut self, file: &str, format: &str) {
        self.sources.push(LogSource {
            file: file.to_string(),
            format: format.to_string(),
        });
    }

    /// Lines this builder has read (parsed or not).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Adds `by` to the line numbers of the malformed samples: a builder that read the
    /// second half of a file numbered its lines from the half's start.
    pub fn shift_lines(&mut self, by: u64) {
        for sample in &mut self.samples {
            sample.line += by;
        }
    }

    /// Folds another builder (another file, read on another thread) into this one.
    pub fn merge(&mut self, other: ModelBuilder) {
        self.lines += other.lines;
        self.malformed += other.malformed;
        self.sources.extend(other.sources);
        for sample in other.samples {
            if self.samples.len() < 20 {
                self.samples.push(sample);
            }
        }
        // The other builder numbered its routes itself: renumber them into ours.
        let mut renumber: hashbrown::HashMap<u32, u32> = hashbrown::HashMap::new();
        for (key, stats) in other.routes {
            let theirs = stats.ids[0];
            match self.routes.get_mut(&key) {
                Some(mine) => {
                    renumber.insert(theirs, mine.ids[0]);
                    let ids = std::mem::take(&mut mine.ids);
                    mine.merge(RouteStats {
                        ids: Vec::new(),
                        ..stats
                    });
                    mine.ids = ids;
                }
                None => {
                    let id = self.routes.len() as u32;
                    renumber.insert(theirs, id);
                    self.routes.insert(
                        key,
                        RouteStats {
                            ids: vec![id],
                            ..stats
                        },
                    );
                }
            }
        }
        self.per_second.merge(&other.per_second);
        self.in_flight.merge(&other.in_flight);
        self.mix.flush();
        let mut theirs = other.mix;
        theirs.flush();
        let width = self.mix.width.max(theirs.width);
        self.mix.widen(width);
        theirs.widen(width);
        for ((bucket, id), n) in theirs.counts {
            let id = renumber.get(&id).copied().unwrap_or(id);
            self.mix.add(bucket * width.max(1), id, n);
        }
        self.clients.merge(&other.clients);
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, other.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    pub fn finish(self) -> TrafficModel {
        let requests: u64 = self.routes.values().map(|s| s.requests).sum();
        let routes: BTreeMap<(String, String), RouteStats> = self
            .routes
            .into_iter()
            .map(|(key, s)| {
                // Repaired to text once per route, not once per line.
                let key = String::from_utf8_lossy(&key);
                let (m, p) = key.split_once(' ').unwrap_or(("?", &key));
                ((m.to_string(), p.to_string()), s)
            })
            .collect();
        let collapsed = collapse(routes);
        // Route id (before collapsing) → index in the model's route list.
        let mut owner: hashbrown::HashMap<u32, (String, String)> = hashbrown::HashMap::new();
        for (key, s) in &collapsed {
            for id in &s.ids {
                owner.insert(*id, key.clone());
            }
        }
        let mut routes: Vec<RouteModel> = collapsed
            .into_iter()
            .map(|((method, route), s)| RouteModel {
                method,
                route,
                requests: s.requests,
                share: s.requests as f64 / requests.max(1) as f64,
                status: ["1xx", "2xx", "3xx", "4xx", "5xx"]
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| s.status[i + 1] > 0)
                    .map(|(i, name)| (name.to_string(), s.status[i + 1]))
                    .collect(),
                latency: s.latency.quantile(0.5).map(|p50| Latency {
                    p50,
                    p90: s.latency.quantile(0.9).unwrap_or(p50),
                    p99: s.latency.quantile(0.99).unwrap_or(p50),
                    max: s.latency.max,
                }),
                mean_bytes: (s.bytes_seen > 0).then(|| s.bytes as f64 / s.bytes_seen as f64),
                mean_request_bytes: (s.request_bytes_seen > 0)
                    .then(|| s.request_bytes as f64 / s.request_bytes_seen as f64),
            })
            .collect();
        routes.sort_by(|a, b| {
            b.requests
                .cmp(&a.requests)
                .then_with(|| a.route.cmp(&b.route))
                .then_with(|| a.method.cmp(&b.method))
        });
        let mut mix = self.mix;
        mix.flush();
        let mut rate = rate_model(&self.per_second, self.first, self.last);
        if let Some(rate) = &mut rate {
            spike_mixes(rate, &mix, &owner, &routes);
        }
        let concurrency = (!self.in_flight.is_empty()).then(|| {
            let span = rate.as_ref().map_or(1, |r| r.span_seconds).max(1);
            let (peak_at, peak) = self
                .in_flight
                .iter()
                .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
                .map(|(s, v)| (s as f64, v))
                .unwrap_or((0.0, 0.0));
            Concurrency {
                average: round3(self.in_flight.iter().map(|(_, v)| v).sum::<f64>() / span as f64),
                peak: round3(peak),
                peak_at,
            }
        });
        TrafficModel {
            format: MODEL_FORMAT.to_string(),
            version: MODEL_VERSION,
            lines: self.lines,
            requests,
            malformed: self.malformed,
            malformed_samples: self.samples,
            first: self.first,
            last: self.last,
            routes,
            rate,
            clients: self.clients.estimate(),
            concurrency,
            sources: self.sources,
        }
    }
}

/// `x.floor() as i64` without a call into libm (x86-64 without SSE4.1 has no floor
/// instruction, and this runs once or twice per log line).
#[inline]
fn floor(x: f64) -> i64 {
    let t = x as i64;
    if (t as f64) > x { t - 1 } else { t }
}

/// `/a/b?x=1` → `/a/b`.
fn path_part(target: &[u8]) -> &[u8] {
    let path = memchr::memchr(b'?', target).map_or(target, |i| &target[..i]);
    // Absolute-form targets (`http://host/path`) keep their path only.
    match memchr::memmem::find(path, b"://") {
        Some(i) => memchr::memchr(b'/', &path[i + 3..]).map_or(b"/", |j| &path[i + 3 + j..]),
        None => path,
    }
}

/// `/a/b?x=1` → `?x=1`, or empty.
fn query_part(target: &[u8]) -> &[u8] {
    memchr::memchr(b'?', target).map_or(b"", |i| &target[i..])
}

/// Spikes at least this far apart are told apart.
const SPIKE_GAP: i64 = 60;
/// Routes listed per spike.
const SPIKE_ROUTES: usize = 5;

/// Which routes carried each spike: the busiest routes in the spike's bucket.
fn spike_mixes(
    rate: &mut RateModel,
    mix: &RouteMix,
    owner: &hashbrown::HashMap<u32, (String, String)>,
    routes: &[RouteModel],
) {
    if mix.width == 0 {
        return;
    }
    let usual: BTreeMap<(&str, &str), f64> = routes
        .iter()
        .map(|r| ((r.method.as_str(), r.route.as_str()), r.share))
        .collect();
    for spike in &mut rate.spikes {
        let bucket = (spike.at as i64).div_euclid(mix.width);
        let mut counts: BTreeMap<&(String, String), u64> = BTreeMap::new();
        for ((b, id), n) in &mix.counts {
            if *b == bucket
                && let Some(key) = owner.get(id)
            {
                *counts.entry(key).or_insert(0) += u64::from(*n);
            }
        }
        let total: u64 = counts.values().sum();
        let mut busiest: Vec<(&(String, String), u64)> = counts.into_iter().collect();
        busiest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        spike.window_seconds = mix.width as u64;
        spike.routes = busiest
            .into_iter()
            .take(SPIKE_ROUTES)
            .map(|((method, route), n)| SpikeRoute {
                method: method.clone(),
                route: route.clone(),
                share: round3(n as f64 / total.max(1) as f64),
                usual_share: round3(
                    usual
                        .get(&(method.as_str(), route.as_str()))
                        .copied()
                        .unwrap_or(0.0),
                ),
            })
            .collect();
    }
}

/// A step for the rate curve: at most `CURVE_POINTS` points, on a round number of seconds.
fn curve_step(span: u64) -> u64 {
    const STEPS: [u64; 14] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 86_400,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| span.div_ceil(*s) <= CURVE_POINTS)
        .unwrap_or_else(|| span.div_ceil(CURVE_POINTS))
}

const CURVE_POINTS: u64 = 1440;

fn rate_model(
    per_second: &PerSecond<u32>,
    first: Option<f64>,
    last: Option<f64>,
) -> Option<RateModel> {
    let (first, last) = (first?.floor() as i64, last?.floor() as i64);
    let span = (last - first + 1).max(1) as u64;
    let seconds: Vec<(i64, u32)> = per_second.iter().collect();
    let total: u64 = seconds.iter().map(|(_, c)| u64::from(*c)).sum();
    let average = total as f64 / span as f64;
    let mut busiest = seconds.clone();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let (peak_at, peak) = busiest.first().copied().unwrap_or((first, 0));
    let mut dispersion = BTreeMap::new();
    for window in [1i64, 10, 60] {
        let windows = (span as i64 + window - 1) / window;
        if windows < 2 {
            continue;
        }
        let mut counts: hashbrown::HashMap<i64, u64> = hashbrown::HashMap::new();
        for (s, c) in &seconds {
            *counts.entry((s - first) / window).or_insert(0) += u64::from(*c);
        }
        let mean = total as f64 / windows as f64;
        // Windows without requests count as zeros.
        let sum_sq: f64 = counts
            .values()
            .map(|c| (*c as f64 - mean).powi(2))
            .sum::<f64>()
            + (windows as usize - counts.len()) as f64 * mean * mean;
        let variance = sum_sq / windows as f64;
        if mean > 0.0 {
            dispersion.insert(format!("{window}s"), round3(variance / mean));
        }
    }
    let mut daily = vec![0.0; 24];
    let mut weekly = vec![0.0; 7];
    for (s, c) in &seconds {
        let hour = s.rem_euclid(86_400) / 3600;
        // 1970-01-01 was a Thursday: Monday-first index 3.
        let weekday = (s.div_euclid(86_400) + 3).rem_euclid(7);
        daily[hour as usize] += f64::from(*c);
        weekly[weekday as usize] += f64::from(*c);
    }
    for v in daily.iter_mut().chain(weekly.iter_mut()) {
        *v = round3(*v / total.max(1) as f64);
    }
    let step = curve_step(span);
    let mut counts = vec![0u64; span.div_ceil(step) as usize];
    for (s, c) in &seconds {
        if let Some(slot) = counts.get_mut(((s - first) as u64 / step) as usize) {
            *slot += u64::from(*c);
        }
    }
    // Distinct spikes: the busiest seconds, skipping any within a minute of one taken.
    let mut spikes: Vec<Spike> = Vec::new();
    for (s, c) in &busiest {
        if spikes.len() == 5 {
            break;
        }
        if spikes.iter().all(|k| (k.at as i64 - s).abs() >= SPIKE_GAP) {
            spikes.push(Spike {
                at: *s as f64,
                requests: u64::from(*c),
                routes: Vec::new(),
                window_seconds: 0,
            });
        }
    }
    Some(RateModel {
        span_seconds: span,
        average_rps: round3(average),
        peak_rps: u64::from(peak),
        peak_at: peak_at as f64,
        peak_to_average: round3(f64::from(peak) / average.max(f64::MIN_POSITIVE)),
        dispersion,
        daily,
        weekly,
        spikes,
        curve: Some(Curve {
            start: first as f64,
            step_seconds: step,
            counts,
        }),
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::LogFormat;

    #[test]
    fn a_small_log_gives_the_counts_done_by_hand() {
        let f = LogFormat::nginx(
            r#"$remote_addr [$time_local] "$request" $status $body_bytes_sent $request_time"#,
        )
        .unwrap();
        let mut b = ModelBuilder::new();
        let lines = [
            r#"10.0.0.1 [01/Jan/2026:00:00:01 +0000] "GET /users/1?x=secret HTTP/1.1" 200 100 0.500"#,
            r#"10.0.0.2 [01/Jan/2026:00:00:01 +0000] "GET /users/2 HTTP/1.1" 200 300 0.100"#,
            r#"10.0.0.1 [01/Jan/2026:00:00:02 +0000] "POST /checkout HTTP/1.1" 502 0 2.000"#,
            r#"10.0.0.3 [01/Jan/2026:00:00:05 +0000] "GET /users/me HTTP/1.1" 304 0 0.010"#,
        ];
        for (i, line) in lines.iter().enumerate() {
            match f.parse(line.as_bytes()) {
                Ok(r) => b.add(&r, f.time_is_start),
                Err(why) => b.malformed("a.log", i as u64 + 1, why),
            }
        }
        b.malformed("a.log", 5, "the line does not match the log format");
        let m = b.finish();
        assert_eq!((m.lines, m.requests, m.malformed), (5, 4, 1));
        assert_eq!(m.clients, 3);
        let users = m.routes.iter().find(|r| r.route == "/users/:id").unwrap();
        assert_eq!(
            (users.requests, users.share),
            (1, 0.25),
            "query names differ: ?x"
        );
        assert!(m.routes.iter().any(|r| r.route == "/users/:id?x"));
        assert!(m.routes.iter().any(|r| r.route == "/users/me"));
        let checkout = m.routes.iter().find(|r| r.route == "/checkout").unwrap();
        assert_eq!(checkout.status.get("5xx"), Some(&1));
        let lat = checkout.latency.as_ref().unwrap();
        assert!((lat.p50 - 2.0).abs() < 0.05, "{lat:?}");
        let rate = m.rate.as_ref().unwrap();
        // Start times: 00:00:00.5, 00:00:00.9, 00:00:00 (2 s before 02), 00:00:04.99.
        assert_eq!(rate.peak_rps, 3);
        assert_eq!(rate.span_seconds, 5);
        let json = serde_json::to_string(&m).unwrap();
        assert!(
            !json.contains("secret") && !json.contains("10.0.0"),
            "{json}"
        );
    }

    #[test]
    fn latency_quantiles_come_from_the_histogram() {
        let mut h = Histogram::default();
        for i in 1..=1000 {
            h.add(f64::from(i) / 1000.0);
        }
        let p50 = h.quantile(0.5).unwrap();
        assert!((p50 - 0.5).abs() < 0.5 * 0.03, "{p50}");
        assert_eq!(h.quantile(1.0), Some(1.0));
    }
}
