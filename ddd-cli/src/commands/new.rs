//! `ddd new NAME`: a new service from a starter model, generated through the same pipeline
//! as `ddd generate` (see `ddd_gen::starter`).

use std::io::Write as _;
use std::path::PathBuf;

use ddd_gen::{starter, write};

use crate::cli::heading;
use crate::commands::generate::Source;
use crate::error::Error;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The service's name: ASCII letters, digits, `-` and `_`, starting with a letter
    /// (`billing`, `order-tracking`). It names the model, the crates and the directory.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Where to create it (default: `./NAME`); must not exist or be empty.
    #[arg(long, value_name = "DIR", help_heading = heading::OUTPUT)]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub source: Source,

    /// Write the cargo-generate template of `ddd new` to DIR instead (how
    /// `templates/service` of the ddd source is made; `--check` compares instead).
    #[arg(long, value_name = "DIR", hide = true, conflicts_with = "out")]
    pub cargo_generate_template: Option<PathBuf>,

    /// With `--cargo-generate-template`: change nothing, exit 5 when it is out of date.
    #[arg(long, hide = true, requires = "cargo_generate_template")]
    pub check: bool,
}

pub fn exec(args: &Args) -> Result<(), Error> {
    if let Some(dir) = &args.cargo_generate_template {
        return cargo_generate_template(dir, args.check);
    }
    let runtime = args.source.runtime()?;
    let files = starter::files(&args.name, &runtime, args.source.templates.as_deref())
        .map_err(Error::Starter)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if std::fs::read_dir(&out).is_ok_and(|mut entries| entries.next().is_some()) || out.is_file() {
        return Err(Error::Exists { path: out });
    }
    write::write(&out, &files, write::Mode::Write, false).map_err(Error::write)?;
    next_steps(&args.name, &out, files.len());
    Ok(())
}

fn next_steps(name: &str, out: &std::path::Path, count: usize) {
    let model = starter::model_file(name).display().to_string();
    let dir = out.display();
    let steps = [
        (format!("cd {dir}"), "".to_owned()),
        (
            "cargo run".to_owned(),
            "the service on SQLite, http://127.0.0.1:8080".to_owned(),
        ),
        ("cargo test".to_owned(), "its generated tests".to_owned()),
        (format!("$EDITOR {model}"), "your domain, then:".to_owned()),
        (
            format!("ddd generate {model} --out ."),
            "regenerate (files marked Yours are never touched)".to_owned(),
        ),
    ];
    let width = steps
        .iter()
        .map(|(command, _)| command.len())
        .max()
        .unwrap_or(0);
    let mut text = format!(
        "Created {dir}: {count} files, the model {model} (yours) and the workspace generated from it.\n\nNext:\n"
    );
    for (command, why) in &steps {
        if why.is_empty() {
            text.push_str(&format!("  {command}\n"));
        } else {
            text.push_str(&format!("  {command:<width$}   # {why}\n"));
        }
    }
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Writes (or with `check`, compares) the cargo-generate template: exactly its files, all
/// rewritten, so it can never drift from what `ddd new` makes.
fn cargo_generate_template(dir: &std::path::Path, check: bool) -> Result<(), Error> {
    let files = starter::cargo_generate_template().map_err(Error::Starter)?;
    let files: Vec<ddd_gen::File> = files
        .into_iter()
        .map(|file| ddd_gen::File {
            owner: ddd_gen::Owner::Generated,
            ..file
        })
        .collect();
    let mode = if check {
        write::Mode::Check
    } else {
        write::Mode::Write
    };
    write::write(dir, &files, mode, true).map_err(Error::write)?;
    Ok(())
}
