//! The heart of envparity: the snapshot model, rules, the comparison that turns two
//! snapshots into findings, and the parity score.
//!
//! This crate does no I/O. Collectors (in the facet crates) read the world into a
//! [`Snapshot`]; [`compare()`] is a pure function of snapshots, rules and today's date.

pub mod access;
pub mod compare;
pub mod credentials;
pub mod date;
pub mod fidelity;
pub mod finding;
pub mod load;
pub mod manifest;
pub mod pattern;
pub mod profile;
pub mod report;
pub mod rules;
pub mod score;
pub mod sketch;
pub mod snapshot;
pub mod tokens;
pub mod traffic;
pub mod vars;

pub use compare::compare;
pub use date::Date;
pub use finding::{Class, Facet, Finding, Location, Severity, Side};
pub use pattern::KeyPattern;
pub use report::Report;
pub use rules::Rules;
pub use snapshot::{
    ConfigFile, Entries, EntryRef, Resource, SecretValue, Snapshot, SourceError, Value,
};
pub use tokens::EnvTokens;
