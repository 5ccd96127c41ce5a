use envparity_core::{Class, Report};
use envparity_report::{OutputFormat, render};
use serde_json::Value;

use crate::support::*;

fn sarif(report: &Report) -> Value {
    let out = render(report, OutputFormat::Sarif, &plain());
    serde_json::from_str(&out).unwrap()
}

fn results(sarif: &Value) -> &Vec<Value> {
    sarif["runs"][0]["results"].as_array().unwrap()
}

/// The parts of SARIF 2.1.0 that GitHub code scanning requires or reads.
fn check_structure(sarif: &Value) {
    assert_eq!(
        sarif["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "envparity");
    assert!(driver["version"].is_string());
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        Class::ALL.map(Class::name),
        "one rule per class, in the core's order"
    );
    for rule in rules {
        assert!(
            !rule["shortDescription"]["text"]
                .as_str()
                .unwrap()
                .is_empty()
        );
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert!(rule.get("helpUri").is_none());
        let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(["error", "warning", "note"].contains(&level));
    }
    for result in results(sarif) {
        let rule_id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], rule_id);
        let level = result["level"].as_str().unwrap();
        assert!(
            ["error", "warning", "note", "none"].contains(&level),
            "{level}"
        );
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let locations = result["locations"].as_array().unwrap();
        assert_eq!(locations.len(), 1);
        let physical = &locations[0]["physicalLocation"];
        let uri = physical["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.is_empty() && !uri.starts_with('/'), "{uri}");
        assert!(uri.bytes().all(|b| b.is_ascii_graphic()), "{uri}");
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        if let Some(line) = physical["region"]["startLine"].as_u64() {
            assert!(line >= 1);
        }
        let fingerprint = result["partialFingerprints"]["envparity/v1"]
            .as_str()
            .unwrap();
        assert_eq!(fingerprint.len(), 16);
        for related in result["relatedLocations"].as_array().into_iter().flatten() {
            assert!(related["id"].is_u64());
            assert!(related["physicalLocation"]["artifactLocation"]["uri"].is_string());
        }
    }
}

#[test]
fn structure_is_valid_sarif() {
    for report in [sample(), nasty(), large(100, 9), report().build()] {
        check_structure(&sarif(&report));
    }
}

#[test]
fn one_result_per_finding_to_act_on() {
    let report = sample();
    let sarif = sarif(&report);
    let results = results(&sarif);
    assert_eq!(results.len(), report.actionable().count());
    let classes: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["drift", "missing", "shared-secret"]);
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["warning", "warning", "error"]);
    let intended_only = crate::support::report()
        .finding(expected("a:b", "1", "2", "r"))
        .build();
    assert!(results_of(&intended_only).is_empty());
}

fn results_of(report: &Report) -> Vec<Value> {
    results(&sarif(report)).clone()
}

#[test]
fn locations_point_at_the_compared_side_and_relate_the_reference() {
    let sarif = sarif(&sample());
    let drift = &results(&sarif)[0];
    let physical = &drift["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "qa/deploy/api.yaml");
    assert_eq!(physical["region"]["startLine"], 10);
    assert_eq!(drift["locations"][0]["message"]["text"], "qa: 2");
    assert_eq!(
        drift["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "deploy/api.yaml:Deployment/shop/api:spec.replicas"
    );
    let related = &drift["relatedLocations"][0];
    assert_eq!(
        related["physicalLocation"]["artifactLocation"]["uri"],
        "prod/deploy/api.yaml"
    );
    assert_eq!(related["message"]["text"], "prod: 6");

    // Missing in qa: the reference side is the only location.
    let missing = &results(&sarif)[1];
    assert_eq!(
        missing["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "prod/app.env"
    );
    assert!(missing.get("relatedLocations").is_none());
}

#[test]
fn unreadable_sources_point_at_the_source() {
    let report = report()
        .finding(unreadable("conf/my app.yaml", "line 3: bad indentation"))
        .build();
    let sarif = sarif(&report);
    check_structure(&sarif);
    let result = &results(&sarif)[0];
    assert_eq!(result["level"], "error");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "conf/my%20app.yaml"
    );
}

#[test]
fn fingerprints_are_stable_and_ignore_values() {
    let a = sarif(&sample());
    let mut changed = sample();
    changed.findings[0].a.value = Some("3".to_string());
    changed.findings[0].a.location.as_mut().unwrap().line = 99;
    let b = sarif(&changed);
    let fp = |s: &Value, i: usize| results(s)[i]["partialFingerprints"]["envparity/v1"].clone();
    assert_eq!(fp(&a, 0), fp(&b, 0));
    assert_ne!(fp(&a, 0), fp(&a, 1));
    // Pinned: a fingerprint that changes between versions reopens every alert.
    assert_eq!(
        fp(&a, 0),
        envparity_fingerprint("drift", "deploy/api.yaml:Deployment/shop/api:spec.replicas")
    );
}

/// The documented fingerprint: FNV-1a 64 of class, key, compared env, reference env,
/// separated by 0xff.
fn envparity_fingerprint(class: &str, key: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut first = true;
    for part in [class, key, "qa", "prod"] {
        if !first {
            hash ^= 0xff;
            hash = hash.wrapping_mul(0x100_0000_01b3);
        }
        first = false;
        for b in part.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

#[test]
fn values_survive_as_json_strings() {
    let sarif = sarif(&nasty());
    let texts: Vec<String> = results(&sarif)
        .iter()
        .flat_map(|r| {
            r["relatedLocations"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| l["message"]["text"].as_str().unwrap().to_string())
                .chain([r["locations"][0]["message"]["text"]
                    .as_str()
                    .unwrap()
                    .to_string()])
                .collect::<Vec<_>>()
        })
        .collect();
    for value in NASTY {
        assert!(
            texts.iter().any(|t| t == &format!("qa: {value}")),
            "{value:?}"
        );
    }
}
