//! Running a plan. A dispatcher thread of its own releases each request at its due time
//! (a std sleep, which wakes within tens of microseconds, where tokio's timer ticks in
//! milliseconds) through a `Release`. Plain HTTP/1.1 is sent by the direct loops
//! (`direct.rs`), each owning its share of the keep-alive connections; TLS and
//! HTTP/2 by workers on a tokio runtime (HTTP/1.1: a worker per connection; HTTP/2: a
//! stream slot on one of the connections). Both count through one `Ledger`. A
//! connection still busy makes the next released request wait, and that wait is part of
//! its latency: latency runs from the intended send time, the open model a real user
//! population imposes (no coordinated omission).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;

use crate::http::{Answer, Connector, Failure, Http1, Http2, Protocol};
use crate::mix::{Http1Requests, Mix};
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
    /// Plain HTTP/1.1 by the direct loops (`threads` of them); false: by tokio tasks, as
    /// TLS and HTTP/2 always are.
    pub direct: bool,
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
    sent: u64,
    completed: u64,
    bytes: u64,
}

struct StepTally {
    histogram: Histogram<u64>,
    /// Due in this step and sent (whenever they left).
    sent: u64,
    completed: u64,
    failed: u64,
    late: u64,
    behind: u64,
    waited: u64,
    /// Sends by the step they left in.
    sends: u64,
}

/// Everything the workers count, behind one lock taken twice per request (at the send
/// and at the answer): on one runtime thread an uncontended lock costs less than the
/// dozen atomics it replaces. A stopped run keeps what was answered.
struct Tally {
    routes: Vec<RouteTally>,
    steps: Vec<StepTally>,
    /// Latencies of responses since the progress line last read them.
    recent: Histogram<u64>,
    /// Workers with a request in flight.
    busy: u64,
    /// Nanoseconds after the start of the first and the last send.
    first_sent: u64,
    last_sent: u64,
}

type Shared = Mutex<Tally>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Tally> {
    shared.lock().expect("no panics while holding it")
}

impl Tally {
    /// A run-wide count, summed over the steps: every request counts in the step it was
    /// due in (the last one for those due after it), so the steps add up to the run.
    fn total(&self, count: impl Fn(&StepTally) -> u64) -> u64 {
        self.steps.iter().map(count).sum()
    }
}

/// What both engines (tokio tasks, and the direct loop of [`crate::direct`]) share: when
/// each request is due, and where it is counted.
pub(crate) struct Ledger {
    tally: Shared,
    schedule: Arc<Schedule>,
    shard: ShardPlan,
    /// This shard's share of the schedule.
    pub(crate) mine: u64,
    start: Instant,
    step_seconds: f64,
    /// Steps of the timeline.
    steps: usize,
    /// How many workers there are (connections, or connections × streams).
    workers: usize,
    /// `--duration` is a cap: what could not be sent by its end (and a grace of two
    /// seconds) is left unsent, counted as scheduled but not sent.
    pub(crate) deadline: Instant,
}

/// A request's place in the schedule.
pub(crate) struct Due {
    /// Its index in the whole schedule (all shards).
    pub(crate) i: u64,
    pub(crate) due: Instant,
    /// The timeline step it counts in.
    pub(crate) step: usize,
}

impl Ledger {
    /// The `k`-th request of this shard.
    pub(crate) fn due(&self, k: u64) -> Due {
        let i = self.shard.global(k);
        let due_seconds = self.schedule.due(i);
        Due {
            i,
            due: self.start + Duration::from_secs_f64(due_seconds),
            step: ((due_seconds / self.step_seconds) as usize).min(self.steps - 1),
        }
    }

    /// Counts a request as sent, before its first await: a run stopped at any point has
    /// counted every request it sent.
    pub(crate) fn count_send(&self, route: usize, step: usize, due: Instant, sent_at: Instant) {
        let at = sent_at.saturating_duration_since(self.start).as_nanos() as u64;
        let lag = sent_at.saturating_duration_since(due);
        let sends_step = (at as f64 / 1e9 / self.step_seconds) as usize;
        let mut t = lock(&self.tally);
        let t = &mut *t;
        t.busy += 1;
        t.routes[route].sent += 1;
        let s = &mut t.steps[step];
        s.sent += 1;
        if lag > LATE {
            s.late += 1;
            if lag > BEHIND {
                // Every other worker busy: this request waited for a connection (the
                // target's queue). Some idle: it waited for the generator.
                if t.busy >= self.workers as u64 {
                    s.waited += 1;
                } else {
                    s.behind += 1;
                }
            }
        }
        // Sends in the grace after the schedule's end belong to no step.
        if let Some(sends) = t.steps.get_mut(sends_step) {
            sends.sends += 1;
        }
        t.first_sent = t.first_sent.min(at);
        t.last_sent = t.last_sent.max(at);
    }

    pub(crate) fn record(
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
        let service = micros(done.saturating_duration_since(sent_at));
        let mut t = lock(&self.tally);
        let t = &mut *t;
        t.busy = t.busy.saturating_sub(1);
        let r = &mut t.routes[route];
        let s = &mut t.steps[step];
        // Failed: a 5xx, or no answer.
        let failed = outcome.as_ref().map_or(true, |a| a.status >= 500);
        s.failed += u64::from(failed);
        match outcome {
            Ok(answer) => {
                r.completed += 1;
                r.bytes += answer.bytes;
                let _ = r.latency.record(latency);
                let _ = r.service.record(service);
                let class = usize::from(answer.status / 100);
                r.classes.status[if (1..=5).contains(&class) { class } else { 0 }] += 1;
                s.completed += 1;
                let _ = s.histogram.record(latency);
                let _ = t.recent.record(latency);
            }
            Err(f) => r.classes.errors[failure_index(f)] += 1,
        }
    }
}

/// Where the dispatcher releases requests: the semaphore tokio workers wait on, or the
/// direct loops' gate.
pub(crate) trait Release: Send + Sync {
    /// Released and not yet taken.
    fn waiting(&self) -> usize;
    fn release(&self, n: usize);
    /// Nothing more will be released: wake every taker still waiting (there are `takers`).
    fn close(&self, takers: usize);
}

impl Release for Semaphore {
    fn waiting(&self) -> usize {
        self.available_permits()
    }

    fn release(&self, n: usize) {
        self.add_permits(n);
    }

    // Each woken worker then finds the schedule done (or the stop).
    fn close(&self, takers: usize) {
        self.add_permits(takers);
    }
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
    let tally = Mutex::new(Tally {
        routes: (0..mix.routes.len())
            .map(|_| RouteTally {
                latency: new_histogram(),
                service: new_histogram(),
                classes: Classes::default(),
                sent: 0,
                completed: 0,
                bytes: 0,
            })
            .collect(),
        steps: (0..step_count)
            .map(|_| StepTally {
                histogram: new_step_histogram(),
                sent: 0,
                completed: 0,
                failed: 0,
                late: 0,
                behind: 0,
                waited: 0,
                sends: 0,
            })
            .collect(),
        recent: new_step_histogram(),
        busy: 0,
        first_sent: u64::MAX,
        last_sent: 0,
    });
    let http1_requests = Arc::new(mix.http1(&plan.connector.target.authority()));
    // Plain HTTP/1.1 goes by the direct loops; TLS and HTTP/2 by tokio tasks. Prepared
    // before the origin is fixed: a name with several addresses is probed (blocking).
    let direct = crate::direct::Direct::prepare(plan)?;
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
    let workers = match plan.connector.protocol {
        Protocol::Http1 => plan.connections.max(1),
        Protocol::Http2 => plan.connections.max(1) * plan.streams.max(1),
    };
    let ledger = Arc::new(Ledger {
        tally,
        schedule: schedule.clone(),
        shard,
        mine,
        start,
        step_seconds,
        steps: step_count,
        workers,
        deadline: start + Duration::from_secs_f64(schedule.duration()) + GRACE,
    });
    // One thread: tokio's current-thread runtime, without the work-stealing machinery.
    // The direct loops run on threads of their own, the runtime then only hears Ctrl-C.
    let runtime = if plan.threads <= 1 || direct.is_some() {
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
    let semaphore = Arc::new(Semaphore::new(0));
    let released: Arc<dyn Release> = match &direct {
        Some(direct) => direct.gate(),
        None => semaphore.clone(),
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
            dispatcher.run(&*released, &[&stop, &finished]);
            released.close(workers);
        })
    };
    let reporter = {
        let (ledger, finished, schedule) = (ledger.clone(), finished.clone(), schedule.clone());
        std::thread::spawn(move || {
            let (mut last, mut last_sent, mut last_at) = (0u64, 0u64, start);
            while !finished.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let now = Instant::now();
                let elapsed = now.saturating_duration_since(start).as_secs_f64();
                if (elapsed as u64) > last && !finished.load(Ordering::Relaxed) {
                    last = elapsed as u64;
                    let mut l = live(&ledger.tally, &schedule, elapsed);
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
        if let Some(direct) = direct {
            // Each loop ends with the schedule, or a second after a stop.
            let loops = direct.spawn(
                &ledger,
                &http1_requests,
                &plan.connector,
                plan.timeout,
                &stop,
            );
            for handle in loops {
                // A loop that panicked has lost its counts: a bug, said rather than hidden.
                if let Err(e) = handle.await {
                    plan.connector
                        .note(Failure::Protocol, format!("a sending loop failed: {e}"));
                }
            }
            return;
        }
        let next = Arc::new(AtomicU64::new(0));
        let slots: Vec<Arc<tokio::sync::Mutex<Option<Http2>>>> = (0..plan.connections.max(1))
            .map(|_| Arc::new(tokio::sync::Mutex::new(None)))
            .collect();
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let worker = Worker {
                ledger: ledger.clone(),
                mix: mix.clone(),
                http1_requests: http1_requests.clone(),
                connector: plan.connector.clone(),
                timeout: plan.timeout,
                next: next.clone(),
                released: semaphore.clone(),
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
        &ledger.tally,
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
    fn run(&self, released: &dyn Release, stops: &[&AtomicBool]) {
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
            if released.waiting() > 4 * workers {
                std::thread::sleep(Duration::from_millis(1));
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
            released.release((end - k) as usize);
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
    ledger: Arc<Ledger>,
    mix: Arc<Mix>,
    http1_requests: Arc<Http1Requests>,
    connector: Connector,
    timeout: Duration,
    next: Arc<AtomicU64>,
    released: Arc<Semaphore>,
    stop: Arc<AtomicBool>,
    /// HTTP/2: the connection this worker's streams ride on, shared with other workers.
    slot: Arc<tokio::sync::Mutex<Option<Http2>>>,
}

impl Worker {
    async fn work(self) {
        let ledger = &*self.ledger;
        let mut http1: Option<Http1> = None;
        let mut bytes = String::with_capacity(512);
        // One timer for all of this worker's requests (see `within`).
        let mut timer = Box::pin(tokio::time::sleep(self.timeout));
        loop {
            let Ok(permit) = self.released.acquire().await else {
                return;
            };
            permit.forget();
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            let sent_at = Instant::now();
            if sent_at > ledger.deadline {
                return;
            }
            let k = self.next.fetch_add(1, Ordering::Relaxed);
            if k >= ledger.mine {
                return;
            }
            let Due { i, due, step } = ledger.due(k);
            // HTTP/1.1 writes the request's bytes; HTTP/2 builds it for the h2 crate.
            let (route, head_method, http2_request) = match self.connector.protocol {
                Protocol::Http1 => {
                    let written = self.http1_requests.write(i, &mut bytes);
                    (written.route, written.head_method, None)
                }
                Protocol::Http2 => {
                    let request = self.mix.request(i);
                    (request.route, false, Some(request))
                }
            };
            ledger.count_send(route, step, due, sent_at);
            // Rare or heavy futures (connecting, h2) are boxed: the exchange stays small,
            // and it is moved once per request.
            let exchange = async {
                match &http2_request {
                    None => {
                        if http1.is_none() {
                            http1 = Some(Box::pin(self.connector.open_http1()).await?);
                        }
                        http1
                            .as_mut()
                            .expect("just opened")
                            .exchange(bytes.as_bytes(), head_method)
                            .await
                    }
                    Some(request) => {
                        let connection = {
                            let mut slot = self.slot.lock().await;
                            if slot.is_none() {
                                *slot = Some(Box::pin(self.connector.open_http2()).await?);
                            }
                            slot.clone().expect("just opened")
                        };
                        let answer =
                            Box::pin(connection.exchange(request, self.mix.common_headers())).await;
                        // A broken connection is replaced, unless another worker has
                        // replaced it already; a reset stream leaves it be.
                        if answer.is_err() && connection.is_broken() {
                            let mut slot = self.slot.lock().await;
                            if slot.as_ref().is_some_and(|c| c.id == connection.id) {
                                *slot = None;
                            }
                        }
                        answer
                    }
                }
            };
            let outcome = within(&mut timer, sent_at + self.timeout, exchange)
                .await
                .unwrap_or(Err(Failure::Timeout));
            if !matches!(outcome, Ok(Answer { keep: true, .. })) {
                http1 = None;
            }
            ledger.record(route, step, due, sent_at, outcome);
        }
    }
}

/// `exchange`, or `None` once `deadline` passes. The worker's one `timer` is moved only
/// when it fires: a timer set for an earlier request fires, finds this request's
/// deadline ahead, and is set again. Requests answered within the timeout (nearly all)
/// never touch the timer wheel.
async fn within<T>(
    timer: &mut Pin<Box<tokio::time::Sleep>>,
    deadline: Instant,
    exchange: impl Future<Output = T>,
) -> Option<T> {
    let deadline = tokio::time::Instant::from_std(deadline);
    let mut exchange = std::pin::pin!(exchange);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = exchange.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        // Outside tokio's cooperative budget, as `tokio::time::timeout` polls its timer: an
        // exchange that spent the task's budget (a long body arriving fast) would
        // otherwise keep the timer from ever being seen to fire.
        while Pin::new(&mut tokio::task::coop::unconstrained(timer.as_mut()))
            .poll(cx)
            .is_ready()
        {
            if timer.deadline() >= deadline {
                return Poll::Ready(None);
            }
            timer.as_mut().reset(deadline);
        }
        Poll::Pending
    })
    .await
}

fn live(shared: &Shared, schedule: &Schedule, elapsed: f64) -> Live {
    let mut t = lock(shared);
    let (p50, p99) = if t.recent.is_empty() {
        (0.0, 0.0)
    } else {
        (
            t.recent.value_at_quantile(0.5) as f64 / 1e6,
            t.recent.value_at_quantile(0.99) as f64 / 1e6,
        )
    };
    t.recent.reset();
    Live {
        elapsed,
        sent: t.total(|s| s.sent),
        completed: t.total(|s| s.completed),
        failed: t.total(|s| s.failed),
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
    let t = lock(shared);
    // What the schedule called for, per route and per step (this shard's share). Sends
    // claim indices in order and count themselves before any await, so those sent are
    // exactly the first `sent`: only the rest (unsent at the end) are counted here.
    let mut route_scheduled: Vec<u64> = t.routes.iter().map(|r| r.sent).collect();
    let mut step_scheduled: Vec<u64> = t.steps.iter().map(|s| s.sent).collect();
    let sent = t.total(|s| s.sent);
    let unsent = sent.min(mine)..mine;
    if route_scheduled.len() == 1 {
        route_scheduled[0] += unsent.end - unsent.start;
    } else {
        for k in unsent.clone() {
            route_scheduled[mix.route_of(shard.global(k))] += 1;
        }
    }
    // Due times grow with the index: each step's unsent are found by a search, not drawn
    // one by one (a saturated run leaves millions).
    let last_step = step_scheduled.len() - 1;
    let step_of = |k: u64| ((schedule.due(shard.global(k)) / step_seconds) as usize).min(last_step);
    let mut from = unsent.start;
    while from < unsent.end {
        let step = step_of(from);
        let end = first_not_due(from, unsent.end, |k| step_of(k) <= step);
        step_scheduled[step] += end - from;
        from = end;
    }
    let mut latency = new_histogram();
    let mut service = new_histogram();
    let mut status = BTreeMap::new();
    let mut errors = BTreeMap::new();
    let mut bytes = 0;
    let mut routes = Vec::new();
    for (k, (r, t)) in mix.routes.iter().zip(&t.routes).enumerate() {
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
            sent: t.sent,
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
    let points = t
        .steps
        .iter()
        .enumerate()
        .map(|(k, s)| TimelinePoint {
            target_rps: schedule.rate_at((k as f64 + 0.5) * step_seconds),
            scheduled: step_scheduled[k],
            sent: s.sent,
            sends: s.sends,
            completed: s.completed,
            failed: s.failed,
            late: s.late,
            behind: s.behind,
            waited: s.waited,
            latency: summary(&s.histogram),
            histogram: encode(&s.histogram),
        })
        .collect();
    // Sends per second over the sending window: n sends span n − 1 intervals.
    let window = t.last_sent.saturating_sub(t.first_sent) as f64 / 1e9;
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
        completed: t.total(|s| s.completed),
        late: t.total(|s| s.late),
        behind: t.total(|s| s.behind),
        waited: t.total(|s| s.waited),
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
    use super::{first_not_due, within};
    use std::time::{Duration, Instant};

    #[test]
    fn the_timeout_fires_even_when_the_exchange_spends_the_tasks_budget() {
        // A long body arriving fast spends tokio's per-task budget on every poll; the
        // timer must still be seen to fire.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut timer = Box::pin(tokio::time::sleep(Duration::from_millis(10)));
            let busy = async {
                let mut reads = 0u64;
                loop {
                    tokio::task::coop::consume_budget().await;
                    reads += 1;
                    if reads == u64::MAX {
                        break reads;
                    }
                }
            };
            let began = Instant::now();
            let deadline = began + Duration::from_millis(200);
            let guard = Duration::from_secs(5);
            let out = tokio::time::timeout(guard, within(&mut timer, deadline, busy)).await;
            assert_eq!(out, Ok(None), "timed out, not answered, not hung");
            let took = began.elapsed();
            assert!(
                took >= Duration::from_millis(200) && took < Duration::from_secs(2),
                "{took:?}"
            );
        });
    }

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
