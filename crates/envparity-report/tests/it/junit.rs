use envparity_core::{Class, Report};
use envparity_report::{OutputFormat, render};

use crate::support::*;
use crate::xml::{self, Element};

fn junit(report: &Report) -> Element {
    let out = render(report, OutputFormat::Junit, &plain());
    assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    xml::parse(&out).unwrap_or_else(|e| panic!("{e}:\n{out}"))
}

#[test]
fn one_failure_per_finding_to_act_on() {
    for report in [sample(), nasty(), large(300, 20)] {
        let root = junit(&report);
        let actionable = report.actionable().count();
        assert_eq!(root.name, "testsuites");
        assert_eq!(root.find_all("failure").len(), actionable);
        assert_eq!(root.attr("failures"), Some(actionable.to_string().as_str()));
        let suites = root.find_all("testsuite");
        let sum: usize = suites
            .iter()
            .map(|s| s.attr("failures").unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(sum, actionable);
        let tests: usize = suites
            .iter()
            .map(|s| s.attr("tests").unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(tests, root.find_all("testcase").len());
        assert_eq!(root.attr("tests"), Some(tests.to_string().as_str()));
    }
}

#[test]
fn a_failing_case_names_the_key_and_carries_both_values() {
    let root = junit(&sample());
    let suite = &root.find_all("testsuite")[0];
    assert_eq!(suite.attr("name"), Some("config"));
    let cases = suite.find_all("testcase");
    let drift = cases
        .iter()
        .find(|c| c.attr("name") == Some("Deployment/shop/api:spec.replicas"))
        .unwrap();
    assert_eq!(drift.attr("classname"), Some("deploy/api.yaml"));
    let failure = &drift.children[0];
    assert_eq!(failure.name, "failure");
    assert_eq!(failure.attr("type"), Some("drift"));
    assert_eq!(
        failure.attr("message"),
        Some("drift: `spec.replicas` is `2` in qa but `6` in prod")
    );
    assert!(
        failure.text.contains("qa: 2  at qa/deploy/api.yaml:10\n"),
        "{}",
        failure.text
    );
    assert!(
        failure
            .text
            .contains("prod: 6  at prod/deploy/api.yaml:10\n"),
        "{}",
        failure.text
    );
    assert!(
        failure
            .text
            .contains("key: deploy/api.yaml:Deployment/shop/api:spec.replicas\n")
    );

    // Shared secret first, as everywhere.
    assert_eq!(cases[0].children[0].attr("type"), Some("shared-secret"));

    // app.env has a finding to act on: no passing case for it, its intended findings
    // are not test cases.
    assert!(cases.iter().all(|c| c.attr("name") != Some("app.env")));
    assert_eq!(cases.len(), 3);
}

#[test]
fn passing_case_per_file_with_only_intended_differences() {
    let report = report()
        .finding(expected("a.env:X", "1", "2", "why"))
        .finding(finding(
            Class::EnvEquivalent,
            "b.env:HOST",
            Some("qa-h"),
            Some("prod-h"),
        ))
        .finding(drift("c.env:Y", "1", "2"))
        .build();
    let root = junit(&report);
    let cases = root.find_all("testcase");
    assert_eq!(cases.len(), 3);
    assert_eq!(root.find_all("failure").len(), 1);
    let names: Vec<&str> = cases.iter().map(|c| c.attr("name").unwrap()).collect();
    assert_eq!(names, ["Y", "a.env", "b.env"]);
}

#[test]
fn in_parity_shows_one_passing_case() {
    let root = junit(&report().compared(12).build());
    let cases = root.find_all("testcase");
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].attr("name"), Some("config in parity"));
    assert!(root.find_all("failure").is_empty());
    assert_eq!(root.attr("failures"), Some("0"));
}

#[test]
fn everything_is_escaped_even_characters_xml_cannot_hold() {
    let report = nasty();
    let out = render(&report, OutputFormat::Junit, &plain());
    let root = xml::parse(&out).unwrap_or_else(|e| panic!("{e}:\n{out}"));
    let texts: Vec<String> = root
        .find_all("failure")
        .iter()
        .map(|f| format!("{}\n{}", f.attr("message").unwrap(), f.text))
        .collect();
    let all = texts.join("\n");
    assert!(all.contains("qa: <script>alert(1)</script>"), "{all}");
    assert!(all.contains("a|b|c"));
    assert!(all.contains("say \"hi\" & 'bye'"));
    assert!(
        all.contains("bell\\u{7}esc\\u{1b}[31mred\\u{0}nul\\u{b}vt\\u{c}ff"),
        "{all}"
    );
    assert!(all.contains("zürich ✓ 東京 \\u{202e}evil"));
    assert!(
        all.contains(&"x".repeat(5_000)),
        "JUnit keeps long values whole"
    );
    // Failure names are unique within a file.
    let names: Vec<&str> = root
        .find_all("testcase")
        .iter()
        .map(|c| c.attr("name").unwrap())
        .collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len());
}

#[test]
fn three_environments_name_the_pair() {
    let mut report = report()
        .finding(drift("app.env:X", "1", "2"))
        .finding(drift("app.env:X", "3", "2"))
        .matrix(&[("app.env:X", [Some("1"), Some("3"), Some("2")])])
        .build();
    report.findings[1].a.env = "staging".to_string();
    let root = junit(&report);
    let names: Vec<&str> = root
        .find_all("testcase")
        .iter()
        .map(|c| c.attr("name").unwrap())
        .collect();
    assert_eq!(names, ["X (qa vs prod)", "X (staging vs prod)"]);
}
