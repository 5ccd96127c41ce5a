//! `envparity traffic model` on logs written by the tests: the mix and peak agree with a
//! count done by hand, malformed lines are counted, no client address or query value leaks.

use std::io::Write;

use crate::support::Project;

/// 1,000 requests over 100 seconds: 70 % `GET /users/<id>?token=…`, 20 % `POST /checkout`,
/// 10 % `GET /users/me`; second 50 carries a spike of 100 extra requests.
fn log() -> String {
    let mut out = String::new();
    let mut line = |i: usize, second: usize, target: &str, method: &str, status: u16| {
        out.push_str(&format!(
            "203.0.113.{} - - [23/Nov/2026:10:{:02}:{:02} +0000] \"{method} {target} HTTP/1.1\" {status} 512 \"-\" \"k6\" 0.{:03}\n",
            i % 200,
            second / 60,
            second % 60,
            50 + i % 100
        ));
    };
    for i in 0..1000 {
        let second = i / 10;
        match i % 10 {
            0..=6 => line(
                i,
                second,
                &format!("/users/{}?token=QUERYCANARY{i}", 1000 + i),
                "GET",
                200,
            ),
            7 | 8 => line(
                i,
                second,
                "/checkout",
                "POST",
                if i % 20 == 7 { 502 } else { 201 },
            ),
            _ => line(i, second, "/users/me", "GET", 200),
        }
    }
    for i in 0..100 {
        line(i, 50, "/users/me", "GET", 200);
    }
    out
}

const FORMAT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#;

#[test]
fn a_model_agrees_with_a_count_by_hand() {
    let p = Project::new();
    let text = log();
    // Half plain, half gzip, with malformed lines in between.
    let lines: Vec<&str> = text.lines().collect();
    let (a, b) = lines.split_at(lines.len() / 2);
    p.file(
        "a.log",
        &format!(
            "{}\nthis is not a log line\n\"GET\" garbage\n",
            a.join("\n")
        ),
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b.join("\n").as_bytes()).unwrap();
    std::fs::write(p.path().join("b.log.gz"), gz.finish().unwrap()).unwrap();
    let run = p.run(&[
        "traffic",
        "model",
        "a.log",
        "b.log.gz",
        "--log-format",
        FORMAT,
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let m = run.json();
    assert_eq!(m["requests"], 1100);
    assert_eq!(m["malformed"], 2);
    assert_eq!(m["malformed_samples"][0]["file"], "a.log");
    assert_eq!(m["malformed_samples"][0]["line"], 551);
    let route = |method: &str, route: &str| {
        m["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["method"] == method && r["route"] == route)
            .unwrap_or_else(|| panic!("no {method} {route} in {:#}", m["routes"]))
            .clone()
    };
    assert_eq!(route("GET", "/users/:id?token")["requests"], 700);
    assert_eq!(route("POST", "/checkout")["requests"], 200);
    assert_eq!(route("POST", "/checkout")["status"]["5xx"], 50);
    assert_eq!(
        route("GET", "/users/me")["requests"],
        200,
        "`me` is not an id"
    );
    assert_eq!(m["routes"].as_array().unwrap().len(), 3);
    let rate = &m["rate"];
    assert_eq!(rate["peak_rps"], 110);
    assert_eq!(rate["span_seconds"], 100);
    assert_eq!(rate["average_rps"], 11.0);
    assert!(m["clients"].as_u64().unwrap().abs_diff(200) <= 4);
    for leak in ["QUERYCANARY", "203.0.113"] {
        assert!(!run.stdout.contains(leak), "{leak} leaked into the model");
        assert!(!run.stderr.contains(leak), "{leak} leaked into stderr");
    }
    // The summary names the busiest route first.
    let run = p.run(&[
        "traffic",
        "model",
        "a.log",
        "b.log.gz",
        "--log-format",
        FORMAT,
    ]);
    assert!(
        run.stdout.contains("GET    /users/:id?token"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("a.log:551: the line"), "{}", run.stderr);
    // --strict stops at the first malformed line, naming it.
    let run = p.run(&[
        "traffic",
        "model",
        "a.log",
        "--log-format",
        FORMAT,
        "--strict",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("a.log:551"), "{}", run.stderr);
}

#[test]
fn diff_says_what_qa_never_exercised_and_the_peak_it_never_reached() {
    let p = Project::new();
    // QA's last load test: 20 req/s of user lookups, no checkout.
    let mut qa = String::new();
    for i in 0..600 {
        let target = if i % 4 == 0 {
            "/users/me".to_string()
        } else {
            format!("/users/{}", 5000 + i)
        };
        qa.push_str(&format!(
            "198.51.100.{} - - [20/Nov/2026:09:00:{:02} +0000] \"GET {target} HTTP/1.1\" 200 300 \"-\" \"k6\" 0.020\n",
            i % 50,
            i / 20
        ));
    }
    p.file("logs/qa/access.log", &qa)
        .file("logs/prod/access.log", &log())
        .file(
            "envparity.toml",
            &format!(
                "[environments.qa]\ntraffic = [\"logs/qa/*.log\"]\nlog_format = '{FORMAT}'\n\n[environments.prod]\ntraffic = [\"logs/prod/*.log*\"]\nlog_format = '{FORMAT}'\nproduction = true\n"
            ),
        );
    let run = p.run(&["diff", "qa", "prod", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let finding = |key: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == key)
            .unwrap_or_else(|| panic!("no {key} in {report:#}"))
            .clone()
    };
    let checkout = finding("traffic:POST /checkout");
    assert_eq!(checkout["class"], "missing");
    assert_eq!(
        checkout["message"],
        "qa's traffic never exercised `POST /checkout`, which is 18.2 % of prod's"
    );
    let peak = finding("traffic:rate.peak_rps");
    assert_eq!(
        peak["message"],
        "qa's peak was 20 req/s, prod's 110: qa was never pushed to prod's peak"
    );
    // The HTML report draws each environment's rate on one scale, and the route mix.
    let html = p.run(&["diff", "qa", "prod", "--format", "html"]).stdout;
    assert_eq!(html.matches("<polyline").count(), 2, "{html}");
    assert!(
        html.contains("<code>POST /checkout</code></td><td><span class=\"absent\">never</span>"),
        "{html}"
    );
    for leak in ["QUERYCANARY", "203.0.113", "198.51.100"] {
        assert!(!html.contains(leak), "{leak} leaked into the HTML report");
    }
    let facets: Vec<&str> = report["facets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["facet"].as_str().unwrap())
        .collect();
    assert_eq!(facets, ["traffic"]);
    // A glob that matches nothing is named by its line in envparity.toml.
    p.file(
        "envparity.toml",
        "[environments.qa]\ntraffic = [\"logs/none/*.log\"]\n\n[environments.prod]\ntraffic = [\"logs/prod/*.log\"]\nproduction = true\n",
    );
    let run = p.run(&["diff", "qa", "prod"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.contains("envparity.toml:2:13") && run.stdout.contains("matches no file"),
        "{}",
        run.stdout
    );
}
