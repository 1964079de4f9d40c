//! A POP3 client (RFC 1939, STLS from RFC 2595): just what intake needs —
//! log in, list messages by UIDL, retrieve, delete, quit. Deletions take
//! effect only at `QUIT`.

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use super::connect::{self, Conn, ConnectError};
use super::settings::{Endpoint, Security};

/// Longest status or listing line accepted.
const MAX_LINE: usize = 4096;

/// Why a POP3 exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum Pop3Error {
    /// Connecting, TLS or the network failed.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The server answered `-ERR` or something else than expected.
    #[error("the POP3 server answered `{0}`")]
    Refused(String),
    /// The server broke the protocol.
    #[error("{0}")]
    Protocol(String),
}

impl From<std::io::Error> for Pop3Error {
    fn from(err: std::io::Error) -> Self {
        Pop3Error::Connect(ConnectError::Io(err))
    }
}

/// A logged-in POP3 session.
pub struct Pop3 {
    conn: BufReader<Conn>,
    endpoint: Endpoint,
}

impl Pop3 {
    /// Connects, secures the connection as the endpoint says and logs in.
    pub async fn connect(endpoint: &Endpoint) -> Result<Pop3, Pop3Error> {
        let default_port = if endpoint.security == Security::Tls {
            995
        } else {
            110
        };
        let conn = connect::open(endpoint, default_port).await?;
        let mut pop = Pop3 {
            conn: BufReader::new(conn),
            endpoint: endpoint.clone(),
        };
        pop.status().await?;
        if endpoint.security == Security::Starttls {
            pop.command("STLS").await?;
            let Pop3 { conn, endpoint } = pop;
            let conn = connect::upgrade(&endpoint, conn.into_inner()).await?;
            pop = Pop3 {
                conn: BufReader::new(conn),
                endpoint,
            };
        }
        let user = endpoint.user.clone().unwrap_or_default();
        let password = endpoint.password().unwrap_or_default();
        pop.command(&format!("USER {user}")).await?;
        pop.command(&format!("PASS {password}")).await?;
        Ok(pop)
    }

    async fn read_line(&mut self) -> Result<Vec<u8>, Pop3Error> {
        let mut line = Vec::new();
        let read = connect::timed(&self.endpoint, async {
            (&mut self.conn)
                .take(MAX_LINE as u64 + 2)
                .read_until(b'\n', &mut line)
                .await
                .map_err(Pop3Error::from)
        })
        .await?;
        if read == 0 {
            return Err(Pop3Error::Protocol(
                "the POP3 server closed the connection".into(),
            ));
        }
        if !line.ends_with(b"\n") {
            return Err(Pop3Error::Protocol("a POP3 line is too long".into()));
        }
        Ok(line)
    }

    /// Reads a status line: `+OK ...` gives the rest.
    async fn status(&mut self) -> Result<String, Pop3Error> {
        let line = self.read_line().await?;
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        match text.strip_prefix("+OK") {
            Some(rest) => Ok(rest.trim().to_string()),
            None => Err(Pop3Error::Refused(redact(&text))),
        }
    }

    async fn command(&mut self, command: &str) -> Result<String, Pop3Error> {
        let line = format!("{command}\r\n");
        let conn = self.conn.get_mut();
        connect::timed(&self.endpoint, async {
            conn.write_all(line.as_bytes())
                .await
                .map_err(Pop3Error::from)
        })
        .await?;
        self.status().await
    }

    /// Reads a multi-line body up to the lone `.`, undoing dot-stuffing;
    /// at most `limit` bytes are kept (the rest is read and dropped), and
    /// whether it was cut is returned.
    async fn multiline(&mut self, limit: usize) -> Result<(Vec<u8>, bool), Pop3Error> {
        let mut body = Vec::new();
        let mut cut = false;
        loop {
            let mut line = Vec::new();
            let conn = &mut self.conn;
            let read = connect::timed(&self.endpoint, async {
                conn.read_until(b'\n', &mut line)
                    .await
                    .map_err(Pop3Error::from)
            })
            .await?;
            if read == 0 {
                return Err(Pop3Error::Protocol(
                    "the POP3 server closed the connection in a listing".into(),
                ));
            }
            if line == b".\r\n" || line == b".\n" {
                return Ok((body, cut));
            }
            let line = line.strip_prefix(b".").unwrap_or(&line);
            if body.len() + line.len() > limit {
                cut = true;
            } else {
                body.extend_from_slice(line);
            }
        }
    }

    /// Every message's number and unique id.
    pub async fn uidl(&mut self) -> Result<Vec<(u32, String)>, Pop3Error> {
        self.command("UIDL").await?;
        let (listing, _) = self.multiline(64 * 1024 * 1024).await?;
        String::from_utf8_lossy(&listing)
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let mut parts = line.split_whitespace();
                match (parts.next().and_then(|n| n.parse().ok()), parts.next()) {
                    (Some(number), Some(uid)) => Ok((number, uid.to_string())),
                    _ => Err(Pop3Error::Protocol(format!("bad UIDL line `{line}`"))),
                }
            })
            .collect()
    }

    /// Retrieves message `number`, keeping at most `limit` bytes; `true`
    /// with it when it was longer.
    pub async fn retr(&mut self, number: u32, limit: usize) -> Result<(Vec<u8>, bool), Pop3Error> {
        self.command(&format!("RETR {number}")).await?;
        self.multiline(limit).await
    }

    /// Marks message `number` deleted (done at `QUIT`).
    pub async fn dele(&mut self, number: u32) -> Result<(), Pop3Error> {
        self.command(&format!("DELE {number}")).await.map(|_| ())
    }

    /// Ends the session, applying the deletions.
    pub async fn quit(mut self) -> Result<(), Pop3Error> {
        self.command("QUIT").await.map(|_| ())
    }
}

/// A server answer with any echo of a password left out.
fn redact(text: &str) -> String {
    if text.to_ascii_uppercase().contains("PASS") {
        "-ERR (authentication refused)".into()
    } else {
        text.chars().take(200).collect()
    }
}
