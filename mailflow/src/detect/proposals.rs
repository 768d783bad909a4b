//! What the detector proposes: one [`Proposal`] per subject, made by the
//! first policy that fires for it and kept up to date by later events,
//! with its evidence: each policy's count as a reason, sample log lines,
//! when the subject was first seen (the attack's start, before any
//! threshold was crossed), and the [`Details`] read from its log lines —
//! every distinct client IP, recipient, HELO name and reverse name, each
//! list capped at [`MAX_LISTED`] with a count of the rest, so a hostile
//! subject cannot grow memory without bound.

use super::policies::{Metric, Policy};
use crate::subject::SubjectKind;
use crate::time::UnixTime;
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::hash::Hasher;

/// A proposed block and its evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Proposal {
    pub subject: SubjectKind,
    pub target: String,
    /// The policy that fired first.
    pub policy: String,
    /// Reason → the count in its window when last seen.
    pub reasons: BTreeMap<String, u64>,
    /// When a policy fired (its threshold was crossed).
    pub first_seen: UnixTime,
    pub last_seen: UnixTime,
    /// The subject's first event seen: when the attack started.
    pub started: UnixTime,
    /// What its log lines named, from half way to a threshold on.
    #[serde(skip)]
    pub details: Details,
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
pub(super) const SAMPLES_BEFORE: usize = 5;

impl Proposal {
    /// `policy` fired for `target` at `at`, whose first event was at
    /// `started`: a block as the policy says, with no evidence yet.
    pub(super) fn new(
        kind: SubjectKind,
        target: &str,
        policy: &Policy,
        at: UnixTime,
        started: UnixTime,
    ) -> Self {
        Self {
            subject: kind,
            target: target.to_string(),
            policy: policy.name.clone(),
            reasons: BTreeMap::new(),
            first_seen: at,
            last_seen: at,
            started: started.min(at),
            details: Details::default(),
            distinct_ips: 0,
            distinct_recipients: 0,
            samples: Vec::new(),
            block_minutes: policy.block_minutes,
            auto_approve: policy.auto_approve,
        }
    }

    /// Brings the evidence up to an event at `at`: each metric's count in
    /// its window (`counts`) is a reason, at its highest seen.
    pub(super) fn refresh<'a>(
        &mut self,
        at: UnixTime,
        counts: impl Iterator<Item = (&'a Metric, u64)>,
    ) {
        self.last_seen = self.last_seen.max(at);
        for (metric, n) in counts {
            if n > 0 {
                let r = self.reasons.entry(metric.reason()).or_default();
                *r = (*r).max(n);
            }
        }
        self.distinct_ips = self
            .distinct_ips
            .max(self.reasons.get("distinct_ips").copied().unwrap_or(0) as u32);
        self.distinct_recipients = self.distinct_recipients.max(
            self.reasons
                .get("distinct_recipients")
                .copied()
                .unwrap_or(0) as u32,
        );
    }
}

/// Keeps `sample` as a subject's evidence: up to [`SAMPLES_BEFORE`] lines
/// before a policy fires (`proposed` false), [`MAX_SAMPLES`] after, the
/// latest ones.
pub(super) fn keep_sample(samples: &mut VecDeque<String>, sample: String, proposed: bool) {
    if sample.is_empty() {
        return;
    }
    let cap = if proposed {
        MAX_SAMPLES
    } else {
        SAMPLES_BEFORE
    };
    if samples.len() >= cap {
        samples.pop_front();
    }
    samples.push_back(sample);
}

/// The most distinct values a [`Listed`] keeps.
pub const MAX_LISTED: usize = 10_000;
/// The most values beyond [`MAX_LISTED`] a [`Listed`] tells apart (by a
/// 64-bit hash); past them, `more` is a lower bound.
const MAX_UNLISTED: usize = 10 * MAX_LISTED;

/// Distinct values, in order, up to [`MAX_LISTED`], and how many more.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Listed {
    pub values: BTreeSet<String>,
    /// Distinct values seen beyond the list (at least this many).
    pub more: u64,
    #[serde(skip)]
    unlisted: FxHashSet<u64>,
}

impl Listed {
    pub fn add(&mut self, value: &str) {
        if value.is_empty() || self.values.contains(value) {
            return;
        }
        if self.values.len() < MAX_LISTED {
            self.values.insert(value.to_string());
            return;
        }
        if self.unlisted.len() < MAX_UNLISTED {
            let mut h = std::hash::DefaultHasher::new();
            h.write(value.as_bytes());
            if self.unlisted.insert(h.finish()) {
                self.more += 1;
            }
        }
    }

    /// How many distinct values were seen (at least).
    pub fn total(&self) -> u64 {
        self.values.len() as u64 + self.more
    }

    /// Adds what `other` saw (a refresh of stored evidence).
    pub fn merge(&mut self, other: &Listed) {
        for v in &other.values {
            self.add(v);
        }
        self.more = self.more.max(other.more);
    }
}

/// What a subject's log lines named: whom it wrote to, from where, and how
/// it introduced itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Details {
    /// Client IP addresses (`name[ip]`).
    pub ips: Listed,
    /// Recipients (`to=<…>`), in lower case.
    pub recipients: Listed,
    /// HELO names (`helo=<…>`).
    pub helos: Listed,
    /// The clients' reverse names (the `name` of `name[ip]`, not `unknown`).
    pub client_names: Listed,
}

impl Details {
    /// Reads a Postfix log line: `connect from name[ip]`, `client=name[ip]`,
    /// `RCPT from name[ip]: …; from=<…> to=<…> proto=… helo=<…>`,
    /// `warning: name[ip]: SASL … failed`.
    pub fn note(&mut self, line: &str) {
        if let Some((name, ip)) = client(line) {
            self.ips.add(ip);
            if name != "unknown" {
                self.client_names.add(name);
            }
        }
        if let Some(to) = field(line, " to=<") {
            self.recipients.add(&to.to_ascii_lowercase());
        }
        if let Some(helo) = field(line, " helo=<") {
            self.helos.add(helo);
        }
    }

    pub fn merge(&mut self, other: &Details) {
        self.ips.merge(&other.ips);
        self.recipients.merge(&other.recipients);
        self.helos.merge(&other.helos);
        self.client_names.merge(&other.client_names);
    }
}

/// The first `name[ip]` of a line whose brackets hold an IP address (the
/// program's `[pid]` and Solaris' `[ID n …]` do not).
fn client(line: &str) -> Option<(&str, &str)> {
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let close = after.find(']')?;
        let inside = &after[..close];
        if inside.contains(['.', ':']) && inside.parse::<std::net::IpAddr>().is_ok() {
            let before = &rest[..open];
            let start = before.rfind([' ', '=']).map_or(0, |i| i + 1);
            return Some((&before[start..], inside));
        }
        rest = &after[close..];
    }
    None
}

/// The text between `key` (ending in `<`) and the next `>`.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(key)? + key.len();
    let len = line[start..].find('>')?;
    Some(&line[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_read_from_postfix_lines() {
        let mut d = Details::default();
        d.note("Jan 28 11:05:26 mail postfix/smtpd[20127]: NOQUEUE: reject: RCPT from h-be81.example[199.229.127.90]: 550 5.1.1 <u@d.com>: Recipient address rejected: User unknown; from=<s@e.com> to=<U@d.com> proto=SMTP helo=<h-be81>");
        d.note("Jan 30 01:01:03 relay postfix/smtpd[15349]: [ID 197553 mail.info] 161033C05: client=unknown[2001:db8::7], sasl_method=LOGIN");
        d.note("Jan 30 01:01:04 relay postfix/smtpd[15349]: warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6");
        let list = |l: &Listed| l.values.iter().cloned().collect::<Vec<_>>();
        assert_eq!(list(&d.ips), ["192.0.2.9", "199.229.127.90", "2001:db8::7"]);
        assert_eq!(list(&d.client_names), ["h-be81.example"]);
        assert_eq!(list(&d.recipients), ["u@d.com"]);
        assert_eq!(list(&d.helos), ["h-be81"]);
    }

    /// A dictionary attack of 12 recipients, 30 s apart, against a
    /// threshold of 4: the proposal says when it started (the first
    /// reject, not the fourth) and names every recipient from half way to
    /// the threshold on (the 2nd), not only those of its sample lines.
    #[test]
    fn a_proposal_knows_when_the_attack_started_and_every_recipient() {
        use crate::detect::{Allowlist, Detector, Metric, Policy};
        let policy = Policy {
            name: "dictionary".into(),
            subject: SubjectKind::Ip,
            metric: Metric::Reject(Some("unknown_user".into())),
            window_secs: 3600,
            threshold: 4,
            burst_factor: None,
            block_minutes: 60,
            auto_approve: false,
            per_network: false,
        };
        let mut d = Detector::new(vec![policy], Allowlist::default());
        for i in 0..12 {
            d.reject(1_000 + i * 30, Some("203.0.113.66"), None, "unknown_user", || {
                format!("Dec  2 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from bad.example[203.0.113.66]: 550 5.1.1 <u{i}@x.com>: Recipient address rejected: User unknown; from=<> to=<u{i}@x.com> proto=ESMTP helo=<spam-host>")
            });
        }
        let p = &d.take_changed()[0];
        assert_eq!(
            (p.started, p.first_seen, p.last_seen),
            (1_000, 1_090, 1_330)
        );
        assert_eq!(p.details.recipients.total(), 11, "{:?}", p.details);
        assert!(!p.details.recipients.values.contains("u0@x.com"));
        assert_eq!(p.details.helos.values.len(), 1);
        assert!(p.details.client_names.values.contains("bad.example"));
    }

    /// A compromised account logging in from 12 IPs against a threshold of
    /// 8 distinct IPs: all 12 are listed, the first ones too.
    #[test]
    fn an_account_lists_every_client_ip() {
        use crate::detect::{Allowlist, Detector, Metric, Policy};
        let policy = Policy {
            name: "many-ips".into(),
            subject: SubjectKind::Account,
            metric: Metric::DistinctIps,
            window_secs: 3600,
            threshold: 8,
            burst_factor: None,
            block_minutes: 60,
            auto_approve: false,
            per_network: false,
        };
        let mut d = Detector::new(vec![policy], Allowlist::default());
        for i in 10..22 {
            let ip = format!("198.51.100.{i}");
            let qid = format!("4A4A4A4A{i}");
            d.message(2_000 + i * 60, 0, &qid, &ip, Some("ana17@cliente.com.br"), || {
                format!("Nov 29 10:{i}:00 mx1 postfix/smtpd[300]: {qid}: client=unknown[{ip}], sasl_method=LOGIN, sasl_username=ana17@cliente.com.br")
            });
        }
        let p = &d.take_changed()[0];
        assert_eq!((p.started, p.first_seen), (2_600, 2_000 + 17 * 60));
        assert_eq!(p.details.ips.total(), 12, "{:?}", p.details.ips);
        assert!(p.details.ips.values.contains("198.51.100.10"));
    }

    #[test]
    fn a_list_is_capped_and_counts_the_rest_once() {
        let mut l = Listed::default();
        for i in 0..MAX_LISTED + 50 {
            l.add(&format!("user{i}@example.com"));
            l.add(&format!("user{i}@example.com"));
        }
        assert_eq!(l.values.len(), MAX_LISTED);
        assert_eq!(l.more, 50);
        assert_eq!(l.total(), MAX_LISTED as u64 + 50);
    }
}
