//! The parity score — defined here and nowhere else.
//!
//! Per facet: `score = 100 × (1 − D / N)`, floored at 0, one decimal, where
//! - `N` is the number of keys compared in that facet (the union of both sides' keys,
//!   ignored keys left out; a key compared in several environment pairs counts once per pair);
//! - `D` is the sum, over actionable findings (drift, missing, extra, shared-secret,
//!   unreadable), of the keys the finding covers times its severity weight:
//!   info 0.5, warning 1, error 2. A file present on one side only covers all its keys.
//!   `expected` and `env-equivalent` findings weigh nothing: they are intended.
//!
//! Overall: the mean of the facet scores, each facet weighing the same whatever its size,
//! so a small schema is not drowned by a large config estate. A facet with nothing
//! compared has no score and is left out. With no facet at all the score is 100.

use crate::finding::{Finding, Severity};

pub fn severity_weight(severity: Severity) -> f64 {
    match severity {
        Severity::Info => 0.5,
        Severity::Warning => 1.0,
        Severity::Error => 2.0,
    }
}

/// The weighted differences `D` of a set of findings.
pub fn weighted_differences<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> f64 {
    findings
        .into_iter()
        .filter(|f| f.class.is_actionable())
        .map(|f| f64::from(f.covers.max(1)) * severity_weight(f.severity))
        .sum()
}

/// The facet score from `N` and `D`.
pub fn facet_score(compared: u64, weighted: f64) -> f64 {
    if compared == 0 {
        return if weighted > 0.0 { 0.0 } else { 100.0 };
    }
    round1((100.0 * (1.0 - weighted / compared as f64)).max(0.0))
}

pub fn overall(facet_scores: &[f64]) -> f64 {
    if facet_scores.is_empty() {
        return 100.0;
    }
    round1(facet_scores.iter().sum::<f64>() / facet_scores.len() as f64)
}

fn round1(x: f64) -> f64 {
    // Never round a score with differences up to 100.
    let r = (x * 10.0).round() / 10.0;
    if r >= 100.0 && x < 100.0 { 99.9 } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_is_fraction_of_keys_in_parity() {
        assert_eq!(facet_score(200, 0.0), 100.0);
        assert_eq!(facet_score(200, 10.0), 95.0);
        assert_eq!(facet_score(10, 40.0), 0.0);
        assert_eq!(
            facet_score(100_000, 1.0),
            99.9,
            "one drift is never a perfect score"
        );
        assert_eq!(overall(&[100.0, 80.0]), 90.0);
        assert_eq!(overall(&[]), 100.0);
    }
}
