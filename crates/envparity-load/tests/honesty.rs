//! The generator against a server of our own on loopback whose behaviour is known: a
//! fixed delay, and a stall of the whole server for 1 s once every N requests. The open
//! model must hold its rate, report the delay, and show the stall in its latency
//! percentiles where a closed-loop measure (the service time) hides it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use envparity_load::http::{Connector, Protocol, Target, TlsOptions};
use envparity_load::mix::{Mix, Templates};
use envparity_load::run::{Plan, run};
use envparity_load::schedule::{Schedule, Shape, ShardPlan};

/// Starts a server on 127.0.0.1; returns its port. Every response waits `delay`; request
/// number `stall_every`, `2 × stall_every`, … pauses every response for 1 s.
fn serve(delay: Duration, stall_every: u64) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let count = Arc::new(AtomicU64::new(0));
            let paused_until = Arc::new(std::sync::Mutex::new(Instant::now()));
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    continue;
                };
                let (count, paused_until) = (count.clone(), paused_until.clone());
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut buf = vec![0u8; 4096];
                    let mut have = 0;
                    loop {
                        let Ok(n) = socket.read(&mut buf[have..]).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        have += n;
                        while let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n")
                        {
                            buf.copy_within(end + 4..have, 0);
                            have -= end + 4;
                            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                            if stall_every > 0 && n % stall_every == 0 {
                                *paused_until.lock().unwrap() =
                                    Instant::now() + Duration::from_secs(1);
                            }
                            let until = *paused_until.lock().unwrap();
                            tokio::time::sleep_until(until.into()).await;
                            tokio::time::sleep(delay).await;
                            if socket
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                    }
                });
            }
        });
    });
    port
}

fn plan(port: u16, rate: f64, seconds: u64, connections: usize) -> Plan {
    let url = format!("http://127.0.0.1:{port}/");
    let target = Target::parse(&url).unwrap();
    Plan {
        connector: Connector::new(target, Protocol::Http1, &TlsOptions::default()).unwrap(),
        schedule: Schedule::new(&Shape::Constant, rate, seconds as f64),
        mix: Mix::single("/", &Templates::default(), 1).unwrap(),
        shard: ShardPlan::WHOLE,
        connections,
        streams: 1,
        timeout: Duration::from_secs(5),
        precise: false,
        start_at: None,
        threads: 2,
        direct: true,
        model: None,
    }
}

fn go(plan: &Plan) -> envparity_load::result::RunResult {
    run(plan, Arc::new(AtomicBool::new(false)), |_| {}).unwrap()
}

#[test]
fn the_rate_is_held_and_a_known_delay_is_measured() {
    let port = serve(Duration::from_millis(20), 0);
    let r = go(&plan(port, 400.0, 2, 32));
    assert_eq!(
        (r.scheduled, r.sent, r.completed),
        (800, 800, 800),
        "{r:#?}"
    );
    assert!(
        (r.achieved_rate - 400.0).abs() / 400.0 < 0.01,
        "achieved {} req/s",
        r.achieved_rate
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.status.get("2xx"), Some(&800));
    // 20 ms of server delay, plus loopback and scheduling.
    assert!(
        r.latency.p50 >= 0.020 && r.latency.p50 < 0.030,
        "p50 {}",
        r.latency.p50
    );
    assert_eq!(
        r.bytes_received,
        800 * 43,
        "headers and body of each response"
    );
}

#[test]
fn a_stall_shows_in_the_percentiles_the_service_time_hides_it() {
    // 200 req/s for 3 s; the 300th request (1.5 s in) stalls the server for 1 s.
    let port = serve(Duration::from_millis(2), 300);
    let r = go(&plan(port, 200.0, 3, 16));
    assert_eq!(r.completed, 600, "{r:#?}");
    // ~200 requests were due during the stall: a third of the run waited up to 1 s.
    assert!(r.latency.p90 > 0.4, "latency {:?}", r.latency);
    assert!(r.latency.p99 > 0.85, "latency {:?}", r.latency);
    assert!(
        r.latency.max >= 0.95 && r.latency.max < 1.2,
        "latency {:?}",
        r.latency
    );
    // Measured from the actual send, only the 16 requests in flight saw it.
    assert!(r.service_time.p90 < 0.05, "service {:?}", r.service_time);
    assert!(r.late > 100, "requests sent behind schedule: {}", r.late);
    // The histograms are in the result, losslessly.
    let h = envparity_load::result::decode(&r.latency_histogram).unwrap();
    assert_eq!(h.len(), 600);
}

/// What the server of [`serve_with`] does after a response.
#[derive(Clone, Copy, PartialEq)]
enum Then {
    Keep,
    Close,
}

/// How the server of [`serve_with`] answers one request: after `wait`, with `bytes`.
struct Reply {
    wait: Duration,
    bytes: &'static [u8],
    then: Then,
}

/// A server on 127.0.0.1, a thread per connection, that answers the n-th request
/// (counted from 0 across connections) as `answer(n)` says.
fn serve_with(answer: impl Fn(u64) -> Reply + Send + Sync + 'static) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicU64::new(0));
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { continue };
            let (count, answer) = (count.clone(), answer.clone());
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let (mut buf, mut have) = (vec![0u8; 4096], 0);
                while let Ok(n) = socket.read(&mut buf[have..]) {
                    if n == 0 {
                        return;
                    }
                    have += n;
                    while let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.copy_within(end + 4..have, 0);
                        have -= end + 4;
                        let reply = answer(count.fetch_add(1, Ordering::SeqCst));
                        std::thread::sleep(reply.wait);
                        if socket.write_all(reply.bytes).is_err() || reply.then == Then::Close {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

/// A server on 127.0.0.1 that answers every request with `response`; request number
/// `slow_every`, `2 × slow_every`, … waits `slow` first (its connection only).
fn serve_each(response: &'static [u8], slow_every: u64, slow: Duration) -> u16 {
    serve_with(move |n| Reply {
        wait: if slow_every > 0 && (n + 1).is_multiple_of(slow_every) {
            slow
        } else {
            Duration::ZERO
        },
        bytes: response,
        then: Then::Keep,
    })
}

/// A server on 127.0.0.1 whose n-th request is answered with `responses[n % len]`,
/// closing the connection after it when the entry says so.
fn serve_cycle(responses: &'static [(&'static [u8], Then)]) -> u16 {
    serve_with(|n| {
        let (bytes, then) = responses[n as usize % responses.len()];
        Reply {
            wait: Duration::ZERO,
            bytes,
            then,
        }
    })
}

#[test]
fn a_request_not_answered_in_time_is_a_timeout_and_the_rest_are_not() {
    // Every 4th request waits 1 s against a 200 ms timeout. Consecutive requests share
    // a worker's timer: a fast one must not stretch the next one's deadline, nor a slow
    // one end the next early.
    let port = serve_each(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        4,
        Duration::from_secs(1),
    );
    let mut p = plan(port, 40.0, 2, 8);
    p.timeout = Duration::from_millis(200);
    let began = Instant::now();
    let r = go(&p);
    let timeouts = r.errors.get("timeout").copied().unwrap_or(0);
    assert_eq!(r.sent, 80, "{r:#?}");
    assert_eq!(r.completed + timeouts, 80, "{:?}", r.errors);
    // The server counts arrivals, so one request in four is slow.
    assert_eq!(timeouts, 20, "{:?}", r.errors);
    assert_eq!(r.status.get("2xx"), Some(&60));
    // Answered requests were not held up by a slow one's connection.
    assert!(r.service_time.max < 0.2, "service {:?}", r.service_time);
    assert!(
        began.elapsed() < Duration::from_secs(4),
        "{:?}",
        began.elapsed()
    );
}

#[test]
fn interim_responses_are_skipped_to_the_real_one() {
    let port = serve_each(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
        0,
        Duration::ZERO,
    );
    let r = go(&plan(port, 100.0, 1, 4));
    assert_eq!((r.sent, r.completed), (100, 100), "{:?}", r.errors);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.status.get("2xx"), Some(&100), "{:?}", r.status);
    assert_eq!(r.status.get("1xx"), None);
}

#[test]
fn both_engines_read_every_framing_alike() {
    // Length, chunks with an extension and trailers, a 5xx, a `Connection: close`, a body
    // that runs to the end of the connection, and one cut short by the server.
    static CYCLE: [(&[u8], Then); 6] = [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", Then::Keep),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=1\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n",
            Then::Keep,
        ),
        (b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy", Then::Keep),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", Then::Close),
        (b"HTTP/1.0 200 OK\r\n\r\nto the end", Then::Close),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\ncut", Then::Close),
    ];
    // Bytes counted: heads, and bodies without their chunk framing (8 for the chunks).
    let chunked_head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".len() as u64;
    let per_cycle = CYCLE[0].0.len() as u64
        + chunked_head
        + 8
        + CYCLE[2].0.len() as u64
        + CYCLE[3].0.len() as u64
        + CYCLE[4].0.len() as u64;
    for direct in [true, false] {
        let port = serve_cycle(&CYCLE);
        let mut p = plan(port, 300.0, 1, 4);
        p.direct = direct;
        let r = go(&p);
        let engine = if direct { "direct" } else { "tokio" };
        assert_eq!((r.sent, r.completed), (300, 250), "{engine}: {r:#?}");
        assert_eq!(r.status.get("2xx"), Some(&200), "{engine}: {:?}", r.status);
        assert_eq!(r.status.get("5xx"), Some(&50), "{engine}: {:?}", r.status);
        assert_eq!(r.errors.get("reset"), Some(&50), "{engine}: {:?}", r.errors);
        assert_eq!(r.errors.len(), 1, "{engine}: {:?}", r.errors);
        assert_eq!(r.bytes_received, 50 * per_cycle, "{engine}");
    }
}

#[test]
fn a_connection_the_server_closed_while_idle_is_reopened_not_failed() {
    // The server closes after each answer without saying so (a keep-alive timeout shorter
    // than the gap between requests): the next request goes on a new connection.
    static CYCLE: [(&[u8], Then); 1] = [(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        Then::Close,
    )];
    let port = serve_cycle(&CYCLE);
    let r = go(&plan(port, 20.0, 1, 1));
    assert_eq!((r.sent, r.completed), (20, 20), "{:?}", r.errors);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    // Fast enough that the next request is often on its way before the close arrives:
    // a GET is then sent once more on a new connection, not failed (nor counted twice).
    let r = go(&plan(port, 2000.0, 1, 4));
    assert_eq!((r.sent, r.completed), (2000, 2000), "{:?}", r.errors);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
}

#[test]
fn a_port_nobody_listens_on_is_a_connect_error_with_its_reason() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    for direct in [true, false] {
        let mut p = plan(port, 50.0, 1, 4);
        p.direct = direct;
        let began = Instant::now();
        let r = go(&p);
        assert_eq!((r.sent, r.completed), (50, 0), "direct {direct}: {r:#?}");
        assert_eq!(r.errors.get("connect"), Some(&50), "{:?}", r.errors);
        let why = &r.error_samples["connect"];
        assert!(
            why.contains(&format!("127.0.0.1:{port}")) && why.contains("refused"),
            "{why}"
        );
        assert!(
            began.elapsed() < Duration::from_secs(3),
            "{:?}",
            began.elapsed()
        );
    }
}
