//! How provisioning requests run. Each request (one file in
//! `crate::provision`) implements [`Request`]: `prepare` does the slow work
//! that needs no database (hashing a password) before any transaction
//! opens, `validate` turns the input into checked values (reading the
//! database, writing nothing), `describe` says in one line what it will do,
//! and `apply` writes. [`run`] does the last three in one short write
//! transaction together with the audit entry, so a request either happens
//! completely, audited, or not at all; when the database was too busy
//! (`retry::is_transient`) the whole transaction is tried again.
//!
//! The [`registry!`] below lists every request kind once; the REST API, the
//! OpenAPI document and the CSV import all read it.

pub mod csv_import;
pub mod lookup;
pub mod openapi;
pub mod purge;
pub mod search;
pub mod secrets;
pub mod tokens;
pub mod types;

use super::audit::{self, Actor};
use super::auth::require;
use super::retry;
use crate::errors::{AppError, FieldError};
use crate::model::Role;
use crate::provision::RequestDone;
use crate::state::app_state;
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

/// Who may send mailbox, alias and forward requests.
pub const SUPPORT: &[Role] = &[Role::Support, Role::Admin];
/// Who may send domain requests.
pub const ADMIN: &[Role] = &[Role::Admin];

/// A kind of provisioning request.
#[async_trait::async_trait]
pub trait Request: DeserializeOwned + schemars::JsonSchema + Clone + Send + Sync + 'static {
    /// The kind, e.g. `mailbox_create`: the audit action, the REST path and
    /// the CSV `kind` column.
    const KIND: &'static str;
    /// What it does, for the API documentation.
    const DOC: &'static str;
    /// Who may send it.
    const ROLES: &'static [Role];
    /// The checked input.
    type Valid: Send + Sync;

    /// The slow work that needs no database, done before the transaction
    /// opens so no lock is held meanwhile: hashing a new password (kept in
    /// the request). Returns a generated password to show once. Nothing to
    /// do by default, and nothing in a dry run.
    async fn prepare(&mut self, _ctx: &Context) -> Result<Option<String>, AppError> {
        Ok(None)
    }

    /// Parses the input and checks it against the database. Writes nothing.
    async fn validate(self, tx: &DatabaseTransaction) -> Result<Self::Valid, AppError>;

    /// One line saying what applying will do.
    fn describe(valid: &Self::Valid) -> String;

    /// What is allowed but worth a second look (none by default).
    fn warnings(_valid: &Self::Valid) -> Vec<String> {
        Vec::new()
    }

    /// Writes the change and reports it for the audit log.
    async fn apply(
        valid: Self::Valid,
        tx: &DatabaseTransaction,
        ctx: &Context,
    ) -> Result<Change, AppError>;
}

/// What every request may need while applying.
#[derive(Clone, Debug)]
pub struct Context {
    pub now: DateTime<Utc>,
    /// How long a deleted mailbox is kept before it is purged.
    pub retention_days: i64,
    /// A preview that is rolled back: passwords are not hashed.
    pub dry_run: bool,
}

/// What a request changed: the audit entry's target and states.
pub struct Change {
    pub target: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// A generated password to show once.
    pub secret: Option<String>,
}

impl Change {
    pub fn new<B: Serialize, A: Serialize>(
        target: impl Into<String>,
        before: Option<&B>,
        after: Option<&A>,
    ) -> Self {
        Change {
            target: target.into(),
            before: before.and_then(|b| serde_json::to_value(b).ok()),
            after: after.and_then(|a| serde_json::to_value(a).ok()),
            secret: None,
        }
    }

    /// A new row: nothing before, `after`.
    pub fn created<A: Serialize>(target: impl Into<String>, after: &A) -> Self {
        Change::new(target, audit::NONE, Some(after))
    }

    /// A removed row: `before`, nothing after.
    pub fn removed<B: Serialize>(target: impl Into<String>, before: &B) -> Self {
        Change::new(target, Some(before), audit::NONE)
    }
}

/// Validates, applies and audits `request` inside `tx` (not committed).
pub async fn run_in<R: Request>(
    tx: &DatabaseTransaction,
    actor: &Actor,
    ctx: &Context,
    request: R,
) -> Result<RequestDone, AppError> {
    let valid = request.validate(tx).await?;
    let summary = R::describe(&valid);
    let warnings = R::warnings(&valid);
    let change = R::apply(valid, tx, ctx).await?;
    audit::record(
        tx,
        actor,
        &format!("provision.{}", R::KIND),
        &change.target,
        change.before.as_ref(),
        change.after.as_ref(),
    )
    .await?;
    Ok(RequestDone {
        kind: R::KIND.to_string(),
        target: change.target,
        summary,
        secret: change.secret,
        warnings,
    })
}

/// Prepares `request`, then runs it in its own write transaction, tried
/// again while the database is too busy.
pub async fn run<R: Request>(
    db: &DatabaseConnection,
    actor: &Actor,
    ctx: &Context,
    request: R,
) -> Result<RequestDone, AppError> {
    Prepared::new(request, ctx).await?.run(db, actor, ctx).await
}

/// The future of one attempt at a prepared request.
type Attempt<'a> = Pin<Box<dyn Future<Output = Result<RequestDone, AppError>> + Send + 'a>>;
/// Starts one attempt at a prepared request inside a transaction.
type AttemptFn =
    dyn for<'a> Fn(&'a DatabaseTransaction, &'a Actor, &'a Context) -> Attempt<'a> + Send + Sync;

/// A request whose slow part is done (its password hashed), ready to run
/// in a transaction as often as a retry needs.
pub struct Prepared {
    pub kind: &'static str,
    attempt: Box<AttemptFn>,
    secret: Option<String>,
}

impl Prepared {
    pub async fn new<R: Request>(mut request: R, ctx: &Context) -> Result<Self, AppError> {
        let secret = request.prepare(ctx).await?;
        Ok(Prepared {
            kind: R::KIND,
            attempt: Box::new(move |tx, actor, ctx| {
                Box::pin(run_in(tx, actor, ctx, request.clone()))
            }),
            secret,
        })
    }

    /// Validates, applies and audits inside `tx` (not committed).
    pub async fn run_in(
        &self,
        tx: &DatabaseTransaction,
        actor: &Actor,
        ctx: &Context,
    ) -> Result<RequestDone, AppError> {
        let mut done = (self.attempt)(tx, actor, ctx).await?;
        if done.secret.is_none() && !ctx.dry_run {
            done.secret = self.secret.clone();
        }
        Ok(done)
    }

    /// Runs in its own write transaction, tried again while the database is
    /// too busy.
    pub async fn run(
        &self,
        db: &DatabaseConnection,
        actor: &Actor,
        ctx: &Context,
    ) -> Result<RequestDone, AppError> {
        retry::retrying(
            self.kind,
            |e| matches!(e, AppError::Busy),
            || async {
                let tx = retry::begin_write(db).await?;
                let done = self.run_in(&tx, actor, ctx).await?;
                tx.commit().await?;
                Ok(done)
            },
        )
        .await
    }
}

/// The server-function side: checks the caller's role, then runs.
pub async fn submit<R: Request>(request: R) -> Result<RequestDone, AppError> {
    let me = require(R::ROLES).await?;
    let state = app_state()?;
    run(&state.db, &me.actor(), &state.provision_context(), request).await
}

/// Collects field errors so a form shows all of them at once.
#[derive(Default)]
pub struct Fields(Vec<FieldError>);

impl Fields {
    /// Keeps the value, or notes the message against `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        if !self.0.iter().any(|f| f.field == field) {
            self.0.push(FieldError {
                field: field.to_string(),
                message: message.into(),
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Err` with every message, if there are any.
    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Fields(self.0))
        }
    }
}

/// The list of request kinds. Each entry is `kind => Type`; `KIND` must
/// match (a unit test checks). Generates [`dispatch`] (REST and CSV: a
/// [`Prepared`] request) and
/// [`kinds`] (OpenAPI).
macro_rules! registry {
    ($($kind:literal => $ty:ty),* $(,)?) => {
        /// Parses and prepares the request `kind` given as JSON; `roles` are
        /// the caller's (an API token's role, or a staff member's roles).
        pub async fn dispatch(
            ctx: &Context,
            roles: &crate::model::Roles,
            kind: &str,
            body: serde_json::Value,
        ) -> Result<Prepared, AppError> {
            match kind {
                $($kind => {
                    if !roles.intersects(<$ty as Request>::ROLES) {
                        return Err(AppError::Forbidden);
                    }
                    let request: $ty = serde_json::from_value(body).map_err(|e| {
                        let t = crate::provision::texts::ProvisionTexts::caller();
                        AppError::Validation(t.invalid_request($kind, &e.to_string()))
                    })?;
                    Prepared::new(request, ctx).await
                })*
                other => Err(AppError::NotFound(
                    crate::provision::texts::ProvisionTexts::caller().the_request_kind(other),
                )),
            }
        }

        /// Every kind: (kind, documentation, roles, JSON schema of the input).
        pub fn kinds(generator: &mut schemars::SchemaGenerator) -> Vec<KindDoc> {
            vec![$(KindDoc {
                kind: $kind,
                declared: <$ty as Request>::KIND,
                doc: <$ty as Request>::DOC,
                roles: <$ty as Request>::ROLES,
                schema: generator.subschema_for::<$ty>(),
            }),*]
        }
    };
}

/// One registered kind, as the API documentation describes it.
pub struct KindDoc {
    pub kind: &'static str,
    pub declared: &'static str,
    pub doc: &'static str,
    pub roles: &'static [Role],
    pub schema: schemars::Schema,
}

use crate::provision::*;
registry! {
    "domain_create" => domain_create::DomainCreate,
    "domain_update" => domain_update::DomainUpdate,
    "domain_alias_create" => domain_alias_create::DomainAliasCreate,
    "domain_delete" => domain_delete::DomainDelete,
    "mailbox_create" => mailbox_create::MailboxCreate,
    "mailbox_update" => mailbox_update::MailboxUpdate,
    "mailbox_suspend" => mailbox_suspend::MailboxSuspend,
    "mailbox_reactivate" => mailbox_reactivate::MailboxReactivate,
    "mailbox_reset_password" => mailbox_reset_password::MailboxResetPassword,
    "mailbox_forward" => mailbox_forward::MailboxForward,
    "mailbox_delete" => mailbox_delete::MailboxDelete,
    "mailbox_restore" => mailbox_restore::MailboxRestore,
    "alias_create" => alias_create::AliasCreate,
    "alias_update" => alias_update::AliasUpdate,
    "alias_delete" => alias_delete::AliasDelete,
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_registered_kind_matches_its_type() {
        let mut generator = schemars::SchemaGenerator::default();
        let kinds = super::kinds(&mut generator);
        let mut names: Vec<&str> = kinds.iter().map(|k| k.kind).collect();
        for k in &kinds {
            assert_eq!(k.kind, k.declared, "registry entry and KIND differ");
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), kinds.len(), "a kind is registered twice");
    }
}
