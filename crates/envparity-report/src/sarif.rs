//! The SARIF 2.1.0 format, for GitHub code scanning and other SARIF viewers.
//!
//! One run; `tool.driver` is envparity with one rule per class (the rule id is the class
//! name). One result per finding to act on:
//! - `level` from the severity (error → `error`, warning → `warning`, info → `note`);
//! - `locations`: the compared environment's side (usually QA: the file one would change),
//!   or the reference side when the compared side has no location; the file as a relative
//!   URI against `%SRCROOT%` (envparity.toml's folder), with `region.startLine`;
//! - `relatedLocations`: the other side, its message naming the environment and value;
//! - `logicalLocations`: the key, as rules in envparity.toml match it;
//! - `partialFingerprints["envparity/v1"]`: a stable hash of the class, the key and the two
//!   environment names (never the values), so code scanning follows one alert across runs.

use envparity_core::{Class, Finding, Report, Severity, Side};
use serde_json::{Value, json};

use crate::common::fnv1a64;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const FINGERPRINT: &str = "envparity/v1";

pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn rule_name(class: Class) -> &'static str {
    match class {
        Class::Drift => "Drift",
        Class::Missing => "Missing",
        Class::Extra => "Extra",
        Class::SharedSecret => "SharedSecret",
        Class::Expected => "Expected",
        Class::EnvEquivalent => "EnvEquivalent",
        Class::Unreadable => "Unreadable",
        Class::Policy => "Policy",
    }
}

fn short_description(class: Class) -> &'static str {
    match class {
        Class::Drift => "A value differs between the environments",
        Class::Missing => "Present in the reference environment only",
        Class::Extra => "Present in the compared environment only",
        Class::SharedSecret => "The environments hold the same secret",
        Class::Expected => "An intended difference",
        Class::EnvEquivalent => "Differs only by environment names",
        Class::Unreadable => "A source could not be read",
        Class::Policy => "A production environment breaks the strictness pack",
    }
}

fn full_description(class: Class) -> &'static str {
    match class {
        Class::Drift => {
            "The key is present in both environments with different values, and no rule or \
             baseline entry says the difference is intended. What was tested in QA is not \
             what runs in Production."
        }
        Class::Missing => {
            "The key, object or file is present in the reference environment (usually \
             Production) and absent from the compared one (usually QA), so QA does not \
             exercise it."
        }
        Class::Extra => {
            "The key, object or file is present in the compared environment (usually QA) \
             and absent from the reference one (usually Production)."
        }
        Class::SharedSecret => {
            "The compared environment holds the same secret as the reference environment \
             (their keyed hashes are equal): QA can reach Production with Production's \
             credential. Rotate one of them."
        }
        Class::Expected => {
            "The values differ and a rule in envparity.toml or the baseline says so, with \
             a reason. Not counted against the parity score."
        }
        Class::EnvEquivalent => {
            "The values differ only by environment tokens (qa-db versus prod-db). Not \
             counted against the parity score."
        }
        Class::Unreadable => {
            "A configured source could not be read or parsed, so its comparison is \
             incomplete."
        }
        Class::Policy => {
            "An environment marked production grants or allows what Production must not: \
             a superuser or BYPASSRLS application role, a grant to PUBLIC, cluster-admin or \
             wildcard RBAC for a service account, trust authentication, or an application \
             switch that turns auth, TLS or CORS checks off. The finding names what to change."
        }
    }
}

fn rules() -> Vec<Value> {
    Class::ALL
        .iter()
        .map(|&class| {
            let mut tags = vec!["envparity", "parity"];
            let mut properties = serde_json::Map::new();
            if matches!(class, Class::SharedSecret | Class::Policy) {
                tags.push("security");
                // Read by GitHub code scanning to rank security alerts (7.0–8.9: high).
                properties.insert("security-severity".into(), json!("8.0"));
            }
            properties.insert("tags".into(), json!(tags));
            json!({
                "id": class.name(),
                "name": rule_name(class),
                "shortDescription": { "text": short_description(class) },
                "fullDescription": { "text": full_description(class) },
                "defaultConfiguration": { "level": level(class.default_severity()) },
                "properties": properties,
            })
        })
        .collect()
}

/// A relative path as a URI reference: `/` kept, backslashes turned into `/`, anything
/// outside RFC 3986's unreserved and path characters percent-encoded.
pub fn uri_path(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b'@' => out.push(byte as char),
            // A colon is fine in a path, except in the first segment of a relative
            // reference where it would read as a scheme: encode it everywhere.
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn physical(file: &str, line: Option<u32>, column: Option<u32>) -> Value {
    let artifact = if file.starts_with('/') {
        json!({ "uri": format!("file://{}", uri_path(file)) })
    } else {
        json!({ "uri": uri_path(file), "uriBaseId": "%SRCROOT%" })
    };
    match line.filter(|l| *l >= 1) {
        Some(line) => {
            let mut region = json!({ "startLine": line });
            if let Some(column) = column.filter(|c| *c >= 1) {
                region["startColumn"] = json!(column);
            }
            json!({ "artifactLocation": artifact, "region": region })
        }
        None => json!({ "artifactLocation": artifact }),
    }
}

fn side_text(side: &Side) -> String {
    match &side.value {
        Some(v) => format!("{}: {}", side.env, v),
        None => format!("{}: (absent)", side.env),
    }
}

fn result(f: &Finding) -> Value {
    let (primary, other) = if f.a.location.is_some() {
        (&f.a, &f.b)
    } else {
        (&f.b, &f.a)
    };
    let mut location = match &primary.location {
        Some(loc) => {
            json!({ "physicalLocation": physical(&loc.file, (loc.line > 0).then_some(loc.line), loc.column) })
        }
        // No side has a location (an unreadable source): point at the source itself.
        None => json!({ "physicalLocation": physical(&f.group, None, None) }),
    };
    location["logicalLocations"] = json!([{ "fullyQualifiedName": f.key, "kind": "property" }]);
    location["message"] = json!({
        "text": if f.class == Class::Unreadable {
            format!("{}: could not be read", primary.env)
        } else {
            side_text(primary)
        }
    });

    let related: Vec<Value> = other
        .location
        .iter()
        .map(|loc| {
            json!({
                "id": 1,
                "physicalLocation": physical(&loc.file, (loc.line > 0).then_some(loc.line), loc.column),
                "message": { "text": side_text(other) },
            })
        })
        .collect();

    let fingerprint = format!(
        "{:016x}",
        fnv1a64(&[f.class.name(), &f.key, &f.a.env, &f.b.env])
    );
    let rule_index = Class::ALL.iter().position(|c| *c == f.class).unwrap_or(0);

    let mut message = f.message.clone();
    if let Some(reason) = &f.reason {
        message.push_str(&format!(" ({reason})"));
    }
    let mut properties = json!({
        "facet": f.facet.name(),
        "class": f.class.name(),
        "severity": f.severity.name(),
        "key": f.key,
        "group": f.group,
        "environments": [f.a.env, f.b.env],
    });
    if let Some(resource) = &f.resource {
        properties["resource"] = json!(resource);
    }
    if f.covers > 1 {
        properties["covers"] = json!(f.covers);
    }
    let mut result = json!({
        "ruleId": f.class.name(),
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": message },
        "locations": [location],
        "partialFingerprints": { FINGERPRINT: fingerprint },
        "properties": properties,
    });
    if !related.is_empty() {
        result["relatedLocations"] = json!(related);
    }
    result
}

pub fn render(report: &Report) -> String {
    let results: Vec<Value> = report.actionable().map(result).collect();
    let environments: Vec<Value> = report
        .environments
        .iter()
        .map(|e| json!({ "name": e.name, "production": e.production, "takenAt": e.taken_at }))
        .collect();
    let facets: Vec<Value> = report
        .facets
        .iter()
        .map(|s| json!({ "facet": s.facet.name(), "score": s.score, "compared": s.compared }))
        .collect();
    let sarif = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "envparity",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules(),
                }
            },
            "originalUriBaseIds": {
                "%SRCROOT%": {
                    "description": { "text": "The folder of envparity.toml." }
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "score": report.score,
                "reference": report.reference,
                "environments": environments,
                "facets": facets,
                "notes": report.notes,
            },
        }],
    });
    let mut out = serde_json::to_string_pretty(&sarif).expect("SARIF is plain JSON");
    out.push('\n');
    out
}
