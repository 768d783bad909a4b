//! Suspends a mailbox: its owner can no longer sign in (Dovecot) or send
//! (Postfix's sender login map); mail to it is still delivered, so nothing
//! is lost while the matter is sorted out.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MailboxSuspend {
    pub address: String,
    /// Why, for the next person who looks (e.g. "unpaid invoice", "compromised").
    pub reason: String,
}

super::server_fn!(suspend_mailbox(MailboxSuspend), "provision/mailbox_suspend");

#[cfg(feature = "ssr")]
mod apply {
    use super::MailboxSuspend;
    use crate::errors::AppError;
    use crate::provision::MailboxStatus;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::entities::mailbox;
    use crate::server::provision::{Change, Context, Fields, Request, SUPPORT, lookup, secrets};
    use sea_orm::DatabaseTransaction;

    pub struct Valid {
        current: mailbox::Model,
        reason: String,
    }

    #[async_trait::async_trait]
    impl Request for MailboxSuspend {
        const KIND: &'static str = "mailbox_suspend";
        const DOC: &'static str =
            "Suspend a mailbox: no sign-in, no sending; mail to it is still delivered.";
        const ROLES: &'static [crate::model::Role] = SUPPORT;
        type Valid = Valid;

        async fn validate(self, tx: &DatabaseTransaction) -> Result<Valid, AppError> {
            let current = lookup::mailbox(tx, &self.address).await?;
            let mut f = Fields::default();
            let reason = f.check("reason", secrets::check_note(&self.reason));
            if reason.as_deref() == Some("") {
                f.add("reason", ProvisionTexts::caller().suspend_reason());
            }
            f.finish()?;
            lookup::require_status(&current, MailboxStatus::Active)?;
            Ok(Valid {
                current,
                reason: reason.unwrap(),
            })
        }

        fn describe(v: &Valid) -> String {
            ProvisionTexts::caller().did_suspend(&v.current.address, &v.reason)
        }

        async fn apply(
            v: Valid,
            tx: &DatabaseTransaction,
            ctx: &Context,
        ) -> Result<Change, AppError> {
            lookup::set_status(tx, v.current, ctx, MailboxStatus::Suspended, Some(v.reason)).await
        }
    }
}
