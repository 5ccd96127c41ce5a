//! The text format, for a terminal.
//!
//! ```text
//! envparity  qa vs prod (reference)  ·  parity 71.4/100  ·  config 71.4 (14 keys)
//!
//! deploy/api.yaml
//!   Deployment/shop/api
//!     shared-secret  env[DB_PASSWORD]  qa = prod: ‹secret 3f2a9c1e0b7d›  qa/deploy/api.yaml:31, prod/deploy/api.yaml:31
//!     drift          spec.replicas     qa: 2 → prod: 6                   qa/deploy/api.yaml:12, prod/deploy/api.yaml:14
//! ```

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use envparity_core::{Class, Finding, Report, Severity};

use crate::RenderOptions;
use crate::common::{
    self, CLASS_ORDER, Group, class_counts, group_findings, key_in_block, location, plural, shown,
    thousands, width,
};

/// Longest value shown for one side of a finding.
const VALUE_CHARS: usize = 48;

/// At most this many characters of an unreadable source's message (a database driver's
/// can run long; ours stay well below).
const MESSAGE_CHARS: usize = 600;
/// Longest value shown in a matrix cell.
const CELL_CHARS: usize = 24;
/// Widest key column that values are aligned after; longer keys just push their line.
const KEY_COLUMN: usize = 56;
/// Files listed in the summary of expected and env-equivalent findings (not verbose).
const SUMMARY_FILES: usize = 20;

struct Paint {
    color: bool,
}

impl Paint {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color && !style.is_plain() && !text.is_empty() {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }

    fn dim(&self, text: &str) -> String {
        self.paint(Style::new().dimmed(), text)
    }

    fn class(&self, class: Class, text: &str) -> String {
        self.paint(class_style(class), text)
    }
}

fn fg(color: AnsiColor) -> Style {
    Style::new().fg_color(Some(color.into()))
}

fn class_style(class: Class) -> Style {
    match class {
        Class::SharedSecret | Class::Policy => fg(AnsiColor::Red).bold(),
        Class::Unreadable => fg(AnsiColor::Magenta).bold(),
        Class::Drift => fg(AnsiColor::Yellow),
        Class::Missing => fg(AnsiColor::Red),
        Class::Extra => fg(AnsiColor::Cyan),
        Class::Expected => fg(AnsiColor::Green),
        Class::EnvEquivalent => Style::new().dimmed(),
    }
}

/// Pads `text` (already painted) to `columns`, given its visible width.
fn pad(out: &mut String, text: &str, visible_width: usize, columns: usize) {
    out.push_str(text);
    for _ in visible_width..columns {
        out.push(' ');
    }
}

pub fn render(report: &Report, options: &RenderOptions) -> String {
    let p = Paint {
        color: options.color,
    };
    let mut out = String::new();
    header(&mut out, report, options, &p);

    let actionable: Vec<&Finding> = report.actionable().collect();
    let intended: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| !f.class.is_actionable())
        .collect();

    if actionable.is_empty() {
        let compared: u64 = report.facets.iter().map(|f| f.compared).sum();
        out.push('\n');
        let mut line = format!(
            "In parity: no differences to act on in {}",
            plural(compared, "compared key", "compared keys")
        );
        if !intended.is_empty() {
            let _ = write!(line, " ({} intended)", thousands(intended.len() as u64));
        }
        line.push('.');
        out.push_str(&p.paint(fg(AnsiColor::Green).bold(), &line));
        out.push('\n');
    }

    if report.matrix.as_ref().is_some_and(|m| !m.rows.is_empty()) {
        render_matrix(&mut out, report, &p);
    }

    if !actionable.is_empty() {
        let tag_width = tag_width(&actionable);
        for group in group_findings(actionable.iter().copied()) {
            render_group(&mut out, &group, tag_width, &p);
        }
    }

    if !intended.is_empty() {
        out.push('\n');
        if options.verbose {
            out.push_str(&p.bold(&format!(
                "Intended differences, not counted against the score ({}):",
                thousands(intended.len() as u64)
            )));
            out.push('\n');
            let tag_width = tag_width(&intended);
            for group in group_findings(intended.iter().copied()) {
                render_group(&mut out, &group, tag_width, &p);
            }
        } else {
            summarize_intended(&mut out, &intended, &p);
        }
    }

    for load in &report.load {
        render_load(&mut out, load, &p);
    }

    if !report.notes.is_empty() {
        out.push('\n');
        out.push_str(&p.bold("Notes:"));
        out.push('\n');
        for note in &report.notes {
            let _ = writeln!(out, "  - {}", common::visible(note));
        }
    }

    out.push('\n');
    footer(&mut out, report, &p);
    out
}

fn header(out: &mut String, report: &Report, options: &RenderOptions, p: &Paint) {
    let others = common::compared_envs(report);
    let compared = if others.is_empty() {
        "(no environment)".to_string()
    } else {
        others
            .iter()
            .map(|e| common::visible(e).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let status = status_style(report);
    let mut line = String::new();
    line.push_str(&p.bold("envparity"));
    if others.is_empty() && report.environments.len() == 1 {
        // One environment on its own: an audit, not a comparison.
        let _ = write!(
            line,
            "  {} (audit)  ·  ",
            p.bold(&common::visible(&report.reference))
        );
    } else {
        let _ = write!(
            line,
            "  {} vs {} (reference)  ·  ",
            compared,
            p.bold(&common::visible(&report.reference))
        );
    }
    line.push_str(&p.paint(
        status.bold(),
        &format!("parity {}/100", common::score(report.score)),
    ));
    for facet in &report.facets {
        let _ = write!(
            line,
            "  ·  {} {} ({})",
            facet.facet.name(),
            common::score(facet.score),
            plural(facet.compared, "key", "keys")
        );
    }
    out.push_str(&line);
    out.push('\n');
    if options.verbose {
        let taken: Vec<String> = report
            .environments
            .iter()
            .map(|e| {
                format!(
                    "{} taken {}",
                    common::visible(&e.name),
                    common::visible(&e.taken_at)
                )
            })
            .collect();
        if !taken.is_empty() {
            out.push_str(&p.dim(&taken.join(", ")));
            out.push('\n');
        }
    }
}

/// Green in parity, red with an error-severity finding to act on, yellow otherwise.
fn status_style(report: &Report) -> Style {
    let mut actionable = report.actionable().peekable();
    if actionable.peek().is_none() {
        fg(AnsiColor::Green)
    } else if report.actionable().any(|f| f.severity == Severity::Error) {
        fg(AnsiColor::Red)
    } else {
        fg(AnsiColor::Yellow)
    }
}

/// The width of the class tag column: the longest class name among `findings`.
fn tag_width(findings: &[&Finding]) -> usize {
    findings
        .iter()
        .map(|f| f.class.name().len())
        .max()
        .unwrap_or(0)
}

/// The middle column: both values, or what stands in for them.
fn values(f: &Finding) -> String {
    if f.class == Class::Unreadable {
        // What was wrong and what to do about it, whole: the advice is at the end.
        return shown(&f.message, MESSAGE_CHARS);
    }
    if common::is_whole_unit(f) {
        let present = if f.a.location.is_some() { &f.a } else { &f.b };
        let mut text = format!("only in {}", common::visible(&present.env));
        if f.covers > 1 {
            let _ = write!(text, " ({})", plural(u64::from(f.covers), "key", "keys"));
        }
        return text;
    }
    let side = |v: &Option<String>, other: &Option<String>| match v.as_deref() {
        None => "(absent)".to_string(),
        Some("") => "\"\"".to_string(),
        Some(v) => common::shown_against(v, other.as_deref(), VALUE_CHARS),
    };
    if f.class == Class::SharedSecret && f.a.value.is_some() && f.a.value == f.b.value {
        return format!(
            "{} = {}: {}",
            common::visible(&f.a.env),
            common::visible(&f.b.env),
            side(&f.a.value, &None)
        );
    }
    format!(
        "{}: {} → {}: {}",
        common::visible(&f.a.env),
        side(&f.a.value, &f.b.value),
        common::visible(&f.b.env),
        side(&f.b.value, &f.a.value)
    )
}

fn locations(f: &Finding) -> String {
    let mut list: Vec<String> = Vec::new();
    for side in [&f.a, &f.b] {
        if let Some(loc) = location(side) {
            let loc = common::visible(&loc).into_owned();
            if !list.contains(&loc) {
                list.push(loc);
            }
        }
    }
    list.join(", ")
}

fn render_group(out: &mut String, group: &Group, tag_width: usize, p: &Paint) {
    out.push('\n');
    out.push_str(&p.bold(&common::visible(group.name)));
    out.push('\n');
    for block in &group.blocks {
        let indent = match block.resource {
            Some(resource) => {
                let _ = writeln!(out, "  {}", p.bold(&common::visible(resource)));
                "    "
            }
            None => "  ",
        };
        let rows: Vec<(String, String, String)> = block
            .findings
            .iter()
            .map(|f| {
                let key = match key_in_block(f) {
                    "" => common::whole_label(f).to_string(),
                    k => common::visible(k).into_owned(),
                };
                (key, values(f), locations(f))
            })
            .collect();
        // Columns align on the widest cell that fits; a wider one just pushes its line.
        let fit = |w: usize| if w <= KEY_COLUMN { w } else { 0 };
        let key_width = rows.iter().map(|r| fit(width(&r.0))).max().unwrap_or(0);
        for (f, (key, values, locations)) in block.findings.iter().zip(&rows) {
            let mut line = String::from(indent);
            pad(
                &mut line,
                &p.class(f.class, f.class.name()),
                f.class.name().len(),
                tag_width,
            );
            line.push_str("  ");
            pad(&mut line, key, width(key), key_width);
            line.push_str("  ");
            line.push_str(values);
            if !locations.is_empty() {
                line.push_str("  ");
                line.push_str(&p.dim(locations));
            }
            out.push_str(line.trim_end());
            out.push('\n');
            // The reason, or the message when the values alone do not show the difference
            // (`1` against `"1"`: same text, different types).
            let why = f.reason.as_deref().or_else(|| {
                (f.class != Class::SharedSecret && f.a.value.is_some() && f.a.value == f.b.value)
                    .then_some(f.message.as_str())
            });
            if let Some(why) = why {
                let _ = writeln!(
                    out,
                    "{indent}{:tag_width$}  {}",
                    "",
                    p.dim(&format!("↳ {}", common::visible(why)))
                );
            }
        }
    }
}

fn summarize_intended(out: &mut String, intended: &[&Finding], p: &Paint) {
    let groups = group_findings(intended.iter().copied());
    out.push_str(&p.bold(&format!(
        "Intended differences, not counted against the score: {} in {} (verbose output lists them)",
        counts_phrase(intended.iter().copied(), p),
        plural(groups.len() as u64, "file", "files")
    )));
    out.push('\n');
    let shown_groups = &groups[..groups.len().min(SUMMARY_FILES)];
    let name_width = shown_groups
        .iter()
        .map(|g| width(&common::visible(g.name)))
        .max()
        .unwrap_or(0)
        .min(KEY_COLUMN + 16);
    for group in shown_groups {
        let name = common::visible(group.name);
        let mut line = String::from("  ");
        pad(&mut line, &name, width(&name), name_width);
        line.push_str("  ");
        line.push_str(&counts_phrase(group.findings(), p));
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if groups.len() > shown_groups.len() {
        let rest = &groups[shown_groups.len()..];
        let findings: usize = rest.iter().map(Group::len).sum();
        let _ = writeln!(
            out,
            "  … and {} more {} ({})",
            thousands(rest.len() as u64),
            if rest.len() == 1 { "file" } else { "files" },
            plural(findings as u64, "finding", "findings")
        );
    }
}

/// `1 expected, 3 env-equivalent`, classes in display order, zero counts left out.
fn counts_phrase<'r>(findings: impl IntoIterator<Item = &'r Finding>, p: &Paint) -> String {
    let counts = class_counts(findings);
    CLASS_ORDER
        .iter()
        .filter_map(|c| {
            counts
                .get(c)
                .map(|n| format!("{} {}", thousands(*n), p.class(*c, c.name())))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn footer(out: &mut String, report: &Report, p: &Paint) {
    let counts = class_counts(&report.findings);
    let actionable: u64 = counts
        .iter()
        .filter(|(c, _)| c.is_actionable())
        .map(|(_, n)| n)
        .sum();
    let part = |filter: fn(Class) -> bool| {
        CLASS_ORDER
            .iter()
            .filter(|c| filter(**c))
            .filter_map(|c| {
                counts
                    .get(c)
                    .map(|n| format!("{} {}", thousands(*n), p.class(*c, c.name())))
            })
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let act = part(Class::is_actionable);
    let intended = part(|c| !c.is_actionable());
    let mut line = format!("{} to act on", plural(actionable, "finding", "findings"));
    if !act.is_empty() {
        let _ = write!(line, ": {act}");
    }
    if !intended.is_empty() {
        let _ = write!(line, "  |  intended: {intended}");
    }
    out.push_str(&line);
    out.push('\n');
}

fn render_matrix(out: &mut String, report: &Report, p: &Paint) {
    let Some(matrix) = &report.matrix else { return };
    let reference = matrix
        .environments
        .iter()
        .position(|e| *e == report.reference);
    out.push('\n');
    out.push_str(&p.bold(&format!(
        "Keys that differ across {} environments ({}, * = reference):",
        matrix.environments.len(),
        plural(matrix.rows.len() as u64, "key", "keys")
    )));
    out.push('\n');

    // Rows by file, files in the order of the findings section.
    let order: Vec<&str> = group_findings(report.actionable())
        .iter()
        .map(|g| g.name)
        .collect();
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for (ri, row) in matrix.rows.iter().enumerate() {
        match groups.iter_mut().find(|(g, _)| *g == row.group) {
            Some((_, rows)) => rows.push(ri),
            None => groups.push((row.group.as_str(), vec![ri])),
        }
    }
    groups.sort_by_key(|(g, _)| order.iter().position(|o| o == g).unwrap_or(usize::MAX));

    let key_of = |row: &envparity_core::report::MatrixRow| -> String {
        let rest = row
            .key
            .strip_prefix(row.group.as_str())
            .and_then(|r| r.strip_prefix(':'))
            .unwrap_or(&row.key);
        common::visible(rest).into_owned()
    };
    let key_width = matrix
        .rows
        .iter()
        .map(|r| width(&key_of(r)))
        .max()
        .unwrap_or(0)
        .clamp(3, KEY_COLUMN);
    let heads: Vec<String> = matrix
        .environments
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut name = shown(e, CELL_CHARS - 2);
            if Some(i) == reference {
                name.push_str(" *");
            }
            name
        })
        .collect();
    let cells: Vec<Vec<String>> = matrix
        .rows
        .iter()
        .map(|r| {
            r.values
                .iter()
                .map(|v| match v.as_deref() {
                    None => "—".to_string(),
                    Some("") => "\"\"".to_string(),
                    Some(v) => shown(v, CELL_CHARS),
                })
                .collect()
        })
        .collect();
    let col_width: Vec<usize> = (0..matrix.environments.len())
        .map(|i| {
            cells
                .iter()
                .filter_map(|row| row.get(i).map(|c| width(c)))
                .chain(std::iter::once(width(&heads[i])))
                .max()
                .unwrap_or(1)
        })
        .collect();

    let mut head = String::from("    ");
    pad(&mut head, "key", 3, key_width);
    for (i, h) in heads.iter().enumerate() {
        head.push_str("  ");
        pad(&mut head, &p.bold(h), width(h), col_width[i]);
    }
    out.push_str(head.trim_end());
    out.push('\n');

    for (group, rows) in &groups {
        let _ = writeln!(out, "  {}", p.bold(&common::visible(group)));
        for &ri in rows {
            let row = &matrix.rows[ri];
            let key = key_of(row);
            let mut line = String::from("    ");
            pad(&mut line, &key, width(&key), key_width);
            for (i, cell) in cells[ri].iter().enumerate() {
                line.push_str("  ");
                let value = row.values.get(i).cloned().flatten();
                let reference_value = reference.and_then(|r| row.values.get(r).cloned().flatten());
                let style = if value.is_none() {
                    Style::new().dimmed()
                } else if Some(i) != reference && value != reference_value {
                    fg(AnsiColor::Yellow)
                } else {
                    Style::new()
                };
                pad(
                    &mut line,
                    &p.paint(style, cell),
                    width(cell),
                    col_width.get(i).copied().unwrap_or(0),
                );
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
}

/// A load run beside the reference's traffic: the verdict, then route by route.
fn render_load(out: &mut String, load: &envparity_core::load::LoadOverview, p: &Paint) {
    let c = &load.comparison;
    out.push('\n');
    let title = format!(
        "Load: {} under {}'s traffic — headroom {}",
        common::visible(&c.run),
        common::visible(&c.reference),
        common::headroom_name(c.headroom)
    );
    let style = match c.headroom {
        envparity_core::load::Headroom::Enough => fg(AnsiColor::Green).bold(),
        envparity_core::load::Headroom::Short => fg(AnsiColor::Red).bold(),
        _ => fg(AnsiColor::Yellow).bold(),
    };
    out.push_str(&p.paint(style, &title));
    out.push('\n');
    let _ = writeln!(out, "  {}", common::visible(&c.verdict));
    let rows = common::load_rows(c);
    if !rows.is_empty() {
        let mut widths: Vec<usize> = common::LOAD_HEAD
            .iter()
            .map(|h| h.chars().count())
            .collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| -> String {
            let mut l = String::from("  ");
            for (k, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                let pad = w - cell.chars().count();
                if k == 0 {
                    l.push_str(cell);
                    l.push_str(&" ".repeat(pad));
                } else {
                    l.push_str(&" ".repeat(pad + 2));
                    l.push_str(cell);
                }
            }
            l
        };
        let head: Vec<String> = common::LOAD_HEAD.iter().map(|h| h.to_string()).collect();
        out.push_str(&p.dim(&line(&head)));
        out.push('\n');
        for row in &rows {
            let _ = writeln!(out, "{}", common::visible(&line(row)));
        }
        let _ = writeln!(
            out,
            "  {}",
            p.dim("ref: the reference's logs (time at the server); run: service time under load, from each actual send")
        );
    }
    for u in &c.untouched {
        let _ = writeln!(
            out,
            "  never sent: {} {} ({} of {}'s traffic)",
            common::visible(&u.method),
            common::visible(&u.route),
            envparity_core::fidelity::percent(u.share),
            common::visible(&c.reference)
        );
    }
}
