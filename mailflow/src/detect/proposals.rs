//! What the detector proposes: one [`Proposal`] per subject, made by the
//! first policy that fires for it and kept up to date by later events,
//! with its evidence (each policy's count as a reason, sample log lines).

use super::policies::{Metric, Policy};
use crate::subject::SubjectKind;
use crate::time::UnixTime;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

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
pub(super) const SAMPLES_BEFORE: usize = 5;

impl Proposal {
    /// `policy` fired for `target` at `at`: a block as the policy says,
    /// with no evidence yet.
    pub(super) fn new(kind: SubjectKind, target: &str, policy: &Policy, at: UnixTime) -> Self {
        Self {
            subject: kind,
            target: target.to_string(),
            policy: policy.name.clone(),
            reasons: BTreeMap::new(),
            first_seen: at,
            last_seen: at,
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
