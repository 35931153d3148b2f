//! Reading files of a revision through the `git` command (so `ddd diff git:main:shop.ddd ...`
//! sees what the repository's own `git` sees: its config, worktrees, alternates).

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The file at `path` (from the repository's root) in revision `rev`: `git show REV:PATH`.
pub(crate) fn show(rev: &str, path: &Path) -> io::Result<Vec<u8>> {
    git(&["show", &object(rev, path)])
}

/// Whether `path` is a directory in revision `rev`.
pub(crate) fn is_directory(rev: &str, path: &Path) -> io::Result<bool> {
    let kind = git(&["cat-file", "-t", &object(rev, path)])?;
    Ok(kind.trim_ascii() == b"tree")
}

/// The files and directories directly in the directory `path` of revision `rev`, as paths
/// from the repository's root.
pub(crate) fn list(rev: &str, path: &Path) -> io::Result<Vec<PathBuf>> {
    let names = git(&["ls-tree", "--name-only", "-z", &object(rev, path)])?;
    Ok(names
        .split(|&byte| byte == 0)
        .filter(|name| !name.is_empty())
        .map(|name| path.join(String::from_utf8_lossy(name).as_ref()))
        .collect())
}

/// `REV:PATH`, git's name of a file in a revision (`REV:` alone is the root directory).
fn object(rev: &str, path: &Path) -> String {
    format!("{rev}:{}", path.display())
}

/// Runs git; its stdout, or an error with what it said on stderr.
fn git(args: &[&str]) -> io::Result<Vec<u8>> {
    let output = Command::new("git")
        .args(args)
        .output()
        .map_err(|error| io::Error::new(error.kind(), format!("cannot run `git`: {error}")))?;
    if output.status.success() {
        return Ok(output.stdout);
    }
    let said = String::from_utf8_lossy(&output.stderr);
    Err(io::Error::other(format!(
        "`git {}` failed: {}",
        args.join(" "),
        said.trim()
    )))
}
