//! Placeholder: being written.
use super::ReadError;
use crate::tree::Node;
pub fn parse(_text: &str) -> Result<Node, ReadError> {
    Err(ReadError { line: 1, column: 1, message: "reader not written yet".into() })
}
