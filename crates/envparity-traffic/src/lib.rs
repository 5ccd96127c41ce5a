//! The traffic facet: access logs in, a model of Production's traffic out — route
//! templates and their mix, status classes, latency quantiles, and the arrival rate over
//! time with its peaks and bursts. No personal data: client addresses are only counted,
//! query values dropped.

pub mod format;
pub mod har;
pub mod input;
pub mod json;
pub mod model;
pub mod read;
pub mod route;
pub mod templates;
pub mod time;
