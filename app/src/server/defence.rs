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
use super::auth::Staff;
use super::entities::defence_proposal::{self, ProposalStatus};
use super::entities::{defence_block, defence_policy};
use crate::errors::AppError;
use crate::model::{BlockRow, BulkOutcome, DefenceState, ProposalRow, Role, SubjectKind};
use crate::state::Guardrails;
use mailflow::time::{DAY, HOUR, HOURS_PER_DAY, MINUTE, MINUTES_PER_DAY};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// The longest default block: thirty days.
pub const MAX_BLOCK_MINUTES: i64 = 30 * MINUTES_PER_DAY;

/// What detection found about one subject.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    pub subject: SubjectKind,
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
        .filter(defence_proposal::Column::Subject.eq(e.subject.name()))
        .filter(defence_proposal::Column::Target.eq(&e.target))
        .filter(defence_proposal::Column::Status.eq(ProposalStatus::Pending))
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
    if is_blocked(db, e.subject, &e.target, now).await? || is_suppressed(db, e, now).await? {
        return Ok(Recorded::Skipped);
    }
    let row = defence_proposal::ActiveModel {
        subject: Set(e.subject.name().into()),
        target: Set(e.target.clone()),
        policy: Set(e.policy.clone()),
        status: Set(ProposalStatus::Pending),
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
    let minutes = default_minutes(db, e.subject, &e.target, i64::from(e.block_minutes)).await?;
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
        expires_at: Set(now + minutes.max(1) * MINUTE),
        lifted_by: Set(None),
        lifted_at: Set(None),
        hits: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let before = proposal.status;
    let mut row: defence_proposal::ActiveModel = proposal.clone().into();
    row.status = Set(ProposalStatus::Approved);
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
    subject: SubjectKind,
    target: &str,
    base: i64,
) -> Result<i64, DbErr> {
    Ok(escalate(base, earlier_blocks(db, subject, target).await?))
}

fn escalate(base: i64, earlier: u64) -> i64 {
    let factor = 1i64 << earlier.min(20);
    base.max(1).saturating_mul(factor).min(MAX_BLOCK_MINUTES)
}

async fn is_blocked(
    db: &impl ConnectionTrait,
    subject: SubjectKind,
    target: &str,
    now: i64,
) -> Result<bool, DbErr> {
    Ok(defence_block::Entity::find()
        .filter(defence_block::Column::Subject.eq(subject.name()))
        .filter(defence_block::Column::Target.eq(target))
        .filter(defence_block::Column::LiftedAt.is_null())
        .filter(defence_block::Column::ExpiresAt.gt(now))
        .count(db)
        .await?
        > 0)
}

async fn is_suppressed(db: &impl ConnectionTrait, e: &Evidence, now: i64) -> Result<bool, DbErr> {
    Ok(defence_proposal::Entity::find()
        .filter(defence_proposal::Column::Subject.eq(e.subject.name()))
        .filter(defence_proposal::Column::Target.eq(&e.target))
        .filter(defence_proposal::Column::Status.eq(ProposalStatus::Rejected))
        .filter(defence_proposal::Column::SuppressUntil.gt(now))
        .count(db)
        .await?
        > 0)
}

/// How many proposals and blocks the page lists.
const SHOWN: u64 = 200;
/// Longest block or extension a person may set: a year.
const MAX_MINUTES: i64 = 365 * MINUTES_PER_DAY;

/// Pending proposals (biggest, then newest first), active blocks, and the
/// blocks that ended in the last week.
pub async fn overview(
    db: &impl ConnectionTrait,
    guard: &Guardrails,
    now: i64,
) -> Result<DefenceState, DbErr> {
    let pending = defence_proposal::Entity::find()
        .filter(defence_proposal::Column::Status.eq(ProposalStatus::Pending))
        .order_by_desc(defence_proposal::Column::Score)
        .order_by_desc(defence_proposal::Column::UpdatedAt)
        .limit(SHOWN)
        .all(db)
        .await?;
    let mut proposals = Vec::with_capacity(pending.len());
    for p in pending {
        let subject = stored_subject(&p.subject, "defence_proposal", p.id)?;
        let base = policy_minutes(db, &p.policy).await?;
        let earlier = earlier_blocks(db, subject, &p.target).await?;
        let mut reasons: Vec<(String, u64)> =
            serde_json::from_str::<BTreeMap<String, u64>>(&p.reasons)
                .unwrap_or_default()
                .into_iter()
                .collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        proposals.push(ProposalRow {
            needs_override: (subject == SubjectKind::Ip)
                .then(|| guard.concern(&p.target))
                .flatten(),
            id: p.id,
            subject,
            target: p.target,
            policy: p.policy,
            reasons,
            score: p.score,
            first_seen: p.first_seen,
            last_seen: p.last_seen,
            distinct_ips: p.distinct_ips,
            distinct_recipients: p.distinct_recipients,
            samples: serde_json::from_str(&p.samples).unwrap_or_default(),
            default_minutes: escalate(base, earlier),
            earlier_blocks: earlier,
        });
    }
    let active = defence_block::Entity::find()
        .filter(defence_block::Column::LiftedAt.is_null())
        .filter(defence_block::Column::ExpiresAt.gt(now))
        .order_by_desc(defence_block::Column::ApprovedAt)
        .limit(SHOWN)
        .all(db)
        .await?;
    let week_ago = now - 7 * DAY;
    let ended = defence_block::Entity::find()
        .filter(
            Condition::any()
                .add(defence_block::Column::LiftedAt.gt(week_ago))
                .add(
                    Condition::all()
                        .add(defence_block::Column::LiftedAt.is_null())
                        .add(defence_block::Column::ExpiresAt.lte(now))
                        .add(defence_block::Column::ExpiresAt.gt(week_ago)),
                ),
        )
        .order_by_desc(defence_block::Column::ExpiresAt)
        .limit(50)
        .all(db)
        .await?;
    Ok(DefenceState {
        proposals,
        blocks: active
            .into_iter()
            .chain(ended)
            .map(block_row)
            .collect::<Result<_, _>>()?,
        now,
    })
}

/// A stored subject kind (a row's `subject` column). Anything else is a
/// damaged row: an error naming it, as an unknown stored enum value is.
pub(crate) fn stored_subject(stored: &str, table: &str, id: i64) -> Result<SubjectKind, DbErr> {
    SubjectKind::parse(stored)
        .ok_or_else(|| DbErr::Type(format!("{table} {id}: unknown subject {stored:?}")))
}

/// A stored block as the pages show it (MailFlow's list, chart markers).
pub(crate) fn block_row(b: defence_block::Model) -> Result<BlockRow, DbErr> {
    Ok(BlockRow {
        subject: stored_subject(&b.subject, "defence_block", b.id)?,
        id: b.id,
        target: b.target,
        reason: b.reason,
        approved_by: b.approved_by,
        approved_at: b.approved_at,
        expires_at: b.expires_at,
        lifted_by: b.lifted_by,
        lifted_at: b.lifted_at,
        hits: b.hits,
        proposal_id: b.proposal_id,
    })
}

/// The block length of policy `name` (a day if it is gone).
async fn policy_minutes(db: &impl ConnectionTrait, name: &str) -> Result<i64, DbErr> {
    let policy = defence_policy::Entity::find()
        .filter(defence_policy::Column::Name.eq(name))
        .one(db)
        .await?;
    Ok(policy.map_or(MINUTES_PER_DAY, |p| i64::from(p.block_minutes)))
}

async fn earlier_blocks(
    db: &impl ConnectionTrait,
    subject: SubjectKind,
    target: &str,
) -> Result<u64, DbErr> {
    defence_block::Entity::find()
        .filter(defence_block::Column::Subject.eq(subject.name()))
        .filter(defence_block::Column::Target.eq(target))
        .count(db)
        .await
}

/// The most proposals one bulk decision may name: a decision is one
/// transaction, and the page lists at most 200 proposals anyway.
pub const MAX_BULK: usize = 1000;

/// The ids in a form's comma-separated list: at least one, at most
/// [`MAX_BULK`], each once.
pub fn parse_ids(ids: &str) -> Result<Vec<i64>, AppError> {
    let mut seen = std::collections::BTreeSet::new();
    let mut list = Vec::new();
    for s in ids.split([',', ' ']).filter(|s| !s.is_empty()) {
        let id: i64 = s
            .parse()
            .map_err(|_| AppError::Validation(format!("{s:?} is not a proposal number.")))?;
        if seen.insert(id) {
            list.push(id);
        }
        if list.len() > MAX_BULK {
            return Err(AppError::Validation(format!(
                "Select at most {MAX_BULK} proposals at once."
            )));
        }
    }
    if list.is_empty() {
        return Err(AppError::Validation("Select at least one proposal.".into()));
    }
    Ok(list)
}

fn required_reason(reason: &str) -> Result<String, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::Validation(
            "Give a reason: it goes to the audit log.".into(),
        ));
    }
    Ok(reason.chars().take(500).collect())
}

fn checked_minutes(minutes: i64) -> Result<i64, AppError> {
    if !(1..=MAX_MINUTES).contains(&minutes) {
        return Err(AppError::Validation(format!(
            "A duration is between 1 minute and {} days.",
            MAX_MINUTES / MINUTES_PER_DAY
        )));
    }
    Ok(minutes)
}

/// What the security team decided to approve.
#[derive(Clone, Copy, Debug)]
pub struct Approval<'a> {
    pub ids: &'a [i64],
    /// `None`: each proposal's default length.
    pub minutes: Option<i64>,
    pub reason: &'a str,
    /// An admin blocks despite the guardrails.
    pub override_guard: bool,
}

/// Approves each pending proposal of `ids`: `minutes` long, or by default
/// the policy's length escalated for repeat offenders. A proposal that
/// needs an override is skipped unless `override_guard` is set by an admin.
pub async fn approve_many(
    db: &DatabaseConnection,
    staff: &Staff,
    guard: &Guardrails,
    approval: &Approval<'_>,
    now: i64,
) -> Result<BulkOutcome, AppError> {
    let Approval {
        ids,
        minutes,
        reason,
        override_guard,
    } = *approval;
    let reason = required_reason(reason)?;
    let minutes = minutes.map(checked_minutes).transpose()?;
    if override_guard && !staff.roles.contains(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let actor = staff.actor();
    let txn = crate::server::retry::begin_write(db).await?;
    let mut outcome = BulkOutcome::default();
    for &id in ids {
        let Some(p) = pending(&txn, id, &mut outcome).await? else {
            continue;
        };
        let subject = stored_subject(&p.subject, "defence_proposal", p.id)?;
        if subject == SubjectKind::Ip
            && let Some(concern) = guard.concern(&p.target)
            && !override_guard
        {
            outcome
                .skipped
                .push((p.target, format!("{concern}: an admin must override")));
            continue;
        }
        let length = match minutes {
            Some(m) => m,
            None => {
                let base = policy_minutes(&txn, &p.policy).await?;
                default_minutes(&txn, subject, &p.target, base).await?
            }
        };
        approve(&txn, p, &actor, length, &reason, now).await?;
        outcome.done += 1;
    }
    txn.commit().await?;
    Ok(outcome)
}

/// Rejects each pending proposal of `ids`; the subject is not proposed
/// again for `suppress_hours`.
pub async fn reject_many(
    db: &DatabaseConnection,
    actor: &Actor,
    ids: &[i64],
    reason: &str,
    suppress_hours: i64,
    now: i64,
) -> Result<BulkOutcome, AppError> {
    let reason = required_reason(reason)?;
    if !(0..=365 * HOURS_PER_DAY).contains(&suppress_hours) {
        return Err(AppError::Validation("Suppress for 0 to 8760 hours.".into()));
    }
    let txn = crate::server::retry::begin_write(db).await?;
    let mut outcome = BulkOutcome::default();
    for &id in ids {
        let Some(p) = pending(&txn, id, &mut outcome).await? else {
            continue;
        };
        let target = format!("{} {}", p.subject, p.target);
        let mut row: defence_proposal::ActiveModel = p.into();
        row.status = Set(ProposalStatus::Rejected);
        row.decided_by = Set(Some(actor.name.clone()));
        row.decided_at = Set(Some(now));
        row.decision_reason = Set(Some(reason.clone()));
        row.suppress_until = Set(Some(now + suppress_hours * HOUR));
        row.updated_at = Set(now);
        row.update(&txn).await?;
        audit::record(
            &txn,
            actor,
            "proposal.reject",
            &target,
            Some(&serde_json::json!({ "proposal": id, "status": ProposalStatus::Pending })),
            Some(&serde_json::json!({ "status": ProposalStatus::Rejected, "reason": reason, "suppress_hours": suppress_hours })),
        )
        .await?;
        outcome.done += 1;
    }
    txn.commit().await?;
    Ok(outcome)
}

/// Ends an active block now.
pub async fn lift(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    reason: &str,
    now: i64,
) -> Result<BlockRow, AppError> {
    let reason = required_reason(reason)?;
    let by = actor.name.clone();
    change_active_block(db, actor, id, now, "block.lift", Some(&reason), |row, _| {
        row.lifted_at = Set(Some(now));
        row.lifted_by = Set(Some(by));
    })
    .await
}

/// Lengthens an active block by `minutes`.
pub async fn extend(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    minutes: i64,
    now: i64,
) -> Result<BlockRow, AppError> {
    let minutes = checked_minutes(minutes)?;
    change_active_block(db, actor, id, now, "block.extend", None, |row, before| {
        row.expires_at = Set(before.expires_at.max(now) + minutes * MINUTE);
    })
    .await
}

/// Applies `change` to active block `id` and audits it as `action`, with
/// the block before and after (and the reason, if any), in one transaction.
async fn change_active_block(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    now: i64,
    action: &str,
    reason: Option<&str>,
    change: impl FnOnce(&mut defence_block::ActiveModel, &BlockRow),
) -> Result<BlockRow, AppError> {
    let txn = crate::server::retry::begin_write(db).await?;
    let b = active_block(&txn, id, now).await?;
    let before = block_row(b.clone())?;
    let mut row: defence_block::ActiveModel = b.into();
    change(&mut row, &before);
    let after = block_row(row.update(&txn).await?)?;
    audit::record(
        &txn,
        actor,
        action,
        &format!("{} {}", after.subject, after.target),
        Some(&before),
        Some(&serde_json::json!({ "block": after, "reason": reason })),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Proposal `id` if it still waits for a decision; otherwise why not, in
/// `outcome`.
async fn pending(
    db: &impl ConnectionTrait,
    id: i64,
    outcome: &mut BulkOutcome,
) -> Result<Option<defence_proposal::Model>, DbErr> {
    // Locked until the decision commits: a second analyst deciding the same
    // proposal at the same moment waits, then reads it as decided
    // (PostgreSQL; SQLite's write transactions are serial already).
    let skip = match defence_proposal::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
    {
        Some(p) if p.status == ProposalStatus::Pending => return Ok(Some(p)),
        Some(p) => (p.target, format!("already {}", p.status)),
        None => (format!("#{id}"), "no such proposal".into()),
    };
    outcome.skipped.push(skip);
    Ok(None)
}

async fn active_block(
    db: &impl ConnectionTrait,
    id: i64,
    now: i64,
) -> Result<defence_block::Model, AppError> {
    // Locked like a proposal in `pending`: one of two lifts wins.
    let b = defence_block::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Block {id}")))?;
    if b.lifted_at.is_some() || b.expires_at <= now {
        return Err(AppError::Conflict(format!(
            "Block {id} is no longer active."
        )));
    }
    Ok(b)
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
        assert_eq!(escalate(MINUTES_PER_DAY, 10), MAX_BLOCK_MINUTES);
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
