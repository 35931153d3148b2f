//! `ddd graph MODEL --format mermaid|dot|svg`: the context map.

use clap::ValueEnum;
use ddd_model::graph;

use crate::cli::{Display, ModelInput, OutputFile, heading};
use crate::error::Error;
use crate::{input, output};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelInput,

    /// The diagram notation.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid, help_heading = heading::OUTPUT)]
    pub format: GraphFormat,

    #[command(flatten)]
    pub output: OutputFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid `flowchart` (renders on GitHub and GitLab).
    Mermaid,
    /// Graphviz DOT.
    Dot,
    /// An SVG picture, laid out by ddd itself (nothing to install).
    Svg,
}

pub fn exec(args: &Args, display: &Display) -> Result<(), Error> {
    let loaded = input::load(&args.model, display)?;
    let text = match args.format {
        GraphFormat::Mermaid => graph::mermaid(&loaded.system),
        GraphFormat::Dot => graph::dot(&loaded.system),
        GraphFormat::Svg => ddd_docs::context_map_svg(&loaded.system),
    };
    output::write(&args.output, &text)
}
