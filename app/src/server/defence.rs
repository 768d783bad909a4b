//! MailFlow defence in the database: block proposals as detection makes and
//! refreshes them, and blocks as they are approved. The ingest engine and
//! the security team's pages share these rules:
//!
//! - one pending proposal per subject: a new detection refreshes it;
//! - a subject already blocked, or whose proposal was rejected less than
//!   its suppression time ago, is not proposed again;
//! - a subject blocked before gets a longer block by default: the base
//!   duration doubles with each earlier block, up to [`MAX_BLOCK_MINUTES`];
//! - a block made by hand ([`block_by_hand`]) passes the same guardrails as
//!   an approval, and a subject has at most one active block.
//!
//! A proposal's evidence keeps when its attack started and the distinct
//! values its log lines named (`defence_proposal_detail`, at most
//! [`MAX_LISTED`] per list); [`history`] adds what is known of the subject
//! beyond one proposal, and [`search_blocks`] pages through blocks.

use super::audit::{self, Actor};
use super::auth::Staff;
use super::entities::defence_proposal::{self, ProposalStatus};
use super::entities::{defence_block, defence_policy, defence_proposal_detail, mailbox};
use super::tables::{MailMessage, MailSubjectHour};
use crate::errors::AppError;
use crate::model::{
    AccountContext, BlockPage, BlockRow, BulkOutcome, DETAIL_LISTS, DefenceState, DetailPage,
    HistoryProposal, ProposalRow, Role, SubjectHistory, SubjectKind,
};
use crate::pages::defence::server_texts as texts;
use crate::state::Guardrails;
use mailflow::detect::proposals::{Details, Listed, MAX_LISTED};
use mailflow::time::{DAY, HOUR, HOURS_PER_DAY, MINUTE, MINUTES_PER_DAY};
use sea_orm::sea_query::{Expr, Func, OnConflict, Order, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// The longest default block: thirty days.
pub const MAX_BLOCK_MINUTES: i64 = 30 * MINUTES_PER_DAY;

/// What detection found about one subject.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
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
    /// The subject's first event seen (0: unknown, `first_seen` stands).
    pub started: i64,
    /// The distinct values its log lines named.
    pub details: Details,
}

impl From<&mailflow::detect::Proposal> for Evidence {
    fn from(p: &mailflow::detect::Proposal) -> Self {
        Self {
            subject: p.subject,
            target: p.target.clone(),
            policy: p.policy.clone(),
            reasons: p.reasons.clone(),
            first_seen: p.first_seen,
            last_seen: p.last_seen,
            distinct_ips: p.distinct_ips,
            distinct_recipients: p.distinct_recipients,
            samples: p.samples.clone(),
            block_minutes: p.block_minutes,
            auto_approve: p.auto_approve,
            started: p.started,
            details: p.details.clone(),
        }
    }
}

impl Evidence {
    /// When the attack started: the first event, never after the firing.
    fn started_at(&self) -> i64 {
        match self.started {
            s if s > 0 => s.min(self.first_seen),
            _ => self.first_seen,
        }
    }

    /// Each detail list by its stored name.
    fn lists(&self) -> [(&'static str, &Listed); 4] {
        let d = &self.details;
        [
            ("ips", &d.ips),
            ("recipients", &d.recipients),
            ("helos", &d.helos),
            ("client_names", &d.client_names),
        ]
    }
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
        row.started_at = Set(Some(
            p.started_at.unwrap_or(p.first_seen).min(e.started_at()),
        ));
        let more = store_details(db, id, e, p.details_more.as_deref()).await?;
        row.details_more = Set(Some(more));
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
        started_at: Set(Some(e.started_at())),
        details_more: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let more = store_details(db, row.id, e, None).await?;
    let mut stored: defence_proposal::ActiveModel = row.clone().into();
    stored.details_more = Set(Some(more));
    let row = stored.update(db).await?;
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

/// Adds the evidence's detail values to proposal `id`'s lists, each list up
/// to [`MAX_LISTED`] stored values; the JSON of how many more were seen
/// beyond (merged with the `stored` one, the larger count of each).
async fn store_details(
    db: &impl ConnectionTrait,
    id: i64,
    e: &Evidence,
    stored: Option<&str>,
) -> Result<String, DbErr> {
    use defence_proposal_detail as d;
    let mut more: BTreeMap<String, u64> = stored
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    for (list, listed) in e.lists() {
        if listed.values.is_empty() && listed.more == 0 {
            continue;
        }
        let have = d::Entity::find()
            .filter(d::Column::ProposalId.eq(id))
            .filter(d::Column::List.eq(list))
            .count(db)
            .await? as usize;
        let room = MAX_LISTED.saturating_sub(have);
        let values: Vec<&String> = listed.values.iter().take(room).collect();
        for chunk in values.chunks(500) {
            let rows = chunk.iter().map(|v| d::ActiveModel {
                proposal_id: Set(id),
                list: Set(list.to_string()),
                value: Set(v.chars().take(320).collect()),
            });
            d::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([d::Column::ProposalId, d::Column::List, d::Column::Value])
                        .do_nothing()
                        .to_owned(),
                )
                .try_insert()
                .exec(db)
                .await?;
        }
        let now_stored = d::Entity::find()
            .filter(d::Column::ProposalId.eq(id))
            .filter(d::Column::List.eq(list))
            .count(db)
            .await?;
        // What this run saw and is not stored (at least).
        let m = more.entry(list.to_string()).or_default();
        *m = (*m).max(listed.total().saturating_sub(now_stored));
    }
    more.retain(|_, n| *n > 0);
    Ok(serde_json::to_string(&more).unwrap_or_else(|_| "{}".into()))
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
    let ids: Vec<i64> = pending.iter().map(|p| p.id).collect();
    let mut counts = detail_counts(db, &ids).await?;
    let mut proposals = Vec::with_capacity(pending.len());
    for p in pending {
        let more: BTreeMap<String, u64> = p
            .details_more
            .as_deref()
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or_default();
        let details = DETAIL_LISTS
            .iter()
            .map(|(list, _)| {
                let stored = counts.remove(&(p.id, list.to_string())).unwrap_or(0);
                (
                    list.to_string(),
                    stored + more.get(*list).copied().unwrap_or(0),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect();
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
            started: p.started_at.unwrap_or(p.first_seen),
            details,
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
        can_override: false,
    })
}

/// (proposal, list) → how many values are stored, for proposals `ids`.
async fn detail_counts(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<BTreeMap<(i64, String), u64>, DbErr> {
    use defence_proposal_detail as d;
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows: Vec<(i64, String, i64)> = d::Entity::find()
        .select_only()
        .column(d::Column::ProposalId)
        .column(d::Column::List)
        .column_as(d::Column::Value.count(), "n")
        .filter(d::Column::ProposalId.is_in(ids.iter().copied()))
        .group_by(d::Column::ProposalId)
        .group_by(d::Column::List)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, list, n)| ((id, list), u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// Values per page of a detail list.
pub const DETAIL_PAGE: u64 = 100;

/// Page `page` (from 0) of proposal `id`'s detail list `list`.
pub async fn detail_page(
    db: &impl ConnectionTrait,
    id: i64,
    list: &str,
    page: u64,
) -> Result<DetailPage, AppError> {
    use defence_proposal_detail as d;
    if !DETAIL_LISTS.iter().any(|(l, _)| *l == list) {
        return Err(AppError::Validation(texts().not_detail_list(list)));
    }
    let p = defence_proposal::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(texts().proposal_n(id)))?;
    let query = d::Entity::find()
        .filter(d::Column::ProposalId.eq(id))
        .filter(d::Column::List.eq(list));
    let stored = query.clone().count(db).await?;
    let pages = stored.div_ceil(DETAIL_PAGE).max(1);
    let page = page.min(pages - 1);
    let values = query
        .order_by_asc(d::Column::Value)
        .offset(page * DETAIL_PAGE)
        .limit(DETAIL_PAGE)
        .all(db)
        .await?
        .into_iter()
        .map(|v| v.value)
        .collect();
    let more = p
        .details_more
        .as_deref()
        .and_then(|m| serde_json::from_str::<BTreeMap<String, u64>>(m).ok())
        .and_then(|m| m.get(list).copied())
        .unwrap_or(0);
    Ok(DetailPage {
        values,
        stored,
        more,
        page,
        pages,
    })
}

/// The subject's earlier proposals and blocks, its rejects per day over
/// the last 30 days and, for an account, its mailbox, volume and logins.
pub async fn history(
    db: &impl ConnectionTrait,
    subject: SubjectKind,
    target: &str,
    now: i64,
) -> Result<SubjectHistory, AppError> {
    let proposals = defence_proposal::Entity::find()
        .filter(defence_proposal::Column::Subject.eq(subject.name()))
        .filter(defence_proposal::Column::Target.eq(target))
        .order_by_desc(defence_proposal::Column::CreatedAt)
        .order_by_desc(defence_proposal::Column::Id)
        .limit(50)
        .all(db)
        .await?
        .into_iter()
        .map(|p| HistoryProposal {
            id: p.id,
            policy: p.policy,
            status: p.status.to_string(),
            started: p.started_at.unwrap_or(p.first_seen),
            first_seen: p.first_seen,
            last_seen: p.last_seen,
            decided_by: p.decided_by,
            decided_at: p.decided_at,
            decision_reason: p.decision_reason,
        })
        .collect();
    let blocks = defence_block::Entity::find()
        .filter(defence_block::Column::Subject.eq(subject.name()))
        .filter(defence_block::Column::Target.eq(target))
        .order_by_desc(defence_block::Column::ApprovedAt)
        .order_by_desc(defence_block::Column::Id)
        .limit(50)
        .all(db)
        .await?
        .into_iter()
        .map(block_row)
        .collect::<Result<_, _>>()?;
    let today = now - now.rem_euclid(DAY);
    let mut rejects_by_day = BTreeMap::<i64, u64>::new();
    for (hour, n) in subject_hours(db, subject, target, today - 29 * DAY, None).await? {
        *rejects_by_day
            .entry(hour - hour.rem_euclid(DAY))
            .or_default() += n;
    }
    let account = match subject {
        SubjectKind::Account => Some(account_context(db, target, now).await?),
        SubjectKind::Ip => None,
    };
    Ok(SubjectHistory {
        proposals,
        blocks,
        rejects_by_day: rejects_by_day.into_iter().collect(),
        account,
    })
}

/// The hourly counters of `target` from `from` on: of series `series`, or
/// (`None`) of every reject class; (hour, count).
async fn subject_hours(
    db: &impl ConnectionTrait,
    subject: SubjectKind,
    target: &str,
    from: i64,
    series: Option<&str>,
) -> Result<Vec<(i64, u64)>, DbErr> {
    use MailSubjectHour as S;
    use sea_orm::sea_query::ExprTrait;
    let mut select = Query::select();
    select
        .column(S::Hour)
        .expr(super::tables::sum_of(S::N))
        .from(S::Table)
        .and_where(Expr::col(S::Kind).eq(subject.name()))
        .and_where(Expr::col(S::Subject).eq(target))
        .and_where(Expr::col(S::Hour).gte(from))
        .add_group_by([Expr::col(S::Hour)])
        .order_by(S::Hour, Order::Asc);
    match series {
        Some(s) => select.and_where(Expr::col(S::Series).eq(s)),
        None => select
            .and_where(Expr::col(S::Series).like(format!("{}%", mailflow::series::REJECT_PREFIX))),
    };
    let rows = db
        .query_all_raw(db.get_database_backend().build(&select))
        .await?;
    rows.into_iter()
        .map(|r| {
            let hour: i64 = r.try_get_by_index(0)?;
            let n: i64 = r.try_get_by_index(1)?;
            Ok((hour, u64::try_from(n).unwrap_or(0)))
        })
        .collect()
}

/// How many latest logins an account's evidence lists.
const LOGINS: u64 = 10;

async fn account_context(
    db: &impl ConnectionTrait,
    account: &str,
    now: i64,
) -> Result<AccountContext, AppError> {
    use sea_orm::sea_query::ExprTrait;
    let mailbox = mailbox::Entity::find()
        .filter(mailbox::Column::Address.eq(account.to_ascii_lowercase()))
        .filter(mailbox::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .map(|m| m.address);
    let today = now - now.rem_euclid(DAY);
    let received = mailflow::series::Series::Received.name();
    let hours = subject_hours(
        db,
        SubjectKind::Account,
        account,
        today - 14 * DAY,
        Some(received),
    )
    .await?;
    let before: u64 = hours
        .iter()
        .filter(|(h, _)| *h < today)
        .map(|(_, n)| n)
        .sum();
    let last_day = hours
        .iter()
        .filter(|(h, _)| *h >= now - DAY)
        .map(|(_, n)| n)
        .sum();
    let select = Query::select()
        .columns([MailMessage::FirstAt, MailMessage::ClientIp])
        .from(MailMessage::Table)
        .and_where(Expr::col(MailMessage::SaslUsername).eq(account))
        .and_where(Expr::col(MailMessage::FirstAt).gte(now - 30 * DAY))
        .order_by(MailMessage::FirstAt, Order::Desc)
        .limit(LOGINS)
        .to_owned();
    let logins = db
        .query_all_raw(db.get_database_backend().build(&select))
        .await?
        .into_iter()
        .map(|r| {
            let at: i64 = r.try_get_by_index(0)?;
            let ip: Option<String> = r.try_get_by_index(1)?;
            Ok((at, ip.unwrap_or_default()))
        })
        .collect::<Result<_, DbErr>>()?;
    Ok(AccountContext {
        mailbox,
        usual_per_day: before as f64 / 14.0,
        last_day,
        logins,
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
            .map_err(|_| AppError::Validation(texts().not_proposal_number(s)))?;
        if seen.insert(id) {
            list.push(id);
        }
        if list.len() > MAX_BULK {
            return Err(AppError::Validation(texts().at_most_bulk(MAX_BULK)));
        }
    }
    if list.is_empty() {
        return Err(AppError::Validation(texts().select_one().into()));
    }
    Ok(list)
}

fn required_reason(reason: &str) -> Result<String, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::Validation(texts().give_reason().into()));
    }
    Ok(reason.chars().take(500).collect())
}

fn checked_minutes(minutes: i64) -> Result<i64, AppError> {
    if !(1..=MAX_MINUTES).contains(&minutes) {
        return Err(AppError::Validation(
            texts().duration_range(MAX_MINUTES / MINUTES_PER_DAY),
        ));
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
        match guard.check(&txn, subject, &p.target, override_guard).await {
            Ok(()) => {}
            Err(AppError::Validation(why)) => {
                outcome.skipped.push((p.target, why));
                continue;
            }
            Err(e) => return Err(e),
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
        return Err(AppError::Validation(texts().suppress_range().into()));
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
    // Both sides are the block, so the audit page compares like with like
    // (the reason joins the block's fields after the change).
    let mut after_json = serde_json::to_value(&after).map_err(|_| AppError::Internal)?;
    if let (Some(reason), Some(fields)) = (reason, after_json.as_object_mut()) {
        fields.insert("reason".into(), reason.into());
    }
    audit::record(
        &txn,
        actor,
        action,
        &format!("{} {}", after.subject, after.target),
        Some(&before),
        Some(&after_json),
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
        Some(p) => {
            let t = texts();
            (p.target, t.already(&t.status(p.status.as_str())))
        }
        None => (format!("#{id}"), texts().no_such_proposal().into()),
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
        .ok_or_else(|| AppError::NotFound(texts().block_n(id)))?;
    if b.lifted_at.is_some() || b.expires_at <= now {
        return Err(AppError::Conflict(texts().no_longer_active(id)));
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

/// The longest reason a person may write: it goes to the audit log.
pub const MAX_REASON: usize = 500;

/// A block the security team makes by hand.
#[derive(Clone, Copy, Debug)]
pub struct ManualBlock<'a> {
    /// `ip` (an address or a CIDR network) or `account`.
    pub subject: &'a str,
    pub target: &'a str,
    pub minutes: i64,
    pub reason: &'a str,
    /// An admin blocks despite the guardrails.
    pub override_guard: bool,
}

/// A subject and target as typed: an IP address or network (written as
/// detection writes it: a single address without its `/32`), or an
/// account (lower case, no spaces or control characters).
pub fn parse_target(subject: &str, target: &str) -> Result<(SubjectKind, String), AppError> {
    let kind = SubjectKind::parse(subject.trim())
        .ok_or_else(|| AppError::Validation(texts().block_ip_or_account().into()))?;
    let target = target.trim();
    if target.is_empty() || target.len() > 320 {
        return Err(AppError::Validation(texts().give_target().into()));
    }
    let parsed = match kind {
        SubjectKind::Ip => {
            if let Ok(ip) = target.parse::<std::net::IpAddr>() {
                ip.to_string()
            } else {
                let net = target
                    .parse::<ipnet::IpNet>()
                    .map_err(|_| AppError::Validation(texts().not_ip(target)))?;
                let net = net.trunc();
                if net.prefix_len() == net.max_prefix_len() {
                    net.addr().to_string()
                } else {
                    net.to_string()
                }
            }
        }
        SubjectKind::Account => {
            if target
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == ',')
            {
                return Err(AppError::Validation(texts().not_account(target)));
            }
            target.to_lowercase()
        }
    };
    Ok((kind, parsed))
}

/// A reason: required and at most [`MAX_REASON`] characters.
fn bounded_reason(reason: &str) -> Result<String, AppError> {
    if reason.chars().count() > MAX_REASON {
        return Err(AppError::Validation(texts().reason_too_long(MAX_REASON)));
    }
    required_reason(reason)
}

/// Blocks a subject by hand, on behalf of `staff`: the guardrails of an
/// approval apply (only an admin overrides them); a subject already under
/// an active block is refused (naming it), even when two people block it
/// at the same moment. Audited as `block.add`.
pub async fn block_by_hand(
    db: &DatabaseConnection,
    staff: &Staff,
    guard: &Guardrails,
    block: &ManualBlock<'_>,
    now: i64,
) -> Result<BlockRow, AppError> {
    let (kind, target) = parse_target(block.subject, block.target)?;
    let reason = bounded_reason(block.reason)?;
    let minutes = checked_minutes(block.minutes)?;
    if block.override_guard && !staff.roles.contains(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    guard.check(db, kind, &target, block.override_guard).await?;
    let actor = staff.actor();
    let txn = crate::server::retry::begin_write(db).await?;
    // Two people blocking one subject at once: the second waits here for
    // the first to commit, then finds its block (SQLite's write
    // transactions are serial already).
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [format!("block {} {target}", kind.name()).into()],
        ))
        .await?;
    }
    if let Some(b) = active_block_of(&txn, kind, &target, now).await? {
        return Err(AppError::Conflict(texts().already_blocked(&target, b.id)));
    }
    let b = defence_block::ActiveModel {
        subject: Set(kind.name().into()),
        target: Set(target.clone()),
        proposal_id: Set(None),
        reason: Set(reason.clone()),
        approved_by: Set(actor.name.clone()),
        approved_at: Set(now),
        expires_at: Set(now + minutes * MINUTE),
        lifted_by: Set(None),
        lifted_at: Set(None),
        hits: Set(0),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let row = block_row(b)?;
    audit::record(
        &txn,
        &actor,
        "block.add",
        &format!("{} {target}", kind.name()),
        None::<&()>,
        Some(&serde_json::json!({
            "block": row.id,
            "minutes": minutes,
            "expires_at": row.expires_at,
            "reason": reason,
            "override_guard": block.override_guard,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// The active block of a subject, if any (the latest).
async fn active_block_of(
    db: &impl ConnectionTrait,
    kind: SubjectKind,
    target: &str,
    now: i64,
) -> Result<Option<defence_block::Model>, DbErr> {
    defence_block::Entity::find()
        .filter(defence_block::Column::Subject.eq(kind.name()))
        .filter(defence_block::Column::Target.eq(target))
        .filter(defence_block::Column::LiftedAt.is_null())
        .filter(defence_block::Column::ExpiresAt.gt(now))
        .order_by_desc(defence_block::Column::ExpiresAt)
        .one(db)
        .await
}

/// The active block of mailbox `address`'s account, for its mailbox page;
/// `NotFound` if there is no such mailbox.
pub async fn mailbox_block(
    db: &impl ConnectionTrait,
    address: &str,
    now: i64,
) -> Result<Option<BlockRow>, AppError> {
    let address = address.trim().to_lowercase();
    mailbox::Entity::find()
        .filter(mailbox::Column::Address.eq(&address))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(texts().mailbox_n(&address)))?;
    Ok(active_block_of(db, SubjectKind::Account, &address, now)
        .await?
        .map(block_row)
        .transpose()?)
}

/// Which blocks a search wants, by state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockState {
    All,
    Active,
    /// Lifted or expired.
    Ended,
}

impl BlockState {
    pub fn parse(s: &str) -> Result<Self, AppError> {
        match s.trim() {
            "" | "all" => Ok(Self::All),
            "active" => Ok(Self::Active),
            "ended" => Ok(Self::Ended),
            other => Err(AppError::Validation(texts().not_block_state(other))),
        }
    }
}

/// A search of the blocks.
#[derive(Clone, Debug)]
pub struct BlockQuery {
    /// Part of the target (address, network or account).
    pub text: String,
    /// Part of the name of who made it.
    pub by: String,
    pub state: BlockState,
    /// Made within `[from, to)` (Unix seconds), when given.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub page: u64,
}

/// Blocks per page of a search.
pub const BLOCK_PAGE: u64 = 50;

/// A `YYYY-MM-DD` date as the Unix second it begins (UTC); empty: none.
pub fn parse_day(s: &str) -> Result<Option<i64>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let day = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| AppError::Validation(texts().not_date(s)))?;
    Ok(Some(
        day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp(),
    ))
}

/// `text` for a LIKE pattern, its wildcards taken literally.
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// One page of the blocks matching `q`, newest first.
pub async fn search_blocks(
    db: &impl ConnectionTrait,
    q: &BlockQuery,
    now: i64,
) -> Result<BlockPage, AppError> {
    use defence_block::Column as C;
    use sea_orm::sea_query::ExprTrait;
    if q.text.chars().count() > 320 || q.by.chars().count() > 64 {
        return Err(AppError::Validation(texts().search_too_long().into()));
    }
    let mut cond = Condition::all();
    let like = |col: C, text: &str| {
        Expr::expr(Func::lower(Expr::col(col))).like(
            sea_orm::sea_query::LikeExpr::new(like_escaped(&text.trim().to_lowercase()))
                .escape('\\'),
        )
    };
    if !q.text.trim().is_empty() {
        cond = cond.add(like(C::Target, &q.text));
    }
    if !q.by.trim().is_empty() {
        cond = cond.add(like(C::ApprovedBy, &q.by));
    }
    let active = Condition::all()
        .add(C::LiftedAt.is_null())
        .add(C::ExpiresAt.gt(now));
    cond = match q.state {
        BlockState::All => cond,
        BlockState::Active => cond.add(active),
        BlockState::Ended => cond.add(active.not()),
    };
    if let Some(from) = q.from {
        cond = cond.add(C::ApprovedAt.gte(from));
    }
    if let Some(to) = q.to {
        cond = cond.add(C::ApprovedAt.lt(to));
    }
    let query = defence_block::Entity::find().filter(cond);
    let total = query.clone().count(db).await?;
    let pages = Ord::max(total.div_ceil(BLOCK_PAGE), 1);
    let page = Ord::min(q.page, pages - 1);
    let rows = query
        .order_by_desc(C::ApprovedAt)
        .order_by_desc(C::Id)
        .offset(page * BLOCK_PAGE)
        .limit(BLOCK_PAGE)
        .all(db)
        .await?
        .into_iter()
        .map(block_row)
        .collect::<Result<_, _>>()?;
    Ok(BlockPage {
        rows,
        total,
        page,
        pages,
        now,
    })
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
    fn targets_are_read_once_and_nonsense_is_refused() {
        let ok = |s, t| parse_target(s, t).unwrap().1;
        assert_eq!(ok("ip", " 192.0.2.7 "), "192.0.2.7");
        assert_eq!(ok("ip", "192.0.2.7/32"), "192.0.2.7");
        assert_eq!(ok("ip", "192.0.2.77/24"), "192.0.2.0/24");
        assert_eq!(ok("ip", "2001:db8::1/48"), "2001:db8::/48");
        assert_eq!(
            ok("account", "Ana17@Cliente.com.br"),
            "ana17@cliente.com.br"
        );
        for (s, t) in [
            ("ip", "192.0.2.0/33"),
            ("ip", "300.1.2.3"),
            ("ip", ""),
            ("account", "a b"),
            ("host", "x"),
        ] {
            assert!(parse_target(s, t).is_err(), "{s} {t}");
        }
        assert!(bounded_reason(&"x".repeat(MAX_REASON + 1)).is_err());
        assert!(bounded_reason("  ").is_err());
        assert_eq!(like_escaped("a%b_c"), "%a\\%b\\_c%");
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
