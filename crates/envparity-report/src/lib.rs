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
mod html;
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
/// which need not be built in memory first.
pub fn write_json(report: &Report, out: &mut impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}

fn render_json(report: &Report) -> String {
    // The report holds only strings, numbers, lists and maps with string keys: serializing
    // it cannot fail.
    let mut out = serde_json::to_string_pretty(report).expect("a report serializes to JSON");
    out.push('\n');
    out
}
