//! What-if: replays stored hourly per-subject counters (`mail_subject_hour`)
//! through a policy's numbers, so an analyst sees what an edited policy
//! would have proposed — and what it no longer would — before saving it.
//!
//! Hourly counters cannot reproduce the live detector's one-minute sliding
//! window, so the replay defines its own computation and runs the current
//! and the edited policy through the *same* one: a window is rounded up to
//! whole clock hours (10 minutes → 1 hour, 90 → 2), it slides an hour at a
//! time, and a subject crosses when the sum of its counts over a window
//! reaches the threshold (with a burst factor, also that many times the
//! average of the up to six windows before it, as the live detector
//! judges; none before one whole window of the replayed range has passed).
//! An hour holds at least what any 10-minute window inside it did, so a
//! replay mostly proposes more than the live detector did (a count spread
//! over the hour), and can miss only a burst split across an hour's
//! boundary. [`Rule`] is a
//! policy's numbers as replayed, [`replay`] one subject's result, and
//! [`compare`] the difference between two rules over many subjects.

use super::policies::Allowlist;
use crate::subject::SubjectKind;
use crate::time::{HOUR, MINUTE, MINUTES_PER_DAY, UnixTime};

/// A burst is compared with up to this many windows before it (as live).
const HISTORY_WINDOWS: i64 = super::windows::HISTORY_WINDOWS;

/// A policy's numbers as the replay uses them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rule {
    /// The policy's window rounded up to whole hours (1 to 24).
    pub window_hours: i64,
    pub threshold: u64,
    pub burst_factor: Option<f64>,
}

impl Rule {
    /// Checks the numbers as the settings page saves them (a window of 1
    /// to 1440 minutes, a threshold of at least 1, a burst factor of 1 to
    /// 1000) and rounds the window up to whole hours.
    pub fn new(
        window_minutes: i64,
        threshold: i64,
        burst_factor: Option<f64>,
    ) -> Result<Self, &'static str> {
        if !(1..=MINUTES_PER_DAY).contains(&window_minutes) {
            return Err("The window is 1 to 1440 minutes.");
        }
        if threshold < 1 {
            return Err("The threshold is at least 1.");
        }
        if burst_factor.is_some_and(|f| !(1.0..=1000.0).contains(&f)) {
            return Err("A burst factor is between 1 and 1000 (empty: none).");
        }
        Ok(Self {
            window_hours: ((window_minutes * MINUTE) as u64).div_ceil(HOUR as u64) as i64,
            threshold: threshold as u64,
            burst_factor,
        })
    }
}

/// When and how far one subject crossed a rule in a replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crossing {
    pub subject: String,
    /// The first hour of the first window that crossed.
    pub first_at: UnixTime,
    /// The largest count in one window over the replayed range.
    pub peak: u64,
    /// The first hour of the window with that peak (the earliest, if tied).
    pub peak_at: UnixTime,
}

/// Replays one subject's `hours` — (first second of the hour, count),
/// ascending, each hour once — from `since` (the first replayed hour:
/// no burst history before it) through `rule`. `None`: it never crossed.
pub fn replay(hours: &[(UnixTime, u64)], since: UnixTime, rule: &Rule) -> Option<Crossing> {
    let w = rule.window_hours.max(1);
    // prefix[i]: the sum of the first i hours.
    let mut prefix = Vec::with_capacity(hours.len() + 1);
    prefix.push(0u64);
    for &(_, n) in hours {
        prefix.push(prefix[prefix.len() - 1].saturating_add(n));
    }
    // The sum of the hours in [from, to).
    let sum = |from: UnixTime, to: UnixTime| {
        let a = hours.partition_point(|&(h, _)| h < from);
        let b = hours.partition_point(|&(h, _)| h < to);
        prefix[b] - prefix[a]
    };
    let mut first = None;
    let mut peak = (0, 0);
    // A window's sum is largest when it ends on an hour with counts: only
    // those windows need judging.
    for &(end, _) in hours {
        let start = end - (w - 1) * HOUR;
        let n = sum(start, end + HOUR);
        if n > peak.0 {
            peak = (n, start);
        }
        if first.is_some() || n < rule.threshold {
            continue;
        }
        let history = ((end - since).div_euclid(HOUR) / w).min(HISTORY_WINDOWS);
        let burst_ok = rule.burst_factor.is_none_or(|f| {
            let older = sum(start - history * w * HOUR, start);
            history >= 1 && n as f64 >= f * (older as f64 / history as f64)
        });
        if burst_ok {
            first = Some(start);
        }
    }
    first.map(|first_at| Crossing {
        subject: String::new(),
        first_at,
        peak: peak.0,
        peak_at: peak.1,
    })
}

/// What an edited rule changes, over the same counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Crossed with the edited rule, not with the current one (the edited
    /// rule's peak), biggest peak first.
    pub now_proposed: Vec<Crossing>,
    /// Crossed with the current rule only (its peak), biggest peak first.
    pub no_longer: Vec<Crossing>,
    /// Crossed with both.
    pub unchanged: u64,
}

/// Replays every subject of `kind` through the `current` and the
/// `edited` rule; subjects the detector never proposes (loopback, the
/// `allow` list) are skipped, as live.
pub fn compare<'a>(
    subjects: impl IntoIterator<Item = (&'a str, &'a [(UnixTime, u64)])>,
    kind: SubjectKind,
    allow: &Allowlist,
    since: UnixTime,
    current: &Rule,
    edited: &Rule,
) -> Comparison {
    let mut out = Comparison::default();
    for (subject, hours) in subjects {
        if subject.is_empty() || allow.allows(kind, subject) {
            continue;
        }
        let named = |c: Crossing| Crossing {
            subject: subject.to_string(),
            ..c
        };
        match (replay(hours, since, current), replay(hours, since, edited)) {
            (Some(_), Some(_)) => out.unchanged += 1,
            (None, Some(c)) => out.now_proposed.push(named(c)),
            (Some(c), None) => out.no_longer.push(named(c)),
            (None, None) => {}
        }
    }
    for list in [&mut out.now_proposed, &mut out.no_longer] {
        list.sort_unstable_by(|a, b| b.peak.cmp(&a.peak).then_with(|| a.subject.cmp(&b.subject)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = 1_764_547_200; // 2025-12-01 00:00 UTC

    fn at(hour: i64) -> UnixTime {
        T0 + hour * HOUR
    }

    fn rule(window_minutes: i64, threshold: i64, burst: Option<f64>) -> Rule {
        Rule::new(window_minutes, threshold, burst).unwrap()
    }

    #[test]
    fn windows_round_up_to_whole_hours() {
        assert_eq!(rule(1, 1, None).window_hours, 1);
        assert_eq!(rule(10, 1, None).window_hours, 1);
        assert_eq!(rule(60, 1, None).window_hours, 1);
        assert_eq!(rule(61, 1, None).window_hours, 2);
        assert_eq!(rule(1440, 1, None).window_hours, 24);
    }

    #[test]
    fn bad_numbers_are_refused() {
        assert!(Rule::new(0, 10, None).is_err());
        assert!(Rule::new(-5, 10, None).is_err());
        assert!(Rule::new(1441, 10, None).is_err());
        assert!(Rule::new(i64::MAX, 10, None).is_err());
        assert!(Rule::new(10, 0, None).is_err());
        assert!(Rule::new(10, -1, None).is_err());
        assert!(Rule::new(10, 5, Some(0.5)).is_err());
        assert!(Rule::new(10, 5, Some(f64::NAN)).is_err());
        assert!(Rule::new(10, 5, Some(f64::INFINITY)).is_err());
        assert!(Rule::new(10, i64::MAX, Some(1000.0)).is_ok());
    }

    #[test]
    fn a_subject_crosses_when_a_window_reaches_the_threshold() {
        let hours = [(at(1), 10), (at(2), 29), (at(5), 30), (at(6), 45)];
        let c = replay(&hours, T0, &rule(10, 30, None)).unwrap();
        assert_eq!((c.first_at, c.peak, c.peak_at), (at(5), 45, at(6)));
        assert_eq!(replay(&hours, T0, &rule(10, 46, None)), None);
    }

    #[test]
    fn a_wider_window_sums_its_hours() {
        let hours = [(at(1), 10), (at(2), 29), (at(9), 20)];
        // Two hours: 10 + 29 = 39 in the window of hours 1-2.
        let c = replay(&hours, T0, &rule(120, 39, None)).unwrap();
        assert_eq!((c.first_at, c.peak, c.peak_at), (at(1), 39, at(1)));
        assert_eq!(replay(&hours, T0, &rule(60, 39, None)), None);
        // Hours 2 and 9 are never in one 2-hour window.
        assert_eq!(replay(&hours, T0, &rule(120, 40, None)), None);
    }

    #[test]
    fn a_burst_needs_history_and_a_jump_over_it() {
        // Steady 10 an hour for 12 hours, then 100.
        let mut hours: Vec<_> = (0..12).map(|h| (at(h), 10)).collect();
        hours.push((at(12), 100));
        let c = replay(&hours, T0, &rule(60, 50, Some(5.0))).unwrap();
        assert_eq!(c.first_at, at(12));
        // 100 is not 20 times the usual 10.
        assert_eq!(replay(&hours, T0, &rule(60, 50, Some(20.0))), None);
        // Without a whole window of history, no burst is judged.
        assert_eq!(replay(&[(at(0), 500)], T0, &rule(60, 50, Some(2.0))), None);
        assert!(replay(&[(at(1), 500)], T0, &rule(60, 50, Some(2.0))).is_some());
    }

    fn allow_none() -> Allowlist {
        Allowlist::default()
    }

    #[test]
    fn compare_lists_the_difference_and_counts_the_rest() {
        let quiet = [(at(3), 12)];
        let busy = [(at(4), 40)];
        let spread = [(at(1), 20), (at(2), 20)];
        let subjects: Vec<(&str, &[(UnixTime, u64)])> = vec![
            ("192.0.2.1", &quiet),
            ("192.0.2.2", &busy),
            ("192.0.2.3", &spread),
            ("127.0.0.1", &busy),
        ];
        let current = rule(10, 30, None);
        // A lower threshold over two hours: quiet stays out, spread comes in.
        let edited = rule(120, 35, None);
        let diff = compare(
            subjects.clone(),
            SubjectKind::Ip,
            &allow_none(),
            T0,
            &current,
            &edited,
        );
        assert_eq!(diff.unchanged, 1, "192.0.2.2 both times; loopback never");
        assert_eq!(
            diff.now_proposed,
            vec![Crossing {
                subject: "192.0.2.3".into(),
                first_at: at(1),
                peak: 40,
                peak_at: at(1)
            }]
        );
        assert!(diff.no_longer.is_empty());
        // Raising the threshold drops the busy one.
        let diff = compare(
            subjects,
            SubjectKind::Ip,
            &allow_none(),
            T0,
            &current,
            &rule(10, 41, None),
        );
        assert_eq!(diff.unchanged, 0);
        assert_eq!(diff.no_longer.len(), 1);
        assert_eq!(diff.no_longer[0].subject, "192.0.2.2");
        assert_eq!(diff.no_longer[0].peak, 40);
    }

    #[test]
    fn the_same_rule_changes_nothing_and_allowed_subjects_are_skipped() {
        let busy = [(at(4), 40)];
        let mut allow = allow_none();
        allow.accounts.insert("ana@example.com.br".into());
        let subjects: Vec<(&str, &[(UnixTime, u64)])> =
            vec![("ana@example.com.br", &busy), ("bia@example.com.br", &busy)];
        let r = rule(10, 30, None);
        let diff = compare(subjects, SubjectKind::Account, &allow, T0, &r, &r);
        assert_eq!(
            diff,
            Comparison {
                unchanged: 1,
                ..Comparison::default()
            }
        );
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        let hours = [(at(0), u64::MAX), (at(1), u64::MAX)];
        let c = replay(&hours, T0, &rule(120, i64::MAX, None)).unwrap();
        assert_eq!(c.peak, u64::MAX);
    }
}
