//! Message trace (roles `support` and `admin`): what happened to a message.

use crate::errors::AppError;
use crate::model::TraceResult;
use leptos::prelude::*;

/// Messages matching `q` (queue id, message-id or address) first seen in
/// the `hours` before now (or before `until`, a Unix time).
#[server(endpoint = "trace/search", output = crate::api::TextJson)]
pub async fn trace_messages(
    q: String,
    #[server(default)] hours: i64,
    #[server(default)] until: Option<i64>,
) -> Result<TraceResult, AppError> {
    crate::server::auth::require(crate::server::provision::SUPPORT).await?;
    let until = until.unwrap_or_else(|| chrono::Utc::now().timestamp());
    // A real date, so that the hours before it cannot wrap.
    use crate::server::mailgraph::{EARLIEST, LATEST};
    if !(EARLIEST..=LATEST).contains(&until) {
        return Err(AppError::field(
            "until",
            "Choose a date between 1970 and 2099.",
        ));
    }
    let hours = if hours == 0 { 24 } else { hours };
    crate::server::trace::trace(&crate::state::app_state()?.db, &q, until, hours).await
}
