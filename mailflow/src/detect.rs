//! Abuse detection: the security team's policies applied to the stream of
//! MailFlow events, in log time, proposing blocks.
//!
//! A policy counts one thing per subject (a client IP or a SASL account)
//! over a sliding window, and fires when the count reaches its threshold
//! and, with a burst factor, is also that many times the subject's own
//! usual count (the average of the six windows before; with less history
//! than one window, no burst is judged). A subject that
//! fires gets one [`Proposal`] with its evidence; later events keep it up
//! to date. Subjects on the allowlist are never proposed. State is kept
//! only for subjects seen within the longest window of their kind (seven
//! windows for a burst policy), so memory stays bounded on endless input.

use crate::trace::QueueId;
use ipnet::IpNet;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::hash::Hasher;
use std::net::IpAddr;

pub use crate::subject::SubjectKind;
pub use crate::time::UnixTime;

/// What a policy counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Rejects of one class (`None`: of any class).
    Reject(Option<String>),
    SaslFailures,
    /// Messages accepted from the subject (smtpd `client=` lines).
    Messages,
    /// Recipients of the subject's messages (qmgr `nrcpt=`).
    Recipients,
    /// Different recipient addresses its messages were delivered to.
    DistinctRecipients,
    /// Different client IPs an account sent or authenticated from.
    DistinctIps,
    /// Bounced deliveries of its messages.
    Bounces,
}

impl Metric {
    /// From the stored `metric` and `reject_class` columns.
    pub fn parse(metric: &str, class: Option<&str>) -> Option<Self> {
        Some(match metric {
            "reject" => Self::Reject(class.filter(|c| !c.is_empty()).map(str::to_string)),
            "sasl_failures" => Self::SaslFailures,
            "messages" => Self::Messages,
            "recipients" => Self::Recipients,
            "distinct_recipients" => Self::DistinctRecipients,
            "distinct_ips" => Self::DistinctIps,
            "bounces" => Self::Bounces,
            _ => return None,
        })
    }

    /// The reason name shown in a proposal's evidence.
    pub fn reason(&self) -> String {
        match self {
            Self::Reject(Some(class)) => class.clone(),
            Self::Reject(None) => "rejects".into(),
            Self::SaslFailures => "sasl_failures".into(),
            Self::Messages => "messages".into(),
            Self::Recipients => "recipients".into(),
            Self::DistinctRecipients => "distinct_recipients".into(),
            Self::DistinctIps => "distinct_ips".into(),
            Self::Bounces => "bounces".into(),
        }
    }

    fn distinct(&self) -> bool {
        matches!(self, Self::DistinctRecipients | Self::DistinctIps)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub name: String,
    pub subject: SubjectKind,
    pub metric: Metric,
    pub window_secs: i64,
    pub threshold: u64,
    pub burst_factor: Option<f64>,
    pub block_minutes: u32,
    pub auto_approve: bool,
}

/// Addresses, networks and accounts that are never proposed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Allowlist {
    pub networks: Vec<IpNet>,
    /// Lower case.
    pub accounts: FxHashSet<String>,
}

impl Allowlist {
    fn allows(&self, kind: SubjectKind, target: &str) -> bool {
        match kind {
            SubjectKind::Ip => {
                !self.networks.is_empty()
                    && target
                        .parse::<IpAddr>()
                        .is_ok_and(|ip| self.networks.iter().any(|n| n.contains(&ip)))
            }
            SubjectKind::Account => {
                !self.accounts.is_empty() && self.accounts.contains(&target.to_lowercase())
            }
        }
    }
}

/// A proposed block and its evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Proposal {
    pub subject: SubjectKind,
    pub target: String,
    /// The policy that fired first.
    pub policy: String,
    /// Reason → the count in its window when last seen.
    pub reasons: BTreeMap<String, u64>,
    pub first_seen: UnixTime,
    pub last_seen: UnixTime,
    #[serde(skip)]
    pub distinct_ips: u32,
    #[serde(skip)]
    pub distinct_recipients: u32,
    /// Up to [`MAX_SAMPLES`] log lines.
    #[serde(skip)]
    pub samples: Vec<String>,
    #[serde(skip)]
    pub block_minutes: u32,
    #[serde(skip)]
    pub auto_approve: bool,
}

pub const MAX_SAMPLES: usize = 20;
/// Lines kept per subject before any policy fires.
const SAMPLES_BEFORE: usize = 5;
/// A burst is compared with this many windows before it.
const HISTORY_WINDOWS: i64 = 6;
/// Most messages whose account is remembered for their deliveries.
const MAX_QUEUED: usize = 200_000;

/// A sliding count in one-minute buckets, keeping the windows before it
/// for the burst comparison.
#[derive(Debug, Default)]
struct Count {
    /// (minute, n), oldest first.
    buckets: VecDeque<(i64, u64)>,
    /// Buckets before this index are older than the window.
    split: usize,
    recent: u64,
    older: u64,
}

impl Count {
    fn add(&mut self, minute: i64, n: u64) {
        match self.buckets.back_mut() {
            Some((m, c)) if *m == minute => *c += n,
            _ => self.buckets.push_back((minute, n)),
        }
        self.recent += n;
    }

    /// Moves the window to end at `minute`.
    fn slide(&mut self, minute: i64, window_min: i64, keep_history: bool) {
        let start = minute - window_min + 1;
        while let Some(&(m, c)) = self.buckets.get(self.split) {
            if m >= start {
                break;
            }
            self.recent -= c;
            self.older += c;
            self.split += 1;
        }
        let keep_from = if keep_history {
            start - HISTORY_WINDOWS * window_min
        } else {
            start
        };
        while let Some(&(m, c)) = self.buckets.front() {
            if m >= keep_from {
                break;
            }
            self.buckets.pop_front();
            self.older -= c;
            self.split -= 1;
        }
    }

    /// The usual count per window: the average over the `windows` before
    /// (fewer than [`HISTORY_WINDOWS`] while the detector is young).
    fn baseline(&self, windows: i64) -> f64 {
        self.older as f64 / windows.max(1) as f64
    }
}

/// Distinct values seen within the window, each with when it was last
/// seen. Most subjects have a handful, so a list beats a map; it stops
/// growing at `cap` (four times the threshold: the count is exact up to
/// there, far past the point where the policy fires).
#[derive(Debug, Default)]
struct Distinct {
    seen: Vec<(u64, UnixTime)>,
}

impl Distinct {
    fn add(&mut self, at: UnixTime, value: u64, cap: usize) {
        if let Some((_, t)) = self.seen.iter_mut().find(|(v, _)| *v == value) {
            *t = at;
        } else if self.seen.len() < cap {
            self.seen.push((value, at));
        }
    }

    fn slide(&mut self, at: UnixTime, window_secs: i64) {
        self.seen.retain(|&(_, t)| t > at - window_secs);
    }

    fn len(&self) -> u64 {
        self.seen.len() as u64
    }
}

#[derive(Debug)]
enum Window {
    Count(Count),
    Distinct(Distinct),
}

/// What is known of one subject.
#[derive(Debug)]
struct State {
    /// The address or account (subjects are keyed by its hash).
    name: Box<str>,
    /// One per policy of this subject's kind, in policy order.
    windows: Vec<Window>,
    samples: VecDeque<String>,
    last_at: UnixTime,
    /// Set once a policy fired for the subject.
    proposal: Option<usize>,
}

/// Whom an event is about: a target by name, or (for a delivery) the
/// hash of an account seen before.
#[derive(Clone, Copy)]
enum Who<'a> {
    Named(&'a str),
    Known(u64),
}

/// The detector: feed it events in log order; take what fired.
pub struct Detector {
    policies: Vec<Policy>,
    /// Indexes into `policies` by subject kind.
    by_kind: [Vec<usize>; 2],
    allow: Allowlist,
    /// Per subject kind: the hash of the target → its state. (Two targets
    /// with one 64-bit hash would share a state: among millions of
    /// subjects, a chance of about one in ten million.)
    subjects: [FxHashMap<u64, State>; 2],
    /// (host, queue id) → the hash of the account that submitted it.
    queued: FxHashMap<(u16, QueueId), u64>,
    proposals: Vec<Proposal>,
    /// Indexes into `proposals` changed since the last [`Detector::take_changed`].
    changed: FxHashSet<usize>,
    /// Per subject kind, how long an idle subject's state is needed.
    keep_secs: [i64; 2],
    last_evict: UnixTime,
    /// The log time of the first event: before it there is no history.
    started: Option<UnixTime>,
    /// Some account policy counts what a submission led to (recipients,
    /// deliveries): remember who queued what.
    wants_queued: bool,
    /// Some account policy counts deliveries (not only `nrcpt=`).
    wants_deliveries: bool,
}

impl Detector {
    pub fn new(policies: Vec<Policy>, allow: Allowlist) -> Self {
        let mut by_kind = [Vec::new(), Vec::new()];
        for (i, p) in policies.iter().enumerate() {
            by_kind[p.subject as usize].push(i);
        }
        let keep_secs = [SubjectKind::Ip, SubjectKind::Account].map(|kind| {
            policies
                .iter()
                .filter(|p| p.subject == kind)
                .map(|p| {
                    let history = if p.burst_factor.is_some() {
                        HISTORY_WINDOWS
                    } else {
                        0
                    };
                    p.window_secs * (history + 1)
                })
                .max()
                .unwrap_or(0)
                .max(60)
        });
        Self {
            by_kind,
            allow,
            subjects: Default::default(),
            queued: FxHashMap::default(),
            proposals: Vec::new(),
            changed: FxHashSet::default(),
            keep_secs,
            last_evict: UnixTime::MIN,
            started: None,
            wants_queued: policies.iter().any(|p| {
                p.subject == SubjectKind::Account
                    && matches!(
                        p.metric,
                        Metric::Recipients | Metric::DistinctRecipients | Metric::Bounces
                    )
            }),
            wants_deliveries: policies.iter().any(|p| {
                p.subject == SubjectKind::Account
                    && matches!(p.metric, Metric::DistinctRecipients | Metric::Bounces)
            }),
            policies,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// Every proposal of this run, in the order they fired.
    pub fn proposals(&self) -> &[Proposal] {
        &self.proposals
    }

    /// Proposals that fired or changed since the last call, with their
    /// latest sample lines.
    pub fn take_changed(&mut self) -> Vec<Proposal> {
        let mut ids: Vec<usize> = self.changed.drain().collect();
        ids.sort_unstable();
        ids.into_iter()
            .map(|i| {
                let p = &mut self.proposals[i];
                if let Some(state) = self.subjects[p.subject as usize].get(&hash(&p.target)) {
                    p.samples = state.samples.iter().cloned().collect();
                }
                p.clone()
            })
            .collect()
    }

    /// Subjects held in memory.
    pub fn len(&self) -> usize {
        self.subjects.iter().map(FxHashMap::len).sum()
    }

    /// A reject from `ip` (and `account`, when known) of class `class`.
    pub fn reject(
        &mut self,
        at: UnixTime,
        ip: Option<&str>,
        account: Option<&str>,
        class: &str,
        line: impl Fn() -> String,
    ) {
        let hit = |m: &Metric| match m {
            Metric::Reject(None) => Some(1),
            Metric::Reject(Some(c)) if c == class => Some(1),
            _ => None,
        };
        if let Some(ip) = ip {
            self.observe(at, SubjectKind::Ip, Who::Named(ip), &hit, &|_| None, &line);
        }
        if let Some(account) = account {
            let who = Who::Named(account);
            self.observe(at, SubjectKind::Account, who, &hit, &|_| None, &line);
        }
    }

    /// A SASL authentication failure from `ip` (for `account` when shown).
    pub fn sasl_failure(
        &mut self,
        at: UnixTime,
        ip: &str,
        account: Option<&str>,
        line: impl Fn() -> String,
    ) {
        let hit = |m: &Metric| (*m == Metric::SaslFailures).then_some(1);
        self.client_event(at, ip, account, &hit, &line);
    }

    /// An event counted by `hit` for client `ip` and, when known, for
    /// `account`, for which `ip` is also one of its client IPs.
    fn client_event(
        &mut self,
        at: UnixTime,
        ip: &str,
        account: Option<&str>,
        hit: &dyn Fn(&Metric) -> Option<u64>,
        line: &dyn Fn() -> String,
    ) {
        self.observe(at, SubjectKind::Ip, Who::Named(ip), hit, &|_| None, line);
        if let Some(account) = account {
            let ip_hash = hash(ip);
            let distinct = |m: &Metric| (*m == Metric::DistinctIps).then_some(ip_hash);
            let who = Who::Named(account);
            self.observe(at, SubjectKind::Account, who, hit, &distinct, line);
        }
    }

    /// A message accepted from `ip` (submitted by `account`, when known).
    pub fn message(
        &mut self,
        at: UnixTime,
        host: u16,
        qid: &str,
        ip: &str,
        account: Option<&str>,
        line: impl Fn() -> String,
    ) {
        let hit = |m: &Metric| (*m == Metric::Messages).then_some(1);
        self.client_event(at, ip, account, &hit, &line);
        if let Some(account) = account
            && self.wants_queued
            && self.queued.len() < MAX_QUEUED
            && let Some(q) = QueueId::new(qid)
        {
            self.queued.insert((host, q), hash(account));
        }
    }

    /// qmgr's `nrcpt=` for a queued message.
    pub fn recipients(&mut self, at: UnixTime, host: u16, qid: &str, n: u64) {
        // Without delivery policies, nothing needs the message after this.
        let account = if self.wants_deliveries {
            self.account_of(host, qid)
        } else {
            self.take_account(host, qid)
        };
        let Some(account) = account else {
            return;
        };
        let hit = |m: &Metric| (*m == Metric::Recipients).then_some(n);
        let who = Who::Known(account);
        self.observe(at, SubjectKind::Account, who, &hit, &|_| None, &String::new);
    }

    /// A delivery attempt of a queued message to `to`.
    pub fn delivery(&mut self, at: UnixTime, host: u16, qid: &str, to: &str, bounced: bool) {
        if !self.wants_deliveries {
            return;
        }
        let Some(account) = self.account_of(host, qid) else {
            return;
        };
        let to_hash = hash_lowercase(to);
        let hit = |m: &Metric| (bounced && *m == Metric::Bounces).then_some(1);
        let distinct = |m: &Metric| (*m == Metric::DistinctRecipients).then_some(to_hash);
        let who = Who::Known(account);
        self.observe(at, SubjectKind::Account, who, &hit, &distinct, &String::new);
    }

    /// The message left the queue.
    pub fn removed(&mut self, host: u16, qid: &str) {
        self.take_account(host, qid);
    }

    /// Forgets a queued message; the hash of its account.
    fn take_account(&mut self, host: u16, qid: &str) -> Option<u64> {
        if self.queued.is_empty() {
            return None;
        }
        self.queued.remove(&(host, QueueId::new(qid)?))
    }

    /// The hash of the account that submitted a queued message.
    fn account_of(&self, host: u16, qid: &str) -> Option<u64> {
        if self.queued.is_empty() {
            return None;
        }
        self.queued.get(&(host, QueueId::new(qid)?)).copied()
    }

    /// Feeds one event to the windows of `target`'s policies: `count`
    /// says how much a counting metric grows, `distinct` which value a
    /// distinct metric sees. `line` builds the sample (empty: none).
    fn observe(
        &mut self,
        at: UnixTime,
        kind: SubjectKind,
        who: Who<'_>,
        count: &dyn Fn(&Metric) -> Option<u64>,
        distinct: &dyn Fn(&Metric) -> Option<u64>,
        line: &dyn Fn() -> String,
    ) {
        let relevant = self.by_kind[kind as usize].iter().any(|&i| {
            let m = &self.policies[i].metric;
            if m.distinct() {
                distinct(m).is_some()
            } else {
                count(m).is_some()
            }
        });
        // A submission opens the account's state for its deliveries to
        // count into, even if the submission itself counts for nothing.
        let opens =
            kind == SubjectKind::Account && matches!(who, Who::Named(_)) && self.wants_queued;
        if !relevant && !opens {
            return;
        }
        let key = match who {
            Who::Named(target) if target.is_empty() || self.allow.allows(kind, target) => return,
            Who::Named(target) => hash(target),
            Who::Known(key) => key,
        };
        self.evict(at);
        let started = *self.started.get_or_insert(at);
        let policies = &self.by_kind[kind as usize];
        let subjects = &mut self.subjects[kind as usize];
        let state = match (subjects.get_mut(&key), who) {
            (Some(s), _) => s,
            // Deliveries only add to an account already seen submitting.
            (None, Who::Known(_)) => return,
            (None, Who::Named(target)) => subjects.entry(key).or_insert_with(|| State {
                name: target.into(),
                windows: policies
                    .iter()
                    .map(|&i| {
                        if self.policies[i].metric.distinct() {
                            Window::Distinct(Distinct::default())
                        } else {
                            Window::Count(Count::default())
                        }
                    })
                    .collect(),
                samples: VecDeque::new(),
                last_at: at,
                proposal: None,
            }),
        };
        state.last_at = state.last_at.max(at);
        let minute = at.div_euclid(60);
        let mut fired: Option<usize> = None;
        let mut touched = false;
        // Samples are kept from half way to a threshold on.
        let mut near = false;
        for (w, &i) in state.windows.iter_mut().zip(policies) {
            let p = &self.policies[i];
            let value = match w {
                Window::Count(c) => {
                    let window_min = (p.window_secs / 60).max(1);
                    c.slide(minute, window_min, p.burst_factor.is_some());
                    if let Some(n) = count(&p.metric) {
                        c.add(minute, n);
                        touched = true;
                    }
                    // Whole windows of history seen before this one; a
                    // burst cannot be judged without one.
                    let history =
                        ((minute - started.div_euclid(60)) / window_min).min(HISTORY_WINDOWS);
                    let burst_ok = p
                        .burst_factor
                        .is_none_or(|f| history >= 1 && c.recent as f64 >= f * c.baseline(history));
                    (c.recent, burst_ok)
                }
                Window::Distinct(d) => {
                    d.slide(at, p.window_secs);
                    if let Some(v) = distinct(&p.metric) {
                        d.add(at, v, (p.threshold as usize).saturating_mul(4).max(16));
                        touched = true;
                    }
                    (d.len(), true)
                }
            };
            let (n, burst_ok) = value;
            near |= n * 2 >= p.threshold;
            if fired.is_none() && n >= p.threshold.max(1) && burst_ok {
                fired = Some(i);
            }
        }
        if !touched {
            return;
        }
        let cap = if state.proposal.is_some() || fired.is_some() {
            MAX_SAMPLES
        } else {
            SAMPLES_BEFORE
        };
        if near {
            let sample = line();
            if !sample.is_empty() {
                if state.samples.len() >= cap {
                    state.samples.pop_front();
                }
                state.samples.push_back(sample);
            }
        }
        let id = match (state.proposal, fired) {
            (Some(id), _) => id,
            (None, Some(policy)) => {
                let p = &self.policies[policy];
                self.proposals.push(Proposal {
                    subject: kind,
                    target: state.name.to_string(),
                    policy: p.name.clone(),
                    reasons: BTreeMap::new(),
                    first_seen: at,
                    last_seen: at,
                    distinct_ips: 0,
                    distinct_recipients: 0,
                    samples: Vec::new(),
                    block_minutes: p.block_minutes,
                    auto_approve: p.auto_approve,
                });
                let id = self.proposals.len() - 1;
                state.proposal = Some(id);
                id
            }
            (None, None) => return,
        };
        let proposal = &mut self.proposals[id];
        proposal.last_seen = proposal.last_seen.max(at);
        for (w, &i) in state.windows.iter().zip(policies) {
            let n = match w {
                Window::Count(c) => c.recent,
                Window::Distinct(d) => d.len(),
            };
            if n > 0 {
                let r = proposal
                    .reasons
                    .entry(self.policies[i].metric.reason())
                    .or_default();
                *r = (*r).max(n);
            }
        }
        proposal.distinct_ips = proposal
            .distinct_ips
            .max(proposal.reasons.get("distinct_ips").copied().unwrap_or(0) as u32);
        proposal.distinct_recipients = proposal.distinct_recipients.max(
            proposal
                .reasons
                .get("distinct_recipients")
                .copied()
                .unwrap_or(0) as u32,
        );
        self.changed.insert(id);
    }

    /// Drops subjects not seen for longer than the state is needed.
    fn evict(&mut self, at: UnixTime) {
        if at < self.last_evict + 60 {
            return;
        }
        self.last_evict = at;
        let proposals = &mut self.proposals;
        for (subjects, keep) in self.subjects.iter_mut().zip(self.keep_secs) {
            subjects.retain(|_, s| {
                let keep = s.last_at > at - keep;
                if !keep && let Some(id) = s.proposal {
                    // Its evidence outlives it.
                    proposals[id].samples = std::mem::take(&mut s.samples).into();
                }
                keep
            });
        }
    }
}

/// A 64-bit identity for a target or a value (SipHash with fixed keys: the
/// same in every run, and well spread even for look-alike addresses).
fn hash(s: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    h.write(s.as_bytes());
    h.finish()
}

/// [`hash`] of the text in lower case, without allocating it.
fn hash_lowercase(s: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    for chunk in s.as_bytes().chunks(32) {
        let mut buf = [0u8; 32];
        buf[..chunk.len()].copy_from_slice(chunk);
        buf.make_ascii_lowercase();
        h.write(&buf[..chunk.len()]);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(
        name: &str,
        subject: SubjectKind,
        metric: Metric,
        window_min: i64,
        threshold: u64,
    ) -> Policy {
        Policy {
            name: name.into(),
            subject,
            metric,
            window_secs: window_min * 60,
            threshold,
            burst_factor: None,
            block_minutes: 60,
            auto_approve: false,
        }
    }

    fn dictionary() -> Policy {
        policy(
            "dictionary",
            SubjectKind::Ip,
            Metric::Reject(Some("unknown_user".into())),
            10,
            20,
        )
    }

    fn line(i: i64) -> impl Fn() -> String {
        move || format!("line {i}")
    }

    #[test]
    fn fires_at_the_threshold_within_the_window_only() {
        let mut d = Detector::new(vec![dictionary()], Allowlist::default());
        // 19 in ten minutes (one-minute buckets: this one and the nine
        // before): nothing.
        for i in 0..19 {
            d.reject(
                1000 + i * 28,
                Some("192.0.2.1"),
                None,
                "unknown_user",
                line(i),
            );
        }
        assert!(d.proposals().is_empty());
        // The 20th within the window fires.
        d.reject(
            1000 + 19 * 28,
            Some("192.0.2.1"),
            None,
            "unknown_user",
            line(19),
        );
        let p = &d.proposals()[0];
        assert_eq!(
            (p.subject, p.target.as_str()),
            (SubjectKind::Ip, "192.0.2.1")
        );
        assert_eq!(p.policy, "dictionary");
        assert_eq!(p.reasons["unknown_user"], 20);
        assert_eq!((p.first_seen, p.last_seen), (1532, 1532));
        // The lines kept before (from half way to the threshold), and the
        // one that fired.
        let taken = d.take_changed();
        assert_eq!(taken[0].samples.len(), SAMPLES_BEFORE + 1);
        assert_eq!(taken[0].samples.last().unwrap(), "line 19");
        // Later events refresh the same proposal; samples grow to 20.
        for i in 20..60 {
            d.reject(1600 + i, Some("192.0.2.1"), None, "unknown_user", line(i));
        }
        assert_eq!(d.proposals().len(), 1);
        let taken = d.take_changed();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].last_seen, 1659);
        assert_eq!(taken[0].samples.len(), MAX_SAMPLES);
        assert_eq!(taken[0].samples.last().unwrap(), "line 59");
        assert!(d.take_changed().is_empty());
        // Spread out, 40 over two hours never reach 20 in a window.
        for i in 0..40 {
            d.reject(
                10_000 + i * 180,
                Some("192.0.2.2"),
                None,
                "unknown_user",
                line(i),
            );
        }
        assert_eq!(d.proposals().len(), 1);
        // Another class does not count.
        for i in 0..30 {
            d.reject(20_000 + i, Some("192.0.2.3"), None, "relay", line(i));
        }
        assert_eq!(d.proposals().len(), 1);
    }

    #[test]
    fn allowlisted_subjects_are_never_proposed() {
        let allow = Allowlist {
            networks: vec!["192.0.2.0/24".parse().unwrap()],
            accounts: ["partner@example.com".to_string()].into_iter().collect(),
        };
        let mut d = Detector::new(
            vec![
                dictionary(),
                policy(
                    "account rejects",
                    SubjectKind::Account,
                    Metric::Reject(None),
                    10,
                    5,
                ),
            ],
            allow,
        );
        for i in 0..100 {
            d.reject(
                1000 + i,
                Some("192.0.2.9"),
                Some("Partner@example.com"),
                "unknown_user",
                line(i),
            );
        }
        assert!(d.proposals().is_empty());
    }

    #[test]
    fn a_compromised_account_bursts_above_its_own_usual_rate() {
        let mut recipients = policy(
            "compromised: recipients",
            SubjectKind::Account,
            Metric::Recipients,
            10,
            200,
        );
        recipients.burst_factor = Some(5.0);
        let ips = policy(
            "compromised: many IPs",
            SubjectKind::Account,
            Metric::DistinctIps,
            60,
            10,
        );
        let mut d = Detector::new(vec![recipients, ips], Allowlist::default());
        let mut t = 0;
        let mut qid = 0;
        let mut send = |d: &mut Detector, t: i64, account: &str, ip: &str, n: u64| {
            qid += 1;
            let q = format!("Q{qid:X}");
            d.message(t, 0, &q, ip, Some(account), String::new);
            d.recipients(t, 0, &q, n);
            d.removed(0, &q);
        };
        // A steady bulk sender: 300 recipients every ten minutes all day,
        // from one IP. Over the threshold, but never a burst (and its
        // first window has no history to judge a burst by).
        send(&mut d, t, "news@example.com", "198.51.100.1", 300);
        for _ in 0..144 {
            t += 600;
            send(&mut d, t, "news@example.com", "198.51.100.1", 300);
        }
        // A quiet account, then a burst of 2,000 recipients from 12 IPs.
        for i in 0..12 {
            send(
                &mut d,
                t + i,
                "maria@example.com",
                &format!("203.0.113.{i}"),
                170,
            );
        }
        let fired: Vec<_> = d
            .proposals()
            .iter()
            .map(|p| (p.target.as_str(), p.policy.as_str()))
            .collect();
        assert_eq!(fired, [("maria@example.com", "compromised: recipients")]);
        let p = &d.proposals()[0];
        assert_eq!(p.reasons["recipients"], 2040);
        assert_eq!(p.distinct_ips, 12);
    }

    #[test]
    fn distinct_recipients_and_bounces_follow_the_queue_id() {
        let mut d = Detector::new(
            vec![
                policy(
                    "spread",
                    SubjectKind::Account,
                    Metric::DistinctRecipients,
                    10,
                    50,
                ),
                policy("bounces", SubjectKind::Account, Metric::Bounces, 10, 30),
            ],
            Allowlist::default(),
        );
        d.message(
            100,
            1,
            "ABC123",
            "203.0.113.5",
            Some("x@example.com"),
            String::new,
        );
        for i in 0..49 {
            // The same recipient twice is one.
            d.delivery(101, 1, "ABC123", &format!("r{i}@example.net"), false);
            d.delivery(102, 1, "ABC123", &format!("R{i}@example.net"), false);
        }
        // Another host's queue id is another message.
        d.delivery(103, 2, "ABC123", "other@example.net", false);
        assert!(d.proposals().is_empty());
        d.delivery(104, 1, "ABC123", "r49@example.net", true);
        assert_eq!(d.proposals()[0].policy, "spread");
        assert_eq!(d.proposals()[0].reasons["distinct_recipients"], 50);
        d.removed(1, "ABC123");
        d.delivery(105, 1, "ABC123", "late@example.net", true);
        assert_eq!(d.proposals()[0].reasons.get("bounces"), Some(&1));
    }

    #[test]
    fn memory_stays_flat_on_endless_input() {
        let mut d = Detector::new(vec![dictionary()], Allowlist::default());
        for i in 0..200_000i64 {
            let ip = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
            d.reject(i, Some(&ip), None, "unknown_user", String::new);
        }
        // Ten minutes (one window, no burst history) of subjects.
        assert!(d.len() <= 700, "{} subjects held", d.len());
    }
}
