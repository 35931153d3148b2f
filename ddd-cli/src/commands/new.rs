//! `ddd new NAME`: a workspace for one new service, from the same templates as
//! `ddd generate` and a one-context starter model (`model.ddd`) to grow from.

use std::path::PathBuf;

use crate::cli::heading;
use crate::commands::generate::runtime;
use crate::error::Error;
use crate::generate::{self, File, Options, Owner, write};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The service's name: letters, digits, `-` and `_`, starting with a letter
    /// (`billing`, `order-tracking`). It names the context and the directory.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Where to create it (default: `./NAME`); must not exist or be empty.
    #[arg(long, value_name = "DIR", help_heading = heading::OUTPUT)]
    pub out: Option<PathBuf>,

    /// A directory of `.jinja` templates replacing the embedded ones of the same path.
    #[arg(long, value_name = "DIR", help_heading = heading::OUTPUT)]
    pub templates: Option<PathBuf>,

    /// Where the generated crates find ddd's runtime: `path:DIR`.
    #[arg(long, value_name = "path:DIR", help_heading = heading::OUTPUT)]
    pub runtime: Option<String>,
}

/// The starter model of a service called `name` (PascalCase).
fn starter(name: &str) -> String {
    format!(
        "system {name}\n\n/// {name}: edit this model, then run `ddd generate model.ddd --out .`.\ncontext {name} {{\n  aggregate Item {{\n    name: String\n\n    command CreateItem(name: String @len(1..=200)) creates emits ItemCreated\n    command RenameItem(name: String @len(1..=200)) emits ItemRenamed\n\n    event ItemCreated(name: String)\n    event ItemRenamed(name: String)\n  }}\n\n  publishes ItemCreated\n}}\n"
    )
}

fn valid(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub fn exec(args: &Args) -> Result<(), Error> {
    if !valid(&args.name) {
        return Err(Error::Usage(clap::Error::raw(
            clap::error::ErrorKind::InvalidValue,
            format!(
                "invalid service name `{}`: use letters, digits, `-` and `_`, starting with a letter\n",
                args.name
            ),
        )));
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if std::fs::read_dir(&out).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(Error::Exists { path: out });
    }
    let pascal = heck::ToUpperCamelCase::to_upper_camel_case(args.name.as_str());
    let model = starter(&pascal);
    let loaded = ddd_model::load(&model, ddd_model::Format::Ddd).map_err(|rejected| {
        Error::Io(anyhow::anyhow!(
            "the starter model of `{}` is invalid: {rejected:?}",
            args.name
        ))
    })?;
    let runtime = runtime(args.runtime.as_deref())?;
    let options = Options {
        model: "model.ddd".into(),
        runtime: runtime.clone(),
        templates: args.templates.clone(),
    };
    let mut files = generate::workspace(&loaded.system, &options).map_err(Error::generate)?;
    files.push(File {
        path: PathBuf::from("model.ddd"),
        contents: model,
        owner: Owner::User,
    });
    if let Ok(lock) = std::fs::read_to_string(runtime.join("Cargo.lock")) {
        files.push(File {
            path: PathBuf::from("Cargo.lock"),
            contents: lock,
            owner: Owner::User,
        });
    }
    write::format(&mut files).map_err(Error::write)?;
    write::write(&out, &files, write::Mode::Write, false).map_err(Error::write)?;
    Ok(())
}
