//! The same traffic written in every log format envparity reads gives the same model:
//! nginx and Apache text logs, Envoy, Traefik and Caddy JSON lines, AWS ALB, HAR. Each
//! file is read with no format named (told from its first lines) unless the format is a
//! custom one, and no query value or client address reaches the model in any of them.

use crate::support::Project;

/// 2026-11-23T10:00:00Z.
const T0: i64 = 1_795_428_000;

struct Request {
    /// Whole seconds after `T0` when the request began.
    start: i64,
    method: &'static str,
    target: String,
    status: u16,
    /// Seconds.
    duration: f64,
    client: String,
}

/// 1,000 requests over 100 s (70 % user lookups with a token in the query, 20 % checkout
/// with 1 in 4 failing, 10 % `/users/me`), and a burst of 100 checkouts in second 50.
fn traffic() -> Vec<Request> {
    let mut out = Vec::new();
    for i in 0..1000usize {
        let (method, target, status) = match i % 10 {
            0..=6 => (
                "GET",
                format!("/users/{}?token=QUERYCANARY{i}", 1000 + i),
                200,
            ),
            7 | 8 => (
                "POST",
                "/checkout".to_string(),
                if i % 20 == 7 { 502 } else { 201 },
            ),
            _ => ("GET", "/users/me".to_string(), 200),
        };
        out.push(Request {
            start: (i / 10) as i64,
            method,
            target,
            status,
            duration: 0.050 + (i % 100) as f64 / 1000.0,
            client: format!("203.0.113.{}", i % 200),
        });
    }
    for i in 0..100 {
        out.push(Request {
            start: 50,
            method: "POST",
            target: "/checkout".to_string(),
            status: 201,
            duration: 0.2,
            client: format!("203.0.113.{}", i % 200),
        });
    }
    out
}

fn iso(seconds: f64) -> String {
    let whole = seconds.floor() as i64;
    let (h, m, s) = ((whole / 3600) % 24, (whole / 60) % 60, whole % 60);
    let millis = ((seconds - whole as f64) * 1000.0).round() as i64;
    format!("2026-11-23T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

fn clf(seconds: f64) -> String {
    let whole = seconds.floor() as i64;
    let (h, m, s) = ((whole / 3600) % 24, (whole / 60) % 60, whole % 60);
    format!("23/Nov/2026:{h:02}:{m:02}:{s:02} +0000")
}

/// Each format: (file name, text, extra flags).
fn renderings() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let requests = traffic();
    let at = |r: &Request| (T0 - 1_795_392_000 + r.start) as f64; // seconds since midnight
    let mut nginx = String::new();
    let mut apache = String::new();
    let mut common = String::new();
    let mut envoy = String::new();
    let mut traefik = String::new();
    let mut caddy = String::new();
    let mut alb = String::new();
    let mut har = Vec::new();
    for r in &requests {
        let start = at(r);
        let end = start + r.duration;
        let (m, t, st, d, c) = (r.method, &r.target, r.status, r.duration, &r.client);
        // nginx logs when the request ended.
        nginx.push_str(&format!(
            "{c} - - [{}] \"{m} {t} HTTP/1.1\" {st} 512 \"-\" \"k6\" {d:.3}\n",
            clf(end)
        ));
        // Apache logs when it began, with %D in microseconds.
        apache.push_str(&format!(
            "{c} - - [{}] \"{m} {t} HTTP/1.1\" {st} 512 {}\n",
            clf(start),
            (d * 1e6).round()
        ));
        common.push_str(&format!(
            "{c} - - [{}] \"{m} {t} HTTP/1.1\" {st} 512\n",
            clf(end)
        ));
        envoy.push_str(&format!(
            "{{\"start_time\":\"{}\",\"method\":\"{m}\",\"path\":\"{}\",\"protocol\":\"HTTP/1.1\",\"response_code\":{st},\"bytes_sent\":512,\"duration\":{},\"downstream_remote_address\":\"{c}:40000\"}}\n",
            iso(start),
            t.replace('/', "\\/"),
            (d * 1000.0).round()
        ));
        traefik.push_str(&format!(
            "{{\"ClientHost\":\"{c}\",\"DownstreamStatus\":{st},\"Duration\":{},\"RequestMethod\":\"{m}\",\"RequestPath\":\"{t}\",\"StartUTC\":\"{}\"}}\n",
            (d * 1e9).round(),
            iso(start)
        ));
        caddy.push_str(&format!(
            "{{\"level\":\"info\",\"ts\":{:.3},\"logger\":\"http.log.access\",\"msg\":\"handled request\",\"request\":{{\"remote_ip\":\"{c}\",\"method\":\"{m}\",\"host\":\"shop\",\"uri\":\"{t}\",\"headers\":{{\"Cookie\":[\"sid=COOKIECANARY\"]}}}},\"duration\":{d},\"size\":512,\"status\":{st}}}\n",
            (T0 + r.start) as f64 + d
        ));
        alb.push_str(&format!(
            "https {} app/shop/50dc6c495c0c9188 {c}:2817 10.0.0.1:80 0.000 {d:.3} 0.000 {st} {st} 34 512 \"{m} https://shop.example:443{t} HTTP/1.1\" \"k6\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/shop/73e2d6bc24d8a067 \"Root=1-58337281-1d84f3d73c47ec4e58577259\" \"shop.example\" \"-\" 1 {} \"forward\" \"-\" \"-\" \"10.0.0.1:80\" \"{st}\" \"-\" \"-\" TID_1\n",
            iso(end),
            iso(start)
        ));
        har.push(format!(
            "{{\"startedDateTime\":\"{}\",\"time\":{},\"request\":{{\"method\":\"{m}\",\"url\":\"https://shop.example{t}\",\"headers\":[{{\"name\":\"Cookie\",\"value\":\"sid=COOKIECANARY\"}}],\"bodySize\":0}},\"response\":{{\"status\":{st},\"bodySize\":512,\"content\":{{\"size\":512,\"text\":\"BODYCANARY\"}}}}}}",
            iso(start),
            d * 1000.0
        ));
    }
    let har = format!(
        "{{\n  \"log\": {{\n    \"version\": \"1.2\",\n    \"creator\": {{\"name\": \"test\", \"version\": \"1\"}},\n    \"entries\": [\n{}\n    ]\n  }}\n}}\n",
        har.join(",\n")
    );
    vec![
        (
            "nginx.log",
            nginx,
            vec![
                "--log-format",
                r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#,
            ],
        ),
        (
            "apache.log",
            apache,
            vec!["--apache-format", r#"%h %l %u %t "%r" %>s %b %D"#],
        ),
        ("common.log", common, vec![]),
        ("envoy.json", envoy, vec![]),
        ("traefik.log", traefik, vec![]),
        ("caddy.log", caddy, vec![]),
        ("alb.log", alb, vec![]),
        ("capture.har", har, vec![]),
    ]
}

#[test]
fn every_format_gives_the_model_a_count_by_hand_gives() {
    let p = Project::new();
    for (name, text, flags) in renderings() {
        p.file(name, &text);
        let mut args = vec!["traffic", "model", name, "--json"];
        args.extend(flags.iter().copied());
        let run = p.run(&args);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let m = run.json();
        assert_eq!(m["requests"], 1100, "{name}");
        assert_eq!(m["malformed"], 0, "{name}: {:#}", m["malformed_samples"]);
        let route = |method: &str, route: &str| {
            m["routes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["method"] == method && r["route"] == route)
                .unwrap_or_else(|| panic!("{name}: no {method} {route} in {:#}", m["routes"]))
                .clone()
        };
        assert_eq!(route("GET", "/users/:id?token")["requests"], 700, "{name}");
        assert_eq!(route("GET", "/users/me")["requests"], 100, "{name}");
        let checkout = route("POST", "/checkout");
        assert_eq!(checkout["requests"], 300, "{name}");
        assert_eq!(checkout["status"]["5xx"], 50, "{name}");
        assert_eq!(checkout["status"]["2xx"], 250, "{name}");
        assert_eq!(m["routes"].as_array().unwrap().len(), 3, "{name}");
        let rate = &m["rate"];
        assert_eq!(rate["peak_rps"], 110, "{name}");
        assert_eq!(rate["span_seconds"], 100, "{name}");
        // The busiest second is the burst, and the burst was checkouts.
        let spike = &rate["spikes"][0];
        assert_eq!(spike["requests"], 110, "{name}");
        assert_eq!(
            spike["routes"][0]["route"], "/checkout",
            "{name}: {spike:#}"
        );
        let share = spike["routes"][0]["share"].as_f64().unwrap();
        let usual = spike["routes"][0]["usual_share"].as_f64().unwrap();
        assert!(
            share > 0.5 && (usual - 300.0 / 1100.0).abs() < 0.001,
            "{name}: {spike:#}"
        );
        if name != "common.log" {
            // `/users/me` took 59, 69, … 149 ms, ten requests each: p50 is 99 ms.
            let p50 = route("GET", "/users/me")["latency"]["p50"]
                .as_f64()
                .unwrap();
            assert!((p50 - 0.099).abs() < 0.099 * 0.02, "{name}: p50 {p50}");
        }
        if name != "capture.har" {
            let clients = m["clients"].as_u64().unwrap();
            assert!(clients.abs_diff(200) <= 4, "{name}: {clients} clients");
        }
        for leak in [
            "QUERYCANARY",
            "203.0.113",
            "COOKIECANARY",
            "BODYCANARY",
            "shop.example",
        ] {
            assert!(
                !run.stdout.contains(leak),
                "{name}: {leak} leaked into the model"
            );
            assert!(
                !run.stderr.contains(leak),
                "{name}: {leak} leaked into stderr"
            );
        }
    }
}

#[test]
fn a_file_no_format_reads_is_named_with_what_to_do() {
    let p = Project::new();
    p.file("app.log", "INFO started\nINFO listening on :8080\n");
    let run = p.run(&["traffic", "model", "app.log"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("app.log: no log format envparity knows reads its first lines")
            && run.stderr.contains("--log-format"),
        "{}",
        run.stderr
    );
    // A named input that does not fit counts every line as malformed, and says why.
    let run = p.run(&["traffic", "model", "app.log", "--input", "envoy", "--json"]);
    assert_eq!(run.code, 2, "no request read: {}", run.stderr);
    assert!(
        run.stderr
            .contains("app.log:1: the line is not a JSON object"),
        "{}",
        run.stderr
    );
    let run = p.run(&["traffic", "model", "app.log", "--input", "w3c"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown log input `w3c`"),
        "{}",
        run.stderr
    );
    // A custom JSON mapping.
    p.file(
        "app.jsonl",
        "{\"at\":\"2026-11-23T10:00:00Z\",\"req\":{\"verb\":\"GET\",\"path\":\"/orders/7\"},\"code\":200,\"took\":\"12ms\"}\n",
    );
    let run = p.run(&[
        "traffic",
        "model",
        "app.jsonl",
        "--json-fields",
        "time=at:start,method=req.verb,target=req.path,status=code,duration=took",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let m = run.json();
    assert_eq!(m["routes"][0]["route"], "/orders/:id");
    assert_eq!(m["routes"][0]["latency"]["max"], 0.012);
}

#[test]
fn openapi_and_user_templates_name_the_routes() {
    let p = Project::new();
    let mut log = String::new();
    for (i, target) in [
        "/v1/users/me",
        "/v1/users/42",
        "/v1/users/ana",
        "/v1/users/bo/avatar.png",
        "/v1/reports/2026-q3",
        "/v1/health",
        "/static/css/site.css",
    ]
    .iter()
    .enumerate()
    {
        log.push_str(&format!(
            "10.0.0.1 - - [23/Nov/2026:10:00:0{i} +0000] \"GET {target}?lang=en HTTP/1.1\" 200 1 \"-\" \"-\"\n"
        ));
    }
    p.file("access.log", &log).file(
        "api/openapi.yaml",
        "openapi: 3.0.3\ninfo: {title: shop, version: '1'}\nservers:\n  - url: https://api.shop.example/v1\npaths:\n  /users/me:\n    get: {}\n  /users/{userId}:\n    get: {}\n  /users/{userId}/{file}.{ext}:\n    get: {}\n  /reports/{period}:\n    get: {}\n",
    );
    let run = p.run(&[
        "traffic",
        "model",
        "access.log",
        "--openapi",
        "api/openapi.yaml",
        "--route",
        "/static/*",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let m = run.json();
    let mut routes: Vec<String> = m["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["route"].as_str().unwrap().to_string())
        .collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            "/static/*?lang",
            "/v1/health?lang",
            "/v1/reports/{period}?lang",
            "/v1/users/me?lang",
            "/v1/users/{userId}/{file}.{ext}?lang",
            "/v1/users/{userId}?lang",
        ]
    );
    // The same templates from envparity.toml, and a broken OpenAPI file named by line.
    p.file(
        "envparity.toml",
        "[traffic]\nopenapi = \"api/openapi.yaml\"\nroutes = [\"/static/*\"]\n\n[environments.qa]\ntraffic = [\"access.log\"]\n\n[environments.prod]\ntraffic = [\"access.log\"]\nproduction = true\n",
    );
    let run = p.run(&["snapshot", "prod", "-o", "prod.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let snapshot: serde_json::Value = serde_json::from_str(&p.read("prod.json")).unwrap();
    assert!(
        snapshot["traffic"]["routes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["route"] == "/v1/users/{userId}?lang"),
        "{:#}",
        snapshot["traffic"]
    );
    p.file(
        "api/openapi.yaml",
        "openapi: 3.0.3\npaths:\n  /users/{id:\n    get: {}\n",
    );
    let run = p.run(&["diff", "qa", "prod"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("api/openapi.yaml:3"), "{}", run.stdout);
    p.file(
        "envparity.toml",
        "[traffic]\nroutes = [\"/ok/{id}\", \"no-slash\"]\n\n[environments.qa]\ntraffic = [\"access.log\"]\n\n[environments.prod]\ntraffic = [\"access.log\"]\nproduction = true\n",
    );
    let run = p.run(&["diff", "qa", "prod"]);
    assert!(
        run.stdout.contains("envparity.toml:2:24"),
        "the bad template is pointed at: {}",
        run.stdout
    );
}
