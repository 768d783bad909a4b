//! Mailgraph's storage: the series tables at three resolutions (tiers),
//! how a time falls into a tier's bucket, which tier a chart reads, and the
//! purge that applies each tier's retention.
//!
//! The ingest engine writes every count to all three tiers in the same
//! transaction (see `server::ingest::store`), so a day row is always the
//! exact sum of its minutes, and the tiers are purged independently.

use super::tables::{SeriesColumn, SeriesTable};
use crate::errors::AppError;
use crate::model::{BlockRow, ChartData, ChartFilters, ChartQuery, SeriesData};
use crate::state::{MailgraphSettings, Retention};
use mailflow::Series;
use mailflow::time::{DAY, HOUR, LocalDays, MINUTE};
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
    pub fn column(self) -> SeriesColumn {
        match self {
            Scope::Host => SeriesColumn::Host,
            Scope::Domain => SeriesColumn::Domain,
        }
    }
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Minute, Tier::Hour, Tier::Day];

    pub fn seconds(self) -> i64 {
        match self {
            Tier::Minute => MINUTE,
            Tier::Hour => HOUR,
            Tier::Day => DAY,
        }
    }

    /// The time column (the bucket's first second, Unix time).
    pub fn column(self) -> SeriesColumn {
        match self {
            Tier::Minute => SeriesColumn::Minute,
            Tier::Hour => SeriesColumn::Hour,
            Tier::Day => SeriesColumn::Day,
        }
    }

    pub fn table(self, scope: Scope) -> SeriesTable {
        match (scope, self) {
            (Scope::Host, Tier::Minute) => SeriesTable::MailMinute,
            (Scope::Host, Tier::Hour) => SeriesTable::MailHour,
            (Scope::Host, Tier::Day) => SeriesTable::MailDay,
            (Scope::Domain, Tier::Minute) => SeriesTable::MailDomainMinute,
            (Scope::Domain, Tier::Hour) => SeriesTable::MailDomainHour,
            (Scope::Domain, Tier::Day) => SeriesTable::MailDomainDay,
        }
    }

    /// The first second of the bucket holding `t`. Days are the local
    /// days of `zone` (the configured time zone, or a fixed offset in
    /// seconds east of UTC; 23 or 25 hours long around a summer-time
    /// change); minutes and hours are UTC's.
    pub fn start(self, t: i64, zone: impl LocalDays) -> i64 {
        match self {
            Tier::Day => zone.day_start(t),
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
        let kept = days == 0 || from >= now - days * DAY;
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

/// The longest range a chart may ask for.
pub const MAX_RANGE_DAYS: i64 = 3 * 366;

/// The first instant a chart or report may cover: 1970-01-01 UTC.
pub const EARLIEST: i64 = 0;
/// The end of the last instant a chart or report may cover: 2100-01-01 UTC.
pub const LATEST: i64 = 4_102_444_800;

/// A time range `[from, to)` of Unix seconds, checked once: both ends are
/// real dates between [`EARLIEST`] and [`LATEST`], the end is after the
/// start, and it is at most a given number of days long. Every number
/// computed from it (its length, bucket counts) is then small; a request
/// cannot make them wrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
}

impl TimeRange {
    /// Checks `[from, to)` (Unix seconds from a request) for a range of at
    /// most `max_days` days; `what` names it in the message ("A chart").
    pub fn parse(from: i64, to: i64, max_days: i64, what: &str) -> Result<Self, AppError> {
        let t = crate::components::range::RangeTexts(super::locale::request_lang());
        let date = |field: &str, at: i64| {
            (EARLIEST..=LATEST)
                .contains(&at)
                .then(|| chrono::DateTime::from_timestamp(at, 0))
                .flatten()
                .ok_or_else(|| AppError::field(field, t.date_out_of_bounds()))
        };
        let (from_at, to_at) = (date("from", from)?, date("to", to)?);
        if to_at <= from_at {
            return Err(AppError::field("to", t.end_before_start()));
        }
        let too_long = (to_at - from_at) > chrono::TimeDelta::days(max_days);
        if too_long {
            return Err(AppError::field("from", t.too_long(what, max_days)));
        }
        Ok(Self {
            from: from_at,
            to: to_at,
        })
    }

    /// The first second (Unix time).
    pub fn from(&self) -> i64 {
        self.from.timestamp()
    }

    /// The end, exclusive (Unix time).
    pub fn to(&self) -> i64 {
        self.to.timestamp()
    }

    /// Its length in seconds.
    pub fn seconds(&self) -> i64 {
        (self.to - self.from).num_seconds()
    }
}

/// The longest host or domain name a chart may be narrowed to (the
/// series tables' key columns).
pub const MAX_KEY: usize = 255;

/// The series of `q`'s range from the tier that fits it (see [`tier_for`]),
/// summed over hosts unless one host or domain is asked for, with the
/// blocks approved in the range, where the stored counts begin and end
/// (see [`ChartData::data_until`]) and, when `q.compare` asks for it, the
/// compared period's series aligned bucket by bucket.
///
/// With a comparison both periods are read from the same tier, the
/// coarser of the two periods' own (an older period may have lost its
/// minutes), so their buckets line up.
pub async fn chart(
    db: &impl ConnectionTrait,
    settings: &MailgraphSettings,
    q: &ChartQuery,
    now: i64,
) -> Result<ChartData, AppError> {
    let t = crate::pages::charts::ChartsTexts(super::locale::request_lang());
    let (from, to) = match preset_days(&q.preset) {
        Some(days) => {
            // Up to the current minute, which is not over yet.
            let to = Tier::Minute.start(now, 0);
            (to - days * DAY, to)
        }
        None if q.preset.is_empty() => (q.from, q.to),
        None => return Err(AppError::field("preset", t.bad_preset())),
    };
    if q.host.len() > MAX_KEY || q.domain.len() > MAX_KEY {
        let field = if q.host.len() > MAX_KEY {
            "host"
        } else {
            "domain"
        };
        return Err(AppError::field(field, t.name_too_long(MAX_KEY)));
    }
    let compare =
        Compare::parse(&q.compare).ok_or_else(|| AppError::field("compare", t.bad_compare()))?;
    let range = TimeRange::parse(from, to, MAX_RANGE_DAYS, "A chart")?;
    let (from, to) = (range.from(), range.to());
    let (zone, offset) = (&*settings.zone, settings.offset_at(from));
    let (scope, key) = if !q.domain.trim().is_empty() {
        (Scope::Domain, q.domain.trim().to_ascii_lowercase())
    } else {
        (Scope::Host, q.host.trim().to_string())
    };
    let retention = settings.retention_of(scope);
    let mut tier = tier_for(from, to, now, retention);
    // The compared period, roughly, for its tier (exactly below).
    let rough = compare.shift(range.seconds(), 1);
    if rough > 0 {
        tier = tier.max(tier_for(from - rough, to - rough, now, retention));
    }
    let step = bucket_seconds(tier, range.seconds());
    let first = bucket_start(tier, step, from, zone);
    let buckets = usize::try_from(bucket_index(tier, step, first, to - 1, zone) + 1).unwrap_or(1);
    let bucketing = Bucketing {
        tier,
        scope,
        key: &key,
        step,
        offset,
        zone,
        buckets,
    };
    let series = bucketing.sums(db, first, to).await?;
    let shift = compare.shift(to - first, step);
    let previous = if shift > 0 {
        bucketing.sums(db, first - shift, to - shift).await?
    } else {
        Vec::new()
    };
    let (data_from, data_until) = data_bounds(db, (scope, &key), (tier, first), now).await?;
    Ok(ChartData {
        from: first,
        to,
        step,
        series,
        blocks: block_markers(db, from, to).await?,
        now,
        previous,
        shift,
        data_from,
        data_until,
    })
}

/// The period a chart is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    None,
    /// As long, just before.
    Previous,
    /// The same times a week earlier.
    Week,
}

impl Compare {
    /// `""`, `previous` or `week`.
    pub fn parse(text: &str) -> Option<Compare> {
        match text {
            "" => Some(Compare::None),
            "previous" => Some(Compare::Previous),
            "week" => Some(Compare::Week),
            _ => None,
        }
    }

    /// How many seconds earlier the compared period of a chart `span`
    /// seconds long (from its first bucket) begins: a whole number of
    /// `step`s, so that its buckets line up with the chart's.
    pub fn shift(self, span: i64, step: i64) -> i64 {
        let step = step.max(1);
        match self {
            Compare::None => 0,
            Compare::Previous => (span + step - 1) / step * step,
            // A week is a whole number of every chart step (a day at most).
            Compare::Week => 7 * DAY,
        }
    }
}

/// How one chart's rows become series: which table, and buckets of `step`
/// seconds (`buckets` of them).
struct Bucketing<'a> {
    tier: Tier,
    scope: Scope,
    key: &'a str,
    step: i64,
    offset: i64,
    /// Local days: a day bucket of 23 or 25 hours is still one bucket.
    zone: &'a crate::i18n::Zone,
    buckets: usize,
}

impl Bucketing<'_> {
    /// The series of `[first, to)`, `first` being a bucket's start: the
    /// base series always, even at zero, in their order; reject classes
    /// after them by name (see `mailflow::series::rank`).
    async fn sums(
        &self,
        db: &impl ConnectionTrait,
        first: i64,
        to: i64,
    ) -> Result<Vec<SeriesData>, AppError> {
        let select = sums_by_time(
            self.tier,
            self.scope,
            self.key,
            (first, to),
            (self.step, self.offset),
        );
        let rows = db
            .query_all_raw(db.get_database_backend().build(&select))
            .await?;
        let mut by_name: std::collections::BTreeMap<(u16, String), Vec<u64>> = Series::ALL
            .iter()
            .map(|s| ((s.index(), s.name().to_string()), vec![0; self.buckets]))
            .collect();
        for row in rows {
            let at: i64 = row.try_get_by_index(0)?;
            let name: String = row.try_get_by_index(1)?;
            let n: i64 = row.try_get_by_index(2)?;
            let rank = mailflow::series::rank(&name).0;
            let values = by_name
                .entry((rank, name))
                .or_insert_with(|| vec![0; self.buckets]);
            if let Some(v) =
                usize::try_from(bucket_index(self.tier, self.step, first, at, self.zone))
                    .ok()
                    .and_then(|i| values.get_mut(i))
            {
                *v += u64::try_from(n).unwrap_or(0);
            }
        }
        Ok(by_name
            .into_iter()
            .map(|((_, name), values)| SeriesData { name, values })
            .collect())
    }
}

/// Where the stored counts of one host or domain (`key`; empty: all
/// hosts) begin and end, for a chart of `tier` from `first`: the start of
/// the first day with a row, and the end of the last minute with a row
/// (of the last hour or day when the minutes of the last day have none).
/// See [`ChartData::data_until`] for how a chart reads them.
///
/// Each look-up is bounded by time, the tables' leading key, so that it
/// costs no more than the chart's own query: the minutes of the last day,
/// else the chart's tier from `first` on, else (nothing since `first`)
/// the day tier.
pub async fn data_bounds(
    db: &impl ConnectionTrait,
    (scope, key): (Scope, &str),
    (tier, first): (Tier, i64),
    now: i64,
) -> Result<(Option<i64>, Option<i64>), DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
    let edge = async |tier: Tier, last: bool, since: Option<i64>| -> Result<Option<i64>, DbErr> {
        let col = Expr::col(tier.column());
        let mut select = Query::select();
        select
            .expr(if last { Func::max(col) } else { Func::min(col) })
            .from(tier.table(scope));
        if let Some(since) = since {
            select.and_where(Expr::col(tier.column()).gte(since));
        }
        if !key.is_empty() {
            select.and_where(Expr::col(scope.column()).eq(key));
        }
        let row = db
            .query_one_raw(db.get_database_backend().build(&select))
            .await?;
        Ok(row.map(|r| r.try_get_by_index(0)).transpose()?.flatten())
    };
    let first_day = edge(Tier::Day, false, None).await?;
    let mut until = None;
    for (tier, since) in [
        (Tier::Minute, Some(std::cmp::max(first, now - DAY))),
        (tier, Some(first)),
        (Tier::Day, None),
    ] {
        if let Some(t) = edge(tier, true, since).await? {
            until = Some(t + tier.seconds());
            break;
        }
    }
    Ok((first_day, until))
}

/// `bucket, series, SUM(n)` of one tier's table over `[from, to)`, for one
/// host or domain (`key`) or all of them (empty), in buckets of `step`
/// seconds (the tier's own, or a multiple of it beginning at local
/// midnight for `offset`): the database sums, so a day of minutes comes
/// back as 288 five-minute rows per series.
pub fn sums_by_time(
    tier: Tier,
    scope: Scope,
    key: &str,
    (from, to): (i64, i64),
    (step, offset): (i64, i64),
) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
    let time = tier.column();
    let bucket = if step == tier.seconds() {
        time.name().to_string()
    } else {
        // Both are integers the server chose, never input.
        format!("({time} - (({time} + {offset}) % {step}))")
    };
    let mut select = Query::select();
    select
        .expr_as(Expr::cust(bucket.clone()), Alias::new("t"))
        .column(SeriesColumn::Series)
        .expr(super::tables::sum_of(SeriesColumn::N))
        .from(tier.table(scope))
        .and_where(Expr::col(time).gte(from))
        .and_where(Expr::col(time).lt(to))
        .add_group_by([Expr::cust(bucket), Expr::col(SeriesColumn::Series)])
        .order_by(Alias::new("t"), Order::Asc);
    if !key.is_empty() {
        select.and_where(Expr::col(scope.column()).eq(key));
    }
    select
}

/// About this many buckets make a chart a manager reads at a glance.
pub const TARGET_POINTS: i64 = 400;

/// A chart's bucket: the tier's own length or a round multiple of it, so
/// that `span` seconds make at most [`TARGET_POINTS`] buckets where it can
/// (a day by five minutes, a month by two hours, a year by days).
pub fn bucket_seconds(tier: Tier, span: i64) -> i64 {
    let multiples: &[i64] = match tier {
        Tier::Minute => &[1, 2, 5, 10, 15, 30],
        Tier::Hour => &[1, 2, 3, 6, 12],
        Tier::Day => &[1],
    };
    let size = tier.seconds();
    let k = multiples
        .iter()
        .copied()
        .find(|k| span / (size * k) <= TARGET_POINTS)
        .unwrap_or(multiples[multiples.len() - 1]);
    size * k
}

/// The start of the bucket of `step` seconds holding `t`: the local day
/// of `zone` for the day tier, else multiples of the step from local
/// midnight (with the offset in force at `t`).
pub fn bucket_start(tier: Tier, step: i64, t: i64, zone: impl LocalDays) -> i64 {
    match tier {
        Tier::Day => Tier::Day.start(t, zone),
        _ => t - (t + zone.utc_offset(t)).rem_euclid(step),
    }
}

/// The number of the bucket holding `at` in a chart whose first bucket
/// begins at `first`: by local days for the day tier (a day of 23 or 25
/// hours is one bucket), else by steps.
pub fn bucket_index(tier: Tier, step: i64, first: i64, at: i64, zone: impl LocalDays) -> i64 {
    match tier {
        Tier::Day => zone.local_day(at) - zone.local_day(first),
        _ => (at - first).div_euclid(step),
    }
}

/// The length of a chart preset.
pub fn preset_days(preset: &str) -> Option<i64> {
    ChartQuery::preset_days(preset)
}

/// Blocks approved in `[from, to)`, oldest first (at most 500).
async fn block_markers(
    db: &impl ConnectionTrait,
    from: i64,
    to: i64,
) -> Result<Vec<BlockRow>, DbErr> {
    use crate::server::entities::defence_block::{Column, Entity};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    Entity::find()
        .filter(Column::ApprovedAt.gte(from))
        .filter(Column::ApprovedAt.lt(to))
        .order_by_asc(Column::ApprovedAt)
        .limit(500)
        .all(db)
        .await?
        .into_iter()
        .map(super::defence::block_row)
        .collect()
}

/// The hosts with any count in the hour tier, and the hosted domains.
pub async fn filters(db: &impl ConnectionTrait, now: i64) -> Result<ChartFilters, AppError> {
    use sea_orm::sea_query::{Order, Query};
    let mut select = Query::select();
    select
        .distinct()
        .column(SeriesColumn::Host)
        .from(SeriesTable::MailDay)
        .order_by(SeriesColumn::Host, Order::Asc);
    let stmt = db.get_database_backend().build(&select);
    let hosts = db
        .query_all_raw(stmt)
        .await?
        .into_iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()?;
    let mut domains = hosted_domains(db).await?;
    domains.sort();
    Ok(ChartFilters {
        hosts,
        domains,
        now,
    })
}

/// Deletes the rows each tier no longer keeps, and the refused-by-blocks
/// minutes with the hour tier (`retention::TABLES`' Mailgraph lines);
/// returns how many went.
pub async fn purge(
    db: &sea_orm::DatabaseConnection,
    settings: &MailgraphSettings,
    now: i64,
) -> Result<u64, DbErr> {
    use super::retention::{Keep, Settings, purge_now};
    let s = Settings::new(&Default::default(), settings, &Default::default());
    purge_now(db, &s, now, |t| matches!(t.keep, Keep::Mailgraph(..))).await
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
    fn day_buckets_follow_the_zone_across_summer_time() {
        let sp = crate::i18n::Zone::named("America/Sao_Paulo").unwrap();
        // 4 November 2018: summer time began at local midnight (03:00 UTC),
        // the day lasted 23 hours.
        let nov4 = 1_541_300_400;
        assert_eq!(Tier::Day.start(nov4 + 12 * HOUR, &sp), nov4);
        assert_eq!(Tier::Day.start(nov4 + 23 * HOUR, &sp), nov4 + 23 * HOUR);
        assert_eq!(bucket_start(Tier::Day, DAY, nov4 + HOUR, &sp), nov4);
        // 16 February 2019 lasted 25 hours.
        let feb16 = 1_550_282_400;
        assert_eq!(Tier::Day.start(feb16 + 24 * HOUR + 30 * 60, &sp), feb16);
        assert_eq!(Tier::Day.start(feb16 + 25 * HOUR, &sp), feb16 + 25 * HOUR);
        let berlin = crate::i18n::Zone::named("Europe/Berlin").unwrap();
        let mar29 = 1_774_738_800; // 2026-03-29 00:00 in Berlin
        assert_eq!(Tier::Day.start(mar29 + 22 * HOUR, &berlin), mar29);
        assert_eq!(
            Tier::Day.start(mar29 + 23 * HOUR, &berlin),
            mar29 + 23 * HOUR
        );
        // The day after a 23-hour day is the next bucket, not the same one.
        assert_eq!(
            bucket_index(Tier::Day, DAY, mar29, mar29 + 23 * HOUR, &berlin),
            1
        );
        assert_eq!(
            bucket_index(Tier::Day, DAY, mar29, mar29 + 22 * HOUR, &berlin),
            0
        );
    }

    #[test]
    fn buckets_are_round_multiples_of_the_tier() {
        let day = 86_400;
        assert_eq!(bucket_seconds(Tier::Minute, day), 300);
        assert_eq!(bucket_seconds(Tier::Minute, 3600), 60);
        assert_eq!(bucket_seconds(Tier::Hour, 7 * day), 3600);
        assert_eq!(bucket_seconds(Tier::Hour, 30 * day), 7200);
        assert_eq!(bucket_seconds(Tier::Day, 365 * day), day);
        // Two-hour buckets begin at local midnight (UTC-3: 03:00 UTC).
        let t = 1_795_919_400; // 02:30 UTC
        assert_eq!(bucket_start(Tier::Hour, 7200, t, -3 * 3600), 1_795_914_000);
        assert_eq!(bucket_start(Tier::Minute, 300, t + 299, 0), t);
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
