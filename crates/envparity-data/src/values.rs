//! Reading values as databases print them: what kind a declared type is, and timestamps
//! as seconds since 1970.

use envparity_core::profile::ColumnKind;

/// The kind of a declared SQL type (PostgreSQL, MySQL and SQLite spellings).
pub fn kind_of(data_type: &str) -> ColumnKind {
    let t = data_type.to_ascii_lowercase();
    let t = t.trim();
    if t.ends_with("[]") || t.starts_with("array") {
        return ColumnKind::Other;
    }
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if has(&["timestamp", "datetime", "date", "time"]) && !has(&["update"]) {
        ColumnKind::Temporal
    } else if has(&["bool"]) || t == "bit(1)" || t == "tinyint(1)" {
        ColumnKind::Boolean
    } else if has(&[
        "int", "serial", "numeric", "decimal", "real", "double", "float", "money",
    ]) && !has(&["interval", "point"])
    {
        ColumnKind::Number
    } else if has(&["bytea", "blob", "binary"]) {
        ColumnKind::Binary
    } else if has(&[
        "char", "text", "clob", "uuid", "json", "enum", "citext", "string", "inet", "cidr", "set(",
        "xml", "name",
    ]) {
        ColumnKind::Text
    } else {
        ColumnKind::Other
    }
}

/// `2024-03-01`, `2024-03-01 12:30:00`, `2024-03-01T12:30:00.123+02`, `…Z`: seconds since
/// 1970-01-01 UTC. Bare times (`12:30:00`) are seconds since midnight.
pub fn parse_temporal(text: &str) -> Option<f64> {
    let t = text.trim();
    let b = t.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(range)?;
        if s.bytes().all(|c| c.is_ascii_digit()) && !s.is_empty() {
            s.parse().ok()
        } else {
            None
        }
    };
    if b.len() >= 8 && b[2] == b':' {
        let secs = num(0..2)? * 3600 + num(3..5)? * 60 + num(6..8)?;
        return Some(secs as f64);
    }
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let days = days_from_civil(y, m, d)?;
    let mut secs = days as f64 * 86_400.0;
    if b.len() >= 19 && (b[10] == b' ' || b[10] == b'T') {
        secs += (num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)?) as f64;
        let mut rest = &t[19..];
        if let Some(frac) = rest.strip_prefix('.') {
            let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() {
                secs += format!("0.{digits}").parse::<f64>().unwrap_or(0.0);
            }
            rest = &frac[digits.len()..];
        }
        let rest = rest.trim();
        if let Some(sign) = rest.chars().next().filter(|c| *c == '+' || *c == '-') {
            let zone = &rest[1..];
            let digits: String = zone.chars().filter(char::is_ascii_digit).collect();
            let (h, m) = match digits.len() {
                2 => (digits.parse::<i64>().ok()?, 0),
                4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
                _ => (0, 0),
            };
            let offset = (h * 3600 + m * 60) as f64;
            secs += if sign == '+' { -offset } else { offset };
        }
    }
    Some(secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_declared_types() {
        assert_eq!(kind_of("integer"), ColumnKind::Number);
        assert_eq!(kind_of("BIGINT UNSIGNED"), ColumnKind::Number);
        assert_eq!(kind_of("numeric(10,2)"), ColumnKind::Number);
        assert_eq!(kind_of("timestamp with time zone"), ColumnKind::Temporal);
        assert_eq!(kind_of("DATETIME"), ColumnKind::Temporal);
        assert_eq!(kind_of("character varying(80)"), ColumnKind::Text);
        assert_eq!(kind_of("boolean"), ColumnKind::Boolean);
        assert_eq!(kind_of("tinyint(1)"), ColumnKind::Boolean);
        assert_eq!(kind_of("bytea"), ColumnKind::Binary);
        assert_eq!(kind_of("integer[]"), ColumnKind::Other);
    }

    #[test]
    fn temporal_values() {
        assert_eq!(parse_temporal("1970-01-02"), Some(86_400.0));
        assert_eq!(parse_temporal("1970-01-01 01:00:00"), Some(3600.0));
        assert_eq!(parse_temporal("1970-01-01T01:00:00.5+01"), Some(0.5));
        assert_eq!(parse_temporal("2000-03-01"), Some(951_868_800.0));
        assert_eq!(parse_temporal("12:00:00"), Some(43_200.0));
        assert_eq!(parse_temporal("soon"), None);
    }
}
