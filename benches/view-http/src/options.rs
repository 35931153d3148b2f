//! The `--name value` options of the HTTP benchmarks' clients (this one and the shop flow's,
//! which includes this file).

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;

/// `--name value` pairs.
pub struct Options(HashMap<String, String>);

impl Options {
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = HashMap::new();
        let mut args = args.iter();
        while let Some(name) = args.next() {
            let name = name
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected `{name}`"))?;
            let value = args
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            options.insert(name.to_owned(), value.clone());
        }
        Ok(Self(options))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `--name` as a number, `default` when absent.
    pub fn number<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        self.get(name).map_or(Ok(default), |value| {
            value
                .parse()
                .map_err(|_| format!("--{name} `{value}` is not a number"))
        })
    }

    /// `--name` as a socket address.
    pub fn addr(&self, name: &str) -> Result<SocketAddr, String> {
        let addr = self.get(name).ok_or_else(|| format!("--{name} is required"))?;
        addr.to_socket_addrs()
            .map_err(|error| format!("--{name} {addr}: {error}"))?
            .next()
            .ok_or_else(|| format!("--{name} {addr}: no address"))
    }
}
