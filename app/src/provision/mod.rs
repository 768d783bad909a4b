//! Configurador: provisioning the customer mail that Postfix and Dovecot
//! serve from Carteiro's database.
//!
//! Every change is a typed **request** with its own file here: the input
//! struct (what a form, the REST API or a CSV row sends), its server
//! function, and — on the server — how it is validated, applied in one
//! transaction, and described for the audit log (the
//! `server::provision::Request` trait). Adding a kind of request is one new
//! file, one line in `server::provision::registry!`, and its form.
//!
//! This module also holds the plain DTOs the pages show.

pub mod alias_create;
pub mod alias_delete;
pub mod alias_update;
pub mod domain_alias_create;
pub mod domain_create;
pub mod domain_delete;
pub mod domain_update;
pub mod mailbox_create;
pub mod mailbox_delete;
pub mod mailbox_forward;
pub mod mailbox_reactivate;
pub mod mailbox_reset_password;
pub mod mailbox_restore;
pub mod mailbox_suspend;
pub mod mailbox_update;
pub mod texts;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Declares the server function a request's form calls, in one line per
/// request file: it checks the caller's role and runs the request
/// (`server::provision::submit`). `endpoint` is also the request's path
/// under `/api/`.
macro_rules! server_fn {
    ($name:ident($request:ty), $endpoint:literal) => {
        #[leptos::server(endpoint = $endpoint, output = crate::api::TextJson)]
        pub async fn $name(
            request: $request,
        ) -> Result<crate::provision::RequestDone, crate::errors::AppError> {
            crate::server::provision::submit(request).await
        }
    };
}
use server_fn;

/// What a request did, as the person (or API client) who sent it sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RequestDone {
    /// The request kind, e.g. `mailbox_create`.
    pub kind: String,
    /// What it changed: an address or a domain.
    pub target: String,
    /// One line for people: "Created mailbox ana@exemplo.com.br (1024 MB)."
    pub summary: String,
    /// A generated password, shown this once and never stored readable.
    pub secret: Option<String>,
    /// Done, but worth a second look (e.g. a domain name that can pass
    /// for another one).
    #[serde(default)]
    pub warnings: Vec<String>,
}

crate::model::string_enum! {
    /// Where a mailbox stands. Postfix's and Dovecot's maps read the stored
    /// strings (see the provisioning migration's views).
    pub enum MailboxStatus {
        /// Receives, sends and signs in (as its flags allow).
        Active = "active",
        /// Receives, but neither signs in nor sends.
        Suspended = "suspended",
        /// Gone for mail and sign-in, restorable until it is purged.
        Deleted = "deleted",
    }
}

/// A mailbox as support sees it (never its password hash).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MailboxView {
    pub address: String,
    /// The address with its domain in Unicode, for people.
    pub display_address: String,
    pub domain: String,
    pub name: String,
    pub quota_mb: i64,
    pub status: MailboxStatus,
    pub status_reason: Option<String>,
    pub can_send: bool,
    pub can_receive: bool,
    pub forward_to: Vec<String>,
    pub forward_keep_copy: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// When a deleted mailbox is removed for good.
    pub purge_after: Option<DateTime<Utc>>,
}

/// One page of a mailbox search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MailboxPage {
    pub rows: Vec<MailboxView>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next: Option<String>,
    /// How the query was read (one search box: an address, a domain or a
    /// name).
    #[serde(default)]
    pub searched_as: SearchedAs,
    /// Set when the query named an alias domain: the domain it mirrors
    /// (for people: Unicode), which was searched instead.
    #[serde(default)]
    pub alias_domain_of: Option<String>,
}

crate::model::string_enum! {
    /// How a mailbox search read its query.
    #[derive(Default)]
    pub enum SearchedAs {
        /// The start of an address (it has an `@`, a digit, a dot…).
        #[default]
        Address = "address",
        /// One of our domains: its mailboxes.
        Domain = "domain",
        /// Words of the name, each the start of a word.
        Name = "name",
    }
}

/// One mailbox as its page shows it: the mailbox, what sends mail to it,
/// the security team's blocks on it, and its history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MailboxOverview {
    pub mailbox: MailboxView,
    /// Aliases with this mailbox among their targets (at most 100).
    pub aliases: Vec<String>,
    /// Mailboxes that forward to it (at most 100).
    pub forwards: Vec<String>,
    /// Active MailFlow account blocks of its address.
    pub blocks: Vec<crate::model::BlockRow>,
    /// The newest audit entries about it.
    pub history: Vec<crate::model::AuditEntry>,
}

/// A domain (or alias domain) as admins and support see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DomainView {
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// Set for an alias domain: the domain it mirrors.
    pub alias_of: Option<String>,
    pub max_mailboxes: i32,
    pub max_aliases: i32,
    pub max_quota_mb: i64,
    pub default_quota_mb: i64,
    pub catch_all: Option<String>,
    pub active: bool,
    pub mailboxes: i64,
    pub aliases: i64,
    /// Set when the name can pass for another one (mixed scripts).
    #[serde(default)]
    pub warning: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An alias: one address, many targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AliasView {
    pub address: String,
    pub display_address: String,
    pub domain: String,
    pub targets: Vec<String>,
    pub description: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One page of an alias search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AliasPage {
    pub rows: Vec<AliasView>,
    pub next: Option<String>,
}

/// How a bulk CSV import went (or would go, in a dry run). Each row is
/// applied completely (with its audit entry) or not at all; a real import
/// writes every row without errors and reports the others.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ImportOutcome {
    pub dry_run: bool,
    /// True when every row was written (never with errors).
    pub applied: bool,
    /// How many rows were written (0 in a dry run).
    #[serde(default)]
    pub written: usize,
    pub rows: Vec<ImportRow>,
}

impl ImportOutcome {
    pub fn errors(&self) -> usize {
        self.rows.iter().filter(|r| r.error.is_some()).count()
    }
}

crate::model::string_enum! {
    /// Where a background CSV import stands.
    pub enum ImportStatus {
        Running = "running",
        /// Every row handled; the outcome is stored.
        Done = "done",
        /// Stopped early; `message` says why.
        Failed = "failed",
    }
}

/// A CSV import running in the background, as its page and the API see it
/// while it runs and after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ImportJob {
    pub id: i32,
    pub dry_run: bool,
    pub status: ImportStatus,
    /// Rows in the file.
    pub total: usize,
    /// Rows handled so far.
    pub done: usize,
    /// Rows with errors so far.
    pub errors: usize,
    /// Rows written so far.
    pub written: usize,
    /// Why it failed.
    pub message: Option<String>,
    /// Every row's result, once done. Generated passwords are in it once:
    /// in the first answer after the end, to whoever started the import.
    pub outcome: Option<ImportOutcome>,
    /// A preview's fingerprint of the file (SHA-256 of its bytes, hex): an
    /// import from the page carries it, and runs only after a clean preview
    /// of the same file.
    #[serde(default)]
    pub fingerprint: Option<String>,
    pub started_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ImportJob {
    pub fn running(&self) -> bool {
        self.status == ImportStatus::Running
    }
}

/// One CSV row: what it does, or why it cannot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ImportRow {
    /// The line in the file (the header is line 1).
    pub line: usize,
    pub kind: String,
    pub target: String,
    pub summary: Option<String>,
    pub error: Option<String>,
    /// A generated password (applied imports only).
    pub secret: Option<String>,
}

/// An API token as listed to admins (the token itself is shown once, at issue).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: i32,
    pub name: String,
    pub role: String,
    pub prefix: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A freshly issued API token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IssuedToken {
    pub name: String,
    pub token: String,
}
