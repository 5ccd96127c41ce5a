//! PostgreSQL's access model, read from the catalogs any login role can read: roles
//! (`pg_roles`, never `pg_authid`: no password hash is ever selected), memberships,
//! privileges (`aclexplode` over each catalog's ACL, with `acldefault` where the ACL is
//! NULL, so defaults such as PUBLIC EXECUTE on functions are modelled too), ownership,
//! default privileges, row-level security policies, and `pg_hba` rules where the role may
//! read them. What the role may not read is a sentence in `limits`, not an error.
//!
//! One `READ ONLY` transaction, a short `statement_timeout`, each query in a SAVEPOINT so
//! one refusal does not abort the rest; a current-thread tokio runtime built for the call.

use std::collections::BTreeMap;
use std::time::Duration;

use envparity_core::access::{AccessModel, AuthRule, Origin, Permission, Principal, System};
use envparity_core::snapshot::SourceError;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::DatabaseSource;

/// How long one catalog query may run: catalogs are small, a stuck one is a lock.
const STATEMENT_TIMEOUT: &str = "10s";

/// Longest policy expression kept in a resource, in characters.
const EXPRESSION_CHARS: usize = 120;

/// Schemas that are PostgreSQL's own (`n` is `pg_namespace`).
const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

/// The grantee of an `aclexplode` row `a`: 0 is everyone.
const GRANTEE: &str = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END";

pub fn collect(source: &DatabaseSource) -> (AccessModel, Vec<SourceError>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return (
                AccessModel::default(),
                vec![source.error(format!("cannot start the database client: {e}"))],
            );
        }
    };
    runtime.block_on(run(source))
}

async fn run(source: &DatabaseSource) -> (AccessModel, Vec<SourceError>) {
    let connect = tokio_postgres::connect(source.url(), NoTls);
    let (client, connection) = match tokio::time::timeout(Duration::from_secs(30), connect).await {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => {
            return (
                AccessModel::default(),
                vec![source.error(format!("cannot connect: {}", describe(&e)))],
            );
        }
        Err(_) => {
            return (
                AccessModel::default(),
                vec![source.error("cannot connect: no answer within 30 s")],
            );
        }
    };
    let connection = tokio::spawn(connection);
    // search_path = pg_catalog: `regprocedure` then qualifies every user function.
    let begin = format!(
        "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY; \
         SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'; \
         SET LOCAL search_path = pg_catalog"
    );
    let mut reader = Reader {
        client: &client,
        source,
        version: 0,
        model: AccessModel::default(),
        errors: Vec::new(),
        broken: false,
    };
    match client.batch_execute(&begin).await {
        Ok(()) => reader.read().await,
        Err(e) => reader.errors.push(source.error(format!(
            "cannot open a read-only transaction: {}",
            describe(&e)
        ))),
    }
    let _ = client.batch_execute("ROLLBACK").await;
    let (mut model, errors) = (reader.model, reader.errors);
    drop(client);
    let _ = connection.await;
    model.principals.sort_by(|a, b| a.name.cmp(&b.name));
    model.permissions.sort();
    model.permissions.dedup();
    (model, errors)
}

use crate::postgres::describe;

type Rows = Vec<Vec<Option<String>>>;

/// A cell as text, `""` for NULL or a missing column.
fn cell(row: &[Option<String>], i: usize) -> &str {
    row.get(i).and_then(|c| c.as_deref()).unwrap_or("")
}

fn opt(row: &[Option<String>], i: usize) -> Option<&str> {
    row.get(i).and_then(|c| c.as_deref())
}

/// `t`/`f` as the model writes flags.
fn flag(row: &[Option<String>], i: usize) -> String {
    (cell(row, i) == "t").to_string()
}

/// An identifier as SQL needs it written: plain when it reads the same unquoted.
fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A grantee in a statement: `PUBLIC` stays a keyword.
fn grantee(name: &str) -> String {
    if name == "PUBLIC" {
        name.to_string()
    } else {
        ident(name)
    }
}

/// `schema.name` as SQL writes it.
fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// At most `max` characters, `…` when cut.
fn clip(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        text
    } else {
        text.chars().take(max - 1).collect::<String>() + "…"
    }
}

/// An expression in one pair of parentheses: `pg_get_expr` already wraps operators
/// (`(a = b)`), not function calls or constants (`true`).
fn parenthesized(expr: &str) -> String {
    let mut depth = 0i32;
    let wrapped = expr.starts_with('(')
        && expr.ends_with(')')
        && expr.char_indices().all(|(i, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            depth > 0 || i == expr.len() - 1
        });
    if wrapped {
        expr.to_string()
    } else {
        format!("({expr})")
    }
}

/// `127.0.0.1` + `255.255.255.255` → `127.0.0.1/32`; a non-contiguous mask stays as is.
fn cidr(address: &str, netmask: Option<&str>) -> String {
    let Some(mask) = netmask else {
        return address.to_string();
    };
    let bits: Option<(u32, u32)> = match mask.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(m)) => {
            let m = u32::from(m);
            Some((m.count_ones(), m.leading_ones()))
        }
        Ok(std::net::IpAddr::V6(m)) => {
            let m = u128::from(m);
            Some((m.count_ones(), m.leading_ones()))
        }
        Err(_) => None,
    };
    match bits {
        Some((ones, leading)) if ones == leading => format!("{address}/{ones}"),
        _ => format!("{address}/{mask}"),
    }
}

/// The permission `via` for a GRANT: `GRANT SELECT ON TABLE public.orders TO app`.
fn grant_via(action: &str, object: &str, to: &str, grant_option: bool) -> String {
    let mut via = format!("GRANT {action} ON {object} TO {}", grantee(to));
    if grant_option {
        via.push_str(" WITH GRANT OPTION");
    }
    via
}

struct Reader<'a> {
    client: &'a Client,
    source: &'a DatabaseSource,
    /// `server_version_num`: 150004 for 15.4.
    version: u32,
    model: AccessModel,
    errors: Vec<SourceError>,
    /// The connection closed: later failures are the same one.
    broken: bool,
}

/// Why a query gave nothing: the role may not read it, or something else failed.
enum Failure {
    Denied,
    Other(String),
}

impl Reader<'_> {
    fn origin(&self) -> Origin {
        Origin {
            file: self.source.shown.clone(),
            line: None,
        }
    }

    /// Runs one query in a SAVEPOINT, so a refusal leaves the transaction usable.
    async fn query(&self, sql: &str) -> Result<Rows, Failure> {
        let failure = |e: tokio_postgres::Error| {
            if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
                Failure::Denied
            } else {
                Failure::Other(describe(&e))
            }
        };
        self.client
            .batch_execute("SAVEPOINT envparity_access")
            .await
            .map_err(failure)?;
        let result = self.client.simple_query(sql).await;
        match result {
            Ok(messages) => {
                let _ = self
                    .client
                    .batch_execute("RELEASE SAVEPOINT envparity_access")
                    .await;
                Ok(messages
                    .into_iter()
                    .filter_map(|m| match m {
                        SimpleQueryMessage::Row(row) => Some(
                            (0..row.len())
                                .map(|i| row.get(i).map(str::to_string))
                                .collect(),
                        ),
                        _ => None,
                    })
                    .collect())
            }
            Err(e) => {
                let _ = self
                    .client
                    .batch_execute("ROLLBACK TO SAVEPOINT envparity_access")
                    .await;
                Err(failure(e))
            }
        }
    }

    /// A query whose failure is an error of the source (`what` names what was read).
    async fn must(&mut self, what: &str, sql: &str) -> Rows {
        match self.query(sql).await {
            Ok(rows) => rows,
            Err(Failure::Denied) => {
                let role = self.role().await;
                self.model
                    .limits
                    .push(format!("{what}: not readable by role `{role}`"));
                Vec::new()
            }
            Err(Failure::Other(message)) => {
                self.fail(what, &message);
                Vec::new()
            }
        }
    }

    /// Records a failed read; once the connection is gone, only the first says so.
    fn fail(&mut self, what: &str, message: &str) {
        if !self.broken {
            self.errors
                .push(self.source.error(format!("reading {what}: {message}")));
        }
        self.broken |= self.client.is_closed();
    }

    async fn role(&self) -> String {
        match self.query("SELECT current_user").await {
            Ok(rows) => rows
                .first()
                .map(|r| cell(r, 0).to_string())
                .unwrap_or_default(),
            Err(_) => "(unknown)".to_string(),
        }
    }

    fn permit(&mut self, principal: &str, action: &str, resource: String, via: String, go: bool) {
        let origin = self.origin();
        self.model.permissions.push(Permission {
            system: System::Postgres,
            principal: principal.to_string(),
            action: action.to_string(),
            resource,
            via,
            grant_option: go,
            origin,
        });
    }

    fn owner(&mut self, owner: &str, resource: String) {
        self.permit(owner, "ALL", resource, "owner".to_string(), true);
    }

    async fn read(&mut self) {
        let version = self
            .must("the server version", "SHOW server_version_num")
            .await;
        self.version = version
            .first()
            .and_then(|r| cell(r, 0).parse().ok())
            .unwrap_or(0);
        self.roles().await;
        self.relations().await;
        self.columns().await;
        self.schemas().await;
        self.functions().await;
        self.database().await;
        self.default_privileges().await;
        self.policies().await;
        self.hba().await;
        self.settings().await;
    }

    /// Roles and their memberships. `pg_*` roles are not listed, but memberships in them
    /// are (`pg_read_all_data` is power).
    async fn roles(&mut self) {
        let rows = self
            .must(
                "roles",
                "SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, \
                        r.rolreplication, r.rolcanlogin, r.rolinherit, r.rolconnlimit, \
                        CASE WHEN r.rolvaliduntil IS NULL OR r.rolvaliduntil = 'infinity' THEN 'never' \
                             WHEN r.rolvaliduntil = '-infinity' THEN '-infinity' \
                             ELSE to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD') END \
                 FROM pg_roles r WHERE r.rolname !~ '^pg_' ORDER BY r.rolname",
            )
            .await;
        let mut by_name: BTreeMap<String, Principal> = BTreeMap::new();
        for row in &rows {
            let mut attributes = BTreeMap::new();
            for (i, name) in [
                "superuser",
                "createrole",
                "createdb",
                "bypassrls",
                "replication",
                "login",
                "inherit",
            ]
            .iter()
            .enumerate()
            {
                attributes.insert(name.to_string(), flag(row, i + 1));
            }
            attributes.insert("connection_limit".into(), cell(row, 8).to_string());
            attributes.insert("password_expires".into(), cell(row, 9).to_string());
            let name = cell(row, 0).to_string();
            by_name.insert(
                name.clone(),
                Principal {
                    system: System::Postgres,
                    name,
                    kind: "role".into(),
                    attributes,
                    member_of: Vec::new(),
                    origin: self.origin(),
                },
            );
        }
        // PG16+ keeps `inherit` per membership (and a role may be granted by several
        // grantors: inherited if any grant says so); before, the member's rolinherit.
        let sql = if self.version >= 160000 {
            "SELECT m.rolname, r.rolname, bool_or(a.inherit_option) \
             FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member \
             JOIN pg_roles r ON r.oid = a.roleid GROUP BY 1, 2 ORDER BY 1, 2"
        } else {
            "SELECT m.rolname, r.rolname, m.rolinherit \
             FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member \
             JOIN pg_roles r ON r.oid = a.roleid ORDER BY 1, 2"
        };
        for row in self.must("role memberships", sql).await {
            if let Some(p) = by_name.get_mut(cell(&row, 0)) {
                let mut role = cell(&row, 1).to_string();
                if cell(&row, 2) != "t" {
                    role.push_str(" (noinherit)");
                }
                if !p.member_of.contains(&role) {
                    p.member_of.push(role);
                }
            }
        }
        self.model.principals.extend(by_name.into_values());
    }

    /// Tables, views, materialized views, sequences, foreign tables: owner and ACL (the
    /// default ACL when NULL). Extension members keep only explicit grants: their
    /// defaults and owner are the extension's, the same everywhere it is installed.
    async fn relations(&mut self) {
        let sql = format!(
            "SELECT c.relkind, n.nspname, c.relname, pg_get_userbyid(c.relowner), \
                    {GRANTEE}, a.privilege_type, a.is_grantable, ext.x, a.grantee = c.relowner \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM pg_depend d \
                 WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')) ext(x) \
             LEFT JOIN LATERAL aclexplode(CASE WHEN ext.x THEN c.relacl ELSE \
                 coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner)) END) a ON true \
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {USER_SCHEMAS} \
             ORDER BY 2, 3"
        );
        for row in self.must("table privileges", &sql).await {
            let kind = match cell(&row, 0) {
                "v" => "view",
                "m" => "materialized view",
                "S" => "sequence",
                "f" => "foreign table",
                _ => "table",
            };
            let (schema, name) = (cell(&row, 1), cell(&row, 2));
            let resource = format!("{kind} {schema}.{name}");
            if cell(&row, 7) != "t" {
                self.owner(cell(&row, 3), resource.clone());
            }
            let Some(to) = opt(&row, 4) else { continue };
            if cell(&row, 8) == "t" {
                continue; // the owner's own rights: ownership above says more
            }
            let action = cell(&row, 5);
            let go = cell(&row, 6) == "t";
            let keyword = match kind {
                "sequence" => "SEQUENCE",
                "foreign table" => "FOREIGN TABLE",
                _ => "TABLE",
            };
            let object = format!("{keyword} {}", qualified(schema, name));
            let via = grant_via(action, &object, to, go);
            self.permit(to, action, resource, via, go);
        }
    }

    /// Column grants: only explicit ones (a NULL column ACL grants nothing).
    async fn columns(&mut self) {
        let sql = format!(
            "SELECT n.nspname, c.relname, t.attname, {GRANTEE}, a.privilege_type, a.is_grantable \
             FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             CROSS JOIN LATERAL aclexplode(t.attacl) a \
             WHERE t.attacl IS NOT NULL AND t.attnum > 0 AND NOT t.attisdropped AND {USER_SCHEMAS} \
             ORDER BY 1, 2, 3"
        );
        for row in self.must("column privileges", &sql).await {
            let (schema, table, column) = (cell(&row, 0), cell(&row, 1), cell(&row, 2));
            let (to, action) = (cell(&row, 3), cell(&row, 4));
            let go = cell(&row, 5) == "t";
            let object = format!("TABLE {}", qualified(schema, table));
            let via = grant_via(&format!("{action} ({})", ident(column)), &object, to, go);
            self.permit(
                to,
                action,
                format!("column {schema}.{table}.{column}"),
                via,
                go,
            );
        }
    }

    async fn schemas(&mut self) {
        let sql = format!(
            "SELECT n.nspname, pg_get_userbyid(n.nspowner), {GRANTEE}, a.privilege_type, \
                    a.is_grantable, a.grantee = n.nspowner \
             FROM pg_namespace n \
             LEFT JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a ON true \
             WHERE {USER_SCHEMAS} ORDER BY 1"
        );
        for row in self.must("schema privileges", &sql).await {
            let schema = cell(&row, 0);
            let resource = format!("schema {schema}");
            self.owner(cell(&row, 1), resource.clone());
            let Some(to) = opt(&row, 2) else { continue };
            if cell(&row, 5) == "t" {
                continue;
            }
            let (action, go) = (cell(&row, 3), cell(&row, 4) == "t");
            let via = grant_via(action, &format!("SCHEMA {}", ident(schema)), to, go);
            self.permit(to, action, resource, via, go);
        }
    }

    /// Functions and procedures; a NULL ACL is PostgreSQL's default, EXECUTE to PUBLIC.
    async fn functions(&mut self) {
        let sql = format!(
            "SELECT p.oid::regprocedure::text, p.prokind, pg_get_userbyid(p.proowner), {GRANTEE}, \
                    a.privilege_type, a.is_grantable, ext.x, a.grantee = p.proowner \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM pg_depend d \
                 WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')) ext(x) \
             LEFT JOIN LATERAL aclexplode(CASE WHEN ext.x THEN p.proacl ELSE \
                 coalesce(p.proacl, acldefault('f', p.proowner)) END) a ON true \
             WHERE {USER_SCHEMAS} ORDER BY 1"
        );
        for row in self.must("function privileges", &sql).await {
            // `public.f(integer,text)` → `public.f(integer, text)`, as pg_dump spaces it.
            let signature = cell(&row, 0).replace(',', ", ");
            let (kind, keyword) = if cell(&row, 1) == "p" {
                ("procedure", "PROCEDURE")
            } else {
                ("function", "FUNCTION")
            };
            let resource = format!("{kind} {signature}");
            if cell(&row, 6) != "t" {
                self.owner(cell(&row, 2), resource.clone());
            }
            let Some(to) = opt(&row, 3) else { continue };
            if cell(&row, 7) == "t" {
                continue;
            }
            let (action, go) = (cell(&row, 4), cell(&row, 5) == "t");
            let via = grant_via(action, &format!("{keyword} {signature}"), to, go);
            self.permit(to, action, resource, via, go);
        }
    }

    /// The current database only: others are other sources.
    async fn database(&mut self) {
        let sql = format!(
            "SELECT d.datname, pg_get_userbyid(d.datdba), {GRANTEE}, a.privilege_type, \
                    a.is_grantable, a.grantee = d.datdba \
             FROM pg_database d \
             LEFT JOIN LATERAL aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a ON true \
             WHERE d.datname = current_database()"
        );
        for row in self.must("database privileges", &sql).await {
            let database = cell(&row, 0);
            let resource = format!("database {database}");
            self.owner(cell(&row, 1), resource.clone());
            let Some(to) = opt(&row, 2) else { continue };
            if cell(&row, 5) == "t" {
                continue;
            }
            let (action, go) = (cell(&row, 3), cell(&row, 4) == "t");
            let via = grant_via(action, &format!("DATABASE {}", ident(database)), to, go);
            self.permit(to, action, resource, via, go);
        }
    }

    /// `ALTER DEFAULT PRIVILEGES`: what future objects will grant. Entries for the
    /// creating role itself are its owner rights, not a grant.
    async fn default_privileges(&mut self) {
        let sql = format!(
            "SELECT pg_get_userbyid(d.defaclrole), n.nspname, d.defaclobjtype, {GRANTEE}, \
                    a.privilege_type, a.is_grantable \
             FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace \
             CROSS JOIN LATERAL aclexplode(d.defaclacl) a \
             WHERE a.grantee <> d.defaclrole ORDER BY 1, 2, 3"
        );
        for row in self.must("default privileges", &sql).await {
            let (creator, schema) = (cell(&row, 0), opt(&row, 1));
            let what = match cell(&row, 2) {
                "r" => "tables",
                "S" => "sequences",
                "f" => "functions",
                "T" => "types",
                "n" => "schemas",
                _ => "objects",
            };
            let (to, action, go) = (cell(&row, 3), cell(&row, 4), cell(&row, 5) == "t");
            let (resource, scope) = match schema {
                Some(s) => (
                    format!("future {what} in schema {s} (created by {creator})"),
                    format!(" IN SCHEMA {}", ident(s)),
                ),
                None => (
                    format!("future {what} (created by {creator})"),
                    String::new(),
                ),
            };
            let via = format!(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {}{scope} {}",
                ident(creator),
                grant_via(action, &what.to_uppercase(), to, go)
            );
            self.permit(to, action, resource, via, go);
        }
    }

    /// Row-level security policies, one permission per role they apply to. A policy of a
    /// table without row security enabled is not applied: its resource says so, so the
    /// difference shows when another environment enables it.
    async fn policies(&mut self) {
        let sql = format!(
            "SELECT n.nspname, c.relname, p.polname, p.polcmd, p.polpermissive, \
                    CASE WHEN r.oid = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r.oid) END, \
                    pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), \
                    c.relrowsecurity, c.relforcerowsecurity \
             FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             CROSS JOIN LATERAL unnest(p.polroles) r(oid) \
             WHERE {USER_SCHEMAS} ORDER BY 1, 2, 3"
        );
        for row in self.must("row security policies", &sql).await {
            let (schema, table, name) = (cell(&row, 0), cell(&row, 1), cell(&row, 2));
            let action = match cell(&row, 3) {
                "r" => "SELECT",
                "a" => "INSERT",
                "w" => "UPDATE",
                "d" => "DELETE",
                _ => "ALL",
            };
            let permissive = cell(&row, 4) != "f";
            let to = cell(&row, 5);
            let (using, check) = (opt(&row, 6), opt(&row, 7));
            let condition = clip(using.or(check).unwrap_or("true"), EXPRESSION_CHARS);
            let mut resource = format!("rows of table {schema}.{table} where {condition}");
            if !permissive {
                resource.push_str(" (restrictive)");
            }
            let enabled = cell(&row, 8) == "t";
            if !enabled {
                resource.push_str(" (row security off)");
            }
            let mut via = format!(
                "CREATE POLICY {} ON {} AS {} FOR {action} TO {}",
                ident(name),
                qualified(schema, table),
                if permissive {
                    "PERMISSIVE"
                } else {
                    "RESTRICTIVE"
                },
                grantee(to)
            );
            if let Some(u) = using {
                via.push_str(&format!(
                    " USING {}",
                    parenthesized(&clip(u, EXPRESSION_CHARS))
                ));
            }
            if let Some(c) = check {
                via.push_str(&format!(
                    " WITH CHECK {}",
                    parenthesized(&clip(c, EXPRESSION_CHARS))
                ));
            }
            via.push_str(match (enabled, cell(&row, 9) == "t") {
                (false, _) => "; row security disabled on the table: not applied",
                (true, true) => "; row security enabled and forced (applies to the owner too)",
                (true, false) => "; row security enabled",
            });
            self.permit(to, action, resource, via, false);
        }
    }

    /// pg_hba rules: only superusers may read them by default. Options are not read:
    /// they may hold secrets (`ldapbindpasswd`, `radiussecrets`).
    async fn hba(&mut self) {
        let sql = "SELECT line_number, type, array_to_string(database, ','), \
                          array_to_string(user_name, ','), address, netmask, auth_method, error \
                   FROM pg_hba_file_rules ORDER BY line_number";
        match self.query(sql).await {
            Ok(rows) => {
                for row in rows {
                    let line = cell(&row, 0).parse().ok();
                    if opt(&row, 7).is_some() {
                        self.model.limits.push(format!(
                            "pg_hba rule at line {}: the server could not read it; not compared",
                            cell(&row, 0)
                        ));
                        continue;
                    }
                    self.model.auth_rules.push(AuthRule {
                        system: System::Postgres,
                        kind: cell(&row, 1).to_string(),
                        database: cell(&row, 2).to_string(),
                        user: cell(&row, 3).to_string(),
                        address: opt(&row, 4).map(|a| cidr(a, opt(&row, 5))),
                        method: cell(&row, 6).to_string(),
                        origin: Origin {
                            file: self.source.shown.clone(),
                            line,
                        },
                    });
                }
            }
            Err(Failure::Denied) => {
                let role = self.role().await;
                self.model.limits.push(format!(
                    "pg_hba rules: not readable by role `{role}` (needs superuser, or SELECT on \
                     pg_hba_file_rules and EXECUTE on pg_hba_file_rules()); auth methods not compared"
                ));
            }
            Err(Failure::Other(message)) => self.fail("pg_hba rules", &message),
        }
    }

    /// `password_encryption` and `ssl` as server-wide rules of kind `setting`.
    async fn settings(&mut self) {
        for name in ["password_encryption", "ssl"] {
            let value = match self
                .query(&format!("SELECT current_setting('{name}', true)"))
                .await
            {
                Ok(rows) => rows.first().and_then(|r| opt(r, 0)).map(str::to_string),
                Err(_) => None,
            };
            match value {
                Some(value) => {
                    let origin = self.origin();
                    self.model.auth_rules.push(AuthRule {
                        system: System::Postgres,
                        kind: "setting".into(),
                        database: "*".into(),
                        user: "*".into(),
                        address: None,
                        method: format!("{name}={value}"),
                        origin,
                    });
                }
                None => {
                    let role = self.role().await;
                    self.model.limits.push(format!(
                        "setting `{name}`: not readable by role `{role}`; not compared"
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks_become_prefixes() {
        assert_eq!(cidr("127.0.0.1", Some("255.255.255.255")), "127.0.0.1/32");
        assert_eq!(cidr("10.0.0.0", Some("255.0.0.0")), "10.0.0.0/8");
        assert_eq!(
            cidr("::1", Some("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
            "::1/128"
        );
        assert_eq!(
            cidr("10.0.0.0", Some("255.0.255.0")),
            "10.0.0.0/255.0.255.0"
        );
        assert_eq!(cidr("all", None), "all");
    }

    #[test]
    fn identifiers_and_clipping() {
        assert_eq!(ident("orders"), "orders");
        assert_eq!(ident("Reporting"), "\"Reporting\"");
        assert_eq!(grantee("PUBLIC"), "PUBLIC");
        assert_eq!(clip("a  b\n c", 10), "a b c");
        assert_eq!(clip(&"x".repeat(200), 120).chars().count(), 120);
        assert_eq!(parenthesized("(a = b)"), "(a = b)");
        assert_eq!(parenthesized("(a) OR (b)"), "((a) OR (b))");
        assert_eq!(parenthesized("true"), "(true)");
        assert_eq!(parenthesized("f(x)"), "(f(x))");
    }
}
