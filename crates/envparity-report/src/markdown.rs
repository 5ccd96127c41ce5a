//! The Markdown format, for a pull-request comment (GitHub-flavoured tables).
//!
//! Values are written inside `<code>` elements with every character Markdown or HTML
//! could act on replaced by a character reference, so a value can neither break a table
//! (`|`), start a code span, emphasis or link, inject HTML, nor mention anyone.
//! Tables stop after [`MAX_ROWS`] rows or [`TABLE_BUDGET`] bytes and say how many more
//! there are, so a report of thousands of findings stays a readable comment (GitHub cuts
//! comments at 65,536 characters).

use std::fmt::Write as _;

use envparity_core::{Class, Finding, Report, Severity, Side};

use crate::RenderOptions;
use crate::common::{
    self, CLASS_ORDER, class_counts, flat_order, group_findings, plural, thousands,
};

/// Most rows in the table of findings to act on.
pub const MAX_ROWS: usize = 200;
/// Most bytes of rows in the table of findings to act on. With the smaller budgets of the
/// other tables, a comment stays under GitHub's limit of 65,536 characters.
pub const TABLE_BUDGET: usize = 38_000;
/// Rows and bytes of the matrix table.
const MATRIX_LIMITS: (usize, usize) = (100, 10_000);
/// Rows and bytes of the table of intended differences.
const INTENDED_LIMITS: (usize, usize) = (100, 8_000);
/// Longest value shown in a cell.
const VALUE_CHARS: usize = 60;
/// Longest key shown in a cell.
const KEY_CHARS: usize = 120;
/// Longest message or reason shown in a cell.
const TEXT_CHARS: usize = 200;

/// Text escaped for Markdown and HTML alike: control characters made visible, and every
/// character with a meaning in Markdown, GitHub's extensions or HTML written as a
/// character reference (which Markdown shows literally and never interprets).
pub fn escape(text: &str) -> String {
    let text = common::visible(text);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '|' | '`' | '\\' | '*' | '_' | '[' | ']' | '~' | '#' | '!' | '@' | '$' => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A value in a `<code>` element, shortened to `max` characters.
fn code(text: &str, max: usize) -> String {
    if text.is_empty() {
        return "<code>&quot;&quot;</code>".to_string();
    }
    format!(
        "<code>{}</code>",
        escape(&common::truncate(&common::visible(text), max))
    )
}

/// Plain text, escaped and shortened.
fn plain(text: &str, max: usize) -> String {
    escape(&common::truncate(&common::visible(text), max))
}

fn severity_mark(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "🔴",
        Severity::Warning => "🟠",
        Severity::Info => "⚪",
    }
}

/// Rows of a table, stopping at the row or byte limit.
struct Table {
    out: String,
    rows: usize,
    left_off: usize,
    max_rows: usize,
    budget: usize,
}

impl Table {
    fn new(head: &[&str], align: &str, (max_rows, budget): (usize, usize)) -> Table {
        let mut out = String::new();
        let _ = writeln!(out, "| {} |", head.join(" | "));
        let _ = writeln!(out, "{align}");
        Table {
            out,
            rows: 0,
            left_off: 0,
            max_rows,
            budget,
        }
    }

    fn row(&mut self, cells: &[String]) {
        if self.left_off > 0 || self.rows >= self.max_rows || self.out.len() > self.budget {
            self.left_off += 1;
            return;
        }
        let _ = writeln!(self.out, "| {} |", cells.join(" | "));
        self.rows += 1;
    }

    fn finish(self, out: &mut String, what_more: &str) {
        out.push_str(&self.out);
        if self.left_off > 0 {
            let _ = writeln!(
                out,
                "\n…and {} more {what_more} not shown here: the text, JSON or HTML report lists them all.",
                thousands(self.left_off as u64)
            );
        }
    }
}

pub fn render(report: &Report, options: &RenderOptions) -> String {
    let mut out = String::new();
    let actionable: Vec<&Finding> = report.actionable().collect();
    let intended: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| !f.class.is_actionable())
        .collect();

    // Heading and one sentence.
    let mark = if actionable.is_empty() {
        "✅"
    } else if actionable.iter().any(|f| f.severity == Severity::Error) {
        "❌"
    } else {
        "⚠️"
    };
    let _ = writeln!(
        out,
        "## {mark} envparity: parity {}/100\n",
        common::score(report.score)
    );
    let others: Vec<String> = common::compared_envs(report)
        .iter()
        .map(|e| format!("**{}**", plain(e, 60)))
        .collect();
    let compared: u64 = report.facets.iter().map(|f| f.compared).sum();
    let _ = write!(
        out,
        "{} compared with **{}** (reference), {}: ",
        if others.is_empty() {
            "Nothing".to_string()
        } else {
            others.join(", ")
        },
        plain(&report.reference, 60),
        plural(compared, "key", "keys")
    );
    if actionable.is_empty() {
        out.push_str("in parity, no differences to act on");
    } else {
        let _ = write!(
            out,
            "{} to act on ({})",
            plural(actionable.len() as u64, "finding", "findings"),
            counts_phrase(actionable.iter().copied())
        );
    }
    if !intended.is_empty() {
        let _ = write!(
            out,
            "; {} intended ({})",
            thousands(intended.len() as u64),
            counts_phrase(intended.iter().copied())
        );
    }
    out.push_str(".\n\n");

    // Facets.
    if !report.facets.is_empty() {
        let mut table = Table::new(
            &[
                "facet",
                "score",
                "keys compared",
                "to act on",
                "expected",
                "env-equivalent",
            ],
            "|:--|--:|--:|--:|--:|--:|",
            (MAX_ROWS, TABLE_BUDGET),
        );
        for facet in &report.facets {
            let count = |c: Class| facet.counts.get(&c).copied().unwrap_or(0);
            let act: u64 = Class::ALL
                .iter()
                .filter(|c| c.is_actionable())
                .map(|c| count(*c))
                .sum();
            table.row(&[
                facet.facet.name().to_string(),
                common::score(facet.score),
                thousands(facet.compared),
                thousands(act),
                thousands(count(Class::Expected)),
                thousands(count(Class::EnvEquivalent)),
            ]);
        }
        table.finish(&mut out, "facets");
        out.push('\n');
    }

    // Matrix, for three or more environments.
    if let Some(matrix) = report.matrix.as_ref().filter(|m| !m.rows.is_empty()) {
        let _ = writeln!(
            out,
            "### Across {} environments ({})\n",
            matrix.environments.len(),
            plural(matrix.rows.len() as u64, "key", "keys")
        );
        let mut head = vec!["key".to_string()];
        head.extend(matrix.environments.iter().map(|e| {
            if *e == report.reference {
                format!("{} (reference)", plain(e, 40))
            } else {
                plain(e, 40)
            }
        }));
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        let align = format!("|{}", ":--|".repeat(head.len()));
        let mut table = Table::new(&head, &align, MATRIX_LIMITS);
        for row in &matrix.rows {
            let mut cells = vec![code(&row.key, KEY_CHARS)];
            cells.extend(row.values.iter().map(|v| match v {
                Some(v) => code(v, VALUE_CHARS),
                None => "*absent*".to_string(),
            }));
            table.row(&cells);
        }
        table.finish(&mut out, "keys");
        out.push('\n');
    }

    // Findings to act on.
    let pair = common::uniform_pair(report);
    let (head_a, head_b) = match pair {
        Some((a, b)) => (plain(a, 40), plain(b, 40)),
        None => ("compared".to_string(), "reference".to_string()),
    };
    let prefix = pair.is_none();
    if !actionable.is_empty() {
        let _ = writeln!(
            out,
            "### Findings to act on ({})\n",
            thousands(actionable.len() as u64)
        );
        let mut table = Table::new(
            &["class", "key", &head_a, &head_b, "location"],
            "|:--|:--|:--|:--|:--|",
            (MAX_ROWS, TABLE_BUDGET),
        );
        for f in flat_order(actionable.iter().copied()) {
            let (a, b) = if f.class == Class::Unreadable {
                (plain(&f.message, TEXT_CHARS), "—".to_string())
            } else {
                (side_cell(f, &f.a, prefix), side_cell(f, &f.b, prefix))
            };
            table.row(&[
                format!("{} {}", severity_mark(f.severity), f.class.name()),
                // An expired rule or a refused one says so under the key.
                match f.reason.as_deref() {
                    Some(reason) => format!(
                        "{}<br><sub>{}</sub>",
                        code(&f.key, KEY_CHARS),
                        plain(reason, TEXT_CHARS)
                    ),
                    None => code(&f.key, KEY_CHARS),
                },
                a,
                b,
                locations(f),
            ]);
        }
        table.finish(&mut out, "findings to act on are");
        out.push('\n');
    }

    // Intended differences.
    if !intended.is_empty() {
        let _ = writeln!(
            out,
            "<details>\n<summary>{} intended differences ({}), not counted against the score</summary>\n",
            thousands(intended.len() as u64),
            counts_phrase(intended.iter().copied())
        );
        if options.verbose {
            let mut table = Table::new(
                &["class", "key", &head_a, &head_b, "reason"],
                "|:--|:--|:--|:--|:--|",
                INTENDED_LIMITS,
            );
            for f in flat_order(intended.iter().copied()) {
                table.row(&[
                    f.class.name().to_string(),
                    code(&f.key, KEY_CHARS),
                    side_cell(f, &f.a, prefix),
                    side_cell(f, &f.b, prefix),
                    f.reason
                        .as_deref()
                        .map(|r| plain(r, TEXT_CHARS))
                        .unwrap_or_default(),
                ]);
            }
            table.finish(&mut out, "intended differences are");
        } else {
            let mut table = Table::new(
                &["file", "expected", "env-equivalent"],
                "|:--|--:|--:|",
                INTENDED_LIMITS,
            );
            for group in group_findings(intended.iter().copied()) {
                let counts = class_counts(group.findings());
                let n = |c: Class| thousands(counts.get(&c).copied().unwrap_or(0));
                table.row(&[
                    code(group.name, KEY_CHARS),
                    n(Class::Expected),
                    n(Class::EnvEquivalent),
                ]);
            }
            table.finish(&mut out, "files are");
        }
        out.push_str("\n</details>\n\n");
    }

    for load in &report.load {
        let c = &load.comparison;
        let _ = writeln!(
            out,
            "### Load: {} under {}'s traffic — headroom {}\n\n{}\n",
            escape(&c.run),
            escape(&c.reference),
            crate::common::headroom_name(c.headroom),
            escape(&c.verdict)
        );
        let rows = crate::common::load_rows(c);
        if !rows.is_empty() {
            let _ = writeln!(out, "| {} |", crate::common::LOAD_HEAD.join(" | "));
            let _ = writeln!(out, "|:--|--:|--:|--:|--:|--:|--:|");
            for row in &rows {
                let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
            out.push('\n');
        }
        for u in &c.untouched {
            let _ = writeln!(
                out,
                "- never sent: {} ({} of {}'s traffic)",
                code(&format!("{} {}", u.method, u.route), KEY_CHARS),
                envparity_core::fidelity::percent(u.share),
                escape(&c.reference)
            );
        }
        if !c.untouched.is_empty() {
            out.push('\n');
        }
    }

    // Notes.
    if !report.notes.is_empty() {
        out.push_str("### Notes\n\n");
        for note in &report.notes {
            let _ = writeln!(out, "- {}", plain(note, 1000));
        }
        out.push('\n');
    }

    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// One side's value in a cell.
fn side_cell(f: &Finding, side: &Side, prefix: bool) -> String {
    let other = if std::ptr::eq(side, &f.a) { &f.b } else { &f.a };
    let value = match &side.value {
        Some(v) if v.is_empty() => code(v, VALUE_CHARS),
        Some(v) => format!(
            "<code>{}</code>",
            escape(&common::shown_against(
                v,
                other.value.as_deref(),
                VALUE_CHARS
            ))
        ),
        None if common::is_whole_unit(f) && side.location.is_some() => {
            if f.covers > 1 {
                format!("*present* ({})", plural(u64::from(f.covers), "key", "keys"))
            } else {
                "*present*".to_string()
            }
        }
        None => "*absent*".to_string(),
    };
    if prefix {
        format!("{}: {value}", plain(&side.env, 40))
    } else {
        value
    }
}

fn locations(f: &Finding) -> String {
    let mut list: Vec<String> = Vec::new();
    for side in [&f.a, &f.b] {
        if let Some(loc) = common::location(side) {
            let cell = code(&loc, KEY_CHARS);
            if !list.contains(&cell) {
                list.push(cell);
            }
        }
    }
    if list.is_empty() {
        "—".to_string()
    } else {
        list.join("<br>")
    }
}

/// `1 drift, 2 missing`, classes in display order.
fn counts_phrase<'r>(findings: impl IntoIterator<Item = &'r Finding>) -> String {
    let counts = class_counts(findings);
    CLASS_ORDER
        .iter()
        .filter_map(|c| {
            counts
                .get(c)
                .map(|n| format!("{} {}", thousands(*n), c.name()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
