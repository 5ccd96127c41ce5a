//! The config facet: reads configuration files of every supported format into the
//! snapshot model, hashing secrets on the way in.

pub mod read;
pub mod tree;
