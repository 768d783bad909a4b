//! The Postfix SMTP access policy delegation daemon
//! (<https://www.postfix.org/SMTPD_POLICY_README.html>).
//!
//! Postfix sends `name=value` lines ended by an empty line and reads one
//! `action=…` line and an empty line back, over a connection it keeps for
//! many requests. A request whose `client_address` or `sasl_username` is
//! blocked gets `action=REJECT <text> (block N)`; every other request,
//! including one this daemon cannot make sense of, gets `action=DUNNO`, so
//! the daemon never stands between Postfix and mail it has no opinion on.
//! Unknown attributes are ignored. A line or request over the size limits,
//! or a connection silent for `idle`, is closed; connections beyond
//! `max_connections` are closed on arrival.

use super::blocks::{Shared, reject_line};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Longest attribute line accepted (Postfix's own values are far shorter).
pub const MAX_LINE: usize = 4096;
/// Most attribute lines in one request.
pub const MAX_ATTRIBUTES: usize = 100;

#[derive(Clone, Debug)]
pub struct Options {
    pub reject_text: String,
    pub max_connections: usize,
    pub idle: Duration,
}

/// What one request asks about.
#[derive(Debug, Default, PartialEq, Eq)]
struct Request {
    client_address: Option<IpAddr>,
    sasl_username: Option<String>,
}

impl Request {
    /// Notes one `name=value` line; anything else is ignored.
    fn attribute(&mut self, line: &[u8]) {
        let Some(eq) = memchr::memchr(b'=', line) else {
            return;
        };
        let (name, value) = (&line[..eq], &line[eq + 1..]);
        match name {
            b"client_address" => {
                self.client_address = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.trim().parse().ok());
            }
            b"sasl_username" => {
                self.sasl_username = std::str::from_utf8(value)
                    .ok()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string);
            }
            _ => {}
        }
    }
}

/// The answer to `request` under the blocks in `shared`, counting a hit
/// on the block that refuses it.
fn decide(shared: &Shared, request: &Request, reject_text: &str) -> String {
    let snapshot = shared.snapshot();
    let block = request
        .client_address
        .and_then(|ip| snapshot.client(ip))
        .or_else(|| {
            request
                .sasl_username
                .as_deref()
                .and_then(|u| snapshot.account(u))
        });
    match block {
        Some(id) => {
            shared.hit(id);
            format!("action=REJECT {}\n\n", reject_line(reject_text, id))
        }
        None => "action=DUNNO\n\n".to_string(),
    }
}

/// Accepts policy connections on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, opts: Options) {
    let slots = Arc::new(Semaphore::new(opts.max_connections.max(1)));
    let opts = Arc::new(opts);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                tracing::warn!("policy daemon: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "policy daemon: too many connections, closing one");
            drop(stream);
            continue;
        };
        let (shared, opts) = (shared.clone(), opts.clone());
        tokio::spawn(async move {
            if let Err(e) = connection(stream, &shared, &opts).await {
                tracing::debug!(%peer, "policy connection closed: {e}");
            }
            drop(slot);
        });
    }
}

/// Why a connection was closed early.
#[derive(Debug, thiserror::Error)]
enum Closed {
    #[error("idle for too long")]
    Idle,
    #[error("a line longer than {MAX_LINE} bytes")]
    LongLine,
    #[error("more than {MAX_ATTRIBUTES} attributes")]
    TooManyAttributes,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

async fn connection(stream: TcpStream, shared: &Shared, opts: &Options) -> Result<(), Closed> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::with_capacity(8 * 1024, read);
    let mut line = Vec::with_capacity(256);
    let mut request = Request::default();
    let mut attributes = 0;
    loop {
        line.clear();
        let n = tokio::time::timeout(
            opts.idle,
            (&mut read)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut line),
        )
        .await
        .map_err(|_| Closed::Idle)??;
        if n == 0 {
            return Ok(()); // Postfix closed the connection
        }
        if line.last() != Some(&b'\n') {
            if line.len() > MAX_LINE {
                return Err(Closed::LongLine);
            }
            return Ok(()); // closed halfway through a line
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.is_empty() {
            let answer = decide(shared, &request, &opts.reject_text);
            write.write_all(answer.as_bytes()).await?;
            request = Request::default();
            attributes = 0;
            continue;
        }
        attributes += 1;
        if attributes > MAX_ATTRIBUTES {
            return Err(Closed::TooManyAttributes);
        }
        request.attribute(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defence::blocks::{ActiveBlock, Snapshot};

    fn request(lines: &[&str]) -> Request {
        let mut r = Request::default();
        for l in lines {
            r.attribute(l.as_bytes());
        }
        r
    }

    #[test]
    fn reads_the_attributes_it_needs_and_ignores_the_rest() {
        let r = request(&[
            "request=smtpd_access_policy",
            "protocol_state=RCPT",
            "client_address=192.0.2.7",
            "sasl_username=",
            "no equals sign",
            "ccert_subject=a=b=c",
            "client_address\u{0}=x",
        ]);
        assert_eq!(
            r,
            Request {
                client_address: Some("192.0.2.7".parse().unwrap()),
                sasl_username: None
            }
        );
        let r = request(&["client_address=not-an-ip", "sasl_username=joao@example.com"]);
        assert_eq!(r.client_address, None);
        assert_eq!(r.sasl_username.as_deref(), Some("joao@example.com"));
    }

    #[test]
    fn blocked_clients_and_accounts_are_rejected_and_counted() {
        let shared = Shared::new(Snapshot::new(vec![
            ActiveBlock {
                id: 3,
                subject: "ip".into(),
                target: "192.0.2.0/24".into(),
            },
            ActiveBlock {
                id: 4,
                subject: "account".into(),
                target: "joao@example.com".into(),
            },
        ]));
        let ask = |lines: &[&str]| decide(&shared, &request(lines), "No");
        assert_eq!(
            ask(&["client_address=192.0.2.9"]),
            "action=REJECT No (block 3)\n\n"
        );
        assert_eq!(
            ask(&[
                "client_address=203.0.113.1",
                "sasl_username=Joao@example.com"
            ]),
            "action=REJECT No (block 4)\n\n"
        );
        assert_eq!(ask(&["client_address=203.0.113.1"]), "action=DUNNO\n\n");
        assert_eq!(ask(&[]), "action=DUNNO\n\n");
    }
}
