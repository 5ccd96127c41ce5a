//! Renderers of a [`Report`]: text for a terminal, JSON (the machine interface), Markdown
//! for a pull-request comment, JUnit XML and SARIF for CI, and a self-contained HTML page.
//!
//! Every renderer is a pure function of the report and the options: no clock, no I/O, no
//! environment lookups, so the same report always renders to the same bytes. Renderers
//! print only what the report holds (secrets are already short keyed hashes there), and
//! each escapes values for its own format; the human formats (text, Markdown, HTML) also
//! make control characters visible (`\n`, `\u{1b}`) and may shorten long values with `…`.
//!
//! Findings are shown in one order everywhere: files with the most urgent findings
//! first, then by name; within a file, keys outside any Kubernetes object first, then
//! objects in the order they first appear; within an object, the most urgent class first
//! (shared-secret, unreadable, drift, missing, extra, expected, env-equivalent), then the
//! report's own order. docs/report.md describes each format.

use std::fmt;
use std::str::FromStr;

use envparity_core::Report;

mod common;
pub use common::plural;
mod html;
mod json_finding;
mod junit;
mod markdown;
mod sarif;
mod text;

/// The output formats of `envparity diff --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// For a terminal, optionally coloured.
    Text,
    /// The [`Report`] itself, serialized: the documented machine interface (docs/report.md).
    Json,
    /// For a pull-request comment.
    Markdown,
    /// JUnit XML, one test suite per facet, one failing test case per actionable finding.
    Junit,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// One self-contained HTML page.
    Html,
}

impl OutputFormat {
    pub const ALL: [OutputFormat; 6] = [
        OutputFormat::Text,
        OutputFormat::Json,
        OutputFormat::Markdown,
        OutputFormat::Junit,
        OutputFormat::Sarif,
        OutputFormat::Html,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Text => "text",
            OutputFormat::Json => "json",
            OutputFormat::Markdown => "markdown",
            OutputFormat::Junit => "junit",
            OutputFormat::Sarif => "sarif",
            OutputFormat::Html => "html",
        }
    }

    /// The usual file extension of the format, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Text => "txt",
            OutputFormat::Json => "json",
            OutputFormat::Markdown => "md",
            OutputFormat::Junit => "xml",
            OutputFormat::Sarif => "sarif",
            OutputFormat::Html => "html",
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of [`OutputFormat::ALL`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown report format `{}`: expected one of ", self.0)?;
        let names: Vec<&str> = OutputFormat::ALL.iter().map(|o| o.name()).collect();
        f.write_str(&names.join(", "))
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for OutputFormat {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<OutputFormat, UnknownFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "txt" => Ok(OutputFormat::Text),
            "json" => Ok(OutputFormat::Json),
            "markdown" | "md" => Ok(OutputFormat::Markdown),
            "junit" | "junit-xml" => Ok(OutputFormat::Junit),
            "sarif" => Ok(OutputFormat::Sarif),
            "html" => Ok(OutputFormat::Html),
            _ => Err(UnknownFormat(s.to_string())),
        }
    }
}

/// How to render.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// ANSI colours in the text format. Never used by any other format, and never when false.
    pub color: bool,
    /// List expected and env-equivalent findings one by one; otherwise the text and
    /// Markdown formats summarize them as counts per file.
    pub verbose: bool,
}

/// Renders `report` in `format`. The output ends with a newline.
pub fn render(report: &Report, format: OutputFormat, options: &RenderOptions) -> String {
    match format {
        OutputFormat::Text => text::render(report, options),
        OutputFormat::Json => render_json(report),
        OutputFormat::Markdown => markdown::render(report, options),
        OutputFormat::Junit => junit::render(report),
        OutputFormat::Sarif => sarif::render(report),
        OutputFormat::Html => html::render(report, options),
    }
}

/// The JSON format streamed into `out`: a report of an estate runs to tens of megabytes,
/// which need not be built in memory first. A large report's findings are rendered on
/// every core (the same bytes as one serial pass; see [`write_json_split`]).
pub fn write_json(report: &Report, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    write_json_split(report, out, threads, PARALLEL_FINDINGS)
}

/// Findings from which [`write_json`] renders them on several threads: below, one pass is
/// quicker than starting threads.
const PARALLEL_FINDINGS: usize = 4_000;

/// Findings per thread in one block of [`write_json_split`].
const BLOCK_FINDINGS: usize = 1_000;

/// [`write_json`] with the thread count and the threshold given (tests use small ones).
///
/// With `threads` > 1 and at least `from` findings: the report without its findings is
/// rendered first, each share of the findings is rendered on a thread of its own (each
/// finding written by hand, in serde_json's pretty form at its depth: `json_finding`),
/// and the shares are written
/// where the empty `findings` list stood. The bench report's 56,000 findings took ~0.15 s
/// on one core, the serial tail of a diff.
pub fn write_json_split(
    report: &Report,
    out: &mut impl std::io::Write,
    threads: usize,
    from: usize,
) -> std::io::Result<()> {
    if threads < 2 || report.findings.len() < from.max(1) {
        serde_json::to_writer_pretty(&mut *out, report).map_err(std::io::Error::other)?;
        return out.write_all(b"\n");
    }
    // Every field named (no `..`): a field added to `Report` must be added here too.
    let shell = Report {
        format: report.format.clone(),
        version: report.version,
        environments: report.environments.clone(),
        reference: report.reference.clone(),
        score: report.score,
        facets: report.facets.clone(),
        findings: Vec::new(),
        matrix: report.matrix.clone(),
        notes: report.notes.clone(),
        traffic: report.traffic.clone(),
        load: report.load.clone(),
    };
    let shell = serde_json::to_string_pretty(&shell).map_err(std::io::Error::other)?;
    // A raw line break precedes the key only at the top level (strings escape theirs).
    const EMPTY: &str = "\n  \"findings\": []";
    let at = shell
        .find(EMPTY)
        .ok_or_else(|| std::io::Error::other("report shell without its findings list"))?
        + EMPTY.len()
        - 1;
    // Rendered a block at a time, each block's shares on their threads, into buffers that
    // are reused: holding the whole rendering (60 MB for the bench) cost more in fresh
    // memory than the second core saved.
    out.write_all(&shell.as_bytes()[..at])?;
    let mut buffers: Vec<Vec<u8>> = vec![Vec::new(); threads];
    let mut first = true;
    for block in report.findings.chunks(BLOCK_FINDINGS * threads) {
        let share = block.len().div_ceil(threads);
        let rendered: Vec<std::io::Result<()>> = std::thread::scope(|scope| {
            let handles: Vec<_> = block
                .chunks(share)
                .zip(buffers.iter_mut())
                .map(|(findings, buffer)| scope.spawn(move || render_findings(findings, buffer)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        for (result, part) in rendered.into_iter().zip(&buffers) {
            result?;
            if part.is_empty() {
                continue;
            }
            // Each part starts with `,` + line break; the list's first element has no comma.
            out.write_all(if first { &part[1..] } else { part })?;
            first = false;
        }
    }
    out.write_all(b"\n  ]")?;
    out.write_all(&shell.as_bytes()[at + 1..])?;
    out.write_all(b"\n")
}

/// Findings as elements of the report's pretty `findings` list (two levels deep), each
/// preceded by `,` and a line break, into `out` (cleared first).
fn render_findings(
    findings: &[envparity_core::finding::Finding],
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    out.clear();
    for finding in findings {
        out.extend_from_slice(b",\n");
        json_finding::write(out, finding, 4);
    }
    Ok(())
}

fn render_json(report: &Report) -> String {
    // The report holds only strings, numbers, lists and maps with string keys: serializing
    // it cannot fail.
    let mut out = serde_json::to_string_pretty(report).expect("a report serializes to JSON");
    out.push('\n');
    out
}
