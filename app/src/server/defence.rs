//! MailFlow defence in the database: block proposals as detection makes and
//! refreshes them, and blocks as they are approved. The ingest engine and
//! the security team's pages share these rules:
//!
//! - one pending proposal per subject: a new detection refreshes it;
//! - a subject already blocked, or whose proposal was rejected less than
//!   its suppression time ago, is not proposed again;
//! - a subject blocked before gets a longer block by default: the base
//!   duration doubles with each earlier block, up to [`MAX_BLOCK_MINUTES`].

use super::audit::{self, Actor};
use super::entities::{defence_block, defence_proposal};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, Set,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// The longest default block: thirty days.
pub const MAX_BLOCK_MINUTES: i64 = 30 * 24 * 60;

/// What detection found about one subject.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    /// `ip` or `account`.
    pub subject: String,
    pub target: String,
    pub policy: String,
    pub reasons: BTreeMap<String, u64>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub distinct_ips: u32,
    pub distinct_recipients: u32,
    pub samples: Vec<String>,
    /// The policy's block duration.
    pub block_minutes: u32,
    /// Approve at once, without review (set by an admin on the policy).
    pub auto_approve: bool,
}

/// What happened to a detection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// A new pending proposal.
    Proposed(i64),
    /// The subject's pending proposal, refreshed.
    Refreshed(i64),
    /// Approved at once by its policy: the block's id.
    AutoApproved(i64),
    /// Already blocked, or a rejection still suppresses it.
    Skipped,
}

/// Stores a detection (see the module's rules), at wall-clock time `now`.
pub async fn record(db: &impl ConnectionTrait, e: &Evidence, now: i64) -> Result<Recorded, DbErr> {
    let score = e.reasons.values().sum::<u64>() as i64;
    let reasons = serde_json::to_string(&e.reasons).unwrap_or_else(|_| "{}".into());
    let samples = serde_json::to_string(&e.samples).unwrap_or_else(|_| "[]".into());
    let pending = defence_proposal::Entity::find()
        .filter(defence_proposal::Column::Subject.eq(&e.subject))
        .filter(defence_proposal::Column::Target.eq(&e.target))
        .filter(defence_proposal::Column::Status.eq("pending"))
        .one(db)
        .await?;
    if let Some(p) = pending {
        let id = p.id;
        let mut row: defence_proposal::ActiveModel = p.clone().into();
        row.reasons = Set(merge_reasons(&p.reasons, &e.reasons));
        row.score = Set(p.score.max(score));
        row.first_seen = Set(p.first_seen.min(e.first_seen));
        row.last_seen = Set(p.last_seen.max(e.last_seen));
        row.distinct_ips = Set(p.distinct_ips.max(e.distinct_ips as i32));
        row.distinct_recipients = Set(p.distinct_recipients.max(e.distinct_recipients as i32));
        row.samples = Set(samples);
        row.updated_at = Set(now);
        row.update(db).await?;
        return Ok(Recorded::Refreshed(id));
    }
    if is_blocked(db, &e.subject, &e.target, now).await? || is_suppressed(db, e, now).await? {
        return Ok(Recorded::Skipped);
    }
    let row = defence_proposal::ActiveModel {
        subject: Set(e.subject.clone()),
        target: Set(e.target.clone()),
        policy: Set(e.policy.clone()),
        status: Set("pending".into()),
        reasons: Set(reasons),
        score: Set(score),
        first_seen: Set(e.first_seen),
        last_seen: Set(e.last_seen),
        distinct_ips: Set(e.distinct_ips as i32),
        distinct_recipients: Set(e.distinct_recipients as i32),
        samples: Set(samples),
        created_at: Set(now),
        updated_at: Set(now),
        decided_by: Set(None),
        decided_at: Set(None),
        decision_reason: Set(None),
        suppress_until: Set(None),
        block_id: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    if !e.auto_approve {
        return Ok(Recorded::Proposed(row.id));
    }
    let actor = Actor {
        id: None,
        name: format!("auto:{}", e.policy),
        client_addr: None,
    };
    let minutes = default_minutes(db, &e.subject, &e.target, i64::from(e.block_minutes)).await?;
    let reason = format!("auto-approved by policy {}", e.policy);
    let block = approve(db, row, &actor, minutes, &reason, now).await?;
    Ok(Recorded::AutoApproved(block))
}

/// Blocks `proposal` for `minutes` on behalf of `actor`; the block's id.
/// The proposal becomes `approved` and both changes are audited.
pub async fn approve(
    db: &impl ConnectionTrait,
    proposal: defence_proposal::Model,
    actor: &Actor,
    minutes: i64,
    reason: &str,
    now: i64,
) -> Result<i64, DbErr> {
    let block = defence_block::ActiveModel {
        subject: Set(proposal.subject.clone()),
        target: Set(proposal.target.clone()),
        proposal_id: Set(Some(proposal.id)),
        reason: Set(reason.to_string()),
        approved_by: Set(actor.name.clone()),
        approved_at: Set(now),
        expires_at: Set(now + minutes.max(1) * 60),
        lifted_by: Set(None),
        lifted_at: Set(None),
        hits: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let before = proposal.status.clone();
    let mut row: defence_proposal::ActiveModel = proposal.clone().into();
    row.status = Set("approved".into());
    row.decided_by = Set(Some(actor.name.clone()));
    row.decided_at = Set(Some(now));
    row.decision_reason = Set(Some(reason.to_string()));
    row.block_id = Set(Some(block.id));
    row.updated_at = Set(now);
    row.update(db).await?;
    audit::record(
        db,
        actor,
        "block.approve",
        &format!("{} {}", proposal.subject, proposal.target),
        Some(&serde_json::json!({ "proposal": proposal.id, "status": before })),
        Some(&serde_json::json!({
            "block": block.id,
            "minutes": minutes,
            "expires_at": block.expires_at,
            "reason": reason,
        })),
    )
    .await?;
    Ok(block.id)
}

/// The default duration for blocking a subject: `base` doubled for each
/// earlier block of it, up to [`MAX_BLOCK_MINUTES`].
pub async fn default_minutes(
    db: &impl ConnectionTrait,
    subject: &str,
    target: &str,
    base: i64,
) -> Result<i64, DbErr> {
    let earlier = defence_block::Entity::find()
        .filter(defence_block::Column::Subject.eq(subject))
        .filter(defence_block::Column::Target.eq(target))
        .count(db)
        .await?;
    Ok(escalate(base, earlier))
}

fn escalate(base: i64, earlier: u64) -> i64 {
    let factor = 1i64 << earlier.min(20);
    base.max(1).saturating_mul(factor).min(MAX_BLOCK_MINUTES)
}

async fn is_blocked(
    db: &impl ConnectionTrait,
    subject: &str,
    target: &str,
    now: i64,
) -> Result<bool, DbErr> {
    Ok(defence_block::Entity::find()
        .filter(defence_block::Column::Subject.eq(subject))
        .filter(defence_block::Column::Target.eq(target))
        .filter(defence_block::Column::LiftedAt.is_null())
        .filter(defence_block::Column::ExpiresAt.gt(now))
        .count(db)
        .await?
        > 0)
}

async fn is_suppressed(db: &impl ConnectionTrait, e: &Evidence, now: i64) -> Result<bool, DbErr> {
    Ok(defence_proposal::Entity::find()
        .filter(defence_proposal::Column::Subject.eq(&e.subject))
        .filter(defence_proposal::Column::Target.eq(&e.target))
        .filter(defence_proposal::Column::Status.eq("rejected"))
        .filter(defence_proposal::Column::SuppressUntil.gt(now))
        .count(db)
        .await?
        > 0)
}

/// The stored reasons with the new counts (the larger of each).
fn merge_reasons(stored: &str, new: &BTreeMap<String, u64>) -> String {
    let mut merged: BTreeMap<String, u64> = serde_json::from_str(stored).unwrap_or_default();
    for (k, v) in new {
        let r = merged.entry(k.clone()).or_default();
        *r = (*r).max(*v);
    }
    serde_json::to_string(&merged).unwrap_or_else(|_| "{}".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_offenders_get_longer_blocks() {
        assert_eq!(escalate(60, 0), 60);
        assert_eq!(escalate(60, 1), 120);
        assert_eq!(escalate(60, 3), 480);
        assert_eq!(escalate(1440, 10), MAX_BLOCK_MINUTES);
        assert_eq!(escalate(0, 0), 1);
    }

    #[test]
    fn merged_reasons_keep_the_larger_count() {
        let new = BTreeMap::from([("relay".to_string(), 5), ("unknown_user".to_string(), 40)]);
        assert_eq!(
            merge_reasons(r#"{"unknown_user":50,"spf":2}"#, &new),
            r#"{"relay":5,"spf":2,"unknown_user":50}"#
        );
        assert_eq!(
            merge_reasons("not json", &new),
            r#"{"relay":5,"unknown_user":40}"#
        );
    }
}
