//! Secrets never leave: planted canaries in every format, checked in every output.

use crate::support::{MANIFEST, Project, class_of};

/// Every canary starts with this, so one `contains` finds any of them.
const CANARY: &str = "CANARY";

fn project_with_canaries() -> Project {
    let p = Project::new();
    p.file("envparity.toml", MANIFEST)
        // YAML: a secret by key name, a password inside a URL, a Kubernetes Secret, an env var.
        .file(
            "qa/app.yaml",
            "db:\n  password: CANARY-yaml-qa-pw\n  url: postgres://shop:CANARY-url-qa@qa-db.internal/shop\npayments:\n  api_key: CANARY-shared-api-key\n",
        )
        .file(
            "prod/app.yaml",
            "db:\n  password: CANARY-yaml-prod-pw\n  url: postgres://shop:CANARY-url-prod@prod-db.internal/shop\npayments:\n  api_key: CANARY-shared-api-key\n",
        )
        .file(
            "qa/k8s.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  anything: CANARY-k8s-secret-qa\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          env:\n            - name: SESSION_SECRET\n              value: CANARY-env-var-qa\n          args: [\"--token=CANARY-arg-token-qa\"]\n",
        )
        .file(
            "prod/k8s.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  anything: CANARY-k8s-secret-prod\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          env:\n            - name: SESSION_SECRET\n              value: CANARY-env-var-prod\n          args: [\"--token=CANARY-arg-token-prod\"]\n",
        )
        .file(
            "qa/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  application.yaml: |\n    spring:\n      datasource:\n        password: CANARY-embedded-qa\n  dsn: \"app:CANARY-dsn-qa@tcp(db:3306)/shop\"\n  hook: https://hooks.slack.com/services/T000/B000/CANARYqaqaqaqaqaqaqa\n",
        )
        .file(
            "prod/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  application.yaml: |\n    spring:\n      datasource:\n        password: CANARY-embedded-prod\n  dsn: \"app:CANARY-dsn-prod@tcp(db:3306)/shop\"\n  hook: https://hooks.slack.com/services/T000/B000/CANARYprodprodprodpr\n",
        )
        .file("qa/s.json", r#"{"client_secret": "CANARY-json-qa", "only_qa_token": "CANARY-json-extra"}"#)
        .file("prod/s.json", r#"{"client_secret": "CANARY-json-prod"}"#)
        .file("qa/s.toml", "[auth]\ntoken = \"CANARY-toml-qa\"\n")
        .file("prod/s.toml", "[auth]\ntoken = \"CANARY-toml-prod\"\n")
        .file("qa/s.ini", "[db]\npassword = CANARY-ini-qa\n")
        .file("prod/s.ini", "[db]\npassword = CANARY-ini-prod\n")
        .file("qa/.env", "STRIPE_API_KEY=CANARY-env-shared\nAWS=AKIAIOSFODNN7CANARYQ\n")
        .file("prod/.env", "STRIPE_API_KEY=CANARY-env-shared\nAWS=AKIAIOSFODNN7CANARYP\n")
        .file("qa/s.properties", "spring.datasource.password=CANARY-props-qa\n")
        .file("prod/s.properties", "spring.datasource.password=CANARY-props-prod\nonly.prod.secret=CANARY-props-missing\n");
    p
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(CANARY), "{what} leaks a secret:\n{text}");
    assert!(
        !text.contains("AKIAIOSFODNN7"),
        "{what} leaks an AWS key id:\n{text}"
    );
}

#[test]
fn no_secret_reaches_any_output() {
    let p = project_with_canaries();
    for format in ["text", "json", "markdown", "junit", "sarif", "html"] {
        for verbose in [false, true] {
            let mut args = vec!["diff", "qa", "prod", "--format", format];
            if verbose {
                args.push("--verbose");
            }
            let run = p.run(&args);
            assert!(run.code == 1, "{format}: exit {} {}", run.code, run.stderr);
            assert_clean(&format!("{format} report"), &run.stdout);
            assert_clean(&format!("{format} stderr"), &run.stderr);
        }
    }
    for env in ["qa", "prod"] {
        let run = p.run(&["snapshot", env]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_clean("snapshot", &run.stdout);
        assert!(
            run.stdout.contains("\"hmac\""),
            "secrets are kept as keyed hashes"
        );
    }
    let run = p.run(&["baseline"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_clean("baseline", &p.read("envparity.baseline.json"));
}

#[test]
fn shared_secrets_are_flagged_and_different_ones_expected() {
    let p = project_with_canaries();
    let report = p.run(&["diff", "qa", "prod", "--format", "json"]).json();
    assert_eq!(
        class_of(&report, "app.yaml:payments.api_key").as_deref(),
        Some("shared-secret")
    );
    assert_eq!(
        class_of(&report, ".env:STRIPE_API_KEY").as_deref(),
        Some("shared-secret")
    );
    assert_eq!(
        class_of(&report, "app.yaml:db.password").as_deref(),
        Some("expected")
    );
    assert_eq!(
        class_of(&report, "s.properties:spring.datasource.password").as_deref(),
        Some("expected")
    );
    // The URL differs only by environment around a different password: not drift.
    assert_eq!(
        class_of(&report, "app.yaml:db.url").as_deref(),
        Some("expected")
    );
    // A shared secret fails even `--fail-on error`.
    assert_eq!(p.run(&["diff", "qa", "prod", "--fail-on", "error"]).code, 1);
}

#[test]
fn a_malformed_file_holding_a_secret_does_not_echo_it() {
    let p = project_with_canaries();
    p.file(
        "prod/s.json",
        "{\"client_secret\": \"CANARY-in-broken-json\" oops}\n",
    );
    p.file(
        "prod/app.yaml",
        "db:\n  password: CANARY-in-broken-yaml\n   bad: [indent\n",
    );
    p.file("prod/.env", "STRIPE_API_KEY=\"CANARY-unterminated\n");
    p.file("prod/s.toml", "[auth]\ntoken = CANARY-bare-toml\n");
    for format in ["text", "json", "markdown", "junit", "sarif", "html"] {
        let run = p.run(&["diff", "qa", "prod", "--format", format]);
        assert_eq!(run.code, 2, "{format}");
        assert_clean(&format!("{format} report of broken files"), &run.stdout);
        assert_clean(&format!("{format} stderr of broken files"), &run.stderr);
    }
    let snap = p.run(&["snapshot", "prod"]);
    assert_eq!(snap.code, 2);
    assert_clean("snapshot stderr", &snap.stderr);
    assert_clean("snapshot", &snap.stdout);
}

#[test]
fn secrets_from_different_keys_are_not_compared() {
    let mut p = project_with_canaries();
    assert_eq!(p.run(&["snapshot", "qa", "-o", "qa.json"]).code, 0);
    p.set_env("ENVPARITY_KEY", "another-project-key");
    assert_eq!(p.run(&["snapshot", "prod", "-o", "prod.json"]).code, 0);
    let run = p.run(&["diff", "qa.json", "prod.json", "--format", "json"]);
    assert_eq!(
        run.code, 2,
        "the shared-secret check could not run: that is a failure, not parity"
    );
    let report = run.json();
    assert_eq!(
        class_of(&report, "app.yaml:payments.api_key"),
        None,
        "cannot tell shared from different"
    );
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "secrets")
        .unwrap();
    assert_eq!(finding["class"], "unreadable");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("different keys"),
        "{finding}"
    );

    p.unset_env("ENVPARITY_KEY");
    let run = p.run(&["snapshot", "qa", "-o", "qa2.json"]);
    assert!(
        run.stderr.contains("this run only"),
        "an ephemeral key is announced: {}",
        run.stderr
    );
}

#[test]
fn references_to_secrets_are_shown_but_secret_data_never() {
    let p = Project::new();
    let deploy = |env: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: api\nspec:\n  volumes:\n    - name: tls\n      secret:\n        secretName: api-tls-{env}\n        items:\n          - key: tls.crt\n            path: cert.pem\n  containers:\n    - name: api\n      env:\n        - name: DB_PASSWORD\n          valueFrom:\n            secretKeyRef:\n              name: db-{env}\n              key: password\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: files\nstringData:\n  password_file: CANARY-secret-data-{env}\n"
        )
    };
    p.file("envparity.toml", MANIFEST)
        .file("qa/pod.yaml", &deploy("qa"))
        .file("prod/pod.yaml", &deploy("prod"));
    let run = p.run(&["diff", "qa", "prod", "--format", "json", "--verbose"]);
    assert_clean("report", &run.stdout);
    let report = run.json();
    let volume = "pod.yaml:Pod/api:spec.volumes[name=tls].secret.secretName";
    assert_eq!(
        class_of(&report, volume).as_deref(),
        Some("env-equivalent"),
        "{report:#}"
    );
    let secret_ref = "pod.yaml:Pod/api:spec.containers[name=api].env[name=DB_PASSWORD].valueFrom.secretKeyRef.name";
    assert_eq!(
        class_of(&report, secret_ref).as_deref(),
        Some("env-equivalent")
    );
    assert_eq!(
        class_of(&report, "pod.yaml:Secret/files:data.password_file").as_deref(),
        Some("expected")
    );
}

#[test]
fn secrets_inside_lists_and_odd_names_are_hashed_and_compared() {
    let p = Project::new();
    p.file("envparity.toml", "[environments.qa]\nconfig = [\"qa/**\"]\n[environments.prod]\nconfig = [\"prod/**\"]\nproduction = true\n")
        .file(
            "qa/c.toml",
            "flags = [\"--password=CANARY-a\", \"--verbose\"]\nsame = [\"--password=CANARY-same\"]\n[keys]\napi-key = \"CANARY-1-qa\"\nsigningKey = \"CANARY-2-qa\"\n\"master.key\" = \"CANARY-3-qa\"\npassphrase = \"CANARY-4-qa\"\n",
        )
        .file(
            "prod/c.toml",
            "flags = [\"--verbose\", \"--password=CANARY-b\"]\nsame = [\"--password=CANARY-same\"]\n[keys]\napi-key = \"CANARY-1-prod\"\nsigningKey = \"CANARY-2-prod\"\n\"master.key\" = \"CANARY-3-prod\"\npassphrase = \"CANARY-4-prod\"\n",
        );
    let run = p.run(&["diff", "qa", "prod", "--format", "json", "--verbose"]);
    assert_clean("report", &run.stdout);
    let report = run.json();
    assert_eq!(
        class_of(&report, "c.toml:flags").as_deref(),
        Some("expected"),
        "{report:#}"
    );
    assert_eq!(
        class_of(&report, "c.toml:same").as_deref(),
        Some("shared-secret")
    );
    for key in [
        "keys.api-key",
        "keys.signingKey",
        "keys[\"master.key\"]",
        "keys.passphrase",
    ] {
        assert_eq!(
            class_of(&report, &format!("c.toml:{key}")).as_deref(),
            Some("expected"),
            "{key}"
        );
    }
}

#[test]
fn a_secret_written_as_string_data_pairs_with_its_base64_data() {
    let p = Project::new();
    // "CANARY-k8s-shared" in base64, and a different password.
    p.file("envparity.toml", crate::support::MANIFEST)
        .file(
            "qa/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: CANARY-k8s-shared\n  user: CANARY-k8s-qa-user\n",
        )
        .file(
            "prod/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: Q0FOQVJZLWs4cy1zaGFyZWQ=\n  user: Q0FOQVJZLWs4cy1wcm9kLXVzZXI=\n",
        );
    let run = p.run(&["diff", "qa", "prod", "--format", "json"]);
    let report = run.json();
    assert_eq!(
        class_of(&report, "secret.yaml:Secret/db:data.password").as_deref(),
        Some("shared-secret"),
        "{}",
        run.stdout
    );
    assert_eq!(
        class_of(&report, "secret.yaml:Secret/db:data.user").as_deref(),
        Some("expected")
    );
    assert_clean("the report", &run.stdout);
}

#[test]
fn passwords_on_command_lines_are_hashed() {
    let p = Project::new();
    let job = |env: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: backup\nspec:\n  template:\n    spec:\n      containers:\n        - name: dump\n          command: [\"sh\", \"-c\", \"mysqldump -h db -u backup -pCANARY-dump-{env} shop | gzip\"]\n          args: [\"curl -u admin:CANARY-curl-shared https://backup.internal/upload\"]\n"
        )
    };
    p.file("envparity.toml", crate::support::MANIFEST)
        .file("qa/job.yaml", &job("qa"))
        .file("prod/job.yaml", &job("prod"))
        .file(
            "qa/run.env",
            "BACKUP_CMD=\"redis-cli -h cache -a CANARY-redis-qa ping\"\n",
        )
        .file(
            "prod/run.env",
            "BACKUP_CMD=\"redis-cli -h cache -a CANARY-redis-prod ping\"\n",
        );
    for format in ["text", "json", "markdown", "html", "sarif", "junit"] {
        let run = p.run(&["diff", "qa", "prod", "--format", format, "--verbose"]);
        assert_clean(&format!("the {format} report"), &run.stdout);
    }
    let run = p.run(&["snapshot", "prod"]);
    assert_clean("the snapshot", &run.stdout);
    let report = p.run(&["diff", "qa", "prod", "--format", "json"]).json();
    // The same curl password in both: caught as shared, though it sits inside a command.
    assert_eq!(
        class_of(
            &report,
            "job.yaml:Job/backup:spec.template.spec.containers[name=dump].args"
        )
        .as_deref(),
        Some("shared-secret"),
        "{report:#}"
    );
}

/// The shapes a blind review (2026-12-04) got a canary through: numbers under a secret's
/// name, `kubectl apply`'s copy of the object, a list keyed by the secret itself, an
/// exec-form command line, JSON and `Password = X;` inside a value, a name whose last
/// word only looks like a reference's, a rules list that leaves out the built-ins, a YAML
/// alias of an anchored password under a plain name.
#[test]
fn the_shapes_a_blind_review_leaked_through_stay_hidden() {
    let p = Project::new();
    let app = |env: &str| {
        format!(
            "db_password: 9876543{n}1\nSECRET_PROFILE: CANARY-profile-{env}\napi_keys:\n  - key: CANARY-listkey-shared\nsettings_json: '{{\"db\": {{\"password\": \"CANARY-json-{env}\"}}}}'\nconn: \"Server=db; User Id=app; Password = CANARY-conn-{env};\"\nDB_PASSWD: CANARY-builtin-{env}\nanchor_password: &pw CANARY-alias-{env}\nplain_copy: *pw\n",
            n = if env == "qa" { 1 } else { 2 }
        )
    };
    let k8s = |env: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{{\"kind\":\"Secret\",\"stringData\":{{\"password\":\"CANARY-applied-{env}\"}}}}'\nstringData:\n  password: CANARY-applied-{env}\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: dump\nspec:\n  template:\n    spec:\n      containers:\n        - name: dump\n          command: [\"mysql\", \"-h\", \"db\", \"-uroot\", \"-pCANARY-exec-{env}\"]\n"
        )
    };
    // The team lists only `*token*`: the built-ins (`*passwd*`, `*password*`) still hold.
    p.file(
        "envparity.toml",
        "[environments.qa]\nconfig = [\"qa/**\"]\n[environments.prod]\nconfig = [\"prod/**\"]\nproduction = true\n[rules]\nsecrets = [\"*token*\"]\n",
    )
    .file("qa/app.yaml", &app("qa"))
    .file("prod/app.yaml", &app("prod"))
    .file("qa/k8s.yaml", &k8s("qa"))
    .file("prod/k8s.yaml", &k8s("prod"));
    for format in ["text", "json", "markdown", "junit", "sarif", "html"] {
        let run = p.run(&["diff", "qa", "prod", "--format", format, "--verbose"]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert_clean(&format!("the {format} report"), &run.stdout);
        assert!(!run.stdout.contains("98765431"), "{}", run.stdout);
    }
    for env in ["qa", "prod"] {
        let run = p.run(&["snapshot", env]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_clean("the snapshot", &run.stdout);
        assert!(
            !run.stdout.contains("9876543"),
            "a numeric password: {}",
            run.stdout
        );
    }
    // Each differs between the environments, so each is `expected`, but for the list's
    // key, which both hold: a shared secret, found though it names its list element.
    let report = p.run(&["diff", "qa", "prod", "--format", "json"]).json();
    let classes = crate::support::classes(&report);
    for key in [
        "app.yaml:db_password",
        "app.yaml:SECRET_PROFILE",
        "app.yaml:settings_json",
        "app.yaml:conn",
        "app.yaml:DB_PASSWD",
        "app.yaml:plain_copy",
        "k8s.yaml:Secret/creds:data.password",
        "k8s.yaml:Job/dump:spec.template.spec.containers[name=dump].command",
    ] {
        assert_eq!(
            class_of(&report, key).as_deref(),
            Some("expected"),
            "{key}: {report:#}"
        );
    }
    let shared: Vec<&(String, String)> = classes
        .iter()
        .filter(|(c, _)| c == "shared-secret")
        .collect();
    assert_eq!(shared.len(), 1, "{report:#}");
    assert!(
        shared[0].1.starts_with("app.yaml:api_keys[key=#"),
        "{shared:?}"
    );
}

#[test]
fn a_bad_manifest_line_is_shown_without_its_password() {
    let p = Project::new();
    p.file(
        "envparity.toml",
        "[environments.qa]\nconfig = [\"qa/**\"]\ndatabase = \"postgres://app:CANARY-manifest@db/shop\"  ,\n",
    )
    .file("qa/a.env", "A=1\n");
    let run = p.run(&["diff", "qa", "qa"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("envparity.toml:3:"), "{}", run.stderr);
    assert!(run.stderr.contains("postgres://app:***"), "{}", run.stderr);
    assert_clean("the error", &run.stderr);
}

/// `ENVPARITY_KEY=$(cat .envparity.key)` in CI is the key file's key, so CI's snapshots
/// compare secrets with a laptop's; a key short enough to guess offline is refused.
#[test]
fn the_key_file_and_its_text_in_envparity_key_are_one_key() {
    let mut p = project_with_canaries();
    p.unset_env("ENVPARITY_KEY");
    assert_eq!(p.run(&["init", "--force"]).code, 0);
    let from_file = p.run(&["snapshot", "qa"]);
    assert_eq!(from_file.code, 0, "{}", from_file.stderr);
    let key_text = p.read(".envparity.key");
    p.set_env("ENVPARITY_KEY", key_text.trim());
    let from_env = p.run(&["snapshot", "qa"]);
    assert_eq!(from_env.code, 0, "{}", from_env.stderr);
    let key_id = |run: &crate::support::Run| run.json()["secret_key_id"].clone();
    assert_eq!(key_id(&from_file), key_id(&from_env));
    assert!(key_id(&from_env).is_string());
    p.set_env("ENVPARITY_KEY", "k1");
    let run = p.run(&["snapshot", "qa"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("ENVPARITY_KEY has 2 characters"),
        "{}",
        run.stderr
    );
}

/// A data column holding credentials (a DSN, a connection string, an Authorization
/// value) is hidden like a personal one: its values never reach a snapshot or report.
#[test]
fn credential_columns_of_data_are_never_shown() {
    let p = Project::new();
    let rows = |env: &str| {
        let mut csv = String::from("id,dsn,settings,auth_header\n");
        for i in 0..40 {
            csv.push_str(&format!(
                "{i},postgres://app:CANARY-dsn-{env}-{i}@db{i}/shop,password=CANARY-set-{env};ssl=1,Bearer CANARYtoken{env}{i}\n"
            ));
        }
        csv
    };
    p.file(
        "envparity.toml",
        "[environments.qa]\ndatabase = \"data/qa\"\n[environments.prod]\ndatabase = \"data/prod\"\nproduction = true\n",
    )
    .file("data/qa/orders.csv", &rows("qa"))
    .file("data/prod/orders.csv", &rows("prod"));
    for format in ["text", "json", "markdown", "junit", "sarif", "html"] {
        let run = p.run(&["diff", "qa", "prod", "--format", format, "--verbose"]);
        assert!(run.code <= 1, "{format}: {} {}", run.code, run.stderr);
        assert_clean(&format!("the {format} report"), &run.stdout);
        assert_clean(&format!("{format} stderr"), &run.stderr);
    }
    let run = p.run(&["snapshot", "prod"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_clean("the snapshot", &run.stdout);
    assert!(
        run.stdout.contains("credentials"),
        "says why the column is hidden"
    );
}
