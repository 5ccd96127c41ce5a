//! Histograms of a run and how results merge. The result type itself lives in
//! `envparity-core` (`load::RunResult`), so a snapshot can carry it and the core can
//! compare it with a traffic model; here are the parts that need the histograms: summaries,
//! the lossless encoding (HdrHistogram V2, base64), and `merge`, which adds shard results
//! histogram by histogram, so merged shards equal one run (no averaging of percentiles).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

pub use envparity_core::load::{
    RESULT_FORMAT, RESULT_VERSION, RouteResult, RunResult, Shard, Summary, Timeline, TimelinePoint,
};

/// Latencies in microseconds, 3 significant digits, up to a minute before the histogram
/// grows itself (a request may wait longer than its timeout when it was queued).
pub fn new_histogram() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds");
    h.auto(true);
    h
}

/// The timeline's per-step histograms: 2 significant digits (1 % buckets) keep hundreds
/// of steps small.
pub fn new_step_histogram() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 60_000_000, 2).expect("valid bounds");
    h.auto(true);
    h
}

pub fn summary(h: &Histogram<u64>) -> Summary {
    if h.is_empty() {
        return Summary::default();
    }
    let s = |us: u64| us as f64 / 1e6;
    Summary {
        p50: s(h.value_at_quantile(0.5)),
        p90: s(h.value_at_quantile(0.9)),
        p99: s(h.value_at_quantile(0.99)),
        p999: s(h.value_at_quantile(0.999)),
        max: s(h.max()),
        mean: h.mean() / 1e6,
    }
}

/// A histogram as base64 text.
pub fn encode(h: &Histogram<u64>) -> String {
    use hdrhistogram::serialization::Serializer;
    let mut bytes = Vec::new();
    hdrhistogram::serialization::V2Serializer::new()
        .serialize(h, &mut bytes)
        .expect("writing to memory cannot fail");
    base64_encode(&bytes)
}

/// The histogram `encode` wrote.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64_decode(text).ok_or("not base64")?;
    let mut h: Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("not a histogram: {e:?}"))?;
    h.auto(true);
    Ok(h)
}

/// Adds `text`'s histogram into `into`.
fn add(into: &mut Histogram<u64>, text: &str, what: &str) -> Result<(), String> {
    let h = decode(text).map_err(|e| format!("{what}: {e}"))?;
    into.add(&h).map_err(|e| format!("{what}: {e:?}"))
}

fn add_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_insert(0) += v;
    }
}

/// Merges the results of one run's shards (or of several runs of one plan) exactly: counts
/// add, histograms add, summaries are read again from the sums. Shards must come from the
/// same plan: the same target, start, shape and shard count, each index once.
///
/// `name` says which part an error is about (its file, for the caller who read one).
pub fn merge(parts: &[RunResult], name: &dyn Fn(usize) -> String) -> Result<RunResult, String> {
    let first = parts.first().ok_or("nothing to merge")?;
    let mut seen = std::collections::BTreeSet::new();
    for (k, p) in parts.iter().enumerate() {
        let which = name(k);
        if p.format != RESULT_FORMAT || p.version != RESULT_VERSION {
            return Err(format!(
                "{which}: not an envparity load result of version {RESULT_VERSION}"
            ));
        }
        if p.target != first.target
            || p.shape != first.shape
            || (p.start_unix - first.start_unix).abs() > 1e-3
        {
            return Err(format!(
                "{which}: another run (target, shape or start time differ): merge the shards of one run, started with one --start-at"
            ));
        }
        for s in &p.shards {
            if s.count != first.shards.first().map_or(1, |f| f.count) {
                return Err(format!(
                    "{which}: shard {}/{} of another shard count",
                    s.index, s.count
                ));
            }
            if !seen.insert(s.index) {
                return Err(format!(
                    "{which}: shard {}/{} appears twice",
                    s.index, s.count
                ));
            }
        }
        if p.shards.is_empty() && parts.len() > 1 {
            return Err(format!(
                "{which}: a whole run, not a shard: nothing to merge it with"
            ));
        }
    }
    let mut latency = new_histogram();
    let mut service = new_histogram();
    let mut out = first.clone();
    out.shards = parts
        .iter()
        .flat_map(|p| p.shards.iter().copied())
        .collect();
    out.shards.sort();
    let sum = |count: fn(&RunResult) -> u64| parts.iter().map(count).sum::<u64>();
    out.scheduled = sum(|p| p.scheduled);
    out.sent = sum(|p| p.sent);
    out.completed = sum(|p| p.completed);
    out.late = sum(|p| p.late);
    out.behind = sum(|p| p.behind);
    out.waited = sum(|p| p.waited);
    out.bytes_received = sum(|p| p.bytes_received);
    // Shards send side by side over the same window: their rates add.
    out.achieved_rate = parts.iter().map(|p| p.achieved_rate).sum();
    out.status.clear();
    out.errors.clear();
    // Routes by (method, route), in the first part's order, then any new ones.
    let mut routes: Vec<(RouteResult, Histogram<u64>, Histogram<u64>)> = Vec::new();
    // (method, route) → its place in `routes`: up to 200 routes in each of many shards.
    let mut slots: std::collections::HashMap<(&str, &str), usize> = Default::default();
    let mut points: Vec<(TimelinePoint, Histogram<u64>)> = Vec::new();
    for p in parts {
        add_counts(&mut out.status, &p.status);
        add_counts(&mut out.errors, &p.errors);
        for (k, v) in &p.error_samples {
            out.error_samples
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        add(&mut latency, &p.latency_histogram, "latency histogram")?;
        add(&mut service, &p.service_histogram, "service histogram")?;
        for r in &p.routes {
            let slot = match slots.get(&(r.method.as_str(), r.route.as_str())) {
                Some(&i) => i,
                None => {
                    slots.insert((&r.method, &r.route), routes.len());
                    let empty = RouteResult {
                        method: r.method.clone(),
                        route: r.route.clone(),
                        ..RouteResult::default()
                    };
                    routes.push((empty, new_histogram(), new_histogram()));
                    routes.len() - 1
                }
            };
            let (q, lh, sh) = &mut routes[slot];
            q.scheduled += r.scheduled;
            q.sent += r.sent;
            q.completed += r.completed;
            q.bytes_received += r.bytes_received;
            add_counts(&mut q.status, &r.status);
            add_counts(&mut q.errors, &r.errors);
            add(lh, &r.latency_histogram, "route latency histogram")?;
            add(sh, &r.service_histogram, "route service histogram")?;
        }
        if (p.timeline.step_seconds - first.timeline.step_seconds).abs() > 1e-9 {
            return Err("the shards' timelines have different steps".to_string());
        }
        for (k, t) in p.timeline.points.iter().enumerate() {
            if points.len() <= k {
                let empty = TimelinePoint {
                    target_rps: t.target_rps,
                    ..TimelinePoint::default()
                };
                points.push((empty, new_step_histogram()));
            }
            let (q, h) = &mut points[k];
            q.scheduled += t.scheduled;
            q.sent += t.sent;
            q.sends += t.sends;
            q.completed += t.completed;
            q.failed += t.failed;
            q.late += t.late;
            q.behind += t.behind;
            q.waited += t.waited;
            add(h, &t.histogram, "timeline histogram")?;
        }
    }
    out.latency = summary(&latency);
    out.service_time = summary(&service);
    out.latency_histogram = encode(&latency);
    out.service_histogram = encode(&service);
    out.routes = routes
        .into_iter()
        .map(|(mut r, lh, sh)| {
            r.latency = summary(&lh);
            r.service_time = summary(&sh);
            r.latency_histogram = encode(&lh);
            r.service_histogram = encode(&sh);
            r
        })
        .collect();
    out.routes
        .sort_by(|a, b| b.sent.cmp(&a.sent).then_with(|| a.route.cmp(&b.route)));
    out.timeline.points = points
        .into_iter()
        .map(|(mut t, h)| {
            t.latency = summary(&h);
            t.histogram = encode(&h);
            t
        })
        .collect();
    if out.shards.len() as u32 == out.shards.first().map_or(0, |s| s.count) {
        // Every shard is here: the merge is the whole run.
        out.shards.clear();
    }
    Ok(out)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let value = |c: u8| ALPHABET.iter().position(|a| *a == c).map(|p| p as u32);
    for chunk in text.as_bytes().chunks(4) {
        if chunk.len() != 4 {
            return None;
        }
        let mut n = 0u32;
        let mut pad = 0;
        for &c in chunk {
            n <<= 6;
            if c == b'=' {
                pad += 1;
            } else {
                n |= value(c)?;
            }
        }
        out.push((n >> 16) as u8);
        if pad < 2 {
            out.push((n >> 8) as u8);
        }
        if pad < 1 {
            out.push(n as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_survive_the_round_trip_exactly() {
        let mut h = new_histogram();
        for v in [1u64, 250, 999, 1_000_000, 3_000_000, 90_000_000] {
            h.record(v).unwrap();
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back, h);
        assert_eq!(base64_decode(&base64_encode(b"ab")).unwrap(), b"ab");
    }
}
