//! The access collectors against real throwaway servers (PostgreSQL 15, MariaDB): planted
//! issues are seen, a collector without privileges says what it could not read, and no
//! password or password hash ever reaches the model or an error.

mod my;
mod pg;

use std::path::Path;
use std::sync::OnceLock;
use std::time::Instant;

use envparity_core::access::{AccessModel, Permission, Principal};
use envparity_core::snapshot::SourceError;
use envparity_data::{DatabaseSource, collect_access};

/// Passwords of the roles created here: words to search the output for.
const PG_RO_PASSWORD: &str = "ro-CanaryPgAccess41";
const PG_ADMIN_PASSWORD: &str = "admin-CanaryPgAccess42";
const PG_APP_PASSWORD: &str = "app-CanaryPgAccess43";
const MY_PASSWORD: &str = "CanaryMyAccess44";

fn run(url: &str) -> (AccessModel, Vec<SourceError>) {
    let source = DatabaseSource::new(None, url, Path::new("/")).unwrap();
    let started = Instant::now();
    let out = collect_access(&source);
    eprintln!("collected {} in {:.2?}", source.shown, started.elapsed());
    out
}

fn principal<'a>(m: &'a AccessModel, name: &str) -> &'a Principal {
    m.principals
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no principal {name}: {:#?}", m.principals))
}

fn permission<'a>(
    m: &'a AccessModel,
    principal: &str,
    action: &str,
    resource: &str,
) -> Option<&'a Permission> {
    m.permissions
        .iter()
        .find(|p| p.principal == principal && p.action == action && p.resource == resource)
}

fn has(m: &AccessModel, principal: &str, action: &str, resource: &str) -> &'static str {
    if permission(m, principal, action, resource).is_some() {
        "yes"
    } else {
        "no"
    }
}

/// Neither the model nor the errors hold any of `secrets`.
fn assert_no_secret(m: &AccessModel, errors: &[SourceError], secrets: &[&str]) {
    let json = serde_json::to_string(m).unwrap() + &format!("{errors:?}");
    for s in secrets {
        assert!(!s.is_empty());
        assert!(!json.contains(s), "`{s}` leaked: {json}");
    }
}

// ------------------------------------------------------------------------- PostgreSQL

/// The planted database, once per process (roles are cluster-wide): its name.
fn pg_setup() -> &'static str {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let s = pg::server();
        s.database("access_pg");
        s.sql(
            "access_pg",
            &format!(
                "CREATE ROLE app_prod LOGIN SUPERUSER PASSWORD '{PG_APP_PASSWORD}';
                 CREATE ROLE readers NOLOGIN;
                 CREATE ROLE reporting NOLOGIN IN ROLE readers;
                 CREATE ROLE analyst LOGIN CONNECTION LIMIT 3 VALID UNTIL '2031-05-06' IN ROLE reporting;
                 CREATE ROLE auditor LOGIN NOINHERIT IN ROLE readers;
                 GRANT pg_read_all_data TO reporting;
                 CREATE ROLE app_owner NOLOGIN;
                 CREATE TABLE orders (id serial PRIMARY KEY, customer text, email text, total numeric);
                 ALTER TABLE orders OWNER TO app_owner;
                 GRANT SELECT ON orders TO PUBLIC;
                 GRANT SELECT (email), UPDATE (email) ON orders TO analyst;
                 CREATE VIEW order_totals AS SELECT customer, sum(total) AS total FROM orders GROUP BY customer;
                 GRANT SELECT ON order_totals TO reporting WITH GRANT OPTION;
                 CREATE SEQUENCE invoice_no;
                 GRANT USAGE ON SEQUENCE invoice_no TO reporting;
                 CREATE FUNCTION total_of(integer) RETURNS numeric LANGUAGE sql AS 'SELECT 1::numeric';
                 CREATE FUNCTION refund(text, integer) RETURNS void LANGUAGE sql AS 'SELECT';
                 REVOKE EXECUTE ON FUNCTION refund(text, integer) FROM PUBLIC;
                 GRANT EXECUTE ON FUNCTION refund(text, integer) TO reporting;
                 ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA public GRANT SELECT ON TABLES TO reporting;
                 ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
                 CREATE POLICY own_orders ON orders FOR SELECT TO analyst USING (customer = current_user);
                 CREATE TABLE notes (id int);
                 CREATE POLICY inert ON notes TO PUBLIC USING (id > 0);
                 CREATE ROLE envparity_ro LOGIN PASSWORD '{PG_RO_PASSWORD}';
                 CREATE ROLE envparity_admin LOGIN SUPERUSER PASSWORD '{PG_ADMIN_PASSWORD}';"
            ),
        );
    });
    "access_pg"
}

/// The SCRAM verifiers of the roles created here, as the server stores them.
fn pg_hashes() -> Vec<String> {
    pg::server()
        .sql(
            "postgres",
            "SELECT rolpassword FROM pg_authid WHERE rolpassword IS NOT NULL",
        )
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect()
}

#[test]
fn postgres_access_as_a_plain_login_role() {
    let db = pg_setup();
    let url = pg::server().url("envparity_ro", PG_RO_PASSWORD, db);
    let (m, errors) = run(&url);
    assert!(errors.is_empty(), "{errors:?}");

    // Roles: the planted superuser, attributes, the chain, a noinherit membership, and a
    // membership in a built-in role; built-in roles themselves are not listed.
    let app = principal(&m, "app_prod");
    assert_eq!(app.kind, "role");
    assert_eq!(app.attributes["superuser"], "true");
    assert_eq!(app.attributes["login"], "true");
    assert_eq!(app.attributes["password_expires"], "never");
    assert_eq!(app.attributes["connection_limit"], "-1");
    assert!(
        app.origin
            .file
            .starts_with("postgres://envparity_ro@127.0.0.1:")
    );
    assert_eq!(app.origin.line, None);
    let analyst = principal(&m, "analyst");
    assert_eq!(analyst.member_of, ["reporting"]);
    assert_eq!(analyst.attributes["superuser"], "false");
    assert_eq!(analyst.attributes["connection_limit"], "3");
    assert_eq!(analyst.attributes["password_expires"], "2031-05-06");
    assert_eq!(
        principal(&m, "reporting").member_of,
        ["pg_read_all_data", "readers"]
    );
    assert_eq!(principal(&m, "reporting").attributes["login"], "false");
    assert!(principal(&m, "readers").member_of.is_empty());
    assert_eq!(principal(&m, "auditor").member_of, ["readers (noinherit)"]);
    assert!(!m.principals.iter().any(|p| p.name.starts_with("pg_")));

    // The planted PUBLIC grant, with its statement.
    let public = permission(&m, "PUBLIC", "SELECT", "table public.orders").expect("PUBLIC grant");
    assert_eq!(public.via, "GRANT SELECT ON TABLE public.orders TO PUBLIC");
    assert!(!public.grant_option);
    // Ownership is a permission; the owner's own ACL entries are not repeated.
    let owner = permission(&m, "app_owner", "ALL", "table public.orders").expect("owner");
    assert_eq!(owner.via, "owner");
    assert_eq!(has(&m, "app_owner", "SELECT", "table public.orders"), "no");
    // Column grants.
    let column = permission(&m, "analyst", "SELECT", "column public.orders.email").unwrap();
    assert_eq!(
        column.via,
        "GRANT SELECT (email) ON TABLE public.orders TO analyst"
    );
    assert_eq!(
        has(&m, "analyst", "UPDATE", "column public.orders.email"),
        "yes"
    );
    // A view with grant option, a sequence.
    let view = permission(&m, "reporting", "SELECT", "view public.order_totals").unwrap();
    assert!(view.grant_option);
    assert!(
        view.via.ends_with("TO reporting WITH GRANT OPTION"),
        "{}",
        view.via
    );
    let seq = permission(&m, "reporting", "USAGE", "sequence public.invoice_no").unwrap();
    assert_eq!(
        seq.via,
        "GRANT USAGE ON SEQUENCE public.invoice_no TO reporting"
    );
    // Functions: the default PUBLIC EXECUTE where the ACL is NULL; a revoked one.
    assert_eq!(
        has(&m, "PUBLIC", "EXECUTE", "function public.total_of(integer)"),
        "yes"
    );
    assert_eq!(
        has(
            &m,
            "PUBLIC",
            "EXECUTE",
            "function public.refund(text, integer)"
        ),
        "no"
    );
    let refund = permission(
        &m,
        "reporting",
        "EXECUTE",
        "function public.refund(text, integer)",
    )
    .unwrap();
    assert_eq!(
        refund.via,
        "GRANT EXECUTE ON FUNCTION public.refund(text, integer) TO reporting"
    );
    // The database's and schema public's defaults (PG15: no CREATE for PUBLIC).
    assert_eq!(has(&m, "PUBLIC", "CONNECT", "database access_pg"), "yes");
    assert_eq!(has(&m, "PUBLIC", "TEMPORARY", "database access_pg"), "yes");
    assert_eq!(has(&m, "PUBLIC", "USAGE", "schema public"), "yes");
    assert_eq!(has(&m, "PUBLIC", "CREATE", "schema public"), "no");
    assert_eq!(has(&m, "pg_database_owner", "ALL", "schema public"), "yes");
    // Default privileges.
    let future = permission(
        &m,
        "reporting",
        "SELECT",
        "future tables in schema public (created by app_owner)",
    )
    .expect("default privilege");
    assert_eq!(
        future.via,
        "ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA public GRANT SELECT ON TABLES TO reporting"
    );
    // Policies: on a table with row security, and an inert one.
    let policy = m
        .permissions
        .iter()
        .find(|p| p.principal == "analyst" && p.resource.starts_with("rows of table public.orders"))
        .expect("policy");
    assert!(
        policy
            .via
            .contains("USING (customer = CURRENT_USER); row security enabled"),
        "{}",
        policy.via
    );
    assert_eq!(policy.action, "SELECT");
    assert_eq!(
        policy.resource,
        "rows of table public.orders where (customer = CURRENT_USER)"
    );
    assert!(
        policy.via.starts_with(
            "CREATE POLICY own_orders ON public.orders AS PERMISSIVE FOR SELECT TO analyst"
        ),
        "{}",
        policy.via
    );
    assert_eq!(
        has(
            &m,
            "PUBLIC",
            "ALL",
            "rows of table public.notes where (id > 0) (row security off)"
        ),
        "yes"
    );

    // pg_hba is closed to this role: said in limits, only the settings are rules.
    assert!(
        m.limits
            .iter()
            .any(|l| l.starts_with("pg_hba rules: not readable by role `envparity_ro`")),
        "{:?}",
        m.limits
    );
    let mut rules: Vec<(&str, &str)> = m
        .auth_rules
        .iter()
        .map(|r| (r.kind.as_str(), r.method.as_str()))
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            ("setting", "password_encryption=scram-sha-256"),
            ("setting", "ssl=off")
        ]
    );

    let mut secrets = vec![
        PG_RO_PASSWORD,
        PG_ADMIN_PASSWORD,
        PG_APP_PASSWORD,
        "SCRAM-SHA-256$",
    ];
    let hashes = pg_hashes();
    assert!(hashes.len() >= 3);
    secrets.extend(hashes.iter().map(String::as_str));
    assert_no_secret(&m, &errors, &secrets);
}

#[test]
fn postgres_access_as_superuser_reads_pg_hba() {
    let db = pg_setup();
    let url = pg::server().url("envparity_admin", PG_ADMIN_PASSWORD, db);
    let (m, errors) = run(&url);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        !m.limits.iter().any(|l| l.contains("pg_hba")),
        "{:?}",
        m.limits
    );
    // initdb --auth-host=scram-sha-256: host rules for 127.0.0.1/32 and ::1/128.
    let host = m
        .auth_rules
        .iter()
        .find(|r| r.kind == "host" && r.address.as_deref() == Some("127.0.0.1/32"))
        .unwrap_or_else(|| panic!("no host rule: {:#?}", m.auth_rules));
    assert_eq!(host.method, "scram-sha-256");
    assert_eq!(host.database, "all");
    assert_eq!(host.user, "all");
    assert!(host.origin.line.is_some_and(|l| l > 0));
    assert!(
        m.auth_rules
            .iter()
            .any(|r| r.kind == "local" && r.method == "trust" && r.address.is_none())
    );
    assert_eq!(
        principal(&m, "envparity_admin").attributes["superuser"],
        "true"
    );
    // The same model otherwise.
    assert_eq!(has(&m, "PUBLIC", "SELECT", "table public.orders"), "yes");
    let mut secrets = vec![
        PG_RO_PASSWORD,
        PG_ADMIN_PASSWORD,
        PG_APP_PASSWORD,
        "SCRAM-SHA-256$",
    ];
    let hashes = pg_hashes();
    secrets.extend(hashes.iter().map(String::as_str));
    assert_no_secret(&m, &errors, &secrets);
}

#[test]
fn postgres_wrong_password_is_an_error_naming_the_source_not_the_password() {
    let db = pg_setup();
    let url = pg::server().url("envparity_ro", "wrong-CanaryPg45", db);
    let (m, errors) = run(&url);
    assert!(m.is_empty());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .source
            .starts_with("postgres://envparity_ro@127.0.0.1:")
    );
    assert!(
        errors[0].message.starts_with("cannot connect"),
        "{errors:?}"
    );
    assert_no_secret(&m, &errors, &["wrong-CanaryPg45"]);
}

// ---------------------------------------------------------------------------- MariaDB

/// The planted accounts, once per process.
fn my_setup() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        my::server().root(&format!(
            "CREATE DATABASE access_shop;
             CREATE TABLE access_shop.users (id INT PRIMARY KEY, email VARCHAR(100));
             CREATE TABLE access_shop.orders (id INT PRIMARY KEY, total DECIMAL(10,2));
             CREATE USER 'app'@'%' IDENTIFIED BY '{MY_PASSWORD}';
             GRANT ALL ON *.* TO 'app'@'%';
             CREATE USER 'ops'@'localhost' IDENTIFIED BY '{MY_PASSWORD}' REQUIRE SSL WITH MAX_USER_CONNECTIONS 5;
             GRANT SUPER ON *.* TO 'ops'@'localhost';
             CREATE ROLE reader;
             GRANT SELECT ON access_shop.* TO reader;
             CREATE USER 'bob'@'%' IDENTIFIED BY '{MY_PASSWORD}';
             GRANT reader TO 'bob'@'%';
             GRANT SELECT, INSERT ON access_shop.orders TO 'bob'@'%' WITH GRANT OPTION;
             GRANT SELECT (email) ON access_shop.users TO 'bob'@'%';
             CREATE USER 'owner'@'%' IDENTIFIED BY '{MY_PASSWORD}';
             GRANT ALL ON access_shop.* TO 'owner'@'%';
             CREATE USER 'gone'@'%' IDENTIFIED BY '{MY_PASSWORD}' ACCOUNT LOCK;
             CREATE USER 'envparity'@'%' IDENTIFIED BY '{MY_PASSWORD}';
             GRANT SELECT ON mysql.* TO 'envparity'@'%';
             GRANT SELECT ON access_shop.* TO 'envparity'@'%';
             CREATE USER 'limited'@'%' IDENTIFIED BY '{MY_PASSWORD}';
             GRANT SELECT ON access_shop.* TO 'limited'@'%';
             GRANT reader TO 'limited'@'%';"
        ));
    });
}

/// The stored hash of the test password (`*` + 40 hex digits).
fn my_hash() -> String {
    let rows = my::server().root(&format!("SELECT PASSWORD('{MY_PASSWORD}')"));
    let hash = my::cell(&rows[0], 0).unwrap();
    assert!(hash.starts_with('*') && hash.len() == 41, "{hash}");
    hash
}

#[test]
fn mariadb_access_with_select_on_mysql() {
    my_setup();
    let url = my::server().url("envparity", MY_PASSWORD, "access_shop");
    let (m, errors) = run(&url);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(m.limits.is_empty(), "{:?}", m.limits);

    // The planted ALL on *.*: one ALL permission, and SUPER as an attribute.
    let app = principal(&m, "'app'@'%'");
    assert_eq!(app.kind, "account");
    assert_eq!(app.attributes["super"], "true");
    assert_eq!(app.attributes["host"], "%");
    assert_eq!(app.attributes["locked"], "false");
    assert_eq!(app.attributes["require_ssl"], "false");
    assert_eq!(app.attributes["plugin"], "mysql_native_password");
    let all = permission(&m, "'app'@'%'", "ALL", "*.*").expect("ALL on *.*");
    assert_eq!(all.via, "GRANT ALL PRIVILEGES ON *.* TO 'app'@'%'");
    assert_eq!(has(&m, "'app'@'%'", "SELECT", "*.*"), "no");
    // SUPER alone stays SUPER.
    let ops = principal(&m, "'ops'@'localhost'");
    assert_eq!(ops.attributes["super"], "true");
    assert_eq!(ops.attributes["require_ssl"], "true");
    assert_eq!(ops.attributes["max_user_connections"], "5");
    assert_eq!(has(&m, "'ops'@'localhost'", "SUPER", "*.*"), "yes");
    assert_eq!(has(&m, "'ops'@'localhost'", "ALL", "*.*"), "no");
    // ALL on a schema folds too.
    assert_eq!(has(&m, "'owner'@'%'", "ALL", "access_shop.*"), "yes");
    // A role with a member; its grant.
    let reader = principal(&m, "'reader'@''");
    assert_eq!(reader.kind, "role");
    assert_eq!(principal(&m, "'bob'@'%'").member_of, ["'reader'@''"]);
    assert_eq!(principal(&m, "'limited'@'%'").member_of, ["'reader'@''"]);
    let role_grant = permission(&m, "'reader'@''", "SELECT", "access_shop.*").unwrap();
    assert_eq!(
        role_grant.via,
        "GRANT SELECT ON access_shop.* TO 'reader'@''"
    );
    // Table grants with grant option, a column grant.
    let insert = permission(&m, "'bob'@'%'", "INSERT", "access_shop.orders").unwrap();
    assert!(insert.grant_option);
    assert_eq!(
        insert.via,
        "GRANT INSERT ON access_shop.orders TO 'bob'@'%' WITH GRANT OPTION"
    );
    let column = permission(&m, "'bob'@'%'", "SELECT", "access_shop.users.email").unwrap();
    assert_eq!(
        column.via,
        "GRANT SELECT (email) ON access_shop.users TO 'bob'@'%'"
    );
    // Locked accounts, and no USAGE rows.
    assert_eq!(principal(&m, "'gone'@'%'").attributes["locked"], "true");
    assert!(!m.permissions.iter().any(|p| p.action == "USAGE"));
    assert!(
        m.permissions.iter().all(|p| p.origin.line.is_none()
            && p.origin.file.starts_with("mysql://envparity@127.0.0.1:"))
    );

    assert_no_secret(&m, &errors, &[MY_PASSWORD, &my_hash()]);
}

#[test]
fn mariadb_access_without_select_on_mysql_reads_its_own_grants() {
    my_setup();
    let url = my::server().url("limited", MY_PASSWORD, "access_shop");
    let (m, errors) = run(&url);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        m.limits.contains(
            &"grants of other accounts: not readable by 'limited'@'%' (needs SELECT on mysql.*); only its own grants were read"
                .to_string()
        ),
        "{:?}",
        m.limits
    );
    assert!(
        m.permissions.iter().all(|p| p.principal == "'limited'@'%'"),
        "{:#?}",
        m.permissions
    );
    assert_eq!(has(&m, "'limited'@'%'", "SELECT", "access_shop.*"), "yes");
    // Its own role membership is still known.
    assert_eq!(principal(&m, "'limited'@'%'").member_of, ["'reader'@''"]);
    assert!(!m.principals.iter().any(|p| p.name == "'app'@'%'"));
    assert_no_secret(&m, &errors, &[MY_PASSWORD, &my_hash()]);
}

#[test]
fn mariadb_wrong_password_is_an_error_naming_the_source_not_the_password() {
    my_setup();
    let url = my::server().url("envparity", "wrong-CanaryMy46", "access_shop");
    let (m, errors) = run(&url);
    assert!(m.is_empty());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].source.starts_with("mysql://envparity@127.0.0.1:"));
    assert_no_secret(&m, &errors, &["wrong-CanaryMy46"]);
}

#[test]
fn mariadb_percent_encoded_password_never_shows() {
    // The harness's own account: a `%` in its password, SELECT on one database only.
    let url = my::server().database("access_envp");
    let (m, errors) = run(&url);
    assert!(errors.is_empty(), "{errors:?}");
    let me = format!("'{}'@'%'", my::USER);
    assert!(
        m.limits
            .iter()
            .any(|l| l.starts_with(&format!("grants of other accounts: not readable by {me}"))),
        "{:?}",
        m.limits
    );
    assert_eq!(has(&m, &me, "SELECT", "access_envp.*"), "yes");
    assert_no_secret(
        &m,
        &errors,
        &[my::PASSWORD, my::PASSWORD_IN_URL, "canaryPW"],
    );
}

#[test]
fn files_have_no_principals() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("orders.csv");
    std::fs::write(&csv, "id\n1\n").unwrap();
    let source = DatabaseSource::new(None, csv.to_str().unwrap(), dir.path()).unwrap();
    let (m, errors) = collect_access(&source);
    assert!(m.is_empty() && m.limits.is_empty() && errors.is_empty());
}
