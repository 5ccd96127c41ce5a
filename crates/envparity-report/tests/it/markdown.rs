use envparity_core::Report;
use envparity_report::{OutputFormat, RenderOptions, render};

use crate::support::*;

fn md(report: &Report, options: RenderOptions) -> String {
    render(report, OutputFormat::Markdown, &options)
}

/// The lines of the table that follows `heading`.
fn table_after<'t>(out: &'t str, heading: &str) -> Vec<&'t str> {
    let start = out
        .find(heading)
        .unwrap_or_else(|| panic!("{heading:?} not in:\n{out}"));
    out[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect()
}

#[test]
fn heading_facets_and_findings() {
    let out = md(&sample(), plain());
    assert!(out.starts_with("## ❌ envparity: parity 71.4/100\n\n**qa** compared with **prod** (reference), 14 keys: 3 findings to act on (1 shared-secret, 1 drift, 1 missing); 2 intended (1 expected, 1 env-equivalent).\n"), "{out}");
    let facets = table_after(&out, "## ");
    assert_eq!(
        facets,
        [
            "| facet | score | keys compared | to act on | expected | env-equivalent |",
            "|:--|--:|--:|--:|--:|--:|",
            "| config | 71.4 | 14 | 3 | 1 | 1 |",
        ]
    );
    let findings = table_after(&out, "### Findings to act on (3)");
    assert_eq!(findings[0], "| class | key | qa | prod | location |");
    assert_eq!(findings.len(), 2 + 3);
    // Most urgent first.
    assert!(
        findings[2].starts_with("| 🔴 shared-secret |"),
        "{}",
        findings[2]
    );
    assert!(findings[3].starts_with("| 🟠 drift |"), "{}", findings[3]);
    assert_eq!(
        findings[3],
        "| 🟠 drift | <code>deploy/api.yaml:Deployment/shop/api:spec.replicas</code> | <code>2</code> | <code>6</code> | <code>qa/deploy/api.yaml:10</code><br><code>prod/deploy/api.yaml:10</code> |"
    );
    assert!(
        findings[4].contains("| *absent* | <code>true</code> |"),
        "{}",
        findings[4]
    );
}

#[test]
fn intended_findings_go_in_a_details_block() {
    let out = md(&sample(), plain());
    let details = &out[out.find("<details>").unwrap()..out.find("</details>").unwrap()];
    assert!(details.contains("<summary>2 intended differences (1 expected, 1 env-equivalent), not counted against the score</summary>\n\n"));
    assert!(
        details.contains("| <code>app.env</code> | 1 | 1 |"),
        "{details}"
    );
    assert!(!details.contains("LOG_LEVEL"));

    let out = md(&sample(), verbose());
    let details = &out[out.find("<details>").unwrap()..out.find("</details>").unwrap()];
    assert!(details.contains("| expected | <code>app.env:LOG&#95;LEVEL</code> | <code>debug</code> | <code>info</code> | QA logs verbosely for testers (owner: platform), until 2025-12-31 |"), "{details}");
    assert!(
        out.ends_with(
            "### Notes\n\n- qa's secrets were hashed with a key made up for that run only; \
             set ENVPARITY&#95;KEY or run &#96;envparity init&#96; to compare secrets across runs\n"
        ),
        "{out}"
    );
}

#[test]
fn values_cannot_break_the_table_or_inject_markup() {
    let out = md(&nasty(), verbose());
    assert!(!out.contains("<script"), "{out}");
    assert!(!out.contains("<tags>"), "{out}");
    assert!(!out.contains("<b>") && !out.contains("<i>"), "{out}");
    assert!(!out.contains('`'), "{out}");
    assert!(!out.contains("**bold**"), "{out}");
    assert!(!out.contains("[link]"), "{out}");
    assert!(!out.contains("@someone"), "{out}");
    assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out}");
    assert!(!out.contains('\u{202e}'));
    assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(out.contains("a&#124;b&#124;c"));
    assert!(
        out.contains("line one\\nline two\\r\\n")
            || out.contains("line one&#92;nline two&#92;r&#92;n")
    );
    assert!(out.contains("zürich ✓ 東京"));
    // Every row of every table has as many cell separators as its header.
    let mut header_pipes = None;
    for line in out.lines() {
        if !line.starts_with('|') {
            header_pipes = None;
            continue;
        }
        let pipes = line.matches('|').count();
        match header_pipes {
            None => header_pipes = Some(pipes),
            Some(n) => assert_eq!(pipes, n, "{line}"),
        }
    }
    // Long values are cut.
    assert!(out.contains("xxx…</code>"));
    assert!(!out.contains(&"x".repeat(200)));
}

#[test]
fn thousands_of_findings_are_capped_and_counted() {
    let out = md(&large(2000, 150), verbose());
    let rows = table_after(&out, "### Findings to act on (2,000)");
    let shown = rows.len() - 2;
    assert!((50..=200).contains(&shown), "{shown}");
    assert!(
        out.contains(&format!(
            "…and {} more findings to act on are not shown here: the text, JSON or HTML report lists them all.",
            thousands(2000 - shown)
        )),
        "{out}"
    );
    // A pull-request comment on GitHub holds at most 65,536 characters.
    assert!(out.chars().count() < 65_536, "{}", out.len());

    let out = md(&large(150, 150), plain());
    assert_eq!(
        table_after(&out, "### Findings to act on (150)").len(),
        2 + 150
    );
}

#[test]
fn in_parity() {
    let out = md(&report().compared(3).build(), plain());
    assert_eq!(
        out,
        "## ✅ envparity: parity 100.0/100\n\n\
         **qa** compared with **prod** (reference), 3 keys: in parity, no differences to act on.\n\n\
         | facet | score | keys compared | to act on | expected | env-equivalent |\n\
         |:--|--:|--:|--:|--:|--:|\n\
         | config | 100.0 | 3 | 0 | 0 | 0 |\n"
    );
}

#[test]
fn a_matrix_for_three_environments() {
    let report = report()
        .finding(drift("app.env:LOG_LEVEL", "debug", "info"))
        .matrix(&[("app.env:NEW_FLAG", [None, Some("on"), Some("on")])])
        .build();
    let out = md(&report, plain());
    let rows = table_after(&out, "### Across 3 environments (1 key)");
    assert_eq!(rows[0], "| key | qa | staging | prod (reference) |");
    assert_eq!(
        rows[2],
        "| <code>app.env:NEW&#95;FLAG</code> | *absent* | <code>on</code> | <code>on</code> |"
    );
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    if s.len() > 3 {
        format!("{},{}", &s[..s.len() - 3], &s[s.len() - 3..])
    } else {
        s
    }
}
