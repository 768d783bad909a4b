//! The [`Detector`]: it keeps a state per subject seen (one window per
//! policy of its kind, the latest sample lines), takes each event the
//! counter hands it, and makes or refreshes the subject's [`Proposal`] when
//! a policy fires. Which events count for which [`Metric`] is decided
//! here; the windows and proposals do the rest.
//!
//! Subjects are kept in three slots: client addresses, accounts, and the
//! client networks of per-network policies ([`Policy::per_network`]). A
//! network is proposed as an `ip` subject whose target is the CIDR (a
//! block of it is a network block), only once [`NETWORK_MIN_IPS`] of its
//! addresses took part (one noisy address is the per-address policies'
//! business), and never when it touches a network never proposed. SASL
//! failures and rejects also go to the [`Alerts`], which watch the whole
//! server's rates.

use super::alerts::{Alert, AlertRules, Alerts, SASL_KEY};
use super::policies::{Allowlist, Metric, Policy, network_of};
use super::proposals::{Details, Proposal, keep_sample};
use super::windows::{Distinct, HISTORY_WINDOWS, Reading, Window};
use crate::correlate::QueueId;
use crate::count::rules::SERVER;
use crate::series::Series;
use crate::subject::SubjectKind;
use crate::time::{MINUTE, UnixTime};
use ipnet::IpNet;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::VecDeque;
use std::hash::Hasher;
use std::net::IpAddr;

/// Most messages whose account is remembered for their deliveries.
const MAX_QUEUED: usize = 200_000;

/// Distinct addresses of one network that must have taken part before a
/// per-network policy proposes it.
pub const NETWORK_MIN_IPS: u64 = 4;

/// The state slots: addresses, accounts (as [`SubjectKind`]), networks.
const NETWORK: usize = 2;
const SLOTS: usize = 3;

/// The slot of a policy's subjects.
fn slot(p: &Policy) -> usize {
    if p.per_network && p.subject == SubjectKind::Ip {
        NETWORK
    } else {
        p.subject as usize
    }
}

/// What is known of one subject.
#[derive(Debug)]
struct State {
    /// The address or account (subjects are keyed by its hash).
    name: Box<str>,
    /// One per policy of this subject's kind, in policy order.
    windows: Vec<Window>,
    samples: VecDeque<String>,
    /// What the sample lines named (from half way to a threshold on).
    details: Option<Box<Details>>,
    /// Its first event: when an attack started.
    first_at: UnixTime,
    last_at: UnixTime,
    /// Set once a policy fired for the subject.
    proposal: Option<usize>,
    /// For a network: its addresses seen within its policies' longest window.
    ips: Distinct,
}

/// Whom an event is about: a target by name, or (for a delivery) the
/// hash of an account seen before.
#[derive(Clone, Copy)]
enum Who<'a> {
    Named(&'a str),
    Known(u64),
    /// A client network, and the hash of the address within it.
    Network(ipnet::IpNet, u64),
}

/// The detector: feed it events in log order; take what fired.
pub struct Detector {
    policies: Vec<Policy>,
    /// Indexes into `policies` by slot ([`slot`]).
    by_kind: [Vec<usize>; SLOTS],
    allow: Allowlist,
    /// Per subject kind: the hash of the target → its state. (Two targets
    /// with one 64-bit hash would share a state: among millions of
    /// subjects, a chance of about one in ten million.)
    subjects: [FxHashMap<u64, State>; SLOTS],
    /// (host, queue id) → the hash of the account that submitted it.
    queued: FxHashMap<(u16, QueueId), u64>,
    proposals: Vec<Proposal>,
    /// The slot of each proposal's subject.
    proposal_slots: Vec<usize>,
    /// Indexes into `proposals` changed since the last [`Detector::take_changed`].
    changed: FxHashSet<usize>,
    /// Per slot, how long an idle subject's state is needed.
    keep_secs: [i64; SLOTS],
    /// The longest window of the per-network policies.
    network_window: i64,
    /// The whole server's rates; `None` turns alerts off.
    alerts: Option<Alerts>,
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
        let mut by_kind = [Vec::new(), Vec::new(), Vec::new()];
        for (i, p) in policies.iter().enumerate() {
            by_kind[slot(p)].push(i);
        }
        let keep_secs = [0, 1, NETWORK].map(|s| {
            policies
                .iter()
                .filter(|p| slot(p) == s)
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
        let network_window = policies
            .iter()
            .filter(|p| slot(p) == NETWORK)
            .map(|p| p.window_secs)
            .max()
            .unwrap_or(0);
        Self {
            by_kind,
            allow,
            subjects: Default::default(),
            queued: FxHashMap::default(),
            proposals: Vec::new(),
            proposal_slots: Vec::new(),
            changed: FxHashSet::default(),
            keep_secs,
            network_window,
            alerts: Some(Alerts::new(AlertRules::default())),
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

    /// No policy and no alerts: nothing to run.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty() && self.alerts.is_none()
    }

    /// Alerts by these rules (`None`: no alerts). By default, alerts
    /// follow [`AlertRules::default`].
    pub fn set_alert_rules(&mut self, rules: Option<AlertRules>) {
        self.alerts = rules.map(Alerts::new);
    }

    /// Every alert of this run, in the order they opened.
    pub fn alerts(&self) -> &[Alert] {
        self.alerts.as_ref().map_or(&[], |a| a.all())
    }

    /// Alerts that opened or changed since the last call.
    pub fn take_changed_alerts(&mut self) -> Vec<Alert> {
        self.alerts
            .as_mut()
            .map_or_else(Vec::new, Alerts::take_changed)
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
                let slot = self.proposal_slots[i];
                let key = match slot {
                    NETWORK => p.target.parse().map_or(0, |n| hash_network(&n)),
                    _ => hash(&p.target),
                };
                if let Some(state) = self.subjects[slot].get(&key) {
                    p.samples = state.samples.iter().cloned().collect();
                    if let Some(details) = &state.details {
                        p.details.clone_from(details);
                    }
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
    /// A [`SERVER`] reject (the server's own temporary trouble) is the
    /// client's doing under no policy, not even one counting any class.
    pub fn reject(
        &mut self,
        at: UnixTime,
        ip: Option<&str>,
        account: Option<&str>,
        class: &str,
        line: impl Fn() -> String,
    ) {
        if let Some(alerts) = &mut self.alerts {
            alerts.event(at, class, || crate::series::reject_series(class));
        }
        if class == SERVER {
            return;
        }
        let hit = |m: &Metric| match m {
            Metric::Reject(None) => Some(1),
            Metric::Reject(Some(c)) if c == class => Some(1),
            _ => None,
        };
        if let Some(ip) = ip {
            self.observe(at, SubjectKind::Ip, Who::Named(ip), &hit, &|_| None, &line);
            self.observe_network(at, ip, &hit, &line);
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
        if let Some(alerts) = &mut self.alerts {
            alerts.event(at, SASL_KEY, || Series::SaslFailures.name().into());
        }
        let hit = |m: &Metric| (*m == Metric::SaslFailures).then_some(1);
        // A failed login is no sign the account is used from `ip`: it is
        // not one of the account's client IPs (a distributed guess would
        // read as a compromised account).
        self.observe(at, SubjectKind::Ip, Who::Named(ip), &hit, &|_| None, &line);
        self.observe_network(at, ip, &hit, &line);
        if let Some(account) = account {
            let who = Who::Named(account);
            self.observe(at, SubjectKind::Account, who, &hit, &|_| None, &line);
        }
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
        self.observe_network(at, ip, hit, line);
        if let Some(account) = account {
            let ip_hash = hash(ip);
            let distinct = |m: &Metric| (*m == Metric::DistinctIps).then_some(ip_hash);
            let who = Who::Named(account);
            self.observe(at, SubjectKind::Account, who, hit, &distinct, line);
            // Every address an account is used from is evidence, from its
            // first submission on (a compromised account's first foreign
            // logins tell most). Cheap: only authenticated submissions
            // come here, and only known accounts keep them.
            let slot = SubjectKind::Account as usize;
            if let Some(state) = self.subjects[slot].get_mut(&hash(account)) {
                state.details.get_or_insert_default().ips.add(ip);
            }
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

    /// Feeds an event of client `ip` to the per-network policies.
    fn observe_network(
        &mut self,
        at: UnixTime,
        ip: &str,
        count: &dyn Fn(&Metric) -> Option<u64>,
        line: &dyn Fn() -> String,
    ) {
        let policies = &self.by_kind[NETWORK];
        if policies.is_empty()
            || !policies
                .iter()
                .any(|&i| count(&self.policies[i].metric).is_some())
        {
            return;
        }
        let Ok(addr) = ip.parse::<IpAddr>() else {
            return;
        };
        let net = network_of(addr);
        if self.allow.overlaps(&net) {
            return;
        }
        let who = Who::Network(net, hash(ip));
        self.observe(at, SubjectKind::Ip, who, count, &|_| None, line);
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
        let slot = match who {
            Who::Network(..) => NETWORK,
            _ => kind as usize,
        };
        let relevant = self.by_kind[slot].iter().any(|&i| {
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
            Who::Network(net, _) => hash_network(&net),
        };
        self.evict(at);
        let started = *self.started.get_or_insert(at);
        let policies = &self.by_kind[slot];
        let subjects = &mut self.subjects[slot];
        let new_state = |name: Box<str>| State {
            name,
            windows: policies
                .iter()
                .map(|&i| Window::new(&self.policies[i].metric))
                .collect(),
            samples: VecDeque::new(),
            details: None,
            first_at: at,
            last_at: at,
            proposal: None,
            ips: Distinct::default(),
        };
        let state = match (subjects.get_mut(&key), who) {
            (Some(s), _) => s,
            // Deliveries only add to an account already seen submitting.
            (None, Who::Known(_)) => return,
            (None, Who::Named(target)) => subjects
                .entry(key)
                .or_insert_with(|| new_state(target.into())),
            (None, Who::Network(net, _)) => subjects
                .entry(key)
                .or_insert_with(|| new_state(net.to_string().into())),
        };
        state.last_at = state.last_at.max(at);
        // A network fires only once enough of its addresses took part.
        let enough_ips = match who {
            Who::Network(_, ip) => {
                state.ips.slide(at, self.network_window);
                let cap = (NETWORK_MIN_IPS as usize) * 4;
                state.ips.add(at, ip, cap);
                state.ips.len() >= NETWORK_MIN_IPS
            }
            _ => true,
        };
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
            if fired.is_none() && n >= p.threshold.max(1) && burst_ok && enough_ips {
                fired = Some(i);
            }
        }
        if !touched {
            return;
        }
        // Details are read from the sample lines: from half way to a
        // threshold on (reading every line of every subject cost a quarter
        // more instructions per line).
        if near {
            let proposed = state.proposal.is_some() || fired.is_some();
            let line = line();
            if !line.is_empty() {
                state.details.get_or_insert_default().note(&line);
            }
            keep_sample(&mut state.samples, line, proposed);
        }
        let id = match (state.proposal, fired) {
            (Some(id), _) => id,
            (None, Some(policy)) => {
                let p = &self.policies[policy];
                let proposal = Proposal::new(kind, &state.name, p, at, state.first_at);
                self.proposals.push(proposal);
                self.proposal_slots.push(slot);
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
                    if let Some(details) = s.details.take() {
                        proposals[id].details = *details;
                    }
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

/// The key of a network's state (no text built for it).
fn hash_network(net: &ipnet::IpNet) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    match net.network() {
        IpAddr::V4(a) => h.write(&a.octets()),
        IpAddr::V6(a) => h.write(&a.octets()),
    }
    h.write_u8(net.prefix_len());
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
