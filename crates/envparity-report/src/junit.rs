//! The JUnit XML format, as CI systems (GitLab, Jenkins, GitHub test reporters, Azure)
//! read it.
//!
//! - `<testsuites name="envparity">`, one `<testsuite>` per facet;
//! - one failing `<testcase>` per finding to act on: `classname` is the file, `name` the
//!   key within it (with the environments compared when there are more than two), the
//!   `<failure>` carries the class as `type`, the message, and both values with their
//!   locations;
//! - one passing `<testcase>` per file whose differences are all intended (expected or
//!   env-equivalent), listing them in `<system-out>`;
//! - a facet without any finding gets one passing test case, so it shows as green rather
//!   than empty.
//!
//! So the number of failures is the number of findings to act on.

use std::fmt::Write as _;

use envparity_core::{Facet, Finding, Report};

use crate::common::{self, group_findings, key_in_group, location};

/// Text escaped for XML 1.0 content and attribute values. Characters XML 1.0 cannot hold
/// at all (most C0 controls, U+FFFE, U+FFFF) and discouraged ones (C1 controls) are
/// written visibly as `\u{…}`; tabs and line breaks are kept, as character references.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Body text: like [`escape`], but line breaks stay literal so the failure reads as lines.
fn escape_body(text: &str) -> String {
    escape(text).replace("&#10;", "\n")
}

struct Case {
    xml: String,
    failed: bool,
}

pub fn render(report: &Report) -> String {
    let multi_pair = common::uniform_pair(report).is_none();
    let mut suites = Vec::new();
    let (mut tests, mut failures) = (0usize, 0usize);
    for facet in common::facets(report) {
        let cases = facet_cases(report, facet, multi_pair);
        let failed = cases.iter().filter(|c| c.failed).count();
        tests += cases.len();
        failures += failed;
        suites.push((facet, cases, failed));
    }

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"envparity\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"0\">"
    );
    for (facet, cases, failed) in suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" time=\"0\">",
            facet.name(),
            cases.len()
        );
        out.push_str("    <properties>\n");
        let mut property = |name: &str, value: &str| {
            let _ = writeln!(
                out,
                "      <property name=\"{}\" value=\"{}\"/>",
                escape(name),
                escape(value)
            );
        };
        property("reference", &report.reference);
        if let Some(summary) = report.facets.iter().find(|s| s.facet == facet) {
            property("score", &common::score(summary.score));
            property("compared", &summary.compared.to_string());
        }
        property("overall-score", &common::score(report.score));
        for env in &report.environments {
            property(&format!("taken-at.{}", env.name), &env.taken_at);
        }
        out.push_str("    </properties>\n");
        for case in cases {
            out.push_str(&case.xml);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn facet_cases(report: &Report, facet: Facet, multi_pair: bool) -> Vec<Case> {
    let findings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.facet == facet)
        .collect();
    let mut cases = Vec::new();
    for group in group_findings(findings.iter().copied()) {
        let mut any_failed = false;
        for f in group.findings().filter(|f| f.class.is_actionable()) {
            any_failed = true;
            cases.push(failing_case(f, multi_pair));
        }
        if !any_failed {
            let mut xml = format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">\n      <system-out>",
                escape(group.name),
                escape(group.name)
            );
            for f in group.findings() {
                let mut line = format!("{}: {}", f.class.name(), f.message);
                if let Some(reason) = &f.reason {
                    let _ = write!(line, " ({reason})");
                }
                xml.push_str(&escape_body(&common::visible(&line)));
                xml.push('\n');
            }
            xml.push_str("</system-out>\n    </testcase>\n");
            cases.push(Case { xml, failed: false });
        }
    }
    if cases.is_empty() {
        let compared = report
            .facets
            .iter()
            .find(|s| s.facet == facet)
            .map_or(0, |s| s.compared);
        cases.push(Case {
            xml: format!(
                "    <testcase classname=\"envparity.{0}\" name=\"{0} in parity\" time=\"0\">\n      <system-out>{1} compared, no differences</system-out>\n    </testcase>\n",
                facet.name(),
                common::plural(compared, "key", "keys")
            ),
            failed: false,
        });
    }
    cases
}

fn failing_case(f: &Finding, multi_pair: bool) -> Case {
    let mut name = match key_in_group(f) {
        "" => f.key.clone(),
        k => k.to_string(),
    };
    if multi_pair {
        let _ = write!(name, " ({} vs {})", f.a.env, f.b.env);
    }
    let mut body = String::new();
    let _ = writeln!(body, "{}", common::visible(&f.message));
    let _ = writeln!(body, "class: {}", f.class.name());
    let _ = writeln!(body, "severity: {}", f.severity.name());
    let _ = writeln!(body, "key: {}", common::visible(&f.key));
    for side in [&f.a, &f.b] {
        let value = match &side.value {
            Some(v) => common::visible(v).into_owned(),
            None => "(absent)".to_string(),
        };
        let _ = write!(body, "{}: {}", common::visible(&side.env), value);
        if let Some(loc) = location(side) {
            let _ = write!(body, "  at {}", common::visible(&loc));
        }
        body.push('\n');
    }
    if f.covers > 1 {
        let _ = writeln!(body, "covers: {} keys", f.covers);
    }
    if let Some(reason) = &f.reason {
        let _ = writeln!(body, "note: {}", common::visible(reason));
    }
    let xml = format!(
        "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
        escape(&f.group),
        escape(&name),
        f.class.name(),
        escape(&format!(
            "{}: {}",
            f.class.name(),
            common::visible(&f.message)
        )),
        escape_body(&body)
    );
    Case { xml, failed: true }
}
