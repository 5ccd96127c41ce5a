//! Which format a log file is in: named by the user, or told from its first lines.

use crate::format::{LogFormat, Record};
use crate::json::JsonFormat;

/// The log format the user asked for.
#[derive(Clone, Debug)]
pub enum Input {
    /// Told from each file's first lines: HAR, JSON lines (a known shape), nginx/Apache
    /// `combined`, the Common Log Format, or AWS ALB.
    Auto,
    /// JSON lines, the mapping told from the first lines.
    JsonAuto,
    Text(LogFormat),
    Json(JsonFormat),
    Har,
}

/// The names `--input` takes.
pub const INPUT_NAMES: &str = "auto, combined, common, alb, har, json, or a JSON preset (envoy, traefik, caddy, nginx-json, generic)";

impl Input {
    /// An input by name (`--input`, `traffic_input`).
    pub fn named(name: &str) -> Result<Input, String> {
        Ok(match name {
            "auto" => Input::Auto,
            "combined" => Input::Text(LogFormat::combined()),
            "common" | "clf" => Input::Text(LogFormat::common()),
            "alb" | "aws-alb" => Input::Text(LogFormat::alb()),
            "har" => Input::Har,
            "json" | "jsonl" => Input::JsonAuto,
            "nginx-json" => Input::Json(JsonFormat::preset("nginx").expect("built in")),
            other => match JsonFormat::preset(other) {
                Some(f) if other != "nginx" => Input::Json(f),
                _ => {
                    return Err(format!(
                        "unknown log input `{other}` (one of: {INPUT_NAMES})"
                    ));
                }
            },
        })
    }

    /// The input from the options a user can give; at most one of them may be set.
    pub fn from_options(
        input: Option<&str>,
        log_format: Option<&str>,
        apache_format: Option<&str>,
        json_fields: Option<&str>,
    ) -> Result<Input, String> {
        let given = [input, log_format, apache_format, json_fields]
            .iter()
            .filter(|o| o.is_some())
            .count();
        if given > 1 && !(json_fields.is_some() && matches!(input, Some("json" | "jsonl"))) {
            return Err(
                "give one of: an input name, an nginx log format, an Apache log format, JSON fields"
                    .to_string(),
            );
        }
        if let Some(f) = log_format {
            return LogFormat::nginx(f).map(Input::Text);
        }
        if let Some(f) = apache_format {
            return LogFormat::apache(f).map(Input::Text);
        }
        if let Some(f) = json_fields {
            return JsonFormat::custom(f).map(Input::Json);
        }
        input.map_or(Ok(Input::Auto), Input::named)
    }

    /// The format of one file, from its first bytes (decompressed) when not given.
    pub fn resolve(&self, head: &[u8], shown: &str) -> Result<Resolved, String> {
        let lines = first_lines(head);
        match self {
            Input::Text(f) => Ok(Resolved::Text(f.clone())),
            Input::Json(f) => Ok(Resolved::Json(f.clone())),
            Input::Har => Ok(Resolved::Har),
            Input::JsonAuto => best_json(&lines).map(Resolved::Json).ok_or_else(|| {
                format!(
                    "{shown}: no known JSON log shape reads its first lines (tried {}); map the fields with --json-fields",
                    crate::json::preset_names().join(", ")
                )
            }),
            Input::Auto => {
                if lines.is_empty() {
                    return Ok(Resolved::Text(LogFormat::combined()));
                }
                let first = head.iter().position(|b| !b.is_ascii_whitespace());
                if first.is_some_and(|i| head[i] == b'{') {
                    if looks_like_har(head) {
                        return Ok(Resolved::Har);
                    }
                    if let Some(f) = best_json(&lines) {
                        return Ok(Resolved::Json(f));
                    }
                }
                let candidates = [LogFormat::combined(), LogFormat::alb(), LogFormat::common()];
                let mut best: Option<(usize, &LogFormat)> = None;
                for f in &candidates {
                    let score = lines.iter().filter(|l| f.parse(l).is_ok()).count();
                    if score > 0 && best.is_none_or(|(s, _)| score > s) {
                        best = Some((score, f));
                    }
                }
                best.map(|(_, f)| Resolved::Text(f.clone())).ok_or_else(|| {
                    format!(
                        "{shown}: no log format envparity knows reads its first lines (tried nginx/Apache combined, common, AWS ALB, JSON lines, HAR); name it with --log-format, --apache-format, --json-fields or --input"
                    )
                })
            }
        }
    }
}

/// A file's format, decided.
#[derive(Clone, Debug)]
pub enum Resolved {
    Text(LogFormat),
    Json(JsonFormat),
    Har,
}

impl Resolved {
    /// Whether the records' time is when the request began.
    pub fn time_is_start(&self) -> bool {
        match self {
            Resolved::Text(f) => f.time_is_start,
            Resolved::Json(f) => f.time_is_start,
            Resolved::Har => true,
        }
    }

    /// Reads one line (HAR is not read by lines).
    pub fn parse_line<'a>(
        &self,
        line: &'a [u8],
        scratch: &'a mut Vec<u8>,
    ) -> Result<Record<'a>, &'static str> {
        match self {
            Resolved::Text(f) => f.parse(line),
            Resolved::Json(f) => f.parse(line, scratch),
            Resolved::Har => Err("a HAR file is one JSON document, not lines"),
        }
    }

    /// For messages: what the file was read as.
    pub fn describe(&self) -> String {
        match self {
            Resolved::Text(f) => f.name.to_string(),
            Resolved::Json(f) => format!("JSON lines ({})", f.name),
            Resolved::Har => "HAR".to_string(),
        }
    }
}

/// Up to 50 whole, non-empty lines from the start of a file.
fn first_lines(head: &[u8]) -> Vec<&[u8]> {
    let complete = match memchr::memrchr(b'\n', head) {
        // Bytes after the last newline may be a cut line, unless the head is the file.
        Some(i) if head.len() == HEAD_BYTES => &head[..i],
        _ => head,
    };
    complete
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(50)
        .collect()
}

/// A pretty-printed or one-line HAR document starts `{"log": {` … with `entries` inside.
fn looks_like_har(head: &[u8]) -> bool {
    let compact: Vec<u8> = head
        .iter()
        .take(4096)
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    compact.starts_with(br#"{"log":{"#) && memchr::memmem::find(head, b"\"entries\"").is_some()
        || compact.starts_with(br#"{"log":"#)
            && memchr::memmem::find(head, b"\"version\"").is_some()
}

fn best_json(lines: &[&[u8]]) -> Option<JsonFormat> {
    let mut best: Option<(usize, JsonFormat)> = None;
    for f in JsonFormat::presets() {
        let score = f.score(lines);
        if score > 0 && best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, f));
        }
    }
    best.map(|(_, f)| f)
}

/// How much of a file is read to tell its format.
pub const HEAD_BYTES: usize = 64 << 10;

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff(text: &str) -> Result<Resolved, String> {
        Input::Auto.resolve(text.as_bytes(), "x.log")
    }

    #[test]
    fn formats_are_told_from_their_first_lines() {
        let combined =
            r#"10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "curl""#;
        assert!(matches!(sniff(combined), Ok(Resolved::Text(f)) if !f.time_is_start));
        let common = r#"10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5"#;
        let Ok(Resolved::Text(f)) = sniff(common) else {
            panic!()
        };
        assert!(f.parse(common.as_bytes()).is_ok());
        assert!(LogFormat::combined().parse(common.as_bytes()).is_err());
        let alb = r#"https 2026-11-23T22:23:00.186641Z app/shop/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.001 0.048 0.000 200 200 34 366 "GET https://shop.example:443/users/42?x=1 HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "shop.example" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2026-11-23T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234"#;
        let Ok(Resolved::Text(f)) = sniff(alb) else {
            panic!("{:?}", sniff(alb))
        };
        assert!(f.time_is_start);
        let r = f.parse(alb.as_bytes()).unwrap();
        assert_eq!(r.client, Some(&b"192.168.131.39"[..]));
        assert!((r.duration.unwrap() - 0.049).abs() < 1e-9);
        assert_eq!(
            (r.status, r.bytes, r.request_bytes),
            (200, Some(366), Some(34))
        );
        assert_eq!(r.target, b"https://shop.example:443/users/42?x=1");
        assert!(r.time.is_some());
        let envoy = r#"{"start_time":"2026-11-23T10:00:00Z","method":"GET","path":"/","response_code":200,"duration":3}"#;
        assert!(matches!(sniff(envoy), Ok(Resolved::Json(f)) if f.name == "envoy"));
        let har = "{\n  \"log\": {\n    \"version\": \"1.2\",\n    \"entries\": []\n  }\n}\n";
        assert!(matches!(sniff(har), Ok(Resolved::Har)));
        let err = sniff("hello world\nthis is not a log\n").err().unwrap();
        assert!(
            err.starts_with("x.log: no log format") && err.contains("--log-format"),
            "{err}"
        );
        assert!(matches!(sniff(""), Ok(Resolved::Text(_))));
    }

    #[test]
    fn options_name_one_input() {
        assert!(matches!(
            Input::from_options(None, None, None, None),
            Ok(Input::Auto)
        ));
        assert!(matches!(Input::named("traefik"), Ok(Input::Json(f)) if f.name == "traefik"));
        assert!(
            Input::named("nginx").is_err(),
            "nginx-json, not nginx, is the JSON preset"
        );
        assert!(Input::named("w3c").unwrap_err().contains("one of"));
        assert!(Input::from_options(Some("alb"), Some("$status"), None, None).is_err());
        assert!(matches!(
            Input::from_options(
                Some("json"),
                None,
                None,
                Some("status=code,method=m,target=p")
            ),
            Ok(Input::Json(_))
        ));
    }
}
