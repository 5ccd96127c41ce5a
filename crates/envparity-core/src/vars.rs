//! `${VAR}` in text the user writes (a database URL, a request header), expanded by a
//! lookup the caller gives: the core reads no environment itself.

/// Why a text could not be expanded. Names the variable, never a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unexpanded {
    /// `${NAME}` with no value.
    Unset(String),
    /// A `${` with no `}` after it.
    Unclosed,
}

/// `text` with every `${NAME}` replaced by `lookup(NAME)`.
pub fn expand(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, Unexpanded> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or(Unexpanded::Unclosed)?;
        let name = &after[..end];
        out.push_str(&lookup(name).ok_or_else(|| Unexpanded::Unset(name.to_string()))?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_replaced_and_the_missing_one_is_named() {
        let lookup = |name: &str| (name == "A").then(|| "1{x}".to_string());
        assert_eq!(expand("a=${A}, b", lookup).unwrap(), "a=1{x}, b");
        assert_eq!(expand("no vars", lookup).unwrap(), "no vars");
        assert_eq!(
            expand("${A}${B}", lookup),
            Err(Unexpanded::Unset("B".into()))
        );
        assert_eq!(expand("x ${A", lookup), Err(Unexpanded::Unclosed));
    }
}
