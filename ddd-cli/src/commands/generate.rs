//! `ddd generate MODEL --out DIR`: the workspace of a model (see `ddd_gen`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use ddd_gen::history::{self, History};
use ddd_gen::{Options, Runtime, write};

use crate::cli::{Display, ModelInput, heading};
use crate::error::Error;
use crate::input;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelInput,

    /// The directory of the generated workspace (created if missing).
    #[arg(long, value_name = "DIR", help_heading = heading::OUTPUT)]
    pub out: PathBuf,

    /// Change nothing; exit with status 5 when a generated file is out of date (for CI).
    #[arg(long, conflicts_with_all = ["dry_run", "force"], help_heading = heading::OUTPUT)]
    pub check: bool,

    /// Change nothing; list what would be created, updated or removed.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub dry_run: bool,

    /// Overwrite generated files that were edited by hand.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub force: bool,

    #[command(flatten)]
    pub source: Source,
}

/// Where templates and the runtime come from; shared with `ddd new`.
#[derive(Debug, clap::Args)]
pub struct Source {
    /// A directory of `.tera` templates replacing the embedded ones of the same relative
    /// path (`service/src/lib.rs.tera`); an unknown name is an error.
    #[arg(long, value_name = "DIR", help_heading = heading::OUTPUT)]
    pub templates: Option<PathBuf>,

    /// Where the generated crates find ddd's runtime: `path:DIR`, `git:URL[#REV]` or
    /// `version:X.Y` [default: path: the ddd source tree this binary was built from].
    #[arg(long, value_name = "SPEC", help_heading = heading::OUTPUT)]
    pub runtime: Option<String>,
}

impl Source {
    pub(crate) fn runtime(&self) -> Result<Runtime, Error> {
        match &self.runtime {
            None => Ok(Runtime::Path(default_runtime())),
            Some(spec) => spec.parse().map_err(|error: ddd_gen::RuntimeError| {
                Error::Usage(clap::Error::raw(
                    clap::error::ErrorKind::InvalidValue,
                    format!("{error}\n"),
                ))
            }),
        }
    }
}

/// The ddd source tree this binary was built from.
fn default_runtime() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

pub fn exec(args: &Args, display: &Display) -> Result<(), Error> {
    let (loaded, sources) = input::load_with_sources(&args.model, display)?;
    let runtime = args.source.runtime()?;
    let options = Options {
        model: args.model.path.file_name().map_or_else(
            || "-".to_owned(),
            |name| name.to_string_lossy().into_owned(),
        ),
        runtime: runtime.clone(),
        templates: args.source.templates.clone(),
    };
    let recorded = recorded_history(&args.out)?;
    let generated = ddd_gen::workspace_with_history(&loaded.system, &options, &recorded);
    let mut files = match generated {
        Err(ddd_gen::GenerateError::Evolution(errors)) => {
            let style = match args.model.message_format {
                crate::cli::MessageFormat::Human => ddd_model::diagnostic::Style::Rich,
                crate::cli::MessageFormat::Short => ddd_model::diagnostic::Style::Short,
            };
            input::show(&sources, &errors, false, style, display)?;
            return Err(Error::Model {
                model: input::display_name(&args.model.path),
                errors: errors.len(),
            });
        }
        other => other.map_err(Error::generate)?,
    };
    files.extend(ddd_gen::seed_lock(&runtime.seen_from(&args.out)));
    let mode = match (args.check, args.dry_run) {
        (true, _) => write::Mode::Check,
        (_, true) => write::Mode::DryRun,
        _ => write::Mode::Write,
    };
    let report = write::write(&args.out, &files, mode, args.force).map_err(Error::write)?;
    summarize(&report, mode);
    Ok(())
}

/// The events' versions the workspace in `out` was generated with; none for a new one (or
/// one generated before the history was kept).
fn recorded_history(out: &Path) -> Result<History, Error> {
    let path = out.join(history::EVENTS);
    match std::fs::read_to_string(&path) {
        Ok(text) => History::parse(&text).map_err(|error| Error::Io(anyhow::Error::new(error))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(History::default()),
        Err(error) => Err(Error::Io(
            anyhow::Error::new(error).context(format!("cannot read {}", path.display())),
        )),
    }
}

fn summarize(report: &write::Report, mode: write::Mode) {
    let mut stdout = std::io::stdout().lock();
    let mut counts = std::collections::BTreeMap::new();
    for (path, action) in &report.actions {
        *counts.entry(action.label()).or_insert(0) += 1;
        if mode == write::Mode::DryRun && action != &write::Action::Unchanged {
            let _ = writeln!(stdout, "{:<12} {}", action.label(), path.display());
        }
    }
    let summary: Vec<String> = counts
        .iter()
        .map(|(label, n)| format!("{n} {label}"))
        .collect();
    let _ = writeln!(stdout, "{}", summary.join(", "));
}
