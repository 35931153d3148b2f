//! `ddd check MODEL`: diagnostics only, or the checked model with `--emit`.

use clap::ValueEnum;
use ddd_model::Loaded;

use crate::cli::{Display, ModelInput, OutputFile, heading};
use crate::error::Error;
use crate::{input, output};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelInput,

    /// After a successful check, print the checked model (the IR, names resolved, policy
    /// translations derived) as JSON or YAML.
    #[arg(long, value_enum, value_name = "NOTATION", help_heading = heading::OUTPUT)]
    pub emit: Option<Emit>,

    #[command(flatten)]
    pub output: OutputFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    Json,
    Yaml,
}

pub fn exec(args: &Args, display: &Display) -> Result<(), Error> {
    let loaded = input::load(&args.model, display)?;
    if !args.model.quiet {
        eprintln!(
            "{}",
            summary(&input::display_name(&args.model.path), &loaded)
        );
    }
    match args.emit {
        Some(notation) => output::write(&args.output, &emit(&loaded, notation)?),
        None => Ok(()),
    }
}

fn emit(loaded: &Loaded, notation: Emit) -> Result<String, Error> {
    let text = match notation {
        Emit::Json => serde_json::to_string_pretty(&loaded.system)
            .map(|json| json + "\n")
            .map_err(anyhow::Error::from),
        Emit::Yaml => serde_saphyr::to_string(&loaded.system).map_err(anyhow::Error::from),
    };
    text.map_err(|error| Error::Io(error.context("cannot serialize the model")))
}

/// `shop.ddd: ok (5 contexts, 7 aggregates, 6 policies); 0 warnings, 1 note`
fn summary(model: &str, loaded: &Loaded) -> String {
    let system = &loaded.system;
    let aggregates: usize = system.contexts.iter().map(|c| c.aggregates.len()).sum();
    let policies: usize = system.contexts.iter().map(|c| c.policies.len()).sum();
    let (_, warnings) = ddd_model::diagnostic::count(&loaded.diagnostics);
    let notes = loaded.diagnostics.len() - warnings;
    format!(
        "{model}: ok ({} contexts, {aggregates} aggregates, {policies} policies); {warnings} warning(s), {notes} note(s)",
        system.contexts.len()
    )
}
