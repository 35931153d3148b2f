//! The `ddd` command. `main` calls [`run`]; each subcommand in [`commands`] adapts its
//! arguments to a library operation of `ddd-model` or `ddd-gen`.

pub mod cli;
pub mod commands;
pub mod error;
mod git;
mod input;
mod output;
mod spec;

use clap::Parser as _;

pub use crate::error::{Error, exit};

/// Parses the process's arguments and runs the command.
pub fn run() -> Result<(), Error> {
    let cli = cli::Cli::try_parse()?;
    commands::execute(cli)
}
