//! Today's date and the current time. `ENVPARITY_TODAY=YYYY-MM-DD` pins the date, so
//! expiry can be tested and a CI run can be replayed as of a given day.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use envparity_core::Date;

fn unix_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub fn today() -> anyhow::Result<Date> {
    match std::env::var("ENVPARITY_TODAY") {
        Ok(text) => Date::parse(&text).context("ENVPARITY_TODAY"),
        Err(_) => Ok(Date::from_unix_days(unix_seconds().div_euclid(86_400))),
    }
}

/// RFC 3339 UTC timestamp, to the second.
pub fn now_rfc3339() -> String {
    let secs = unix_seconds();
    let date = Date::from_unix_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
