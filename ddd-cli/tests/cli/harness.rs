//! A fluent harness over `assert_cmd`, in the spirit of just's `Test`:
//! `Test::new().file("m.ddd", ..).args(["check", "m.ddd"]).stderr_has("..").status(1)`.
//! The command runs in a fresh temporary directory holding the files given.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

#[must_use]
pub(crate) struct Test {
    dir: TempDir,
    args: Vec<String>,
    stdin: Option<String>,
    stdout: Vec<Check>,
    stderr: Vec<Check>,
}

enum Check {
    Exactly(String),
    Has(String),
    Lacks(String),
}

/// What the command printed, for assertions the harness has no method for.
pub(crate) struct Output {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) dir: TempDir,
}

impl Output {
    /// An empty directory and no output, for a test that runs something other than `ddd`.
    pub(crate) fn scratch() -> Output {
        Output {
            stdout: String::new(),
            stderr: String::new(),
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Test {
    pub(crate) fn new() -> Test {
        Test {
            dir: tempfile::tempdir().expect("a temporary directory"),
            args: Vec::new(),
            stdin: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    }

    /// A test in the directory of an earlier one, to run `ddd` again over its output.
    pub(crate) fn within(output: Output) -> Test {
        Test {
            dir: output.dir,
            ..Test::new()
        }
    }

    /// A file at `name`, relative to the directory; its directories are created.
    pub(crate) fn file(self, name: &str, contents: &str) -> Test {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create a test directory");
        }
        std::fs::write(path, contents).expect("write a test file");
        self
    }

    pub(crate) fn arg(mut self, arg: &str) -> Test {
        self.args.push(arg.to_owned());
        self
    }

    pub(crate) fn args<const N: usize>(mut self, args: [&str; N]) -> Test {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    pub(crate) fn stdin(mut self, input: &str) -> Test {
        self.stdin = Some(input.to_owned());
        self
    }

    pub(crate) fn stdout(mut self, exactly: &str) -> Test {
        self.stdout.push(Check::Exactly(exactly.to_owned()));
        self
    }

    pub(crate) fn stdout_has(mut self, part: &str) -> Test {
        self.stdout.push(Check::Has(part.to_owned()));
        self
    }

    pub(crate) fn stderr(mut self, exactly: &str) -> Test {
        self.stderr.push(Check::Exactly(exactly.to_owned()));
        self
    }

    pub(crate) fn stderr_has(mut self, part: &str) -> Test {
        self.stderr.push(Check::Has(part.to_owned()));
        self
    }

    pub(crate) fn stderr_lacks(mut self, part: &str) -> Test {
        self.stderr.push(Check::Lacks(part.to_owned()));
        self
    }

    pub(crate) fn success(self) -> Output {
        self.status(0)
    }

    /// Runs `ddd` and checks the exit status and every expectation.
    pub(crate) fn status(self, expected: i32) -> Output {
        let mut command = Command::cargo_bin("ddd").expect("the ddd binary");
        command
            .current_dir(self.dir.path())
            .args(&self.args)
            .env_remove("NO_COLOR");
        if let Some(input) = &self.stdin {
            command.write_stdin(input.clone());
        }
        let output = command.output().expect("ddd runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let context = format!(
            "ddd {}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}",
            self.args.join(" ")
        );
        assert_eq!(
            output.status.code(),
            Some(expected),
            "exit status of {context}"
        );
        verify("stdout", &stdout, &self.stdout, &context);
        verify("stderr", &stderr, &self.stderr, &context);
        Output {
            stdout,
            stderr,
            dir: self.dir,
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }
}

fn verify(stream: &str, actual: &str, checks: &[Check], context: &str) {
    for check in checks {
        match check {
            Check::Exactly(expected) => assert_eq!(actual, expected, "{stream} of {context}"),
            Check::Has(part) => assert!(
                actual.contains(part.as_str()),
                "{stream} lacks {part:?}: {context}"
            ),
            Check::Lacks(part) => assert!(
                !actual.contains(part.as_str()),
                "{stream} has {part:?}: {context}"
            ),
        }
    }
}
