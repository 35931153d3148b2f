//! Where a model is read from, for the commands that compare two: a model file, a directory
//! holding one, or a file or directory of a git revision (`git:REV:PATH`).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use ddd_model::sources::{self, Outcome};
use ddd_model::{Format, ast, parser};

use crate::error::Error;
use crate::git;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Spec {
    /// A file, or a directory holding the model's root file.
    Path(PathBuf),
    /// `git:REV:PATH`: PATH (from the repository's root, as `git show REV:PATH` reads it) in
    /// revision REV.
    Git { rev: String, path: PathBuf },
}

impl Spec {
    pub(crate) fn parse(text: &str) -> Result<Spec, Error> {
        let Some(rest) = text.strip_prefix("git:") else {
            return Ok(Spec::Path(PathBuf::from(text)));
        };
        match rest.split_once(':') {
            Some((rev, path)) if !rev.is_empty() => Ok(Spec::Git {
                rev: rev.to_owned(),
                path: PathBuf::from(path),
            }),
            _ => Err(Error::Usage(clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("`{text}`: expected `git:REV:PATH`, e.g. `git:main:shop.ddd`\n"),
            ))),
        }
    }

    /// Reads and checks the model, and the files it imports from the same place. `format`
    /// overrides the root file's extension. Errors in the model are in the outcome; `Err`
    /// when the model cannot be read at all.
    pub(crate) fn load(&self, format: Option<Format>) -> Result<Outcome, Error> {
        let outcome = match self {
            Spec::Path(path) => load_path(path, format),
            Spec::Git { rev, path } => load_git(rev, path, format),
        };
        outcome.map_err(|error| match error {
            Error::Io(error) => Error::Io(error.context(format!("cannot read `{self}`"))),
            other => other,
        })
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Spec::Path(path) => write!(f, "{}", path.display()),
            Spec::Git { rev, path } => write!(f, "git:{rev}:{}", path.display()),
        }
    }
}

fn load_path(path: &Path, format: Option<Format>) -> Result<Outcome, Error> {
    let root = if path.is_dir() {
        let entries = fs_err::read_dir(path).map_err(io_error)?;
        let files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect();
        root_in(path, files, |file| fs_err::read(file))?
    } else {
        path.to_path_buf()
    };
    let format = format_of(&root, format)?;
    sources::load(&root, format, |file| fs_err::read(file)).map_err(io_error)
}

fn load_git(rev: &str, path: &Path, format: Option<Format>) -> Result<Outcome, Error> {
    let root = if git::is_directory(rev, path).map_err(io_error)? {
        let files = git::list(rev, path).map_err(io_error)?;
        root_in(path, files, |file| git::show(rev, file))?
    } else {
        path.to_path_buf()
    };
    let format = format_of(&root, format)?;
    let mut outcome =
        sources::load(&root, format, |file| git::show(rev, file)).map_err(io_error)?;
    outcome
        .sources
        .rename(|file| format!("git:{rev}:{}", file.path().display()));
    Ok(outcome)
}

fn io_error(error: io::Error) -> Error {
    Error::Io(anyhow::Error::from(error))
}

fn format_of(root: &Path, format: Option<Format>) -> Result<Format, Error> {
    format
        .or_else(|| Format::from_path(root))
        .ok_or_else(|| Error::UnknownFormat {
            path: root.to_path_buf(),
        })
}

/// The root file of the model in directory `dir`: of its `.ddd` files, the one that declares
/// `system` (the files it imports may stand beside it).
fn root_in(
    dir: &Path,
    mut files: Vec<PathBuf>,
    mut read: impl FnMut(&Path) -> io::Result<Vec<u8>>,
) -> Result<PathBuf, Error> {
    files.retain(|file| Format::from_path(file) == Some(Format::Ddd));
    files.sort();
    let mut roots = Vec::new();
    for file in files {
        let bytes = read(&file)
            .with_context(|| format!("cannot read `{}`", file.display()))
            .map_err(Error::Io)?;
        if declares_system(&String::from_utf8_lossy(&bytes)) {
            roots.push(file);
        }
    }
    match roots.as_slice() {
        [root] => Ok(root.clone()),
        [] => Err(Error::Root {
            dir: dir.to_path_buf(),
            reason: "no `.ddd` file in it declares `system`".to_owned(),
        }),
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|file| format!("`{}`", file.display()))
                .collect();
            Err(Error::Root {
                dir: dir.to_path_buf(),
                reason: format!("{} all declare `system`; name one", names.join(", ")),
            })
        }
    }
}

fn declares_system(text: &str) -> bool {
    let (file, _) = parser::parse(text);
    file.items
        .iter()
        .any(|item| matches!(item, ast::Item::System(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_read_as_paths_or_revisions() {
        assert_eq!(
            Spec::parse("models/shop.ddd").ok(),
            Some(Spec::Path(PathBuf::from("models/shop.ddd")))
        );
        assert_eq!(
            Spec::parse("git:origin/main:models/shop.ddd").ok(),
            Some(Spec::Git {
                rev: "origin/main".to_owned(),
                path: PathBuf::from("models/shop.ddd"),
            })
        );
        assert!(Spec::parse("git:main").is_err());
        assert!(Spec::parse("git::shop.ddd").is_err());
    }

    #[test]
    fn a_directory_root_is_its_one_file_with_system() {
        let texts = |path: &Path| match path.to_str() {
            Some("m/shop.ddd") => Ok(b"system Shop\nimport \"sales.ddd\"\n".to_vec()),
            Some("m/sales.ddd") => Ok(b"context Sales {}\n".to_vec()),
            _ => Ok(b"system Other\n".to_vec()),
        };
        let files = ["m/sales.ddd", "m/notes.txt", "m/shop.ddd"].map(PathBuf::from);
        let root = root_in(Path::new("m"), files.to_vec(), texts).ok();
        assert_eq!(root, Some(PathBuf::from("m/shop.ddd")));
        let two = ["m/shop.ddd", "m/other.ddd"].map(PathBuf::from);
        assert!(matches!(
            root_in(Path::new("m"), two.to_vec(), texts),
            Err(Error::Root { .. })
        ));
    }
}
