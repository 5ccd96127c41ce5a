//! MySQL and MariaDB's access model: accounts and roles (`mysql.user`, where readable:
//! never its password columns), role memberships (`mysql.roles_mapping` on MariaDB,
//! `mysql.role_edges` on MySQL 8), and privileges from `information_schema`'s
//! `USER_PRIVILEGES`, `SCHEMA_PRIVILEGES`, `TABLE_PRIVILEGES` and `COLUMN_PRIVILEGES`.
//!
//! `information_schema` lists every account's grants only to a role with SELECT on
//! `mysql.*`; otherwise only the collector's own, and `limits` says so. One read-only
//! transaction on a current-thread tokio runtime built for the call.

use std::collections::{BTreeMap, BTreeSet};

use envparity_core::access::{AccessModel, Origin, Permission, Principal, System};
use envparity_core::snapshot::SourceError;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};

use crate::DatabaseSource;

/// Columns of `mysql.user` that may be read. Only these are ever selected: the table
/// also holds `authentication_string` / `Password`, which never leave the server.
const USER_COLUMNS: &[&str] = &[
    "User",
    "Host",
    "Super_priv",
    "Grant_priv",
    "plugin",
    "account_locked",
    "password_expired",
    "ssl_type",
    "max_user_connections",
    "is_role",
];

/// What `GRANT ALL` gives on `db.*`, in the privileges MySQL 5.7/8 and MariaDB share
/// (MariaDB adds `DELETE HISTORY`): holding them all is shown as one `ALL`.
const ALL_SCHEMA: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "EVENT",
    "TRIGGER",
];

/// What `GRANT ALL` gives on one table, in the privileges all servers share.
const ALL_TABLE: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "CREATE VIEW",
    "SHOW VIEW",
    "TRIGGER",
];

/// What `GRANT ALL ON *.*` gives, in the static privileges all servers share (MySQL 8's
/// dynamic privileges and MariaDB 10.5's split of SUPER come on top).
const ALL_GLOBAL: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "RELOAD",
    "SHUTDOWN",
    "PROCESS",
    "FILE",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "SHOW DATABASES",
    "SUPER",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "REPLICATION SLAVE",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "CREATE USER",
    "EVENT",
    "TRIGGER",
    "CREATE TABLESPACE",
];

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
    let mut conn = match connect(source).await {
        Ok(c) => c,
        Err(message) => return (AccessModel::default(), vec![source.error(message)]),
    };
    let mut reader = Reader {
        source,
        mariadb: false,
        me: String::new(),
        model: AccessModel::default(),
        errors: Vec::new(),
    };
    match start(&mut conn, &mut reader).await {
        Ok(()) => reader.read(&mut conn).await,
        Err(e) => reader
            .errors
            .push(source.error(format!("cannot start a read-only transaction: {e}"))),
    }
    let _ = conn.query_drop("ROLLBACK").await;
    let _ = conn.disconnect().await;
    let (mut model, errors) = (reader.model, reader.errors);
    model.principals.sort_by(|a, b| a.name.cmp(&b.name));
    model.permissions.sort();
    model.permissions.dedup();
    (model, errors)
}

use crate::mysql::connect;

/// Which server, who we are, a statement time limit, then the read-only transaction.
async fn start(conn: &mut Conn, reader: &mut Reader<'_>) -> mysql_async::Result<()> {
    conn.query_drop("SET NAMES utf8mb4").await?;
    let rows: Vec<Row> = conn
        .query("SELECT @@version, @@version_comment, CURRENT_USER()")
        .await?;
    let row = rows.first();
    let version = row.and_then(|r| text(r, 0)).unwrap_or_default();
    let comment = row.and_then(|r| text(r, 1)).unwrap_or_default();
    reader.mariadb = version.to_ascii_lowercase().contains("mariadb")
        || comment.to_ascii_lowercase().contains("mariadb");
    // `user@host` → `'user'@'host'`, as information_schema writes grantees.
    let me = row.and_then(|r| text(r, 2)).unwrap_or_default();
    reader.me = match me.rsplit_once('@') {
        Some((user, host)) => account(user, host),
        None => account(&me, "%"),
    };
    // Catalog queries are quick; a stuck one is a lock. Each server its own variable.
    let limit = if reader.mariadb {
        "SET SESSION max_statement_time = 10"
    } else {
        "SET SESSION max_execution_time = 10000"
    };
    let _ = conn.query_drop(limit).await;
    conn.query_drop("SET SESSION TRANSACTION READ ONLY").await?;
    conn.query_drop("START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT")
        .await
}

/// A value as text; NULL is `None`. (The text protocol gives every value as bytes.)
fn text(row: &Row, i: usize) -> Option<String> {
    match row.as_ref(i)? {
        mysql_async::Value::NULL => None,
        mysql_async::Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        other => Some(other.as_sql(false).trim_matches('\'').to_string()),
    }
}

fn cell(row: &Row, i: usize) -> String {
    text(row, i).unwrap_or_default()
}

/// `'user'@'host'`, as information_schema names grantees (MariaDB roles: host `''`).
fn account(user: &str, host: &str) -> String {
    format!("'{user}'@'{host}'")
}

/// A name in a statement: backticks unless it reads the same without.
fn ident(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

/// Whether a server error means the account may not read it.
fn denied(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Server(s) if matches!(s.code, 1044 | 1045 | 1142 | 1143 | 1227))
}

/// One permission level: how its resource and statement object are written.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Global,
    Schema,
    Table,
    Column,
}

/// A grant read from information_schema, before `ALL` is folded.
struct Grant {
    grantee: String,
    level: Level,
    /// `[]`, `[db]`, `[db, table]`, `[db, table, column]`.
    names: Vec<String>,
    action: String,
    grantable: bool,
}

impl Grant {
    fn resource(&self) -> String {
        match self.level {
            Level::Global => "*.*".to_string(),
            Level::Schema => format!("{}.*", self.names.join(".")),
            _ => self.names.join("."),
        }
    }

    /// `GRANT SELECT ON shop.* TO 'app'@'%'`; a column's name goes with the action.
    fn via(&self, action: &str) -> String {
        let quoted: Vec<String> = self.names.iter().map(|n| ident(n)).collect();
        let (action, object) = match self.level {
            Level::Global => (action.to_string(), "*.*".to_string()),
            Level::Schema => (action.to_string(), format!("{}.*", quoted.join("."))),
            Level::Table => (action.to_string(), quoted.join(".")),
            Level::Column => (
                format!("{action} ({})", quoted.get(2).map_or("", String::as_str)),
                quoted[..2.min(quoted.len())].join("."),
            ),
        };
        let mut via = format!("GRANT {action} ON {object} TO {}", self.grantee);
        if self.grantable {
            via.push_str(" WITH GRANT OPTION");
        }
        via
    }
}

struct Reader<'a> {
    source: &'a DatabaseSource,
    mariadb: bool,
    /// The collector's own account, `'envparity'@'%'`.
    me: String,
    model: AccessModel,
    errors: Vec<SourceError>,
}

impl Reader<'_> {
    fn origin(&self) -> Origin {
        Origin {
            file: self.source.shown.clone(),
            line: None,
        }
    }

    /// A query whose refusal is `Ok(None)`; any other failure is an error of the source.
    async fn query(&mut self, conn: &mut Conn, what: &str, sql: &str) -> Option<Vec<Row>> {
        match conn.query::<Row, _>(sql).await {
            Ok(rows) => Some(rows),
            Err(e) if denied(&e) => None,
            // No such table: a server without that feature (MySQL 5.7 has no roles).
            Err(mysql_async::Error::Server(s)) if matches!(s.code, 1109 | 1146) => Some(Vec::new()),
            Err(e) => {
                self.errors
                    .push(self.source.error(format!("reading {what}: {e}")));
                None
            }
        }
    }

    async fn read(&mut self, conn: &mut Conn) {
        let grants = self.grants(conn).await;
        let everyone = grants.iter().any(|g| g.grantee != self.me);
        if !everyone {
            self.model.limits.push(format!(
                "grants of other accounts: not readable by {} (needs SELECT on mysql.*); only its own grants were read",
                self.me
            ));
        }
        let mut principals = match self.accounts(conn).await {
            Some(p) => p,
            None => {
                self.model.limits.push(format!(
                    "account attributes (locked, plugin, require_ssl, max_user_connections): not readable by {} (needs SELECT on mysql.user); accounts listed from their grants",
                    self.me
                ));
                let mut principals = self.accounts_from(&grants);
                // Its own global grants are all visible: no SUPER among them is known.
                if let Some(p) = principals.get_mut(&self.me) {
                    p.attributes.insert("super".into(), "false".into());
                }
                principals
            }
        };
        // `super` from the grants when mysql.user could not say.
        for g in &grants {
            if g.level == Level::Global
                && g.action == "SUPER"
                && let Some(p) = principals.get_mut(&g.grantee)
            {
                p.attributes.insert("super".into(), "true".into());
            }
        }
        self.memberships(conn, &mut principals).await;
        self.model.principals.extend(principals.into_values());
        self.fold(grants);
    }

    /// Every visible grant; `USAGE` (no privilege at all) is skipped.
    async fn grants(&mut self, conn: &mut Conn) -> Vec<Grant> {
        let sources: [(Level, &str, &str); 4] = [
            (
                Level::Global,
                "global privileges",
                "SELECT GRANTEE, PRIVILEGE_TYPE, IS_GRANTABLE \
                 FROM information_schema.USER_PRIVILEGES",
            ),
            (
                Level::Schema,
                "schema privileges",
                "SELECT GRANTEE, PRIVILEGE_TYPE, IS_GRANTABLE, TABLE_SCHEMA \
                 FROM information_schema.SCHEMA_PRIVILEGES",
            ),
            (
                Level::Table,
                "table privileges",
                "SELECT GRANTEE, PRIVILEGE_TYPE, IS_GRANTABLE, TABLE_SCHEMA, TABLE_NAME \
                 FROM information_schema.TABLE_PRIVILEGES",
            ),
            (
                Level::Column,
                "column privileges",
                "SELECT GRANTEE, PRIVILEGE_TYPE, IS_GRANTABLE, TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME \
                 FROM information_schema.COLUMN_PRIVILEGES",
            ),
        ];
        let mut out = Vec::new();
        for (level, what, sql) in sources {
            let Some(rows) = self.query(conn, what, sql).await else {
                continue;
            };
            let names = match level {
                Level::Global => 0,
                Level::Schema => 1,
                Level::Table => 2,
                Level::Column => 3,
            };
            for r in &rows {
                let action = cell(r, 1);
                if action.is_empty() || action == "USAGE" {
                    continue;
                }
                out.push(Grant {
                    grantee: cell(r, 0),
                    level,
                    names: (0..names).map(|i| cell(r, 3 + i)).collect(),
                    action,
                    grantable: cell(r, 2) == "YES",
                });
            }
        }
        out
    }

    /// Accounts and roles from `mysql.user`, reading only [`USER_COLUMNS`] that exist on
    /// this server. `None` when the collector may not read it.
    async fn accounts(&mut self, conn: &mut Conn) -> Option<BTreeMap<String, Principal>> {
        let rows = self
            .query(
                conn,
                "the columns of mysql.user",
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'user'",
            )
            .await?;
        let present: BTreeSet<String> = rows.iter().map(|r| cell(r, 0).to_lowercase()).collect();
        // information_schema lists only columns the account may see: none, no access.
        let columns: Vec<&str> = USER_COLUMNS
            .iter()
            .copied()
            .filter(|c| present.contains(&c.to_lowercase()))
            .collect();
        if !columns.contains(&"User") || !columns.contains(&"Host") {
            return None;
        }
        let base: Vec<String> = columns.iter().map(|c| format!("u.`{c}`")).collect();
        let base = base.join(", ");
        // MariaDB 10.4+ keeps the lock in mysql.global_priv's JSON: only that field is
        // extracted, on the server. Without it (or on error) mysql.user alone.
        let mut locked_in_json = false;
        let mut rows = None;
        if self.mariadb && !columns.contains(&"account_locked") {
            let sql = format!(
                "SELECT {base}, JSON_VALUE(g.Priv, '$.account_locked') FROM mysql.user u \
                 LEFT JOIN mysql.global_priv g ON g.User = u.User AND g.Host = u.Host"
            );
            if let Ok(r) = conn.query::<Row, _>(sql).await {
                locked_in_json = true;
                rows = Some(r);
            }
        }
        let rows = match rows {
            Some(r) => r,
            None => match conn
                .query::<Row, _>(format!("SELECT {base} FROM mysql.user u"))
                .await
            {
                Ok(r) => r,
                Err(e) if denied(&e) => return None,
                Err(e) => {
                    self.errors
                        .push(self.source.error(format!("reading mysql.user: {e}")));
                    return None;
                }
            },
        };
        let mut out = BTreeMap::new();
        for r in &rows {
            let get = |name: &str| -> Option<String> {
                columns
                    .iter()
                    .position(|c| *c == name)
                    .and_then(|i| text(r, i))
            };
            let (user, host) = (
                get("User").unwrap_or_default(),
                get("Host").unwrap_or_default(),
            );
            let yes = |v: Option<String>| v.map(|v| (v.eq_ignore_ascii_case("y")).to_string());
            let is_role = get("is_role").is_some_and(|v| v.eq_ignore_ascii_case("y"));
            let mut attributes = BTreeMap::new();
            attributes.insert("host".to_string(), host.clone());
            let mut put = |k: &str, v: Option<String>| {
                if let Some(v) = v {
                    attributes.insert(k.to_string(), v);
                }
            };
            put("super", yes(get("Super_priv")));
            put("grant_option", yes(get("Grant_priv")));
            put("password_expired", yes(get("password_expired")));
            put(
                "locked",
                yes(get("account_locked")).or_else(|| {
                    // The JSON value follows the columns; absent means unlocked.
                    locked_in_json.then(|| {
                        text(r, columns.len())
                            .is_some_and(|v| v == "1" || v == "true")
                            .to_string()
                    })
                }),
            );
            put("plugin", get("plugin").filter(|p| !p.is_empty()));
            put(
                "require_ssl",
                get("ssl_type").map(|t| (!t.is_empty()).to_string()),
            );
            put("max_user_connections", get("max_user_connections"));
            let name = account(&user, &host);
            out.insert(
                name.clone(),
                Principal {
                    system: System::Mysql,
                    name,
                    kind: if is_role { "role" } else { "account" }.to_string(),
                    attributes,
                    member_of: Vec::new(),
                    origin: self.origin(),
                },
            );
        }
        Some(out)
    }

    /// Accounts named by the grants, when mysql.user is closed: only `host` is known.
    fn accounts_from(&self, grants: &[Grant]) -> BTreeMap<String, Principal> {
        let mut out = BTreeMap::new();
        for name in grants
            .iter()
            .map(|g| g.grantee.as_str())
            .chain([self.me.as_str()])
        {
            let host = name
                .rsplit_once("@'")
                .map_or("%", |(_, h)| h.trim_end_matches('\''));
            out.entry(name.to_string()).or_insert_with(|| Principal {
                system: System::Mysql,
                name: name.to_string(),
                // MariaDB roles are grantees without a host.
                kind: if self.mariadb && host.is_empty() {
                    "role"
                } else {
                    "account"
                }
                .to_string(),
                attributes: BTreeMap::from([("host".to_string(), host.to_string())]),
                member_of: Vec::new(),
                origin: self.origin(),
            });
        }
        out
    }

    /// Role memberships: MariaDB's `mysql.roles_mapping`, MySQL 8's `mysql.role_edges`;
    /// when closed, the collector's own from `information_schema.APPLICABLE_ROLES`.
    async fn memberships(&mut self, conn: &mut Conn, principals: &mut BTreeMap<String, Principal>) {
        // (member, role) pairs.
        let mut edges: Vec<(String, String)> = Vec::new();
        let (what, sql) = if self.mariadb {
            (
                "role memberships",
                "SELECT User, Host, Role FROM mysql.roles_mapping",
            )
        } else {
            (
                "role memberships",
                "SELECT TO_USER, TO_HOST, FROM_USER, FROM_HOST FROM mysql.role_edges",
            )
        };
        match self.query(conn, what, sql).await {
            Some(rows) => {
                for r in &rows {
                    let member = account(&cell(r, 0), &cell(r, 1));
                    let role = if self.mariadb {
                        account(&cell(r, 2), "")
                    } else {
                        account(&cell(r, 2), &cell(r, 3))
                    };
                    edges.push((member, role));
                }
            }
            None => {
                self.model.limits.push(format!(
                    "role memberships of other accounts: not readable by {} (needs SELECT on mysql.*); only its own were read",
                    self.me
                ));
                let sql = if self.mariadb {
                    "SELECT GRANTEE, ROLE_NAME FROM information_schema.APPLICABLE_ROLES"
                } else {
                    "SELECT GRANTEE, GRANTEE_HOST, ROLE_NAME, ROLE_HOST \
                     FROM information_schema.APPLICABLE_ROLES"
                };
                for r in self
                    .query(conn, "applicable roles", sql)
                    .await
                    .unwrap_or_default()
                {
                    if self.mariadb {
                        // `user@host` for an account, a bare name for a role.
                        let grantee = cell(&r, 0);
                        let member = match grantee.rsplit_once('@') {
                            Some((u, h)) => account(u, h),
                            None => account(&grantee, ""),
                        };
                        edges.push((member, account(&cell(&r, 1), "")));
                    } else {
                        edges.push((
                            account(&cell(&r, 0), &cell(&r, 1)),
                            account(&cell(&r, 2), &cell(&r, 3)),
                        ));
                    }
                }
            }
        }
        for (member, role) in edges {
            // MySQL 8 roles are accounts: what others are granted is a role.
            let origin = self.origin();
            let host = role
                .rsplit_once("@'")
                .map_or("", |(_, h)| h.trim_end_matches('\''));
            principals
                .entry(role.clone())
                .or_insert_with(|| Principal {
                    system: System::Mysql,
                    name: role.clone(),
                    kind: "role".into(),
                    attributes: BTreeMap::from([("host".to_string(), host.to_string())]),
                    member_of: Vec::new(),
                    origin: origin.clone(),
                })
                .kind = "role".into();
            let p = principals
                .entry(member.clone())
                .or_insert_with(|| Principal {
                    system: System::Mysql,
                    name: member.clone(),
                    kind: "account".into(),
                    attributes: BTreeMap::new(),
                    member_of: Vec::new(),
                    origin,
                });
            if !p.member_of.contains(&role) {
                p.member_of.push(role);
            }
        }
        for p in principals.values_mut() {
            p.member_of.sort();
        }
    }

    /// Grants into permissions; everything `GRANT ALL` gives at a level is one `ALL`.
    fn fold(&mut self, grants: Vec<Grant>) {
        let mut groups: BTreeMap<(String, Level, Vec<String>), Vec<Grant>> = BTreeMap::new();
        for g in grants {
            groups
                .entry((g.grantee.clone(), g.level, g.names.clone()))
                .or_default()
                .push(g);
        }
        for ((_, level, _), group) in groups {
            let all: &[&str] = match level {
                Level::Global => ALL_GLOBAL,
                Level::Schema => ALL_SCHEMA,
                Level::Table => ALL_TABLE,
                Level::Column => &[],
            };
            let has_all = !all.is_empty()
                && all
                    .iter()
                    .all(|a| group.iter().any(|g| g.action.as_str() == *a));
            if has_all {
                let first = &group[0];
                let grantable = group.iter().all(|g| g.grantable);
                let g = Grant {
                    grantee: first.grantee.clone(),
                    level,
                    names: first.names.clone(),
                    action: "ALL".into(),
                    grantable,
                };
                self.push(&g, "ALL PRIVILEGES");
            } else {
                for g in &group {
                    self.push(g, &g.action);
                }
            }
        }
    }

    fn push(&mut self, g: &Grant, said: &str) {
        let origin = self.origin();
        self.model.permissions.push(Permission {
            system: System::Mysql,
            principal: g.grantee.clone(),
            action: g.action.clone(),
            resource: g.resource(),
            via: g.via(said),
            grant_option: g.grantable,
            origin,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_read_like_grants() {
        let g = Grant {
            grantee: "'app'@'%'".into(),
            level: Level::Column,
            names: vec!["shop".into(), "users".into(), "e-mail".into()],
            action: "SELECT".into(),
            grantable: true,
        };
        assert_eq!(g.resource(), "shop.users.e-mail");
        assert_eq!(
            g.via("SELECT"),
            "GRANT SELECT (`e-mail`) ON shop.users TO 'app'@'%' WITH GRANT OPTION"
        );
        let g = Grant {
            level: Level::Schema,
            names: vec!["shop".into()],
            grantable: false,
            ..g
        };
        assert_eq!(g.resource(), "shop.*");
        assert_eq!(g.via("SELECT"), "GRANT SELECT ON shop.* TO 'app'@'%'");
    }
}
