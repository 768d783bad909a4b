//! The counting rules: what each event adds to the mail-flow series.
//!
//! - **received**: smtpd `QID: client=` lines, except clients on loopback or
//!   in the internal list (content-filter re-injections); pickup never counts.
//! - **sent**: `status=sent` deliveries from smtp/lmtp/local/virtual/pipe,
//!   except hand-offs to a content filter (relay on loopback, or a relay name
//!   in the filter list). One per recipient line.
//! - **bounced** / **deferred**: `status=bounced` / `status=deferred` deliveries.
//! - **rejected**: smtpd `reject:`/`milter-reject:` lines (NOQUEUE or queue
//!   id) and cleanup `reject:`/`milter-reject:`/`discard:` lines. Postscreen
//!   refusals and smtpd `discard:` are not rejects of a message.
//! - **spam** / **virus**: amavis `Passed|Blocked SPAM`, `INFECTED`/`BANNED`,
//!   milter-rejects whose reply mentions spam (spamd, rspamd), the ISP's
//!   `crm=SPAM` filter line.
//! - **reject classes**: each reject's reply text goes through ordered
//!   [`RejectRules`] (first match wins, `other` when none); anvil/smtpd
//!   "rate limit exceeded" warnings also count in `rate` although they are
//!   not reject lines.
//! - **SASL failures**: `SASL … authentication failed` warnings, counted
//!   apart from rejects.

use super::event::{Event, Status, Verdict, classify};
use super::syslog::{self, YearGuess};
use regex::RegexSet;
use serde::Serialize;
use std::net::IpAddr;

/// The seven mail-flow series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub received: u64,
    pub sent: u64,
    pub bounced: u64,
    pub deferred: u64,
    pub rejected: u64,
    pub spam: u64,
    pub virus: u64,
}

/// Ordered reject classification rules: `(class, regex)`, first match wins.
pub struct RejectRules {
    classes: Vec<String>,
    set: RegexSet,
}

/// Longer lines are not Postfix's and are counted as unparsed.
pub const MAX_LINE: usize = 16 * 1024;

/// The class of a reject no rule matched.
pub const OTHER: &str = "other";

impl RejectRules {
    pub fn new<S: AsRef<str>>(rules: &[(S, S)]) -> Result<Self, regex::Error> {
        Ok(Self {
            classes: rules.iter().map(|(c, _)| c.as_ref().to_string()).collect(),
            set: RegexSet::new(rules.iter().map(|(_, p)| p.as_ref()))?,
        })
    }

    /// The ISP's default categories.
    pub fn defaults() -> Self {
        Self::new(&DEFAULT_RULES).expect("default reject rules compile")
    }

    /// The class of a reject reply.
    pub fn classify(&self, reply: &str) -> &str {
        self.set
            .matches(reply)
            .iter()
            .next()
            .map_or(OTHER, |i| self.classes[i].as_str())
    }
}

pub const DEFAULT_RULES: [(&str, &str); 10] = [
    ("unknown_user", r"(?i)User unknown in [a-z ]*table"),
    ("relay", r"(?i)Relay access denied"),
    ("domain", r"(?i)Sender address rejected: Domain not found"),
    ("not_logged", r"(?i)not logged in"),
    ("not_owned", r"(?i)not owned by user"),
    ("spf", r"(?i)\bspf\b|openspf"),
    (
        "sender_denied",
        r"(?i)Sender address rejected: Access denied",
    ),
    ("sender_other", r"(?i)Sender address rejected"),
    ("rate", r"(?i)rate limit|message rate"),
    ("rbl", r"(?i)blocked using "),
];

/// What the counter treats as internal.
pub struct Settings {
    /// Clients (besides loopback) whose submissions are re-injections.
    pub internal_clients: Vec<ipnet::IpNet>,
    /// Relay names that are content filters (lower case).
    pub filter_relays: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            internal_clients: Vec::new(),
            filter_relays: ["amavis", "clamav", "spamassassin", "dspam"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// Counts a stream of log lines by the rules above.
pub struct Counter {
    settings: Settings,
    rules: RejectRules,
    years: YearGuess,
    pub lines: u64,
    pub unparsed: u64,
    pub totals: Totals,
    /// Per class, in rule order, then `other`.
    class_counts: Vec<u64>,
    pub sasl_failures: u64,
}

impl Counter {
    pub fn new(settings: Settings, rules: RejectRules, year: i32) -> Self {
        let classes = rules.classes.len() + 1;
        Self {
            settings,
            rules,
            years: YearGuess::new(year),
            lines: 0,
            unparsed: 0,
            totals: Totals::default(),
            class_counts: vec![0; classes],
            sasl_failures: 0,
        }
    }

    /// Reject counts by class name (classes with no reject included).
    pub fn reject_classes(&self) -> impl Iterator<Item = (&str, u64)> {
        self.rules
            .classes
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(OTHER))
            .zip(self.class_counts.iter().copied())
    }

    fn count_class(&mut self, text: &str) {
        let class = self.rules.classify(text);
        let i = self
            .rules
            .classes
            .iter()
            .position(|c| c == class)
            .unwrap_or(self.rules.classes.len());
        self.class_counts[i] += 1;
    }

    /// Feeds one raw line as read from a file (a trailing `\n` or `\r\n`
    /// is dropped). Invalid UTF-8 and lines over [`MAX_LINE`] bytes are
    /// counted as unparsed.
    pub fn feed_bytes(&mut self, raw: &[u8]) {
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        match std::str::from_utf8(raw) {
            Ok(line) if raw.len() <= MAX_LINE => self.feed(line),
            _ => {
                self.lines += 1;
                self.unparsed += 1;
            }
        }
    }

    /// Feeds one line (without its newline).
    pub fn feed(&mut self, line: &str) {
        self.lines += 1;
        let Some(h) = syslog::parse(line, &mut self.years) else {
            self.unparsed += 1;
            return;
        };
        let daemon = h.postfix_daemon();
        match classify(&h) {
            Event::QueueClient { client, .. }
                if daemon == Some("smtpd") && !self.is_internal(client.ip) =>
            {
                self.totals.received += 1;
            }
            Event::Delivery { relay, status, .. } => match status {
                Status::Sent if is_sending_daemon(daemon) && !self.is_filter_relay(relay) => {
                    self.totals.sent += 1
                }
                Status::Bounced => self.totals.bounced += 1,
                Status::Deferred => self.totals.deferred += 1,
                _ => {}
            },
            Event::Reject {
                reply,
                discard,
                milter,
                ..
            } => {
                let counts = match daemon {
                    Some("smtpd") => !discard,
                    Some("cleanup") => true,
                    _ => false,
                };
                if counts {
                    self.totals.rejected += 1;
                    self.count_class(reply);
                    if milter && reply.to_ascii_lowercase().contains("spam") {
                        self.totals.spam += 1;
                    }
                }
            }
            Event::Filter { verdict, .. } => match verdict {
                Verdict::Spam => self.totals.spam += 1,
                Verdict::Virus => self.totals.virus += 1,
                Verdict::Clean => {}
            },
            Event::RateLimit { .. } => self.count_class("rate limit exceeded"),
            Event::SaslFailure { .. } => self.sasl_failures += 1,
            _ => {}
        }
    }

    fn is_internal(&self, ip: &str) -> bool {
        match ip.parse::<IpAddr>() {
            Ok(addr) => {
                addr.is_loopback()
                    || self
                        .settings
                        .internal_clients
                        .iter()
                        .any(|net| net.contains(&addr))
            }
            Err(_) => false,
        }
    }

    /// `127.0.0.1[127.0.0.1]:10024`, `amavis[127.0.0.1]:10024`, `clamav`, `local`…
    fn is_filter_relay(&self, relay: &str) -> bool {
        let name = relay.split('[').next().unwrap_or(relay);
        let in_brackets = relay
            .split_once('[')
            .and_then(|(_, r)| r.split_once(']'))
            .map(|(ip, _)| ip);
        let loopback = [Some(name), in_brackets]
            .into_iter()
            .flatten()
            .any(|s| s.parse::<IpAddr>().is_ok_and(|a| a.is_loopback()));
        loopback
            || self
                .settings
                .filter_relays
                .iter()
                .any(|f| f.eq_ignore_ascii_case(name))
    }
}

fn is_sending_daemon(daemon: Option<&str>) -> bool {
    matches!(daemon, Some("smtp" | "lmtp" | "local" | "virtual" | "pipe"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(lines: &[&str]) -> Counter {
        let mut c = Counter::new(Settings::default(), RejectRules::defaults(), 2026);
        for l in lines {
            c.feed(l);
        }
        c
    }

    fn classes(c: &Counter) -> Vec<(String, u64)> {
        c.reject_classes()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (k.to_string(), n))
            .collect()
    }

    /// One message from outside, through the ISP's filter (pipe to clamav,
    /// re-injected by pickup) and amavis on loopback (re-injected by smtpd
    /// from 127.0.0.1), then delivered: received once, sent once, spam once.
    #[test]
    fn a_filter_loop_is_counted_once() {
        let c = count(&[
            "Aug  4 08:28:40 mx1 postfix/smtpd[100]: 46E0BAB8E5: client=mail.affinato120.com.br[203.0.113.7]",
            "Aug  4 08:28:41 mx1 postfix/qmgr[9]: 46E0BAB8E5: from=<informativo@affinato120.com.br>, size=10004, nrcpt=1 (queue active)",
            "Aug  4 08:28:49 mx1 postfix/virus-filter[23105]: 46E0BAB8E5: crm=SPAM Sender=informativo@affinato120.com.br cid=0 rcpts=1 data=-6.2877 size=10004",
            "Aug  4 08:28:49 mx1 postfix/pipe[23106]: 46E0BAB8E5: to=<ana@cliente.com.br>, relay=clamav, delay=9, delays=1/0/0/8, dsn=2.0.0, status=sent (dummy)",
            "Aug  4 08:28:49 mx1 postfix/pickup[7]: 57F1CAB8E6: uid=1001 from=<informativo@affinato120.com.br>",
            "Aug  4 08:28:50 mx1 postfix/smtp[300]: 57F1CAB8E6: to=<ana@cliente.com.br>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, dsn=2.0.0, status=sent (250 2.0.0 Ok, queued as 6A2BCAB8E7)",
            "Aug  4 08:28:50 mx1 postfix/smtpd[400]: 6A2BCAB8E7: client=localhost[127.0.0.1]",
            "Aug  4 08:28:51 mx1 postfix/lmtp[500]: 6A2BCAB8E7: to=<ana@cliente.com.br>, relay=mbox1[10.0.0.9]:24, delay=0.2, dsn=2.0.0, status=sent (250 2.0.0 Saved)",
        ]);
        assert_eq!(
            c.totals,
            Totals {
                received: 1,
                sent: 1,
                spam: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn one_sent_per_recipient_line_and_bounces_and_deferrals() {
        let c = count(&[
            "Aug  4 09:00:00 mx1 postfix/smtp[1]: 3A452D963D: to=<a@x.com>, relay=mx.x.com[198.51.100.1]:25, delay=1, dsn=2.0.0, status=sent (250 ok)",
            "Aug  4 09:00:00 mx1 postfix/smtp[1]: 3A452D963D: to=<b@x.com>, relay=mx.x.com[198.51.100.1]:25, delay=1, dsn=2.0.0, status=sent (250 ok)",
            "Aug  4 09:00:01 mx1 postfix/smtp[1]: 3A452D963D: to=<c@y.com>, relay=mx.y.com[198.51.100.2]:25, delay=1, dsn=5.1.1, status=bounced (host said: 550 no such user)",
            "Aug  4 09:00:02 mx1 postfix/smtp[1]: 3A452D963D: to=<d@z.com>, relay=none, delay=30, dsn=4.4.1, status=deferred (connect to mx.z.com: Connection timed out)",
            "Aug  4 09:00:03 mx1 postfix/virtual[2]: 3A452D963D: to=<e@cliente.com.br>, relay=virtual, delay=0, dsn=2.0.0, status=sent (delivered to maildir)",
            "Aug  4 09:00:04 mx1 postfix/smtp[3]: 3A452D963D: to=<f@w.com>, relay=amavis[10.1.1.1]:10024, delay=0, dsn=2.0.0, status=sent (250 queued)",
        ]);
        assert_eq!(
            c.totals,
            Totals {
                sent: 3,
                bounced: 1,
                deferred: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn internal_clients_and_pickup_are_not_received() {
        let mut settings = Settings::default();
        settings
            .internal_clients
            .push("10.0.0.0/8".parse().unwrap());
        let mut c = Counter::new(settings, RejectRules::defaults(), 2026);
        for l in [
            "Aug  4 09:00:00 mx1 postfix/smtpd[1]: 3A452D963D: client=filter[10.2.3.4]",
            "Aug  4 09:00:00 mx1 postfix/smtpd[1]: 3A452D963E: client=localhost[::1]",
            "Aug  4 09:00:00 mx1 postfix/pickup[1]: 3A452D963F: uid=0 from=<root>",
            "Aug  4 09:00:00 mx1 postfix/submission/smtpd[2]: 3A452D9640: client=cpe[198.51.100.9], sasl_method=LOGIN, sasl_username=ana@cliente.com.br",
        ] {
            c.feed(l);
        }
        assert_eq!(c.totals.received, 1);
    }

    #[test]
    fn noqueue_and_queue_id_rejects_and_their_classes() {
        let c = count(&[
            "Aug  4 10:00:00 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 550 5.1.1 <u@c.com.br>: Recipient address rejected: User unknown in virtual mailbox table; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
            "Aug  4 10:00:01 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 <v@other.org>: Relay access denied; from=<s@e.com> to=<v@other.org> proto=ESMTP helo=<x>",
            "Aug  4 10:00:02 mx1 postfix/smtpd[1]: 5B1C2D3E4F: reject: RCPT from x[192.0.2.1]: 450 4.1.8 <s@nowhere.invalid>: Sender address rejected: Domain not found; from=<s@nowhere.invalid> to=<u@c.com.br> proto=ESMTP helo=<x>",
            "Aug  4 10:00:03 mx1 postfix/submission/smtpd[5]: NOQUEUE: reject: RCPT from cpe[198.51.100.9]: 553 5.7.1 <boss@bank.com>: Sender address rejected: not owned by user ana@cliente.com.br; from=<boss@bank.com> to=<t@o.net> proto=ESMTP helo=<pc> sasl_username=ana@cliente.com.br",
            "Aug  4 10:00:04 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 553 5.7.1 <s@cliente.com.br>: Sender address rejected: not logged in; from=<s@cliente.com.br> to=<u@c.com.br> proto=ESMTP helo=<x>",
            "Aug  4 10:00:05 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
            "Aug  4 10:00:06 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 550 5.7.1 <u@c.com.br>: Recipient address rejected: Message rejected due to: SPF fail - not authorized; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
            "Aug  4 10:00:07 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 <s@e.com>: Sender address rejected: Access denied; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
            "Aug  4 10:00:08 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 450 4.1.7 <s@e.com>: Sender address rejected: unverified address; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
            "Aug  4 10:00:09 mx1 postfix/smtpd[1]: NOQUEUE: reject: CONNECT from x[192.0.2.1]: 554 5.7.1 <x[192.0.2.1]>: Client host rejected: Access denied; proto=SMTP",
            "Aug  4 10:00:10 mx1 postfix/smtpd[1]: warning: Message delivery request rate limit exceeded: 31 from x[192.0.2.1] for service smtp",
            "Aug  4 10:00:11 mx1 postfix/cleanup[8]: 5B1C2D3E50: milter-reject: END-OF-MESSAGE from x[192.0.2.1]: 5.7.1 Spam message rejected; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
        ]);
        assert_eq!(c.totals.rejected, 11);
        assert_eq!(c.totals.spam, 1);
        assert_eq!(
            classes(&c),
            [
                ("unknown_user", 1),
                ("relay", 1),
                ("domain", 1),
                ("not_logged", 1),
                ("not_owned", 1),
                ("spf", 1),
                ("sender_denied", 1),
                ("sender_other", 1),
                ("rate", 1),
                ("rbl", 1),
                ("other", 2),
            ]
            .map(|(k, n)| (k.to_string(), n))
        );
    }

    #[test]
    fn postscreen_and_smtpd_discards_and_warnings_are_not_rejects() {
        let c = count(&[
            "May  5 15:51:11 xxx postfix/postscreen[1148]: NOQUEUE: reject: RCPT from [216.245.194.173]:60591: 550 5.7.1 Service unavailable; client [216.245.194.173] blocked using rbl.example.com; from=<a@b.com>, to=<c@d.com>, proto=ESMTP, helo=<x>",
            "Aug  4 10:00:00 mx1 postfix/smtpd[1]: 5B1C2D3E4F: discard: RCPT from x[192.0.2.1]: <s@e.com>: Sender address triggers DISCARD action; from=<s@e.com> to=<u@c.com.br> proto=ESMTP helo=<x>",
            "Aug  4 10:00:00 mx1 postfix/smtpd[1]: NOQUEUE: reject_warning: RCPT from x[192.0.2.1]: 554 5.7.1 <v@o.org>: Relay access denied; from=<s@e.com> to=<v@o.org> proto=ESMTP helo=<x>",
        ]);
        assert_eq!(c.totals.rejected, 0);
    }

    #[test]
    fn amavis_spam_virus_banned_and_clean() {
        let c = count(&[
            "Aug  4 11:00:00 mx1 amavis[1]: (01-1) Blocked SPAM {DiscardedInbound}, [1.2.3.4]:1 <a@b> -> <c@d>, Queue-ID: 3A452D963D, mail_id: x",
            "Aug  4 11:00:00 mx1 amavis[1]: (01-2) Passed SPAM {RelayedTaggedInbound}, [1.2.3.4]:1 <a@b> -> <c@d>, Queue-ID: 3A452D963E",
            "Aug  4 11:00:00 mx1 amavis[1]: (01-3) Blocked INFECTED (Eicar-Signature) {DiscardedInbound}, [1.2.3.4]:1 <a@b> -> <c@d>",
            "Aug  4 11:00:00 mx1 amavis[1]: (01-4) Blocked BANNED (.exe) {DiscardedInbound}, [1.2.3.4]:1 <a@b> -> <c@d>",
            "Aug  4 11:00:00 mx1 amavis[1]: (01-5) Passed CLEAN {RelayedInbound}, [1.2.3.4]:1 <a@b> -> <c@d>",
        ]);
        assert_eq!((c.totals.spam, c.totals.virus), (2, 2));
    }

    #[test]
    fn sasl_failures_are_counted_apart_and_garbage_is_unparsed() {
        let c = count(&[
            "Mar 10 13:33:30 gandalf postfix/smtpd[3937]: warning: HOSTNAME[1.1.1.1]: SASL LOGIN authentication failed: authentication failure",
            "Mar 10 13:33:31 gandalf postfix/smtpd[3937]: warning: unknown[1.1.1.1]:55729: SASL PLAIN authentication failed:",
            "not a log line",
            "",
        ]);
        assert_eq!(
            (c.sasl_failures, c.totals.rejected, c.unparsed, c.lines),
            (2, 0, 2, 4)
        );
    }

    #[test]
    fn invalid_utf8_and_over_long_lines_are_unparsed_not_fatal() {
        let mut c = Counter::new(Settings::default(), RejectRules::defaults(), 2026);
        c.feed_bytes(b"Aug  4 10:00:00 mx1 postfix/smtpd[1]: 3A452D963D: client=x[192.0.2.1]\r\n");
        c.feed_bytes(b"Aug  4 10:00:00 mx1 postfix/smtpd[1]: \xff\xfe\n");
        let long = format!(
            "Aug  4 10:00:00 mx1 postfix/smtpd[1]: 3A452D963E: client=x[192.0.2.1]{}",
            " ".repeat(MAX_LINE)
        );
        c.feed_bytes(long.as_bytes());
        assert_eq!((c.lines, c.unparsed, c.totals.received), (3, 2, 1));
    }

    #[test]
    fn reject_rules_are_ordered_and_editable() {
        let rules =
            RejectRules::new(&[("greylist", r"(?i)greylisted"), ("relay", r"Relay access")])
                .unwrap();
        assert_eq!(
            rules.classify("450 4.2.0 <a@b>: Recipient address rejected: Greylisted"),
            "greylist"
        );
        assert_eq!(rules.classify("554 5.7.1 Relay access denied"), "relay");
        assert_eq!(rules.classify("anything else"), OTHER);
        assert!(RejectRules::new(&[("bad", "(")]).is_err());
    }
}
