//! CSV files: one table per file (a file, or every `.csv` in a folder), kinds inferred
//! from the values, streamed.

use std::path::Path;

use envparity_core::profile::{ColumnKind, TableProfile};

use crate::stream::{ColumnMeta, TableProfiler};
use crate::values::parse_temporal;
use crate::{Collected, DatabaseSource, ProfileOptions, Progress, Want};

/// Rows looked at to infer a column's kind.
const INFER_ROWS: usize = 1000;

pub fn collect(
    source: &DatabaseSource,
    path: &Path,
    want: Want,
    options: &ProfileOptions,
    progress: Progress<'_>,
) -> Collected {
    crate::collect_files(
        source,
        path,
        ("csv", "CSV"),
        want,
        options,
        progress,
        profile_file,
    )
}

/// What a CSV field holds: `\N` and `NULL` are NULL (database dumps); an empty field is
/// NULL in a typed column and an empty string in a text one.
fn field(value: &str, kind: ColumnKind) -> Option<&str> {
    match value {
        "\\N" | "NULL" => None,
        "" if kind != ColumnKind::Text => None,
        v => Some(v),
    }
}

fn infer(values: &[&str]) -> ColumnKind {
    let present: Vec<&str> = values
        .iter()
        .copied()
        .filter(|v| !v.is_empty() && *v != "\\N" && *v != "NULL")
        .collect();
    if present.is_empty() {
        return ColumnKind::Text;
    }
    if present.iter().all(|v| v.trim().parse::<f64>().is_ok()) {
        ColumnKind::Number
    } else if present.iter().all(|v| parse_temporal(v).is_some()) {
        ColumnKind::Temporal
    } else if present.iter().all(|v| {
        matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "t" | "f"
        )
    }) {
        ColumnKind::Boolean
    } else {
        ColumnKind::Text
    }
}

fn kind_name(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Number => "number",
        ColumnKind::Temporal => "timestamp",
        ColumnKind::Boolean => "boolean",
        _ => "text",
    }
}

fn profile_file(
    path: &Path,
    table: &str,
    options: &ProfileOptions,
) -> Result<TableProfile, String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| format!("{name}: {}", describe(&e)))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{name}: {}", describe(&e)))?
        .iter()
        .map(str::to_string)
        .collect();
    // Infer kinds from the first rows, then stream every row (those first ones included).
    let mut first = Vec::new();
    let mut record = ::csv::StringRecord::new();
    while first.len() < INFER_ROWS
        && reader
            .read_record(&mut record)
            .map_err(|e| format!("{name}: {}", describe(&e)))?
    {
        first.push(record.clone());
    }
    let kinds: Vec<(ColumnMeta, ColumnKind)> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let values: Vec<&str> = first.iter().map(|r| r.get(i).unwrap_or("")).collect();
            let kind = infer(&values);
            (ColumnMeta::new(h.clone(), kind_name(kind)), kind)
        })
        .collect();
    let mut profiler = TableProfiler::with_kinds(table, &kinds);
    let rate = options.sample.unwrap_or(1.0);
    let mut rng = envparity_core::sketch::SplitMix::new(envparity_core::sketch::stable_hash(
        table.as_bytes(),
    ));
    let mut seen = 0u64;
    let mut feed = |profiler: &mut TableProfiler, r: &::csv::StringRecord| {
        seen += 1;
        if rate < 1.0 && (rng.next_u64() as f64 / u64::MAX as f64) >= rate {
            return;
        }
        profiler.start_row();
        for (i, (_, kind)) in kinds.iter().enumerate() {
            profiler.push(i, field(r.get(i).unwrap_or(""), *kind));
        }
    };
    for r in &first {
        feed(&mut profiler, r);
    }
    while reader
        .read_record(&mut record)
        .map_err(|e| format!("{name}: {}", describe(&e)))?
    {
        feed(&mut profiler, &record);
    }
    let total = (rate < 1.0).then_some((seen, true));
    let method = if rate < 1.0 {
        format!("random sample ({:.2} %)", rate * 100.0)
    } else {
        "full read".to_string()
    };
    Ok(profiler.finish(&options.sensitivity, total, &method))
}

/// A CSV error with its line, never the offending text.
fn describe(e: &::csv::Error) -> String {
    let line = e
        .position()
        .map(|p| format!("line {}: ", p.line()))
        .unwrap_or_default();
    match e.kind() {
        ::csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{line}a row has {len} fields where the header has {expected_len}"),
        ::csv::ErrorKind::Utf8 { .. } => format!("{line}not valid UTF-8"),
        ::csv::ErrorKind::Io(io) => format!("cannot read: {io}"),
        _ => format!("{line}malformed CSV"),
    }
}
