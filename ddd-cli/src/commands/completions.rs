//! `ddd completions SHELL`: a completion script for the shell.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::Error;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn exec(args: &Args) -> Result<(), Error> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "ddd", &mut script);
    crate::output::write(
        &crate::cli::OutputFile { output: None },
        &String::from_utf8_lossy(&script),
    )
}
