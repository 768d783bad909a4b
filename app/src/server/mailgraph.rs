//! Mailgraph's storage: the series tables at three resolutions (tiers),
//! how a time falls into a tier's bucket, which tier a chart reads, and the
//! purge that applies each tier's retention.
//!
//! The ingest engine writes every count to all three tiers in the same
//! transaction (see `server::ingest::store`), so a day row is always the
//! exact sum of its minutes, and the tiers are purged independently.

use crate::state::{MailgraphSettings, Retention};
use sea_orm::{ConnectionTrait, DbErr};

/// A resolution of the series tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    Minute,
    Hour,
    Day,
}

/// Whose series: a log host's, or a hosted domain's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Host,
    Domain,
}

impl Scope {
    /// The key column of the scope's tables.
    pub fn column(self) -> &'static str {
        match self {
            Scope::Host => "host",
            Scope::Domain => "domain",
        }
    }
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Minute, Tier::Hour, Tier::Day];

    pub fn seconds(self) -> i64 {
        match self {
            Tier::Minute => 60,
            Tier::Hour => 3600,
            Tier::Day => 86_400,
        }
    }

    /// The time column (the bucket's first second, Unix time).
    pub fn column(self) -> &'static str {
        match self {
            Tier::Minute => "minute",
            Tier::Hour => "hour",
            Tier::Day => "day",
        }
    }

    pub fn table(self, scope: Scope) -> &'static str {
        match (scope, self) {
            (Scope::Host, Tier::Minute) => "mail_minute",
            (Scope::Host, Tier::Hour) => "mail_hour",
            (Scope::Host, Tier::Day) => "mail_day",
            (Scope::Domain, Tier::Minute) => "mail_domain_minute",
            (Scope::Domain, Tier::Hour) => "mail_domain_hour",
            (Scope::Domain, Tier::Day) => "mail_domain_day",
        }
    }

    /// The first second of the bucket holding `t`. Days begin at local
    /// midnight for `offset` (seconds east of UTC).
    pub fn start(self, t: i64, offset: i64) -> i64 {
        match self {
            Tier::Day => t - (t + offset).rem_euclid(86_400),
            _ => t - t.rem_euclid(self.seconds()),
        }
    }

    /// Days this tier keeps (0: forever).
    pub fn retention(self, r: &Retention) -> u32 {
        match self {
            Tier::Minute => r.minute_days,
            Tier::Hour => r.hour_days,
            Tier::Day => r.day_days,
        }
    }
}

/// The most points a chart asks for; a finer tier would give more.
pub const MAX_POINTS: i64 = 1500;

/// The tier a chart of `[from, to)` reads: the finest one that keeps the
/// whole range (retention counted from `now`) in at most [`MAX_POINTS`].
pub fn tier_for(from: i64, to: i64, now: i64, retention: &Retention) -> Tier {
    for tier in [Tier::Minute, Tier::Hour] {
        let days = i64::from(tier.retention(retention));
        let kept = days == 0 || from >= now - days * 86_400;
        if kept && (to - from) / tier.seconds() <= MAX_POINTS {
            return tier;
        }
    }
    Tier::Day
}

impl MailgraphSettings {
    fn retention_of(&self, scope: Scope) -> &Retention {
        match scope {
            Scope::Host => &self.retention,
            Scope::Domain => &self.domain_retention,
        }
    }
}

/// Deletes the rows each tier no longer keeps; returns how many went.
pub async fn purge(
    db: &impl ConnectionTrait,
    settings: &MailgraphSettings,
    now: i64,
) -> Result<u64, DbErr> {
    let mut deleted = 0;
    for scope in [Scope::Host, Scope::Domain] {
        for tier in Tier::ALL {
            let days = tier.retention(settings.retention_of(scope));
            if days == 0 {
                continue;
            }
            let before = now - i64::from(days) * 86_400;
            let sql = format!(
                "DELETE FROM {} WHERE {} < {before}",
                tier.table(scope),
                tier.column()
            );
            deleted += db.execute_unprepared(&sql).await?.rows_affected();
        }
    }
    Ok(deleted)
}

/// The hosted domains' names (alias domains included), lower case.
pub async fn hosted_domains(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    use crate::server::entities::mail_domain;
    use sea_orm::{EntityTrait, QuerySelect};
    mail_domain::Entity::find()
        .select_only()
        .column(mail_domain::Column::Name)
        .into_tuple::<String>()
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_begin_at_local_midnight() {
        // 2026-11-29 02:30 UTC is still the 28th in Brazil (UTC-3).
        let t = 1_795_919_400; // 2026-11-29T02:30:00Z
        assert_eq!(Tier::Day.start(t, 0), 1_795_910_400); // 29th 00:00Z
        assert_eq!(Tier::Day.start(t, -3 * 3600), 1_795_834_800); // 28th 03:00Z
        assert_eq!(Tier::Hour.start(t, -3 * 3600), 1_795_917_600);
        assert_eq!(Tier::Minute.start(t + 59, 0), t);
    }

    #[test]
    fn a_chart_reads_the_finest_tier_that_keeps_its_range() {
        let r = Retention::default(); // minutes 14 days, hours 400
        let now = 1_795_919_400;
        let day = 86_400;
        assert_eq!(tier_for(now - day, now, now, &r), Tier::Minute);
        assert_eq!(tier_for(now - 7 * day, now, now, &r), Tier::Hour);
        assert_eq!(tier_for(now - 31 * day, now, now, &r), Tier::Hour);
        assert_eq!(tier_for(now - 365 * day, now, now, &r), Tier::Day);
        // A day a month ago: minutes are gone, hours remain.
        assert_eq!(
            tier_for(now - 30 * day, now - 29 * day, now, &r),
            Tier::Hour
        );
        // Nothing kept at all but days: days.
        let days_only = Retention {
            minute_days: 1,
            hour_days: 1,
            day_days: 0,
        };
        assert_eq!(tier_for(now - 3 * day, now, now, &days_only), Tier::Day);
    }
}
