//! The config facet: reads configuration files of every supported format into the
//! snapshot model, hashing secrets on the way in.

pub mod collect;
pub mod flatten;
pub mod read;
pub mod secrets;
pub mod tree;

pub use collect::{CollectOptions, collect};
pub use secrets::{KeySource, SecretHasher};
