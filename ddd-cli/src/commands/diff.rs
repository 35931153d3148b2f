//! `ddd diff OLD NEW`: what changed between two models, and whether it breaks stored events,
//! other contexts or HTTP clients (see `ddd_model::diff`).

mod report;

use clap::ValueEnum;
use ddd_model::diagnostic::{self, Style};
use ddd_model::diff::{self, Diff};
use ddd_model::sources::Outcome;
use ddd_model::{Format, Loaded, Sources};

use crate::cli::{Display, InputFormat, OutputFile, heading};
use crate::error::Error;
use crate::spec::Spec;
use crate::{input, output};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model before: a model file; a directory (its `.ddd` file that declares `system`
    /// is the root); or `git:REV:PATH`, a file or directory of a git revision, PATH from the
    /// repository's root as `git show REV:PATH` reads it.
    #[arg(value_name = "OLD")]
    pub old: String,

    /// The model after, in the same forms.
    #[arg(value_name = "NEW")]
    pub new: String,

    /// Read both models as this notation instead of guessing from the extension.
    #[arg(long, value_enum, value_name = "NOTATION", help_heading = heading::MODEL)]
    pub input_format: Option<InputFormat>,

    /// `human`: the changes grouped by verdict, each located in both models; `json`: one
    /// object (`old`, `new`, `breaking`, `summary`, `changes`), see docs/diff.md.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human, help_heading = heading::OUTPUT)]
    pub format: DiffFormat,

    #[command(flatten)]
    pub output: OutputFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Human,
    Json,
}

/// One of the two models, read and checked.
struct Side {
    /// As given on the command line.
    name: String,
    sources: Sources,
    loaded: Loaded,
}

pub fn exec(args: &Args, display: &Display) -> Result<(), Error> {
    let format = args.input_format.map(|notation| match notation {
        InputFormat::Ddd => Format::Ddd,
        InputFormat::Json => Format::Json,
        InputFormat::Yaml => Format::Yaml,
    });
    let (old, new) = sides(args, format, display)?;
    let diff = diff::diff(&old.loaded.system, &new.loaded.system);
    if !diff.errors.is_empty() {
        return Err(evolution_errors(&diff, &new, display));
    }
    let shown = (report::Shown::new(&old), report::Shown::new(&new));
    let text = match args.format {
        DiffFormat::Human => report::human(&diff, &shown.0, &shown.1),
        DiffFormat::Json => report::json(&diff, &shown.0, &shown.1),
    };
    output::write(&args.output, &text)?;
    match diff.changes.iter().filter(|c| c.is_breaking()).count() {
        0 => Ok(()),
        changes => Err(Error::Breaking {
            changes,
            old: old.name,
            new: new.name,
        }),
    }
}

/// Reads both models, printing the errors of each (so one run shows what is wrong on both
/// sides), and fails if either cannot be read or has errors.
fn sides(args: &Args, format: Option<Format>, display: &Display) -> Result<(Side, Side), Error> {
    // Reading and checking are most of the run, and the two models are independent: one
    // thread each. Their diagnostics are printed after, the old model's first.
    let (old, new) = std::thread::scope(|scope| {
        let old = scope.spawn(|| load(&args.old, format));
        let new = load(&args.new, format);
        let old = old
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (old, new)
    });
    let old = old.and_then(|(spec, outcome)| checked("old", spec, outcome, display));
    let new = new.and_then(|(spec, outcome)| checked("new", spec, outcome, display));
    match (old?, new?) {
        (Ok(old), Ok(new)) => Ok((old, new)),
        (old, new) => Err(Error::Rejected {
            sides: [old.err(), new.err()].into_iter().flatten().collect(),
        }),
    }
}

fn load(text: &str, format: Option<Format>) -> Result<(Spec, Outcome), Error> {
    let spec = Spec::parse(text)?;
    let outcome = spec.load(format)?;
    Ok((spec, outcome))
}

/// Prints a model's errors; `Ok(Err(why))` when it has some.
fn checked(
    side: &str,
    spec: Spec,
    outcome: Outcome,
    display: &Display,
) -> Result<Result<Side, String>, Error> {
    let diagnostics = input::diagnostics(&outcome);
    input::show(&outcome.sources, diagnostics, true, Style::Rich, display)?;
    Ok(match outcome.result {
        Ok(loaded) => Ok(Side {
            name: spec.to_string(),
            sources: outcome.sources,
            loaded,
        }),
        Err(rejected) => Err(format!(
            "the {side} model `{spec}` has {} error(s)",
            diagnostic::count(&rejected.diagnostics).0
        )),
    })
}

/// Errors of the pair (a version lowered), in the new model's files.
fn evolution_errors(diff: &Diff, new: &Side, display: &Display) -> Error {
    if let Err(error) = input::show(&new.sources, &diff.errors, true, Style::Rich, display) {
        return error;
    }
    Error::Rejected {
        sides: vec![format!(
            "the new model `{}` has {} error(s) against the old one",
            new.name,
            diff.errors.len()
        )],
    }
}
