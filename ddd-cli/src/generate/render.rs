//! The template engine: templates embedded in the binary, each replaceable by a file of the
//! same relative path in a directory the user names (`--templates DIR`).

use std::path::Path;

use include_dir::{Dir, include_dir};
use minijinja::Environment;
use serde::Serialize;

use super::names;

/// `templates/` of the ddd source tree, as it was when the binary was built.
static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../templates");

/// Only files with this suffix are templates.
pub(crate) const SUFFIX: &str = ".jinja";

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template `{name}`: {source:#}")]
    Template {
        name: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("cannot read the template directory `{}`: {source}", path.display())]
    Overrides {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug)]
pub(crate) struct Engine {
    env: Environment<'static>,
}

impl Engine {
    pub(crate) fn new(overrides: Option<&Path>) -> Result<Engine, RenderError> {
        let mut env = Environment::new();
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .map_err(|source| RenderError::Template {
                name: "syntax".into(),
                source,
            })?;
        env.set_syntax(syntax);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_filter("snake", |s: String| names::snake(&s));
        env.add_filter("kebab", |s: String| names::kebab(&s));
        env.add_filter("pascal", |s: String| names::pascal(&s));
        let mut embedded = Vec::new();
        collect(&TEMPLATES, &mut embedded);
        for (name, text) in embedded {
            add(&mut env, name, text)?;
        }
        if let Some(dir) = overrides {
            for (name, text) in read_dir(dir, dir)? {
                add(&mut env, name, text)?;
            }
        }
        Ok(Engine { env })
    }

    pub(crate) fn render(
        &self,
        name: &str,
        context: impl Serialize,
    ) -> Result<String, RenderError> {
        let name = format!("{name}{SUFFIX}");
        let error = |source| RenderError::Template {
            name: name.clone(),
            source,
        };
        self.env
            .get_template(&name)
            .and_then(|template| template.render(minijinja::value::Serde(context)))
            .map_err(error)
    }
}

fn add(env: &mut Environment<'static>, name: String, text: String) -> Result<(), RenderError> {
    env.add_template_owned(name.clone(), text)
        .map_err(|source| RenderError::Template { name, source })
}

fn collect(dir: &Dir<'static>, out: &mut Vec<(String, String)>) {
    for file in dir.files() {
        let name = file.path().to_string_lossy().replace('\\', "/");
        if let (true, Some(text)) = (name.ends_with(SUFFIX), file.contents_utf8()) {
            out.push((name, text.to_owned()));
        }
    }
    for sub in dir.dirs() {
        collect(sub, out);
    }
}

fn read_dir(root: &Path, dir: &Path) -> Result<Vec<(String, String)>, RenderError> {
    let error = |source| RenderError::Overrides {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(error)?
        .collect::<Result<_, _>>()
        .map_err(error)?;
    entries.sort_by_key(std::fs::DirEntry::path);
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            out.extend(read_dir(root, &path)?);
        } else if path.to_string_lossy().ends_with(SUFFIX) {
            let text = std::fs::read_to_string(&path).map_err(error)?;
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((name, text));
        }
    }
    Ok(out)
}
