//! Plain HTTP/1.1 without tokio: each loop is a thread of its own running an epoll loop
//! (mio) over its share of the connections. A response is read when its socket says so,
//! and the connection's next request is written in the same turn.
//!
//! Why a second engine: per request a tokio task costs a wake, a poll through the
//! futures, and a read that finds nothing (tokio learns a socket is drained only from
//! `EAGAIN`). Here a read that did not fill the buffer drained the socket, so the next
//! bytes bring an event of their own and no read is wasted: one `write` and one `read`
//! per request, besides a shared `epoll_wait`. TLS and HTTP/2 stay on tokio (rustls and
//! h2 are written for it).

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::http::{Answer, Connector, Failure, Progress, Protocol, ResponseParser};
use crate::mix::Http1Requests;
use crate::run::{Due, Ledger, Plan, Release};

/// The token of each loop's waker; connections are tokens `0..n`.
const WAKE: Token = Token(usize::MAX);

/// With every connection busy, a loop polls without sleeping for this long after its last
/// event before it blocks. A loop asleep must be woken by the server's answer, and that
/// wake is paid on the server's CPU: against nginx on the same 2 cores, sleeping put a
/// context switch in every 5th request and cost 10–15 % of the throughput (BENCHMARKS.md).
const SPIN: Duration = Duration::from_micros(200);

/// A connection's buffer to start with; it doubles for a head that does not fit.
const BUFFER: usize = 32 << 10;

/// The loops of one run, made before the dispatcher starts (it wakes them).
pub(crate) struct Direct {
    address: SocketAddr,
    /// Each loop's poll and how many connections it keeps.
    polls: Vec<(Poll, usize)>,
    gate: Arc<Gate>,
}

impl Direct {
    /// The loops for `plan` when it is plain HTTP/1.1 to an address that resolves (and
    /// the plan allows them); otherwise tokio's workers run it: TLS, HTTP/2, and a name
    /// that does not resolve, whose connect failures they count and note as usual.
    pub(crate) fn prepare(plan: &Plan) -> Result<Option<Direct>, String> {
        let target = &plan.connector.target;
        if !plan.direct || plan.connector.protocol != Protocol::Http1 || target.tls {
            return Ok(None);
        }
        let Some(address) = resolve(&target.address(), plan.timeout) else {
            return Ok(None);
        };
        let connections = plan.connections.max(1);
        let loops = plan.threads.clamp(1, connections);
        let (mut polls, mut parked) = (Vec::new(), Vec::new());
        for j in 0..loops {
            let poll = Poll::new().map_err(|e| format!("cannot start an event loop: {e}"))?;
            let waker = Waker::new(poll.registry(), WAKE)
                .map_err(|e| format!("cannot start an event loop: {e}"))?;
            polls.push((
                poll,
                connections / loops + usize::from(j < connections % loops),
            ));
            parked.push(Parked {
                parked: AtomicBool::new(false),
                waker,
            });
        }
        Ok(Some(Direct {
            address,
            polls,
            gate: Arc::new(Gate {
                released: AtomicU64::new(0),
                claimed: AtomicU64::new(0),
                closed: AtomicBool::new(false),
                loops: parked,
            }),
        }))
    }

    /// Where the dispatcher releases requests to the loops.
    pub(crate) fn gate(&self) -> Arc<dyn Release> {
        self.gate.clone()
    }

    /// Starts the loops, each on a blocking thread of the runtime; each ends with the
    /// schedule, or a second after `stop`.
    pub(crate) fn spawn(
        self,
        ledger: &Arc<Ledger>,
        requests: &Arc<Http1Requests>,
        connector: &Connector,
        timeout: Duration,
        stop: &Arc<AtomicBool>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let Direct {
            address,
            polls,
            gate,
        } = self;
        polls
            .into_iter()
            .enumerate()
            .map(|(me, (poll, count))| {
                let event_loop = Loop {
                    me,
                    poll,
                    connections: (0..count).map(|_| Connection::default()).collect(),
                    idle: (0..count).collect(),
                    next_timeout: Instant::now() + timeout,
                    gate: gate.clone(),
                    ledger: ledger.clone(),
                    requests: requests.clone(),
                    connector: connector.clone(),
                    address,
                    timeout,
                    stop: stop.clone(),
                };
                tokio::task::spawn_blocking(move || event_loop.run())
            })
            .collect()
    }
}

/// The first address `address` resolves to; for a name with several, the first that
/// accepts a connection, as tokio's connect tries them in turn.
fn resolve(address: &str, timeout: Duration) -> Option<SocketAddr> {
    let addresses: Vec<SocketAddr> = address.to_socket_addrs().ok()?.collect();
    match addresses.as_slice() {
        [] => None,
        [one] => Some(*one),
        several => several.iter().copied().find(|a| {
            std::net::TcpStream::connect_timeout(a, timeout.min(Duration::from_secs(1))).is_ok()
        }),
    }
}

/// Requests the dispatcher released, taken by the loops in order.
struct Gate {
    released: AtomicU64,
    claimed: AtomicU64,
    /// Nothing more will be released.
    closed: AtomicBool,
    loops: Vec<Parked>,
}

/// A loop asleep with idle connections, to be woken when requests are released.
struct Parked {
    parked: AtomicBool,
    waker: Waker,
}

impl Gate {
    /// The next released request (its index in this shard), if one is waiting.
    fn claim(&self) -> Option<u64> {
        let mut claimed = self.claimed.load(Ordering::Relaxed);
        loop {
            if claimed >= self.released.load(Ordering::SeqCst) {
                return None;
            }
            match self.claimed.compare_exchange_weak(
                claimed,
                claimed + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(claimed),
                Err(now) => claimed = now,
            }
        }
    }

    /// Whether all that will ever be released has been taken.
    fn exhausted(&self) -> bool {
        self.closed.load(Ordering::SeqCst) && self.waiting() == 0
    }

    /// Marks loop `me` asleep; false when a request was released meanwhile (do not sleep).
    /// The flag is set before the check and the dispatcher adds before it looks at the
    /// flag, so one of the two sees the other.
    fn park(&self, me: usize) -> bool {
        self.loops[me].parked.store(true, Ordering::SeqCst);
        if self.waiting() > 0 || self.closed.load(Ordering::SeqCst) {
            self.loops[me].parked.store(false, Ordering::Relaxed);
            return false;
        }
        true
    }

    fn unpark(&self, me: usize) {
        self.loops[me].parked.store(false, Ordering::Relaxed);
    }

    fn wake_parked(&self) {
        for parked in &self.loops {
            if parked.parked.swap(false, Ordering::SeqCst) {
                let _ = parked.waker.wake();
            }
        }
    }
}

impl Release for Gate {
    fn waiting(&self) -> usize {
        let released = self.released.load(Ordering::SeqCst);
        released.saturating_sub(self.claimed.load(Ordering::Relaxed)) as usize
    }

    fn release(&self, n: usize) {
        self.released.fetch_add(n as u64, Ordering::SeqCst);
        self.wake_parked();
    }

    fn close(&self, _takers: usize) {
        self.closed.store(true, Ordering::SeqCst);
        for parked in &self.loops {
            parked.parked.store(false, Ordering::Relaxed);
            let _ = parked.waker.wake();
        }
    }
}

/// One keep-alive connection of a loop, and the request it carries.
#[derive(Default)]
struct Connection {
    stream: Option<TcpStream>,
    /// Connecting: the request is written once the connection is made.
    connecting: bool,
    buffer: Vec<u8>,
    /// Bytes of `buffer` already consumed, and the end of those read.
    start: usize,
    end: usize,
    request: String,
    /// Bytes of `request` written.
    written: usize,
    current: Option<InFlight>,
    /// Answers the open stream has carried: a reused one may have been closed by the
    /// server meanwhile.
    answered: u64,
}

struct InFlight {
    route: usize,
    step: usize,
    due: Instant,
    sent_at: Instant,
    parser: ResponseParser,
    idempotent: bool,
    /// Some byte of the answer has come.
    replied: bool,
    /// Sent once more already, on a new connection.
    resent: bool,
}

struct Loop {
    me: usize,
    poll: Poll,
    connections: Vec<Connection>,
    /// Connections with no request, in the order they became free (each kept warm).
    idle: VecDeque<usize>,
    /// No request in flight times out before this.
    next_timeout: Instant,
    gate: Arc<Gate>,
    ledger: Arc<Ledger>,
    requests: Arc<Http1Requests>,
    connector: Connector,
    address: SocketAddr,
    timeout: Duration,
    stop: Arc<AtomicBool>,
}

impl Loop {
    /// Connections with a request in flight: every one that is not idle.
    fn in_flight(&self) -> usize {
        self.connections.len() - self.idle.len()
    }

    fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut stopped_at: Option<Instant> = None;
        let mut last_event = Instant::now();
        loop {
            let now = Instant::now();
            if stopped_at.is_none() && self.stop.load(Ordering::Relaxed) {
                stopped_at = Some(now);
            }
            // After a stop, what is in flight gets a second; the result covers what was
            // answered.
            if let Some(at) = stopped_at
                && (self.in_flight() == 0 || now >= at + Duration::from_secs(1))
            {
                return;
            }
            let sending = stopped_at.is_none() && now <= self.ledger.deadline;
            if sending {
                while let Some(&c) = self.idle.front() {
                    let Some(k) = self.gate.claim() else {
                        break;
                    };
                    self.idle.pop_front();
                    self.send(c, k);
                }
            }
            let more = sending && !self.gate.exhausted();
            if !more && self.in_flight() == 0 {
                return;
            }
            if now >= self.next_timeout {
                self.expire(now);
            }
            // Idle connections wait for the dispatcher, which wakes a parked loop.
            if more && !self.idle.is_empty() && !self.gate.park(self.me) {
                continue;
            }
            let wait = if self.idle.is_empty() && now < last_event + SPIN {
                Duration::ZERO
            } else {
                self.next_timeout
                    .saturating_duration_since(now)
                    .min(Duration::from_millis(100))
            };
            let polled = self.poll.poll(&mut events, Some(wait));
            self.gate.unpark(self.me);
            match polled {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return self.abandon(&e),
            }
            if !events.is_empty() {
                last_event = Instant::now();
            }
            for event in events.iter() {
                if event.token() != WAKE {
                    let closed = event.is_read_closed() || event.is_error();
                    self.ready(event.token().0, closed);
                }
            }
        }
    }

    /// Sends this shard's `k`-th request on connection `c`, connecting first if need be.
    fn send(&mut self, c: usize, k: u64) {
        let Due { i, due, step } = self.ledger.due(k);
        let connection = &mut self.connections[c];
        let written = self.requests.write(i, &mut connection.request);
        let sent_at = Instant::now();
        self.ledger.count_send(written.route, step, due, sent_at);
        connection.current = Some(InFlight {
            route: written.route,
            step,
            due,
            sent_at,
            parser: ResponseParser::new(written.head_method),
            idempotent: written.idempotent,
            replied: false,
            resent: false,
        });
        connection.written = 0;
        self.next_timeout = self.next_timeout.min(sent_at + self.timeout);
        if connection.stream.is_none() {
            return self.open(c);
        }
        self.write(c);
    }

    /// Connects connection `c`; its request goes once the connection is made (the socket
    /// turns writable).
    fn open(&mut self, c: usize) {
        let connection = &mut self.connections[c];
        let opened = TcpStream::connect(self.address).and_then(|mut stream| {
            self.poll.registry().register(
                &mut stream,
                Token(c),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            Ok(stream)
        });
        match opened {
            Ok(stream) => {
                connection.stream = Some(stream);
                connection.connecting = true;
                connection.answered = 0;
                if connection.buffer.is_empty() {
                    connection.buffer = vec![0; BUFFER];
                }
            }
            Err(e) => self.connect_failed(c, &e),
        }
    }

    /// A reused connection ended before any byte of its request's answer: the server
    /// closed it while the request was on its way (its keep-alive ran out). An idempotent
    /// request then goes once more on a new connection, as HTTP clients do; it was
    /// counted as sent once, and its latency runs from the first send.
    fn resend(&mut self, c: usize) -> bool {
        let connection = &mut self.connections[c];
        let Some(current) = connection.current.as_mut() else {
            return false;
        };
        if !current.idempotent || current.resent || current.replied || connection.answered == 0 {
            return false;
        }
        current.resent = true;
        current.parser = ResponseParser::new(current.parser.head_request());
        connection.written = 0;
        self.close(c);
        self.open(c);
        true
    }

    fn connect_failed(&mut self, c: usize, e: &io::Error) {
        let message = format!("{}: {e}", self.connector.target.address());
        self.connector.note(Failure::Connect, message);
        self.finish(c, Err(Failure::Connect));
    }

    /// Connection `c`'s socket is ready for something; `closed`: the peer has closed (or
    /// reset) it, as the event says.
    fn ready(&mut self, c: usize, closed: bool) {
        let connection = &mut self.connections[c];
        // An event for a connection closed since it was queued.
        let Some(stream) = connection.stream.as_mut() else {
            return;
        };
        if connection.connecting {
            let made = match stream.take_error() {
                Ok(None) => stream.peer_addr().map(|_| ()),
                Ok(Some(e)) | Err(e) => Err(e),
            };
            match made {
                Ok(()) => {
                    connection.connecting = false;
                    let _ = stream.set_nodelay(true);
                }
                // Not yet.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => return self.connect_failed(c, &e),
            }
        }
        // Read before writing the rest: a server that answers early (a 413 to a large
        // body) and resets the connection leaves its answer to be read, which a failed
        // write would otherwise throw away with the connection.
        self.read(c, closed);
        let connection = &self.connections[c];
        if connection.current.is_some() && connection.written < connection.request.len() {
            self.write(c);
        }
    }

    /// Writes what is left of connection `c`'s request, as far as the socket takes it.
    fn write(&mut self, c: usize) {
        loop {
            let connection = &mut self.connections[c];
            let Some(stream) = connection.stream.as_mut() else {
                return;
            };
            let rest = &connection.request.as_bytes()[connection.written..];
            if rest.is_empty() {
                return;
            }
            match stream.write(rest) {
                Ok(n) if n > 0 => connection.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                _ => {
                    if !self.resend(c) {
                        self.finish(c, Err(Failure::Reset));
                    }
                    return;
                }
            }
        }
    }

    /// Reads what connection `c`'s socket holds into the response in flight. `closed`: the
    /// peer's close came with the bytes, so no later event will tell of it: read to it.
    fn read(&mut self, c: usize, closed: bool) {
        loop {
            let connection = &mut self.connections[c];
            let Some(stream) = connection.stream.as_mut() else {
                return;
            };
            if connection.start == connection.end {
                (connection.start, connection.end) = (0, 0);
            } else if connection.end == connection.buffer.len() {
                if connection.start == 0 {
                    let doubled = connection.buffer.len() * 2;
                    connection.buffer.resize(doubled, 0);
                } else {
                    let (start, end) = (connection.start, connection.end);
                    connection.buffer.copy_within(start..end, 0);
                    (connection.start, connection.end) = (0, end - start);
                }
            }
            let room = connection.buffer.len() - connection.end;
            let n = match stream.read(&mut connection.buffer[connection.end..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => 0,
            };
            let Some(current) = connection.current.as_mut() else {
                // Closed while idle (the server's keep-alive ran out), or bytes nobody
                // asked for: either way the connection is done.
                return self.close(c);
            };
            if n == 0 {
                // Closed (or reset): the end of a body that runs to it, else a reset.
                let outcome = current.parser.end();
                if outcome.is_err() && self.resend(c) {
                    return;
                }
                return self.finish(c, outcome);
            }
            current.replied = true;
            connection.end += n;
            match current
                .parser
                .feed(&connection.buffer[connection.start..connection.end])
            {
                Ok((used, Progress::Done(mut answer))) => {
                    connection.start += used;
                    // An answer before the whole request was written (a 413 to a large
                    // body) leaves the request's rest unsent: the connection is done.
                    answer.keep &= !closed && connection.written == connection.request.len();
                    return self.finish(c, Ok(answer));
                }
                Ok((used, Progress::More)) => connection.start += used,
                Err(failure) => return self.finish(c, Err(failure)),
            }
            // A read that left room drained the socket: more bytes bring a new event.
            if n < room && !closed {
                return;
            }
        }
    }

    /// Counts connection `c`'s request as answered (or failed) and frees the connection;
    /// one that cannot carry the next request is closed.
    fn finish(&mut self, c: usize, outcome: Result<Answer, Failure>) {
        let Some(done) = self.connections[c].current.take() else {
            return;
        };
        self.connections[c].answered += 1;
        let keep = matches!(outcome, Ok(Answer { keep: true, .. }));
        self.ledger
            .record(done.route, done.step, done.due, done.sent_at, outcome);
        if !keep {
            self.close(c);
        }
        self.idle.push_back(c);
    }

    fn close(&mut self, c: usize) {
        let connection = &mut self.connections[c];
        if let Some(mut stream) = connection.stream.take() {
            let _ = self.poll.registry().deregister(&mut stream);
        }
        connection.connecting = false;
        (connection.start, connection.end) = (0, 0);
    }

    /// The event loop itself failed: every request in flight is counted as failed (each
    /// was counted as sent), and why is noted.
    fn abandon(&mut self, e: &io::Error) {
        self.connector
            .note(Failure::Reset, format!("the event loop failed: {e}"));
        for c in 0..self.connections.len() {
            self.finish(c, Err(Failure::Reset));
        }
    }

    /// Fails the requests in flight past their timeout, and notes when the next one is due.
    fn expire(&mut self, now: Instant) {
        let mut next = now + self.timeout;
        for c in 0..self.connections.len() {
            let Some(current) = &self.connections[c].current else {
                continue;
            };
            let at = current.sent_at + self.timeout;
            if at <= now {
                self.finish(c, Err(Failure::Timeout));
            } else {
                next = next.min(at);
            }
        }
        self.next_timeout = next;
    }
}
