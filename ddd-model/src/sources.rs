//! A model read from files: a root `.ddd` file and the files it imports, one model.
//!
//! `import "catalog.ddd"` names a file relative to the importing one. Every file is read once,
//! however many files import it, and gets a range of its own in one offset space, so a
//! [`Span`] alone tells which file it is in: [`Sources`] maps it back to the file and the
//! range in it, which is what diagnostics render from. The items of all files are merged into
//! one syntax tree (the root's first, then the imported files in the order they are met,
//! depth first), lowered and checked once: the model equals the one written in a single file.
//!
//! What a model of several files may say:
//! - `system` stands in the root only, as its first item; an imported file that declares one
//!   is an error there. An `import` may stand anywhere after `system`: where changes nothing.
//! - Every file sees every name of the model, whether it imports the file that defines it or
//!   not: imports only say which files make the model.
//! - An import cycle is an error at the import that closes it. The files in it are part of
//!   the model all the same, so the rest of the model is checked.
//! - Only `.ddd` files are imported: a JSON or YAML model is always one file.
//! - A file that cannot be read (missing, not UTF-8) leaves the model incomplete: its errors
//!   and the syntax errors are reported, not the unknown names it would cause elsewhere.
//!
//! Paths are normalized as text (`a/./b/../c.ddd` is `a/c.ddd`), so one file named two ways
//! is still read once; a symbolic link followed by `..` is therefore not what the OS makes
//! of it.
//!
//! The files come from a loader ([`load`]), so the model is read the same from a disk, from
//! memory or in a test; [`load_file`] reads from the file system.

use std::collections::HashMap;
use std::io;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use crate::ast::{self, ImportDecl, Item};
use crate::diagnostic::{self, Code, Diagnostic};
use crate::name::Span;
use crate::read::{self, Format, Loaded, MAX_INPUT_BYTES, Rejected};
use crate::{lower, parser};

/// The texts of a model, each at its base offset of the one offset space its spans are in.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<Source>,
}

/// One file of a model.
#[derive(Debug, Clone)]
pub struct Source {
    path: PathBuf,
    name: String,
    base: u32,
    text: String,
}

impl Source {
    /// The normalized path it was read from (the root's as given).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How diagnostics name it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it starts in the model's offset space.
    pub fn base(&self) -> u32 {
        self.base
    }

    /// Its text (with U+FFFD in place of bytes that are not UTF-8).
    pub fn text(&self) -> &str {
        &self.text
    }

    fn end(&self) -> usize {
        self.base as usize + self.text.len()
    }
}

impl Sources {
    /// One text at offset 0: what a model read from a single text points into.
    pub fn single(name: impl Into<String>, text: impl Into<String>) -> Sources {
        let name = name.into();
        Sources {
            files: vec![Source {
                path: PathBuf::from(&name),
                name,
                base: 0,
                text: text.into(),
            }],
        }
    }

    /// Renames every file, for diagnostics that must tell where a model was read from
    /// (`git:main:shop.ddd` rather than the `shop.ddd` the loader was asked for).
    pub fn rename(&mut self, name: impl Fn(&Source) -> String) {
        for file in &mut self.files {
            file.name = name(file);
        }
    }

    /// The root first, then the imported files in the order they were met.
    pub fn files(&self) -> &[Source] {
        &self.files
    }

    pub fn root(&self) -> Option<&Source> {
        self.files.first()
    }

    /// The index (in [`Sources::files`]) of the file a span is in, and the span's range in
    /// that file's text; `None` for a span no file holds whole, or that splits a character.
    pub fn locate(&self, span: Span) -> Option<(usize, Range<usize>)> {
        let index = self
            .files
            .partition_point(|file| file.base <= span.start)
            .checked_sub(1)?;
        let file = &self.files[index];
        if span.end < span.start || span.end as usize > file.end() {
            return None;
        }
        let range = (span.start - file.base) as usize..(span.end - file.base) as usize;
        let fits = file.text.is_char_boundary(range.start) && file.text.is_char_boundary(range.end);
        fits.then_some((index, range))
    }

    /// The source text of a span.
    pub fn text(&self, span: Span) -> Option<&str> {
        let (index, range) = self.locate(span)?;
        Some(&self.files[index].text[range])
    }

    /// The file's name and the 1-based line and column (in characters) of a diagnostic's
    /// primary span.
    pub fn line_col(&self, diagnostic: &Diagnostic) -> Option<(&str, usize, usize)> {
        self.position(diagnostic.location.as_ref()?.span?)
    }

    /// The file's name and the 1-based line and column (in characters) where a span starts.
    pub fn position(&self, span: Span) -> Option<(&str, usize, usize)> {
        let (index, range) = self.locate(span)?;
        let file = &self.files[index];
        let (line, column) = diagnostic::line_col(&file.text, range.start);
        Some((&file.name, line, column))
    }

    /// Line starts of every file, for locating many spans: [`Sources::position`] scans a
    /// file from its start each time.
    pub fn line_index(&self) -> LineIndex<'_> {
        let starts = self
            .files
            .iter()
            .map(|file| {
                let newlines = file.text.match_indices('\n').map(|(at, _)| at + 1);
                std::iter::once(0).chain(newlines).collect()
            })
            .collect();
        LineIndex {
            sources: self,
            starts,
        }
    }

    /// Adds a file after the others; `None` when the model would grow too large for 32-bit
    /// spans. One offset between files keeps a span at the very end of a file (where a
    /// missing `}` is reported) from being taken for the start of the next.
    fn push(&mut self, path: PathBuf, name: String, text: String) -> Option<u32> {
        let base = self.files.last().map_or(0, |file| file.end() + 1);
        if base + text.len() > MAX_INPUT_BYTES {
            return None;
        }
        let base = u32::try_from(base).ok()?;
        self.files.push(Source {
            path,
            name,
            base,
            text,
        });
        Some(base)
    }
}

/// Where the lines of a model's files start (see [`Sources::line_index`]).
#[derive(Debug)]
pub struct LineIndex<'a> {
    sources: &'a Sources,
    /// By file: the byte offset of each line's start.
    starts: Vec<Vec<usize>>,
}

impl LineIndex<'_> {
    /// [`Sources::position`], in the time of a binary search and the line's length.
    pub fn position(&self, span: Span) -> Option<(&str, usize, usize)> {
        let (index, range) = self.sources.locate(span)?;
        let file = &self.sources.files[index];
        let starts = &self.starts[index];
        let line = starts.partition_point(|&start| start <= range.start);
        let line_start = starts[line - 1];
        let column = file.text[line_start..range.start].chars().count() + 1;
        Some((&file.name, line, column))
    }
}

/// A model read from files: what it was read from, to render diagnostics against, and the
/// checked model or its errors.
#[derive(Debug)]
pub struct Outcome {
    pub sources: Sources,
    pub result: Result<Loaded, Rejected>,
}

/// Reads the model whose root file is `root`, and the files it imports, through `loader`;
/// checks it like [`crate::load`]. `loader` is called first for `root`, then once for each
/// imported file, with the import's path joined to the importing file's directory and
/// normalized (relative when `root` is). `Err` only when the root cannot be read: an imported
/// file that cannot is an error of the model, at its `import`.
pub fn load<T: Into<Vec<u8>>>(
    root: &Path,
    format: Format,
    mut loader: impl FnMut(&Path) -> io::Result<T>,
) -> io::Result<Outcome> {
    let bytes = loader(root)?.into();
    let mut reader = Reader {
        loader,
        sources: Sources::default(),
        parsed: Vec::new(),
        imported_at: Vec::new(),
        by_path: HashMap::new(),
        imports: HashMap::new(),
        diagnostics: Vec::new(),
        complete: true,
    };
    let name = root.display().to_string();
    let Some(index) = reader.add(root.to_path_buf(), name, bytes, None, format) else {
        return Ok(reader.finish(None));
    };
    if format != Format::Ddd {
        let system = if reader.complete {
            let (system, diagnostics) = read::read(reader.sources.files[index].text(), format);
            reader.diagnostics.extend(diagnostics);
            system
        } else {
            None
        };
        return Ok(reader.finish(system));
    }
    reader.walk();
    let file = reader.merge();
    let (system, diagnostics) = lower::lower(&file, &|span| {
        reader.sources.text(span).unwrap_or_default().to_owned()
    });
    reader.diagnostics.extend(diagnostics);
    let system = reader.complete.then_some(system);
    Ok(reader.finish(system))
}

/// [`load`] from the file system.
pub fn load_file(root: &Path, format: Format) -> io::Result<Outcome> {
    load(root, format, |path| std::fs::read(path))
}

struct Reader<L> {
    loader: L,
    sources: Sources,
    /// By file index; an unreadable file's is empty.
    parsed: Vec<ast::File>,
    /// The `import` that brought each file in (none for the root).
    imported_at: Vec<Option<Span>>,
    /// Normalized path → file index; `None` for a file that could not be read, so that it is
    /// neither read nor reported again.
    by_path: HashMap<PathBuf, Option<usize>>,
    /// (importing file, imported file) → the first `import` between them.
    imports: HashMap<(usize, usize), Span>,
    diagnostics: Vec<Diagnostic>,
    /// Every file was read; otherwise the model is not checked.
    complete: bool,
}

impl<T: Into<Vec<u8>>, L: FnMut(&Path) -> io::Result<T>> Reader<L> {
    /// Adds a file and parses it (a `.ddd` one, when it is UTF-8); its index.
    fn add(
        &mut self,
        path: PathBuf,
        name: String,
        bytes: Vec<u8>,
        imported_at: Option<Span>,
        format: Format,
    ) -> Option<usize> {
        let (text, utf8_error) = match String::from_utf8(bytes) {
            Ok(text) => (text, None),
            Err(error) => {
                let utf8_error = error.utf8_error();
                let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
                (text, Some(utf8_error))
            }
        };
        let Some(base) = self.sources.push(path.clone(), name, text) else {
            let message = format!("the model is larger than {} MiB", MAX_INPUT_BYTES >> 20);
            self.report_incomplete(match imported_at {
                Some(span) => Diagnostic::error(Code::Import, message)
                    .at(span)
                    .with_label("this file makes it too large"),
                None => Diagnostic::error(Code::Syntax, message),
            });
            return None;
        };
        let index = self.sources.files.len() - 1;
        self.by_path.insert(normalize(&path), Some(index));
        self.imported_at.push(imported_at);
        let file = match utf8_error {
            Some(error) => {
                let mut diagnostic = read::not_utf8(&error);
                diagnostic.shift(base);
                self.report_incomplete(diagnostic);
                ast::File::default()
            }
            None if format == Format::Ddd => {
                let (file, diagnostics) = parser::parse_at(self.sources.files[index].text(), base);
                self.diagnostics.extend(diagnostics);
                file
            }
            None => ast::File::default(),
        };
        self.parsed.push(file);
        Some(index)
    }

    /// Follows the imports depth first, from the root; a file is read when first met.
    fn walk(&mut self) {
        // (file, index of the next item to look at): the chain of imports being followed.
        let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
        while let Some(&(file, next)) = stack.last() {
            let Some((at, import)) = self.next_import(file, next) else {
                stack.pop();
                continue;
            };
            if let Some(top) = stack.last_mut() {
                top.1 = at + 1;
            }
            if let Some(index) = self.follow(file, &import, &stack) {
                stack.push((index, 0));
            }
        }
    }

    /// The first `import` of `file` from its item `next` on, with its index.
    fn next_import(&self, file: usize, next: usize) -> Option<(usize, ImportDecl)> {
        let mut items = self.parsed[file].items.iter().enumerate().skip(next);
        items.find_map(|(at, item)| match item {
            Item::Import(import) => Some((at, import.clone())),
            _ => None,
        })
    }

    /// Resolves one import of `from`; the index of a file read for the first time.
    fn follow(
        &mut self,
        from: usize,
        import: &ImportDecl,
        stack: &[(usize, usize)],
    ) -> Option<usize> {
        let written = Path::new(&import.path);
        if Format::from_path(written) != Some(Format::Ddd) {
            self.report_incomplete(
                Diagnostic::error(Code::Import, format!("cannot import `{}`", import.path))
                    .at(import.span)
                    .with_label("not a `.ddd` file")
                    .with_help(
                        "only `.ddd` files are imported: a JSON or YAML model is a whole model",
                    ),
            );
            return None;
        }
        let directory = self.sources.files[from]
            .path
            .parent()
            .unwrap_or(Path::new(""));
        let path = normalize(&directory.join(written));
        match self.by_path.get(&path) {
            Some(Some(known)) => {
                let known = *known;
                self.known(from, known, import.span, stack);
                None
            }
            Some(None) => None,
            None => self.read(from, path, import.span),
        }
    }

    /// An import of a file already read: a cycle, the same import twice, or nothing to say.
    fn known(&mut self, from: usize, known: usize, span: Span, stack: &[(usize, usize)]) {
        if let Some(start) = stack.iter().position(|&(file, _)| file == known) {
            self.diagnostics.push(self.cycle(&stack[start..], span));
            return;
        }
        if let Some(&first) = self.imports.get(&(from, known)) {
            let name = &self.sources.files[known].name;
            self.diagnostics.push(
                Diagnostic::warning(Code::Import, format!("`{name}` is imported twice"))
                    .at(span)
                    .with_label("imported again")
                    .with_related(Some(first.into()), "first imported here")
                    .with_help("remove this `import`: a file is read once"),
            );
            return;
        }
        self.imports.insert((from, known), span);
    }

    /// The error of an import that closes a cycle: `chain` runs from the file imported again
    /// to the one importing it.
    fn cycle(&self, chain: &[(usize, usize)], span: Span) -> Diagnostic {
        let name = |file: usize| format!("`{}`", self.sources.files[file].name);
        let (first, _) = chain[0];
        let message = match chain {
            [_] => format!("{} imports itself", name(first)),
            _ => {
                let names: Vec<String> = chain.iter().map(|&(file, _)| name(file)).collect();
                format!("import cycle: {} → {}", names.join(" → "), name(first))
            }
        };
        let mut diagnostic = Diagnostic::error(Code::Import, message)
            .at(span)
            .with_label("closes the cycle")
            .with_help(
                "remove this `import`: every file sees the names of the whole model, so the \
                 root's imports are enough",
            );
        for &(file, _) in &chain[1..] {
            let imported_at = self.imported_at[file].map(Into::into);
            diagnostic =
                diagnostic.with_related(imported_at, format!("{} imported here", name(file)));
        }
        diagnostic
    }

    /// Reads a file met for the first time.
    fn read(&mut self, from: usize, path: PathBuf, span: Span) -> Option<usize> {
        match (self.loader)(&path) {
            Ok(bytes) => {
                let name = path.display().to_string();
                let index = self.add(path.clone(), name, bytes.into(), Some(span), Format::Ddd);
                match index {
                    Some(index) => {
                        self.imports.insert((from, index), span);
                    }
                    None => {
                        self.by_path.insert(path, None);
                    }
                }
                index
            }
            Err(error) => {
                self.report_incomplete(
                    Diagnostic::error(Code::Import, format!("cannot read `{}`", path.display()))
                        .at(span)
                        .with_label("imported here")
                        .with_note(error.to_string()),
                );
                self.by_path.insert(path, None);
                None
            }
        }
    }

    /// The items of every file in one tree; a `system` outside the root is reported, not kept.
    fn merge(&mut self) -> ast::File {
        let mut items = Vec::new();
        let root = self.sources.files[0].name.clone();
        for (index, file) in std::mem::take(&mut self.parsed).into_iter().enumerate() {
            for item in file.items {
                match item {
                    Item::System(decl) if index > 0 => {
                        let imported_at = self.imported_at[index].map(Into::into);
                        self.diagnostics.push(
                            Diagnostic::error(
                                Code::SystemPlacement,
                                "`system` in an imported file",
                            )
                            .at(decl.keyword)
                            .with_label("only the root file declares `system`")
                            .with_related(imported_at, "imported here")
                            .with_help(format!(
                                "remove it: `system` names the whole model, once, in `{root}`"
                            )),
                        );
                    }
                    item => items.push(item),
                }
            }
        }
        ast::File { items }
    }

    fn report_incomplete(&mut self, diagnostic: Diagnostic) {
        self.complete = false;
        self.diagnostics.push(diagnostic);
    }

    fn finish(self, system: Option<crate::System>) -> Outcome {
        Outcome {
            result: read::finish(system, self.diagnostics),
            sources: self.sources,
        }
    }
}

/// `a/./b/../c.ddd` → `a/c.ddd`; a `..` that has nothing to undo stays.
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match normal.components().next_back() {
                Some(Component::Normal(_)) => {
                    normal.pop();
                }
                // `/..` is `/`.
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => normal.push(".."),
            },
            other => normal.push(other),
        }
    }
    normal
}
