//! The load facet's generator: requests sent on a schedule computed from a target rate
//! curve (an open model, as wrk2 and k6's arrival-rate executors do), not when a previous
//! response arrives. Latency is measured from each request's *intended* send time, so a
//! server that stalls shows the stall in the percentiles instead of hiding it behind the
//! requests that were never sent (coordinated omission); the service time (from the
//! actual send) is recorded beside it.
//!
//! - [`schedule`]: the rate curve (constant, ramp, steps, spike, a model's replayed curve)
//!   and when each request is due; shards take every N-th request.
//! - [`mix`]: which route each request is (by the model's shares), its parameters, headers
//!   and body.
//! - [`http`]: HTTP/1.1 and HTTP/2 connections, plain or TLS; the HTTP/1.1 response
//!   reader both engines feed.
//! - `direct`: plain HTTP/1.1 on epoll loops of its own (mio), without tokio's per-request
//!   machinery.
//! - [`run`]: the dispatcher and the workers; per route and per step histograms.
//! - [`result`]: histogram encoding and the exact merge of shard results.
//! - [`k8s`]: a Kubernetes Indexed Job that runs N shards from one start time.

mod direct;
pub mod http;
pub mod k8s;
pub mod mix;
pub mod result;
pub mod run;
pub mod schedule;
