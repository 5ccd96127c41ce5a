//! Streaming mode: rows flow through envparity once and leave only sketches behind.

use envparity_core::profile::{ColumnKind, ColumnProfiler, ProfileMode, Sensitivity, TableProfile};

use crate::values::{kind_of, parse_temporal};

/// A column as the catalog declares it.
#[derive(Clone, Debug)]
pub struct ColumnMeta {
    pub name: String,
    pub data_type: String,
}

impl ColumnMeta {
    pub fn new(name: impl Into<String>, data_type: impl Into<String>) -> Self {
        ColumnMeta {
            name: name.into(),
            data_type: data_type.into(),
        }
    }
}

/// Profiles one table from its rows, one value at a time.
pub struct TableProfiler {
    table: String,
    columns: Vec<ColumnProfiler>,
    rows: u64,
}

impl TableProfiler {
    pub fn new(table: &str, columns: &[ColumnMeta]) -> Self {
        TableProfiler {
            table: table.to_string(),
            columns: columns
                .iter()
                .map(|c| ColumnProfiler::new(&c.name, &c.data_type, kind_of(&c.data_type)))
                .collect(),
            rows: 0,
        }
    }

    /// With kinds chosen by the caller (CSV infers them from the values).
    pub fn with_kinds(table: &str, columns: &[(ColumnMeta, ColumnKind)]) -> Self {
        TableProfiler {
            table: table.to_string(),
            columns: columns
                .iter()
                .map(|(c, k)| ColumnProfiler::new(&c.name, &c.data_type, *k))
                .collect(),
            rows: 0,
        }
    }

    pub fn columns(&self) -> usize {
        self.columns.len()
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Call once per row, before its values.
    pub fn start_row(&mut self) {
        self.rows += 1;
    }

    /// A value of column `i` as the database printed it; `None` is NULL.
    pub fn push(&mut self, i: usize, value: Option<&str>) {
        let Some(column) = self.columns.get_mut(i) else {
            return;
        };
        let Some(text) = value else {
            column.push_null();
            return;
        };
        match column.kind() {
            ColumnKind::Number => match text.trim().parse::<f64>() {
                Ok(x) => column.push_number(x, text),
                Err(_) => column.push_text(text),
            },
            ColumnKind::Temporal => match parse_temporal(text) {
                Some(x) => column.push_number(x, text),
                None => column.push_text(text),
            },
            _ => column.push_text(text),
        }
    }

    /// The table's profile. `rows`: the table's row count when only a sample was
    /// streamed (`None` when every row was).
    pub fn finish(
        self,
        sensitivity: &Sensitivity,
        total_rows: Option<(u64, bool)>,
        method: &str,
    ) -> TableProfile {
        let profiled = self.rows;
        let (rows, rows_exact) = total_rows.unwrap_or((profiled, true));
        let table = self.table;
        TableProfile {
            columns: self
                .columns
                .into_iter()
                .map(|c| c.finish(&table, sensitivity))
                .collect(),
            name: table,
            rows,
            rows_exact,
            mode: ProfileMode::Streaming,
            profiled_rows: profiled,
            sample_rate: if rows == 0 {
                1.0
            } else {
                (profiled as f64 / rows as f64).min(1.0)
            },
            method: method.to_string(),
            error: None,
        }
    }
}

/// A table that could not be profiled: a finding, not a crash.
pub fn failed_table(table: &str, mode: ProfileMode, error: String) -> TableProfile {
    TableProfile {
        name: table.to_string(),
        rows: 0,
        rows_exact: false,
        mode,
        profiled_rows: 0,
        sample_rate: 0.0,
        method: String::new(),
        columns: Vec::new(),
        error: Some(error),
    }
}
