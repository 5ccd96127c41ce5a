//! A load run's result (what `envparity load` writes) and how it compares with the
//! Production traffic model it was shaped from: per route latency and errors beside
//! Production's, routes the run never touched, the load at which QA gave way (its knee),
//! and a verdict on headroom.
//!
//! The result's histograms are HdrHistogram V2 in base64; decoding and merging them is
//! `envparity-load`'s business. Everything here reads the summaries written beside them,
//! so the core stays free of I/O and of the histogram crate.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::traffic::TrafficModel;

pub const RESULT_FORMAT: &str = "envparity-load-result";
/// 2: routes, timeline, shards, protocol and shape.
pub const RESULT_VERSION: u32 = 2;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunResult {
    pub format: String,
    pub version: u32,
    /// The base URL, without credentials.
    pub target: String,
    /// `http/1.1` or `h2`, and whether over TLS: `https/h2`.
    #[serde(default)]
    pub protocol: String,
    /// How the rate moved: `constant 300/s`, `steps 5 to 600/s`, `replay ×2.0 of the model`.
    #[serde(default)]
    pub shape: String,
    /// The traffic model the run followed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRef>,
    /// The schedule's top rate, requests per second (for the whole run, all shards).
    pub target_rate: f64,
    pub duration_seconds: f64,
    /// When the schedule began, seconds since 1970 (shards of one run share it).
    #[serde(default)]
    pub start_unix: f64,
    /// Which shares of the schedule this result covers (`[]`: all of it, one process).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<Shard>,
    /// Requests the schedule called for (in these shards), sent, and answered.
    pub scheduled: u64,
    pub sent: u64,
    pub completed: u64,
    /// Sent more than 1 ms after their intended time: the generator fell behind, or every
    /// connection was busy.
    pub late: u64,
    /// Sent more than 50 ms after their intended time while a connection was free: the
    /// generator fell behind (not jitter, not the target).
    #[serde(default)]
    pub behind: u64,
    /// Sent more than 50 ms late because every connection was waiting on the target: the
    /// open model's queue, counted in those requests' latency.
    #[serde(default)]
    pub waited: u64,
    /// Requests sent per second, over the window from the first send to the last.
    pub achieved_rate: f64,
    /// `2xx`… counts.
    pub status: BTreeMap<String, u64>,
    /// `connect`, `timeout`, `reset`, `tls`, `protocol` counts.
    pub errors: BTreeMap<String, u64>,
    /// The first message of each kind of connection error (`tls`: `invalid peer
    /// certificate: UnknownIssuer`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub error_samples: BTreeMap<String, String>,
    pub bytes_received: u64,
    /// From each request's intended send time (coordinated-omission free), seconds.
    pub latency: Summary,
    /// From the actual send time, seconds: what a closed-loop tool reports.
    pub service_time: Summary,
    /// The histograms, HdrHistogram V2 + base64, microseconds.
    pub latency_histogram: String,
    pub service_histogram: String,
    /// Per route, busiest first (a run without a model has one route: its URL's path).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteResult>,
    /// The run step by step, by intended send time.
    #[serde(default, skip_serializing_if = "Timeline::is_empty")]
    pub timeline: Timeline,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ModelRef {
    pub file: String,
    pub peak_rps: u64,
    pub average_rps: f64,
    /// Routes the model has, and how many the run's mix drew from.
    pub routes: u64,
    pub routes_in_mix: u64,
    /// The model's share of requests the mix covers (the rest: rarer routes left out).
    pub share_in_mix: f64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RouteResult {
    pub method: String,
    pub route: String,
    pub scheduled: u64,
    pub sent: u64,
    pub completed: u64,
    pub status: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, u64>,
    pub bytes_received: u64,
    pub latency: Summary,
    pub service_time: Summary,
    pub latency_histogram: String,
    pub service_histogram: String,
}

impl RouteResult {
    /// Answered with 5xx or not answered at all, of those sent.
    pub fn error_rate(&self) -> f64 {
        let failed =
            self.status.get("5xx").copied().unwrap_or(0) + self.errors.values().sum::<u64>();
        failed as f64 / self.sent.max(1) as f64
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Timeline {
    pub step_seconds: f64,
    pub points: Vec<TimelinePoint>,
}

impl Timeline {
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// One step of the run: the requests whose intended send time fell in it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TimelinePoint {
    /// The schedule's rate at the step's middle, for the whole run.
    pub target_rps: f64,
    pub scheduled: u64,
    /// Of the requests due in this step, how many were sent (at any time).
    pub sent: u64,
    /// Requests actually sent during this step, whenever they were due: the rate the
    /// target really got.
    #[serde(default)]
    pub sends: u64,
    pub completed: u64,
    /// Answered 5xx, or not answered (connect, timeout, reset…).
    pub failed: u64,
    pub late: u64,
    /// Sent more than 50 ms late with a connection free (the generator), or because every
    /// connection was busy (the target).
    #[serde(default)]
    pub behind: u64,
    #[serde(default)]
    pub waited: u64,
    pub latency: Summary,
    /// HdrHistogram V2 + base64 (2 significant digits), so steps merge across shards.
    pub histogram: String,
}

impl TimelinePoint {
    pub fn error_rate(&self) -> f64 {
        self.failed as f64 / self.sent.max(1) as f64
    }
}

/// When a step counts as past the knee.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// p99 latency above this; `None`: three times the run's own best p99 at low load
    /// (steps at most half its top rate), and at least 100 ms.
    pub p99_seconds: Option<f64>,
    /// Failed requests above this share.
    pub error_rate: f64,
    /// A route's p99 under load above the reference's times this is a finding.
    pub p99_factor: f64,
    /// A route's failed share above the reference's by more than this is a finding.
    pub error_margin: f64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::from(&crate::rules::LoadThresholds::default())
    }
}

impl From<&crate::rules::LoadThresholds> for Limits {
    fn from(t: &crate::rules::LoadThresholds) -> Limits {
        Limits {
            p99_seconds: t.p99_limit_ms.map(|ms| ms / 1e3),
            error_rate: t.error_limit,
            p99_factor: t.p99_factor,
            error_margin: t.error_margin,
        }
    }
}

/// The first load at which QA gave way, two steps in a row.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Knee {
    /// The target rate of the first step past the limits.
    pub rps: f64,
    /// Seconds into the run.
    pub at_seconds: f64,
    pub p99: f64,
    pub error_rate: f64,
    /// `p99 1.2 s above 300 ms` or `4.1 % failed, above 1 %`.
    pub why: String,
}

/// The p99 limit the knee is judged against, and the knee itself.
pub fn knee(timeline: &Timeline, limits: &Limits) -> (f64, Option<Knee>) {
    let points = &timeline.points;
    let top = points.iter().map(|p| p.target_rps).fold(0.0, f64::max);
    let limit = limits.p99_seconds.unwrap_or_else(|| {
        // The run's own p99 at low load: the best p99 of the steps at most half the top
        // rate (a target already past its knee there does not raise it), or the first
        // step's.
        let mut low: Vec<f64> = points
            .iter()
            .filter(|p| p.completed > 0 && p.target_rps <= top / 2.0)
            .map(|p| p.latency.p99)
            .collect();
        low.sort_by(f64::total_cmp);
        let base = low
            .first()
            .copied()
            .or_else(|| {
                points
                    .iter()
                    .find(|p| p.completed > 0)
                    .map(|p| p.latency.p99)
            })
            .unwrap_or(0.0);
        (3.0 * base).max(0.1)
    });
    let past = |p: &TimelinePoint| -> Option<String> {
        if p.sent == 0 {
            return None;
        }
        if p.error_rate() > limits.error_rate {
            return Some(format!(
                "{} failed, above {}",
                crate::fidelity::percent(p.error_rate()),
                crate::fidelity::percent(limits.error_rate)
            ));
        }
        if p.completed > 0 && p.latency.p99 > limit {
            return Some(format!(
                "p99 {} above {}",
                seconds(p.latency.p99),
                seconds(limit)
            ));
        }
        None
    };
    for (i, pair) in points.windows(2).enumerate() {
        if let (Some(why), Some(_)) = (past(&pair[0]), past(&pair[1])) {
            let p = &pair[0];
            return (
                limit,
                Some(Knee {
                    rps: p.target_rps,
                    at_seconds: i as f64 * timeline.step_seconds,
                    p99: p.latency.p99,
                    error_rate: p.error_rate(),
                    why,
                }),
            );
        }
    }
    (limit, None)
}

/// `850 µs`, `12.3 ms`, `1.20 s`.
pub fn seconds(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.0} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// Routes below this share of Production's traffic are not compared one by one.
pub const MIN_ROUTE_SHARE: f64 = 0.01;

/// One route, Production beside the run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RouteComparison {
    pub method: String,
    pub route: String,
    /// Share of Production's requests, and of the run's.
    pub reference_share: f64,
    pub run_share: f64,
    /// Production's latency as its logs tell it (time at the server), when logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_latency: Option<crate::traffic::Latency>,
    /// Production's 5xx share.
    pub reference_error_rate: f64,
    /// The run's service time (from the actual send: closest to the server's own
    /// figure) and latency (from the intended send: what a user waited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_service: Option<Summary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_latency: Option<Summary>,
    pub run_error_rate: f64,
    pub run_requests: u64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Headroom {
    /// QA held at least 1.5× Production's peak.
    Enough,
    /// QA held Production's peak, but not 1.5× it.
    Thin,
    /// QA gave way below Production's peak.
    Short,
    /// The run never reached Production's peak, or the generator fell behind: no answer.
    Unknown,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LoadComparison {
    pub reference: String,
    pub run: String,
    pub reference_peak_rps: u64,
    /// The run's top target rate, and the most it sent in one step (per second).
    pub run_target_rps: f64,
    pub run_achieved_rps: f64,
    /// Of the sends up to the knee (or in the whole run), how many left more than 50 ms
    /// late with a connection free: the generator's own lag, not the target's queue.
    pub run_late_share: f64,
    pub p99_limit: f64,
    pub error_limit: f64,
    /// The per-route thresholds the findings use.
    pub p99_factor: f64,
    pub error_margin: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knee: Option<Knee>,
    /// The load QA held (its knee, else the most it was sent), as a multiple of
    /// Production's peak.
    pub held_factor: f64,
    pub headroom: Headroom,
    pub verdict: String,
    pub routes: Vec<RouteComparison>,
    /// Production routes (at least 1 % of its requests) the run never sent.
    pub untouched: Vec<crate::traffic::RouteShare>,
}

/// The knee is not trusted when more than this share of sends left late: the generator,
/// not QA, may have been what gave way.
const LATE_TRUST: f64 = 0.05;

/// Production's traffic model against a load run on QA.
pub fn compare_run(
    reference_env: &str,
    reference: &TrafficModel,
    run_env: &str,
    run: &RunResult,
    limits: &Limits,
) -> LoadComparison {
    let (p99_limit, knee) = knee(&run.timeline, limits);
    let peak = reference.rate.as_ref().map_or(0, |r| r.peak_rps);
    let step = run.timeline.step_seconds.max(1e-9);
    // The most the target really got in a step: sends by when they left.
    let achieved = run
        .timeline
        .points
        .iter()
        .map(|p| p.sends as f64 / step)
        .fold(0.0, f64::max);
    // Late sends up to the knee say the generator, not QA, may have given way; past it,
    // every connection waiting on a slow QA makes sends late by design.
    let upto = knee.as_ref().map_or(run.timeline.points.len(), |k| {
        (k.at_seconds / step).round() as usize + 1
    });
    let (behind, sent) = run
        .timeline
        .points
        .iter()
        .take(upto)
        .fold((0, 0), |(b, s), p| (b + p.behind, s + p.sent));
    let late_share = if run.timeline.points.is_empty() {
        run.behind as f64 / run.sent.max(1) as f64
    } else {
        behind as f64 / sent.max(1) as f64
    };
    let held = knee
        .as_ref()
        .map_or(achieved.min(run.target_rate.max(achieved)), |k| k.rps);
    let held_factor = if peak > 0 { held / peak as f64 } else { 0.0 };
    let total_sent: u64 = run.routes.iter().map(|r| r.sent).sum::<u64>().max(1);
    let by_route: BTreeMap<(&str, &str), &RouteResult> = run
        .routes
        .iter()
        .map(|r| ((r.method.as_str(), r.route.as_str()), r))
        .collect();
    let mut routes = Vec::new();
    let mut untouched = Vec::new();
    for r in reference
        .routes
        .iter()
        .filter(|r| r.share >= MIN_ROUTE_SHARE)
    {
        let reference_error_rate =
            r.status.get("5xx").copied().unwrap_or(0) as f64 / r.requests.max(1) as f64;
        match by_route.get(&(r.method.as_str(), r.route.as_str())) {
            Some(q) if q.sent > 0 => routes.push(RouteComparison {
                method: r.method.clone(),
                route: r.route.clone(),
                reference_share: r.share,
                run_share: q.sent as f64 / total_sent as f64,
                reference_latency: r.latency.clone(),
                reference_error_rate,
                run_service: (q.completed > 0).then(|| q.service_time.clone()),
                run_latency: (q.completed > 0).then(|| q.latency.clone()),
                run_error_rate: q.error_rate(),
                run_requests: q.sent,
            }),
            _ => untouched.push(crate::traffic::RouteShare {
                method: r.method.clone(),
                route: r.route.clone(),
                share: r.share,
            }),
        }
    }
    let x = |f: f64| format!("{f:.2}×");
    let trusted = late_share <= LATE_TRUST;
    let (headroom, verdict) = if peak == 0 {
        (
            Headroom::Unknown,
            format!("{reference_env}'s model has no rate: no headroom can be judged"),
        )
    } else if let Some(k) = &knee {
        let at = format!(
            "{run_env} gave way at {:.0} req/s ({} {reference_env}'s peak of {peak} req/s): {}",
            k.rps,
            x(held_factor),
            k.why
        );
        if !trusted {
            (
                Headroom::Unknown,
                format!(
                    "{at}; but {} of sends left over 50 ms late with a connection free, so the generator may be what gave way: rerun it on a quieter machine or in shards",
                    crate::fidelity::percent(late_share)
                ),
            )
        } else if held_factor < 1.0 {
            (
                Headroom::Short,
                format!("{at}. {run_env} cannot carry {reference_env}'s peak"),
            )
        } else if held_factor < 1.5 {
            (
                Headroom::Thin,
                format!("{at}. Headroom over {reference_env}'s peak is thin"),
            )
        } else {
            (Headroom::Enough, format!("{at}. Headroom is enough"))
        }
    } else {
        let held_text = format!(
            "{run_env} held {:.0} req/s ({} {reference_env}'s peak of {peak} req/s) with p99 {} and {} failed, within the limits (p99 {}, {} failed)",
            achieved,
            x(held_factor),
            seconds(run.latency.p99),
            crate::fidelity::percent(
                (run.status.get("5xx").copied().unwrap_or(0) + run.errors.values().sum::<u64>())
                    as f64
                    / run.sent.max(1) as f64
            ),
            seconds(p99_limit),
            crate::fidelity::percent(limits.error_rate)
        );
        if !trusted {
            (
                Headroom::Unknown,
                format!(
                    "{held_text}; but {} of sends left over 50 ms late with a connection free: the generator did not hold the target rate",
                    crate::fidelity::percent(late_share)
                ),
            )
        } else if held_factor < 1.0 {
            (
                Headroom::Unknown,
                format!(
                    "{held_text}, but the run never reached {reference_env}'s peak: run it at `--rate 2x-peak` to learn the headroom"
                ),
            )
        } else if held_factor < 1.5 {
            (
                Headroom::Thin,
                format!("{held_text}. Not pushed to 1.5× the peak: headroom beyond is unknown"),
            )
        } else {
            (
                Headroom::Enough,
                format!("{held_text}. Headroom is at least {}", x(held_factor)),
            )
        }
    };
    LoadComparison {
        reference: reference_env.to_string(),
        run: run_env.to_string(),
        reference_peak_rps: peak,
        run_target_rps: run.target_rate,
        run_achieved_rps: achieved,
        run_late_share: late_share,
        p99_limit,
        error_limit: limits.error_rate,
        p99_factor: limits.p99_factor,
        error_margin: limits.error_margin,
        knee,
        held_factor,
        headroom,
        verdict,
        routes,
        untouched,
    }
}

/// The comparison as findings of the traffic facet: a route never sent, a route whose p99
/// or failures under load were far above Production's, and a headroom short of the peak.
pub fn findings(c: &LoadComparison) -> Vec<crate::finding::Finding> {
    use crate::finding::{Class, Facet, Finding, Side};
    let (ea, eb) = (c.run.as_str(), c.reference.as_str());
    let finding =
        |key: String, class: Class, message: String, va: Option<String>, vb: Option<String>| {
            Finding {
                facet: Facet::Traffic,
                class,
                severity: class.default_severity(),
                key,
                group: "load".to_string(),
                resource: None,
                a: Side {
                    env: ea.to_string(),
                    value: va,
                    location: None,
                },
                b: Side {
                    env: eb.to_string(),
                    value: vb,
                    location: None,
                },
                message,
                reason: None,
                covers: 1,
            }
        };
    let mut out = Vec::new();
    let pct = crate::fidelity::percent;
    for u in &c.untouched {
        out.push(finding(
            format!("load:{} {}", u.method, u.route),
            Class::Missing,
            format!(
                "{ea}'s load run never sent `{} {}`, which is {} of {eb}'s traffic",
                u.method,
                u.route,
                pct(u.share)
            ),
            None,
            Some(pct(u.share)),
        ));
    }
    for r in &c.routes {
        if let (Some(reference), Some(run)) = (&r.reference_latency, &r.run_service)
            && reference.p99 > 0.0
            && run.p99 > c.p99_factor * reference.p99
        {
            out.push(finding(
                format!("load:{} {}.p99", r.method, r.route),
                Class::Drift,
                format!(
                    "under load, {ea}'s p99 for `{} {}` was {} ({:.1}× {eb}'s {})",
                    r.method,
                    r.route,
                    seconds(run.p99),
                    run.p99 / reference.p99,
                    seconds(reference.p99)
                ),
                Some(seconds(run.p99)),
                Some(seconds(reference.p99)),
            ));
        }
        if r.run_error_rate > r.reference_error_rate + c.error_margin {
            out.push(finding(
                format!("load:{} {}.errors", r.method, r.route),
                Class::Drift,
                format!(
                    "under load, {} of `{} {}` failed on {ea}, {} on {eb}",
                    pct(r.run_error_rate),
                    r.method,
                    r.route,
                    pct(r.reference_error_rate)
                ),
                Some(pct(r.run_error_rate)),
                Some(pct(r.reference_error_rate)),
            ));
        }
    }
    if matches!(c.headroom, Headroom::Short | Headroom::Unknown) {
        let mut f = finding(
            "load:headroom".to_string(),
            Class::Drift,
            c.verdict.clone(),
            Some(match &c.knee {
                Some(k) => format!("knee at {:.0} req/s", k.rps),
                None => format!("held {:.0} req/s", c.run_achieved_rps),
            }),
            Some(format!("peak {} req/s", c.reference_peak_rps)),
        );
        if c.headroom == Headroom::Short {
            f.severity = crate::finding::Severity::Error;
        }
        out.push(f);
    }
    out
}

/// A load run in a report: the comparison, and the run step by step for the charts.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LoadOverview {
    pub comparison: LoadComparison,
    pub step_seconds: f64,
    pub points: Vec<LoadPoint>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LoadPoint {
    pub target_rps: f64,
    pub sent_rps: f64,
    /// Latency of the step's answers; `None` (JSON `null`) when it had none: a step in
    /// which nothing was answered has no latency, not a latency of 0.
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub error_rate: f64,
}

pub fn overview(comparison: LoadComparison, run: &RunResult) -> LoadOverview {
    let step = run.timeline.step_seconds.max(1e-9);
    LoadOverview {
        comparison,
        step_seconds: run.timeline.step_seconds,
        points: run
            .timeline
            .points
            .iter()
            .map(|p| LoadPoint {
                target_rps: p.target_rps,
                sent_rps: p.sends as f64 / step,
                p50: (p.completed > 0).then_some(p.latency.p50),
                p99: (p.completed > 0).then_some(p.latency.p99),
                error_rate: p.error_rate(),
            })
            .collect(),
    }
}

/// The report of `envparity traffic compare MODEL RUN`: the load findings of the traffic
/// facet, and the overview (with the verdict) for the summary and the charts.
pub fn compare_report(
    reference_env: &str,
    reference: &TrafficModel,
    run_env: &str,
    run: &RunResult,
    limits: &Limits,
    rules: &crate::rules::Rules,
    today: crate::date::Date,
) -> crate::report::Report {
    let used: Vec<std::sync::atomic::AtomicBool> = rules
        .expect
        .iter()
        .map(|_| std::sync::atomic::AtomicBool::new(false))
        .collect();
    let judged = judge(
        reference_env,
        reference,
        run_env,
        run,
        limits,
        rules,
        today,
        &used,
    );
    let (findings, compared) = (judged.findings, judged.compared);
    let summary = crate::compare::summarize(crate::finding::Facet::Traffic, compared, &findings);
    let info = |name: &str, production: bool| crate::report::EnvironmentInfo {
        name: name.to_string(),
        production,
        taken_at: String::new(),
    };
    crate::report::Report {
        format: crate::report::REPORT_FORMAT.to_string(),
        version: crate::report::REPORT_VERSION,
        environments: vec![info(run_env, false), info(reference_env, true)],
        reference: reference_env.to_string(),
        score: summary.score,
        facets: vec![summary],
        findings,
        matrix: None,
        // The verdict is the Load section's first line (and `load[].comparison.verdict`).
        notes: Vec::new(),
        traffic: vec![crate::traffic::overview(reference_env, reference)],
        load: vec![judged.overview],
    }
}

/// One run judged against the reference's model, for a report: its findings with the
/// team's rules applied, the keys it counts as compared, and what the report draws.
pub(crate) struct Judged {
    pub findings: Vec<crate::finding::Finding>,
    pub compared: u64,
    pub overview: LoadOverview,
}

/// [`compare_run`], [`findings`] and [`overview`], with the rules applied: what `diff`
/// and `traffic compare` both report.
#[allow(clippy::too_many_arguments)]
pub(crate) fn judge(
    reference_env: &str,
    reference: &TrafficModel,
    run_env: &str,
    run: &RunResult,
    limits: &Limits,
    rules: &crate::rules::Rules,
    today: crate::date::Date,
    expect_used: &[std::sync::atomic::AtomicBool],
) -> Judged {
    let comparison = compare_run(reference_env, reference, run_env, run, limits);
    let mut findings = findings(&comparison);
    for f in &mut findings {
        let key = f.key.clone();
        crate::compare::apply_rules(rules, today, expect_used, f, vec![key]);
    }
    Judged {
        findings,
        compared: (comparison.routes.len() + comparison.untouched.len() + 1) as u64,
        overview: overview(comparison, run),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(rps: f64, p99: f64, failed: u64) -> TimelinePoint {
        TimelinePoint {
            target_rps: rps,
            scheduled: 100,
            sent: 100,
            sends: 100,
            completed: 100 - failed,
            failed,
            late: 0,
            behind: 0,
            waited: 0,
            latency: Summary {
                p99,
                ..Summary::default()
            },
            histogram: String::new(),
        }
    }

    fn timeline(points: Vec<TimelinePoint>) -> Timeline {
        Timeline {
            step_seconds: 1.0,
            points,
        }
    }

    #[test]
    fn the_knee_is_the_first_of_two_steps_past_the_limits() {
        let t = timeline(vec![
            point(100.0, 0.020, 0),
            point(200.0, 0.030, 0),
            point(300.0, 0.500, 0), // one bad step alone is not a knee
            point(400.0, 0.040, 0),
            point(500.0, 0.900, 0),
            point(600.0, 1.200, 0),
        ]);
        let (limit, found) = knee(&t, &Limits::default());
        // 3 × the best low-load p99 (20 ms) is under the 100 ms floor.
        assert_eq!(limit, 0.1);
        let found = found.unwrap();
        assert_eq!(found.rps, 500.0);
        assert_eq!(found.at_seconds, 4.0);
        assert!(
            found.why.contains("p99 900.0 ms above 100.0 ms"),
            "{}",
            found.why
        );
    }

    #[test]
    fn failures_make_a_knee_and_a_steady_run_has_none() {
        let t = timeline(vec![
            point(100.0, 0.02, 0),
            point(200.0, 0.02, 5),
            point(300.0, 0.02, 9),
        ]);
        let found = knee(&t, &Limits::default()).1.unwrap();
        assert_eq!(found.rps, 200.0);
        assert!(found.why.contains("5 % failed"), "{}", found.why);
        let steady = timeline(vec![point(100.0, 0.02, 0), point(200.0, 0.02, 1)]);
        assert_eq!(knee(&steady, &Limits::default()).1, None);
        let strict = Limits {
            p99_seconds: Some(0.01),
            ..Limits::default()
        };
        assert_eq!(knee(&steady, &strict).1.unwrap().rps, 100.0);
    }
}
