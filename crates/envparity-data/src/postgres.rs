//! PostgreSQL: the catalog read from `pg_catalog`, data profiled by SQL aggregates
//! (pushdown) or by streaming `COPY … TO STDOUT` through envparity's sketches.
//!
//! Everything runs in one `READ ONLY` transaction on a current-thread tokio runtime built
//! for the call, so no async leaks out of this module.

use std::time::Duration;

use envparity_core::profile::{
    CharClasses, ColumnKind, ColumnProfile, DatabaseProfile, ProfileMode, SensitivityProbe,
    TableProfile, shape_of,
};
use envparity_core::snapshot::Value;
use futures_util::{StreamExt, pin_mut};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::schema::{SchemaBuilder, normalize_sql};
use crate::stream::{ColumnMeta, TableProfiler, failed_table};
use crate::values::kind_of;
use crate::{Collected, DatabaseSource, ModeChoice, ProfileOptions, Progress, Want};

/// Settings that change what queries return or how they behave.
const SETTINGS: &[&str] = &[
    "TimeZone",
    "standard_conforming_strings",
    "DateStyle",
    "IntervalStyle",
    "default_transaction_isolation",
    "search_path",
    "server_encoding",
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "default_text_search_config",
    "bytea_output",
    "extra_float_digits",
    "max_identifier_length",
];

/// Schemas that are PostgreSQL's own.
const SYSTEM_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

/// Rows above which distinct counts and quantiles come from a sample of about this many.
const SPREAD_ROWS: u64 = 1_000_000;

/// Columns with more distinct values than this get no top values: no mix to show.
const TOP_MAX_DISTINCT: u64 = 10_000;

/// Values sampled per table for shapes and the sensitivity check.
const PROBE_ROWS: u64 = 10_000;

pub fn collect(
    source: &DatabaseSource,
    want: Want,
    options: &ProfileOptions,
    progress: Progress<'_>,
) -> Collected {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return Collected {
                errors: vec![source.error(format!("cannot start the database client: {e}"))],
                ..Collected::default()
            };
        }
    };
    runtime.block_on(run(source, want, options, progress))
}

async fn run(
    source: &DatabaseSource,
    want: Want,
    options: &ProfileOptions,
    progress: Progress<'_>,
) -> Collected {
    let mut out = Collected::default();
    let connect = tokio_postgres::connect(source.url(), NoTls);
    let (client, connection) = match tokio::time::timeout(Duration::from_secs(30), connect).await {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => {
            out.errors
                .push(source.error(format!("cannot connect: {}", describe(&e))));
            return out;
        }
        Err(_) => {
            out.errors
                .push(source.error("cannot connect: no answer within 30 s"));
            return out;
        }
    };
    let connection = tokio::spawn(connection);
    if let Err(e) = client
        .batch_execute("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
    {
        out.errors.push(source.error(format!(
            "cannot open a read-only transaction: {}",
            describe(&e)
        )));
        return out;
    }
    let version = scalar(&client, "SHOW server_version")
        .await
        .unwrap_or_default();
    if want.schema {
        match read_schema(&client, source, &version).await {
            Ok(file) => out.schema = Some(file),
            Err(e) => out
                .errors
                .push(source.error(format!("reading the catalog: {}", describe(&e)))),
        }
    }
    if want.data {
        match profile(&client, source, &version, options, progress).await {
            Ok(p) => out.profile = Some(p),
            Err(e) => out
                .errors
                .push(source.error(format!("listing tables: {}", describe(&e)))),
        }
    }
    let _ = client.batch_execute("ROLLBACK").await;
    drop(client);
    let _ = connection.await;
    out
}

/// A driver error as one line: the server's message when there is one.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}

type Rows = Vec<Vec<Option<String>>>;

/// Runs a query with the simple protocol: every value arrives as text.
async fn rows(client: &Client, sql: &str) -> Result<Rows, tokio_postgres::Error> {
    let mut out = Vec::new();
    for message in client.simple_query(sql).await? {
        if let SimpleQueryMessage::Row(row) = message {
            out.push(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            );
        }
    }
    Ok(out)
}

async fn scalar(client: &Client, sql: &str) -> Option<String> {
    rows(client, sql)
        .await
        .ok()?
        .into_iter()
        .next()?
        .into_iter()
        .next()?
}

fn cell(row: &[Option<String>], i: usize) -> &str {
    row.get(i).and_then(|c| c.as_deref()).unwrap_or("")
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

async fn read_schema(
    client: &Client,
    source: &DatabaseSource,
    version: &str,
) -> Result<envparity_core::ConfigFile, tokio_postgres::Error> {
    let mut schema = SchemaBuilder::new(&source.schema_path(), &source.shown);
    schema.top("server.engine", Value::String("PostgreSQL".into()));
    let major = version
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap_or("");
    schema.top("server.version", Value::String(major.into()));
    let names: Vec<String> = SETTINGS.iter().map(|s| quote_literal(s)).collect();
    for row in rows(
        client,
        &format!(
            "SELECT name, setting FROM pg_settings WHERE name IN ({}) ORDER BY name",
            names.join(", ")
        ),
    )
    .await?
    {
        schema.top(
            &format!("settings.{}", cell(&row, 0)),
            Value::String(cell(&row, 1).into()),
        );
    }
    for row in rows(
        client,
        "SELECT datcollate, datctype FROM pg_database WHERE datname = current_database()",
    )
    .await?
    {
        schema.top("settings.lc_collate", Value::String(cell(&row, 0).into()));
        schema.top("settings.lc_ctype", Value::String(cell(&row, 1).into()));
    }
    for row in rows(
        client,
        "SELECT extname, extversion FROM pg_extension ORDER BY extname",
    )
    .await?
    {
        schema.top(
            &format!("extensions.{}", cell(&row, 0)),
            Value::String(cell(&row, 1).into()),
        );
    }
    // Objects that belong to an extension are the extension's, not the schema's.
    let not_extension = |class: &str, oid: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '{class}'::regclass \
             AND dep.objid = {oid} AND dep.deptype = 'e')"
        )
    };
    let columns = rows(
        client,
        &format!(
            "SELECT n.nspname || '.' || c.relname, c.relkind, a.attname,
                    format_type(a.atttypid, a.atttypmod), a.attnotnull,
                    pg_get_expr(d.adbin, d.adrelid),
                    CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                         THEN co.collname END,
                    a.attidentity, a.attgenerated, c.relrowsecurity
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             JOIN pg_type t ON t.oid = a.atttypid
             LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
             LEFT JOIN pg_collation co ON co.oid = a.attcollation
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {SYSTEM_SCHEMAS}
               AND {}
             ORDER BY 1, a.attnum",
            not_extension("pg_class", "c.oid")
        ),
    )
    .await?;
    for row in &columns {
        let mut t = schema.object("table", cell(row, 0));
        let column = cell(row, 2);
        let generated = cell(row, 8) == "s";
        let default = row.get(5).and_then(|d| d.as_deref());
        t.column(
            column,
            cell(row, 3),
            cell(row, 4) != "t",
            if generated { None } else { default },
            row.get(6).and_then(|c| c.as_deref()),
        );
        let key = crate::schema::segment(column);
        match cell(row, 7) {
            "a" => {
                t.text(&format!("{key}.identity"), "always");
            }
            "d" => {
                t.text(&format!("{key}.identity"), "by default");
            }
            _ => {}
        }
        if generated {
            t.text(&format!("{key}.generated"), default.unwrap_or(""));
        }
        if cell(row, 1) == "p" {
            t.text("partitioned_by", "");
        }
        if cell(row, 9) == "t" {
            t.flag("row_security", true);
        }
    }
    // Partitioned tables: the key, not an empty marker.
    for row in rows(
        client,
        &format!(
            "SELECT n.nspname || '.' || c.relname, pg_get_partkeydef(c.oid)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'p' AND {SYSTEM_SCHEMAS}"
        ),
    )
    .await?
    {
        schema
            .object("table", cell(&row, 0))
            .text("partitioned_by", cell(&row, 1));
    }
    let constraints = rows(
        client,
        &format!(
            "SELECT n.nspname || '.' || c.relname, con.conname, con.contype,
                    pg_get_constraintdef(con.oid, true),
                    (SELECT string_agg(a.attname, ', ' ORDER BY k.ord)
                       FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
                    fn.nspname || '.' || fc.relname,
                    (SELECT string_agg(a.attname, ', ' ORDER BY k.ord)
                       FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                       JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum),
                    con.confdeltype, con.confupdtype
             FROM pg_constraint con
             JOIN pg_class c ON c.oid = con.conrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_class fc ON fc.oid = con.confrelid
             LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {SYSTEM_SCHEMAS}
               AND con.contype IN ('p', 'f', 'c', 'x')
             ORDER BY 1, 2"
        ),
    )
    .await?;
    let action = |code: &str| match code {
        "r" => "restrict",
        "c" => "cascade",
        "n" => "set null",
        "d" => "set default",
        _ => "no action",
    };
    for row in &constraints {
        let mut t = schema.object("table", cell(row, 0));
        match cell(row, 2) {
            "p" => {
                t.text("primary_key", cell(row, 4));
            }
            "f" => {
                let from: Vec<String> = cell(row, 4).split(", ").map(str::to_string).collect();
                t.foreign_key(
                    &from,
                    &format!("{}({})", cell(row, 5), cell(row, 6)),
                    action(cell(row, 7)),
                    action(cell(row, 8)),
                );
            }
            "c" => {
                t.text(
                    &format!("check.{}", crate::schema::segment(cell(row, 1))),
                    cell(row, 3),
                );
            }
            _ => {
                t.text(
                    &format!("exclusion.{}", crate::schema::segment(cell(row, 1))),
                    cell(row, 3),
                );
            }
        }
    }
    let indexes = rows(
        client,
        &format!(
            "SELECT n.nspname || '.' || t.relname, i.relname, ix.indisunique, am.amname,
                    pg_get_expr(ix.indpred, ix.indrelid, true),
                    (SELECT string_agg(pg_get_indexdef(ix.indexrelid, k, true), ',' ORDER BY k)
                       FROM generate_series(1, ix.indnkeyatts) k),
                    t.relkind
             FROM pg_index ix
             JOIN pg_class i ON i.oid = ix.indexrelid
             JOIN pg_class t ON t.oid = ix.indrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace
             JOIN pg_am am ON am.oid = i.relam
             WHERE NOT ix.indisprimary AND t.relkind IN ('r', 'p', 'm') AND NOT t.relispartition
               AND {SYSTEM_SCHEMAS} AND {}
             ORDER BY 1, 2",
            not_extension("pg_class", "t.oid")
        ),
    )
    .await?;
    for row in &indexes {
        let kind = if cell(row, 6) == "m" {
            "materialized view"
        } else {
            "table"
        };
        let columns: Vec<String> = cell(row, 5).split(',').map(str::to_string).collect();
        schema.object(kind, cell(row, 0)).index(
            &columns,
            cell(row, 1),
            cell(row, 2) == "t",
            Some(cell(row, 3)),
            row.get(4).and_then(|p| p.as_deref()),
        );
    }
    for row in rows(
        client,
        &format!(
            "SELECT n.nspname || '.' || c.relname, c.relkind, pg_get_viewdef(c.oid, true)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('v', 'm') AND {SYSTEM_SCHEMAS} AND {}
             ORDER BY 1",
            not_extension("pg_class", "c.oid")
        ),
    )
    .await?
    {
        let kind = if cell(&row, 1) == "m" {
            "materialized view"
        } else {
            "view"
        };
        schema
            .object(kind, cell(&row, 0))
            .text("definition", &normalize_sql(cell(&row, 2)));
    }
    for row in rows(
        client,
        &format!(
            "SELECT n.nspname || '.' || c.relname, format_type(s.seqtypid, NULL), s.seqincrement,
                    s.seqmin, s.seqmax, s.seqcycle
             FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE {SYSTEM_SCHEMAS} AND {}
             ORDER BY 1",
            not_extension("pg_class", "c.oid")
        ),
    )
    .await?
    {
        let mut s = schema.object("sequence", cell(&row, 0));
        s.text("type", cell(&row, 1));
        s.set("increment", Value::Number(cell(&row, 2).into()));
        s.set("min", Value::Number(cell(&row, 3).into()));
        s.set("max", Value::Number(cell(&row, 4).into()));
        s.flag("cycle", cell(&row, 5) == "t");
    }
    for row in rows(
        client,
        &format!(
            "SELECT n.nspname || '.' || t.typname,
                    string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
             FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
             JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE {SYSTEM_SCHEMAS} AND {}
             GROUP BY 1 ORDER BY 1",
            not_extension("pg_type", "t.oid")
        ),
    )
    .await?
    {
        schema
            .object("enum", cell(&row, 0))
            .text("values", cell(&row, 1));
    }
    for row in rows(
        client,
        &format!(
            "SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                    pg_get_functiondef(p.oid)
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE p.prokind IN ('f', 'p') AND {SYSTEM_SCHEMAS} AND {}
             ORDER BY 1",
            not_extension("pg_proc", "p.oid")
        ),
    )
    .await?
    {
        schema
            .object("function", cell(&row, 0))
            .text("definition", &normalize_sql(cell(&row, 1)));
    }
    for row in rows(
        client,
        &format!(
            "SELECT n.nspname || '.' || c.relname, t.tgname, pg_get_triggerdef(t.oid, true)
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE NOT t.tgisinternal AND NOT c.relispartition AND {SYSTEM_SCHEMAS}
             ORDER BY 1, 2"
        ),
    )
    .await?
    {
        schema.object("table", cell(&row, 0)).text(
            &format!("trigger.{}", crate::schema::segment(cell(&row, 1))),
            &normalize_sql(cell(&row, 2)),
        );
    }
    for row in rows(
        client,
        "SELECT schemaname || '.' || tablename, policyname, permissive, cmd, roles::text,
                coalesce(qual, ''), coalesce(with_check, '')
         FROM pg_policies ORDER BY 1, 2",
    )
    .await?
    {
        schema.object("table", cell(&row, 0)).text(
            &format!("policy.{}", crate::schema::segment(cell(&row, 1))),
            &format!(
                "{} for {} to {} using ({}) with check ({})",
                cell(&row, 2).to_lowercase(),
                cell(&row, 3).to_lowercase(),
                cell(&row, 4),
                cell(&row, 5),
                cell(&row, 6)
            ),
        );
    }
    Ok(schema.finish())
}

/// A table to profile, with its columns and the planner's row estimate.
struct TableMeta {
    name: String,
    quoted: String,
    estimate: i64,
    columns: Vec<ColumnMeta>,
}

async fn list_tables(client: &Client) -> Result<Vec<TableMeta>, tokio_postgres::Error> {
    let listed = rows(
        client,
        &format!(
            "SELECT n.nspname, c.relname, c.reltuples::bigint, a.attname,
                    format_type(a.atttypid, a.atttypmod)
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {SYSTEM_SCHEMAS}
               AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = 'pg_class'::regclass
                               AND dep.objid = c.oid AND dep.deptype = 'e')
             ORDER BY 1, 2, a.attnum"
        ),
    )
    .await?;
    let mut tables: Vec<TableMeta> = Vec::new();
    for row in listed {
        let name = format!("{}.{}", cell(&row, 0), cell(&row, 1));
        if tables.last().is_none_or(|t| t.name != name) {
            tables.push(TableMeta {
                quoted: format!(
                    "{}.{}",
                    quote_ident(cell(&row, 0)),
                    quote_ident(cell(&row, 1))
                ),
                name,
                estimate: cell(&row, 2).parse().unwrap_or(-1),
                columns: Vec::new(),
            });
        }
        if let Some(t) = tables.last_mut() {
            t.columns
                .push(ColumnMeta::new(cell(&row, 3), cell(&row, 4)));
        }
    }
    Ok(tables)
}

async fn profile(
    client: &Client,
    source: &DatabaseSource,
    version: &str,
    options: &ProfileOptions,
    progress: Progress<'_>,
) -> Result<DatabaseProfile, tokio_postgres::Error> {
    let tables = list_tables(client).await?;
    let utf8 = scalar(client, "SHOW server_encoding").await.as_deref() == Some("UTF8");
    let mut profile = DatabaseProfile {
        name: source.name.clone(),
        source: source.shown.clone(),
        engine: format!(
            "PostgreSQL {}",
            version.split_whitespace().next().unwrap_or("")
        ),
        tables: Vec::new(),
    };
    let streaming = options.mode == ModeChoice::Streaming;
    let mode = if streaming {
        ProfileMode::Streaming
    } else {
        ProfileMode::Pushdown
    };
    for (i, table) in tables.iter().enumerate() {
        progress(&format!(
            "profiling {} ({}/{})",
            table.name,
            i + 1,
            tables.len()
        ));
        // One failing table must not abort the transaction for the others.
        client.batch_execute("SAVEPOINT envparity_table").await?;
        let result = if streaming {
            stream_table(client, table, options).await
        } else {
            pushdown_table(client, table, options, utf8).await
        };
        match result {
            Ok(t) => {
                client
                    .batch_execute("RELEASE SAVEPOINT envparity_table")
                    .await?;
                profile.tables.push(t);
            }
            Err(e) => {
                client
                    .batch_execute("ROLLBACK TO SAVEPOINT envparity_table")
                    .await?;
                profile
                    .tables
                    .push(failed_table(&table.name, mode, describe(&e)));
            }
        }
    }
    Ok(profile)
}

/// The share of the table to read, and the SQL clause and words that say so.
fn sampling(table: &TableMeta, options: &ProfileOptions) -> (f64, String, String) {
    let estimate = u64::try_from(table.estimate).unwrap_or(0);
    let rate = if table.estimate < 0 {
        // Never analyzed: no estimate to sample by.
        options.sample.unwrap_or(1.0)
    } else {
        options.rate_for(estimate)
    };
    if rate >= 1.0 {
        return (1.0, String::new(), String::new());
    }
    let pct = rate * 100.0;
    (
        rate,
        format!(" TABLESAMPLE SYSTEM ({pct:.6}) REPEATABLE (42)"),
        format!("TABLESAMPLE SYSTEM ({pct:.2} %)"),
    )
}

/// How a column reads as a number in SQL, for quantiles.
fn numeric_expr(column: &ColumnMeta, quoted: &str) -> Option<String> {
    match kind_of(&column.data_type) {
        ColumnKind::Number if column.data_type == "money" => {
            Some(format!("{quoted}::numeric::float8"))
        }
        ColumnKind::Number => Some(format!("{quoted}::float8")),
        ColumnKind::Temporal => Some(format!("extract(epoch from {quoted})::float8")),
        _ => None,
    }
}

fn percentile_array() -> String {
    let ps: Vec<String> = (0..=100)
        .map(|p| format!("{:.2}", f64::from(p) / 100.0))
        .collect();
    format!("ARRAY[{}]", ps.join(","))
}

/// `{1,2.5,3}` → the numbers.
fn parse_float_array(text: &str) -> Vec<f64> {
    text.trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .filter_map(|x| x.trim().parse::<f64>().ok())
        .collect()
}

async fn pushdown_table(
    client: &Client,
    table: &TableMeta,
    options: &ProfileOptions,
    utf8: bool,
) -> Result<TableProfile, tokio_postgres::Error> {
    let (rate, sample_sql, sample_words) = sampling(table, options);
    let from = format!("{}{sample_sql}", table.quoted);
    // Sampled values first: shapes, and whether a column is sensitive, are decided before
    // any query could bring a raw value of it back.
    let probe_pct = if table.estimate > 0 {
        (PROBE_ROWS as f64 * 1.5 / table.estimate as f64 * 100.0).clamp(0.000_001, 100.0)
    } else {
        100.0
    };
    let probe_from = if probe_pct < 100.0 {
        format!(
            "{} TABLESAMPLE SYSTEM ({probe_pct:.6}) REPEATABLE (7)",
            table.quoted
        )
    } else {
        table.quoted.clone()
    };
    let list: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("{}::text", quote_ident(&c.name)))
        .collect();
    let sample = rows(
        client,
        &format!(
            "SELECT {} FROM {probe_from} LIMIT {PROBE_ROWS}",
            list.join(", ")
        ),
    )
    .await?;
    let mut probes = vec![SensitivityProbe::default(); table.columns.len()];
    let mut shapes: Vec<hashbrown::HashMap<String, u64>> =
        vec![hashbrown::HashMap::new(); table.columns.len()];
    let mut scratch = String::new();
    for row in &sample {
        for (i, value) in row.iter().enumerate() {
            let Some(v) = value else { continue };
            let kind = kind_of(&table.columns[i].data_type);
            if kind != ColumnKind::Temporal {
                probes[i].observe(v);
            }
            if kind == ColumnKind::Text {
                shape_of(v, &mut scratch);
                *shapes[i].entry(scratch.clone()).or_insert(0) += 1;
            }
        }
    }
    let sensitive: Vec<Option<String>> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            options
                .sensitivity
                .decide(&table.name, &c.name, Some(&probes[i]))
        })
        .collect();

    // Two aggregate passes. Counts and rates over every profiled row: they are cheap
    // (one scan, no sort). Distinct counts and quantiles sort each column, so on a table
    // of more than a million profiled rows they come from a sample of about a million.
    let spread_sampled = rate >= 1.0 && table.estimate > SPREAD_ROWS as i64;
    let spread_from = if spread_sampled {
        let pct = (SPREAD_ROWS as f64 / table.estimate as f64 * 100.0).min(100.0);
        format!(
            "{} TABLESAMPLE SYSTEM ({pct:.6}) REPEATABLE (42)",
            table.quoted
        )
    } else {
        from.clone()
    };
    let percentiles = percentile_array();
    let mut counts = vec!["count(*)".to_string()];
    let mut spread = vec!["count(*)".to_string()];
    for c in &table.columns {
        let q = quote_ident(&c.name);
        let kind = kind_of(&c.data_type);
        counts.push(format!("count({q})"));
        spread.push(format!("count({q})"));
        // Distinct 64-bit hashes: sorting integers is several times cheaper than sorting
        // text under a collation, and collisions are negligible (~1e-7 at a million).
        spread.push(format!("count(DISTINCT hashtextextended({q}::text, 0))"));
        if kind == ColumnKind::Text {
            let emoji = if utf8 {
                // Only non-ASCII values can hold emoji: the cheap test first.
                format!(
                    "count(*) FILTER (WHERE octet_length({q}::text) <> char_length({q}::text) AND {q}::text ~ '[\\U0001F000-\\U0001FAFF\\u2600-\\u27BF\\u2B00-\\u2BFF\\uFE0F]')"
                )
            } else {
                "0".to_string()
            };
            counts.push(format!("count(*) FILTER (WHERE {q}::text = '')"));
            counts.push(format!(
                "count(*) FILTER (WHERE octet_length({q}::text) <> char_length({q}::text))"
            ));
            counts.push(emoji);
            counts.push(format!(
                "count(*) FILTER (WHERE {q}::text <> btrim({q}::text, E' \\t\\n\\r\\f\\v'))"
            ));
            counts.push(format!(
                "count(*) FILTER (WHERE {q}::text ~ '[\\x01-\\x1f\\x7f]')"
            ));
            counts.push(format!("min({q}::text COLLATE \"C\")"));
            counts.push(format!("max({q}::text COLLATE \"C\")"));
            spread.push(format!(
                "percentile_cont({percentiles}) WITHIN GROUP (ORDER BY char_length({q}::text))"
            ));
        } else if let Some(num) = numeric_expr(c, &q) {
            // min/max as the database prints them, by the value's own order.
            counts.push(format!("min({q})::text"));
            counts.push(format!("max({q})::text"));
            spread.push(format!(
                "percentile_cont({percentiles}) WITHIN GROUP (ORDER BY {num})"
            ));
        }
    }
    let first = |rows: Rows| rows.into_iter().next().unwrap_or_default();
    let counted = first(rows(client, &format!("SELECT {} FROM {from}", counts.join(", "))).await?);
    let spread_row = first(
        rows(
            client,
            &format!("SELECT {} FROM {spread_from}", spread.join(", ")),
        )
        .await?,
    );
    let cursor = |row: Vec<Option<String>>| {
        let mut at = 0usize;
        move || {
            let v = row.get(at).cloned().flatten();
            at += 1;
            v
        }
    };
    let (mut next, mut next_spread) = (cursor(counted), cursor(spread_row));
    let num = |v: Option<String>| v.and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    let profiled = num(next());
    let spread_rows = num(next_spread());
    let mut columns = Vec::new();
    let mut top_wanted: Vec<(usize, f64)> = Vec::new();
    for (i, c) in table.columns.iter().enumerate() {
        let kind = kind_of(&c.data_type);
        let non_null = num(next());
        let spread_non_null = num(next_spread());
        let distinct = num(next_spread());
        let mut profile = ColumnProfile {
            name: c.name.clone(),
            data_type: c.data_type.clone(),
            kind,
            sensitive: sensitive[i].clone(),
            values: profiled,
            nulls: profiled.saturating_sub(non_null),
            empty: 0,
            distinct,
            distinct_exact: rate >= 1.0 && !spread_sampled,
            hll: None,
            quantiles: Vec::new(),
            length_quantiles: Vec::new(),
            chars: None,
            shapes: Vec::new(),
            min: None,
            max: None,
            top: Vec::new(),
        };
        if kind == ColumnKind::Text {
            profile.empty = num(next());
            profile.chars = Some(CharClasses {
                values: non_null,
                non_ascii: num(next()),
                emoji: num(next()),
                padded: num(next()),
                control: num(next()),
            });
            profile.min = next();
            profile.max = next();
            profile.length_quantiles = next_spread()
                .map(|a| parse_float_array(&a))
                .unwrap_or_default();
            // Shapes from the sample, scaled to the column's non-null values.
            let sampled: u64 = shapes[i].values().sum();
            let mut list: Vec<(String, u64)> = shapes[i]
                .iter()
                .map(|(s, n)| {
                    let scaled = if sampled == 0 {
                        0
                    } else {
                        ((*n as f64) * non_null as f64 / sampled as f64).round() as u64
                    };
                    (s.clone(), scaled.max(1))
                })
                .collect();
            list.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
            list.truncate(64);
            profile.shapes = list;
        } else if numeric_expr(c, "").is_some() {
            profile.min = next();
            profile.max = next();
            profile.quantiles = next_spread()
                .map(|a| parse_float_array(&a))
                .unwrap_or_default();
        }
        let _ = spread_rows;
        // Top values counted on the spread rows, scaled to all profiled rows.
        let scale = if spread_non_null == 0 {
            1.0
        } else {
            non_null as f64 / spread_non_null as f64
        };
        if profile.quantiles.len() != 101 {
            profile.quantiles.clear();
        }
        if profile.length_quantiles.len() != 101 {
            profile.length_quantiles.clear();
        }
        // Top values: never asked for a sensitive column, nor where values are (nearly)
        // all distinct: there is no mix to show.
        if profile.sensitive.is_none()
            && !matches!(kind, ColumnKind::Binary | ColumnKind::Other)
            && distinct < spread_non_null
            && distinct <= TOP_MAX_DISTINCT
            && non_null > 0
        {
            top_wanted.push((columns.len(), scale));
        }
        profile.redact();
        columns.push(profile);
    }
    // Every wanted column's value counts in one scan (GROUPING SETS; GROUPING() takes at
    // most 31 arguments, so wider tables take several).
    for chunk in top_wanted.chunks(31) {
        let names: Vec<String> = chunk
            .iter()
            .map(|(i, _)| quote_ident(&table.columns[*i].name))
            .collect();
        let aliases: Vec<String> = (0..chunk.len()).map(|k| format!("v{k}")).collect();
        let select: Vec<String> = names
            .iter()
            .zip(&aliases)
            .map(|(q, v)| format!("{q}::text AS {v}"))
            .collect();
        let sets: Vec<String> = aliases.iter().map(|v| format!("({v})")).collect();
        let grouped = rows(
            client,
            &format!(
                "SELECT GROUPING({all}), {all}, count(*) FROM (SELECT {select} FROM {spread_from}) s \
                 GROUP BY GROUPING SETS ({sets})",
                all = aliases.join(", "),
                select = select.join(", "),
                sets = sets.join(", ")
            ),
        )
        .await?;
        let n = chunk.len();
        let mut per_column: Vec<Vec<(String, u64)>> = vec![Vec::new(); n];
        for row in &grouped {
            let mask: u64 = cell(row, 0).parse().unwrap_or(u64::MAX);
            // The grouped column is the one whose GROUPING bit is 0 (first = highest bit).
            let Some(k) = (0..n).find(|k| mask & (1 << (n - 1 - k)) == 0) else {
                continue;
            };
            let Some(value) = row.get(1 + k).cloned().flatten() else {
                continue; // the NULL group
            };
            let count: u64 = cell(row, 1 + n).parse().unwrap_or(0);
            per_column[k].push((value, count));
        }
        for ((i, scale), mut values) in chunk.iter().zip(per_column) {
            values.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
            values.truncate(envparity_core::profile::TOP_VALUES);
            columns[*i].top = values
                .into_iter()
                .map(|(v, c)| (v, (c as f64 * scale).round() as u64))
                .collect();
        }
    }
    let (rows_total, rows_exact) = if rate >= 1.0 {
        (profiled, true)
    } else {
        (u64::try_from(table.estimate).unwrap_or(profiled), false)
    };
    Ok(TableProfile {
        name: table.name.clone(),
        rows: rows_total,
        rows_exact,
        mode: ProfileMode::Pushdown,
        profiled_rows: profiled,
        sample_rate: if rate >= 1.0 {
            1.0
        } else {
            (profiled as f64 / rows_total.max(1) as f64).min(1.0)
        },
        method: if sample_words.is_empty() {
            "full scan".to_string()
        } else {
            sample_words
        },
        columns,
        error: None,
    })
}

async fn stream_table(
    client: &Client,
    table: &TableMeta,
    options: &ProfileOptions,
) -> Result<TableProfile, tokio_postgres::Error> {
    let (rate, sample_sql, sample_words) = sampling(table, options);
    let list: Vec<String> = table.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let sql = format!(
        "COPY (SELECT {} FROM {}{sample_sql}) TO STDOUT",
        list.join(", "),
        table.quoted
    );
    let stream = client.copy_out(sql.as_str()).await?;
    pin_mut!(stream);
    let mut profiler = TableProfiler::new(&table.name, &table.columns);
    let mut parser = CopyParser::default();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        parser.feed(&chunk, &mut profiler);
    }
    parser.finish(&mut profiler);
    let method = if sample_words.is_empty() {
        "COPY".to_string()
    } else {
        format!("COPY, {sample_words}")
    };
    let total = (rate < 1.0).then(|| {
        (
            u64::try_from(table.estimate).unwrap_or(profiler.rows()),
            false,
        )
    });
    Ok(profiler.finish(&options.sensitivity, total, &method))
}

/// Reads `COPY … TO STDOUT` text format: rows end in `\n`, fields are tab-separated,
/// `\N` is NULL, and backslash escapes the rest. Rows may span chunks.
#[derive(Default)]
struct CopyParser {
    /// The unfinished row of the previous chunk.
    carry: Vec<u8>,
    field: String,
}

impl CopyParser {
    fn feed(&mut self, chunk: &[u8], profiler: &mut TableProfiler) {
        let mut rest = chunk;
        if !self.carry.is_empty() {
            match memchr::memchr(b'\n', rest) {
                Some(end) => {
                    let mut line = std::mem::take(&mut self.carry);
                    line.extend_from_slice(&rest[..end]);
                    self.row(&line, profiler);
                    rest = &rest[end + 1..];
                }
                None => {
                    self.carry.extend_from_slice(rest);
                    return;
                }
            }
        }
        while let Some(end) = memchr::memchr(b'\n', rest) {
            self.row(&rest[..end], profiler);
            rest = &rest[end + 1..];
        }
        self.carry.extend_from_slice(rest);
    }

    fn finish(&mut self, profiler: &mut TableProfiler) {
        if !self.carry.is_empty() {
            let line = std::mem::take(&mut self.carry);
            self.row(&line, profiler);
        }
    }

    fn row(&mut self, line: &[u8], profiler: &mut TableProfiler) {
        profiler.start_row();
        for (i, field) in line.split(|b| *b == b'\t').enumerate() {
            if field == b"\\N" {
                profiler.push(i, None);
            } else if !field.contains(&b'\\') {
                profiler.push(i, Some(&String::from_utf8_lossy(field)));
            } else {
                unescape(field, &mut self.field);
                profiler.push(i, Some(&self.field));
            }
        }
    }
}

/// COPY text escapes: `\\`, `\t`, `\n`, `\r`, `\b`, `\f`, `\v`, octal `\ddd`, hex `\xhh`.
fn unescape(field: &[u8], out: &mut String) {
    let mut bytes = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let b = field[i];
        if b != b'\\' || i + 1 == field.len() {
            bytes.push(b);
            i += 1;
            continue;
        }
        let next = field[i + 1];
        i += 2;
        match next {
            b't' => bytes.push(b'\t'),
            b'n' => bytes.push(b'\n'),
            b'r' => bytes.push(b'\r'),
            b'b' => bytes.push(8),
            b'f' => bytes.push(12),
            b'v' => bytes.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(next - b'0');
                let mut digits = 1;
                while digits < 3 && i < field.len() && (b'0'..=b'7').contains(&field[i]) {
                    v = v * 8 + u32::from(field[i] - b'0');
                    i += 1;
                    digits += 1;
                }
                bytes.push(v as u8);
            }
            b'x' => {
                let mut v = 0u32;
                let mut digits = 0;
                while digits < 2 && i < field.len() && field[i].is_ascii_hexdigit() {
                    v = v * 16 + (field[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    digits += 1;
                }
                bytes.push(v as u8);
            }
            other => bytes.push(other),
        }
    }
    out.clear();
    out.push_str(&String::from_utf8_lossy(&bytes));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_escapes() {
        let mut out = String::new();
        unescape(b"a\\tb\\\\c\\nd\\101\\x41", &mut out);
        assert_eq!(out, "a\tb\\c\ndAA");
    }

    #[test]
    fn float_arrays() {
        assert_eq!(parse_float_array("{1,2.5,-3e2}"), vec![1.0, 2.5, -300.0]);
    }
}
