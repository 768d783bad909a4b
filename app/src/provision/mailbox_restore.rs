//! Brings a deleted mailbox back (within its retention period), suspended,
//! so support decides when its owner may use it again.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MailboxRestore {
    pub address: String,
}

super::server_fn!(restore_mailbox(MailboxRestore), "provision/mailbox_restore");

#[cfg(feature = "ssr")]
mod apply {
    use super::MailboxRestore;
    use crate::errors::AppError;
    use crate::provision::MailboxStatus;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::entities::mailbox;
    use crate::server::provision::{Change, Context, Request, SUPPORT, lookup};
    use sea_orm::DatabaseTransaction;

    #[async_trait::async_trait]
    impl Request for MailboxRestore {
        const KIND: &'static str = "mailbox_restore";
        const DOC: &'static str = "Restore a deleted mailbox; it comes back suspended.";
        const ROLES: &'static [crate::model::Role] = SUPPORT;
        type Valid = mailbox::Model;

        async fn validate(self, tx: &DatabaseTransaction) -> Result<mailbox::Model, AppError> {
            let current = lookup::mailbox(tx, &self.address).await?;
            if current.status != MailboxStatus::Deleted {
                return Err(AppError::Conflict(
                    ProvisionTexts::caller().not_deleted(&current.address),
                ));
            }
            Ok(current)
        }

        fn describe(v: &mailbox::Model) -> String {
            ProvisionTexts::caller().did_restore(&v.address)
        }

        async fn apply(
            v: mailbox::Model,
            tx: &DatabaseTransaction,
            ctx: &Context,
        ) -> Result<Change, AppError> {
            let reason = Some("restored after deletion".into());
            lookup::set_status(tx, v, ctx, MailboxStatus::Suspended, reason).await
        }
    }
}
