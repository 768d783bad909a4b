//! Detection beyond single subjects (roles `security` and `admin`): the
//! alerts raised when the whole server's SASL failures or rejects of one
//! class jump far above their usual rate, which analysts acknowledge; and
//! the never-block networks, which analysts see and only admins change.

use crate::errors::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{
    model::{Role, Section},
    server::auth::require,
    state::app_state,
};

/// An alert as the MailFlow page shows it. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRow {
    pub id: i64,
    /// `sasl_failures` or `reject.<class>`.
    pub kind: String,
    /// The kind in words.
    pub label: String,
    pub since: i64,
    pub last_seen: i64,
    /// The highest count in one window while it lasted.
    pub count: i64,
    /// The usual count per window.
    pub usual: f64,
    /// How many times the usual.
    pub ratio: f64,
    pub window_minutes: i64,
    pub open: bool,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<i64>,
}

/// A network never to be blocked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeverBlockRow {
    pub id: i32,
    pub network: String,
    pub note: String,
    pub created_by: String,
    pub created_at: i64,
}

#[cfg(feature = "ssr")]
fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The open alerts, then the last ones acknowledged.
#[server(endpoint = "defence/alerts", output = crate::api::TextJson)]
pub async fn alerts() -> Result<Vec<AlertRow>, AppError> {
    require(Section::MailFlow.roles()).await?;
    Ok(crate::server::alerts::list(&app_state()?.db).await?)
}

/// Marks an alert as seen.
#[server(endpoint = "defence/alert_ack", output = crate::api::TextJson)]
pub async fn acknowledge_alert(id: i64) -> Result<AlertRow, AppError> {
    let me = require(Section::MailFlow.roles()).await?;
    crate::server::alerts::acknowledge(&app_state()?.db, &me.actor(), id, now()).await
}

/// The never-block networks.
#[server(endpoint = "defence/never_block", output = crate::api::TextJson)]
pub async fn never_block() -> Result<Vec<NeverBlockRow>, AppError> {
    require(Section::MailFlow.roles()).await?;
    Ok(crate::server::detection::never_block_list(&app_state()?.db).await?)
}

/// Lists a network as never to be blocked (admins only).
#[server(endpoint = "defence/never_block_add", output = crate::api::TextJson)]
pub async fn never_block_add(
    network: String,
    #[server(default)] note: String,
) -> Result<NeverBlockRow, AppError> {
    let me = require(&[Role::Admin]).await?;
    crate::server::detection::add_never_block(&app_state()?.db, &me.actor(), &network, &note, now())
        .await
}

/// Takes a network off the never-block list (admins only).
#[server(endpoint = "defence/never_block_remove", output = crate::api::TextJson)]
pub async fn never_block_remove(id: i32) -> Result<(), AppError> {
    let me = require(&[Role::Admin]).await?;
    crate::server::detection::remove_never_block(&app_state()?.db, &me.actor(), id).await
}
