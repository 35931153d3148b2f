//! Test helpers: a database file in a temporary directory, removed with it, and what
//! `ddd-store-testkit`'s scenarios need of the store.

mod kit;

use std::path::{Path, PathBuf};

use crate::SqliteStore;

/// A temporary directory holding one database file, deleted when this value is dropped.
#[derive(Debug)]
pub struct TestFile {
    dir: tempfile::TempDir,
}

impl TestFile {
    /// A new empty directory; the file is created by the first open.
    pub fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("ddd-sqlite-test-")
                .tempdir()
                .unwrap_or_else(|error| panic!("creating a temporary directory: {error}")),
        }
    }

    /// The database file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("events.db")
    }

    /// The directory, for other files a test needs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The URL of the file with extra `options` (`synchronous=normal&readers=2`).
    pub fn url_with(&self, options: &str) -> String {
        let mut url = format!("sqlite://{}", self.path().display());
        if !options.is_empty() {
            url.push('?');
            url.push_str(options);
        }
        url
    }

    /// The URL of the file.
    pub fn url(&self) -> String {
        self.url_with("")
    }

    /// A store on the file.
    pub async fn connect(&self) -> SqliteStore {
        self.connect_with("").await
    }

    /// A store on the file with extra URL `options`.
    pub async fn connect_with(&self, options: &str) -> SqliteStore {
        let url = self.url_with(options);
        SqliteStore::connect(&url)
            .await
            .unwrap_or_else(|error| panic!("opening {url}: {error}"))
    }
}

impl Default for TestFile {
    fn default() -> Self {
        Self::new()
    }
}
