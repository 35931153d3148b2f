//! A crash test's child process: this test binary run again on one ignored test, told what
//! to do by environment variables, and killed with SIGKILL.

use std::time::Duration;

use tokio::io::AsyncBufReadExt as _;

/// The line a child prints once it is up.
const READY: &str = "child-process-ready";

/// Tells the parent the child is up.
pub(crate) fn ready() {
    #[expect(clippy::print_stdout, reason = "the parent waits for this line")]
    {
        println!("{READY}");
    }
}

/// Runs the ignored test `test` of this binary in a child process with `env`, waits until it
/// is [`ready`], lets it run for `lifetime`, then kills it with SIGKILL.
pub(crate) async fn run_and_kill(test: &str, env: &[(&str, String)], lifetime: Duration) {
    let mut child = tokio::process::Command::new(std::env::current_exe().expect("test binary"))
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
        .expect("spawn the child");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read the child") {
            // libtest prints `test <name> ... ` before it on the same line.
            if line.ends_with(READY) {
                return true;
            }
        }
        false
    })
    .await;
    assert!(matches!(ready, Ok(true)), "the child {test} did not start");
    tokio::time::sleep(lifetime).await;
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("reap");
}
