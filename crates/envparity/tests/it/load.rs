//! `envparity load` as a user runs it: against a server on loopback, refusing
//! Production, and stopping on Ctrl-C with a usable partial result; a traffic model's mix
//! and curve, shards merged against a single run, `traffic compare` with its knee.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::Project;

/// A small HTTP/1.1 server on 127.0.0.1 answering every request with `ok`.
fn serve() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                let mut have = Vec::new();
                loop {
                    let Ok(n) = stream.read(&mut buf) else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    have.extend_from_slice(&buf[..n]);
                    while let Some(end) = have.windows(4).position(|w| w == b"\r\n\r\n") {
                        have.drain(..end + 4);
                        if stream
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                            .is_err()
                        {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

#[test]
fn a_constant_rate_run_writes_its_result() {
    let port = serve();
    let p = Project::new();
    let url = format!("http://127.0.0.1:{port}/health");
    let run = p.run(&[
        "load",
        &url,
        "--rate",
        "100/s",
        "--duration",
        "2s",
        "--connections",
        "4",
        // One thread: the current-thread runtime (the default is one per core).
        "--threads",
        "1",
        "-o",
        "run.json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("200 requests to"), "{}", run.stdout);
    let result: serde_json::Value = serde_json::from_str(&p.read("run.json")).unwrap();
    assert_eq!(result["format"], "envparity-load-result");
    assert_eq!(result["completed"], 200);
    assert_eq!(result["status"]["2xx"], 200);
    let achieved = result["achieved_rate"].as_f64().unwrap();
    // Sends per second over the sending window. 5 %, not 1 %: with a build sharing the two
    // cores a starved sender once finished 55 ms late (97.3/s). An open loop gone wrong is
    // far outside it (4 connections closed-loop on loopback send thousands a second).
    assert!((achieved - 100.0).abs() < 5.0, "{achieved}");
    assert!(result["latency_histogram"].as_str().unwrap().len() > 20);
}

#[test]
fn production_is_refused_unless_the_user_says_so() {
    let p = Project::new();
    p.file(
        "envparity.toml",
        "[environments.qa]\nurl = \"http://127.0.0.1:9/\"\n\n[environments.prod]\nurl = \"http://127.0.0.2:9/\"\nproduction = true\n",
    );
    let run = p.run(&["load", "prod", "--rate", "10", "--duration", "1s"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("refusing to send load") && run.stderr.contains("production = true"),
        "{}",
        run.stderr
    );
    // The same host written as a URL is Production too.
    let run = p.run(&[
        "load",
        "http://127.0.0.2:9/checkout",
        "--rate",
        "10",
        "--duration",
        "1s",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("refusing"), "{}", run.stderr);
    let run = p.run(&["load", "qa", "--rate", "2x-peak", "--duration", "1s"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--model"), "{}", run.stderr);
    let run = p.run(&["load", "qa", "--rate", "50000", "--duration", "1s"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--max-rate"), "{}", run.stderr);
    // A cap that is not a number caps nothing: refused, not passed.
    let run = p.run(&[
        "load",
        "qa",
        "--rate",
        "1e9",
        "--max-rate",
        "nan",
        "--duration",
        "1s",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--max-rate NaN"), "{}", run.stderr);
}

#[test]
fn where_the_result_goes_is_checked_before_the_run() {
    let p = Project::new();
    let started = std::time::Instant::now();
    let run = p.run(&[
        "load",
        "http://127.0.0.1:9/",
        "--rate",
        "10",
        "--duration",
        "30s",
        "-o",
        "no/such/folder/run.json",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("no folder no/such/folder to write the result in"),
        "{}",
        run.stderr
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "it ran first"
    );
    // A start time in milliseconds would wait for millennia: refused.
    let run = p.run(&[
        "load",
        "http://127.0.0.1:9/",
        "--rate",
        "10",
        "--duration",
        "1s",
        "--start-at",
        "1796155200000",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("more than a day from now"),
        "{}",
        run.stderr
    );
}

#[test]
fn ctrl_c_stops_within_a_second_and_keeps_a_partial_result() {
    let port = serve();
    let p = Project::new();
    let url = format!("http://127.0.0.1:{port}/");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_envparity"))
        .args([
            "load",
            &url,
            "--rate",
            "50",
            "--duration",
            "60s",
            "-o",
            "partial.json",
        ])
        .current_dir(p.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let interrupted = std::time::Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // Bounded wait: a second to stop, with margin for a loaded machine.
    let mut finished = None;
    for _ in 0..50 {
        if let Some(s) = child.try_wait().unwrap() {
            finished = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let Some(status) = finished else {
        let _ = child.kill();
        panic!("still running 5 s after Ctrl-C");
    };
    assert!(
        interrupted.elapsed() < Duration::from_secs(3),
        "{:?}",
        interrupted.elapsed()
    );
    assert!(status.success(), "{status:?}");
    let result: serde_json::Value = serde_json::from_str(&p.read("partial.json")).unwrap();
    let completed = result["completed"].as_u64().unwrap();
    assert!(
        (40..=120).contains(&completed),
        "{completed} in ~1.5 s at 50/s"
    );
    // What was scheduled still covers the whole minute, by route and by step, the
    // unsent requests included.
    assert_eq!(result["scheduled"], 3000);
    let total = |items: &serde_json::Value| -> u64 {
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["scheduled"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(total(&result["routes"]), 3000);
    assert_eq!(total(&result["timeline"]["points"]), 3000);
    assert_eq!(result["timeline"]["points"][59]["scheduled"], 50);
}

/// A server on 127.0.0.1 that records each request's head (`GET /a HTTP/1.1` and its
/// headers) and, if
/// `work` is set, holds one global lock for that long per request: a service with a
/// capacity of 1/work requests per second, whatever the connection count.
fn serve_recording(work: Option<Duration>) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let busy = Arc::new(Mutex::new(()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (record, busy) = (record.clone(), busy.clone());
            std::thread::spawn(move || {
                let mut stream = stream;
                let _ = stream.set_nodelay(true);
                let mut buf = [0u8; 8192];
                let mut have: Vec<u8> = Vec::new();
                loop {
                    let Ok(n) = stream.read(&mut buf) else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    have.extend_from_slice(&buf[..n]);
                    while let Some(end) = have.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&have[..end]).into_owned();
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("Content-Length: "))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if have.len() < end + 4 + length {
                            break;
                        }
                        have.drain(..end + 4 + length);
                        record.lock().unwrap().push(head);
                        if let Some(work) = work {
                            let _held = busy.lock().unwrap();
                            std::thread::sleep(work);
                        }
                        if stream
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                            .is_err()
                        {
                            return;
                        }
                    }
                }
            });
        }
    });
    (port, seen)
}

const LOG_FORMAT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#;

/// A Production log written by hand: 2,000 requests over 200 s (10 per second), 60 %
/// `GET /products/<id>`, 30 % `POST /cart/items`, 10 % `GET /`, and one busy second of
/// 200 requests (the peak) at 100 s. Latency 100 ms everywhere.
fn production_log() -> String {
    let mut out = String::new();
    let mut line = |t: u64, k: u64| {
        let request = match k % 10 {
            0..=5 => format!("GET /products/{} HTTP/1.1", 1000 + k % 97),
            6..=8 => "POST /cart/items HTTP/1.1".to_string(),
            _ => "GET / HTTP/1.1".to_string(),
        };
        let (m, s) = (t / 60, t % 60);
        out.push_str(&format!(
            "10.0.0.{} - - [01/Dec/2026:10:{m:02}:{s:02} +0000] \"{request}\" 200 512 \"-\" \"shop\" 0.100\n",
            k % 200
        ));
    };
    let mut k = 0;
    for t in 0..200 {
        let n = if t == 100 { 200 } else { 10 };
        for _ in 0..n {
            line(t, k);
            k += 1;
        }
    }
    out
}

fn fit_model(p: &Project) {
    p.file("prod.log", &production_log());
    let run = p.run(&[
        "traffic",
        "model",
        "prod.log",
        "--log-format",
        LOG_FORMAT,
        "-o",
        "prod.traffic.json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

fn route_of(head: &str) -> &'static str {
    let line = head.lines().next().unwrap_or_default();
    let path = line.split(' ').nth(1).unwrap_or_default();
    match (line.split(' ').next().unwrap_or_default(), path) {
        ("GET", p) if p.starts_with("/products/") => "GET /products/:id",
        ("POST", "/cart/items") => "POST /cart/items",
        ("GET", "/") => "GET /",
        _ => "other",
    }
}

#[test]
fn a_model_run_follows_its_mix_and_scales_to_its_peak() {
    let (port, seen) = serve_recording(None);
    let p = Project::new();
    fit_model(&p);
    let url = format!("http://127.0.0.1:{port}");
    // Twice the model's busiest second (200 req/s) is 400 req/s, held for 3 s.
    let run = p.run(&[
        "load",
        &url,
        "--model",
        "prod.traffic.json",
        "--rate",
        "2x-peak",
        "--shape",
        "constant",
        "--duration",
        "3s",
        "--connections",
        "16",
        "-o",
        "run.json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let result: serde_json::Value = serde_json::from_str(&p.read("run.json")).unwrap();
    assert_eq!(result["target_rate"], 400.0, "{}", run.stdout);
    assert_eq!(result["scheduled"], 1200);
    assert_eq!(result["completed"], 1200);
    let achieved = result["achieved_rate"].as_f64().unwrap();
    assert!((achieved - 400.0).abs() / 400.0 < 0.02, "{achieved}");
    // What the server saw follows the model's mix (binomial, 4 sigma at most).
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for line in seen.lock().unwrap().iter() {
        *counts.entry(route_of(line)).or_insert(0) += 1;
    }
    assert_eq!(counts.get("other"), None, "{counts:?}");
    for (route, share) in [
        ("GET /products/:id", 0.6f64),
        ("POST /cart/items", 0.3),
        ("GET /", 0.1),
    ] {
        let want = share * 1200.0;
        let sigma = (1200.0 * share * (1.0 - share)).sqrt();
        let got = counts.get(route).copied().unwrap_or(0) as f64;
        assert!(
            (got - want).abs() < 4.0 * sigma,
            "{route}: {got} of 1200, want ~{want} ({counts:?})"
        );
    }
    // The result groups by the model's routes, with the ids filled in.
    let routes = result["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 3, "{routes:?}");
    assert!(seen.lock().unwrap().iter().any(|l| {
        l.starts_with("GET /products/")
            && l.split('/')
                .nth(2)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse::<u64>()
                .is_ok()
    }));
    // The summary shows the route table.
    assert!(run.stdout.contains("POST /cart/items"), "{}", run.stdout);
}

#[test]
fn shards_started_together_send_exactly_what_one_run_sends_and_merge_losslessly() {
    let (port, seen) = serve_recording(None);
    let p = Project::new();
    fit_model(&p);
    let url = format!("http://127.0.0.1:{port}");
    let plan = [
        "--model",
        "prod.traffic.json",
        "--rate",
        "300/s",
        "--shape",
        "steps:3",
        "--duration",
        "3s",
        "--connections",
        "8",
    ];
    // The single run.
    let mut args = vec!["load", url.as_str()];
    args.extend(plan);
    args.extend(["-o", "single.json"]);
    let single = p.run(&args);
    assert_eq!(single.code, 0, "{}", single.stderr);
    let mut single_requests: Vec<String> = std::mem::take(&mut *seen.lock().unwrap());
    // Three shard processes with one start time, two seconds from now.
    let start = (std::time::SystemTime::now() + Duration::from_secs(2))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let start = format!("{start:.3}");
    let children: Vec<std::process::Child> = (0..3)
        .map(|i| {
            let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_envparity"));
            c.arg("load").arg(&url).args(plan);
            c.args([
                "--shard",
                &format!("{i}/3"),
                "--start-at",
                &start,
                "-o",
                &format!("shard-{i}.json"),
            ]);
            c.current_dir(p.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut shard_requests: Vec<String> = std::mem::take(&mut *seen.lock().unwrap());
    // Request for request (route and drawn parameters), the shards sent the single run.
    single_requests.sort();
    shard_requests.sort();
    assert_eq!(single_requests.len(), 300 / 3 + 200 + 300);
    assert_eq!(shard_requests, single_requests);
    let merged = p.run(&[
        "load",
        "merge",
        "shard-0.json",
        "shard-1.json",
        "shard-2.json",
        "-o",
        "merged.json",
    ]);
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    let m: serde_json::Value = serde_json::from_str(&p.read("merged.json")).unwrap();
    let s: serde_json::Value = serde_json::from_str(&p.read("single.json")).unwrap();
    for field in ["scheduled", "sent", "completed", "target_rate", "shape"] {
        assert_eq!(m[field], s[field], "{field}");
    }
    assert!(m.get("shards").is_none(), "all three shards: the whole run");
    let route_counts = |v: &serde_json::Value| -> BTreeMap<String, (u64, u64)> {
        v["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    format!(
                        "{} {}",
                        r["method"].as_str().unwrap(),
                        r["route"].as_str().unwrap()
                    ),
                    (
                        r["scheduled"].as_u64().unwrap(),
                        r["completed"].as_u64().unwrap(),
                    ),
                )
            })
            .collect()
    };
    assert_eq!(route_counts(&m), route_counts(&s));
    let step_counts = |v: &serde_json::Value| -> Vec<u64> {
        v["timeline"]["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["scheduled"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(step_counts(&m), step_counts(&s));
    assert_eq!(step_counts(&m), vec![100, 200, 300]);
    // The merged histogram holds every shard's samples: its p50 lies within the shards'.
    let p50 = |v: &serde_json::Value| v["latency"]["p50"].as_f64().unwrap();
    let shards: Vec<serde_json::Value> = (0..3)
        .map(|i| serde_json::from_str(&p.read(&format!("shard-{i}.json"))).unwrap())
        .collect();
    let lo = shards.iter().map(p50).fold(f64::MAX, f64::min);
    let hi = shards.iter().map(p50).fold(0.0, f64::max);
    assert!(lo <= p50(&m) && p50(&m) <= hi, "{lo} {} {hi}", p50(&m));
    // A shard twice, or of another run, is refused.
    let twice = p.run(&["load", "merge", "shard-0.json", "shard-0.json"]);
    assert_eq!(twice.code, 2);
    assert!(
        twice
            .stderr
            .contains("shard-0.json: shard 1/3 appears twice")
            || twice
                .stderr
                .contains("shard-0.json: shard 0/3 appears twice"),
        "the file is named: {}",
        twice.stderr
    );
    let other = p.run(&["load", "merge", "shard-0.json", "single.json"]);
    assert_eq!(other.code, 2, "{}", other.stderr);
    assert!(other.stderr.contains("single.json: "), "{}", other.stderr);
}

#[test]
fn compare_finds_the_knee_of_a_service_that_cannot_carry_the_peak() {
    // 15 ms of serialized work per request: about 66 req/s, whatever the connections.
    let (port, _) = serve_recording(Some(Duration::from_millis(15)));
    let p = Project::new();
    fit_model(&p);
    let url = format!("http://127.0.0.1:{port}");
    // Steps of 1 s at 50, 100, 150, 200, 250, 300, 350, 400 req/s: 2× the 200 req/s peak.
    let run = p.run(&[
        "load",
        &url,
        "--model",
        "prod.traffic.json",
        "--rate",
        "2x-peak",
        "--shape",
        "steps:8",
        "--duration",
        "8s",
        "--connections",
        "64",
        "--timeout",
        "30s",
        "-o",
        "qa-run.json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let compare = p.run(&[
        "traffic",
        "compare",
        "prod.traffic.json",
        "qa-run.json",
        "--p99-limit",
        "200ms",
    ]);
    assert_eq!(compare.code, 1, "{}\n{}", compare.stdout, compare.stderr);
    let out = &compare.stdout;
    assert!(out.contains("headroom short"), "{out}");
    // 50 req/s is within its capacity; 100 req/s is not, and the queue only grows.
    assert!(
        out.contains("qa gave way at 100 req/s (0.50× prod's peak of 200 req/s)"),
        "{out}"
    );
    assert!(
        out.contains("GET /products/:id") && out.contains("100.0 ms"),
        "{out}"
    );
    let json = p.run(&[
        "traffic",
        "compare",
        "prod.traffic.json",
        "qa-run.json",
        "--p99-limit",
        "200ms",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let load = &report["load"][0]["comparison"];
    assert_eq!(load["headroom"], "short");
    assert_eq!(load["knee"]["rps"], 100.0);
    let keys: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"load:headroom"), "{keys:?}");
    assert!(keys.contains(&"load:GET /products/:id.p99"), "{keys:?}");
    // QA that cannot carry Production's peak fails an error gate, not only a drift one.
    let headroom = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "load:headroom")
        .unwrap();
    assert_eq!(
        (headroom["class"].as_str(), headroom["severity"].as_str()),
        (Some("drift"), Some("error"))
    );
    let html = p.run(&[
        "traffic",
        "compare",
        "prod.traffic.json",
        "qa-run.json",
        "--p99-limit",
        "200ms",
        "--format",
        "html",
    ]);
    assert!(
        html.stdout.contains("class=\"knee\"") && html.stdout.contains("class=\"p99\""),
        "charts"
    );
    // envparity.toml's `[rules.load]` stands in for the flag, and its expected
    // differences apply here as in `diff`.
    p.file(
        "envparity.toml",
        "[rules.load]\np99_limit_ms = 200\n\n[[rules.expect]]\nkey = \"load:GET /products/:id.p99\"\nreason = \"QA runs one small node\"\n",
    );
    let ruled = p.run(&[
        "traffic",
        "compare",
        "prod.traffic.json",
        "qa-run.json",
        "--format",
        "json",
    ]);
    assert_eq!(ruled.code, 1, "{}", ruled.stderr);
    let report: serde_json::Value = serde_json::from_str(&ruled.stdout).unwrap();
    assert_eq!(report["load"][0]["comparison"]["knee"]["rps"], 100.0);
    let class_of = |key: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == key)
            .map(|f| f["class"].as_str().unwrap().to_string())
    };
    assert_eq!(
        class_of("load:GET /products/:id.p99").as_deref(),
        Some("expected")
    );
    assert_eq!(class_of("load:headroom").as_deref(), Some("drift"));
    // A flag still wins over the file.
    let flagged = p.run(&[
        "traffic",
        "compare",
        "prod.traffic.json",
        "qa-run.json",
        "--p99-limit",
        "10s",
        "--error-limit",
        "100%",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&flagged.stdout).unwrap();
    assert_ne!(
        report["load"][0]["comparison"]["knee"]["rps"], 100.0,
        "{}",
        flagged.stdout
    );
}

#[test]
fn compare_says_when_qa_held_twice_the_peak() {
    let (port, _) = serve_recording(None);
    let p = Project::new();
    fit_model(&p);
    let url = format!("http://127.0.0.1:{port}");
    let run = p.run(&[
        "load",
        &url,
        "--model",
        "prod.traffic.json",
        "--rate",
        "2x-peak",
        "--shape",
        "ramp",
        "--duration",
        "4s",
        "--connections",
        "16",
        "-o",
        "qa-run.json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let compare = p.run(&["traffic", "compare", "prod.traffic.json", "qa-run.json"]);
    let out = &compare.stdout;
    assert!(out.contains("headroom enough"), "{out}\n{}", compare.stderr);
    assert!(
        out.contains("qa held") && out.contains("prod's peak of 200 req/s"),
        "{out}"
    );
    assert_eq!(compare.code, 0, "{out}");
    // In `diff`, through envparity.toml: QA's run against Production's logs.
    p.file(
        "envparity.toml",
        &format!(
            "[environments.qa]\nload = [\"qa-run.json\"]\n\n[environments.prod]\ntraffic = [\"prod.log\"]\nlog_format = '{LOG_FORMAT}'\nproduction = true\n"
        ),
    );
    let diff = p.run(&["diff", "qa", "prod", "--facet", "traffic"]);
    assert!(
        diff.stdout
            .contains("Load: qa under prod's traffic — headroom enough"),
        "{}\n{}",
        diff.stdout,
        diff.stderr
    );
    // `[rules.load]` sets the limits `diff` judges by: a 1 µs p99 limit puts the knee at
    // the ramp's first step, a fifth of the peak.
    p.file(
        "envparity.toml",
        &format!(
            "[environments.qa]\nload = [\"qa-run.json\"]\n\n[environments.prod]\ntraffic = [\"prod.log\"]\nlog_format = '{LOG_FORMAT}'\nproduction = true\n\n[rules.load]\np99_limit_ms = 0.001\n"
        ),
    );
    let strict = p.run(&["diff", "qa", "prod", "--facet", "traffic"]);
    assert_eq!(strict.code, 1, "short headroom is drift: {}", strict.stdout);
    assert!(
        strict.stdout.contains("headroom short"),
        "{}\n{}",
        strict.stdout,
        strict.stderr
    );
    assert!(strict.stdout.contains("above 1 µs"), "{}", strict.stdout);
    // QA has a load run and no logs of its own: the run stands for its traffic, so no
    // "qa has no traffic model" finding.
    assert!(
        !diff.stdout.contains("name qa's access logs"),
        "{}",
        diff.stdout
    );
    // Without Production's model the run cannot be judged: said, not skipped in silence.
    p.file(
        "envparity.toml",
        "[environments.qa]\nload = [\"qa-run.json\"]\n\n[environments.prod]\nproduction = true\n",
    );
    let alone = p.run(&["diff", "qa", "prod", "--facet", "traffic"]);
    assert_eq!(alone.code, 0, "a note, not a finding: {}", alone.stdout);
    assert!(
        alone.stdout.contains(
            "qa's load run is not compared: prod has no traffic model to compare it with"
        ),
        "{}\n{}",
        alone.stdout,
        alone.stderr
    );
}

/// A parsed YAML node as JSON, to look into rendered manifests.
fn to_json(node: &envparity_config::tree::Node) -> serde_json::Value {
    use envparity_config::tree::NodeKind;
    match &node.kind {
        NodeKind::Null => serde_json::Value::Null,
        NodeKind::Bool(b) => (*b).into(),
        NodeKind::Number(n) => serde_json::from_str(n).unwrap(),
        NodeKind::String(s) => s.as_str().into(),
        NodeKind::List(items) => items.iter().map(to_json).collect(),
        NodeKind::Map(entries) => entries
            .iter()
            .map(|(k, v)| (k.to_string(), to_json(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
}

#[test]
fn a_k8s_job_runs_the_plan_as_indexed_shards_from_one_start() {
    // No Kubernetes API server runs here: the manifests are checked as YAML, field by
    // field; the sharding they call for is tested with processes above.
    let p = Project::new();
    fit_model(&p);
    p.file("load.toml", "[params]\nid = \"1..50\"\n");
    let run = p.run(&[
        "load",
        "k8s-job",
        "http://qa.shop.internal:8080",
        "--model",
        "prod.traffic.json",
        "--requests",
        "load.toml",
        "--rate",
        "2x-peak",
        "--shape",
        "steps:4",
        "--duration",
        "5m",
        "--connections",
        "256",
        "--shards",
        "8",
        "--image",
        "registry.internal/envparity:0.1",
        "--namespace",
        "load",
        "--env-from-secret",
        "qa-token",
        "-o",
        "job.yaml",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = p.read("job.yaml");
    let docs =
        envparity_config::read::parse(envparity_core::snapshot::Format::Yaml, &text).unwrap();
    assert_eq!(docs.len(), 2, "a ConfigMap and a Job");
    let config_map = to_json(&docs[0]);
    let job = to_json(&docs[1]);
    assert_eq!(config_map["kind"], "ConfigMap");
    // The model travels in the ConfigMap, whole.
    let model: serde_json::Value =
        serde_json::from_str(config_map["data"]["model.json"].as_str().unwrap()).unwrap();
    assert_eq!(model["format"], "envparity-traffic-model");
    assert_eq!(
        config_map["data"]["requests.toml"],
        "[params]\nid = \"1..50\"\n"
    );
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["metadata"]["namespace"], "load");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(
        (spec["completions"].as_u64(), spec["parallelism"].as_u64()),
        (Some(8), Some(8))
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    let container = &pod["containers"][0];
    assert_eq!(container["image"], "registry.internal/envparity:0.1");
    assert_eq!(container["envFrom"][0]["secretRef"]["name"], "qa-token");
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let after = |flag: &str| args[args.iter().position(|a| *a == flag).unwrap() + 1];
    assert_eq!(args[..2], ["load", "http://qa.shop.internal:8080"]);
    assert_eq!(after("--model"), "/plan/model.json");
    assert_eq!(after("--requests"), "/plan/requests.toml");
    assert_eq!(after("--shard"), "$(JOB_COMPLETION_INDEX)/8");
    assert_eq!(after("--connections"), "32", "256 connections over 8 pods");
    assert_eq!(after("--rate"), "2x-peak");
    assert_eq!(after("-o"), "-");
    assert!(
        args.contains(&"--quiet"),
        "the logs must be the JSON alone: {args:?}"
    );
    // One start for all, about two minutes from now.
    let start = after("--start-at");
    assert!(start.ends_with('Z') && start.contains('T'), "{start}");
    assert_eq!(
        pod["volumes"][0]["configMap"]["name"],
        "envparity-load-plan"
    );
    assert!(
        run.stderr.contains("8 shards of 75,000 requests"),
        "{}",
        run.stderr
    );
    // A production target is refused here too.
    p.file(
        "envparity.toml",
        "[environments.prod]\nurl = \"http://127.0.0.2:9\"\nproduction = true\n",
    );
    let refused = p.run(&["load", "k8s-job", "prod", "--rate", "10", "--image", "x"]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("refusing"), "{}", refused.stderr);
}

/// nginx from Debian with TLS and HTTP/2, in a temporary prefix on a free port.
struct Nginx {
    child: std::process::Child,
    port: u16,
    cert: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // TERM, so the master stops its worker too (a KILL would orphan it).
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_https() -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (cert, key) = (d.join("cert.pem"), d.join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl is installed (scripts/test installs it)");
    assert!(made.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::create_dir_all(d.join("logs")).unwrap();
    std::fs::write(
        d.join("nginx.conf"),
        format!(
            "worker_processes 1;\nerror_log {d}/logs/error.log warn;\npid {d}/nginx.pid;\nevents {{ worker_connections 1024; }}\n\
             http {{\n access_log off;\n client_body_temp_path {d}/body;\n\
             server {{\n  listen 127.0.0.1:{port} ssl http2;\n  ssl_certificate {cert};\n  ssl_certificate_key {key};\n\
               location / {{ return 200 \"ok\\n\"; }}\n  location /slow {{ return 503; }}\n }}\n}}\n",
            d = d.display(),
            cert = cert.display(),
            key = key.display()
        ),
    )
    .unwrap();
    let child = std::process::Command::new("nginx")
        .arg("-p")
        .arg(d)
        .arg("-c")
        .arg(d.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nginx is installed (scripts/test installs nginx-light)");
    let up = (0..100).any(|_| {
        let up = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        if !up {
            std::thread::sleep(Duration::from_millis(50));
        }
        up
    });
    assert!(
        up,
        "nginx did not listen within 5 s: {}",
        std::fs::read_to_string(d.join("logs/error.log")).unwrap_or_default()
    );
    Nginx {
        child,
        port,
        cert,
        _dir: dir,
    }
}

#[test]
fn nginx_over_tls_and_http2_with_the_users_ca() {
    let nginx = nginx_https();
    let p = Project::new();
    let url = format!("https://127.0.0.1:{}/", nginx.port);
    let cacert = nginx.cert.display().to_string();
    for http2 in [false, true] {
        let mut args = vec![
            "load",
            url.as_str(),
            "--rate",
            "300",
            "--duration",
            "2s",
            "--connections",
            "4",
            "--cacert",
            cacert.as_str(),
            "-o",
            "-",
        ];
        if http2 {
            args.push("--http2");
        }
        let run = p.run(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let r: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(r["protocol"], if http2 { "https/h2" } else { "https/1.1" });
        assert_eq!(r["status"]["2xx"], 600, "{}", run.stderr);
        let achieved = r["achieved_rate"].as_f64().unwrap();
        assert!((achieved - 300.0).abs() / 300.0 < 0.02, "{achieved}");
        // The summary went to stderr, the result alone to stdout.
        assert!(run.stderr.contains("600 requests to"), "{}", run.stderr);
    }
    // Without the CA, every request is a TLS error, and the summary says why once.
    let run = p.run(&[
        "load",
        url.as_str(),
        "--rate",
        "50",
        "--duration",
        "1s",
        "--connections",
        "2",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("50 failed (tls 50)"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("first tls error: TLS with 127.0.0.1: invalid peer certificate"),
        "{}",
        run.stdout
    );
    // 5xx answers count as failed, by route.
    let run = p.run(&[
        "load",
        &format!("https://127.0.0.1:{}/slow", nginx.port),
        "--rate",
        "50",
        "--duration",
        "1s",
        "--insecure",
        "-o",
        "slow.json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r: serde_json::Value = serde_json::from_str(&p.read("slow.json")).unwrap();
    assert_eq!(r["status"]["5xx"], 50);
    assert_eq!(r["routes"][0]["route"], "/slow");
}

#[test]
fn a_secret_header_reaches_the_server_and_no_output() {
    let (port, seen) = serve_recording(None);
    let mut p = Project::new();
    fit_model(&p);
    p.set_env("QA_TOKEN", "CANARY-7f3a9c");
    p.file(
        "load.toml",
        "[headers]\nAuthorization = \"Bearer ${QA_TOKEN}\"\n\n[[request]]\nroute = \"POST /cart/items\"\nheaders = { \"X-Api-Key\" = \"${QA_TOKEN}\" }\nbody = '{\"sku\": 1}'\n",
    );
    let url = format!("http://127.0.0.1:{port}");
    let run = p.run(&[
        "load",
        &url,
        "--model",
        "prod.traffic.json",
        "--requests",
        "load.toml",
        "--rate",
        "100",
        "--duration",
        "1s",
        "-o",
        "run.json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let heads = seen.lock().unwrap().clone();
    assert!(
        heads
            .iter()
            .all(|h| h.contains("Authorization: Bearer CANARY-7f3a9c")),
        "every request carries it"
    );
    assert!(
        heads
            .iter()
            .any(|h| h.starts_with("POST /cart/items") && h.contains("X-Api-Key: CANARY-7f3a9c"))
    );
    for text in [
        run.stdout.as_str(),
        run.stderr.as_str(),
        &p.read("run.json"),
    ] {
        assert!(!text.contains("CANARY"), "the header's value leaked");
    }
    // The same through compare's reports and a job's manifests.
    for format in ["text", "json", "markdown", "html", "sarif", "junit"] {
        let out = p.run(&[
            "traffic",
            "compare",
            "prod.traffic.json",
            "run.json",
            "--format",
            format,
        ]);
        assert!(
            !out.stdout.contains("CANARY") && !out.stderr.contains("CANARY"),
            "{format}"
        );
    }
    let k8s_job = |p: &Project| {
        p.run(&[
            "load",
            "k8s-job",
            &url,
            "--model",
            "prod.traffic.json",
            "--requests",
            "load.toml",
            "--image",
            "x",
        ])
    };
    let job = k8s_job(&p);
    assert_eq!(job.code, 0, "{}", job.stderr);
    assert!(
        !job.stdout.contains("CANARY") && job.stdout.contains("${QA_TOKEN}"),
        "the pod reads it from its Secret"
    );
    // Unset, the variable is named, never guessed at.
    p.unset_env("QA_TOKEN");
    let run = p.run(&[
        "load",
        &url,
        "--requests",
        "load.toml",
        "--rate",
        "10",
        "--duration",
        "1s",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("${QA_TOKEN} is not set"),
        "{}",
        run.stderr
    );
    // A job is planned here but sends from its pods: the variable is theirs to set.
    let job = k8s_job(&p);
    assert_eq!(job.code, 0, "{}", job.stderr);
    assert!(job.stdout.contains("${QA_TOKEN}"), "{}", job.stdout);
    // A secret is sent as it is, never read as a template: braces stay braces, and an
    // unbalanced one is no error quoting it.
    p.set_env("QA_TOKEN", "CANARY{id}{{x}}{abc");
    let run = p.run(&[
        "load",
        &url,
        "--requests",
        "load.toml",
        "--rate",
        "20",
        "--duration",
        "1s",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|h| h.contains("Authorization: Bearer CANARY{id}{{x}}{abc")),
        "sent as set"
    );
    assert!(!run.stderr.contains("CANARY"), "{}", run.stderr);
    // A trailing newline (as a Secret file often has) would end the header: refused,
    // naming the header and not the value.
    p.set_env("QA_TOKEN", "CANARY-7f3a9c\n");
    let run = p.run(&[
        "load",
        &url,
        "--requests",
        "load.toml",
        "--rate",
        "10",
        "--duration",
        "1s",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("[headers] Authorization: its value holds a line break")
            && !run.stderr.contains("CANARY"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_k8s_job_refuses_parameter_files_the_pods_would_not_have() {
    let p = Project::new();
    fit_model(&p);
    p.file("ids.txt", "1\n2\n");
    p.file(
        "load.toml",
        "[params]\nid = { file = \"ids.txt\" }\n\n[[request]]\nroute = \"GET /products/:id\"\npath = \"/products/{id}\"\n",
    );
    let job = p.run(&[
        "load",
        "k8s-job",
        "http://127.0.0.1:9",
        "--model",
        "prod.traffic.json",
        "--requests",
        "load.toml",
        "--image",
        "x",
    ]);
    assert_eq!(job.code, 2, "{}", job.stdout);
    assert!(
        job.stderr
            .contains("load.toml: [params] id reads ids.txt, which the pods would not have"),
        "{}",
        job.stderr
    );
    assert!(
        job.stdout.is_empty(),
        "no manifest for a job that would fail"
    );
}
