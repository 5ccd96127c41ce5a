//! The `envparity` binary: argument parsing, output and exit codes. The work itself
//! lives in the library crates; this crate wires them together and prints.

mod cli;
mod clock;
mod commands;
mod key;
mod printer;
mod project;

use std::process::ExitCode;

use clap::Parser;

/// Snapshots allocate millions of small strings; mimalloc is markedly faster at that than
/// glibc's allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes, the same for every command.
pub mod exit {
    /// In parity, or the command succeeded.
    pub const OK: u8 = 0;
    /// Differences at or above `--fail-on`.
    pub const DIFFERENCES: u8 = 1;
    /// envparity could not do its job: bad input, an unreadable source.
    pub const FAILURE: u8 = 2;
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let printer = printer::Printer::new(&cli.global);
    match commands::run(cli, &printer) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            if printer::is_broken_pipe(&error) {
                return ExitCode::from(exit::OK);
            }
            printer.error(&error);
            ExitCode::from(exit::FAILURE)
        }
    }
}
