//! The traffic model: what an environment's traffic looks like, fitted from its access
//! logs by `envparity-traffic`, and how two models compare (the traffic facet).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const MODEL_FORMAT: &str = "envparity-traffic-model";
pub const MODEL_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrafficModel {
    pub format: String,
    pub version: u32,
    pub lines: u64,
    pub requests: u64,
    pub malformed: u64,
    /// Up to 20 malformed lines: where, and why (never the line itself).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub malformed_samples: Vec<Malformed>,
    /// Seconds since 1970 of the first and last request start.
    pub first: Option<f64>,
    pub last: Option<f64>,
    pub routes: Vec<RouteModel>,
    pub rate: Option<RateModel>,
    /// Distinct client addresses (estimated); the addresses themselves are not kept.
    pub clients: u64,
    /// Requests in flight, averaged over each second (needs durations in the log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
    /// The files read, and the format each was read as.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<LogSource>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LogSource {
    pub file: String,
    pub format: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Malformed {
    pub file: String,
    pub line: u64,
    pub why: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RouteModel {
    pub method: String,
    /// `/users/:id/orders?page`.
    pub route: String,
    pub requests: u64,
    /// Of all requests.
    pub share: f64,
    /// `2xx`, `3xx`, `4xx`, `5xx` counts.
    pub status: BTreeMap<String, u64>,
    /// Seconds: p50, p90, p99, max (when the log has durations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    /// Mean response size in bytes (when logged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_bytes: Option<f64>,
    /// Mean request size in bytes (when logged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_request_bytes: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RateModel {
    /// Seconds between the first and last request, plus one.
    pub span_seconds: u64,
    pub average_rps: f64,
    pub peak_rps: u64,
    /// When the peak second began.
    pub peak_at: f64,
    pub peak_to_average: f64,
    /// Index of dispersion (variance / mean of the request count per window) for 1 s,
    /// 10 s and 60 s windows: 1 for Poisson arrivals, far above for bursty traffic.
    pub dispersion: BTreeMap<String, f64>,
    /// Share of requests per hour of day (UTC), 24 values.
    pub daily: Vec<f64>,
    /// Share of requests per day of week (UTC, Monday first), 7 values.
    pub weekly: Vec<f64>,
    /// The busiest seconds, busiest first, at least a minute apart.
    pub spikes: Vec<Spike>,
    /// Requests per step over the whole span: the curve a load test replays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<Curve>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Spike {
    pub at: f64,
    pub requests: u64,
    /// The routes busiest around the spike (within `window_seconds`), with their share
    /// there and over the whole log.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<SpikeRoute>,
    #[serde(default)]
    pub window_seconds: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SpikeRoute {
    pub method: String,
    pub route: String,
    pub share: f64,
    pub usual_share: f64,
}

/// Request counts per step: `counts[i]` began in `[start + i·step, start + (i+1)·step)`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Curve {
    pub start: f64,
    pub step_seconds: u64,
    pub counts: Vec<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Concurrency {
    pub average: f64,
    pub peak: f64,
    pub peak_at: f64,
}

/// An environment's traffic in brief: the rate curve and the busiest routes, what the
/// HTML report draws.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrafficOverview {
    pub environment: String,
    pub requests: u64,
    pub average_rps: f64,
    pub peak_rps: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<Curve>,
    /// The busiest routes, busiest first.
    pub routes: Vec<RouteShare>,
    /// How many routes the model has (the list above stops at 12).
    pub route_count: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RouteShare {
    pub method: String,
    pub route: String,
    pub share: f64,
}

/// Routes an overview lists.
const OVERVIEW_ROUTES: usize = 12;

pub fn overview(environment: &str, m: &TrafficModel) -> TrafficOverview {
    TrafficOverview {
        environment: environment.to_string(),
        requests: m.requests,
        average_rps: m.rate.as_ref().map_or(0.0, |r| r.average_rps),
        peak_rps: m.rate.as_ref().map_or(0, |r| r.peak_rps),
        curve: m.rate.as_ref().and_then(|r| r.curve.clone()),
        routes: m
            .routes
            .iter()
            .take(OVERVIEW_ROUTES)
            .map(|r| RouteShare {
                method: r.method.clone(),
                route: r.route.clone(),
                share: r.share,
            })
            .collect(),
        route_count: m.routes.len() as u64,
    }
}

/// Seconds since 1970 as `2026-11-23 10:00:05 UTC`.
pub fn utc(seconds: f64) -> String {
    let s = seconds.floor() as i64;
    let days = s.div_euclid(86_400);
    let rem = s.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Routes below this share of the reference's traffic are not compared one by one.
pub const MIN_ROUTE_SHARE: f64 = 0.01;
/// A route whose share in the compared environment is under the reference's divided by
/// this is under-exercised.
pub const SHARE_FACTOR: f64 = 5.0;

/// Compares every environment's traffic model with the reference's: routes the reference
/// serves that the other never (or hardly) exercised, and a peak the other never reached.
pub(crate) fn compare_traffic(
    snapshots: &[crate::snapshot::Snapshot],
    reference: usize,
    rules: &crate::rules::Rules,
    today: crate::date::Date,
    expect_used: &[std::sync::atomic::AtomicBool],
) -> (Vec<crate::finding::Finding>, u64) {
    use crate::finding::{Class, Facet, Finding, Side};
    let mut findings = Vec::new();
    let mut compared = 0u64;
    let b = &snapshots[reference];
    let side = |env: &str, value: Option<String>| Side {
        env: env.to_string(),
        value,
        location: None,
    };
    let mut push = |key: String,
                    class: Class,
                    message: String,
                    va: Option<String>,
                    vb: Option<String>,
                    ea: &str,
                    eb: &str| {
        let mut f = Finding {
            facet: Facet::Traffic,
            class,
            severity: class.default_severity(),
            key: key.clone(),
            group: "traffic".to_string(),
            resource: None,
            a: side(ea, va),
            b: side(eb, vb),
            message,
            reason: None,
            covers: 1,
        };
        crate::compare::apply_rules(rules, today, expect_used, &mut f, vec![key]);
        findings.push(f);
    };
    for (i, a) in snapshots.iter().enumerate() {
        if i == reference {
            continue;
        }
        let (ea, eb) = (a.environment.as_str(), b.environment.as_str());
        match (&a.traffic, &b.traffic) {
            (None, None) => {}
            // A side whose logs could not be read is an `unreadable` finding already.
            (Some(_), None) if !b.traffic_errors.is_empty() => {}
            (None, Some(_)) if !a.traffic_errors.is_empty() => {}
            // A load run stands for the environment's traffic: it is compared instead.
            (None, Some(_)) if a.load.is_some() => {}
            (Some(_), None) | (None, Some(_)) => {
                compared += 1;
                let (class, has, lacks) = if b.traffic.is_some() {
                    (Class::Missing, eb, ea)
                } else {
                    (Class::Extra, ea, eb)
                };
                push(
                    "traffic".to_string(),
                    class,
                    format!(
                        "{has} has a traffic model, {lacks} none: name {lacks}'s access logs (`traffic = [...]`)"
                    ),
                    a.traffic
                        .as_ref()
                        .map(|m| format!("{} requests", m.requests)),
                    b.traffic
                        .as_ref()
                        .map(|m| format!("{} requests", m.requests)),
                    ea,
                    eb,
                );
            }
            (Some(ma), Some(mb)) => {
                let shares: BTreeMap<(&str, &str), f64> = ma
                    .routes
                    .iter()
                    .map(|r| ((r.method.as_str(), r.route.as_str()), r.share))
                    .collect();
                for r in mb.routes.iter().filter(|r| r.share >= MIN_ROUTE_SHARE) {
                    compared += 1;
                    let key = format!("traffic:{} {}", r.method, r.route);
                    let pct = |x: f64| crate::fidelity::percent(x);
                    match shares.get(&(r.method.as_str(), r.route.as_str())) {
                        None => push(
                            key,
                            Class::Missing,
                            format!(
                                "{ea}'s traffic never exercised `{} {}`, which is {} of {eb}'s",
                                r.method,
                                r.route,
                                pct(r.share)
                            ),
                            None,
                            Some(pct(r.share)),
                            ea,
                            eb,
                        ),
                        Some(&share) if share * SHARE_FACTOR < r.share => push(
                            key,
                            Class::Drift,
                            format!(
                                "`{} {}` is {} of {eb}'s traffic but {} of {ea}'s",
                                r.method,
                                r.route,
                                pct(r.share),
                                pct(share)
                            ),
                            Some(pct(share)),
                            Some(pct(r.share)),
                            ea,
                            eb,
                        ),
                        Some(_) => {}
                    }
                }
                if let (Some(ra), Some(rb)) = (&ma.rate, &mb.rate) {
                    compared += 1;
                    if ra.peak_rps < rb.peak_rps {
                        push(
                            "traffic:rate.peak_rps".to_string(),
                            Class::Drift,
                            format!(
                                "{ea}'s peak was {} req/s, {eb}'s {}: {ea} was never pushed to {eb}'s peak",
                                crate::fidelity::thousands(ra.peak_rps),
                                crate::fidelity::thousands(rb.peak_rps)
                            ),
                            Some(format!("{} req/s", ra.peak_rps)),
                            Some(format!("{} req/s", rb.peak_rps)),
                            ea,
                            eb,
                        );
                    }
                }
            }
        }
    }
    compared += crate::compare::push_unreadable(
        &mut findings,
        crate::finding::Facet::Traffic,
        snapshots,
        reference,
        |s| &s.traffic_errors,
        rules,
    );
    (findings, compared)
}
