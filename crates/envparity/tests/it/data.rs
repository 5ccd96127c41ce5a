//! The schema and data facets through the real binary: SQLite databases and CSV files
//! made by the tests, canaries in sensitive columns checked in every output.

use std::path::Path;

use crate::support::{Project, class_of};

/// Every sensitive value planted starts with this.
const CANARY: &str = "CANARY";

const MANIFEST: &str = r#"
[environments.qa]
database = "qa.db"

[environments.prod]
database = "prod.db"
production = true

[rules]
sensitive = ["customers.loyalty_code"]
"#;

/// A customers table whose sensitive columns (by name, by value, by rule) hold
/// canaries, and an orders table with a planted NULL-rate gap.
fn make_db(path: &Path, prod: bool) {
    let db = rusqlite::Connection::open(path).unwrap();
    db.execute_batch(&format!(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, contact TEXT,
            card TEXT, remarks TEXT, loyalty_code TEXT, tier TEXT);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, coupon TEXT, total {});
         {}",
        if prod { "NUMERIC(10,2)" } else { "INTEGER" },
        if prod {
            "CREATE INDEX orders_coupon_idx ON orders(coupon);"
        } else {
            ""
        }
    ))
    .unwrap();
    let tx = db.unchecked_transaction().unwrap();
    let env = if prod { "prod" } else { "qa" };
    // Luhn-valid card numbers with a distinctive prefix.
    let cards = [
        "4000 0012 3456 7899",
        "5500 0000 0000 0004",
        "3400 0000 0000 009",
    ];
    for i in 0..300 {
        tx.execute(
            "INSERT INTO customers VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            rusqlite::params![
                i,
                format!("{CANARY}name{env}{i} Smith"),
                format!("{CANARY}-mail-{env}-{i}@example.com"),
                format!("{CANARY}.contact{i}@example.org"),
                cards[i % 3],
                format!("{CANARY} said to leave it at the door next to the shed"),
                format!("{CANARY}LOYAL{i}"),
                ["gold", "silver"][i % 2],
            ],
        )
        .unwrap();
    }
    for i in 0..1000 {
        let coupon = if prod && i % 10 < 4 {
            None
        } else {
            Some("VIP")
        };
        tx.execute(
            "INSERT INTO orders VALUES (?1, ?2, ?3)",
            rusqlite::params![i, coupon, i % 50],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

fn project() -> Project {
    let p = Project::new();
    p.file("envparity.toml", MANIFEST);
    make_db(&p.path().join("qa.db"), false);
    make_db(&p.path().join("prod.db"), true);
    p
}

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.to_uppercase().contains(CANARY),
        "a sensitive value leaked into {what}:\n{text}"
    );
    for digits in [
        "4000 0012 3456 7899",
        "5500 0000 0000 0004",
        "3400 0000 0000 009",
    ] {
        assert!(!text.contains(digits), "a card number leaked into {what}");
    }
}

#[test]
fn schema_and_data_findings_join_the_report() {
    let p = project();
    let run = p.run(&["diff", "qa", "prod", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        class_of(&report, "schema:orders.total.type").as_deref(),
        Some("drift")
    );
    assert_eq!(
        class_of(&report, "schema:orders.index(coupon)").as_deref(),
        Some("missing")
    );
    assert_eq!(
        class_of(&report, "data:orders.coupon.null_rate").as_deref(),
        Some("drift")
    );
    let facets: Vec<&str> = report["facets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["facet"].as_str().unwrap())
        .collect();
    assert_eq!(
        facets,
        ["schema", "data"],
        "no config was named, so no config facet"
    );
    let message = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "data:orders.coupon.null_rate")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(message, "prod `orders.coupon` is 40 % NULL, qa never");
}

#[test]
fn sensitive_values_never_leave_in_any_output() {
    let p = project();
    for format in ["text", "json", "markdown", "junit", "sarif", "html"] {
        for verbose in [false, true] {
            let mut args = vec!["diff", "qa", "prod", "--format", format];
            if verbose {
                args.push("--verbose");
            }
            let run = p.run(&args);
            assert_eq!(run.code, 1, "{format}: {}", run.stderr);
            assert_clean(&format!("the {format} report"), &run.stdout);
            assert_clean("stderr", &run.stderr);
        }
    }
    for args in [
        vec!["data", "profile", "prod"],
        vec!["data", "profile", "prod", "--json"],
        vec!["data", "profile", "prod", "--data-mode", "streaming"],
        vec!["data", "diff", "qa", "prod"],
        vec!["data", "diff", "qa", "prod", "--format", "json"],
        vec!["snapshot", "prod"],
    ] {
        let run = p.run(&args);
        assert_clean(&args.join(" "), &run.stdout);
        assert_clean(&args.join(" "), &run.stderr);
    }
    let run = p.run(&["data", "profile", "prod", "-o", "prod.profile.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let profile = p.read("prod.profile.json");
    assert_clean("the profile file", &profile);
    // The profile says why each column is sensitive.
    let json: serde_json::Value = serde_json::from_str(&profile).unwrap();
    let columns = &json["data"]["databases"][0]["tables"][0]["columns"];
    let why = |name: &str| {
        columns
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["sensitive"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert!(why("email").contains("name"), "{}", why("email"));
    assert!(
        why("contact").contains("email"),
        "by value: {}",
        why("contact")
    );
    assert!(why("card").contains("card"), "{}", why("card"));
    assert!(why("remarks").contains("free text"), "{}", why("remarks"));
    assert!(
        why("loyalty_code").contains("rules.sensitive"),
        "{}",
        why("loyalty_code")
    );
    assert_eq!(why("tier"), "", "not sensitive");
    // A saved profile is a side like any snapshot.
    let run = p.run(&[
        "data",
        "diff",
        "qa",
        "prod.profile.json",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        class_of(&run.json(), "data:orders.coupon.null_rate").as_deref(),
        Some("drift")
    );
}

#[test]
fn databases_are_left_as_they_were() {
    let p = project();
    let before = std::fs::read(p.path().join("prod.db")).unwrap();
    let run = p.run(&["diff", "qa", "prod"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(std::fs::read(p.path().join("prod.db")).unwrap(), before);
}

#[test]
fn a_bad_database_entry_is_named_by_its_line_and_never_quoted() {
    let p = Project::new();
    p.file(
        "envparity.toml",
        "[environments.qa]\ndatabase = \"${ENVPARITY_TEST_NO_SUCH_VAR}\"\n\n[environments.prod]\ndatabase = \"postgres://app:CANARYpw@127.0.0.1:1/shop\"\nproduction = true\n",
    );
    let run = p.run(&["diff", "qa", "prod"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("envparity.toml:2:13")
            && run.stdout.contains("ENVPARITY_TEST_NO_SUCH_VAR"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("postgres://app@127.0.0.1:1/shop"),
        "{}",
        run.stdout
    );
    assert_clean("the report", &run.stdout);
    assert_clean("stderr", &run.stderr);
}

#[test]
fn sample_must_be_a_percentage() {
    let p = project();
    let run = p.run(&["data", "profile", "qa", "--sample", "0"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--sample"), "{}", run.stderr);
    let run = p.run(&["data", "profile", "qa", "--sample", "50"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("sample"), "{}", run.stdout);
}

#[test]
fn rules_apply_to_schema_and_data_keys() {
    let p = project();
    p.file(
        "envparity.toml",
        &format!(
            "{MANIFEST}\n[[rules.expect]]\nkey = \"schema:orders.total.type\"\nreason = \"cents migration ships next sprint\"\n\n[[rules.expect]]\nkey = \"data:orders.coupon.*\"\nreason = \"QA seeds every order with a coupon\"\n\n[rules.data]\nnull_rate = 0.5\n"
        ),
    );
    let run = p.run(&["diff", "qa", "prod", "--format", "json"]);
    let report = run.json();
    assert_eq!(
        class_of(&report, "schema:orders.total.type").as_deref(),
        Some("expected")
    );
    // The threshold is not reached, but `never` vs 40 % still is a finding, and the rule
    // makes it expected.
    assert_eq!(
        class_of(&report, "data:orders.coupon.null_rate").as_deref(),
        Some("expected")
    );
    assert_eq!(
        class_of(&report, "schema:orders.index(coupon)").as_deref(),
        Some("missing")
    );
}
