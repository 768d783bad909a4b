//! Sets or removes a mailbox's forward, keeping a copy in the mailbox or not.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MailboxForward {
    pub address: String,
    /// Addresses separated by commas or spaces; empty removes the forward.
    #[serde(default)]
    pub forward_to: String,
    /// Also deliver to the mailbox itself.
    #[serde(default)]
    pub keep_copy: bool,
}

super::server_fn!(forward_mailbox(MailboxForward), "provision/mailbox_forward");

#[cfg(feature = "ssr")]
mod apply {
    use super::MailboxForward;
    use crate::errors::AppError;
    use crate::provision::texts::ProvisionTexts;
    use crate::server::entities::mailbox;
    use crate::server::provision::types::Target;
    use crate::server::provision::{Change, Context, Request, SUPPORT, lookup};
    use sea_orm::{DatabaseTransaction, Set};

    pub struct Valid {
        current: mailbox::Model,
        targets: Option<Vec<Target>>,
        keep_copy: bool,
    }

    #[async_trait::async_trait]
    impl Request for MailboxForward {
        const KIND: &'static str = "mailbox_forward";
        const DOC: &'static str = "Forward a mailbox's mail to other addresses (keeping a copy or not); an empty `forward_to` removes the forward.";
        const ROLES: &'static [crate::model::Role] = SUPPORT;
        type Valid = Valid;

        async fn validate(self, tx: &DatabaseTransaction) -> Result<Valid, AppError> {
            let current = lookup::mailbox(tx, &self.address).await?;
            lookup::refuse_deleted(&current, ProvisionTexts::deleted)?;
            let targets = if self.forward_to.trim().is_empty() {
                None
            } else {
                let list = Target::parse_list(&self.forward_to)
                    .map_err(|m| AppError::field("forward_to", m))?;
                lookup::check_targets(tx, &current.address, &list, "forward_to").await?;
                Some(list)
            };
            Ok(Valid {
                current,
                targets,
                keep_copy: self.keep_copy,
            })
        }

        fn describe(v: &Valid) -> String {
            let t = ProvisionTexts::caller();
            match &v.targets {
                None => t.did_unforward(&v.current.address),
                Some(to) => t.did_forward(
                    &v.current.address,
                    &Target::join(to),
                    if v.keep_copy { t.keeping_copy() } else { "" },
                ),
            }
        }

        async fn apply(
            v: Valid,
            tx: &DatabaseTransaction,
            ctx: &Context,
        ) -> Result<Change, AppError> {
            lookup::change_mailbox(tx, v.current, ctx.now, |row| {
                row.forward_keep_copy = Set(v.targets.is_some() && v.keep_copy);
                row.forward_to = Set(v.targets.as_deref().map(Target::join));
            })
            .await
        }
    }
}
