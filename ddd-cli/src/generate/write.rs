//! Putting a generated workspace on disk: the generation gap, the manifest, `--check`,
//! `--dry-run`, and staging everything before anything is replaced.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{File, Owner};

/// Where the manifest lives, relative to the output directory.
pub const MANIFEST: &str = ".ddd/manifest.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    /// Change nothing; fail when a generated file would change.
    Check,
    /// Change nothing; say what would change.
    DryRun,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Create,
    Update,
    Remove,
    Unchanged,
    /// A user-owned file that exists: left alone.
    Keep,
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Remove => "remove",
            Action::Unchanged => "unchanged",
            Action::Keep => "keep (yours)",
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub actions: Vec<(PathBuf, Action)>,
}

impl Report {
    pub fn changes(&self) -> impl Iterator<Item = &(PathBuf, Action)> {
        self.actions
            .iter()
            .filter(|(_, a)| matches!(a, Action::Create | Action::Update | Action::Remove))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "generated file(s) edited by hand, not overwritten (move your change to a user-owned file, or use --force):\n{}",
        list(.0)
    )]
    Edited(Vec<PathBuf>),
    #[error("the generated files are out of date:\n{}", list(.0))]
    Stale(Vec<PathBuf>),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("rustfmt failed on the generated code: {0}")]
    Format(String),
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("  {}", p.display()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    generator: String,
    /// Generated files and the SHA-256 of what was written.
    files: BTreeMap<String, String>,
}

pub fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn key(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Formats the Rust files with `rustfmt` (edition 2024), so that the output passes
/// `cargo fmt --check` whatever the templates' layout. Without rustfmt, nothing changes.
pub fn format(files: &mut [File]) -> Result<bool, WriteError> {
    if Command::new("rustfmt").arg("--version").output().is_err() {
        return Ok(false);
    }
    let stage = tempfile::tempdir().map_err(io(Path::new("temporary directory")))?;
    let mut rust: Vec<(usize, PathBuf)> = Vec::new();
    for (index, file) in files.iter().enumerate() {
        if file.path.extension().is_some_and(|e| e == "rs") {
            // The real layout, so that rustfmt finds the modules that files declare.
            let path = stage.path().join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&path, &file.contents).map_err(io(&path))?;
            rust.push((index, path));
        }
    }
    for chunk in rust.chunks(256) {
        let output = Command::new("rustfmt")
            .args(["--edition", "2024"])
            .args(chunk.iter().map(|(_, p)| p))
            .output()
            .map_err(io(Path::new("rustfmt")))?;
        if !output.status.success() {
            return Err(WriteError::Format(
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
    }
    for (index, path) in rust {
        files[index].contents = std::fs::read_to_string(&path).map_err(io(&path))?;
    }
    Ok(true)
}

/// Compares `files` with `dir` and, in [`Mode::Write`], brings `dir` up to date.
pub fn write(dir: &Path, files: &[File], mode: Mode, force: bool) -> Result<Report, WriteError> {
    let manifest_path = dir.join(MANIFEST);
    let old: Manifest = std::fs::read_to_string(&manifest_path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let mut report = Report::default();
    let mut edited = Vec::new();
    let mut new = Manifest {
        generator: format!("ddd {}", env!("CARGO_PKG_VERSION")),
        files: BTreeMap::new(),
    };
    for file in files {
        let target = dir.join(&file.path);
        let existing = std::fs::read_to_string(&target).ok();
        let action = match (file.owner, &existing) {
            (Owner::User, Some(_)) => Action::Keep,
            (_, None) => Action::Create,
            (Owner::Generated, Some(text)) if *text == file.contents => Action::Unchanged,
            (Owner::Generated, Some(text)) => {
                if old.files.get(&key(&file.path)) != Some(&sha256(text)) {
                    edited.push(file.path.clone());
                }
                Action::Update
            }
        };
        if file.owner == Owner::Generated {
            new.files.insert(key(&file.path), sha256(&file.contents));
        }
        report.actions.push((file.path.clone(), action));
    }
    for (path, hash) in &old.files {
        if new.files.contains_key(path) {
            continue;
        }
        let target = dir.join(path);
        if let Ok(text) = std::fs::read_to_string(&target) {
            if sha256(&text) != *hash {
                edited.push(PathBuf::from(path));
            }
            report.actions.push((PathBuf::from(path), Action::Remove));
        }
    }
    match mode {
        Mode::DryRun => return Ok(report),
        Mode::Check => {
            let stale: Vec<PathBuf> = report.changes().map(|(p, _)| p.clone()).collect();
            return if stale.is_empty() {
                Ok(report)
            } else {
                Err(WriteError::Stale(stale))
            };
        }
        Mode::Write => {}
    }
    if !edited.is_empty() && !force {
        return Err(WriteError::Edited(edited));
    }
    commit(dir, files, &report, &new)?;
    Ok(report)
}

/// Stages every new or changed file next to `dir` first, then moves them into place, the
/// manifest last: a failure before the moves leaves `dir` as it was.
fn commit(
    dir: &Path,
    files: &[File],
    report: &Report,
    manifest: &Manifest,
) -> Result<(), WriteError> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let stage = tempfile::Builder::new()
        .prefix(".ddd-generate-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    let mut moves = Vec::new();
    let manifest_text = serde_json::to_string_pretty(manifest).unwrap_or_default() + "\n";
    let staged = files
        .iter()
        .zip(&report.actions)
        .filter(|(_, (_, action))| matches!(action, Action::Create | Action::Update))
        .map(|(file, _)| (file.path.clone(), file.contents.as_str()))
        .chain(std::iter::once((
            PathBuf::from(MANIFEST),
            manifest_text.as_str(),
        )));
    for (index, (path, contents)) in staged.enumerate() {
        let staged = stage.path().join(format!("{index}"));
        std::fs::write(&staged, contents).map_err(io(&staged))?;
        moves.push((staged, dir.join(path)));
    }
    for (path, action) in &report.actions {
        if *action == Action::Remove {
            let target = dir.join(path);
            std::fs::remove_file(&target).map_err(io(&target))?;
        }
    }
    for (from, to) in moves {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::rename(&from, &to).map_err(io(&to))?;
    }
    Ok(())
}
