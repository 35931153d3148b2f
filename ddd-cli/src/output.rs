//! Writing a command's result to stdout or a file.

use std::io::Write;

use anyhow::Context as _;

use crate::cli::OutputFile;
use crate::error::Error;

pub(crate) fn write(output: &OutputFile, text: &str) -> Result<(), Error> {
    match &output.output {
        Some(path) => fs_err::write(path, text)
            .context("cannot write the output")
            .map_err(Error::Io),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .context("cannot write to stdout")
                .map_err(Error::Io)
        }
    }
}
