//! Putting a generated workspace on disk: the generation gap, the manifest, `--check`,
//! `--dry-run`, and an all-or-nothing commit.
//!
//! A run never leaves a mix of old and new generated files. Into a missing directory, the
//! whole tree is written beside it and renamed into place. Into an existing one (which holds user-owned files, `target/`, perhaps the shell that runs us, so it
//! cannot be swapped), the new files are staged in `.ddd/stage-*/` and the run commits by
//! renaming a journal of the moves to [`JOURNAL`]; the moves follow. A run interrupted
//! before the commit changed nothing; one interrupted after it is completed from the
//! journal by the next `ddd generate` before anything else (the staged files are the new
//! contents, and every step of the journal can be redone).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{File, Owner, parallel};

/// Where the manifest lives, relative to the output directory.
pub const MANIFEST: &str = ".ddd/manifest.json";

/// A committed run whose moves are not all done yet, relative to the output directory.
pub const JOURNAL: &str = ".ddd/pending.json";

/// Staging directories are `.ddd/stage-*`: inside the output directory, so that staged
/// files move into place by renames on one file system.
const STAGE_PREFIX: &str = "stage-";

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
    #[error(
        "the directory has files where generated ones go but no manifest of an earlier `ddd generate` (made by cargo-generate, copied, or written by hand?), so whether a person changed them cannot be told; they differ from what the model gives (use --force to replace them, and the manifest keeps track from then on):\n{}",
        list(.0)
    )]
    Unmanaged(Vec<PathBuf>),
    #[error("the generated files are out of date:\n{}", list(.0))]
    Stale(Vec<PathBuf>),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{}: an interrupted `ddd generate` left this journal of its changes; run `ddd generate` (without --check or --dry-run) to complete them",
        .0.display()
    )]
    Pending(PathBuf),
    #[error("{}: unreadable journal of an interrupted run ({source}); remove it and the `.ddd/stage-*` directories, then generate again", path.display())]
    Journal {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
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
    use std::fmt::Write as _;
    Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

fn key(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Compares `files` with `dir` and, in [`Mode::Write`], brings `dir` up to date.
pub fn write(dir: &Path, files: &[File], mode: Mode, force: bool) -> Result<Report, WriteError> {
    write_until(dir, files, mode, force, usize::MAX)
}

/// [`write`], stopping after `limit` moves as an interruption would.
fn write_until(
    dir: &Path,
    files: &[File],
    mode: Mode,
    force: bool,
    limit: usize,
) -> Result<Report, WriteError> {
    if mode == Mode::Write {
        recover(dir)?;
    } else if dir.join(JOURNAL).exists() {
        return Err(WriteError::Pending(dir.join(JOURNAL)));
    }
    let manifest_path = dir.join(MANIFEST);
    let manifest = std::fs::read_to_string(&manifest_path).ok();
    let managed = manifest.is_some();
    let old: Manifest = manifest
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let mut report = Report::default();
    let mut edited = Vec::new();
    let mut new = Manifest {
        generator: format!("ddd {}", env!("CARGO_PKG_VERSION")),
        files: BTreeMap::new(),
    };
    let compared = parallel::map(files, |file| {
        let existing = std::fs::read_to_string(dir.join(&file.path)).ok();
        let (action, edited) = match (file.owner, &existing) {
            (Owner::User, Some(_)) => (Action::Keep, false),
            (_, None) => (Action::Create, false),
            (Owner::Generated, Some(text)) if *text == file.contents => (Action::Unchanged, false),
            (Owner::Generated, Some(text)) => (
                Action::Update,
                old.files.get(&key(&file.path)) != Some(&sha256(text)),
            ),
        };
        let hash = (file.owner == Owner::Generated).then(|| sha256(&file.contents));
        (action, edited, hash)
    });
    for (file, (action, was_edited, hash)) in files.iter().zip(compared) {
        if was_edited {
            edited.push(file.path.clone());
        }
        if let Some(hash) = hash {
            new.files.insert(key(&file.path), hash);
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
            let mut stale: Vec<PathBuf> = report.changes().map(|(p, _)| p.clone()).collect();
            // Files brought up to date some other way (copied in, checked out) leave the
            // manifest behind, and the next `generate` would take them for hand edits.
            if managed && old.files != new.files {
                stale.push(PathBuf::from(MANIFEST));
            }
            return if stale.is_empty() {
                Ok(report)
            } else {
                Err(WriteError::Stale(stale))
            };
        }
        Mode::Write => {}
    }
    if !edited.is_empty() && !force {
        return Err(if managed {
            WriteError::Edited(edited)
        } else {
            WriteError::Unmanaged(edited)
        });
    }
    commit(dir, files, &report, &new, limit)?;
    Ok(report)
}

/// The moves of a committed run, in order (the manifest last).
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    /// The staging directory, relative to the output directory.
    stage: String,
    /// Generated files that the model no longer produces.
    remove: Vec<String>,
    moves: Vec<Move>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Move {
    /// The staged file, in the staging directory.
    from: String,
    to: String,
    /// A user-owned file: moved only if there is still nothing at `to`.
    user: bool,
}

/// Brings `dir` to `files`: see the module's documentation.
fn commit(
    dir: &Path,
    files: &[File],
    report: &Report,
    manifest: &Manifest,
    limit: usize,
) -> Result<(), WriteError> {
    let manifest_text = serde_json::to_string_pretty(manifest).unwrap_or_default() + "\n";
    let staged: Vec<(&Path, &str, bool)> = files
        .iter()
        .zip(&report.actions)
        .filter(|(_, (_, action))| matches!(action, Action::Create | Action::Update))
        .map(|(file, _)| {
            (
                file.path.as_path(),
                file.contents.as_str(),
                file.owner == Owner::User,
            )
        })
        .chain(std::iter::once((
            Path::new(MANIFEST),
            manifest_text.as_str(),
            false,
        )))
        .collect();
    // A directory that exists may be a shell's working directory: it is never replaced.
    if std::fs::symlink_metadata(dir).is_err() {
        return create(dir, &staged);
    }
    let state = dir.join(".ddd");
    std::fs::create_dir_all(&state).map_err(io(&state))?;
    let stage = tempfile::Builder::new()
        .prefix(STAGE_PREFIX)
        .tempdir_in(&state)
        .map_err(io(&state))?;
    let numbered: Vec<(usize, &(&Path, &str, bool))> = staged.iter().enumerate().collect();
    let moves = parallel::map(&numbered, |(index, (path, contents, user))| {
        let name = index.to_string();
        let target = stage.path().join(&name);
        std::fs::write(&target, contents).map_err(io(&target))?;
        Ok(Move {
            from: name,
            to: key(path),
            user: *user,
        })
    })
    .into_iter()
    .collect::<Result<Vec<Move>, WriteError>>()?;
    let journal = Journal {
        stage: key(stage.path().strip_prefix(dir).unwrap_or(stage.path())),
        remove: report
            .actions
            .iter()
            .filter(|(_, action)| *action == Action::Remove)
            .map(|(path, _)| key(path))
            .collect(),
        moves,
    };
    // From here on the staged files belong to the journal: an error must not delete them.
    let _ = stage.keep();
    write_durably(
        &dir.join(JOURNAL),
        &serde_json::to_string(&journal).unwrap_or_default(),
    )?;
    apply(dir, &journal, limit)
}

/// A missing directory: the whole tree beside it, then one rename.
fn create(dir: &Path, staged: &[(&Path, &str, bool)]) -> Result<(), WriteError> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let stage = tempfile::Builder::new()
        .prefix(".ddd-generate-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    parallel::map(staged, |(path, contents, _)| {
        let target = stage.path().join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&target, contents).map_err(io(&target))
    })
    .into_iter()
    .collect::<Result<(), WriteError>>()?;
    std::fs::rename(stage.path(), dir).map_err(io(dir))?;
    let _ = stage.keep();
    Ok(())
}

/// Writes `files` into `dir`, which must be missing or empty (`ddd new`): everything is
/// written beside it first, so an interrupted run leaves no half-made crate in `dir`.
pub fn scaffold(dir: &Path, files: &[File]) -> Result<(), WriteError> {
    let staged: Vec<(&Path, &str, bool)> = files
        .iter()
        .map(|f| (f.path.as_path(), f.contents.as_str(), true))
        .collect();
    if std::fs::symlink_metadata(dir).is_err() {
        return create(dir, &staged);
    }
    // An empty directory that exists may be a shell's working directory: its entries move
    // in, it is not replaced.
    let dir = std::fs::canonicalize(dir).map_err(io(dir))?;
    let stage = dir.with_file_name(format!(
        ".ddd-new-{}",
        dir.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    ));
    create(&stage, &staged)?;
    let entries = std::fs::read_dir(&stage).map_err(io(&stage))?;
    for entry in entries {
        let entry = entry.map_err(io(&stage))?;
        let to = dir.join(entry.file_name());
        std::fs::rename(entry.path(), &to).map_err(io(&to))?;
    }
    std::fs::remove_dir(&stage).map_err(io(&stage))
}

/// The journal's file, renamed into place: it exists whole or not at all.
fn write_durably(path: &Path, text: &str) -> Result<(), WriteError> {
    use std::io::Write as _;
    let partial = path.with_extension("json.partial");
    let mut file = std::fs::File::create(&partial).map_err(io(&partial))?;
    file.write_all(text.as_bytes()).map_err(io(&partial))?;
    file.sync_all().map_err(io(&partial))?;
    std::fs::rename(&partial, path).map_err(io(path))
}

/// Completes a run that an interruption left behind, and clears stages that never
/// committed.
fn recover(dir: &Path) -> Result<(), WriteError> {
    let path = dir.join(JOURNAL);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let journal: Journal =
            serde_json::from_str(&text).map_err(|source| WriteError::Journal {
                path: path.clone(),
                source,
            })?;
        apply(dir, &journal, usize::MAX)?;
    }
    let state = dir.join(".ddd");
    let Ok(entries) = std::fs::read_dir(&state) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(STAGE_PREFIX) {
            std::fs::remove_dir_all(entry.path()).map_err(io(&entry.path()))?;
        }
    }
    let _ = std::fs::remove_file(state.join("pending.json.partial"));
    Ok(())
}

/// Does the journal's steps, each of which can be done again: a removed file stays
/// removed, a staged file that is gone was moved already. `limit` stops after that many
/// moves (tests interrupt a run with it).
fn apply(dir: &Path, journal: &Journal, limit: usize) -> Result<(), WriteError> {
    for path in &journal.remove {
        let target = dir.join(path);
        match std::fs::remove_file(&target) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(io(&target)(error));
            }
            _ => {}
        }
    }
    let stage = dir.join(&journal.stage);
    for step in journal.moves.iter().take(limit) {
        let from = stage.join(&step.from);
        let to = dir.join(&step.to);
        if !from.exists() || (step.user && to.exists()) {
            continue;
        }
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::rename(&from, &to).map_err(io(&to))?;
    }
    if limit < journal.moves.len() {
        return Ok(());
    }
    let journal_path = dir.join(JOURNAL);
    std::fs::remove_file(&journal_path).map_err(io(&journal_path))?;
    // Only staged files of user-owned files that exist already are left.
    let _ = std::fs::remove_dir_all(&stage);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, contents: &str, owner: Owner) -> File {
        File {
            path: PathBuf::from(path),
            contents: contents.to_owned(),
            owner,
        }
    }

    fn version(n: u32) -> Vec<File> {
        let mut files = vec![
            file("Cargo.toml", &format!("# v{n}\n"), Owner::Generated),
            file("a/src/lib.rs", &format!("// v{n}\n"), Owner::Generated),
            file("a/src/mine.rs", &format!("// yours v{n}\n"), Owner::User),
        ];
        if n > 1 {
            files.push(file("b/src/lib.rs", "// new in v2\n", Owner::Generated));
        } else {
            files.push(file("old.rs", "// only in v1\n", Owner::Generated));
        }
        files
    }

    fn read(dir: &Path, path: &str) -> Option<String> {
        std::fs::read_to_string(dir.join(path)).ok()
    }

    fn stages(dir: &Path) -> usize {
        std::fs::read_dir(dir.join(".ddd")).map_or(0, |entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(STAGE_PREFIX))
                .count()
        })
    }

    #[test]
    fn differing_files_without_a_manifest_are_kept_until_forced() {
        let root = tempfile::tempdir().expect("a directory");
        let dir = root.path().join("out");
        std::fs::create_dir_all(dir.join("a/src")).expect("a directory");
        std::fs::write(dir.join("a/src/lib.rs"), "// from a template\n").expect("a file");
        let error = write(&dir, &version(1), Mode::Write, false).expect_err("refused");
        assert!(
            matches!(&error, WriteError::Unmanaged(paths) if paths == &[PathBuf::from("a/src/lib.rs")]),
            "{error}"
        );
        assert_eq!(
            read(&dir, "a/src/lib.rs").as_deref(),
            Some("// from a template\n")
        );
        assert!(!dir.join(MANIFEST).exists());
        write(&dir, &version(1), Mode::Write, true).expect("forced");
        assert_eq!(read(&dir, "a/src/lib.rs").as_deref(), Some("// v1\n"));
        write(&dir, &version(1), Mode::Check, false).expect("up to date, and managed");
    }

    #[test]
    fn a_manifest_left_behind_by_its_files_is_stale() {
        let root = tempfile::tempdir().expect("a directory");
        let dir = root.path().join("out");
        write(&dir, &version(1), Mode::Write, false).expect("v1");
        // The next generation's file put in place some other way, byte for byte.
        let mut next = version(1);
        next[1] = file("a/src/lib.rs", "// v1, changed\n", Owner::Generated);
        std::fs::write(dir.join("a/src/lib.rs"), "// v1, changed\n").expect("a copied file");
        let stale = write(&dir, &next, Mode::Check, false);
        assert!(
            matches!(&stale, Err(WriteError::Stale(paths)) if paths == &[PathBuf::from(MANIFEST)]),
            "{stale:?}"
        );
        write(&dir, &next, Mode::Write, false).expect("the manifest catches up");
        write(&dir, &next, Mode::Check, false).expect("up to date");
    }

    #[test]
    fn a_new_directory_appears_whole_and_nothing_is_left_beside_it() {
        let root = tempfile::tempdir().expect("a directory");
        let dir = root.path().join("out");
        write(&dir, &version(1), Mode::Write, false).expect("written");
        assert_eq!(read(&dir, "a/src/lib.rs").as_deref(), Some("// v1\n"));
        assert!(dir.join(MANIFEST).is_file());
        let beside: Vec<_> = std::fs::read_dir(root.path())
            .expect("the parent")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(beside, ["out"]);
    }

    #[test]
    fn an_interrupted_run_is_completed_by_the_next_and_user_files_survive() {
        let root = tempfile::tempdir().expect("a directory");
        let dir = root.path().join("out");
        write(&dir, &version(1), Mode::Write, false).expect("v1");
        std::fs::write(dir.join("a/src/mine.rs"), "// edited by a person\n").expect("edit");
        std::fs::create_dir_all(dir.join("target")).expect("a build directory");
        std::fs::write(dir.join("target/keep"), "built").expect("a build output");

        // Interrupted after the commit point and one move: the next run sees the journal.
        write_until(&dir, &version(2), Mode::Write, false, 1).expect("v2, interrupted");
        assert!(dir.join(JOURNAL).is_file());
        assert_eq!(read(&dir, "Cargo.toml").as_deref(), Some("# v2\n"));
        assert_eq!(read(&dir, "a/src/lib.rs").as_deref(), Some("// v1\n"));
        let pending = write(&dir, &version(2), Mode::Check, false);
        assert!(
            matches!(pending, Err(WriteError::Pending(_))),
            "{pending:?}"
        );

        // Any next run completes the interrupted one before comparing.
        let report = write(&dir, &version(2), Mode::Write, false).expect("recovered");
        assert_eq!(report.changes().count(), 0, "{:?}", report.actions);
        assert_eq!(read(&dir, "a/src/lib.rs").as_deref(), Some("// v2\n"));
        assert_eq!(
            read(&dir, "b/src/lib.rs").as_deref(),
            Some("// new in v2\n")
        );
        assert_eq!(read(&dir, "old.rs"), None);
        assert_eq!(
            read(&dir, "a/src/mine.rs").as_deref(),
            Some("// edited by a person\n")
        );
        assert_eq!(read(&dir, "target/keep").as_deref(), Some("built"));
        assert!(!dir.join(JOURNAL).exists());
        assert_eq!(stages(&dir), 0);
        let manifest = read(&dir, MANIFEST).expect("a manifest");
        assert!(manifest.contains("b/src/lib.rs") && !manifest.contains("old.rs"));
    }

    #[test]
    fn a_run_interrupted_before_its_commit_changed_nothing() {
        let root = tempfile::tempdir().expect("a directory");
        let dir = root.path().join("out");
        write(&dir, &version(1), Mode::Write, false).expect("v1");
        // What a run killed while staging leaves: staged files, no journal.
        let stage = dir.join(".ddd").join(format!("{STAGE_PREFIX}killed"));
        std::fs::create_dir_all(&stage).expect("a stage");
        std::fs::write(stage.join("0"), "// half of v2\n").expect("a staged file");
        let report = write(&dir, &version(1), Mode::DryRun, false).expect("compared");
        assert_eq!(report.changes().count(), 0, "{:?}", report.actions);
        assert_eq!(read(&dir, "a/src/lib.rs").as_deref(), Some("// v1\n"));

        write(&dir, &version(2), Mode::Write, false).expect("v2");
        assert_eq!(stages(&dir), 0);
        assert_eq!(read(&dir, "a/src/lib.rs").as_deref(), Some("// v2\n"));
    }

    #[test]
    fn an_unreadable_journal_is_reported_not_guessed() {
        let root = tempfile::tempdir().expect("a directory");
        let dir = root.path().join("out");
        write(&dir, &version(1), Mode::Write, false).expect("v1");
        std::fs::write(dir.join(JOURNAL), "{ not json").expect("a broken journal");
        let error = write(&dir, &version(2), Mode::Write, false).expect_err("refused");
        assert!(error.to_string().contains("pending.json"), "{error}");
        assert_eq!(read(&dir, "a/src/lib.rs").as_deref(), Some("// v1\n"));
    }
}
