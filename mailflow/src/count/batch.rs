//! The series bookkeeping: where the counter adds what a line counts, per
//! host and minute, per hosted domain and minute, and per subject and
//! hour, until the batch is taken and stored. Series are numbered as in
//! [`Batch::series`]: the base [`Series`] by their index, then one
//! `reject.<class>` per reject class from [`Series::COUNT`] on.

use super::rules::RejectRules;
use super::unclassified::Unclassified;
use crate::correlate::Message;
use crate::detect::Proposal;
use crate::series::{Series, reject_series};
use crate::subject::SubjectKind;
use crate::time::{HOUR, MINUTE, UnixTime};
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

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
///
/// [`Counter::take_batch`]: super::Counter::take_batch
#[derive(Default)]
pub struct Batch {
    /// Host names by the index used in `minutes`.
    pub hosts: Vec<String>,
    /// Series names by index: the base [`Series`], then `reject.<class>`
    /// per rule and `reject.other`.
    pub series: Vec<String>,
    /// (host, minute start, series) → n.
    pub minutes: FxHashMap<(u16, UnixTime, u16), u64>,
    /// (hosted domain, minute start, series) → n.
    pub domain_minutes: FxHashMap<(Arc<str>, UnixTime, u16), u64>,
    /// Per client IP and per SASL account (indexed by [`SubjectKind`]), by hour.
    pub subjects: [SubjectCounts; 2],
    /// Messages finished, evicted or changed.
    pub messages: Vec<Message>,
    /// Block proposals made or refreshed.
    pub proposals: Vec<Proposal>,
    /// The `other` rejects, by normalised text.
    pub unclassified: Unclassified,
    /// Alerts opened or updated.
    pub alerts: Vec<crate::detect::Alert>,
    pub lines: u64,
    pub unparsed: u64,
    /// [`Settings::day_zone`](super::Settings::day_zone), for the daily roll-up.
    pub day_zone: std::sync::Arc<crate::time::OffsetChanges>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.lines == 0 && self.messages.is_empty()
    }

    /// The next batch: empty, with room for as much as this one held, so
    /// its maps do not grow (and rehash) again step by step.
    pub(super) fn next(&self) -> Self {
        Self {
            minutes: FxHashMap::with_capacity_and_hasher(self.minutes.len(), Default::default()),
            subjects: [0, 1].map(|i| self.subjects[i].empty_like()),
            ..Self::default()
        }
    }

    /// One more in `series` for `host` in the minute of `at`.
    pub(super) fn bump(&mut self, host: u16, at: UnixTime, series: u16) {
        let minute = at - at.rem_euclid(MINUTE);
        *self.minutes.entry((host, minute, series)).or_default() += 1;
    }

    /// One more in `series` for `domain` (when hosted) in the minute of `at`.
    pub(super) fn bump_domain(&mut self, domain: Option<Arc<str>>, at: UnixTime, series: u16) {
        if let Some(domain) = domain {
            let minute = at - at.rem_euclid(MINUTE);
            *self
                .domain_minutes
                .entry((domain, minute, series))
                .or_default() += 1;
        }
    }

    /// One more in `series` for the subject `who` in the hour of `at`.
    pub(super) fn bump_subject(&mut self, kind: SubjectKind, who: &str, at: UnixTime, series: u16) {
        if who.is_empty() {
            return;
        }
        let hour = at - at.rem_euclid(HOUR);
        self.subjects[kind as usize].bump(who, hour, series);
    }

    /// One more in `series` for client `ip` and, when known, the account
    /// it authenticated as, in the hour of `at`.
    pub(super) fn bump_client(
        &mut self,
        ip: &str,
        account: Option<&str>,
        at: UnixTime,
        series: u16,
    ) {
        self.bump_subject(SubjectKind::Ip, ip, at, series);
        if let Some(account) = account {
            self.bump_subject(SubjectKind::Account, account, at, series);
        }
    }
}

/// The series of reject class `index` (in [`RejectRules`] order).
pub(super) fn class_series(index: usize) -> u16 {
    Series::COUNT + index as u16
}

/// Series names by index, as in [`Batch::series`].
pub(super) fn series_names(rules: &RejectRules) -> Vec<String> {
    Series::ALL
        .iter()
        .map(|s| s.name().to_string())
        .chain(rules.class_names().map(reject_series))
        .collect()
}
