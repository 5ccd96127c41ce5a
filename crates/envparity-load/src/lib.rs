//! The load facet's generator: requests sent on a schedule computed from the target rate
//! (an open model, as wrk2 and k6's arrival-rate executors do), not when a previous
//! response arrives. Latency is measured from each request's *intended* send time, so a
//! server that stalls shows the stall in the percentiles instead of hiding it behind the
//! requests that were never sent (coordinated omission); the service time (from the
//! actual send) is recorded beside it.

pub mod http;
pub mod result;
pub mod run;
