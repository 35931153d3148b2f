//! Configuration by URL: `sqlite://data/orders.db` (relative), `sqlite:///var/lib/app/orders.db`
//! (absolute), `sqlite:orders.db`, with options in the query. An option nobody reads is an
//! error rather than a silent no-op.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ddd_core::store::options::{at_least, between, duration, flag, invalid};

use crate::error::ConfigError;

/// The options this crate reads.
const OPTIONS: &[&str] = &[
    "synchronous",
    "busy_timeout",
    "readers",
    "batch",
    "queue",
    "outbox",
    "create",
    "migrate",
    "connect_retry",
];

/// How hard SQLite syncs to disk at each commit (in WAL mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synchronous {
    /// Syncs the WAL at every commit: a committed transaction survives a power loss. The
    /// default.
    Full,
    /// Full, and syncs the directory after creating or deleting the WAL.
    Extra,
    /// Syncs only at checkpoints: faster, but a power loss (not a crash of the process) can
    /// lose the last committed transactions.
    Normal,
}

impl Synchronous {
    pub(crate) fn pragma(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Extra => "EXTRA",
            Self::Normal => "NORMAL",
        }
    }
}

/// Where the database file is and how to use it.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) path: PathBuf,
    pub(crate) synchronous: Synchronous,
    pub(crate) busy_timeout: Duration,
    pub(crate) readers: usize,
    pub(crate) batch: usize,
    pub(crate) queue: usize,
    pub(crate) outbox: bool,
    pub(crate) create: bool,
    pub(crate) migrate: bool,
    pub(crate) connect_retry: Duration,
}

impl Config {
    /// A configuration for the database file at `path`, with the defaults.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(5),
            readers: 4,
            batch: 512,
            queue: 4096,
            outbox: true,
            create: true,
            migrate: true,
            connect_retry: Duration::from_secs(30),
        }
    }

    /// Parses a `sqlite:` URL. Options:
    /// - `synchronous=full|extra|normal`: default `full`; `normal` can lose the last commits
    ///   on power loss, `off` is refused.
    /// - `busy_timeout=DURATION`: how long to wait for another process's write lock (5s).
    /// - `readers=N`: read connections (default 4, at most 64).
    /// - `batch=N`: the most writes committed in one transaction (group commit; 512).
    /// - `queue=N`: writes waiting for the writer before callers wait too (4096).
    /// - `outbox=true|false`: record appended events in the outbox (true).
    /// - `create=true|false`: create the file if missing (true).
    /// - `migrate=true|false`: run the migrations on open (true).
    /// - `connect_retry=DURATION`: how long opening retries a database locked by another
    ///   process (30s).
    ///
    /// Durations are `500ms`, `5s`, `2m`, or plain seconds.
    pub fn from_url(url: &str) -> Result<Self, ConfigError> {
        let malformed = |reason: &str| ConfigError::Malformed {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let Some(rest) = url.strip_prefix("sqlite:") else {
            let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
            return Err(ConfigError::Scheme {
                found: scheme.to_owned(),
                expected: "sqlite:",
            });
        };
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() {
            return Err(malformed("no file path"));
        }
        if path == ":memory:" || path.starts_with("file::memory:") {
            return Err(malformed(
                "in-memory SQLite is not supported (its connections do not share WAL); use \
                 ddd_core::memory::InMemoryEventStore, or a file in a temporary directory",
            ));
        }
        let mut config = Self::new(path);
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            config.set(&key, &value)?;
        }
        Ok(config)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        match key {
            "synchronous" => self.synchronous = synchronous(value)?,
            "busy_timeout" => self.busy_timeout = duration(key, value)?,
            "readers" => self.readers = between(key, value, 1, 64)?,
            "batch" => self.batch = at_least(key, value, 1)?,
            "queue" => self.queue = at_least(key, value, 1)?,
            "outbox" => self.outbox = flag(key, value)?,
            "create" => self.create = flag(key, value)?,
            "migrate" => self.migrate = flag(key, value)?,
            "connect_retry" => self.connect_retry = duration(key, value)?,
            _ => {
                return Err(ConfigError::UnknownOption {
                    name: key.to_owned(),
                    known: OPTIONS.join(", "),
                });
            }
        }
        Ok(())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sets the sync level.
    #[must_use]
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// Turns the outbox on or off.
    #[must_use]
    pub fn outbox(mut self, on: bool) -> Self {
        self.outbox = on;
        self
    }

    /// Sets the most writes committed in one transaction (at least 1).
    #[must_use]
    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }
}

fn synchronous(value: &str) -> Result<Synchronous, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "full" => Ok(Synchronous::Full),
        "extra" => Ok(Synchronous::Extra),
        "normal" => Ok(Synchronous::Normal),
        "off" => Err(invalid(
            "synchronous",
            value,
            "off can lose committed events on a crash; use normal at the least",
        )),
        _ => Err(invalid(
            "synchronous",
            value,
            "expected full, extra or normal",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_options_are_read() {
        let config = Config::from_url("sqlite://data/orders.db?synchronous=normal&readers=2")
            .expect("valid");
        assert_eq!(config.path(), Path::new("data/orders.db"));
        assert_eq!(config.synchronous, Synchronous::Normal);
        assert_eq!(config.readers, 2);
        let absolute = Config::from_url("sqlite:///var/lib/app/x.db").expect("valid");
        assert_eq!(absolute.path(), Path::new("/var/lib/app/x.db"));
        let bare = Config::from_url("sqlite:x.db").expect("valid");
        assert_eq!(bare.path(), Path::new("x.db"));
        assert_eq!(bare.synchronous, Synchronous::Full, "FULL by default");
    }

    #[test]
    fn bad_urls_are_typed_errors() {
        let cases = [
            ("postgres://localhost/x", "scheme"),
            ("sqlite://", "no file path"),
            ("sqlite::memory:", "in-memory"),
            ("sqlite://x.db?synchronous=off", "lose committed events"),
            (
                "sqlite://x.db?synchronus=full",
                "unknown option `synchronus`",
            ),
            ("sqlite://x.db?readers=0", "must be from 1 to 64"),
            ("sqlite://x.db?busy_timeout=1h", "unit"),
            ("sqlite://x.db?outbox=perhaps", "true or false"),
        ];
        for (url, expected) in cases {
            let error = Config::from_url(url).unwrap_err().to_string();
            assert!(
                error.contains(expected),
                "{url}: `{error}` lacks `{expected}`"
            );
        }
    }
}
