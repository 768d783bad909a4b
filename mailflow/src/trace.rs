//! Correlation: what Postfix logs about one message on many lines, gathered
//! into one [`Message`] keyed by (host, queue id), and smtpd sessions keyed
//! by (host, pid) so that a reject on Postfix < 3.10 (no `sasl_username=` on
//! the reject line) is still tied to the account that authenticated earlier
//! in the same session.
//!
//! State is bounded: [`Tracker::evict_idle`] drops messages and sessions
//! idle (by log time) longer than the configured time, and the number of
//! messages held is capped, so memory stays flat on endless input.

use super::event::{Client, Event, Status, Verdict};
use super::syslog::UnixTime;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// A queue id stored inline (they are at most 20 characters), so looking a
/// message up never allocates.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueueId {
    len: u8,
    bytes: [u8; 20],
}

impl QueueId {
    pub fn new(qid: &str) -> Option<Self> {
        let b = qid.as_bytes();
        if b.len() > 20 {
            return None;
        }
        let mut bytes = [0; 20];
        bytes[..b.len()].copy_from_slice(b);
        Some(Self {
            len: b.len() as u8,
            bytes,
        })
    }

    pub fn as_str(&self) -> &str {
        // Built from a &str, so always UTF-8.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

impl std::fmt::Debug for QueueId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the message entered the queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Over SMTP from an outside client (or an authenticated customer).
    Smtpd,
    /// Local submission or a content filter's re-injection.
    Pickup,
    /// The first line seen was not the start (the log began mid-message).
    #[default]
    Unknown,
}

/// One recipient's latest outcome.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Recipient {
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orig_to: Option<String>,
    pub relay: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<f64>,
    pub reply: String,
    pub at: UnixTime,
    /// Delivery attempts logged for this recipient (deferrals included).
    pub attempts: u32,
}

/// Everything known about one message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Message {
    pub host: String,
    pub queue_id: String,
    pub first_at: UnixTime,
    pub last_at: UnixTime,
    pub origin: Origin,
    pub client_name: Option<String>,
    pub client_ip: Option<String>,
    pub sasl_method: Option<String>,
    pub sasl_username: Option<String>,
    pub message_id: Option<String>,
    pub sender: Option<String>,
    pub size: Option<u64>,
    pub nrcpt: Option<u32>,
    /// `spam`, `virus` or `clean`, from a content filter.
    pub verdict: Option<String>,
    /// The reply of a reject after the message got a queue id (cleanup,
    /// smtpd DATA).
    pub reject: Option<String>,
    pub recipients: Vec<Recipient>,
    pub removed: bool,
}

struct Tracked {
    message: Message,
    /// Changed since the last [`Tracker::take_dirty`].
    dirty: bool,
}

struct Session {
    sasl_username: Option<Box<str>>,
    last_at: UnixTime,
}

/// Limits on correlation state.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Messages and sessions with no line for this long (log time) are dropped.
    pub idle_secs: i64,
    /// At most this many messages are held; the oldest go first beyond it.
    pub max_messages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            idle_secs: 2 * 3600,
            max_messages: 500_000,
        }
    }
}

/// The correlation state of one stream of lines.
pub struct Tracker {
    limits: Limits,
    messages: FxHashMap<(u16, QueueId), Tracked>,
    sessions: FxHashMap<(u16, u32), Session>,
    /// Finished (removed) or evicted messages waiting for the next take.
    done: Vec<Message>,
    /// Follow messages (else only smtpd sessions).
    traces: bool,
}

impl Tracker {
    pub fn new(limits: Limits, traces: bool) -> Self {
        Self {
            limits,
            messages: FxHashMap::default(),
            sessions: FxHashMap::default(),
            done: Vec::new(),
            traces,
        }
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// The account that authenticated in the smtpd session (host, pid), if
    /// one did.
    pub fn session_account(&self, host: u16, pid: Option<u32>) -> Option<&str> {
        self.sessions
            .get(&(host, pid?))
            .and_then(|s| s.sasl_username.as_deref())
    }

    fn message(
        &mut self,
        host: u16,
        host_name: &str,
        qid: &str,
        at: UnixTime,
        origin: Origin,
    ) -> Option<&mut Message> {
        if !self.traces {
            return None;
        }
        let key = (host, QueueId::new(qid)?);
        let tracked = self.messages.entry(key).or_insert_with(|| Tracked {
            message: Message {
                host: host_name.to_string(),
                queue_id: qid.to_string(),
                first_at: at,
                last_at: at,
                origin,
                ..Message::default()
            },
            dirty: true,
        });
        tracked.dirty = true;
        let m = &mut tracked.message;
        m.last_at = m.last_at.max(at);
        Some(m)
    }

    /// Applies one event seen on `host` (interned as `host_id`) from the
    /// process `pid` at `at`.
    pub fn apply(
        &mut self,
        host_id: u16,
        host: &str,
        pid: Option<u32>,
        at: UnixTime,
        event: &Event<'_>,
    ) {
        match *event {
            Event::Connect { .. } => {
                if let Some(pid) = pid {
                    self.sessions.insert(
                        (host_id, pid),
                        Session {
                            sasl_username: None,
                            last_at: at,
                        },
                    );
                }
            }
            Event::Disconnect { .. } => {
                if let Some(pid) = pid {
                    self.sessions.remove(&(host_id, pid));
                }
            }
            Event::QueueClient {
                qid,
                client,
                sasl_method,
                sasl_username,
            } => {
                if let (Some(pid), Some(user)) = (pid, sasl_username) {
                    let s = self.sessions.entry((host_id, pid)).or_insert(Session {
                        sasl_username: None,
                        last_at: at,
                    });
                    s.last_at = at;
                    if s.sasl_username.as_deref() != Some(user) {
                        s.sasl_username = Some(user.into());
                    }
                }
                if let Some(m) = self.message(host_id, host, qid, at, Origin::Smtpd) {
                    m.origin = Origin::Smtpd;
                    set_client(m, client);
                    m.sasl_method = sasl_method.map(str::to_string);
                    m.sasl_username = sasl_username.map(str::to_string);
                }
            }
            Event::Pickup { qid, from } => {
                if let Some(m) = self.message(host_id, host, qid, at, Origin::Pickup) {
                    m.origin = Origin::Pickup;
                    m.sender = Some(from.to_string());
                }
            }
            Event::MessageId { qid, message_id } => {
                if let Some(m) = self.message(host_id, host, qid, at, Origin::Unknown) {
                    m.message_id = Some(message_id.to_string());
                }
            }
            Event::QueueFrom {
                qid,
                from,
                size,
                nrcpt,
            } => {
                if let Some(m) = self.message(host_id, host, qid, at, Origin::Unknown) {
                    if m.sender.as_deref() != Some(from) {
                        m.sender = Some(from.to_string());
                    }
                    m.size = size.or(m.size);
                    m.nrcpt = nrcpt.or(m.nrcpt);
                }
            }
            Event::Delivery {
                qid,
                to,
                orig_to,
                relay,
                delay,
                dsn,
                status,
                reply,
            } => {
                if let Some(m) = self.message(host_id, host, qid, at, Origin::Unknown) {
                    let i = match m.recipients.iter().position(|r| r.to == to) {
                        Some(i) => i,
                        None => {
                            m.recipients.push(Recipient {
                                to: to.to_string(),
                                orig_to: orig_to.map(str::to_string),
                                ..Recipient::default()
                            });
                            m.recipients.len() - 1
                        }
                    };
                    let r = &mut m.recipients[i];
                    r.relay = relay.to_string();
                    r.status = status_name(status).to_string();
                    r.dsn = dsn.map(str::to_string);
                    r.delay = delay;
                    r.reply = reply.to_string();
                    r.at = at;
                    r.attempts += 1;
                }
            }
            Event::Filter {
                qid: Some(qid),
                verdict,
            } => {
                if let Some(m) = self.message(host_id, host, qid, at, Origin::Unknown) {
                    m.verdict = Some(verdict_name(verdict).to_string());
                }
            }
            Event::Reject {
                qid: Some(qid),
                client,
                reply,
                from,
                discard: false,
                ..
            } => {
                if let Some(m) = self.message(host_id, host, qid, at, Origin::Unknown) {
                    m.reject = Some(reply.to_string());
                    if let Some(c) = client
                        && m.client_ip.is_none()
                    {
                        set_client(m, c);
                    }
                    if m.sender.is_none() {
                        m.sender = from.map(str::to_string);
                    }
                }
            }
            Event::Removed { qid } => {
                if let Some(q) = QueueId::new(qid)
                    && let Some(mut t) = self.messages.remove(&(host_id, q))
                {
                    t.message.removed = true;
                    t.message.last_at = t.message.last_at.max(at);
                    self.done.push(t.message);
                }
            }
            _ => {}
        }
    }

    /// Drops messages and sessions idle since before `now - idle_secs`, and
    /// the oldest messages beyond the cap. Dropped messages are kept for the
    /// next [`Tracker::take`] if they changed since the last one.
    pub fn evict_idle(&mut self, now: UnixTime) {
        let horizon = now - self.limits.idle_secs;
        let done = &mut self.done;
        self.messages.retain(|_, t| {
            let keep = t.message.last_at >= horizon;
            if !keep && t.dirty {
                done.push(std::mem::take(&mut t.message));
            }
            keep
        });
        self.sessions.retain(|_, s| s.last_at >= horizon);
        if self.messages.len() > self.limits.max_messages {
            let mut ages: Vec<UnixTime> =
                self.messages.values().map(|t| t.message.last_at).collect();
            let cut = ages.len() - self.limits.max_messages;
            let (_, nth, _) = ages.select_nth_unstable(cut);
            let limit = *nth;
            self.messages.retain(|_, t| {
                let keep = t.message.last_at >= limit;
                if !keep && t.dirty {
                    done.push(std::mem::take(&mut t.message));
                }
                keep
            });
        }
    }

    /// The message `qid` on `host`, while it is in flight.
    pub fn peek(&self, host: u16, qid: &str) -> Option<&Message> {
        self.messages
            .get(&(host, QueueId::new(qid)?))
            .map(|t| &t.message)
    }

    /// Messages to store now: the finished ones (which leave memory) and
    /// copies of those in flight that changed since the last take.
    pub fn take(&mut self) -> Vec<Message> {
        let mut out = std::mem::take(&mut self.done);
        for t in self.messages.values_mut() {
            if t.dirty {
                t.dirty = false;
                out.push(t.message.clone());
            }
        }
        out
    }

    /// Holds a message stored before a restart (or in an earlier file) as in
    /// flight, so that its later lines complete the same record. Does
    /// nothing if the message is already held.
    pub fn preload(&mut self, host_id: u16, message: Message) {
        if let Some(q) = QueueId::new(&message.queue_id) {
            self.messages.entry((host_id, q)).or_insert(Tracked {
                message,
                dirty: false,
            });
        }
    }
}

fn set_client(m: &mut Message, c: Client<'_>) {
    m.client_name = Some(c.host.to_string());
    m.client_ip = Some(c.ip.to_string());
}

pub fn status_name(s: Status) -> &'static str {
    match s {
        Status::Sent => "sent",
        Status::Bounced => "bounced",
        Status::Deferred => "deferred",
        Status::Expired => "expired",
        Status::Other => "other",
    }
}

pub fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Spam => "spam",
        Verdict::Virus => "virus",
        Verdict::Clean => "clean",
    }
}
