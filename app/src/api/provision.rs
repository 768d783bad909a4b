//! Configurador reads (roles `support` and `admin`): mailbox and alias
//! search, one mailbox with its history, the domains, and the bulk CSV
//! import. API tokens are for admins. The changes themselves are the
//! request server functions in `crate::provision`.

use crate::errors::AppError;
use crate::provision::{
    AliasPage, DomainView, ImportJob, IssuedToken, MailboxOverview, MailboxPage, TokenView,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::{
    server::auth::require,
    server::provision::{ADMIN, SUPPORT, lookup, search, tokens},
    state::app_state,
};

/// One page of mailboxes matching `q`: the start of an address, one of
/// our domains, or words of the name — `by` (`address`, `domain`, `name`)
/// or, empty, the query itself decides (the page says which).
#[server(endpoint = "provision/mailboxes", output = crate::api::TextJson)]
pub async fn search_mailboxes(
    #[server(default)] q: String,
    #[server(default)] by: String,
    #[server(default)] domain: String,
    #[server(default)] status: String,
    #[server(default)] after: Option<String>,
) -> Result<MailboxPage, AppError> {
    require(SUPPORT).await?;
    let query = search::MailboxSearch {
        q,
        by: search::parse_by(&by)?,
        domain,
        status,
        after,
    };
    search::mailboxes(&app_state()?.db, &query).await
}

/// One mailbox with what points at it, its blocks and its newest history.
#[server(endpoint = "provision/mailbox", output = crate::api::TextJson)]
pub async fn mailbox_detail(address: String) -> Result<MailboxOverview, AppError> {
    require(SUPPORT).await?;
    if address.len() > search::MAX_QUERY {
        return Err(AppError::NotFound(address.chars().take(64).collect()));
    }
    lookup::mailbox_detail(&app_state()?.db, &address, chrono::Utc::now().timestamp()).await
}

/// One page of aliases whose address starts with `q`.
#[server(endpoint = "provision/aliases", output = crate::api::TextJson)]
pub async fn search_aliases(
    #[server(default)] q: String,
    #[server(default)] domain: String,
    #[server(default)] after: Option<String>,
) -> Result<AliasPage, AppError> {
    require(SUPPORT).await?;
    search::aliases(&app_state()?.db, &q, &domain, after.as_deref()).await
}

/// Every domain; with mailbox and alias counts when `counts`.
#[server(endpoint = "provision/domains", output = crate::api::TextJson)]
pub async fn list_domains(#[server(default)] counts: bool) -> Result<Vec<DomainView>, AppError> {
    require(SUPPORT).await?;
    search::domains(&app_state()?.db, counts).await
}

/// Starts importing mailboxes and aliases from CSV text (a preview with
/// `dry_run`) as a background job; answers when it is done or after a few
/// seconds, whichever is first (then poll [`import_status`]). With
/// `fingerprint` (a clean preview's), an import runs only if that preview
/// was of this same text. The page uploads files as multipart instead
/// (`/api/provision/import_upload`), which always requires the preview.
#[server(endpoint = "provision/import", output = crate::api::TextJson)]
pub async fn import_csv(
    csv: String,
    #[server(default)] dry_run: bool,
    #[server(default)] fingerprint: Option<String>,
) -> Result<ImportJob, AppError> {
    use crate::server::provision::csv_import;
    let me = require(SUPPORT).await?;
    let state = app_state()?;
    let mut ctx = state.provision_context();
    ctx.dry_run = dry_run;
    let upload = csv_import::Upload {
        bytes: csv.as_bytes(),
        lang: crate::server::locale::request_lang(),
        previewed: fingerprint.as_deref(),
        reveal: true,
    };
    csv_import::start_and_wait(
        &state.db,
        &me.actor(),
        &ctx,
        &me.roles,
        upload,
        csv_import::ANSWER_WITHIN,
    )
    .await
}

/// How a CSV import job stands: progress while it runs, every row's result
/// once done (generated passwords once, to the one who started it).
#[server(endpoint = "provision/import_status", output = crate::api::TextJson)]
pub async fn import_status(id: i32) -> Result<ImportJob, AppError> {
    let me = require(SUPPORT).await?;
    let lang = crate::server::locale::request_lang();
    crate::server::provision::csv_import::status(&app_state()?.db, id, &me.actor(), lang).await
}

/// API tokens, newest first (never the tokens themselves).
#[server(endpoint = "provision/tokens", output = crate::api::TextJson)]
pub async fn list_tokens() -> Result<Vec<TokenView>, AppError> {
    require(ADMIN).await?;
    tokens::list(&app_state()?.db).await
}

/// Issues an API token with `role`, valid `days` (0: until revoked). The
/// token is in the answer and nowhere else.
#[server(endpoint = "provision/token_issue", output = crate::api::TextJson)]
pub async fn issue_token(
    name: String,
    role: String,
    #[server(default)] days: String,
) -> Result<IssuedToken, AppError> {
    let me = require(ADMIN).await?;
    // Typed text, not a number: "abc" or "1e9" get a message by the field.
    let days = tokens::parse_days(&days)?;
    tokens::issue(
        &app_state()?.db,
        &me.actor(),
        &name,
        &role,
        days,
        chrono::Utc::now(),
    )
    .await
}

#[server(endpoint = "provision/token_revoke", output = crate::api::TextJson)]
pub async fn revoke_token(id: i32) -> Result<TokenView, AppError> {
    let me = require(ADMIN).await?;
    tokens::revoke(&app_state()?.db, &me.actor(), id, chrono::Utc::now()).await
}
