//! The "refused by blocks" series: policy requests the policy daemon
//! answered REJECT, per minute and per kind of block, in the table
//! `defence_refused_minute` (see its migration). The daemon counts in
//! memory and adds its counts with [`add`] every few seconds; the Charts
//! page reads them with [`series`] in the main chart's buckets.

use crate::api::refused::RefusedSeries;
use crate::components::refused_chart::RefusedTexts;
use crate::errors::AppError;
use crate::i18n::Lang;
use mailflow::SubjectKind;
use mailflow::time::{DAY, MINUTE};
use sea_orm::sea_query::{Expr, ExprTrait, Iden, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::HashMap;

/// The table and its columns.
#[derive(Clone, Copy, Debug)]
pub enum RefusedMinute {
    Table,
    Minute,
    Kind,
    N,
}

impl Iden for RefusedMinute {
    fn unquoted(&self) -> &str {
        match self {
            Self::Table => "defence_refused_minute",
            Self::Minute => "minute",
            Self::Kind => "kind",
            Self::N => "n",
        }
    }
}

/// Adds `(minute start, kind) → refusals` to the table, in one statement.
pub async fn add<S>(
    db: &impl ConnectionTrait,
    counts: &HashMap<(i64, SubjectKind), u64, S>,
) -> Result<(), DbErr> {
    use RefusedMinute::{Kind, Minute, N, Table};
    if counts.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<_> = counts.iter().collect();
    // Key order: every writer (several replicas) locks rows alike.
    rows.sort_unstable_by_key(|((minute, kind), _)| (*minute, kind.name()));
    for chunk in rows.chunks(500) {
        let mut q = Query::insert();
        q.into_table(Table).columns([Minute, Kind, N]).on_conflict(
            OnConflict::columns([Minute, Kind])
                .value(N, Expr::col((Table, N)).add(Expr::cust("excluded.n")))
                .to_owned(),
        );
        for ((minute, kind), n) in chunk {
            q.values_panic([
                (*minute).into(),
                kind.name().into(),
                i64::try_from(**n).unwrap_or(i64::MAX).into(),
            ]);
        }
        db.execute(&q).await?;
    }
    Ok(())
}

/// The most buckets a request may ask for (the main chart's limit).
pub const MAX_BUCKETS: i64 = super::mailgraph::MAX_POINTS;

/// Checks a request for the buckets `[from, to)` of `step` seconds: real
/// dates (1970–2099), the end after the start, at most the charts' longest
/// range, a step of whole minutes up to a day, at most [`MAX_BUCKETS`].
/// Every number computed from them is then small.
pub fn check(lang: Lang, from: i64, to: i64, step: i64) -> Result<(), AppError> {
    use super::mailgraph::{EARLIEST, LATEST, MAX_RANGE_DAYS};
    let t = RefusedTexts(lang);
    for (field, at) in [("from", from), ("to", to)] {
        if !(EARLIEST..=LATEST).contains(&at) {
            return Err(AppError::field(field, t.err_date()));
        }
    }
    if to <= from {
        return Err(AppError::field("to", t.err_order()));
    }
    if to - from > MAX_RANGE_DAYS * DAY {
        return Err(AppError::field("from", t.err_long(MAX_RANGE_DAYS)));
    }
    if !(MINUTE..=DAY).contains(&step) || step % MINUTE != 0 {
        return Err(AppError::field("step", t.err_step()));
    }
    if buckets(from, to, step) > MAX_BUCKETS {
        return Err(AppError::field("step", t.err_buckets(MAX_BUCKETS)));
    }
    Ok(())
}

/// Buckets of `step` seconds from `from` that cover `[from, to)`.
fn buckets(from: i64, to: i64, step: i64) -> i64 {
    (to - from + step - 1) / step
}

/// The refusals in `[from, to)` summed in buckets of `step` seconds from
/// `from`, per kind of block (checked by [`check`] first).
pub async fn series(
    db: &impl ConnectionTrait,
    from: i64,
    to: i64,
    step: i64,
) -> Result<RefusedSeries, AppError> {
    use RefusedMinute::{Kind, Minute, N, Table};
    // `from` and `step` are checked integers, never text from the request.
    let bucket = format!("(({} - {from}) / {step})", Minute.unquoted());
    let select = Query::select()
        .expr(Expr::cust(bucket.clone()))
        .column(Kind)
        .expr(super::tables::sum_of(N))
        .from(Table)
        .and_where(Expr::col(Minute).gte(from))
        .and_where(Expr::col(Minute).lt(to))
        .add_group_by([Expr::cust(bucket), Expr::col(Kind)])
        .to_owned();
    let rows = db
        .query_all_raw(db.get_database_backend().build(&select))
        .await?;
    let count = usize::try_from(buckets(from, to, step)).unwrap_or(0);
    let mut out = RefusedSeries {
        from,
        step,
        ip: vec![0; count],
        account: vec![0; count],
    };
    for row in rows {
        let i: i64 = row.try_get_by_index(0)?;
        let kind: String = row.try_get_by_index(1)?;
        let n: i64 = row.try_get_by_index(2)?;
        let values = match SubjectKind::parse(&kind) {
            Some(SubjectKind::Ip) => &mut out.ip,
            Some(SubjectKind::Account) => &mut out.account,
            None => continue,
        };
        if let Some(v) = usize::try_from(i).ok().and_then(|i| values.get_mut(i)) {
            *v += u64::try_from(n).unwrap_or(0);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_ranges_and_steps_are_refused_in_both_languages() {
        let day = DAY;
        assert!(check(Lang::En, 0, day, 300).is_ok());
        for (from, to, step, field) in [
            (-1, day, 60, "from"),
            (0, i64::MAX, 60, "to"),
            (day, day, 60, "to"),
            (0, 4 * 366 * day, day, "from"),
            (0, day, 0, "step"),
            (0, day, -60, "step"),
            (0, day, 61, "step"),
            (0, day, i64::MAX, "step"),
            (0, 30 * day, 60, "step"),
        ] {
            let err = check(Lang::PtBr, from, to, step).unwrap_err();
            assert!(
                err.field_message(field).is_some(),
                "{from} {to} {step}: {err:?}"
            );
        }
        let pt = check(Lang::PtBr, 0, day, 61).unwrap_err();
        let en = check(Lang::En, 0, day, 61).unwrap_err();
        assert_ne!(pt.field_message("step"), en.field_message("step"));
    }
}
