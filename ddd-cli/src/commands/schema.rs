//! `ddd schema`: the JSON Schema of the IR.

use crate::cli::OutputFile;
use crate::error::Error;
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub output: OutputFile,
}

pub fn exec(args: &Args) -> Result<(), Error> {
    let schema = ddd_model::schema::json_schema();
    // A `serde_json::Value` always serializes.
    let text = serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n";
    output::write(&args.output, &text)
}
