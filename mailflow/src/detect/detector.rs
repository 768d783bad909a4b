//! The [`Detector`]: it keeps a state per subject seen (one window per
//! policy of its kind, the latest sample lines), takes each event the
//! counter hands it, and makes or refreshes the subject's [`Proposal`] when
//! a policy fires. Which events count for which [`Metric`] is decided
//! here; the windows and proposals do the rest.

use super::policies::{Allowlist, Metric, Policy};
use super::proposals::{Proposal, keep_sample};
use super::windows::{HISTORY_WINDOWS, Reading, Window};
use crate::correlate::QueueId;
use crate::subject::SubjectKind;
use crate::time::{MINUTE, UnixTime};
use ipnet::IpNet;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::VecDeque;
use std::hash::Hasher;

/// Most messages whose account is remembered for their deliveries.
const MAX_QUEUED: usize = 200_000;

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
                .max(MINUTE)
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

    /// Adds `networks` to what is never proposed, whatever the allowlist
    /// says: the counter passes its internal clients (content filters and
    /// relays that re-inject), which a block would cut off.
    pub fn never_propose(&mut self, networks: &[IpNet]) {
        self.allow.networks.extend_from_slice(networks);
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
                    .map(|&i| Window::new(&self.policies[i].metric))
                    .collect(),
                samples: VecDeque::new(),
                last_at: at,
                proposal: None,
            }),
        };
        state.last_at = state.last_at.max(at);
        let minute = at.div_euclid(MINUTE);
        let mut fired: Option<usize> = None;
        let mut touched = false;
        // Samples are kept from half way to a threshold on.
        let mut near = false;
        for (w, &i) in state.windows.iter_mut().zip(policies) {
            let p = &self.policies[i];
            let Reading {
                n,
                burst_ok,
                touched: counted,
            } = w.observe(p, at, minute, started, count, distinct);
            touched |= counted;
            near |= n * 2 >= p.threshold;
            if fired.is_none() && n >= p.threshold.max(1) && burst_ok {
                fired = Some(i);
            }
        }
        if !touched {
            return;
        }
        if near {
            let proposed = state.proposal.is_some() || fired.is_some();
            keep_sample(&mut state.samples, line(), proposed);
        }
        let id = match (state.proposal, fired) {
            (Some(id), _) => id,
            (None, Some(policy)) => {
                let p = &self.policies[policy];
                self.proposals.push(Proposal::new(kind, &state.name, p, at));
                let id = self.proposals.len() - 1;
                state.proposal = Some(id);
                id
            }
            (None, None) => return,
        };
        let counts = state
            .windows
            .iter()
            .zip(policies)
            .map(|(w, &i)| (&self.policies[i].metric, w.value()));
        self.proposals[id].refresh(at, counts);
        self.changed.insert(id);
    }

    /// Drops subjects not seen for longer than the state is needed.
    fn evict(&mut self, at: UnixTime) {
        if at < self.last_evict + MINUTE {
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
