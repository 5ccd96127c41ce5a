//! The HTML format: one self-contained page. Inline CSS, no script, no external asset; a
//! Content-Security-Policy that forbids everything but the inline style, so even a value
//! that slipped past escaping could not run or load anything.
//!
//! Layout: a header with the overall score and the environments; a table of facet scores;
//! class counts; for three or more environments the key × environment matrix; the
//! findings to act on, one table per file with a row per Kubernetes object; the intended
//! differences (expected, env-equivalent) in a collapsed `<details>` (open when verbose);
//! the notes.

use std::fmt::Write as _;

use envparity_core::{Class, Finding, Report, Severity, Side};

use crate::RenderOptions;
use crate::common::{
    self, CLASS_ORDER, Group, class_counts, group_findings, key_in_block, plural, thousands,
};

/// Longest value shown in a cell; the full value (up to [`TITLE_CHARS`]) is its tooltip.
const VALUE_CHARS: usize = 120;
const TITLE_CHARS: usize = 2_000;
/// Longest message in a row's tooltip (the core already cuts values in messages short).
const MESSAGE_CHARS: usize = 500;

/// Text escaped for HTML content and quoted attribute values, control characters made
/// visible.
pub fn escape(text: &str) -> String {
    let text = common::visible(text);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #1f2328; --bg: #ffffff; --muted: #59636e; --line: #d1d9e0; --head: #f6f8fa;
  --red: #cf222e; --orange: #bc4c00; --yellow: #9a6700; --green: #1a7f37; --blue: #0969da; --purple: #8250df; --grey: #6e7781; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #3d444d; --head: #151b23;
  --red: #ff7b72; --orange: #f0883e; --yellow: #d29922; --green: #3fb950; --blue: #58a6ff; --purple: #bc8cff; --grey: #8b949e; } }
* { box-sizing: border-box; }
svg.chart { width: 100%; max-width: 760px; height: auto; display: block; margin: .25rem 0 1rem; }
svg.chart .rate { fill: none; stroke: var(--blue); stroke-width: 1.5; }
svg.chart .axis { stroke: var(--line); }
svg.chart .target { fill: none; stroke: var(--line); stroke-width: 1.5; stroke-dasharray: 4 3; }
svg.chart .p50 { fill: none; stroke: var(--blue); stroke-width: 1.5; }
svg.chart .p99 { fill: none; stroke: #c0392b; stroke-width: 1.5; }
svg.chart .reference { stroke: #8e44ad; stroke-dasharray: 2 3; }
svg.chart .knee { stroke: #c0392b; stroke-width: 1; }
svg.chart .label { fill: var(--muted); font-size: 11px; }
svg.chart .label.end { text-anchor: end; }
.bar { display: inline-block; height: .7em; background: var(--blue); vertical-align: middle; }
body { margin: 0 auto; max-width: 1400px; padding: 1.5rem; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; } h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
h3 { font-size: 1rem; margin: 1.25rem 0 .4rem; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
p, li { color: var(--muted); }
.score { font-variant-numeric: tabular-nums; } .ok { color: var(--green); } .warn { color: var(--yellow); } .bad { color: var(--red); }
table { border-collapse: collapse; width: 100%; margin: .25rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
thead th { background: var(--head); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.resource th { background: var(--head); font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-weight: 600; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92em; white-space: pre-wrap; word-break: break-all; }
.loc { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85em; color: var(--muted); word-break: break-all; }
.why { display: block; color: var(--muted); font-size: .9em; margin-top: .2rem; }
.absent { color: var(--muted); font-style: italic; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-size: .8rem; font-weight: 600; white-space: nowrap; border: 1px solid currentColor; }
.c-shared-secret, .c-policy { color: var(--red); } .c-unreadable { color: var(--purple); } .c-drift { color: var(--orange); }
.c-missing { color: var(--red); } .c-extra { color: var(--blue); } .c-expected { color: var(--green); } .c-env-equivalent { color: var(--grey); }
.counts .badge { margin-right: .35rem; }
details > summary { cursor: pointer; color: var(--muted); margin: .5rem 0; }
footer { margin-top: 2rem; color: var(--muted); font-size: .85em; border-top: 1px solid var(--line); padding-top: .5rem; }
"#;

pub fn render(report: &Report, options: &RenderOptions) -> String {
    let actionable: Vec<&Finding> = report.actionable().collect();
    let intended: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| !f.class.is_actionable())
        .collect();
    let status = if actionable.is_empty() {
        "ok"
    } else if actionable.iter().any(|f| f.severity == Severity::Error) {
        "bad"
    } else {
        "warn"
    };
    let others: Vec<&str> = common::compared_envs(report);
    let others_text = if others.is_empty() {
        "nothing".to_string()
    } else {
        others.join(", ")
    };

    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    let _ = writeln!(
        out,
        "<title>envparity: {} vs {}, parity {}</title>",
        escape(&others_text),
        escape(&report.reference),
        common::score(report.score)
    );
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");

    // Header.
    out.push_str("<header>\n");
    let _ = writeln!(
        out,
        "<h1>Parity <span class=\"score {status}\">{}</span><small>/100</small></h1>",
        common::score(report.score)
    );
    let compared: u64 = report.facets.iter().map(|f| f.compared).sum();
    let _ = write!(
        out,
        "<p>{} compared with <strong>{}</strong> (reference), {}: ",
        others
            .iter()
            .map(|e| format!("<strong>{}</strong>", escape(e)))
            .collect::<Vec<_>>()
            .join(", "),
        escape(&report.reference),
        plural(compared, "key", "keys")
    );
    if actionable.is_empty() {
        out.push_str("<span class=\"ok\">in parity</span>, no differences to act on.</p>\n");
    } else {
        let _ = writeln!(
            out,
            "<span class=\"{status}\">{} to act on</span>.</p>",
            plural(actionable.len() as u64, "finding", "findings")
        );
    }
    if !report.environments.is_empty() {
        out.push_str("<p>");
        let taken: Vec<String> = report
            .environments
            .iter()
            .map(|e| format!("{} taken {}", escape(&e.name), escape(&e.taken_at)))
            .collect();
        out.push_str(&taken.join(" · "));
        out.push_str("</p>\n");
    }
    out.push_str("</header>\n<main>\n");

    // Facets.
    if !report.facets.is_empty() {
        out.push_str("<section>\n<h2>Facets</h2>\n<table>\n<thead><tr><th>facet</th><th class=\"num\">score</th><th class=\"num\">keys compared</th>");
        for class in CLASS_ORDER {
            let _ = write!(out, "<th class=\"num\">{}</th>", class.name());
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for facet in &report.facets {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                facet.facet.name(),
                common::score(facet.score),
                thousands(facet.compared)
            );
            for class in CLASS_ORDER {
                let n = facet.counts.get(&class).copied().unwrap_or(0);
                let _ = write!(out, "<td class=\"num\">{}</td>", thousands(n));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        out.push_str(&counts_badges(&report.findings));
        out.push_str("</section>\n");
    }

    if !report.traffic.is_empty() {
        render_traffic(&mut out, &report.traffic, &report.reference);
    }
    for load in &report.load {
        render_load(&mut out, load);
    }

    // Matrix.
    if let Some(matrix) = report.matrix.as_ref().filter(|m| !m.rows.is_empty()) {
        let _ = writeln!(
            out,
            "<section>\n<h2>Across {} environments ({})</h2>\n<table>\n<thead><tr><th>key</th>",
            matrix.environments.len(),
            plural(matrix.rows.len() as u64, "key", "keys")
        );
        for env in &matrix.environments {
            if *env == report.reference {
                let _ = write!(out, "<th>{} (reference)</th>", escape(env));
            } else {
                let _ = write!(out, "<th>{}</th>", escape(env));
            }
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for row in &matrix.rows {
            let _ = write!(out, "<tr><td><code>{}</code></td>", escape(&row.key));
            for value in &row.values {
                let _ = write!(out, "<td>{}</td>", value_html(value.as_deref()));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n</section>\n");
    }

    // Findings to act on.
    let pair = common::uniform_pair(report);
    out.push_str("<section>\n");
    if actionable.is_empty() {
        out.push_str("<h2>Findings to act on</h2>\n<p class=\"ok\">None: the environments are in parity.</p>\n");
    } else {
        let _ = writeln!(
            out,
            "<h2>Findings to act on ({})</h2>",
            thousands(actionable.len() as u64)
        );
        for group in group_findings(actionable.iter().copied()) {
            render_group(&mut out, &group, pair);
        }
    }
    out.push_str("</section>\n");

    // Intended differences.
    if !intended.is_empty() {
        let _ = writeln!(
            out,
            "<section>\n<h2>Intended differences ({})</h2>\n<p>Expected (a rule or the baseline says so) and env-equivalent (only environment names differ): not counted against the score.</p>",
            thousands(intended.len() as u64)
        );
        let groups = group_findings(intended.iter().copied());
        let _ = writeln!(
            out,
            "<details{}>\n<summary>{} in {}</summary>",
            if options.verbose { " open" } else { "" },
            counts_text(intended.iter().copied()),
            plural(groups.len() as u64, "file", "files")
        );
        for group in &groups {
            render_group(&mut out, group, pair);
        }
        out.push_str("</details>\n</section>\n");
    }

    // Notes.
    if !report.notes.is_empty() {
        out.push_str("<section>\n<h2>Notes</h2>\n<ul>\n");
        for note in &report.notes {
            let _ = writeln!(out, "<li>{}</li>", escape(note));
        }
        out.push_str("</ul>\n</section>\n");
    }

    let _ = writeln!(
        out,
        "</main>\n<footer>envparity {} · report format {} version {} · {}</footer>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION"),
        escape(&report.format),
        report.version,
        counts_text(&report.findings)
    );
    out
}

fn counts_text<'r>(findings: impl IntoIterator<Item = &'r Finding>) -> String {
    let counts = class_counts(findings);
    let parts: Vec<String> = CLASS_ORDER
        .iter()
        .filter_map(|c| {
            counts
                .get(c)
                .map(|n| format!("{} {}", thousands(*n), c.name()))
        })
        .collect();
    if parts.is_empty() {
        "no findings".to_string()
    } else {
        parts.join(", ")
    }
}

fn badge(class: Class) -> String {
    format!("<span class=\"badge c-{0}\">{0}</span>", class.name())
}

fn counts_badges<'r>(findings: impl IntoIterator<Item = &'r Finding>) -> String {
    let counts = class_counts(findings);
    let mut out = String::from("<p class=\"counts\">");
    if counts.is_empty() {
        out.push_str("No findings.");
    }
    for class in CLASS_ORDER {
        if let Some(n) = counts.get(&class) {
            let _ = write!(out, "{} {} ", thousands(*n), badge(class));
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push_str("</p>\n");
    out
}

fn value_html(value: Option<&str>) -> String {
    match value {
        None => "<span class=\"absent\">absent</span>".to_string(),
        Some("") => "<code>\"\"</code>".to_string(),
        Some(v) => {
            let visible = common::visible(v);
            let short = common::truncate(&visible, VALUE_CHARS);
            if short.len() < visible.len() {
                format!(
                    "<code title=\"{}\">{}</code>",
                    escape(&common::truncate(&visible, TITLE_CHARS)),
                    escape(&short)
                )
            } else {
                format!("<code>{}</code>", escape(&short))
            }
        }
    }
}

fn side_html(f: &Finding, side: &Side, prefix: bool) -> String {
    let value = if f.class == Class::Unreadable {
        String::new()
    } else if side.value.is_none() && common::is_whole_unit(f) && side.location.is_some() {
        if f.covers > 1 {
            format!(
                "<span class=\"absent\">present ({})</span>",
                plural(u64::from(f.covers), "key", "keys")
            )
        } else {
            "<span class=\"absent\">present</span>".to_string()
        }
    } else {
        value_html(side.value.as_deref())
    };
    if prefix && !value.is_empty() {
        format!("{}: {value}", escape(&side.env))
    } else {
        value
    }
}

/// Chart size, in SVG units.
const CHART_WIDTH: f64 = 720.0;
const CHART_HEIGHT: f64 = 140.0;

/// The traffic section: each environment's request rate over its log's span, drawn on one
/// shared rate scale so a load test that never reached Production's peak looks it, and
/// the route mix side by side.
fn render_traffic(
    out: &mut String,
    traffic: &[envparity_core::traffic::TrafficOverview],
    reference: &str,
) {
    out.push_str("<section>\n<h2>Traffic</h2>\n");
    let rate = |c: &envparity_core::traffic::Curve| -> Vec<f64> {
        c.counts
            .iter()
            .map(|n| *n as f64 / c.step_seconds.max(1) as f64)
            .collect()
    };
    let top = traffic
        .iter()
        .filter_map(|t| t.curve.as_ref())
        .flat_map(&rate)
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    for t in traffic {
        let _ = writeln!(
            out,
            "<h3>{}{}</h3>\n<p>{} requests · {:.1} req/s average · peak {} req/s (busiest second)</p>",
            escape(&t.environment),
            if t.environment == reference {
                " (reference)"
            } else {
                ""
            },
            thousands(t.requests),
            t.average_rps,
            thousands(t.peak_rps)
        );
        let Some(curve) = &t.curve else {
            continue;
        };
        let values = rate(curve);
        let n = values.len().max(2) as f64 - 1.0;
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                format!(
                    "{:.1},{:.1}",
                    i as f64 / n * CHART_WIDTH,
                    CHART_HEIGHT - v / top * CHART_HEIGHT
                )
            })
            .collect();
        let span = curve.counts.len() as u64 * curve.step_seconds;
        let _ = writeln!(
            out,
            "<svg class=\"chart\" viewBox=\"0 -14 {w} {h}\" role=\"img\" aria-label=\"{env}: requests per second over {span}\">\n\
             <line x1=\"0\" y1=\"{ch}\" x2=\"{w}\" y2=\"{ch}\" class=\"axis\"/>\n\
             <polyline points=\"{pts}\" class=\"rate\"/>\n\
             <text x=\"0\" y=\"-3\" class=\"label\">{top:.0} req/s (averaged per {step})</text>\n\
             <text x=\"0\" y=\"{ty}\" class=\"label\">{start}</text>\n\
             <text x=\"{w}\" y=\"{ty}\" class=\"label end\">+{span}</text>\n</svg>",
            w = CHART_WIDTH,
            h = CHART_HEIGHT + 30.0,
            ch = CHART_HEIGHT,
            ty = CHART_HEIGHT + 14.0,
            env = escape(&t.environment),
            pts = points.join(" "),
            step = duration(curve.step_seconds),
            start = envparity_core::traffic::utc(curve.start),
            span = duration(span),
        );
    }
    // The route mix: every route in any environment's top list, one column each.
    let mut routes: Vec<(&str, &str)> = Vec::new();
    for t in traffic {
        for r in &t.routes {
            if !routes.contains(&(r.method.as_str(), r.route.as_str())) {
                routes.push((r.method.as_str(), r.route.as_str()));
            }
        }
    }
    out.push_str("<h3>Route mix</h3>\n<table>\n<thead><tr><th>route</th>");
    for t in traffic {
        let _ = write!(out, "<th>{}</th>", escape(&t.environment));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (method, route) in routes {
        let _ = write!(
            out,
            "<tr><td><code>{} {}</code></td>",
            escape(method),
            escape(route)
        );
        for t in traffic {
            match t
                .routes
                .iter()
                .find(|r| r.method == method && r.route == route)
            {
                Some(r) => {
                    let _ = write!(
                        out,
                        "<td><span class=\"bar\" style=\"width:{:.0}px\"></span> {:.1} %</td>",
                        (r.share * 200.0).max(1.0),
                        r.share * 100.0
                    );
                }
                // Absent from a full list: never requested; from a cut one: rarer.
                None if t.route_count > t.routes.len() as u64 => {
                    out.push_str("<td><span class=\"absent\">below its top routes</span></td>")
                }
                None => out.push_str("<td><span class=\"absent\">never</span></td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// A load run: its rate (target and sent) and latency (p50, p99) over the run, the knee
/// marked, and the route table.
fn render_load(out: &mut String, load: &envparity_core::load::LoadOverview) {
    let c = &load.comparison;
    let _ = writeln!(
        out,
        "<section>\n<h2>Load: {} under {}'s traffic — headroom {}</h2>\n<p>{}</p>",
        escape(&c.run),
        escape(&c.reference),
        crate::common::headroom_name(c.headroom),
        escape(&c.verdict)
    );
    let n = load.points.len().max(2) as f64 - 1.0;
    let x = |i: usize| i as f64 / n * CHART_WIDTH;
    let knee_x = c
        .knee
        .as_ref()
        // Rounded, as core finds the knee's step.
        .map(|k| (k.at_seconds / load.step_seconds.max(1e-9)).round() as usize);
    let chart = |out: &mut String,
                 label: &str,
                 series: &[(&str, Vec<Option<f64>>)],
                 unit: &dyn Fn(f64) -> String,
                 reference: Option<(f64, &str)>| {
        let top = series
            .iter()
            .flat_map(|(_, v)| v.iter().flatten().copied())
            .chain(reference.map(|r| r.0))
            .fold(0.0f64, f64::max)
            .max(f64::MIN_POSITIVE);
        let y = |v: f64| CHART_HEIGHT - v / top * CHART_HEIGHT;
        let _ = writeln!(
            out,
            "<svg class=\"chart\" viewBox=\"0 -14 {w} {h}\" role=\"img\" aria-label=\"{label}\">\n<line x1=\"0\" y1=\"{ch}\" x2=\"{w}\" y2=\"{ch}\" class=\"axis\"/>",
            w = CHART_WIDTH,
            h = CHART_HEIGHT + 30.0,
            ch = CHART_HEIGHT,
            label = escape(label)
        );
        if let Some((value, name)) = reference {
            let _ = writeln!(
                out,
                "<line x1=\"0\" y1=\"{yy:.1}\" x2=\"{w}\" y2=\"{yy:.1}\" class=\"reference\"/><text x=\"{w}\" y=\"{ty:.1}\" class=\"label end\">{}</text>",
                escape(name),
                yy = y(value),
                ty = y(value) - 3.0,
                w = CHART_WIDTH
            );
        }
        for (class, values) in series {
            // A step without a value (no answers, so no latency) breaks the line: one
            // polyline per run of values, not a drop to 0.
            let mut run: Vec<String> = Vec::new();
            for (i, v) in values.iter().enumerate().chain([(values.len(), &None)]) {
                match v {
                    Some(v) => run.push(format!("{:.1},{:.1}", x(i), y(*v))),
                    None if run.is_empty() => {}
                    // A lone value between gaps is a dot: a one-point line draws nothing.
                    None if run.len() == 1 => {
                        let (cx, cy) = run[0].split_once(',').expect("x,y");
                        let _ = writeln!(
                            out,
                            "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"1.5\" class=\"{class}\"/>"
                        );
                        run.clear();
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "<polyline points=\"{}\" class=\"{class}\"/>",
                            run.join(" ")
                        );
                        run.clear();
                    }
                }
            }
        }
        if let Some(k) = knee_x {
            let _ = writeln!(
                out,
                "<line x1=\"{kx:.1}\" y1=\"0\" x2=\"{kx:.1}\" y2=\"{ch}\" class=\"knee\"/><text x=\"{lx:.1}\" y=\"{ly:.1}\" class=\"label\">knee</text>",
                kx = x(k),
                lx = x(k) + 3.0,
                ly = CHART_HEIGHT - 4.0,
                ch = CHART_HEIGHT
            );
        }
        let _ = writeln!(
            out,
            "<text x=\"0\" y=\"-3\" class=\"label\">{} ({})</text>\n<text x=\"0\" y=\"{ty}\" class=\"label\">0 s</text>\n<text x=\"{w}\" y=\"{ty}\" class=\"label end\">+{:.0} s</text>\n</svg>",
            unit(top),
            escape(label),
            load.points.len() as f64 * load.step_seconds,
            ty = CHART_HEIGHT + 14.0,
            w = CHART_WIDTH
        );
    };
    let target: Vec<Option<f64>> = load.points.iter().map(|p| Some(p.target_rps)).collect();
    let sent: Vec<Option<f64>> = load.points.iter().map(|p| Some(p.sent_rps)).collect();
    chart(
        out,
        "requests per second: target (dashed) and sent",
        &[("target", target), ("rate", sent)],
        &|v| format!("{v:.0} req/s"),
        (c.reference_peak_rps > 0).then_some((c.reference_peak_rps as f64, "reference peak")),
    );
    let p50: Vec<Option<f64>> = load.points.iter().map(|p| p.p50).collect();
    let p99: Vec<Option<f64>> = load.points.iter().map(|p| p.p99).collect();
    chart(
        out,
        "latency from the intended send: p50 and p99",
        &[("p50", p50), ("p99", p99)],
        &envparity_core::load::seconds,
        Some((c.p99_limit, "p99 limit")),
    );
    let rows = crate::common::load_rows(c);
    if !rows.is_empty() {
        out.push_str("<table>\n<thead><tr>");
        for h in crate::common::LOAD_HEAD {
            let _ = write!(out, "<th>{}</th>", escape(h));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for row in &rows {
            out.push_str("<tr>");
            for (k, cell) in row.iter().enumerate() {
                if k == 0 {
                    let _ = write!(out, "<td><code>{}</code></td>", escape(cell));
                } else {
                    let _ = write!(out, "<td>{}</td>", escape(cell));
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
    }
    if !c.untouched.is_empty() {
        out.push_str("<p>Never sent: ");
        let list: Vec<String> = c
            .untouched
            .iter()
            .map(|u| {
                format!(
                    "<code>{} {}</code> ({})",
                    escape(&u.method),
                    escape(&u.route),
                    envparity_core::fidelity::percent(u.share)
                )
            })
            .collect();
        out.push_str(&list.join(", "));
        out.push_str("</p>\n");
    }
    out.push_str("</section>\n");
}

/// `3600` → `1 h`, `90` → `90 s`.
fn duration(seconds: u64) -> String {
    if seconds >= 86_400 && seconds.is_multiple_of(3600) {
        format!("{:.1} d", seconds as f64 / 86_400.0)
    } else if seconds >= 3600 {
        format!("{:.1} h", seconds as f64 / 3600.0)
    } else if seconds >= 120 {
        format!("{:.0} min", seconds as f64 / 60.0)
    } else {
        format!("{seconds} s")
    }
}

fn render_group(out: &mut String, group: &Group, pair: Option<(&str, &str)>) {
    let _ = write!(
        out,
        "<h3>{}</h3>\n{}",
        escape(group.name),
        counts_badges(group.findings())
    );
    let (head_a, head_b) = match pair {
        Some((a, b)) => (escape(a), escape(b)),
        None => ("compared".to_string(), "reference".to_string()),
    };
    let _ = writeln!(
        out,
        "<table>\n<thead><tr><th>class</th><th>key</th><th>{head_a}</th><th>{head_b}</th><th>location</th></tr></thead>\n<tbody>"
    );
    for block in &group.blocks {
        if let Some(resource) = block.resource {
            let _ = writeln!(
                out,
                "<tr class=\"resource\"><th colspan=\"5\">{}</th></tr>",
                escape(resource)
            );
        }
        for f in &block.findings {
            let key = match key_in_block(f) {
                "" => format!("<span class=\"absent\">{}</span>", common::whole_label(f)),
                k => format!("<code>{}</code>", escape(k)),
            };
            let mut why = String::new();
            if f.class == Class::Unreadable {
                let _ = write!(why, "<span class=\"why\">{}</span>", escape(&f.message));
            }
            if let Some(reason) = &f.reason {
                let _ = write!(why, "<span class=\"why\">↳ {}</span>", escape(reason));
            }
            let mut locations: Vec<String> = Vec::new();
            for side in [&f.a, &f.b] {
                if let Some(loc) = common::location(side) {
                    let loc = escape(&loc);
                    if !locations.contains(&loc) {
                        locations.push(loc);
                    }
                }
            }
            let _ = writeln!(
                out,
                "<tr title=\"{}\"><td>{}</td><td>{key}{why}</td><td>{}</td><td>{}</td><td class=\"loc\">{}</td></tr>",
                escape(&common::truncate(&f.message, MESSAGE_CHARS)),
                badge(f.class),
                side_html(f, &f.a, pair.is_none()),
                side_html(f, &f.b, pair.is_none()),
                locations.join("<br>")
            );
        }
    }
    out.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use envparity_core::load::{Headroom, LoadComparison, LoadOverview, LoadPoint};

    #[test]
    fn a_step_without_answers_breaks_the_latency_line_instead_of_dropping_to_zero() {
        let point = |p99: Option<f64>| LoadPoint {
            target_rps: 100.0,
            sent_rps: 100.0,
            p50: p99.map(|v| v / 2.0),
            p99,
            error_rate: 0.0,
        };
        let load = LoadOverview {
            comparison: LoadComparison {
                reference: "prod".into(),
                run: "qa".into(),
                reference_peak_rps: 100,
                run_target_rps: 100.0,
                run_achieved_rps: 100.0,
                run_late_share: 0.0,
                p99_limit: 0.3,
                error_limit: 0.01,
                p99_factor: 2.0,
                error_margin: 0.01,
                knee: None,
                held_factor: 1.0,
                headroom: Headroom::Thin,
                verdict: "held".into(),
                routes: vec![],
                untouched: vec![],
            },
            step_seconds: 1.0,
            points: vec![
                point(Some(0.02)),
                point(Some(0.03)),
                point(None),
                point(None),
                point(Some(0.04)),
                point(None),
            ],
        };
        let mut out = String::new();
        super::render_load(&mut out, &load);
        let p99_lines: Vec<&str> = out
            .lines()
            .filter(|l| l.contains("class=\"p99\""))
            .collect();
        // Two points, a gap, then a lone point: a line and a dot.
        assert_eq!(p99_lines.len(), 2, "{p99_lines:?}");
        assert!(p99_lines[0].starts_with("<polyline") && p99_lines[1].starts_with("<circle"));
        // The chart's bottom (y = its height) is a latency of 0: no point sits there.
        let bottom = format!(",{:.1}", super::CHART_HEIGHT);
        assert!(
            !p99_lines.iter().any(|l| l.contains(&bottom)),
            "{p99_lines:?}"
        );
        // The rate line is whole.
        assert_eq!(out.matches("class=\"rate\"").count(), 1);
    }
}
