//! The counter: feeds each line through the syslog header, the event
//! classifier and the correlator, and counts it by the rules in
//! [`super`]'s overview, one function per kind of event. What it counts
//! goes to the running [`Totals`] and to the [`Batch`] taken for storage.

use super::batch::{Batch, HostedDomains, class_series, series_names};
use super::rules::{
    RejectRules, contains_spam, is_counted_reject, is_filter_relay, is_loopback, is_sending_daemon,
    not_owned_by,
};
use crate::correlate::{Limits, Message, Origin, Tracker};
use crate::coverage::Coverage;
use crate::detect::{Alert, Detector, Proposal};
use crate::event::{Client, Event, Status, Verdict, classify};
use crate::series::Series;
use crate::subject::SubjectKind;
use crate::syslog::{self, Header, LastLines, ReplayBudget, YearGuess};
use crate::time::UnixTime;
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

/// Longer lines are not Postfix's and are counted as unparsed.
pub const MAX_LINE: usize = 16 * 1024;

/// What the counter treats as internal, and how long correlation state lives.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Clients (besides loopback) whose submissions are re-injections.
    pub internal_clients: Vec<ipnet::IpNet>,
    /// Networks detection never proposes besides loopback and the internal
    /// clients: the relays' own addresses and the customer pools.
    pub never_propose: Vec<ipnet::IpNet>,
    /// When detection alerts on a rate far above its usual (`None`: never).
    pub alerts: Option<crate::detect::AlertRules>,
    /// Relay names that are content filters (lower case).
    pub filter_relays: Vec<String>,
    pub limits: Limits,
    /// Build message traces. Off when nothing is stored (a dry run): the
    /// counts do not need them, only smtpd sessions are followed then.
    pub traces: bool,
    /// The domains counted per domain.
    pub domains: Arc<HostedDomains>,
    /// The time zone whose days the daily totals follow (its offset
    /// changes; empty: UTC).
    pub day_zone: Arc<crate::time::OffsetChanges>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            internal_clients: Vec::new(),
            never_propose: Vec::new(),
            alerts: Some(crate::detect::AlertRules::default()),
            filter_relays: ["amavis", "clamav", "spamassassin", "dspam"]
                .map(String::from)
                .to_vec(),
            limits: Limits::default(),
            traces: true,
            domains: Arc::default(),
            day_zone: Arc::default(),
        }
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

/// Counts a stream of log lines by the counting rules ([`super`]), correlates messages,
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
    /// How much of the log was understood (taken per file or window).
    pub coverage: Coverage,
    /// For repeat lines (see [`crate::syslog`]).
    last_lines: LastLines,
    replays: ReplayBudget,
}

/// Lines between two sweeps of idle correlation state.
pub(super) const EVICT_EVERY: u64 = 1 << 16;

impl Counter {
    pub fn new(settings: Settings, rules: RejectRules, year: i32) -> Self {
        let tracker = Tracker::new(settings.limits, settings.traces);
        Self {
            settings,
            class_counts: vec![0; rules.class_count()],
            rules,
            years: YearGuess::new(year),
            lines: 0,
            unparsed: 0,
            totals: Totals::default(),
            sasl_failures: 0,
            first_at: None,
            last_at: None,
            hosts: Vec::new(),
            last_host: 0,
            tracker,
            batch: Batch::default(),
            detector: None,
            coverage: Coverage::default(),
            last_lines: LastLines::default(),
            replays: ReplayBudget::default(),
        }
    }

    /// Counts these domains per domain from now on (the list changes
    /// while a live source runs).
    pub fn set_domains(&mut self, domains: Arc<HostedDomains>) {
        self.settings.domains = domains;
    }

    /// Classifies rejects by `rules` from now on (they were edited). Only
    /// between batches, right after [`Counter::take_batch`]: a batch's
    /// series are numbered by the rules it was counted with. The class
    /// totals start again at zero.
    pub fn set_rules(&mut self, rules: RejectRules) {
        debug_assert!(self.batch.lines == 0, "rules replaced within a batch");
        self.class_counts = vec![0; rules.class_count()];
        self.rules = rules;
    }

    /// Runs `detector` on every line from now on.
    pub fn detect_with(&mut self, mut detector: Detector) {
        detector.never_propose(&self.settings.internal_clients);
        detector.never_propose(&self.settings.never_propose);
        detector.set_alert_rules(self.settings.alerts.clone());
        self.detector = (!detector.is_empty()).then_some(detector);
    }

    /// Every block proposal of this run (none without a detector).
    pub fn proposals(&self) -> &[Proposal] {
        self.detector.as_ref().map_or(&[], |d| d.proposals())
    }

    /// Every alert of this run (none without a detector).
    pub fn alerts(&self) -> &[Alert] {
        self.detector.as_ref().map_or(&[], |d| d.alerts())
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
        self.rules
            .class_names()
            .zip(self.class_counts.iter().copied())
    }

    /// Everything counted since the last take, with the messages finished
    /// or changed since and the proposals made or refreshed.
    pub fn take_batch(&mut self) -> Batch {
        let next = self.batch.next();
        let mut batch = std::mem::replace(&mut self.batch, next);
        batch.hosts = self.hosts.clone();
        batch.day_zone = self.settings.day_zone.clone();
        batch.series = series_names(&self.rules);
        batch.messages = self.tracker.take();
        if let Some(d) = &mut self.detector {
            batch.proposals = d.take_changed();
            batch.alerts = d.take_changed_alerts();
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

    /// Feeds a line another thread parsed and classified: its header
    /// (`None`: unparsed), its event ([`classify`] of that header) and the
    /// year inference as it stood after the line. Counts exactly as
    /// [`Counter::feed_text`] of the line would.
    pub fn feed_classified(&mut self, h: Option<Header<'_>>, event: Event<'_>, years: YearGuess) {
        self.years = years;
        self.feed_event(h, Some(event));
    }

    fn feed_header(&mut self, h: Option<Header<'_>>) {
        self.feed_event(h, None);
    }

    /// Counts one line: its event (`None`: not classified yet) goes to the
    /// function for its kind, then to the correlator (which the per-domain
    /// counts read before it).
    #[inline(always)]
    fn feed_event(&mut self, h: Option<Header<'_>>, event: Option<Event<'_>>) {
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
        if let Some(repeat) = syslog::repeat(&h) {
            return self.repeated(&h, host, repeat);
        }
        let event = event.unwrap_or_else(|| classify(&h));
        if self.count(h, host, event) {
            self.last_lines.keep(host, &h);
        } else {
            self.last_lines.forget(host);
        }
    }

    /// Counts a line's event. Inlined into [`Counter::feed_header`], the
    /// per-line path, as it was before repeat lines shared it.
    ///
    /// Whether a syslogd could fold the line into a repeat: not a line
    /// naming a queue id, as Postfix never writes one such line twice in
    /// a row (and replaying it would count a message's step twice). Only
    /// the others are kept for sysklogd's repeat lines, which spares a
    /// copy of most lines.
    #[inline(always)]
    fn count(&mut self, h: Header<'_>, host: u16, event: Event<'_>) -> bool {
        let at = h.at;
        let daemon = h.postfix_daemon();
        self.coverage.line(&h, daemon.is_some(), &event);
        let repeatable = !matches!(
            event,
            Event::QueueClient { .. }
                | Event::QueueFrom { .. }
                | Event::MessageId { .. }
                | Event::Pickup { .. }
                | Event::Delivery { .. }
                | Event::Removed { .. }
        );
        match event {
            Event::QueueClient {
                qid,
                client,
                sasl_username,
                ..
            } if daemon == Some("smtpd") => self.received(&h, host, qid, client, sasl_username),
            Event::QueueFrom {
                qid,
                nrcpt: Some(n),
                ..
            } => self.queued(at, host, qid, n),
            Event::Removed { qid } => self.removed(host, qid),
            Event::Delivery {
                qid,
                to,
                relay,
                status,
                ..
            } => self.delivery(at, host, daemon, qid, to, relay, status),
            Event::Reject {
                client,
                reply,
                from,
                to,
                sasl_username,
                discard,
                milter,
                ..
            } if is_counted_reject(daemon, discard) => {
                let addresses = [to, from];
                self.reject(&h, host, client, reply, addresses, sasl_username, milter);
            }
            Event::Filter { verdict, .. } => self.filter_verdict(at, host, verdict),
            Event::RateLimit { client } => self.rate_limit(&h, host, client),
            Event::SaslFailure {
                client, username, ..
            } => self.sasl_failure(&h, host, client, username),
            _ => {}
        }
        self.tracker.apply(host, h.host, h.pid, at, &event);
        if self.lines.is_multiple_of(EVICT_EVERY) {
            self.tracker.evict_idle(at);
        }
        repeatable
    }

    /// A repeat line: its copies counted as lines of their own, as many as
    /// the caps allow (see [`crate::syslog`]).
    fn repeated(&mut self, h: &Header<'_>, host: u16, repeat: syslog::Repeat<'_>) {
        self.coverage.repeat_lines += 1;
        let times = self.replays.grant(repeat.times, self.lines);
        let left_out = &mut self.coverage.repeats_left_out;
        *left_out = left_out.saturating_add(repeat.times - times);
        let last = std::mem::take(&mut self.last_lines);
        let copy = match repeat.message {
            Some(message) => Some(Header { message, ..*h }),
            None => last.header(host, h.host, h.at),
        };
        if let Some(copy) = copy {
            let event = classify(&copy);
            for _ in 0..times {
                let _ = self.count(copy, host, event);
            }
        }
        self.last_lines = last;
    }

    /// smtpd's `QID: client=`: a message received, unless the client is
    /// internal and did not authenticate (a content filter's re-injection).
    fn received(
        &mut self,
        h: &Header<'_>,
        host: u16,
        qid: &str,
        client: Client<'_>,
        sasl_username: Option<&str>,
    ) {
        if sasl_username.is_none() && self.is_internal(client.ip) {
            return;
        }
        let (at, series) = (h.at, Series::Received.index());
        self.totals.received += 1;
        self.batch.bump(host, at, series);
        self.batch.bump_client(client.ip, sasl_username, at, series);
        if let Some(d) = &mut self.detector {
            d.message(at, host, qid, client.ip, sasl_username, || sample(h));
        }
    }

    /// qmgr's `nrcpt=`: counted by detection only.
    fn queued(&mut self, at: UnixTime, host: u16, qid: &str, nrcpt: u32) {
        if let Some(d) = &mut self.detector {
            d.recipients(at, host, qid, u64::from(nrcpt));
        }
    }

    /// qmgr's `removed`: detection forgets the message.
    fn removed(&mut self, host: u16, qid: &str) {
        if let Some(d) = &mut self.detector {
            d.removed(host, qid);
        }
    }

    /// A delivery line: sent (unless a hand-off to a content filter),
    /// bounced or deferred, per host and per hosted domain.
    #[allow(clippy::too_many_arguments)]
    fn delivery(
        &mut self,
        at: UnixTime,
        host: u16,
        daemon: Option<&str>,
        qid: &str,
        to: &str,
        relay: &str,
        status: Status,
    ) {
        if let Some(d) = &mut self.detector {
            d.delivery(at, host, qid, to, status == Status::Bounced);
        }
        let outcome = match status {
            Status::Sent
                if is_sending_daemon(daemon)
                    && !is_filter_relay(&self.settings.filter_relays, relay) =>
            {
                self.totals.sent += 1;
                Some(Series::Sent)
            }
            Status::Bounced => {
                self.totals.bounced += 1;
                Some(Series::Bounced)
            }
            Status::Deferred => {
                self.totals.deferred += 1;
                Some(Series::Deferred)
            }
            _ => None,
        }
        .map(Series::index);
        if let Some(series) = outcome {
            self.batch.bump(host, at, series);
        }
        self.count_delivery_domains(host, qid, to, at, outcome);
    }

    /// A reject that counts ([`is_counted_reject`]): rejected
    /// and its class, per host, hosted domain (of the first of
    /// `addresses`, recipient then sender, that is hosted), client IP and
    /// account; spam too when a milter's reply says so.
    #[allow(clippy::too_many_arguments)]
    fn reject(
        &mut self,
        h: &Header<'_>,
        host: u16,
        client: Option<Client<'_>>,
        reply: &str,
        addresses: [Option<&str>; 2],
        sasl_username: Option<&str>,
        milter: bool,
    ) {
        let at = h.at;
        let rejected = Series::Rejected.index();
        self.totals.rejected += 1;
        self.batch.bump(host, at, rejected);
        let index = self.count_class(reply);
        if index + 1 == self.class_counts.len() {
            self.batch.unclassified.add(reply, at, || sample(h));
        }
        let class = class_series(index);
        self.batch.bump(host, at, class);
        self.bump_domain(addresses, at, rejected);
        self.bump_domain(addresses, at, class);
        // Per subject only the class: its rejects in all are the sum over
        // classes (one stored row fewer per reject).
        if let Some(c) = client {
            self.batch.bump_subject(SubjectKind::Ip, c.ip, at, class);
        }
        let account = sasl_username
            .or_else(|| self.tracker.session_account(host, h.pid))
            .or_else(|| not_owned_by(reply))
            .map(str::to_string);
        if let Some(user) = &account {
            self.batch
                .bump_subject(SubjectKind::Account, user, at, class);
        }
        if let Some(d) = &mut self.detector {
            let name = self.rules.class_name(index);
            let ip = client.map(|c| c.ip);
            d.reject(at, ip, account.as_deref(), name, || sample(h));
        }
        if milter && contains_spam(reply) {
            self.totals.spam += 1;
            self.batch.bump(host, at, Series::Spam.index());
        }
    }

    /// A content filter's verdict: spam or virus.
    fn filter_verdict(&mut self, at: UnixTime, host: u16, verdict: Verdict) {
        let series = match verdict {
            Verdict::Spam => {
                self.totals.spam += 1;
                Series::Spam
            }
            Verdict::Virus => {
                self.totals.virus += 1;
                Series::Virus
            }
            Verdict::Clean => return,
        };
        self.batch.bump(host, at, series.index());
    }

    /// A "rate limit exceeded" warning: not a reject line, but counted in
    /// the class of its text (`rate`), per host and client IP.
    fn rate_limit(&mut self, h: &Header<'_>, host: u16, client: Option<Client<'_>>) {
        let at = h.at;
        let index = self.count_class("rate limit exceeded");
        let class = class_series(index);
        self.batch.bump(host, at, class);
        if let Some(c) = client {
            self.batch.bump_subject(SubjectKind::Ip, c.ip, at, class);
            if let Some(d) = &mut self.detector {
                let name = self.rules.class_name(index);
                d.reject(at, Some(c.ip), None, name, || sample(h));
            }
        }
    }

    /// A SASL authentication failure, per host, hosted domain of the
    /// login, client IP and account.
    fn sasl_failure(
        &mut self,
        h: &Header<'_>,
        host: u16,
        client: Client<'_>,
        username: Option<&str>,
    ) {
        let (at, series) = (h.at, Series::SaslFailures.index());
        self.sasl_failures += 1;
        self.batch.bump(host, at, series);
        self.bump_domain([username, None], at, series);
        self.batch.bump_client(client.ip, username, at, series);
        if let Some(d) = &mut self.detector {
            d.sasl_failure(at, client.ip, username, || sample(h));
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

    /// Counts under the hosted domain of the first of `addresses` that has one.
    fn bump_domain(&mut self, addresses: [Option<&str>; 2], at: UnixTime, series: u16) {
        let domain = addresses
            .into_iter()
            .flatten()
            .find_map(|a| self.settings.domains.of(a))
            .cloned();
        self.batch.bump_domain(domain, at, series);
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
                .is_some_and(|ip| m.sasl_username.is_some() || !self.is_internal(ip));
        let first_attempt = !m.recipients.iter().any(|r| r.to == to);
        let domains = &self.settings.domains;
        let recipient = (from_outside && first_attempt)
            .then(|| domains.of(to).cloned())
            .flatten();
        let sender = outcome.and_then(|_| domains.of(m.sender.as_deref()?).cloned());
        self.batch
            .bump_domain(recipient, at, Series::Received.index());
        if let Some(series) = outcome {
            self.batch.bump_domain(sender, at, series);
        }
    }

    /// Counts a reject in its class; returns the class index.
    fn count_class(&mut self, text: &str) -> usize {
        let i = self.rules.index(text);
        self.class_counts[i] += 1;
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
