//! Stopping and starting the machine's brokers for outage tests.
//!
//! A broker is found by the port of its URL (the process listening on it is the one
//! stopped, by pid) and started again as it ran: NATS with the arguments it was started
//! with, Redis with the directory it reports. Programs come from `PATH`, or from the
//! variables [`Broker::server_variable`] names; `NATS_STORE_DIR` and `REDIS_DIR` override the
//! data directories found. An [`Outage`] restarts its broker when dropped, so a failing test
//! leaves it running.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A local broker the tests can stop and start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broker {
    /// nats-server with JetStream (`NATS_URL`).
    Nats,
    /// redis-server (`REDIS_URL`).
    Redis,
    /// RabbitMQ (`AMQP_URL`).
    RabbitMq,
}

/// How long a broker may take to stop or to accept connections again.
const PATIENCE: Duration = Duration::from_secs(60);

impl Broker {
    /// The URL the tests use for this broker: the environment variable or this machine's
    /// default.
    pub fn url(self) -> String {
        std::env::var(self.url_variable()).unwrap_or_else(|_| self.default_url().to_owned())
    }

    fn url_variable(self) -> &'static str {
        match self {
            Self::Nats => "NATS_URL",
            Self::Redis => "REDIS_URL",
            Self::RabbitMq => "AMQP_URL",
        }
    }

    fn default_url(self) -> &'static str {
        match self {
            Self::Nats => "nats://127.0.0.1:4222",
            Self::Redis => "redis://127.0.0.1:6379",
            Self::RabbitMq => "amqp://guest:guest@127.0.0.1:5672/%2f",
        }
    }

    /// The server program, and the variable that names it when it is not on `PATH`.
    pub fn server_variable(self) -> (&'static str, &'static str) {
        match self {
            Self::Nats => ("nats-server", "NATS_SERVER_BIN"),
            Self::Redis => ("redis-server", "REDIS_SERVER_BIN"),
            Self::RabbitMq => ("rabbitmq-server", "RABBITMQ_SERVER_BIN"),
        }
    }

    /// The Debian package and the command that start the broker as the tests expect it.
    fn how_to_start(self) -> &'static str {
        match self {
            Self::Nats => {
                "Debian package nats-server; `nats-server -js -sd /var/lib/nats-server &` \
                 (JetStream on, a store directory of its own)"
            }
            Self::Redis => "Debian package redis-server; `redis-server --daemonize yes`",
            Self::RabbitMq => "Debian package rabbitmq-server; `rabbitmq-server -detached`",
        }
    }

    /// Why a test cannot reach the broker, and how to start it: for a test's `expect`.
    pub fn not_running(self) -> String {
        format!(
            "{self:?} does not answer at {} ({}); start it ({}) or point {} at one that runs",
            self.url(),
            self.url_variable(),
            self.how_to_start(),
            self.url_variable()
        )
    }

    /// `host:port` of the URL.
    fn address(self) -> Result<(String, u16), String> {
        let url = self.url();
        let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        let authority = rest.split(['/', '?', ',']).next().unwrap_or(rest);
        let (host, port) = authority
            .rsplit_once(':')
            .ok_or_else(|| format!("no port in {url}"))?;
        let port = port.parse().map_err(|e| format!("port of {url}: {e}"))?;
        Ok((host.to_owned(), port))
    }

    /// Stops the broker; the returned [`Outage`] starts it again (when told to, or when
    /// dropped). Refuses a broker that does not run on this machine.
    pub fn stop(self) -> Result<Outage, String> {
        let (host, port) = self.address()?;
        if !matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]") {
            return Err(format!(
                "{self:?} runs on {host}: only a local broker can be restarted"
            ));
        }
        let pid = listening_pid(port).map_err(|e| format!("{e}: {}", self.not_running()))?;
        // Found before the broker stops: how it runs is read from the running process.
        let restart = self.restart(pid, port)?;
        match self {
            Self::Nats => terminate(pid)?,
            Self::Redis => redis_shutdown(port)?,
            Self::RabbitMq => run(&program("rabbitmqctl", "RABBITMQCTL_BIN")?, &["stop"])?,
        }
        wait_until(
            || !alive(pid) && !accepts(&host, port),
            "the broker stopped",
        )?;
        Ok(Outage {
            broker: self,
            host,
            port,
            restart,
            running: false,
        })
    }

    fn server(self, pid: u32) -> Result<PathBuf, String> {
        let (name, variable) = self.server_variable();
        program(name, variable).or_else(|missing| {
            // The running server's own program, when it is not on this PATH (Debian's sbin).
            std::fs::read_link(format!("/proc/{pid}/exe")).map_err(|_| missing)
        })
    }

    /// How to start the broker running as `pid` again, as it runs now.
    fn restart(self, pid: u32, port: u16) -> Result<Restart, String> {
        let server = self.server(pid)?;
        Ok(match self {
            Self::Nats => Restart::Spawn {
                args: nats_arguments(
                    &running_arguments(pid)?,
                    std::env::var("NATS_STORE_DIR").ok(),
                ),
                program: server,
            },
            Self::Redis => redis_restart(server, port)?,
            Self::RabbitMq => Restart::Run {
                program: server,
                args: vec!["-detached".to_owned()],
            },
        })
    }
}

/// How a stopped broker is started again.
#[derive(Debug)]
enum Restart {
    /// A program that detaches by itself.
    Run { program: PathBuf, args: Vec<String> },
    /// Redis, which detaches by itself and loads the snapshot `dump` its shutdown wrote.
    Redis {
        program: PathBuf,
        args: Vec<String>,
        dump: PathBuf,
    },
    /// A server that stays in the foreground: started in a process group of its own, not
    /// waited for.
    Spawn { program: PathBuf, args: Vec<String> },
}

impl Restart {
    fn start(&self, host: &str, port: u16) -> Result<(), String> {
        let mut spawned: Option<Child> = None;
        match self {
            Self::Run { program, args } => run(program, &as_strs(args))?,
            Self::Redis {
                program,
                args,
                dump,
            } => {
                run(program, &as_strs(args))?;
                wait_until(|| redis_ready(port), "redis loaded its data")?;
                // The snapshot only carried the data over the restart: the machine runs
                // Redis without persistence, and a stale dump must not come back later.
                let _ = std::fs::remove_file(dump);
            }
            Self::Spawn { program, args } => {
                // In a session of its own (util-linux `setsid`, which execs in place): the
                // broker outlives the test run and whatever ends the run's session, as the
                // machine's own broker would.
                let child = Command::new(self::program("setsid", "SETSID_BIN")?)
                    .arg(program)
                    .args(args)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(|e| format!("{}: {e}", program.display()))?;
                spawned = Some(child);
            }
        }
        wait_until(
            || {
                accepts(host, port)
                    || spawned
                        .as_mut()
                        .is_some_and(|child| child.try_wait().ok().flatten().is_some())
            },
            "the broker accepts connections",
        )?;
        if let Some(status) = spawned
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten())
        {
            return Err(format!("{self:?} exited at once: {status}"));
        }
        Ok(())
    }
}

/// A stopped broker. [`Outage::restore`] starts it; dropping it does the same.
#[derive(Debug)]
pub struct Outage {
    broker: Broker,
    host: String,
    port: u16,
    restart: Restart,
    running: bool,
}

impl Outage {
    /// Starts the broker and waits until it accepts connections; returns how long that took.
    pub fn restore(&mut self) -> Result<Duration, String> {
        let started = Instant::now();
        if !self.running {
            self.restart.start(&self.host, self.port)?;
            self.running = true;
        }
        Ok(started.elapsed())
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if let Err(e) = self.restore() {
            // Nothing else can be done from a destructor; say it loudly.
            eprintln!(
                "ddd-bus-testkit: could not restart {:?}: {e}; {}",
                self.broker,
                self.broker.not_running()
            );
        }
    }
}

/// `name` from the variable `variable`, else from `PATH`.
fn program(name: &str, variable: &str) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(variable) {
        return Ok(PathBuf::from(path));
    }
    on_path(name, &std::env::var_os("PATH").unwrap_or_default())
        .ok_or_else(|| format!("`{name}` is not on PATH; add its directory or set {variable}"))
}

/// The first file `name` in the directories of `path` (a `PATH` value).
fn on_path(name: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The arguments (after the program) of the running process `pid`.
fn running_arguments(pid: u32) -> Result<Vec<String>, String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map_err(|e| format!("the command line of process {pid}: {e}"))?;
    Ok(raw
        .split(|byte| *byte == 0)
        .filter(|argument| !argument.is_empty())
        .skip(1)
        .map(|argument| String::from_utf8_lossy(argument).into_owned())
        .collect())
}

/// The running server's arguments, its JetStream store directory replaced by `store` (from
/// `NATS_STORE_DIR`) when there is one.
fn nats_arguments(running: &[String], store: Option<String>) -> Vec<String> {
    let Some(store) = store else {
        return running.to_vec();
    };
    let mut args = Vec::with_capacity(running.len() + 2);
    let mut iter = running.iter();
    while let Some(argument) = iter.next() {
        if matches!(argument.as_str(), "-sd" | "--store_dir") {
            iter.next();
        } else {
            args.push(argument.clone());
        }
    }
    args.extend(["-sd".to_owned(), store]);
    args
}

/// Redis started again on `port` without persistence, in the directory it runs in now (or
/// `REDIS_DIR`) so that it loads the snapshot its shutdown writes there.
fn redis_restart(server: PathBuf, port: u16) -> Result<Restart, String> {
    let dir = match std::env::var("REDIS_DIR") {
        Ok(dir) => dir,
        Err(_) => redis_config(port, "dir")?,
    };
    let dump = redis_config(port, "dbfilename")?;
    let logfile = redis_config(port, "logfile")?;
    let port = port.to_string();
    let mut args: Vec<String> = [
        "--daemonize",
        "yes",
        "--bind",
        "127.0.0.1",
        "-::1",
        "--port",
        &port,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        &dir,
        "--dbfilename",
        &dump,
    ]
    .map(str::to_owned)
    .to_vec();
    if !logfile.is_empty() {
        args.extend(["--logfile".to_owned(), logfile]);
    }
    Ok(Restart::Redis {
        program: server,
        args,
        dump: Path::new(&dir).join(dump),
    })
}

fn redis_cli() -> Result<PathBuf, String> {
    program("redis-cli", "REDIS_CLI_BIN")
}

/// One setting of the running Redis (`CONFIG GET`).
fn redis_config(port: u16, key: &str) -> Result<String, String> {
    let out = Command::new(redis_cli()?)
        .args(["-p", &port.to_string(), "config", "get", key])
        .output()
        .map_err(|e| format!("redis-cli: {e}"))?;
    // The reply is the key, then its value, one a line.
    let said = String::from_utf8_lossy(&out.stdout);
    let mut lines = said.lines();
    match (lines.next(), lines.next()) {
        (Some(name), Some(value)) if name == key => Ok(value.to_owned()),
        _ => Err(format!("redis did not tell its {key}: {said}")),
    }
}

/// Stops Redis with a snapshot: this machine's Redis runs without persistence, and the
/// outage test is about the bus, not about configuring Redis' durability.
fn redis_shutdown(port: u16) -> Result<(), String> {
    let out = Command::new(redis_cli()?)
        .args(["-p", &port.to_string(), "shutdown", "save"])
        .output()
        .map_err(|e| format!("redis-cli: {e}"))?;
    // redis-cli exits 0 on error replies too; a successful shutdown prints nothing.
    let said = String::from_utf8_lossy(&out.stdout);
    if said.contains("ERR") {
        return Err(format!("redis refused to shut down: {said}"));
    }
    Ok(())
}

fn redis_ready(port: u16) -> bool {
    redis_cli().is_ok_and(|cli| {
        Command::new(cli)
            .args(["-p", &port.to_string(), "ping"])
            .output()
            .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "PONG")
    })
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// The pid of the process listening on `port`.
fn listening_pid(port: u16) -> Result<u32, String> {
    let out = Command::new("ss")
        .args(["-ltnpH", &format!("sport = :{port}")])
        .output()
        .map_err(|e| format!("ss: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("pid=")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|pid| pid.parse().ok())
        .ok_or_else(|| format!("nothing listens on port {port}: {text}"))
}

fn terminate(pid: u32) -> Result<(), String> {
    run(Path::new("kill"), &["-TERM", &pid.to_string()])
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn accepts(host: &str, port: u16) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let Ok(mut addresses) = std::net::ToSocketAddrs::to_socket_addrs(&(host, port)) else {
        return false;
    };
    addresses
        .next()
        .is_some_and(|address| TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok())
}

fn run(program: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} {args:?}: {}{}",
            program.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn wait_until(mut done: impl FnMut() -> bool, what: &str) -> Result<(), String> {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        if Instant::now() > deadline {
            return Err(format!("waited {PATIENCE:?} for {what}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|arg| (*arg).to_owned()).collect()
    }

    #[test]
    fn nats_comes_back_with_its_arguments_and_the_store_directory_asked_for() {
        let running = strings(&["-p", "4222", "-js", "-sd", "/srv/old", "-l", "nats.log"]);
        assert_eq!(nats_arguments(&running, None), running);
        assert_eq!(
            nats_arguments(&running, Some("/srv/new".to_owned())),
            strings(&["-p", "4222", "-js", "-l", "nats.log", "-sd", "/srv/new"])
        );
    }

    #[test]
    fn programs_are_found_on_the_path_in_order() {
        let first = tempfile_dir("first");
        let second = tempfile_dir("second");
        std::fs::write(second.join("broker"), "").expect("write");
        let path = std::env::join_paths([&first, &second]).expect("a PATH");
        assert_eq!(on_path("broker", &path), Some(second.join("broker")));
        std::fs::write(first.join("broker"), "").expect("write");
        assert_eq!(on_path("broker", &path), Some(first.join("broker")));
        assert_eq!(on_path("missing", &path), None);
        let _ = std::fs::remove_dir_all(first.parent().expect("parent"));
    }

    /// A fresh directory `name` under a directory of this test run.
    fn tempfile_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir()
            .join(format!("ddd-bus-testkit-{}", std::process::id()))
            .join(name);
        std::fs::create_dir_all(&dir).expect("create");
        dir
    }

    #[test]
    fn addresses_come_from_the_urls() {
        // The defaults; the variables are not set in this crate's tests.
        if std::env::var_os("NATS_URL").is_none() {
            assert_eq!(
                Broker::Nats.address().expect("address"),
                ("127.0.0.1".to_owned(), 4222)
            );
        }
        if std::env::var_os("AMQP_URL").is_none() {
            assert_eq!(
                Broker::RabbitMq.address().expect("address"),
                ("127.0.0.1".to_owned(), 5672)
            );
        }
    }
}
