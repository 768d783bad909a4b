//! Browsing the audit log (role `admin`).

use crate::errors::AppError;
use crate::model::{AuditPage, AuditQuery};
use leptos::prelude::*;

#[server(endpoint = "audit/list", output = crate::api::TextJson)]
pub async fn list_audit(query: AuditQuery) -> Result<AuditPage, AppError> {
    use crate::{model::Section, server::auth::require, state::app_state};
    require(Section::Admin.roles()).await?;
    crate::server::audit::search(&app_state()?.db, &query).await
}
