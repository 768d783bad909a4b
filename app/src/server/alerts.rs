//! Alerts as stored (`defence_alert`): the whole server's SASL failures or
//! rejects of one class far above their usual rate (see
//! `mailflow::detect::alerts`). The ingest writes what the detector raised
//! with [`record`]: one open alert per kind, updated while the burst lasts
//! (a later burst while it is still open extends it), so a long attack is
//! one line on the MailFlow page, not one per event. An analyst
//! acknowledges it; a burst after that opens a new one.

use super::audit::{self, Actor, NONE};
use super::entities::defence_alert;
use crate::api::detect::AlertRow;
use crate::errors::AppError;
use crate::pages::alerts::server_texts as texts;
use mailflow::detect::Alert;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

pub const OPEN: &str = "open";
pub const ACKNOWLEDGED: &str = "acknowledged";
/// Acknowledged alerts shown below the open ones.
const RECENT_ACKNOWLEDGED: u64 = 10;

/// Writes alerts the detector raised or updated (within the ingest's
/// transaction). The same burst (kind and start) updates its row, even
/// acknowledged; another burst of a kind with an open alert extends that
/// alert; otherwise a new open alert starts.
pub async fn record(db: &impl ConnectionTrait, alerts: &[Alert], now: i64) -> Result<(), DbErr> {
    for a in alerts {
        let same_burst = defence_alert::Entity::find()
            .filter(defence_alert::Column::Kind.eq(&a.kind))
            .filter(defence_alert::Column::Since.eq(a.since))
            .one(db)
            .await?;
        let row = match same_burst {
            Some(row) => Some(row),
            None => {
                defence_alert::Entity::find()
                    .filter(defence_alert::Column::Kind.eq(&a.kind))
                    .filter(defence_alert::Column::Status.eq(OPEN))
                    .order_by_desc(defence_alert::Column::Id)
                    .one(db)
                    .await?
            }
        };
        let count = i64::try_from(a.count).unwrap_or(i64::MAX);
        match row {
            Some(row) => {
                let (old_count, old_last) = (row.count, row.last_seen);
                let mut m: defence_alert::ActiveModel = row.into();
                if count > old_count {
                    m.count = Set(count);
                    m.usual = Set(a.usual);
                }
                m.last_seen = Set(old_last.max(a.last_seen));
                m.updated_at = Set(now);
                m.update(db).await?;
            }
            None => {
                defence_alert::ActiveModel {
                    kind: Set(a.kind.clone()),
                    since: Set(a.since),
                    last_seen: Set(a.last_seen),
                    count: Set(count),
                    usual: Set(a.usual),
                    window_minutes: Set(a.window_secs / 60),
                    status: Set(OPEN.into()),
                    acknowledged_by: Set(None),
                    acknowledged_at: Set(None),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(db)
                .await?;
            }
        }
    }
    Ok(())
}

/// What an alert is about, in words: `SASL failures`, `rejects: unknown user`.
pub fn label(kind: &str) -> String {
    match mailflow::series::reject_class(kind) {
        Some(class) => format!("Rejects: {}", class.replace('_', " ")),
        None => mailflow::series::label_of(kind),
    }
}

fn alert_row(a: defence_alert::Model) -> AlertRow {
    AlertRow {
        label: label(&a.kind),
        ratio: a.count as f64 / a.usual.max(1.0),
        open: a.status == OPEN,
        id: a.id,
        kind: a.kind,
        since: a.since,
        last_seen: a.last_seen,
        count: a.count,
        usual: a.usual,
        window_minutes: a.window_minutes,
        acknowledged_by: a.acknowledged_by,
        acknowledged_at: a.acknowledged_at,
    }
}

/// The open alerts (newest first), then the last few acknowledged.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<AlertRow>, DbErr> {
    let open = defence_alert::Entity::find()
        .filter(defence_alert::Column::Status.eq(OPEN))
        .order_by_desc(defence_alert::Column::LastSeen)
        .all(db)
        .await?;
    let done = defence_alert::Entity::find()
        .filter(defence_alert::Column::Status.eq(ACKNOWLEDGED))
        .order_by_desc(defence_alert::Column::AcknowledgedAt)
        .limit(RECENT_ACKNOWLEDGED)
        .all(db)
        .await?;
    Ok(open.into_iter().chain(done).map(alert_row).collect())
}

/// Marks an open alert as seen by `actor` (audited).
pub async fn acknowledge(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    now: i64,
) -> Result<AlertRow, AppError> {
    let txn = crate::server::retry::begin_write(db).await?;
    let row = defence_alert::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(texts().alert_n(id)))?;
    if row.status != OPEN {
        let t = texts();
        return Err(AppError::Conflict(t.already_acknowledged(
            id,
            row.acknowledged_by.as_deref().unwrap_or(t.someone()),
        )));
    }
    let mut m: defence_alert::ActiveModel = row.into();
    m.status = Set(ACKNOWLEDGED.into());
    m.acknowledged_by = Set(Some(actor.name.clone()));
    m.acknowledged_at = Set(Some(now));
    m.updated_at = Set(now);
    let after = alert_row(m.update(&txn).await?);
    audit::record(
        &txn,
        actor,
        "alert.acknowledge",
        &format!("{} {}", after.id, after.kind),
        NONE,
        Some(&after),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
