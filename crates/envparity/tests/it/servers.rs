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
