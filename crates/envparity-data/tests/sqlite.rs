//! SQLite and CSV sources against real files: schema keys, profile figures, canaries,
//! read-only access, and a broken table that does not sink the run.

use std::path::Path;

use envparity_core::profile::{ColumnProfile, DatabaseProfile, ProfileMode, TableProfile};
use envparity_core::snapshot::{ConfigFile, Value};
use envparity_data::{Collected, DatabaseSource, ModeChoice, ProfileOptions, Want, collect};

const BOTH: Want = Want {
    schema: true,
    data: true,
};

fn run(root: &Path, url: &str, options: &ProfileOptions) -> Collected {
    let source = DatabaseSource::new(None, url, root).unwrap();
    collect(&source, BOTH, options, &|_| {})
}

fn entry<'a>(schema: &'a ConfigFile, object: &str, path: &str) -> Option<&'a Value> {
    schema
        .resources
        .iter()
        .find(|r| r.name == object)
        .and_then(|r| r.entries.iter().find(|e| e.path == path))
        .map(|e| e.value)
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn table<'a>(p: &'a DatabaseProfile, name: &str) -> &'a TableProfile {
    p.tables.iter().find(|t| t.name == name).unwrap()
}

fn column<'a>(t: &'a TableProfile, name: &str) -> &'a ColumnProfile {
    t.columns.iter().find(|c| c.name == name).unwrap()
}

fn shop_db(path: &Path) {
    let db = rusqlite::Connection::open(path).unwrap();
    db.execute_batch(
        "CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            email TEXT UNIQUE,
            notes TEXT,
            score REAL DEFAULT 0.5 CHECK (score >= 0)
         );
         CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
            status TEXT NOT NULL,
            coupon TEXT,
            created_at TEXT NOT NULL
         );
         CREATE INDEX orders_open_idx ON orders(status) WHERE status <> 'shipped';
         CREATE VIEW big AS SELECT id FROM orders    WHERE customer_id > 10;
         PRAGMA user_version = 7;",
    )
    .unwrap();
    let tx = db.unchecked_transaction().unwrap();
    for i in 0..1000 {
        // 4 % non-ASCII names; emails and notes carry canaries.
        let name = if i % 25 == 0 {
            "Zoë Brontë".to_string()
        } else {
            format!("Ann Lee{i}")
        };
        tx.execute(
            "INSERT INTO customers VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![
                i,
                name,
                format!("canary-mail-{i}@example.com"),
                format!("please call canary-note-{i} before the delivery arrives today"),
                f64::from(i) / 10.0
            ],
        )
        .unwrap();
    }
    for i in 0..10_000 {
        // 37 % NULL coupons.
        let coupon = if i % 100 < 37 { None } else { Some("SPRING10") };
        tx.execute(
            "INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![
                i,
                i % 1000,
                ["new", "paid", "shipped"][i as usize % 3],
                coupon,
                format!("2025-{:02}-{:02} 10:00:00", i % 12 + 1, i % 28 + 1)
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

#[test]
fn sqlite_schema_reads_into_the_documented_keys() {
    let dir = tempfile::tempdir().unwrap();
    shop_db(&dir.path().join("shop.db"));
    let got = run(dir.path(), "shop.db", &ProfileOptions::default());
    assert!(got.errors.is_empty(), "{:?}", got.errors);
    let schema = got.schema.unwrap();
    assert_eq!(schema.path, "schema");
    let top = |path: &str| {
        text(
            schema
                .entries
                .iter()
                .find(|e| e.path == path)
                .map(|e| e.value),
        )
    };
    assert_eq!(top("settings.user_version"), "7");
    assert_eq!(text(entry(&schema, "orders", "created_at.type")), "text");
    assert_eq!(text(entry(&schema, "orders", "coupon.nullable")), "true");
    assert_eq!(text(entry(&schema, "orders", "status.nullable")), "false");
    assert_eq!(text(entry(&schema, "orders", "primary_key")), "id");
    assert_eq!(
        text(entry(&schema, "orders", "index(status)")),
        "orders_open_idx where status <> 'shipped'"
    );
    assert_eq!(
        text(entry(&schema, "orders", "foreign_key(customer_id)")),
        "customers(id) on delete cascade on update no action"
    );
    assert_eq!(text(entry(&schema, "customers", "score.default")), "0.5");
    assert_eq!(text(entry(&schema, "customers", "checks")), "score >= 0");
    assert_eq!(
        text(entry(&schema, "customers", "index(email)")),
        "unique (unique constraint)"
    );
    // Whitespace in a view's SQL is not a difference.
    assert_eq!(
        text(entry(&schema, "big", "definition")),
        "CREATE VIEW big AS SELECT id FROM orders WHERE customer_id > 10"
    );
}

#[test]
fn sqlite_profile_figures_are_right_and_hold_no_sensitive_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    shop_db(&path);
    let before = std::fs::read(&path).unwrap();
    let got = run(dir.path(), "sqlite:shop.db", &ProfileOptions::default());
    let profile = got.profile.unwrap();
    let orders = table(&profile, "orders");
    assert_eq!((orders.rows, orders.rows_exact), (10_000, true));
    assert_eq!(orders.mode, ProfileMode::Streaming);
    let coupon = column(orders, "coupon");
    assert!((coupon.null_rate() - 0.37).abs() < 1e-9);
    assert_eq!(coupon.top, vec![("SPRING10".to_string(), 6300)]);
    let status = column(orders, "status");
    assert_eq!((status.distinct, status.distinct_exact), (3, true));
    let created = column(orders, "created_at");
    assert_eq!(created.quantiles.len(), 101, "dates have quantiles");
    let customers = table(&profile, "customers");
    let name = column(customers, "name");
    let chars = name.chars.unwrap();
    assert_eq!((chars.values, chars.non_ascii), (1000, 40));
    // Sensitive by name (`name` in `customers`, `email`) and by value (free text).
    for c in ["name", "email", "notes"] {
        assert!(column(customers, c).sensitive.is_some(), "{c}");
    }
    let json = serde_json::to_string(&profile).unwrap();
    for canary in ["canary", "Zoë", "Ann Lee"] {
        assert!(!json.contains(canary), "{canary} leaked into the profile");
    }
    // Read-only: the file is byte for byte what it was.
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn sqlite_sampling_says_so() {
    let dir = tempfile::tempdir().unwrap();
    shop_db(&dir.path().join("shop.db"));
    let options = ProfileOptions {
        sample: Some(0.2),
        mode: ModeChoice::Auto,
        ..ProfileOptions::default()
    };
    let profile = run(dir.path(), "shop.db", &options).profile.unwrap();
    let orders = table(&profile, "orders");
    assert_eq!(orders.rows, 10_000, "the table's own count");
    assert!(orders.method.contains("sample"), "{}", orders.method);
    assert!(
        (orders.sample_rate - 0.2).abs() < 0.03,
        "{}",
        orders.sample_rate
    );
    let coupon = column(orders, "coupon");
    assert!(
        (coupon.null_rate() - 0.37).abs() < 0.04,
        "{}",
        coupon.null_rate()
    );
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("junk.db"),
        "this is not SQLite at all, just text",
    )
    .unwrap();
    let got = run(dir.path(), "junk.db", &ProfileOptions::default());
    assert_eq!(got.errors.len(), 1);
    assert_eq!(got.errors[0].source, "junk.db");
    let missing = run(dir.path(), "nope.db", &ProfileOptions::default());
    assert!(missing.errors[0].message.contains("no such file"));
}

#[test]
fn csv_tables_profile_and_a_broken_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut orders = String::from("id,status,total,coupon,placed_at\n");
    for i in 0..500 {
        let coupon = if i % 4 == 0 { "" } else { "VIP" };
        orders.push_str(&format!(
            "{i},{},{}.50,{coupon},2025-01-{:02}\n",
            ["new", "paid"][i % 2],
            i % 90,
            i % 28 + 1
        ));
    }
    std::fs::write(data.join("orders.csv"), orders).unwrap();
    std::fs::write(
        data.join("broken.csv"),
        "a,b\n1,2\n3,4\n5,6,SECRET-ROW-VALUE\n",
    )
    .unwrap();
    let got = run(dir.path(), "data", &ProfileOptions::default());
    assert!(got.schema.is_none(), "CSV has no catalog");
    let profile = got.profile.unwrap();
    assert_eq!(profile.engine, "CSV");
    let broken = table(&profile, "broken");
    let error = broken.error.as_deref().unwrap();
    assert!(
        error.contains("broken.csv") && error.contains("line 4"),
        "{error}"
    );
    assert!(!error.contains("SECRET"), "{error}");
    let orders = table(&profile, "orders");
    assert_eq!(orders.rows, 500);
    let total = column(orders, "total");
    assert_eq!(total.data_type, "number");
    assert_eq!(total.quantiles.len(), 101);
    let coupon = column(orders, "coupon");
    assert!(
        (coupon.empty_rate() - 0.25).abs() < 1e-9,
        "{}",
        coupon.empty_rate()
    );
    assert_eq!(column(orders, "placed_at").data_type, "timestamp");
}
