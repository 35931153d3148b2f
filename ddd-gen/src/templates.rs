//! The template tree: `templates/workspace/` of the ddd source, embedded in the binary and
//! rendered with tera. Each template says in a front matter (a tera comment at its top)
//! where its output goes and who owns it:
//!
//! ```text
//! {#
//! to: services/{{ c.dir }}/src/{{ a.module }}/mod.rs
//! owner: generated
//! for: aggregate
//! when: a.commands
//! #}
//! ```
//!
//! `to` is a tera template of the output path; `owner` is `generated` (rewritten on every
//! run) or `user` (written once); `for` is `system` (one file), `context`, `aggregate` or
//! `policy` (one file each), or `upcast` (one per step between two versions of an event
//! that needs an upcaster, with its destination in `u.dir`); `when` is a tera expression that must be truthy for the file to
//! be written. A template without front matter is a partial (`_components.tera`): other
//! templates use its components. Adding a file to the output is adding a template.
//!
//! Block tags and comments alone on their line leave no blank line behind (Jinja's
//! `trim_blocks` and `lstrip_blocks`), so templates can be laid out like their output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde::Serialize;
use tera::{Context, Kwargs, State, Tera, Value};

use crate::Owner;

/// `templates/workspace/` of the ddd source tree, as it was when the library was built.
static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../templates/workspace");

/// Only files with this suffix are templates.
pub const SUFFIX: &str = ".tera";

/// What one template makes a file for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Each {
    System,
    Context,
    Aggregate,
    Policy,
    /// A step between two versions of an event that needs an upcaster (see `history`).
    Upcast,
}

/// A template that writes a file.
#[derive(Debug, Clone)]
pub struct Template {
    /// Its path under the template tree, suffix included (`service/src/lib.rs.tera`).
    pub name: String,
    pub owner: Owner,
    pub each: Each,
    has_when: bool,
    /// The top-level variables it reads (in its body, `to` and `when`).
    variables: BTreeSet<String>,
}

impl Template {
    /// Whether it reads any of `variables`.
    pub fn reads_any(&self, variables: &[&str]) -> bool {
        variables.iter().any(|v| self.variables.contains(*v))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template `{name}`: {message}")]
    Render { name: String, message: String },
    #[error("template `{name}`, line {line}: {message}")]
    FrontMatter {
        name: String,
        line: usize,
        message: String,
    },
    #[error(
        "{}: no template of ddd is called `{name}`, so it would never be used{}",
        path.display(),
        suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
    )]
    Unknown {
        path: PathBuf,
        name: String,
        suggestion: Option<String>,
    },
    #[error("cannot read the template directory `{}`: {source}", path.display())]
    Overrides {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("template `{name}` writes `{path}`, a path that would leave the output directory")]
    Escape { name: String, path: String },
}

/// The templates, parsed once.
#[derive(Debug)]
pub struct Engine {
    tera: Tera,
    templates: Vec<Template>,
}

impl Engine {
    /// The embedded templates, each replaced by the file of the same relative path under
    /// `overrides` when there is one (an override for a template that does not exist is an
    /// error: it would silently never be used).
    pub fn new(overrides: Option<&Path>) -> Result<Engine, TemplateError> {
        let mut sources: BTreeMap<String, String> = BTreeMap::new();
        collect(&TEMPLATES, &mut sources);
        if let Some(dir) = overrides {
            for (name, path, text) in read_dir(dir, dir)? {
                if !sources.contains_key(&name) {
                    let suggestion = closest(&name, sources.keys());
                    return Err(TemplateError::Unknown {
                        path,
                        name,
                        suggestion,
                    });
                }
                sources.insert(name, text);
            }
        }
        let mut tera = Tera::new();
        tera.autoescape_on(Vec::<&str>::new());
        register_filters(&mut tera);
        let mut templates = Vec::new();
        let mut raw: Vec<(String, String)> = Vec::new();
        for (name, text) in &sources {
            let body = trim_blocks(text);
            if let Some(front) = FrontMatter::parse(name, text)? {
                raw.push((to_name(name), front.to.clone()));
                if let Some(when) = &front.when {
                    raw.push((
                        when_name(name),
                        format!("{{% if {when} %}}yes{{% endif %}}"),
                    ));
                }
                templates.push(Template {
                    name: name.clone(),
                    owner: front.owner,
                    each: front.each,
                    has_when: front.when.is_some(),
                    variables: BTreeSet::new(),
                });
            }
            raw.push((name.clone(), body));
        }
        tera.add_raw_templates(raw)
            .map_err(|error| render_error("(the template tree)", &error))?;
        for template in &mut templates {
            let name = &template.name;
            for part in [name.clone(), to_name(name), when_name(name)] {
                if let Ok(variables) = tera.get_template_variables(&part) {
                    template
                        .variables
                        .extend(variables.into_iter().map(str::to_owned));
                }
            }
        }
        Ok(Engine { tera, templates })
    }

    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    /// The path and contents `template` makes from `context`, or `None` when its `when`
    /// says it makes nothing there.
    pub fn render(
        &self,
        template: &Template,
        context: &Context,
    ) -> Result<Option<(PathBuf, String)>, TemplateError> {
        let name = &template.name;
        if template.has_when {
            let when = self
                .tera
                .render(&when_name(name), context)
                .map_err(|error| render_error(name, &error))?;
            if when.is_empty() {
                return Ok(None);
            }
        }
        let to = self
            .tera
            .render(&to_name(name), context)
            .map_err(|error| render_error(name, &error))?;
        let path = guarded(to.trim()).ok_or_else(|| TemplateError::Escape {
            name: name.clone(),
            path: to.clone(),
        })?;
        let contents = self
            .tera
            .render(name, context)
            .map_err(|error| render_error(name, &error))?;
        Ok(Some((path, contents)))
    }
}

/// The variables of a template, from anything serializable, converted once.
pub fn value<T: Serialize + ?Sized>(value: &T) -> Value {
    Value::from_serializable(value)
}

fn to_name(name: &str) -> String {
    format!("{name}#to")
}

fn when_name(name: &str) -> String {
    format!("{name}#when")
}

fn render_error(name: &str, error: &tera::Error) -> TemplateError {
    // tera's report names the template, the line and the column; its sources chain the
    // cause (an undefined variable, a failing filter).
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    TemplateError::Render {
        name: name.to_owned(),
        message,
    }
}

/// The front matter of a template: `key: value` lines in a tera comment at its very top.
#[derive(Debug)]
struct FrontMatter {
    to: String,
    owner: Owner,
    each: Each,
    when: Option<String>,
}

impl FrontMatter {
    fn parse(name: &str, text: &str) -> Result<Option<FrontMatter>, TemplateError> {
        // Front matter is a comment whose `{#` is alone on the first line; a partial may
        // start with a one-line comment of its own.
        let Some(rest) = text
            .strip_prefix("{#\n")
            .or_else(|| text.strip_prefix("{#\r\n"))
        else {
            return Ok(None);
        };
        let error = |line: usize, message: String| TemplateError::FrontMatter {
            name: name.to_owned(),
            line,
            message,
        };
        let end = rest
            .find("#}")
            .ok_or_else(|| error(1, "the front matter comment is not closed".into()))?;
        let (mut to, mut owner, mut each, mut when) = (None, None, None, None);
        for (index, line) in rest[..end].lines().enumerate() {
            let line_number = index + 2;
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (key, value) = line.split_once(':').ok_or_else(|| {
                error(
                    line_number,
                    format!("expected `key: value`, found `{line}`"),
                )
            })?;
            let value = value.trim().to_owned();
            match key.trim() {
                "to" => to = Some(value),
                "owner" => {
                    owner = Some(match value.as_str() {
                        "generated" => Owner::Generated,
                        "user" => Owner::User,
                        other => {
                            return Err(error(
                                line_number,
                                format!("owner `{other}`: expected `generated` or `user`"),
                            ));
                        }
                    });
                }
                "for" => {
                    each = Some(match value.as_str() {
                        "system" => Each::System,
                        "context" => Each::Context,
                        "aggregate" => Each::Aggregate,
                        "policy" => Each::Policy,
                        "upcast" => Each::Upcast,
                        other => {
                            return Err(error(
                                line_number,
                                format!(
                                    "for `{other}`: expected `system`, `context`, `aggregate`, `policy` or `upcast`"
                                ),
                            ));
                        }
                    });
                }
                "when" => when = Some(value),
                other => {
                    return Err(error(
                        line_number,
                        format!("unknown key `{other}` (keys: to, owner, for, when)"),
                    ));
                }
            }
        }
        let to = to.ok_or_else(|| error(1, "the front matter has no `to:`".into()))?;
        Ok(Some(FrontMatter {
            to,
            owner: owner.unwrap_or(Owner::Generated),
            each: each.unwrap_or(Each::System),
            when,
        }))
    }
}

/// Jinja's `trim_blocks` and `lstrip_blocks` for tera: the indentation before a block tag
/// or comment that starts a line goes, and so does the newline after one that ends a line.
/// The newline is swallowed by a comment rather than removed, so that line numbers in
/// tera's errors stay those of the file.
fn trim_blocks(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let line = if trimmed.starts_with("{%") || trimmed.starts_with("{#") {
            trimmed
        } else {
            line
        };
        out.push_str(line);
        if lines.peek().is_some() {
            let end = line.trim_end();
            if end.ends_with("%}") || end.ends_with("#}") {
                out.push_str("{#\n#}");
            } else {
                out.push('\n');
            }
        }
    }
    out
}

fn register_filters(tera: &mut Tera) {
    tera.register_filter("snake", |s: &str, _: Kwargs, _: &State<'_>| {
        ddd_names::snake(s)
    });
    tera.register_filter("kebab", |s: &str, _: Kwargs, _: &State<'_>| {
        ddd_names::kebab(s)
    });
    tera.register_filter("pascal", |s: &str, _: Kwargs, _: &State<'_>| {
        ddd_names::pascal(s)
    });
    tera.register_filter("ident", |s: &str, _: Kwargs, _: &State<'_>| {
        ddd_names::ident(s)
    });
    // `{{ name | with_article }}`: `an Order`, `a Cart`, in the prose of doc comments.
    tera.register_filter("with_article", |s: &str, _: Kwargs, _: &State<'_>| {
        ddd_names::with_article(s)
    });
    // `{{ text | doc }}`: each line of a doc comment as `/// line`; nothing for none.
    tera.register_filter("doc", |value: Value, kwargs: Kwargs, _: &State<'_>| {
        let marker = kwargs.get::<&str>("marker").ok().flatten().unwrap_or("///");
        value
            .as_str()
            .map(|text| {
                text.lines()
                    .map(|line| {
                        if line.is_empty() {
                            format!("{marker}\n")
                        } else {
                            format!("{marker} {line}\n")
                        }
                    })
                    .collect::<String>()
            })
            .unwrap_or_default()
    });
    // `{{ text | string }}`: a Rust string literal.
    tera.register_filter("string", |s: &str, _: Kwargs, _: &State<'_>| {
        format!("{s:?}")
    });
}

fn collect(dir: &Dir<'static>, out: &mut BTreeMap<String, String>) {
    for file in dir.files() {
        let path = file.path().to_string_lossy().replace('\\', "/");
        if path.ends_with(SUFFIX)
            && let Some(text) = file.contents_utf8()
        {
            out.insert(path, text.to_owned());
        }
    }
    for sub in dir.dirs() {
        collect(sub, out);
    }
}

fn read_dir(root: &Path, dir: &Path) -> Result<Vec<(String, PathBuf, String)>, TemplateError> {
    let error = |source| TemplateError::Overrides {
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
            if relative.ends_with(SUFFIX) {
                let text = std::fs::read_to_string(&path).map_err(error)?;
                out.push((relative, path, text));
            }
        }
    }
    Ok(out)
}

/// The known name most like `name`, if one is close enough to be a typo of it.
fn closest<'a>(name: &str, known: impl Iterator<Item = &'a String>) -> Option<String> {
    known
        .map(|k| (edit_distance(name, k), k))
        .filter(|(distance, k)| *distance <= k.len() / 3)
        .min()
        .map(|(_, k)| k.clone())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// A relative path made of plain components only, so that joining it to the output
/// directory can never leave that directory (no `..`, no root, no prefix, not empty).
pub(crate) fn guarded(relative: &str) -> Option<PathBuf> {
    use std::path::Component;
    let path = Path::new(relative);
    let plain = path
        .components()
        .all(|component| matches!(component, Component::Normal(_)));
    (plain && !relative.is_empty() && !relative.contains('\\')).then(|| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_lines_leave_no_blank_lines() {
        let mut tera = Tera::new();
        let text = "a\n{% if yes %}\n  b\n  {% for i in [1, 2] %}\n  {{ i }}\n  {% endfor %}\n{% endif %}\nc\n";
        tera.add_raw_template("t", &trim_blocks(text)).unwrap();
        let mut context = Context::new();
        context.insert("yes", &true);
        assert_eq!(tera.render("t", &context).unwrap(), "a\n  b\n  1\n  2\nc\n");
    }

    #[test]
    fn front_matter_is_read() {
        let text = "{#\nto: a/{{ c.dir }}.rs\nowner: user\nfor: context\nwhen: c.x\n#}\nbody";
        let front = FrontMatter::parse("t", text).unwrap().unwrap();
        assert_eq!(front.to, "a/{{ c.dir }}.rs");
        assert_eq!(front.owner, Owner::User);
        assert_eq!(front.each, Each::Context);
        assert_eq!(front.when.as_deref(), Some("c.x"));
        assert!(
            FrontMatter::parse("t", "no front matter")
                .unwrap()
                .is_none()
        );
        let bad = FrontMatter::parse("t", "{#\nto: x\nowner: someone\n#}").unwrap_err();
        assert!(bad.to_string().contains("line 3"), "{bad}");
    }

    #[test]
    fn the_guard_rejects_escapes() {
        assert!(guarded("services/a/src/lib.rs").is_some());
        for bad in ["../x", "/etc/passwd", "a/../../b", "", "a\\..\\b"] {
            assert!(guarded(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn every_embedded_template_parses() {
        let engine = Engine::new(None).expect("the embedded templates parse");
        assert!(!engine.templates().is_empty());
    }

    #[test]
    fn typos_are_suggested() {
        let known = ["service/src/lib.rs.tera".to_owned()];
        assert_eq!(
            closest("service/src/lib.rs.terra", known.iter()).as_deref(),
            Some("service/src/lib.rs.tera")
        );
        assert_eq!(closest("nothing/like.tera", known.iter()), None);
    }
}
