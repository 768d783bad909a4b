//! Mailgraph (roles `manager`, `security` and `admin`): mail-flow charts
//! and the pflogsumm-like report.

use crate::errors::AppError;
use crate::model::{ChartData, ChartFilters, ChartQuery, MailReport};
use leptos::prelude::*;

/// The series of a chart (see `server::mailgraph::chart`).
#[server(endpoint = "mailgraph/chart", output = crate::api::TextJson)]
pub async fn load_chart(query: ChartQuery) -> Result<ChartData, AppError> {
    use crate::{model::Section, server::auth::require, state::app_state};
    require(Section::Charts.roles()).await?;
    let state = app_state()?;
    let now = chrono::Utc::now().timestamp();
    crate::server::mailgraph::chart(&state.db, &state.mailgraph, &query, now).await
}

/// The hosts and hosted domains a chart can be narrowed to.
#[server(endpoint = "mailgraph/filters", output = crate::api::TextJson)]
pub async fn load_chart_filters() -> Result<ChartFilters, AppError> {
    use crate::{model::Section, server::auth::require, state::app_state};
    require(Section::Charts.roles()).await?;
    let state = app_state()?;
    let now = chrono::Utc::now().timestamp();
    crate::server::mailgraph::filters(&state.db, now).await
}

/// The report of `preset` (`today`, `yesterday`, `week`: the last seven
/// days with today) or, when it is empty, of `[from, to)` (Unix seconds).
#[server(endpoint = "mailgraph/report", output = crate::api::TextJson)]
pub async fn load_report(
    #[server(default)] preset: String,
    #[server(default)] from: i64,
    #[server(default)] to: i64,
) -> Result<MailReport, AppError> {
    use crate::{model::Section, server::auth::require, state::app_state};
    require(Section::Charts.roles()).await?;
    let state = app_state()?;
    let now = chrono::Utc::now().timestamp();
    let (from, to) = crate::server::report::resolve(&state.mailgraph, &preset, from, to, now)?;
    let range = crate::server::report::check_range(from, to)?;
    crate::server::report::report(&state.db, &state.mailgraph, range.from(), range.to(), now).await
}
