//! SQLite: the catalog from `sqlite_master` and PRAGMAs, the data streamed (SQLite runs
//! in this process, so pushdown would read the same rows).

use std::path::Path;

use envparity_core::profile::{DatabaseProfile, ProfileMode};
use envparity_core::snapshot::Value;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use crate::schema::{SchemaBuilder, normalize_sql, segment};
use crate::stream::{ColumnMeta, TableProfiler, failed_table};
use crate::values::{kind_of, parse_temporal};
use crate::{Collected, DatabaseSource, ProfileOptions, Progress, Want};
use envparity_core::profile::ColumnKind;

pub fn collect(
    source: &DatabaseSource,
    path: &Path,
    want: Want,
    options: &ProfileOptions,
    progress: Progress,
) -> Collected {
    let mut out = Collected::default();
    if !path.is_file() {
        out.errors.push(source.error("no such file"));
        return out;
    }
    // Read-only at the file level: envparity cannot write here even by mistake.
    let conn = match Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        Ok(c) => c,
        Err(e) => {
            out.errors.push(source.error(format!("cannot open: {e}")));
            return out;
        }
    };
    let tables = match list_objects(&conn) {
        Ok(t) => t,
        Err(e) => {
            out.errors
                .push(source.error(format!("not a readable SQLite database: {e}")));
            return out;
        }
    };
    if want.schema {
        match read_schema(&conn, source, &tables) {
            Ok(file) => out.schema = Some(file),
            Err(e) => out
                .errors
                .push(source.error(format!("reading the schema: {e}"))),
        }
    }
    if want.data {
        let names: Vec<&str> = tables
            .iter()
            .filter(|o| o.kind == "table")
            .map(|o| o.name.as_str())
            .collect();
        let mut profile = DatabaseProfile {
            name: source.name.clone(),
            source: source.shown.clone(),
            engine: format!("SQLite {}", rusqlite::version()),
            tables: Vec::new(),
        };
        for (i, table) in names.iter().enumerate() {
            progress(&format!("profiling {table} ({}/{})", i + 1, names.len()));
            profile
                .tables
                .push(profile_table(&conn, table, options).unwrap_or_else(|e| {
                    failed_table(table, ProfileMode::Streaming, e.to_string())
                }));
        }
        out.profile = Some(profile);
    }
    out
}

struct Object {
    kind: String,
    name: String,
    sql: String,
}

fn list_objects(conn: &Connection) -> rusqlite::Result<Vec<Object>> {
    let mut stmt = conn.prepare(
        "SELECT type, name, coalesce(sql, '') FROM sqlite_master \
         WHERE type IN ('table', 'view', 'trigger') AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Object {
            kind: r.get(0)?,
            name: r.get(1)?,
            sql: r.get(2)?,
        })
    })?;
    rows.collect()
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn read_schema(
    conn: &Connection,
    source: &DatabaseSource,
    objects: &[Object],
) -> rusqlite::Result<envparity_core::ConfigFile> {
    let mut schema = SchemaBuilder::new(&source.schema_path(), &source.shown);
    schema.top("server.engine", Value::String("SQLite".into()));
    for pragma in [
        "encoding",
        "journal_mode",
        "auto_vacuum",
        "user_version",
        "application_id",
    ] {
        let value: rusqlite::types::Value =
            conn.query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))?;
        let value = match value {
            rusqlite::types::Value::Integer(n) => Value::Number(n.to_string().into()),
            rusqlite::types::Value::Text(t) => Value::String(t.into()),
            _ => Value::Null,
        };
        schema.top(&format!("settings.{pragma}"), value);
    }
    for object in objects {
        match object.kind.as_str() {
            "table" => read_table(conn, &mut schema, object)?,
            kind => {
                schema
                    .object(kind, &object.name)
                    .text("definition", &normalize_sql(&object.sql));
            }
        }
    }
    Ok(schema.finish())
}

fn read_table(
    conn: &Connection,
    schema: &mut SchemaBuilder,
    table: &Object,
) -> rusqlite::Result<()> {
    let q = quote(&table.name);
    let mut t = schema.object("table", &table.name);
    if table.sql.to_ascii_uppercase().contains("WITHOUT ROWID") {
        t.flag("without_rowid", true);
    }
    let mut pk: Vec<(i64, String)> = Vec::new();
    let mut stmt = conn.prepare(&format!("PRAGMA table_xinfo({q})"))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let name: String = r.get(1)?;
        let data_type: String = r.get(2)?;
        let notnull: bool = r.get(3)?;
        let default: Option<String> = r.get(4)?;
        let pk_pos: i64 = r.get(5)?;
        let hidden: i64 = r.get(6)?;
        if hidden == 1 {
            continue;
        }
        // A primary key column of a rowid table is never NULL, whatever it declares.
        t.column(
            &name,
            if data_type.is_empty() {
                "(none)"
            } else {
                &data_type
            },
            !notnull && pk_pos == 0,
            default.as_deref(),
            None,
        );
        if hidden >= 2 {
            t.flag(&format!("{}.generated", segment(&name)), true);
        }
        if pk_pos > 0 {
            pk.push((pk_pos, name));
        }
    }
    pk.sort();
    if !pk.is_empty() {
        let cols: Vec<String> = pk.into_iter().map(|p| p.1).collect();
        t.text("primary_key", &cols.join(", "));
    }
    let mut stmt = conn.prepare(&format!("PRAGMA index_list({q})"))?;
    let indexes: Vec<(String, bool, String, bool)> = stmt
        .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (name, unique, origin, partial) in indexes {
        if origin == "pk" {
            continue;
        }
        let mut stmt = conn.prepare(&format!("PRAGMA index_xinfo({})", quote(&name)))?;
        let columns: Vec<String> = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, bool>(5)?,
                ))
            })?
            .filter_map(|c| match c {
                Ok((cid, name, true)) => Some(Ok(name.unwrap_or_else(|| {
                    if cid == -2 {
                        "(expression)".to_string()
                    } else {
                        "rowid".to_string()
                    }
                }))),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<rusqlite::Result<_>>()?;
        let predicate = if partial {
            let sql: Option<String> = conn
                .query_row(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                    [&name],
                    |r| r.get(0),
                )
                .ok()
                .flatten();
            sql.and_then(|s| {
                let upper = s.to_ascii_uppercase();
                upper.rfind(" WHERE ").map(|at| normalize_sql(&s[at + 7..]))
            })
        } else {
            None
        };
        // An index SQLite made for a UNIQUE constraint has a generated name: not a value.
        let shown_name = if origin == "u" {
            "(unique constraint)"
        } else {
            &name
        };
        t.index(&columns, shown_name, unique, None, predicate.as_deref());
    }
    let mut stmt = conn.prepare(&format!("PRAGMA foreign_key_list({q})"))?;
    let mut fks: std::collections::BTreeMap<i64, ForeignKey> = Default::default();
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let fk = fks.entry(id).or_insert_with(|| ForeignKey {
            target: r.get::<_, String>(2).unwrap_or_default(),
            on_update: r.get::<_, String>(5).unwrap_or_default(),
            on_delete: r.get::<_, String>(6).unwrap_or_default(),
            ..ForeignKey::default()
        });
        fk.from.push(r.get(3)?);
        fk.to
            .push(r.get::<_, Option<String>>(4)?.unwrap_or_default());
    }
    for fk in fks.values() {
        t.foreign_key(
            &fk.from,
            &format!("{}({})", fk.target, fk.to.join(", ")),
            &fk.on_delete,
            &fk.on_update,
        );
    }
    let checks = extract_checks(&table.sql);
    if !checks.is_empty() {
        t.text("checks", &checks.join("; "));
    }
    Ok(())
}

#[derive(Default)]
struct ForeignKey {
    target: String,
    from: Vec<String>,
    to: Vec<String>,
    on_delete: String,
    on_update: String,
}

/// `CHECK (…)` clauses of a CREATE TABLE, normalized and sorted.
fn extract_checks(sql: &str) -> Vec<String> {
    let upper = sql.to_ascii_uppercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = upper[from..].find("CHECK") {
        let start = from + at + 5;
        let Some(open) = sql[start..].find('(').map(|o| start + o) else {
            break;
        };
        if !sql[start..open].trim().is_empty() {
            from = start;
            continue;
        }
        let mut depth = 0;
        let mut end = None;
        for (i, c) in sql[open..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(open + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        out.push(normalize_sql(&sql[open + 1..end]));
        from = end;
    }
    out.sort();
    out
}

fn profile_table(
    conn: &Connection,
    table: &str,
    options: &ProfileOptions,
) -> rusqlite::Result<envparity_core::profile::TableProfile> {
    let q = quote(table);
    let rows: u64 = conn.query_row(&format!("SELECT count(*) FROM {q}"), [], |r| {
        r.get::<_, i64>(0)
    })? as u64;
    let rate = options.rate_for(rows);
    let mut stmt = conn.prepare(&format!("PRAGMA table_xinfo({q})"))?;
    let columns: Vec<ColumnMeta> = stmt
        .query_map([], |r| {
            Ok((
                ColumnMeta::new(r.get::<_, String>(1)?, r.get::<_, String>(2)?),
                r.get::<_, i64>(6)?,
            ))
        })?
        .filter_map(|c| match c {
            Ok((meta, hidden)) if hidden != 1 => Some(Ok(meta)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<rusqlite::Result<_>>()?;
    let list: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
    let (sql, method) = if rate < 1.0 {
        let per_million = (rate * 1_000_000.0).ceil() as i64;
        (
            format!(
                "SELECT {} FROM {q} WHERE abs(random() % 1000000) < {per_million}",
                list.join(", ")
            ),
            format!("random sample ({:.2} %)", rate * 100.0),
        )
    } else {
        (
            format!("SELECT {} FROM {q}", list.join(", ")),
            "full scan".to_string(),
        )
    };
    // SQLite stores dates as text: a text column whose values all read as dates is
    // profiled as dates.
    let kinds: Vec<(ColumnMeta, ColumnKind)> = columns
        .iter()
        .map(|c| {
            let declared = kind_of(&c.data_type);
            let kind = if matches!(declared, ColumnKind::Text | ColumnKind::Other)
                && holds_dates(conn, &q, &c.name).unwrap_or(false)
            {
                ColumnKind::Temporal
            } else {
                declared
            };
            (c.clone(), kind)
        })
        .collect();
    let mut profiler = TableProfiler::with_kinds(table, &kinds);
    let mut stmt = conn.prepare(&sql)?;
    let mut result = stmt.query([])?;
    let mut text = String::new();
    while let Some(row) = result.next()? {
        profiler.start_row();
        for i in 0..columns.len() {
            match row.get_ref(i)? {
                ValueRef::Null => profiler.push(i, None),
                ValueRef::Integer(n) => {
                    text.clear();
                    use std::fmt::Write;
                    let _ = write!(text, "{n}");
                    profiler.push(i, Some(&text));
                }
                ValueRef::Real(x) => {
                    text.clear();
                    use std::fmt::Write;
                    let _ = write!(text, "{x}");
                    profiler.push(i, Some(&text));
                }
                ValueRef::Text(bytes) => profiler.push(i, Some(&String::from_utf8_lossy(bytes))),
                ValueRef::Blob(bytes) => {
                    text.clear();
                    for b in bytes.iter().take(32) {
                        use std::fmt::Write;
                        let _ = write!(text, "{b:02x}");
                    }
                    profiler.push(i, Some(&text));
                }
            }
        }
    }
    let total = (rate < 1.0).then_some((rows, true));
    Ok(profiler.finish(&options.sensitivity, total, &method))
}

/// Whether the first non-null values of a column (up to 200) all read as dates.
fn holds_dates(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    let c = quote(column);
    let mut stmt = conn.prepare(&format!(
        "SELECT {c} FROM {table} WHERE {c} IS NOT NULL LIMIT 200"
    ))?;
    let mut rows = stmt.query([])?;
    let mut any = false;
    while let Some(row) = rows.next()? {
        match row.get_ref(0)? {
            ValueRef::Text(t) => {
                if std::str::from_utf8(t)
                    .ok()
                    .and_then(parse_temporal)
                    .is_none()
                {
                    return Ok(false);
                }
                any = true;
            }
            _ => return Ok(false),
        }
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_extracted() {
        let sql =
            "CREATE TABLE t (a INT CHECK (a > 0), b TEXT, CONSTRAINT c CHECK(length(b) < 10))";
        assert_eq!(extract_checks(sql), vec!["a > 0", "length(b) < 10"]);
    }
}
