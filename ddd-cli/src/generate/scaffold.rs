//! `ddd new`: one standalone service crate from `templates/service/`, the template that
//! cargo-generate reads as well (so its variables are cargo-generate's: `crate_name` and
//! the `ddd_path` placeholder).

use std::path::Path;

use serde_json::json;

use super::render::{self, Engine};
use super::{File, GenerateError, Owner, names};

/// The templates of a service, under this directory of `templates/`.
const DIR: &str = "service/";

#[derive(Debug, thiserror::Error)]
pub enum NameError {
    #[error("invalid service name `{0}`: use letters, digits, `-` and `_`, starting with a letter")]
    Characters(String),
    #[error(
        "invalid service name `{name}`: its crate would be `{crate_name}`, a Rust keyword or a crate the service uses"
    )]
    Reserved { name: String, crate_name: String },
}

/// The crate name (snake case) of a service called `name`, if it can name a crate.
pub fn crate_name(name: &str) -> Result<String, NameError> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(NameError::Characters(name.to_owned()));
    }
    let snake = names::snake(name);
    // `module` appends `_` to exactly the names that cannot be used as they are.
    if names::module(name) != snake {
        return Err(NameError::Reserved {
            name: name.to_owned(),
            crate_name: snake,
        });
    }
    Ok(snake)
}

/// Every file of the service crate `crate_name`, depending on the ddd source tree at
/// `runtime` by path; all of them are the user's from the start.
pub fn service(
    crate_name: &str,
    runtime: &Path,
    templates: Option<&Path>,
) -> Result<Vec<File>, GenerateError> {
    let engine = Engine::new(templates)?;
    // A TOML basic string holds the path: forward slashes, quotes escaped.
    let ddd_path = runtime
        .to_string_lossy()
        .replace('\\', "/")
        .replace('"', "\\\"");
    let vars = render::vars(&json!({ "crate_name": crate_name, "ddd_path": ddd_path }));
    let mut files: Vec<File> = Vec::new();
    for template in engine.names(DIR) {
        let name = render::strip_suffix(&template).unwrap_or(&template);
        let path = names::guarded(&name[DIR.len()..])
            .ok_or_else(|| GenerateError::Escape(name.to_owned()))?;
        // `x.jinja` (sorted first) and `x.liquid` would both write `x`: once is enough.
        if files.iter().any(|f| f.path == path) {
            continue;
        }
        files.push(File {
            contents: engine.render(name, &vars)?,
            path,
            owner: Owner::User,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
