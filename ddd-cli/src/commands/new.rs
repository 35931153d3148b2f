//! `ddd new NAME`: one standalone service crate from `templates/service/` (the template
//! that `cargo generate --path templates/service` starts from as well).

use std::path::PathBuf;

use crate::cli::heading;
use crate::commands::generate::runtime;
use crate::error::Error;
use crate::generate::{File, Owner, scaffold, write};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The service's name: letters, digits, `-` and `_`, starting with a letter
    /// (`billing`, `order-tracking`). It names the crate and the directory.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Where to create it (default: `./NAME`); must not exist or be empty.
    #[arg(long, value_name = "DIR", help_heading = heading::OUTPUT)]
    pub out: Option<PathBuf>,

    /// A directory of templates (`service/...`) replacing the embedded ones of the same path.
    #[arg(long, value_name = "DIR", help_heading = heading::OUTPUT)]
    pub templates: Option<PathBuf>,

    /// Where the crate finds ddd's runtime: `path:DIR`.
    #[arg(long, value_name = "path:DIR", help_heading = heading::OUTPUT)]
    pub runtime: Option<String>,
}

pub fn exec(args: &Args) -> Result<(), Error> {
    let crate_name = scaffold::crate_name(&args.name).map_err(|error| {
        Error::Usage(clap::Error::raw(
            clap::error::ErrorKind::InvalidValue,
            format!("{error}\n"),
        ))
    })?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if std::fs::read_dir(&out).is_ok_and(|mut entries| entries.next().is_some()) || out.is_file() {
        return Err(Error::Exists { path: out });
    }
    let runtime = runtime(args.runtime.as_deref())?;
    let mut files = scaffold::service(&crate_name, &runtime, args.templates.as_deref())
        .map_err(Error::generate)?;
    // ddd's own lock: the crate starts from versions that build together.
    if let Ok(lock) = std::fs::read_to_string(runtime.join("Cargo.lock")) {
        files.push(File {
            path: PathBuf::from("Cargo.lock"),
            contents: lock,
            owner: Owner::User,
        });
    }
    write::format(&mut files).map_err(Error::write)?;
    write::scaffold(&out, &files).map_err(Error::write)?;
    Ok(())
}
