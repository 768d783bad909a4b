//! The "Unclassified rejects" page's server functions (roles `security`
//! and `admin`): the rejects no rule classified, a rule made from one
//! previewed over them, and saved (see `crate::server::unclassified`).

use crate::errors::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{model::Section, server::auth::require, server::unclassified, state::app_state};

/// The longest pattern a rule may have (`mailflow::count::MAX_PATTERN`,
/// which the browser build does not have): the page refuses longer ones
/// before sending them.
pub const MAX_PATTERN_LEN: usize = 2000;

/// One stored text as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnclassifiedRow {
    pub id: i64,
    pub text: String,
    pub n: u64,
    /// Unix seconds.
    pub first_at: i64,
    pub last_at: i64,
    pub samples: Vec<String>,
    /// A rule made from it: its class name and pattern, to edit.
    pub suggested_class: String,
    pub suggested_pattern: String,
}

/// A page of the list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UnclassifiedPage {
    pub rows: Vec<UnclassifiedRow>,
    pub page: u64,
    /// Texts still unclassified, all pages.
    pub total: u64,
    pub page_rows: u64,
}

/// What a rule would have matched among the stored texts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RulePreview {
    /// Stored texts one of whose sample lines it matches.
    pub texts: u64,
    /// Their rejects, all counted.
    pub rejects: u64,
    /// The most frequent of them (at most 10).
    pub examples: Vec<String>,
}

/// The rule as saved and what it classified at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedRule {
    pub class: String,
    pub pattern: String,
    pub position: i32,
    pub preview: RulePreview,
}

/// Page `page` (from 0) of the unclassified reject texts, most frequent
/// first.
#[server(endpoint = "unclassified/list", output = crate::api::TextJson)]
pub async fn unclassified_rejects(page: u64) -> Result<UnclassifiedPage, AppError> {
    require(Section::MailFlow.roles()).await?;
    Ok(unclassified::list(&app_state()?.db, page).await?)
}

/// How many stored unclassified rejects a rule would have matched; an
/// invalid rule is a validation error saying what to fix.
#[server(endpoint = "unclassified/preview", output = crate::api::TextJson)]
pub async fn preview_reject_rule(class: String, pattern: String) -> Result<RulePreview, AppError> {
    require(Section::MailFlow.roles()).await?;
    unclassified::preview(&app_state()?.db, &class, &pattern).await
}

/// Saves a reject rule after all the others (audited); the ingest uses it
/// from its next read of the rules.
#[server(endpoint = "unclassified/save", output = crate::api::TextJson)]
pub async fn save_reject_rule(class: String, pattern: String) -> Result<SavedRule, AppError> {
    let me = require(Section::MailFlow.roles()).await?;
    unclassified::save(&app_state()?.db, &me.actor(), &class, &pattern).await
}
