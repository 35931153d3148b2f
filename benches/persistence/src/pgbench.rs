//! The server's own limit for S1: pgbench with as many clients as our workers, each
//! transaction a single-row `INSERT` in autocommit (one round trip, one commit, one WAL
//! flush), prepared. No framework can commit faster than this on the same server.

use std::io::Write as _;
use std::process::Command;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;

use crate::measure::{Sample, Timer};

pub struct Options<'a> {
    pub program: &'a str,
    pub url: &'a str,
    /// `schema.table` with an identity key and a `payload text` column.
    pub table: &'a str,
    pub clients: usize,
    pub seconds: u32,
}

/// Runs pgbench; the sample's rate is pgbench's own TPS (without connection time) and its CPU
/// time is pgbench's (a waited-for child).
pub fn run(options: &Options<'_>) -> Result<Sample, String> {
    let connect: PgConnectOptions = options
        .url
        .parse()
        .map_err(|error| format!("the URL: {error}"))?;
    let mut script = tempfile_in_tmp()?;
    // About the size of a serialized event.
    writeln!(
        script.1,
        "INSERT INTO {} (payload) VALUES ('{{\"CustomerDepositedMoney\":{{\"amount\":42.0,\"balance\":1234.0}}}} some padding to 100 bytes');",
        options.table
    )
    .map_err(|error| format!("writing the script: {error}"))?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut command = Command::new(options.program);
    command
        .args(["-n", "-M", "prepared", "-c"])
        .arg(options.clients.to_string())
        .arg("-j")
        .arg(threads.min(options.clients).to_string())
        .arg("-T")
        .arg(options.seconds.to_string())
        .arg("-f")
        .arg(&script.0)
        .arg("-h")
        .arg(connect.get_host())
        .arg("-p")
        .arg(connect.get_port().to_string())
        .arg("-U")
        .arg(connect.get_username())
        .arg(connect.get_database().unwrap_or("postgres"));
    if let Some(password) = password(options.url) {
        command.env("PGPASSWORD", password);
    }
    let timer = Timer::start();
    let output = command
        .output()
        .map_err(|error| format!("running `{}`: {error}", options.program))?;
    let mut sample = timer.stop(0);
    let _ = std::fs::remove_file(&script.0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let tps = field(&stdout, "tps = ").ok_or_else(|| format!("no TPS in:\n{stdout}"))?;
    let transactions = field(&stdout, "number of transactions actually processed: ")
        .ok_or_else(|| format!("no transaction count in:\n{stdout}"))?;
    let failed = field(&stdout, "number of failed transactions: ").unwrap_or(0.0);
    if failed > 0.0 {
        return Err(format!("{failed} transactions failed:\n{stdout}"));
    }
    // The rate is pgbench's TPS: the wall time its clients ran, not counting connecting.
    sample.ops = transactions as u64;
    sample.wall = Duration::from_secs_f64(transactions / tps);
    Ok(sample)
}

/// The number that follows `prefix` on its line.
fn field(text: &str, prefix: &str) -> Option<f64> {
    let start = text.find(prefix)? + prefix.len();
    text[start..]
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()?
        .parse()
        .ok()
}

fn password(url: &str) -> Option<String> {
    let authority = url.split("://").nth(1)?.split('/').next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    userinfo
        .split_once(':')
        .map(|(_, password)| password.to_owned())
}

fn tempfile_in_tmp() -> Result<(std::path::PathBuf, std::fs::File), String> {
    let path = std::env::temp_dir().join(format!(
        "ddd-bench-pgbench-{}-{}.sql",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    let file = std::fs::File::create(&path)
        .map_err(|error| format!("creating {}: {error}", path.display()))?;
    Ok((path, file))
}
