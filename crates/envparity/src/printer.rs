//! The one place that writes to the terminal: data to stdout, messages to stderr.

use std::io::{IsTerminal, Write};

use crate::cli::{ColorChoice, Global};

#[derive(Debug)]
pub struct Printer {
    quiet: bool,
    /// Colour on stdout (reports).
    pub stdout_color: bool,
    stderr_color: bool,
}

fn color_wanted(choice: ColorChoice, is_tty: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_tty
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    }
}

impl Printer {
    pub fn new(global: &Global) -> Printer {
        Printer {
            quiet: global.quiet,
            stdout_color: color_wanted(global.color, std::io::stdout().is_terminal()),
            stderr_color: color_wanted(global.color, std::io::stderr().is_terminal()),
        }
    }

    /// Writes data (a report, a snapshot) to stdout.
    pub fn data(&self, text: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            out.write_all(b"\n")?;
        }
        out.flush()
    }

    /// An informational message on stderr (silenced by --quiet).
    pub fn info(&self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }

    pub fn warn(&self, message: &str) {
        if !self.quiet {
            if self.stderr_color {
                eprintln!("\x1b[33mwarning\x1b[0m: {message}");
            } else {
                eprintln!("warning: {message}");
            }
        }
    }

    pub fn error(&self, error: &anyhow::Error) {
        let mut text = error.to_string();
        for cause in error.chain().skip(1) {
            text.push_str(&format!("\n  caused by: {cause}"));
        }
        if self.stderr_color {
            eprintln!("\x1b[31merror\x1b[0m: {text}");
        } else {
            eprintln!("error: {text}");
        }
    }
}

pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes a file atomically: a temporary file beside it, then a rename, so a failed run
/// never leaves half a file where a good one was.
pub fn write_atomic(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.envparity-tmp-{}", std::process::id()));
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
