//! Reading a model and showing its diagnostics: shared by the commands that take a model.

use std::io::{IsTerminal, Read};
use std::path::Path;

use anyhow::Context as _;
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use ddd_model::diagnostic::{self, Severity, Style};
use ddd_model::sources::{self, Outcome};
use ddd_model::{Diagnostic, Format, Loaded, Sources};

use crate::cli::{ColorWhen, Display, InputFormat, MessageFormat, ModelInput};
use crate::error::Error;

/// Reads and checks the model and the files it imports; prints its diagnostics to stderr.
/// Errors in the model become [`Error::Model`].
pub(crate) fn load(input: &ModelInput, display: &Display) -> Result<Loaded, Error> {
    load_with_sources(input, display).map(|(loaded, _)| loaded)
}

/// [`load`], with the model's sources for the diagnostics a command finds later (`ddd
/// generate`'s of the events' recorded versions).
pub(crate) fn load_with_sources(
    input: &ModelInput,
    display: &Display,
) -> Result<(Loaded, Sources), Error> {
    let format = format_of(input)?;
    let (name, bytes) = read(&input.path)?;
    // The root is read above (from stdin, or with the error a missing model gives); the loader
    // is asked for it first. Imports are relative to the root's directory; stdin's is the
    // current directory, like a file named `<stdin>` there.
    let path = if is_stdin(&input.path) {
        Path::new(&name)
    } else {
        input.path.as_path()
    };
    let mut root = Some(bytes);
    let outcome = sources::load(path, format, |path| match root.take() {
        Some(bytes) => Ok(bytes),
        None => std::fs::read(path),
    })
    .context("cannot read the model")
    .map_err(Error::Io)?;
    let style = match input.message_format {
        MessageFormat::Human => Style::Rich,
        MessageFormat::Short => Style::Short,
    };
    show(
        &outcome.sources,
        diagnostics(&outcome),
        input.quiet,
        style,
        display,
    )?;
    match outcome.result {
        Ok(loaded) => Ok((loaded, outcome.sources)),
        Err(rejected) => Err(Error::Model {
            model: name,
            errors: diagnostic::count(&rejected.diagnostics).0,
        }),
    }
}

/// Every diagnostic of a model read from files, whether it passed its checks or not.
pub(crate) fn diagnostics(outcome: &Outcome) -> &[Diagnostic] {
    match &outcome.result {
        Ok(loaded) => &loaded.diagnostics,
        Err(rejected) => &rejected.diagnostics,
    }
}

/// Prints a model's diagnostics to stderr, each in its file: all of them, or only the errors.
pub(crate) fn show(
    sources: &Sources,
    diagnostics: &[Diagnostic],
    errors_only: bool,
    style: Style,
    display: &Display,
) -> Result<(), Error> {
    let shown: Vec<_> = diagnostics
        .iter()
        .filter(|d| !errors_only || d.severity == Severity::Error)
        .cloned()
        .collect();
    let mut stderr = StandardStream::stderr(color_choice(display.color));
    diagnostic::render(&mut stderr, sources, &shown, style)
        .context("cannot write diagnostics")
        .map_err(Error::Io)
}

fn format_of(input: &ModelInput) -> Result<Format, Error> {
    match input.input_format {
        Some(InputFormat::Ddd) => Ok(Format::Ddd),
        Some(InputFormat::Json) => Ok(Format::Json),
        Some(InputFormat::Yaml) => Ok(Format::Yaml),
        None if is_stdin(&input.path) => Ok(Format::Ddd),
        None => Format::from_path(&input.path).ok_or_else(|| Error::UnknownFormat {
            path: input.path.clone(),
        }),
    }
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The model's display name and bytes.
fn read(path: &Path) -> Result<(String, Vec<u8>), Error> {
    if is_stdin(path) {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read the model from stdin")
            .map_err(Error::Io)?;
        return Ok((display_name(path), bytes));
    }
    let bytes = fs_err::read(path)
        .context("cannot read the model")
        .map_err(Error::Io)?;
    Ok((display_name(path), bytes))
}

/// How diagnostics name the model.
pub(crate) fn display_name(path: &Path) -> String {
    if is_stdin(path) {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

pub(crate) fn color_choice(when: ColorWhen) -> ColorChoice {
    match when {
        ColorWhen::Always => ColorChoice::Always,
        ColorWhen::Never => ColorChoice::Never,
        ColorWhen::Auto
            if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() =>
        {
            ColorChoice::Auto
        }
        ColorWhen::Auto => ColorChoice::Never,
    }
}
