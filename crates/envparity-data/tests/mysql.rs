//! The MySQL/MariaDB source against a real throwaway MariaDB server: schema keys,
//! planted distributions in both modes, canaries, sampling, a table that cannot be read,
//! bad credentials, and read-only access.

mod my;

use std::path::Path;
use std::time::Instant;

use envparity_core::profile::{ColumnProfile, DatabaseProfile, ProfileMode, TableProfile};
use envparity_core::snapshot::{ConfigFile, Value};
use envparity_data::{Collected, DatabaseSource, ModeChoice, ProfileOptions, Want, collect};

use my::{PASSWORD, PASSWORD_IN_URL, USER, cell, server};

const BOTH: Want = Want {
    schema: true,
    data: true,
};
const DATA: Want = Want {
    schema: false,
    data: true,
};

fn run(url: &str, want: Want, options: &ProfileOptions) -> Collected {
    let source = DatabaseSource::new(None, url, Path::new("/")).unwrap();
    collect(&source, want, options, &|_| {})
}

fn mode(mode: ModeChoice) -> ProfileOptions {
    ProfileOptions {
        mode,
        ..ProfileOptions::default()
    }
}

/// Collects data in both modes; asserts no errors and each mode's label.
fn both_modes(url: &str) -> (DatabaseProfile, DatabaseProfile) {
    let mut out = Vec::new();
    for (choice, expected) in [
        (ModeChoice::Pushdown, ProfileMode::Pushdown),
        (ModeChoice::Streaming, ProfileMode::Streaming),
    ] {
        let started = Instant::now();
        let c = run(url, DATA, &mode(choice));
        eprintln!("{choice:?}: {:?}", started.elapsed());
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        let p = c.profile.expect("a profile");
        for t in &p.tables {
            assert_eq!(t.mode, expected, "{}", t.name);
            assert_eq!(t.error, None, "{}", t.name);
        }
        out.push(p);
    }
    let streaming = out.pop().unwrap();
    (out.pop().unwrap(), streaming)
}

fn entry<'a>(schema: &'a ConfigFile, object: &str, path: &str) -> Option<&'a Value> {
    schema
        .resources
        .iter()
        .find(|r| r.name == object)
        .and_then(|r| r.entries.iter().find(|e| e.path == path))
        .map(|e| e.value)
}

fn top_entry<'a>(schema: &'a ConfigFile, path: &str) -> Option<&'a Value> {
    schema
        .entries
        .iter()
        .find(|e| e.path == path)
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
    p.tables
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

fn column<'a>(t: &'a TableProfile, name: &str) -> &'a ColumnProfile {
    t.columns
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn near(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} is not {expected} ± {tolerance}"
    );
}

#[test]
fn schema_of_a_shop() {
    let s = server();
    eprintln!("MariaDB install + start: {:?}", s.started_in);
    let url = s.database("ep_schema");
    s.root(
        "USE ep_schema;
         CREATE TABLE customers (
            id INT AUTO_INCREMENT PRIMARY KEY,
            email VARCHAR(120) NOT NULL,
            name VARCHAR(80) NOT NULL,
            country CHAR(2) NOT NULL DEFAULT 'NL',
            created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
            UNIQUE KEY customers_email_key (email)
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
         CREATE TABLE orders (
            id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
            customer_id INT NOT NULL,
            status VARCHAR(20) NOT NULL DEFAULT 'new',
            coupon VARCHAR(20) COLLATE utf8mb4_bin NULL,
            total_cents INT NOT NULL,
            created_at DATETIME NOT NULL,
            updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
            total_eur DECIMAL(12,2) AS (total_cents / 100) STORED,
            KEY orders_customer_idx (customer_id),
            KEY orders_status_created_idx (status, created_at),
            CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id)
              REFERENCES customers (id) ON DELETE CASCADE,
            CONSTRAINT total_not_negative CHECK (total_cents >= 0)
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
         CREATE VIEW big_orders AS SELECT id,   customer_id
            FROM orders WHERE total_cents > 10000;
         CREATE TRIGGER orders_status_bi BEFORE INSERT ON orders
            FOR EACH ROW SET NEW.status = LOWER(NEW.status);
         CREATE SEQUENCE invoice_seq START WITH 1000 INCREMENT BY 5;",
    );
    // The mariadb:// scheme reads the same.
    let url = url.replacen("mysql://", "mariadb://", 1);
    let c = run(&url, BOTH, &ProfileOptions::default());
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    let schema = c.schema.expect("a schema");
    assert_eq!(schema.path, "schema");
    assert!(!schema.source.contains("Zq7"), "{}", schema.source);

    assert_eq!(text(top_entry(&schema, "server.engine")), "MariaDB");
    assert_eq!(text(top_entry(&schema, "server.version")), "10.11");
    let sql_mode = text(top_entry(&schema, "settings.sql_mode"));
    let mut sorted: Vec<&str> = sql_mode.split(',').collect();
    sorted.sort_unstable();
    assert_eq!(sql_mode, sorted.join(","), "sql_mode is sorted");
    assert!(sql_mode.contains("STRICT_TRANS_TABLES"), "{sql_mode}");
    for setting in [
        "settings.time_zone",
        "settings.character_set_server",
        "settings.collation_database",
        "settings.lower_case_table_names",
        "settings.transaction_isolation",
        "settings.default_storage_engine",
    ] {
        assert!(top_entry(&schema, setting).is_some(), "{setting}");
    }
    assert!(top_entry(&schema, "settings.max_allowed_packet").is_none());
    assert_eq!(
        top_entry(&schema, "settings.lower_case_table_names"),
        Some(&Value::Number("0".into()))
    );

    let get = |object: &str, path: &str| text(entry(&schema, object, path));
    assert_eq!(get("orders", "created_at.type"), "datetime");
    assert_eq!(get("orders", "created_at.nullable"), "false");
    assert_eq!(get("orders", "coupon.nullable"), "true");
    assert_eq!(get("orders", "id.type"), "bigint unsigned");
    assert_eq!(get("orders", "id.extra"), "auto_increment");
    assert_eq!(get("orders", "status.default"), "new");
    assert_eq!(get("orders", "coupon.collation"), "utf8mb4_bin");
    assert!(entry(&schema, "orders", "status.collation").is_none());
    assert!(entry(&schema, "orders", "coupon.default").is_none());
    assert_eq!(get("orders", "updated_at.default"), "current_timestamp()");
    assert_eq!(
        get("orders", "updated_at.extra"),
        "on update current_timestamp()"
    );
    assert_eq!(get("orders", "total_eur.extra"), "stored generated");
    assert!(get("orders", "total_eur.generated").contains("total_cents"));
    assert_eq!(get("orders", "engine"), "InnoDB");
    assert_eq!(get("orders", "collation"), "utf8mb4_general_ci");
    assert_eq!(get("orders", "primary_key"), "id");
    assert_eq!(
        get("orders", "index(customer_id)"),
        "btree orders_customer_idx"
    );
    assert_eq!(
        get("orders", "index(status,created_at)"),
        "btree orders_status_created_idx"
    );
    assert_eq!(
        get("customers", "index(email)"),
        "unique btree customers_email_key"
    );
    assert_eq!(get("customers", "country.default"), "NL");
    assert_eq!(
        get("customers", "created_at.default"),
        "current_timestamp()"
    );
    assert_eq!(
        get("orders", "foreign_key(customer_id)"),
        "customers(id) on delete cascade on update restrict"
    );
    assert_eq!(
        get("orders", "check.total_not_negative"),
        "`total_cents` >= 0"
    );

    let view = schema
        .resources
        .iter()
        .find(|r| r.name == "big_orders")
        .expect("the view");
    assert_eq!(view.kind, "view");
    let definition = get("big_orders", "definition");
    assert!(
        definition.contains("`orders`.`total_cents` > 10000"),
        "{definition}"
    );
    assert!(
        !definition.contains("ep_schema"),
        "no database name: {definition}"
    );

    let trigger = schema
        .resources
        .iter()
        .find(|r| r.name == "orders_status_bi")
        .expect("the trigger");
    assert_eq!(trigger.kind, "trigger");
    assert_eq!(get("orders_status_bi", "table"), "orders");
    let definition = get("orders_status_bi", "definition");
    assert!(
        definition.starts_with("BEFORE INSERT ON `orders` FOR EACH ROW SET NEW.status"),
        "{definition}"
    );

    let sequence = schema
        .resources
        .iter()
        .find(|r| r.name == "invoice_seq")
        .expect("the sequence");
    assert_eq!(sequence.kind, "sequence");
    assert_eq!(get("invoice_seq", "increment"), "5");
    assert_eq!(get("invoice_seq", "cycle"), "false");

    // The data facet of the same database: base tables only, the engine named.
    let p = c.profile.expect("a profile");
    assert!(p.engine.starts_with("MariaDB 10.11."), "{}", p.engine);
    let names: Vec<&str> = p.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["customers", "orders"]);
    assert!(!p.source.contains("Zq7"), "{}", p.source);
}

fn planted(db: &str) -> String {
    let s = server();
    let url = s.database(db);
    s.root(&format!(
        "USE {db};
         CREATE TABLE products (
            id INT PRIMARY KEY,
            name VARCHAR(80) NOT NULL,
            coupon VARCHAR(20) NULL,
            label VARCHAR(40) NULL,
            price DECIMAL(10,2) NOT NULL,
            in_stock TINYINT(1) NOT NULL,
            created_at DATETIME NOT NULL,
            photo VARBINARY(16) NULL
         );
         INSERT INTO products
         SELECT seq,
                IF(seq % 25 = 0, CONCAT('Zoë Brontë ', seq), CONCAT('Widget ', seq)),
                IF(seq % 100 < 37, NULL, ELT(1 + seq % 4, 'SPRING', 'SUMMER', 'AUTUMN', 'WINTER')),
                CASE WHEN seq % 50 = 1 THEN 'party 🎉'
                     WHEN seq % 50 = 2 THEN ' padded'
                     WHEN seq % 50 = 3 THEN 'tab\there'
                     WHEN seq % 50 = 4 THEN ''
                     ELSE 'plain' END,
                (seq % 1000) / 10,
                seq % 3 = 0,
                '2024-01-01 00:00:00' + INTERVAL (seq * 60) MINUTE,
                IF(seq % 2 = 0, UNHEX('DEADBEEF'), NULL)
         FROM seq_1_to_10000;"
    ));
    url
}

#[test]
fn planted_distributions_agree_in_both_modes() {
    let url = planted("ep_planted");
    let started = Instant::now();
    let (push, stream) = both_modes(&url);
    eprintln!(
        "10,000 rows profiled in both modes in {:?}",
        started.elapsed()
    );
    for p in [&push, &stream] {
        let t = table(p, "products");
        assert_eq!(t.rows, 10_000);
        assert!(t.rows_exact);
        assert_eq!(t.profiled_rows, 10_000);
        assert_eq!(t.sample_rate, 1.0);
        let what = |c: &str| format!("{:?} {c}", t.mode);

        let coupon = column(t, "coupon");
        near(coupon.null_rate(), 0.37, 0.005, &what("coupon null rate"));
        assert_eq!(coupon.distinct, 4, "{}", what("coupon distinct"));
        assert_eq!(coupon.top.len(), 4);
        assert_eq!(coupon.top.iter().map(|t| t.1).sum::<u64>(), 6300);

        let name = column(t, "name");
        let chars = name.chars.expect("text classes");
        assert_eq!(chars.values, 10_000);
        near(
            chars.non_ascii as f64 / chars.values as f64,
            0.04,
            0.005,
            &what("name non-ASCII"),
        );
        assert_eq!(name.nulls, 0);
        assert!(!name.shapes.is_empty());

        let label = column(t, "label");
        let chars = label.chars.expect("text classes");
        assert_eq!(
            (chars.emoji, chars.padded, chars.control, chars.non_ascii),
            (200, 200, 200, 200),
            "{}",
            what("label classes")
        );
        assert_eq!(label.empty, 200, "{}", what("label empty"));

        let price = column(t, "price");
        assert_eq!(price.min.as_deref(), Some("0.00"));
        assert_eq!(price.max.as_deref(), Some("99.90"));
        assert_eq!(price.quantiles.len(), 101);
        near(price.quantiles[50], 50.0, 3.0, &what("price median"));

        let created = column(t, "created_at");
        assert_eq!(created.min.as_deref(), Some("2024-01-01 01:00:00"));
        assert_eq!(created.quantiles.len(), 101);
        let first = 1_704_067_200.0; // 2024-01-01 UTC
        near(
            created.quantiles[50],
            first + 5000.0 * 3600.0,
            3.0 * 86_400.0,
            &what("created_at median"),
        );

        let photo = column(t, "photo");
        near(photo.null_rate(), 0.5, 1e-9, &what("photo nulls"));
        assert_eq!(photo.distinct, 1);
        assert!(photo.min.is_none());
    }
    // The two modes agree.
    let (a, b) = (table(&push, "products"), table(&stream, "products"));
    assert_eq!(a.method, "full scan");
    assert_eq!(b.method, "streamed");
    for (x, y) in a.columns.iter().zip(&b.columns) {
        assert_eq!(x.name, y.name);
        assert_eq!(x.kind, y.kind, "{}", x.name);
        assert_eq!(
            (x.values, x.nulls, x.empty),
            (y.values, y.nulls, y.empty),
            "{}",
            x.name
        );
        assert_eq!(x.chars, y.chars, "{}", x.name);
        assert_eq!(x.sensitive, y.sensitive, "{}", x.name);
        assert_eq!((&x.min, &x.max), (&y.min, &y.max), "{}", x.name);
        if y.distinct_exact {
            assert_eq!(x.distinct, y.distinct, "{}", x.name);
        } else {
            near(
                x.distinct as f64,
                y.distinct as f64,
                x.distinct as f64 * 0.05,
                &x.name,
            );
        }
        let shapes =
            |c: &ColumnProfile| -> Vec<String> { c.shapes.iter().map(|s| s.0.clone()).collect() };
        assert_eq!(shapes(x), shapes(y), "{}", x.name);
        assert_eq!(x.quantiles.len(), y.quantiles.len(), "{}", x.name);
        assert_eq!(
            x.length_quantiles.len(),
            y.length_quantiles.len(),
            "{}",
            x.name
        );
        if let (Some(a), Some(b)) = (x.length_quantiles.get(50), y.length_quantiles.get(50)) {
            near(*a, *b, 1.0, &format!("{} median length", x.name));
        }
    }
    assert_eq!(column(a, "coupon").top, column(b, "coupon").top);
    assert_eq!(column(a, "in_stock").top, column(b, "in_stock").top);
}

#[test]
fn every_column_type_profiles_in_both_modes() {
    let s = server();
    let url = s.database("ep_types");
    s.root(
        "USE ep_types;
         CREATE TABLE odd (
            id INT PRIMARY KEY,
            doc JSON,
            mood ENUM('happy', 'sad'),
            tags SET('a', 'b', 'c'),
            yr YEAR,
            flags BIT(8),
            spot POINT,
            t TIME,
            d DATE,
            f FLOAT,
            g DOUBLE,
            u UUID,
            ip INET6,
            blobby BLOB,
            old_text VARCHAR(20) CHARACTER SET latin1,
            `odd name` VARCHAR(5)
         );
         INSERT INTO odd SELECT seq,
                JSON_OBJECT('k', seq % 3),
                IF(seq % 2 = 0, 'happy', 'sad'),
                IF(seq % 3 = 0, 'a,c', 'b'),
                2000 + seq % 20,
                seq % 256,
                POINT(seq % 5, 1),
                SEC_TO_TIME(seq * 7),
                '2020-01-01' + INTERVAL seq DAY,
                seq / 7,
                seq / 3,
                UUID(),
                IF(seq % 4 = 0, NULL, '::1'),
                IF(seq % 5 = 0, NULL, UNHEX(HEX(seq))),
                IF(seq % 10 = 0, 'Café', 'Cafe'),
                'x'
         FROM seq_1_to_300;",
    );
    let (push, stream) = both_modes(&url);
    for p in [&push, &stream] {
        let t = table(p, "odd");
        assert_eq!(t.rows, 300);
        assert_eq!(t.columns.len(), 16);
        let old = column(t, "old_text");
        assert_eq!(old.chars.unwrap().non_ascii, 30, "{:?}", t.mode);
        assert_eq!(old.distinct, 2);
        assert_eq!(column(t, "mood").distinct, 2);
        assert_eq!(column(t, "yr").quantiles.len(), 101);
        assert_eq!(column(t, "d").min.as_deref(), Some("2020-01-02"));
        assert_eq!(column(t, "ip").nulls, 75);
        assert_eq!(column(t, "blobby").nulls, 60);
        assert_eq!(column(t, "odd name").values, 300);
    }
    let c = run(&url, BOTH, &ProfileOptions::default());
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    let schema = c.schema.unwrap();
    assert_eq!(
        text(entry(&schema, "odd", "[\"odd name\"].type")),
        "varchar(5)"
    );
    assert_eq!(
        text(entry(&schema, "odd", "old_text.collation")),
        "latin1_swedish_ci"
    );
}

#[test]
fn canaries_never_reach_the_profile() {
    let s = server();
    let url = s.database("ep_secrets");
    s.root(
        "USE ep_secrets;
         CREATE TABLE customers (
            id INT PRIMARY KEY,
            email VARCHAR(120) NOT NULL,
            notes TEXT NULL,
            ref_code VARCHAR(120) NULL,
            tier VARCHAR(10) NOT NULL
         );
         INSERT INTO customers
         SELECT seq,
                CONCAT('canary-XYZ-', seq, '@example.com'),
                CONCAT('please call canary-note-', seq, ' before the delivery arrives today'),
                CONCAT('canary-ref-', seq % 7, '@example.org'),
                ELT(1 + seq % 3, 'gold', 'silver', 'bronze')
         FROM seq_1_to_2000;",
    );
    for choice in [ModeChoice::Pushdown, ModeChoice::Streaming] {
        let c = run(&url, BOTH, &mode(choice));
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        let p = c.profile.unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("canary"), "{choice:?}: {json}");
        let t = table(&p, "customers");
        for name in ["email", "notes", "ref_code"] {
            let col = column(t, name);
            assert!(col.sensitive.is_some(), "{choice:?} {name}");
            assert!(col.top.is_empty() && col.min.is_none() && col.quantiles.is_empty());
        }
        // Found by its values, not its name.
        assert!(
            column(t, "ref_code")
                .sensitive
                .as_deref()
                .unwrap()
                .contains("email"),
            "{choice:?}"
        );
        // A plain column keeps its values.
        assert_eq!(column(t, "tier").top.len(), 3);
        assert_eq!(column(t, "email").shapes[0].1, 2000);
        let schema = serde_json::to_string(&c.schema.unwrap()).unwrap();
        assert!(!schema.contains("canary"));
    }
}

#[test]
fn sampling_reads_a_share_of_the_rows() {
    let s = server();
    let url = s.database("ep_sample");
    s.root(
        "USE ep_sample;
         CREATE TABLE events (id INT PRIMARY KEY, kind VARCHAR(10) NOT NULL, amount INT NULL);
         INSERT INTO events SELECT seq, ELT(1 + seq % 3, 'view', 'click', 'buy'),
                IF(seq % 10 = 0, NULL, seq % 500)
         FROM seq_1_to_50000;",
    );
    for choice in [ModeChoice::Pushdown, ModeChoice::Streaming] {
        let options = ProfileOptions {
            mode: choice,
            sample: Some(0.1),
            ..ProfileOptions::default()
        };
        let c = run(&url, DATA, &options);
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        let p = c.profile.unwrap();
        let t = table(&p, "events");
        assert!(
            t.method.contains("sample (10 %)"),
            "{choice:?}: {}",
            t.method
        );
        assert_eq!(t.rows, 50_000);
        assert!(t.rows_exact);
        near(t.sample_rate, 0.1, 0.01, "sample rate");
        near(t.profiled_rows as f64, 5000.0, 500.0, "profiled rows");
        let amount = column(t, "amount");
        assert_eq!(amount.values, t.profiled_rows);
        near(amount.null_rate(), 0.1, 0.02, "amount null rate");
        assert!(!amount.distinct_exact || choice == ModeChoice::Streaming);
    }
}

#[test]
fn a_table_that_cannot_be_read_does_not_sink_the_run() {
    let s = server();
    s.database("ep_denied");
    s.root(&format!(
        "USE ep_denied;
         CREATE TABLE good (id INT PRIMARY KEY, v VARCHAR(10));
         INSERT INTO good VALUES (1, 'a'), (2, 'b');
         CREATE TABLE secret (id INT PRIMARY KEY, v VARCHAR(10));
         INSERT INTO secret VALUES (1, 'x');
         DROP USER IF EXISTS 'limited'@'%';
         CREATE USER 'limited'@'%' IDENTIFIED BY '{PASSWORD}';
         GRANT SELECT ON ep_denied.good TO 'limited'@'%';
         GRANT INSERT ON ep_denied.secret TO 'limited'@'%';"
    ));
    let url = s.url("limited", PASSWORD_IN_URL, "ep_denied");
    for choice in [ModeChoice::Pushdown, ModeChoice::Streaming] {
        let c = run(&url, BOTH, &mode(choice));
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        let p = c.profile.unwrap();
        assert_eq!(p.tables.len(), 2);
        let good = table(&p, "good");
        assert_eq!(good.error, None);
        assert_eq!(good.rows, 2);
        let secret = table(&p, "secret");
        let error = secret.error.as_deref().expect("an error");
        assert!(error.contains("denied"), "{error}");
        assert!(!error.contains("Zq7"), "{error}");
        assert!(secret.columns.is_empty());
    }
}

#[test]
fn bad_credentials_and_unreachable_servers_are_errors_without_the_password() {
    let s = server();
    s.database("ep_login");
    let wrong = s.url(USER, "Wrong-Zq7-secret", "ep_login");
    let started = Instant::now();
    let c = run(&wrong, BOTH, &ProfileOptions::default());
    assert!(c.schema.is_none() && c.profile.is_none());
    assert_eq!(c.errors.len(), 1);
    let message = format!("{:?}", c.errors[0]);
    assert!(message.contains("Access denied"), "{message}");
    assert!(!message.contains("Zq7"), "{message}");
    assert_eq!(
        c.errors[0].source,
        format!("mysql://{USER}@127.0.0.1:{}/ep_login", s.port)
    );

    // A port nobody listens on: refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("mysql://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{port}/ep_login");
    let c = run(&url, BOTH, &ProfileOptions::default());
    assert!(c.schema.is_none() && c.profile.is_none());
    assert_eq!(c.errors.len(), 1);
    let message = format!("{:?}", c.errors[0]);
    assert!(message.contains("cannot connect"), "{message}");
    assert!(
        !message.contains("Zq7") && !message.contains(PASSWORD),
        "{message}"
    );
    assert!(started.elapsed().as_secs() < 10);

    // A URL without a database.
    let url = format!("mysql://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{}", s.port);
    let c = run(&url, BOTH, &ProfileOptions::default());
    assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
    assert!(c.errors[0].message.contains("names no database"));
}

#[test]
fn collecting_is_read_only() {
    let s = server();
    s.database("ep_readonly");
    s.root(&format!(
        "USE ep_readonly;
         CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL, note VARCHAR(20));
         INSERT INTO accounts SELECT seq, seq * 10, IF(seq % 2 = 0, 'even', NULL)
         FROM seq_1_to_500;
         DROP USER IF EXISTS 'auditor'@'%';
         CREATE USER 'auditor'@'%' IDENTIFIED BY '{PASSWORD}';
         GRANT SELECT, SHOW VIEW ON ep_readonly.* TO 'auditor'@'%';
         TRUNCATE TABLE mysql.general_log;
         SET GLOBAL log_output = 'TABLE';
         SET GLOBAL general_log = ON;"
    ));
    let checksum = || {
        let rows = s.root("CHECKSUM TABLE ep_readonly.accounts EXTENDED");
        cell(&rows[0], 1)
    };
    let before = checksum();
    let url = s.url("auditor", PASSWORD_IN_URL, "ep_readonly");
    for choice in [ModeChoice::Pushdown, ModeChoice::Streaming] {
        let c = run(&url, BOTH, &mode(choice));
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(table(c.profile.as_ref().unwrap(), "accounts").rows, 500);
    }
    let log = s.root(
        "SELECT CONVERT(argument USING utf8mb4) FROM mysql.general_log
         WHERE user_host LIKE 'auditor%' AND command_type = 'Query'",
    );
    s.root("SET GLOBAL general_log = OFF");
    assert_eq!(checksum(), before);
    let statements: Vec<String> = log.iter().filter_map(|r| cell(r, 0)).collect();
    assert!(
        statements
            .iter()
            .any(|q| q.starts_with("START TRANSACTION READ ONLY")),
        "{statements:#?}"
    );
    for q in &statements {
        let word = q
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        assert!(
            ["SELECT", "SHOW", "SET", "START", "ROLLBACK"].contains(&word.as_str()),
            "a statement that is not a read: {q}"
        );
        if word == "SET" {
            assert!(
                q.starts_with("SET NAMES") || q.contains("TRANSACTION READ ONLY"),
                "{q}"
            );
        }
    }
}
