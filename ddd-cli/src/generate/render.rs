//! The template engine: templates embedded in the binary, each replaceable by a file of the
//! same relative path in a directory the user names (`--templates DIR`).

use std::path::Path;

use include_dir::{Dir, include_dir};
use minijinja::Environment;
use serde::Serialize;

use super::names;

/// `templates/` of the ddd source tree, as it was when the binary was built.
static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../templates");

/// Only files with one of these suffixes are templates, named by their path (suffix
/// included, so that templates import each other as files); code renders them by the path
/// without it. `.liquid` is for templates that cargo-generate reads too (`service/`),
/// which strips that suffix as well.
pub(crate) const SUFFIXES: [&str; 2] = [".jinja", ".liquid"];

/// `path` without its template suffix, if it has one.
pub(crate) fn strip_suffix(path: &str) -> Option<&str> {
    SUFFIXES.iter().find_map(|suffix| path.strip_suffix(suffix))
}

/// A template's variables, already in minijinja's form. Its values are reference-counted, so
/// a view that many files share (a context with all its aggregates) is converted once and
/// layered under each file's own variables instead of being copied and converted per file.
pub(crate) type Vars = minijinja::Value;

/// The variables of a JSON object (its keys at the top level).
pub(crate) fn vars(json: &serde_json::Value) -> Vars {
    minijinja::Value::from(minijinja::value::Serde(json))
}

/// `top` over `under`: a name defined by both is `top`'s. Nothing is copied.
pub(crate) fn layer(top: Vars, under: &Vars) -> Vars {
    minijinja::value::merge_maps([top, under.clone()])
}

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
        // cargo-generate's names for the same filters, for templates both engines read.
        env.add_filter("snake_case", |s: String| names::snake(&s));
        env.add_filter("kebab_case", |s: String| names::kebab(&s));
        env.add_filter("pascal_case", |s: String| names::pascal(&s));
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

    /// The names of the templates under `dir` (`service/`), suffix included, sorted.
    pub(crate) fn names(&self, dir: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .env
            .templates()
            .map(|(name, _)| name)
            .filter(|name| name.starts_with(dir))
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    }

    pub(crate) fn render(
        &self,
        name: &str,
        context: impl Serialize,
    ) -> Result<String, RenderError> {
        let error = |source| RenderError::Template {
            name: name.to_owned(),
            source,
        };
        let [jinja, liquid] = SUFFIXES.map(|suffix| format!("{name}{suffix}"));
        self.env
            .get_template(&jinja)
            .or_else(|_| self.env.get_template(&liquid))
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
        let path = file.path().to_string_lossy().replace('\\', "/");
        if let (Some(_), Some(text)) = (strip_suffix(&path), file.contents_utf8()) {
            out.push((path, text.to_owned()));
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
        } else {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            if strip_suffix(&relative).is_some() {
                let text = std::fs::read_to_string(&path).map_err(error)?;
                out.push((relative, text));
            }
        }
    }
    Ok(out)
}
