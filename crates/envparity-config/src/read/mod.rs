//! Readers: one per format, each turning text into [`Node`] documents with lines.
//!
//! Error messages describe what is wrong and where; they never quote the input, which
//! may hold a secret.

use envparity_core::snapshot::Format;

use crate::tree::Node;

/// A file that could not be parsed: where, and what was wrong (never the offending text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ReadError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Parses `text` in `format` into its documents (several for multi-document YAML, one otherwise).
pub fn parse(format: Format, text: &str) -> Result<Vec<Node>, ReadError> {
    match format {
        Format::Yaml => yaml::parse(text),
        Format::Json => json::parse(text).map(|n| vec![n]),
        Format::Toml => toml::parse(text).map(|n| vec![n]),
        Format::Ini => ini::parse(text).map(|n| vec![n]),
        Format::Dotenv => dotenv::parse(text).map(|n| vec![n]),
        Format::Properties => properties::parse(text).map(|n| vec![n]),
        // Schemas come from database catalogs, never from a file.
        Format::Schema => Err(ReadError {
            line: 1,
            column: 1,
            message: "a database schema is not read from a file".to_string(),
        }),
    }
}

/// The `check`, `check_lines` and `check_err` helpers every reader's tests use, for the
/// `parse(&str) -> Result<Node, ReadError>` in scope.
#[cfg(test)]
macro_rules! reader_checks {
    () => {
        #[track_caller]
        fn check(input: &str, expected: &str) {
            let node = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(
                crate::read::json::render(&node, false),
                expected,
                "input: {input:?}"
            );
        }

        #[track_caller]
        #[allow(dead_code)]
        fn check_lines(input: &str, expected: &str) {
            let node = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(
                crate::read::json::render(&node, true),
                expected,
                "input: {input:?}"
            );
        }

        #[track_caller]
        fn check_err(input: &str, line: u32, column: u32, message: &str) {
            let err = parse(input).expect_err(input);
            assert_eq!((err.line, err.column), (line, column), "{input:?}: {err}");
            assert!(err.message.contains(message), "{input:?}: {err}");
        }
    };
}
#[cfg(test)]
pub(crate) use reader_checks;

pub mod dotenv;
pub mod ini;
pub mod json;
pub mod properties;
pub mod toml;
pub mod yaml;
