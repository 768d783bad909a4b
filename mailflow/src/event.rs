//! What a Postfix (or content filter) log message says, as a typed event.
//!
//! [`classify`] looks at the daemon first and at fixed prefixes before
//! anything else; no regex runs here. Fields borrow from the line. Messages
//! that matter to no count are [`Event::Other`].

use super::syslog::Header;

/// A remote SMTP client as Postfix prints it: `host[ip]` (maybe `:port`).
/// Generic over how its text is held, like [`Ev`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cl<S> {
    pub host: S,
    pub ip: S,
}

/// A client borrowing from its line.
pub type Client<'a> = Cl<&'a str>;

impl<'a> Client<'a> {
    /// Parses `host[ip]` or `host[ip]:port` at the start of `s`; returns
    /// the client and the rest after it.
    pub fn parse_prefix(s: &'a str) -> Option<(Self, &'a str)> {
        let open = memchr::memchr(b'[', s.as_bytes())?;
        let close = open + memchr::memchr(b']', &s.as_bytes()[open..])?;
        let host = &s[..open];
        if memchr::memchr(b' ', host.as_bytes()).is_some() {
            return None;
        }
        let mut rest = &s[close + 1..];
        if let Some(port) = rest.strip_prefix(':')
            && port.starts_with(|c: char| c.is_ascii_digit())
        {
            rest = port.trim_start_matches(|c: char| c.is_ascii_digit());
        }
        Some((
            Client {
                host,
                ip: &s[open + 1..close],
            },
            rest,
        ))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Sent,
    Bounced,
    Deferred,
    Expired,
    /// `deliverable`, `undeliverable` (address verification) and the like.
    Other,
}

/// An event borrowing from its line.
pub type Event<'a> = Ev<&'a str>;

/// An event as byte spans (start, end) of the line it was read from.
pub type EventSpans = Ev<(u32, u32)>;

impl<S> Cl<S> {
    fn map<T>(self, f: &mut impl FnMut(S) -> T) -> Cl<T> {
        Cl {
            host: f(self.host),
            ip: f(self.ip),
        }
    }
}

impl<S> Ev<S> {
    /// The same event with each text field passed through `f`.
    pub fn map<T>(self, mut f: impl FnMut(S) -> T) -> Ev<T> {
        let f = &mut f;
        match self {
            Ev::Connect { client } => Ev::Connect {
                client: client.map(f),
            },
            Ev::Disconnect { client } => Ev::Disconnect {
                client: client.map(f),
            },
            Ev::QueueClient {
                qid,
                client,
                sasl_method,
                sasl_username,
            } => Ev::QueueClient {
                qid: f(qid),
                client: client.map(f),
                sasl_method: sasl_method.map(&mut *f),
                sasl_username: sasl_username.map(&mut *f),
            },
            Ev::Reject {
                qid,
                stage,
                client,
                reply,
                from,
                to,
                sasl_username,
                discard,
                milter,
            } => Ev::Reject {
                qid: qid.map(&mut *f),
                stage: f(stage),
                client: client.map(|c| c.map(f)),
                reply: f(reply),
                from: from.map(&mut *f),
                to: to.map(&mut *f),
                sasl_username: sasl_username.map(&mut *f),
                discard,
                milter,
            },
            Ev::SaslFailure {
                client,
                method,
                username,
            } => Ev::SaslFailure {
                client: client.map(f),
                method: f(method),
                username: username.map(&mut *f),
            },
            Ev::RateLimit { client } => Ev::RateLimit {
                client: client.map(|c| c.map(f)),
            },
            Ev::MessageId { qid, message_id } => Ev::MessageId {
                qid: f(qid),
                message_id: f(message_id),
            },
            Ev::QueueFrom {
                qid,
                from,
                size,
                nrcpt,
            } => Ev::QueueFrom {
                qid: f(qid),
                from: f(from),
                size,
                nrcpt,
            },
            Ev::Pickup { qid, from } => Ev::Pickup {
                qid: f(qid),
                from: f(from),
            },
            Ev::Delivery {
                qid,
                to,
                orig_to,
                relay,
                delay,
                dsn,
                status,
                reply,
            } => Ev::Delivery {
                qid: f(qid),
                to: f(to),
                orig_to: orig_to.map(&mut *f),
                relay: f(relay),
                delay,
                dsn: dsn.map(&mut *f),
                status,
                reply: f(reply),
            },
            Ev::Removed { qid } => Ev::Removed { qid: f(qid) },
            Ev::Filter { qid, verdict } => Ev::Filter {
                qid: qid.map(&mut *f),
                verdict,
            },
            Ev::Other => Ev::Other,
        }
    }
}

impl<'a> Event<'a> {
    /// Where the text fields of `self` are in `line`, the bytes it was
    /// classified from.
    pub fn spans(self, line: &'a [u8]) -> EventSpans {
        let base = line.as_ptr() as usize;
        self.map(|part: &str| {
            let start = (part.as_ptr() as usize).wrapping_sub(base) as u32;
            (start, start.wrapping_add(part.len() as u32))
        })
    }
}

impl EventSpans {
    /// The event again, from the same `line` it was classified from (a
    /// span that does not fit another text reads as empty).
    pub fn event(self, line: &str) -> Event<'_> {
        self.map(|(a, b)| line.get(a as usize..b as usize).unwrap_or(""))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Spam,
    Virus,
    Clean,
}

/// What a line says. Its text fields are `S`: `&str` slices of the line
/// ([`Event`]), or byte spans of it ([`EventSpans`]) so that one thread
/// classifies the lines of a block and another counts them, with no
/// borrow crossing threads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ev<S> {
    /// smtpd `connect from host[ip]`: a session begins (keyed by host, pid).
    Connect {
        client: Cl<S>,
    },
    /// smtpd `disconnect from host[ip] …`: the session ends.
    Disconnect {
        client: Cl<S>,
    },
    /// smtpd `QID: client=host[ip][, sasl_method=M, sasl_username=U]`.
    QueueClient {
        qid: S,
        client: Cl<S>,
        sasl_method: Option<S>,
        sasl_username: Option<S>,
    },
    /// `reject:`, `milter-reject:` or `discard:` from smtpd, cleanup or postscreen.
    Reject {
        qid: Option<S>,
        /// The SMTP stage, e.g. `RCPT`, `DATA`, `END-OF-MESSAGE`, `CONNECT`, `header`.
        stage: S,
        client: Option<Cl<S>>,
        /// The reply with its codes, e.g. `554 5.7.1 <x>: Relay access denied`.
        reply: S,
        from: Option<S>,
        to: Option<S>,
        /// Postfix ≥ 3.10 names the account on the reject line itself.
        sasl_username: Option<S>,
        discard: bool,
        milter: bool,
    },
    /// smtpd `warning: host[ip]: SASL LOGIN authentication failed: …`.
    SaslFailure {
        client: Cl<S>,
        method: S,
        username: Option<S>,
    },
    /// `warning: … rate limit exceeded …` (smtpd/anvil limits).
    RateLimit {
        client: Option<Cl<S>>,
    },
    /// cleanup `QID: message-id=<…>`.
    MessageId {
        qid: S,
        message_id: S,
    },
    /// qmgr `QID: from=<…>, size=N, nrcpt=N (queue active)`.
    QueueFrom {
        qid: S,
        from: S,
        size: Option<u64>,
        nrcpt: Option<u32>,
    },
    /// pickup `QID: uid=N from=<…>`: a local submission or a filter re-injection.
    Pickup {
        qid: S,
        from: S,
    },
    /// A delivery attempt for one recipient (smtp, lmtp, local, virtual, pipe, error…).
    Delivery {
        qid: S,
        to: S,
        orig_to: Option<S>,
        relay: S,
        delay: Option<f64>,
        dsn: Option<S>,
        status: Status,
        /// The text in parentheses after the status (the remote reply).
        reply: S,
    },
    /// qmgr `QID: removed`.
    Removed {
        qid: S,
    },
    /// A content filter's verdict (amavis, the ISP's `crm=` filter).
    Filter {
        qid: Option<S>,
        verdict: Verdict,
    },
    Other,
}

/// A Postfix queue id: short (`3A452D963D`, upper-case hex) or long
/// (`4R1gLb2Yqjz9vB`: letters and digits without vowels, with a `z`).
pub fn is_queue_id(s: &str) -> bool {
    let b = s.as_bytes();
    let short = (5..=16).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c));
    let long = (10..=20).contains(&b.len())
        && b.contains(&b'z')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() && !b"aeiouAEIOU".contains(c));
    short || long
}

/// Where `needle` first occurs in `s` (memchr's searcher: faster than
/// `str::find` on this hot path).
pub(crate) fn find(s: &str, needle: &str) -> Option<usize> {
    memchr::memmem::find(s.as_bytes(), needle.as_bytes())
}

/// `s` split around the first `byte` (an ASCII byte), like `split_once`.
pub(crate) fn split_at_byte(s: &str, byte: u8) -> Option<(&str, &str)> {
    let i = memchr::memchr(byte, s.as_bytes())?;
    Some((&s[..i], &s[i + 1..]))
}

/// `QID: rest` → (qid, rest).
fn split_qid(message: &str) -> Option<(&str, &str)> {
    // A queue id has no colon: only the first one can end it.
    let colon = memchr::memchr(b':', message.as_bytes())?;
    let (qid, rest) = (&message[..colon], message[colon + 1..].strip_prefix(' ')?);
    is_queue_id(qid).then_some((qid, rest))
}

/// The value of `key=` up to the next `, ` (or the end), angle brackets kept off.
/// (`key` is ASCII.) The line has only a few `=`, so it looks at each one
/// rather than searching for the key.
fn field<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let b = s.as_bytes();
    let at = memchr::memchr_iter(b'=', b).find(|&eq| {
        eq.checked_sub(key.len()).is_some_and(|start| {
            &b[start..eq] == key.as_bytes() && (start == 0 || matches!(b[start - 1], b' ' | b','))
        })
    })?;
    let v = &s[at + 1..];
    Some(if let Some(inner) = v.strip_prefix('<') {
        &inner[..memchr::memchr(b'>', inner.as_bytes()).unwrap_or(inner.len())]
    } else {
        &v[..memchr::memchr2(b',', b' ', v.as_bytes()).unwrap_or(v.len())]
    })
}

pub fn classify<'a>(h: &Header<'a>) -> Event<'a> {
    match h.postfix_daemon() {
        Some("smtpd") => smtpd(h.message),
        Some("cleanup") => cleanup(h.message),
        Some("postscreen") => {
            let m = h.message.strip_prefix("NOQUEUE: ").unwrap_or(h.message);
            reject_line(None, m).unwrap_or(Event::Other)
        }
        Some("qmgr") => qmgr(h.message),
        Some("pickup") => pickup(h.message),
        Some("smtp" | "lmtp" | "local" | "virtual" | "pipe" | "error" | "retry" | "discard") => {
            delivery(h.message)
        }
        Some("anvil") if find(h.message, "rate limit exceeded").is_some() => {
            Event::RateLimit { client: None }
        }
        Some(_) if find(h.message, ": crm=").is_some() => crm_filter(h.message),
        None if h.program.starts_with("amavis") => amavis(h.message),
        _ => Event::Other,
    }
}

fn smtpd(m: &str) -> Event<'_> {
    if let Some(rest) = m.strip_prefix("connect from ") {
        return Client::parse_prefix(rest)
            .map_or(Event::Other, |(client, _)| Event::Connect { client });
    }
    if let Some(rest) = m.strip_prefix("disconnect from ") {
        return Client::parse_prefix(rest)
            .map_or(Event::Other, |(client, _)| Event::Disconnect { client });
    }
    if let Some(rest) = m.strip_prefix("warning: ") {
        return smtpd_warning(rest);
    }
    if let Some(rest) = m.strip_prefix("NOQUEUE: ") {
        return reject_line(None, rest).unwrap_or(Event::Other);
    }
    let Some((qid, rest)) = split_qid(m) else {
        return Event::Other;
    };
    if let Some(c) = rest.strip_prefix("client=") {
        return Client::parse_prefix(c).map_or(Event::Other, |(client, tail)| Event::QueueClient {
            qid,
            client,
            sasl_method: field(tail, "sasl_method"),
            sasl_username: field(tail, "sasl_username"),
        });
    }
    reject_line(Some(qid), rest).unwrap_or(Event::Other)
}

fn smtpd_warning(w: &str) -> Event<'_> {
    if find(w, "rate limit exceeded").is_some() {
        let client = find(w, " from ")
            .and_then(|i| Client::parse_prefix(&w[i + 6..]))
            .map(|(c, _)| c);
        return Event::RateLimit { client };
    }
    if let Some(pos) = find(w, ": SASL ") {
        let Some((client, _)) = Client::parse_prefix(&w[..pos]) else {
            return Event::Other;
        };
        let after = &w[pos + 7..];
        if let Some((method, tail)) = after.split_once(" authentication failed") {
            return Event::SaslFailure {
                client,
                method,
                username: field(tail, "sasl_username"),
            };
        }
    }
    Event::Other
}

/// `reject: STAGE from host[ip]: REPLY; from=<a> to=<b> proto=… helo=<…>`,
/// also `milter-reject:` and `discard:`.
fn reject_line<'a>(qid: Option<&'a str>, m: &'a str) -> Option<Event<'a>> {
    let (milter, discard, rest) = if let Some(r) = m.strip_prefix("reject: ") {
        (false, false, r)
    } else if let Some(r) = m.strip_prefix("milter-reject: ") {
        (true, false, r)
    } else if let Some(r) = m.strip_prefix("discard: ") {
        (false, true, r)
    } else {
        return None;
    };
    let (stage, after_stage) = split_at_byte(rest, b' ')?;
    let (client, reply_and_fields) = match after_stage
        .strip_prefix("from ")
        .and_then(Client::parse_prefix)
    {
        Some((c, tail)) => (Some(c), tail.strip_prefix(": ").unwrap_or(tail)),
        None => (None, after_stage),
    };
    // The fields follow the last `; from=` (a reply rarely has a `;`).
    let bytes = reply_and_fields.as_bytes();
    let (reply, fields) =
        match memchr::memrchr_iter(b';', bytes).find(|&i| bytes[i + 1..].starts_with(b" from=")) {
            Some(i) => (&reply_and_fields[..i], &reply_and_fields[i + 2..]),
            None => (reply_and_fields, ""),
        };
    Some(Event::Reject {
        qid,
        stage,
        client,
        reply,
        from: field(fields, "from"),
        to: field(fields, "to"),
        sasl_username: field(fields, "sasl_username"),
        discard,
        milter,
    })
}

fn cleanup(m: &str) -> Event<'_> {
    let Some((qid, rest)) = split_qid(m) else {
        return Event::Other;
    };
    if let Some(id) = rest.strip_prefix("message-id=") {
        let id = id.trim();
        let id = id
            .strip_prefix('<')
            .and_then(|i| i.strip_suffix('>'))
            .unwrap_or(id);
        return Event::MessageId {
            qid,
            message_id: id,
        };
    }
    // A spam milter's refusal stays a reject (`milter: true`); the counting
    // layer also counts it as spam from its reply text.
    reject_line(Some(qid), rest).unwrap_or(Event::Other)
}

fn qmgr(m: &str) -> Event<'_> {
    let Some((qid, rest)) = split_qid(m) else {
        return Event::Other;
    };
    if rest == "removed" {
        return Event::Removed { qid };
    }
    match field(rest, "from") {
        Some(from) if rest.starts_with("from=") => Event::QueueFrom {
            qid,
            from,
            size: field(rest, "size").and_then(|s| s.parse().ok()),
            nrcpt: field(rest, "nrcpt").and_then(|s| s.parse().ok()),
        },
        _ => Event::Other,
    }
}

fn pickup(m: &str) -> Event<'_> {
    match split_qid(m) {
        Some((qid, rest)) if rest.starts_with("uid=") => Event::Pickup {
            qid,
            from: field(rest, "from").unwrap_or(""),
        },
        _ => Event::Other,
    }
}

fn delivery(m: &str) -> Event<'_> {
    delivery_line(m).unwrap_or(Event::Other)
}

fn delivery_line(m: &str) -> Option<Event<'_>> {
    let (qid, rest) = split_qid(m)?;
    if !rest.starts_with("to=") {
        return None;
    }
    // One pass over `to=<…>, orig_to=<…>, relay=…, delay=…, delays=…,
    // dsn=…, status=WORD (reply)`: this is the most frequent line.
    let (mut to, mut orig_to, mut relay, mut delay, mut dsn) = (None, None, "", None, None);
    let mut s = rest;
    let (status_word, reply) = loop {
        let eq = memchr::memchr(b'=', s.as_bytes())?;
        let (key, value) = (&s[..eq], &s[eq + 1..]);
        if key == "status" {
            let (word, tail) = split_at_byte(value, b' ').unwrap_or((value, ""));
            let reply = tail.strip_prefix('(').unwrap_or(tail);
            break (word, reply.strip_suffix(')').unwrap_or(reply));
        }
        let (v, next) = match value.strip_prefix('<') {
            Some(inner) => {
                let close = memchr::memchr(b'>', inner.as_bytes())?;
                (&inner[..close], &inner[close + 1..])
            }
            None => value.split_at(memchr::memchr(b',', value.as_bytes()).unwrap_or(value.len())),
        };
        match key {
            "to" => to = Some(v),
            "orig_to" => orig_to = Some(v),
            "relay" => relay = v,
            "delay" => delay = v.parse().ok(),
            "dsn" => dsn = Some(v),
            _ => {}
        }
        s = next.strip_prefix(", ")?;
    };
    let to = to?;
    let status = match status_word {
        "sent" => Status::Sent,
        "bounced" => Status::Bounced,
        "deferred" => Status::Deferred,
        "expired" => Status::Expired,
        _ => Status::Other,
    };
    Some(Event::Delivery {
        qid,
        to,
        orig_to,
        relay,
        delay,
        dsn,
        status,
        reply,
    })
}

/// The ISP's filter: `QID: crm=SPAM Sender=… cid=0 rcpts=1 data=… size=…`.
fn crm_filter(m: &str) -> Event<'_> {
    let Some((qid, rest)) = split_qid(m) else {
        return Event::Other;
    };
    let verdict = match field(rest, "crm") {
        Some(v) if v.eq_ignore_ascii_case("SPAM") => Verdict::Spam,
        Some(v) if v.eq_ignore_ascii_case("VIRUS") => Verdict::Virus,
        Some(_) => Verdict::Clean,
        None => return Event::Other,
    };
    Event::Filter {
        qid: Some(qid),
        verdict,
    }
}

/// amavis `(id) Passed SPAM …`, `Blocked INFECTED (…)`, `Blocked BANNED (…)`, `Passed CLEAN`.
fn amavis(m: &str) -> Event<'_> {
    let body = match m.strip_prefix('(') {
        Some(r) => r.split_once(") ").map_or(r, |(_, b)| b),
        None => m,
    };
    let Some((action, rest)) = body.split_once(' ') else {
        return Event::Other;
    };
    if action != "Passed" && action != "Blocked" {
        return Event::Other;
    }
    let category = rest.split([' ', ',']).next().unwrap_or("");
    let verdict = match category {
        "SPAM" => Verdict::Spam,
        "INFECTED" | "BANNED" => Verdict::Virus,
        _ => Verdict::Clean,
    };
    let qid = rest
        .find("Queue-ID: ")
        .map(|i| &rest[i + 10..])
        .map(|q| &q[..q.find(',').unwrap_or(q.len())])
        .filter(|q| is_queue_id(q));
    Event::Filter { qid, verdict }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syslog::{YearGuess, parse};

    fn ev(line: &str) -> Event<'_> {
        // Leak-free: the header borrows from `line`, which outlives the event.
        let h = parse(line, &mut YearGuess::new(2026)).expect("a syslog line");
        classify(&h)
    }

    #[test]
    fn queue_ids_short_and_long_but_not_words() {
        for q in ["3A452D963D", "8BD903012026", "4R1gLb2Yqjz9vB", "D0B74D98D0"] {
            assert!(is_queue_id(q), "{q}");
        }
        for w in [
            "NOQUEUE",
            "warning",
            "statistics",
            "connect",
            "ABC",
            "reject",
        ] {
            assert!(!is_queue_id(w), "{w}");
        }
    }

    #[test]
    fn client_line_with_sasl() {
        assert_eq!(
            ev(
                "Sep 23 15:57:40 mail postfix/submission/smtpd[3646210]: 838FC8A5F: client=unknown[fe80::1:2:3:4], sasl_method=PLAIN, sasl_username=out@example.org"
            ),
            Event::QueueClient {
                qid: "838FC8A5F",
                client: Client {
                    host: "unknown",
                    ip: "fe80::1:2:3:4"
                },
                sasl_method: Some("PLAIN"),
                sasl_username: Some("out@example.org"),
            }
        );
    }

    #[test]
    fn noqueue_and_queued_rejects() {
        let line = "Jan 28 11:05:26 mail postfix/smtpd[20127]: NOQUEUE: reject: RCPT from h-be81[199.229.127.90]: 550 5.1.1 <u@d.com>: Recipient address rejected: User unknown in virtual mailbox table; from=<s@e.com> to=<u@d.com> proto=SMTP helo=<h-be81>";
        let Event::Reject {
            qid,
            stage,
            client,
            reply,
            from,
            to,
            sasl_username,
            ..
        } = ev(line)
        else {
            panic!("not a reject")
        };
        assert_eq!((qid, stage), (None, "RCPT"));
        assert_eq!(client.unwrap().ip, "199.229.127.90");
        assert_eq!(
            reply,
            "550 5.1.1 <u@d.com>: Recipient address rejected: User unknown in virtual mailbox table"
        );
        assert_eq!(
            (from, to, sasl_username),
            (Some("s@e.com"), Some("u@d.com"), None)
        );

        let line = "Feb 16 22:23:11 mx postfix/smtpd[17727]: 769FF2E0760: reject: RCPT from h-72f5[117.165.155.187]: 553 5.7.1 <a@b.c>: Sender address rejected: not owned by user x@b.c; from=<a@b.c> to=<t@o.net> proto=ESMTP helo=<h> sasl_username=x@b.c";
        let Event::Reject {
            qid, sasl_username, ..
        } = ev(line)
        else {
            panic!("not a reject")
        };
        assert_eq!((qid, sasl_username), (Some("769FF2E0760"), Some("x@b.c")));
    }

    #[test]
    fn sasl_failures_with_and_without_port() {
        for line in [
            "Mar 10 13:33:30 gandalf postfix/smtpd[3937]: warning: HOSTNAME[1.1.1.1]: SASL LOGIN authentication failed: authentication failure",
            "Aug  4 16:47:52 mail3 postfix/smtpd[31152]: warning: unknown[1.1.1.1]:55729: SASL LOGIN authentication failed: authentication failure",
        ] {
            assert_eq!(
                ev(line),
                Event::SaslFailure {
                    client: Client {
                        host: if line.contains("HOSTNAME") {
                            "HOSTNAME"
                        } else {
                            "unknown"
                        },
                        ip: "1.1.1.1"
                    },
                    method: "LOGIN",
                    username: None
                },
                "{line}"
            );
        }
    }

    /// Postfix 3.x names the account a failed login tried; the base64
    /// challenge before it may end in `=`.
    #[test]
    fn sasl_failures_name_the_account_tried() {
        for (line, user) in [
            (
                "Nov 30 10:00:01 smtp1 postfix/submission/smtpd[200]: warning: unknown[198.51.100.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=joao@cliente.com.br",
                Some("joao@cliente.com.br"),
            ),
            (
                "Nov 30 10:00:01 smtp1 postfix/smtpd[200]: warning: unknown[2001:db8::7]:4455: SASL PLAIN authentication failed: dGVzdA==, sasl_username=ana@cliente.com.br",
                Some("ana@cliente.com.br"),
            ),
            (
                "Nov 30 10:00:01 smtp1 postfix/smtpd[200]: warning: unknown[198.51.100.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
                None,
            ),
        ] {
            let Event::SaslFailure { username, .. } = ev(line) else {
                panic!("not a SASL failure: {line}");
            };
            assert_eq!(username, user, "{line}");
        }
    }

    #[test]
    fn deliveries_with_reply_text() {
        let line = "Jan 28 06:40:37 mail postfix/smtp[15076]: 8BD903012026: to=<a@b.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.55, delays=0.44/0.01/0/0.09, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as BF76C3012027)";
        assert_eq!(
            ev(line),
            Event::Delivery {
                qid: "8BD903012026",
                to: "a@b.com",
                orig_to: None,
                relay: "127.0.0.1[127.0.0.1]:10024",
                delay: Some(0.55),
                dsn: Some("2.0.0"),
                status: Status::Sent,
                reply: "250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as BF76C3012027",
            }
        );
    }

    #[test]
    fn the_isps_content_filter_and_amavis_verdicts() {
        assert_eq!(
            ev(
                "Aug  4 08:28:49 mx1 postfix/virus-filter[23105]: 46E0BAB8E5: crm=SPAM Sender=informativo@affinato120.com.br cid=0 rcpts=1 data=-6.2877 size=10004"
            ),
            Event::Filter {
                qid: Some("46E0BAB8E5"),
                verdict: Verdict::Spam
            }
        );
        assert_eq!(
            ev(
                "Feb 23 04:55:57 mrelmx42 amavis[4051607]: (4051607-09) Blocked INFECTED (Porcupine.Phishing.55542.UNOFFICIAL) {DiscardedInbound,Quarantined}, [192.168.0.1]:1434 [192.168.0.1] <a@b.com> -> <c@d.com>, quarantine: 2/virus-26W2lJY63nCZ, Queue-ID: 83B741009CD35, Message-ID: <x@y>, mail_id: 26W2lJY63nCZ, Hits: -, size: 28646, 104 ms"
            ),
            Event::Filter {
                qid: Some("83B741009CD35"),
                verdict: Verdict::Virus
            }
        );
        assert_eq!(
            ev(
                "Mar 14 00:01:00 helga amavis[1]: (01-1) Passed SPAMMY {RelayedTaggedInbound}, [1.2.3.4]"
            ),
            Event::Filter {
                qid: None,
                verdict: Verdict::Clean
            }
        );
    }

    #[test]
    fn qmgr_from_and_removed() {
        assert_eq!(
            ev(
                "Feb  6 00:22:27 ntardis postfix/qmgr[11862]: 3A452D963D: from=<r@redhat.com>, size=5356, nrcpt=1 (queue active)"
            ),
            Event::QueueFrom {
                qid: "3A452D963D",
                from: "r@redhat.com",
                size: Some(5356),
                nrcpt: Some(1)
            }
        );
        assert_eq!(
            ev("Feb  6 00:22:27 h postfix/qmgr[1]: 3A452D963D: removed"),
            Event::Removed { qid: "3A452D963D" }
        );
    }
}

/// Over the whole shared corpus, the events agree with independent patterns.
#[cfg(test)]
mod corpus {
    use super::*;
    use crate::syslog::corpus::corpus_files;
    use crate::syslog::{YearGuess, parse};
    use regex::Regex;

    #[test]
    fn sent_deliveries_rejects_and_sasl_failures_match_independent_counts() {
        let header = r"^\S+(?: +\S+ +\S+)? +\S+ postfix[^/\s]*/(?:[^\s\[]+/)?";
        let sent = Regex::new(&format!(
            r"{header}(?:smtp|lmtp|local|virtual|pipe|error|retry|discard)\[\d+\]: *[0-9A-Za-z]+: to=<[^>]*>,.* status=sent[ ,(]"
        ))
        .unwrap();
        let reject = Regex::new(&format!(
            r"{header}(?:smtpd|cleanup|postscreen)\[\d+\]: *(?:NOQUEUE|[0-9A-Za-z]+): (?:reject|milter-reject|discard): \S+ "
        ))
        .unwrap();
        let sasl = Regex::new(&format!(
            r"{header}smtpd\[\d+\]: *warning: [^\s\[]*\[[^\]]+\](?::\d+)?: SASL \S+ authentication failed"
        ))
        .unwrap();
        let (mut all_sent, mut all_rejects, mut all_sasl) = (0, 0, 0);
        for file in corpus_files() {
            let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
            let mut years = YearGuess::new(2026);
            let (mut got, mut want) = ([0usize; 3], [0usize; 3]);
            for line in text.lines() {
                let Some(h) = parse(line, &mut years) else {
                    continue;
                };
                want[0] += usize::from(sent.is_match(line));
                want[1] += usize::from(reject.is_match(line));
                want[2] += usize::from(sasl.is_match(line));
                match classify(&h) {
                    Event::Delivery {
                        status: Status::Sent,
                        ..
                    } => got[0] += 1,
                    Event::Reject { .. } => got[1] += 1,
                    Event::SaslFailure { .. } => got[2] += 1,
                    _ => {}
                }
            }
            assert_eq!(
                got,
                want,
                "[sent, rejects, sasl failures] in {}",
                file.display()
            );
            all_sent += got[0];
            all_rejects += got[1];
            all_sasl += got[2];
        }
        assert!(
            all_sent > 900 && all_rejects > 150 && all_sasl > 50,
            "{all_sent} {all_rejects} {all_sasl}"
        );
    }
}
