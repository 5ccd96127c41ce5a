//! `envparity load` as a user runs it: against a server on loopback, refusing
//! Production, and stopping on Ctrl-C with a usable partial result.

use std::io::{Read, Write};
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
    assert!((achieved - 100.0).abs() < 1.0, "{achieved}");
    assert!(result["latency_histogram"].as_str().unwrap().len() > 20);
}

#[test]
fn production_is_refused_unless_the_user_says_so() {
    let p = Project::new();
    p.file(
        "envparity.toml",
        "[environments.qa]\nurl = \"http://127.0.0.1:9/\"\n\n[environments.prod]\nurl = \"http://shop.example/\"\nproduction = true\n",
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
        "http://shop.example/checkout",
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
    assert!(run.stderr.contains("--max-rate"), "{}", run.stderr);
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
}
