//! A crash test's child process: the store's test binary run again on one of its ignored
//! tests, told what to do by environment variables, and killed with SIGKILL once it is up.

use std::time::Duration;

use tokio::io::AsyncBufReadExt as _;

/// The line a child prints once it is up.
const UP: &str = "crash-test-child-up";

/// Tells the parent this child is up: the kill may come from now on.
pub fn up() {
    #[expect(clippy::print_stdout, reason = "the parent waits for this line")]
    {
        println!("{UP}");
    }
}

/// Runs the ignored test `test` of this binary in a child process with `env`, waits until it
/// is [`up`], lets it run for `lifetime`, then kills it with SIGKILL and reaps it.
pub async fn run_and_kill(test: &str, env: &[(&str, String)], lifetime: Duration) {
    let child = Running::start(test, env).await;
    tokio::time::sleep(lifetime).await;
    child.kill().await;
}

/// A child process that is [`up`], killed with SIGKILL when told or dropped.
#[derive(Debug)]
pub struct Running {
    child: tokio::process::Child,
}

impl Running {
    /// Runs the ignored test `test` of this binary in a child process with `env`, and waits
    /// until it is [`up`].
    pub async fn start(test: &str, env: &[(&str, String)]) -> Self {
        let binary = std::env::current_exe().expect("the test binary");
        let mut child = tokio::process::Command::new(binary)
            .args([
                test,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("spawning {test}: {error}"));
        let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let started = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("reading the child") {
                // libtest prints `test <name> ... ` before it on the same line.
                if line.ends_with(UP) {
                    return true;
                }
            }
            false
        })
        .await;
        assert!(
            matches!(started, Ok(true)),
            "the child {test} did not start (is it an ignored test of this binary?)"
        );
        Self { child }
    }

    /// SIGKILL, and reaps it.
    pub async fn kill(mut self) {
        self.child.start_kill().expect("SIGKILL");
        self.child.wait().await.expect("reap");
    }
}

/// The environment variable `name` of a child, parsed; `None` in a run that is not a child.
pub fn var<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok()?.parse().ok()
}
