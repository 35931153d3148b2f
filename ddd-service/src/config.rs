//! Settings from environment variables, with an optional TOML file (named by `CONFIG_FILE`)
//! of the same keys underneath: the environment wins, then the file, then the documented
//! default. Every bad value is collected, so a service that cannot start says everything
//! that is wrong with its configuration at once. [`ServiceConfig`] is what every service
//! reads; each part reads its own settings ([`Auth::read`], [`OtlpConfig::read`]).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use crate::auth::Auth;
use crate::otel::OtlpConfig;
use crate::telemetry::LogFormat;

/// The variable that names the optional settings file.
pub const CONFIG_FILE: &str = "CONFIG_FILE";

/// Everything wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// One line per problem: `NAME: what is wrong (expected ...)`.
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad configuration:")?;
        for problem in &self.problems {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

/// Where settings come from, and the problems found while reading them.
#[derive(Debug, Default)]
pub struct Settings {
    environment: BTreeMap<String, String>,
    file: BTreeMap<String, String>,
    problems: Vec<String>,
}

impl Settings {
    /// The process environment, and the file `CONFIG_FILE` names if any.
    pub fn from_env() -> Self {
        Self::from_vars(std::env::vars())
    }

    /// Settings from these variables (and the file their `CONFIG_FILE` names).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut settings = Self {
            environment: vars.into_iter().collect(),
            ..Self::default()
        };
        if let Some(path) = settings.environment.get(CONFIG_FILE).cloned() {
            settings.read_file(Path::new(&path));
        }
        settings
    }

    fn read_file(&mut self, path: &Path) {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => {
                self.problems.push(format!(
                    "{CONFIG_FILE}: cannot read {}: {error}",
                    path.display()
                ));
                return;
            }
        };
        let table: toml::Table = match toml::from_str(&text) {
            Ok(table) => table,
            Err(error) => {
                self.problems.push(format!(
                    "{CONFIG_FILE}: {} is not TOML: {error}",
                    path.display()
                ));
                return;
            }
        };
        for (key, value) in table {
            let text = match value {
                toml::Value::String(text) => text,
                toml::Value::Integer(number) => number.to_string(),
                toml::Value::Float(number) => number.to_string(),
                toml::Value::Boolean(flag) => flag.to_string(),
                other => {
                    self.problems.push(format!(
                        "{}: `{key}` must be a string, number or boolean, not {}",
                        path.display(),
                        other.type_str()
                    ));
                    continue;
                }
            };
            self.file.insert(key.to_ascii_uppercase(), text);
        }
    }

    /// The raw value of `name`, if set anywhere.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.environment
            .get(name)
            .or_else(|| self.file.get(name))
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    /// `name`, or `default`.
    pub fn string(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or(default).to_owned()
    }

    /// `name` parsed as `T`, or `default` when unset; a value that does not parse is
    /// recorded with `expected` and the default is used, so reading goes on.
    pub fn parse<T: FromStr>(&mut self, name: &str, default: T, expected: &str) -> T
    where
        T::Err: fmt::Display,
    {
        self.optional(name, expected).unwrap_or(default)
    }

    /// `name` parsed as `T` when set.
    pub fn optional<T: FromStr>(&mut self, name: &str, expected: &str) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        let raw = self.get(name)?.to_owned();
        match raw.parse() {
            Ok(value) => Some(value),
            Err(error) => {
                self.problems
                    .push(format!("{name}: `{raw}` is not {expected} ({error})"));
                None
            }
        }
    }

    /// Records a problem found by the caller.
    pub fn problem(&mut self, problem: impl Into<String>) {
        self.problems.push(problem.into());
    }

    /// `Ok` when nothing was wrong, else every problem.
    pub fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError {
                problems: self.problems,
            })
        }
    }
}

/// The settings every service shares. Read from (defaults after the equals sign):
///
/// - `HTTP_ADDR` = the service's own: where to listen;
/// - `BODY_LIMIT_BYTES` = 65536: the largest request body; larger is a 413;
/// - `JWT_HS256_SECRET` (at least 32 bytes) or `JWT_RS256_PUBLIC_KEY` (PEM) or
///   `JWT_RS256_PUBLIC_KEY_FILE`: enable bearer authentication of writes; with
///   `JWT_ISSUER`, `JWT_AUDIENCE`, `JWT_REQUIRED_SCOPE` = none (see [`Auth::read`]);
/// - `SHUTDOWN_TIMEOUT_SECS` = 30: how long in-flight work may take after SIGTERM;
/// - `LOG_FORMAT` = text: `text` or `json`; `RUST_LOG` = info: the log filter (of the
///   exported spans too);
/// - `OTEL_EXPORTER_OTLP_ENDPOINT` = none, `OTEL_SERVICE_NAME` = the crate's name: export
///   spans over OTLP/HTTP (see [`OtlpConfig`]; needs the `otlp` feature).
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Where to listen.
    pub http_addr: SocketAddr,
    /// The largest request body.
    pub body_limit: usize,
    /// Authentication of writes.
    pub auth: Auth,
    /// How long in-flight work may take after SIGTERM.
    pub shutdown_timeout: Duration,
    /// How log lines are written.
    pub log_format: LogFormat,
    /// Where spans are exported, if anywhere.
    pub otlp: OtlpConfig,
}

impl ServiceConfig {
    /// Reads the shared settings; problems are recorded in `settings`.
    pub fn read(settings: &mut Settings, default_addr: SocketAddr) -> Self {
        let http_addr = settings.parse("HTTP_ADDR", default_addr, "HOST:PORT");
        let body_limit = settings.parse("BODY_LIMIT_BYTES", 64 * 1024, "a number of bytes");
        let shutdown_timeout =
            Duration::from_secs(settings.parse("SHUTDOWN_TIMEOUT_SECS", 30, "a number of seconds"));
        let log_format = settings.parse("LOG_FORMAT", LogFormat::Text, "`text` or `json`");
        let auth = Auth::read(settings);
        let otlp = OtlpConfig::read(settings);
        Self {
            http_addr,
            body_limit,
            auth,
            shutdown_timeout,
            log_format,
            otlp,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_vars(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
    }

    #[test]
    fn defaults_apply_and_every_bad_value_is_reported() {
        let mut settings = vars(&[("HTTP_ADDR", "nowhere"), ("BODY_LIMIT_BYTES", "-3")]);
        let addr: SocketAddr = settings.parse(
            "HTTP_ADDR",
            SocketAddr::from(([127, 0, 0, 1], 8080)),
            "HOST:PORT",
        );
        let limit: usize = settings.parse("BODY_LIMIT_BYTES", 65536_usize, "a byte count");
        let grace: u64 = settings.parse("SHUTDOWN_TIMEOUT_SECS", 30_u64, "seconds");
        assert_eq!((addr.port(), limit, grace), (8080, 65536, 30));
        let error = settings.finish().expect_err("two bad values");
        assert_eq!(error.problems.len(), 2, "{error}");
        assert!(
            error.problems[0].starts_with("HTTP_ADDR: `nowhere` is not HOST:PORT"),
            "{error}"
        );
        assert!(
            error.problems[1].starts_with("BODY_LIMIT_BYTES: `-3`"),
            "{error}"
        );
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let dir = std::env::temp_dir().join(format!("ddd-service-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let file = dir.join("service.toml");
        std::fs::write(
            &file,
            "http_addr = \"0.0.0.0:9000\"\nBODY_LIMIT_BYTES = 1024\n",
        )
        .expect("written");
        let path = file.display().to_string();
        let mut settings = vars(&[(CONFIG_FILE, &path), ("HTTP_ADDR", "127.0.0.1:7000")]);
        let addr: SocketAddr = settings.parse(
            "HTTP_ADDR",
            SocketAddr::from(([127, 0, 0, 1], 8080)),
            "HOST:PORT",
        );
        let limit: usize = settings.parse("BODY_LIMIT_BYTES", 65536_usize, "a byte count");
        assert_eq!((addr.port(), limit), (7000, 1024));
        settings.finish().expect("all good");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_missing_or_broken_file_is_a_problem_not_a_panic() {
        let settings = vars(&[(CONFIG_FILE, "/no/such/file.toml")]);
        let error = settings.finish().expect_err("unreadable");
        assert!(error.problems[0].contains("cannot read"), "{error}");
    }
}
