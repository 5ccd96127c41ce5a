//! Log timestamps as seconds since 1970-01-01 UTC, without allocating.

/// `10/Oct/2000:13:55:36 -0700` (nginx `$time_local`, Apache `%t` without brackets).
pub fn parse_clf(text: &[u8]) -> Option<f64> {
    if text.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        let mut v = 0i64;
        for &b in s {
            if !b.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(b - b'0');
        }
        Some(v)
    };
    // Consecutive lines nearly always share the date: remember its day number.
    let date: [u8; 11] = text[..11].try_into().ok()?;
    let cached = LAST_CLF_DATE.with(|c| c.get()).filter(|(d, _)| *d == date);
    let days = match cached {
        Some((_, days)) => days,
        None => {
            let days = clf_days(text, &num)?;
            LAST_CLF_DATE.with(|c| c.set(Some((date, days))));
            days
        }
    };
    let (h, m, s) = (num(12..14)?, num(15..17)?, num(18..20)?);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let mut secs = days * 86_400 + h * 3600 + m * 60 + s;
    if let (Some(sign), Some(zh), Some(zm)) = (text.get(21), num(22..24), num(24..26)) {
        let offset = zh * 3600 + zm * 60;
        secs += if *sign == b'-' { offset } else { -offset };
    }
    Some(secs as f64)
}

thread_local! {
    static LAST_CLF_DATE: std::cell::Cell<Option<([u8; 11], i64)>> = const { std::cell::Cell::new(None) };
}

/// Days since 1970 of the `dd/Mon/yyyy` at the start of `text`.
fn clf_days(text: &[u8], num: &dyn Fn(std::ops::Range<usize>) -> Option<i64>) -> Option<i64> {
    let day = num(0..2)?;
    let month = match text.get(3..6)? {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    let year = num(7..11)?;
    if !(1..=31).contains(&day) || text[2] != b'/' || text[6] != b'/' {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// `2024-03-01T12:30:00.123Z`, `2024-03-01T12:30:00+02:00`, `2024-03-01 12:30:00`.
pub fn parse_iso(text: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(text).ok()?;
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { text.get(r)?.parse().ok() };
    let days = days_from_civil(num(0..4)?, num(5..7)?, num(8..10)?);
    let mut secs = (days * 86_400 + num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)?) as f64;
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        secs += format!("0.{}", &frac[..digits])
            .parse::<f64>()
            .unwrap_or(0.0);
        rest = &frac[digits..];
    }
    if let Some(sign @ ('+' | '-')) = rest.chars().next() {
        let zone: String = rest[1..].chars().filter(char::is_ascii_digit).collect();
        let (h, m): (i64, i64) = match zone.len() {
            2 => (zone.parse().ok()?, 0),
            4 => (zone[..2].parse().ok()?, zone[2..].parse().ok()?),
            _ => (0, 0),
        };
        let offset = (h * 3600 + m * 60) as f64;
        secs += if sign == '+' { -offset } else { offset };
    }
    Some(secs)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clf_and_iso_times() {
        assert_eq!(parse_clf(b"01/Jan/1970:00:00:10 +0000"), Some(10.0));
        assert_eq!(parse_clf(b"01/Jan/1970:01:00:00 +0100"), Some(0.0));
        assert_eq!(
            parse_clf(b"10/Oct/2000:13:55:36 -0700"),
            Some(971_211_336.0)
        );
        assert_eq!(parse_clf(b"10/Foo/2000:13:55:36 -0700"), None);
        assert_eq!(parse_iso(b"1970-01-01T00:00:01.5Z"), Some(1.5));
        assert_eq!(parse_iso(b"1970-01-01T02:00:00+02:00"), Some(0.0));
    }
}
