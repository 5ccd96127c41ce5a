//! Running a plan. A dispatcher thread of its own releases each request at its due time
//! (a std sleep, which wakes within tens of microseconds, where tokio's timer ticks in
//! milliseconds); workers on a 2-thread tokio runtime take the released requests in order
//! and send them. For HTTP/1.1 a worker is a keep-alive connection; for HTTP/2 a worker is
//! a stream slot on one of the connections. A worker still busy makes the next released
//! request wait, and that wait is part of its latency: latency runs from the intended send
//! time, the open model a real user population imposes (no coordinated omission).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;

use crate::http::{Answer, Connector, Failure, Http1, Http2, Protocol};
use crate::mix::Mix;
use crate::result::{
    RESULT_FORMAT, RESULT_VERSION, RouteResult, RunResult, Timeline, TimelinePoint, encode,
    new_histogram, new_step_histogram, summary,
};
use crate::schedule::{Schedule, ShardPlan};

#[derive(Clone, Debug)]
pub struct Plan {
    pub connector: Connector,
    pub schedule: Schedule,
    pub mix: Mix,
    pub shard: ShardPlan,
    /// HTTP/1.1: keep-alive connections (the most requests in flight). HTTP/2: TCP
    /// connections, each carrying up to `streams` requests at once.
    pub connections: usize,
    pub streams: usize,
    /// A request not answered within this is a `timeout`.
    pub timeout: Duration,
    /// Spin through the last 200 µs before each due time instead of sleeping: sends within
    /// a few microseconds, at the cost of a busy core.
    pub precise: bool,
    /// The schedule's origin, shared by the shards of one run; `None`: now.
    pub start_at: Option<SystemTime>,
    /// Runtime threads sending and receiving (the dispatcher has one of its own).
    pub threads: usize,
    pub model: Option<envparity_core::load::ModelRef>,
}

/// Sent this long after its due time, a request is `late`: the generator fell behind, or
/// every connection was busy.
pub const LATE: Duration = Duration::from_millis(1);
/// The dispatcher wakes at most this often (without --precise).
const TICK: Duration = Duration::from_micros(100);

/// How long after the schedule's end requests still due are sent; the rest are dropped.
const GRACE: Duration = Duration::from_secs(2);

/// Sent this long after its due time, a request is far `behind`: more than jitter.
pub const BEHIND: Duration = Duration::from_millis(50);

/// What the progress callback sees, about once a second.
#[derive(Clone, Debug, Default)]
pub struct Live {
    pub elapsed: f64,
    pub sent: u64,
    pub completed: u64,
    pub failed: u64,
    /// The schedule's rate now (whole run), and what this process sent in the last second.
    pub target_rps: f64,
    pub sent_rps: f64,
    /// Latency of the responses of the last second.
    pub p50: f64,
    pub p99: f64,
}

#[derive(Default)]
struct Classes {
    status: [u64; 6],
    errors: [u64; 5],
}

impl Classes {
    fn status_map(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for (k, n) in self.status.iter().enumerate() {
            if *n > 0 {
                let name = if k == 0 {
                    "other".to_string()
                } else {
                    format!("{k}xx")
                };
                m.insert(name, *n);
            }
        }
        m
    }

    fn error_map(&self) -> BTreeMap<String, u64> {
        let all = [
            Failure::Connect,
            Failure::Tls,
            Failure::Timeout,
            Failure::Reset,
            Failure::Protocol,
        ];
        all.iter()
            .zip(self.errors)
            .filter(|(_, n)| *n > 0)
            .map(|(f, n)| (f.name().to_string(), n))
            .collect()
    }
}

fn failure_index(f: Failure) -> usize {
    match f {
        Failure::Connect => 0,
        Failure::Tls => 1,
        Failure::Timeout => 2,
        Failure::Reset => 3,
        Failure::Protocol => 4,
    }
}

struct RouteTally {
    latency: Histogram<u64>,
    service: Histogram<u64>,
    classes: Classes,
    completed: u64,
    bytes: u64,
}

struct StepTally {
    histogram: Histogram<u64>,
    completed: u64,
    failed: u64,
}

/// Everything the workers count, shared; per route and per step behind their own locks
/// (two short locks per request), so a stopped run keeps what was answered.
struct Shared {
    routes: Vec<Mutex<RouteTally>>,
    route_sent: Vec<AtomicU64>,
    steps: Vec<Mutex<StepTally>>,
    step_sent: Vec<AtomicU64>,
    step_late: Vec<AtomicU64>,
    step_behind: Vec<AtomicU64>,
    step_waited: Vec<AtomicU64>,
    /// Sends by the step they left in.
    step_sends: Vec<AtomicU64>,
    sent: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
    /// Latencies of responses since the progress line last read them.
    recent: Mutex<Histogram<u64>>,
    late: AtomicU64,
    behind: AtomicU64,
    waited: AtomicU64,
    /// Workers with a request in flight.
    busy: AtomicU64,
    /// Nanoseconds after the start of the first and the last send.
    first_sent: AtomicU64,
    last_sent: AtomicU64,
}

/// Runs the plan on its own runtime and dispatcher thread. `stop` ends it early (Ctrl-C
/// sets it too): the result then covers what was sent. `progress` is called about once a
/// second from a thread of its own.
pub fn run(
    plan: &Plan,
    stop: Arc<AtomicBool>,
    progress: impl Fn(&Live) + Send + 'static,
) -> Result<RunResult, String> {
    let schedule = Arc::new(plan.schedule.clone());
    let mix = Arc::new(plan.mix.clone());
    let shard = plan.shard;
    let total = schedule.total();
    let mine = shard.share_of(total);
    let step_seconds = step_for(schedule.duration());
    let step_count = ((schedule.duration() / step_seconds).ceil() as usize).max(1);
    let shared = Arc::new(Shared {
        routes: (0..mix.routes.len())
            .map(|_| {
                Mutex::new(RouteTally {
                    latency: new_histogram(),
                    service: new_histogram(),
                    classes: Classes::default(),
                    completed: 0,
                    bytes: 0,
                })
            })
            .collect(),
        route_sent: (0..mix.routes.len()).map(|_| AtomicU64::new(0)).collect(),
        steps: (0..step_count)
            .map(|_| {
                Mutex::new(StepTally {
                    histogram: new_step_histogram(),
                    completed: 0,
                    failed: 0,
                })
            })
            .collect(),
        step_sent: (0..step_count).map(|_| AtomicU64::new(0)).collect(),
        step_late: (0..step_count).map(|_| AtomicU64::new(0)).collect(),
        step_behind: (0..step_count).map(|_| AtomicU64::new(0)).collect(),
        step_waited: (0..step_count).map(|_| AtomicU64::new(0)).collect(),
        step_sends: (0..step_count).map(|_| AtomicU64::new(0)).collect(),
        sent: AtomicU64::new(0),
        completed: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        recent: Mutex::new(new_step_histogram()),
        late: AtomicU64::new(0),
        behind: AtomicU64::new(0),
        waited: AtomicU64::new(0),
        busy: AtomicU64::new(0),
        first_sent: AtomicU64::new(u64::MAX),
        last_sent: AtomicU64::new(0),
    });
    // The origin: a common wall-clock time for shards, else a moment from now.
    let (start, start_unix) = match plan.start_at {
        Some(at) => {
            let now = SystemTime::now();
            let unix = at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            match at.duration_since(now) {
                Ok(ahead) => (Instant::now() + ahead, unix),
                Err(e) if e.duration() <= Duration::from_secs(1) => {
                    (Instant::now() - e.duration(), unix)
                }
                Err(e) => {
                    return Err(format!(
                        "the common start time passed {:.1} s ago: start the shards together with a later --start-at",
                        e.duration().as_secs_f64()
                    ));
                }
            }
        }
        None => {
            let lead = Duration::from_millis(50);
            let unix = (SystemTime::now() + lead)
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            (Instant::now() + lead, unix)
        }
    };
    // One thread: tokio's current-thread runtime, without the work-stealing machinery.
    let runtime = if plan.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(plan.threads)
            .enable_all()
            .build()
    }
    .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let released = Arc::new(Semaphore::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let workers = match plan.connector.protocol {
        Protocol::Http1 => plan.connections.max(1),
        Protocol::Http2 => plan.connections.max(1) * plan.streams.max(1),
    };
    let finished = Arc::new(AtomicBool::new(false));
    let dispatcher = {
        let (schedule, released, stop, finished) = (
            schedule.clone(),
            released.clone(),
            stop.clone(),
            finished.clone(),
        );
        let precise = plan.precise;
        std::thread::spawn(move || {
            let dispatcher = Dispatcher {
                schedule: &schedule,
                shard,
                mine,
                start,
                precise,
                workers,
            };
            dispatcher.run(&released, &[&stop, &finished]);
            // Wake every waiting worker: each then finds the schedule done (or the stop).
            released.add_permits(workers);
        })
    };
    let reporter = {
        let (shared, finished, schedule) = (shared.clone(), finished.clone(), schedule.clone());
        std::thread::spawn(move || {
            let (mut last, mut last_sent, mut last_at) = (0u64, 0u64, start);
            while !finished.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let now = Instant::now();
                let elapsed = now.saturating_duration_since(start).as_secs_f64();
                if (elapsed as u64) > last && !finished.load(Ordering::Relaxed) {
                    last = elapsed as u64;
                    let mut l = live(&shared, &schedule, elapsed);
                    let window = now
                        .saturating_duration_since(last_at)
                        .as_secs_f64()
                        .max(1e-3);
                    l.sent_rps = l.sent.saturating_sub(last_sent) as f64 / window;
                    (last_sent, last_at) = (l.sent, now);
                    progress(&l);
                }
            }
        })
    };
    runtime.block_on(async {
        {
            let stop = stop.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    stop.store(true, Ordering::Relaxed);
                }
            });
        }
        let slots: Vec<Arc<tokio::sync::Mutex<Option<Http2>>>> = (0..plan.connections.max(1))
            .map(|_| Arc::new(tokio::sync::Mutex::new(None)))
            .collect();
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let worker = Worker {
                shared: shared.clone(),
                schedule: schedule.clone(),
                mix: mix.clone(),
                connector: plan.connector.clone(),
                shard,
                mine,
                start,
                step_seconds,
                timeout: plan.timeout,
                deadline: start + Duration::from_secs_f64(schedule.duration()) + GRACE,
                workers,
                next: next.clone(),
                released: released.clone(),
                stop: stop.clone(),
                slot: slots[w % slots.len()].clone(),
            };
            handles.push(tokio::spawn(worker.work()));
        }
        // Workers end with the schedule. After a stop, those still waiting on a response
        // get a second, then are dropped: the result covers what was answered.
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
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
    finished.store(true, Ordering::Relaxed);
    let _ = dispatcher.join();
    let _ = reporter.join();
    // Abandoned tasks (a stopped run's in-flight requests) are dropped with the runtime.
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(assemble(
        plan,
        &schedule,
        &mix,
        &shared,
        step_seconds,
        start_unix,
    ))
}

/// Steps of the timeline: a second, or longer so a long run has at most 600.
fn step_for(duration: f64) -> f64 {
    if duration <= 600.0 {
        1.0
    } else {
        (duration / 600.0).ceil()
    }
}

/// Releases this shard's requests at their due times.
struct Dispatcher<'a> {
    schedule: &'a Schedule,
    shard: ShardPlan,
    mine: u64,
    start: Instant,
    precise: bool,
    /// Workers taking the released requests.
    workers: usize,
}

impl Dispatcher<'_> {
    fn run(&self, released: &Semaphore, stops: &[&AtomicBool]) {
        let Dispatcher {
            schedule,
            shard,
            mine,
            start,
            precise,
            workers,
        } = *self;
        let due = |k: u64| start + Duration::from_secs_f64(schedule.due(shard.global(k)));
        let mut k = 0u64;
        let mut last_wake = start;
        while k < mine {
            if stops.iter().any(|s| s.load(Ordering::Relaxed)) {
                return;
            }
            // Far more released than there are workers to take them: the workers are the limit
            // (a saturated target, or a rate no machine holds). Releasing more now would only
            // burn the CPU the workers need; they are all late and counted so already.
            if released.available_permits() > 4 * workers {
                std::thread::sleep(Duration::from_micros(500));
                continue;
            }
            // At high rates, wake at most every TICK and release what fell due meanwhile
            // (at most a tick late, inside the latency): a wake per request would spend
            // the CPU the workers need on context switches.
            let next_due = if precise {
                due(k)
            } else {
                due(k).max(last_wake + TICK)
            };
            let now = Instant::now();
            if next_due > now {
                let wait = next_due - now;
                if precise && wait <= Duration::from_micros(200) {
                    while Instant::now() < next_due {
                        std::hint::spin_loop();
                    }
                } else {
                    // Short enough to notice a stop; in precise mode wake early and spin.
                    let slack = if precise {
                        Duration::from_micros(150)
                    } else {
                        Duration::ZERO
                    };
                    std::thread::sleep(wait.saturating_sub(slack).min(Duration::from_millis(100)));
                    continue;
                }
            }
            // Everything due by now goes at once: at high rates one wake releases several.
            let now = Instant::now();
            last_wake = now;
            let end = first_not_due(k, mine, |i| due(i) <= now);
            released.add_permits((end - k) as usize);
            k = end;
        }
    }
}

/// The first index in `from..end` that `is_due` says is not due yet (`end` if all are).
/// Due times only grow with the index, so this gallops and then halves: a wake that
/// releases thousands (a saturated target, or the closed loop) asks for a few dozen due
/// times instead of one per request.
fn first_not_due(from: u64, end: u64, is_due: impl Fn(u64) -> bool) -> u64 {
    if from >= end || !is_due(from) {
        return from;
    }
    // `due_at` is due; `not_due` is `end` or not due.
    let (mut due_at, mut step) = (from, 1u64);
    let mut not_due = loop {
        let probe = due_at.saturating_add(step);
        if probe >= end {
            break end;
        }
        if !is_due(probe) {
            break probe;
        }
        due_at = probe;
        step = step.saturating_mul(2);
    };
    while not_due - due_at > 1 {
        let mid = due_at + (not_due - due_at) / 2;
        if is_due(mid) {
            due_at = mid;
        } else {
            not_due = mid;
        }
    }
    not_due
}

struct Worker {
    shared: Arc<Shared>,
    schedule: Arc<Schedule>,
    mix: Arc<Mix>,
    connector: Connector,
    shard: ShardPlan,
    mine: u64,
    start: Instant,
    step_seconds: f64,
    timeout: Duration,
    deadline: Instant,
    /// How many workers there are (connections, or connections × streams).
    workers: usize,
    next: Arc<AtomicU64>,
    released: Arc<Semaphore>,
    stop: Arc<AtomicBool>,
    /// HTTP/2: the connection this worker's streams ride on, shared with other workers.
    slot: Arc<tokio::sync::Mutex<Option<Http2>>>,
}

impl Worker {
    async fn work(self) {
        let mut http1: Option<Http1> = None;
        loop {
            let Ok(permit) = self.released.acquire().await else {
                return;
            };
            permit.forget();
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            // `--duration` is a cap: what could not be sent by its end (and a grace of
            // two seconds) is left unsent, counted as scheduled but not sent.
            if Instant::now() > self.deadline {
                return;
            }
            let k = self.next.fetch_add(1, Ordering::Relaxed);
            if k >= self.mine {
                return;
            }
            let i = self.shard.global(k);
            let due_seconds = self.schedule.due(i);
            let due = self.start + Duration::from_secs_f64(due_seconds);
            let request = self.mix.request(i);
            let step =
                ((due_seconds / self.step_seconds) as usize).min(self.shared.steps.len() - 1);
            let sent_at = Instant::now();
            self.shared.busy.fetch_add(1, Ordering::Relaxed);
            self.count_send(request.route, step, due, sent_at);
            let outcome = tokio::time::timeout(self.timeout, async {
                match self.connector.protocol {
                    Protocol::Http1 => {
                        if http1.is_none() {
                            http1 = Some(self.connector.open_http1().await?);
                        }
                        http1
                            .as_mut()
                            .expect("just opened")
                            .exchange(&request, self.mix.common_headers())
                            .await
                    }
                    Protocol::Http2 => {
                        let connection = {
                            let mut slot = self.slot.lock().await;
                            if slot.is_none() {
                                *slot = Some(self.connector.open_http2().await?);
                            }
                            slot.clone().expect("just opened")
                        };
                        let answer = connection
                            .exchange(&request, self.mix.common_headers())
                            .await;
                        if matches!(answer, Err(Failure::Reset | Failure::Protocol)) {
                            *self.slot.lock().await = None;
                        }
                        answer
                    }
                }
            })
            .await
            .unwrap_or(Err(Failure::Timeout));
            if !matches!(outcome, Ok(Answer { keep: true, .. })) {
                http1 = None;
            }
            self.record(request.route, step, due, sent_at, outcome);
            self.shared.busy.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn count_send(&self, route: usize, step: usize, due: Instant, sent_at: Instant) {
        let s = &self.shared;
        s.sent.fetch_add(1, Ordering::Relaxed);
        s.route_sent[route].fetch_add(1, Ordering::Relaxed);
        s.step_sent[step].fetch_add(1, Ordering::Relaxed);
        let lag = sent_at.saturating_duration_since(due);
        if lag > LATE {
            s.late.fetch_add(1, Ordering::Relaxed);
            s.step_late[step].fetch_add(1, Ordering::Relaxed);
            if lag > BEHIND {
                // Every other worker busy: this request waited for a connection (the
                // target's queue). Some idle: it waited for the generator.
                let others_busy = s.busy.load(Ordering::Relaxed).saturating_sub(1);
                if others_busy + 1 >= self.workers as u64 {
                    s.waited.fetch_add(1, Ordering::Relaxed);
                    s.step_waited[step].fetch_add(1, Ordering::Relaxed);
                } else {
                    s.behind.fetch_add(1, Ordering::Relaxed);
                    s.step_behind[step].fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        let at = sent_at.saturating_duration_since(self.start).as_nanos() as u64;
        // Sends in the grace after the schedule's end belong to no step.
        if let Some(sends) = s
            .step_sends
            .get((at as f64 / 1e9 / self.step_seconds) as usize)
        {
            sends.fetch_add(1, Ordering::Relaxed);
        }
        s.first_sent.fetch_min(at, Ordering::Relaxed);
        s.last_sent.fetch_max(at, Ordering::Relaxed);
    }

    fn record(
        &self,
        route: usize,
        step: usize,
        due: Instant,
        sent_at: Instant,
        outcome: Result<Answer, Failure>,
    ) {
        let done = Instant::now();
        let micros = |d: Duration| (d.as_micros() as u64).max(1);
        let latency = micros(done.saturating_duration_since(due));
        let s = &self.shared;
        let failed = match &outcome {
            Ok(a) => a.status >= 500,
            Err(_) => true,
        };
        {
            let mut t = s.routes[route].lock().expect("no panics while holding it");
            match outcome {
                Ok(answer) => {
                    t.completed += 1;
                    t.bytes += answer.bytes;
                    let _ = t.latency.record(latency);
                    let _ = t
                        .service
                        .record(micros(done.saturating_duration_since(sent_at)));
                    let class = usize::from(answer.status / 100);
                    t.classes.status[if (1..=5).contains(&class) { class } else { 0 }] += 1;
                }
                Err(f) => t.classes.errors[failure_index(f)] += 1,
            }
        }
        {
            let mut t = s.steps[step].lock().expect("no panics while holding it");
            if failed {
                t.failed += 1;
            }
            if outcome.is_ok() {
                t.completed += 1;
                let _ = t.histogram.record(latency);
            }
        }
        if outcome.is_ok() {
            let _ = s
                .recent
                .lock()
                .expect("no panics while holding it")
                .record(latency);
        }
        if failed {
            s.failed.fetch_add(1, Ordering::Relaxed);
        }
        if outcome.is_ok() {
            s.completed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn live(shared: &Shared, schedule: &Schedule, elapsed: f64) -> Live {
    let (p50, p99) = {
        let mut h = shared.recent.lock().expect("no panics while holding it");
        let quantiles = if h.is_empty() {
            (0.0, 0.0)
        } else {
            (
                h.value_at_quantile(0.5) as f64 / 1e6,
                h.value_at_quantile(0.99) as f64 / 1e6,
            )
        };
        h.reset();
        quantiles
    };
    Live {
        elapsed,
        sent: shared.sent.load(Ordering::Relaxed),
        completed: shared.completed.load(Ordering::Relaxed),
        failed: shared.failed.load(Ordering::Relaxed),
        target_rps: schedule.rate_at(elapsed),
        sent_rps: 0.0,
        p50,
        p99,
    }
}

fn assemble(
    plan: &Plan,
    schedule: &Schedule,
    mix: &Mix,
    shared: &Shared,
    step_seconds: f64,
    start_unix: f64,
) -> RunResult {
    let shard = plan.shard;
    let mine = shard.share_of(schedule.total());
    // What the schedule called for, per route and per step (this shard's share). Sends
    // claim indices in order and count themselves before any await, so those sent are
    // exactly the first `sent`: only the rest (unsent at the end) are drawn again.
    let load = |counts: &[AtomicU64]| -> Vec<u64> {
        counts.iter().map(|c| c.load(Ordering::Relaxed)).collect()
    };
    let mut route_scheduled = load(&shared.route_sent);
    let mut step_scheduled = load(&shared.step_sent);
    for k in shared.sent.load(Ordering::Relaxed).min(mine)..mine {
        let i = shard.global(k);
        route_scheduled[mix.route_of(i)] += 1;
        let step = ((schedule.due(i) / step_seconds) as usize).min(step_scheduled.len() - 1);
        step_scheduled[step] += 1;
    }
    let mut latency = new_histogram();
    let mut service = new_histogram();
    let mut status = BTreeMap::new();
    let mut errors = BTreeMap::new();
    let mut bytes = 0;
    let mut routes = Vec::new();
    for (k, r) in mix.routes.iter().enumerate() {
        let t = shared.routes[k].lock().expect("no panics while holding it");
        let _ = latency.add(&t.latency);
        let _ = service.add(&t.service);
        let (s, e) = (t.classes.status_map(), t.classes.error_map());
        for (name, n) in &s {
            *status.entry(name.clone()).or_insert(0) += n;
        }
        for (name, n) in &e {
            *errors.entry(name.clone()).or_insert(0) += n;
        }
        bytes += t.bytes;
        routes.push(RouteResult {
            method: r.method.clone(),
            route: r.route.clone(),
            scheduled: route_scheduled[k],
            sent: shared.route_sent[k].load(Ordering::Relaxed),
            completed: t.completed,
            status: s,
            errors: e,
            bytes_received: t.bytes,
            latency: summary(&t.latency),
            service_time: summary(&t.service),
            latency_histogram: encode(&t.latency),
            service_histogram: encode(&t.service),
        });
    }
    routes.sort_by(|a, b| {
        b.scheduled
            .cmp(&a.scheduled)
            .then_with(|| a.route.cmp(&b.route))
    });
    let points = shared
        .steps
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let t = t.lock().expect("no panics while holding it");
            TimelinePoint {
                target_rps: schedule.rate_at((k as f64 + 0.5) * step_seconds),
                scheduled: step_scheduled[k],
                sent: shared.step_sent[k].load(Ordering::Relaxed),
                sends: shared.step_sends[k].load(Ordering::Relaxed),
                completed: t.completed,
                failed: t.failed,
                late: shared.step_late[k].load(Ordering::Relaxed),
                behind: shared.step_behind[k].load(Ordering::Relaxed),
                waited: shared.step_waited[k].load(Ordering::Relaxed),
                latency: summary(&t.histogram),
                histogram: encode(&t.histogram),
            }
        })
        .collect();
    let sent = shared.sent.load(Ordering::Relaxed);
    let (first, last) = (
        shared.first_sent.load(Ordering::Relaxed),
        shared.last_sent.load(Ordering::Relaxed),
    );
    // Sends per second over the sending window: n sends span n − 1 intervals.
    let window = last.saturating_sub(first) as f64 / 1e9;
    let achieved_rate = if sent > 1 && window > 0.0 {
        (sent - 1) as f64 / window
    } else {
        0.0
    };
    let protocol = match (plan.connector.target.tls, plan.connector.protocol) {
        (false, Protocol::Http1) => "http/1.1",
        (true, Protocol::Http1) => "https/1.1",
        (false, Protocol::Http2) => "h2c",
        (true, Protocol::Http2) => "https/h2",
    };
    RunResult {
        format: RESULT_FORMAT.to_string(),
        version: RESULT_VERSION,
        target: plan.connector.target.base(),
        protocol: protocol.to_string(),
        shape: schedule.description.clone(),
        model: plan.model.clone(),
        target_rate: schedule.top(),
        duration_seconds: schedule.duration(),
        start_unix,
        shards: shard.shard().into_iter().collect(),
        scheduled: mine,
        sent,
        completed: shared.completed.load(Ordering::Relaxed),
        late: shared.late.load(Ordering::Relaxed),
        behind: shared.behind.load(Ordering::Relaxed),
        waited: shared.waited.load(Ordering::Relaxed),
        achieved_rate,
        status,
        errors,
        error_samples: plan
            .connector
            .first_errors
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default(),
        bytes_received: bytes,
        latency: summary(&latency),
        service_time: summary(&service),
        latency_histogram: encode(&latency),
        service_histogram: encode(&service),
        routes,
        timeline: Timeline {
            step_seconds,
            points,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::first_not_due;

    #[test]
    fn the_gallop_finds_what_a_scan_finds() {
        // Due times that grow unevenly, with runs of equal ones.
        let due: Vec<u64> = (0..500u64)
            .map(|i| i * i / 7 + (i % 3))
            .scan(0, |top, d| {
                *top = (*top).max(d);
                Some(*top)
            })
            .collect();
        for now in [0, 1, 5, 100, 4_000, 40_000, 1_000_000] {
            for from in [0, 1, 7, 250, 499, 500] {
                let scan = (from..500).find(|&i| due[i as usize] > now).unwrap_or(500);
                let gallop = first_not_due(from, 500, |i| due[i as usize] <= now);
                assert_eq!(gallop, scan, "now {now}, from {from}");
            }
        }
        assert_eq!(first_not_due(3, 3, |_| true), 3);
    }
}
