//! Deletes a mailbox softly: it stops receiving and signing in at once, its
//! address stays reserved, and it can be restored until the retention
//! period ends; then the purge removes it for good.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MailboxDelete {
    pub address: String,
    #[serde(default)]
    pub reason: String,
}

super::server_fn!(delete_mailbox(MailboxDelete), "provision/mailbox_delete");

#[cfg(feature = "ssr")]
mod apply {
    use super::MailboxDelete;
    use crate::errors::AppError;
    use crate::provision::MailboxStatus;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::entities::mailbox;
    use crate::server::provision::{Change, Context, Request, SUPPORT, lookup, secrets};
    use sea_orm::DatabaseTransaction;

    pub struct Valid {
        current: mailbox::Model,
        reason: String,
    }

    #[async_trait::async_trait]
    impl Request for MailboxDelete {
        const KIND: &'static str = "mailbox_delete";
        const DOC: &'static str =
            "Delete a mailbox (restorable until its retention period ends, then purged).";
        const ROLES: &'static [crate::model::Role] = SUPPORT;
        type Valid = Valid;

        async fn validate(self, tx: &DatabaseTransaction) -> Result<Valid, AppError> {
            let current = lookup::mailbox(tx, &self.address).await?;
            let reason =
                secrets::check_note(&self.reason).map_err(|m| AppError::field("reason", m))?;
            if current.status == MailboxStatus::Deleted {
                return Err(AppError::Conflict(
                    ProvisionTexts::caller().already_deleted(&current.address),
                ));
            }
            Ok(Valid { current, reason })
        }

        fn describe(v: &Valid) -> String {
            ProvisionTexts::caller().did_delete_mailbox(&v.current.address)
        }

        async fn apply(
            v: Valid,
            tx: &DatabaseTransaction,
            ctx: &Context,
        ) -> Result<Change, AppError> {
            let reason = (!v.reason.is_empty()).then_some(v.reason);
            lookup::set_status(tx, v.current, ctx, MailboxStatus::Deleted, reason).await
        }
    }
}
