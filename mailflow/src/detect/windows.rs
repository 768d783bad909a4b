//! The sliding windows a subject's state keeps, one per policy of its
//! kind: a [`Count`] in one-minute buckets (with the windows before it,
//! for a burst policy's comparison), or the [`Distinct`] values seen. Each
//! event moves the window to its log time, adds what it counts, and reads
//! the value the policy's threshold is compared with.

use super::policies::{Metric, Policy};
use crate::time::{MINUTE, UnixTime};
use std::collections::VecDeque;

/// A burst is compared with this many windows before it.
pub(super) const HISTORY_WINDOWS: i64 = 6;

/// A sliding count in one-minute buckets, keeping the windows before it
/// for the burst comparison.
#[derive(Debug, Default)]
pub(super) struct Count {
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
pub(super) struct Distinct {
    seen: Vec<(u64, UnixTime)>,
}

impl Distinct {
    pub(super) fn add(&mut self, at: UnixTime, value: u64, cap: usize) {
        if let Some((_, t)) = self.seen.iter_mut().find(|(v, _)| *v == value) {
            *t = at;
        } else if self.seen.len() < cap {
            self.seen.push((value, at));
        }
    }

    pub(super) fn slide(&mut self, at: UnixTime, window_secs: i64) {
        self.seen.retain(|&(_, t)| t > at - window_secs);
    }

    pub(super) fn len(&self) -> u64 {
        self.seen.len() as u64
    }
}

/// One policy's window for one subject.
#[derive(Debug)]
pub(super) enum Window {
    Count(Count),
    Distinct(Distinct),
}

/// What a window reads after an event.
pub(super) struct Reading {
    /// The count (or number of distinct values) in the window.
    pub n: u64,
    /// No burst factor, or the count is that many times the usual.
    pub burst_ok: bool,
    /// The event counted in this window.
    pub touched: bool,
}

impl Window {
    /// An empty window for a policy counting `metric`.
    pub(super) fn new(metric: &Metric) -> Self {
        if metric.distinct() {
            Self::Distinct(Distinct::default())
        } else {
            Self::Count(Count::default())
        }
    }

    /// Moves the window of policy `p` to `at` (in `minute`) and adds what
    /// the event counts for its metric: `count` says how much a counting
    /// metric grows, `distinct` which value a distinct metric sees.
    /// `started` is the detector's first event (no history before it).
    #[inline]
    pub(super) fn observe(
        &mut self,
        p: &Policy,
        at: UnixTime,
        minute: i64,
        started: UnixTime,
        count: &dyn Fn(&Metric) -> Option<u64>,
        distinct: &dyn Fn(&Metric) -> Option<u64>,
    ) -> Reading {
        match self {
            Self::Count(c) => {
                let window_min = (p.window_secs / MINUTE).max(1);
                c.slide(minute, window_min, p.burst_factor.is_some());
                let mut touched = false;
                if let Some(n) = count(&p.metric) {
                    c.add(minute, n);
                    touched = true;
                }
                // Whole windows of history seen before this one; a burst
                // cannot be judged without one.
                let history =
                    ((minute - started.div_euclid(MINUTE)) / window_min).min(HISTORY_WINDOWS);
                let burst_ok = p
                    .burst_factor
                    .is_none_or(|f| history >= 1 && c.recent as f64 >= f * c.baseline(history));
                Reading {
                    n: c.recent,
                    burst_ok,
                    touched,
                }
            }
            Self::Distinct(d) => {
                d.slide(at, p.window_secs);
                let mut touched = false;
                if let Some(v) = distinct(&p.metric) {
                    d.add(at, v, (p.threshold as usize).saturating_mul(4).max(16));
                    touched = true;
                }
                Reading {
                    n: d.len(),
                    burst_ok: true,
                    touched,
                }
            }
        }
    }

    /// The count (or number of distinct values) in the window as it stands.
    pub(super) fn value(&self) -> u64 {
        match self {
            Self::Count(c) => c.recent,
            Self::Distinct(d) => d.len(),
        }
    }
}
