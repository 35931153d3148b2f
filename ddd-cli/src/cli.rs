//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::builder::styling::{AnsiColor, Effects, Styles};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands::{check, completions, diff, docs, generate, graph, new, schema};

pub(crate) mod heading {
    pub(crate) const MODEL: &str = "Model";
    pub(crate) const OUTPUT: &str = "Output";
    pub(crate) const DISPLAY: &str = "Display";
}

const EXIT_STATUS: &str = "\
Exit status:
  0  success (warnings and notes allowed)
  1  the model has errors (they are printed; nothing is written)
  2  bad command line (unknown option, unsupported model extension)
  3  a file could not be read or written
  4  generate: generated files were edited by hand, or the directory has no manifest yet
     and files differ from the model's (nothing written; see --force)
  5  generate --check: generated files are out of date
  6  generate: a template failed to render
  7  diff: a change breaks stored events, other contexts or HTTP clients";

/// Cargo's look.
fn styles() -> Styles {
    Styles::styled()
        .header(AnsiColor::Green.on_default().effects(Effects::BOLD))
        .usage(AnsiColor::Green.on_default().effects(Effects::BOLD))
        .literal(AnsiColor::Cyan.on_default().effects(Effects::BOLD))
        .placeholder(AnsiColor::Cyan.on_default())
        .error(AnsiColor::Red.on_default().effects(Effects::BOLD))
        .valid(AnsiColor::Cyan.on_default().effects(Effects::BOLD))
        .invalid(AnsiColor::Yellow.on_default().effects(Effects::BOLD))
}

/// Domain-Driven Design toolkit: check a domain model and draw its context map.
///
/// A model is a `.ddd` file (the domain language) or the same model as JSON or YAML
/// (see `ddd schema`).
#[derive(Debug, Parser)]
#[command(name = "ddd", version, styles = styles(), after_help = EXIT_STATUS, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub display: Display,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a model and print its diagnostics (non-zero exit status on errors).
    #[command(after_help = EXIT_STATUS)]
    Check(check::Args),
    /// Draw the context map: contexts, relations, published events and policies.
    #[command(after_help = EXIT_STATUS)]
    Graph(graph::Args),
    /// Write the catalog of a model: a static site with its pictures (context map, event
    /// flow, lifecycles), a page per context and per event, its API documents and a search;
    /// or an EventCatalog folder.
    #[command(after_help = EXIT_STATUS)]
    Docs(docs::Args),
    /// Generate the Cargo workspace of a model: a service per context, a monolith, contracts.
    #[command(after_help = EXIT_STATUS)]
    Generate(generate::Args),
    /// Start a new service: a one-context workspace with a starter model.
    #[command(after_help = EXIT_STATUS)]
    New(new::Args),
    /// Compare two models and fail on a change that breaks stored events, other contexts or
    /// HTTP clients.
    ///
    /// Lists what was added, removed and changed (contexts, aggregates, commands and their
    /// parameters, events and their fields, versions and defaults, state, views, values,
    /// entities, enums, published events and their subjects, policies, the context map),
    /// each located in both models, and whom it breaks:
    ///
    /// - stored events: an event removed; a field of it removed or retyped, or added with no
    ///   default and not optional; a default removed or changed; the same inside a value,
    ///   entity or enum an event carries;
    ///
    /// - other contexts: an event no longer published; a published event's field removed,
    ///   retyped, widened or made optional; a subject changed (the system renamed);
    ///
    /// - HTTP clients: an endpoint removed or moved; a command parameter added that is not
    ///   optional, removed, retyped or constrained more tightly; a state or view field removed
    ///   or retyped; a `@filter` or `@sort` removed.
    ///
    /// A change to stored events or other contexts is allowed when its event's version goes
    /// up (`event E v2(...)`); a version that goes down is an error. A model with errors on
    /// either side is reported as `ddd check` reports it, and nothing is compared.
    #[command(after_help = EXIT_STATUS)]
    Diff(diff::Args),
    /// Print the JSON Schema of the model (the IR), for JSON and YAML models.
    #[command(after_help = EXIT_STATUS)]
    Schema(schema::Args),
    /// Print a shell completion script.
    Completions(completions::Args),
}

/// How diagnostics look.
#[derive(Debug, Args)]
pub struct Display {
    /// When to color diagnostics.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, global = true, help_heading = heading::DISPLAY)]
    pub color: ColorWhen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// When stderr is a terminal and `NO_COLOR` is not set.
    Auto,
    Always,
    Never,
}

/// The model argument shared by the commands that read one.
#[derive(Debug, Args)]
pub struct ModelInput {
    /// The model: a `.ddd`, `.json`, `.yaml` or `.yml` file, or `-` for stdin.
    #[arg(value_name = "MODEL", help_heading = heading::MODEL)]
    pub path: PathBuf,

    /// Read the model as this notation instead of guessing from the extension.
    #[arg(long, value_enum, value_name = "NOTATION", help_heading = heading::MODEL)]
    pub input_format: Option<InputFormat>,

    /// Report errors only, not warnings and notes.
    #[arg(short, long, help_heading = heading::DISPLAY)]
    pub quiet: bool,

    /// Diagnostics as rich blocks, or one line each.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human, help_heading = heading::DISPLAY)]
    pub message_format: MessageFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Ddd,
    Json,
    Yaml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    /// `file:line:col`, the source line, a caret, help.
    Human,
    /// One line per diagnostic.
    Short,
}

/// Where a command writes its result.
#[derive(Debug, Args)]
pub struct OutputFile {
    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE", help_heading = heading::OUTPUT)]
    pub output: Option<PathBuf>,
}
