//! What-if for a detection policy (roles `security` and `admin`): what its
//! edited numbers would have proposed over the last days' counters,
//! compared with its current ones, before anyone saves them (see
//! `crate::server::whatif` and `mailflow::detect::whatif`).

use crate::errors::AppError;
use crate::model::SubjectKind;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One subject that crosses one rule and not the other.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatIfSubject {
    pub subject: String,
    /// Its largest count in one window over the replayed days…
    pub peak: u64,
    /// …in the window starting at this hour.
    pub peak_at: i64,
    /// The first hour of the first window that crossed.
    pub first_at: i64,
}

/// A replay's answer: the edited rule against the current one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatIfResult {
    pub policy: String,
    pub subject: SubjectKind,
    pub days: i64,
    /// The first replayed hour.
    pub since: i64,
    /// The windows as replayed (minutes rounded up to whole hours).
    pub current_window_hours: i64,
    pub edited_window_hours: i64,
    /// Would be proposed with the edited numbers only (at most 100 listed).
    pub now_proposed: Vec<WhatIfSubject>,
    pub now_proposed_total: u64,
    /// Would be proposed with the current numbers only (at most 100 listed).
    pub no_longer: Vec<WhatIfSubject>,
    pub no_longer_total: u64,
    /// Proposed with both.
    pub unchanged: u64,
    /// Subjects replayed.
    pub subjects: u64,
    /// The counters were too many: only part of them were replayed.
    pub truncated: bool,
}

/// Replays the last `days` days (1–30) of hourly counters through policy
/// `id` with the edited `window_minutes`, `threshold` and `burst_factor`
/// (empty: none), and through its current numbers. Nothing is saved.
#[server(endpoint = "defence/what_if", output = crate::api::TextJson)]
pub async fn what_if(
    id: i32,
    window_minutes: String,
    threshold: String,
    #[server(default)] burst_factor: String,
    days: String,
) -> Result<WhatIfResult, AppError> {
    use crate::{model::Section, server::auth::require, server::whatif, state::app_state};
    require(Section::MailFlow.roles()).await?;
    let edit = whatif::Edit {
        policy: id,
        window_minutes: &window_minutes,
        threshold: &threshold,
        burst_factor: &burst_factor,
        days: &days,
    };
    whatif::what_if(&app_state()?.db, edit, chrono::Utc::now().timestamp()).await
}
