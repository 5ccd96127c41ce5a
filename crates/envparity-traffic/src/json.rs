//! JSON-lines access logs (Envoy, Traefik, Caddy, nginx `escape=json`, application
//! loggers): a field mapping from the record's fields to JSON keys, and a scanner that
//! reads only the mapped keys of a line into borrowed slices, skipping the rest unparsed.

use crate::format::Record;

/// What a mapped JSON value means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Time,
    Method,
    /// Path and query, or an absolute URL.
    Target,
    /// `METHOD TARGET PROTOCOL` in one string.
    Request,
    Status,
    Bytes,
    RequestBytes,
    Duration(Unit),
    Client,
    Host,
}

/// Unit of a numeric duration. A string duration with its own unit (`"1.5ms"`, Go's
/// `time.Duration` text) overrides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

impl Unit {
    fn seconds(self, v: f64) -> f64 {
        match self {
            Unit::Seconds => v,
            Unit::Millis => v / 1e3,
            Unit::Micros => v / 1e6,
            Unit::Nanos => v / 1e9,
        }
    }
}

const SLOTS: usize = 10;

fn slot_index(slot: Slot) -> usize {
    match slot {
        Slot::Time => 0,
        Slot::Method => 1,
        Slot::Target => 2,
        Slot::Request => 3,
        Slot::Status => 4,
        Slot::Bytes => 5,
        Slot::RequestBytes => 6,
        Slot::Duration(_) => 7,
        Slot::Client => 8,
        Slot::Host => 9,
    }
}

/// One key path (`request.method` is `["request", "method"]`) feeding a slot; when a
/// slot has several candidates, the first listed that the line has wins.
#[derive(Clone, Debug)]
struct Candidate {
    path: Vec<Vec<u8>>,
    slot: Slot,
    rank: u8,
}

/// A compiled JSON-lines mapping.
#[derive(Clone, Debug)]
pub struct JsonFormat {
    /// The preset's name, or `custom`.
    pub name: &'static str,
    candidates: Vec<Candidate>,
    /// Whether the mapped time is when the request began.
    pub time_is_start: bool,
}

/// The presets: (name, time is start, mapping). Sniffing tries them in this order.
const PRESETS: &[(&str, bool, &str)] = &[
    (
        "traefik",
        true,
        "time=StartUTC|StartLocal,method=RequestMethod,target=RequestPath,status=DownstreamStatus|OriginStatus,\
         duration=Duration:ns,client=ClientHost|ClientAddr,bytes=DownstreamContentSize,\
         request_bytes=RequestContentSize,host=RequestHost",
    ),
    (
        "envoy",
        true,
        "time=start_time,method=method,target=path|x_envoy_original_path,status=response_code,\
         duration=duration:ms,client=downstream_remote_address|x_forwarded_for,bytes=bytes_sent,\
         request_bytes=bytes_received,host=authority",
    ),
    (
        "caddy",
        false,
        "time=ts,method=request.method,target=request.uri,status=status,duration=duration:s,\
         client=request.client_ip|request.remote_ip,bytes=size,host=request.host",
    ),
    (
        "nginx",
        false,
        "time=time_iso8601|time_local|msec,method=request_method,target=request_uri|uri,\
         request=request,status=status,duration=request_time:s|upstream_response_time:s,\
         client=remote_addr|realip_remote_addr,bytes=body_bytes_sent|bytes_sent,\
         request_bytes=request_length,host=host|http_host",
    ),
    (
        "generic",
        false,
        "time=timestamp|time|ts|@timestamp|date,method=method|http.method|http_method|request.method|req.method,\
         target=path|url|uri|http.target|http.url|http.path|request.path|request.url|req.url,\
         status=status|status_code|statusCode|http.status_code|response.status|res.statusCode,\
         duration=duration_ms:ms|latency_ms:ms|elapsed_ms:ms|response_time_ms:ms|responseTime:ms|\
         duration_s:s|duration_seconds:s|latency:ms|duration:ms,\
         client=client_ip|remote_ip|remote_addr|ip|client.ip,bytes=bytes|response_size|size|bytes_sent,\
         host=host|hostname|http.host",
    ),
];

/// Names of the built-in mappings, for help texts and errors.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.0).collect()
}

impl JsonFormat {
    /// A built-in mapping by name.
    pub fn preset(name: &str) -> Option<JsonFormat> {
        PRESETS
            .iter()
            .find(|p| p.0 == name)
            .map(|(name, start, spec)| {
                JsonFormat::compile(name, spec, *start).expect("the built-in mappings compile")
            })
    }

    /// All built-in mappings, in sniffing order.
    pub fn presets() -> Vec<JsonFormat> {
        PRESETS
            .iter()
            .map(|p| JsonFormat::preset(p.0).expect("listed"))
            .collect()
    }

    /// A user's mapping: `time=start_time:start,method=method,target=path,status=code,
    /// duration=took:ms,client=ip,bytes=size,host=authority` — keys may be dotted paths into
    /// nested objects, `a|b` lists alternatives. Slots the user leaves out come from the
    /// `generic` preset. `:start`/`:end` on the time says which moment it marks (default:
    /// end, as most servers log when the response is done).
    pub fn custom(spec: &str) -> Result<JsonFormat, String> {
        let mut format = JsonFormat::compile("custom", spec, false)?;
        let generic = JsonFormat::preset("generic").expect("built in");
        let given: Vec<usize> = format
            .candidates
            .iter()
            .map(|c| slot_index(c.slot))
            .collect();
        for c in generic.candidates {
            // `target` and `request` both give the request line: one of them is enough.
            let covered = given.contains(&slot_index(c.slot))
                || (matches!(c.slot, Slot::Target | Slot::Method)
                    && given.contains(&slot_index(Slot::Request)));
            if !covered {
                format.candidates.push(c);
            }
        }
        Ok(format)
    }

    fn compile(name: &'static str, spec: &str, default_start: bool) -> Result<JsonFormat, String> {
        let mut candidates = Vec::new();
        let mut time_is_start = default_start;
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (slot_name, keys) = item.split_once('=').ok_or_else(|| {
                format!("`{item}` is not FIELD=KEY (e.g. `status=response_code`)")
            })?;
            for (rank, key) in keys.split('|').map(str::trim).enumerate() {
                let (key, unit) = match key.rsplit_once(':') {
                    Some((k, u)) => (k, Some(u)),
                    None => (key, None),
                };
                if key.is_empty() {
                    return Err(format!("`{item}` names no JSON key"));
                }
                let slot = match (slot_name.trim(), unit) {
                    ("time", None) => Slot::Time,
                    ("time", Some("start")) => {
                        time_is_start = true;
                        Slot::Time
                    }
                    ("time", Some("end")) => {
                        time_is_start = false;
                        Slot::Time
                    }
                    ("method", None) => Slot::Method,
                    ("target" | "path" | "uri" | "url", None) => Slot::Target,
                    ("request", None) => Slot::Request,
                    ("status", None) => Slot::Status,
                    ("bytes", None) => Slot::Bytes,
                    ("request_bytes", None) => Slot::RequestBytes,
                    ("client", None) => Slot::Client,
                    ("host", None) => Slot::Host,
                    ("duration", unit) => Slot::Duration(match unit {
                        None | Some("s") => Unit::Seconds,
                        Some("ms") => Unit::Millis,
                        Some("us") => Unit::Micros,
                        Some("ns") => Unit::Nanos,
                        Some(other) => {
                            return Err(format!(
                                "`{item}`: unknown duration unit `{other}` (s, ms, us or ns)"
                            ));
                        }
                    }),
                    (other, None) => {
                        return Err(format!(
                            "unknown field `{other}` (time, method, target, request, status, bytes, request_bytes, duration, client, host)"
                        ));
                    }
                    (other, Some(u)) => {
                        return Err(format!("`{other}` takes no `:{u}` suffix"));
                    }
                };
                candidates.push(Candidate {
                    path: key.split('.').map(|s| s.as_bytes().to_vec()).collect(),
                    slot,
                    rank: rank as u8,
                });
            }
        }
        let has = |s: usize| candidates.iter().any(|c| slot_index(c.slot) == s);
        let request = has(slot_index(Slot::Request))
            || (has(slot_index(Slot::Method)) && has(slot_index(Slot::Target)));
        if name == "custom" {
            // Gaps are filled from `generic` by the caller.
        } else if !request || !has(slot_index(Slot::Status)) {
            return Err("a mapping needs the request (method and target) and status".to_string());
        }
        Ok(JsonFormat {
            name,
            candidates,
            time_is_start,
        })
    }

    /// Reads one JSON object. A target with JSON escapes (`\/`, `\u0026`) is decoded into
    /// `scratch`; everything else borrows from `line`.
    pub fn parse<'a>(
        &self,
        line: &'a [u8],
        scratch: &'a mut Vec<u8>,
    ) -> Result<Record<'a>, &'static str> {
        let mut found: [Option<(u8, Value<'a>)>; SLOTS] = [None; SLOTS];
        let mut units = [Unit::Seconds; SLOTS];
        let mut scanner = Scanner { text: line, at: 0 };
        scanner.skip_ws();
        if scanner.peek() != Some(b'{') {
            return Err("the line is not a JSON object");
        }
        let mut path: [&[u8]; 4] = [b""; 4];
        scanner.object(
            0,
            &mut path,
            &mut |depth, path, value| {
                for c in &self.candidates {
                    if c.path.len() == depth + 1
                        && c.path.iter().zip(path.iter()).all(|(a, b)| a == b)
                    {
                        let i = slot_index(c.slot);
                        if found[i].is_none_or(|(rank, _)| c.rank < rank) {
                            found[i] = Some((c.rank, value));
                            if let Slot::Duration(u) = c.slot {
                                units[i] = u;
                            }
                        }
                    }
                }
            },
            &|depth, path| {
                self.candidates.iter().any(|c| {
                    c.path.len() > depth + 1 && c.path.iter().zip(path.iter()).all(|(a, b)| a == b)
                })
            },
        )?;
        let get = |slot: Slot| found[slot_index(slot)].map(|(_, v)| v);
        let mut record = Record::default();
        if let Some(v) = get(Slot::Request) {
            let text = v.raw();
            let mut words = text.split(|b| *b == b' ');
            record.method = words.next().unwrap_or_default();
            record.target = words.next().unwrap_or_default();
        }
        if let Some(v) = get(Slot::Method) {
            record.method = v.raw();
        }
        let mut escaped_target = None;
        if let Some(v) = get(Slot::Target) {
            match v {
                Value::Str(s, true) => escaped_target = Some(s),
                _ => record.target = v.raw(),
            }
        }
        if record.method.is_empty() || !record.method.iter().all(u8::is_ascii_alphabetic) {
            return Err("no request method");
        }
        let status = get(Slot::Status)
            .and_then(|v| parse_number(v.raw()))
            .filter(|s| (100.0..1000.0).contains(s));
        record.status = status.ok_or("no three-digit status")? as u16;
        if let Some(v) = get(Slot::Time) {
            record.time = Some(match v {
                Value::Num(n) => {
                    let n = parse_number(n).ok_or("the time is not a number")?;
                    epoch_seconds(n)
                }
                _ => {
                    let text = v.raw();
                    crate::time::parse_iso(text)
                        .or_else(|| crate::time::parse_clf(text))
                        .or_else(|| parse_number(text).map(epoch_seconds))
                        .ok_or("the time is not ISO 8601, dd/Mon/yyyy:hh:mm:ss or a number")?
                }
            });
        }
        if let Some(v) = get(Slot::Duration(Unit::Seconds)) {
            record.duration =
                parse_duration(v.raw(), units[slot_index(Slot::Duration(Unit::Seconds))]);
        }
        record.bytes = get(Slot::Bytes)
            .and_then(|v| parse_number(v.raw()))
            .map(|n| n as u64);
        record.request_bytes = get(Slot::RequestBytes)
            .and_then(|v| parse_number(v.raw()))
            .map(|n| n as u64);
        record.client = get(Slot::Client).map(|v| crate::format::strip_port(v.raw()));
        record.host = get(Slot::Host).map(|v| v.raw());
        if let Some(s) = escaped_target {
            unescape(s, scratch);
            record.target = scratch.as_slice();
        }
        if record.target.is_empty() {
            return Err("no request path");
        }
        Ok(record)
    }

    /// How many of `lines` this mapping reads: used to pick a preset for a file.
    pub fn score(&self, lines: &[&[u8]]) -> usize {
        let mut scratch = Vec::new();
        lines
            .iter()
            .filter(|l| self.parse(l, &mut scratch).is_ok())
            .count()
    }
}

/// Seconds since 1970 from a number in s, ms, µs or ns (told apart by magnitude: a time
/// in seconds is below 1e11 until the year 5138).
fn epoch_seconds(n: f64) -> f64 {
    if n > 1e17 {
        n / 1e9
    } else if n > 1e14 {
        n / 1e6
    } else if n > 1e11 {
        n / 1e3
    } else {
        n
    }
}

fn parse_number(text: &[u8]) -> Option<f64> {
    std::str::from_utf8(text).ok()?.trim().parse::<f64>().ok()
}

/// A number in `unit`, or a Go duration string (`1.5ms`, `2s`, `350µs`, `1m2.5s`).
fn parse_duration(text: &[u8], unit: Unit) -> Option<f64> {
    if let Some(n) = parse_number(text) {
        return (n >= 0.0).then(|| unit.seconds(n));
    }
    let text = std::str::from_utf8(text).ok()?;
    let mut total = 0.0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * factor;
        rest = &rest[unit_len..];
    }
    Some(total)
}

#[derive(Clone, Copy, Debug)]
enum Value<'a> {
    /// String contents without the quotes, and whether they hold escapes.
    Str(&'a [u8], bool),
    Num(&'a [u8]),
    Other,
}

impl<'a> Value<'a> {
    fn raw(self) -> &'a [u8] {
        match self {
            Value::Str(s, _) | Value::Num(s) => s,
            Value::Other => b"",
        }
    }
}

/// Receives each mapped leaf: its depth, key path and value.
type Leaf<'a, 'f> = dyn FnMut(usize, &[&'a [u8]], Value<'a>) + 'f;

struct Scanner<'a> {
    text: &'a [u8],
    at: usize,
}

const MAX_DEPTH: usize = 4;

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), &'static str> {
        self.skip_ws();
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err("the line is not valid JSON")
        }
    }

    /// A string's contents; `at` is on the opening quote.
    fn string(&mut self) -> Result<(&'a [u8], bool), &'static str> {
        self.at += 1;
        let start = self.at;
        let mut escaped = false;
        loop {
            let i = memchr::memchr2(b'"', b'\\', &self.text[self.at..])
                .ok_or("a JSON string is not closed")?;
            self.at += i;
            if self.text[self.at] == b'\\' {
                escaped = true;
                self.at += 2;
                if self.at > self.text.len() {
                    return Err("a JSON string is not closed");
                }
            } else {
                let s = &self.text[start..self.at];
                self.at += 1;
                return Ok((s, escaped));
            }
        }
    }

    /// Skips any value without looking inside, counting brackets outside strings.
    fn skip_value(&mut self) -> Result<Value<'a>, &'static str> {
        self.skip_ws();
        match self.peek() {
            Some(b'"') => {
                let (s, e) = self.string()?;
                Ok(Value::Str(s, e))
            }
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                loop {
                    match self.peek() {
                        Some(b'{' | b'[') => {
                            depth += 1;
                            self.at += 1;
                        }
                        Some(b'}' | b']') => {
                            depth -= 1;
                            self.at += 1;
                            if depth == 0 {
                                return Ok(Value::Other);
                            }
                        }
                        Some(b'"') => {
                            self.string()?;
                        }
                        Some(_) => self.at += 1,
                        None => return Err("the line ends inside a JSON value"),
                    }
                }
            }
            Some(_) => {
                let start = self.at;
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    self.at += 1;
                }
                let raw = &self.text[start..self.at];
                match raw.first() {
                    Some(b'-' | b'0'..=b'9') => Ok(Value::Num(raw)),
                    Some(b't' | b'f' | b'n') => Ok(Value::Other),
                    _ => Err("the line is not valid JSON"),
                }
            }
            None => Err("the line ends inside a JSON value"),
        }
    }

    /// Walks an object; `at` is on `{`. Leaves go to `leaf`; nested objects are entered
    /// only when `descend` says a mapped key lies below them.
    fn object(
        &mut self,
        depth: usize,
        path: &mut [&'a [u8]; MAX_DEPTH],
        leaf: &mut Leaf<'a, '_>,
        descend: &dyn Fn(usize, &[&'a [u8]]) -> bool,
    ) -> Result<(), &'static str> {
        self.expect(b'{')?;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err("the line is not valid JSON");
            }
            let (key, _) = self.string()?;
            self.expect(b':')?;
            self.skip_ws();
            path[depth] = key;
            if self.peek() == Some(b'{') && depth + 1 < MAX_DEPTH && descend(depth, &path[..=depth])
            {
                self.object(depth + 1, path, leaf, descend)?;
            } else {
                let value = self.skip_value()?;
                leaf(depth, &path[..=depth], value);
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err("the line is not valid JSON"),
            }
        }
    }
}

/// Decodes JSON string escapes into `out`.
fn unescape(s: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' || i + 1 >= s.len() {
            out.push(s[i]);
            i += 1;
            continue;
        }
        let c = s[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'u' => {
                let hex = |at: usize| {
                    s.get(at..at + 4)
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                };
                let Some(mut code) = hex(i) else {
                    continue;
                };
                i += 4;
                if (0xD800..0xDC00).contains(&code)
                    && s.get(i) == Some(&b'\\')
                    && s.get(i + 1) == Some(&b'u')
                    && let Some(low) = hex(i + 2).filter(|l| (0xDC00..0xE000).contains(l))
                {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    i += 6;
                }
                let ch = char::from_u32(code).unwrap_or('\u{FFFD}');
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<'a>(f: &JsonFormat, line: &'a str, scratch: &'a mut Vec<u8>) -> Record<'a> {
        f.parse(line.as_bytes(), scratch).unwrap()
    }

    #[test]
    fn envoy_traefik_caddy_and_nginx_lines() {
        let mut s = Vec::new();
        let envoy = JsonFormat::preset("envoy").unwrap();
        let r = parse(
            &envoy,
            r#"{"start_time":"2026-11-23T10:00:00.250Z","method":"POST","path":"/api\/orders?x=1","protocol":"HTTP/1.1","response_code":201,"bytes_received":12,"bytes_sent":345,"duration":120,"downstream_remote_address":"10.0.0.7:51234","authority":"shop"}"#,
            &mut s,
        );
        assert_eq!((r.method, r.status), (&b"POST"[..], 201));
        assert_eq!(r.target, b"/api/orders?x=1");
        assert_eq!(r.duration, Some(0.12));
        assert_eq!(r.client, Some(&b"10.0.0.7"[..]));
        assert_eq!((r.bytes, r.request_bytes), (Some(345), Some(12)));
        assert!(envoy.time_is_start);

        let traefik = JsonFormat::preset("traefik").unwrap();
        let mut s = Vec::new();
        let r = parse(
            &traefik,
            r#"{"ClientHost":"192.0.2.1","DownstreamStatus":404,"Duration":2500000,"RequestMethod":"GET","RequestPath":"/x","StartUTC":"2026-11-23T10:00:00.123456789Z"}"#,
            &mut s,
        );
        assert_eq!((r.status, r.duration), (404, Some(0.0025)));

        let caddy = JsonFormat::preset("caddy").unwrap();
        let mut s = Vec::new();
        let r = parse(
            &caddy,
            r#"{"level":"info","ts":1763892000.5,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"127.0.0.1","proto":"HTTP/2.0","method":"GET","host":"shop","uri":"/users/42","headers":{"User-Agent":["curl"]}},"duration":0.0042,"size":12,"status":200}"#,
            &mut s,
        );
        assert_eq!(r.target, b"/users/42");
        assert_eq!(r.time, Some(1_763_892_000.5));
        assert_eq!(r.host, Some(&b"shop"[..]));
        assert!(!caddy.time_is_start);

        let nginx = JsonFormat::preset("nginx").unwrap();
        let mut s = Vec::new();
        let r = parse(
            &nginx,
            r#"{"time_local":"23/Nov/2026:10:00:00 +0000","remote_addr":"::1","request":"GET /a?b=c HTTP/1.1","status":"200","body_bytes_sent":"0","request_time":"0.003"}"#,
            &mut s,
        );
        assert_eq!((r.method, r.target), (&b"GET"[..], &b"/a?b=c"[..]));
        assert_eq!(r.duration, Some(0.003));
        assert_eq!(r.status, 200);
    }

    #[test]
    fn custom_mappings_and_go_durations() {
        let f = JsonFormat::custom(
            "time=at:start,target=req.path,method=req.verb,status=code,duration=took",
        )
        .unwrap();
        assert!(f.time_is_start);
        let mut s = Vec::new();
        let r = parse(
            &f,
            r#"{"at":1763892000123,"req":{"verb":"DELETE","path":"/carts/9"},"code":204,"took":"1.5ms"}"#,
            &mut s,
        );
        assert_eq!(r.method, b"DELETE");
        assert_eq!(r.time, Some(1_763_892_000.123));
        assert_eq!(r.duration, Some(0.0015));
        assert!(
            JsonFormat::custom("status")
                .unwrap_err()
                .contains("FIELD=KEY")
        );
        assert!(
            JsonFormat::custom("speed=x")
                .unwrap_err()
                .contains("unknown field")
        );
        assert!(
            JsonFormat::custom("duration=x:weeks")
                .unwrap_err()
                .contains("unit")
        );
        assert_eq!(parse_duration(b"1m2.5s", Unit::Seconds), Some(62.5));
    }

    #[test]
    fn broken_lines_say_why() {
        let f = JsonFormat::preset("envoy").unwrap();
        let mut s = Vec::new();
        assert_eq!(
            f.parse(b"plain text", &mut s).err(),
            Some("the line is not a JSON object")
        );
        assert_eq!(
            f.parse(
                br#"{"method":"GET","path":"/x","response_code":200"#,
                &mut s
            )
            .err(),
            Some("the line is not valid JSON")
        );
        assert_eq!(
            f.parse(br#"{"method":"GET","path":"/x"}"#, &mut s).err(),
            Some("no three-digit status")
        );
        assert_eq!(
            f.parse(br#"{"method":"GET","path":"/x\"}"#, &mut s).err(),
            Some("a JSON string is not closed")
        );
    }

    #[test]
    fn unicode_escapes_decode() {
        let mut out = Vec::new();
        unescape(br"/caf\u00e9/\ud83d\ude00\/x", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "/café/😀/x");
    }
}
