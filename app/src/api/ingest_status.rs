//! MailFlow: the ingest engine's state (role `admin`).

use crate::errors::AppError;
use crate::model::IngestOverview;
use leptos::prelude::*;

/// Live sources and stored checkpoints, newest first.
#[server(endpoint = "mailflow/ingest_status", output = crate::api::TextJson)]
pub async fn ingest_status() -> Result<IngestOverview, AppError> {
    use crate::{model::Section, server::auth::require, state::app_state};
    require(Section::Admin.roles()).await?;
    let state = app_state()?;
    let sources = state
        .ingest
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let checkpoints = crate::server::ingest_status::checkpoints(&state.db).await?;
    Ok(IngestOverview {
        sources,
        checkpoints,
        now: chrono::Utc::now().timestamp(),
    })
}
