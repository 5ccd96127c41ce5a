//! The config diff, end to end: every format, every class, exit codes, rules, baseline.

use crate::support::{MANIFEST, Project, class_of, classes};

const QA_DEPLOY: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: shop-qa
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop-qa
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: sidecar
          image: envoy:1.30
        - name: api
          image: registry.example.com/api:1.43.0
          ports:
            - containerPort: 9090
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: debug
            - name: DB_URL
              value: jdbc:postgresql://qa-db.internal:5432/shop
"#;

const PROD_DEPLOY: &str = r#"
# Production: reordered containers, ports and env vars must not be differences.
apiVersion: apps/v1
kind: Deployment
metadata:
  namespace: shop-prod
  name: api
spec:
  replicas: 6
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com/api:1.42.3
          env:
            - name: DB_URL
              value: jdbc:postgresql://prod-db.internal:5432/shop
            - name: LOG_LEVEL
              value: warn
          ports:
            - containerPort: 8080
            - containerPort: 9090
        - name: sidecar
          image: envoy:1.30
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop-prod
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: api
  namespace: shop-prod
spec:
  minAvailable: 2
"#;

/// A project with the same app in qa and prod, in all six formats, with planted differences.
pub fn shop() -> Project {
    let p = Project::new();
    p.file("envparity.toml", MANIFEST)
        .file("qa/app.yaml", "server:\n  port: 8080\n  timeout: 30s\ncache:\n  ttl: 300\n")
        .file("prod/app.yaml", "# comments are not differences\ncache:\n  ttl: 300\nserver:\n  timeout: 5s\n  port: 8080\n")
        .file(
            "qa/features.json",
            r#"{"features": [{"id": "checkout", "enabled": true}, {"id": "search", "enabled": true}]}"#,
        )
        .file(
            "prod/features.json",
            "{\n  \"features\": [\n    {\"id\": \"search\", \"enabled\": true},\n    {\"id\": \"checkout\", \"enabled\": false}\n  ]\n}\n",
        )
        .file("qa/config.toml", "[pool]\nmax = 10\nmin = 1\n")
        .file("prod/config.toml", "[pool]\nmin = 1\nmax = 50\nidle_timeout = \"60s\"\n")
        .file("qa/legacy.ini", "[mail]\nhost = smtp.qa.example.com\nport = 25\n")
        .file("prod/legacy.ini", "; legacy\n[mail]\nport = 25\nhost = smtp.prod.example.com\n")
        .file("qa/.env", "LOG_LEVEL=debug\nFEATURE_X=on\n")
        .file("prod/.env", "# prod\nLOG_LEVEL=warn\n")
        .file("qa/application.properties", "spring.datasource.url=jdbc:postgresql://qa-db:5432/shop\nserver.compression=true\n")
        .file("prod/application.properties", "server.compression=true\nspring.datasource.url=jdbc:postgresql://prod-db:5432/shop\n")
        .file("qa/k8s/deploy.yaml", QA_DEPLOY)
        .file("prod/k8s/deploy.yaml", PROD_DEPLOY)
        .file("qa/debug.yaml", "debug: true\n");
    p
}

#[test]
fn finds_every_planted_difference_in_every_format() {
    let p = shop();
    let run = p.run(&["diff", "qa", "prod", "--format", "json"]);
    assert_eq!(run.code, 1, "drift exits 1\n{}", run.stderr);
    let report = run.json();
    let found = classes(&report);
    let expect = |key: &str, class: &str| {
        assert_eq!(
            class_of(&report, key).as_deref(),
            Some(class),
            "{key}: {found:#?}"
        );
    };
    expect("app.yaml:server.timeout", "drift");
    expect("features.json:features[id=checkout].enabled", "drift");
    expect("config.toml:pool.max", "drift");
    expect("config.toml:pool.idle_timeout", "missing");
    expect("legacy.ini:mail.host", "env-equivalent");
    expect(".env:LOG_LEVEL", "drift");
    expect(".env:FEATURE_X", "extra");
    expect(
        "application.properties:spring.datasource.url",
        "env-equivalent",
    );
    expect(
        "k8s/deploy.yaml:Deployment/shop-{env}/api:spec.replicas",
        "drift",
    );
    expect(
        "k8s/deploy.yaml:Deployment/shop-{env}/api:spec.template.spec.containers[name=api].image",
        "drift",
    );
    expect(
        "k8s/deploy.yaml:Deployment/shop-{env}/api:spec.template.spec.containers[name=api].env[name=LOG_LEVEL].value",
        "drift",
    );
    expect(
        "k8s/deploy.yaml:Deployment/shop-{env}/api:spec.template.spec.containers[name=api].env[name=DB_URL].value",
        "env-equivalent",
    );
    expect(
        "k8s/deploy.yaml:PodDisruptionBudget/shop-{env}/api",
        "missing",
    );
    expect("debug.yaml", "extra");
    // The access facet reads the same files: QA's debug switch is a relaxation Production lacks.
    expect("access:app:debug debug.yaml:debug", "extra");

    // Reordering and comments are not differences: nothing about ports, sidecar, the namespaces, search.
    for (class, key) in &found {
        for quiet in [
            "containerPort",
            "sidecar",
            "Namespace/",
            "search",
            "cache.ttl",
            "server.port",
            "compression",
            "mail.port",
        ] {
            assert!(!key.contains(quiet), "unexpected {class} finding {key}");
        }
    }
    assert_eq!(found.len(), 15, "{found:#?}");

    // Each finding has both sides with file:line.
    let timeout = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "app.yaml:server.timeout")
        .unwrap();
    assert_eq!(timeout["a"]["env"], "qa");
    assert_eq!(timeout["a"]["value"], "30s");
    assert_eq!(timeout["a"]["location"]["file"], "qa/app.yaml");
    assert_eq!(timeout["a"]["location"]["line"], 3);
    assert_eq!(timeout["b"]["value"], "5s");
    assert_eq!(timeout["b"]["location"]["line"], 5);
    let replicas = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"].as_str().unwrap().ends_with("spec.replicas"))
        .unwrap();
    assert_eq!(replicas["b"]["location"]["line"], 9);
    assert_eq!(replicas["a"]["location"]["line"], 13);

    let score = report["score"].as_f64().unwrap();
    assert!(score > 0.0 && score < 100.0, "score {score}");
}

#[test]
fn identical_environments_are_in_parity() {
    let p = Project::new();
    p.file("envparity.toml", MANIFEST)
        .file(
            "qa/app.yaml",
            "a: 1\nb: [x, y]\nurl: https://qa.example.com\n",
        )
        .file(
            "prod/app.yaml",
            "b: [y, x]  # a set\na: 1\nurl: https://prod.example.com\n",
        );
    let run = p.run(&["diff", "qa", "prod"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = p.run(&["diff", "qa", "prod", "--format", "json"]).json();
    assert_eq!(json["score"], 100.0);
    assert_eq!(
        class_of(&json, "app.yaml:url").as_deref(),
        Some("env-equivalent")
    );
}

#[test]
fn expected_differences_need_a_live_rule() {
    let p = shop();
    let manifest = format!(
        "{MANIFEST}\n[[rules.expect]]\nkey = \"k8s/deploy.yaml:Deployment/*/api:spec.replicas\"\nreason = \"Production runs more replicas\"\nowner = \"platform\"\nexpires = \"2027-06-30\"\n\n[[rules.expect]]\nkey = \"**:pool.max\"\nreason = \"load test pending\"\nexpires = 2025-01-31\n\n[[rules.expect]]\nkey = \"**:spec.replicaz\"\nreason = \"typo\"\n"
    );
    p.file("envparity.toml", &manifest);
    let mut p = p;
    p.set_env("ENVPARITY_TODAY", "2026-11-23");
    let report = p.run(&["diff", "qa", "prod", "--format", "json"]).json();
    let replicas = "k8s/deploy.yaml:Deployment/shop-{env}/api:spec.replicas";
    assert_eq!(class_of(&report, replicas).as_deref(), Some("expected"));
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == replicas)
        .unwrap();
    assert!(
        finding["reason"]
            .as_str()
            .unwrap()
            .contains("Production runs more replicas"),
        "{finding}"
    );
    // The expired rule no longer hides the drift, and says it expired.
    assert_eq!(
        class_of(&report, "config.toml:pool.max").as_deref(),
        Some("drift")
    );
    let pool = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "config.toml:pool.max")
        .unwrap();
    assert!(
        pool["reason"].as_str().unwrap().contains("expired"),
        "{pool}"
    );

    let notes = report["notes"].to_string();
    assert!(
        notes.contains("`**:spec.replicaz` matched no difference"),
        "a stale rule is named: {notes}"
    );
    assert!(
        !notes.contains("pool.max"),
        "an expired rule that matched is not stale: {notes}"
    );

    let markdown = p
        .run(&["diff", "qa", "prod", "--format", "markdown"])
        .stdout;
    assert!(
        markdown.contains("now expired: load test pending"),
        "markdown keeps the expired reason"
    );

    // After the expiry date the replicas rule stops applying too.
    p.set_env("ENVPARITY_TODAY", "2027-07-01");
    let later = p.run(&["diff", "qa", "prod", "--format", "json"]).json();
    assert_eq!(class_of(&later, replicas).as_deref(), Some("drift"));
}

#[test]
fn fail_on_sets_the_exit_code() {
    let p = shop();
    assert_eq!(p.run(&["diff", "qa", "prod", "--fail-on", "never"]).code, 0);
    assert_eq!(
        p.run(&["diff", "qa", "prod", "--fail-on", "warning"]).code,
        1
    );
    // No shared secret or unreadable file here: nothing reaches `error`.
    assert_eq!(p.run(&["diff", "qa", "prod", "--fail-on", "error"]).code, 0);
}

#[test]
fn a_malformed_file_is_named_and_the_rest_still_compared() {
    let p = shop();
    p.file(
        "prod/features.json",
        "{\n  \"features\": [\n    {\"id\": \"checkout\",, \"enabled\": true}\n  ]\n}\n",
    );
    let run = p.run(&["diff", "qa", "prod", "--format", "json"]);
    assert_eq!(run.code, 2, "an unreadable source exits 2");
    let report = run.json();
    let bad = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["class"] == "unreadable")
        .expect("unreadable finding");
    let message = bad["message"].as_str().unwrap();
    assert!(
        message.contains("prod/features.json:3:"),
        "names file:line:col: {message}"
    );
    // The file exists in prod: it is unreadable there, not also "extra" in qa.
    assert_eq!(class_of(&report, "features.json"), None, "{report:#}");
    // Every other file is still compared.
    assert_eq!(
        class_of(&report, "app.yaml:server.timeout").as_deref(),
        Some("drift")
    );
    assert_eq!(
        class_of(&report, "config.toml:pool.max").as_deref(),
        Some("drift")
    );

    let text = p.run(&["diff", "qa", "prod"]);
    assert_eq!(text.code, 2);
    assert!(
        text.stdout.contains("prod/features.json:3"),
        "{}",
        text.stdout
    );
}

#[test]
fn snapshots_compare_like_live_environments() {
    let p = shop();
    assert_eq!(p.run(&["snapshot", "qa", "-o", "qa.snap.json"]).code, 0);
    assert_eq!(p.run(&["snapshot", "prod", "-o", "prod.snap.json"]).code, 0);
    let snap: serde_json::Value = serde_json::from_str(&p.read("prod.snap.json")).unwrap();
    assert_eq!(snap["format"], "envparity-snapshot");
    assert_eq!(snap["version"], 1);
    assert_eq!(snap["environment"], "prod");
    let live = p.run(&["diff", "qa", "prod", "--format", "json"]).json();
    let files = p
        .run(&["diff", "qa.snap.json", "prod.snap.json", "--format", "json"])
        .json();
    assert_eq!(classes(&live), classes(&files));
    assert_eq!(live["score"], files["score"]);

    // Snapshots compare anywhere, even with no envparity.toml around.
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::copy(
        p.path().join("qa.snap.json"),
        elsewhere.path().join("qa.json"),
    )
    .unwrap();
    std::fs::copy(
        p.path().join("prod.snap.json"),
        elsewhere.path().join("prod.json"),
    )
    .unwrap();
    let away = p.run_in(
        elsewhere.path().to_path_buf(),
        &["diff", "qa.json", "prod.json", "--format", "json"],
    );
    assert_eq!(away.code, 1, "{}", away.stderr);
    assert_eq!(
        class_of(&away.json(), "app.yaml:server.timeout").as_deref(),
        Some("drift")
    );
}

#[test]
fn three_environments_give_a_matrix() {
    let p = Project::new();
    p.file(
        "envparity.toml",
        "[environments.dev]\nconfig = [\"dev/**\"]\n[environments.qa]\nconfig = [\"qa/**\"]\n[environments.prod]\nconfig = [\"prod/**\"]\nproduction = true\n",
    )
    .file("dev/app.yaml", "timeout: 1\nretries: 3\n")
    .file("qa/app.yaml", "timeout: 2\nretries: 3\n")
    .file("prod/app.yaml", "timeout: 3\nretries: 3\n");
    let run = p.run(&["diff", "dev", "qa", "prod", "--format", "json"]);
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(report["reference"], "prod");
    let rows = report["matrix"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["key"], "app.yaml:timeout");
    assert_eq!(rows[0]["values"], serde_json::json!(["1", "2", "3"]));
    let text = p.run(&["diff", "dev", "qa", "prod"]);
    for env in ["dev", "qa", "prod"] {
        assert!(text.stdout.contains(env), "{}", text.stdout);
    }
}

#[test]
fn baseline_accepts_todays_drift_until_it_changes() {
    let mut p = shop();
    p.set_env("ENVPARITY_TODAY", "2026-11-23");
    let run = p.run(&["baseline", "--reason", "adopting envparity"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let baseline: serde_json::Value =
        serde_json::from_str(&p.read("envparity.baseline.json")).unwrap();
    assert!(baseline["entries"].as_array().unwrap().len() >= 10);
    assert_eq!(baseline["entries"][0]["expires"], "2027-02-21");

    let after = p.run(&["diff", "qa", "prod", "--format", "json"]);
    assert_eq!(after.code, 0, "all drift is baselined: {}", after.stdout);
    let report = after.json();
    let timeout = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "app.yaml:server.timeout")
        .unwrap();
    assert_eq!(timeout["class"], "expected");
    assert!(
        timeout["reason"]
            .as_str()
            .unwrap()
            .contains("adopting envparity")
    );

    // A value that changes again is drift again.
    p.file(
        "prod/app.yaml",
        "cache:\n  ttl: 300\nserver:\n  timeout: 10s\n  port: 8080\n",
    );
    let changed = p.run(&["diff", "qa", "prod", "--format", "json"]);
    assert_eq!(changed.code, 1);
    assert_eq!(
        class_of(&changed.json(), "app.yaml:server.timeout").as_deref(),
        Some("drift")
    );

    // And entries expire.
    p.file(
        "prod/app.yaml",
        "cache:\n  ttl: 300\nserver:\n  timeout: 5s\n  port: 8080\n",
    );
    p.set_env("ENVPARITY_TODAY", "2027-03-01");
    assert_eq!(p.run(&["diff", "qa", "prod"]).code, 1);
}

#[test]
fn every_format_renders_and_keeps_the_exit_code() {
    let p = shop();
    for format in ["text", "json", "markdown", "junit", "sarif", "html"] {
        let run = p.run(&["diff", "qa", "prod", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert!(
            run.stdout.contains("server.timeout"),
            "{format} names the drifted key"
        );
    }
    let sarif: serde_json::Value =
        serde_json::from_str(&p.run(&["diff", "qa", "prod", "--format", "sarif"]).stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let out = p.run(&[
        "diff",
        "qa",
        "prod",
        "--format",
        "html",
        "-o",
        "report.html",
    ]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty());
    assert!(p.read("report.html").contains("server.timeout"));
}

#[test]
fn an_object_declared_twice_counts_as_its_last_declaration() {
    let p = Project::new();
    let deploy = |replicas: u32, image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: {replicas}\n  image: {image}\n"
        )
    };
    p.file("envparity.toml", MANIFEST)
        .file("qa/a.yaml", &deploy(1, "api:1"))
        .file("qa/b.yaml", &deploy(3, "api:2"))
        .file("prod/a.yaml", &deploy(3, "api:1"));
    let report = p.run(&["diff", "qa", "prod", "--format", "json"]).json();
    assert_eq!(
        class_of(&report, "a.yaml:Deployment/api:spec.replicas"),
        None,
        "{report:#}"
    );
    assert_eq!(
        class_of(&report, "a.yaml:Deployment/api:spec.image").as_deref(),
        Some("drift")
    );
    assert_eq!(classes(&report).len(), 1, "{report:#}");
}

#[test]
fn empty_maps_and_empty_files_are_not_extra_keys() {
    let p = Project::new();
    p.file("envparity.toml", MANIFEST)
        .file("qa/m.yaml", "x:\n  labels: {}\n")
        .file("prod/m.yaml", "x:\n  labels:\n    team: a\n")
        .file("qa/c.env", "# nothing yet\n")
        .file("prod/c.env", "A=1\n");
    let report = p.run(&["diff", "qa", "prod", "--format", "json"]).json();
    let mut found = classes(&report);
    found.sort();
    let expected = [("missing", "c.env:A"), ("missing", "m.yaml:x.labels.team")];
    assert_eq!(
        found,
        expected.map(|(c, k)| (c.to_string(), k.to_string())),
        "{found:#?}"
    );
    assert_eq!(found.len(), 2, "{found:#?}");
}

#[test]
fn two_production_environments_are_pointed_out() {
    let p = Project::new();
    p.file(
        "envparity.toml",
        "[environments.eu]\nconfig = [\"eu/**\"]\nproduction = true\n[environments.us]\nconfig = [\"us/**\"]\nproduction = true\n",
    )
    .file("eu/a.yaml", "x: 1\n")
    .file("us/a.yaml", "x: 1\n");
    let run = p.run(&["diff", "eu", "us", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["reference"], "us");
    assert!(
        report["notes"]
            .to_string()
            .contains("eu, us are all marked `production = true`"),
        "{report:#}"
    );
}

/// From a blind review (2026-12-04): list elements keyed by an identity holding an env
/// token show it as `{env}` (and a rule written so matches), and a StatefulSet's
/// `volumeClaimTemplates` pair by `metadata.name`, not by position.
#[test]
fn identities_show_env_tokens_and_claim_templates_pair_by_name() {
    let p = Project::new();
    p.file(
        "envparity.toml",
        &format!(
            "{}\n[[rules.expect]]\nkey = \"q.json:queues[name=orders-{{env}}].retries\"\nreason = \"prod retries more\"\n",
            crate::support::MANIFEST
        ),
    )
    .file(
        "qa/q.json",
        r#"{"queues":[{"name":"orders-qa","retries":3},{"name":"audit","retries":1}]}"#,
    )
    .file(
        "prod/q.json",
        r#"{"queues":[{"name":"audit","retries":1},{"name":"orders-prod","retries":5}]}"#,
    )
    .file(
        "qa/sts.yaml",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  volumeClaimTemplates:\n    - metadata: {name: data}\n      spec: {resources: {requests: {storage: 10Gi}}}\n    - metadata: {name: wal}\n      spec: {resources: {requests: {storage: 2Gi}}}\n",
    )
    .file(
        "prod/sts.yaml",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  volumeClaimTemplates:\n    - metadata: {name: wal}\n      spec: {resources: {requests: {storage: 2Gi}}}\n    - metadata: {name: data}\n      spec: {resources: {requests: {storage: 50Gi}}}\n",
    );
    let run = p.run(&["diff", "qa", "prod", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        class_of(&report, "q.json:queues[name=orders-{env}].retries").as_deref(),
        Some("expected"),
        "{report:#}"
    );
    let actionable: Vec<(String, String)> = crate::support::classes(&report)
        .into_iter()
        .filter(|(c, _)| !matches!(c.as_str(), "expected" | "env-equivalent"))
        .collect();
    assert_eq!(
        actionable,
        vec![(
            "drift".to_string(),
            "sts.yaml:StatefulSet/db:spec.volumeClaimTemplates[name=data].spec.resources.requests.storage"
                .to_string()
        )],
        "{report:#}"
    );
}

/// Manifests copied from Production into QA unchanged keep Production's token in their
/// names: they pair with Production's (a blind review found them missing and extra),
/// unless QA also has the object under its own token, which then is the pair.
#[test]
fn objects_named_with_the_other_environments_token_pair_up() {
    let p = Project::new();
    let cm = |namespace: &str, name: &str, value: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\ndata:\n  A: \"{value}\"\n"
        )
    };
    p.file("envparity.toml", MANIFEST)
        .file("qa/tools.yaml", &cm("ops", "qa-tools", "1"))
        .file("prod/tools.yaml", &cm("ops", "qa-tools", "1"))
        .file("qa/ledger.yaml", &cm("ledger-prod", "api", "1"))
        .file("prod/ledger.yaml", &cm("ledger-prod", "api", "2"));
    let run = p.run(&["diff", "qa", "prod", "--format", "json"]);
    let report = run.json();
    assert_eq!(
        classes(&report),
        vec![(
            "drift".to_string(),
            "ledger.yaml:ConfigMap/ledger-{env}/api:data.A".to_string()
        )],
        "{report:#}"
    );
    // Both spellings in QA: its own token's object is the pair, the copy is extra.
    p.file("qa/ledger-own.yaml", &cm("ledger-qa", "api", "2"));
    let report = p.run(&["diff", "qa", "prod", "--format", "json"]).json();
    let found = classes(&report);
    assert!(
        found.contains(&(
            "extra".to_string(),
            "ledger.yaml:ConfigMap/ledger-prod/api".to_string()
        )),
        "{report:#}"
    );
    assert!(
        !found.iter().any(|(c, _)| c == "drift"),
        "ledger-qa/api pairs with prod's and holds the same value: {report:#}"
    );
}
