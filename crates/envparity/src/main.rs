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

/// Sets how the process takes memory from the kernel, before it takes much.
///
/// mimalloc never hands freed memory back: by default it does so a second after a free,
/// and a large diff frees parse trees all along: the pages go back, are asked for again,
/// and the kernel zeroes each anew (a bench diff took 1,310–3,821 page faults with
/// purging, ~720 without; BENCHMARKS.md). envparity's commands are short, or hold a steady
/// working set (load): the cost is that a process keeps its peak memory until it ends.
///
/// No transparent huge pages: a fresh 2 MB page is zeroed whole on its first touch, and on
/// the virtual machines CI and we run on such a fault costs far more than 512 small ones
/// (a bench diff, 12 interleaved rounds: CPU median 2.23 s with them, 1.82 s without; sys
/// 0.93 → 0.45 s; BENCHMARKS.md).
#[allow(unsafe_code)]
fn tune_memory() {
    /// `mi_option_purge_delay` in mimalloc's `mi_option_e` (v3; the bindings do not name it).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: mi_option_set only stores an option value; -1 means "never purge".
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag on this process; its
        // result is ignored on purpose (a kernel without it simply keeps huge pages).
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}

fn main() -> ExitCode {
    tune_memory();
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
