//! Running a plan: request `i` is due at `start + i / rate`; `connections` workers take
//! the next due request, wait for its time, send it, and record its latency from the time
//! it was due. A worker whose connection is busy makes later requests wait, and that wait
//! is counted in their latency: the open model a real user population imposes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::http::{Connection, Failure, Target};
use crate::result::{RESULT_FORMAT, RESULT_VERSION, RunResult, encode, new_histogram, summary};

#[derive(Clone, Debug)]
pub struct Plan {
    pub url: String,
    pub target: Target,
    /// Requests per second.
    pub rate: f64,
    pub duration: Duration,
    pub connections: usize,
    /// A request not answered within this is a `timeout`.
    pub timeout: Duration,
    /// Send within microseconds of the due time rather than within the timer's
    /// millisecond, at a CPU cost.
    pub precise: bool,
}

/// Sent this long after its due time, a request is `late`: the generator fell behind
/// (beyond the 1 ms timer tick).
const LATE: Duration = Duration::from_millis(2);

/// What each worker counted.
struct Tally {
    latency: Histogram<u64>,
    service: Histogram<u64>,
    status: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
    sent: u64,
    completed: u64,
    late: u64,
    bytes: u64,
    /// The first and last actual send: the window the achieved rate is measured over.
    first_sent: Option<Instant>,
    last_sent: Option<Instant>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            latency: new_histogram(),
            service: new_histogram(),
            status: BTreeMap::new(),
            errors: BTreeMap::new(),
            sent: 0,
            completed: 0,
            late: 0,
            bytes: 0,
            first_sent: None,
            last_sent: None,
        }
    }
}

/// Live counters for the progress line.
#[derive(Debug, Default)]
pub struct Progress {
    pub sent: AtomicU64,
    pub errors: AtomicU64,
}

/// Runs the plan on its own runtime; `stop` ends it early (Ctrl-C): the result then
/// covers what was sent.
pub fn run(plan: &Plan, stop: Arc<AtomicBool>, progress: Arc<Progress>) -> RunResult {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime starts");
    let total = (plan.rate * plan.duration.as_secs_f64()).round() as u64;
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now() + Duration::from_millis(20);
    let interval = Duration::from_secs_f64(1.0 / plan.rate);
    // Each worker's tally is shared, so a run stopped mid-request still reports what was
    // answered before the stop.
    let shared: Vec<Arc<std::sync::Mutex<Tally>>> = (0..plan.connections.max(1))
        .map(|_| Arc::new(std::sync::Mutex::new(Tally::new())))
        .collect();
    runtime.block_on(async {
        {
            let stop = stop.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    stop.store(true, Ordering::Relaxed);
                }
            });
        }
        let mut handles = Vec::new();
        for tally in &shared {
            let (next, stop, progress) = (next.clone(), stop.clone(), progress.clone());
            let tally = tally.clone();
            let target = plan.target.clone();
            let timeout = plan.timeout;
            let precise = plan.precise;
            handles.push(tokio::spawn(async move {
                let request = target.get_request(&target.path);
                let mut connection: Option<Connection> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let due = start + interval.mul_f64(i as f64);
                    if precise {
                        // Tokio's timer ticks in milliseconds: sleep to just before the
                        // due time, then yield until it. Sub-millisecond sends, paid for
                        // in CPU (about 5x per request at 20,000 req/s).
                        if let Some(early) = due.checked_sub(Duration::from_millis(1))
                            && early > Instant::now()
                        {
                            tokio::time::sleep_until(early.into()).await;
                        }
                        while Instant::now() < due {
                            tokio::task::yield_now().await;
                        }
                    } else {
                        // Up to one timer tick (1 ms) after the due time; that lag is in
                        // the latency, as it would be for any user the server kept
                        // waiting, and is never more than a tick unless we fall behind.
                        tokio::time::sleep_until(due.into()).await;
                    }
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let sent_at = Instant::now();
                    {
                        let mut t = tally.lock().expect("no panics while holding it");
                        if sent_at.duration_since(due) > LATE {
                            t.late += 1;
                        }
                        t.sent += 1;
                        t.first_sent.get_or_insert(sent_at);
                        t.last_sent = Some(sent_at);
                    }
                    progress.sent.fetch_add(1, Ordering::Relaxed);
                    let outcome = tokio::time::timeout(timeout, async {
                        if connection.is_none() {
                            connection = Some(Connection::open(&target).await?);
                        }
                        let c = connection.as_mut().expect("just opened");
                        c.exchange(&request).await
                    })
                    .await
                    .unwrap_or(Err(Failure::Timeout));
                    let done = Instant::now();
                    let mut t = tally.lock().expect("no panics while holding it");
                    match outcome {
                        Ok((status, bytes, keep)) => {
                            t.completed += 1;
                            t.bytes += bytes;
                            let micros = |d: Duration| (d.as_micros() as u64).max(1);
                            let _ = t.latency.record(micros(done.duration_since(due)));
                            let _ = t.service.record(micros(done.duration_since(sent_at)));
                            *t.status.entry(format!("{}xx", status / 100)).or_insert(0) += 1;
                            if !keep {
                                connection = None;
                            }
                        }
                        Err(failure) => {
                            progress.errors.fetch_add(1, Ordering::Relaxed);
                            *t.errors.entry(failure.name().to_string()).or_insert(0) += 1;
                            connection = None;
                        }
                    }
                }
            }));
        }
        // Workers end with the schedule. After a stop (Ctrl-C), those still waiting on a
        // response get a second, then are dropped: the result covers what was answered.
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if handles.iter().all(|h| h.is_finished()) {
                break;
            }
            if stop.load(Ordering::Relaxed) {
                let deadline = Instant::now() + Duration::from_secs(1);
                while Instant::now() < deadline && !handles.iter().all(|h| h.is_finished()) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                for h in &handles {
                    h.abort();
                }
                break;
            }
        }
    });
    let tallies: Vec<Tally> = shared
        .iter()
        .map(|t| {
            std::mem::replace(
                &mut *t.lock().expect("no panics while holding it"),
                Tally::new(),
            )
        })
        .collect();
    let mut all = Tally::new();
    for t in tallies {
        let _ = all.latency.add(&t.latency);
        let _ = all.service.add(&t.service);
        for (k, v) in t.status {
            *all.status.entry(k).or_insert(0) += v;
        }
        for (k, v) in t.errors {
            *all.errors.entry(k).or_insert(0) += v;
        }
        all.sent += t.sent;
        all.completed += t.completed;
        all.late += t.late;
        all.bytes += t.bytes;
        all.first_sent = match (all.first_sent, t.first_sent) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        all.last_sent = match (all.last_sent, t.last_sent) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    // Sends per second over the sending window: n sends span n - 1 intervals.
    let window = match (all.first_sent, all.last_sent) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
        _ => 0.0,
    };
    let achieved_rate = if all.sent > 1 && window > 0.0 {
        (all.sent - 1) as f64 / window
    } else {
        0.0
    };
    RunResult {
        format: RESULT_FORMAT.to_string(),
        version: RESULT_VERSION,
        target: plan.url.clone(),
        target_rate: plan.rate,
        duration_seconds: plan.duration.as_secs_f64(),
        scheduled: total,
        sent: all.sent,
        completed: all.completed,
        late: all.late,
        achieved_rate,
        status: all.status,
        errors: all.errors,
        bytes_received: all.bytes,
        latency: summary(&all.latency),
        service_time: summary(&all.service),
        latency_histogram: encode(&all.latency),
        service_histogram: encode(&all.service),
    }
}
