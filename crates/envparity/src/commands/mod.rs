//! One module per command. Each returns the process exit code.

mod access;
mod baseline;
mod data;
mod diff;
mod init;
pub(crate) mod load;
mod snapshot;
mod traffic;

use crate::cli::{Cli, Command};
use crate::printer::Printer;

pub fn run(cli: Cli, printer: &Printer) -> anyhow::Result<u8> {
    let config = cli.global.config.as_deref();
    match cli.command {
        Command::Init { force } => init::run(force, config, printer),
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&envparity_core::manifest::json_schema())?;
            printer.data(&schema)?;
            Ok(crate::exit::OK)
        }
        Command::Snapshot { env, output, data } => snapshot::run(
            config,
            &env,
            output.as_deref(),
            &crate::project::DataOptions::from_args(&data)?,
            printer,
        ),
        Command::Diff(args) => diff::run(config, &args, printer),
        Command::Baseline(args) => baseline::run(config, &args, printer),
        Command::Data(command) => data::run(config, command, printer),
        Command::Traffic(command) => traffic::run(config, command, printer),
        Command::Access(command) => access::run(config, command, printer),
        Command::Load(command) => load::run(config, &command, printer),
    }
}
