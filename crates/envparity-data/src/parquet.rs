//! Parquet files: one table per file (a file, or every `.parquet` in a folder), kinds
//! from the file's schema, rows streamed through the record reader.

use std::path::Path;

use envparity_core::profile::{ColumnKind, TableProfile};
use parquet::basic::{ConvertedType, LogicalType, Type as PhysicalType};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::stream::{ColumnMeta, TableProfiler};
use crate::{Collected, DatabaseSource, ProfileOptions, Progress, Want};

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
        ("parquet", "Parquet"),
        want,
        options,
        progress,
        profile_file,
    )
}

/// The kind and a readable type name of a top-level column.
fn column_type(field: &parquet::schema::types::Type) -> (ColumnKind, String) {
    if field.is_group() {
        return (ColumnKind::Other, "group".to_string());
    }
    let info = field.get_basic_info();
    let physical = field.get_physical_type();
    if let Some(logical) = info.logical_type_ref() {
        let kind = match logical {
            LogicalType::String | LogicalType::Enum | LogicalType::Json | LogicalType::Uuid => {
                ColumnKind::Text
            }
            LogicalType::Date | LogicalType::Time { .. } | LogicalType::Timestamp { .. } => {
                ColumnKind::Temporal
            }
            LogicalType::Integer { .. } | LogicalType::Decimal { .. } | LogicalType::Float16 => {
                ColumnKind::Number
            }
            _ => ColumnKind::Other,
        };
        return (kind, format!("{logical:?}").to_lowercase());
    }
    let kind = match (physical, info.converted_type()) {
        (_, ConvertedType::UTF8 | ConvertedType::ENUM | ConvertedType::JSON) => ColumnKind::Text,
        (
            _,
            ConvertedType::DATE
            | ConvertedType::TIMESTAMP_MILLIS
            | ConvertedType::TIMESTAMP_MICROS
            | ConvertedType::TIME_MILLIS
            | ConvertedType::TIME_MICROS,
        ) => ColumnKind::Temporal,
        (PhysicalType::BOOLEAN, _) => ColumnKind::Boolean,
        (
            PhysicalType::INT32 | PhysicalType::INT64 | PhysicalType::FLOAT | PhysicalType::DOUBLE,
            _,
        ) => ColumnKind::Number,
        (PhysicalType::BYTE_ARRAY | PhysicalType::FIXED_LEN_BYTE_ARRAY, _) => ColumnKind::Binary,
        _ => ColumnKind::Other,
    };
    (kind, physical.to_string().to_lowercase())
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
    let file = std::fs::File::open(path).map_err(|e| format!("{name}: cannot open: {e}"))?;
    // The reader's messages describe the file's structure, never its values.
    let reader =
        SerializedFileReader::new(file).map_err(|e| format!("{name}: not a Parquet file: {e}"))?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let root = schema.root_schema();
    let columns: Vec<(ColumnMeta, ColumnKind)> = root
        .get_fields()
        .iter()
        .map(|f| {
            let (kind, data_type) = column_type(f);
            (ColumnMeta::new(f.name(), data_type), kind)
        })
        .collect();
    let total = u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0);
    let rate = options.rate_for(total);
    let mut rng = envparity_core::sketch::SplitMix::new(envparity_core::sketch::stable_hash(
        table.as_bytes(),
    ));
    let mut profiler = TableProfiler::with_kinds(table, &columns);
    let rows = reader
        .get_row_iter(None)
        .map_err(|e| format!("{name}: cannot read rows: {e}"))?;
    let mut text = String::new();
    for (n, row) in rows.enumerate() {
        let row = row.map_err(|e| format!("{name}: row {}: {e}", n + 1))?;
        if rate < 1.0 && (rng.next_u64() as f64 / u64::MAX as f64) >= rate {
            continue;
        }
        profiler.start_row();
        for (i, (_, field)) in row.get_column_iter().enumerate() {
            match field_text(field, &mut text) {
                Some(t) => profiler.push(i, Some(t)),
                None => profiler.push(i, None),
            }
        }
    }
    let method = if rate < 1.0 {
        format!("random sample ({:.2} %)", rate * 100.0)
    } else {
        "full read".to_string()
    };
    let total = (rate < 1.0).then_some((total, true));
    Ok(profiler.finish(&options.sensitivity, total, &method))
}

/// A value as text the profiler reads: numbers plainly, dates and timestamps as ISO 8601.
fn field_text<'t>(field: &'t Field, buf: &'t mut String) -> Option<&'t str> {
    use std::fmt::Write;
    buf.clear();
    match field {
        Field::Null => return None,
        Field::Str(s) => return Some(s.as_str()),
        Field::Bool(b) => buf.push_str(if *b { "true" } else { "false" }),
        Field::Byte(x) => write!(buf, "{x}").ok()?,
        Field::Short(x) => write!(buf, "{x}").ok()?,
        Field::Int(x) => write!(buf, "{x}").ok()?,
        Field::Long(x) => write!(buf, "{x}").ok()?,
        Field::UByte(x) => write!(buf, "{x}").ok()?,
        Field::UShort(x) => write!(buf, "{x}").ok()?,
        Field::UInt(x) => write!(buf, "{x}").ok()?,
        Field::ULong(x) => write!(buf, "{x}").ok()?,
        Field::Float(x) => write!(buf, "{x}").ok()?,
        Field::Double(x) => write!(buf, "{x}").ok()?,
        Field::Date(days) => iso_date(i64::from(*days), buf),
        Field::TimestampMillis(ms) => iso_timestamp(*ms as f64 / 1e3, buf),
        Field::TimestampMicros(us) => iso_timestamp(*us as f64 / 1e6, buf),
        Field::Bytes(b) => {
            for byte in b.data().iter().take(32) {
                write!(buf, "{byte:02x}").ok()?;
            }
        }
        other => write!(buf, "{other}").ok()?,
    }
    Some(buf.as_str())
}

fn iso_date(days: i64, buf: &mut String) {
    use std::fmt::Write;
    let date = envparity_core::Date::from_unix_days(days);
    let _ = write!(buf, "{date}");
}

fn iso_timestamp(secs: f64, buf: &mut String) {
    use std::fmt::Write;
    let days = (secs / 86_400.0).floor();
    iso_date(days as i64, buf);
    let rest = secs - days * 86_400.0;
    let (h, m, s) = (
        (rest / 3600.0) as u32,
        ((rest % 3600.0) / 60.0) as u32,
        rest % 60.0,
    );
    let _ = write!(buf, " {h:02}:{m:02}:{s:06.3}");
}
