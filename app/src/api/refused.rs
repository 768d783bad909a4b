//! The "refused by blocks" series of the Charts page (roles `manager`,
//! `security` and `admin`, like every chart).

use crate::errors::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Policy requests refused by blocks, in buckets of `step` seconds from
/// `from`, per kind of block.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedSeries {
    pub from: i64,
    pub step: i64,
    /// Refused by a block of the client's IP address or network.
    pub ip: Vec<u64>,
    /// Refused by a block of the SASL account.
    pub account: Vec<u64>,
}

/// The refusals of `[from, to)` in buckets of `step` seconds (a main
/// chart's `from`, `to` and `step`: the two line up). See
/// `server::refused::check` for the bounds.
#[server(endpoint = "mailgraph/refused", output = crate::api::TextJson)]
pub async fn load_refused(from: i64, to: i64, step: i64) -> Result<RefusedSeries, AppError> {
    use crate::{model::Section, server::auth::require, state::app_state};
    require(Section::Charts.roles()).await?;
    let state = app_state()?;
    crate::server::refused::check(crate::server::locale::request_lang(), from, to, step)?;
    crate::server::refused::series(&state.db, from, to, step).await
}
