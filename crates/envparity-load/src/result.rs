//! A run's result: counts, errors by kind, and latency histograms serialized losslessly
//! (HdrHistogram V2, base64), so shard results merge exactly.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

pub const RESULT_FORMAT: &str = "envparity-load-result";
pub const RESULT_VERSION: u32 = 1;

/// Latencies are recorded in microseconds, 3 significant digits, up to an hour.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunResult {
    pub format: String,
    pub version: u32,
    /// The URL, without credentials.
    pub target: String,
    pub target_rate: f64,
    pub duration_seconds: f64,
    /// Requests the schedule called for, sent, and answered.
    pub scheduled: u64,
    pub sent: u64,
    pub completed: u64,
    /// Sent more than 2 ms after their intended time: the generator could not keep up.
    pub late: u64,
    /// Requests sent per second, over the window from the first send to the last.
    pub achieved_rate: f64,
    /// `2xx`… counts.
    pub status: BTreeMap<String, u64>,
    /// `connect`, `timeout`, `reset`, `protocol` counts.
    pub errors: BTreeMap<String, u64>,
    pub bytes_received: u64,
    /// From each request's intended send time (coordinated-omission free), seconds.
    pub latency: Summary,
    /// From the actual send time, seconds: what a closed-loop tool reports.
    pub service_time: Summary,
    /// The histograms, HdrHistogram V2 + base64, microseconds.
    pub latency_histogram: String,
    pub service_histogram: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

pub fn summary(h: &Histogram<u64>) -> Summary {
    if h.is_empty() {
        return Summary::default();
    }
    let s = |us: u64| us as f64 / 1e6;
    Summary {
        p50: s(h.value_at_quantile(0.5)),
        p90: s(h.value_at_quantile(0.9)),
        p99: s(h.value_at_quantile(0.99)),
        p999: s(h.value_at_quantile(0.999)),
        max: s(h.max()),
        mean: h.mean() / 1e6,
    }
}

/// A histogram as base64 text.
pub fn encode(h: &Histogram<u64>) -> String {
    use hdrhistogram::serialization::Serializer;
    let mut bytes = Vec::new();
    hdrhistogram::serialization::V2Serializer::new()
        .serialize(h, &mut bytes)
        .expect("writing to memory cannot fail");
    base64_encode(&bytes)
}

/// The histogram `encode` wrote.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64_decode(text).ok_or("not base64")?;
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("not a histogram: {e:?}"))
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let value = |c: u8| ALPHABET.iter().position(|a| *a == c).map(|p| p as u32);
    for chunk in text.as_bytes().chunks(4) {
        if chunk.len() != 4 {
            return None;
        }
        let mut n = 0u32;
        let mut pad = 0;
        for &c in chunk {
            n <<= 6;
            if c == b'=' {
                pad += 1;
            } else {
                n |= value(c)?;
            }
        }
        out.push((n >> 16) as u8);
        if pad < 2 {
            out.push((n >> 8) as u8);
        }
        if pad < 1 {
            out.push(n as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_survive_the_round_trip_exactly() {
        let mut h = new_histogram();
        for v in [1u64, 250, 999, 1_000_000, 3_000_000] {
            h.record(v).unwrap();
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back, h);
        assert_eq!(base64_decode(&base64_encode(b"ab")).unwrap(), b"ab");
    }
}
