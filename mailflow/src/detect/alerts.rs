//! Alerts: the whole server's SASL failures, or its rejects of one class,
//! far above their own usual rate. Unlike a policy, an alert is about no
//! subject and proposes no block: a distributed attack or a broken client
//! release shows as a jump in the totals that no single address or account
//! explains, and someone should look.
//!
//! Each kind of event (`sasl_failures`, `reject.<class>`) keeps a [`Rate`]:
//! the count over the last [`AlertRules::window_secs`] (sliding, in
//! one-minute buckets) and the counts of the whole windows before it (up to
//! [`AlertRules::history_windows`], empty ones included). The usual rate is
//! their median, so one earlier attack does not raise it. An alert opens
//! when the sliding count is at least [`AlertRules::min_count`] (a quiet
//! server does not alert on 3 against 0) and [`AlertRules::factor`] times
//! the usual, with at least [`AlertRules::min_history`] windows known; it
//! stays one alert, updated, while the rate stays that high.

use crate::time::{HOUR, MINUTE, UnixTime};
use serde::Serialize;
use std::collections::VecDeque;

/// The key of SASL failures among the rates (reject classes are keyed by
/// their name, which never has a space).
pub(super) const SASL_KEY: &str = "sasl failures";

/// When a rate is far enough above its usual to alert.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRules {
    /// The sliding window compared, and the length of the windows before.
    pub window_secs: i64,
    /// How many times the usual count the window must reach.
    pub factor: f64,
    /// The least count in the window that alerts, whatever the usual.
    pub min_count: u64,
    /// Windows before the current one the usual is the median of.
    pub history_windows: usize,
    /// Windows that must be known before anything alerts.
    pub min_history: usize,
}

impl Default for AlertRules {
    /// An hour against the median hour of the week before, five times it
    /// and at least 300: a large ISP's hourly SASL failures and rejects
    /// swing two or three times between night and day, never five; 300
    /// failures in an hour is well past a user with a stale password.
    fn default() -> Self {
        Self {
            window_secs: HOUR,
            factor: 5.0,
            min_count: 300,
            history_windows: 7 * 24,
            min_history: 24,
        }
    }
}

/// An open (or closed) alert: `kind` has been far above its usual since
/// `since`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alert {
    /// `sasl_failures` or `reject.<class>` (the series' names).
    pub kind: String,
    /// When the window first crossed the line.
    pub since: UnixTime,
    pub last_seen: UnixTime,
    /// The highest count in one window while it was open.
    pub count: u64,
    /// The usual count per window (the median of the windows before).
    pub usual: f64,
    /// The length of the windows compared.
    pub window_secs: i64,
}

impl Alert {
    /// How many times the usual the count is (the usual taken as at least 1).
    pub fn ratio(&self) -> f64 {
        self.count as f64 / self.usual.max(1.0)
    }
}

/// One kind's rate: the sliding window and the whole windows before.
#[derive(Debug)]
struct Rate {
    /// What the counter calls it: a reject class, or [`SASL_KEY`].
    key: Box<str>,
    /// The series name alerts show.
    kind: Box<str>,
    /// (minute, n) within the sliding window, oldest first.
    minutes: VecDeque<(i64, u64)>,
    recent: u64,
    /// The index of the aligned window being filled, and its count.
    window: i64,
    window_count: u64,
    /// Counts of the aligned windows before, oldest first.
    history: VecDeque<u64>,
    /// The median of `history`, kept up to date when it changes.
    usual: f64,
    /// The alert open for this kind (an index into the alerts).
    open: Option<usize>,
}

impl Rate {
    fn new(key: &str, kind: String, window: i64) -> Self {
        Self {
            key: key.into(),
            kind: kind.into(),
            minutes: VecDeque::new(),
            recent: 0,
            window,
            window_count: 0,
            history: VecDeque::new(),
            usual: 0.0,
            open: None,
        }
    }

    /// Moves to the aligned window `window`, closing the ones before
    /// (those with no event count as empty).
    fn advance(&mut self, window: i64, keep: usize) {
        if window <= self.window {
            return;
        }
        let gap = (window - self.window).min(keep as i64 + 1) as usize;
        self.history.push_back(self.window_count);
        for _ in 1..gap {
            self.history.push_back(0);
        }
        while self.history.len() > keep {
            self.history.pop_front();
        }
        self.window = window;
        self.window_count = 0;
        self.usual = median(&self.history);
    }

    fn add(&mut self, minute: i64, window_min: i64) {
        let start = minute - window_min + 1;
        while let Some(&(m, n)) = self.minutes.front() {
            if m >= start {
                break;
            }
            self.minutes.pop_front();
            self.recent -= n;
        }
        match self.minutes.back_mut() {
            Some((m, n)) if *m == minute => *n += 1,
            _ => self.minutes.push_back((minute, 1)),
        }
        self.recent += 1;
        self.window_count += 1;
    }
}

fn median(values: &VecDeque<u64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v: Vec<u64> = values.iter().copied().collect();
    v.sort_unstable();
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid] as f64
    } else {
        (v[mid - 1] + v[mid]) as f64 / 2.0
    }
}

/// The rates of every kind seen and the alerts they raised.
#[derive(Debug)]
pub(super) struct Alerts {
    rules: AlertRules,
    rates: Vec<Rate>,
    alerts: Vec<Alert>,
    /// Indexes into `alerts` changed since the last take.
    changed: Vec<usize>,
}

impl Alerts {
    pub(super) fn new(rules: AlertRules) -> Self {
        Self {
            rules,
            rates: Vec::new(),
            alerts: Vec::new(),
            changed: Vec::new(),
        }
    }

    /// One event at `at` (in log order) of the kind the counter calls
    /// `key`, which alerts call `kind()` (built once, not per event).
    pub(super) fn event(&mut self, at: UnixTime, key: &str, kind: impl FnOnce() -> String) {
        let window_secs = self.rules.window_secs.max(MINUTE);
        let window = at.div_euclid(window_secs);
        let i = match self.rates.iter().position(|r| &*r.key == key) {
            Some(i) => i,
            None => {
                self.rates.push(Rate::new(key, kind(), window));
                self.rates.len() - 1
            }
        };
        let rules = &self.rules;
        let rate = &mut self.rates[i];
        rate.advance(window, rules.history_windows.max(1));
        rate.add(at.div_euclid(MINUTE), window_secs / MINUTE);
        let high = rate.history.len() >= rules.min_history.max(1)
            && rate.recent >= rules.min_count.max(1)
            && rate.recent as f64 >= rules.factor * rate.usual.max(1.0);
        match (rate.open, high) {
            (Some(id), true) => {
                let a = &mut self.alerts[id];
                a.last_seen = at;
                if rate.recent > a.count {
                    a.count = rate.recent;
                    a.usual = rate.usual;
                }
                if self.changed.last() != Some(&id) && !self.changed.contains(&id) {
                    self.changed.push(id);
                }
            }
            (None, true) => {
                self.alerts.push(Alert {
                    kind: rate.kind.to_string(),
                    since: at,
                    last_seen: at,
                    count: rate.recent,
                    usual: rate.usual,
                    window_secs,
                });
                let id = self.alerts.len() - 1;
                rate.open = Some(id);
                self.changed.push(id);
            }
            (Some(_), false) => rate.open = None,
            (None, false) => {}
        }
    }

    pub(super) fn all(&self) -> &[Alert] {
        &self.alerts
    }

    pub(super) fn take_changed(&mut self) -> Vec<Alert> {
        let mut ids = std::mem::take(&mut self.changed);
        ids.sort_unstable();
        ids.into_iter().map(|i| self.alerts[i].clone()).collect()
    }
}
