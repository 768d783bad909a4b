//! What-if for a detection policy (the settings page's "test this
//! change"): loads the last days' hourly per-subject counters
//! (`mail_subject_hour`) for what the policy counts and replays them
//! through its current and its edited numbers with
//! [`mailflow::detect::whatif`], which defines the replay (windows rounded
//! up to whole hours) and compares the two.
//!
//! The work is bounded whatever is asked: at most [`MAX_DAYS`] days, at
//! most [`MAX_ROWS`] subject-hours read (in the table's key order, so the
//! query is an index range scan, not a sort; the answer says when it
//! stopped there), at most [`MAX_LISTED`] subjects listed per side.

use super::entities::{defence_allow, defence_policy};
use super::tables::MailSubjectHour as S;
use crate::api::whatif::{WhatIfResult, WhatIfSubject};
use crate::errors::AppError;
use crate::model::SubjectKind;
use crate::pages::whatif::server_texts as texts;
use mailflow::detect::whatif::{self, Crossing, Rule};
use mailflow::detect::{Allowlist, Metric};
use mailflow::series::{self, Series};
use mailflow::time::{DAY, HOUR};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, EntityTrait};
use std::collections::HashMap;

/// The longest replay, in days.
pub const MAX_DAYS: i64 = 30;
/// The most subject-hours read for one replay.
pub const MAX_ROWS: u64 = 200_000;
/// The most subjects listed as newly proposed, and as no longer proposed.
pub const MAX_LISTED: usize = 100;

/// The edited numbers, as the form sent them.
#[derive(Clone, Copy, Debug)]
pub struct Edit<'a> {
    pub policy: i32,
    pub window_minutes: &'a str,
    pub threshold: &'a str,
    /// Empty: no burst comparison.
    pub burst_factor: &'a str,
    pub days: &'a str,
}

/// A whole number from a form field, or a message naming it.
fn number(field: &str, label: &str, text: &str) -> Result<i64, AppError> {
    text.trim()
        .parse()
        .map_err(|_| AppError::field(field, texts().not_whole(label, &cut(text))))
}

/// The start of a long text, to quote it back.
fn cut(text: &str) -> String {
    text.trim().chars().take(20).collect()
}

/// Replays the policy `edit.policy` over the last `edit.days` days (up to
/// `now`) with its current numbers and with the edited ones.
pub async fn what_if(
    db: &impl ConnectionTrait,
    edit: Edit<'_>,
    now: i64,
) -> Result<WhatIfResult, AppError> {
    let t = texts();
    let window = number("window_minutes", t.window(), edit.window_minutes)?;
    let threshold = number("threshold", t.threshold(), edit.threshold)?;
    let days = number("days", t.days(), edit.days)?;
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(AppError::field("days", t.days_range()));
    }
    let burst = match edit.burst_factor.trim() {
        "" => None,
        f => Some(f.parse::<f64>().map_err(|_| {
            AppError::field(
                "burst_factor",
                crate::pages::defence::server_texts().not_number(&cut(f)),
            )
        })?),
    };
    crate::server::detection::check_rule(window, threshold, burst)?;
    let edited = Rule::new(window, threshold, burst).map_err(|m| AppError::Validation(m.into()))?;
    let p = defence_policy::Entity::find_by_id(edit.policy)
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(crate::pages::detection::server_texts().policy_n(edit.policy))
        })?;
    let current = Rule::new(i64::from(p.window_minutes), p.threshold, p.burst_factor)
        .map_err(|m| AppError::Validation(t.out_of_range(m)))?;
    let (Some(kind), Some(metric)) = (
        SubjectKind::parse(&p.subject),
        Metric::parse(&p.metric, p.reject_class.as_deref()),
    ) else {
        return Err(AppError::Validation(t.unreadable(&p.name)));
    };
    let series = replayable(&metric).ok_or_else(|| {
        let reason = metric.reason();
        let what = crate::pages::defence::server_texts()
            .reason_of(&reason)
            .map_or_else(|| reason.replace('_', " "), str::to_string);
        AppError::Validation(t.not_replayable(&p.name, &what))
    })?;
    let since = (now - days * DAY).div_euclid(HOUR) * HOUR;
    let (counts, truncated) = load(db, kind, &series, since).await?;
    let allow = allowlist(db).await?;
    let subjects = counts.iter().map(|(s, h)| (s.as_str(), h.as_slice()));
    let diff = whatif::compare(subjects, kind, &allow, since, &current, &edited);
    let listed = |list: Vec<Crossing>| {
        list.into_iter()
            .take(MAX_LISTED)
            .map(|c| WhatIfSubject {
                subject: c.subject,
                peak: c.peak,
                peak_at: c.peak_at,
                first_at: c.first_at,
            })
            .collect()
    };
    Ok(WhatIfResult {
        policy: p.name,
        subject: kind,
        days,
        since,
        current_window_hours: current.window_hours,
        edited_window_hours: edited.window_hours,
        now_proposed_total: diff.now_proposed.len() as u64,
        no_longer_total: diff.no_longer.len() as u64,
        now_proposed: listed(diff.now_proposed),
        no_longer: listed(diff.no_longer),
        unchanged: diff.unchanged,
        subjects: counts.len() as u64,
        truncated,
    })
}

/// Which stored series hold what `metric` counts, per subject and hour:
/// one series, or every reject class (`None` inside). `None`: the hourly
/// counters do not keep it (recipients, distinct values, bounces).
fn replayable(metric: &Metric) -> Option<Option<String>> {
    Some(match metric {
        Metric::Reject(Some(class)) => Some(series::reject_series(class)),
        Metric::Reject(None) => None,
        Metric::SaslFailures => Some(Series::SaslFailures.name().into()),
        Metric::Messages => Some(Series::Received.name().into()),
        Metric::Recipients | Metric::DistinctRecipients | Metric::DistinctIps | Metric::Bounces => {
            return None;
        }
    })
}

/// Per subject, its hours from `since` on with their counts (summed over
/// the series), ascending; and whether [`MAX_ROWS`] cut the reading short.
async fn load(
    db: &impl ConnectionTrait,
    kind: SubjectKind,
    series: &Option<String>,
    since: i64,
) -> Result<(Vec<(String, Vec<(i64, u64)>)>, bool), AppError> {
    let mut q = Query::select();
    q.columns([S::Subject, S::Hour, S::N])
        .from(S::Table)
        .and_where(Expr::col(S::Kind).eq(kind.name()))
        .and_where(Expr::col(S::Hour).gte(since))
        .limit(MAX_ROWS + 1);
    match series {
        Some(name) => q.and_where(Expr::col(S::Series).eq(name.as_str())),
        None => q.and_where(Expr::col(S::Series).like(format!("{}%", series::REJECT_PREFIX))),
    };
    let rows = db
        .query_all_raw(db.get_database_backend().build(&q))
        .await?;
    let truncated = rows.len() as u64 > MAX_ROWS;
    let rows = rows
        .into_iter()
        .take(MAX_ROWS as usize)
        .map(|row| {
            let subject: String = row.try_get_by_index(0)?;
            let hour: i64 = row.try_get_by_index(1)?;
            let n: i64 = row.try_get_by_index(2)?;
            Ok((subject, hour, u64::try_from(n).unwrap_or(0)))
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
    Ok((by_subject(rows), truncated))
}

/// (subject, hour, n) rows in any order → per subject, its hours ascending,
/// each once (the rows of several reject classes of one hour summed).
fn by_subject(rows: Vec<(String, i64, u64)>) -> Vec<(String, Vec<(i64, u64)>)> {
    let mut map: HashMap<String, Vec<(i64, u64)>> = HashMap::new();
    for (subject, hour, n) in rows {
        map.entry(subject).or_default().push((hour, n));
    }
    let mut out: Vec<_> = map.into_iter().collect();
    for (_, hours) in &mut out {
        hours.sort_unstable();
        hours.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = kept.1.saturating_add(later.1);
            }
            same
        });
    }
    out
}

/// The allowlist as the detector reads it: addresses and networks, and
/// accounts in lower case (entries that do not parse are skipped, as live).
async fn allowlist(db: &impl ConnectionTrait) -> Result<Allowlist, AppError> {
    let mut allow = Allowlist::default();
    for r in defence_allow::Entity::find().all(db).await? {
        match SubjectKind::parse(&r.subject) {
            Some(SubjectKind::Ip) => {
                let target = r.target.trim();
                let net = target
                    .parse::<ipnet::IpNet>()
                    .ok()
                    .or_else(|| target.parse::<std::net::IpAddr>().ok().map(Into::into));
                allow.networks.extend(net);
            }
            Some(SubjectKind::Account) => {
                allow.accounts.insert(r.target.trim().to_lowercase());
            }
            None => {}
        }
    }
    Ok(allow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_one_hour_are_summed_and_hours_sorted() {
        let rows = vec![
            ("a".to_string(), 7_200, 2),
            ("b".to_string(), 3_600, 1),
            ("a".to_string(), 3_600, 5),
            ("a".to_string(), 7_200, u64::MAX),
        ];
        let mut grouped = by_subject(rows);
        grouped.sort();
        assert_eq!(
            grouped,
            vec![
                ("a".to_string(), vec![(3_600, 5), (7_200, u64::MAX)]),
                ("b".to_string(), vec![(3_600, 1)]),
            ]
        );
    }

    #[test]
    fn only_what_hourly_counters_keep_can_be_replayed() {
        assert_eq!(
            replayable(&Metric::Reject(Some("unknown_user".into()))),
            Some(Some("reject.unknown_user".into()))
        );
        assert_eq!(replayable(&Metric::Reject(None)), Some(None));
        assert_eq!(
            replayable(&Metric::SaslFailures),
            Some(Some("sasl_failures".into()))
        );
        assert_eq!(replayable(&Metric::Messages), Some(Some("received".into())));
        for m in [
            Metric::Recipients,
            Metric::DistinctRecipients,
            Metric::DistinctIps,
            Metric::Bounces,
        ] {
            assert_eq!(replayable(&m), None, "{m:?}");
        }
    }
}
