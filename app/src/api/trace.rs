//! Message trace (roles `support`, `security` and `admin`): what happened
//! to a message.

use crate::errors::AppError;
use crate::model::TraceResult;
use leptos::prelude::*;

/// Messages matching the search first seen in the `hours` before now (or
/// before `until`, a Unix time): `q` is a queue id, a message-id, an
/// address, or two addresses (sender, then recipient); `sender` and
/// `recipient` narrow it (or are the search), and so does `status`
/// (`all`, `sent`, `deferred`, `bounced`, `rejected`).
#[server(endpoint = "trace/search", output = crate::api::TextJson)]
pub async fn trace_messages(
    #[server(default)] q: String,
    #[server(default)] hours: i64,
    #[server(default)] until: Option<i64>,
    #[server(default)] sender: String,
    #[server(default)] recipient: String,
    #[server(default)] status: String,
) -> Result<TraceResult, AppError> {
    crate::server::auth::require(crate::model::TRACE_ROLES).await?;
    let lang = crate::server::locale::request_lang();
    let t = crate::pages::trace::TraceTexts(lang);
    let until = until.unwrap_or_else(|| chrono::Utc::now().timestamp());
    // A real date, so that the hours before it cannot wrap.
    use crate::server::mailgraph::{EARLIEST, LATEST};
    if !(EARLIEST..=LATEST).contains(&until) {
        return Err(AppError::field("until", t.err_until()));
    }
    let status = match status.trim() {
        "" => Default::default(),
        s => s
            .parse()
            .map_err(|_| AppError::field("status", t.err_status()))?,
    };
    let query = crate::model::TraceQuery {
        q,
        sender,
        recipient,
        status,
        hours,
    };
    crate::server::trace::trace(&crate::state::app_state()?.db, &query, until, lang).await
}
