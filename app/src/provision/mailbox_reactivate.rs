//! Ends a suspension: the owner may sign in and send again.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MailboxReactivate {
    pub address: String,
}

super::server_fn!(
    reactivate_mailbox(MailboxReactivate),
    "provision/mailbox_reactivate"
);

#[cfg(feature = "ssr")]
mod apply {
    use super::MailboxReactivate;
    use crate::errors::AppError;
    use crate::provision::MailboxStatus;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::entities::mailbox;
    use crate::server::provision::{Change, Context, Request, SUPPORT, lookup};
    use sea_orm::DatabaseTransaction;

    #[async_trait::async_trait]
    impl Request for MailboxReactivate {
        const KIND: &'static str = "mailbox_reactivate";
        const DOC: &'static str = "Reactivate a suspended mailbox.";
        const ROLES: &'static [crate::model::Role] = SUPPORT;
        type Valid = mailbox::Model;

        async fn validate(self, tx: &DatabaseTransaction) -> Result<mailbox::Model, AppError> {
            let current = lookup::mailbox(tx, &self.address).await?;
            lookup::require_status(&current, MailboxStatus::Suspended)?;
            Ok(current)
        }

        fn describe(v: &mailbox::Model) -> String {
            ProvisionTexts::caller().did_reactivate(&v.address)
        }

        async fn apply(
            v: mailbox::Model,
            tx: &DatabaseTransaction,
            ctx: &Context,
        ) -> Result<Change, AppError> {
            lookup::set_status(tx, v, ctx, MailboxStatus::Active, None).await
        }
    }
}
