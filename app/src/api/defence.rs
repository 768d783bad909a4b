//! MailFlow defence (roles `security` and `admin`): the proposal queue,
//! approving and rejecting, and the blocks in force. Overriding the
//! guardrails (customer pools, wide networks) is for admins only.

use crate::errors::AppError;
use crate::model::{BlockRow, BulkOutcome, DefenceState};
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
    require(Section::MailFlow.roles()).await?;
    let state = app_state()?;
    Ok(defence::overview(&state.db, &state.guardrails, now()).await?)
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
        m => Some(
            m.parse()
                .map_err(|_| AppError::Validation(format!("{m:?} is not a number of minutes.")))?,
        ),
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
        f => Some(
            f.parse::<f64>()
                .map_err(|_| AppError::Validation(format!("{f:?} is not a number.")))?,
        ),
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
