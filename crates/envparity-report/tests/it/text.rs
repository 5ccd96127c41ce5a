use envparity_core::Class;

use crate::support::*;

fn line_with<'t>(out: &'t str, needle: &str) -> &'t str {
    out.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{out}"))
}

/// Each line with its indentation kept and every other run of spaces made one space.
fn squeeze(out: &str) -> String {
    out.lines()
        .map(|l| {
            let indent = l.len() - l.trim_start().len();
            format!(
                "{}{}",
                &l[..indent],
                l.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn position(out: &str, needle: &str) -> usize {
    out.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in:\n{out}"))
}

#[test]
fn header_names_environments_reference_and_scores() {
    let out = text(&sample(), plain());
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        "envparity  qa vs prod (reference)  ·  parity 71.4/100  ·  config 71.4 (14 keys)"
    );
}

#[test]
fn a_finding_reads_on_one_line_with_tag_key_values_and_locations() {
    let out = text(&sample(), plain());
    let drift = line_with(&out, "spec.replicas");
    assert!(drift.trim_start().starts_with("drift "), "{drift}");
    assert!(drift.contains("qa: 2 → prod: 6"), "{drift}");
    assert!(
        drift.contains("qa/deploy/api.yaml:10, prod/deploy/api.yaml:10"),
        "{drift}"
    );
    // The key is shown within its object, not repeated whole.
    assert!(!drift.contains("deploy/api.yaml:Deployment"), "{drift}");

    let missing = line_with(&out, "FEATURE_CHECKOUT_V2");
    assert!(missing.trim_start().starts_with("missing "), "{missing}");
    assert!(missing.contains("qa: (absent) → prod: true"), "{missing}");
    assert!(missing.ends_with("prod/app.env:16"), "{missing}");

    let shared = line_with(&out, "DB_PASSWORD");
    assert!(
        shared.trim_start().starts_with("shared-secret "),
        "{shared}"
    );
    assert!(
        shared.contains("qa = prod: ‹secret 3f2a9c1e0b7d›"),
        "{shared}"
    );
}

#[test]
fn findings_are_grouped_by_file_then_object_most_urgent_first() {
    let report = report()
        .finding(drift("b.yaml:x", "1", "2"))
        .finding(drift("a.yaml:Service/shop/web:spec.port", "1", "2"))
        .finding(drift("a.yaml:top", "1", "2"))
        .finding(finding(
            Class::Extra,
            "a.yaml:Service/shop/web:spec.extra",
            Some("1"),
            None,
        ))
        .finding(finding(
            Class::Missing,
            "a.yaml:Deployment/shop/api:spec.x",
            None,
            Some("1"),
        ))
        .finding(drift("a.yaml:Deployment/shop/api:spec.y", "1", "2"))
        .finding(finding(
            Class::SharedSecret,
            "z.yaml:password",
            Some("‹s›"),
            Some("‹s›"),
        ))
        .finding(unreadable("broken.yaml", "line 3: bad indentation"))
        .build();
    let out = text(&report, plain());
    // Files: the one with a shared secret, then the unreadable one, then by name.
    let order = ["\nz.yaml\n", "\nbroken.yaml\n", "\na.yaml\n", "\nb.yaml\n"];
    let positions: Vec<usize> = order.iter().map(|n| position(&out, n)).collect();
    assert!(positions.is_sorted(), "{positions:?}\n{out}");
    // Within a.yaml: keys outside objects first, then objects in order of appearance;
    // within an object, drift before missing before extra.
    let squeezed = squeeze(&out);
    let order = [
        "\n  drift top ",
        "\n  Service/shop/web\n",
        "\n    drift spec.port ",
        "\n    extra spec.extra ",
        "\n  Deployment/shop/api\n",
        "\n    drift spec.y ",
        "\n    missing spec.x ",
    ];
    let positions: Vec<usize> = order.iter().map(|n| position(&squeezed, n)).collect();
    assert!(positions.is_sorted(), "{positions:?}\n{out}");
    // The unreadable source says why.
    let broken = line_with(&out, "unreadable");
    assert!(broken.contains("bad indentation"), "{broken}");
}

#[test]
fn intended_findings_are_counted_unless_verbose() {
    let out = text(&sample(), plain());
    assert!(!out.contains("LOG_LEVEL"), "{out}");
    assert!(!out.contains("DB_HOST"), "{out}");
    assert!(
        out.contains("  app.env  1 expected, 1 env-equivalent"),
        "{out}"
    );
    // After everything to act on.
    assert!(position(&out, "Intended differences") > position(&out, "FEATURE_CHECKOUT_V2"));

    let out = text(&sample(), verbose());
    let expected = line_with(&out, "LOG_LEVEL");
    assert!(expected.trim_start().starts_with("expected "), "{expected}");
    assert!(out.contains("↳ QA logs verbosely for testers (owner: platform), until 2025-12-31"));
    let env_eq = line_with(&out, "DB_HOST");
    assert!(env_eq.contains("qa: qa-db.internal → prod: prod-db.internal"));
    assert!(out.contains("qa taken 2025-03-01T09:00:00Z"));
}

#[test]
fn notes_then_a_footer_of_counts_per_class() {
    let out = text(&sample(), plain());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.last().unwrap(),
        &"3 findings to act on: 1 shared-secret · 1 drift · 1 missing  |  intended: 1 expected · 1 env-equivalent"
    );
    assert!(position(&out, "Notes:") > position(&out, "Intended differences"));
    assert!(out.contains("  - qa's secrets were hashed with a key made up for that run only"));
}

#[test]
fn no_ansi_codes_without_color_and_some_with_it() {
    for report in [sample(), nasty(), large(30, 4)] {
        for options in [plain(), verbose()] {
            let out = text(&report, options);
            assert!(!out.contains('\u{1b}'), "{out}");
        }
    }
    let out = text(&sample(), color());
    assert!(out.contains("\u{1b}["), "{out}");
    // Colour only wraps text: stripping it leaves the plain rendering.
    assert_eq!(strip_ansi(&out), text(&sample(), verbose()));
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn control_characters_are_shown_escaped_never_raw() {
    for options in [plain(), verbose(), color()] {
        let out = text(&nasty(), options);
        let mut stripped = strip_ansi(&out);
        if !options.color {
            stripped = out.clone();
        }
        for c in stripped.chars() {
            assert!(
                c == '\n' || !c.is_control(),
                "raw control character {c:?} in:\n{out}"
            );
        }
        assert!(!stripped.contains('\u{202e}'));
        assert!(stripped.contains("bell\\u{7}esc\\u{1b}[31mred\\u{0}nul"));
        assert!(stripped.contains("line one\\nline two\\r\\n"));
        assert!(stripped.contains("zürich ✓ 東京 \\u{202e}evil"));
        assert!(stripped.contains("a note with <tags> | pipes & \\u{1b}[2J escapes"));
    }
}

#[test]
fn long_values_are_cut_with_an_ellipsis() {
    let out = text(&nasty(), plain());
    let long = line_with(&out, " long ");
    assert!(long.contains("x…"), "{long}");
    assert!(long.chars().count() < 200, "{long}");
}

#[test]
fn in_parity() {
    let out = text(&report().compared(1204).build(), plain());
    assert_eq!(
        out,
        "envparity  qa vs prod (reference)  ·  parity 100.0/100  ·  config 100.0 (1,204 keys)\n\
         \n\
         In parity: no differences to act on in 1,204 compared keys.\n\
         \n\
         0 findings to act on\n"
    );
    let only_intended = report()
        .finding(expected("a.env:X", "1", "2", "why"))
        .build();
    let out = text(&only_intended, plain());
    assert!(out.contains("In parity: no differences to act on in 100 compared keys (1 intended)."));
}

#[test]
fn whole_files_and_objects_present_on_one_side() {
    let report = report()
        .finding(missing_unit("cron.yaml", 12))
        .finding(missing_unit("deploy.yaml:CronJob/shop/cleanup", 1))
        .build();
    let out = text(&report, plain());
    let file = line_with(&out, "(whole file)");
    assert!(file.contains("only in prod (12 keys)"), "{file}");
    assert!(file.contains("prod/cron.yaml:1"), "{file}");
    let object = line_with(&out, "(whole object)");
    assert!(object.contains("only in prod"), "{object}");
}

#[test]
fn thousands_of_findings_stay_one_line_each() {
    let report = large(2000, 150);
    let out = text(&report, plain());
    let drift_lines = out
        .lines()
        .filter(|l| l.trim_start().starts_with("drift "))
        .count();
    assert_eq!(drift_lines, 2000);
    // 2,000 findings + 150 file headers + 150 object headers + the summary and footer.
    assert!(
        out.lines().count() < 2000 + 2 * 150 + 150 + 60,
        "{}",
        out.lines().count()
    );
    // The intended summary lists a few files, then says how many more.
    assert!(out.contains("  … and 130 more files ("), "{out}");
    assert!(
        out.ends_with("2,000 findings to act on: 2,000 drift  |  intended: 2,000 env-equivalent\n")
    );
}

#[test]
fn a_matrix_for_three_environments() {
    let report = report()
        .finding(drift("app.env:LOG_LEVEL", "debug", "info"))
        .matrix(&[
            (
                "app.env:LOG_LEVEL",
                [Some("debug"), Some("info"), Some("info")],
            ),
            ("app.env:NEW_FLAG", [None, Some("on"), Some("on")]),
        ])
        .build();
    let out = text(&report, plain());
    assert!(
        out.starts_with("envparity  qa, staging vs prod (reference)"),
        "{out}"
    );
    assert!(out.contains("Keys that differ across 3 environments (2 keys, * = reference):"));
    let head = line_with(&out, "prod *");
    assert!(head.trim_start().starts_with("key"), "{head}");
    let positions = ["qa", "staging", "prod *"].map(|e| head.find(e).unwrap());
    assert!(positions.is_sorted(), "{head}");
    let row = line_with(&out, "NEW_FLAG");
    assert!(row.contains('—'), "{row}");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, ["NEW_FLAG", "—", "on", "on"]);
    assert!(!text(&report, plain()).contains('\u{1b}'));
}

#[test]
fn same_text_different_types_explains_itself() {
    let mut f = drift("app.yaml:port", "8080", "8080");
    f.message = "`port` is `8080` in qa but `8080` in prod (number vs string)".to_string();
    let out = text(&report().finding(f).build(), plain());
    assert!(
        line_with(&out, "port").contains("qa: 8080 → prod: 8080"),
        "{out}"
    );
    assert!(
        out.contains("↳ `port` is `8080` in qa but `8080` in prod (number vs string)"),
        "{out}"
    );
}
