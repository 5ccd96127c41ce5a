//! MySQL and MariaDB: the catalog from `information_schema`, the data profiled either as
//! aggregate queries run by the server (pushdown) or by streaming rows through the
//! profiler. One connection, text protocol, everything inside one read-only transaction.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use envparity_core::ConfigFile;
use envparity_core::profile::{
    CharClasses, ColumnKind, ColumnProfile, DatabaseProfile, ProfileMode, SensitivityProbe,
    TOP_VALUES, TableProfile, shape_of,
};
use envparity_core::sketch::{Reservoir, stable_hash};
use envparity_core::snapshot::Value;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Row};

use crate::schema::{SchemaBuilder, normalize_sql, segment};
use crate::stream::{ColumnMeta, TableProfiler, failed_table};
use crate::values::{kind_of, parse_temporal};
use crate::{
    AUTO_SAMPLE_ROWS, Collected, DatabaseSource, ModeChoice, ProfileOptions, Progress, Want,
};

type Result<T> = std::result::Result<T, mysql_async::Error>;

/// How long to wait for the server to accept the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Rows read per table (pushdown) for shapes, the sensitivity probe and quantiles.
const SAMPLE_ROWS: f64 = 10_000.0;
/// Characters of each sampled text value read for its shape and the sensitivity probe.
const SAMPLE_CHARS: usize = 1024;
/// Shapes kept per column before pooling the rest as `…` (as the streaming profiler).
const SHAPES_KEPT: usize = 64;
/// Longest raw value (top values, min, max) kept, in characters (as the profiler).
const VALUE_CHARS: usize = 80;

/// Global settings that change how the server behaves (not how big it is).
const SETTINGS: &[&str] = &[
    "sql_mode",
    "time_zone",
    "system_time_zone",
    "character_set_server",
    "collation_server",
    "lower_case_table_names",
    "explicit_defaults_for_timestamp",
    "innodb_strict_mode",
    "innodb_default_row_format",
    "default_storage_engine",
    "transaction_isolation",
    "tx_isolation",
    "group_concat_max_len",
    "div_precision_increment",
    "auto_increment_increment",
    "auto_increment_offset",
];

/// Settings of the database the URL selects.
const DATABASE_SETTINGS: &[&str] = &["character_set_database", "collation_database"];

pub fn collect(
    source: &DatabaseSource,
    want: Want,
    options: &ProfileOptions,
    progress: Progress,
) -> Collected {
    let mut out = Collected::default();
    if !want.schema && !want.data {
        return out;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            out.errors
                .push(source.error(format!("cannot start the database client: {e}")));
            return out;
        }
    };
    runtime.block_on(run(source, want, options, progress, &mut out));
    out
}

async fn run(
    source: &DatabaseSource,
    want: Want,
    options: &ProfileOptions,
    progress: Progress<'_>,
    out: &mut Collected,
) {
    let mut conn = match connect(source).await {
        Ok(c) => c,
        Err(message) => {
            out.errors.push(source.error(message));
            return;
        }
    };
    if let Err(e) = start(&mut conn).await {
        out.errors
            .push(source.error(format!("cannot start a read-only transaction: {e}")));
        let _ = conn.disconnect().await;
        return;
    }
    if let Err(e) = read(&mut conn, source, want, options, progress, out).await {
        out.errors
            .push(source.error(format!("reading the catalog: {e}")));
    }
    let _ = conn.query_drop("ROLLBACK").await;
    let _ = conn.disconnect().await;
}

pub(crate) async fn connect(source: &DatabaseSource) -> std::result::Result<Conn, String> {
    let url = source.url();
    // The driver reads `mysql://` only (`mariadb://`, `MySQL://` are the same server).
    let url = match url.split_once("://") {
        Some((scheme, rest)) if scheme != "mysql" => format!("mysql://{rest}"),
        _ => url.to_string(),
    };
    let opts = Opts::from_url(&url).map_err(|e| format!("bad database URL: {e}"))?;
    let mut builder = OptsBuilder::from_opts(opts);
    // Connect where the URL says; the driver would otherwise switch to a local socket.
    if !url.contains("prefer_socket=") {
        builder = builder.prefer_socket(false);
    }
    match tokio::time::timeout(CONNECT_TIMEOUT, Conn::new(builder)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(format!("cannot connect: {e}")),
        Err(_) => Err(format!(
            "cannot connect: no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

/// Read-only for the session and for the transaction everything runs in: a statement
/// that would write fails, even after an implicit rollback.
async fn start(conn: &mut Conn) -> Result<()> {
    conn.query_drop("SET NAMES utf8mb4").await?;
    conn.query_drop("SET SESSION TRANSACTION READ ONLY").await?;
    conn.query_drop("START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT")
        .await
}

struct Server {
    mariadb: bool,
    /// `10.11.14`
    version: String,
    database: String,
}

impl Server {
    fn engine(&self) -> &'static str {
        if self.mariadb { "MariaDB" } else { "MySQL" }
    }
}

struct Table {
    name: String,
    /// `BASE TABLE`, `SYSTEM VERSIONED`, `VIEW`, `SEQUENCE`.
    kind: String,
    engine: Option<String>,
    collation: Option<String>,
    /// The catalog's estimate (exact for MyISAM).
    rows_estimate: Option<u64>,
}

impl Table {
    fn is_base(&self) -> bool {
        self.kind == "BASE TABLE" || self.kind == "SYSTEM VERSIONED"
    }
}

struct Column {
    table: String,
    name: String,
    column_type: String,
    data_type: String,
    nullable: bool,
    default: Option<String>,
    collation: Option<String>,
    extra: String,
    generation: Option<String>,
}

impl Column {
    fn kind(&self) -> ColumnKind {
        match self.data_type.as_str() {
            "tinyint" | "bit" => kind_of(&self.column_type),
            "year" => ColumnKind::Number,
            // MariaDB's INET4/INET6/UUID read as text.
            t => kind_of(t),
        }
    }
}

async fn read(
    conn: &mut Conn,
    source: &DatabaseSource,
    want: Want,
    options: &ProfileOptions,
    progress: Progress<'_>,
    out: &mut Collected,
) -> Result<()> {
    let server = server_info(conn).await?;
    if server.database.is_empty() {
        out.errors.push(
            source.error("the database URL names no database (mysql://user@host:3306/DATABASE)"),
        );
        return Ok(());
    }
    let tables = list_tables(conn).await?;
    let columns = list_columns(conn).await?;
    let mut by_table: HashMap<&str, Vec<&Column>> = HashMap::new();
    for c in &columns {
        by_table.entry(c.table.as_str()).or_default().push(c);
    }
    if want.schema {
        match read_schema(conn, source, &server, &tables, &by_table).await {
            Ok(file) => out.schema = Some(file),
            Err(e) => out
                .errors
                .push(source.error(format!("reading the schema: {e}"))),
        }
    }
    if want.data {
        let base: Vec<&Table> = tables.iter().filter(|t| t.is_base()).collect();
        let mut profile = DatabaseProfile {
            name: source.name.clone(),
            source: source.shown.clone(),
            engine: format!("{} {}", server.engine(), server.version),
            tables: Vec::new(),
        };
        let mode = match options.mode {
            ModeChoice::Auto | ModeChoice::Pushdown => ProfileMode::Pushdown,
            ModeChoice::Streaming => ProfileMode::Streaming,
        };
        for (i, table) in base.iter().enumerate() {
            progress(&format!(
                "profiling {} ({}/{})",
                table.name,
                i + 1,
                base.len()
            ));
            let cols = by_table
                .get(table.name.as_str())
                .map_or(&[][..], Vec::as_slice);
            let result = match mode {
                ProfileMode::Pushdown => pushdown(conn, table, cols, options).await,
                ProfileMode::Streaming => streaming(conn, table, cols, options).await,
            };
            profile.tables.push(result.unwrap_or_else(|e| {
                failed_table(&table.name, mode, source.error(e.to_string()).message)
            }));
        }
        out.profile = Some(profile);
    }
    Ok(())
}

// ---------------------------------------------------------------- reading rows as text

fn cell(row: &Row, i: usize) -> Option<&[u8]> {
    match row.as_ref(i)? {
        mysql_async::Value::Bytes(b) => Some(b),
        _ => None,
    }
}

/// A value as text; NULL is `None`. (The text protocol gives every value as bytes.)
fn text(row: &Row, i: usize) -> Option<String> {
    match row.as_ref(i)? {
        mysql_async::Value::NULL => None,
        mysql_async::Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        other => Some(other.as_sql(false).trim_matches('\'').to_string()),
    }
}

fn number(row: &Row, i: usize) -> Option<u64> {
    let t = text(row, i)?;
    let t = t.trim();
    t.parse::<u64>()
        .ok()
        .or_else(|| t.parse::<f64>().ok().map(|x| x.max(0.0).round() as u64))
}

fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A string literal. Only for text without backslashes (names, patterns written here),
/// which reads the same whether or not the server's sql_mode has NO_BACKSLASH_ESCAPES.
fn literal(text: &str) -> String {
    debug_assert!(!text.contains('\\'));
    format!("'{}'", text.replace('\'', "''"))
}

// ---------------------------------------------------------------- catalog

async fn server_info(conn: &mut Conn) -> Result<Server> {
    let rows: Vec<Row> = conn
        .query("SELECT @@version, @@version_comment, DATABASE()")
        .await?;
    let row = rows.first();
    let version = row.and_then(|r| text(r, 0)).unwrap_or_default();
    let comment = row.and_then(|r| text(r, 1)).unwrap_or_default();
    let database = row.and_then(|r| text(r, 2)).unwrap_or_default();
    let mariadb = version.to_ascii_lowercase().contains("mariadb")
        || comment.to_ascii_lowercase().contains("mariadb");
    let bare = version.strip_prefix("5.5.5-").unwrap_or(&version);
    let number: String = bare
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    Ok(Server {
        mariadb,
        version: number.trim_end_matches('.').to_string(),
        database,
    })
}

async fn list_tables(conn: &mut Conn) -> Result<Vec<Table>> {
    let rows: Vec<Row> = conn
        .query(
            "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, TABLE_ROWS \
             FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Table {
            name: text(r, 0).unwrap_or_default(),
            kind: text(r, 1).unwrap_or_default(),
            engine: text(r, 2),
            collation: text(r, 3),
            rows_estimate: number(r, 4),
        })
        .collect())
}

async fn list_columns(conn: &mut Conn) -> Result<Vec<Column>> {
    let rows: Vec<Row> = conn
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE, COLUMN_DEFAULT, \
             COLLATION_NAME, EXTRA, GENERATION_EXPRESSION \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
             ORDER BY TABLE_NAME, ORDINAL_POSITION",
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Column {
            table: text(r, 0).unwrap_or_default(),
            name: text(r, 1).unwrap_or_default(),
            column_type: text(r, 2).unwrap_or_default(),
            data_type: text(r, 3).unwrap_or_default().to_ascii_lowercase(),
            nullable: text(r, 4).is_some_and(|n| n.eq_ignore_ascii_case("YES")),
            default: text(r, 5),
            collation: text(r, 6),
            extra: text(r, 7).unwrap_or_default(),
            generation: text(r, 8).filter(|g| !g.trim().is_empty()),
        })
        .collect())
}

async fn read_schema(
    conn: &mut Conn,
    source: &DatabaseSource,
    server: &Server,
    tables: &[Table],
    columns: &HashMap<&str, Vec<&Column>>,
) -> Result<ConfigFile> {
    let mut schema = SchemaBuilder::new(&source.schema_path(), &source.shown);
    schema.top("server.engine", Value::String(server.engine().into()));
    let major_minor: Vec<&str> = server.version.split('.').take(2).collect();
    schema.top(
        "server.version",
        Value::String(major_minor.join(".").into()),
    );
    read_settings(conn, &mut schema).await?;

    for table in tables.iter().filter(|t| t.is_base()) {
        let mut t = schema.object("table", &table.name);
        for c in columns.get(table.name.as_str()).into_iter().flatten() {
            let collation = c
                .collation
                .as_deref()
                .filter(|col| Some(*col) != table.collation.as_deref());
            let default =
                normalize_default(c.default.as_deref(), server.mariadb, c.generation.is_some());
            t.column(
                &c.name,
                &normalize_type(&c.column_type),
                c.nullable,
                default.as_deref(),
                collation,
            );
            let key = segment(&c.name);
            if let Some(extra) = normalize_extra(&c.extra) {
                t.text(&format!("{key}.extra"), &extra);
            }
            if let Some(g) = &c.generation {
                t.text(
                    &format!("{key}.generated"),
                    &normalize_sql(&strip_database(g, &server.database)),
                );
            }
        }
        if let Some(engine) = &table.engine {
            t.text("engine", engine);
        }
        if let Some(collation) = &table.collation {
            t.text("collation", collation);
        }
        if table.kind == "SYSTEM VERSIONED" {
            t.flag("system_versioned", true);
        }
    }

    read_indexes(conn, &mut schema, tables).await?;
    read_foreign_keys(conn, &mut schema, server).await?;
    read_checks(conn, &mut schema, server, columns).await;

    let views: Vec<Row> = conn
        .query(
            "SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION FROM information_schema.VIEWS \
             WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
        )
        .await?;
    for r in &views {
        let name = text(r, 0).unwrap_or_default();
        let definition = text(r, 1).unwrap_or_default();
        let mut v = schema.object("view", &name);
        v.text(
            "definition",
            &normalize_sql(&strip_database(&definition, &server.database)),
        );
        if let Some(option) = text(r, 2).filter(|o| o != "NONE") {
            v.text("check_option", &option.to_lowercase());
        }
    }

    let triggers: Vec<Row> = conn
        .query(
            "SELECT TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, EVENT_OBJECT_TABLE, \
             ACTION_STATEMENT FROM information_schema.TRIGGERS \
             WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME",
        )
        .await?;
    for r in &triggers {
        let name = text(r, 0).unwrap_or_default();
        let timing = text(r, 1).unwrap_or_default();
        let event = text(r, 2).unwrap_or_default();
        let table = text(r, 3).unwrap_or_default();
        let statement = strip_database(&text(r, 4).unwrap_or_default(), &server.database);
        schema.object("trigger", &name).text("table", &table).text(
            "definition",
            &normalize_sql(&format!(
                "{timing} {event} ON {} FOR EACH ROW {statement}",
                quote(&table)
            )),
        );
    }

    for seq in tables.iter().filter(|t| t.kind == "SEQUENCE") {
        // MariaDB: a sequence reads as a one-row table of its settings.
        let details: Option<Row> = conn
            .query_first(format!(
                "SELECT minimum_value, maximum_value, increment, cycle_option FROM {}",
                quote(&seq.name)
            ))
            .await
            .ok()
            .flatten();
        let mut s = schema.object("sequence", &seq.name);
        s.text("type", "bigint");
        if let Some(r) = details {
            for (i, key) in [(2, "increment"), (0, "min"), (1, "max")] {
                if let Some(v) = text(&r, i) {
                    s.set(key, Value::Number(v.into()));
                }
            }
            s.flag("cycle", text(&r, 3).is_some_and(|c| c != "0"));
        }
    }
    Ok(schema.finish())
}

async fn read_settings(conn: &mut Conn, schema: &mut SchemaBuilder) -> Result<()> {
    let list = |names: &[&str]| {
        names
            .iter()
            .map(|n| literal(n))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut found: BTreeMap<String, String> = BTreeMap::new();
    for (scope, names) in [("GLOBAL", SETTINGS), ("SESSION", DATABASE_SETTINGS)] {
        let rows: Vec<Row> = conn
            .query(format!(
                "SHOW {scope} VARIABLES WHERE Variable_name IN ({})",
                list(names)
            ))
            .await?;
        for r in &rows {
            if let (Some(name), value) = (text(r, 0), text(r, 1).unwrap_or_default()) {
                found.insert(name.to_ascii_lowercase(), value);
            }
        }
    }
    // MariaDB before 11.1 (and MySQL before 5.7.20) call it tx_isolation.
    if let Some(v) = found.remove("tx_isolation") {
        found
            .entry("transaction_isolation".to_string())
            .or_insert(v);
    }
    for (name, value) in found {
        let value = if name == "sql_mode" {
            let mut modes: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .collect();
            modes.sort_unstable();
            Value::String(modes.join(",").into())
        } else if value.parse::<i64>().is_ok_and(|n| n.to_string() == value) {
            Value::Number(value.into())
        } else {
            Value::String(value.into())
        };
        schema.top(&format!("settings.{name}"), value);
    }
    Ok(())
}

async fn read_indexes(conn: &mut Conn, schema: &mut SchemaBuilder, tables: &[Table]) -> Result<()> {
    let rows: Vec<Row> = conn
        .query(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE, \
             `COLLATION` FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
             ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        )
        .await?;
    struct Index {
        unique: bool,
        method: String,
        columns: Vec<String>,
    }
    // table → index name → index, in name order.
    let mut indexes: BTreeMap<String, BTreeMap<String, Index>> = BTreeMap::new();
    for r in &rows {
        let table = text(r, 0).unwrap_or_default();
        let name = text(r, 1).unwrap_or_default();
        let mut column = text(r, 3).unwrap_or_else(|| "(expression)".to_string());
        if let Some(part) = text(r, 4) {
            column = format!("{column}({part})");
        }
        if text(r, 6).as_deref() == Some("D") {
            column.push_str(" desc");
        }
        indexes
            .entry(table)
            .or_default()
            .entry(name)
            .or_insert_with(|| Index {
                unique: text(r, 2).as_deref() == Some("0"),
                method: text(r, 5).unwrap_or_default(),
                columns: Vec::new(),
            })
            .columns
            .push(column);
    }
    for (table, list) in indexes {
        if !tables.iter().any(|t| t.name == table && t.is_base()) {
            continue;
        }
        let mut t = schema.object("table", &table);
        if let Some(pk) = list.get("PRIMARY") {
            t.text("primary_key", &pk.columns.join(", "));
        }
        // Keyed by columns: two indexes on the same columns are one value naming both.
        let mut by_columns: BTreeMap<Vec<String>, Vec<(&String, &Index)>> = BTreeMap::new();
        for (name, index) in list.iter().filter(|(n, _)| n.as_str() != "PRIMARY") {
            by_columns
                .entry(index.columns.clone())
                .or_default()
                .push((name, index));
        }
        for (columns, mut same) in by_columns {
            same.sort_by_key(|(name, index)| (!index.unique, name.to_string()));
            let (_, first) = same[0];
            let names: Vec<&str> = same.iter().map(|(n, _)| n.as_str()).collect();
            let method = (!first.method.is_empty()).then_some(first.method.as_str());
            t.index(&columns, &names.join(", "), first.unique, method, None);
        }
    }
    Ok(())
}

async fn read_foreign_keys(
    conn: &mut Conn,
    schema: &mut SchemaBuilder,
    server: &Server,
) -> Result<()> {
    let rows: Vec<Row> = conn
        .query(
            "SELECT rc.TABLE_NAME, rc.CONSTRAINT_NAME, rc.REFERENCED_TABLE_NAME, rc.DELETE_RULE, \
             rc.UPDATE_RULE, k.COLUMN_NAME, k.REFERENCED_COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA \
             FROM information_schema.REFERENTIAL_CONSTRAINTS rc \
             JOIN information_schema.KEY_COLUMN_USAGE k \
               ON k.CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA \
              AND k.CONSTRAINT_NAME = rc.CONSTRAINT_NAME \
              AND k.TABLE_NAME = rc.TABLE_NAME \
              AND k.REFERENCED_TABLE_NAME IS NOT NULL \
             WHERE rc.CONSTRAINT_SCHEMA = DATABASE() \
             ORDER BY rc.TABLE_NAME, rc.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        )
        .await?;
    struct Fk {
        target: String,
        on_delete: String,
        on_update: String,
        from: Vec<String>,
        to: Vec<String>,
    }
    let mut fks: BTreeMap<(String, String), Fk> = BTreeMap::new();
    for r in &rows {
        let table = text(r, 0).unwrap_or_default();
        let name = text(r, 1).unwrap_or_default();
        let fk = fks.entry((table, name)).or_insert_with(|| {
            let target_table = text(r, 2).unwrap_or_default();
            let target_schema = text(r, 7).unwrap_or_default();
            Fk {
                target: if target_schema.is_empty() || target_schema == server.database {
                    target_table
                } else {
                    format!("{target_schema}.{target_table}")
                },
                on_delete: text(r, 3).unwrap_or_default(),
                on_update: text(r, 4).unwrap_or_default(),
                from: Vec::new(),
                to: Vec::new(),
            }
        });
        fk.from.push(text(r, 5).unwrap_or_default());
        fk.to.push(text(r, 6).unwrap_or_default());
    }
    for ((table, _), fk) in fks {
        schema.object("table", &table).foreign_key(
            &fk.from,
            &format!("{}({})", fk.target, fk.to.join(", ")),
            &fk.on_delete,
            &fk.on_update,
        );
    }
    Ok(())
}

/// CHECK constraints (MySQL 8.0.16+, MariaDB 10.2+). Older servers have no
/// `CHECK_CONSTRAINTS` table and no checks, so a failing query reads as none.
async fn read_checks(
    conn: &mut Conn,
    schema: &mut SchemaBuilder,
    server: &Server,
    columns: &HashMap<&str, Vec<&Column>>,
) {
    // MariaDB names a column-level check after its column and keeps the table name in
    // CHECK_CONSTRAINTS; MySQL names checks per schema and only TABLE_CONSTRAINTS has it.
    let sql = if server.mariadb {
        "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME"
    } else {
        "SELECT tc.TABLE_NAME, tc.CONSTRAINT_NAME, cc.CHECK_CLAUSE \
         FROM information_schema.TABLE_CONSTRAINTS tc \
         JOIN information_schema.CHECK_CONSTRAINTS cc \
           ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA \
          AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
         WHERE tc.CONSTRAINT_TYPE = 'CHECK' AND tc.TABLE_SCHEMA = DATABASE() \
         ORDER BY tc.TABLE_NAME, tc.CONSTRAINT_NAME"
    };
    let Ok(rows) = conn.query::<Row, _>(sql).await else {
        return;
    };
    for r in &rows {
        let table = text(r, 0).unwrap_or_default();
        let name = text(r, 1).unwrap_or_default();
        let clause = text(r, 2).unwrap_or_default();
        // MariaDB's own `json_valid(col)` check on a JSON column is the type, not a rule.
        let automatic = server.mariadb
            && clause == format!("json_valid({})", quote(&name))
            && columns
                .get(table.as_str())
                .is_some_and(|cols| cols.iter().any(|c| c.name == name));
        if automatic {
            continue;
        }
        schema.object("table", &table).text(
            &format!("check.{}", segment(&name)),
            &normalize_sql(&clause),
        );
    }
}

/// `int(11) unsigned` → `int unsigned`: MySQL 8 dropped integer display widths, so they
/// are noise. `tinyint(1)` (a boolean) and zerofill widths stay.
fn normalize_type(column_type: &str) -> String {
    let lower = column_type.to_ascii_lowercase();
    if lower.contains("zerofill") || lower.starts_with("tinyint(1)") {
        return lower;
    }
    for int in ["tinyint", "smallint", "mediumint", "bigint", "int"] {
        if let Some(rest) = lower.strip_prefix(int)
            && let Some(after) = rest.strip_prefix('(')
            && let Some(close) = after.find(')')
            && after[..close].bytes().all(|b| b.is_ascii_digit())
        {
            return format!("{int}{}", &after[close + 1..]);
        }
    }
    lower
}

/// COLUMN_DEFAULT as one spelling for both engines: MariaDB quotes string literals and
/// writes `NULL` for DEFAULT NULL; MySQL does neither. `None`: no default, or NULL.
fn normalize_default(default: Option<&str>, mariadb: bool, generated: bool) -> Option<String> {
    let d = default?;
    if generated {
        return None;
    }
    if mariadb && d == "NULL" {
        return None;
    }
    if mariadb && d.len() >= 2 && d.starts_with('\'') && d.ends_with('\'') {
        return Some(d[1..d.len() - 1].replace("''", "'").replace("\\\\", "\\"));
    }
    let lower = d.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "current_timestamp"
            | "current_timestamp()"
            | "now()"
            | "localtimestamp"
            | "localtimestamp()"
    ) {
        return Some("current_timestamp()".to_string());
    }
    if lower.starts_with("current_timestamp(") {
        return Some(lower);
    }
    Some(d.to_string())
}

/// EXTRA without MySQL's `DEFAULT_GENERATED` marker, lowercased: `auto_increment`,
/// `on update current_timestamp()`, `stored generated`.
fn normalize_extra(extra: &str) -> Option<String> {
    let lower = extra.to_ascii_lowercase().replace("default_generated", "");
    let words: Vec<&str> = lower.split_whitespace().collect();
    let mut out = words.join(" ");
    if out.is_empty() {
        return None;
    }
    if let Some(at) = out.find("on update current_timestamp")
        && !out[at..].starts_with("on update current_timestamp(")
    {
        out.insert_str(at + "on update current_timestamp".len(), "()");
    }
    Some(out)
}

/// Views and triggers name tables with their database (`shop_qa`.`orders`); the
/// database's name differs between environments, so it goes.
fn strip_database(sql: &str, database: &str) -> String {
    if database.is_empty() {
        return sql.to_string();
    }
    sql.replace(&format!("{}.", quote(database)), "")
}

// ---------------------------------------------------------------- data

fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0} %")
    } else {
        format!("{p:.2} %")
    }
}

fn sample_where(rate: f64) -> String {
    if rate < 1.0 {
        format!(" WHERE RAND(42) < {rate}")
    } else {
        String::new()
    }
}

/// The table's row count: exact, or the catalog's estimate for tables so big they are
/// sampled anyway.
async fn row_count(conn: &mut Conn, table: &Table) -> Result<(u64, bool)> {
    if let Some(estimate) = table.rows_estimate
        && estimate > AUTO_SAMPLE_ROWS
    {
        return Ok((estimate, false));
    }
    let count: Option<Row> = conn
        .query_first(format!("SELECT COUNT(*) FROM {}", quote(&table.name)))
        .await?;
    Ok((count.and_then(|r| number(&r, 0)).unwrap_or(0), true))
}

async fn streaming(
    conn: &mut Conn,
    table: &Table,
    columns: &[&Column],
    options: &ProfileOptions,
) -> Result<TableProfile> {
    let (rows, exact) = row_count(conn, table).await?;
    let rate = options.rate_for(rows);
    let metas: Vec<(ColumnMeta, ColumnKind)> = columns
        .iter()
        .map(|c| (ColumnMeta::new(&c.name, &c.column_type), c.kind()))
        .collect();
    let binary: Vec<bool> = metas.iter().map(|m| m.1 == ColumnKind::Binary).collect();
    let mut profiler = TableProfiler::with_kinds(&table.name, &metas);
    let list: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
    let method = if rate < 1.0 {
        format!("streamed, RAND() sample ({})", percent(rate))
    } else {
        "streamed".to_string()
    };
    if !list.is_empty() {
        let sql = format!(
            "SELECT {} FROM {}{}",
            list.join(", "),
            quote(&table.name),
            sample_where(rate)
        );
        let mut result = conn.query_iter(sql).await?;
        let mut hex = String::new();
        while let Some(row) = result.next().await? {
            profiler.start_row();
            for (i, is_binary) in binary.iter().enumerate() {
                let Some(bytes) = cell(&row, i) else {
                    profiler.push(i, None);
                    continue;
                };
                if *is_binary {
                    // Binary values are profiled as the hex of their first 32 bytes.
                    hex.clear();
                    for b in bytes.iter().take(32) {
                        use std::fmt::Write;
                        let _ = write!(hex, "{b:02x}");
                    }
                    profiler.push(i, Some(&hex));
                } else {
                    match std::str::from_utf8(bytes) {
                        Ok(s) => profiler.push(i, Some(s)),
                        Err(_) => profiler.push(i, Some(&String::from_utf8_lossy(bytes))),
                    }
                }
            }
        }
    }
    // Every row read: the count is what was streamed, exact.
    let total = (rate < 1.0).then_some((rows, exact));
    Ok(profiler.finish(&options.sensitivity, total, &method))
}

/// What a column's bounded sample told: values for quantiles and lengths, shapes, and
/// whether its values look personal.
struct Sampled {
    probe: SensitivityProbe,
    numbers: Reservoir,
    lengths: Reservoir,
    shapes: HashMap<String, u64>,
    /// Non-null values sampled.
    values: u64,
}

/// The expression a text column is compared, grouped and ordered by: its UTF-8 bytes,
/// so case, trailing spaces and collations do not merge values, and order is by code
/// point as in streaming mode.
fn utf8_bytes(q: &str) -> String {
    format!("CAST(CONVERT({q} USING utf8mb4) AS BINARY)")
}

/// Characters as `count_chars` (profile.rs) classifies them, as regular expressions
/// that both PCRE (MariaDB) and ICU (MySQL 8) read. Literal characters, not escapes,
/// so the server's NO_BACKSLASH_ESCAPES does not matter.
const EMOJI_CLASS: &str = "[\u{1F000}-\u{1FAFF}\u{2600}-\u{27BF}\u{2B00}-\u{2BFF}\u{FE0F}]";
const SPACE_CLASS: &str =
    "[[:space:]\u{85}\u{A0}\u{1680}\u{2000}-\u{200A}\u{2028}\u{2029}\u{202F}\u{205F}\u{3000}]";
const CONTROL_CLASS: &str = "[[:cntrl:]\u{80}-\u{9F}]";

async fn pushdown(
    conn: &mut Conn,
    table: &Table,
    columns: &[&Column],
    options: &ProfileOptions,
) -> Result<TableProfile> {
    let (rows, exact) = row_count(conn, table).await?;
    let rate = options.rate_for(rows);
    let q_table = quote(&table.name);
    let kinds: Vec<ColumnKind> = columns.iter().map(|c| c.kind()).collect();

    // 1. A bounded uniform sample of the non-binary columns: shapes, sensitivity probe,
    //    quantiles of values and of text lengths.
    let mut sampled: Vec<Sampled> = columns
        .iter()
        .map(|c| {
            let seed = stable_hash(c.name.as_bytes());
            Sampled {
                probe: SensitivityProbe::default(),
                numbers: Reservoir::new(seed),
                lengths: Reservoir::new(seed ^ 1),
                shapes: Default::default(),
                values: 0,
            }
        })
        .collect();
    // Text comes as its first characters and its length, so a column of huge documents
    // costs little; a shape stops after a few dozen characters anyway.
    let mut exprs: Vec<String> = Vec::new();
    let mut wanted: Vec<(usize, usize)> = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        let q = quote(&c.name);
        match kinds[i] {
            ColumnKind::Binary => continue,
            ColumnKind::Text => {
                wanted.push((i, exprs.len()));
                exprs.push(format!("LEFT({q}, {SAMPLE_CHARS})"));
                exprs.push(format!("CHAR_LENGTH({q})"));
            }
            _ => {
                wanted.push((i, exprs.len()));
                exprs.push(q);
            }
        }
    }
    if !wanted.is_empty() && rows > 0 {
        // Within the share the user allows, as the figures themselves.
        let p = (SAMPLE_ROWS / rows as f64).min(rate);
        let filter = if p < 1.0 {
            format!(" WHERE RAND(7) < {p}")
        } else {
            String::new()
        };
        let sql = format!("SELECT {} FROM {q_table}{filter}", exprs.join(", "));
        let mut result = conn.query_iter(sql).await?;
        let mut shape = String::new();
        while let Some(row) = result.next().await? {
            for &(i, at) in &wanted {
                let Some(bytes) = cell(&row, at) else {
                    continue;
                };
                let lossy;
                let value = match std::str::from_utf8(bytes) {
                    Ok(s) => s,
                    Err(_) => {
                        lossy = String::from_utf8_lossy(bytes);
                        &lossy
                    }
                };
                let s = &mut sampled[i];
                s.values += 1;
                s.probe.observe(value);
                match kinds[i] {
                    ColumnKind::Number => {
                        if let Ok(x) = value.trim().parse::<f64>()
                            && !x.is_nan()
                        {
                            s.numbers.push(x);
                        }
                    }
                    ColumnKind::Temporal => {
                        if let Some(x) = parse_temporal(value) {
                            s.numbers.push(x);
                        }
                    }
                    ColumnKind::Text => {
                        let length = cell(&row, at + 1)
                            .and_then(|b| std::str::from_utf8(b).ok()?.parse::<f64>().ok())
                            .unwrap_or(value.chars().count() as f64);
                        s.lengths.push(length);
                        shape_of(value, &mut shape);
                        if let Some(count) = s.shapes.get_mut(shape.as_str()) {
                            *count += 1;
                        } else {
                            s.shapes.insert(shape.clone(), 1);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    // 2. Which columns are sensitive: their raw values are not even asked for below.
    let sensitive: Vec<Option<String>> = columns
        .iter()
        .zip(&sampled)
        .map(|(c, s)| {
            options
                .sensitivity
                .decide(&table.name, &c.name, Some(&s.probe))
        })
        .collect();

    // 3. One aggregate query for every column's counts (and min/max when allowed).
    let mut select = vec!["COUNT(*)".to_string()];
    struct Slots {
        nonnull: usize,
        distinct: usize,
        empty: Option<usize>,
        chars: Option<usize>,
        min_max: Option<usize>,
    }
    let mut slots = Vec::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let q = quote(&c.name);
        let kind = kinds[i];
        let mut push = |expr: String| {
            select.push(expr);
            select.len() - 1
        };
        let nonnull = push(format!("COUNT({q})"));
        let distinct = push(match kind {
            ColumnKind::Text => format!("COUNT(DISTINCT {})", utf8_bytes(&q)),
            // Spatial and unknown types compare as their bytes.
            ColumnKind::Binary | ColumnKind::Other => {
                format!("COUNT(DISTINCT CAST({q} AS BINARY))")
            }
            _ => format!("COUNT(DISTINCT {q})"),
        });
        let empty = matches!(
            kind,
            ColumnKind::Text | ColumnKind::Binary | ColumnKind::Other
        )
        .then(|| push(format!("SUM(LENGTH({q}) = 0)")));
        let chars = (kind == ColumnKind::Text).then(|| {
            let u = format!("CONVERT({q} USING utf8mb4)");
            let at = push(format!("SUM(LENGTH({u}) <> CHAR_LENGTH({u}))"));
            push(format!("SUM({u} REGEXP {})", literal(EMOJI_CLASS)));
            push(format!(
                "SUM({u} REGEXP {})",
                literal(&format!("^{SPACE_CLASS}|{SPACE_CLASS}$"))
            ));
            push(format!("SUM({u} REGEXP {})", literal(CONTROL_CLASS)));
            at
        });
        let min_max = (sensitive[i].is_none()
            && matches!(
                kind,
                ColumnKind::Number | ColumnKind::Temporal | ColumnKind::Text
            ))
        .then(|| {
            let x = if kind == ColumnKind::Text {
                utf8_bytes(&q)
            } else {
                q.clone()
            };
            let at = push(format!("MIN({x})"));
            push(format!("MAX({x})"));
            at
        });
        slots.push(Slots {
            nonnull,
            distinct,
            empty,
            chars,
            min_max,
        });
    }
    let aggregate: Option<Row> = conn
        .query_first(format!(
            "SELECT {} FROM {q_table}{}",
            select.join(", "),
            sample_where(rate)
        ))
        .await?;
    let Some(aggregate) = aggregate else {
        return Err(mysql_async::Error::Other(
            "the aggregate query gave no row".into(),
        ));
    };
    let n = |i: usize| number(&aggregate, i).unwrap_or(0);
    let profiled = n(0);

    // 4. Assemble, with top values for non-sensitive columns whose values repeat.
    let mut profiles = Vec::with_capacity(columns.len());
    for (i, (c, s)) in columns.iter().zip(sampled).enumerate() {
        let kind = kinds[i];
        let slot = &slots[i];
        let nonnull = n(slot.nonnull);
        let distinct = n(slot.distinct);
        let top = if sensitive[i].is_none()
            && kind != ColumnKind::Binary
            && nonnull > 0
            && !(distinct == nonnull && nonnull > TOP_VALUES as u64)
        {
            top_values(conn, &q_table, &quote(&c.name), kind, rate).await?
        } else {
            Vec::new()
        };
        let (min, max) = match slot.min_max {
            Some(at) => (
                text(&aggregate, at).map(|v| clip(&v)),
                text(&aggregate, at + 1).map(|v| clip(&v)),
            ),
            None => (None, None),
        };
        let mut profile = ColumnProfile {
            name: c.name.clone(),
            data_type: c.column_type.clone(),
            kind,
            sensitive: sensitive[i].clone(),
            values: profiled,
            nulls: profiled.saturating_sub(nonnull),
            empty: slot.empty.map_or(0, n),
            distinct,
            distinct_exact: rate >= 1.0,
            hll: None,
            quantiles: if kind.is_ordered() {
                s.numbers.percentiles()
            } else {
                Vec::new()
            },
            length_quantiles: if kind == ColumnKind::Text {
                s.lengths.percentiles()
            } else {
                Vec::new()
            },
            chars: slot.chars.map(|at| CharClasses {
                values: nonnull,
                non_ascii: n(at),
                emoji: n(at + 1),
                padded: n(at + 2),
                control: n(at + 3),
            }),
            shapes: if kind == ColumnKind::Text {
                scaled_shapes(s.shapes, s.values, nonnull)
            } else {
                Vec::new()
            },
            min,
            max,
            top,
        };
        profile.redact();
        profiles.push(profile);
    }
    let (rows, rows_exact) = if rate >= 1.0 {
        (profiled, true)
    } else {
        (rows, exact)
    };
    Ok(TableProfile {
        name: table.name.clone(),
        rows,
        rows_exact,
        mode: ProfileMode::Pushdown,
        profiled_rows: profiled,
        sample_rate: rate.min(1.0),
        method: if rate < 1.0 {
            format!("RAND() sample ({})", percent(rate))
        } else {
            "full scan".to_string()
        },
        columns: profiles,
        error: None,
    })
}

/// The most frequent values with their counts, most frequent first, ties by value.
async fn top_values(
    conn: &mut Conn,
    q_table: &str,
    q: &str,
    kind: ColumnKind,
    rate: f64,
) -> Result<Vec<(String, u64)>> {
    let x = match kind {
        ColumnKind::Text => utf8_bytes(q),
        ColumnKind::Other => format!("CAST({q} AS BINARY)"),
        _ => q.to_string(),
    };
    let sample = if rate < 1.0 {
        format!(" AND RAND(42) < {rate}")
    } else {
        String::new()
    };
    let rows: Vec<Row> = conn
        .query(format!(
            "SELECT {x}, COUNT(*) FROM {q_table} WHERE {q} IS NOT NULL{sample} \
             GROUP BY {x} ORDER BY COUNT(*) DESC, CAST({x} AS BINARY) LIMIT {TOP_VALUES}"
        ))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((clip(&text(r, 0)?), number(r, 1)?)))
        .collect())
}

/// Shapes of the sampled values, their counts scaled to the profiled values, most
/// frequent first, rare ones pooled as `…` (as the streaming profiler keeps them).
fn scaled_shapes(
    shapes: HashMap<String, u64>,
    sampled: u64,
    profiled_nonnull: u64,
) -> Vec<(String, u64)> {
    if sampled == 0 {
        return Vec::new();
    }
    let factor = profiled_nonnull as f64 / sampled as f64;
    let mut list: Vec<(String, u64)> = shapes
        .into_iter()
        .map(|(shape, count)| (shape, ((count as f64 * factor).round() as u64).max(1)))
        .collect();
    list.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    let pooled: u64 = list.iter().skip(SHAPES_KEPT).map(|s| s.1).sum();
    list.truncate(SHAPES_KEPT);
    if pooled > 0 {
        list.push(("…".to_string(), pooled));
    }
    list
}

fn clip(v: &str) -> String {
    if v.chars().count() <= VALUE_CHARS {
        v.to_string()
    } else {
        let mut s: String = v.chars().take(VALUE_CHARS - 1).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_defaults_and_extras_read_alike_on_both_engines() {
        assert_eq!(normalize_type("int(11) unsigned"), "int unsigned");
        assert_eq!(normalize_type("bigint(20)"), "bigint");
        assert_eq!(normalize_type("tinyint(1)"), "tinyint(1)");
        assert_eq!(
            normalize_type("int(5) unsigned zerofill"),
            "int(5) unsigned zerofill"
        );
        assert_eq!(normalize_type("varchar(80)"), "varchar(80)");
        assert_eq!(normalize_default(Some("NULL"), true, false), None);
        assert_eq!(
            normalize_default(Some("'it''s'"), true, false).as_deref(),
            Some("it's")
        );
        assert_eq!(
            normalize_default(Some("CURRENT_TIMESTAMP"), false, false).as_deref(),
            Some("current_timestamp()")
        );
        assert_eq!(
            normalize_default(Some("current_timestamp()"), true, false).as_deref(),
            Some("current_timestamp()")
        );
        assert_eq!(
            normalize_extra("DEFAULT_GENERATED on update CURRENT_TIMESTAMP").as_deref(),
            Some("on update current_timestamp()")
        );
        assert_eq!(normalize_extra("DEFAULT_GENERATED"), None);
        assert_eq!(
            strip_database(
                "select `shop`.`orders`.`id` AS `id` from `shop`.`orders`",
                "shop"
            ),
            "select `orders`.`id` AS `id` from `orders`"
        );
        assert_eq!(percent(0.1), "10 %");
        assert_eq!(percent(0.125), "12.50 %");
    }
}
