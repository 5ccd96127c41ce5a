//! Parquet files written by the test with the parquet crate's own writer.

use std::sync::Arc;

use envparity_core::profile::ColumnKind;
use envparity_data::{DatabaseSource, ProfileOptions, Want, collect};
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

const SCHEMA: &str = "
message orders {
    required int64 id;
    optional binary coupon (UTF8);
    required double total;
    required int32 placed_on (DATE);
    required binary email (UTF8);
}";

/// 1,000 orders: 30 % NULL coupons, totals 0..99.5, emails holding canaries.
fn write_orders(path: &std::path::Path) {
    let schema = Arc::new(parse_message_type(SCHEMA).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let file = std::fs::File::create(path).unwrap();
    let mut writer = SerializedFileWriter::new(file, schema, props).unwrap();
    let n = 1000;
    let mut group = writer.next_row_group().unwrap();
    let mut column = 0;
    while let Some(mut col) = group.next_column().unwrap() {
        match column {
            0 => {
                let ids: Vec<i64> = (0..n).collect();
                col.typed::<Int64Type>()
                    .write_batch(&ids, None, None)
                    .unwrap();
            }
            1 => {
                let defs: Vec<i16> = (0..n).map(|i| i16::from(i % 10 >= 3)).collect();
                let values: Vec<ByteArray> = (0..n)
                    .filter(|i| i % 10 >= 3)
                    .map(|_| ByteArray::from("SPRING10"))
                    .collect();
                col.typed::<ByteArrayType>()
                    .write_batch(&values, Some(&defs), None)
                    .unwrap();
            }
            2 => {
                let totals: Vec<f64> = (0..n).map(|i| (i % 200) as f64 / 2.0).collect();
                col.typed::<DoubleType>()
                    .write_batch(&totals, None, None)
                    .unwrap();
            }
            3 => {
                let days: Vec<i32> = (0..n).map(|i| 20_000 + (i % 365) as i32).collect();
                col.typed::<Int32Type>()
                    .write_batch(&days, None, None)
                    .unwrap();
            }
            _ => {
                let emails: Vec<ByteArray> = (0..n)
                    .map(|i| ByteArray::from(format!("canary{i}@example.com").as_str()))
                    .collect();
                col.typed::<ByteArrayType>()
                    .write_batch(&emails, None, None)
                    .unwrap();
            }
        }
        col.close().unwrap();
        column += 1;
    }
    group.close().unwrap();
    writer.close().unwrap();
}

#[test]
fn parquet_files_are_profiled_by_their_schema() {
    let dir = tempfile::tempdir().unwrap();
    write_orders(&dir.path().join("orders.parquet"));
    std::fs::write(dir.path().join("junk.parquet"), "not parquet").unwrap();
    let source = DatabaseSource::new(None, "orders.parquet", dir.path()).unwrap();
    let got = collect(
        &source,
        Want {
            schema: true,
            data: true,
        },
        &ProfileOptions::default(),
        &|_| {},
    );
    assert!(got.errors.is_empty(), "{:?}", got.errors);
    let profile = got.profile.unwrap();
    assert_eq!(profile.engine, "Parquet");
    let t = &profile.tables[0];
    assert_eq!(
        (t.name.as_str(), t.rows, t.rows_exact),
        ("orders", 1000, true)
    );
    let col = |name: &str| t.columns.iter().find(|c| c.name == name).unwrap();
    assert_eq!(col("coupon").kind, ColumnKind::Text);
    assert!((col("coupon").null_rate() - 0.3).abs() < 1e-9);
    assert_eq!(col("total").kind, ColumnKind::Number);
    assert_eq!(col("total").quantiles[100], 99.5);
    assert_eq!(col("placed_on").kind, ColumnKind::Temporal);
    assert_eq!(col("placed_on").min.as_deref(), Some("2024-10-04"));
    assert!(col("email").sensitive.is_some());
    let json = serde_json::to_string(&profile).unwrap();
    assert!(!json.contains("canary"), "{json}");

    // A folder: the broken file is a table that failed, the good one is still profiled.
    let folder = DatabaseSource::new(None, ".", dir.path()).unwrap();
    let got = collect(
        &folder,
        Want {
            schema: false,
            data: true,
        },
        &ProfileOptions::default(),
        &|_| {},
    );
    let tables = got.profile.unwrap().tables;
    assert_eq!(tables.len(), 2);
    let junk = tables.iter().find(|t| t.name == "junk").unwrap();
    let error = junk.error.as_deref().unwrap();
    assert!(
        error.contains("junk.parquet") && error.contains("not a Parquet file"),
        "{error}"
    );
    let orders = tables.iter().find(|t| t.name == "orders").unwrap();
    assert_eq!((orders.rows, orders.error.as_deref()), (1000, None));
}
