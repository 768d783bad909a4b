//! Creates a mailbox in one of our domains. An empty password means "make
//! one up": it is returned once. An empty quota takes the domain's default.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MailboxCreate {
    /// `local@domain`; the domain must be one of ours.
    pub address: String,
    /// The customer's name.
    #[serde(default)]
    pub name: String,
    /// Empty: generate one. Or an existing Dovecot hash (`{ARGON2ID}...`,
    /// `{BLF-CRYPT}...`) when moving mailboxes from another system.
    #[serde(default)]
    pub password: String,
    /// Megabytes, 0 for unlimited; empty: the domain's default.
    #[serde(default)]
    pub quota_mb: String,
    /// Send-only mailbox: no incoming mail.
    #[serde(default)]
    pub send_only: bool,
    /// Receive-only mailbox: may not send.
    #[serde(default)]
    pub receive_only: bool,
}

super::server_fn!(create_mailbox(MailboxCreate), "provision/mailbox_create");

#[cfg(feature = "ssr")]
mod apply {
    use super::MailboxCreate;
    use crate::errors::AppError;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::entities::mailbox;
    use crate::server::provision::types::{Address, parse_quota};
    use crate::server::provision::{Change, Context, Fields, Request, SUPPORT, lookup, secrets};
    use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};

    pub struct Valid {
        address: Address,
        domain_id: i32,
        name: String,
        password: secrets::NewPassword,
        quota_mb: i64,
        can_send: bool,
        can_receive: bool,
    }

    #[async_trait::async_trait]
    impl Request for MailboxCreate {
        const KIND: &'static str = "mailbox_create";
        const DOC: &'static str =
            "Create a mailbox. An empty password is generated and returned once in `secret`.";
        const ROLES: &'static [crate::model::Role] = SUPPORT;
        type Valid = Valid;

        /// Hashes the password now: the request then carries the hash,
        /// which `validate` takes over as it would any Dovecot hash.
        async fn prepare(&mut self, ctx: &Context) -> Result<Option<String>, AppError> {
            let Some(hashed) = secrets::prepare(&self.password, ctx.dry_run).await? else {
                return Ok(None);
            };
            self.password = hashed.stored;
            Ok(hashed.secret)
        }

        async fn validate(self, tx: &DatabaseTransaction) -> Result<Valid, AppError> {
            let mut f = Fields::default();
            let address = f.check("address", Address::parse(&self.address));
            let name = f.check("name", secrets::check_name(&self.name));
            let password = f.check("password", secrets::NewPassword::from_input(&self.password));
            if self.send_only && self.receive_only {
                f.add(
                    "send_only",
                    ProvisionTexts::caller().send_and_receive_only(),
                );
            }
            let quota = match self.quota_mb.trim() {
                "" => None,
                q => f.check("quota_mb", parse_quota(q)),
            };
            f.finish()?;
            let (address, name, password) = (address.unwrap(), name.unwrap(), password.unwrap());
            let domain = lookup::home_domain(tx, &address.domain, "address").await?;
            lookup::ensure_free(tx, &address, "address").await?;
            lookup::ensure_room_for_mailbox(tx, &domain, "address").await?;
            let quota_mb = quota.unwrap_or(domain.default_quota_mb);
            lookup::check_quota(&domain, quota_mb).map_err(|m| AppError::field("quota_mb", m))?;
            Ok(Valid {
                address,
                domain_id: domain.id,
                name,
                password,
                quota_mb,
                can_send: !self.receive_only,
                can_receive: !self.send_only,
            })
        }

        fn describe(v: &Valid) -> String {
            let t = ProvisionTexts::caller();
            let mode = if !v.can_send {
                format!(", {}", t.receive_only())
            } else if !v.can_receive {
                format!(", {}", t.send_only())
            } else {
                String::new()
            };
            t.did_create_mailbox(&v.address.to_string(), &t.quota(v.quota_mb), &mode)
        }

        async fn apply(
            v: Valid,
            tx: &DatabaseTransaction,
            ctx: &Context,
        ) -> Result<Change, AppError> {
            let (stored, secret) = v.password.into_stored(ctx.dry_run).await?;
            let row = mailbox::ActiveModel {
                domain_id: Set(v.domain_id),
                local_part: Set(v.address.local.as_str().to_string()),
                address: Set(v.address.to_string()),
                name_key: Set(crate::server::provision::types::name_key(&v.name)),
                name: Set(v.name),
                password: Set(stored),
                quota_mb: Set(v.quota_mb),
                status: Set(crate::provision::MailboxStatus::Active),
                status_reason: Set(None),
                can_send: Set(v.can_send),
                can_receive: Set(v.can_receive),
                forward_to: Set(None),
                forward_keep_copy: Set(false),
                created_at: Set(ctx.now),
                updated_at: Set(ctx.now),
                deleted_at: Set(None),
                purge_after: Set(None),
                ..Default::default()
            }
            .insert(tx)
            .await?;
            crate::server::provision::search::index_name(tx, row.id, &row.name).await?;
            let after = lookup::mailbox_view_of(&row);
            let mut change = Change::created(row.address, &after);
            change.secret = secret;
            Ok(change)
        }
    }
}
