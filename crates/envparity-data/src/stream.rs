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

/// Rows buffered before their values are summarized, column by column, on two threads.
const BATCH_ROWS: usize = 8192;
/// A cell's `start` for NULL, and for a column the row did not give.
const NULL: u32 = u32::MAX;
const ABSENT: u32 = u32::MAX - 1;

/// Profiles one table from its rows, one value at a time.
///
/// Values are copied into a batch (one text arena and a cell per value). A full batch goes
/// to a worker thread, which summarizes it with the columns split over two threads while
/// the caller reads the next batch. Memory stays at a few batches whatever the table's size.
pub struct TableProfiler {
    table: String,
    /// The profilers, while no worker holds them.
    columns: Vec<ColumnProfiler>,
    width: usize,
    rows: u64,
    batch: Batch,
    worker: Option<Worker>,
}

/// Buffered rows: `(start, len)` cells into one text arena, row-major.
#[derive(Default)]
struct Batch {
    text: String,
    cells: Vec<(u32, u32)>,
    rows: usize,
}

struct Worker {
    full: std::sync::mpsc::SyncSender<Batch>,
    empty: std::sync::mpsc::Receiver<Batch>,
    handle: std::thread::JoinHandle<Vec<ColumnProfiler>>,
}

impl TableProfiler {
    pub fn new(table: &str, columns: &[ColumnMeta]) -> Self {
        let kinds: Vec<(ColumnMeta, ColumnKind)> = columns
            .iter()
            .map(|c| (c.clone(), kind_of(&c.data_type)))
            .collect();
        Self::with_kinds(table, &kinds)
    }

    /// With kinds chosen by the caller (CSV infers them from the values).
    pub fn with_kinds(table: &str, columns: &[(ColumnMeta, ColumnKind)]) -> Self {
        TableProfiler {
            table: table.to_string(),
            columns: columns
                .iter()
                .map(|(c, k)| ColumnProfiler::new(&c.name, &c.data_type, *k))
                .collect(),
            width: columns.len(),
            rows: 0,
            batch: Batch::default(),
            worker: None,
        }
    }

    pub fn columns(&self) -> usize {
        self.width
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Call once per row, before its values.
    pub fn start_row(&mut self) {
        if self.batch.rows == BATCH_ROWS {
            self.hand_off();
        }
        self.rows += 1;
        self.batch.rows += 1;
        self.batch
            .cells
            .extend(std::iter::repeat_n((ABSENT, 0), self.width));
    }

    /// A value of column `i` of the current row as the database printed it; `None` is NULL.
    pub fn push(&mut self, i: usize, value: Option<&str>) {
        if i >= self.width || self.batch.rows == 0 {
            return;
        }
        let at = (self.batch.rows - 1) * self.width + i;
        self.batch.cells[at] = match value {
            None => (NULL, 0),
            Some(text) => {
                let start = self.batch.text.len() as u32;
                self.batch.text.push_str(text);
                (start, text.len() as u32)
            }
        };
    }

    /// Sends the full batch to the worker (started on the first one) and takes an empty
    /// one back.
    fn hand_off(&mut self) {
        let worker = self.worker.get_or_insert_with(|| {
            let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Batch>(1);
            let (empty_tx, empty_rx) = std::sync::mpsc::sync_channel::<Batch>(2);
            let mut columns = std::mem::take(&mut self.columns);
            let width = self.width;
            let handle = std::thread::spawn(move || {
                for mut batch in full_rx {
                    summarize(&mut columns, width, &batch);
                    batch.text.clear();
                    batch.cells.clear();
                    batch.rows = 0;
                    // The reader may have finished; a lost empty batch is fine.
                    let _ = empty_tx.try_send(batch);
                }
                columns
            });
            Worker {
                full: full_tx,
                empty: empty_rx,
                handle,
            }
        });
        let next = worker.empty.try_recv().unwrap_or_default();
        let full = std::mem::replace(&mut self.batch, next);
        worker
            .full
            .send(full)
            .expect("the profiling worker lives as long as the profiler");
    }

    /// Every buffered row summarized, the profilers back in `columns`.
    fn drain(&mut self) {
        if let Some(worker) = self.worker.take() {
            if self.batch.rows > 0 {
                let last = std::mem::take(&mut self.batch);
                worker
                    .full
                    .send(last)
                    .expect("the profiling worker lives as long as the profiler");
            }
            drop(worker.full);
            self.columns = worker
                .handle
                .join()
                .expect("profiling a batch does not panic");
        } else if self.batch.rows > 0 {
            summarize(&mut self.columns, self.width, &self.batch);
            self.batch = Batch::default();
        }
    }

    /// The table's profile. `rows`: the table's row count when only a sample was
    /// streamed (`None` when every row was).
    pub fn finish(
        mut self,
        sensitivity: &Sensitivity,
        total_rows: Option<(u64, bool)>,
        method: &str,
    ) -> TableProfile {
        self.drain();
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

/// Feeds a batch to the profilers, the columns split over two threads by estimated cost
/// (text columns cost about three times a number column).
fn summarize(columns: &mut [ColumnProfiler], width: usize, batch: &Batch) {
    let feed_columns = |columns: &mut [ColumnProfiler], first: usize| {
        for (offset, column) in columns.iter_mut().enumerate() {
            let i = first + offset;
            for row in 0..batch.rows {
                let (start, len) = batch.cells[row * width + i];
                match start {
                    ABSENT => {}
                    NULL => feed(column, None),
                    _ => feed(
                        column,
                        Some(&batch.text[start as usize..start as usize + len as usize]),
                    ),
                }
            }
        }
    };
    if width < 2 || batch.rows < 1024 {
        feed_columns(columns, 0);
        return;
    }
    let cost: Vec<usize> = columns
        .iter()
        .map(|c| if c.kind() == ColumnKind::Text { 3 } else { 1 })
        .collect();
    let total: usize = cost.iter().sum();
    let mut acc = 0;
    let split = cost
        .iter()
        .position(|c| {
            acc += c;
            acc * 2 >= total
        })
        .map_or(width / 2, |p| (p + 1).min(width - 1));
    let (left, right) = columns.split_at_mut(split);
    std::thread::scope(|scope| {
        scope.spawn(|| feed_columns(right, split));
        feed_columns(left, 0);
    });
}

/// One value into its column's profiler, read as the column's kind.
fn feed(column: &mut ColumnProfiler, value: Option<&str>) {
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
