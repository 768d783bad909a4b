//! Gives a mailbox a new generated password, shown once.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MailboxResetPassword {
    pub address: String,
    /// The new password's hash, made before the transaction (never input).
    #[serde(skip)]
    pub prepared: Option<String>,
}

super::server_fn!(
    reset_mailbox_password(MailboxResetPassword),
    "provision/mailbox_reset_password"
);

#[cfg(feature = "ssr")]
mod apply {
    use super::MailboxResetPassword;
    use crate::errors::AppError;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::entities::mailbox;
    use crate::server::provision::secrets::NewPassword;
    use crate::server::provision::{Change, Context, Request, SUPPORT, lookup, secrets};
    use sea_orm::{ActiveModelTrait, DatabaseTransaction, IntoActiveModel, Set};

    #[async_trait::async_trait]
    impl Request for MailboxResetPassword {
        const KIND: &'static str = "mailbox_reset_password";
        const DOC: &'static str =
            "Give a mailbox a new generated password, returned once in `secret`.";
        const ROLES: &'static [crate::model::Role] = SUPPORT;
        type Valid = (mailbox::Model, Option<String>);

        async fn prepare(&mut self, ctx: &Context) -> Result<Option<String>, AppError> {
            let Some(hashed) = secrets::prepare("", ctx.dry_run).await? else {
                return Ok(None);
            };
            self.prepared = Some(hashed.stored);
            Ok(hashed.secret)
        }

        async fn validate(self, tx: &DatabaseTransaction) -> Result<Self::Valid, AppError> {
            let current = lookup::mailbox(tx, &self.address).await?;
            lookup::refuse_deleted(&current, ProvisionTexts::deleted_restore_first)?;
            Ok((current, self.prepared))
        }

        fn describe((v, _): &Self::Valid) -> String {
            ProvisionTexts::caller().did_reset_password(&v.address)
        }

        async fn apply(
            (v, prepared): Self::Valid,
            tx: &DatabaseTransaction,
            ctx: &Context,
        ) -> Result<Change, AppError> {
            // Hashed by `prepare` unless run without it (then here).
            let (stored, secret) = match prepared {
                Some(stored) => (stored, None),
                None => NewPassword::Generate.into_stored(ctx.dry_run).await?,
            };
            let address = v.address.clone();
            let mut row = v.into_active_model();
            row.password = Set(stored);
            row.updated_at = Set(ctx.now);
            row.update(tx).await?;
            // The audit entry says that it changed, never what to.
            let before = serde_json::json!({ "password": "old" });
            let after = serde_json::json!({ "password": "new, generated" });
            let mut change = Change::new(address, Some(&before), Some(&after));
            change.secret = secret;
            Ok(change)
        }
    }
}
