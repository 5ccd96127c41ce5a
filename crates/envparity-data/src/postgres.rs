//! Placeholder until the postgres source lands (work in progress in this session).

use crate::{Collected, DatabaseSource, ProfileOptions, Progress, Want};

pub fn collect(
    source: &DatabaseSource,
    _want: Want,
    _options: &ProfileOptions,
    _progress: Progress,
) -> Collected {
    Collected {
        errors: vec![source.error("this database engine is not supported yet")],
        ..Collected::default()
    }
}
