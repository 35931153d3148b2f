//! One module per subcommand: its arguments and a thin `exec` over a library operation.

pub mod check;
pub mod completions;
pub mod diff;
pub mod docs;
pub mod generate;
pub mod graph;
pub mod new;
pub mod schema;

use crate::cli::{Cli, Command};
use crate::error::Error;

pub fn execute(cli: Cli) -> Result<(), Error> {
    let display = cli.display;
    match cli.command {
        Command::Check(args) => check::exec(&args, &display),
        Command::Graph(args) => graph::exec(&args, &display),
        Command::Generate(args) => generate::exec(&args, &display),
        Command::New(args) => new::exec(&args),
        Command::Schema(args) => schema::exec(&args),
        Command::Diff(args) => diff::exec(&args, &display),
        Command::Docs(args) => docs::exec(&args, &display),
        Command::Completions(args) => completions::exec(&args),
    }
}
