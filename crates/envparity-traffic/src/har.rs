//! HAR files (browser and proxy captures): one JSON document whose `log.entries` are
//! requests. Only method, URL, status, sizes, start and duration are read; headers,
//! cookies and bodies are skipped by the parser and never kept.

use std::io::Read;

use serde::Deserialize;

use crate::format::Record;
use crate::model::ModelBuilder;

#[derive(Deserialize)]
struct Har {
    log: Log,
}

#[derive(Deserialize)]
struct Log {
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "startedDateTime", default)]
    started: Option<String>,
    /// Milliseconds, the whole exchange.
    #[serde(default)]
    time: Option<f64>,
    request: Request,
    response: Response,
}

#[derive(Deserialize)]
struct Request {
    method: String,
    url: String,
    #[serde(rename = "bodySize", default)]
    body_size: Option<i64>,
}

#[derive(Deserialize)]
struct Response {
    status: i64,
    #[serde(rename = "bodySize", default)]
    body_size: Option<i64>,
}

/// Reads a HAR document into `builder`. An entry that is not a completed request (status
/// 0: blocked, cancelled) is a malformed record numbered by its place in `entries`.
pub fn read_har(
    reader: impl Read,
    shown: &str,
    strict: bool,
    builder: &mut ModelBuilder,
) -> Result<(), String> {
    let har: Har = serde_json::from_reader(std::io::BufReader::new(reader)).map_err(|e| {
        // serde's own message can quote a value from the file: give the position only.
        let what = match e.classify() {
            serde_json::error::Category::Io => "cannot be read",
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "is not valid JSON"
            }
            serde_json::error::Category::Data => {
                "is not a HAR document (log.entries[] with request.method, request.url, response.status)"
            }
        };
        format!("{shown}:{}:{}: {what}", e.line(), e.column())
    })?;
    for (i, entry) in har.log.entries.iter().enumerate() {
        let number = i as u64 + 1;
        let time = entry
            .started
            .as_deref()
            .and_then(|t| crate::time::parse_iso(t.as_bytes()));
        let why = if !(100..1000).contains(&entry.response.status) {
            Some("the entry has no response (status 0: blocked or cancelled)")
        } else if entry.request.method.is_empty() || entry.request.url.is_empty() {
            Some("the entry has no request method or URL")
        } else if entry.started.is_some() && time.is_none() {
            Some("startedDateTime is not ISO 8601")
        } else {
            None
        };
        if let Some(why) = why {
            if strict {
                return Err(format!("{shown}: entry {number}: {why}"));
            }
            builder.malformed(shown, number, why);
            continue;
        }
        let record = Record {
            client: None,
            time,
            method: entry.request.method.as_bytes(),
            target: entry.request.url.as_bytes(),
            status: entry.response.status as u16,
            bytes: entry.response.body_size.and_then(|b| u64::try_from(b).ok()),
            request_bytes: entry.request.body_size.and_then(|b| u64::try_from(b).ok()),
            duration: entry.time.filter(|t| *t >= 0.0).map(|ms| ms / 1e3),
            host: None,
        };
        builder.add(&record, true);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_become_requests_and_bad_ones_are_counted() {
        let har = r#"{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[
          {"startedDateTime":"2026-11-23T10:00:00.000Z","time":250.5,
           "request":{"method":"GET","url":"https://shop.example/users/42?token=SECRET","headers":[{"name":"Cookie","value":"sid=SECRET"}],"bodySize":0},
           "response":{"status":200,"bodySize":512,"content":{"size":512,"text":"SECRET"}}},
          {"startedDateTime":"2026-11-23T10:00:01.000Z","time":-1,
           "request":{"method":"GET","url":"https://ads.example/x"},"response":{"status":0}}
        ]}}"#;
        let mut b = ModelBuilder::new();
        read_har(har.as_bytes(), "a.har", false, &mut b).unwrap();
        let m = b.finish();
        assert_eq!((m.requests, m.malformed), (1, 1));
        assert_eq!(m.routes[0].route, "/users/:id?token");
        assert_eq!(m.routes[0].latency.as_ref().map(|l| l.max), Some(0.2505));
        assert_eq!(m.malformed_samples[0].line, 2);
        let json = serde_json::to_string(&m).unwrap();
        assert!(!json.contains("SECRET"));
        let mut b = ModelBuilder::new();
        let err = read_har(har.as_bytes(), "a.har", true, &mut b).unwrap_err();
        assert!(err.starts_with("a.har: entry 2:"), "{err}");
        let err = read_har(&br#"{"log":{"entries":[{"request":{"method":"GET","url":"SECRET-URL"},"response":{"status":"SECRET"}}]}}"#[..], "b.har", false, &mut b).unwrap_err();
        assert!(
            err.starts_with("b.har:1:") && !err.contains("SECRET"),
            "{err}"
        );
    }
}
