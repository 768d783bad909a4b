//! The append-only audit log: who changed what, when, from where, with the
//! state before and after. Writers pass the same connection (or transaction)
//! as the change itself, so a change and its audit row land together.

use super::entities::audit_log;
use crate::model::{AuditEntry, AuditPage, AuditQuery};
use crate::pages::admin_audit::AuditTexts;
use chrono::{NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;

/// Who did it: a staff member from the web, or the command line.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: Option<i32>,
    pub name: String,
    pub client_addr: Option<String>,
}

impl Actor {
    /// The command line, run by the given operating-system user.
    pub fn cli() -> Self {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| {
                use std::os::unix::fs::MetadataExt;
                std::fs::metadata("/proc/self")
                    .map(|m| format!("uid{}", m.uid()))
                    .unwrap_or_else(|_| "unknown".into())
            });
        Actor {
            id: None,
            name: format!("cli:{user}"),
            client_addr: None,
        }
    }
}

/// Appends one entry. `before`/`after` are any serializable snapshots.
pub async fn record<B: Serialize, A: Serialize>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    target: &str,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<(), sea_orm::DbErr> {
    let row = audit_log::ActiveModel {
        at: Set(Utc::now()),
        actor_id: Set(actor.id),
        actor: Set(truncate(&actor.name, 64)),
        action: Set(truncate(action, 64)),
        target: Set(truncate(target, 255)),
        before: Set(before.map(to_json)),
        after: Set(after.map(to_json)),
        client_addr: Set(actor.client_addr.clone()),
        ..Default::default()
    };
    audit_log::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// For entries without a before or after state.
pub const NONE: Option<&()> = None;

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("\"unserializable: {e}\""))
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

pub const PAGE_SIZE: u64 = 50;

/// A page of entries matching the query, newest first.
pub async fn search(
    db: &impl ConnectionTrait,
    q: &AuditQuery,
) -> Result<AuditPage, crate::errors::AppError> {
    let mut cond = Condition::all();
    if !q.actor.trim().is_empty() {
        cond = cond.add(audit_log::Column::Actor.contains(q.actor.trim()));
    }
    if !q.action.trim().is_empty() {
        cond = cond.add(audit_log::Column::Action.starts_with(q.action.trim()));
    }
    if !q.text.trim().is_empty() {
        let t = q.text.trim();
        cond = cond.add(
            Condition::any()
                .add(audit_log::Column::Target.contains(t))
                .add(audit_log::Column::Before.contains(t))
                .add(audit_log::Column::After.contains(t))
                .add(audit_log::Column::ClientAddr.contains(t)),
        );
    }
    // Days are the portal's local days (`server.time_zone`).
    let texts = AuditTexts(crate::server::locale::request_lang());
    let zone = crate::state::app_state()
        .map(|s| s.locale.zone.clone())
        .unwrap_or_default();
    let midnight = |day: NaiveDate| {
        let t = zone.utc_of_local(day.and_hms_opt(0, 0, 0).unwrap_or_default());
        chrono::DateTime::from_timestamp(t, 0).unwrap_or_default()
    };
    if let Some(from) = parse_day(&q.from, texts.from_date_format())? {
        cond = cond.add(audit_log::Column::At.gte(midnight(from)));
    }
    if let Some(to) = parse_day(&q.to, texts.to_date_format())? {
        cond = cond.add(audit_log::Column::At.lt(midnight(to.succ_opt().unwrap_or(to))));
    }
    if let Some(before) = q.before_id {
        cond = cond.add(audit_log::Column::Id.lt(before));
    }
    let mut rows = audit_log::Entity::find()
        .filter(cond)
        .order_by_desc(audit_log::Column::Id)
        .limit(PAGE_SIZE + 1)
        .all(db)
        .await?;
    let next_before_id = (rows.len() as u64 > PAGE_SIZE).then(|| {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|r| r.id).unwrap_or_default()
    });
    Ok(AuditPage {
        entries: rows.into_iter().map(entry).collect(),
        next_before_id,
        actions: actions(db).await?,
    })
}

/// The newest `limit` entries about `target` whose action starts with `prefix`.
pub async fn for_target(
    db: &impl ConnectionTrait,
    target: &str,
    prefix: &str,
    limit: u64,
) -> Result<Vec<AuditEntry>, sea_orm::DbErr> {
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::Target.eq(target))
        .filter(audit_log::Column::Action.starts_with(prefix))
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(entry)
        .collect())
}

fn entry(r: audit_log::Model) -> AuditEntry {
    AuditEntry {
        id: r.id,
        at: r.at,
        actor: r.actor,
        action: r.action,
        target: r.target,
        before: r.before,
        after: r.after,
        client_addr: r.client_addr,
    }
}

/// `s` as a date (`2026-11-28`, as a date input sends it, or `28/11/2026`),
/// or `message`.
fn parse_day(s: &str, message: &str) -> Result<Option<NaiveDate>, crate::errors::AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| crate::errors::AppError::Validation(message.into()))
}

/// The distinct actions of the log, at most 500, read by skipping through
/// the action index (a probe per action, not a scan of the log).
async fn actions(db: &impl ConnectionTrait) -> Result<Vec<String>, sea_orm::DbErr> {
    let sql = "WITH RECURSIVE a(action) AS ( \
         SELECT MIN(action) FROM audit_log \
         UNION ALL \
         SELECT (SELECT MIN(action) FROM audit_log WHERE audit_log.action > a.action) FROM a \
         WHERE a.action IS NOT NULL) \
         SELECT action FROM a WHERE action IS NOT NULL LIMIT 500";
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .collect())
}
