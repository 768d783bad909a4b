//! The Postfix SMTP access policy delegation daemon
//! (<https://www.postfix.org/SMTPD_POLICY_README.html>).
//!
//! Postfix sends `name=value` lines ended by an empty line and reads one
//! `action=…` line and an empty line back, over a connection it keeps for
//! many requests. A request whose `client_address` or `sasl_username` is
//! blocked gets `action=REJECT <text> (block N)`; every other request,
//! including one this daemon cannot make sense of, gets `action=DUNNO`, so
//! the daemon never stands between Postfix and mail it has no opinion on.
//! Unknown attributes are ignored.
//!
//! Connections are limited so that idle or hostile clients cannot take
//! every place from Postfix:
//! - a line or request over the size limits is closed;
//! - a connection is closed `idle` after its last complete request (or its
//!   start): empty requests and partly sent lines do not count, and a
//!   request must be complete `request` after its first line;
//! - at most `max_connections` at once and `max_per_client` from one
//!   address: when a new connection would pass a limit, the connection
//!   idle the longest (of that address, for the per-address limit) is
//!   closed to make room. Postfix reconnects when it next needs the daemon.
//!   The new connection is refused only when every candidate is in the
//!   middle of a request (which `request` bounds).

use super::blocks::{Shared, reject_line};
use crate::config::DefenceConfig;
use mailflow::SubjectKind;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;

/// Longest attribute line accepted (Postfix's own values are far shorter).
pub const MAX_LINE: usize = 4096;
/// Most attribute lines in one request.
pub const MAX_ATTRIBUTES: usize = 100;

#[derive(Clone, Debug)]
pub struct Options {
    pub reject_text: String,
    pub max_connections: usize,
    /// Most connections from one client address.
    pub max_per_client: usize,
    /// Closed this long after the last complete request.
    pub idle: Duration,
    /// A request must be complete this long after its first line.
    pub request: Duration,
}

impl Options {
    /// The options `[defence]` sets.
    pub fn from_config(cfg: &DefenceConfig) -> Self {
        Self {
            reject_text: cfg.reject_text.clone(),
            max_connections: cfg.max_connections.max(1),
            max_per_client: cfg.max_connections_per_client.max(1),
            idle: Duration::from_secs(cfg.idle_secs.max(1)),
            request: Duration::from_secs(cfg.request_secs.max(1)),
        }
    }
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
        .map(|id| (id, SubjectKind::Ip))
        .or_else(|| {
            request
                .sasl_username
                .as_deref()
                .and_then(|u| snapshot.account(u))
                .map(|id| (id, SubjectKind::Account))
        });
    match block {
        Some((id, kind)) => {
            shared.hit(id, kind, super::blocks::now());
            format!("action=REJECT {}\n\n", reject_line(reject_text, id))
        }
        None => "action=DUNNO\n\n".to_string(),
    }
}

/// One open connection, as the admission rules see it.
struct Slot {
    peer: IpAddr,
    /// Since when it waits for a request; `None` while it reads one.
    idle_since: Option<Instant>,
    /// Told when the connection must close to make room.
    evict: Arc<Notify>,
}

/// The open connections.
#[derive(Default)]
struct Slots {
    open: HashMap<u64, Slot>,
    per_client: HashMap<IpAddr, usize>,
    next_id: u64,
}

impl Slots {
    /// Makes room for a connection from `peer` under the limits, closing
    /// the connection idle the longest where one must go; its id and
    /// eviction signal, or `None` when no place could be freed.
    fn admit(&mut self, peer: IpAddr, opts: &Options) -> Option<(u64, Arc<Notify>)> {
        if self.per_client.get(&peer).copied().unwrap_or(0) >= opts.max_per_client {
            self.evict_oldest_idle(Some(peer))?;
        }
        if self.open.len() >= opts.max_connections {
            self.evict_oldest_idle(None)?;
        }
        let id = self.next_id;
        self.next_id += 1;
        let evict = Arc::new(Notify::new());
        self.open.insert(
            id,
            Slot {
                peer,
                idle_since: Some(Instant::now()),
                evict: evict.clone(),
            },
        );
        *self.per_client.entry(peer).or_default() += 1;
        Some((id, evict))
    }

    /// Closes (forgets at once, and signals) the connection idle the
    /// longest, of `peer` only when given.
    fn evict_oldest_idle(&mut self, peer: Option<IpAddr>) -> Option<()> {
        let (&id, _) = self
            .open
            .iter()
            .filter(|(_, s)| peer.is_none_or(|p| s.peer == p))
            .filter_map(|(id, s)| s.idle_since.map(|t| (id, t)))
            .min_by_key(|(_, t)| *t)?;
        let slot = self.remove(id)?;
        tracing::info!(peer = %slot.peer, "policy daemon: closing the longest-idle connection to make room");
        slot.evict.notify_one();
        Some(())
    }

    fn remove(&mut self, id: u64) -> Option<Slot> {
        let slot = self.open.remove(&id)?;
        if let Some(n) = self.per_client.get_mut(&slot.peer) {
            *n -= 1;
            if *n == 0 {
                self.per_client.remove(&slot.peer);
            }
        }
        Some(slot)
    }

    fn set_idle(&mut self, id: u64, idle: bool) {
        if let Some(slot) = self.open.get_mut(&id) {
            slot.idle_since = idle.then(Instant::now);
        }
    }
}

/// A connection's place among [`Slots`], given back when it is dropped.
struct Admitted {
    slots: Arc<Mutex<Slots>>,
    id: u64,
}

impl Admitted {
    fn set_idle(&self, idle: bool) {
        lock(&self.slots).set_idle(self.id, idle);
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        lock(&self.slots).remove(self.id);
    }
}

fn lock(slots: &Mutex<Slots>) -> std::sync::MutexGuard<'_, Slots> {
    slots.lock().unwrap_or_else(|e| e.into_inner())
}

/// Accepts policy connections on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, opts: Options) {
    let slots = Arc::new(Mutex::new(Slots::default()));
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
        let admitted = lock(&slots).admit(peer.ip(), &opts);
        let Some((id, evict)) = admitted else {
            tracing::warn!(%peer, "policy daemon: every connection is busy, closing a new one");
            drop(stream);
            continue;
        };
        let admitted = Admitted {
            slots: slots.clone(),
            id,
        };
        let (shared, opts) = (shared.clone(), opts.clone());
        tokio::spawn(async move {
            tokio::select! {
                result = connection(stream, &shared, &opts, &admitted) => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, "policy connection closed: {e}");
                    }
                }
                () = evict.notified() => {
                    tracing::debug!(%peer, "policy connection closed to make room");
                }
            }
            drop(admitted);
        });
    }
}

/// Why a connection was closed early.
#[derive(Debug, thiserror::Error)]
enum Closed {
    #[error("idle for too long")]
    Idle,
    #[error("a request took too long")]
    SlowRequest,
    #[error("a line longer than {MAX_LINE} bytes")]
    LongLine,
    #[error("more than {MAX_ATTRIBUTES} attributes")]
    TooManyAttributes,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

async fn connection(
    stream: TcpStream,
    shared: &Shared,
    opts: &Options,
    admitted: &Admitted,
) -> Result<(), Closed> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::with_capacity(8 * 1024, read);
    let mut line = Vec::with_capacity(256);
    let mut request = Request::default();
    let mut attributes = 0;
    // Waiting for a request: closed at `deadline` unless one completes.
    // Reading one: closed at `deadline` unless it completes.
    let mut deadline = Instant::now() + opts.idle;
    loop {
        line.clear();
        let mut limited = (&mut read).take(MAX_LINE as u64 + 1);
        let n = tokio::time::timeout_at(deadline, limited.read_until(b'\n', &mut line))
            .await
            .map_err(|_| {
                if attributes == 0 {
                    Closed::Idle
                } else {
                    Closed::SlowRequest
                }
            })??;
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
            if attributes > 0 {
                // A real request: the connection is in use.
                deadline = Instant::now() + opts.idle;
                admitted.set_idle(true);
            }
            request = Request::default();
            attributes = 0;
            continue;
        }
        attributes += 1;
        if attributes > MAX_ATTRIBUTES {
            return Err(Closed::TooManyAttributes);
        }
        if attributes == 1 {
            deadline = Instant::now() + opts.request;
            admitted.set_idle(false);
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
                subject: mailflow::SubjectKind::Ip,
                target: "192.0.2.0/24".into(),
            },
            ActiveBlock {
                id: 4,
                subject: mailflow::SubjectKind::Account,
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
