//! A minimal HTTP/1.1 client over one kept-alive `TcpStream`: a request at a time, the
//! response read whole (`Content-Length` or chunked). Enough for a generated service, and
//! nothing between the timer and the socket but a buffered reader.

use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// What the client keeps of a response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// The `Consistency-Token` header.
    pub token: Option<String>,
    /// The `Location` header.
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text, for error messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One connection to the service, reopened when the server closes it.
#[derive(Debug)]
pub struct Connection {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
    head: String,
    line: String,
}

impl Connection {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            stream: None,
            head: String::with_capacity(512),
            line: String::with_capacity(256),
        }
    }

    /// `GET path`, sending `Consistency-Token: token` when there is one.
    pub async fn get(&mut self, path: &str, token: Option<&str>) -> io::Result<Response> {
        self.send("GET", path, token, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&mut self, path: &str, body: &str) -> io::Result<Response> {
        self.send("POST", path, None, Some(body)).await
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> io::Result<Response> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr).await?;
            stream.set_nodelay(true)?;
            self.stream = Some(BufReader::with_capacity(16 * 1024, stream));
        }
        self.head.clear();
        let _ = write!(
            self.head,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n",
            self.addr
        );
        if let Some(token) = token {
            let _ = write!(self.head, "Consistency-Token: {token}\r\n");
        }
        if let Some(body) = body {
            let _ = write!(
                self.head,
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        } else {
            self.head.push_str("\r\n");
        }
        let Some(stream) = self.stream.as_mut() else {
            unreachable!("connected above")
        };
        let (head, line) = (&self.head, &mut self.line);
        let result = async {
            stream.get_mut().write_all(head.as_bytes()).await?;
            read_response(stream, line).await
        }
        .await;
        match result {
            Ok((response, keep_alive)) => {
                if !keep_alive {
                    self.stream = None;
                }
                Ok(response)
            }
            Err(error) => {
                self.stream = None;
                Err(error)
            }
        }
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("bad response: {what}"))
}

async fn read_line(stream: &mut BufReader<TcpStream>, line: &mut String) -> io::Result<()> {
    line.clear();
    if stream.read_line(line).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection",
        ));
    }
    Ok(())
}

/// Reads one response; whether the connection stays open.
async fn read_response(
    stream: &mut BufReader<TcpStream>,
    line: &mut String,
) -> io::Result<(Response, bool)> {
    read_line(stream, line).await?;
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid(line))?;
    let mut length = None;
    let mut chunked = false;
    let mut keep_alive = true;
    let mut token = None;
    let mut location = None;
    loop {
        read_line(stream, line).await?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').ok_or_else(|| invalid(header))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| invalid(header))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            keep_alive = !value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("consistency-token") {
            token = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("location") {
            location = Some(value.to_owned());
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            read_line(stream, line).await?;
            let size = line.trim_end().split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size, 16).map_err(|_| invalid(line))?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    read_line(stream, line).await?;
                    if line.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            stream.read_exact(&mut body[start..]).await?;
            let mut crlf = [0; 2];
            stream.read_exact(&mut crlf).await?;
        }
    } else if let Some(length) = length {
        body.resize(length, 0);
        stream.read_exact(&mut body).await?;
    } else if !(status == 204 || status == 304 || (100..200).contains(&status)) {
        stream.read_to_end(&mut body).await?;
        keep_alive = false;
    }
    Ok((
        Response {
            status,
            token,
            location,
            body,
        },
        keep_alive,
    ))
}
