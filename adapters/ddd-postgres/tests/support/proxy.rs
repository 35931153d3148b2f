//! A TCP proxy on loopback in front of PostgreSQL that can lose one reply: once the client
//! sends bytes containing a marker (an event id inside a Bind message), the next bytes the
//! server sends back (the result, sent after the commit) are dropped and both connections
//! closed. The server committed; the client never hears of it.
#![allow(dead_code, reason = "each test binary uses a part of the proxy")]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Default)]
struct Trap {
    /// Cut the reply that follows a client message containing these bytes.
    marker: Option<Vec<u8>>,
    /// The marker went by: the next server bytes are dropped.
    sprung: bool,
    /// How many replies were cut.
    cut: u32,
}

pub(crate) struct Proxy {
    address: SocketAddr,
    trap: Arc<Mutex<Trap>>,
    _stop: watch::Sender<()>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`; with `delay`, starts
    /// listening only after it (a server that comes up late).
    pub(crate) async fn start(upstream: SocketAddr, delay: std::time::Duration) -> Self {
        let probe = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = probe.local_addr().expect("address");
        drop(probe);
        let trap = Arc::new(Mutex::new(Trap::default()));
        let (stop, stopped) = watch::channel(());
        tokio::spawn(accept(address, upstream, delay, Arc::clone(&trap), stopped));
        Self {
            address,
            trap,
            _stop: stop,
        }
    }

    pub(crate) fn port(&self) -> u16 {
        self.address.port()
    }

    /// Loses the reply to the next client message that contains `marker`.
    pub(crate) fn cut_reply_after(&self, marker: &[u8]) {
        let mut trap = self.trap.lock().unwrap_or_else(PoisonError::into_inner);
        trap.marker = Some(marker.to_vec());
        trap.sprung = false;
    }

    pub(crate) fn replies_cut(&self) -> u32 {
        self.trap.lock().unwrap_or_else(PoisonError::into_inner).cut
    }
}

async fn accept(
    address: SocketAddr,
    upstream: SocketAddr,
    delay: std::time::Duration,
    trap: Arc<Mutex<Trap>>,
    mut stopped: watch::Receiver<()>,
) {
    tokio::time::sleep(delay).await;
    let listener = TcpListener::bind(address)
        .await
        .expect("bind the proxy port");
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else { return };
                let Ok(server) = TcpStream::connect(upstream).await else { continue };
                tokio::spawn(pipe(client, server, Arc::clone(&trap)));
            }
        }
    }
}

async fn pipe(client: TcpStream, server: TcpStream, trap: Arc<Mutex<Trap>>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = {
        let trap = Arc::clone(&trap);
        async move {
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let n = match client_read.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                {
                    let mut trap = trap.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Some(marker) = &trap.marker
                        && buffer[..n]
                            .windows(marker.len())
                            .any(|w| w == marker.as_slice())
                    {
                        trap.marker = None;
                        trap.sprung = true;
                    }
                }
                if server_write.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        }
    };
    let downstream = async move {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = match server_read.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            {
                let mut trap = trap.lock().unwrap_or_else(PoisonError::into_inner);
                if trap.sprung {
                    trap.sprung = false;
                    trap.cut += 1;
                    return;
                }
            }
            if client_write.write_all(&buffer[..n]).await.is_err() {
                return;
            }
        }
    };
    // Whichever direction ends first closes both: a cut reply drops the client's socket.
    tokio::select! {
        () = upstream => {}
        () = downstream => {}
    }
}
