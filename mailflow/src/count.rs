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
//!
//! **Per domain** (only the ISP's own, [`HostedDomains`]; needs message
//! traces, so not in a dry run): outbound series by the sender's domain,
//! inbound ones by the recipient's.
//! - **sent**, **bounced**, **deferred**: each delivery line, under the
//!   domain of the message's sender (what a customer domain sends out).
//! - **received**: each recipient of a message received from outside,
//!   once, at its first delivery line (Postfix names recipients only
//!   there), under the recipient's domain (what a customer domain gets).
//! - **rejected** and its class: under the recipient's domain, or when that
//!   is not hosted, the sender's (a customer's refused submission).
//! - **SASL failures**: under the domain of the login, when it is an address.
//!
//! Spam and virus verdicts name neither address on the lines this engine
//! reads, so they are counted per host only.

use super::event::{Event, Status, Verdict, classify, find, split_at_byte};
use super::syslog::{self, Header, UnixTime, YearGuess};
use super::trace::{Limits, Message, Origin, Tracker};
use crate::detect::{Detector, Proposal};
use regex::Regex;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::net::IpAddr;
use std::sync::Arc;

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
/// Tried one by one: the common classes come first, so most replies are
/// decided by one or two literal searches (a `RegexSet` would look for
/// every rule's matches each time).
pub struct RejectRules {
    classes: Vec<String>,
    patterns: Vec<Regex>,
}

/// Longer lines are not Postfix's and are counted as unparsed.
pub const MAX_LINE: usize = 16 * 1024;

/// The class of a reject no rule matched.
pub const OTHER: &str = "other";

impl RejectRules {
    pub fn new<S: AsRef<str>>(rules: &[(S, S)]) -> Result<Self, regex::Error> {
        Ok(Self {
            classes: rules.iter().map(|(c, _)| c.as_ref().to_string()).collect(),
            patterns: rules
                .iter()
                .map(|(_, p)| Regex::new(p.as_ref()))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The ISP's default categories.
    pub fn defaults() -> Self {
        Self::new(&DEFAULT_RULES).expect("default reject rules compile")
    }

    /// The class of a reject reply.
    pub fn classify(&self, reply: &str) -> &str {
        self.classes
            .get(self.index(reply))
            .map_or(OTHER, String::as_str)
    }

    /// The index of the first rule matching `reply`; the number of rules
    /// (the index of `other`) when none does.
    pub fn index(&self, reply: &str) -> usize {
        self.patterns
            .iter()
            .position(|p| p.is_match(reply))
            .unwrap_or(self.classes.len())
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

/// The ISP's own domains, lower case: the per-domain series count only
/// these, so a flood of refused mail for random domains adds no rows.
#[derive(Debug, Default, PartialEq)]
pub struct HostedDomains(FxHashSet<Arc<str>>);

impl HostedDomains {
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Self {
        Self(
            names
                .into_iter()
                .map(|n| Arc::from(n.as_ref().trim().to_ascii_lowercase()))
                .filter(|n: &Arc<str>| !n.is_empty())
                .collect(),
        )
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The hosted domain of `address` (`user@domain`, any case), if it is one.
    pub fn of(&self, address: &str) -> Option<&Arc<str>> {
        if self.0.is_empty() {
            return None;
        }
        let (_, domain) = address.rsplit_once('@')?;
        if domain.bytes().any(|b| b.is_ascii_uppercase()) {
            self.0.get(domain.to_ascii_lowercase().as_str())
        } else {
            self.0.get(domain)
        }
    }
}

/// What the counter treats as internal, and how long correlation state lives.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Clients (besides loopback) whose submissions are re-injections.
    pub internal_clients: Vec<ipnet::IpNet>,
    /// Relay names that are content filters (lower case).
    pub filter_relays: Vec<String>,
    pub limits: Limits,
    /// Build message traces. Off when nothing is stored (a dry run): the
    /// counts do not need them, only smtpd sessions are followed then.
    pub traces: bool,
    /// The domains counted per domain.
    pub domains: Arc<HostedDomains>,
    /// Where days begin for the daily totals, in seconds east of UTC.
    pub day_offset: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            internal_clients: Vec::new(),
            filter_relays: ["amavis", "clamav", "spamassassin", "dspam"]
                .map(String::from)
                .to_vec(),
            limits: Limits::default(),
            traces: true,
            domains: Arc::default(),
            day_offset: 0,
        }
    }
}

/// The base series, in the order of their indexes in [`Batch::minutes`];
/// reject classes follow from index [`BASE_SERIES`] on.
pub const SERIES: [&str; 8] = [
    "received",
    "sent",
    "bounced",
    "deferred",
    "rejected",
    "spam",
    "virus",
    "sasl_failures",
];
pub const BASE_SERIES: u16 = SERIES.len() as u16;
const RECEIVED: u16 = 0;
const SENT: u16 = 1;
const BOUNCED: u16 = 2;
const DEFERRED: u16 = 3;
const REJECTED: u16 = 4;
const SPAM: u16 = 5;
const VIRUS: u16 = 6;
const SASL_FAILURES: u16 = 7;

/// Who a per-subject counter is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    Ip = 0,
    Account = 1,
}

impl Subject {
    pub fn name(self) -> &'static str {
        match self {
            Subject::Ip => "ip",
            Subject::Account => "account",
        }
    }
}

/// Counts per subject and hour. Each subject's name is stored once and
/// numbered, so a new subject costs one allocation, not a map of its own.
#[derive(Debug, Default)]
pub struct SubjectCounts {
    ids: FxHashMap<Box<str>, u32>,
    /// (subject number, hour start, series index) → n.
    counts: FxHashMap<(u32, UnixTime, u16), u64>,
}

impl SubjectCounts {
    fn bump(&mut self, who: &str, hour: UnixTime, series: u16) {
        let id = match self.ids.get(who) {
            Some(&id) => id,
            None => {
                let id = self.ids.len() as u32;
                self.ids.insert(who.into(), id);
                id
            }
        };
        *self.counts.entry((id, hour, series)).or_default() += 1;
    }

    /// An empty one with room for as many subjects and counts.
    fn empty_like(&self) -> Self {
        Self {
            ids: FxHashMap::with_capacity_and_hasher(self.ids.len(), Default::default()),
            counts: FxHashMap::with_capacity_and_hasher(self.counts.len(), Default::default()),
        }
    }

    /// Every count: (subject, hour start, series index, n), in no order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, UnixTime, u16, u64)> {
        let mut names = vec![""; self.ids.len()];
        for (name, &id) in &self.ids {
            names[id as usize] = name;
        }
        self.counts
            .iter()
            .map(move |(&(id, hour, series), &n)| (names[id as usize], hour, series, n))
    }
}

/// What the lines fed since the last [`Counter::take_batch`] add up to:
/// written to storage in one transaction with the checkpoint after them.
#[derive(Default)]
pub struct Batch {
    /// Host names by the index used in `minutes`.
    pub hosts: Vec<String>,
    /// Series names by index: [`SERIES`], then `reject.<class>` per rule
    /// and `reject.other`.
    pub series: Vec<String>,
    /// (host, minute start, series) → n.
    pub minutes: FxHashMap<(u16, UnixTime, u16), u64>,
    /// (hosted domain, minute start, series) → n.
    pub domain_minutes: FxHashMap<(Arc<str>, UnixTime, u16), u64>,
    /// Per client IP and per SASL account, by hour.
    pub subjects: [SubjectCounts; 2],
    /// Messages finished, evicted or changed.
    pub messages: Vec<Message>,
    /// Block proposals made or refreshed.
    pub proposals: Vec<Proposal>,
    pub lines: u64,
    pub unparsed: u64,
    /// [`Settings::day_offset`], for the daily roll-up.
    pub day_offset: i64,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.lines == 0 && self.messages.is_empty()
    }
}

/// The header of a line read from a file (its `\n` or `\r\n` dropped);
/// `None` for a line that counts as unparsed: over [`MAX_LINE`] bytes, or
/// not a syslog line.
pub fn parse_text<'a>(line: &'a str, years: &mut YearGuess) -> Option<Header<'a>> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.len() > MAX_LINE {
        return None;
    }
    syslog::parse(line, years)
}

/// [`parse_text`] for bytes: invalid UTF-8 is unparsed too.
pub fn parse_bytes<'a>(raw: &'a [u8], years: &mut YearGuess) -> Option<Header<'a>> {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    parse_text(std::str::from_utf8(raw).ok()?, years)
}

/// Counts a stream of log lines by the rules above, correlates messages,
/// and gathers per-minute and per-subject counters for storage.
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
    /// The log time of the first and the latest parsed line.
    pub first_at: Option<UnixTime>,
    pub last_at: Option<UnixTime>,
    hosts: Vec<String>,
    last_host: u16,
    tracker: Tracker,
    batch: Batch,
    /// Abuse detection, when policies apply (see [`Counter::detect_with`]).
    detector: Option<Detector>,
}

/// Lines between two sweeps of idle correlation state.
const EVICT_EVERY: u64 = 1 << 16;

impl Counter {
    pub fn new(settings: Settings, rules: RejectRules, year: i32) -> Self {
        let classes = rules.classes.len() + 1;
        let tracker = Tracker::new(settings.limits, settings.traces);
        Self {
            settings,
            rules,
            years: YearGuess::new(year),
            lines: 0,
            unparsed: 0,
            totals: Totals::default(),
            class_counts: vec![0; classes],
            sasl_failures: 0,
            first_at: None,
            last_at: None,
            hosts: Vec::new(),
            last_host: 0,
            tracker,
            batch: Batch::default(),
            detector: None,
        }
    }

    /// Counts these domains per domain from now on (the list changes
    /// while a live source runs).
    pub fn set_domains(&mut self, domains: Arc<HostedDomains>) {
        self.settings.domains = domains;
    }

    /// Runs `detector` on every line from now on.
    pub fn detect_with(&mut self, detector: Detector) {
        self.detector = (!detector.is_empty()).then_some(detector);
    }

    /// Every block proposal of this run (none without a detector).
    pub fn proposals(&self) -> &[Proposal] {
        self.detector.as_ref().map_or(&[], |d| d.proposals())
    }

    /// Continues the year inference of an earlier run (from a checkpoint).
    pub fn resume_years(&mut self, years: YearGuess) {
        self.years = years;
    }

    pub fn years(&self) -> YearGuess {
        self.years
    }

    /// Messages and sessions held for correlation.
    pub fn in_flight(&self) -> (usize, usize) {
        (self.tracker.len(), self.tracker.sessions())
    }

    /// Reject counts by class name (classes with no reject included).
    pub fn reject_classes(&self) -> impl Iterator<Item = (&str, u64)> {
        self.class_names().zip(self.class_counts.iter().copied())
    }

    fn class_names(&self) -> impl Iterator<Item = &str> {
        self.rules
            .classes
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(OTHER))
    }

    /// Everything counted since the last take. With `finish`, messages
    /// still in flight are included as they stand (end of an import).
    pub fn take_batch(&mut self) -> Batch {
        // The next batch starts with room for as much as this one held:
        // its maps do not grow (and rehash) again step by step.
        let next = Batch {
            minutes: FxHashMap::with_capacity_and_hasher(
                self.batch.minutes.len(),
                Default::default(),
            ),
            subjects: [0, 1].map(|i| self.batch.subjects[i].empty_like()),
            ..Batch::default()
        };
        let mut batch = std::mem::replace(&mut self.batch, next);
        batch.hosts = self.hosts.clone();
        batch.day_offset = self.settings.day_offset;
        batch.series = SERIES
            .iter()
            .map(|s| s.to_string())
            .chain(self.class_names().map(|c| format!("reject.{c}")))
            .collect();
        batch.messages = self.tracker.take();
        if let Some(d) = &mut self.detector {
            batch.proposals = d.take_changed();
        }
        batch
    }

    /// Holds messages stored earlier and not finished (see
    /// [`Tracker::preload`]).
    pub fn preload(&mut self, messages: Vec<Message>) {
        for m in messages {
            let host = self.host_id(&m.host);
            self.tracker.preload(host, m);
        }
    }

    fn host_id(&mut self, host: &str) -> u16 {
        if self.hosts.get(self.last_host as usize).map(String::as_str) == Some(host) {
            return self.last_host;
        }
        let id = match self.hosts.iter().position(|h| h == host) {
            Some(i) => i as u16,
            None => {
                self.hosts.push(host.to_string());
                (self.hosts.len() - 1) as u16
            }
        };
        self.last_host = id;
        id
    }

    fn bump(&mut self, host: u16, at: UnixTime, series: u16) {
        let minute = at - at.rem_euclid(60);
        *self
            .batch
            .minutes
            .entry((host, minute, series))
            .or_default() += 1;
    }

    /// Counts under the hosted domain of the first of `addresses` that has one.
    fn bump_domain(&mut self, addresses: [Option<&str>; 2], at: UnixTime, series: u16) {
        let domain = addresses
            .into_iter()
            .flatten()
            .find_map(|a| self.settings.domains.of(a))
            .cloned();
        self.bump_hosted(domain, at, series);
    }

    fn bump_hosted(&mut self, domain: Option<Arc<str>>, at: UnixTime, series: u16) {
        if let Some(domain) = domain {
            let minute = at - at.rem_euclid(60);
            *self
                .batch
                .domain_minutes
                .entry((domain, minute, series))
                .or_default() += 1;
        }
    }

    /// The per-domain counts of a delivery line: the sender's domain for
    /// the outcome; the recipient's, once, for a message from outside.
    fn count_delivery_domains(
        &mut self,
        host: u16,
        qid: &str,
        to: &str,
        at: UnixTime,
        outcome: Option<u16>,
    ) {
        if self.settings.domains.is_empty() {
            return;
        }
        let Some(m) = self.tracker.peek(host, qid) else {
            return;
        };
        let from_outside = m.origin == Origin::Smtpd
            && m.client_ip
                .as_deref()
                .is_some_and(|ip| !self.is_internal(ip));
        let first_attempt = !m.recipients.iter().any(|r| r.to == to);
        let domains = &self.settings.domains;
        let recipient = (from_outside && first_attempt)
            .then(|| domains.of(to).cloned())
            .flatten();
        let sender = outcome.and_then(|_| domains.of(m.sender.as_deref()?).cloned());
        self.bump_hosted(recipient, at, RECEIVED);
        if let Some(series) = outcome {
            self.bump_hosted(sender, at, series);
        }
    }

    fn bump_subject(&mut self, subject: Subject, who: &str, at: UnixTime, series: u16) {
        if who.is_empty() {
            return;
        }
        let hour = at - at.rem_euclid(3600);
        self.batch.subjects[subject as usize].bump(who, hour, series);
    }

    /// Feeds one raw line as read from a file (a trailing `\n` or `\r\n`
    /// is dropped). Invalid UTF-8 and lines over [`MAX_LINE`] bytes are
    /// counted as unparsed.
    pub fn feed_bytes(&mut self, raw: &[u8]) {
        let h = parse_bytes(raw, &mut self.years);
        self.feed_header(h);
    }

    /// Feeds one line already known to be UTF-8, as read from a file (a
    /// trailing `\n` or `\r\n` is dropped); over [`MAX_LINE`] bytes it is
    /// counted as unparsed.
    pub fn feed_text(&mut self, line: &str) {
        let h = parse_text(line, &mut self.years);
        self.feed_header(h);
    }

    /// Feeds one line (without its newline).
    pub fn feed(&mut self, line: &str) {
        let h = syslog::parse(line, &mut self.years);
        self.feed_header(h);
    }

    /// Feeds a line whose header another thread parsed (`None`: unparsed)
    /// with the year inference as it stood after that line.
    pub fn feed_parsed(&mut self, h: Option<Header<'_>>, years: YearGuess) {
        self.years = years;
        self.feed_header(h);
    }

    fn feed_header(&mut self, h: Option<Header<'_>>) {
        self.lines += 1;
        self.batch.lines += 1;
        let Some(h) = h else {
            self.unparsed += 1;
            self.batch.unparsed += 1;
            return;
        };
        let at = h.at;
        self.first_at.get_or_insert(at);
        self.last_at = Some(at);
        let host = self.host_id(h.host);
        let daemon = h.postfix_daemon();
        let event = classify(&h);
        match event {
            Event::QueueClient {
                client,
                sasl_username,
                ..
            } if daemon == Some("smtpd") && !self.is_internal(client.ip) => {
                self.totals.received += 1;
                self.bump(host, at, RECEIVED);
                self.bump_subject(Subject::Ip, client.ip, at, RECEIVED);
                if let Some(user) = sasl_username {
                    self.bump_subject(Subject::Account, user, at, RECEIVED);
                }
                if let (Some(d), Event::QueueClient { qid, .. }) = (&mut self.detector, &event) {
                    d.message(at, host, qid, client.ip, sasl_username, || sample(&h));
                }
            }
            Event::QueueFrom {
                qid,
                nrcpt: Some(n),
                ..
            } => {
                if let Some(d) = &mut self.detector {
                    d.recipients(at, host, qid, u64::from(n));
                }
            }
            Event::Removed { qid } => {
                if let Some(d) = &mut self.detector {
                    d.removed(host, qid);
                }
            }
            Event::Delivery {
                qid,
                to,
                relay,
                status,
                ..
            } => {
                if let Some(d) = &mut self.detector {
                    d.delivery(at, host, qid, to, status == Status::Bounced);
                }
                let outcome = match status {
                    Status::Sent if is_sending_daemon(daemon) && !self.is_filter_relay(relay) => {
                        self.totals.sent += 1;
                        Some(SENT)
                    }
                    Status::Bounced => {
                        self.totals.bounced += 1;
                        Some(BOUNCED)
                    }
                    Status::Deferred => {
                        self.totals.deferred += 1;
                        Some(DEFERRED)
                    }
                    _ => None,
                };
                if let Some(series) = outcome {
                    self.bump(host, at, series);
                }
                self.count_delivery_domains(host, qid, to, at, outcome);
            }
            Event::Reject {
                client,
                reply,
                from,
                to,
                sasl_username,
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
                    self.bump(host, at, REJECTED);
                    let class = BASE_SERIES + self.count_class(reply);
                    self.bump(host, at, class);
                    self.bump_domain([to, from], at, REJECTED);
                    self.bump_domain([to, from], at, class);
                    // Per subject only the class: its rejects in all are
                    // the sum over classes (one stored row fewer per reject).
                    if let Some(c) = client {
                        self.bump_subject(Subject::Ip, c.ip, at, class);
                    }
                    let account = sasl_username
                        .or_else(|| self.tracker.session_account(host, h.pid))
                        .or_else(|| not_owned_by(reply))
                        .map(str::to_string);
                    if let Some(user) = &account {
                        self.bump_subject(Subject::Account, user, at, class);
                    }
                    if let Some(d) = &mut self.detector {
                        let name = class_name(&self.rules, class - BASE_SERIES);
                        let ip = client.map(|c| c.ip);
                        d.reject(at, ip, account.as_deref(), name, || sample(&h));
                    }
                    if milter && contains_spam(reply) {
                        self.totals.spam += 1;
                        self.bump(host, at, SPAM);
                    }
                }
            }
            Event::Filter { verdict, .. } => match verdict {
                Verdict::Spam => {
                    self.totals.spam += 1;
                    self.bump(host, at, SPAM);
                }
                Verdict::Virus => {
                    self.totals.virus += 1;
                    self.bump(host, at, VIRUS);
                }
                Verdict::Clean => {}
            },
            Event::RateLimit { client } => {
                let class = BASE_SERIES + self.count_class("rate limit exceeded");
                self.bump(host, at, class);
                if let Some(c) = client {
                    self.bump_subject(Subject::Ip, c.ip, at, class);
                    if let Some(d) = &mut self.detector {
                        let name = class_name(&self.rules, class - BASE_SERIES);
                        d.reject(at, Some(c.ip), None, name, || sample(&h));
                    }
                }
            }
            Event::SaslFailure {
                client, username, ..
            } => {
                self.sasl_failures += 1;
                self.bump(host, at, SASL_FAILURES);
                self.bump_domain([username, None], at, SASL_FAILURES);
                self.bump_subject(Subject::Ip, client.ip, at, SASL_FAILURES);
                if let Some(user) = username {
                    self.bump_subject(Subject::Account, user, at, SASL_FAILURES);
                }
                if let Some(d) = &mut self.detector {
                    d.sasl_failure(at, client.ip, username, || sample(&h));
                }
            }
            _ => {}
        }
        self.tracker.apply(host, h.host, h.pid, at, &event);
        if self.lines.is_multiple_of(EVICT_EVERY) {
            self.tracker.evict_idle(at);
        }
    }

    /// Counts a reject in its class; returns the class index.
    fn count_class(&mut self, text: &str) -> u16 {
        let i = self.rules.index(text) as u16;
        self.class_counts[i as usize] += 1;
        i
    }

    fn is_internal(&self, ip: &str) -> bool {
        if self.settings.internal_clients.is_empty() {
            return is_loopback(ip);
        }
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
        is_filter_relay(&self.settings.filter_relays, relay)
    }
}

/// Whether a delivery's `relay=` is a content filter (its `status=sent` is a
/// hand-off, not a delivery): anything on loopback, or a relay named in
/// `filter_relays` (lower case; `mailflow.filter_relays` in the config). The
/// counter, the Report page and the charts all decide with this one rule.
pub fn is_filter_relay(filter_relays: &[String], relay: &str) -> bool {
    let (name, in_brackets) = match split_at_byte(relay, b'[') {
        Some((name, rest)) => (name, split_at_byte(rest, b']').map(|(ip, _)| ip)),
        None => (relay, None),
    };
    let loopback = [Some(name), in_brackets]
        .into_iter()
        .flatten()
        .any(is_loopback);
    loopback || filter_relays.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// The name of reject class `index` (rule order, then `other`).
fn class_name(rules: &RejectRules, index: u16) -> &str {
    rules
        .classes
        .get(usize::from(index))
        .map_or(OTHER, String::as_str)
}

/// A log line again, from its parsed header (with the year and zone the
/// classic form leaves out): a proposal's evidence.
fn sample(h: &Header<'_>) -> String {
    let at = chrono::DateTime::from_timestamp(h.at, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    match h.pid {
        Some(pid) => format!("{at} {} {}[{pid}]: {}", h.host, h.program, h.message),
        None => format!("{at} {} {}: {}", h.host, h.program, h.message),
    }
}

fn contains_spam(reply: &str) -> bool {
    reply
        .as_bytes()
        .windows(4)
        .any(|w| w.eq_ignore_ascii_case(b"spam"))
}

/// The account named in `Sender address rejected: not owned by user U`.
fn not_owned_by(reply: &str) -> Option<&str> {
    let i = find(reply, "not owned by user ")?;
    let rest = &reply[i + 18..];
    let user = &rest[..rest.find([';', ' ', ',']).unwrap_or(rest.len())];
    (!user.is_empty()).then_some(user)
}

fn is_sending_daemon(daemon: Option<&str>) -> bool {
    matches!(daemon, Some("smtp" | "lmtp" | "local" | "virtual" | "pipe"))
}

/// A loopback address written as text. Only text that can be one is
/// parsed: IPv4 loopback starts with `127.`, IPv6 has colons.
fn is_loopback(s: &str) -> bool {
    (s.starts_with("127.") || memchr::memchr(b':', s.as_bytes()).is_some())
        && s.parse::<IpAddr>().is_ok_and(|a| a.is_loopback())
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

    /// Per-domain counts of `lines` with `cliente.com.br` hosted:
    /// `(domain, series name) → n` over all minutes.
    fn per_domain(lines: &[&str]) -> Vec<(String, String, u64)> {
        let settings = Settings {
            domains: Arc::new(HostedDomains::new(["Cliente.com.br"])),
            ..Settings::default()
        };
        let mut c = Counter::new(settings, RejectRules::defaults(), 2026);
        for l in lines {
            c.feed(l);
        }
        let batch = c.take_batch();
        let mut sums = std::collections::BTreeMap::new();
        for ((d, _, s), n) in &batch.domain_minutes {
            *sums
                .entry((d.to_string(), batch.series[usize::from(*s)].clone()))
                .or_default() += n;
        }
        sums.into_iter().map(|((d, s), n)| (d, s, n)).collect()
    }

    fn row(series: &str, n: u64) -> (String, String, u64) {
        ("cliente.com.br".into(), series.into(), n)
    }

    #[test]
    fn inbound_counts_under_the_recipient_domain_once_per_recipient() {
        let got = per_domain(&[
            // From outside to two customers (one in capitals) and a stranger,
            // through amavis: the hand-off is the first attempt.
            "Aug  4 08:28:40 mx1 postfix/smtpd[100]: 46E0BAB8E5: client=mx.example.org[203.0.113.7]",
            "Aug  4 08:28:41 mx1 postfix/qmgr[9]: 46E0BAB8E5: from=<news@example.org>, size=10004, nrcpt=3 (queue active)",
            "Aug  4 08:28:42 mx1 postfix/smtp[300]: 46E0BAB8E5: to=<ana@cliente.com.br>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, dsn=2.0.0, status=sent (250 2.0.0 Ok, queued as 6A2BCAB8E7)",
            "Aug  4 08:28:42 mx1 postfix/smtp[300]: 46E0BAB8E5: to=<BRUNO@CLIENTE.COM.BR>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, dsn=4.0.0, status=deferred (busy)",
            "Aug  4 08:29:42 mx1 postfix/smtp[300]: 46E0BAB8E5: to=<BRUNO@CLIENTE.COM.BR>, relay=127.0.0.1[127.0.0.1]:10024, delay=61, dsn=2.0.0, status=sent (250 2.0.0 Ok, queued as 6A2BCAB8E8)",
            "Aug  4 08:28:42 mx1 postfix/smtp[300]: 46E0BAB8E5: to=<x@elsewhere.net>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, dsn=2.0.0, status=sent (250 2.0.0 Ok, queued as 6A2BCAB8E9)",
            // The re-injection from amavis is not received again; its
            // delivery is a foreign sender's, so no per-domain "sent".
            "Aug  4 08:28:50 mx1 postfix/smtpd[400]: 6A2BCAB8E7: client=localhost[127.0.0.1]",
            "Aug  4 08:28:50 mx1 postfix/qmgr[9]: 6A2BCAB8E7: from=<news@example.org>, size=10400, nrcpt=1 (queue active)",
            "Aug  4 08:28:51 mx1 postfix/lmtp[500]: 6A2BCAB8E7: to=<ana@cliente.com.br>, relay=mbox1[10.0.0.9]:24, delay=0.2, dsn=2.0.0, status=sent (250 2.0.0 Saved)",
        ]);
        assert_eq!(got, vec![row("received", 2)]);
    }

    #[test]
    fn outbound_counts_under_the_sender_domain() {
        let got = per_domain(&[
            "Aug  4 09:00:00 mx1 postfix/submission/smtpd[2]: 3A452D9640: client=cpe[198.51.100.9], sasl_method=LOGIN, sasl_username=ana@cliente.com.br",
            "Aug  4 09:00:00 mx1 postfix/qmgr[9]: 3A452D9640: from=<ana@cliente.com.br>, size=2000, nrcpt=3 (queue active)",
            "Aug  4 09:00:01 mx1 postfix/smtp[1]: 3A452D9640: to=<a@x.com>, relay=mx.x.com[198.51.100.1]:25, delay=1, dsn=2.0.0, status=sent (250 ok)",
            "Aug  4 09:00:01 mx1 postfix/smtp[1]: 3A452D9640: to=<c@y.com>, relay=mx.y.com[198.51.100.2]:25, delay=1, dsn=5.1.1, status=bounced (host said: 550 no such user)",
            "Aug  4 09:00:02 mx1 postfix/smtp[1]: 3A452D9640: to=<d@z.com>, relay=none, delay=30, dsn=4.4.1, status=deferred (connect to mx.z.com: Connection timed out)",
            // Refused: for a customer (recipient domain), from a customer
            // to a stranger (sender domain), and neither (not counted).
            "Aug  4 09:01:00 mx1 postfix/smtpd[7]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 550 5.1.1 <zz@cliente.com.br>: Recipient address rejected: User unknown in virtual mailbox table; from=<s@spam.example> to=<zz@cliente.com.br> proto=ESMTP helo=<x>",
            "Aug  4 09:01:01 mx1 postfix/smtpd[7]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 553 5.7.1 <bruno@cliente.com.br>: Sender address rejected: not logged in; from=<bruno@cliente.com.br> to=<y@y.com> proto=ESMTP helo=<x>",
            "Aug  4 09:01:02 mx1 postfix/smtpd[7]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <y@y.com>: Relay access denied; from=<s@spam.example> to=<y@y.com> proto=ESMTP helo=<x>",
            "Aug  4 09:02:00 mx1 postfix/smtpd[8]: warning: unknown[192.0.2.2]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=ana@cliente.com.br",
        ]);
        assert_eq!(
            got,
            vec![
                row("bounced", 1),
                row("deferred", 1),
                row("reject.not_logged", 1),
                row("reject.unknown_user", 1),
                row("rejected", 2),
                row("sasl_failures", 1),
                row("sent", 1),
            ]
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

    fn account_series(c: &mut Counter, user: &str) -> Vec<(String, u64)> {
        let batch = c.take_batch();
        let mut out: Vec<(String, u64)> = batch.subjects[Subject::Account as usize]
            .iter()
            .filter(|(who, ..)| *who == user)
            .map(|(_, _, s, n)| (batch.series[s as usize].clone(), n))
            .collect();
        out.sort();
        out
    }

    /// Postfix < 3.10 does not name the account on reject lines: the reject
    /// belongs to whoever authenticated earlier in the same smtpd process
    /// (host, pid) — not to another session on the same host.
    #[test]
    fn pre_3_10_rejects_are_tied_to_the_sessions_account() {
        let mut c = count(&[
            "Aug  4 10:00:00 mx1 postfix/submission/smtpd[77]: connect from cpe[198.51.100.9]",
            "Aug  4 10:00:01 mx1 postfix/submission/smtpd[77]: 4A1B2C3D4E: client=cpe[198.51.100.9], sasl_method=LOGIN, sasl_username=ana@cliente.com.br",
            "Aug  4 10:00:02 mx1 postfix/submission/smtpd[77]: NOQUEUE: reject: RCPT from cpe[198.51.100.9]: 554 5.7.1 <x@y.com>: Relay access denied; from=<ana@cliente.com.br> to=<x@y.com> proto=ESMTP helo=<pc>",
            "Aug  4 10:00:02 mx2 postfix/submission/smtpd[77]: NOQUEUE: reject: RCPT from other[192.0.2.5]: 554 5.7.1 <x@y.com>: Relay access denied; from=<z@e.com> to=<x@y.com> proto=ESMTP helo=<pc>",
            "Aug  4 10:00:03 mx1 postfix/submission/smtpd[77]: disconnect from cpe[198.51.100.9] ehlo=1 auth=1 mail=2 rcpt=1/2 quit=1 commands=6/7",
            "Aug  4 10:00:04 mx1 postfix/submission/smtpd[77]: connect from bot[192.0.2.66]",
            "Aug  4 10:00:05 mx1 postfix/submission/smtpd[77]: NOQUEUE: reject: RCPT from bot[192.0.2.66]: 554 5.7.1 <x@y.com>: Relay access denied; from=<a@b.com> to=<x@y.com> proto=ESMTP helo=<pc>",
        ]);
        assert_eq!(
            account_series(&mut c, "ana@cliente.com.br"),
            [("received", 1), ("reject.relay", 1)].map(|(k, n)| (k.to_string(), n))
        );
    }

    #[test]
    fn postfix_3_10_reject_lines_name_the_account_themselves() {
        let mut c = count(&[
            "Aug  4 10:00:03 mx1 postfix/submission/smtpd[5]: NOQUEUE: reject: RCPT from cpe[198.51.100.9]: 553 5.7.1 <boss@bank.com>: Sender address rejected: not owned by user bia@cliente.com.br; from=<boss@bank.com> to=<t@o.net> proto=ESMTP helo=<pc> sasl_username=bia@cliente.com.br",
        ]);
        assert_eq!(
            account_series(&mut c, "bia@cliente.com.br"),
            [("reject.not_owned", 1)].map(|(k, n)| (k.to_string(), n))
        );
    }

    #[test]
    fn a_message_is_correlated_by_host_and_queue_id() {
        let mut c = count(&[
            "Aug  4 08:00:00 mx1 postfix/smtpd[1]: 3A452D963D: client=mail.e.com[203.0.113.7]",
            "Aug  4 08:00:00 mx2 postfix/smtpd[1]: 3A452D963D: client=other.e.com[203.0.113.8]",
            "Aug  4 08:00:01 mx1 postfix/cleanup[2]: 3A452D963D: message-id=<abc@e.com>",
            "Aug  4 08:00:01 mx1 postfix/qmgr[3]: 3A452D963D: from=<s@e.com>, size=2048, nrcpt=2 (queue active)",
            "Aug  4 08:00:02 mx1 postfix/lmtp[4]: 3A452D963D: to=<a@c.com.br>, relay=mbox[10.0.0.9]:24, delay=2, delays=1/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Saved)",
            "Aug  4 08:00:02 mx1 postfix/lmtp[4]: 3A452D963D: to=<b@c.com.br>, relay=mbox[10.0.0.9]:24, delay=2, dsn=4.2.2, status=deferred (452 mailbox full)",
            "Aug  4 09:00:02 mx1 postfix/lmtp[4]: 3A452D963D: to=<b@c.com.br>, relay=mbox[10.0.0.9]:24, delay=3602, dsn=2.0.0, status=sent (250 2.0.0 Saved)",
            "Aug  4 09:00:02 mx1 postfix/qmgr[3]: 3A452D963D: removed",
        ]);
        let mut batch = c.take_batch();
        batch.messages.sort_by(|a, b| a.host.cmp(&b.host));
        let [m1, m2] = &batch.messages[..] else {
            panic!("two messages expected, got {:?}", batch.messages)
        };
        assert_eq!(m1.host, "mx1");
        assert!(m1.removed && !m2.removed);
        assert_eq!(m1.client_ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(m1.message_id.as_deref(), Some("abc@e.com"));
        assert_eq!(
            (m1.sender.as_deref(), m1.size, m1.nrcpt),
            (Some("s@e.com"), Some(2048), Some(2))
        );
        let outcomes: Vec<_> = m1
            .recipients
            .iter()
            .map(|r| (r.to.as_str(), r.status.as_str(), r.attempts))
            .collect();
        assert_eq!(
            outcomes,
            [("a@c.com.br", "sent", 1), ("b@c.com.br", "sent", 2)]
        );
        assert_eq!(m2.client_ip.as_deref(), Some("203.0.113.8"));
        assert_eq!(c.in_flight().0, 1, "mx2's message is still in flight");
        assert!(c.take_batch().messages.is_empty(), "nothing changed since");
    }

    /// Endless input with messages that never finish: state stays bounded.
    #[test]
    fn correlation_state_is_evicted_when_idle() {
        let mut settings = Settings::default();
        settings.limits.idle_secs = 600;
        let mut c = Counter::new(settings, RejectRules::defaults(), 2026);
        for i in 0..300_000u64 {
            let t = 1_000_000 + i; // one line per second
            let line = format!(
                "{} mx1 postfix/smtpd[{}]: {:010X}: client=x[192.0.2.1]",
                chrono::DateTime::from_timestamp(t as i64, 0)
                    .unwrap()
                    .to_rfc3339(),
                i % 1000,
                i
            );
            c.feed(&line);
            if i % 100_000 == 0 {
                c.take_batch();
            }
        }
        let (messages, _) = c.in_flight();
        assert!(
            messages <= 600 + EVICT_EVERY as usize,
            "{messages} messages held"
        );
        assert_eq!(c.totals.received, 300_000);
    }
}
