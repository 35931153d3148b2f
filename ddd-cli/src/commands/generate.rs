//! `ddd generate MODEL --out DIR`: the workspace of a model (see `generate`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::{Display, ModelInput, heading};
use crate::error::Error;
use crate::generate::{self, File, Options, Owner, write};
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

    /// A directory of `.jinja` templates replacing the embedded ones of the same path.
    #[arg(long, value_name = "DIR", help_heading = heading::OUTPUT)]
    pub templates: Option<PathBuf>,

    /// Where the generated crates find ddd's runtime: `path:DIR` (default: the ddd source
    /// tree this binary was built from).
    #[arg(long, value_name = "path:DIR", help_heading = heading::OUTPUT)]
    pub runtime: Option<String>,

    /// Do not run rustfmt over the generated Rust files.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub no_format: bool,
}

/// The ddd source tree this binary was built from.
pub(crate) fn default_runtime() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

pub(crate) fn runtime(spec: Option<&str>) -> Result<PathBuf, Error> {
    match spec {
        None => Ok(default_runtime()),
        Some(spec) => match spec.strip_prefix("path:") {
            Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
            _ => Err(Error::Usage(clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("--runtime `{spec}`: expected `path:DIR`\n"),
            ))),
        },
    }
}

pub fn exec(args: &Args, display: &Display) -> Result<(), Error> {
    let loaded = input::load(&args.model, display)?;
    let runtime = runtime(args.runtime.as_deref())?;
    let options = Options {
        model: args.model.path.file_name().map_or_else(
            || "-".to_owned(),
            |name| name.to_string_lossy().into_owned(),
        ),
        runtime: runtime.clone(),
        templates: args.templates.clone(),
    };
    let mut files = generate::workspace(&loaded.system, &options).map_err(Error::generate)?;
    seed_lock(&runtime, &mut files);
    if !args.no_format {
        write::format(&mut files).map_err(Error::write)?;
    }
    let mode = match (args.check, args.dry_run) {
        (true, _) => write::Mode::Check,
        (_, true) => write::Mode::DryRun,
        _ => write::Mode::Write,
    };
    let report = write::write(&args.out, &files, mode, args.force).map_err(Error::write)?;
    summarize(&report, mode);
    Ok(())
}

/// A `Cargo.lock` copied from ddd's own: the generated workspace starts from versions that
/// build together (cargo drops what it does not need and adds the rest).
fn seed_lock(runtime: &Path, files: &mut Vec<File>) {
    if let Ok(lock) = std::fs::read_to_string(runtime.join("Cargo.lock")) {
        files.push(File {
            path: PathBuf::from("Cargo.lock"),
            contents: lock,
            owner: Owner::User,
        });
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
