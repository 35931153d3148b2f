//! `ddd new NAME`: a starter model (one context, one aggregate) written beside the workspace
//! it generates through the same pipeline as `ddd generate`; and the cargo-generate
//! template that starts the same service, made from that output.

use std::path::{Path, PathBuf};

use ddd_names as names;

use crate::{File, GenerateError, Options, Owner, Runtime};

/// The model `ddd new NAME` starts from.
pub fn model(name: &str) -> String {
    let pascal = names::pascal(name);
    format!(
        r#"// The domain model of {name}, started by `ddd new`. Describe your domain here, then run
// `ddd generate {name}.ddd --out .` beside this file to regenerate the workspace: generated
// files are rewritten, the files marked "Yours" never are.

system {pascal}

/// The {name} service.
context {pascal} {{
  /// Something {name} keeps track of: rename it, give it the fields and the behaviour of
  /// your domain.
  aggregate Item {{
    name: String

    /// Starts keeping track of an item.
    command CreateItem(name: String @len(1..=200)) creates emits ItemCreated
    /// Gives an item a new name.
    command RenameItem(name: String @len(1..=200)) emits ItemRenamed

    event ItemCreated(name: String)
    event ItemRenamed(name: String)
  }}

  /// The items, for lists: `GET /item-listings?sort=name`, a page at a time.
  view ItemListing from Item {{
    name: String @sort
  }}

  publishes ItemCreated, ItemRenamed
}}
"#
    )
}

/// The model file's name in the new workspace: `NAME.ddd`.
pub fn model_file(name: &str) -> PathBuf {
    PathBuf::from(format!("{name}.ddd"))
}

#[derive(Debug, thiserror::Error)]
pub enum StarterError {
    #[error("invalid service name `{name}`: {reason}")]
    Name {
        name: String,
        reason: ddd_names::PackageNameError,
    },
    #[error("the starter model of `{name}` does not check:\n{diagnostics}")]
    Model { name: String, diagnostics: String },
    #[error(transparent)]
    Generate(#[from] GenerateError),
}

/// Every file of the new service's workspace: its model (yours), the generated workspace,
/// and ddd's `Cargo.lock` when the runtime is a ddd source tree.
pub fn files(
    name: &str,
    runtime: &Runtime,
    templates: Option<&Path>,
) -> Result<Vec<File>, StarterError> {
    ddd_names::check_package(name).map_err(|reason| StarterError::Name {
        name: name.to_owned(),
        reason,
    })?;
    let text = model(name);
    let loaded =
        ddd_model::load(&text, ddd_model::Format::Ddd).map_err(|rejected| StarterError::Model {
            name: name.to_owned(),
            diagnostics: format!("{rejected:?}"),
        })?;
    let file_name = model_file(name);
    let options = Options {
        model: file_name.to_string_lossy().into_owned(),
        runtime: runtime.clone(),
        templates: templates.map(Path::to_path_buf),
    };
    let mut files = crate::workspace(&loaded.system, &options)?;
    files.push(File {
        path: file_name,
        contents: text,
        owner: Owner::User,
    });
    files.extend(crate::seed_lock(runtime));
    Ok(files)
}

/// The name the cargo-generate template is made from; its case forms become cargo-generate
/// placeholders.
const SENTINEL: &str = "zz-placeholder-zz";
/// The ddd source tree the template is made with; cargo-generate asks for the real one.
const SENTINEL_PATH: &str = "ZZDDDPATHZZ";

/// The cargo-generate template (`cargo generate --path templates/service`): the files of
/// `ddd new`, with the service's name and the ddd source tree as placeholders. Files that
/// hold tera-like or liquid-like braces of their own are wrapped in `{% raw %}`.
pub fn cargo_generate_template() -> Result<Vec<File>, StarterError> {
    let runtime = Runtime::Path(PathBuf::from(SENTINEL_PATH));
    let mut out = vec![File {
        path: PathBuf::from("cargo-generate.toml"),
        contents: CARGO_GENERATE_TOML.to_owned(),
        owner: Owner::User,
    }];
    for file in files(SENTINEL, &runtime, None)? {
        let path = placeholders(&file.path.to_string_lossy().replace('\\', "/"), false);
        out.push(File {
            path: PathBuf::from(path),
            contents: placeholders(&file.contents, true),
            owner: file.owner,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

const CARGO_GENERATE_TOML: &str = r#"# Made by `ddd` from its `ddd new` starter (see ddd-gen/src/starter.rs): do not edit by hand.
# cargo generate --path templates/service --name my-service --define ddd_path=/path/to/ddd
[template]
cargo_generate_version = ">=0.23"
# The manifest of `ddd generate` is written by the first `ddd generate` in the new service.
ignore = [".ddd"]

[placeholders.ddd_path]
type = "string"
prompt = "Path to the ddd source tree (the runtime crates)"
default = "../ddd"
"#;

/// `text` with the sentinel's forms replaced by liquid placeholders; in file contents the
/// rest is kept verbatim by `{% raw %}` where it has braces liquid would read.
fn placeholders(text: &str, contents: bool) -> String {
    let forms = [
        (names::pascal(SENTINEL), "{{project-name | pascal_case}}"),
        (
            names::screaming_snake(SENTINEL),
            "{{project-name | shouty_snake_case}}",
        ),
        (names::snake(SENTINEL), "{{project-name | snake_case}}"),
        (SENTINEL.to_owned(), "{{project-name | kebab_case}}"),
        (SENTINEL_PATH.to_owned(), "{{ddd_path}}"),
    ];
    let raw = contents && (text.contains("{{") || text.contains("{%"));
    let mut out = text.to_owned();
    for (form, placeholder) in &forms {
        let placeholder = if raw {
            format!("{{% endraw %}}{placeholder}{{% raw %}}")
        } else {
            (*placeholder).to_owned()
        };
        out = out.replace(form.as_str(), &placeholder);
    }
    if raw {
        format!("{{% raw %}}{out}{{% endraw %}}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_model_checks_for_any_valid_name() {
        for name in ["billing", "order-tracking", "http2_proxy", "a"] {
            let files = files(name, &Runtime::Path("/ddd".into()), None).expect(name);
            assert!(files.iter().any(|f| f.path == model_file(name)), "{name}");
        }
    }

    #[test]
    fn bad_names_are_refused_before_anything_is_made() {
        for name in ["", "1st", "std", "my service", "fn"] {
            assert!(
                matches!(
                    files(name, &Runtime::Path("/ddd".into()), None),
                    Err(StarterError::Name { .. })
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn the_template_has_no_sentinel_left() {
        for file in cargo_generate_template().expect("the template") {
            let path = file.path.to_string_lossy();
            for text in [&*path, &*file.contents] {
                assert!(
                    !text.to_lowercase().contains("zz") || text.contains("{{"),
                    "{path}"
                );
                assert!(
                    !text.contains(SENTINEL) && !text.contains(SENTINEL_PATH),
                    "{path}"
                );
            }
        }
    }
}
