//! The whole job against real database servers started by the tests: two MariaDB
//! databases with planted schema drift and data gaps, compared as a new user would.
//! Every schema finding must be planted: no false alarms.

#[path = "../../../envparity-data/tests/my/mod.rs"]
#[allow(dead_code)]
mod my;

use std::collections::BTreeSet;

use crate::support::{Project, classes};

/// The same shop in two databases; prod differs as planted below.
fn shop(prod: bool) -> String {
    let total = if prod { "DECIMAL(10,2)" } else { "INT" };
    let email_null = if prod { "NOT NULL" } else { "NULL" };
    let index = if prod {
        ", KEY orders_created_idx (created_at)"
    } else {
        ""
    };
    let mut sql = format!(
        "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(80) NOT NULL,
             email VARCHAR(120) {email_null}, tier VARCHAR(10) NOT NULL) ENGINE=InnoDB;
         CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL,
             status VARCHAR(12) NOT NULL, total {total} NOT NULL, coupon VARCHAR(20) NULL,
             created_at DATETIME NOT NULL,
             CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers(id)
                 ON DELETE CASCADE {index}) ENGINE=InnoDB;
         CREATE VIEW open_orders AS SELECT id, total FROM orders WHERE status = 'new';"
    );
    let mut customers = Vec::new();
    for i in 0..400 {
        let name = if prod && i % 20 == 0 {
            format!("Zoë CANARY{i}")
        } else {
            format!("Ann CANARY{i}")
        };
        customers.push(format!(
            "({i}, '{name}', 'canary{i}@example.com', '{}')",
            ["gold", "silver"][i % 2]
        ));
    }
    sql.push_str(&format!(
        "INSERT INTO customers VALUES {};",
        customers.join(",")
    ));
    let mut orders = Vec::new();
    for i in 0..2000 {
        let coupon = if prod && i % 10 < 3 {
            "NULL".to_string()
        } else {
            "'VIP'".to_string()
        };
        orders.push(format!(
            "({i}, {}, '{}', {}, {coupon}, '2025-03-{:02} 10:00:00')",
            i % 400,
            ["new", "paid", "shipped"][i % 3],
            10 + i % 40,
            i % 28 + 1
        ));
    }
    sql.push_str(&format!("INSERT INTO orders VALUES {};", orders.join(",")));
    sql
}

/// In both data modes: exactly the planted schema findings (no false alarm), the planted
/// data gaps among the data findings, and no customer's name or password in the report.
fn assert_finds_planted(p: &Project, schema: &[(&str, &str)], data: &[&str], password: &str) {
    let expected: BTreeSet<(String, String)> = schema
        .iter()
        .map(|(c, k)| (c.to_string(), k.to_string()))
        .collect();
    for mode in ["pushdown", "streaming"] {
        let run = p.run(&[
            "diff",
            "qa",
            "prod",
            "--format",
            "json",
            "--data-mode",
            mode,
        ]);
        assert_eq!(run.code, 1, "{mode}: {}", run.stderr);
        let found: BTreeSet<(String, String)> = classes(&run.json()).into_iter().collect();
        let schema_found: BTreeSet<(String, String)> = found
            .iter()
            .filter(|(_, k)| k.starts_with("schema:"))
            .cloned()
            .collect();
        assert_eq!(schema_found, expected, "{mode}: schema findings");
        for planted in data {
            assert!(
                found.contains(&("drift".to_string(), planted.to_string())),
                "{mode}: {planted} not found in {found:#?}"
            );
        }
        assert!(
            !run.stdout.contains("CANARY"),
            "{mode}: a customer's name leaked"
        );
        assert!(
            !run.stdout.contains(password),
            "{mode}: the password leaked"
        );
    }
}

#[test]
fn mariadb_qa_against_prod_finds_what_was_planted_and_nothing_else() {
    let server = my::server();
    let qa = server.database("shop_qa");
    let prod = server.database("shop_prod");
    server.root(&format!("USE shop_qa; {}", shop(false)));
    server.root(&format!("USE shop_prod; {}", shop(true)));
    let mut p = Project::new();
    p.set_env("QA_DB_URL", &qa).set_env("PROD_DB_URL", &prod);
    p.file(
        "envparity.toml",
        "[environments.qa]\ndatabase = \"${QA_DB_URL}\"\n\n[environments.prod]\ndatabase = \"${PROD_DB_URL}\"\nproduction = true\n\n[rules]\nenv_tokens = { qa = [\"qa\"], prod = [\"prod\"] }\n",
    );
    assert_finds_planted(
        &p,
        &[
            ("drift", "schema:orders.total.type"),
            ("drift", "schema:customers.email.nullable"),
            ("missing", "schema:orders.index(created_at)"),
        ],
        &[
            "data:orders.coupon.null_rate",
            "data:customers.name.non_ascii",
        ],
        my::PASSWORD,
    );
}

#[path = "../../../envparity-data/tests/pg/mod.rs"]
#[allow(dead_code)]
mod pg;

/// The same shop in PostgreSQL; prod differs as planted.
fn pg_shop(prod: bool) -> String {
    format!(
        "CREATE EXTENSION citext VERSION '{}';
         CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email citext {});
         CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id),
             status text NOT NULL, total {} NOT NULL, coupon text, created_at timestamptz NOT NULL);
         {}
         CREATE VIEW open_orders AS SELECT id, total FROM orders WHERE status = 'new';
         INSERT INTO customers SELECT i, CASE WHEN {} AND i % 20 = 0 THEN 'Zoë CANARY' || i
             ELSE 'Ann CANARY' || i END, 'canary' || i || '@example.com'
             FROM generate_series(0, 399) i;
         INSERT INTO orders SELECT i, i % 400, (ARRAY['new','paid','shipped'])[1 + i % 3],
             10 + i % 40, CASE WHEN {} AND i % 10 < 3 THEN NULL ELSE 'VIP' END,
             timestamptz '2025-03-01' + i * interval '1 hour'
             FROM generate_series(0, 1999) i;
         ANALYZE;",
        if prod { "1.6" } else { "1.5" },
        if prod { "NOT NULL" } else { "" },
        if prod { "numeric(10,2)" } else { "integer" },
        if prod {
            "CREATE INDEX orders_created_idx ON orders (created_at);"
        } else {
            ""
        },
        prod,
        prod,
    )
}

#[test]
fn postgres_qa_against_prod_finds_what_was_planted_and_nothing_else() {
    let server = pg::server();
    let qa = server.database("shop_qa");
    let prod = server.database("shop_prod");
    server.sql("shop_qa", &pg_shop(false));
    server.sql("shop_prod", &pg_shop(true));
    let mut p = Project::new();
    p.set_env("QA_DB_URL", &qa).set_env("PROD_DB_URL", &prod);
    p.file(
        "envparity.toml",
        "[environments.qa]\ndatabase = \"${QA_DB_URL}\"\n\n[environments.prod]\ndatabase = \"${PROD_DB_URL}\"\nproduction = true\n",
    );
    assert_finds_planted(
        &p,
        &[
            ("drift", "schema:extensions.citext"),
            ("drift", "schema:public.orders.total.type"),
            ("drift", "schema:public.customers.email.nullable"),
            ("missing", "schema:public.orders.index(created_at)"),
        ],
        &[
            "data:public.orders.coupon.null_rate",
            "data:public.customers.name.non_ascii",
        ],
        pg::PASSWORD,
    );
}

/// Roles and grants of one cluster: the application role (a superuser in prod, planted),
/// a reporting role, QA's extra DELETE and prod's PUBLIC grant (planted).
fn pg_access(server: &pg::Server, env: &str) {
    let prod = env == "prod";
    server.sql(
        "postgres",
        &format!(
            "CREATE ROLE app_{env} LOGIN PASSWORD 'ROLECANARY-{env}' {};
             CREATE ROLE reporting_{env} NOLOGIN;
             CREATE ROLE analyst_{env} LOGIN IN ROLE reporting_{env};",
            if prod { "SUPERUSER" } else { "NOSUPERUSER" }
        ),
    );
    server.database("shop");
    server.sql(
        "shop",
        &format!(
            "CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2));
             GRANT SELECT, INSERT, UPDATE ON orders TO app_{env};
             GRANT SELECT ON orders TO reporting_{env};
             {}",
            if prod {
                "GRANT SELECT ON orders TO PUBLIC;".to_string()
            } else {
                format!("GRANT DELETE ON orders TO app_{env};")
            }
        ),
    );
}

#[test]
fn postgres_access_across_two_clusters_read_as_a_plain_role() {
    let (qa, prod) = (pg::another(), pg::another());
    pg_access(&qa, "qa");
    pg_access(&prod, "prod");
    let mut p = Project::new();
    p.set_env("QA_DB", &qa.url(pg::USER, pg::PASSWORD_IN_URL, "shop"))
        .set_env("PROD_DB", &prod.url(pg::USER, pg::PASSWORD_IN_URL, "shop"));
    p.file(
        "envparity.toml",
        "[environments.qa]\ndatabase = \"${QA_DB}\"\n\n[environments.prod]\ndatabase = \"${PROD_DB}\"\nproduction = true\n\n[rules]\nenv_tokens = { qa = [\"qa\"], prod = [\"prod\"] }\n",
    );
    let run = p.run(&["access", "diff", "qa", "prod", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let found: BTreeSet<(String, String)> = classes(&report).into_iter().collect();
    for (class, key) in [
        ("policy", "access:postgres:app_prod.superuser"),
        (
            "policy",
            "access:postgres:PUBLIC SELECT table public.orders",
        ),
        ("extra", "access:postgres:app_qa DELETE table public.orders"),
    ] {
        assert!(
            found.contains(&(class.to_string(), key.to_string())),
            "{class} {key} not in {found:#?}"
        );
    }
    // Paired by the environment tokens: no role is reported as one side's only.
    for (class, key) in &found {
        assert!(
            !(key.contains("app_") || key.contains("reporting_") || key.contains("analyst_"))
                || key.contains(' ')
                || key.contains('.'),
            "unpaired principal: {class} {key}"
        );
    }
    // The collector role may not read pg_hba: said, not failed.
    let notes = p
        .run(&["access", "audit", "prod", "--format", "json"])
        .json();
    assert!(
        notes["notes"].to_string().contains("pg_hba"),
        "{:#}",
        notes["notes"]
    );
    for format in ["text", "json", "html", "sarif"] {
        let out = p.run(&["access", "diff", "qa", "prod", "--format", format]);
        for leak in ["ROLECANARY", pg::PASSWORD] {
            assert!(
                !out.stdout.contains(leak) && !out.stderr.contains(leak),
                "{leak} in {format}"
            );
        }
    }
}

#[test]
fn mariadb_access_audit_finds_an_all_privileges_account() {
    let server = my::server();
    server.database("access_audit");
    // The collector reads, and only reads: SELECT on the grant tables.
    server.root(
        "DROP USER IF EXISTS 'shopapp'@'%';
         DROP USER IF EXISTS 'auditor'@'%';
         CREATE USER 'shopapp'@'%' IDENTIFIED BY 'ROLECANARY-my';
         GRANT ALL PRIVILEGES ON *.* TO 'shopapp'@'%';
         CREATE USER 'auditor'@'%' IDENTIFIED BY 'auditor-pw';
         GRANT SELECT ON mysql.* TO 'auditor'@'%';
         GRANT SELECT ON access_audit.* TO 'auditor'@'%';",
    );
    let url = server.url("auditor", "auditor-pw", "access_audit");
    let mut p = Project::new();
    p.set_env("PROD_DB", &url);
    p.file(
        "envparity.toml",
        "[environments.prod]\ndatabase = \"${PROD_DB}\"\nproduction = true\n",
    );
    let run = p.run(&["access", "audit", "prod", "--format", "json"]);
    let report = run.json();
    let keys: Vec<String> = classes(&report).into_iter().map(|(_, k)| k).collect();
    assert!(
        keys.iter()
            .any(|k| k == "access:mysql:'shopapp'@'%' ALL *.*"),
        "{keys:#?}\n{}",
        run.stderr
    );
    assert!(!run.stdout.contains("ROLECANARY") && !run.stderr.contains("ROLECANARY"));
    server.root("DROP USER 'shopapp'@'%'; DROP USER 'auditor'@'%';");
}
