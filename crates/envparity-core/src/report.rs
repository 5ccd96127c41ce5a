//! The report: findings of one comparison, scores, and what could not be read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::finding::{Class, Facet, Finding};

pub const REPORT_FORMAT: &str = "envparity-report";
pub const REPORT_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub format: String,
    pub version: u32,
    pub environments: Vec<EnvironmentInfo>,
    /// The environment the others are compared against (the one marked production).
    pub reference: String,
    /// Overall parity, 0–100: the mean of the facet scores (see `score`).
    pub score: f64,
    pub facets: Vec<FacetSummary>,
    pub findings: Vec<Finding>,
    /// For three or more environments: one row per key that differs, one value per environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<Matrix>,
    /// Things the reader should know about the comparison itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Each environment's traffic in brief, for charts (environments with a traffic model).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traffic: Vec<crate::traffic::TrafficOverview>,
    /// Load runs against the reference's traffic model: the comparison and the run's
    /// timeline, for the summary and the charts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load: Vec<crate::load::LoadOverview>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EnvironmentInfo {
    pub name: String,
    pub production: bool,
    pub taken_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FacetSummary {
    pub facet: Facet,
    pub score: f64,
    /// Keys compared (the union of both sides, ignored keys left out).
    pub compared: u64,
    /// Findings per class.
    pub counts: BTreeMap<Class, u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Matrix {
    pub environments: Vec<String>,
    pub rows: Vec<MatrixRow>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MatrixRow {
    pub key: String,
    pub group: String,
    /// One per environment, in `environments` order; `None` where the key is absent.
    pub values: Vec<Option<String>>,
}

impl Report {
    /// Findings that call for action (drift, missing, extra, shared secrets, unreadable sources).
    pub fn actionable(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.class.is_actionable())
    }

    pub fn has_unreadable(&self) -> bool {
        self.findings.iter().any(|f| f.class == Class::Unreadable)
    }

    /// Keeps only these facets' findings and summaries (`diff --facet`); the score
    /// becomes theirs.
    pub fn keep_facets(&mut self, facets: &[Facet]) {
        self.findings.retain(|f| facets.contains(&f.facet));
        self.facets.retain(|f| facets.contains(&f.facet));
        if let Some(matrix) = &mut self.matrix {
            matrix
                .rows
                .retain(|r| self.findings.iter().any(|f| f.key == r.key));
        }
        if !facets.contains(&Facet::Traffic) {
            self.traffic.clear();
        }
        let scores: Vec<f64> = self.facets.iter().map(|f| f.score).collect();
        self.score = crate::score::overall(&scores);
    }
}
