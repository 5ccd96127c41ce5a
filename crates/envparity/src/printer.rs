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
        process_start();
        let show_progress = !global.quiet && std::io::stderr().is_terminal();
        PROGRESS_ON.store(show_progress, std::sync::atomic::Ordering::Relaxed);
        PROGRESS_LINES.store(
            !global.quiet && !show_progress,
            std::sync::atomic::Ordering::Relaxed,
        );
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

/// Whether progress lines may be drawn: stderr is a terminal and no --quiet. Set once by
/// `Printer::new`, read from the collector's threads.
static PROGRESS_ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// Milliseconds since the start of the process of the last progress line drawn.
static PROGRESS_LAST_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn process_start() -> std::time::Instant {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *START.get_or_init(std::time::Instant::now)
}

/// A progress line on stderr (`reading prod: 3,512/7,028 files`), redrawn at most ten times a
/// second, and only once the work has run for half a second: short runs stay quiet.
pub fn progress(env: &str, done: usize, total: usize) {
    use std::sync::atomic::Ordering;
    if !PROGRESS_ON.load(Ordering::Relaxed) {
        return;
    }
    let now = process_start().elapsed().as_millis() as u64;
    let last = PROGRESS_LAST_MS.load(Ordering::Relaxed);
    let finished = done == total;
    if now < 500 || (!finished && now < last + 100) {
        return;
    }
    if PROGRESS_LAST_MS
        .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
        .is_err()
        && !finished
    {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2Kreading {env}: {done}/{total} files");
    if finished {
        let _ = writeln!(err);
    }
    let _ = err.flush();
}

/// A progress message of long database work (`profiling public.orders (3/12)`): redrawn
/// in place on a terminal; elsewhere (CI logs) a line at most every ten seconds, so short
/// runs print nothing and long ones show they are alive.
pub fn progress_message(env: &str, message: &str) {
    use std::sync::atomic::Ordering;
    if PROGRESS_LINES.load(Ordering::Relaxed) {
        let now = process_start().elapsed().as_millis() as u64;
        let last = PROGRESS_LAST_LINE_MS.load(Ordering::Relaxed);
        if now >= last + 10_000 {
            PROGRESS_LAST_LINE_MS.store(now, Ordering::Relaxed);
            eprintln!("{env}: {message}");
        }
        return;
    }
    if !PROGRESS_ON.load(Ordering::Relaxed) {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K{env}: {message}");
    let _ = err.flush();
    PROGRESS_DIRTY.store(true, Ordering::Relaxed);
}

/// Clears a progress message line, if one is shown.
pub fn progress_done() {
    use std::sync::atomic::Ordering;
    if PROGRESS_DIRTY.swap(false, Ordering::Relaxed) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}

static PROGRESS_DIRTY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// Progress as plain lines (stderr is not a terminal, and not --quiet).
static PROGRESS_LINES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static PROGRESS_LAST_LINE_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes a file atomically: a temporary file beside it, then a rename, so a failed run
/// never leaves half a file where a good one was.
pub fn write_atomic(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |out| out.write_all(contents))
}

/// [`write_atomic`] for content produced by a writer (a large snapshot is streamed, not
/// built in memory first).
pub fn write_atomic_with(
    path: &std::path::Path,
    produce: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    // A symlink is written through: its target is replaced, the link stays.
    let resolved;
    let path = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            let target = std::fs::read_link(path)?;
            resolved = match path.parent() {
                Some(parent) if target.is_relative() => parent.join(target),
                _ => target,
            };
            resolved.as_path()
        }
        _ => path,
    };
    // A device or a pipe (`-o /dev/null`, `-o /dev/stdout`) is written to as it is:
    // renaming over it would leave a regular file where /dev/null was.
    if let Ok(m) = std::fs::metadata(path)
        && !m.is_file()
        && !m.is_dir()
    {
        let mut out = std::io::BufWriter::new(std::fs::OpenOptions::new().write(true).open(path)?);
        produce(&mut out)?;
        return out.into_inner().map_err(|e| e.into_error()).map(drop);
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.envparity-tmp-{}", std::process::id()));
    let written = (|| {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
        produce(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()
    })();
    let result = written.and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
