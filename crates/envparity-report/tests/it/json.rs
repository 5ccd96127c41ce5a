use envparity_core::Report;
use envparity_report::{OutputFormat, render};

use crate::support::*;

fn json(report: &Report) -> String {
    render(report, OutputFormat::Json, &plain())
}

#[test]
fn json_round_trips_into_the_report() {
    for report in [sample(), nasty(), large(50, 7), report().build()] {
        let out = json(&report);
        let back: Report = serde_json::from_str(&out).unwrap();
        assert_eq!(back, report);
        assert!(out.ends_with("}\n"));
    }
}

#[test]
fn json_is_exactly_the_core_serialization() {
    let report = sample();
    let out = json(&report);
    assert_eq!(out, serde_json::to_string_pretty(&report).unwrap() + "\n");
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["format"], "envparity-report");
    assert_eq!(value["version"], 1);
    assert_eq!(value["reference"], "prod");
    assert_eq!(value["facets"][0]["facet"], "config");
    assert_eq!(value["facets"][0]["counts"]["shared-secret"], 1);
    let f = &value["findings"][0];
    assert_eq!(f["class"], "drift");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["a"]["location"]["file"], "qa/deploy/api.yaml");
    // Defaults are left out.
    assert!(f.get("covers").is_none());
    assert!(f.get("reason").is_none());
    assert!(value.get("matrix").is_none());
}

#[test]
fn json_escapes_everything_and_options_change_nothing() {
    let report = nasty();
    let out = json(&report);
    assert!(!out.chars().any(|c| c.is_control() && c != '\n'));
    for options in [verbose(), color()] {
        assert_eq!(render(&report, OutputFormat::Json, &options), out);
    }
}

/// The example in docs/report.md is a valid report, and its score is the core's.
#[test]
fn documented_example_is_a_report() {
    let doc = include_str!("../../../../docs/report.md");
    let start = doc.find("```json\n").unwrap() + "```json\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let report: Report = serde_json::from_str(&doc[start..end]).unwrap();
    let facet = &report.facets[0];
    let weighted = envparity_core::score::weighted_differences(&report.findings);
    assert_eq!(weighted, 15.0);
    let score = envparity_core::score::facet_score(facet.compared, weighted);
    assert_eq!(score, facet.score);
    assert_eq!(envparity_core::score::overall(&[score]), report.score);
    let mut counts = std::collections::BTreeMap::new();
    for f in &report.findings {
        *counts.entry(f.class).or_insert(0u64) += 1;
    }
    assert_eq!(counts, facet.counts);
}

#[test]
fn findings_rendered_on_several_threads_are_the_serial_bytes() {
    // `nasty` holds line breaks, control characters and right-to-left marks in values: the
    // re-indenting of each finding must never touch a string.
    // 5,200 findings: several blocks of `write_json_split` on 2 and 3 threads.
    for report in [
        sample(),
        nasty(),
        large(301, 7),
        large(2_600, 9),
        report().build(),
    ] {
        let mut serial = Vec::new();
        envparity_report::write_json_split(&report, &mut serial, 1, 1).unwrap();
        assert_eq!(
            serial,
            (serde_json::to_string_pretty(&report).unwrap() + "\n").into_bytes()
        );
        for threads in [2, 3, 8, 64] {
            let mut split = Vec::new();
            envparity_report::write_json_split(&report, &mut split, threads, 1).unwrap();
            assert!(
                split == serial,
                "{threads} threads, {} findings: the bytes differ",
                report.findings.len()
            );
        }
    }
}
