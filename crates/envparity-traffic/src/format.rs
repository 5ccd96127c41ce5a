//! Access-log formats: nginx `log_format` strings and Apache `LogFormat` strings compiled
//! into a sequence of literals and fields, and a parser that reads a line into borrowed
//! slices without allocating.

/// What a field of a log line holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    ClientAddr,
    /// `address:port` (AWS load balancers): the port is dropped, it names a connection.
    ClientAddrPort,
    /// A local time when the request ended (nginx `$time_local`) or began (Apache `%t`).
    TimeLocal,
    TimeIso,
    /// Seconds since 1970 with milliseconds (nginx `$msec`, at the end of the request).
    Msec,
    /// `METHOD TARGET PROTOCOL`.
    Request,
    Method,
    /// Path and query.
    Target,
    Status,
    BodyBytes,
    /// Bytes received, with headers (nginx `$request_length`, Apache `%I`).
    RequestBytes,
    /// Seconds, with milliseconds (nginx `$request_time`, Apache `%T`).
    DurationSeconds,
    /// Microseconds (Apache `%D`).
    DurationMicros,
    /// Upstream seconds; `0.120, 0.003` for retries (their sum), `-` when none.
    UpstreamSeconds,
    /// Seconds, one of several parts that add up to the duration (AWS load balancers'
    /// request, target and response processing times); `-1` means none.
    DurationPart,
    Host,
    /// Anything else: skipped.
    Ignored,
}

#[derive(Clone, Debug)]
enum Part {
    /// The literal, and a searcher for it built once (building one per line cost more
    /// than the search).
    Literal(Vec<u8>, Box<memchr::memmem::Finder<'static>>),
    Field(Field),
}

fn literal(bytes: Vec<u8>) -> Part {
    let finder = memchr::memmem::Finder::new(&bytes).into_owned();
    Part::Literal(bytes, Box::new(finder))
}

/// A compiled log format.
#[derive(Clone, Debug)]
pub struct LogFormat {
    parts: Vec<Part>,
    /// Whether the log's time marks the request's start (Apache) rather than its end.
    pub time_is_start: bool,
    /// What the format is, for messages (`nginx combined`, `AWS ALB`, …).
    pub name: &'static str,
    /// When the format ends `… $ignored … "LIT" $field` (a duration after the user
    /// agent): the index of the first skipped field. Parsing jumps from there to the last
    /// occurrence of the final literal instead of scanning fields nobody reads.
    tail_jump: Option<usize>,
}

/// Where the parser may jump: the first of the ignored fields and literals that run up to
/// the format's final literal, when a wanted field follows that literal.
fn tail_jump(parts: &[Part]) -> Option<usize> {
    let n = parts.len();
    if n < 3 || !matches!(parts[n - 1], Part::Field(f) if f != Field::Ignored) {
        return None;
    }
    if !matches!(parts[n - 2], Part::Literal(..)) {
        return None;
    }
    let mut first = None;
    for i in (0..n - 2).rev() {
        match &parts[i] {
            Part::Field(Field::Ignored) => first = Some(i),
            Part::Literal(..) => {}
            Part::Field(_) => break,
        }
    }
    first
}

/// One parsed line; every slice borrows from the line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record<'a> {
    pub client: Option<&'a [u8]>,
    /// Seconds since 1970 (see [`LogFormat::time_is_start`]).
    pub time: Option<f64>,
    pub method: &'a [u8],
    /// Path and query string.
    pub target: &'a [u8],
    pub status: u16,
    pub bytes: Option<u64>,
    pub request_bytes: Option<u64>,
    /// Seconds.
    pub duration: Option<f64>,
    pub host: Option<&'a [u8]>,
}

/// The nginx default `combined` format.
pub const NGINX_COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

/// The Common Log Format (`combined` without referrer and user agent).
pub const COMMON: &str =
    r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent"#;

/// AWS Application Load Balancer access logs, up to the request's creation time; later
/// fields (added over the years) are skipped.
const ALB: &str = r#"$type $time $elb $client_port $target_port $part $part $part $status $target_status $request_length $body_bytes_sent "$request" "$user_agent" $ssl_cipher $ssl_protocol $target_group "$trace" "$domain" "$cert" $priority $creation $rest"#;

/// `10.0.0.1:5123` → `10.0.0.1`, `[::1]:80` → `::1`; anything else unchanged.
pub fn strip_port(address: &[u8]) -> &[u8] {
    if let Some(rest) = address.strip_prefix(b"[") {
        return memchr::memchr(b']', rest).map_or(address, |end| &rest[..end]);
    }
    match memchr::memrchr(b':', address) {
        // One colon and digits after it: IPv4 or a name with a port (IPv6 has several).
        Some(i)
            if memchr::memchr(b':', &address[..i]).is_none()
                && i + 1 < address.len()
                && address[i + 1..].iter().all(u8::is_ascii_digit) =>
        {
            &address[..i]
        }
        _ => address,
    }
}

impl LogFormat {
    /// nginx's `combined`.
    pub fn combined() -> LogFormat {
        LogFormat {
            name: "nginx/Apache combined",
            ..LogFormat::nginx(NGINX_COMBINED).expect("the combined format compiles")
        }
    }

    /// The Common Log Format.
    pub fn common() -> LogFormat {
        LogFormat {
            name: "Common Log Format",
            ..LogFormat::nginx(COMMON).expect("the common format compiles")
        }
    }

    /// AWS Application Load Balancer access logs. Their `time` is when the response was
    /// sent; `request_creation_time` is the start, so the start is what is read.
    pub fn alb() -> LogFormat {
        let mut format = LogFormat::compile(ALB, |name| match name {
            "client_port" => Field::ClientAddrPort,
            "part" => Field::DurationPart,
            "status" => Field::Status,
            "request_length" => Field::RequestBytes,
            "body_bytes_sent" => Field::BodyBytes,
            "request" => Field::Request,
            "creation" => Field::TimeIso,
            _ => Field::Ignored,
        })
        .expect("the ALB format compiles");
        format.time_is_start = true;
        format.name = "AWS ALB";
        format
    }

    /// An nginx `log_format` string (`$var` and `${var}`).
    pub fn nginx(format: &str) -> Result<LogFormat, String> {
        LogFormat::compile(format, |name| match name {
            "remote_addr" | "binary_remote_addr" | "realip_remote_addr" => Field::ClientAddr,
            "time_local" => Field::TimeLocal,
            "time_iso8601" => Field::TimeIso,
            "msec" => Field::Msec,
            "request" => Field::Request,
            "request_method" => Field::Method,
            "request_uri" => Field::Target,
            "status" => Field::Status,
            "body_bytes_sent" | "bytes_sent" => Field::BodyBytes,
            "request_length" => Field::RequestBytes,
            "request_time" => Field::DurationSeconds,
            "upstream_response_time" => Field::UpstreamSeconds,
            "host" | "http_host" | "server_name" => Field::Host,
            _ => Field::Ignored,
        })
    }

    /// A `$var` template with the variables' meanings given by `field`.
    fn compile(format: &str, field: impl Fn(&str) -> Field) -> Result<LogFormat, String> {
        let mut parts = Vec::new();
        let mut literal = Vec::new();
        let bytes = format.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'$' {
                literal.push(bytes[i]);
                i += 1;
                continue;
            }
            let (name, next) = if bytes.get(i + 1) == Some(&b'{') {
                let close = format[i..]
                    .find('}')
                    .ok_or_else(|| format!("unclosed `${{` at character {}", i + 1))?;
                (&format[i + 2..i + close], i + close + 1)
            } else {
                let len = format[i + 1..]
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    .count();
                (&format[i + 1..i + 1 + len], i + 1 + len)
            };
            if name.is_empty() {
                return Err(format!(
                    "a `$` without a variable name at character {}",
                    i + 1
                ));
            }
            push_field(&mut parts, &mut literal, field(name))?;
            i = next;
        }
        finish(parts, literal, false, "nginx log_format")
    }

    /// An Apache `LogFormat` string (`%h %l %u %t "%r" %>s %b %D`, `%{Header}i`).
    pub fn apache(format: &str) -> Result<LogFormat, String> {
        let mut parts = Vec::new();
        let mut literal = Vec::new();
        let bytes = format.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'%' {
                literal.push(bytes[i]);
                i += 1;
                continue;
            }
            i += 1;
            // Modifiers: `%>s`, `%<s`, status conditions like `%400,501{User-agent}i`.
            while i < bytes.len() && matches!(bytes[i], b'>' | b'<' | b'!' | b',' | b'0'..=b'9') {
                i += 1;
            }
            let mut braced = "";
            if bytes.get(i) == Some(&b'{') {
                let close = format[i..]
                    .find('}')
                    .ok_or_else(|| format!("unclosed `%{{` at character {i}"))?;
                braced = &format[i + 1..i + close];
                i += close + 1;
            }
            let Some(&directive) = bytes.get(i) else {
                return Err("the format ends with `%`".to_string());
            };
            i += 1;
            let field = match directive {
                b'%' => {
                    literal.push(b'%');
                    continue;
                }
                b'h' | b'a' => Field::ClientAddr,
                b't' if braced.is_empty() => {
                    // `%t` prints `[10/Oct/2000:13:55:36 -0700]`.
                    literal.push(b'[');
                    push_field(&mut parts, &mut literal, Field::TimeLocal)?;
                    literal.push(b']');
                    continue;
                }
                b'r' => Field::Request,
                b'm' => Field::Method,
                b'U' => Field::Target,
                b's' => Field::Status,
                b'b' | b'B' | b'O' => Field::BodyBytes,
                b'I' => Field::RequestBytes,
                b'D' => Field::DurationMicros,
                b'T' if braced.is_empty() || braced == "s" => Field::DurationSeconds,
                b'v' | b'V' => Field::Host,
                b'i' if braced.eq_ignore_ascii_case("host") => Field::Host,
                b'l' | b'u' | b'i' | b'o' | b'e' | b'n' | b'C' | b'p' | b'P' | b'q' | b'H'
                | b'X' | b'S' | b'k' | b'L' | b'R' | b'f' | b'A' | b't' | b'T' => Field::Ignored,
                other => {
                    return Err(format!(
                        "unknown directive `%{}` in the Apache log format",
                        other as char
                    ));
                }
            };
            push_field(&mut parts, &mut literal, field)?;
        }
        finish(parts, literal, true, "Apache LogFormat")
    }

    /// Reads one line. The error says what was wrong, never what the line held.
    pub fn parse<'a>(&self, line: &'a [u8]) -> Result<Record<'a>, &'static str> {
        let mut record = Record::default();
        let mut rest = line;
        let mut upstream = None;
        let mut index = 0;
        while let Some(part) = self.parts.get(index) {
            index += 1;
            if Some(index - 1) == self.tail_jump
                && let Some(Part::Literal(lit, _)) = self.parts.get(self.parts.len() - 2)
            {
                // Skip to the last occurrence of the final literal: what lies between
                // is not read, and a quote inside a user agent cannot derail the rest.
                let at = memchr::memmem::rfind(rest, lit)
                    .ok_or("the line ends before the log format does")?;
                rest = &rest[at + lit.len()..];
                index = self.parts.len() - 1;
                continue;
            }
            match part {
                Part::Literal(lit, _) => {
                    if !starts_with(rest, lit) {
                        return Err("the line does not match the log format");
                    }
                    rest = &rest[lit.len()..];
                }
                Part::Field(field) => {
                    // A field runs to the next literal, or to the end of the line.
                    let end = match self.parts.get(index) {
                        Some(Part::Literal(lit, finder)) => match lit.as_slice() {
                            [b] => find_byte(*b, rest),
                            // Short literals (`" "`, `] "`): find the first byte, check
                            // the rest; cheaper than a substring searcher's setup.
                            [first, tail @ ..] if tail.len() <= 3 => {
                                let mut from = 0;
                                loop {
                                    match find_byte(*first, &rest[from..]) {
                                        Some(i) if starts_with(&rest[from + i + 1..], tail) => {
                                            break Some(from + i);
                                        }
                                        Some(i) => from += i + 1,
                                        None => break None,
                                    }
                                }
                            }
                            _ => finder.find(rest),
                        }
                        .ok_or("the line ends before the log format does")?,
                        _ => rest.len(),
                    };
                    let value = &rest[..end];
                    rest = &rest[end..];
                    read_field(*field, value, &mut record, &mut upstream)?;
                }
            }
        }
        if record.method.is_empty() {
            return Err("no request line");
        }
        if record.status == 0 {
            return Err("no status");
        }
        if record.duration.is_none() {
            record.duration = upstream;
        }
        Ok(record)
    }
}

/// `haystack.starts_with(prefix)` for the few bytes of a log format's literals, without
/// a call into the C library's memcmp (which cost more than the comparison).
#[inline]
fn starts_with(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && haystack.iter().zip(prefix).all(|(a, b)| a == b)
}

/// The first `byte` in `haystack`. Log fields are short: a plain loop over the first
/// bytes finds most before a vectorized search would have finished its setup.
#[inline]
fn find_byte(byte: u8, haystack: &[u8]) -> Option<usize> {
    let head = haystack.len().min(8);
    match haystack[..head].iter().position(|b| *b == byte) {
        Some(i) => Some(i),
        None => memchr::memchr(byte, &haystack[head..]).map(|i| i + head),
    }
}

fn push_field(parts: &mut Vec<Part>, literal: &mut Vec<u8>, field: Field) -> Result<(), String> {
    if !literal.is_empty() {
        parts.push(self::literal(std::mem::take(literal)));
    } else if matches!(parts.last(), Some(Part::Field(_))) {
        return Err("two fields with nothing between them cannot be told apart".to_string());
    }
    parts.push(Part::Field(field));
    Ok(())
}

fn finish(
    mut parts: Vec<Part>,
    literal: Vec<u8>,
    time_is_start: bool,
    name: &'static str,
) -> Result<LogFormat, String> {
    if !literal.is_empty() {
        parts.push(self::literal(literal));
    }
    let has = |f: Field| parts.iter().any(|p| matches!(p, Part::Field(x) if *x == f));
    if !(has(Field::Request) || (has(Field::Method) && has(Field::Target))) {
        return Err(
            "the log format has no request (`$request`, or `$request_method` and `$request_uri`; Apache `%r`)"
                .to_string(),
        );
    }
    if !has(Field::Status) {
        return Err("the log format has no status (`$status`, Apache `%s`)".to_string());
    }
    let tail_jump = tail_jump(&parts);
    Ok(LogFormat {
        parts,
        time_is_start,
        name,
        tail_jump,
    })
}

fn parse_u64(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 19 {
        return None;
    }
    let mut v = 0u64;
    for &b in value {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(b - b'0');
    }
    Some(v)
}

/// `0.123` → 0.123. The common shape (digits, a dot, up to 9 digits) is read directly;
/// anything else goes through the standard parser.
fn parse_seconds(value: &[u8]) -> Option<f64> {
    if let Some(dot) = memchr::memchr(b'.', value)
        && (1..=9).contains(&dot)
        && (1..=9).contains(&(value.len() - dot - 1))
    {
        let (whole, fraction) = (&value[..dot], &value[dot + 1..]);
        if let (Some(w), Some(f)) = (parse_u64(whole), parse_u64(fraction)) {
            const SCALE: [f64; 10] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
            return Some(w as f64 + f as f64 / SCALE[fraction.len()]);
        }
    }
    std::str::from_utf8(value).ok()?.trim().parse::<f64>().ok()
}

fn read_field<'a>(
    field: Field,
    value: &'a [u8],
    record: &mut Record<'a>,
    upstream: &mut Option<f64>,
) -> Result<(), &'static str> {
    match field {
        Field::ClientAddr => record.client = Some(value),
        Field::ClientAddrPort => record.client = Some(strip_port(value)),
        Field::TimeLocal => {
            record.time = Some(
                crate::time::parse_clf(value).ok_or("the time is not dd/Mon/yyyy:hh:mm:ss zone")?,
            )
        }
        Field::TimeIso => {
            record.time = Some(crate::time::parse_iso(value).ok_or("the time is not ISO 8601")?)
        }
        Field::Msec => {
            record.time = Some(parse_seconds(value).ok_or("$msec is not a number")?);
        }
        Field::Request => {
            let mut words = value.split(|b| *b == b' ');
            let method = words.next().unwrap_or_default();
            let target = words
                .next()
                .ok_or("the request line is not METHOD TARGET PROTOCOL")?;
            if method.is_empty() || !method.iter().all(u8::is_ascii_uppercase) || target.is_empty()
            {
                return Err("the request line is not METHOD TARGET PROTOCOL");
            }
            record.method = method;
            record.target = target;
        }
        Field::Method => record.method = value,
        Field::Target => record.target = value,
        Field::Status => {
            let status = parse_u64(value).filter(|s| (100..=999).contains(s));
            record.status = status.ok_or("the status is not a three-digit number")? as u16;
        }
        Field::BodyBytes => record.bytes = parse_u64(value),
        Field::RequestBytes => record.request_bytes = parse_u64(value),
        Field::DurationPart => {
            if let Some(s) = parse_seconds(value).filter(|s| *s >= 0.0) {
                record.duration = Some(record.duration.unwrap_or(0.0) + s);
            }
        }
        Field::DurationSeconds => record.duration = parse_seconds(value),
        Field::DurationMicros => record.duration = parse_u64(value).map(|us| us as f64 / 1e6),
        Field::UpstreamSeconds => {
            // Retries list each upstream's time: the request spent their sum upstream.
            let mut total = 0.0;
            let mut any = false;
            for part in value.split(|b| *b == b',' || *b == b':') {
                if let Some(s) = parse_seconds(part) {
                    total += s;
                    any = true;
                }
            }
            *upstream = any.then_some(total);
        }
        Field::Host => record.host = Some(value),
        Field::Ignored => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_combined_and_custom() {
        let f = LogFormat::combined();
        let line = br#"10.1.2.3 - - [10/Oct/2026:13:55:36 +0000] "GET /users/42/orders?page=2 HTTP/1.1" 200 512 "-" "curl/8.0""#;
        let r = f.parse(line).unwrap();
        assert_eq!(r.method, b"GET");
        assert_eq!(r.target, b"/users/42/orders?page=2");
        assert_eq!(r.status, 200);
        assert_eq!(r.bytes, Some(512));
        assert_eq!(r.client, Some(&b"10.1.2.3"[..]));
        assert!(r.time.is_some() && r.duration.is_none());

        let f = LogFormat::nginx(
            r#"$remote_addr [$time_local] "$request" $status $body_bytes_sent rt=$request_time uct=$upstream_response_time host=$host"#,
        )
        .unwrap();
        let r = f
            .parse(br#"::1 [10/Oct/2026:13:55:36 +0000] "POST /checkout HTTP/2.0" 502 0 rt=0.250 uct=0.100, 0.120 host=shop.example"#)
            .unwrap();
        assert_eq!(r.duration, Some(0.25));
        assert_eq!(r.host, Some(&b"shop.example"[..]));
        let f =
            LogFormat::nginx(r#"$msec "$request" $status uct=$upstream_response_time"#).unwrap();
        let r = f
            .parse(br#"1700000000.123 "GET / HTTP/1.1" 200 uct=0.100, 0.120"#)
            .unwrap();
        assert!((r.duration.unwrap() - 0.22).abs() < 1e-9);
        assert!((r.time.unwrap() - 1_700_000_000.123).abs() < 1e-6);
    }

    #[test]
    fn the_last_field_is_found_from_the_end_past_unread_fields() {
        let f = LogFormat::nginx(
            r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#,
        )
        .unwrap();
        assert_eq!(f.tail_jump, Some(12), "the referer field");
        // A user agent holding `" ` does not shift the duration.
        let r = f
            .parse(br#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 5 "-" "odd" "agent" 0.250"#)
            .unwrap();
        assert_eq!(r.duration, Some(0.25));
        assert_eq!(
            f.parse(br#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 5 -"#),
            Err("the line ends before the log format does")
        );
        assert_eq!(LogFormat::combined().tail_jump, None, "ends with a literal");
    }

    #[test]
    fn apache_formats() {
        let f = LogFormat::apache(r#"%h %l %u %t "%r" %>s %b %D"#).unwrap();
        assert!(f.time_is_start);
        let r = f
            .parse(br#"192.0.2.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 - 2500"#)
            .unwrap();
        assert_eq!(r.target, b"/apache_pb.gif");
        assert_eq!(r.bytes, None);
        assert_eq!(r.duration, Some(0.0025));
        let f =
            LogFormat::apache(r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i""#).unwrap();
        assert!(f
            .parse(br#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 304 - "-" "Mozilla/5.0 (X11)""#)
            .is_ok());
    }

    #[test]
    fn malformed_lines_say_why_without_quoting() {
        let f = LogFormat::combined();
        assert_eq!(
            f.parse(b"garbage"),
            Err("the line ends before the log format does")
        );
        let bad = br#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "\x16\x03\x01" 400 0 "-" "-""#;
        assert_eq!(
            f.parse(bad),
            Err("the request line is not METHOD TARGET PROTOCOL")
        );
        let bad = br#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" abc 0 "-" "-""#;
        assert_eq!(f.parse(bad), Err("the status is not a three-digit number"));
    }

    #[test]
    fn bad_formats_are_explained() {
        assert!(
            LogFormat::nginx("$remote_addr $status")
                .unwrap_err()
                .contains("no request")
        );
        assert!(LogFormat::nginx(r#""$request"$status"#).is_ok());
        assert!(
            LogFormat::nginx(r#"$request$status"#)
                .unwrap_err()
                .contains("cannot be told apart")
        );
        assert!(LogFormat::apache("%r %>s %Z").unwrap_err().contains("%Z"));
    }
}
