//! Stopping and starting the machine's brokers, the way they run here, for outage tests.
//!
//! A broker is found by the port of its URL (the process listening on it is the one
//! stopped, by pid) and started again with the command this machine uses. An [`Outage`]
//! restarts its broker when dropped, so a failing test leaves it running.

use std::net::TcpStream;
use std::process::Command;
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
        let (var, default) = match self {
            Self::Nats => ("NATS_URL", "nats://127.0.0.1:4222"),
            Self::Redis => ("REDIS_URL", "redis://127.0.0.1:6379"),
            Self::RabbitMq => ("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f"),
        };
        std::env::var(var).unwrap_or_else(|_| default.to_owned())
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
        let pid = listening_pid(port)?;
        match self {
            Self::Nats => terminate(pid)?,
            Self::Redis => redis_shutdown(port)?,
            Self::RabbitMq => run("rabbitmqctl", &["stop"])?,
        }
        wait_until(
            || !alive(pid) && !accepts(&host, port),
            "the broker stopped",
        )?;
        Ok(Outage {
            broker: self,
            host,
            port,
            running: false,
        })
    }

    fn start(self, host: &str, port: u16) -> Result<(), String> {
        match self {
            Self::Nats => run(
                "start-stop-daemon",
                &[
                    "--start",
                    "--oknodo",
                    "--background",
                    "--exec",
                    "/usr/sbin/nats-server",
                    "--",
                    "-a",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-js",
                    "-sd",
                    "/var/lib/nats-server",
                    "-l",
                    "/var/log/nats-server.log",
                ],
            )?,
            Self::Redis => {
                run(
                    "redis-server",
                    &[
                        "--daemonize",
                        "yes",
                        "--bind",
                        "127.0.0.1",
                        "-::1",
                        "--port",
                        &port.to_string(),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        "/var/lib/redis",
                        "--logfile",
                        "/var/log/redis/ci.log",
                    ],
                )?;
                wait_until(|| redis_ready(port), "redis loaded its data")?;
                // The snapshot only carried the data over the restart: the machine runs
                // Redis without persistence, and a stale dump must not come back later.
                let _ = std::fs::remove_file(REDIS_DUMP);
            }
            Self::RabbitMq => run("rabbitmq-server", &["-detached"])?,
        }
        wait_until(|| accepts(host, port), "the broker accepts connections")
    }
}

/// A stopped broker. [`Outage::restore`] starts it; dropping it does the same.
#[derive(Debug)]
pub struct Outage {
    broker: Broker,
    host: String,
    port: u16,
    running: bool,
}

impl Outage {
    /// Starts the broker and waits until it accepts connections; returns how long that took.
    pub fn restore(&mut self) -> Result<Duration, String> {
        let started = Instant::now();
        if !self.running {
            self.broker.start(&self.host, self.port)?;
            self.running = true;
        }
        Ok(started.elapsed())
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if let Err(e) = self.restore() {
            // Nothing else can be done from a destructor; say it loudly.
            eprintln!("ddd-bus-testkit: could not restart {:?}: {e}", self.broker);
        }
    }
}

/// Where `SHUTDOWN SAVE` leaves Redis' data (`--dir /var/lib/redis`, default file name).
const REDIS_DUMP: &str = "/var/lib/redis/dump.rdb";

/// Stops Redis with a snapshot: this machine's Redis runs without persistence, and the
/// outage test is about the bus, not about configuring Redis' durability.
fn redis_shutdown(port: u16) -> Result<(), String> {
    let out = Command::new("redis-cli")
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
    Command::new("redis-cli")
        .args(["-p", &port.to_string(), "ping"])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "PONG")
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
    run("kill", &["-TERM", &pid.to_string()])
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

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {args:?}: {}{}",
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
