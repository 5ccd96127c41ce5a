//! Reports built by hand: a builder and findings from a key and two values.

use std::collections::BTreeMap;

use envparity_core::report::{EnvironmentInfo, FacetSummary, Matrix, MatrixRow};
use envparity_core::{Class, Facet, Finding, Location, Report, Side, score};
use envparity_report::{OutputFormat, RenderOptions, render};

/// A finding from `file:path` or `file:Kind/ns/name:path`, qa's value against prod's,
/// each side located in `qa/<file>` / `prod/<file>` at `line`.
pub fn finding(class: Class, key: &str, qa: Option<&str>, prod: Option<&str>) -> Finding {
    let parts: Vec<&str> = key.splitn(3, ':').collect();
    let (group, resource) = match parts.as_slice() {
        [g, r, _] => (g.to_string(), Some(r.to_string())),
        [g, ..] => (g.to_string(), None),
        [] => unreachable!(),
    };
    let path = parts.last().copied().unwrap_or_default();
    let side = |env: &str, value: Option<&str>| Side {
        env: env.to_string(),
        value: value.map(str::to_string),
        location: value.map(|_| Location {
            file: format!("{env}/{group}"),
            line: 10 + key.len() as u32 % 7,
            column: None,
        }),
    };
    Finding {
        facet: Facet::Config,
        class,
        severity: class.default_severity(),
        key: key.to_string(),
        group: group.clone(),
        resource,
        a: side("qa", qa),
        b: side("prod", prod),
        message: match (qa, prod) {
            (Some(a), Some(b)) => format!("`{path}` is `{a}` in qa but `{b}` in prod"),
            (None, _) => format!("`{path}` is set in prod but not in qa"),
            (_, None) => format!("`{path}` is set in qa but not in prod"),
        },
        reason: None,
        covers: 1,
    }
}

pub fn drift(key: &str, qa: &str, prod: &str) -> Finding {
    finding(Class::Drift, key, Some(qa), Some(prod))
}

pub fn expected(key: &str, qa: &str, prod: &str, reason: &str) -> Finding {
    let mut f = finding(Class::Expected, key, Some(qa), Some(prod));
    f.reason = Some(reason.to_string());
    f
}

/// A whole file (or object, `file:Kind/ns/name`) present in prod only.
pub fn missing_unit(key: &str, keys: u32) -> Finding {
    let mut f = finding(Class::Missing, key, None, None);
    f.key = key.to_string();
    if let Some((group, resource)) = key.split_once(':') {
        f.group = group.to_string();
        f.resource = Some(resource.to_string());
    } else {
        f.group = key.to_string();
        f.resource = None;
    }
    f.b.location = Some(Location {
        file: format!("prod/{}", f.group),
        line: 1,
        column: None,
    });
    f.covers = keys;
    f.message = format!("{key} exists in prod but not in qa ({keys} keys)");
    f
}

pub fn unreadable(source: &str, error: &str) -> Finding {
    let mut f = finding(Class::Unreadable, source, None, None);
    f.key = source.to_string();
    f.group = source.to_string();
    f.resource = None;
    f.message = format!("{source} could not be read in qa: {error}");
    f
}

pub struct Builder {
    report: Report,
    compared: u64,
}

/// qa compared with prod (the reference), 100 keys compared.
pub fn report() -> Builder {
    Builder {
        report: Report {
            format: "envparity-report".to_string(),
            version: 1,
            environments: vec![
                EnvironmentInfo {
                    name: "qa".to_string(),
                    production: false,
                    taken_at: "2025-03-01T09:00:00Z".to_string(),
                },
                EnvironmentInfo {
                    name: "prod".to_string(),
                    production: true,
                    taken_at: "2025-03-01T09:05:00Z".to_string(),
                },
            ],
            reference: "prod".to_string(),
            score: 100.0,
            facets: Vec::new(),
            findings: Vec::new(),
            matrix: None,
            notes: Vec::new(),
            traffic: Vec::new(),
            load: Vec::new(),
        },
        compared: 100,
    }
}

impl Builder {
    pub fn compared(mut self, n: u64) -> Builder {
        self.compared = n;
        self
    }

    pub fn finding(mut self, f: Finding) -> Builder {
        self.report.findings.push(f);
        self
    }

    pub fn note(mut self, note: &str) -> Builder {
        self.report.notes.push(note.to_string());
        self
    }

    /// Adds `staging` as a third environment and a matrix of `rows` (key, values in
    /// qa, staging, prod order).
    pub fn matrix(mut self, rows: &[(&str, [Option<&str>; 3])]) -> Builder {
        self.report.environments.insert(
            1,
            EnvironmentInfo {
                name: "staging".to_string(),
                production: false,
                taken_at: "2025-03-01T09:02:00Z".to_string(),
            },
        );
        self.report.matrix = Some(Matrix {
            environments: vec!["qa".into(), "staging".into(), "prod".into()],
            rows: rows
                .iter()
                .map(|(key, values)| MatrixRow {
                    key: key.to_string(),
                    group: key.split(':').next().unwrap().to_string(),
                    values: values.iter().map(|v| v.map(str::to_string)).collect(),
                })
                .collect(),
        });
        self
    }

    /// Counts and scores from the findings, as the core computes them.
    pub fn build(mut self) -> Report {
        let mut counts = BTreeMap::new();
        for f in &self.report.findings {
            *counts.entry(f.class).or_insert(0u64) += 1;
        }
        let weighted = score::weighted_differences(&self.report.findings);
        let facet_score = score::facet_score(self.compared, weighted);
        self.report.facets = vec![FacetSummary {
            facet: Facet::Config,
            score: facet_score,
            compared: self.compared,
            counts,
        }];
        self.report.score = score::overall(&[facet_score]);
        self.report
    }
}

/// The small sample report: a shared secret, a drift, a missing key, an expected and an
/// env-equivalent difference, a note.
pub fn sample() -> Report {
    let mut missing = finding(
        Class::Missing,
        "app.env:FEATURE_CHECKOUT_V2",
        None,
        Some("true"),
    );
    missing.message = "`FEATURE_CHECKOUT_V2` is set in prod (`true`) but not in qa".to_string();
    let mut shared = finding(
        Class::SharedSecret,
        "deploy/api.yaml:Deployment/shop/api:spec.template.spec.containers[name=api].env[DB_PASSWORD]",
        Some("‹secret 3f2a9c1e0b7d›"),
        Some("‹secret 3f2a9c1e0b7d›"),
    );
    shared.message = "`spec.template.spec.containers[name=api].env[DB_PASSWORD]` holds the same \
                      secret (‹secret 3f2a9c1e0b7d›) in qa and prod: qa must not hold prod's credential"
        .to_string();
    let mut env_equivalent = finding(
        Class::EnvEquivalent,
        "app.env:DB_HOST",
        Some("qa-db.internal"),
        Some("prod-db.internal"),
    );
    env_equivalent.message =
        "`DB_HOST` differs only by environment name: `qa-db.internal` in qa, `prod-db.internal` in prod"
            .to_string();
    report()
        .compared(14)
        .finding(drift("deploy/api.yaml:Deployment/shop/api:spec.replicas", "2", "6"))
        .finding(missing)
        .finding(shared)
        .finding(expected(
            "app.env:LOG_LEVEL",
            "debug",
            "info",
            "QA logs verbosely for testers (owner: platform), until 2025-12-31",
        ))
        .finding(env_equivalent)
        .note("qa's secrets were hashed with a key made up for that run only; set ENVPARITY_KEY or run `envparity init` to compare secrets across runs")
        .build()
}

/// Values that every format must escape.
pub const NASTY: [&str; 8] = [
    "<script>alert(1)</script>",
    "a|b|c",
    "say \"hi\" & 'bye'",
    "line one\nline two\r\n",
    "bell\u{7}esc\u{1b}[31mred\u{0}nul\u{b}vt\u{c}ff",
    "zürich ✓ 東京 \u{202e}evil",
    "``code`` and `tick` **bold** [link](http://x) @someone $math$ #1",
    "back\\slash _under_ ~strike~",
];

/// A report whose values are all of [`NASTY`], plus a very long one.
pub fn nasty() -> Report {
    let mut b = report();
    for (i, v) in NASTY.iter().enumerate() {
        b = b.finding(drift(&format!("nasty.yaml:key{i}"), v, "plain"));
        b = b.finding(drift(
            &format!("nasty.yaml:Deployment/x/y:rev{i}"),
            "plain",
            v,
        ));
    }
    b.finding(drift("nasty.yaml:long", &"x".repeat(5_000), "short"))
        .finding(expected(
            "nasty.yaml:exp",
            "<b>",
            "</b>",
            "because <i>|</i> & \u{1b}",
        ))
        .note("a note with <tags> | pipes & \u{1b}[2J escapes")
        .build()
}

/// `n` drifts over `files` files, plus `n` env-equivalent findings.
pub fn large(n: usize, files: usize) -> Report {
    let mut b = report().compared(n as u64 * 4);
    for i in 0..n {
        b = b.finding(drift(
            &format!("svc{:03}.yaml:Deployment/shop/svc{}:spec.template.spec.containers[name=app].env[KEY_{i}]", i % files, i % files),
            &format!("value-{i}"),
            &format!("other-{i}"),
        ));
        b = b.finding(finding(
            Class::EnvEquivalent,
            &format!("svc{:03}.yaml:HOST_{i}", i % files),
            Some("qa-host"),
            Some("prod-host"),
        ));
    }
    b.build()
}

pub fn plain() -> RenderOptions {
    RenderOptions {
        color: false,
        verbose: false,
    }
}

pub fn verbose() -> RenderOptions {
    RenderOptions {
        color: false,
        verbose: true,
    }
}

pub fn color() -> RenderOptions {
    RenderOptions {
        color: true,
        verbose: true,
    }
}

pub fn text(report: &Report, options: RenderOptions) -> String {
    render(report, OutputFormat::Text, &options)
}
