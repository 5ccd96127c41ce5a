//! Placeholder until the Parquet source lands.

use std::path::Path;

use crate::{Collected, DatabaseSource, ProfileOptions, Progress, Want};

pub fn collect(
    source: &DatabaseSource,
    _path: &Path,
    _want: Want,
    _options: &ProfileOptions,
    _progress: Progress,
) -> Collected {
    Collected {
        errors: vec![source.error("Parquet files are not supported yet")],
        ..Collected::default()
    }
}
