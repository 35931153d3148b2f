//! Where a generated workspace finds ddd's own crates: `--runtime path:DIR`,
//! `git:URL[#REV]` or `version:X.Y`. The workspace's `Cargo.toml` names them once, in
//! `[workspace.dependencies]`, so changing the source later is one edit there.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;

/// The ddd crates a generated workspace depends on, with their directory in the ddd source.
pub(crate) const CRATES: &[(&str, &str)] = &[
    ("ddd-core", "ddd-core"),
    ("ddd-service", "ddd-service"),
    ("ddd-sqlite", "adapters/ddd-sqlite"),
    ("ddd-postgres", "adapters/ddd-postgres"),
    ("ddd-nats", "adapters/ddd-nats"),
    ("ddd-rabbitmq", "adapters/ddd-rabbitmq"),
    ("ddd-redis", "adapters/ddd-redis"),
    ("ddd-scenario", "ddd-scenario"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runtime {
    /// A ddd source tree on this machine (works offline).
    Path(PathBuf),
    /// A git repository of the ddd source, at a branch, tag or commit when given.
    Git { url: String, rev: Option<String> },
    /// Published crates of this version requirement.
    Version(String),
}

#[derive(Debug, thiserror::Error)]
#[error("--runtime `{spec}`: {reason} (expected `path:DIR`, `git:URL[#REV]` or `version:X.Y`)")]
pub struct RuntimeError {
    spec: String,
    reason: &'static str,
}

impl FromStr for Runtime {
    type Err = RuntimeError;

    fn from_str(spec: &str) -> Result<Runtime, RuntimeError> {
        let error = |reason| RuntimeError {
            spec: spec.to_owned(),
            reason,
        };
        let (kind, value) = spec.split_once(':').ok_or_else(|| error("no kind"))?;
        if value.is_empty() {
            return Err(error("nothing after the kind"));
        }
        match kind {
            "path" => Ok(Runtime::Path(PathBuf::from(value))),
            "git" => {
                let (url, rev) = match value.split_once('#') {
                    Some((_, "")) => return Err(error("an empty revision after `#`")),
                    Some((url, rev)) => (url, Some(rev.to_owned())),
                    None => (value, None),
                };
                Ok(Runtime::Git {
                    url: url.to_owned(),
                    rev,
                })
            }
            "version" => {
                let valid = value
                    .split('.')
                    .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()));
                if valid && value.split('.').count() <= 3 {
                    Ok(Runtime::Version(value.to_owned()))
                } else {
                    Err(error("a version is one to three numbers separated by `.`"))
                }
            }
            _ => Err(error("unknown kind")),
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Runtime::Path(dir) => write!(f, "path:{}", dir.display()),
            Runtime::Git { url, rev: None } => write!(f, "git:{url}"),
            Runtime::Git {
                url,
                rev: Some(rev),
            } => write!(f, "git:{url}#{rev}"),
            Runtime::Version(version) => write!(f, "version:{version}"),
        }
    }
}

/// One line of `[workspace.dependencies]`.
#[derive(Debug, Serialize)]
pub struct Dependency {
    pub name: &'static str,
    /// The TOML value: `{ path = "..." }`, `{ git = "..." }` or `"0.1"`.
    pub source: String,
}

impl Runtime {
    /// The `[workspace.dependencies]` entries of the ddd crates.
    pub fn dependencies(&self) -> Vec<Dependency> {
        CRATES
            .iter()
            .map(|(name, dir)| Dependency {
                name,
                source: self.source(dir),
            })
            .collect()
    }

    fn source(&self, dir: &str) -> String {
        match self {
            Runtime::Path(root) => {
                format!("{{ path = {} }}", toml_string(&slashes(&root.join(dir))))
            }
            Runtime::Git { url, rev: None } => format!("{{ git = {} }}", toml_string(url)),
            Runtime::Git {
                url,
                rev: Some(rev),
            } => {
                format!(
                    "{{ git = {}, rev = {} }}",
                    toml_string(url),
                    toml_string(rev)
                )
            }
            Runtime::Version(version) => toml_string(version),
        }
    }

    /// The runtime as seen from the working directory, for a workspace written to `out`: a
    /// relative `path` is relative to the workspace (where Cargo reads it), not to where
    /// `ddd` runs.
    pub fn seen_from(&self, out: &Path) -> Runtime {
        match self {
            Runtime::Path(root) if root.is_relative() => Runtime::Path(out.join(root)),
            other => other.clone(),
        }
    }

    /// The ddd source tree on this machine, if the runtime is one.
    pub fn local_root(&self) -> Option<&Path> {
        match self {
            Runtime::Path(root) => Some(root),
            _ => None,
        }
    }
}

fn slashes(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print_back() {
        for spec in [
            "path:/opt/ddd",
            "git:https://example.com/ddd.git",
            "git:https://example.com/ddd.git#v0.1.0",
            "version:0.1",
        ] {
            assert_eq!(spec.parse::<Runtime>().unwrap().to_string(), spec);
        }
        for bad in [
            "/opt/ddd",
            "path:",
            "git:x#",
            "version:one",
            "version:1..2",
            "svn:x",
        ] {
            assert!(bad.parse::<Runtime>().is_err(), "{bad}");
        }
    }

    #[test]
    fn each_kind_writes_its_toml() {
        let source = |spec: &str| {
            spec.parse::<Runtime>().unwrap().dependencies()[0]
                .source
                .clone()
        };
        assert_eq!(source("path:/opt/ddd"), r#"{ path = "/opt/ddd/ddd-core" }"#);
        assert_eq!(
            source("git:https://e.x/d#abc"),
            r#"{ git = "https://e.x/d", rev = "abc" }"#
        );
        assert_eq!(source("version:0.1"), r#""0.1""#);
        assert_eq!(
            source(r#"path:C:\a "b""#),
            r#"{ path = "C:/a \"b\"/ddd-core" }"#
        );
    }
}
