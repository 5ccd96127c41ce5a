//! Small, mergeable summaries of a column: distinct counts (HyperLogLog), quantiles (a
//! uniform reservoir), heavy hitters (SpaceSaving), and the distances between two
//! distributions that the data facet reports (Kolmogorov–Smirnov, Jensen–Shannon).
//!
//! Every summary has a fixed size, so profiling ten million rows takes the memory of ten.

use serde::{Deserialize, Serialize};

/// HyperLogLog registers: 2^12, a standard error of 1.04/√4096 ≈ 1.6 %.
const HLL_BITS: u32 = 12;
const HLL_REGISTERS: usize = 1 << HLL_BITS;

/// A 64-bit hash that is the same on every machine and in every version of envparity,
/// so sketches written by one run merge with another's.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// HyperLogLog distinct counter over [`stable_hash`]es.
#[derive(Clone, Debug, PartialEq)]
pub struct Hll {
    registers: Box<[u8; HLL_REGISTERS]>,
}

impl Default for Hll {
    fn default() -> Self {
        Hll {
            registers: Box::new([0; HLL_REGISTERS]),
        }
    }
}

impl Hll {
    pub fn insert_hash(&mut self, hash: u64) {
        let index = (hash >> (64 - HLL_BITS)) as usize;
        // The rank of the first 1 bit in the remaining bits (a sentinel bit bounds it).
        let rest = (hash << HLL_BITS) | (1 << (HLL_BITS - 1));
        let rank = rest.leading_zeros() as u8 + 1;
        let register = &mut self.registers[index];
        if rank > *register {
            *register = rank;
        }
    }

    pub fn insert(&mut self, bytes: &[u8]) {
        self.insert_hash(stable_hash(bytes));
    }

    pub fn merge(&mut self, other: &Hll) {
        for (mine, theirs) in self.registers.iter_mut().zip(other.registers.iter()) {
            *mine = (*mine).max(*theirs);
        }
    }

    /// The estimated number of distinct values (with the small-range correction).
    pub fn estimate(&self) -> u64 {
        let m = HLL_REGISTERS as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let mut sum = 0.0;
        let mut zeros = 0usize;
        for &r in self.registers.iter() {
            sum += 2f64.powi(-i32::from(r));
            if r == 0 {
                zeros += 1;
            }
        }
        let raw = alpha * m * m / sum;
        let estimate = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        estimate.round() as u64
    }

    /// Registers as run-length-encoded hex: compact for the sparse sketches of small
    /// columns, and plain text in a JSON snapshot.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < HLL_REGISTERS {
            let value = self.registers[i];
            let mut run = 1;
            while i + run < HLL_REGISTERS && self.registers[i + run] == value && run < 255 {
                run += 1;
            }
            if run > 2 {
                out.push_str(&format!("*{run:02x}{value:02x}"));
            } else {
                for _ in 0..run {
                    out.push_str(&format!("{value:02x}"));
                }
            }
            i += run;
        }
        out
    }

    pub fn decode(text: &str) -> Option<Hll> {
        let mut hll = Hll::default();
        let bytes = text.as_bytes();
        let hex = |at: usize| -> Option<u8> {
            u8::from_str_radix(std::str::from_utf8(bytes.get(at..at + 2)?).ok()?, 16).ok()
        };
        let (mut i, mut at) = (0usize, 0usize);
        while i < bytes.len() {
            let (run, value, width) = if bytes[i] == b'*' {
                (hex(i + 1)? as usize, hex(i + 3)?, 5)
            } else {
                (1, hex(i)?, 2)
            };
            for _ in 0..run {
                *hll.registers.get_mut(at)? = value;
                at += 1;
            }
            i += width;
        }
        (at == HLL_REGISTERS).then_some(hll)
    }
}

impl Serialize for Hll {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for Hll {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Hll::decode(&text).ok_or_else(|| serde::de::Error::custom("not a HyperLogLog sketch"))
    }
}

/// A small, fast, deterministic random source (SplitMix64) for sampling: the same input
/// gives the same profile.
#[derive(Clone, Debug)]
pub struct SplitMix(u64);

/// SplitMix64's finalizer: a good 64-bit mix of a counter.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SplitMix {
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// Reservoir size per column: quantiles from it are within about ±1 % of rank.
pub const RESERVOIR: usize = 4096;

/// A uniform sample of a stream of numbers (Algorithm R), for quantiles.
///
/// It holds raw values, so it lives in memory only: profiles keep quantiles drawn from
/// it, and only for columns that are not sensitive.
#[derive(Clone, Debug)]
pub struct Reservoir {
    seen: u64,
    items: Vec<f64>,
    rng: SplitMix,
}

impl Reservoir {
    pub fn new(seed: u64) -> Self {
        Reservoir {
            seen: 0,
            items: Vec::new(),
            rng: SplitMix::new(seed),
        }
    }

    pub fn push(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        self.seen += 1;
        if self.items.len() < RESERVOIR {
            self.items.push(x);
        } else {
            let j = self.rng.below(self.seen) as usize;
            if j < RESERVOIR {
                self.items[j] = x;
            }
        }
    }

    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The 101 percentiles p0..p100, or nothing for an empty stream.
    pub fn percentiles(&self) -> Vec<f64> {
        let mut sorted = self.items.clone();
        sorted.sort_by(f64::total_cmp);
        percentiles_of_sorted(&sorted)
    }
}

/// p0..p100 of sorted values, by linear interpolation (as `percentile_cont` does).
pub fn percentiles_of_sorted(sorted: &[f64]) -> Vec<f64> {
    if sorted.is_empty() {
        return Vec::new();
    }
    (0..=100)
        .map(|p| {
            let rank = p as f64 / 100.0 * (sorted.len() - 1) as f64;
            let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
            let frac = rank - lo as f64;
            sorted[lo] + (sorted[hi] - sorted[lo]) * frac
        })
        .collect()
}

/// The cumulative share of a distribution given by its percentiles at `x`.
fn cdf_from_percentiles(q: &[f64], x: f64) -> f64 {
    let n = q.len() - 1;
    if x < q[0] {
        return 0.0;
    }
    if x >= q[n] {
        return 1.0;
    }
    // The last percentile ≤ x; inside a run of equal percentiles the mass sits at the value.
    let i = q.partition_point(|&v| v <= x);
    let (lo, hi) = (i - 1, i);
    let span = q[hi] - q[lo];
    let frac = if span > 0.0 { (x - q[lo]) / span } else { 0.0 };
    (lo as f64 + frac) / n as f64
}

/// Kolmogorov–Smirnov distance (0 = same distribution, 1 = disjoint) between two
/// distributions given by their percentiles.
pub fn ks_distance(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let mut worst: f64 = 0.0;
    for &x in a.iter().chain(b) {
        let d = (cdf_from_percentiles(a, x) - cdf_from_percentiles(b, x)).abs();
        worst = worst.max(d);
        // Just below a point mass, too.
        let below = x - x.abs().max(1.0) * 1e-9;
        let d = (cdf_from_percentiles(a, below) - cdf_from_percentiles(b, below)).abs();
        worst = worst.max(d);
    }
    Some(worst.min(1.0))
}

/// Jensen–Shannon divergence (base 2: 0 = same, 1 = disjoint) between two category
/// distributions given as counts by category.
pub fn js_divergence<'k>(
    a: impl IntoIterator<Item = (&'k str, u64)>,
    b: impl IntoIterator<Item = (&'k str, u64)>,
) -> Option<f64> {
    let mut table: std::collections::BTreeMap<&str, (f64, f64)> = Default::default();
    for (k, c) in a {
        table.entry(k).or_default().0 += c as f64;
    }
    for (k, c) in b {
        table.entry(k).or_default().1 += c as f64;
    }
    let (ta, tb) = table
        .values()
        .fold((0.0, 0.0), |(x, y), (a, b)| (x + a, y + b));
    if ta == 0.0 || tb == 0.0 {
        return None;
    }
    let mut js = 0.0;
    for (ca, cb) in table.values() {
        let (p, q) = (ca / ta, cb / tb);
        let m = (p + q) / 2.0;
        if p > 0.0 {
            js += 0.5 * p * (p / m).log2();
        }
        if q > 0.0 {
            js += 0.5 * q * (q / m).log2();
        }
    }
    Some(js.clamp(0.0, 1.0))
}

/// Heavy hitters: the most frequent values of a stream, in amortized O(1) per value.
///
/// The table holds up to twice its capacity; when full, every entry at or below the
/// capacity-th largest count is dropped at once (a batched Misra–Gries / SpaceSaving).
/// A newcomer starts at the largest count ever dropped plus one, so counts overestimate by
/// at most that floor, and a value more frequent than the floor is never lost.
#[derive(Clone, Debug)]
pub struct SpaceSaving {
    capacity: usize,
    /// Count, and how much of it may be inherited from dropped values (the floor when
    /// the value came in).
    counts: hashbrown::HashMap<Box<str>, (u64, u64)>,
    /// The largest count dropped so far (0 while every value fitted).
    floor: u64,
    purged: bool,
}

impl SpaceSaving {
    pub fn new(capacity: usize) -> Self {
        SpaceSaving {
            capacity: capacity.max(1),
            counts: hashbrown::HashMap::with_capacity(capacity * 2 + 1),
            floor: 0,
            purged: false,
        }
    }

    pub fn push(&mut self, value: &str) {
        if let Some((count, _)) = self.counts.get_mut(value) {
            *count += 1;
            return;
        }
        if self.counts.len() >= self.capacity * 2 {
            self.purge();
        }
        self.counts
            .insert(value.into(), (self.floor + 1, self.floor));
    }

    fn purge(&mut self) {
        let mut counts: Vec<u64> = self.counts.values().map(|c| c.0).collect();
        let (_, threshold, _) = counts.select_nth_unstable_by(self.capacity - 1, |a, b| b.cmp(a));
        let threshold = *threshold;
        // Decided by count alone, so the same stream keeps the same values.
        self.counts.retain(|_, c| c.0 > threshold);
        self.floor = self.floor.max(threshold);
        self.purged = true;
    }

    /// The `n` most frequent, most frequent first (ties by value, for stable output), each
    /// with the count it surely has (what it may have inherited from dropped values is
    /// not counted, so a uniform column shows small counts, not inflated ones).
    pub fn top(&self, n: usize) -> Vec<(String, u64)> {
        let mut all: Vec<(&str, u64)> = self
            .counts
            .iter()
            .map(|(k, (count, inherited))| (&**k, count - inherited))
            .filter(|(_, sure)| *sure > 0)
            .collect();
        all.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(y.0)));
        all.into_iter()
            .take(n)
            .map(|(k, c)| (k.to_string(), c))
            .collect()
    }

    /// Distinct values seen, when every one fitted (then the counts are exact too).
    pub fn exact_distinct(&self) -> Option<u64> {
        (!self.purged).then_some(self.counts.len() as u64)
    }

    /// Whether every distinct value fitted (the counts are then exact).
    pub fn is_exact(&self) -> bool {
        !self.purged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hll_estimates_within_a_few_percent_and_merges() {
        for n in [0u64, 1, 10, 1000, 100_000] {
            let mut h = Hll::default();
            for i in 0..n {
                h.insert(&i.to_le_bytes());
                h.insert(&i.to_le_bytes());
            }
            let e = h.estimate() as f64;
            assert!(
                (e - n as f64).abs() <= (n as f64 * 0.05).max(1.0),
                "{n}: estimated {e}"
            );
        }
        let (mut a, mut b) = (Hll::default(), Hll::default());
        for i in 0..5000u64 {
            a.insert(&i.to_le_bytes());
            b.insert(&(i + 2500).to_le_bytes());
        }
        a.merge(&b);
        let e = a.estimate() as f64;
        assert!((e - 7500.0).abs() < 7500.0 * 0.05, "merged {e}");
        assert_eq!(Hll::decode(&a.encode()), Some(a.clone()));
        assert!(Hll::decode("zz").is_none());
        assert!(Hll::default().encode().len() < 100, "empty sketch is short");
    }

    #[test]
    fn reservoir_percentiles_track_the_stream() {
        let mut r = Reservoir::new(7);
        for i in 0..1_000_000 {
            r.push(f64::from(i));
        }
        let p = r.percentiles();
        assert_eq!(p.len(), 101);
        assert!((p[50] - 500_000.0).abs() < 30_000.0, "median {}", p[50]);
        assert!(p[0] < 5_000.0 && p[100] > 995_000.0);
    }

    #[test]
    fn ks_distance_separates_shifted_distributions() {
        let a: Vec<f64> = (0..=100).map(f64::from).collect();
        assert_eq!(ks_distance(&a, &a), Some(0.0));
        let shifted: Vec<f64> = (0..=100).map(|x| f64::from(x) + 50.0).collect();
        let d = ks_distance(&a, &shifted).unwrap();
        assert!((d - 0.5).abs() < 0.02, "{d}");
        let far: Vec<f64> = (0..=100).map(|x| f64::from(x) + 1000.0).collect();
        assert_eq!(ks_distance(&a, &far), Some(1.0));
        // A constant column against a spread one.
        let constant = vec![50.0; 101];
        let d = ks_distance(&a, &constant).unwrap();
        assert!((d - 0.5).abs() < 0.02, "{d}");
    }

    #[test]
    fn js_divergence_is_zero_for_same_and_one_for_disjoint() {
        let a = [("x", 10), ("y", 30)];
        assert_eq!(js_divergence(a, [("x", 1), ("y", 3)]), Some(0.0));
        assert_eq!(js_divergence(a, [("z", 5)]), Some(1.0));
        let d = js_divergence(a, [("x", 30), ("y", 10)]).unwrap();
        assert!(d > 0.1 && d < 0.5, "{d}");
    }

    #[test]
    fn space_saving_finds_heavy_hitters() {
        let mut s = SpaceSaving::new(8);
        for i in 0..10_000 {
            s.push(if i % 3 == 0 { "common" } else { "" });
            s.push(&format!("rare{i}"));
        }
        let top = s.top(2);
        assert_eq!(top[0].0, "");
        assert_eq!(top[1].0, "common");
        assert!(top[1].1 >= 3334);
    }
}
