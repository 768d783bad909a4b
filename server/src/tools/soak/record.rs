//! What the load mix saw: per kind of request its count, statuses and
//! latencies, every answer that breaks the rules (a 5xx, a transport
//! error, a refusal where none was due or without a message a person can
//! read), and the changes the server said it made, per actor and audit
//! action, to hold against the audit log afterwards.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The status recorded when no HTTP answer came (connection refused or
/// reset, timeout, a policy daemon closing the connection).
pub const NO_ANSWER: u16 = 0;

/// At most this many failures are kept with their bodies (all are counted).
const KEEP_FAILURES: usize = 200;

/// What came back to one request (`status` [`NO_ANSWER`] when nothing did).
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    /// The body, or why there is none.
    pub body: String,
    pub latency: Duration,
}

impl Answer {
    pub fn new(status: u16, body: impl Into<String>, latency: Duration) -> Self {
        Self {
            status,
            body: body.into(),
            latency,
        }
    }
}

/// What an answer to a request may be.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// Only a success: the request is valid and nothing competes for it.
    Success,
    /// A success, or a refusal with one of these 4xx statuses (someone
    /// else took the address first, the domain is full, a wrong password).
    MayRefuse(&'static [u16]),
    /// Only a refusal with one of these statuses (a wrong password).
    Refuse(&'static [u16]),
}

/// How an answer was judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Success,
    /// A refusal the rules allow, with a readable message.
    Refused,
    Failed,
}

/// An answer that breaks the rules.
#[derive(Clone, Debug)]
pub struct Failure {
    pub kind: &'static str,
    /// Who sent it (a username, `policy#3`…).
    pub who: String,
    /// The request: path and its subject.
    pub what: String,
    pub status: u16,
    pub why: String,
    /// The answer's body (cut at 600 bytes) or the transport error.
    pub body: String,
}

#[derive(Default, Clone, Debug)]
pub struct KindStats {
    pub statuses: BTreeMap<u16, u64>,
    pub refused: u64,
    pub failed: u64,
    /// Microseconds, one per request.
    pub latencies: Vec<u32>,
}

impl KindStats {
    pub fn count(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// The `p`-quantile latency (0 < p ≤ 1), in milliseconds.
    pub fn quantile_ms(&self, p: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        quantile(&sorted, p) as f64 / 1000.0
    }
}

/// The `p`-quantile of sorted values (nearest rank), 0 when empty.
fn quantile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[derive(Default)]
struct Inner {
    kinds: BTreeMap<&'static str, KindStats>,
    failures: Vec<Failure>,
    failure_count: u64,
    /// (actor, audit action) → changes the server reported as done.
    changes: BTreeMap<(String, String), u64>,
    notes: Vec<String>,
}

/// Shared by every client of a run.
pub struct Recorder {
    started: Instant,
    inner: Mutex<Inner>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Judges and records the answer `a` to `what`, sent by `who`.
    pub fn answer(
        &self,
        kind: &'static str,
        who: &str,
        what: &str,
        expect: Expect,
        a: &Answer,
    ) -> Verdict {
        let (status, body, latency) = (a.status, a.body.as_str(), a.latency);
        let why = match (status, expect) {
            (200..=299, Expect::Refuse(_)) => Some("accepted, though it must be refused".into()),
            (200..=299, _) => None,
            (NO_ANSWER, _) => Some("no answer".to_string()),
            (500..=u16::MAX, _) => Some("server error".to_string()),
            (400..=499, Expect::MayRefuse(allowed) | Expect::Refuse(allowed))
                if allowed.contains(&status) =>
            {
                match readable_message(body) {
                    Some(_) => None,
                    None => Some("refused without a message a person can read".to_string()),
                }
            }
            (400..=499, Expect::Success) => Some("refused, though nothing competes for it".into()),
            (400..=499, Expect::MayRefuse(allowed) | Expect::Refuse(allowed)) => Some(format!(
                "refused with {status}; expected one of {allowed:?}"
            )),
            _ => Some(format!("unexpected status {status}")),
        };
        let verdict = match (&why, status) {
            (Some(_), _) => Verdict::Failed,
            (None, 200..=299) => Verdict::Success,
            (None, _) => Verdict::Refused,
        };
        let mut inner = self.inner();
        let stats = inner.kinds.entry(kind).or_default();
        *stats.statuses.entry(status).or_default() += 1;
        stats
            .latencies
            .push(latency.as_micros().min(u128::from(u32::MAX)) as u32);
        match verdict {
            Verdict::Refused => stats.refused += 1,
            Verdict::Failed => stats.failed += 1,
            Verdict::Success => {}
        }
        if let Some(why) = why {
            inner.failure_count += 1;
            if inner.failures.len() < KEEP_FAILURES {
                inner.failures.push(Failure {
                    kind,
                    who: who.to_string(),
                    what: what.to_string(),
                    status,
                    why,
                    body: cut(body, 600),
                });
            }
        }
        verdict
    }

    /// A failure outside any HTTP request: the ingest worker's error, a
    /// detection write that failed.
    pub fn failure(&self, kind: &'static str, who: &str, what: &str, why: &str, detail: &str) {
        let mut inner = self.inner();
        let stats = inner.kinds.entry(kind).or_default();
        *stats.statuses.entry(NO_ANSWER).or_default() += 1;
        stats.failed += 1;
        inner.failure_count += 1;
        if inner.failures.len() < KEEP_FAILURES {
            inner.failures.push(Failure {
                kind,
                who: who.to_string(),
                what: what.to_string(),
                status: NO_ANSWER,
                why: why.to_string(),
                body: cut(detail, 600),
            });
        }
    }

    /// `n` changes the server reported done for `actor`, audited as `action`.
    pub fn changed(&self, actor: &str, action: &str, n: u64) {
        if n > 0 {
            *self
                .inner()
                .changes
                .entry((actor.to_string(), action.to_string()))
                .or_default() += n;
        }
    }

    /// A line for the report (what the run did besides requests).
    pub fn note(&self, line: String) {
        self.inner().notes.push(line);
    }

    pub fn report(&self) -> Report {
        let inner = self.inner();
        Report {
            seconds: self.started.elapsed().as_secs_f64(),
            kinds: inner.kinds.clone(),
            failures: inner.failures.clone(),
            failure_count: inner.failure_count,
            changes: inner.changes.clone(),
            notes: inner.notes.clone(),
        }
    }
}

/// The message of an error answer, if a person can read one in it: an
/// `AppError` (server functions), `{"error": "..."}` (the REST API), or
/// plain text that is not an HTML page.
pub fn readable_message(body: &str) -> Option<String> {
    let body = body.trim();
    if body.is_empty() {
        return None;
    }
    if let Ok(e) = serde_json::from_str::<app::errors::AppError>(body) {
        return match e {
            app::errors::AppError::Internal | app::errors::AppError::Transport(_) => None,
            e => Some(e.to_string()).filter(|m| !m.trim().is_empty()),
        };
    }
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(v) => v
            .get("error")
            .and_then(|e| e.as_str())
            .filter(|m| !m.trim().is_empty())
            .map(str::to_string),
        Err(_) if body.starts_with('<') => None,
        Err(_) => Some(body.to_string()),
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

/// A run's figures.
#[derive(Clone, Debug)]
pub struct Report {
    pub seconds: f64,
    pub kinds: BTreeMap<&'static str, KindStats>,
    /// The first failures, with their bodies.
    pub failures: Vec<Failure>,
    pub failure_count: u64,
    pub changes: BTreeMap<(String, String), u64>,
    pub notes: Vec<String>,
}

impl Report {
    /// Answers with a status in `range` for `kind`.
    pub fn count(&self, kind: &str, range: std::ops::RangeInclusive<u16>) -> u64 {
        self.kinds
            .get(kind)
            .map(|k| {
                k.statuses
                    .iter()
                    .filter(|(s, _)| range.contains(s))
                    .map(|(_, n)| n)
                    .sum()
            })
            .unwrap_or(0)
    }

    pub fn requests(&self) -> u64 {
        self.kinds.values().map(KindStats::count).sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.seconds.max(1e-9);
        writeln!(
            f,
            "{} requests in {:.1} s ({:.0}/s), {} failures",
            self.requests(),
            self.seconds,
            self.requests() as f64 / secs,
            self.failure_count
        )?;
        writeln!(
            f,
            "{:<22} {:>7} {:>8} {:>7} {:>7} {:>9} {:>9}  statuses",
            "kind", "count", "per s", "refused", "failed", "p50 ms", "p99 ms"
        )?;
        for (kind, k) in &self.kinds {
            let mut statuses = String::new();
            for (status, n) in &k.statuses {
                let label = match *status {
                    NO_ANSWER => "none".to_string(),
                    s => s.to_string(),
                };
                let _ = write!(statuses, " {label}×{n}");
            }
            writeln!(
                f,
                "{:<22} {:>7} {:>8.1} {:>7} {:>7} {:>9.1} {:>9.1} {}",
                kind,
                k.count(),
                k.count() as f64 / secs,
                k.refused,
                k.failed,
                k.quantile_ms(0.50),
                k.quantile_ms(0.99),
                statuses
            )?;
        }
        for note in &self.notes {
            writeln!(f, "{note}")?;
        }
        if self.failure_count > 0 {
            writeln!(
                f,
                "FAILURES: {} in all; by kind, status, reason and body (of the first {}), with one example:",
                self.failure_count,
                self.failures.len()
            )?;
            let mut groups: BTreeMap<(&str, u16, &str, &str), (u64, &Failure)> = BTreeMap::new();
            for x in &self.failures {
                groups
                    .entry((x.kind, x.status, x.why.as_str(), x.body.as_str()))
                    .or_insert((0, x))
                    .0 += 1;
            }
            for ((kind, status, why, body), (n, x)) in groups {
                let status = match status {
                    NO_ANSWER => "no answer".to_string(),
                    s => s.to_string(),
                };
                writeln!(
                    f,
                    "  [{kind}] {status} ({why}) ×{n}: {body}\n      e.g. {} as {}",
                    x.what, x.who
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_need_an_allowed_status_and_a_message() {
        let r = Recorder::new();
        let at = |status: u16, body: &str| Answer::new(status, body, Duration::from_millis(1));
        let race = Expect::MayRefuse(&[409, 422]);
        let fields = r#"{"Fields":[{"field":"address","message":"x@y is taken."}]}"#;
        assert_eq!(
            r.answer("k", "a", "p", race, &at(422, fields)),
            Verdict::Refused
        );
        assert_eq!(
            r.answer("k", "a", "p", race, &at(200, "{}")),
            Verdict::Success
        );
        assert_eq!(r.answer("k", "a", "p", race, &at(422, "")), Verdict::Failed);
        assert_eq!(
            r.answer("k", "a", "p", race, &at(404, fields)),
            Verdict::Failed
        );
        assert_eq!(
            r.answer("k", "a", "p", Expect::Success, &at(422, fields)),
            Verdict::Failed
        );
        assert_eq!(
            r.answer("k", "a", "p", race, &at(500, "\"Internal\"")),
            Verdict::Failed
        );
        assert_eq!(
            r.answer("k", "a", "p", race, &at(NO_ANSWER, "reset")),
            Verdict::Failed
        );
        let wrong = Expect::Refuse(&[401, 429]);
        let denied = "\"InvalidCredentials\"";
        assert_eq!(
            r.answer("k", "a", "p", wrong, &at(401, denied)),
            Verdict::Refused
        );
        assert_eq!(
            r.answer("k", "a", "p", wrong, &at(200, "null")),
            Verdict::Failed
        );
        let report = r.report();
        assert_eq!((report.failure_count, report.kinds["k"].count()), (6, 9));
        assert_eq!(report.count("k", 500..=599), 1);
        let text = report.to_string();
        assert!(
            text.contains("[k] 500 (server error) ×1: \"Internal\"\n      e.g. p as a"),
            "{text}"
        );
    }

    #[test]
    fn messages_are_read_from_each_kind_of_error_body() {
        assert_eq!(
            readable_message("\"Forbidden\"").as_deref(),
            Some("Your account does not have permission for this.")
        );
        assert_eq!(
            readable_message(r#"{"error":"The file is too large."}"#).as_deref(),
            Some("The file is too large.")
        );
        assert_eq!(
            readable_message("Cross-site request refused.").as_deref(),
            Some("Cross-site request refused.")
        );
        assert_eq!(readable_message("\"Internal\""), None);
        assert_eq!(readable_message("<html><body>oops</body></html>"), None);
        assert_eq!(readable_message(r#"{"error":""}"#), None);
        assert_eq!(readable_message("  "), None);
    }

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(
            (quantile(&v, 0.5), quantile(&v, 0.99), quantile(&v, 1.0)),
            (50, 99, 100)
        );
        assert_eq!(quantile(&[], 0.5), 0);
    }
}
