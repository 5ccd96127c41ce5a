use envparity_core::Report;
use envparity_report::{OutputFormat, RenderOptions, render};

use crate::support::*;

fn html(report: &Report, options: RenderOptions) -> String {
    render(report, OutputFormat::Html, &options)
}

#[test]
fn a_self_contained_page() {
    let out = html(&sample(), plain());
    assert!(out.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(out.ends_with("</html>\n"));
    assert!(out.contains("<style>"));
    for external in [
        "<script", "<link", "src=", "href=", "url(", "@import", "http://", "https://",
    ] {
        assert!(!out.contains(external), "{external}");
    }
    assert!(out.contains("Content-Security-Policy"));
    assert!(out.contains("<title>envparity: qa vs prod, parity 71.4</title>"));
    assert!(
        out.contains("<h1>Parity <span class=\"score bad\">71.4</span><small>/100</small></h1>")
    );
}

#[test]
fn findings_grouped_by_file_with_badges() {
    let out = html(&sample(), plain());
    let deploy = out.find("<h3>deploy/api.yaml</h3>").unwrap();
    let app = out.find("<h3>app.env</h3>").unwrap();
    assert!(deploy < app);
    assert!(out.contains("<tr class=\"resource\"><th colspan=\"5\">Deployment/shop/api</th></tr>"));
    assert!(out.contains("<td><span class=\"badge c-drift\">drift</span></td><td><code>spec.replicas</code></td><td><code>2</code></td><td><code>6</code></td>"));
    assert!(out.contains("<span class=\"badge c-shared-secret\">shared-secret</span>"));
    // Intended differences come after, collapsed unless verbose.
    let intended = out.find("<h2>Intended differences (2)</h2>").unwrap();
    assert!(intended > app);
    assert!(out.contains("<details>\n<summary>1 expected, 1 env-equivalent in 1 file</summary>"));
    assert!(html(&sample(), verbose()).contains("<details open>"));
    assert!(out.contains("↳ QA logs verbosely for testers (owner: platform), until 2025-12-31"));
    assert!(out.contains("<h2>Notes</h2>\n<ul>\n<li>qa&#39;s secrets were hashed with a key made up for that run only; set ENVPARITY_KEY or run `envparity init` to compare secrets across runs</li>"));
}

#[test]
fn everything_is_escaped() {
    let out = html(&nasty(), verbose());
    let body = &out[out.find("</head>").unwrap()..];
    assert!(!body.contains("<script"), "{body}");
    assert!(!body.contains("<tags>") && !body.contains("<b>") && !body.contains("<i>"));
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(body.contains("say &quot;hi&quot; &amp; &#39;bye&#39;"));
    assert!(body.contains("line one\\nline two\\r\\n"));
    assert!(body.contains("zürich ✓ 東京 \\u{202e}evil"));
    assert!(!out.chars().any(|c| c.is_control() && c != '\n'));
    assert!(!out.contains('\u{202e}'));
    // A long value is cut, its tooltip holds more of it.
    assert!(body.contains("x…</code>"));
    assert!(!body.contains(&"x".repeat(2_001)));
    // Every tag opened in the body is one we wrote.
    for tag in body.split('<').skip(1) {
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(
            [
                "", "head", "body", "header", "h1", "h2", "h3", "p", "span", "small", "strong",
                "main", "section", "table", "thead", "tbody", "tr", "th", "td", "code", "br",
                "details", "summary", "ul", "li", "footer", "html"
            ]
            .contains(&name.as_str()),
            "unexpected tag <{name}"
        );
    }
}

#[test]
fn in_parity() {
    let out = html(&report().build(), plain());
    assert!(out.contains("<span class=\"score ok\">100.0</span>"));
    assert!(out.contains("<p class=\"ok\">None: the environments are in parity.</p>"));
    assert!(!out.contains("<details"));
}

#[test]
fn a_matrix_for_three_environments() {
    let report = report()
        .finding(drift("app.env:LOG_LEVEL", "debug", "info"))
        .matrix(&[("app.env:NEW_FLAG", [None, Some("on"), Some("on")])])
        .build();
    let out = html(&report, plain());
    assert!(out.contains("<h2>Across 3 environments (1 key)</h2>"));
    assert!(out.contains("<th>prod (reference)</th>"));
    assert!(out.contains("<tr><td><code>app.env:NEW_FLAG</code></td><td><span class=\"absent\">absent</span></td><td><code>on</code></td><td><code>on</code></td></tr>"));
}
