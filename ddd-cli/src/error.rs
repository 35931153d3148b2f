//! What can go wrong in a `ddd` command, and the exit status each gives.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

/// Exit statuses, for scripts (also listed in `ddd --help`).
pub mod exit {
    /// Success (warnings and notes allowed).
    pub const OK: u8 = 0;
    /// The model has errors; they were printed.
    pub const MODEL: u8 = 1;
    /// Bad command line: unknown option, unsupported model file extension, ...
    pub const USAGE: u8 = 2;
    /// A file could not be read or written.
    pub const IO: u8 = 3;
    /// `ddd generate` refused to overwrite generated files edited by hand, or files of a
    /// directory without a manifest (use `--force`).
    pub const EDITED: u8 = 4;
    /// `ddd generate --check`: generated files are out of date.
    pub const STALE: u8 = 5;
    /// A template failed to render, or a name would escape the output directory.
    pub const TEMPLATE: u8 = 6;
    /// `ddd diff`: a change breaks stored events, other contexts or HTTP clients.
    pub const BREAKING: u8 = 7;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line error; clap formats it.
    #[error(transparent)]
    Usage(#[from] clap::Error),
    #[error("cannot tell the notation of `{}`: expected a `.ddd`, `.json`, `.yaml` or `.yml` file, or `--input-format`", path.display())]
    UnknownFormat { path: PathBuf },
    /// The diagnostics have been printed already; this is the summary.
    #[error("`{model}` has {errors} error(s); nothing was written")]
    Model { model: String, errors: usize },
    /// `ddd diff`: the diagnostics of the models that have errors have been printed.
    #[error("{}; nothing was compared", sides.join(" and "))]
    Rejected { sides: Vec<String> },
    /// `ddd diff`: the changes have been printed.
    #[error("{changes} breaking change(s) from `{old}` to `{new}`")]
    Breaking {
        changes: usize,
        old: String,
        new: String,
    },
    #[error("cannot tell the model's root file in `{}`: {reason}", dir.display())]
    Root { dir: PathBuf, reason: String },
    #[error("{0:#}")]
    Io(anyhow::Error),
    #[error("`{}` exists and is not empty", path.display())]
    Exists { path: PathBuf },
    #[error(transparent)]
    Generate(ddd_gen::GenerateError),
    #[error(transparent)]
    Write(ddd_gen::write::WriteError),
    #[error(transparent)]
    Starter(ddd_gen::starter::StarterError),
}

impl Error {
    pub(crate) fn generate(error: ddd_gen::GenerateError) -> Error {
        Error::Generate(error)
    }

    pub(crate) fn write(error: ddd_gen::write::WriteError) -> Error {
        Error::Write(error)
    }
}

impl Error {
    pub fn code(&self) -> u8 {
        match self {
            Error::Usage(error) if error.exit_code() == 0 => exit::OK,
            Error::Usage(_) | Error::UnknownFormat { .. } => exit::USAGE,
            Error::Model { .. } | Error::Rejected { .. } => exit::MODEL,
            Error::Breaking { .. } => exit::BREAKING,
            Error::Root { .. } => exit::USAGE,
            Error::Io(_) | Error::Exists { .. } => exit::IO,
            Error::Generate(_) => exit::TEMPLATE,
            Error::Starter(ddd_gen::starter::StarterError::Name { .. }) => exit::USAGE,
            Error::Starter(ddd_gen::starter::StarterError::Model { .. }) => exit::MODEL,
            Error::Starter(ddd_gen::starter::StarterError::Generate(_)) => exit::TEMPLATE,
            Error::Write(
                ddd_gen::write::WriteError::Edited(_) | ddd_gen::write::WriteError::Unmanaged(_),
            ) => exit::EDITED,
            Error::Write(ddd_gen::write::WriteError::Stale(_)) => exit::STALE,
            Error::Write(_) => exit::IO,
        }
    }

    /// Prints the error to stderr (`--help` and `--version` to stdout, as clap does) and
    /// returns the exit status.
    pub fn report(&self) -> u8 {
        match self {
            Error::Usage(error) => {
                // Nothing better to do if the terminal is gone.
                let _ = error.print();
            }
            other => {
                let mut stderr = io::stderr().lock();
                let label = if stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none() {
                    "\x1b[1;31merror\x1b[0m"
                } else {
                    "error"
                };
                let _ = writeln!(stderr, "{label}: {other}");
            }
        }
        self.code()
    }
}
