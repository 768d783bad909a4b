//! MailFlow defence (roles `security` and `admin`): the proposal queue,
//! approving and rejecting, each proposal's evidence (its detail lists and
//! the subject's history), blocks made by hand, and the blocks in force,
//! searched. Overriding the guardrails (customer pools, wide networks) is
//! for admins only. One function is for support too: whether a mailbox's
//! account is blocked, for its mailbox page.

use crate::errors::AppError;
use crate::model::{BlockPage, BlockRow, BulkOutcome, DefenceState, DetailPage};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::{model::Section, server::auth::require, server::defence, state::app_state};

#[cfg(feature = "ssr")]
fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Pending proposals, active blocks and those ended in the last week.
#[server(endpoint = "defence/overview", output = crate::api::TextJson)]
pub async fn defence_overview() -> Result<DefenceState, AppError> {
    let me = require(Section::MailFlow.roles()).await?;
    let state = app_state()?;
    let mut overview = defence::overview(&state.db, &state.guardrails, now()).await?;
    overview.can_override = me.roles.contains(crate::model::Role::Admin);
    Ok(overview)
}

/// Page `page` (from 0) of proposal `id`'s detail list `list` (`ips`,
/// `recipients`, `helos`, `client_names`).
#[server(endpoint = "defence/details", output = crate::api::TextJson)]
pub async fn proposal_details(
    id: i64,
    list: String,
    #[server(default)] page: u64,
) -> Result<DetailPage, AppError> {
    require(Section::MailFlow.roles()).await?;
    defence::detail_page(&app_state()?.db, id, &list, page).await
}

/// A subject's earlier proposals and blocks, rejects per day and, for an
/// account, its mailbox, usual volume and latest logins.
#[server(endpoint = "defence/history", output = crate::api::TextJson)]
pub async fn subject_history(
    subject: String,
    target: String,
) -> Result<crate::model::SubjectHistory, AppError> {
    require(Section::MailFlow.roles()).await?;
    let (kind, target) = defence::parse_target(&subject, &target)?;
    defence::history(&app_state()?.db, kind, &target, now()).await
}

/// Blocks an IP address, a network or an account by hand for `minutes`
/// (a preset) or, with `minutes` = `custom`, for `custom_minutes`.
#[server(endpoint = "defence/block", output = crate::api::TextJson)]
pub async fn add_block(
    subject: String,
    target: String,
    minutes: String,
    #[server(default)] custom_minutes: String,
    #[server(default)] reason: String,
    #[server(default)] override_guard: bool,
) -> Result<BlockRow, AppError> {
    let me = require(Section::MailFlow.roles()).await?;
    let state = app_state()?;
    let text = match minutes.trim() {
        "custom" => custom_minutes.trim(),
        preset => preset,
    };
    let minutes = text.parse::<i64>().map_err(|_| {
        AppError::Validation(crate::pages::defence::server_texts().not_minutes(text))
    })?;
    let block = defence::ManualBlock {
        subject: &subject,
        target: &target,
        minutes,
        reason: &reason,
        override_guard,
    };
    defence::block_by_hand(&state.db, &me, &state.guardrails, &block, now()).await
}

/// Blocks matching a search, newest first, a page at a time: part of the
/// target (`text`), of who made it (`by`), `state` (all, active, ended),
/// made from day `from` to day `to` (YYYY-MM-DD, both included).
#[server(endpoint = "defence/blocks", output = crate::api::TextJson)]
pub async fn search_blocks(
    #[server(default)] text: String,
    #[server(default)] by: String,
    #[server(default)] state: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] page: u64,
) -> Result<BlockPage, AppError> {
    require(Section::MailFlow.roles()).await?;
    let query = defence::BlockQuery {
        text,
        by,
        state: defence::BlockState::parse(&state)?,
        from: defence::parse_day(&from)?,
        to: defence::parse_day(&to)?.map(|d| d + mailflow::time::DAY),
        page,
    };
    defence::search_blocks(&app_state()?.db, &query, now()).await
}

/// The active block of mailbox `address`'s account, if any (support sees
/// it on the mailbox page).
#[server(endpoint = "defence/mailbox_block", output = crate::api::TextJson)]
pub async fn mailbox_block(address: String) -> Result<Option<BlockRow>, AppError> {
    use crate::model::Role;
    require(&[Role::Support, Role::Security, Role::Admin]).await?;
    defence::mailbox_block(&app_state()?.db, &address, now()).await
}

/// Approves the proposals `ids` (comma separated). `minutes` empty: each
/// one's default length (longer for repeat offenders).
#[server(endpoint = "defence/approve", output = crate::api::TextJson)]
pub async fn approve_proposals(
    ids: String,
    #[server(default)] minutes: String,
    #[server(default)] reason: String,
    #[server(default)] override_guard: bool,
) -> Result<BulkOutcome, AppError> {
    let me = require(Section::MailFlow.roles()).await?;
    let state = app_state()?;
    let minutes = match minutes.trim() {
        "" => None,
        m => Some(m.parse().map_err(|_| {
            AppError::Validation(crate::pages::defence::server_texts().not_minutes(m))
        })?),
    };
    let ids = defence::parse_ids(&ids)?;
    let approval = defence::Approval {
        ids: &ids,
        minutes,
        reason: &reason,
        override_guard,
    };
    defence::approve_many(&state.db, &me, &state.guardrails, &approval, now()).await
}

/// Rejects the proposals `ids` (comma separated); their subjects are not
/// proposed again for `suppress_hours`.
#[server(endpoint = "defence/reject", output = crate::api::TextJson)]
pub async fn reject_proposals(
    ids: String,
    #[server(default)] reason: String,
    suppress_hours: i64,
) -> Result<BulkOutcome, AppError> {
    let me = require(Section::MailFlow.roles()).await?;
    let ids = defence::parse_ids(&ids)?;
    defence::reject_many(
        &app_state()?.db,
        &me.actor(),
        &ids,
        &reason,
        suppress_hours,
        now(),
    )
    .await
}

/// Ends a block now.
#[server(endpoint = "defence/lift", output = crate::api::TextJson)]
pub async fn lift_block(id: i64, #[server(default)] reason: String) -> Result<BlockRow, AppError> {
    let me = require(Section::MailFlow.roles()).await?;
    defence::lift(&app_state()?.db, &me.actor(), id, &reason, now()).await
}

/// Lengthens a block.
#[server(endpoint = "defence/extend", output = crate::api::TextJson)]
pub async fn extend_block(id: i64, minutes: i64) -> Result<BlockRow, AppError> {
    let me = require(Section::MailFlow.roles()).await?;
    defence::extend(&app_state()?.db, &me.actor(), id, minutes, now()).await
}

/// The detection policies and the allowlist.
#[server(endpoint = "defence/settings", output = crate::api::TextJson)]
pub async fn detection_settings() -> Result<crate::model::DetectionSettings, AppError> {
    require(Section::MailFlow.roles()).await?;
    crate::server::detection::settings(&app_state()?.db).await
}

/// Changes one policy's numbers; changing its auto-approval is for admins.
#[server(endpoint = "defence/save_policy", output = crate::api::TextJson)]
#[allow(clippy::too_many_arguments)]
pub async fn save_policy(
    id: i32,
    window_minutes: i32,
    threshold: i64,
    #[server(default)] burst_factor: String,
    block_minutes: i32,
    #[server(default)] enabled: bool,
    #[server(default)] auto_approve: bool,
) -> Result<crate::model::PolicyRow, AppError> {
    use crate::server::detection::{self, PolicyChange};
    let me = require(Section::MailFlow.roles()).await?;
    let burst_factor = match burst_factor.trim() {
        "" => None,
        f => Some(f.parse::<f64>().map_err(|_| {
            AppError::Validation(crate::pages::defence::server_texts().not_number(f))
        })?),
    };
    let change = PolicyChange {
        id,
        window_minutes,
        threshold,
        burst_factor,
        block_minutes,
        enabled,
        auto_approve,
    };
    detection::save_policy(&app_state()?.db, &me, change, now()).await
}

/// Never proposes `target` (`subject` ip: an address or network; account).
/// A wide network or one in a customer pool needs an admin's override.
#[server(endpoint = "defence/allow_add", output = crate::api::TextJson)]
pub async fn allow_add(
    subject: String,
    target: String,
    #[server(default)] note: String,
    #[server(default)] override_guard: bool,
) -> Result<crate::model::AllowRow, AppError> {
    use crate::server::detection::{Allowance, allow};
    let me = require(Section::MailFlow.roles()).await?;
    let state = app_state()?;
    let allowance = Allowance {
        subject: &subject,
        target: &target,
        note: &note,
        override_guard,
    };
    allow(&state.db, &me, &state.guardrails, allowance, now()).await
}

#[server(endpoint = "defence/allow_remove", output = crate::api::TextJson)]
pub async fn allow_remove(id: i32) -> Result<(), AppError> {
    let me = require(Section::MailFlow.roles()).await?;
    crate::server::detection::disallow(&app_state()?.db, &me.actor(), id).await
}
