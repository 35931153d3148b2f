//! An inbox several processes share through a directory.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use ddd_core::event::EventId;
use ddd_core::{Inbox, StoreError};

/// An [`Inbox`] whose marks are files `<dir>/<consumer>/<event id>`, created with
/// `O_CREAT | O_EXCL`: exactly one process wins a mark, even across `kill -9`, because the
/// file system does the deduplication. The tests use it where the consumers are separate
/// processes and no database is at hand.
#[derive(Clone, Debug)]
pub struct FileInbox {
    dir: PathBuf,
}

impl FileInbox {
    /// An inbox in `dir` (created if missing).
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    /// The directory the marks live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn mark(&self, consumer: &str, event_id: EventId) -> PathBuf {
        self.dir.join(consumer).join(event_id.to_string())
    }
}

fn io_error(what: &str, error: std::io::Error) -> StoreError {
    StoreError::transient(format!("{what}: {error}")).with_source(error)
}

impl Inbox for FileInbox {
    async fn is_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, StoreError> {
        Ok(self.mark(consumer, event_id).exists())
    }

    async fn mark_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, StoreError> {
        let path = self.mark(consumer, event_id);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error("inbox directory", e))?;
        }
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io_error("inbox mark", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_mark_is_won_once() {
        let dir = std::env::temp_dir().join(ddd_core::testing::conformance::unique("inbox"));
        let inbox = FileInbox::new(&dir).expect("inbox");
        let id = uuid::Uuid::now_v7();
        assert!(!inbox.is_processed("c", id).await.expect("read"));
        assert!(inbox.mark_processed("c", id).await.expect("mark"));
        assert!(!inbox.mark_processed("c", id).await.expect("mark again"));
        assert!(inbox.is_processed("c", id).await.expect("read"));
        assert!(!inbox.is_processed("other", id).await.expect("read"));
        std::fs::remove_dir_all(dir).expect("clean up");
    }
}
