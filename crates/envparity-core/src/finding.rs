//! Findings: what a comparison reports, one per key that is not simply equal.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Facet {
    Config,
    Schema,
    Data,
    Traffic,
    Access,
    Resources,
}

impl Facet {
    pub fn name(self) -> &'static str {
        match self {
            Facet::Config => "config",
            Facet::Schema => "schema",
            Facet::Data => "data",
            Facet::Traffic => "traffic",
            Facet::Access => "access",
            Facet::Resources => "resources",
        }
    }
}

/// What kind of difference a finding is.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Present in both, different, and nothing says that is intended.
    Drift,
    /// Present in the reference environment (usually Production) only.
    Missing,
    /// Present in the other environment only.
    Extra,
    /// QA holds the same secret as Production: a security finding.
    SharedSecret,
    /// Different, and a rule or the baseline says so with a reason.
    Expected,
    /// Different only by environment tokens (`qa-db` vs `prod-db`).
    EnvEquivalent,
    /// A source could not be read; the comparison of that source is incomplete.
    Unreadable,
    /// A production environment breaks the strictness pack: a superuser application
    /// role, a PUBLIC grant, cluster-admin bound to a service account, auth turned off.
    Policy,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Drift => "drift",
            Class::Missing => "missing",
            Class::Extra => "extra",
            Class::SharedSecret => "shared-secret",
            Class::Expected => "expected",
            Class::EnvEquivalent => "env-equivalent",
            Class::Unreadable => "unreadable",
            Class::Policy => "policy",
        }
    }

    /// Classes that call for action: they count against the score and can fail CI.
    pub fn is_actionable(self) -> bool {
        matches!(
            self,
            Class::Drift
                | Class::Missing
                | Class::Extra
                | Class::SharedSecret
                | Class::Unreadable
                | Class::Policy
        )
    }

    pub fn default_severity(self) -> Severity {
        match self {
            Class::SharedSecret | Class::Unreadable | Class::Policy => Severity::Error,
            Class::Drift | Class::Missing | Class::Extra => Severity::Warning,
            Class::Expected | Class::EnvEquivalent => Severity::Info,
        }
    }

    pub const ALL: [Class; 8] = [
        Class::Policy,
        Class::Drift,
        Class::Missing,
        Class::Extra,
        Class::SharedSecret,
        Class::Expected,
        Class::EnvEquivalent,
        Class::Unreadable,
    ];
}

#[derive(
    Clone,
    Copy,
    Debug,
    Serialize,
    Deserialize,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A file and line, relative to envparity.toml's folder.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    /// 0 when the line is not known (a file that could not be opened).
    pub line: u32,
    /// Where in the line, when known (an unreadable source's parse error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

/// One environment's side of a finding.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Side {
    pub env: String,
    /// The value as displayed; secrets appear as their short keyed hash. `None` when absent.
    pub value: Option<String>,
    pub location: Option<Location>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    pub facet: Facet,
    pub class: Class,
    pub severity: Severity,
    /// What rules match against: `deploy.yaml:Deployment/shop/api:spec.replicas`.
    pub key: String,
    /// The file the finding belongs to, for grouping in reports.
    pub group: String,
    /// The Kubernetes object (`Deployment/shop/api`) within the file, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The environment compared (usually QA).
    pub a: Side,
    /// The reference environment (usually Production).
    pub b: Side,
    /// One sentence a release manager can read.
    pub message: String,
    /// For `expected`: the rule's reason (and owner, expiry) or the baseline entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// How many keys the finding stands for (a file present on one side only covers all
    /// its keys). Weighs the finding in the parity score.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub covers: u32,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}
